/*
 * Tiny in-house unit test runner.
 *
 * A test file declares cases with TEST(name) { ... } and links with
 * tests/harness/runner.c, which provides main(). Each case runs in a forked
 * child with an alarm() timeout so that a crash or a hang fails that case
 * only. Options: -l lists the cases, -t NAME runs one case, -n runs in
 * process (no fork: for gdb), -v prints passing checks too.
 *
 * Checks print both operands on failure and abort the current case. The last
 * line of the output is "N passed, N failed, N skipped", and the exit status
 * is non-zero when anything failed.
 */
#ifndef STLS_TEST_H
#define STLS_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef void test_fn(void);

struct test_case {
	const char *name;
	test_fn *fn;
	const char *file;
	int line;
	struct test_case *next;
};

void test_register(struct test_case *tc);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void test_skip(const char *why) __attribute__((noreturn));

/* Directory of the test binary's sources data (set by CMake), or ".". */
const char *test_data_dir(void);
/* A fresh per-case temporary directory (removed when the case passes). */
const char *test_tmp_dir(void);
/*
 * The test PKI (tests/certs/mkcerts.sh), generated once per build directory
 * under a lock: $STLS_BUILD_DIR/test-certs. test_cert_path("server.pem")
 * returns the full path of one file (a rotating static buffer: copy it if
 * you keep more than 16 at a time).
 */
const char *test_certs_dir(void);
const char *test_cert_path(const char *name);
/* Copies file <from> to <to> (created or truncated); fails the case on
 * any error. */
void test_copy_file(const char *from, const char *to);

/*
 * Generated docs: fails the case when <relpath> (from the source tree's
 * top) differs from <want>, the text the code generates now. With
 * STLS_REGEN_DOCS set in the environment it rewrites the file first.
 * <test_binary> names the test to rerun in the hint.
 */
void test_doc_in_sync(const char *relpath, const char *want,
		      const char *test_binary);

#define TEST(name)                                                          \
	static void test_##name(void);                                      \
	static struct test_case tc_##name = { #name, test_##name, __FILE__, \
					      __LINE__, NULL };             \
	__attribute__((constructor)) static void reg_##name(void)           \
	{                                                                   \
		test_register(&tc_##name);                                  \
	}                                                                   \
	static void test_##name(void)

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond))                                            \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_EQ(a, b)                                                       \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		if (a_ != b_)                                                \
			test_fail(__FILE__, __LINE__,                        \
				  "CHECK_EQ(%s, %s): %lld != %lld", #a, #b, a_, \
				  b_);                                       \
	} while (0)

#define CHECK_NE(a, b)                                                       \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		if (a_ == b_)                                                \
			test_fail(__FILE__, __LINE__,                        \
				  "CHECK_NE(%s, %s): both %lld", #a, #b, a_); \
	} while (0)

/* Expect a 0 return (the house convention for success). */
#define CHECK_OK(expr)                                                      \
	do {                                                                \
		long long r_ = (long long)(expr);                           \
		if (r_ != 0)                                                \
			test_fail(__FILE__, __LINE__, "CHECK_OK(%s): %lld", \
				  #expr, r_);                               \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                  \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                      \
			test_fail(__FILE__, __LINE__,                       \
				  "CHECK_STR_EQ(%s, %s): \"%s\" != \"%s\"", \
				  #a, #b, a_ ? a_ : "(null)",               \
				  b_ ? b_ : "(null)");                      \
	} while (0)

/* Substring check: haystack must contain needle. */
#define CHECK_STR_HAS(hay, needle)                                           \
	do {                                                                 \
		const char *h_ = (hay), *n_ = (needle);                      \
		if (!h_ || !n_ || !strstr(h_, n_))                           \
			test_fail(__FILE__, __LINE__,                        \
				  "CHECK_STR_HAS(%s, %s): \"%s\" lacks \"%s\"", \
				  #hay, #needle, h_ ? h_ : "(null)",         \
				  n_ ? n_ : "(null)");                       \
	} while (0)

#define CHECK_NULL(p) CHECK((p) == NULL)
#define CHECK_NOT_NULL(p) CHECK((p) != NULL)

#endif
