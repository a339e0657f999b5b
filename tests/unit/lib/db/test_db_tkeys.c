/*
 * Unit tests for lib/db/db_tkeys.c against a real PostgreSQL server that
 * the test starts itself (pg_fixture.h): the key table's name and DDL,
 * adding keys under the advisory lock (a second edge does not run while
 * the first holds it), the newest STLS_DB_TKEYS_KEEP kept, the
 * notification on the key channel told apart from profile changes, a row
 * that is not a key refused by id without its value, and SQLite refused.
 */
#include "lib/db/db_fixture.h"
#include "lib/db/pg_fixture.h"

#include "stls/db_admin.h"

#include <poll.h>

TEST(table_names_and_ddl)
{
	char buf[80];
	char *ddl = stls_db_schema_tkeys("tlscfg");

	CHECK_STR_EQ(stls_db_tkeys_name("tlscfg", buf, sizeof(buf)),
		     "tlskeys");
	CHECK_STR_EQ(stls_db_tkeys_name("edge", buf, sizeof(buf)),
		     "edge_keys");
	CHECK(ddl != NULL);
	CHECK_STR_HAS(ddl, "CREATE TABLE IF NOT EXISTS \"tlskeys\"");
	CHECK_STR_HAS(ddl, "\"active_from\" BIGINT NOT NULL");
	free(ddl);
}

struct add_arg {
	int64_t from;
	const struct stls_tkey *k;
};

static int add_key(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	struct add_arg *a = arg;

	return stls_db_tkeys_add(db, a->from, a->k, err);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

TEST(add_load_keep_and_notify)
{
	struct stls_db *a = db_open_ok(pg_config("t_tk"),
				       STLS_DB_OPEN_WRITE);
	struct stls_db *b;
	struct stls_db_tkeys t;
	struct stls_db_err err;
	struct stls_tkey k[5];
	struct add_arg arg;
	unsigned what = 0;
	bool ran = false;
	size_t i;

	CHECK_OK(stls_db_admin_init(a, &err));
	CHECK_STR_EQ(stls_db_tkeys_table(a), "t_tk_keys");
	b = db_open_ok(pg_config("t_tk"), STLS_DB_OPEN_WATCH);
	CHECK_OK(stls_db_tkeys_load(b, &t, &err));
	CHECK_EQ(t.n, 0);
	CHECK(t.now > 1700000000);
	for (i = 0; i < 5; i++) {
		CHECK_OK(stls_tkey_generate(&k[i]));
		arg.from = 1000 + (int64_t)i;
		arg.k = &k[i];
		CHECK_OK(stls_db_tkeys_locked(a, add_key, &arg, &ran, &err));
		CHECK(ran);
	}
	CHECK(readable(stls_db_watch_fd(b), 5000));
	CHECK_OK(stls_db_poll_what(b, &what, &err));
	CHECK_EQ(what, STLS_DB_CHANGED_TKEYS);
	CHECK_OK(stls_db_tkeys_load(b, &t, &err));
	CHECK_EQ(t.n, STLS_DB_TKEYS_KEEP);
	CHECK_EQ(t.v[0].active_from, 1004);
	CHECK_EQ(t.v[2].active_from, 1002);
	CHECK(memcmp(&t.v[0].key, &k[4], sizeof(k[4])) == 0);
	CHECK(memcmp(&t.v[2].key, &k[2], sizeof(k[2])) == 0);
	stls_db_tkeys_wipe(&t);
	/* A profile change is told apart from a key change. */
	DB_EXEC(a, "INSERT INTO t_tk (profile_type, profile_name) "
		   "VALUES ('server', 'default')");
	CHECK(readable(stls_db_watch_fd(b), 5000));
	CHECK_OK(stls_db_poll_what(b, &what, &err));
	CHECK(what & STLS_DB_CHANGED_PROFILES); /* keys may trail */
	/* A row that is not a key: refused by id, its value not shown. */
	DB_EXEC(a, "INSERT INTO t_tk_keys (active_from, tkey) "
		   "VALUES (2000, 'zz-secret-zz')");
	CHECK_EQ(stls_db_tkeys_load(b, &t, &err), -EIO);
	CHECK_STR_HAS(err.msg, "t_tk_keys id=");
	CHECK(strstr(err.msg, "secret") == NULL);
	CHECK_EQ(t.n, 0);
	for (i = 0; i < 5; i++) {
		stls_tkey_wipe(&k[i]);
	}
	stls_db_free(b);
	stls_db_free(a);
}

/* Holds the lock while another edge tries. */
static int try_other(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	struct stls_db *other = arg;
	bool ran = true;
	int rc;

	(void)db;
	rc = stls_db_tkeys_locked(other, add_key, NULL, &ran, err);
	return rc ? rc : (ran ? -EBUSY : 0);
}

TEST(one_edge_at_a_time)
{
	struct stls_db *a = db_open_ok(pg_config("t_tklock"),
				       STLS_DB_OPEN_WRITE);
	struct stls_db *b = db_open_ok(pg_config("t_tklock"),
				       STLS_DB_OPEN_WRITE);
	struct stls_db_err err;
	bool ran = false;

	CHECK_OK(stls_db_admin_init(a, &err));
	CHECK_OK(stls_db_tkeys_locked(a, try_other, b, &ran, &err));
	CHECK(ran);
	stls_db_free(b);
	stls_db_free(a);
}

TEST(missing_table_and_sqlite)
{
	struct stls_db *a = db_open_ok(pg_config("t_tknone"), 0);
	struct stls_db *s;
	struct stls_db_tkeys t;
	struct stls_db_err err;
	bool ran = true;

	CHECK_EQ(stls_db_tkeys_load(a, &t, &err), -ENOENT);
	CHECK_STR_HAS(err.msg, "siptlsctl db upgrade");
	stls_db_free(a);
	s = db_open_ok(db_sqlite_config("tk.db"), STLS_DB_OPEN_WRITE |
						  STLS_DB_OPEN_CREATE);
	CHECK_EQ(stls_db_tkeys_load(s, &t, &err), -ENOTSUP);
	CHECK_EQ(stls_db_tkeys_locked(s, add_key, NULL, &ran, &err),
		 -ENOTSUP);
	CHECK(!ran);
	stls_db_free(s);
}
