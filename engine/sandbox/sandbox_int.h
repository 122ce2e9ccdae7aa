/*
 * sandbox_int.h: what sandbox.c shares with the seccomp supervisor
 * (sandbox_notif.c): the denylist and the listener's plumbing.
 */
#ifndef OG_SANDBOX_INT_H
#define OG_SANDBOX_INT_H

#include "sandbox.h"

/* a denied syscall's name as the report spells it ("mount", "umount" for
 * umount2, as its tracepoint does), "clone" for one asking for new
 * namespaces; NULL when nr is not on the list */
const char *sandbox_denied_name(int nr);

/* The child's word on its listener, over a SOCK_SEQPACKET pair: errnum 0
 * and the fd (SCM_RIGHTS), or the errno the kernel refused
 * SECCOMP_FILTER_FLAG_NEW_LISTENER with (the plain EPERM filter is then in
 * place). Async-signal-safe: the child calls it after seccomp. */
int sandbox_notif_send(int sock, int listener, int errnum);

/* The parent's side: *listener is the fd, or -1 with *errnum (what the
 * kernel said, or EPIPE when the child ended without a word). Returns -1
 * only when the socket has nothing yet (EAGAIN). */
int sandbox_notif_recv(int sock, int *listener, int *errnum);

/* Answers one pending notification with EPERM and records it in r. Returns
 * -1 when the listener is done (every filter user gone), else 0. */
int sandbox_notif_answer(int listener, struct og_sandbox_result *r);

#endif
