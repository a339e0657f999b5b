/*
 * Unit tests for daemon/dbsrc/dbsrc_watch.c: the watch thread on a real
 * SQLite table (data_version every 50 ms) calls the reload on a commit
 * from another connection, not without one, and stops when asked.
 */
/* ctest-label: tsan */
#include <time.h>

#include "daemon/dbsrc/dbsrc_fixture.h"

struct calls {
	struct stls_pstore *ps;
	int n; /* atomic */
};

static int reload(void *arg, struct stls_diag *diag)
{
	struct calls *c = arg;
	int rc = stls_pstore_reload(c->ps, diag, NULL);

	__atomic_add_fetch(&c->n, 1, __ATOMIC_SEQ_CST);
	return rc;
}

static int calls_after(struct calls *c, int want, int ms)
{
	struct timespec t = { 0, 10 * 1000 * 1000 };
	int i, n = 0;

	for (i = 0; i < ms / 10; i++) {
		n = __atomic_load_n(&c->n, __ATOMIC_SEQ_CST);
		if (n >= want)
			break;
		nanosleep(&t, NULL);
	}
	return n;
}

TEST(a_commit_reloads)
{
	struct dbf f;
	struct stls_diag diag;
	struct calls c = { 0 };
	struct stls_profile_set *s;

	memset(&f, 0, sizeof(f));
	dbf_table(&f);
	dbf_conf(&f, NULL);
	stls_diag_init(&diag);
	CHECK_OK(dbf_start(&f, false, &diag));
	c.ps = f.ps;
	CHECK_OK(stls_dbsrc_start(f.ds, reload, &c));
	/* Nothing changed: no reload. */
	CHECK_EQ(calls_after(&c, 1, 300), 0);
	DB_EXEC(f.adm, "DELETE FROM tlscfg WHERE id = 2");
	CHECK_EQ(calls_after(&c, 1, 3000), 1);
	s = stls_pstore_get(f.ps);
	CHECK_EQ(stls_profile_set_count(s), 2);
	stls_profile_set_unref(s);
	CHECK_EQ(calls_after(&c, 2, 300), 1);
	stls_diag_fini(&diag);
	dbf_fini(&f);
}
