/*
 * Unit tests for daemon/script/script_hdr.c: the checks on what a script
 * hands back to the relay (appended lines, removed names, reply reasons,
 * xavp values) and KSR.hdr.* on a parsed request.
 */
#include "script_fixture.h"

#include "script/script_int.h"

TEST(hdr_put_normalises_a_line)
{
	char out[64];
	size_t len = 0;
	const char *why = NULL;

	CHECK_OK(stls__script_hdr_put("X-A:  one two", 13, out, &len,
				      sizeof(out), &why));
	CHECK_OK(stls__script_hdr_put("X-B\t: v\r\n", 9, out, &len,
				      sizeof(out), &why));
	out[len] = '\0';
	CHECK_STR_EQ(out, "X-A: one two\r\nX-B: v\r\n");
}

TEST(hdr_put_refuses_injection_and_owned_headers)
{
	static const char *const bad[] = {
		"X-A: a\r\nVia: SIP/2.0/UDP evil", /* CRLF inside */
		"X-A: a\nB: c", "X-A: a\rb", "X-A: nul\x01",
		"no colon", ": empty name", "Bad Name: v", "X@: v",
		"Via: SIP/2.0/UDP h", "v: SIP/2.0/UDP h", "From: <sip:a@b>",
		"f: x", "To: x", "t: x", "Call-ID: x", "i: x", "CSeq: 1 X",
		"Max-Forwards: 1", "Content-Length: 5", "l: 5", "Route: <sip:x>",
		"Record-Route: <sip:x>", "Path: <sip:x>",
	};
	char out[256];
	size_t i, len = 0;
	const char *why;

	for (i = 0; i < STLS_ARRAY_SIZE(bad); i++) {
		why = NULL;
		CHECK_EQ(stls__script_hdr_put(bad[i], strlen(bad[i]), out,
					      &len, sizeof(out), &why),
			 -EINVAL);
		CHECK_NOT_NULL(why);
		CHECK_EQ(len, 0);
	}
}

TEST(hdr_put_refuses_what_does_not_fit)
{
	char out[16];
	size_t len = 0;
	const char *why = NULL;

	CHECK_OK(stls__script_hdr_put("X-A: 12345", 10, out, &len,
				      sizeof(out), &why));
	CHECK_EQ(len, 12);
	CHECK_EQ(stls__script_hdr_put("X-B: 1", 6, out, &len, sizeof(out),
				      &why), -ENOBUFS);
	CHECK_EQ(len, 12);
}

TEST(removable_reason_and_xavp_checks)
{
	char name[SCRIPT_NAME_MAX + 2];
	char reason[STLS_SCRIPT_REASON_MAX + 2];

	CHECK(stls__script_hdr_removable("User-Agent", 10));
	CHECK(stls__script_hdr_removable("X-Foo", 5));
	CHECK(!stls__script_hdr_removable("Via", 3));
	CHECK(!stls__script_hdr_removable("i", 1));
	CHECK(!stls__script_hdr_removable("X Foo", 5));
	memset(name, 'a', sizeof(name));
	CHECK(stls__script_hdr_removable(name, SCRIPT_NAME_MAX));
	CHECK(!stls__script_hdr_removable(name, SCRIPT_NAME_MAX + 1));

	CHECK(stls__script_reason_ok("No certificate", 14));
	CHECK(stls__script_reason_ok("Z\xc3\xbcrich\tok", 10));
	CHECK(!stls__script_reason_ok("bad\r\n", 5));
	CHECK(!stls__script_reason_ok("\xc3", 1)); /* cut UTF-8 */
	CHECK(!stls__script_reason_ok("", 0));
	memset(reason, 'r', sizeof(reason));
	CHECK(stls__script_reason_ok(reason, STLS_SCRIPT_REASON_MAX));
	CHECK(!stls__script_reason_ok(reason, STLS_SCRIPT_REASON_MAX + 1));

	CHECK(stls__script_xavp_ok("carrier1", 8));
	CHECK(!stls__script_xavp_ok("two words", 9));
	CHECK(!stls__script_xavp_ok("", 0));
	CHECK(!stls__script_xavp_ok("\x7f", 1));
}

