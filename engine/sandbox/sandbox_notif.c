/*
 * sandbox_notif.c: the seccomp supervisor of a sandbox. The child installs
 * its denylist as SECCOMP_RET_USER_NOTIF and hands the listener to the
 * parent over a socket pair (SCM_RIGHTS: the fd stays alive in flight, so
 * the child may exec at once); the parent answers every notification with
 * EPERM, as the plain filter would, and records who asked for what. This is
 * how denials are seen on a kernel without tracepoints for them (no
 * modules, no kexec) and without eBPF at all.
 */
#include "sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct notif_word {
	int errnum;
};

int sandbox_notif_send(int sock, int listener, int errnum)
{
	struct notif_word w = { errnum };
	struct iovec iov = { &w, sizeof(w) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (listener >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &listener, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(w) ? 0 : -1;
}

int sandbox_notif_recv(int sock, int *listener, int *errnum)
{
	struct notif_word w = { 0 };
	struct iovec iov = { &w, sizeof(w) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;

	*listener = -1;
	*errnum = EPIPE;
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n != (ssize_t)sizeof(w))
		return 0;	/* EOF: the child exec'd or died without a word */
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(listener, CMSG_DATA(cm), sizeof(int));
	*errnum = *listener >= 0 ? 0 : w.errnum ? w.errnum : EPROTO;
	return 0;
}

static void comm_of(int pid, char *out, size_t cap)
{
	char path[64];
	int fd;
	ssize_t n = -1;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, out, cap - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	out[n] = '\0';
	if (n && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

static void record(struct og_sandbox_result *r, const struct seccomp_notif *req)
{
	const char *name = sandbox_denied_name(req->data.nr);
	struct og_sandbox_denial *d;

	if (r->n_denied >= OG_SANDBOX_DENIALS_MAX) {
		r->denied_more++;
		return;
	}
	if (r->n_denied == r->cap_denied) {
		size_t cap = r->cap_denied ? r->cap_denied * 2 : 8;
		struct og_sandbox_denial *v = realloc(r->denied, cap * sizeof(*v));
		if (!v) {
			r->denied_more++;
			return;
		}
		r->denied = v;
		r->cap_denied = cap;
	}
	d = &r->denied[r->n_denied++];
	memset(d, 0, sizeof(*d));
	if (name)
		snprintf(d->syscall, sizeof(d->syscall), "%s", name);
	else
		snprintf(d->syscall, sizeof(d->syscall), "syscall %d", req->data.nr);
	d->pid = (int)req->pid;
	/* read before the answer: the caller waits in the kernel until then */
	comm_of(d->pid, d->comm, sizeof(d->comm));
}

int sandbox_notif_answer(int listener, struct og_sandbox_result *r)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	memset(&req, 0, sizeof(req));	/* the kernel refuses a dirty buffer */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -1;
	record(r, &req);
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.error = -EPERM;
	/* ENOENT: the caller was killed meanwhile; nothing to answer */
	(void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	return 0;
}
