/*
 * Unit tests for lib/conf/profile_conf.c: identity strings, the template,
 * duplicates, implicit defaults, modparam-mode defaults and copies.
 */
#include "lib/conf/conf_test_util.h"

static struct parsed R;

static void tls_cfg(const char *text)
{
	parse_text(&R, STLS__PARSE_TLSCFG, "tls.cfg", text);
	CHECK_EQ(R.diag.errors, 0);
}

TEST(names_and_headers_of_every_kind)
{
	char buf[128];
	struct stls_profile_conf *p;

	tls_cfg("[server:default]\n[client:default]\n[server:any]\n"
		"server_name = a.example\n[client:any]\n"
		"[server:10.0.0.1:5061]\n[server:[2001:db8::1]:5061]\n");
	p = R.profiles;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSs<default>");
	CHECK_STR_EQ(stls_profile_conf_header(p, buf, sizeof(buf)),
		     "[server:default]");
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSc<default>");
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSs<any:a.example>");
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSc<any:>");
	CHECK_STR_EQ(stls_profile_conf_header(p, buf, sizeof(buf)),
		     "[client:any]");
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSs<10.0.0.1:5061>");
	CHECK_STR_EQ(stls_profile_conf_header(p, buf, sizeof(buf)),
		     "[server:10.0.0.1:5061]");
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSs<2001:db8::1:5061>");
	CHECK_STR_EQ(stls_profile_conf_header(p, buf, sizeof(buf)),
		     "[server:[2001:db8::1]:5061]");
	parsed_fini(&R);
}

TEST(template_fills_server_and_client_differently)
{
	struct stls_profile_conf *s, *c;

	tls_cfg("[server:1.2.3.4:5061]\nverify_certificate = yes\n"
		"[client:default]\n");
	s = R.profiles;
	c = s->next;
	CHECK_OK(stls__profile_fill(s, "/etc/siptls"));
	CHECK_OK(stls__profile_fill(c, "/etc/siptls"));
	CHECK_EQ(s->method, STLS_METHOD_TLSV1_2_PLUS);
	CHECK_EQ(s->verify_depth, 9);
	CHECK_EQ(s->require_certificate, 0);
	CHECK_EQ(s->verify_client, STLS_VC_OFF);
	CHECK_EQ(s->server_name_mode, 0);
	CHECK_EQ(s->verify_wildcard, 0);
	CHECK_EQ(s->verify_server_name, 1); /* follows verify_certificate */
	CHECK_EQ(s->verify_ocsp, STLS_VOCSP_OFF);
	CHECK_EQ(s->crl_refresh, 0);
	CHECK_NULL(s->ocsp_stapling);
	CHECK_NULL(s->groups);
	CHECK_STR_EQ(s->certificate, "/etc/siptls/cert.pem");
	CHECK_STR_EQ(s->private_key, "/etc/siptls/cert.pem");
	CHECK_NULL(s->ca_list);
	CHECK_NULL(s->certificate2);
	CHECK_NULL(c->certificate);
	CHECK_NULL(c->private_key);
	CHECK_EQ(c->verify_server_name, 0);
	CHECK_EQ(c->method, STLS_METHOD_TLSV1_2_PLUS);
	/* Filling again changes nothing. */
	CHECK_OK(stls__profile_fill(s, "/other"));
	CHECK_STR_EQ(s->certificate, "/etc/siptls/cert.pem");
	parsed_fini(&R);
}

TEST(empty_string_suppresses_the_template)
{
	tls_cfg("[server:default]\ncertificate = \"\"\nprivate_key = \"\"\n"
		"verify_server_name = no\nverify_certificate = yes\n");
	CHECK_OK(stls__profile_fill(R.profiles, "/etc/siptls"));
	CHECK_STR_EQ(R.profiles->certificate, "");
	CHECK_STR_EQ(R.profiles->private_key, "");
	CHECK_EQ(R.profiles->verify_server_name, 0);
	parsed_fini(&R);
}

