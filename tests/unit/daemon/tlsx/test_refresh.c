/*
 * daemon/tlsx/refresh.c: the refresh thread. It runs a round at once,
 * another when kicked, and stops promptly while its next round is an
 * hour away. End to end: a certificate made here whose AIA names a
 * responder on loopback (lib/revoc/http_fixture.h) gets its staple from
 * the thread's first round (a real POST, a real signed response).
 */
/* ctest-label: tsan */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "lib/revoc/http_fixture.h"
#include "lib/revoc/ocsp_fixture.h"
#include "revoc/revoc.h"
#include "tlsx/refresh.h"

/* Waits (polling, at most <secs> s) until rounds reach <n>. */
static bool wait_rounds(struct stls_refresher *r, uint64_t n, int secs)
{
	int i;

	for (i = 0; i < secs * 20; i++) {
		if (stls_refresher_rounds(r) >= n) {
			return true;
		}
		usleep(50000);
	}
	return stls_refresher_rounds(r) >= n;
}

TEST(round_at_start_on_kick_and_prompt_stop)
{
	struct stls_revoc_opts o = { .timeout = 2, .crl_interval = 3600 };
	struct stls_refresher *r = NULL;
	uint64_t n;
	time_t t0;

	stls_refresher_kick(NULL);
	stls_refresher_stop(NULL);
	CHECK_OK(stls_refresher_start(&o, &r));
	CHECK(wait_rounds(r, 1, 30));
	n = stls_refresher_rounds(r);
	/* Nothing is due for an hour: only a kick brings a round. */
	stls_refresher_kick(r);
	CHECK(wait_rounds(r, n + 1, 30));
	t0 = time(NULL);
	stls_refresher_stop(r);
	CHECK(time(NULL) - t0 < 10);
}

/* A leaf issued by "int" whose AIA names http://127.0.0.1:<port>/. */
static X509 *leaf_with_aia(int port)
{
	X509 *ca = ox_cert("int.pem"), *x = X509_new();
	EVP_PKEY *ck = ox_key("int.key"), *k = ox_key("server.key");
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	char aia[96];

	CHECK_NOT_NULL(x);
	CHECK(X509_set_version(x, 2));
	CHECK(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x4242));
	CHECK(X509_set_issuer_name(x, X509_get_subject_name(ca)));
	CHECK(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
					 (const unsigned char *)"aia.test", -1,
					 -1, 0));
	CHECK(X509_set_subject_name(x, n));
	CHECK_NOT_NULL(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	CHECK_NOT_NULL(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	CHECK(X509_set_pubkey(x, k));
	snprintf(aia, sizeof(aia), "OCSP;URI:http://127.0.0.1:%d/", port);
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_info_access, aia);
	CHECK_NOT_NULL(ext);
	CHECK(X509_add_ext(x, ext, -1));
	CHECK(X509_sign(x, ck, EVP_sha256()));
	X509_EXTENSION_free(ext);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ck);
	X509_free(ca);
	return x;
}

TEST(first_round_fetches_a_staple_from_the_responder)
{
	struct stls_revoc_opts o = { .timeout = 5, .crl_interval = 3600 };
	struct stls_refresher *r = NULL;
	struct stls__staple *st = NULL;
	struct hs s;
	X509 *leaf, *issuer = ox_cert("int.pem");
	unsigned char *resp, *der = NULL;
	size_t rlen, len = 0, olen;
	char head[160], why[256], *reply;
	int i, err = -ENOENT;

	hs_listen(&s);
	leaf = leaf_with_aia(s.port);
	resp = ox_resp(leaf, issuer, "int", V_OCSP_CERTSTATUS_GOOD, -60, 3600,
		       &olen);
	snprintf(head, sizeof(head),
		 "HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response"
		 "\r\nContent-Length: %zu\r\n\r\n",
		 olen);
	rlen = strlen(head) + olen;
	reply = malloc(rlen);
	CHECK_NOT_NULL(reply);
	memcpy(reply, head, strlen(head));
	memcpy(reply + strlen(head), resp, olen);
	hs_run(&s, &(struct hs_reply){ reply, rlen, false }, 1);
	CHECK_OK(stls__staple_get(leaf, issuer, "on", time(NULL), &st, why,
				  sizeof(why)));
	CHECK_EQ(stls__staple_copy(st, time(NULL), &der, &len), -ENOENT);
	CHECK_OK(stls_refresher_start(&o, &r));
	for (i = 0; i < 600 && err != 0; i++) {
		err = stls__staple_copy(st, time(NULL), &der, &len);
		if (err) {
			usleep(50000);
		}
	}
	CHECK_OK(err);
	CHECK_EQ(len, olen);
	CHECK_EQ(memcmp(der, resp, olen), 0);
	stls_refresher_stop(r);
	hs_stop(&s);
	CHECK_EQ(s.served, 1);
	CHECK_EQ(strncmp(s.req[0], "POST / HTTP/1.", 14), 0);
	hs_free(&s);
	OPENSSL_free(der);
	stls__staple_put(st);
	free(reply);
	OPENSSL_free(resp);
	X509_free(leaf);
	X509_free(issuer);
}
