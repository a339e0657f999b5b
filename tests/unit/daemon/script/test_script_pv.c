/*
 * Unit tests for daemon/script/script_pv.c: KSR.pv.get answers every
 * $tls_* name of the library (lib/tls/facts_names.c) with the value the
 * library gives, from a real handshake (client alice with a certificate,
 * verified); every $tls name of the table in docs/facts.md is one of
 * them; the request and address variables; $xavp(<xavp_cfg>=>...) set
 * per request; $sndto(...) in the connection-out event; unknown names
 * raise errors.
 */
#include "lib/tls/tls_pair.h"
#include "script_fixture.h"

struct pfx {
	struct pair p;
	const struct stls_facts *f;
};

static void pfx_init(struct pfx *x)
{
	pair_mutual(&x->p, TLS1_3_VERSION);
	x->f = stls_conn_get_facts(x->p.s.conn);
}

/* As sfx_eval, with the TLS facts <f> on the request. */
static const char *eval_facts(struct sfx *x, const char *expr,
			      const struct stls_facts *f)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 SFX_HOOK("local ok, v = pcall(function() return %s end)\n"
			  "local s = ok and tostring(v) or "
			  "('error: ' .. tostring(v))\n"
			  "s = s:gsub('[%%c]', '?')\n"
			  "if #s == 0 then s = '<empty>' end\n"
			  "KSR.sl.send_reply(299, s:sub(1, 128))"),
		 expr);
	sfx_init(x, text, NULL);
	sfx_request(x, REQ_INVITE);
	x->req.facts = f;
	sfx_run(x);
	CHECK_EQ(x->v.code, 299);
	snprintf(x->out, sizeof(x->out), "%s", x->v.reason);
	return x->out;
}

/* What eval_facts shows for the library's value of <name>. */
static void expected(const struct stls_facts *f, const char *name,
		     char *out, size_t cap)
{
	char buf[16384];
	ssize_t n = stls_facts_get(f, name, 0, buf, sizeof(buf));
	size_t i;

	if (n < 0) {
		snprintf(out, cap, "nil");
		return;
	}
	if (n == 0) {
		snprintf(out, cap, "<empty>");
		return;
	}
	for (i = 0; i < (size_t)n; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	}
	snprintf(out, cap, "%.*s", n > 128 ? 128 : (int)n, buf);
}

TEST(every_tls_pv_gives_the_library_value)
{
	struct pfx p;
	struct sfx x;
	char expr[128], want[256];
	size_t i;

	pfx_init(&p);
	for (i = 0; stls_facts_pv_names[i]; i++) {
		const char *name = stls_facts_pv_names[i];

		snprintf(expr, sizeof(expr), "KSR.pv.get('$%s')", name);
		expected(p.f, name, want, sizeof(want));
		eval_facts(&x, expr, p.f);
		if (strcmp(x.out, want) != 0)
			test_fail(__FILE__, __LINE__, "$%s: hook %s, library "
				  "%s", name, x.out, want);
		sfx_fini(&x);
	}
	CHECK(i > 60);
	pair_fini(&p.p);
}

