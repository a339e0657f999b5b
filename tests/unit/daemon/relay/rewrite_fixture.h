/* Shared relay fixture for the rewrite tests. */
#ifndef STLS_TEST_REWRITE_FIXTURE_H
#define STLS_TEST_REWRITE_FIXTURE_H

#include <stdio.h>

#include "relay/sip_rewrite.h"
#include "test.h"

static const uint8_t fx_key[STLS_FLOW_KEY_LEN] = { 42 };

static const struct stls_relay_conf fx_conf = {
	.inside_host = "192.0.2.1",
	.inside_port = 5060,
	.inside_tp = STLS_SIP_TP_UDP,
	.outside_host = "sip.example.net",
	.outside_port = 5061,
	.xavp_cfg = "tls",
	.server = "siptlsd",
};

struct fx {
	struct stls_flow_signer *signer;
	char token[STLS_FLOW_TOKEN_LEN + 1];
	struct stls_addr src;
	struct stls_relay_ctx ctx;
	struct stls_sip_msg msg, out_msg;
	struct stls_relay_result res;
	char out[8192];
};

static struct fx fx;

static void fx_init(void)
{
	struct stls_flow f = { 0, 42, 1 };

	memset(&fx.ctx, 0, sizeof(fx.ctx));
	CHECK_OK(stls_flow_signer_new(fx_key, &fx.signer));
	CHECK_OK(stls_flow_token_build(fx.signer, &f, fx.token));
	CHECK_OK(stls_addr_parse("203.0.113.5:40000", true, &fx.src));
	fx.ctx.conf = &fx_conf;
	fx.ctx.signer = fx.signer;
	fx.ctx.flow_token = fx.token;
	fx.ctx.src = &fx.src;
}

static void fx_fini(void)
{
	stls_flow_signer_free(fx.signer);
	fx.signer = NULL;
}

/* Replaces every "TOKEN" in <in> with the fixture's token. */
static const char *fx_tok(const char *in)
{
	static char buf[8192];
	const char *p;
	size_t n = 0;

	while ((p = strstr(in, "TOKEN")) != NULL) {
		memcpy(buf + n, in, (size_t)(p - in));
		n += (size_t)(p - in);
		memcpy(buf + n, fx.token, STLS_FLOW_TOKEN_LEN);
		n += STLS_FLOW_TOKEN_LEN;
		in = p + 5;
	}
	strcpy(buf + n, in);
	return buf;
}

static void fx_parse(const char *s)
{
	CHECK_OK(stls_sip_msg_parse(s, strlen(s), 0, &fx.msg));
}

/* The output must itself be a valid stream message. */
static void fx_check_out(void)
{
	fx.out[fx.res.len] = '\0';
	CHECK_OK(stls_sip_msg_parse(fx.out, fx.res.len, STLS_SIP_PARSE_STREAM,
				    &fx.out_msg));
	CHECK_OK(stls_sip_msg_validate(&fx.out_msg));
}

#endif
