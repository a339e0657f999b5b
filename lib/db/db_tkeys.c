/*
 * The ticket keys a fleet of edges shares (stls/db.h, "session ticket
 * keys of a fleet"; docs/database.md). PostgreSQL only: SQLite serves one
 * host, whose daemon opens it read-only.
 *
 * The table is tiny (STLS_DB_TKEYS_KEEP rows) and its rows never change:
 * a key is added with the time it starts to encrypt, and the oldest go.
 * Times are the server's clock (clock_timestamp()), so edges whose clocks
 * differ still agree on which key is current. Deciding to add a key
 * happens under a transaction-scoped advisory lock on the table's name,
 * taken with try (an edge never waits for another), and the notification
 * is sent in the same transaction, so every edge hears of the key when it
 * is committed.
 */
#include "db/db_int.h"
#include "stls/db_admin.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *stls_db_tkeys_table(const struct stls_db *db)
{
	return db->tkeys_table;
}

const char *stls_db_tkeys_name(const char *table, char *buf, size_t len)
{
	char *s = stls__db_tkeys_name(table);

	snprintf(buf, len, "%s", s ? s : "");
	free(s);
	return buf;
}

char *stls_db_schema_tkeys(const char *table)
{
	char *s = NULL, *tkeys_table = stls__db_tkeys_name(table);
	int n;

	if (!tkeys_table) {
		return NULL;
	}
	n = asprintf(&s,
		     "CREATE TABLE IF NOT EXISTS \"%s\" (\n"
		     "\t\"id\" BIGSERIAL PRIMARY KEY NOT NULL,\n"
		     "\t\"active_from\" BIGINT NOT NULL,\n"
		     "\t\"tkey\" TEXT NOT NULL\n"
		     ")", tkeys_table);
	free(tkeys_table);
	return n < 0 ? NULL : s;
}