TEST(ksr_hdr_reads_the_request)
{
	struct sfx x;

	CHECK_STR_EQ(sfx_eval(&x, "KSR.hdr.get('user-agent')", NULL),
		     "test UA");
	sfx_fini(&x);
	/* A folded value reads as one line; the compact form matches. */
	CHECK_STR_EQ(sfx_eval(&x, "KSR.hdr.get('X-Folded')", NULL),
		     "one two");
	sfx_fini(&x);
	CHECK_STR_EQ(sfx_eval(&x, "KSR.hdr.get_idx('Subject', 1)", NULL),
		     "second");
	sfx_fini(&x);
	CHECK_STR_EQ(sfx_eval(&x, "KSR.hdr.get_idx('Subject', -1) .. "
			      "KSR.hdr.get_idx('Subject', 0)", NULL),
		     "secondfirst");
	sfx_fini(&x);
	CHECK_STR_EQ(sfx_eval(&x, "KSR.hdr.get_idx('Subject', 2)", NULL),
		     "nil");
	sfx_fini(&x);
	CHECK_STR_EQ(sfx_eval(&x, "KSR.hdr.is_present('X-None') .. "
			      "KSR.hdr.is_present('CSeq')", NULL), "-11");
	sfx_fini(&x);
	CHECK_STR_HAS(sfx_eval(&x, "KSR.hdr.get()", NULL),
		      "t.lua:2: bad argument #1 to 'get' (string expected, "
		      "got no value)");
	sfx_fini(&x);
}

TEST(ksr_hdr_edits_reach_the_verdict)
{
	struct sfx x;

	sfx_init(&x, SFX_HOOK("assert(KSR.hdr.append('X-A: 1') == 1)\n"
			      "assert(KSR.hdr.append('X-B: 2\\r\\n') == 1)\n"
			      "assert(KSR.hdr.append('Via: x') == -1)\n"
			      "assert(KSR.hdr.append('X-C: a\\r\\nVia: x')"
			      " == -1)\n"
			      "assert(KSR.hdr.remove('User-Agent') == 1)\n"
			      "assert(KSR.hdr.remove('s') == 1)\n"
			      "assert(KSR.hdr.remove('X-None') == -1)\n"
			      "assert(KSR.hdr.remove('CSeq') == -1)\n"
			      /* edits apply when it leaves */
			      "assert(KSR.hdr.get('User-Agent') == 'test UA')"),
		 NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK(!x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_PASS);
	CHECK_EQ(x.v.hdrs_len, strlen("X-A: 1\r\nX-B: 2\r\n"));
	CHECK(memcmp(x.v.hdrs, "X-A: 1\r\nX-B: 2\r\n", x.v.hdrs_len) == 0);
	CHECK_EQ(x.v.n_remove, 2);
	CHECK_STR_EQ(x.v.remove[0], "User-Agent");
	CHECK_STR_EQ(x.v.remove[1], "s");
	sfx_fini(&x);
}

TEST(ksr_hdr_caps_the_edits)
{
	struct sfx x;
	size_t n;

	sfx_init(&x, SFX_HOOK("local ok = 0\n"
			      "for i = 1, 70 do\n"
			      "  if KSR.hdr.append('X-Pad-' .. i .. ': ' .. "
			      "('p'):rep(60)) == 1 then ok = ok + 1 end\n"
			      "end\n"
			      "for i = 1, 20 do KSR.hdr.remove('Subject') end"),
		 NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK_EQ(x.v.action, STLS_SCRIPT_PASS);
	CHECK(x.v.hdrs_len <= STLS_SCRIPT_HDRS_MAX);
	CHECK(x.v.hdrs_len > STLS_SCRIPT_HDRS_MAX - 80);
	CHECK_EQ(x.v.n_remove, STLS_SCRIPT_REMOVE_MAX);
	n = x.v.hdrs_len;
	sfx_run(&x);
	CHECK_EQ(x.v.hdrs_len, n); /* reset per call, same edits again */
	sfx_fini(&x);
}
