/*
 * Cost of the Lua hooks (docs/scripting.md) on the relay's hot path,
 * without sockets: server CPU per relayed transaction (a TLS client's
 * OPTIONS framed, parsed and rewritten for the backend, then the
 * backend's 200 parsed and rewritten back, as bench/sip_relay_cost.c)
 *
 *   - with no script,
 *   - with an empty request hook (function ksr_request_route() end),
 *   - with the example policy, etc/edge.lua's ksr_request_route: the
 *     verified check, the ACL by certificate CN/SAN, the tenant by SNI,
 *     a server_id and an X-Tenant header, applied by the rewrite,
 *
 * and per outbound TLS connection, the connection-out event (etc/edge.lua's
 * ksr_tls_event: $sndto(ip) compared, KSR.info logged) against an empty
 * one. The request hooks read TLS facts from a real TLS 1.3 handshake
 * (libsiptls over memory, client alice of the test PKI, SNI
 * sip.example.test), so every KSR.pv.get of the policy is answered as in
 * siptlsd.
 *
 *   bench/script_cost CERT_DIR etc/edge.lua [N] [REPS]
 *
 * CERT_DIR holds the test PKI (tests/certs/mkcerts.sh DIR). Each mode
 * runs N transactions, REPS times interleaved with the others; the
 * median of the thread CPU time per transaction is printed, as RESULT
 * lines and a table. bench/script_bench.sh runs it and the same three
 * configurations in a real siptlsd under loadgen.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/tls/tls_pair.h"
#include "relay/sip_rewrite.h"
#include "script/script.h"
#include "stls/log.h"
#include "stls/sip/framer.h"

/* tls_pair.h's test harness, for a benchmark: stop on the first
 * failure; certificates from the directory given. */
static const char *cert_dir;

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "script_cost: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

const char *test_cert_path(const char *name)
{
	static char paths[4][1200];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", cert_dir, name);
	return p;
}

/* The OPTIONS bench/loadgen sends, for the tenant's domain. */
#define REQ                                                             \
	"OPTIONS sip:relay@example.test SIP/2.0\r\n"                    \
	"Via: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bK-lg17;rport\r\n" \
	"Max-Forwards: 70\r\n"                                          \
	"From: <sip:loadgen@bench.invalid>;tag=lg3\r\n"                 \
	"To: <sip:relay@example.test>\r\n"                              \
	"Call-ID: lg17@bench.invalid\r\n"                               \
	"CSeq: 1 OPTIONS\r\n"                                           \
	"Content-Length: 0\r\n\r\n"

enum mode { M_NONE, M_EMPTY, M_EXAMPLE, M__COUNT };
static const char *const mode_names[] = { "no script", "empty hook",
					  "example policy" };

static const struct stls_relay_conf rconf = {
	.inside_host = "192.0.2.1",
	.inside_port = 5060,
	.inside_tp = STLS_SIP_TP_UDP,
	.outside_host = "sip.example.net",
	.outside_port = 5061,
	.xavp_cfg = "tls",
};

