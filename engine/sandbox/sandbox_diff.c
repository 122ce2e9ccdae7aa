/*
 * sandbox_diff.c: og_sandbox_diff (see sandbox.h), the walk of an overlay's
 * upper layer. It needs no privilege: the unit test runs it on a synthetic
 * upper directory.
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DIFF_MAX_DEPTH 64
#define DIFF_CMP_MAX (16 * 1024 * 1024)
#define DIFF_MAX_DELETED 4096	/* entries below a deleted host directory stop being listed past this */

static int files_add(struct og_sandbox_file **v, size_t *n, size_t *cap, const char *path, int64_t size)
{
	char *p;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct og_sandbox_file *nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return -OG_ENOMEM;
		*v = nv;
		*cap = c;
	}
	if (!(p = strdup(path)))
		return -OG_ENOMEM;
	(*v)[*n].path = p;
	(*v)[*n].size = size;
	(*n)++;
	return 0;
}

static int add_created(struct og_sandbox_files *f, const char *path, const struct stat *st)
{
	return files_add(&f->created, &f->n_created, &f->cap_created, path,
			 S_ISREG(st->st_mode) ? (int64_t)st->st_size : -1);
}

static int add_modified(struct og_sandbox_files *f, const char *path, int64_t size)
{
	return files_add(&f->modified, &f->n_modified, &f->cap_modified, path, size);
}

/* path, and when the host has a directory there, everything below it: an
 * `rm -rf` leaves one whiteout, and "1 deleted" would hide what it took.
 * Entries below are listed while the list is under DIFF_MAX_DELETED (the
 * directory itself always is). */
static int add_deleted(struct og_sandbox_files *f, const char *path, const char *lpath, int depth)
{
	char p[4096], lp[8192];
	struct stat st;
	struct dirent *e;
	DIR *d;
	int rc;

	if ((rc = files_add(&f->deleted, &f->n_deleted, &f->cap_deleted, path, -1)) < 0)
		return rc;
	if (depth >= DIFF_MAX_DEPTH || lstat(lpath, &st) != 0 || !S_ISDIR(st.st_mode) || !(d = opendir(lpath)))
		return 0;
	while (rc == 0 && f->n_deleted < DIFF_MAX_DELETED && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", path, e->d_name) < (int)sizeof(p) &&
		    snprintf(lp, sizeof(lp), "%s/%s", lpath, e->d_name) < (int)sizeof(lp))
			rc = add_deleted(f, p, lp, depth + 1);
	}
	closedir(d);
	return rc;
}

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
}

