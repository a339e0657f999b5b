/*
 * loadgen: a TLS load generator for SIP servers and TLS terminators.
 *
 * Modes: full (connect, handshake, one OPTIONS, its 200, close), handshake
 * (handshake, close), resume (handshakes offering the slot's last session:
 * TLS 1.3 tickets, or the TLS 1.2 session-id cache with tickets off; the hit
 * ratio comes from SSL_session_reused()), persistent (K connections carrying
 * pipelined OPTIONS at a fixed rate or at maximum) and idle (open N
 * connections, hold them, report how many stayed up).
 *
 * With --server-pid the server's CPU time (its whole process tree) is read
 * from /proc before and after the load, which gives server CPU per
 * operation: the number that matters on a shared, noisy machine, because it
 * does not depend on how much CPU the server was given. Idle mode also
 * reports the server's memory growth per connection (Pss, then VmRSS).
 *
 * Output: one human line, then one line starting "RESULT " of key=value
 * pairs for scripts. Every run is bounded by --duration and --count.
 */
#include "bench.h"
#include "lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

struct cli {
	struct lg_opts o;
	const char *target, *cafile, *sni, *cert, *key, *label;
	bool no_verify;
	pid_t server_pid;
	struct bench_proc mem0, mem1; /* idle: before and after opening */
	bool have_mem;
};

static const char *const mode_names[] = {
	[LG_FULL] = "full",
	[LG_HANDSHAKE] = "handshake",
	[LG_RESUME] = "resume",
	[LG_PERSISTENT] = "persistent",
	[LG_IDLE] = "idle",
};

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen -m MODE -t HOST:PORT [options]\n"
		"  -m, --mode M         full|handshake|resume|persistent|idle\n"
		"  -t, --target H:P     server (IPv4 or [IPv6] literal)\n"
		"  -V, --tls 1.2|1.3    protocol version (default 1.3)\n"
		"  -c, --concurrency N  connections at once (idle: to hold)\n"
		"  -d, --duration S     seconds of load (default 5)\n"
		"  -n, --count N        bound on operations (default 1e6)\n"
		"  -r, --rate R         persistent: requests/s, 0 = max;\n"
		"                       full, handshake, resume: operations\n"
		"                       started per second, at most\n"
		"  --source ADDR        bind the connections to this local\n"
		"                       address (IPv4 or IPv6 literal)\n"
		"  -p, --pipeline D     persistent: in flight per connection\n"
		"  -H, --hold S         idle: seconds to hold (default 5)\n"
		"  -P, --parallel N     idle: handshakes at once (default 32)\n"
		"  -T, --timeout S      per operation (default 5)\n"
		"  -u, --uri URI        Request-URI of the OPTIONS\n"
		"  --cafile F | --no-verify  server certificate check\n"
		"  --sni NAME           SNI (and the name to verify)\n"
		"  --cert F --key F     client certificate\n"
		"  --server-pid PID     server CPU and memory from /proc\n"
		"  --label STR          copied into the RESULT line\n"
		"  --echo-ok            an echoed request answers itself\n"
		"                       (servers with an echo handler)\n"
		"  --tickets            resume, TLS 1.2: with session tickets\n"
		"                       (default: the server's session ids)\n");
}

static int parse_mode(const char *s, enum lg_mode *m)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(mode_names); i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*m = (enum lg_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_target(const char *t, struct lg_opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST };
	char host[128], *colon;
	struct addrinfo *ai;

	if (strlen(t) >= sizeof(host)) {
		return -EINVAL;
	}
	strcpy(host, t[0] == '[' ? t + 1 : t);
	colon = strrchr(host, ':');
	if (!colon) {
		return -EINVAL;
	}
	*colon = '\0';
	if (colon > host && colon[-1] == ']') {
		colon[-1] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
		return -EINVAL;
	}
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

enum { OPT_CAFILE = 256, OPT_NOVERIFY, OPT_SNI, OPT_CERT, OPT_KEY, OPT_PID,
       OPT_LABEL, OPT_ECHO, OPT_TICKETS, OPT_SOURCE };

static const struct option long_opts[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "target", required_argument, NULL, 't' },
	{ "tls", required_argument, NULL, 'V' },
	{ "concurrency", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'n' },
	{ "rate", required_argument, NULL, 'r' },
	{ "pipeline", required_argument, NULL, 'p' },
	{ "hold", required_argument, NULL, 'H' },
	{ "parallel", required_argument, NULL, 'P' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "uri", required_argument, NULL, 'u' },
	{ "cafile", required_argument, NULL, OPT_CAFILE },
	{ "no-verify", no_argument, NULL, OPT_NOVERIFY },
	{ "sni", required_argument, NULL, OPT_SNI },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "server-pid", required_argument, NULL, OPT_PID },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "echo-ok", no_argument, NULL, OPT_ECHO },
	{ "tickets", no_argument, NULL, OPT_TICKETS },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* --source: an address literal, port 0 (the kernel picks). */