TEST(defaults_are_not_inherited_from_default_sections)
{
	tls_cfg("[server:default]\nverify_depth = 3\nca_list = ca.pem\n"
		"[server:1.2.3.4:5061]\n");
	CHECK_OK(stls__profile_fill(R.profiles->next, "/e"));
	CHECK_EQ(R.profiles->next->verify_depth, 9);
	CHECK_NULL(R.profiles->next->ca_list);
	parsed_fini(&R);
}

static int dups(const char *text)
{
	int n;

	tls_cfg(text);
	n = stls__profiles_check_dups(R.profiles, &R.diag);
	return n;
}

TEST(duplicates_are_reported_with_both_places)
{
	CHECK_EQ(dups("[server:default]\n[client:default]\n[server:def]\n"),
		 1);
	CHECK_DIAG(&R.diag, "tls.cfg:3: duplicate profile [server:default] "
			    "(first defined at tls.cfg:1)");
	parsed_fini(&R);

	CHECK_EQ(dups("[server:10.0.0.1:5061]\n\n[client:10.0.0.1:5061]\n"
		      "[server:10.0.0.1:5062]\n[server:10.0.0.1:5061]\n"),
		 1);
	CHECK_DIAG(&R.diag, "tls.cfg:5: duplicate profile "
			    "[server:10.0.0.1:5061] (first defined at "
			    "tls.cfg:1)");
	parsed_fini(&R);

	/* Different non-empty server names make them SNI variants. */
	CHECK_EQ(dups("[server:10.0.0.1:5061]\nserver_name = a.example\n"
		      "[server:10.0.0.1:5061]\nserver_name = b.example\n"),
		 0);
	parsed_fini(&R);
	CHECK_EQ(dups("[server:10.0.0.1:5061]\nserver_name = a.example\n"
		      "[server:10.0.0.1:5061]\nserver_name = A.Example\n"),
		 1);
	CHECK_DIAG(&R.diag, "tls.cfg:3: duplicate profile "
			    "[server:10.0.0.1:5061] with server_name "
			    "'A.Example' (first defined at tls.cfg:1)");
	parsed_fini(&R);
	CHECK_EQ(dups("[server:10.0.0.1:5061]\nserver_name = a.example\n"
		      "[server:10.0.0.1:5061]\nserver_name = \"\"\n"),
		 1);
	parsed_fini(&R);
}

TEST(any_profiles_need_a_server_name)
{
	CHECK_EQ(dups("[server:any]\nserver_name = a.example\n[client:any]\n"
		      "[server:any]\nserver_name = b.example\n"),
		 1);
	CHECK_DIAG(&R.diag, "tls.cfg:3: profile [client:any] has no "
			    "server_name (an 'any' profile is matched by SNI "
			    "only)");
	parsed_fini(&R);
	/* The last section is checked too (Kamailio never checks it). */
	CHECK_EQ(dups("[server:any]\nserver_name = a\n[server:any]\n"
		      "server_name = a\n"),
		 1);
	CHECK_DIAG(&R.diag, "tls.cfg:3: duplicate profile [server:any] with "
			    "server_name 'a' (first defined at tls.cfg:1)");
	parsed_fini(&R);
}

TEST(ipv4_and_ipv6_never_collide)
{
	CHECK_EQ(dups("[server:[::ffff:10.0.0.1]:5061]\n"
		      "[server:10.0.0.1:5061]\n[server:[::1]:5061]\n"
		      "[server:[0:0::1]:5061]\n"),
		 1);
	CHECK_DIAG(&R.diag, "tls.cfg:4: duplicate profile [server:[::1]:5061] "
			    "(first defined at tls.cfg:3)");
	parsed_fini(&R);
}

