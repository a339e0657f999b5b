/*
 * The relay's policies: connection-out rules (the seed's
 * event_route[tls:connection-out] as configuration), and the TLS facts a
 * connection shows to the backend and to the verified-only policy (the
 * seed's is_peer_verified()).
 *
 * Connection-out rules: a destination inside any connection_out_deny
 * network is refused; when connection_out_allow networks are given, a
 * destination outside all of them is refused too. The rules run for TLS
 * connections as the tlsx hook (before the TCP connect) and for plain TCP
 * targets directly.
 *
 * Facts: computed once per connection, at its first request, from the
 * facts the TLS engine recorded at handshake end, into one small buffer.
 * Values are forwarded as <prefix><name> headers (the rewrite escapes
 * control bytes, and strips any such header the client sent).
 */
#include "relay/relay_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "stls/facts.h"
#include "tlsx/tlsx.h"

#define FACTS_BUF 4096

bool stls_relay_dst_allowed(const struct stls_relay_settings *s,
			    const struct stls_addr *dst)
{
	size_t i;

	for (i = 0; i < s->n_deny; i++) {
		if (stls_net_has(&s->deny[i], dst))
			return false;
	}
	if (!s->n_allow)
		return true;
	for (i = 0; i < s->n_allow; i++) {
		if (stls_net_has(&s->allow[i], dst))
			return true;
	}
	return false;
}

int stls_relay_conn_out(const struct stls_conn_out_event *ev, void *arg)
{
	struct stls_relay *r = arg;

	if (ev->phase != STLS_CONN_OUT_CONNECT || !ev->dst ||
	    stls_relay_dst_allowed(r->rs, ev->dst))
		return 0;
	atomic_fetch_add_explicit(&r->hook_denied, 1, memory_order_relaxed);
	return -EPERM;
}

static const struct stls_facts *conn_facts(const struct stls_dconn *c)
{
	return stls_tlsx_facts(c);
}

/* Writes "AB:CD:..." (SHA-256 of the peer certificate) into out. */
static ssize_t fingerprint(const struct stls_facts *f, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	char *pem = malloc(16384);
	ssize_t len = pem ? stls_facts_get(f, "tls_peer_raw_cert", 0, pem,
					   16384)
			  : -ENOMEM;
	X509 *x = NULL;
	BIO *b;

	if (len > 0 && (b = BIO_new_mem_buf(pem, (int)len))) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	free(pem);
	if (!x || !X509_digest(x, EVP_sha256(), md, &n) || n * 3 > cap) {
		X509_free(x);
		return -ENOENT;
	}
	X509_free(x);
	for (i = 0; i < n; i++) {
		out[i * 3] = hex[md[i] >> 4];
		out[i * 3 + 1] = hex[md[i] & 15];
		out[i * 3 + 2] = i + 1 < n ? ':' : '\0';
	}
	return (ssize_t)(n * 3 - 1);
}

/* "DNS:a, URI:sip:b, IP:c, email:d" from the peer's SAN entries. */
static ssize_t sans(const struct stls_facts *f, char *out, size_t cap)
{
	static const char *const kinds[][2] = {
		{ "tls_peer_san_hostname", "DNS" },
		{ "tls_peer_san_uri", "URI" },
		{ "tls_peer_san_ip", "IP" },
		{ "tls_peer_san_email", "email" },
	};
	char v[512];
	size_t k, len = 0;
	int i;

	out[0] = '\0';
	for (k = 0; k < 4; k++) {
		for (i = 0; i < 32; i++) {
			int n;

			if (stls_facts_get(f, kinds[k][0], i, v, sizeof(v)) < 0)
				break;
			n = snprintf(out + len, cap - len, "%s%s:%s",
				     len ? ", " : "", kinds[k][1], v);
			if (n < 0 || (size_t)n >= cap - len)
				return (ssize_t)len;
			len += (size_t)n;
		}
	}
	return len ? (ssize_t)len : -ENOENT;
}

static ssize_t fact_value(const struct stls_facts *f, unsigned bit,
			  char *out, size_t cap)
{
	const char *s = NULL;

	switch (bit) {
	case STLS_RELAY_FACT_SUBJECT:
		return stls_facts_get(f, "tls_peer_subject", 0, out, cap);
	case STLS_RELAY_FACT_ISSUER:
		return stls_facts_get(f, "tls_peer_issuer", 0, out, cap);
	case STLS_RELAY_FACT_SAN:
		return sans(f, out, cap);
	case STLS_RELAY_FACT_FINGERPRINT:
		return fingerprint(f, out, cap);
	case STLS_RELAY_FACT_SNI:
		s = stls_facts_get_sni(f);
		break;
	case STLS_RELAY_FACT_VERSION:
		s = stls_facts_get_version(f);
		break;
	case STLS_RELAY_FACT_CIPHER:
		s = stls_facts_get_cipher(f);
		break;
	}
	if (!s || strlen(s) >= cap)
		return -ENOENT;
	strcpy(out, s);
	return (ssize_t)strlen(s);
}

static const struct {
	unsigned bit;
	const char *name;
} fact_names[] = {
	{ STLS_RELAY_FACT_SUBJECT, "Peer-Subject" },
	{ STLS_RELAY_FACT_ISSUER, "Peer-Issuer" },
	{ STLS_RELAY_FACT_SAN, "Peer-SAN" },
	{ STLS_RELAY_FACT_FINGERPRINT, "Peer-Fingerprint" },
	{ STLS_RELAY_FACT_SNI, "SNI" },
	{ STLS_RELAY_FACT_VERSION, "Version" },
	{ STLS_RELAY_FACT_CIPHER, "Cipher" },
};

void stls__relay_facts_fill(struct relay_worker *rw, struct stls_dconn *c,
			    struct relay_conn *rc)
{
	unsigned want = rw->r->rs->facts;
	const struct stls_facts *f;
	size_t i, used = 0;
	ssize_t n;

	if (rc->facts_done)
		return;
	f = conn_facts(c);
	/* No facts before the handshake completes: ask again later. */
	if (!f && c->state != STLS_DCONN_ESTABLISHED)
		return;
	rc->facts_done = true;
	rc->verified = f && stls_facts_is_peer_verified(f);
	if (want & STLS_RELAY_FACT_VERIFIED) {
		rc->facts[rc->n_facts].name = "Verified";
		rc->facts[rc->n_facts++].value = rc->verified ? "yes" : "no";
	}
	if (!f || !(want & ~STLS_RELAY_FACT_VERIFIED))
		return;
	rc->facts_buf = malloc(FACTS_BUF);
	if (!rc->facts_buf)
		return;
	for (i = 0; i < STLS_ARRAY_SIZE(fact_names); i++) {
		if (!(want & fact_names[i].bit) || used + 2 >= FACTS_BUF)
			continue;
		n = fact_value(f, fact_names[i].bit, rc->facts_buf + used,
			       FACTS_BUF - used);
		if (n < 0)
			continue;
		rc->facts[rc->n_facts].name = fact_names[i].name;
		rc->facts[rc->n_facts++].value = rc->facts_buf + used;
		used += (size_t)n + 1;
	}
}