/* true when two regular files hold the same bytes (false on any error) */
static bool same_bytes(int ufd, const char *lpath, off_t size)
{
	char a[8192], b[8192];
	int lfd;
	bool same = true;
	off_t done = 0;

	if (size > DIFF_CMP_MAX)
		return false;
	if ((lfd = open(lpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return false;
	while (same && done < size) {
		ssize_t na = pread(ufd, a, sizeof(a), done), nb;
		if (na <= 0) {
			same = false;
			break;
		}
		nb = pread(lfd, b, (size_t)na, done);
		if (nb != na || memcmp(a, b, (size_t)na))
			same = false;
		done += na;
	}
	close(lfd);
	return same;
}

/* upper entry (dirfd, name) vs the lower path: true when it changed */
static bool entry_changed(int dirfd, const char *name, const struct stat *us, const char *lpath,
			  const struct stat *ls)
{
	bool changed = false;
	int fd;

	if ((us->st_mode & S_IFMT) != (ls->st_mode & S_IFMT) || us->st_mode != ls->st_mode ||
	    us->st_uid != ls->st_uid || us->st_gid != ls->st_gid || us->st_size != ls->st_size)
		return true;
	if (S_ISLNK(us->st_mode)) {
		char a[4096], b[4096];
		ssize_t na = readlinkat(dirfd, name, a, sizeof(a)), nb = readlink(lpath, b, sizeof(b));
		return na != nb || na < 0 || memcmp(a, b, (size_t)na);
	}
	if (!S_ISREG(us->st_mode))
		return false;
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return true;
	changed = !same_bytes(fd, lpath, us->st_size);
	close(fd);
	return changed;
}

static int walk(int dirfd, const char *rel, const char *lower_root, bool lower_exists, int depth,
		struct og_sandbox_files *f, struct og_err *err);

/* everything under a created directory is created too */
static int walk_child(int dirfd, const char *name, const char *rel, const char *lower_root,
		      bool parent_lower, int depth, struct og_sandbox_files *f, struct og_err *err)
{
	char path[4096], lpath[8192];
	struct stat us, ls;
	bool in_lower = false;
	int rc, sub;

	if (snprintf(path, sizeof(path), "%s/%s", rel, name) >= (int)sizeof(path))
		return og_err_set(err, -OG_EIO, "sandbox diff: path too long under %s", rel);
	if (fstatat(dirfd, name, &us, AT_SYMLINK_NOFOLLOW) < 0)
		return og_err_set(err, -OG_EIO, "sandbox diff: stat %s: %s", path, strerror(errno));
	snprintf(lpath, sizeof(lpath), "%s%s", strcmp(lower_root, "/") ? lower_root : "", path);
	if (parent_lower && lstat(lpath, &ls) == 0)
		in_lower = true;
	if (is_whiteout(&us))
		return in_lower ? add_deleted(f, path, lpath, depth) : 0;
	if (S_ISDIR(us.st_mode)) {
		if (!in_lower || !S_ISDIR(ls.st_mode)) {
			if ((rc = in_lower ? add_modified(f, path, (int64_t)us.st_size) : add_created(f, path, &us)) < 0)
				return rc;
		}
		if (depth >= DIFF_MAX_DEPTH)
			return og_err_set(err, -OG_EIO, "sandbox diff: deeper than %d levels at %s",
					  DIFF_MAX_DEPTH, path);
		if ((sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return og_err_set(err, -OG_EIO, "sandbox diff: open %s: %s", path, strerror(errno));
		rc = walk(sub, path, lower_root, in_lower && S_ISDIR(ls.st_mode), depth + 1, f, err);
		close(sub);
		return rc;
	}
	if (!in_lower)
		return add_created(f, path, &us);
	if (entry_changed(dirfd, name, &us, lpath, &ls))
		return add_modified(f, path, (int64_t)us.st_size);
	return 0;
}

static int walk(int dirfd, const char *rel, const char *lower_root, bool lower_exists, int depth,
		struct og_sandbox_files *f, struct og_err *err)
{
	char opaque[2] = "";
	int dfd, rc = 0;
	DIR *d;
	struct dirent *e;

	if (lower_exists && fgetxattr(dirfd, "trusted.overlay.opaque", opaque, 1) == 1 && opaque[0] == 'y') {
		/* the lower entries this directory does not hold are gone */
		char lpath[8192];
		DIR *ld;
		snprintf(lpath, sizeof(lpath), "%s%s", strcmp(lower_root, "/") ? lower_root : "",
			 *rel ? rel : "/");
		if ((ld = opendir(lpath))) {
			while (rc == 0 && (e = readdir(ld))) {
				struct stat st;
				char p[4096], lp[8192];
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
					continue;
				if (snprintf(p, sizeof(p), "%s/%s", rel, e->d_name) < (int)sizeof(p) &&
				    snprintf(lp, sizeof(lp), "%s/%s", strcmp(lpath, "/") ? lpath : "", e->d_name) <
				    (int)sizeof(lp))
					rc = add_deleted(f, p, lp, depth);
			}
			closedir(ld);
		}
		if (rc < 0)
			return og_err_set(err, rc, "sandbox diff: out of memory");
		/* entries of an opaque directory hide the lower ones: compare anyway */
	}
	if ((dfd = dup(dirfd)) < 0)
		return og_err_set(err, -OG_EIO, "sandbox diff: dup: %s", strerror(errno));
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return og_err_set(err, -OG_EIO, "sandbox diff: opendir %s: %s", *rel ? rel : "/", strerror(errno));
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((rc = walk_child(dirfd, e->d_name, rel, lower_root, lower_exists, depth, f, err)) < 0)
			break;
	}
	closedir(d);
	if (rc == -OG_ENOMEM && !err->code)
		og_err_set(err, rc, "sandbox diff: out of memory");
	return rc;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct og_sandbox_file *)a)->path, ((const struct og_sandbox_file *)b)->path);
}

int og_sandbox_diff(int upper_fd, const char *lower_root, struct og_sandbox_files *f, struct og_err *err)
{
	int rc;

	rc = walk(upper_fd, "", lower_root, true, 0, f, err);
	if (rc == -OG_ENOMEM && !err->code)
		og_err_set(err, rc, "sandbox diff: out of memory");
	if (f->n_created > 1)
		qsort(f->created, f->n_created, sizeof(*f->created), cmp_file);
	if (f->n_modified > 1)
		qsort(f->modified, f->n_modified, sizeof(*f->modified), cmp_file);
	if (f->n_deleted > 1)
		qsort(f->deleted, f->n_deleted, sizeof(*f->deleted), cmp_file);
	return rc;
}

void og_sandbox_files_release(struct og_sandbox_files *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n_created; i++)
		free(f->created[i].path);
	for (i = 0; i < f->n_modified; i++)
		free(f->modified[i].path);
	for (i = 0; i < f->n_deleted; i++)
		free(f->deleted[i].path);
	free(f->created);
	free(f->modified);
	free(f->deleted);
	memset(f, 0, sizeof(*f));
}
