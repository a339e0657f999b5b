/*
 * Tests of lib/x509/x509_castate.c: the CA state file format.
 */
#include <errno.h>
#include <stdlib.h>

#include "test.h"

#include "stls/x509_ca.h"

static const char sample[] =
	"# comment\n"
	"format 1\n"
	"crl-number 7\n"
	"issued 0AB1 20300101000000Z server sip.example.com\n"
	"issued 0AB2 20300101000000Z client Alice Smith\r\n"
	"\n"
	"revoked 0ab1 20250102030405Z keyCompromise\n";

TEST(parse_and_format_round_trip)
{
	struct stls_x509_castate st, again;
	char *text, *text2;

	stls_x509_castate_init(&st);
	CHECK_OK(stls_x509_castate_parse(&st, sample, strlen(sample), "s",
					 NULL));
	CHECK_EQ(st.crl_number, 7);
	CHECK_EQ(st.n, 3);
	CHECK_STR_EQ(st.v[1].name, "Alice Smith");
	CHECK_STR_EQ(st.v[2].serial, "0AB1");
	CHECK_EQ(st.v[2].when, 1735787045);
	CHECK_EQ(stls_x509_castate_find(&st, "0ab1", true), 2);
	CHECK_EQ(stls_x509_castate_find(&st, "0AB2", true), -1);
	text = stls_x509_castate_format(&st);
	CHECK_STR_HAS(text, "revoked 0AB1 20250102030405Z keyCompromise\n");
	CHECK_STR_HAS(text, "issued 0AB2 20300101000000Z client Alice Smith\n");
	stls_x509_castate_init(&again);
	CHECK_OK(stls_x509_castate_parse(&again, text, strlen(text), "t",
					 NULL));
	text2 = stls_x509_castate_format(&again);
	CHECK_STR_EQ(text, text2);
	free(text);
	free(text2);
	stls_x509_castate_fini(&st);
	stls_x509_castate_fini(&again);
}

static const char *parse_err(const char *text)
{
	static struct stls_x509_err err;
	struct stls_x509_castate st;
	int rc;

	stls_x509_castate_init(&st);
	rc = stls_x509_castate_parse(&st, text, strlen(text), "f", &err);
	stls_x509_castate_fini(&st);
	return rc ? err.msg : "ok";
}

TEST(parse_errors_have_line_numbers)
{
	CHECK_STR_EQ(parse_err("crl-number 1\n"),
		     "f:0: missing 'format 1' line");
	CHECK_STR_EQ(parse_err("format 2\n"),
		     "f:1: unsupported format (this version reads 1)");
	CHECK_STR_EQ(parse_err("format 1\nbogus 1\n"),
		     "f:2: unknown keyword (format, crl-number, issued, "
		     "revoked)");
	CHECK_STR_EQ(parse_err("format 1\ncrl-number -1\n"),
		     "f:2: bad crl-number (a positive integer)");
	CHECK_STR_HAS(parse_err("format 1\nissued XY 20300101000000Z ca n\n"),
		      "f:2: bad serial");
	CHECK_STR_HAS(parse_err("format 1\nissued 01 2030 ca n\n"),
		      "f:2: bad time");
	/* A day the month lacks is refused, never moved to March. */
	CHECK_STR_HAS(parse_err("format 1\nissued 01 20300231000000Z ca "
				"n\n"), "f:2: bad time");
	CHECK_STR_HAS(parse_err("format 1\nissued 01 20290229000000Z ca "
				"n\n"), "f:2: bad time");
	CHECK_STR_HAS(parse_err("format 1\nissued 01 2030010100000+Z ca "
				"n\n"), "f:2: bad time");
	CHECK_STR_HAS(parse_err("format 1\nissued 01 20280229235959Z x "
				"n\n"), "unknown profile");
	CHECK_STR_HAS(parse_err("format 1\nissued 01 20300101000000Z ca\n"),
		      "expected: issued SERIAL NOTAFTER PROFILE NAME");
	CHECK_STR_HAS(parse_err("format 1\nissued 01 20300101000000Z x n\n"),
		      "unknown profile");
	CHECK_STR_HAS(parse_err("format 1\nrevoked 01 20300101000000Z "
				"hold\n"), "unknown revocation reason");
	CHECK_STR_HAS(parse_err("format 1\nrevoked 01 20300101000000Z "
				"superseded\nrevoked 01 20300101000000Z "
				"superseded\n"), "f:3: duplicate serial");
	CHECK_STR_HAS(parse_err("format 1\nissued\n"), "missing value");
}

TEST(add_refuses_duplicates_and_bad_records)
{
	struct stls_x509_carec rec = { false, "01", 0, "server", "n" };
	struct stls_x509_castate st;

	stls_x509_castate_init(&st);
	CHECK_OK(stls_x509_castate_add(&st, &rec));
	CHECK_EQ(stls_x509_castate_add(&st, &rec), -EEXIST);
	rec.name = "a\nb";
	snprintf(rec.serial, sizeof(rec.serial), "02");
	CHECK_EQ(stls_x509_castate_add(&st, &rec), -EINVAL);
	rec.revoked = true;
	snprintf(rec.serial, sizeof(rec.serial), "01");
	snprintf(rec.word, sizeof(rec.word), "superseded");
	CHECK_OK(stls_x509_castate_add(&st, &rec));
	CHECK_EQ(stls_x509_castate_add(&st, &rec), -EALREADY);
	CHECK_NULL(st.v[1].name);
	stls_x509_castate_fini(&st);
}
