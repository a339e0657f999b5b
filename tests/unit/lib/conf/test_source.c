/*
 * Unit tests for lib/conf/source.c: what `config` names, how a SQLite path
 * is resolved, and that a password in a PostgreSQL URI is never shown.
 */
#include "lib/conf/conf_test_util.h"

TEST(kinds_of_config_values)
{
	CHECK_EQ(stls_conf_src_kind(NULL), STLS_CONF_SRC_NONE);
	CHECK_EQ(stls_conf_src_kind(""), STLS_CONF_SRC_NONE);
	CHECK_EQ(stls_conf_src_kind("tls.cfg"), STLS_CONF_SRC_FILE);
	CHECK_EQ(stls_conf_src_kind("/etc/siptls/tls.d"), STLS_CONF_SRC_FILE);
	CHECK_EQ(stls_conf_src_kind("sqlite:/var/lib/siptls/tls.db"),
		 STLS_CONF_SRC_SQLITE);
	CHECK_EQ(stls_conf_src_kind("postgresql://u@h/db?table=t"),
		 STLS_CONF_SRC_POSTGRESQL);
	CHECK_EQ(stls_conf_src_kind("postgres://h/db"),
		 STLS_CONF_SRC_POSTGRESQL);
	/* libpq's designators are lower case; anything else is a file. */
	CHECK_EQ(stls_conf_src_kind("postgresql:/x"), STLS_CONF_SRC_FILE);
	CHECK(stls_conf_src_is_db("sqlite:x.db"));
	CHECK(!stls_conf_src_is_db("x.db"));
}

TEST(sqlite_paths_resolve_like_other_paths)
{
	char *r = NULL;

	CHECK_OK(stls__conf_src_resolve("/etc/siptls", "sqlite:tls.db", &r));
	CHECK_STR_EQ(r, "sqlite:/etc/siptls/tls.db");
	free(r);
	CHECK_OK(stls__conf_src_resolve("/etc/siptls", "sqlite:/var/t.db", &r));
	CHECK_STR_EQ(r, "sqlite:/var/t.db");
	free(r);
	CHECK_OK(stls__conf_src_resolve("/etc/siptls",
					"postgresql://h/db?table=t", &r));
	CHECK_STR_EQ(r, "postgresql://h/db?table=t");
	free(r);
	CHECK_OK(stls__conf_src_resolve("/etc/siptls", "tls.cfg", &r));
	CHECK_STR_EQ(r, "/etc/siptls/tls.cfg");
	free(r);
}

TEST(passwords_in_uris_are_hidden)
{
	static const char *const cases[][2] = {
		{ "postgresql://siptls:s3cret@db.example:5432/sip?table=t",
		  "postgresql://siptls:***@db.example:5432/sip?table=t" },
		{ "postgres://u:p%40ss@h/db", "postgres://u:***@h/db" },
		{ "postgresql://u@h/db?password=x&table=t&sslmode=require",
		  "postgresql://u@h/db?password=***&table=t&sslmode=require" },
		{ "postgresql://u:pw@h/db?PASSWORD=x",
		  "postgresql://u:***@h/db?password=***" },
		{ "postgresql://h/db?passfile=/p",
		  "postgresql://h/db?passfile=/p" },
		{ "postgresql://u@h", "postgresql://u@h" },
		{ "postgresql://[::1]:5432/db", "postgresql://[::1]:5432/db" },
		{ "sqlite:/a:b@c.db", "sqlite:/a:b@c.db" },
		{ "/etc/tls.cfg", "/etc/tls.cfg" },
	};
	char buf[256];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		CHECK_STR_EQ(stls_conf_src_redact(cases[i][0], buf,
						  sizeof(buf)),
			     cases[i][1]);
	}
	/* Truncation keeps the string terminated and secret-free. */
	CHECK_STR_EQ(stls_conf_src_redact("postgresql://u:secret@h", buf, 17),
		     "postgresql://u:*");
	CHECK_STR_EQ(stls_conf_src_redact(NULL, buf, sizeof(buf)), "");
}