void stls_db_tkeys_wipe(struct stls_db_tkeys *t)
{
	size_t i;

	for (i = 0; i < STLS_DB_TKEYS_KEEP; i++) {
		stls_tkey_wipe(&t->v[i].key);
	}
	t->n = 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;

	if (!s || !*s) {
		return -EINVAL;
	}
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* Row i of r (id, active_from, tkey, now) into t->v[t->n]. */
static int take_row(struct stls_db *db, const struct stls_db_rows *r,
		    size_t i, struct stls_db_tkeys *t,
		    struct stls_db_err *err)
{
	struct stls_db_tkey_row *k = &t->v[t->n];
	const char *id = stls_db_rows_get(r, i, 0);

	if (parse_i64(id, &k->id) || parse_i64(stls_db_rows_get(r, i, 1),
					       &k->active_from) ||
	    parse_i64(stls_db_rows_get(r, i, 3), &t->now) ||
	    stls_tkey_from_hex(stls_db_rows_get(r, i, 2), &k->key)) {
		return stls__db_err(err, db, -EIO,
				    "%s id=%s: not a ticket key row",
				    db->tkeys_table, id ? id : "NULL");
	}
	t->n++;
	return 0;
}

/* Whether the key table exists (without touching it). */
static int has_tkeys(struct stls_db *db, bool *yes, struct stls_db_err *err)
{
	const char *p[] = { db->tkeys_table };
	struct stls_db_rows *r = NULL;
	int rc;

	rc = stls_db_query(db, "SELECT 1 WHERE to_regclass(quote_ident($1)) "
			       "IS NOT NULL", p, 1, &r, err);
	*yes = !rc && stls_db_rows_count(r) > 0;
	stls_db_rows_free(r);
	return rc;
}

/* The server's clock, for a table without rows. */
static int server_now(struct stls_db *db, int64_t *now,
		      struct stls_db_err *err)
{
	struct stls_db_rows *r = NULL;
	int rc = stls_db_query(db, "SELECT extract(epoch FROM "
				   "clock_timestamp())::bigint", NULL, 0, &r,
			       err);

	if (!rc && parse_i64(stls_db_rows_get(r, 0, 0), now)) {
		rc = stls__db_err(err, db, -EIO, "no clock from the server");
	}
	stls_db_rows_free(r);
	return rc;
}

int stls_db_tkeys_load(struct stls_db *db, struct stls_db_tkeys *out,
		       struct stls_db_err *err)
{
	struct stls_db_rows *r = NULL;
	bool exists = false;
	char sql[256];
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (db->src.kind != STLS_CONF_SRC_POSTGRESQL) {
		return stls__db_err(err, db, -ENOTSUP, "ticket keys are shared "
				    "through PostgreSQL only");
	}
	/* The marker first, as for the profiles. */
	stls__db_taken(db, STLS_DB_CHANGED_TKEYS);
	rc = has_tkeys(db, &exists, err);
	if (!rc && !exists) {
		return stls__db_err(err, db, -ENOENT,
				    "no table %s (`siptlsctl db upgrade` "
				    "creates it)", db->tkeys_table);
	}
	snprintf(sql, sizeof(sql),
		 "SELECT \"id\", \"active_from\", \"tkey\", "
		 "extract(epoch FROM clock_timestamp())::bigint "
		 "FROM \"%s\" ORDER BY \"active_from\" DESC, \"id\" DESC "
		 "LIMIT %d", db->tkeys_table, STLS_DB_TKEYS_KEEP);
	if (!rc) {
		rc = stls_db_query(db, sql, NULL, 0, &r, err);
	}
	for (i = 0; !rc && i < stls_db_rows_count(r); i++) {
		rc = take_row(db, r, i, out, err);
	}
	stls_db_rows_free(r);
	if (!rc && out->n == 0) {
		rc = server_now(db, &out->now, err);
	}
	if (rc) {
		stls_db_tkeys_wipe(out);
	}
	return rc;
}

int stls_db_tkeys_locked(struct stls_db *db, stls_db_txn_fn *fn, void *arg,
			 bool *ran, struct stls_db_err *err)
{
	const char *p[] = { db->tkeys_table };
	struct stls_db_rows *r = NULL;
	const char *got;
	int rc;

	*ran = false;
	if (db->src.kind != STLS_CONF_SRC_POSTGRESQL) {
		return stls__db_err(err, db, -ENOTSUP, "ticket keys are shared "
				    "through PostgreSQL only");
	}
	rc = db->eng->begin(db, false, err);
	if (rc) {
		return rc;
	}
	rc = stls_db_query(db, "SELECT pg_try_advisory_xact_lock(hashtext("
			       "'siptls:' || $1))", p, 1, &r, err);
	got = rc ? NULL : stls_db_rows_get(r, 0, 0);
	if (!rc && got && strcmp(got, "t") == 0) {
		*ran = true;
		rc = fn(db, arg, err);
	}
	stls_db_rows_free(r);
	if (rc || !*ran) {
		db->eng->rollback(db);
		return rc;
	}
	return db->eng->commit(db, err);
}

int stls_db_tkeys_add(struct stls_db *db, int64_t active_from,
		      const struct stls_tkey *k, struct stls_db_err *err)
{
	char hex[STLS_TKEY_HEX_LEN + 1], from[24], keep[8];
	char sql[320], ch[STLS_DB_TABLE_MAX + 24];
	const char *p[2] = { from, hex };
	const char *pn[1] = { ch };
	int rc;

	snprintf(from, sizeof(from), "%" PRId64, active_from);
	snprintf(keep, sizeof(keep), "%d", STLS_DB_TKEYS_KEEP);
	stls_tkey_to_hex(k, hex);
	snprintf(sql, sizeof(sql), "INSERT INTO \"%s\" (\"active_from\", "
		 "\"tkey\") VALUES ($1, $2)", db->tkeys_table);
	rc = stls_db_query(db, sql, p, 2, NULL, err);
	explicit_bzero(hex, sizeof(hex));
	if (rc) {
		return rc;
	}
	snprintf(sql, sizeof(sql), "DELETE FROM \"%s\" WHERE \"id\" NOT IN "
		 "(SELECT \"id\" FROM \"%s\" ORDER BY \"active_from\" DESC, "
		 "\"id\" DESC LIMIT %s)", db->tkeys_table, db->tkeys_table,
		 keep);
	rc = stls_db_query(db, sql, NULL, 0, NULL, err);
	if (rc) {
		return rc;
	}
	stls__db_channel(db->tkeys_table, ch, sizeof(ch));
	return stls_db_query(db, "SELECT pg_notify($1, 'key')", pn, 1, NULL,
			     err);
}
