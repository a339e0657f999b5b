/*
 * Cost of the SIP hot path of one relayed transaction, without sockets or
 * TLS: a request from a TLS client (frame + parse + client-request
 * rewrite) and the backend's 200 to it (parse + backend-response rewrite,
 * flow token verified). Two samples: the INVITE of sip_samples.h with a
 * 200 carrying a Contact, and the OPTIONS that bench/loadgen sends with
 * the 200 that bench/echo_backend answers (the persistent relay benchmark
 * of docs/performance.md).
 *
 * Built with the benchmarks (bench/CMakeLists.txt, target sip_relay_cost);
 * measure on a release build:
 *
 *   cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
 *   cmake --build build-release --target sip_relay_cost
 *   build-release/bench/sip_relay_cost 200000      # ns per message
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
 *       build-release/bench/sip_relay_cost 1000 invite   # or: options
 *   callgrind_annotate --inclusive=yes /tmp/cg.out | head -40
 *
 * The second argument picks one sample (invite or options; default both).
 * Instructions per request + 200: the total of the callgrind run divided
 * by the loop count (the set-up before the loops is a few hundred
 * thousand instructions: use 1000 or more). Wall times on a shared
 * machine vary by tens of percent between runs; instruction counts do not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "stls/sip/framer.h"
#include "relay/sip_rewrite.h"
#include "lib/sip/sip_samples.h"

/* What bench/lg_sip.c sends (uri sip:relay@127.0.0.1, port 40000). */
#define LG_OPTIONS                                                     \
	"OPTIONS sip:relay@127.0.0.1 SIP/2.0\r\n"                      \
	"Via: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bK-lg17;rport\r\n" \
	"Max-Forwards: 70\r\n"                                         \
	"From: <sip:loadgen@bench.invalid>;tag=lg3\r\n"                \
	"To: <sip:relay@127.0.0.1>\r\n"                                \
	"Call-ID: lg17@bench.invalid\r\n"                              \
	"CSeq: 1 OPTIONS\r\n"                                          \
	"Content-Length: 0\r\n\r\n"

static const struct stls_relay_conf conf = {
	.inside_host = "192.0.2.1",
	.inside_port = 5060,
	.inside_tp = STLS_SIP_TP_UDP,
	.outside_host = "sip.example.net",
	.outside_port = 5061,
};

static struct stls_sip_msg msg;
static char out[8192];

struct sample {
	const char *name;
	const char *req;
	size_t req_len;
	char resp[8192];
	size_t resp_len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int client_request(struct stls_relay_ctx *ctx, const char *p,
			  size_t n, struct stls_relay_result *res)
{
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 0);
	stls_sip_framer_next(&fr, p, n, &f);
	if (f.kind != STLS_SIP_FRAME_MESSAGE ||
	    stls_sip_msg_parse(f.msg.p, f.msg.len, STLS_SIP_PARSE_STREAM,
			       &msg) ||
	    stls_relay_client_request(ctx, &msg, out, sizeof(out), res) ||
	    res->action != STLS_RELAY_FORWARD) {
		return -1;
	}
	return 0;
}

/* The INVITE's 200: our Via line, then SAMPLE_200 from the client's Via
 * on (To tag, Contact). */
static int invite_200(struct sample *s, const char *fwd)
{
	const char *v1 = strstr(fwd, "\r\n");
	const char *v2 = strstr(v1 + 2, "\r\n");
	int n = snprintf(s->resp, sizeof(s->resp), "SIP/2.0 200 OK%.*s%s",
			 (int)(v2 + 2 - v1), v1,
			 strstr(SAMPLE_200, "Via: SIP/2.0/TLS"));

	s->resp_len = n > 0 ? (size_t)n : 0;
	return n > 0 && (size_t)n < sizeof(s->resp) ? 0 : -1;
}

/* The 200 bench/echo_backend answers: Via, From, To (tag added),
 * Call-ID and CSeq lines of the request, Content-Length: 0. */
