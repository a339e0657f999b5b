/*
 * Unit tests for daemon/dbsrc/dbsrc_conn.c: opening a source's database
 * (an SQLite file made by the test), a failed open keeping its reason,
 * and a lost connection counted and dropped.
 */
#include "daemon/dbsrc/dbsrc_fixture.h"

#include "dbsrc/dbsrc_int.h"

TEST(open_then_lost_is_counted)
{
	struct stls_dbsrc ds;
	struct stls_db_err err = { "" };
	char cfg[600];

	memset(&ds, 0, sizeof(ds));
	snprintf(cfg, sizeof(cfg), "sqlite:%s/conn.db", test_tmp_dir());
	CHECK_OK(stls_db_src_parse(cfg, &ds.src, &err));
	ds.config = cfg;
	/* No such file yet: refused (the loader never creates it). */
	CHECK(stls__dbsrc_open(&ds) != 0);
	CHECK(ds.db == NULL);
	CHECK(ds.open_err.msg[0] != '\0');
	stls_db_free(db_open_ok(cfg, STLS_DB_OPEN_CREATE));
	CHECK_OK(stls__dbsrc_open(&ds));
	CHECK(ds.db != NULL);
	ds.st.connected = true;
	stls__dbsrc_lost(&ds, "server closed the connection");
	CHECK(ds.db == NULL);
	CHECK(!ds.st.connected);
	CHECK_EQ(ds.st.db_failures, 1);
	stls_db_src_fini(&ds.src);
}
