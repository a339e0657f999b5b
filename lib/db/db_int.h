/*
 * Internals of lib/db: the engine interface and the connection object.
 * Not installed.
 *
 * An engine is a table of operations. Statements use $1..$n placeholders
 * and double-quoted identifiers, which both engines understand, so that
 * the SQL of lib/db and siptlsctl is written once.
 */
#ifndef STLS_DB_INT_H
#define STLS_DB_INT_H

#include <stdarg.h>

#include "stls/db.h"

/* Internal: not exported from a shared library. */
#pragma GCC visibility push(hidden)

struct stls_db_engine {
	const char *name; /* "sqlite", "postgresql" */
	/* Connects to db->src.target; sets db->st. */
	int (*open)(struct stls_db *db, const struct stls_db_opts *o,
		    struct stls_db_err *err);
	void (*close)(struct stls_db *db);
	/* One statement; rows to *out when out is not NULL. */
	int (*query)(struct stls_db *db, const char *sql,
		     const char *const *params, size_t n,
		     struct stls_db_rows **out, struct stls_db_err *err);
	/* A write transaction; with lock, holding the table against other
	 * writers. */
	int (*begin)(struct stls_db *db, bool lock, struct stls_db_err *err);
	int (*commit)(struct stls_db *db, struct stls_db_err *err);
	void (*rollback)(struct stls_db *db);
	/* Takes the change marker: ORs into *what (STLS_DB_CHANGED_*) what
	 * moved since the last call. */
	int (*poll)(struct stls_db *db, unsigned *what,
		    struct stls_db_err *err);
	int (*watch_fd)(const struct stls_db *db);
	/* Whether the table exists (without touching it). */
	int (*has_table)(struct stls_db *db, bool *yes,
			 struct stls_db_err *err);
};

extern const struct stls_db_engine stls__db_sqlite;
extern const struct stls_db_engine stls__db_pg;

struct stls_db {
	const struct stls_db_engine *eng;
	struct stls_db_src src;
	char *quoted_table; /* "\"tlscfg\"" */
	char *tkeys_table;  /* the ticket key table: "tlskeys" */
	unsigned flags;     /* enum stls_db_open_flag */
	unsigned pending;   /* changes seen, not yet taken (STLS_DB_CHANGED_*) */
	void *st;           /* the engine's state */
};

/*
 * Sets err->msg to "<db shown>: <fmt...>" (db NULL: fmt alone). Returns
 * rc, so that callers can write `return stls__db_err(...)`.
 */
int stls__db_err(struct stls_db_err *err, const struct stls_db *db, int rc,
		 const char *fmt, ...) STLS_PRINTF(4, 5);

/*
 * The notification channel of a table: "siptls_<table>" (both parts are
 * identifiers, so no quoting is needed). Returns buf.
 */
const char *stls__db_channel(const char *table, char *buf, size_t len);

/*
 * The ticket key table next to profile table <table> (db_tkeys.c):
 * "tlskeys" for "tlscfg", "<table>_keys" otherwise. malloc'd, or NULL.
 */
char *stls__db_tkeys_name(const char *table);

/* Marks the changes in <what> (STLS_DB_CHANGED_*) as taken. */
void stls__db_taken(struct stls_db *db, unsigned what);

#pragma GCC visibility pop

#endif
