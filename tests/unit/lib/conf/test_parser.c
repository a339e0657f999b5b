/*
 * Unit tests for lib/conf/parser.c: headers of every shape, options,
 * sections of the main config, [tls] through the settings table, and the
 * error messages with their lines.
 */
#include "lib/conf/conf_test_util.h"

#include <arpa/inet.h>

#define MAIN STLS__PARSE_MAIN
#define TLSCFG STLS__PARSE_TLSCFG

static struct stls_profile_conf *nth(struct parsed *r, int n)
{
	struct stls_profile_conf *p = r->profiles;

	while (p && n-- > 0) {
		p = p->next;
	}
	CHECK_NOT_NULL(p);
	return p;
}

static int count(struct parsed *r)
{
	struct stls_profile_conf *p;
	int n = 0;

	for (p = r->profiles; p; p = p->next) {
		n++;
	}
	return n;
}

TEST(profile_types_and_targets_with_all_aliases)
{
	struct parsed r;
	char buf[64];

	parse_text(&r, TLSCFG, "tls.cfg",
		   "[server:default]\n[srv:def]\n[s:any]\n[client:all]\n"
		   "[cli:DEFAULT]\n[C:Any]\n[SERVER:10.0.0.1:5061]\n"
		   "[client:[2001:db8::1]:5061]\n[ server : 1.2.3.4 : 0 ]\n"
		   "[ client : [ ::1 ] : 5061 ]  # spaces everywhere\n");
	CHECK_EQ(r.diag.errors, 0);
	CHECK_EQ(count(&r), 10);
	CHECK_EQ(nth(&r, 0)->role, STLS_ROLE_SERVER);
	CHECK_EQ(nth(&r, 0)->kind, STLS_PROF_DEFAULT);
	CHECK_EQ(nth(&r, 1)->kind, STLS_PROF_DEFAULT);
	CHECK_EQ(nth(&r, 2)->kind, STLS_PROF_ANY);
	CHECK_EQ(nth(&r, 3)->role, STLS_ROLE_CLIENT);
	CHECK_EQ(nth(&r, 3)->kind, STLS_PROF_ANY);
	CHECK_EQ(nth(&r, 4)->kind, STLS_PROF_DEFAULT);
	CHECK_EQ(nth(&r, 5)->role, STLS_ROLE_CLIENT);
	CHECK_STR_EQ(stls_profile_conf_name(nth(&r, 6), buf, sizeof(buf)),
		     "TLSs<10.0.0.1:5061>");
	CHECK_STR_EQ(stls_profile_conf_name(nth(&r, 7), buf, sizeof(buf)),
		     "TLSc<2001:db8::1:5061>");
	CHECK_EQ(nth(&r, 7)->addr.family, AF_INET6);
	CHECK_EQ(nth(&r, 8)->addr.port, 0);
	CHECK_STR_EQ(stls_profile_conf_header(nth(&r, 9), buf, sizeof(buf)),
		     "[client:[::1]:5061]");
	CHECK_EQ(nth(&r, 9)->loc.line, 10);
	CHECK_STR_EQ(nth(&r, 9)->loc.file, "tls.cfg");
	parsed_fini(&r);
}

struct hdr_case {
	const char *text;
	const char *msg;
};

