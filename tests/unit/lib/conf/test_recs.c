/*
 * Unit tests for lib/conf/recs.c: profiles made from records give the same
 * profiles as the equivalent tls.cfg, every problem is reported at the
 * record's label, and the list is completed as a reload completes it.
 */
#include "lib/conf/conf_test_util.h"
#include "lib/conf/profile_eq.h"

#include <errno.h>

struct rec {
	const char *type, *name;
	const char *kv[16]; /* key, value, ..., NULL */
};

static void hdr(struct stls_conf_rec_hdr *h, const char *type,
		const char *name, int id)
{
	static char at[4][64], tat[4][128], nat[4][128];
	static int n;
	int i = n++ % 4;

	snprintf(at[i], sizeof(at[i]), "tlscfg id=%d", id);
	snprintf(tat[i], sizeof(tat[i]), "%s column=profile_type", at[i]);
	snprintf(nat[i], sizeof(nat[i]), "%s column=profile_name", at[i]);
	h->type = type;
	h->type_at = tat[i];
	h->name = name;
	h->name_at = nat[i];
	h->at = at[i];
}

/* Pushes every record and builds; returns build's result. */
static int build(const struct rec *recs, size_t n, const char *base,
		 struct stls_profile_conf **list, struct stls_diag *d)
{
	struct stls_conf_recs *r;
	struct stls_conf_rec_hdr h;
	char at[128];
	size_t i, k;
	int rc;

	CHECK_OK(stls_conf_recs_new(base, &r));
	for (i = 0; i < n; i++) {
		hdr(&h, recs[i].type, recs[i].name, (int)i + 1);
		if (stls_conf_recs_push(r, &h, d) == -ENOMEM) {
			CHECK(0);
		}
		for (k = 0; recs[i].kv[k]; k += 2) {
			snprintf(at, sizeof(at), "tlscfg id=%zu column=%s",
				 i + 1, recs[i].kv[k]);
			rc = stls_conf_recs_apply(r, recs[i].kv[k],
						  recs[i].kv[k + 1], at, d);
			CHECK(rc == 0 || rc == -EINVAL);
		}
	}
	rc = stls_conf_recs_build(r, NULL, list, d);
	stls_conf_recs_free(r);
	return rc;
}

static const char tls_cfg[] =
	"[server:default]\n"
	"method = TLSv1.3\n"
	"certificate = certs/s.pem\nprivate_key = /k/s.key\n"
	"verify_certificate = yes\nrequire_certificate = 1\n"
	"ca_list = ca.pem\nverify_depth = 3\n"
	"[server:10.0.0.1:5061]\n"
	"tls_method = TLSv1.2+\ncert_file = /c/a.pem\n"
	"server_name = sip.example.com\nserver_name_mode = 1\n"
	"cipher_list = ECDHE-ECDSA-AES128-GCM-SHA256\n"
	"[client:[2001:db8::1]:5061]\n"
	"verify_client = optional_no_ca\nserver_id = trunk-1\n"
	"cipher_suites = TLS_AES_128_GCM_SHA256\n"
	"[client:any]\nserver_name = carrier.example.net\n"
	"verify_server_name = off\nverify_wildcard = on\n";

static const struct rec same_recs[] = {
	{ "server", "default",
	  { "method", "TLSv1.3", "certificate", "certs/s.pem", "private_key",
	    "/k/s.key", "verify_certificate", "1", "require_certificate", "1",
	    "ca_list", "ca.pem", "verify_depth", "3", NULL } },
	{ "srv", "10.0.0.1:5061",
	  { "method", "TLSv1.2+", "certificate", "/c/a.pem", "server_name",
	    "sip.example.com", "server_name_mode", "1", "cipher_list",
	    "ECDHE-ECDSA-AES128-GCM-SHA256", NULL } },
	{ "client", " [2001:db8::1] : 5061 ",
	  { "verify_client", "optional_no_ca", "server_id", "trunk-1",
	    "cipher_suites", "TLS_AES_128_GCM_SHA256", NULL } },
	{ "c", "any",
	  { "server_name", "carrier.example.net", "verify_server_name", "0",
	    "verify_wildcard", "1", NULL } },
};

