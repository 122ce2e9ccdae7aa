/*
 * test_sandbox_diff.c: og_sandbox_diff on a synthetic lower and upper
 * directory (no overlay, no root). Whiteouts need CAP_MKNOD and opaque
 * directories a trusted.* xattr: those checks are skipped without them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "../test.h"

static char root[256], lower[300], upper[300];

static void put(const char *base, const char *rel, const char *text, mode_t mode)
{
	char p[600];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(p, mode);
}

static void dir(const char *base, const char *rel)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	mkdir(p, 0755);
}

/* "path" or "path:size" joined by spaces, without the lower prefix */
static void join(const struct og_sandbox_file *v, size_t n, bool size, char *out, size_t cap)
{
	size_t i, len = 0, pl = strlen(lower);

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *p = v[i].path;
		if (!strncmp(p, lower, pl))
			p += pl;	/* never: paths are relative to the lower root */
		if (size)
			len += (size_t)snprintf(out + len, cap - len, "%s%s:%lld", i ? " " : "", p, (long long)v[i].size);
		else
			len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", p);
	}
}

int main(void)
{
	struct og_sandbox_files f;
	struct og_err err = { 0 };
	char buf[2048], p[600];
	bool whiteouts, opaque;
	int fd, rc;

	snprintf(root, sizeof(root), "%s/og-diff.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(lower, sizeof(lower), "%s/lower", root);
	snprintf(upper, sizeof(upper), "%s/upper", root);
	mkdir(lower, 0755);
	mkdir(upper, 0755);

	/* lower: what the host has */
	put(lower, "a.txt", "hello\n", 0644);
	put(lower, "b.txt", "bee\n", 0644);
	put(lower, "same.txt", "unchanged\n", 0644);
	put(lower, "perm.txt", "secret\n", 0644);
	dir(lower, "d");
	put(lower, "d/x", "x\n", 0644);
	put(lower, "d/y", "y\n", 0644);
	dir(lower, "o");
	put(lower, "o/old1", "1\n", 0644);
	put(lower, "o/old2", "2\n", 0644);
	put(lower, "o/kept", "k\n", 0644);
	dir(lower, "o/olddir");
	put(lower, "o/olddir/z", "z\n", 0644);
	dir(lower, "gone");
	put(lower, "gone/f1", "1\n", 0644);
	dir(lower, "gone/sub");
	put(lower, "gone/sub/f2", "2\n", 0644);

	/* upper: what a dry-run wrote */
	put(upper, "new.txt", "brand new\n", 0644);		/* created */
	put(upper, "a.txt", "hello world\n", 0644);		/* modified, 12 bytes */
	put(upper, "same.txt", "unchanged\n", 0644);		/* copy-up, no change: not listed */
	put(upper, "perm.txt", "secret\n", 0600);		/* chmod only: modified */
	dir(upper, "d");					/* parent copied up: not listed */
	put(upper, "d/x", "x\n", 0644);			/* same bytes: not listed */
	put(upper, "d/new2", "n\n", 0644);			/* created */
	dir(upper, "newdir");					/* created, with its file */
	put(upper, "newdir/f", "f\n", 0644);
	snprintf(p, sizeof(p), "%s/b.txt", upper);
	whiteouts = mknod(p, S_IFCHR | 0000, makedev(0, 0)) == 0;	/* deleted */
	snprintf(p, sizeof(p), "%s/d/ghost", upper);
	if (whiteouts)
		mknod(p, S_IFCHR | 0000, makedev(0, 0));	/* a whiteout of nothing: not listed */
	/* rm -rf of a host directory: one whiteout, but every file below it goes */
	snprintf(p, sizeof(p), "%s/gone", upper);
	if (whiteouts)
		mknod(p, S_IFCHR | 0000, makedev(0, 0));
	dir(upper, "o");
	put(upper, "o/kept", "k2\n", 0644);
	snprintf(p, sizeof(p), "%s/o", upper);
	opaque = setxattr(p, "trusted.overlay.opaque", "y", 1, 0) == 0;

	memset(&f, 0, sizeof(f));
	fd = open(upper, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	rc = og_sandbox_diff(fd, lower, &f, &err);
	close(fd);
	CHECK_INT(rc, ==, 0);

	join(f.created, f.n_created, false, buf, sizeof(buf));
	CHECK_STR(buf, "/d/new2 /new.txt /newdir /newdir/f");
	join(f.modified, f.n_modified, true, buf, sizeof(buf));
	CHECK_STR(buf, opaque ? "/a.txt:12 /o/kept:3 /perm.txt:7" : "/a.txt:12 /o/kept:3 /perm.txt:7");
	join(f.deleted, f.n_deleted, false, buf, sizeof(buf));
	if (whiteouts && opaque)
		CHECK_STR(buf, "/b.txt /gone /gone/f1 /gone/sub /gone/sub/f2 /o/old1 /o/old2 /o/olddir /o/olddir/z");
	else if (whiteouts)
		CHECK_STR(buf, "/b.txt /gone /gone/f1 /gone/sub /gone/sub/f2");
	else
		CHECK_STR(buf, "");
	if (!whiteouts)
		SKIP("whiteouts need CAP_MKNOD (mknod c 0 0)");
	if (!opaque)
		SKIP("opaque directories need a trusted.* xattr (CAP_SYS_ADMIN)");
	og_sandbox_files_release(&f);
	og_sandbox_files_release(&f);	/* twice: a released value is empty */
	og_sandbox_files_release(NULL);

	/* an upper dir that is not a directory fd: an error, not a crash */
	memset(&f, 0, sizeof(f));
	memset(&err, 0, sizeof(err));
	rc = og_sandbox_diff(-1, lower, &f, &err);
	CHECK_INT(rc, ==, -OG_EIO);
	CHECK_CONTAINS(err.msg, "sandbox diff");
	og_sandbox_files_release(&f);

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	if (system(p) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	TEST_END();
}
