/*
 * Unit tests for lib/db/db_pg.c against a real PostgreSQL server that the
 * test starts itself (pg_fixture.h): connecting (and failing to, without
 * showing a password), parameters, the table parameter kept from libpq,
 * application_name, LISTEN/NOTIFY change detection through the trigger of
 * `db init`, the write lock, and a lost connection.
 */
#include "lib/db/db_fixture.h"
#include "lib/db/pg_fixture.h"

#include <poll.h>

static struct stls_db *open_pg(const char *table, unsigned flags)
{
	return db_open_ok(pg_config(table), flags);
}

TEST(connect_query_and_application_name)
{
	struct stls_db *db = open_pg("t_conn", STLS_DB_OPEN_WRITE);
	const char *p[] = { "a", NULL };
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;

	CHECK_EQ(stls_db_kind(db), STLS_CONF_SRC_POSTGRESQL);
	CHECK_STR_EQ(stls_db_table(db), "t_conn");
	CHECK(strstr(stls_db_shown(db), "?table=t_conn") != NULL);
	CHECK_OK(stls_db_query(db, "SELECT $1::text AS x, $2::text AS y, "
				   "current_setting('application_name') AS "
				   "app", p, 2, &r, &err));
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 0), "a");
	CHECK_NULL(stls_db_rows_get(r, 0, 1));
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 2), "siptls");
	stls_db_rows_free(r);
	CHECK_EQ(stls_db_query(db, "SELECT * FROM no_such_table", NULL, 0,
			       NULL, &err),
		 -EIO);
	CHECK_STR_HAS(err.msg, "relation \"no_such_table\" does not exist");
	stls_db_free(db);
}

/* A URI parameter wins over our defaults (libpq keeps the last value). */
TEST(uri_parameters_override_the_defaults)
{
	char cfg[600];
	struct stls_db *db;
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;

	snprintf(cfg, sizeof(cfg), "%s&application_name=edge-a",
		 pg_config("t_app"));
	db = db_open_ok(cfg, 0);
	CHECK_OK(stls_db_query(db, "SELECT current_setting("
				   "'application_name')", NULL, 0, &r, &err));
	CHECK_STR_EQ(stls_db_rows_get(r, 0, 0), "edge-a");
	stls_db_rows_free(r);
	stls_db_free(db);
}

/* Bad credentials and an unreachable server: -ENOTCONN, and a password
 * written in the URI never appears in the message. */
TEST(connection_failures_hide_the_password)
{
	struct stls_db_opts o = { .connect_timeout_s = 3 };
	struct stls_db_err err = { "" };
	struct stls_db *db = NULL;
	char cfg[600], bad[600];
	const char *at;

	snprintf(cfg, sizeof(cfg), "%s", pg_config("t_fail"));
	at = strchr(cfg, '@');
	CHECK_NOT_NULL(at);
	snprintf(bad, sizeof(bad), "postgresql://siptls:Wr0ngPassw0rd%s", at);
	unsetenv("PGPASSFILE");
	CHECK_EQ(stls_db_open(bad, &o, &db, &err), -ENOTCONN);
	CHECK_STR_HAS(err.msg, "password authentication failed");
	CHECK(strstr(err.msg, "Wr0ngPassw0rd") == NULL);
	CHECK_STR_HAS(err.msg, "postgresql://siptls:***@127.0.0.1");
	CHECK_EQ(stls_db_open("postgresql://siptls@127.0.0.1:1/x", &o, &db,
			      &err),
		 -ENOTCONN);
	CHECK_STR_HAS(err.msg, "cannot connect");
	CHECK_NULL(db);
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

/* The trigger of `db init` notifies siptls_<table> once per committed
 * transaction; a watching connection sees it on its descriptor and in
 * poll, and nothing for a rolled-back one. */
TEST(notifications_from_the_trigger)
{
	struct stls_db *adm = open_pg("t_notify", STLS_DB_OPEN_WRITE);
	struct stls_db *d;
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	bool changed = true;

	CHECK_OK(stls_db_admin_init(adm, &err));
	d = open_pg("t_notify", STLS_DB_OPEN_WATCH);
	CHECK(stls_db_watch_fd(d) >= 0);
	CHECK_OK(stls_db_load_rows(d, &r, &err));
	CHECK_EQ(stls_db_rows_count(r), 0);
	stls_db_rows_free(r);
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed);
	DB_EXEC(adm, "INSERT INTO t_notify (profile_type, profile_name) "
		     "VALUES ('server', 'default')");
	CHECK(wait_readable(stls_db_watch_fd(d), 5000));
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(changed);
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed);
	DB_EXEC(adm, "BEGIN");
	DB_EXEC(adm, "DELETE FROM t_notify");
	DB_EXEC(adm, "ROLLBACK");
	CHECK(!wait_readable(stls_db_watch_fd(d), 300));
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed);
	/* Without WATCH nothing is listened to. */
	stls_db_free(d);
	d = open_pg("t_notify", 0);
	DB_EXEC(adm, "UPDATE t_notify SET method = 'TLSv1.3'");
	CHECK_OK(stls_db_poll(d, &changed, &err));
	CHECK(!changed);
	stls_db_free(d);
	stls_db_free(adm);
}

