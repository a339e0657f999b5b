/*
 * Test fixture for the script room: a script written to a temporary
 * file, loaded for one worker (index 0, the test's own thread), and a
 * parsed, validated SIP request to show the hooks. Header-only (static
 * functions): every unit test is its own binary.
 *
 *	struct sfx x;
 *	sfx_init(&x, "function ksr_request_route() ... end", NULL);
 *	sfx_request(&x, REQ_INVITE);
 *	stls_script_request(x.s, 0, &x.req, &x.v);
 *	sfx_fini(&x);
 */
#ifndef STLS_TEST_SCRIPT_FIXTURE_H
#define STLS_TEST_SCRIPT_FIXTURE_H

#include "test.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script/script.h"
#include "stls/sip/msg.h"

#define SFX_UNUSED __attribute__((unused))

#define REQ_INVITE                                                        \
	"INVITE sip:bob@example.test;transport=tls SIP/2.0\r\n"           \
	"Via: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bK-1;rport\r\n"       \
	"Max-Forwards: 70\r\n"                                            \
	"From: \"Alice\" <sip:alice@example.test>;tag=a1\r\n"             \
	"To: <sip:bob@example.test>\r\n"                                  \
	"Call-ID: c1@example.test\r\n"                                    \
	"CSeq: 7 INVITE\r\n"                                              \
	"User-Agent: test UA\r\n"                                         \
	"Subject: first\r\n"                                              \
	"s: second\r\n"                                                   \
	"X-Folded: one\r\n two\r\n"                                       \
	"Content-Length: 0\r\n\r\n"

struct sfx {
	char dir[64];
	char path[PATH_MAX];
	struct stls_script_conf conf;
	struct stls_script *s;
	struct stls_diag diag;
	struct stls_sip_msg msg;
	char raw[4096];
	struct stls_addr src, local;
	struct stls_script_req req;
	struct stls_script_verdict v;
	char out[256];
};

static SFX_UNUSED void sfx_write(struct sfx *x, const char *text)
{
	FILE *f = fopen(x->path, "w");

	CHECK_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

/* Writes <text> as the script and fills x->conf (callbacks
 * ksr_request_route and ksr_tls_event, xavp_cfg "tls"). */
static SFX_UNUSED void sfx_prepare(struct sfx *x, const char *text)
{
	memset(x, 0, sizeof(*x));
	strcpy(x->dir, "/tmp/stls-script-XXXXXX");
	CHECK_NOT_NULL(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/t.lua", x->dir);
	sfx_write(x, text);
	x->conf.path = x->path;
	x->conf.request_callback = "ksr_request_route";
	x->conf.event_callback = "ksr_tls_event";
	x->conf.xavp_cfg = "tls";
	x->conf.instructions = 100000;
	x->conf.memory = 1 << 20;
	stls_diag_init(&x->diag);
}

/* Loads <text>; <conf_fn> may adjust x->conf first. Worker 0 started. */
static SFX_UNUSED void sfx_init(struct sfx *x, const char *text,
				void (*conf_fn)(struct stls_script_conf *))
{
	sfx_prepare(x, text);
	if (conf_fn)
		conf_fn(&x->conf);
	CHECK_OK(stls_script_new(&x->conf, 1, &x->diag, &x->s));
	CHECK_OK(stls_script_worker_start(x->s, 0));
}

static SFX_UNUSED void sfx_fini(struct sfx *x)
{
	char cmd[PATH_MAX + 16];

	stls_script_free(x->s);
	stls_diag_fini(&x->diag);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
	CHECK_EQ(system(cmd), 0);
}

/* Parses and validates <text> as the request the hooks see. */
static SFX_UNUSED void sfx_request(struct sfx *x, const char *text)
{
	size_t n = strlen(text);

	CHECK(n < sizeof(x->raw));
	memcpy(x->raw, text, n);
	CHECK_OK(stls_sip_msg_parse(x->raw, n, STLS_SIP_PARSE_STREAM,
				    &x->msg));
	CHECK_OK(stls_sip_msg_validate(&x->msg));
	CHECK_OK(stls_addr_parse("192.0.2.7:40123", true, &x->src));
	CHECK_OK(stls_addr_parse("198.51.100.1:5061", true, &x->local));
	x->req.msg = &x->msg;
	x->req.src = &x->src;
	x->req.local = &x->local;
	x->req.proto = "tls";
	x->req.facts = NULL;
}

/* Runs the request hook on the current request. */
static SFX_UNUSED void sfx_run(struct sfx *x)
{
	stls_script_request(x->s, 0, &x->req, &x->v);
}

/* A script whose request hook runs <body> (one chunk of Lua). */
#define SFX_HOOK(body) "function ksr_request_route()\n" body "\nend\n" \
		       "function ksr_tls_event(ev) end\n"

/*
 * The value of the Lua expression <expr> in the request hook (on
 * REQ_INVITE), as tostring() gives it, or
 * "error: <message>" when it raises. Fills x->out. <conf_fn> as in
 * sfx_init. The request hook answers 299 with the text as the reason:
 * what the test reads.
 */
static SFX_UNUSED const char *sfx_eval(struct sfx *x, const char *expr,
				       void (*conf_fn)(struct stls_script_conf *))
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "function ksr_request_route()\n"
		 "  local ok, v = pcall(function() return %s end)\n"
		 "  local s = ok and tostring(v) or ('error: ' .. tostring(v))\n"
		 "  s = s:gsub('[%%c]', '?')\n"
		 "  if #s == 0 then s = '<empty>' end\n"
		 "  KSR.sl.send_reply(299, s:sub(1, 128))\n"
		 "end\n"
		 "function ksr_tls_event(ev) end\n", expr);
	sfx_init(x, text, conf_fn);
	sfx_request(x, REQ_INVITE);
	sfx_run(x);
	CHECK_EQ(x->v.action, STLS_SCRIPT_REPLY);
	CHECK_EQ(x->v.code, 299);
	snprintf(x->out, sizeof(x->out), "%s",
		 x->v.reason ? x->v.reason : "");
	return x->out;
}

#endif
