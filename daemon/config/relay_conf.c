/*
 * The [relay] section: keyword table, application, and its generated
 * reference (docs/relay-config.md). Same shape as [core] (core_conf.c):
 * one row per key with name, kind, binding, range, default and doc; the
 * defaults go through the same parser as written values; errors read
 * "FILE:LINE: key: reason" and application goes on after one.
 */
#include "config/relay_conf.h"

#include "config/kwtab.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stls/log.h"

enum kw_kind {
	KW_INT,       /* decimal integer in [min, max] */
	KW_STR,       /* text; "none" unsets it when KW_NONE */
	KW_ENUM,      /* one of names[] */
	KW_FACTS,     /* list of fact names, "all" or "none" */
	KW_LISTENERS, /* "all", "none" or tls: listeners */
	KW_NETS,      /* CIDR list, repeatable */
	KW_REPLY,     /* CODE [REASON] */
};

#define KW_REPEAT STLS_KW_REPEAT
#define KW_NONE STLS_KW_NONE /* the value "none" means unset */

#define RS struct stls_relay_settings
#define KW_FIELD(f, ctype) \
	(offsetof(RS, f) + 0 * sizeof(_Generic(((RS *)0)->f, ctype: 1)))

static const char *const plain_names[] = { "tcp", "refuse", NULL };

/* Fact names, in the order of the STLS_RELAY_FACT_* bits. */
static const char *const fact_names[] = {
	"verified", "subject", "issuer", "san", "fingerprint", "sni",
	"version", "cipher", "serial", "validity", "subject_parts",
	"issuer_parts", "san_kinds", "status", "chain", "cipher_bits",
	"description", "resumed", "cert_version", "cert", NULL
};

