/*
 * The PostgreSQL engine (libpq). The URI of the source, without our table
 * parameter, is expanded by libpq; application_name and connect_timeout
 * come before it in the keyword list, so that the URI can override them
 * (libpq keeps the last value of a repeated keyword). The password is
 * libpq's business (URI, passfile, PGPASSFILE): it never passes through
 * our messages, which quote libpq's, and libpq does not print passwords.
 *
 * Change detection: with STLS_DB_OPEN_WATCH the connection LISTENs on
 * "siptls_<table>"; the trigger of `siptlsctl db init` notifies it after
 * every statement that changes the table (once per transaction, as
 * PostgreSQL folds equal notifications). It also LISTENs on the channel
 * of the ticket key table, which the edge that adds a key notifies
 * (db_tkeys.c). Poll reads what arrived without blocking and tells the
 * two apart; a server that closed the connection shows as -ENOTCONN.
 */
#include "db/db_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

struct pg {
	PGconn *c;
	bool watching;
};

/* libpq's messages end with a newline; ours do not. */
static const char *pq_msg(const char *m, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", m && *m ? m : "unknown error");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
		buf[--n] = '\0';
	}
	return buf;
}

/* NOTICEs (e.g. "trigger ... does not exist, skipping") are not ours to
 * print. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int lost_or(const struct pg *p, int rc)
{
	return PQstatus(p->c) == CONNECTION_BAD ? -ENOTCONN : rc;
}

static int run(struct stls_db *db, const char *sql, struct stls_db_err *err);

static int pg_open(struct stls_db *db, const struct stls_db_opts *o,
		   struct stls_db_err *err)
{
	const char *keys[] = { "application_name", "connect_timeout",
			       "dbname", NULL };
	const char *vals[4];
	char timeout[16], msg[512], listen[STLS_DB_TABLE_MAX + 48];
	struct pg *p = calloc(1, sizeof(*p));

	if (!p) {
		return -ENOMEM;
	}
	db->st = p;
	snprintf(timeout, sizeof(timeout), "%d",
		 o->connect_timeout_s > 0 ? o->connect_timeout_s : 10);
	vals[0] = o->app_name ? o->app_name : "siptls";
	vals[1] = timeout;
	vals[2] = db->src.target;
	vals[3] = NULL;
	p->c = PQconnectdbParams(keys, vals, 1);
	if (!p->c) {
		return -ENOMEM;
	}
	if (PQstatus(p->c) != CONNECTION_OK) {
		return stls__db_err(err, db, -ENOTCONN, "cannot connect: %s",
				    pq_msg(PQerrorMessage(p->c), msg,
					   sizeof(msg)));
	}
	PQsetNoticeProcessor(p->c, quiet, NULL);
	if (o->flags & STLS_DB_OPEN_WATCH) {
		char ch[STLS_DB_TABLE_MAX + 24];

		/* The profile table, and the fleet's ticket keys. */
		snprintf(listen, sizeof(listen), "LISTEN \"%s\"",
			 stls__db_channel(db->src.table, ch, sizeof(ch)));
		if (run(db, listen, err)) {
			return lost_or(p, -EIO);
		}
		snprintf(listen, sizeof(listen), "LISTEN \"%s\"",
			 stls__db_channel(db->tkeys_table, ch, sizeof(ch)));
		if (run(db, listen, err)) {
			return lost_or(p, -EIO);
		}
		p->watching = true;
	}
	return 0;
}

static void pg_close(struct stls_db *db)
{
	struct pg *p = db->st;

	PQfinish(p->c);
	free(p);
	db->st = NULL;
}