/* One row, as siptlsctl db add would write it. */
static int insert_row(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	(void)arg;
	return stls_db_query(db, "INSERT INTO t_lock (profile_type, "
				 "profile_name) VALUES ('client', 'any')",
			     NULL, 0, NULL, err);
}

/* A write transaction locks the table against a second writer, not
 * against readers. */
TEST(write_lock_keeps_writers_out_and_lets_readers_in)
{
	struct stls_db *a = open_pg("t_lock", STLS_DB_OPEN_WRITE);
	struct stls_db *b = open_pg("t_lock", STLS_DB_OPEN_WRITE);
	struct stls_db *rd = open_pg("t_lock", 0);
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;

	CHECK_OK(stls_db_admin_init(a, &err));
	DB_EXEC(a, "BEGIN");
	DB_EXEC(a, "LOCK TABLE t_lock IN EXCLUSIVE MODE");
	DB_EXEC(b, "SET lock_timeout = '200ms'");
	CHECK_EQ(stls_db_txn(b, STLS_DB_TXN_LOCK, insert_row, NULL, &err),
		 -EIO);
	CHECK_STR_HAS(err.msg, "lock timeout");
	CHECK_OK(stls_db_load_rows(rd, &r, &err));
	stls_db_rows_free(r);
	DB_EXEC(a, "COMMIT");
	CHECK_OK(stls_db_txn(b, STLS_DB_TXN_LOCK, insert_row, NULL, &err));
	CHECK_OK(stls_db_load_rows(rd, &r, &err));
	CHECK_EQ(stls_db_rows_count(r), 1);
	stls_db_rows_free(r);
	stls_db_free(a);
	stls_db_free(b);
	stls_db_free(rd);
}

/* A server that ends the connection (pg_terminate_backend, as a restart
 * does) shows as -ENOTCONN in poll and in queries; a new connection
 * works. */
TEST(lost_connection_is_enotconn)
{
	struct stls_db *adm = open_pg("t_lost", STLS_DB_OPEN_WRITE);
	struct stls_db *d = open_pg("t_lost", STLS_DB_OPEN_WATCH);
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	bool changed;
	int rc = 0, i;

	CHECK_OK(stls_db_admin_init(adm, &err));
	DB_EXEC(adm, "SELECT pg_terminate_backend(pid) FROM "
		     "pg_stat_activity WHERE query LIKE 'LISTEN%'");
	for (i = 0; i < 50 && rc == 0; i++) {
		wait_readable(stls_db_watch_fd(d), 100);
		rc = stls_db_poll(d, &changed, &err);
	}
	CHECK_EQ(rc, -ENOTCONN);
	CHECK_STR_HAS(err.msg, "connection lost");
	CHECK_EQ(stls_db_load_rows(d, &r, &err), -ENOTCONN);
	stls_db_free(d);
	d = open_pg("t_lost", STLS_DB_OPEN_WATCH);
	CHECK_OK(stls_db_load_rows(d, &r, &err));
	stls_db_rows_free(r);
	stls_db_free(d);
	stls_db_free(adm);
}