static const struct stls_kw kws[] = {
	{ "facts", KW_FACTS, KW_FIELD(facts, unsigned), 0, 0, fact_names,
	  "none", 0,
	  "TLS facts of the client connection passed to the backend as "
	  "headers (docs/facts.md has the seed name of each): `none`, "
	  "`all` (every one but `cert`), or a comma list of `verified` "
	  "(<prefix>Verified: yes|no), `subject` (Peer-Subject), "
	  "`subject_parts` (Peer-Subject-CN, -O, -OU, -C, -ST, -L, -UID), "
	  "`issuer` (Peer-Issuer), `issuer_parts` (Peer-Issuer-CN, -O, "
	  "-OU, -C, -ST, -L), `san` (Peer-SAN: `DNS:a, URI:b, IP:c, "
	  "email:d`), `san_kinds` (Peer-SAN-DNS, -URI, -IP, -Email), "
	  "`serial` (Peer-Serial, decimal), `validity` (Peer-Not-Before, "
	  "Peer-Not-After), `cert_version` (Peer-Cert-Version), `status` "
	  "(Peer-Revoked, Peer-Expired, Peer-Self-Signed: yes|no), `chain` "
	  "(Peer-Chain-Issuer: the verified chain's anchor), `fingerprint` "
	  "(Peer-Fingerprint: SHA-256, `AB:CD:...`), `cert` (Peer-Cert: the "
	  "URL-encoded PEM), `sni` (SNI), `version` (Version), `cipher` "
	  "(Cipher), `cipher_bits` (Cipher-Bits), `description` "
	  "(Cipher-Description), `resumed` (Resumed: yes|no). A fact "
	  "without a value (no client certificate, no such component) "
	  "sends no header. Headers with the prefix sent by clients are "
	  "always removed first." },
	{ "facts_prefix", KW_STR, KW_FIELD(facts_prefix, char *), 1, 32, NULL,
	  "X-TLS-", 0,
	  "Name prefix of the facts headers. They go one way only: siptlsd "
	  "adds them to client requests towards the backend. Headers with "
	  "this prefix are removed from everything else siptlsd relays: "
	  "client requests and responses (spoofed facts), and every request "
	  "and response it sends to a phone or an outbound peer (the "
	  "caller's facts never reach the callee)." },
	{ "verified_only", KW_LISTENERS, KW_FIELD(verified_only, bool *), 0,
	  0, NULL, "none", 0,
	  "The seed's `is_peer_verified()` as a policy: requests arriving on "
	  "these tls: listeners over a connection whose client certificate "
	  "was not verified are refused with `unverified_reply`. `none`, "
	  "`all` (every tls: listener), or a comma list of listeners as "
	  "written in `[core] listen`, e.g. `tls:0.0.0.0:5061`." },
	{ "unverified_reply", KW_REPLY, KW_FIELD(unverified_code, int), 300,
	  699, NULL, "403", 0,
	  "Status code (300-699) and optional reason phrase sent by "
	  "`verified_only`. A reason has spaces, so quote the value: "
	  "`unverified_reply = \"403 Certificate Required\"`." },
	{ "options_reply", KW_INT, KW_FIELD(options_reply, int), 0, 1, NULL,
	  "1", 0,
	  "1: answer OPTIONS whose Request-URI is siptlsd itself (no user "
	  "part, one of the listener addresses) with 200, without the "
	  "backend. 0: relay them." },
	{ "server_header", KW_STR, KW_FIELD(server_header, char *), 1, 128,
	  NULL, "siptlsd", KW_NONE,
	  "Server header of the replies siptlsd builds itself; `none`: no "
	  "header." },
	{ "plain_targets", KW_ENUM, KW_FIELD(plain_targets, int), 0, 0,
	  plain_names, "tcp", 0,
	  "Backend requests for a target without TLS (`sip:` without "
	  "`transport=tls`): `tcp` opens a plain TCP connection, `refuse` "
	  "answers 503." },
	{ "connection_out_deny", KW_NETS, KW_FIELD(deny, struct stls_net
						       *),
	  0, 0, NULL, NULL, KW_REPEAT,
	  "The seed's `event_route[tls:connection-out]` as rules: outbound "
	  "connections to these networks are refused (503 to the backend) "
	  "and counted (`out_denied`). A comma list of addresses or CIDR "
	  "networks, IPv4 or IPv6, quoted when it has spaces: "
	  "`connection_out_deny = \"10.0.0.0/8, 192.168.0.0/16, "
	  "fd00::/8\"`. Repeatable." },
	{ "connection_out_allow", KW_NETS,
	  KW_FIELD(allow, struct stls_net *), 0, 0, NULL, NULL,
	  KW_REPEAT,
	  "When set, outbound connections may only go to these networks "
	  "(deny rules still apply first). Same syntax as "
	  "`connection_out_deny`." },
	{ "out_queue_max", KW_INT, KW_FIELD(out_queue_max, int), 1, 10000,
	  NULL, "64", 0,
	  "Requests queued per destination while its outbound connection "
	  "is being opened; more get 503 at once." },
	{ "flow_timer", KW_INT, KW_FIELD(flow_timer, int), 0, 86400, NULL,
	  "120", 0,
	  "RFC 5626 5.4: the `Flow-Timer` value (seconds) added to a 2xx "
	  "to a REGISTER relayed to a phone on a tls: or tcp: connection "
	  "that asked for outbound (`;ob` on its Route to siptlsd, or "
	  "`Supported: outbound` with a Contact `reg-id`); the phone then "
	  "sends its CRLF keep-alive at least that often. A registrar's "
	  "own Flow-Timer is kept. 0: never added. The default, 120, is "
	  "the RFC's own for connection-oriented flows, well under the "
	  "idle timeouts of NATs and firewalls for established TCP (RFC "
	  "5382 asks for at least 2 h 4 min; deployed boxes often close "
	  "after 5 to 15 minutes) and under `connection_timeout` (600), "
	  "so an idle registered phone keeps its flow alive." },
	{ "inside_peers", KW_INT, KW_FIELD(inside_peers, int), 0, 1, NULL,
	  "1", 0,
	  "1: the udp: inside socket also takes in-dialog requests from "
	  "other hosts than the backend that name one of siptlsd's flows in "
	  "their Route (or Request-URI): a phone the backend serves sends "
	  "them there when the backend does not record-route, following "
	  "the Record-Route entry siptlsd put in the dialog. Nothing else "
	  "from such a host is relayed (403, or dropped, counted as "
	  "`route_refused` or `bad_messages`); the answer goes back to it "
	  "from the inside socket. 0: only the backend may use the inside "
	  "socket." },
	{ "inside_host", KW_STR, KW_FIELD(inside_host, char *), 1, 63, NULL,
	  NULL, 0,
	  "Host written in the Via, Record-Route and Path entries towards "
	  "the backend. Default: the IP of `[core] backend_source`, else "
	  "the local address the kernel routes to the backend from." },
	{ "outbound_keepalive", KW_INT, KW_FIELD(outbound_keepalive, int), 0,
	  3600, NULL, "0", 0,
	  "RFC 5626 section 4.4.1 keep-alive on the connections siptlsd "
	  "opens itself (TLS and TCP towards carriers and peers): a CRLF "
	  "CRLF ping every this many seconds (each interval drawn between "
	  "80% and 100% of it, as the RFC asks), answered by a CRLF pong. "
	  "0: off. A connection whose peer does not answer within "
	  "`outbound_keepalive_timeout` is closed and counted "
	  "(`out_keepalive_failed`). Inbound pings are always answered." },
	{ "outbound_keepalive_timeout", KW_INT,
	  KW_FIELD(outbound_keepalive_timeout, int), 1, 600, NULL, "10", 0,
	  "Seconds to wait for the pong of an `outbound_keepalive` ping "
	  "(RFC 5626 section 4.4.1 says 10) before the connection is "
	  "closed." },
};

