/*
 * Runs `siptlsctl db ...` in the test process (stls_cli_db_main) with its
 * stdout and stderr captured, against SQLite files of the case's
 * temporary directory (or the test PostgreSQL server).
 */
#ifndef STLS_TEST_CLI_DB_FIXTURE_H
#define STLS_TEST_CLI_DB_FIXTURE_H

#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "db.h"
#include "db_cmd.h"
#include "lib/db/db_fixture.h"

struct cli_run {
	int rc;
	char out[131072];
	char err[65536];
};

static inline void cli_slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = '\0';
	if (f) {
		fclose(f);
	}
}

/* Runs "db" + the NULL-terminated arguments. */
static inline struct cli_run *cli_db(const char *arg, ...)
{
	static struct cli_run r;
	char *argv[64], po[1100], pe[1100];
	int argc = 0, so, se, fo, fe;
	va_list ap;

	argv[argc++] = "db";
	va_start(ap, arg);
	for (; arg && argc < 63; arg = va_arg(ap, const char *)) {
		argv[argc++] = (char *)arg;
	}
	va_end(ap);
	argv[argc] = NULL;
	snprintf(po, sizeof(po), "%s/.cli.out", test_tmp_dir());
	snprintf(pe, sizeof(pe), "%s/.cli.err", test_tmp_dir());
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	r.rc = stls_cli_db_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	cli_slurp(po, r.out, sizeof(r.out));
	cli_slurp(pe, r.err, sizeof(r.err));
	return &r;
}

/* Checks the exit status, printing the captured output on mismatch. */
#define CLI_RC(r, want)                                                   \
	do {                                                              \
		if ((r)->rc != (want))                                    \
			test_fail(__FILE__, __LINE__,                     \
				  "exit %d, want %d\nout: %s\nerr: %s",   \
				  (r)->rc, (want), (r)->out, (r)->err);   \
	} while (0)

/* A file in the case's directory with the given text; its path. */
static inline const char *cli_file(const char *name, const char *text)
{
	static char paths[8][1100];
	static int next;
	char *p = paths[next++ % 8];
	FILE *f;

	snprintf(p, sizeof(paths[0]), "%s/%s", test_tmp_dir(), name);
	f = fopen(p, "w");
	CHECK_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
	return p;
}

#endif
