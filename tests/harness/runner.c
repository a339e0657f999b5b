/*
 * The unit test runner: registry, fork-per-case isolation, timeouts and the
 * closing "N passed, N failed, N skipped" line. See test.h.
 */

#include "test.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CASE_TIMEOUT_S 120

/*
 * LeakSanitizer's check normally runs at exit(), which a forked case skips
 * (it leaves with _exit()). Under ASan the runner asks for the check itself
 * before the case's child leaves; without ASan the symbol is absent.
 */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static void leave_case(void)
{
	if (__lsan_do_recoverable_leak_check &&
	    __lsan_do_recoverable_leak_check() != 0) {
		fprintf(stderr, "  leaks detected\n");
		_exit(1);
	}
	_exit(0);
}
#define EXIT_SKIP 77

static struct test_case *cases_head, **cases_tail = &cases_head;
static bool in_process;
static char tmp_dir[256];

void test_register(struct test_case *tc)
{
	*cases_tail = tc;
	cases_tail = &tc->next;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	if (in_process)
		abort();
	_exit(1);
}

void test_skip(const char *why)
{
	fprintf(stderr, "  skipped: %s\n", why);
	fflush(stderr);
	_exit(EXIT_SKIP);
}

const char *test_data_dir(void)
{
	const char *d = getenv("STLS_TEST_DATA");

#ifdef STLS_TEST_DATA_DIR
	if (!d)
		d = STLS_TEST_DATA_DIR;
#endif
	return d ? d : ".";
}

const char *test_tmp_dir(void)
{
	if (!tmp_dir[0]) {
		const char *base = getenv("TMPDIR");

		snprintf(tmp_dir, sizeof(tmp_dir), "%s/stls-test-XXXXXX",
			 base ? base : "/tmp");
		if (!mkdtemp(tmp_dir)) {
			perror("mkdtemp");
			abort();
		}
	}
	return tmp_dir;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tmp_dir(void)
{
	if (tmp_dir[0])
		nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmp_dir[0] = '\0';
}

/* Returns 0 passed, 1 failed, 2 skipped. */
static int run_case(struct test_case *tc)
{
	pid_t pid;
	int status;

	if (in_process) {
		tc->fn();
		remove_tmp_dir();
		return 0;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		alarm(CASE_TIMEOUT_S);
		tc->fn();
		remove_tmp_dir();
		fflush(stdout);
		leave_case();
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP)
		return 2;
	if (WIFSIGNALED(status))
		fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
			WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	return 1;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int passed = 0, failed = 0, skipped = 0, opt;
	struct test_case *tc;

	while ((opt = getopt(argc, argv, "lnt:")) != -1) {
		switch (opt) {
		case 'l':
			for (tc = cases_head; tc; tc = tc->next)
				printf("%s\n", tc->name);
			return 0;
		case 'n':
			in_process = true;
			break;
		case 't':
			only = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-l] [-n] [-t NAME]\n",
				argv[0]);
			return 2;
		}
	}
	for (tc = cases_head; tc; tc = tc->next) {
		if (only && strcmp(only, tc->name) != 0)
			continue;
		switch (run_case(tc)) {
		case 0:
			passed++;
			printf("ok   %s\n", tc->name);
			break;
		case 2:
			skipped++;
			printf("skip %s\n", tc->name);
			break;
		default:
			failed++;
			printf("FAIL %s (%s:%d)\n", tc->name, tc->file,
			       tc->line);
			break;
		}
		fflush(stdout);
	}
	if (only && passed + failed + skipped == 0) {
		fprintf(stderr, "no test named %s\n", only);
		return 2;
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}

const char *test_certs_dir(void)
{
	static char dir[1024];
	const char *build = getenv("STLS_BUILD_DIR");
	const char *src = getenv("STLS_SOURCE_DIR");
	char cmd[4096];

	if (dir[0])
		return dir;
#ifdef STLS_TEST_DATA_DIR
	if (!src)
		src = STLS_TEST_DATA_DIR "/..";
#endif
#ifdef STLS_BUILD_DIR
	if (!build)
		build = STLS_BUILD_DIR;
#endif
	if (!build)
		build = "/tmp";
	snprintf(dir, sizeof(dir), "%s/test-certs", build);
	/* flock: ctest runs test binaries in parallel; one generates. */
	snprintf(cmd, sizeof(cmd),
		 "flock '%s.lock' bash '%s/tests/certs/mkcerts.sh' '%s' >/dev/null",
		 dir, src ? src : ".", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "test PKI generation failed: %s\n", cmd);
		abort();
	}
	return dir;
}

const char *test_cert_path(const char *name)
{
	static char paths[16][1200];
	static int next;
	char *p = paths[next++ % 16];

	snprintf(p, sizeof(paths[0]), "%s/%s", test_certs_dir(), name);
	return p;
}

void test_doc_in_sync(const char *relpath, const char *want,
		      const char *test_binary)
{
	const char *src = getenv("STLS_SOURCE_DIR");
	char path[4096];
	FILE *f;
	char *have = NULL;
	size_t cap = 0, n;

#ifdef STLS_TEST_DATA_DIR
	if (!src)
		src = STLS_TEST_DATA_DIR "/..";
#endif
	snprintf(path, sizeof(path), "%s/%s", src ? src : ".", relpath);
	if (getenv("STLS_REGEN_DOCS")) {
		f = fopen(path, "w");
		if (!f || fputs(want, f) < 0 || fclose(f) != 0)
			test_fail(__FILE__, __LINE__, "cannot write %s", path);
		fprintf(stderr, "  rewrote %s\n", path);
	}
	f = fopen(path, "r");
	if (!f)
		test_fail(__FILE__, __LINE__, "cannot read %s", path);
	n = (size_t)getdelim(&have, &cap, '\0', f);
	fclose(f);
	if (n != strlen(want) || memcmp(have, want, n) != 0) {
		free(have);
		test_fail(__FILE__, __LINE__,
			  "%s is out of date with the table that generates "
			  "it: run STLS_REGEN_DOCS=1 build/%s and commit the "
			  "file", relpath, test_binary);
	}
	free(have);
}

void test_copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[8192];
	size_t n;

	CHECK_NOT_NULL(in);
	CHECK_NOT_NULL(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		CHECK_EQ(fwrite(buf, 1, n, out), n);
	}
	CHECK_EQ(ferror(in), 0);
	fclose(in);
	CHECK_EQ(fclose(out), 0);
}