static int parse_int(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return (!*s || errno || (*end && *end != ' ')) ? -EINVAL : 0;
}

/* Next comma- or blank-separated item of *s into buf; false at the end. */
static bool next_item(const char **s, char *buf, size_t cap)
{
	size_t n;

	*s += strspn(*s, " \t,");
	n = strcspn(*s, " \t,");
	if (!n)
		return false;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, *s, n);
	buf[n] = '\0';
	*s += strcspn(*s, " \t,");
	return true;
}

static int set_facts(const char *v, unsigned *dst, const char **why)
{
	char item[32];
	unsigned bits = 0, i;

	while (next_item(&v, item, sizeof(item))) {
		if (strcasecmp(item, "none") == 0)
			continue;
		if (strcasecmp(item, "all") == 0) {
			bits |= STLS_RELAY_FACTS_ALL;
			continue;
		}
		for (i = 0; fact_names[i]; i++) {
			if (strcasecmp(item, fact_names[i]) == 0)
				break;
		}
		if (!fact_names[i]) {
			*why = "unknown fact (see docs/relay-config.md)";
			return -EINVAL;
		}
		bits |= 1u << i;
	}
	*dst = bits;
	return 0;
}

static int set_listeners(const char *v, const struct stls_core_conf *core,
			 struct stls_relay_settings *s, const char **why)
{
	struct stls_listen_conf l;
	char item[96];
	size_t i;

	memset(s->verified_only, 0, s->n_listen * sizeof(bool));
	while (next_item(&v, item, sizeof(item))) {
		bool found = false, all = strcasecmp(item, "all") == 0;

		if (strcasecmp(item, "none") == 0)
			continue;
		if (!all && stls_core_parse_listen(item, &l, why) != 0)
			return -EINVAL;
		if (!all)
			free(l.advertise_host);
		for (i = 0; i < s->n_listen; i++) {
			const struct stls_listen_conf *c = &core->listen[i];

			if (c->proto == STLS_PROTO_TLS &&
			    (all || (l.proto == c->proto &&
				     stls_addr_eq(&l.addr, &c->addr)))) {
				s->verified_only[i] = found = true;
			}
		}
		if (!found && !all) {
			*why = "no such tls: listener in [core] listen";
			return -EINVAL;
		}
	}
	return 0;
}

static int set_reply(const char *v, struct stls_relay_settings *s,
		     const struct stls_kw *k, const char **why)
{
	const char *sp = strchr(v, ' ');
	long code;

	if (parse_int(v, &code) || code < k->min || code > k->max) {
		*why = "expected a status code 300-699 and an optional reason";
		return -EINVAL;
	}
	s->unverified_code = (int)code;
	free(s->unverified_reason);
	s->unverified_reason = NULL;
	if (sp && sp[strspn(sp, " ")]) {
		s->unverified_reason = strdup(sp + strspn(sp, " "));
		if (!s->unverified_reason)
			return -ENOMEM;
	}
	return 0;
}

