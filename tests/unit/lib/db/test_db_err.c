/*
 * Unit tests for lib/db/db_err.c: messages carry the source as shown
 * (password hidden), a NULL err only returns the code, and a long message
 * is cut, never overflowed.
 */
#include "lib/db/db_fixture.h"

#include "db/db_int.h"

TEST(message_names_the_source_and_returns_the_code)
{
	struct stls_db_err err = { "" };
	struct stls_db db;

	memset(&db, 0, sizeof(db));
	CHECK_OK(stls_db_src_parse("postgresql://edge:secret@127.0.0.1/tls",
				   &db.src, &err));
	CHECK_EQ(stls__db_err(&err, &db, -EIO, "row %d: %s", 7, "bad"),
		 -EIO);
	CHECK_STR_HAS(err.msg, ": row 7: bad");
	CHECK(strstr(err.msg, "secret") == NULL);
	CHECK_EQ(stls__db_err(&err, NULL, -EINVAL, "plain"), -EINVAL);
	CHECK_STR_EQ(err.msg, "plain");
	CHECK_EQ(stls__db_err(NULL, &db, -ENOENT, "ignored"), -ENOENT);
	stls_db_src_fini(&db.src);
}

TEST(long_messages_are_cut)
{
	struct stls_db_err err = { "" };
	char big[4096];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(stls__db_err(&err, NULL, -EIO, "%s", big), -EIO);
	CHECK(strlen(err.msg) < sizeof(err.msg));
}