struct bench {
	struct stls_relay_ctx ctx;
	const struct stls_facts *facts;
	struct stls_addr src, local;
	struct stls_script *s[M__COUNT];
	struct stls_sip_msg msg;
	char out[8192];
	char resp[4096];
	size_t resp_len;
};

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One transaction in <m>: request in, hook, rewrite; 200 back. */
static void transaction(struct bench *b, enum mode m)
{
	struct stls_relay_ctx ctx = b->ctx;
	struct stls_script_verdict v;
	struct stls_relay_result res;
	struct stls_sip_framer fr;
	struct stls_sip_frame f;

	stls_sip_framer_init(&fr, 0);
	stls_sip_framer_next(&fr, REQ, sizeof(REQ) - 1, &f);
	if (f.kind != STLS_SIP_FRAME_MESSAGE ||
	    stls_sip_msg_parse(f.msg.p, f.msg.len, STLS_SIP_PARSE_STREAM,
			       &b->msg))
		test_fail(__FILE__, __LINE__, "parse");
	if (m != M_NONE) {
		struct stls_script_req req = {
			.msg = &b->msg, .src = &b->src, .local = &b->local,
			.proto = "tls", .facts = b->facts,
		};

		/* As relay_script.c: the hook sees validated requests. */
		if (stls_sip_msg_validate(&b->msg))
			test_fail(__FILE__, __LINE__, "validate");
		stls_script_request(b->s[m], 0, &req, &v);
		if (v.action != STLS_SCRIPT_PASS || v.failed)
			test_fail(__FILE__, __LINE__, "%s: verdict %d/%u",
				  mode_names[m], v.action, v.code);
		ctx.extra = stls_slice_make(v.hdrs, v.hdrs_len);
		ctx.strip = v.remove;
		ctx.n_strip = v.n_remove;
		ctx.server_name = v.server_name;
		ctx.server_id = v.server_id;
	}
	if (stls_relay_client_request(&ctx, &b->msg, b->out, sizeof(b->out),
				      &res) ||
	    res.action != STLS_RELAY_FORWARD)
		test_fail(__FILE__, __LINE__, "client request");
	if (m == M_EXAMPLE && !strstr(b->out, "X-tls-Server-Id: carrier1"))
		test_fail(__FILE__, __LINE__, "no server_id:\n%s", b->out);
	if (!b->resp_len)
		return;
	if (stls_sip_msg_parse(b->resp, b->resp_len, 0, &b->msg) ||
	    stls_relay_backend_response(&ctx, &b->msg, b->out,
					sizeof(b->out), &res) ||
	    !res.has_flow)
		test_fail(__FILE__, __LINE__, "response");
}

/* The 200 bench/echo_backend answers to the forwarded request. */
static void make_200(struct bench *b)
{
	static const char *const keep[] = { "Via:", "From:", "To:",
					    "Call-ID:", "CSeq:" };
	const char *l, *eol;
	size_t w, i;

	transaction(b, M_NONE);
	l = strstr(b->out, "\r\n") + 2;
	w = (size_t)snprintf(b->resp, sizeof(b->resp), "SIP/2.0 200 OK\r\n");
	for (; (eol = strstr(l, "\r\n")) != NULL && eol != l; l = eol + 2) {
		for (i = 0; i < STLS_ARRAY_SIZE(keep); i++) {
			if (strncmp(l, keep[i], strlen(keep[i])) == 0)
				break;
		}
		if (i < STLS_ARRAY_SIZE(keep))
			w += (size_t)snprintf(b->resp + w,
					      sizeof(b->resp) - w,
					      "%.*s%s\r\n", (int)(eol - l), l,
					      i == 2 ? ";tag=echo" : "");
	}
	w += (size_t)snprintf(b->resp + w, sizeof(b->resp) - w,
			      "Content-Length: 0\r\n\r\n");
	b->resp_len = w;
}

static struct stls_script *load(const char *path, const char *text)
{
	static int n;
	struct stls_script_conf sc = {
		.request_callback = "ksr_request_route",
		.event_callback = "ksr_tls_event",
		.xavp_cfg = "tls",
		/* The smallest budget allowed: the example fits in it. */
		.instructions = 1000,
		.memory = 8 << 20,
	};
	struct stls_script *s = NULL;
	struct stls_diag diag;
	char tmp[64];

	if (text) {
		FILE *f;

		snprintf(tmp, sizeof(tmp), "/tmp/stls-script-cost-%d-%d.lua",
			 (int)getpid(), n++);
		f = fopen(tmp, "w");
		if (!f)
			test_fail(__FILE__, __LINE__, "%s", tmp);
		fputs(text, f);
		fclose(f);
		path = tmp;
	}
	sc.path = path;
	stls_diag_init(&diag);
	if (stls_script_new(&sc, 1, &diag, &s) ||
	    stls_script_worker_start(s, 0)) {
		stls_diag_print(&diag, stderr);
		test_fail(__FILE__, __LINE__, "%s does not load", path);
	}
	stls_diag_fini(&diag);
	if (text)
		unlink(path);
	return s;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	static const uint8_t key[STLS_FLOW_KEY_LEN] = { 1 };
	static const char empty[] = "function ksr_request_route() end\n"
				    "function ksr_tls_event(ev) end\n";
	static struct bench b;
	long n = argc > 3 ? atol(argv[3]) : 100000;
	int reps = argc > 4 ? atoi(argv[4]) : 5, r, m;
	double t[M__COUNT][64], med[M__COUNT], ev[3][64], evm[3], t0;
	struct stls_flow_signer *signer;
	struct stls_flow flow = { 0, 42, 1 };
	char token[STLS_FLOW_TOKEN_LEN + 1];
	struct stls_addr dst;
	struct stls_script_out_ev oev = { .dst = &dst };
	struct pair p;
	long i;

