// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "outfile.h"

bool cs_invoker_ids(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");

	if (geteuid() != 0 || !u || !g)
		return false;
	*uid = (uid_t)atol(u);
	*gid = (gid_t)atol(g);
	return true;
}

void cs_chown_to_invoker(const char *path)
{
	uid_t uid;
	gid_t gid;

	if (cs_invoker_ids(&uid, &gid) && chown(path, uid, gid))
		return; /* not fatal: the file is still there, owned by root */
}

int cs_outfile_check(const char *path, char *err, size_t errlen)
{
	char *dcopy = strdup(path);
	const char *dir;
	struct stat st;
	int ret = 0;

	if (!dcopy)
		return -ENOMEM;
	dir = dirname(dcopy);
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "output path '%s' is a directory", path);
		ret = -EISDIR;
	} else if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot write '%s': directory '%s' does not exist", path, dir);
		ret = -ENOENT;
	}
	free(dcopy);
	return ret;
}

int cs_outfile_open(struct cs_outfile *o, const char *path, char *err, size_t errlen)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	const char *dir, *base;
	int fd, ret = 0;

	memset(o, 0, sizeof(*o));
	if (!dcopy || !bcopy) {
		ret = -ENOMEM;
		goto out;
	}
	dir = dirname(dcopy);
	base = basename(bcopy);
	ret = cs_outfile_check(path, err, errlen);
	if (ret)
		goto out;
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