TEST(a_representative_set)
{
	static const struct {
		const char *expr, *want;
	} cases[] = {
		{ "KSR.pv.get('$tls_peer_subject_cn')", "alice" },
		{ "KSR.pv.get('$tls_peer_server_name')", "sip.example.test" },
		{ "KSR.pv.get('$tls_version')", "TLSv1.3" },
		{ "KSR.pv.get('$tls_peer_san_uri')", "sip:alice@example.test" },
		{ "KSR.pv.get('$tls_peer_san_uri[0]')",
		  "sip:alice@example.test" },
		{ "KSR.pv.get('$tls_peer_san_uri[1]')", "nil" },
		{ "math.type(KSR.pv.get('$tls_peer_verified'))", "integer" },
		{ "KSR.pv.get('$tls_peer_verified')", "1" },
		{ "KSR.pv.get('$tls_peer_san_count(URI)')", "1" },
		{ "math.type(KSR.pv.get('$tls_cipher_bits'))", "integer" },
		{ "KSR.pv.get('$tls_my_subject_cn')", "sip.example.test" },
		{ "KSR.pv.get('$tls_my_subject_country')", "DE" },
		{ "KSR.pv.get('$sel(@tls.peer.subject.cn)')", "alice" },
		{ "KSR.pv.get('$sel(@tls.peer.uri[0])')",
		  "sip:alice@example.test" },
		{ "KSR.tls.cget('peer.subject.cn')", "alice" },
		{ "KSR.tls.cget('@tls.my.subject.o')", "siptls test" },
		{ "KSR.tls.is_peer_verified()", "1" },
		{ "KSR.pv.get('$tls_peer_subject_uid')", "alice01" },
		{ "KSR.pv.get('$tls_peer_subject_locality')", "nil" },
		{ "KSR.pv.gete('$tls_peer_subject_locality')", "<empty>" },
		{ "KSR.pv.is_null('$tls_peer_subject_locality')", "true" },
	};
	struct pfx p;
	struct sfx x;
	size_t i;

	pfx_init(&p);
	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		eval_facts(&x, cases[i].expr, p.f);
		if (strcmp(x.out, cases[i].want) != 0)
			test_fail(__FILE__, __LINE__, "%s: %s, want %s",
				  cases[i].expr, x.out, cases[i].want);
		sfx_fini(&x);
	}
	pair_fini(&p.p);
}

static bool in_list(const char *name)
{
	size_t i;

	for (i = 0; stls_facts_pv_names[i]; i++) {
		if (strcmp(stls_facts_pv_names[i], name) == 0)
			return true;
	}
	return false;
}

/* Every `$tls...` of docs/facts.md's pseudo-variable table, and its
 * "my" twin where the row says "+ my", is a name KSR.pv.get knows. */
TEST(facts_md_table_is_covered)
{
	char path[PATH_MAX], line[2048], name[128];
	bool in_table = false;
	size_t seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/facts.md", STLS_SOURCE_DIR);
	f = fopen(path, "r");
	CHECK_NOT_NULL(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = line, *end;

		if (strncmp(line, "| seed name |", 13) == 0) {
			in_table = true;
			continue;
		}
		if (!in_table)
			continue;
		if (line[0] != '|')
			break;
		end = strchr(line + 1, '|'); /* the first column only */
		while ((p = strstr(p, "`$tls")) && end && p < end) {
			const char *e = strchr(p + 1, '`');
			size_t n = e ? (size_t)(e - p - 2) : 0;
			const char *peer;

			CHECK(e && n < sizeof(name));
			memcpy(name, p + 2, n);
			name[n] = '\0';
			if (!in_list(name))
				test_fail(__FILE__, __LINE__,
					  "docs/facts.md names $%s, the "
					  "library does not", name);
			seen++;
			peer = strstr(name, "_peer_");
			if (peer && strstr(line, "+ my")) {
				char my[160];

				snprintf(my, sizeof(my), "%.*s_my_%s",
					 (int)(peer - name), name, peer + 6);
				if (!in_list(my))
					test_fail(__FILE__, __LINE__,
						  "$%s missing", my);
			}
			p = e + 1;
		}
	}
	fclose(f);
	CHECK(seen >= 15);
}

