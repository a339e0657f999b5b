/*
 * Unit tests for daemon/script/script_ksr.c: KSR.sl.send_reply,
 * KSR.drop, KSR.x.exit/drop, KSR.is_method, KSR.tls.* without TLS and the
 * log functions, each with the return value docs/scripting.md gives.
 */
#include "script_fixture.h"

#include "script/script_int.h"

static void run_hook(struct sfx *x, const char *text, const char *req)
{
	sfx_init(x, text, NULL);
	sfx_request(x, req);
	sfx_run(x);
}

TEST(send_reply_answers_without_relaying)
{
	struct sfx x;

	run_hook(&x, SFX_HOOK("assert(KSR.sl.send_reply(400, "
			      "'No certificate or verification failed') == 1)"),
		 REQ_INVITE);
	CHECK(!x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_REPLY);
	CHECK_EQ(x.v.code, 400);
	CHECK_STR_EQ(x.v.reason, "No certificate or verification failed");
	sfx_fini(&x);
	/* No reason: the standard phrase (NULL for the relay). */
	run_hook(&x, SFX_HOOK("KSR.sl.send_reply(403)"), REQ_INVITE);
	CHECK_EQ(x.v.code, 403);
	CHECK_NULL(x.v.reason);
	sfx_fini(&x);
	/* The seed's sl module name works too. */
	run_hook(&x, SFX_HOOK("KSR.sl.sl_send_reply(404, 'Nobody')"),
		 REQ_INVITE);
	CHECK_EQ(x.v.code, 404);
	sfx_fini(&x);
}

TEST(send_reply_refusals_return_minus_one)
{
	struct sfx x;

	run_hook(&x, SFX_HOOK("assert(KSR.sl.send_reply(99, 'x') == -1)\n"
			      "assert(KSR.sl.send_reply(700, 'x') == -1)\n"
			      "assert(KSR.sl.send_reply(400, 'a\\r\\nb') == -1)\n"
			      "assert(KSR.sl.send_reply(400, ('r'):rep(129))"
			      " == -1)\n"
			      "assert(KSR.sl.send_reply(486, 'Busy') == 1)\n"
			      /* a second reply is refused, the first stays */
			      "assert(KSR.sl.send_reply(500, 'Again') == -1)"),
		 REQ_INVITE);
	CHECK(!x.v.failed);
	CHECK_EQ(x.v.code, 486);
	CHECK_STR_EQ(x.v.reason, "Busy");
	sfx_fini(&x);
}

TEST(send_reply_never_answers_an_ack)
{
	static const char ack[] =
		"ACK sip:bob@example.test SIP/2.0\r\n"
		"Via: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bK-2\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:alice@example.test>;tag=a1\r\n"
		"To: <sip:bob@example.test>;tag=b1\r\n"
		"Call-ID: c1@example.test\r\n"
		"CSeq: 7 ACK\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sfx x;

	run_hook(&x, SFX_HOOK("assert(KSR.sl.send_reply(400, 'x') == -1)\n"
			      "assert(KSR.is_method('ACK'))"), ack);
	CHECK(!x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_PASS);
	sfx_fini(&x);
}

TEST(drop_and_exit)
{
	struct sfx x;

	/* KSR.drop() goes on; a reply after it is refused. */
	run_hook(&x, SFX_HOOK("assert(KSR.drop() == 1)\n"
			      "assert(KSR.sl.send_reply(400) == -1)"),
		 REQ_INVITE);
	CHECK(!x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_DROP);
	sfx_fini(&x);
	/* KSR.x.exit() ends the hook and keeps what it decided. */
	run_hook(&x, SFX_HOOK("KSR.hdr.append('X-Kept: 1')\n"
			      "KSR.x.exit()\n"
			      "KSR.sl.send_reply(500, 'not reached')"),
		 REQ_INVITE);
	CHECK(!x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_PASS);
	CHECK_EQ(x.v.hdrs_len, strlen("X-Kept: 1\r\n"));
	sfx_fini(&x);
	/* Inside a pcall too: exit is not an error to catch. */
	run_hook(&x, SFX_HOOK("KSR.sl.send_reply(401, 'Who')\n"
			      "pcall(KSR.x.exit)\n"),
		 REQ_INVITE);
	CHECK_EQ(x.v.code, 401);
	sfx_fini(&x);
	run_hook(&x, SFX_HOOK("KSR.x.drop()\nKSR.sl.send_reply(500)"),
		 REQ_INVITE);
	CHECK(!x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_DROP);
	sfx_fini(&x);
}

TEST(drop_while_loading_returns_minus_one)
{
	struct sfx x;

	sfx_init(&x, "assert(KSR.drop() == -1)\n" SFX_HOOK(""), NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK_EQ(x.v.action, STLS_SCRIPT_PASS);
	sfx_fini(&x);
}

TEST(is_method_and_tls_without_tls)
{
	struct sfx x;

	CHECK_STR_EQ(sfx_eval(&x, "tostring(KSR.is_method('INVITE')) .. "
			      "tostring(KSR.is_method('invite')) .. "
			      "tostring(KSR.is_method('BYE'))", NULL),
		     "truefalsefalse");
	sfx_fini(&x);
	/* No TLS facts (a tcp: or udp: request): not verified, no select. */
	CHECK_STR_EQ(sfx_eval(&x, "KSR.tls.is_peer_verified()", NULL), "-1");
	sfx_fini(&x);
	CHECK_STR_EQ(sfx_eval(&x, "KSR.tls.cget('peer.subject.cn')", NULL),
		     "nil");
	sfx_fini(&x);
}

TEST(log_functions)
{
	struct sfx x;

	CHECK_STR_EQ(sfx_eval(&x, "(KSR.info('i\\n') or 0) + "
			      "(KSR.dbg('d') or 0) + (KSR.notice('n') or 0) + "
			      "(KSR.warn('w') or 0) + (KSR.err('e') or 0) + "
			      "(KSR.crit('c') or 0) + "
			      "(KSR.log('err', 'l') or 0)", NULL), "0");
	sfx_fini(&x);
	CHECK_STR_HAS(sfx_eval(&x, "KSR.log('loud', 'x')", NULL),
		      "invalid option 'loud'");
	sfx_fini(&x);
	CHECK_STR_HAS(sfx_eval(&x, "KSR.info({})", NULL),
		      "string expected, got table");
	sfx_fini(&x);
}

TEST(escape_keeps_log_lines_one_line)
{
	char out[32] = "p: ";

	stls__script_escape(out, sizeof(out), "a\r\nb\0c", 6);
	CHECK_STR_EQ(out, "p: a\\x0d\\x0ab\\x00c");
	/* Cut, never overrun: 16 bytes with the NUL. */
	out[0] = '\0';
	stls__script_escape(out, 16, "0123456789abcdefgh", 18);
	CHECK(strlen(out) < 16);
	CHECK(strncmp(out, "0123456789", 10) == 0);
}
