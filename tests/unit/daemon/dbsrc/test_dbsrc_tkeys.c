/*
 * Unit tests for daemon/dbsrc/dbsrc_tkeys.c against a real PostgreSQL
 * server (pg_fixture.h): two edges on one table with a 2 s lifetime fill
 * their rings from the shared key table, the keys are added by one edge
 * at a time (the table never holds two keys with the same start), and
 * rotate; SQLite gets no ring.
 */
/* ctest-label: tsan */
#include <time.h>

#include "daemon/dbsrc/dbsrc_fixture.h"
#include "lib/db/pg_fixture.h"

static int no_reload(void *arg, struct stls_diag *diag)
{
	(void)arg;
	(void)diag;
	return 0;
}

static struct stls_tkeys *ring_of(struct stls_dbsrc *ds)
{
	struct stls_pstore_src src;

	stls_dbsrc_pstore_src(ds, &src);
	return src.tkeys;
}

TEST(two_edges_share_and_rotate)
{
	struct dbf a, b;
	struct stls_diag diag;
	struct stls_dbsrc_stats sa, sb;
	struct stls_db_rows *r = NULL;
	struct stls_db_err err;
	char cfg[600];
	int i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	snprintf(cfg, sizeof(cfg), "%s", pg_config("t_edge"));
	dbf_table_at(&a, cfg);
	dbf_conf_src(&a, "ticket_key_lifetime = 2", cfg);
	snprintf(b.dir, sizeof(b.dir), "%s", a.dir);
	snprintf(b.pki, sizeof(b.pki), "%s", a.pki);
	dbf_conf_src(&b, "ticket_key_lifetime = 2", cfg);
	stls_diag_init(&diag);
	CHECK_OK(dbf_start(&a, false, &diag));
	CHECK_OK(dbf_start(&b, false, &diag));
	CHECK(ring_of(a.ds) != NULL);
	/* Before the table is read: a key of the edge's own. */
	CHECK_EQ(stls_tkeys_count(ring_of(a.ds)), 1);
	CHECK_OK(stls_dbsrc_start(a.ds, no_reload, NULL));
	CHECK_OK(stls_dbsrc_start(b.ds, no_reload, NULL));
	for (i = 0; i < 70; i++) { /* 7 s: three rotations */
		struct timespec t = { 0, 100 * 1000 * 1000 };

		nanosleep(&t, NULL);
	}
	stls_dbsrc_stats(a.ds, &sa);
	stls_dbsrc_stats(b.ds, &sb);
	CHECK(sa.tkeys_rotations + sb.tkeys_rotations >= 3);
	CHECK(sa.tkeys_updates >= 3 && sb.tkeys_updates >= 3);
	CHECK(stls_tkeys_count(ring_of(a.ds)) >= 1);
	CHECK_OK(stls_db_query(a.adm, "SELECT active_from, count(*) FROM "
				      "t_edge_keys GROUP BY active_from "
				      "HAVING count(*) > 1",
			       NULL, 0, &r, &err));
	CHECK_EQ(stls_db_rows_count(r), 0);
	stls_db_rows_free(r);
	stls_diag_fini(&diag);
	dbf_fini(&b);
	dbf_fini(&a);
}

TEST(sqlite_has_no_ring)
{
	struct dbf f;
	struct stls_diag diag;

	memset(&f, 0, sizeof(f));
	dbf_table(&f);
	dbf_conf(&f, "ticket_key_lifetime = 2");
	stls_diag_init(&diag);
	CHECK_OK(dbf_start(&f, false, &diag));
	CHECK(ring_of(f.ds) == NULL);
	stls_diag_fini(&diag);
	dbf_fini(&f);
}