static int set_value(const struct stls_kw *k, const char *v,
		     const struct stls_loc *loc, void *obj, const void *ctx,
		     const char **why)
{
	const struct stls_core_conf *core = ctx;
	struct stls_relay_settings *s = obj;
	char *base = (char *)s;
	char **sp;
	long x;
	int i;

	(void)loc;
	switch (k->kind) {
	case KW_INT:
		if (parse_int(v, &x) || x < k->min || x > k->max) {
			*why = "expected an integer in range";
			return -EINVAL;
		}
		*(int *)(base + k->off) = (int)x;
		return 0;
	case KW_ENUM:
		for (i = 0; k->names[i]; i++) {
			if (strcasecmp(v, k->names[i]) == 0) {
				*(int *)(base + k->off) = i;
				return 0;
			}
		}
		*why = "unknown value (see docs/relay-config.md)";
		return -EINVAL;
	case KW_STR:
		if (strlen(v) < (size_t)k->min || strlen(v) > (size_t)k->max ||
		    strpbrk(v, "\r\n")) {
			*why = "empty, too long or multi-line";
			return -EINVAL;
		}
		sp = (char **)(base + k->off);
		free(*sp);
		*sp = NULL;
		if ((k->flags & KW_NONE) && strcasecmp(v, "none") == 0)
			return 0;
		*sp = strdup(v);
		return *sp ? 0 : -ENOMEM;
	case KW_FACTS:
		return set_facts(v, &s->facts, why);
	case KW_LISTENERS:
		return set_listeners(v, core, s, why);
	case KW_NETS:
		return k->off == offsetof(RS, deny)
			       ? stls_nets_add(v, &s->deny, &s->n_deny, why)
			       : stls_nets_add(v, &s->allow, &s->n_allow, why);
	case KW_REPLY:
		return set_reply(v, s, k, why);
	}
	return -EINVAL;
}

static const char *const kind_text[] = {
	[KW_INT] = "integer", [KW_STR] = "text",
	[KW_ENUM] = "one of a list", [KW_FACTS] = "list of facts",
	[KW_LISTENERS] = "list of listeners",
	[KW_NETS] = "list of networks", [KW_REPLY] = "CODE [REASON]",
};

static void range_cell(FILE *f, const struct stls_kw *k)
{
	if (k->kind == KW_INT || k->kind == KW_REPLY)
		fprintf(f, "%ld..%ld", k->min, k->max);
	stls_kw_print_names(f, k->names);
}

static const struct stls_kw_table table = {
	.section = "relay",
	.kws = kws,
	.n = STLS_ARRAY_SIZE(kws),
	.set = set_value,
	.kind_text = kind_text,
	.range = range_cell,
};

static int apply_defaults(const struct stls_core_conf *core,
			  struct stls_relay_settings *s)
{
	s->n_listen = core->n_listen;
	s->verified_only = calloc(core->n_listen ? core->n_listen : 1,
				  sizeof(bool));
	if (!s->verified_only)
		return -ENOMEM;
	stls_kw_defaults(&table, s, core);
	return 0;
}

int stls_relay_settings_apply(const struct stls_section *sec,
			      const struct stls_core_conf *core,
			      struct stls_relay_settings *out,
			      struct stls_diag *diag)
{
	bool seen[STLS_ARRAY_SIZE(kws)] = { false };
	size_t errors = diag->errors;

	memset(out, 0, sizeof(*out));
	if (apply_defaults(core, out) != 0)
		return -ENOMEM;
	stls_kw_apply(&table, sec, out, core, seen, diag);
	return diag->errors > errors ? -EINVAL : 0;
}

void stls_relay_settings_fini(struct stls_relay_settings *s)
{
	if (!s)
		return;
	free(s->facts_prefix);
	free(s->verified_only);
	free(s->unverified_reason);
	free(s->server_header);
	free(s->deny);
	free(s->allow);
	free(s->inside_host);
	memset(s, 0, sizeof(*s));
}

int stls_relay_settings_write_doc(FILE *f)
{
	fprintf(f, "# `[relay]`: the SIP relay's settings\n\n"
		   "Generated from the keyword table in `daemon/config/relay_conf.c` "
		   "(`STLS_REGEN_DOCS=1 build/test_relay_conf` rewrites it; a "
		   "unit test checks that it is current). The section is "
		   "optional; unknown keys are errors. `[tls] xavp_cfg` "
		   "names the X-<N>-Server-Name / X-<N>-Server-Id headers the "
		   "backend may set (docs/deploy.md).\n\n"
		   "| key | type | default | range | |\n"
		   "|---|---|---|---|---|\n");
	return stls_kw_write_rows(f, &table);
}