	if (argc < 3 || n <= 0 || reps < 1 || reps > 64) {
		fprintf(stderr, "usage: script_cost CERT_DIR EDGE_LUA [N] "
				"[REPS<=64]\n");
		return 2;
	}
	cert_dir = argv[1];
	/* The example's connection-out KSR.info and the hooks run as in
	 * siptlsd at its default level (info); stderr is the caller's. */
	stls_log_set_level(STLS_L_INFO);

	/* Facts from a real handshake (test_script_pv.c does the same). */
	pair_mutual(&p, TLS1_3_VERSION);
	b.facts = stls_conn_get_facts(p.s.conn);
	if (!b.facts || !stls_facts_is_peer_verified(b.facts))
		test_fail(__FILE__, __LINE__, "handshake");

	if (stls_flow_signer_new(key, &signer) ||
	    stls_flow_token_build(signer, &flow, token) ||
	    stls_addr_parse("127.0.0.1:40000", true, &b.src) ||
	    stls_addr_parse("127.0.0.1:5061", true, &b.local) ||
	    stls_addr_parse("192.0.2.10:5061", true, &dst))
		test_fail(__FILE__, __LINE__, "set-up");
	b.ctx.conf = &rconf;
	b.ctx.signer = signer;
	b.ctx.flow_token = token;
	b.ctx.src = &b.src;
	b.s[M_EMPTY] = load(NULL, empty);
	b.s[M_EXAMPLE] = load(argv[2], NULL);
	make_200(&b);
	for (m = 0; m < M__COUNT; m++)
		transaction(&b, (enum mode)m); /* warm-up, checks */

	for (r = 0; r < reps; r++) {
		for (m = 0; m < M__COUNT; m++) {
			t0 = cpu_ns();
			for (i = 0; i < n; i++)
				transaction(&b, (enum mode)m);
			t[m][r] = (cpu_ns() - t0) / (double)n;
		}
		/* Empty event, the example, the example with the log at
		 * notice (its KSR.info not written). */
		for (m = 0; m < 3; m++) {
			struct stls_script *s = b.s[m ? M_EXAMPLE : M_EMPTY];

			stls_log_set_level(m == 2 ? STLS_L_NOTICE : STLS_L_INFO);
			t0 = cpu_ns();
			for (i = 0; i < n / 10; i++) {
				if (stls_script_conn_out(s, 0, &oev) != 0)
					test_fail(__FILE__, __LINE__, "drop");
			}
			ev[m][r] = (cpu_ns() - t0) / (double)(n / 10);
		}
	}
	for (m = 0; m < M__COUNT; m++) {
		med[m] = median(t[m], reps);
		printf("RESULT label=script_cost what=transaction mode=\"%s\" "
		       "ns=%.0f added_ns=%.0f\n", mode_names[m], med[m],
		       med[m] - med[M_NONE]);
	}
	for (m = 0; m < 3; m++) {
		static const char *const ev_names[] = {
			"empty event", "example event",
			"example event, log at notice" };

		evm[m] = median(ev[m], reps);
		printf("RESULT label=script_cost what=connection_out "
		       "mode=\"%s\" ns=%.0f\n", ev_names[m], evm[m]);
	}
	printf("\nserver CPU per relayed transaction (OPTIONS + 200, "
	       "in-process, median of %d x %ld):\n\n"
	       "| | ns per transaction | added by the hook |\n"
	       "|---|---|---|\n", reps, n);
	for (m = 0; m < M__COUNT; m++)
		printf("| %s | %.0f | %s%.0f |\n", mode_names[m], med[m],
		       m ? "+" : "", med[m] - med[M_NONE]);
	printf("\nconnection-out event per outbound TLS connection: empty "
	       "%.0f ns, example %.0f ns (%.0f ns without writing its "
	       "KSR.info line)\n", evm[0], evm[1], evm[2]);
	for (m = 1; m < M__COUNT; m++)
		stls_script_free(b.s[m]);
	stls_flow_signer_free(signer);
	pair_fini(&p);
	return 0;
}