/* The records and the tls.cfg above give equal profile lists. */
TEST(records_give_the_profiles_of_the_same_tls_cfg)
{
	struct stls_profile_conf *from_cfg = NULL, *from_recs = NULL;
	struct stls_settings s;
	struct stls_diag d;
	const char *dir = test_tmp_dir();

	stls_diag_init(&d);
	CHECK_OK(stls_settings_init(&s));
	free(s.config);
	s.config = strdup(write_file(dir, "tls.cfg", tls_cfg));
	CHECK_OK(stls_conf_load_profiles(&s, "/etc/x", &from_cfg, &d));
	CHECK_OK(build(same_recs, STLS_ARRAY_SIZE(same_recs), "/etc/x",
		       &from_recs, &d));
	CHECK_EQ(d.errors, 0);
	CHECK_PROFILES_EQ(from_cfg, from_recs);
	/* The implicit client default is there, as for the file. */
	CHECK_STR_EQ(from_recs->certificate, "/etc/x/certs/s.pem");
	CHECK_STR_EQ(from_recs->ca_list, "/etc/x/ca.pem");
	CHECK_STR_EQ(from_recs->loc.file, "tlscfg id=1");
	CHECK_EQ(from_recs->loc.line, 0);
	CHECK_STR_EQ(from_recs->field_loc[STLS_PF_METHOD].file,
		     "tlscfg id=1 column=method");
	stls_profile_conf_list_free(from_cfg);
	stls_profile_conf_list_free(from_recs);
	stls_settings_fini(&s);
	stls_diag_fini(&d);
}

/* Bad values are reported at the record's column label, with the same
 * words as tls.cfg, and fail the build. */
TEST(value_errors_name_the_record_and_column)
{
	static const struct rec bad[] = {
		{ "server", "default",
		  { "method", "TLSv9", "verify_depth", "x",
		    "verify_certificate", "maybe", "bogus", "1", NULL } },
	};
	struct stls_profile_conf *list = (void *)1;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(build(bad, 1, "/etc/x", &list, &d), -EINVAL);
	CHECK_NULL(list);
	CHECK_DIAG(&d, "tlscfg id=1 column=method: unsupported enum value "
		       "'TLSv9' for method");
	CHECK_DIAG(&d, "tlscfg id=1 column=verify_depth: verify_depth: "
		       "invalid integer value 'x'");
	CHECK_DIAG(&d, "tlscfg id=1 column=verify_certificate: "
		       "verify_certificate: invalid boolean value 'maybe'");
	CHECK_DIAG(&d, "tlscfg id=1 column=bogus: unsupported option 'bogus'");
	stls_diag_fini(&d);
}

/* A bad type or target is reported at its column; the record's keys are
 * then ignored (one problem, one message). */
TEST(header_errors_name_the_column_and_skip_the_record)
{
	static const struct rec bad[] = {
		{ "proxy", "default", { "method", "TLSv9", NULL } },
		{ "server", "10.0.0.300:5061", { "method", "TLSv9", NULL } },
		{ "client", "any:5061", { NULL } },
		{ "server", "10.0.0.1", { NULL } },
	};
	struct stls_profile_conf *list = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(build(bad, 4, "/etc/x", &list, &d), -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=1 column=profile_type: invalid profile type "
		       "'proxy' (server or client expected)");
	CHECK_DIAG(&d, "tlscfg id=2 column=profile_name: invalid IPv4 address "
		       "'10.0.0.300'");
	CHECK_DIAG(&d, "tlscfg id=3 column=profile_name: 'any' takes no port");
	CHECK_DIAG(&d, "tlscfg id=4 column=profile_name: port number missing "
		       "after '10.0.0.1'");
	CHECK_EQ(d.errors, 4);
	stls_diag_fini(&d);
}

/* Duplicates across records name both records. */
TEST(duplicates_name_both_records)
{
	static const struct rec dup[] = {
		{ "server", "default", { NULL } },
		{ "server", "def", { NULL } },
		{ "client", "any", { NULL } },
	};
	struct stls_profile_conf *list = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(build(dup, 3, "/etc/x", &list, &d), -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=2: duplicate profile [server:default] "
		       "(first defined at tlscfg id=1)");
	CHECK_DIAG(&d, "tlscfg id=3: profile [client:any] has no server_name "
		       "(an 'any' profile is matched by SNI only)");
	stls_diag_fini(&d);
}

/* PEM text is kept as given (not resolved as a path) and marked; only
 * the six file keys take it. */