static int echo_200(struct sample *s, const char *fwd)
{
	static const char *const keep[] = { "Via:", "From:", "To:",
					    "Call-ID:", "CSeq:" };
	const char *l = strstr(fwd, "\r\n") + 2, *eol;
	size_t w = 0, i;

	w += (size_t)snprintf(s->resp, sizeof(s->resp), "SIP/2.0 200 OK\r\n");
	for (; (eol = strstr(l, "\r\n")) != NULL && eol != l; l = eol + 2) {
		for (i = 0; i < STLS_ARRAY_SIZE(keep); i++) {
			if (strncmp(l, keep[i], strlen(keep[i])) == 0) {
				break;
			}
		}
		if (i == STLS_ARRAY_SIZE(keep)) {
			continue;
		}
		w += (size_t)snprintf(s->resp + w, sizeof(s->resp) - w,
				      "%.*s%s\r\n", (int)(eol - l), l,
				      i == 2 ? ";tag=echo" : "");
	}
	w += (size_t)snprintf(s->resp + w, sizeof(s->resp) - w,
			      "Content-Length: 0\r\n\r\n");
	s->resp_len = w;
	return w < sizeof(s->resp) ? 0 : -1;
}

static int run(struct stls_relay_ctx *ctx, struct sample *s, long n)
{
	struct stls_relay_result res;
	double t0, t1, t2;
	long i;

	t0 = now();
	for (i = 0; i < n; i++) {
		if (client_request(ctx, s->req, s->req_len, &res)) {
			return 1;
		}
	}
	t1 = now();
	for (i = 0; i < n; i++) {
		if (stls_sip_msg_parse(s->resp, s->resp_len, 0, &msg) ||
		    stls_relay_backend_response(ctx, &msg, out, sizeof(out),
						&res) || !res.has_flow) {
			return 2;
		}
	}
	t2 = now();
	printf("%s frame+parse+rewrite: %.0f ns\n", s->name, (t1 - t0) / n);
	printf("%s 200 parse+rewrite+token verify: %.0f ns\n", s->name,
	       (t2 - t1) / n);
	return 0;
}

int main(int argc, char **argv)
{
	static const uint8_t key[STLS_FLOW_KEY_LEN] = { 1 };
	static const struct stls_relay_fact facts[] = {
		{ "Verified", "yes" }, { "Peer-Subject", "CN=alice" } };
	static struct sample samples[] = {
		{ "INVITE", SAMPLE_INVITE, sizeof(SAMPLE_INVITE) - 1, "", 0 },
		{ "OPTIONS", LG_OPTIONS, sizeof(LG_OPTIONS) - 1, "", 0 },
	};
	long n = argc > 1 ? atol(argv[1]) : 100000;
	const char *only = argc > 2 ? argv[2] : NULL;
	struct stls_flow_signer *signer;
	struct stls_flow flow = { 0, 42, 1 };
	char token[STLS_FLOW_TOKEN_LEN + 1];
	struct stls_relay_result res;
	struct stls_relay_ctx ctx = { 0 };
	struct stls_addr src;
	int err = 0;
	size_t i;

	if (n <= 0 || stls_flow_signer_new(key, &signer)) {
		return 1;
	}
	if (stls_flow_token_build(signer, &flow, token) ||
	    stls_addr_parse("203.0.113.5:40000", true, &src)) {
		err = 1;
		goto out;
	}
	ctx.conf = &conf;
	ctx.signer = signer;
	ctx.flow_token = token;
	ctx.src = &src;
	ctx.facts = facts;
	ctx.n_facts = 2;
	for (i = 0; i < STLS_ARRAY_SIZE(samples) && !err; i++) {
		struct sample *s = &samples[i];

		if (only && strcasecmp(only, s->name) != 0) {
			continue;
		}
		/* The backend's 200 is built from our forwarded request. */
		if (client_request(&ctx, s->req, s->req_len, &res)) {
			err = 1;
			break;
		}
		out[res.len] = '\0';
		err = (i == 0 ? invite_200(s, out) : echo_200(s, out)) ? 1 :
		      run(&ctx, s, n);
	}
out:
	stls_flow_signer_free(signer);
	return err;
}
