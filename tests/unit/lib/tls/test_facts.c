/*
 * Unit tests for lib/tls/facts.c: every pseudo-variable and select answered
 * from a real handshake (server ECDSA sip.example.test, client alice with
 * a certificate, verify_client = on), values compared with the test PKI.
 */
#include "lib/tls/tls_pair.h"

#include <openssl/bn.h>
#include <openssl/pem.h>

struct fx {
	struct pair p;
	const struct stls_facts *s, *c;
	char buf[16384];
};

static void fx_init(struct fx *x, int ver)
{
	pair_mutual(&x->p, ver);
	x->s = stls_conn_get_facts(x->p.s.conn);
	x->c = stls_conn_get_facts(x->p.c.conn);
}

static const char *get(struct fx *x, const struct stls_facts *f,
		       const char *name, int idx)
{
	ssize_t n = stls_facts_get(f, name, idx, x->buf, sizeof(x->buf));

	if (n < 0) {
		test_fail(__FILE__, __LINE__, "%s: %zd", name, n);
	}
	return x->buf;
}

/* Every documented pseudo-variable name is known (never -EINVAL). */
TEST(facts_every_pv_name_answers)
{
	struct fx x;
	size_t i;
	char small[4096];

	fx_init(&x, TLS1_3_VERSION);
	for (i = 0; stls_facts_pv_names[i]; i++) {
		ssize_t a = stls_facts_get(x.s, stls_facts_pv_names[i], 0,
					   x.buf, sizeof(x.buf));
		ssize_t b = stls_facts_get(x.c, stls_facts_pv_names[i], 0,
					   small, sizeof(small));

		if (a == -EINVAL || b == -EINVAL) {
			test_fail(__FILE__, __LINE__, "%s: %zd %zd",
				  stls_facts_pv_names[i], a, b);
		}
	}
	CHECK(i > 70);
	pair_fini(&x.p);
}

TEST(facts_connection_values)
{
	struct fx x;

	fx_init(&x, TLS1_3_VERSION);
	CHECK_STR_EQ(get(&x, x.s, "tls_version", 0), "TLSv1.3");
	CHECK_STR_EQ(get(&x, x.s, "tls_cipher_info", 0),
		     stls_conn_get_cipher(x.p.s.conn));
	CHECK_STR_HAS(get(&x, x.s, "tls_description", 0), "TLSv1.3");
	CHECK(strchr(x.buf, '\n') == NULL);
	CHECK(atoi(get(&x, x.s, "tls_cipher_bits", 0)) >= 128);
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_server_name", 0),
		     "sip.example.test");
	CHECK_STR_EQ(get(&x, x.c, "tls_peer_server_name", 0),
		     "sip.example.test");
	CHECK_STR_EQ(get(&x, x.s, "tls_resumed", 0), "0");
	CHECK_STR_EQ(get(&x, x.s, "@tls", 0),
		     get(&x, x.s, "tls_description", 0) == x.buf ? x.buf : "");
	pair_fini(&x.p);
}

