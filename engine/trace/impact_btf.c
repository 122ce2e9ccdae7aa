/*
 * impact_btf.c: see impact_btf.h. The kernel check reads two small things
 * (/sys/kernel/notes, the size of /sys/kernel/btf/vmlinux), far cheaper
 * than the parse it saves; a kernel that differs in either falls back to
 * the full BTF, never to a wrong relocation.
 */
#include "impact_btf.h"

#include <stdio.h>

#ifdef OG_NO_BPF

int og_impact_btf_open(char *path, size_t path_len, char *why, size_t why_len)
{
	(void)path;
	(void)path_len;
	snprintf(why, why_len, "built without eBPF");
	return -1;
}

#else

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "impact.minbtf.h"

#define KERNEL_NOTES "/sys/kernel/notes"
#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

static int same_kernel(char *why, size_t why_len)
{
	unsigned char notes[4096];
	struct stat st;
	ssize_t n = 0, r;
	int fd;

	if (impact_btf_notes_len == 0) {
		snprintf(why, why_len, "the build host had no %s", KERNEL_NOTES);
		return 0;
	}
	if (stat(KERNEL_BTF, &st) != 0 || (unsigned long long)st.st_size != impact_btf_vmlinux_size) {
		snprintf(why, why_len, "built on another kernel (its BTF was %llu bytes)", impact_btf_vmlinux_size);
		return 0;
	}
	if ((fd = open(KERNEL_NOTES, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, why_len, "%s: %s", KERNEL_NOTES, strerror(errno));
		return 0;
	}
	while (n < (ssize_t)sizeof(notes) && (r = read(fd, notes + n, sizeof(notes) - (size_t)n)) > 0)
		n += r;
	close(fd);
	if ((size_t)n != impact_btf_notes_len || memcmp(notes, impact_btf_notes, impact_btf_notes_len) != 0) {
		snprintf(why, why_len, "built on another kernel (build id differs)");
		return 0;
	}
	return 1;
}

int og_impact_btf_open(char *path, size_t path_len, char *why, size_t why_len)
{
	size_t off = 0;
	ssize_t w;
	int fd;

	if (!same_kernel(why, why_len))
		return -1;
	if ((fd = memfd_create("og-impact-btf", MFD_CLOEXEC)) < 0) {
		snprintf(why, why_len, "memfd_create: %s", strerror(errno));
		return -1;
	}
	while (off < sizeof(impact_min_btf)) {
		if ((w = write(fd, impact_min_btf + off, sizeof(impact_min_btf) - off)) <= 0) {
			snprintf(why, why_len, "writing the minimal BTF: %s", w < 0 ? strerror(errno) : "short write");
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	snprintf(path, path_len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
