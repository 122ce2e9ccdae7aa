/*
 * err.h: the one error convention of opsgraph.
 * Fallible functions return 0 on success or a negative -OG_E* code, and fill an
 * optional struct og_err with a message for people: what went wrong, where, and
 * how to fix it. og_err_set returns the code so that reporting and propagating
 * take one line: `return og_err_set(err, -OG_EINVAL, "...")`.
 */
#ifndef OG_ERR_H
#define OG_ERR_H

enum og_code {
	OG_OK = 0,
	OG_EINVAL,	/* bad input from a user: JSON, flags, graph file */
	OG_ENOMEM,	/* allocation failed */
	OG_EGRAPH,	/* graph definition is invalid (check finds these) */
	OG_ENODE,	/* a node's code raised an error */
	OG_EBUDGET,	/* a node exceeded its instruction or memory budget */
	OG_ELIMIT,	/* recursion limit reached */
	OG_ENOENT,	/* no such thread, checkpoint, file */
	OG_ESTORE,	/* the checkpoint store failed */
	OG_EIO,		/* file or network I/O failed */
	OG_ESTATE,	/* operation not valid in the current state (e.g. resume of a done run) */
	OG_ECONFLICT,	/* someone else got there first (lease, double resume) */
	OG_ECODE_MAX
};

#define OG_ERR_MSG 2048

struct og_err {
	int code;		/* 0 or a negative -OG_E* code */
	char msg[OG_ERR_MSG];
};

/* Sets err (which may be NULL) and returns code. code is negative. */
int og_err_set(struct og_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes err->msg with a formatted context ("node 'b': ") and returns err->code. */
int og_err_prefix(struct og_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void og_err_clear(struct og_err *err);

/* Static, never NULL: "invalid input", "graph error", ... for -OG_E* or OG_E*. */
const char *og_strerror(int code);

#endif