static X509 *load(const char *file)
{
	FILE *f = fopen(test_cert_path(file), "r");
	X509 *x;

	CHECK_NOT_NULL(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CHECK_NOT_NULL(x);
	return x;
}

/*
 * The facts must agree with the certificate file itself, whatever DN
 * fields the test PKI puts in (absent fields must give -ENOENT).
 */
static void same_as_file(struct fx *x, const struct stls_facts *f,
			 const char *who, const char *file)
{
	static const struct {
		const char *suffix;
		int nid;
	} comps[] = {
		{ "cn", NID_commonName },
		{ "locality", NID_localityName },
		{ "country", NID_countryName },
		{ "state", NID_stateOrProvinceName },
		{ "organization", NID_organizationName },
		{ "unit", NID_organizationalUnitName },
	};
	X509 *c = load(file);
	char name[96], want[256], *line;
	size_t i;
	int iss;

	for (iss = 0; iss < 2; iss++) {
		X509_NAME *dn = iss ? X509_get_issuer_name(c)
				    : X509_get_subject_name(c);

		for (i = 0; i < STLS_ARRAY_SIZE(comps); i++) {
			int n = X509_NAME_get_text_by_NID(dn, comps[i].nid,
							  want, sizeof(want));
			ssize_t r;

			snprintf(name, sizeof(name), "tls_%s_%s_%s", who,
				 iss ? "issuer" : "subject", comps[i].suffix);
			r = stls_facts_get(f, name, 0, x->buf, sizeof(x->buf));
			if (n < 0) {
				CHECK_EQ(r, -ENOENT);
			} else {
				CHECK_EQ(r, n);
				CHECK_STR_EQ(x->buf, want);
			}
		}
		line = X509_NAME_oneline(dn, NULL, 0);
		snprintf(name, sizeof(name), "tls_%s_%s", who,
			 iss ? "issuer" : "subject");
		CHECK_STR_EQ(get(x, f, name, 0), line);
		OPENSSL_free(line);
	}
	X509_free(c);
}

TEST(facts_certificate_components)
{
	struct fx x;

	fx_init(&x, TLS1_2_VERSION);
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_subject_cn", 0), "alice");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_issuer_cn", 0), "siptls Test CA");
	same_as_file(&x, x.s, "peer", "client.pem");
	same_as_file(&x, x.s, "my", "server.pem");
	same_as_file(&x, x.c, "peer", "server.pem");
	same_as_file(&x, x.c, "my", "client.pem");
	CHECK_STR_EQ(get(&x, x.s, "tls(m_subject_line)", 0),
		     get(&x, x.s, "tls_my_subject", 0) == x.buf ? x.buf : "");
	CHECK_STR_HAS(get(&x, x.s, "tls_peer_issuer", 0), "CN=siptls Test CA");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_version", 0), "2");
	/* The client sees the server certificate as its peer. */
	CHECK_STR_EQ(get(&x, x.c, "tls_peer_subject_cn", 0),
		     "sip.example.test");
	CHECK_STR_EQ(get(&x, x.c, "tls_my_subject_cn", 0), "alice");
	/* Every DN component the test PKI writes, by its seed name. */
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_subject_organization", 0),
		     "siptls test");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_subject_unit", 0), "phones");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_subject_uid", 0), "alice01");
	CHECK_STR_EQ(get(&x, x.c, "tls_peer_subject_country", 0), "DE");
	CHECK_STR_EQ(get(&x, x.c, "tls_peer_subject_state", 0), "Berlin");
	CHECK_STR_EQ(get(&x, x.c, "tls_peer_subject_locality", 0), "Berlin");
	CHECK_STR_EQ(get(&x, x.c, "tls_peer_subject_unit", 0), "edge");
	CHECK_STR_EQ(get(&x, x.s, "@tls.peer.subj.ou", 0), "phones");
	CHECK_STR_EQ(get(&x, x.s, "@tls.peer.subject.uid", 0), "alice01");
	CHECK_STR_HAS(get(&x, x.c, "tls_peer_subject", 0),
		      "/C=DE/ST=Berlin/L=Berlin/O=siptls test/OU=edge/"
		      "CN=sip.example.test");
	pair_fini(&x.p);
}

TEST(facts_san_entries_and_counts)
{
	struct fx x;

	fx_init(&x, TLS1_3_VERSION);
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_san_uri", 0),
		     "sip:alice@example.test");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_san_email", 0),
		     "alice@example.test");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_san_count(URI)", 0), "1");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_san_count(DNS)", 0), "0");
	CHECK_STR_EQ(get(&x, x.s, "tls_my_san_hostname", 0),
		     "sip.example.test");
	CHECK_STR_EQ(get(&x, x.s, "tls_my_san_ip", 0), "127.0.0.1");
	CHECK_STR_EQ(get(&x, x.s, "tls_my_san_ip", 1), "::1");
	CHECK_STR_EQ(get(&x, x.s, "tls_my_san_ip[1]", 0), "::1");
	CHECK_STR_EQ(get(&x, x.s, "tls_my_san_count(IP)", 0), "2");
	CHECK_EQ(stls_facts_get(x.s, "tls_my_san_ip", 2, x.buf, 64), -ENOENT);
	CHECK_STR_EQ(get(&x, x.s, "@tls.my.ip[1]", 0), "::1");
	CHECK_STR_EQ(get(&x, x.s, "@tls.me.count.URI", 0), "1");
	CHECK_STR_EQ(get(&x, x.s, "@tls.peer.uri", 0), "sip:alice@example.test");
	pair_fini(&x.p);
}

static void serial_of(const char *file, char *out, size_t len)
{
	FILE *f = fopen(test_cert_path(file), "r");
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *s = BN_bn2dec(bn);

	snprintf(out, len, "%s", s);
	OPENSSL_free(s);
	BN_free(bn);
	X509_free(x);
	fclose(f);
}