TEST(bad_headers_give_one_clear_error_each)
{
	static const struct hdr_case cases[] = {
		{ "[server:any:5061]", "t.cfg:1: 'any' takes no port" },
		{ "[server:default:5061]", "t.cfg:1: 'default' takes no port" },
		{ "[server:*]", "t.cfg:1: invalid IPv4 address '*'" },
		{ "[server:host.example:5061]",
		  "t.cfg:1: invalid IPv4 address 'host.example'" },
		{ "[server:1.2.3.256:5061]",
		  "t.cfg:1: invalid IPv4 address '1.2.3.256'" },
		{ "[server:1.2.3:5061]",
		  "t.cfg:1: invalid IPv4 address '1.2.3'" },
		{ "[server:1.2.3.4.5:5061]",
		  "t.cfg:1: invalid IPv4 address '1.2.3.4.5'" },
		{ "[server:1.2.3.4]",
		  "t.cfg:1: port number missing after '1.2.3.4'" },
		{ "[server:1.2.3.4:]", "t.cfg:1: invalid port number ''" },
		{ "[server:1.2.3.4:70000]",
		  "t.cfg:1: invalid port number '70000'" },
		{ "[server:1.2.3.4:50x]", "t.cfg:1: invalid port number '50x'" },
		{ "[server:[2001:db8::g]:5061]",
		  "t.cfg:1: invalid IPv6 address '2001:db8::g'" },
		{ "[server:[1.2.3.4]:5061]",
		  "t.cfg:1: invalid IPv6 address '1.2.3.4'" },
		{ "[server:[::1]]", "t.cfg:1: port number missing after '::1'" },
		{ "[server:[::1:5061]",
		  "t.cfg:1: closing ']' missing in section header" },
		{ "[server:default", "t.cfg:1: closing ']' missing in section "
				     "header" },
		{ "[server:default] x",
		  "t.cfg:1: end of line expected after section header, found "
		  "'x'" },
		{ "[server:]", "t.cfg:1: profile target missing (default, any, "
			       "IP:port)" },
		{ "[peer:default]", "t.cfg:1: invalid profile type 'peer' "
				    "(server or client expected)" },
		{ "[server]", "t.cfg:1: invalid profile header '[server]': "
			      "expected [server:...] or [client:...]" },
		{ "[tls]", "t.cfg:1: invalid profile header '[tls]': expected "
			   "[server:...] or [client:...]" },
		{ "[server:\"default\"]",
		  "t.cfg:1: unexpected string in section header" },
	};
	struct parsed r;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(cases); i++) {
		char text[128];

		snprintf(text, sizeof(text), "%s\nmethod = bogus\n",
			 cases[i].text);
		parse_text(&r, TLSCFG, "t.cfg", text);
		CHECK_DIAG(&r.diag, cases[i].msg);
		/* The options of a broken header are skipped silently. */
		CHECK_EQ(r.diag.errors, 1);
		CHECK_EQ(count(&r), 0);
		parsed_fini(&r);
	}
}

TEST(options_need_a_section_an_equal_sign_and_a_value)
{
	struct parsed r;

	parse_text(&r, TLSCFG, "t.cfg",
		   "method = TLSv1.2\n[server:default]\nverify_depth 3\n"
		   "verify_depth =\nverify_depth = # nothing\n"
		   "verify_depth = 3 4\nverify_depth = \"3\"x\n= 3\n"
		   "crl = a{b\nverify_depth = 5\n");
	CHECK_DIAG(&r.diag, "t.cfg:1: option 'method' before the first "
			    "section header");
	CHECK_DIAG(&r.diag, "t.cfg:3: '=' expected after 'verify_depth'");
	CHECK_DIAG(&r.diag, "t.cfg:4: verify_depth: option value missing");
	CHECK_DIAG(&r.diag, "t.cfg:5: verify_depth: option value missing");
	CHECK_DIAG(&r.diag, "t.cfg:6: verify_depth: end of line expected "
			    "after the value, found '4'");
	CHECK_DIAG(&r.diag, "t.cfg:7: verify_depth: end of line expected "
			    "after the value, found 'x'");
	CHECK_DIAG(&r.diag, "t.cfg:8: unexpected '=' at the start of a line");
	CHECK_DIAG(&r.diag, "t.cfg:9: invalid character 0x7b");
	CHECK_EQ(r.diag.errors, 8);
	CHECK_EQ(nth(&r, 0)->verify_depth, 5); /* parsing went on */
	parsed_fini(&r);
}

TEST(keys_are_case_insensitive_and_last_value_wins)
{
	struct parsed r;

	parse_text(&r, TLSCFG, "t.cfg",
		   "[server:default]\nMETHOD = tlsv1.3\nVerify_Depth = 4\n"
		   "verify_depth = 6\nCertificate = a.pem\n"
		   "certificate = b.pem\n");
	CHECK_EQ(r.diag.errors, 0);
	CHECK_EQ(nth(&r, 0)->method, STLS_METHOD_TLSV1_3);
	CHECK_EQ(nth(&r, 0)->verify_depth, 6);
	CHECK_STR_EQ(nth(&r, 0)->certificate, "/etc/x/b.pem");
	CHECK_EQ(nth(&r, 0)->field_loc[STLS_PF_VERIFY_DEPTH].line, 4);
	CHECK_EQ(nth(&r, 0)->field_loc[STLS_PF_CERTIFICATE].line, 6);
	CHECK_EQ(nth(&r, 0)->field_loc[STLS_PF_CRL].line, 0);
	parsed_fini(&r);
}