TEST(request_variables)
{
	static const struct {
		const char *pv, *want;
	} cases[] = {
		{ "$rm", "INVITE" },
		{ "$ru", "sip:bob@example.test;transport=tls" },
		{ "$rU", "bob" },
		{ "$rd", "example.test" },
		{ "$rp", "nil" },
		{ "$rz", "sip" },
		{ "$fu", "sip:alice@example.test" },
		{ "$fU", "alice" },
		{ "$fd", "example.test" },
		{ "$ft", "a1" },
		{ "$fn", "\"Alice\"" },
		{ "$tu", "sip:bob@example.test" },
		{ "$tU", "bob" },
		{ "$tt", "nil" },
		{ "$ci", "c1@example.test" },
		{ "$cs", "7" },
		{ "$ua", "test UA" },
		{ "$si", "192.0.2.7" },
		{ "$sp", "40123" },
		{ "$Ri", "198.51.100.1" },
		{ "$Rp", "5061" },
		{ "$pr", "tls" },
		{ "$proto", "tls" },
		{ "$hdr(Subject)", "first" },
		{ "$hdr(X-None)", "nil" },
		{ "$sndto(ip)", "nil" },
		{ "$tls_peer_subject_cn", "nil" }, /* no facts: not TLS */
		{ "$xavp(tls=>server_name)", "nil" },
	};
	struct sfx x;
	char expr[128];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		snprintf(expr, sizeof(expr), "KSR.pv.get('%s')", cases[i].pv);
		sfx_eval(&x, expr, NULL);
		if (strcmp(x.out, cases[i].want) != 0)
			test_fail(__FILE__, __LINE__, "%s: %s, want %s",
				  cases[i].pv, x.out, cases[i].want);
		sfx_fini(&x);
	}
}

TEST(unknown_names_raise)
{
	static const char *const bad[] = {
		"$tls_bogus", "$nope", "$sndto(host)", "$tls_peer_subject_xx",
		"$xavp(other=>server_name)",
	};
	struct sfx x;
	char expr[128];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(bad); i++) {
		snprintf(expr, sizeof(expr), "KSR.pv.get('%s')", bad[i]);
		CHECK_STR_HAS(sfx_eval(&x, expr, NULL), "error: ");
		CHECK_STR_HAS(x.out, "unknown");
		sfx_fini(&x);
	}
	CHECK_STR_HAS(sfx_eval(&x, "KSR.pv.sets('$ru', 'sip:x@y')", NULL),
		      "cannot be set");
	sfx_fini(&x);
}

TEST(xavp_cfg_set_per_request)
{
	struct sfx x;

	sfx_init(&x, SFX_HOOK(
		"assert(KSR.pv.sets('$xavp(tls=>server_name)', "
		"'carrier.example.net') == 1)\n"
		"assert(KSR.pv.sets('$xavp(tls=>server_id)', 'carrier1') == 1)\n"
		"assert(KSR.pv.sets('$xavp(tls=>server_id)', 'two words') == -1)\n"
		"assert(KSR.pv.get('$xavp(tls=>server_id)') == 'carrier1')"),
		 NULL);
	sfx_request(&x, REQ_INVITE);
	sfx_run(&x);
	CHECK(!x.v.failed);
	CHECK_EQ(x.v.action, STLS_SCRIPT_PASS);
	CHECK_STR_EQ(x.v.server_name, "carrier.example.net");
	CHECK_STR_EQ(x.v.server_id, "carrier1");
	sfx_fini(&x);
}

TEST(connection_out_variables)
{
	struct sfx x;
	struct stls_addr a;
	struct stls_script_out_ev ev = { .dst = &a, .server_name = "peer.test",
					 .server_id = "carrier2" };

	CHECK_OK(stls_addr_parse("[2001:db8::5]:5062", true, &a));
	sfx_init(&x, "function ksr_request_route() end\n"
		     "function ksr_tls_event(ev)\n"
		     "  if KSR.pv.get('$sndto(ip)') == '2001:db8::5' and\n"
		     "     KSR.pv.get('$sndto(port)') == 5062 and\n"
		     "     KSR.pv.get('$sndto(proto)') == 'tls' and\n"
		     "     KSR.pv.get('$xavp(tls=>server_name)') == 'peer.test'"
		     " and\n"
		     "     KSR.pv.get('$xavp(tls=>server_id)') == 'carrier2' and\n"
		     "     KSR.pv.get('$rm') == nil and\n"
		     "     KSR.pv.sets('$xavp(tls=>server_id)', 'x') == -1 and\n"
		     "     KSR.pv.get('$tls_peer_subject_cn') == nil then\n"
		     "    KSR.drop()\n"
		     "  end\n"
		     "end\n", NULL);
	CHECK_EQ(stls_script_conn_out(x.s, 0, &ev), -EPERM);
	sfx_fini(&x);
}
