/*
 * test.h: the whole unit-test "framework". Each check prints both sides when
 * it fails; each test binary ends with TEST_END, which prints the one line the
 * suite runner adds up: "N passed, N failed" (", N skipped" when some were).
 */
#ifndef OG_TEST_H
#define OG_TEST_H

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail, t_skip;

#define CHECK(cond) do {                                                      \
	if (cond) t_pass++;                                                   \
	else { t_fail++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n",         \
	       __FILE__, __LINE__, #cond); }                                  \
} while (0)

#define CHECK_INT(a, op, b) do {                                              \
	long long a_ = (long long)(a), b_ = (long long)(b);                   \
	if (a_ op b_) t_pass++;                                               \
	else { t_fail++; fprintf(stderr, "%s:%d: %s %s %s: %lld vs %lld\n",   \
	       __FILE__, __LINE__, #a, #op, #b, a_, b_); }                    \
} while (0)

#define CHECK_STR(a, b) do {                                                  \
	const char *a_ = (a), *b_ = (b);                                      \
	if (a_ && b_ && strcmp(a_, b_) == 0) t_pass++;                        \
	else { t_fail++; fprintf(stderr, "%s:%d: %s == %s:\n  got:  %s\n  want: %s\n", \
	       __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } \
} while (0)

/* a contains b */
#define CHECK_CONTAINS(a, b) do {                                             \
	const char *a_ = (a), *b_ = (b);                                      \
	if (a_ && b_ && strstr(a_, b_)) t_pass++;                             \
	else { t_fail++; fprintf(stderr, "%s:%d: %s contains %s:\n  got:  %s\n  want substring: %s\n", \
	       __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } \
} while (0)

#define SKIP(reason) do {                                                     \
	t_skip++; fprintf(stderr, "%s:%d: skipped: %s\n", __FILE__, __LINE__, reason); \
} while (0)

#define TEST_END() do {                                                       \
	if (t_skip) printf("%d passed, %d failed, %d skipped\n", t_pass, t_fail, t_skip); \
	else printf("%d passed, %d failed\n", t_pass, t_fail);                \
	return t_fail ? 1 : 0;                                                \
} while (0)

#endif
