/*
 * Helpers for the tests of `siptlsctl cert`: run the command in process
 * with stdout and stderr captured, run a shell command, read a file.
 * Header-only (static inline) so that each test binary stays one file.
 */
#ifndef STLS_CERT_TEST_UTIL_H
#define STLS_CERT_TEST_UTIL_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cert.h"
#include "test.h"

#define CERT_OUT_MAX 32768

/* Output of the last run_cert(). */
static char cert_out[CERT_OUT_MAX], cert_err[CERT_OUT_MAX];

static inline void slurp_into(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Reads a whole small file into a static buffer ("" when missing). */
static inline const char *read_text(const char *path)
{
	static char buf[CERT_OUT_MAX];

	slurp_into(path, buf, sizeof(buf));
	return buf;
}

/*
 * Runs `siptlsctl cert ARGS...` (NULL-terminated) in this process with the
 * working directory set to the test's temporary directory. Returns the exit
 * status; cert_out and cert_err hold what it printed.
 */
static inline int run_cert(const char *first, ...)
{
	char *argv[64];
	char op[512], ep[512];
	int argc = 0, rc, so, se, fo, fe;
	va_list ap;
	const char *a;

	argv[argc++] = (char *)"cert";
	va_start(ap, first);
	for (a = first; a && argc < 63; a = va_arg(ap, const char *)) {
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	snprintf(op, sizeof(op), "%s/.stdout", test_tmp_dir());
	snprintf(ep, sizeof(ep), "%s/.stderr", test_tmp_dir());
	if (chdir(test_tmp_dir()) < 0) {
		test_fail(__FILE__, __LINE__, "chdir");
	}
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	fo = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = stls_cli_cert_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	slurp_into(op, cert_out, sizeof(cert_out));
	slurp_into(ep, cert_err, sizeof(cert_err));
	unlink(op);
	unlink(ep);
	return rc;
}

/*
 * Runs a shell command (printf format) in the test's temporary directory
 * with its output in cert_out. Returns its exit status, or -1.
 */
static inline int run_sh(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static inline int run_sh(const char *fmt, ...)
{
	char cmd[4096], full[5200], op[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(op, sizeof(op), "%s/.shout", test_tmp_dir());
	snprintf(full, sizeof(full), "cd '%s' && ( %s ) >'%s' 2>&1",
		 test_tmp_dir(), cmd, op);
	st = system(full);
	slurp_into(op, cert_out, sizeof(cert_out));
	unlink(op);
	return st < 0 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* Mode bits of a file in the temporary directory (-1 when missing). */
static inline int file_mode(const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", test_tmp_dir(), name);
	return stat(path, &sb) < 0 ? -1 : (int)(sb.st_mode & 07777);
}

static inline bool file_exists(const char *name)
{
	return file_mode(name) >= 0;
}

/* Full path of a file in the temporary directory (rotating buffers). */
static inline const char *tmp_path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", test_tmp_dir(), name);
	return b;
}

#endif
