/*
 * Unit tests for lib/db/db_src.c: the two source forms, our table
 * parameter taken out of the libpq URI, bad values, hidden passwords and
 * the notification channel.
 */
#include "lib/db/db_fixture.h"

#include "db/db_int.h"

static void parse_ok(const char *config, struct stls_db_src *s)
{
	struct stls_db_err err = { "" };
	int rc = stls_db_src_parse(config, s, &err);

	if (rc) {
		test_fail(__FILE__, __LINE__, "%s: %d %s", config, rc,
			  err.msg);
	}
}

TEST(sqlite_sources)
{
	struct stls_db_src s;

	parse_ok("sqlite:/var/lib/siptls/tls.db", &s);
	CHECK_EQ(s.kind, STLS_CONF_SRC_SQLITE);
	CHECK_STR_EQ(s.target, "/var/lib/siptls/tls.db");
	CHECK_STR_EQ(s.table, "tlscfg");
	CHECK_STR_EQ(s.shown, "sqlite:/var/lib/siptls/tls.db");
	stls_db_src_fini(&s);
	parse_ok("sqlite:rel.db?table=edge_a", &s);
	CHECK_STR_EQ(s.target, "rel.db");
	CHECK_STR_EQ(s.table, "edge_a");
	stls_db_src_fini(&s);
}

TEST(postgresql_sources_lose_only_the_table_parameter)
{
	static const char *const cases[][3] = {
		{ "postgresql://u@db.example/sip?table=tls2",
		  "postgresql://u@db.example/sip", "tls2" },
		{ "postgresql://u@h/sip?sslmode=require&table=t&"
		  "connect_timeout=3",
		  "postgresql://u@h/sip?sslmode=require&connect_timeout=3",
		  "t" },
		{ "postgres://h:5433/db", "postgres://h:5433/db", "tlscfg" },
		{ "postgresql://u:pw@h/db?passfile=/etc/siptls/pgpass",
		  "postgresql://u:pw@h/db?passfile=/etc/siptls/pgpass",
		  "tlscfg" },
	};
	struct stls_db_src s;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		parse_ok(cases[i][0], &s);
		CHECK_EQ(s.kind, STLS_CONF_SRC_POSTGRESQL);
		CHECK_STR_EQ(s.target, cases[i][1]);
		CHECK_STR_EQ(s.table, cases[i][2]);
		stls_db_src_fini(&s);
	}
	parse_ok("postgresql://u:pw@h/db?table=t", &s);
	CHECK_STR_EQ(s.shown, "postgresql://u:***@h/db?table=t");
	stls_db_src_fini(&s);
}

TEST(bad_sources)
{
	static const char *const bad[][2] = {
		{ "/etc/tls.cfg", "is no database" },
		{ "sqlite:", "the SQLite file is missing" },
		{ "sqlite:x.db?mode=ro", "unknown parameter 'mode=ro'" },
		{ "sqlite:x.db?table=T", "lower-case letters" },
		{ "postgresql://h/db?table=a;drop", "lower-case letters" },
		{ "postgresql://h/db?table=1x", "lower-case letters" },
		{ "postgresql://h/db?table=", "lower-case letters" },
		{ "postgresql://h/db?table=a&table=b", "given twice" },
		{ "postgresql://u:secret@h/db?table=\"x\"", "u:***@h" },
	};
	struct stls_db_err err;
	struct stls_db_src s;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(bad); i++) {
		err.msg[0] = '\0';
		CHECK_EQ(stls_db_src_parse(bad[i][0], &s, &err), -EINVAL);
		CHECK_STR_HAS(err.msg, bad[i][1]);
		CHECK(strstr(err.msg, "secret") == NULL);
		CHECK_NULL(s.target);
	}
}

TEST(channel_names)
{
	char buf[64];

	CHECK_STR_EQ(stls__db_channel("tlscfg", buf, sizeof(buf)),
		     "siptls_tlscfg");
}
