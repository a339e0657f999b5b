/*
 * Unit tests for daemon/dbsrc/dbsrc.c on a real SQLite table: the store
 * builds from the rows (relative path from the main config's directory),
 * a broken row is refused naming it and kept for tls.info, a snapshot is
 * written after a build and used at start when the database is gone (with
 * the set it held), and without one, or for --check, the start fails with
 * the reason.
 */
#include <unistd.h>

#include "daemon/dbsrc/dbsrc_fixture.h"

static size_t count(struct stls_pstore *ps)
{
	struct stls_profile_set *s = stls_pstore_get(ps);
	size_t n = stls_profile_set_count(s);

	stls_profile_set_unref(s);
	return n;
}

TEST(builds_from_rows_and_refuses_a_broken_change)
{
	struct dbf f;
	struct stls_diag diag;
	struct stls_dbsrc_stats st;

	memset(&f, 0, sizeof(f));
	dbf_table(&f);
	dbf_conf(&f, NULL);
	stls_diag_init(&diag);
	CHECK_OK(dbf_start(&f, false, &diag));
	CHECK_EQ(diag.errors, 0);
	CHECK_EQ(count(f.ps), 3); /* two rows and the implicit client */
	stls_dbsrc_stats(f.ds, &st);
	CHECK(st.connected);
	CHECK_EQ(st.changes_applied, 1);
	CHECK_EQ(st.snapshots_written, 0); /* no state_dir */
	DB_EXEC(f.adm, "UPDATE tlscfg SET private_key = $1 WHERE id = 2",
		test_cert_path("server.key"));
	CHECK_EQ(stls_pstore_reload(f.ps, &diag, NULL), -EINVAL);
	stls_dbsrc_stats(f.ds, &st);
	CHECK_EQ(st.changes_refused, 1);
	CHECK_STR_HAS(st.last_error, "tlscfg id=2 column=private_key: "
				     "private_key: does not match");
	DB_EXEC(f.adm, "DELETE FROM tlscfg WHERE id = 2");
	stls_diag_fini(&diag);
	stls_diag_init(&diag);
	CHECK_OK(stls_pstore_reload(f.ps, &diag, NULL));
	CHECK_EQ(count(f.ps), 2);
	stls_dbsrc_stats(f.ds, &st);
	CHECK_STR_EQ(st.last_error, "");
	CHECK_EQ(st.changes_applied, 2);
	stls_diag_fini(&diag);
	dbf_fini(&f);
}

TEST(snapshot_at_start_when_the_database_is_gone)
{
	struct dbf f;
	struct stls_diag diag;
	struct stls_dbsrc_stats st;
	char db[700], moved[700], dir[600], state[700];

	memset(&f, 0, sizeof(f));
	dbf_table(&f);
	/* Absolute: [core] paths are relative to the working directory. */
	snprintf(state, sizeof(state), "state_dir = %s/state", f.dir);
	dbf_conf(&f, state);
	stls_diag_init(&diag);
	CHECK_OK(dbf_start(&f, false, &diag));
	stls_dbsrc_stats(f.ds, &st);
	CHECK_EQ(st.snapshots_written, 1);
	stls_diag_fini(&diag);
	snprintf(db, sizeof(db), "%s/tls.db", f.dir);
	snprintf(moved, sizeof(moved), "%s/gone.db", f.dir);
	snprintf(dir, sizeof(dir), "%s", f.dir);
	dbf_fini(&f);
	/* Now the table is gone: the snapshot serves. */
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "%s", dir);
	CHECK_OK(rename(db, moved));
	dbf_conf(&f, state);
	stls_diag_init(&diag);
	CHECK_OK(dbf_start(&f, false, &diag));
	CHECK_EQ(count(f.ps), 3);
	stls_dbsrc_stats(f.ds, &st);
	CHECK(st.from_snapshot);
	CHECK(!st.connected);
	/* While running, a reload with the database away is refused. */
	CHECK_EQ(stls_pstore_reload(f.ps, &diag, NULL), -ENOTCONN);
	CHECK_EQ(count(f.ps), 3);
	stls_dbsrc_stats(f.ds, &st);
	CHECK_EQ(st.changes_refused, 1);
	stls_dbsrc_free(f.ds);
	stls_pstore_free(f.ps);
	f.ds = NULL;
	f.ps = NULL;
	stls_diag_fini(&diag);
	/* --check does not use the snapshot. */
	stls_diag_init(&diag);
	CHECK(dbf_start(&f, true, &diag) != 0);
	CHECK_EQ(diag.errors, 1);
	CHECK_STR_HAS(diag.v[0].msg, "tls.db");
	stls_dbsrc_free(f.ds);
	f.ds = NULL;
	stls_diag_fini(&diag);
	dbf_fini(&f);
}

TEST(no_database_no_snapshot)
{
	struct dbf f;
	struct stls_diag diag;

	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "%s", test_tmp_dir());
	dbf_conf(&f, NULL);
	stls_diag_init(&diag);
	CHECK(dbf_start(&f, false, &diag) != 0);
	CHECK_EQ(diag.errors, 1);
	CHECK_STR_HAS(diag.v[0].msg, "no snapshot: [core] state_dir is "
				     "unset");
	stls_diag_fini(&diag);
	stls_dbsrc_free(f.ds);
	f.ds = NULL;
	dbf_fini(&f);
}