static int collect(const PGresult *res, struct stls_db_rows **out)
{
	int ncols = PQnfields(res), nrows = PQntuples(res), i, j, rc;
	const char **v = calloc((size_t)ncols + 1, sizeof(*v));
	struct stls_db_rows *r = NULL;

	if (!v) {
		return -ENOMEM;
	}
	for (j = 0; j < ncols; j++) {
		v[j] = PQfname(res, j);
	}
	rc = stls_db_rows_new((size_t)ncols, v, &r);
	for (i = 0; !rc && i < nrows; i++) {
		for (j = 0; j < ncols; j++) {
			v[j] = PQgetisnull(res, i, j) ? NULL
						      : PQgetvalue(res, i, j);
		}
		rc = stls_db_rows_push(r, v);
	}
	free(v);
	if (rc) {
		stls_db_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int pg_query(struct stls_db *db, const char *sql,
		    const char *const *params, size_t n,
		    struct stls_db_rows **out, struct stls_db_err *err)
{
	struct pg *p = db->st;
	PGresult *res;
	char msg[512];
	int rc = 0;

	res = PQexecParams(p->c, sql, (int)n, NULL, params, NULL, NULL, 0);
	if (!res) {
		return stls__db_err(err, db, lost_or(p, -ENOMEM), "%s",
				    pq_msg(PQerrorMessage(p->c), msg,
					   sizeof(msg)));
	}
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		rc = out ? collect(res, out) : 0;
		break;
	default:
		rc = stls__db_err(err, db, lost_or(p, -EIO), "%s",
				  pq_msg(PQresultErrorMessage(res), msg,
					 sizeof(msg)));
		break;
	}
	PQclear(res);
	return rc;
}

static int run(struct stls_db *db, const char *sql, struct stls_db_err *err)
{
	return pg_query(db, sql, NULL, 0, NULL, err);
}

static int pg_begin(struct stls_db *db, bool lock, struct stls_db_err *err)
{
	char sql[STLS_DB_TABLE_MAX + 48];
	int rc = run(db, "BEGIN", err);

	if (rc || !lock) {
		return rc;
	}
	/* Writers wait for each other; readers (the daemons) go on. */
	snprintf(sql, sizeof(sql), "LOCK TABLE %s IN EXCLUSIVE MODE",
		 db->quoted_table);
	rc = run(db, sql, err);
	if (rc) {
		run(db, "ROLLBACK", NULL);
	}
	return rc;
}

static int pg_commit(struct stls_db *db, struct stls_db_err *err)
{
	return run(db, "COMMIT", err);
}

static void pg_rollback(struct stls_db *db)
{
	run(db, "ROLLBACK", NULL);
}

static int pg_poll(struct stls_db *db, unsigned *what,
		   struct stls_db_err *err)
{
	char msg[512], keys[STLS_DB_TABLE_MAX + 24];
	struct pg *p = db->st;
	PGnotify *n;

	if (!p->watching) {
		return 0;
	}
	if (!PQconsumeInput(p->c) || PQstatus(p->c) == CONNECTION_BAD) {
		return stls__db_err(err, db, lost_or(p, -EIO),
				    "connection lost: %s",
				    pq_msg(PQerrorMessage(p->c), msg,
					   sizeof(msg)));
	}
	stls__db_channel(db->tkeys_table, keys, sizeof(keys));
	while ((n = PQnotifies(p->c)) != NULL) {
		*what |= strcmp(n->relname, keys) == 0
				 ? STLS_DB_CHANGED_TKEYS
				 : STLS_DB_CHANGED_PROFILES;
		PQfreemem(n);
	}
	return 0;
}

static int pg_watch_fd(const struct stls_db *db)
{
	const struct pg *p = db->st;

	return PQsocket(p->c);
}

/* The table as the search path finds it, as an unqualified name would. */
static int pg_has_table(struct stls_db *db, bool *yes,
			struct stls_db_err *err)
{
	const char *p[] = { db->quoted_table };
	struct stls_db_rows *r = NULL;
	int rc;

	rc = pg_query(db, "SELECT 1 WHERE to_regclass($1) IS NOT NULL", p, 1,
		      &r, err);
	*yes = !rc && stls_db_rows_count(r) > 0;
	stls_db_rows_free(r);
	return rc;
}

const struct stls_db_engine stls__db_pg = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.query = pg_query,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.poll = pg_poll,
	.watch_fd = pg_watch_fd,
	.has_table = pg_has_table,
};