TEST(pem_values_are_kept_and_marked)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nAA==\n"
				  "-----END CERTIFICATE-----\n";
	struct stls_profile_conf *list = NULL;
	struct stls_conf_rec_hdr h;
	struct stls_conf_recs *r;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_conf_recs_new("/etc/x", &r));
	hdr(&h, "server", "default", 5);
	CHECK_OK(stls_conf_recs_push(r, &h, &d));
	CHECK_OK(stls_conf_recs_apply_pem(r, "certificate", pem,
					  "tlscfg id=5 column=certificate",
					  &d));
	CHECK_OK(stls_conf_recs_apply_pem(r, "calist_file", pem,
					  "tlscfg id=5 column=ca_list", &d));
	CHECK_EQ(stls_conf_recs_apply_pem(r, "ca_path", pem,
					  "tlscfg id=5 column=ca_path", &d),
		 -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=5 column=ca_path: ca_path: cannot hold PEM "
		       "text (only certificate, private_key, certificate2, "
		       "private_key2, ca_list and crl can)");
	stls_diag_fini(&d);
	stls_diag_init(&d);
	CHECK_OK(stls_conf_recs_build(r, NULL, &list, &d));
	CHECK_STR_EQ(list->certificate, pem);
	CHECK_STR_EQ(list->ca_list, pem);
	CHECK(stls_profile_conf_is_pem(list, STLS_PF_CERTIFICATE));
	CHECK(stls_profile_conf_is_pem(list, STLS_PF_CA_LIST));
	CHECK(!stls_profile_conf_is_pem(list, STLS_PF_CRL));
	/* private_key unset: the template path, not PEM. */
	CHECK_STR_EQ(list->private_key, "/etc/x/cert.pem");
	CHECK(!stls_profile_conf_is_pem(list, STLS_PF_PRIVATE_KEY));
	/* r is empty after build: building again gives the defaults only */
	stls_profile_conf_list_free(list);
	CHECK_OK(stls_conf_recs_build(r, NULL, &list, &d));
	CHECK(list->implicit && list->next->implicit && !list->next->next);
	stls_profile_conf_list_free(list);
	stls_conf_recs_free(r);
	stls_diag_fini(&d);
}

/* A path value after PEM text clears the mark. */
TEST(a_path_replaces_pem_and_its_mark)
{
	struct stls_conf_rec_hdr h;
	struct stls_conf_recs *r;
	struct stls_profile_conf *list = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_conf_recs_new("/etc/x", &r));
	hdr(&h, "client", "default", 1);
	CHECK_OK(stls_conf_recs_push(r, &h, &d));
	CHECK_OK(stls_conf_recs_apply_pem(r, "crl", "-----BEGIN X509 CRL-----",
					  "t", &d));
	CHECK_OK(stls_conf_recs_apply(r, "crl", "crl.pem", "t", &d));
	CHECK_OK(stls_conf_recs_build(r, NULL, &list, &d));
	CHECK_STR_EQ(list->crl, "/etc/x/crl.pem");
	CHECK_EQ(list->pem_inline, 0);
	stls_profile_conf_list_free(list);
	stls_conf_recs_free(r);
	stls_diag_fini(&d);
}

/* Inline profiles of a main config come first and take part in the
 * duplicate check, as in a reload. */
TEST(inline_profiles_come_first_and_count_for_duplicates)
{
	const char *dir = test_tmp_dir();
	static const struct rec recs[] = {
		{ "server", "10.0.0.1:5061", { NULL } },
	};
	struct stls_conf *conf = NULL;
	struct stls_conf_rec_hdr h;
	struct stls_conf_recs *r;
	struct stls_profile_conf *list = NULL;
	struct stls_diag d;
	char want[512];
	const char *main_cfg;

	stls_diag_init(&d);
	main_cfg = write_file(dir, "m.conf",
			      "[tls]\nconfig = sqlite:tls.db\n"
			      "[server:10.0.0.1:5061]\n");
	CHECK_OK(stls_conf_load_ex(main_cfg, STLS_CONF_LOAD_DB, &conf, &d));
	CHECK_OK(stls_conf_recs_new(conf->base_dir, &r));
	hdr(&h, recs[0].type, recs[0].name, 9);
	CHECK_OK(stls_conf_recs_push(r, &h, &d));
	CHECK_EQ(stls_conf_recs_build(r, conf, &list, &d), -EINVAL);
	snprintf(want, sizeof(want),
		 "tlscfg id=9: duplicate profile [server:10.0.0.1:5061] "
		 "(first defined at %s:3)", main_cfg);
	CHECK_DIAG(&d, want);
	stls_conf_recs_free(r);
	stls_conf_free(conf);
	stls_diag_fini(&d);
}