static int parse_source(const char *v, struct lg_opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST }, *ai;

	if (getaddrinfo(v, "0", &hints, &ai) != 0)
		return -EINVAL;
	memcpy(&o->src, ai->ai_addr, ai->ai_addrlen);
	o->src_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int parse_opt(struct cli *a, int ch, const char *v)
{
	struct lg_opts *o = &a->o;

	switch (ch) {
	case 'm': return parse_mode(v, &o->mode);
	case 't': a->target = v; return 0;
	case 'V':
		if (strcmp(v, "1.2") && strcmp(v, "1.3")) {
			return -EINVAL;
		}
		o->tls13 = strcmp(v, "1.3") == 0;
		return 0;
	case 'c': o->conc = atoi(v); return 0;
	case 'd': o->duration = atof(v); return 0;
	case 'n': o->count = atol(v); return 0;
	case 'r': o->rate = atof(v); return 0;
	case 'p': o->pipeline = atoi(v); return 0;
	case 'H': o->hold = atof(v); return 0;
	case 'P': o->parallel = atoi(v); return 0;
	case 'T': o->timeout = atof(v); return 0;
	case 'u': o->uri = v; return 0;
	case OPT_CAFILE: a->cafile = v; return 0;
	case OPT_NOVERIFY: a->no_verify = true; return 0;
	case OPT_SNI: a->sni = v; o->sni = v; return 0;
	case OPT_CERT: a->cert = v; return 0;
	case OPT_KEY: a->key = v; return 0;
	case OPT_PID: a->server_pid = (pid_t)atoi(v); return 0;
	case OPT_LABEL: a->label = v; return 0;
	case OPT_ECHO: o->echo_ok = true; return 0;
	case OPT_TICKETS: o->tickets12 = true; return 0;
	case OPT_SOURCE: return parse_source(v, o);
	default: return -EINVAL;
	}
}

static int parse_args(struct cli *a, int argc, char **argv)
{
	static char uri[160];
	struct lg_opts *o = &a->o;
	int ch;

	*o = (struct lg_opts){ .mode = LG_FULL, .tls13 = true, .conc = 4,
			       .parallel = 32, .duration = 5, .count = 1000000,
			       .pipeline = 1, .hold = 5, .timeout = 5 };
	while ((ch = getopt_long(argc, argv, "m:t:V:c:d:n:r:p:H:P:T:u:h",
				 long_opts, NULL)) != -1) {
		if (ch == 'h' || parse_opt(a, ch, optarg) < 0) {
			return -EINVAL;
		}
	}
	if (!a->target || parse_target(a->target, o) < 0 || o->conc < 1 ||
	    o->conc > 100000 || o->duration <= 0 || o->duration > 3600 ||
	    o->count < 1 || o->pipeline < 1 || o->pipeline > LG_MAX_PIPELINE ||
	    o->parallel < 1 || o->hold < 0 || o->hold > 3600 ||
	    o->timeout <= 0 || (a->key && !a->cert)) {
		return -EINVAL;
	}
	o->host = a->target;
	if (!o->uri) {
		snprintf(uri, sizeof(uri), "sip:ping@%s;transport=tls",
			 a->target);
		o->uri = uri;
	}
	return 0;
}

static int setup_verify(SSL_CTX *ctx, const struct cli *a)
{
	X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
	char host[128], *p;

	if (a->no_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	if (a->cafile ? !SSL_CTX_load_verify_locations(ctx, a->cafile, NULL)
		      : !SSL_CTX_set_default_verify_paths(ctx)) {
		return -ENOENT;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (a->sni) {
		return X509_VERIFY_PARAM_set1_host(vp, a->sni, 0) ? 0 : -EINVAL;
	}
	snprintf(host, sizeof(host), "%s", a->target[0] == '[' ?
		 a->target + 1 : a->target);
	p = strrchr(host, ':');
	if (p) {
		*p = '\0';
	}
	p = strchr(host, ']');
	if (p) {
		*p = '\0';
	}
	return X509_VERIFY_PARAM_set1_ip_asc(vp, host) ? 0 : -EINVAL;
}

static SSL_CTX *make_ctx(const struct cli *a)
{
	int v = a->o.tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, v) ||
	    !SSL_CTX_set_max_proto_version(ctx, v) || setup_verify(ctx, a)) {
		goto fail;
	}
	if (a->cert && (!SSL_CTX_use_certificate_chain_file(ctx, a->cert) ||
			!SSL_CTX_use_PrivateKey_file(ctx,
						     a->key ? a->key : a->cert,
						     SSL_FILETYPE_PEM))) {
		goto fail;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	if (a->o.mode == LG_RESUME) {
		if (!a->o.tls13 && !a->o.tickets12) {
			/* TLS 1.2: exercise the server's session-id cache. */
			SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		}
		if (lg_ctx_keep_sessions(ctx)) {
			goto fail;
		}
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	return ctx;
fail:
	ERR_print_errors_fp(stderr);
	SSL_CTX_free(ctx);
	return NULL;
}

static void sample_idle(void *arg, const struct lg_stats *st)
{
	struct cli *a = arg;

	(void)st;
	if (a->server_pid > 0 &&
	    bench_proc_sample(a->server_pid, &a->mem1) == 0) {
		a->have_mem = true;
	}
}

/* Replaces blanks so that a value stays one token of the RESULT line. */
static void tokenize(char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '=') {
			*s = '_';
		}
	}
}