TEST(implicit_defaults_are_added_when_missing)
{
	struct stls_profile_conf *p;

	tls_cfg("[client:1.2.3.4:5061]\n");
	CHECK_OK(stls__profiles_add_implicit(&R.profiles, "/etc/siptls",
					     R.names));
	p = R.profiles->next;
	CHECK_NOT_NULL(p);
	CHECK(p->implicit);
	CHECK_EQ(p->role, STLS_ROLE_SERVER);
	CHECK_EQ(p->kind, STLS_PROF_DEFAULT);
	CHECK_STR_EQ(p->certificate, "/etc/siptls/cert.pem");
	CHECK_NULL(p->loc.file);
	p = p->next;
	CHECK(p->implicit);
	CHECK_EQ(p->role, STLS_ROLE_CLIENT);
	CHECK_NULL(p->certificate);
	CHECK_NULL(p->next);
	parsed_fini(&R);

	tls_cfg("[client:default]\n[server:default]\n");
	CHECK_OK(stls__profiles_add_implicit(&R.profiles, "/e", R.names));
	CHECK_NULL(R.profiles->next->next);
	parsed_fini(&R);
}

TEST(modparam_mode_builds_both_defaults_from_the_parameters)
{
	struct stls_settings s;
	struct stls_profile_conf *list = NULL;
	struct stls__names *n = stls__names_new();
	char err[128];

	CHECK_OK(stls_settings_init(&s));
	CHECK_OK(stls_settings_set_str(&s, stls_setting_find("tls_method"),
				       "TLSv1.3", NULL, err, sizeof(err)));
	CHECK_OK(stls_settings_set_str(&s, stls_setting_find("ca_list"),
				       "ca.pem", "/etc/s", err, sizeof(err)));
	CHECK_OK(stls_settings_set_str(&s,
				       stls_setting_find("verify_certificate"),
				       "1", NULL, err, sizeof(err)));
	CHECK_OK(stls_settings_set_str(&s, stls_setting_find("server_name"),
				       "sip.example.com", NULL, err,
				       sizeof(err)));
	CHECK_OK(stls_settings_set_str(
		&s, stls_setting_find("private_key_password"), "pw", NULL, err,
		sizeof(err)));
	CHECK_OK(stls__profiles_from_settings(&s, "/etc/s", n, &list));
	CHECK_EQ(list->role, STLS_ROLE_SERVER);
	CHECK_EQ(list->next->role, STLS_ROLE_CLIENT);
	CHECK(list->implicit && list->next->implicit);
	CHECK_EQ(list->next->method, STLS_METHOD_TLSV1_3);
	CHECK_STR_EQ(list->next->ca_list, "/etc/s/ca.pem");
	CHECK_STR_EQ(list->next->certificate, "/etc/s/cert.pem");
	CHECK_STR_EQ(list->next->private_key_password, "pw");
	CHECK_STR_EQ(list->next->server_name, "sip.example.com");
	CHECK_EQ(list->next->verify_server_name, 1);
	CHECK_EQ(list->verify_depth, 9);
	CHECK_NULL(list->next->next);
	stls_profile_conf_list_free(list);
	stls__names_unref(n);
	stls_settings_fini(&s);
}

TEST(dup_copies_every_string)
{
	struct stls_profile_conf *c = NULL;

	tls_cfg("[server:1.2.3.4:5061]\ncertificate = c.pem\n"
		"private_key_password = pw\nserver_id = x\n");
	CHECK_OK(stls_profile_conf_dup(R.profiles, &c));
	CHECK(c->certificate != R.profiles->certificate);
	CHECK_STR_EQ(c->certificate, "/etc/x/c.pem");
	CHECK_STR_EQ(c->server_id, "x");
	CHECK_NULL(c->next);
	CHECK(stls_addr_eq(&c->addr, &R.profiles->addr));
	parsed_fini(&R); /* the copy keeps the file names alive */
	CHECK_STR_EQ(c->loc.file, "tls.cfg");
	stls_profile_conf_list_free(c);
}