TEST(facts_serial_dates_pem_chain)
{
	struct fx x;
	char want[128];

	fx_init(&x, TLS1_3_VERSION);
	serial_of("client.pem", want, sizeof(want));
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_serial", 0), want);
	CHECK_STR_EQ(get(&x, x.s, "@tls.peer.serialNumber", 0), want);
	/* OpenSSL's ASN1 print format: "Mon DD HH:MM:SS YYYY GMT". */
	CHECK_STR_HAS(get(&x, x.s, "tls_peer_notBefore", 0), " GMT");
	CHECK_EQ(strlen(x.buf), 24);
	CHECK_STR_HAS(get(&x, x.s, "@tls.peer.not_after", 0), " GMT");
	CHECK_STR_HAS(get(&x, x.s, "tls_peer_raw_cert", 0),
		      "-----BEGIN CERTIFICATE-----\n");
	CHECK_STR_HAS(get(&x, x.s, "tls_peer_urlencoded_cert", 0),
		      "-----BEGIN%20CERTIFICATE-----%0A");
	CHECK_STR_HAS(get(&x, x.s, "@tls.peer.verified_cert_chain", 0),
		      "-----BEGIN CERTIFICATE-----");
	CHECK_STR_HAS(get(&x, x.s, "@tls.peer.verified_cert_chain[1]", 0),
		      "-----BEGIN CERTIFICATE-----");
	CHECK_EQ(stls_facts_get(x.s, "@tls.peer.verified_cert_chain[2]", 0,
				x.buf, sizeof(x.buf)),
		 -ENOENT);
	CHECK_EQ(stls_facts_get(x.s, "tls_peer_raw_cert", 0, x.buf, 10),
		 -ENOBUFS);
	CHECK_EQ(strlen(x.buf), 9);
	pair_fini(&x.p);
}

TEST(facts_peer_status_and_selects)
{
	struct fx x;

	fx_init(&x, TLS1_3_VERSION);
	CHECK(stls_conn_is_peer_verified(x.p.s.conn));
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_verified", 0), "1");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_revoked", 0), "0");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_expired", 0), "0");
	CHECK_STR_EQ(get(&x, x.s, "tls_peer_selfsigned", 0), "0");
	CHECK_STR_EQ(get(&x, x.s, "@tls.peer.verified", 0), "1");
	CHECK_EQ(stls_facts_get(x.s, "@tls.my.verified", 0, x.buf, 64),
		 -EINVAL);
	CHECK_STR_EQ(get(&x, x.s, "@tls.peer", 0), "alice");
	CHECK_STR_EQ(get(&x, x.s, "@tls.peer.issuer", 0), "siptls Test CA");
	CHECK_STR_EQ(get(&x, x.s, "@tls.myself.subj.commonName", 0),
		     "sip.example.test");
	CHECK_EQ(stls_facts_get(x.s, "@tls.peer.subject.uid", 0, x.buf, 64),
		 stls_facts_get(x.s, "tls_peer_subject_uid", 0, x.buf, 64));
	CHECK_STR_EQ(get(&x, x.s, "@tls.version", 0), "TLSv1.3");
	CHECK_STR_EQ(get(&x, x.s, "@tls.server_name", 0), "sip.example.test");
	CHECK(atoi(get(&x, x.s, "@tls.cipher.bits", 0)) >= 128);
	CHECK_STR_EQ(get(&x, x.s, "$tls_peer_subject_cn", 0), "alice");
	CHECK_EQ(stls_facts_get(x.s, "tls_nothing", 0, x.buf, 64), -EINVAL);
	CHECK_EQ(stls_facts_get(x.s, "@tls.peer.bogus", 0, x.buf, 64),
		 -EINVAL);
	CHECK_EQ(stls_facts_get(NULL, "tls_version", 0, x.buf, 64), -EINVAL);
	CHECK_EQ(stls_facts_get_verify_result(x.s), X509_V_OK);
	pair_fini(&x.p);
}

/* Without a client certificate: peer values are absent, status is 0. */
TEST(facts_absent_peer_certificate)
{
	struct pair p;
	char buf[64];
	const struct stls_facts *f;

	pair_init(&p, "server.pem", "server.key", TLS1_3_VERSION,
		  TLS1_3_VERSION);
	pair_start(&p, NULL, NULL);
	pair_pump(&p);
	f = stls_conn_get_facts(p.s.conn);
	CHECK(!stls_facts_has_peer_cert(f));
	CHECK_EQ(stls_facts_get(f, "tls_peer_subject_cn", 0, buf, 64),
		 -ENOENT);
	CHECK_EQ(stls_facts_get(f, "tls_peer_server_name", 0, buf, 64),
		 -ENOENT);
	CHECK_EQ(stls_facts_get(f, "tls_peer_verified", 0, buf, 64), 1);
	CHECK_STR_EQ(buf, "0");
	CHECK(!stls_conn_is_peer_verified(p.s.conn));
	pair_fini(&p);
}
