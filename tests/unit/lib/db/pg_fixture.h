/*
 * A real PostgreSQL server for a unit test binary (tests/pg/pg_server.sh):
 * the first case that asks for it starts it (under a lock), later cases
 * share it, and the runner's parent process stops it by PID when the
 * binary ends. Cases keep apart by using tables of their own
 * (pg_config("t_name") names table t_name). PGPASSFILE is set for libpq:
 * the password is never in a URI.
 */
#ifndef STLS_TEST_PG_FIXTURE_H
#define STLS_TEST_PG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static char pg_dir[256];
static pid_t pg_owner;

static void pg_script(const char *verb, char *out, size_t len)
{
	const char *src = getenv("STLS_SOURCE_DIR");
	char cmd[1024];
	FILE *p;

#ifdef STLS_SOURCE_DIR
	if (!src) {
		src = STLS_SOURCE_DIR;
	}
#endif
	snprintf(cmd, sizeof(cmd), "flock -o '%s.lock' bash '%s/tests/pg/"
		 "pg_server.sh' %s '%s'", pg_dir, src ? src : ".", verb,
		 pg_dir);
	p = popen(cmd, "r");
	if (!p) {
		return;
	}
	if (out && !fgets(out, (int)len, p)) {
		out[0] = '\0';
	}
	pclose(p);
}

static void pg_fixture_stop(void)
{
	struct stat st;

	if (getpid() == pg_owner && stat(pg_dir, &st) == 0) {
		pg_script("stop", NULL, 0);
	}
	if (getpid() == pg_owner) {
		char lock[300];

		snprintf(lock, sizeof(lock), "%s.lock", pg_dir);
		unlink(lock);
	}
}

__attribute__((constructor)) static void pg_fixture_init(void)
{
	const char *base = getenv("TMPDIR");

	pg_owner = getpid();
	snprintf(pg_dir, sizeof(pg_dir), "%s/stls-pgu-%d",
		 base ? base : "/tmp", (int)pg_owner);
	atexit(pg_fixture_stop);
}

/*
 * The `config` value of table <table> on the test server, started if need
 * be. Returns a static buffer (one per call site: copy it to keep two).
 */
static inline const char *pg_config(const char *table)
{
	static char cfg[512];
	char path[300], port[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/port", pg_dir);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(port, sizeof(port), f)) {
			port[0] = '\0';
		}
		fclose(f);
	} else {
		pg_script("start", port, sizeof(port));
	}
	port[strcspn(port, "\r\n")] = '\0';
	if (!port[0]) {
		test_fail(__FILE__, __LINE__, "PostgreSQL did not start (see "
			  "%s/run/server.log)", pg_dir);
	}
	snprintf(path, sizeof(path), "%s/pgpass", pg_dir);
	setenv("PGPASSFILE", path, 1);
	snprintf(cfg, sizeof(cfg),
		 "postgresql://siptls@127.0.0.1:%s/postgres?table=%s", port,
		 table);
	return cfg;
}

/* The server's directory (for tests that stop and start it). */
static inline const char *pg_fixture_dir(void)
{
	return pg_dir;
}

#endif