TEST(main_config_fills_tls_and_keeps_other_sections)
{
	struct parsed r;
	struct stls_kv *kv;

	parse_text(&r, MAIN, "main.conf",
		   "# siptls\n[core]\nlisten = tls:127.0.0.1:5061\n"
		   "listen = tls:[::1]:5061\nbackend = udp:127.0.0.1:5060\n"
		   "[TLS]\ntls_method = TLSv1.3+\nconnection_timeout = -1\n"
		   "Log = 5\nca_list = ca.pem\nconfig = tls.cfg\n"
		   "[Metrics]\nenabled = \"yes please\"\n"
		   "[server:default]\ncertificate = s.pem\n");
	CHECK_EQ(r.diag.errors, 0);
	CHECK_EQ(r.tls.tls_method, STLS_METHOD_TLSV1_3_PLUS);
	CHECK_EQ(r.tls.connection_timeout, -1);
	CHECK_EQ(r.tls.tls_log, 5);
	CHECK_STR_EQ(r.tls.ca_list, "/etc/x/ca.pem");
	CHECK_STR_EQ(r.tls.config, "/etc/x/tls.cfg");
	CHECK_NOT_NULL(r.sections);
	CHECK_STR_EQ(r.sections->name, "core");
	CHECK_EQ(r.sections->loc.line, 2);
	kv = r.sections->kvs;
	CHECK_STR_EQ(kv->key, "listen");
	CHECK_STR_EQ(kv->value, "tls:127.0.0.1:5061");
	CHECK_STR_EQ(kv->next->value, "tls:[::1]:5061");
	CHECK_STR_EQ(kv->next->next->key, "backend");
	CHECK_EQ(kv->next->next->loc.line, 5);
	CHECK_NULL(kv->next->next->next);
	CHECK_STR_EQ(r.sections->next->name, "metrics");
	CHECK_STR_EQ(r.sections->next->kvs->value, "yes please");
	CHECK_NULL(r.sections->next->next);
	CHECK_EQ(count(&r), 1);
	CHECK_EQ(r.tls_loc[0].line, 7); /* tls_method */
	parsed_fini(&r);
}

TEST(tls_section_errors_name_the_parameter)
{
	struct parsed r;

	parse_text(&r, MAIN, "m.conf",
		   "[tls]\nfoo = 1\nverify_depth = x\ntls_method = TLSv9\n"
		   "ssl_max_send_fragment = 100\nsend_timeout = 5\n"
		   "rand_engine = fastrand\ntls_disable_compression = 0\n"
		   "engine = pkcs11\nverify_client = maybe\n");
	CHECK_DIAG(&r.diag, "m.conf:2: unknown [tls] parameter 'foo'");
	CHECK_DIAG(&r.diag, "m.conf:3: verify_depth: invalid integer value "
			    "'x'");
	CHECK_DIAG(&r.diag, "m.conf:4: unsupported enum value 'TLSv9' for "
			    "tls_method");
	CHECK_DIAG(&r.diag, "m.conf:5: ssl_max_send_fragment: value 100 out "
			    "of range (-1 or 512..16384)");
	CHECK_DIAG(&r.diag, "m.conf:6: warning: send_timeout: obsolete, use "
			    "[core] send_timeout");
	CHECK_DIAG(&r.diag, "m.conf:10: unsupported enum value 'maybe' for "
			    "verify_client");
	CHECK_EQ(r.diag.errors, 5);
	/* send_timeout, rand_engine, tls_disable_compression; engine =
	 * pkcs11 works now and warns no more. */
	CHECK_EQ(r.diag.warnings, 3);
	parsed_fini(&r);
}

TEST(section_names_must_be_words)
{
	struct parsed r;

	parse_text(&r, MAIN, "m.conf", "[a-b]\nx = 1\n[]\n");
	CHECK_DIAG(&r.diag, "m.conf:1: invalid section name '[a-b]'");
	CHECK_DIAG(&r.diag, "m.conf:3: invalid section name '[]'");
	CHECK_EQ(r.diag.errors, 2);
	CHECK_NULL(r.sections);
	parsed_fini(&r);
}

TEST(sections_survive_across_buffers_as_in_directory_mode)
{
	struct parsed r;
	struct stls__parser p = { 0 };

	parse_text(&r, TLSCFG, "a.cfg", "[server:default]\n");
	p.mode = TLSCFG;
	p.base_dir = "/etc/x";
	p.names = r.names;
	p.diag = &r.diag;
	p.prof_tail = &r.profiles->next;
	p.cur_prof = r.profiles;
	CHECK_OK(stls__parse_buffer(&p, "b.cfg", "verify_depth = 2\n",
				    17));
	CHECK_EQ(r.profiles->verify_depth, 2);
	CHECK_STR_EQ(r.profiles->field_loc[STLS_PF_VERIFY_DEPTH].file,
		     "b.cfg");
	parsed_fini(&r);
}

TEST(empty_and_comment_only_input_is_fine)
{
	struct parsed r;

	parse_text(&r, TLSCFG, "t.cfg", "");
	CHECK_EQ(r.diag.n, 0);
	parsed_fini(&r);
	parse_text(&r, TLSCFG, "t.cfg", "# only\n\n   # comments\n  \t\n");
	CHECK_EQ(r.diag.n, 0);
	CHECK_NULL(r.profiles);
	parsed_fini(&r);
}
