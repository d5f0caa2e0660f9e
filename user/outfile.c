// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "outfile.h"

void cs_chown_to_invoker(const char *path)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");

	if (geteuid() != 0 || !uid || !gid)
		return;
	if (chown(path, (uid_t)atol(uid), (gid_t)atol(gid)))
		return; /* not fatal: the file is still there, owned by root */
}

int cs_outfile_open(struct cs_outfile *o, const char *path, char *err, size_t errlen)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	const char *dir, *base;
	struct stat st;
	int fd, ret = 0;

	memset(o, 0, sizeof(*o));
	if (!dcopy || !bcopy) {
		ret = -ENOMEM;
		goto out;
	}
	dir = dirname(dcopy);
	base = basename(bcopy);
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "output path '%s' is a directory", path);
		ret = -EISDIR;
		goto out;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot write '%s': directory '%s' does not exist", path, dir);
		ret = -ENOENT;
		goto out;
	}
	o->path = strdup(path);
	if (!o->path || asprintf(&o->tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		o->tmp = NULL;
		ret = -ENOMEM;
		goto out;
	}
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fchmod(fd, 0644);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		ret = -errno;
		close(fd);
		unlink(o->tmp);
	}
out:
	free(dcopy);
	free(bcopy);
	if (ret) {
		free(o->path);
		free(o->tmp);
		memset(o, 0, sizeof(*o));
	}
	return ret;
}

int cs_outfile_close(struct cs_outfile *o, bool commit, char *err, size_t errlen)
{
	int ret = 0;

	if (!o->f)
		return 0;
	if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f)))
		ret = -(errno ? errno : EIO);
	if (fclose(o->f) && !ret)
		ret = -(errno ? errno : EIO);
	o->f = NULL;
	if (commit && !ret && rename(o->tmp, o->path))
		ret = -errno;
	if (ret && err)
		snprintf(err, errlen, "cannot write '%s': %s", o->path, strerror(-ret));
	if (!commit || ret)
		unlink(o->tmp);
	else
		cs_chown_to_invoker(o->path);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return ret;
}
