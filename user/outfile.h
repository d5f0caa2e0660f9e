/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * outfile.h: output files written whole or not at all. Each is created as a
 * temporary sibling (so a bad path fails before tracing starts), written,
 * then renamed over the final name; on failure the temporary is removed.
 * Under sudo the file is given to the invoking user.
 */
#ifndef CS_OUTFILE_H
#define CS_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct cs_outfile {
	char *path;   /* final name */
	char *tmp;    /* temporary sibling */
	FILE *f;
};

/* Can path be an output file? -errno with one line in err (a directory, no such directory). */
int cs_outfile_check(const char *path, char *err, size_t errlen);
/* -errno with one line in err (missing directory, not writable, a directory). */
int cs_outfile_open(struct cs_outfile *o, const char *path, char *err, size_t errlen);
/* Flush, fsync and rename (commit) or remove (!commit). -errno on a write error. */
int cs_outfile_close(struct cs_outfile *o, bool commit, char *err, size_t errlen);

/* The user who ran sudo (SUDO_UID/SUDO_GID), when root under sudo. */
bool cs_invoker_ids(uid_t *uid, gid_t *gid);
/* Give a file to that user, if any. */
void cs_chown_to_invoker(const char *path);

#endif