static void report(struct cli *a, struct lg_stats *st, double cpu_s)
{
	double el = st->t_end - st->t_start, p50, p99, per_op = -1;
	double kb = -1, rss_kb = -1, hit = -1;
	const char *lbl = a->label ? a->label : "-";
	long up = st->up;
	char err[sizeof(st->last_err)];

	if (el <= 0) {
		el = 1e-9;
	}
	p50 = bench_percentile(st->lat, st->nlat, 50) * 1e3;
	p99 = bench_percentile(st->lat, st->nlat, 99) * 1e3;
	if (cpu_s >= 0 && st->ops > 0) {
		per_op = cpu_s / (double)st->ops * 1e6;
	}
	if (st->offered > 0) {
		hit = (double)st->reused / (double)st->offered;
	}
	if (a->have_mem && a->o.mode == LG_IDLE && st->ops > 0) {
		kb = (double)(a->mem1.pss_kb - a->mem0.pss_kb) /
		     (double)st->ops;
		rss_kb = (double)(a->mem1.rss_kb - a->mem0.rss_kb) /
			 (double)st->ops;
	}
	printf("loadgen %s %s TLS%s: %ld ops in %.2f s (%.1f/s), %ld errors, "
	       "p50 %.2f ms, p99 %.2f ms", lbl, mode_names[a->o.mode],
	       a->o.tls13 ? "1.3" : "1.2", st->ops, el, (double)st->ops / el,
	       st->errors, p50, p99);
	if (per_op >= 0) {
		printf(", server CPU %.3f s = %.1f us/op", cpu_s, per_op);
	}
	if (hit >= 0) {
		printf(", resumed %ld/%ld", st->reused, st->offered);
	}
	if (a->o.mode == LG_IDLE) {
		printf(", %ld of %d up after %.0f s hold", up, a->o.conc,
		       a->o.hold);
	}
	if (kb >= 0) {
		printf(", server %.1f KB/conn (Pss; RSS %.1f)", kb, rss_kb);
	}
	printf("%s%s\n", st->errors ? "; last error: " : "",
	       st->errors ? st->last_err : "");
	snprintf(err, sizeof(err), "%s", st->errors ? st->last_err : "-");
	tokenize(err);
	printf("RESULT label=%s mode=%s tls=%s conc=%d started=%ld ops=%ld "
	       "errors=%ld duration_s=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f "
	       "server_cpu_s=%.3f server_cpu_us_per_op=%.1f offered=%ld "
	       "reused=%ld hit_ratio=%.3f up=%ld server_kb_per_conn=%.2f "
	       "server_rss_kb_per_conn=%.2f last_error=%s\n",
	       lbl, mode_names[a->o.mode], a->o.tls13 ? "1.3" : "1.2",
	       a->o.conc, st->started, st->ops, st->errors, el,
	       (double)st->ops / el, p50, p99, cpu_s, per_op, st->offered,
	       st->reused, hit, up, kb, rss_kb, err);
}

int main(int argc, char **argv)
{
	struct bench_proc p0, p1;
	struct lg_stats st = { 0 };
	struct cli a = { 0 };
	double cpu_s = -1;
	SSL_CTX *ctx;
	int err;

	if (parse_args(&a, argc, argv) < 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ctx = make_ctx(&a);
	if (!ctx) {
		fprintf(stderr, "loadgen: cannot set up TLS (check --cafile, "
			"--cert, --key)\n");
		return 2;
	}
	st.cap_lat = (size_t)(a.o.count < 2000000 ? a.o.count : 2000000);
	if (a.o.mode == LG_IDLE) {
		st.cap_lat = (size_t)a.o.conc;
	}
	st.lat = calloc(st.cap_lat, sizeof(*st.lat));
	if (a.server_pid > 0 && bench_proc_sample(a.server_pid, &p0) < 0) {
		fprintf(stderr, "loadgen: no process %d\n", (int)a.server_pid);
		a.server_pid = 0;
	}
	a.mem0 = p0;
	err = st.lat ? lg_run(&a.o, ctx, &st, sample_idle, &a) : -ENOMEM;
	if (err) {
		fprintf(stderr, "loadgen: %s\n", strerror(-err));
	} else if (a.server_pid > 0 &&
		   bench_proc_sample(a.server_pid, &p1) == 0) {
		cpu_s = p1.cpu_s - p0.cpu_s;
	}
	if (!err) {
		report(&a, &st, cpu_s);
	}
	free(st.lat);
	SSL_CTX_free(ctx);
	if (err) {
		return 2;
	}
	return st.ops > 0 && st.errors == 0 ? 0 : 1;
}
