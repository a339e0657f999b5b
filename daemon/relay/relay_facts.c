/*
 * The TLS facts a client connection shows to the backend as headers
 * ([relay] facts, docs/relay-config.md and docs/facts.md) and to the
 * verified-only policy (the seed's is_peer_verified()).
 *
 * Computed once per connection, at its first request, from the facts the
 * TLS engine recorded at handshake end, into one allocation that holds
 * the header array and the values (an idle connection without facts
 * holds nothing). Values are forwarded as <prefix><name> headers; the
 * rewrite escapes control bytes and '%', and strips any such header the
 * client sent.
 *
 * `all` sends every fact that fits a header: the client certificate's
 * subject and issuer (whole and by component), every SAN kind, serial,
 * validity dates, X.509 version, the verification result and its exact
 * causes (revoked, expired, self-signed), the issuer of the verified
 * chain, the SHA-256 fingerprint, and the connection's SNI, protocol,
 * cipher, bits, description and resumption. Only the certificate itself
 * (`cert`, URL-encoded PEM, a kilobyte or more on every request) must be
 * named.
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

/* Room for the values of one connection. */
#define FACTS_SCRATCH 16384
#define FACTS_MAX 40
#define PEM_MAX 16384

/* The certificate PEM <name> ("tls_peer_raw_cert", "@tls.peer...[N]") as
 * an X509, or NULL. */
static X509 *cert_of(const struct stls_facts *f, const char *name)
{
	char *pem = malloc(PEM_MAX);
	ssize_t len = pem ? stls_facts_get(f, name, 0, pem, PEM_MAX) : -ENOMEM;
	X509 *x = NULL;
	BIO *b;

	if (len > 0 && (b = BIO_new_mem_buf(pem, (int)len))) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	free(pem);
	return x;
}

/* Writes "AB:CD:..." (SHA-256 of the peer certificate) into out. */
static ssize_t fingerprint(const struct stls_facts *f, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	X509 *x = cert_of(f, "tls_peer_raw_cert");

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

/* The subject of the last certificate of the verified chain (the trust
 * anchor that vouched for the client). */
static ssize_t chain_issuer(const struct stls_facts *f, char *out,
			    size_t cap)
{
	char name[64];
	int i, last = -1;
	X509 *x;
	char *line;
	ssize_t n = -ENOENT;

	for (i = 0; i < 16; i++) {
		char probe[8];
		ssize_t r;

		snprintf(name, sizeof(name), "@tls.peer.verified_cert_chain[%d]",
			 i);
		r = stls_facts_get(f, name, 0, probe, sizeof(probe));
		if (r < 0 && r != -ENOBUFS)
			break;
		last = i;
	}
	if (last < 0)
		return -ENOENT;
	snprintf(name, sizeof(name), "@tls.peer.verified_cert_chain[%d]",
		 last);
	x = cert_of(f, name);
	line = x ? X509_NAME_oneline(X509_get_subject_name(x), NULL, 0)
		 : NULL;
	if (line && strlen(line) < cap) {
		strcpy(out, line);
		n = (ssize_t)strlen(line);
	}
	OPENSSL_free(line);
	X509_free(x);
	return n;
}

static const char *const san_kinds[][2] = {
	{ "tls_peer_san_hostname", "DNS" },
	{ "tls_peer_san_uri", "URI" },
	{ "tls_peer_san_ip", "IP" },
	{ "tls_peer_san_email", "email" },
};

/* Every entry of SAN kind <k> ("a, b"), with "KIND:" before each when
 * <tagged> (into out, after what out already holds at *len). */
static void san_list(const struct stls_facts *f, size_t k, bool tagged,
		     char *out, size_t cap, size_t *len)
{
	char v[512];
	int i, n;

	for (i = 0; i < 32; i++) {
		if (stls_facts_get(f, san_kinds[k][0], i, v, sizeof(v)) < 0)
			break;
		n = snprintf(out + *len, cap - *len, "%s%s%s%s",
			     *len ? ", " : "", tagged ? san_kinds[k][1] : "",
			     tagged ? ":" : "", v);
		if (n < 0 || (size_t)n >= cap - *len) {
			out[*len] = '\0';
			return;
		}
		*len += (size_t)n;
	}
}

/* "DNS:a, URI:sip:b, IP:c, email:d" (all kinds), or one kind untagged. */
static ssize_t sans(const struct stls_facts *f, int kind, char *out,
		    size_t cap)
{
	size_t len = 0, k;

	out[0] = '\0';
	for (k = 0; k < STLS_ARRAY_SIZE(san_kinds); k++) {
		if (kind < 0 || (size_t)kind == k)
			san_list(f, k, kind < 0, out, cap, &len);
	}
	return len ? (ssize_t)len : -ENOENT;
}

static ssize_t yes_no(const struct stls_facts *f, const char *name,
		      char *out, size_t cap)
{
	char v[8];
	ssize_t n = stls_facts_get(f, name, 0, v, sizeof(v));

	if (n < 0 || cap < 4)
		return -ENOENT;
	strcpy(out, strcmp(v, "1") == 0 ? "yes" : "no");
	return (ssize_t)strlen(out);
}

/* How a header's value is made. */
enum fact_src {
	FS_PV,     /* the pseudo-variable <arg> as it is */
	FS_YESNO,  /* the 0/1 pseudo-variable <arg> as yes/no */
	FS_SAN,    /* every SAN, tagged */
	FS_SAN_K,  /* SAN kind <arg> ("0".."3") */
	FS_FPR,    /* SHA-256 fingerprint */
	FS_CHAIN,  /* the verified chain's issuer */
};

/* One header per row; a fact keyword may have several rows. */
static const struct {
	unsigned bit;
	const char *name;
	enum fact_src src;
	const char *arg;
} rows[] = {
	{ STLS_RELAY_FACT_SUBJECT, "Peer-Subject", FS_PV, "tls_peer_subject" },
	{ STLS_RELAY_FACT_SUBJECT_PARTS, "Peer-Subject-CN", FS_PV,
	  "tls_peer_subject_cn" },
	{ STLS_RELAY_FACT_SUBJECT_PARTS, "Peer-Subject-O", FS_PV,
	  "tls_peer_subject_organization" },
	{ STLS_RELAY_FACT_SUBJECT_PARTS, "Peer-Subject-OU", FS_PV,
	  "tls_peer_subject_unit" },
	{ STLS_RELAY_FACT_SUBJECT_PARTS, "Peer-Subject-C", FS_PV,
	  "tls_peer_subject_country" },
	{ STLS_RELAY_FACT_SUBJECT_PARTS, "Peer-Subject-ST", FS_PV,
	  "tls_peer_subject_state" },
	{ STLS_RELAY_FACT_SUBJECT_PARTS, "Peer-Subject-L", FS_PV,
	  "tls_peer_subject_locality" },
	{ STLS_RELAY_FACT_SUBJECT_PARTS, "Peer-Subject-UID", FS_PV,
	  "tls_peer_subject_uid" },
	{ STLS_RELAY_FACT_ISSUER, "Peer-Issuer", FS_PV, "tls_peer_issuer" },
	{ STLS_RELAY_FACT_ISSUER_PARTS, "Peer-Issuer-CN", FS_PV,
	  "tls_peer_issuer_cn" },
	{ STLS_RELAY_FACT_ISSUER_PARTS, "Peer-Issuer-O", FS_PV,
	  "tls_peer_issuer_organization" },
	{ STLS_RELAY_FACT_ISSUER_PARTS, "Peer-Issuer-OU", FS_PV,
	  "tls_peer_issuer_unit" },
	{ STLS_RELAY_FACT_ISSUER_PARTS, "Peer-Issuer-C", FS_PV,
	  "tls_peer_issuer_country" },
	{ STLS_RELAY_FACT_ISSUER_PARTS, "Peer-Issuer-ST", FS_PV,
	  "tls_peer_issuer_state" },
	{ STLS_RELAY_FACT_ISSUER_PARTS, "Peer-Issuer-L", FS_PV,
	  "tls_peer_issuer_locality" },
	{ STLS_RELAY_FACT_SAN, "Peer-SAN", FS_SAN, NULL },
	{ STLS_RELAY_FACT_SAN_KINDS, "Peer-SAN-DNS", FS_SAN_K, "0" },
	{ STLS_RELAY_FACT_SAN_KINDS, "Peer-SAN-URI", FS_SAN_K, "1" },
	{ STLS_RELAY_FACT_SAN_KINDS, "Peer-SAN-IP", FS_SAN_K, "2" },
	{ STLS_RELAY_FACT_SAN_KINDS, "Peer-SAN-Email", FS_SAN_K, "3" },
	{ STLS_RELAY_FACT_SERIAL, "Peer-Serial", FS_PV, "tls_peer_serial" },
	{ STLS_RELAY_FACT_VALIDITY, "Peer-Not-Before", FS_PV,
	  "tls_peer_notBefore" },
	{ STLS_RELAY_FACT_VALIDITY, "Peer-Not-After", FS_PV,
	  "tls_peer_notAfter" },
	{ STLS_RELAY_FACT_CERT_VERSION, "Peer-Cert-Version", FS_PV,
	  "tls_peer_version" },
	{ STLS_RELAY_FACT_STATUS, "Peer-Revoked", FS_YESNO,
	  "tls_peer_revoked" },
	{ STLS_RELAY_FACT_STATUS, "Peer-Expired", FS_YESNO,
	  "tls_peer_expired" },
	{ STLS_RELAY_FACT_STATUS, "Peer-Self-Signed", FS_YESNO,
	  "tls_peer_selfsigned" },
	{ STLS_RELAY_FACT_CHAIN, "Peer-Chain-Issuer", FS_CHAIN, NULL },
	{ STLS_RELAY_FACT_FINGERPRINT, "Peer-Fingerprint", FS_FPR, NULL },
	{ STLS_RELAY_FACT_CERT, "Peer-Cert", FS_PV,
	  "tls_peer_urlencoded_cert" },
	{ STLS_RELAY_FACT_SNI, "SNI", FS_PV, "tls_peer_server_name" },
	{ STLS_RELAY_FACT_VERSION, "Version", FS_PV, "tls_version" },
	{ STLS_RELAY_FACT_CIPHER, "Cipher", FS_PV, "tls_cipher_info" },
	{ STLS_RELAY_FACT_CIPHER_BITS, "Cipher-Bits", FS_PV,
	  "tls_cipher_bits" },
	{ STLS_RELAY_FACT_DESCRIPTION, "Cipher-Description", FS_PV,
	  "tls_description" },
	{ STLS_RELAY_FACT_RESUMED, "Resumed", FS_YESNO, "tls_resumed" },
};

static ssize_t row_value(const struct stls_facts *f, size_t i, char *out,
			 size_t cap)
{
	switch (rows[i].src) {
	case FS_PV:
		return stls_facts_get(f, rows[i].arg, 0, out, cap);
	case FS_YESNO:
		return yes_no(f, rows[i].arg, out, cap);
	case FS_SAN:
		return sans(f, -1, out, cap);
	case FS_SAN_K:
		return sans(f, rows[i].arg[0] - '0', out, cap);
	case FS_FPR:
		return fingerprint(f, out, cap);
	case FS_CHAIN:
		return chain_issuer(f, out, cap);
	}
	return -ENOENT;
}

/* Builds every wanted row of <f> into one allocation (array, then the
 * values). Out of memory: nothing (the caller keeps Verified). */
static void fill_rows(struct relay_conn *rc, unsigned want,
		      const struct stls_facts *f)
{
	struct {
		const char *name;
		size_t off;
	} got[FACTS_MAX];
	char scratch[FACTS_SCRATCH];
	size_t i, n = 0, used = 0, head;
	ssize_t len;
	char *buf;

	for (i = 0; i < STLS_ARRAY_SIZE(rows) && n < FACTS_MAX; i++) {
		if (!(want & rows[i].bit) || used + 2 >= sizeof(scratch))
			continue;
		len = row_value(f, i, scratch + used, sizeof(scratch) - used);
		if (len <= 0)
			continue;
		got[n].name = rows[i].name;
		got[n++].off = used;
		used += (size_t)len + 1;
	}
	head = (rc->n_facts + n) * sizeof(struct stls_relay_fact);
	buf = malloc(head + used);
	if (!buf)
		return;
	memcpy(buf + head, scratch, used);
	rc->facts_buf = buf;
	rc->facts = (struct stls_relay_fact *)(void *)buf;
	if (rc->n_facts)
		rc->facts[0] = rc->fact_verified;
	for (i = 0; i < n; i++) {
		rc->facts[rc->n_facts].name = got[i].name;
		rc->facts[rc->n_facts++].value = buf + head + got[i].off;
	}
}

void stls__relay_facts_fill(struct relay_worker *rw, struct stls_dconn *c,
			    struct relay_conn *rc)
{
	unsigned want = rw->r->rs->facts;
	const struct stls_facts *f;

	if (rc->facts_done)
		return;
	f = stls_tlsx_facts(c);
	/* No facts before the handshake completes: ask again later. */
	if (!f && c->state != STLS_DCONN_ESTABLISHED)
		return;
	rc->facts_done = true;
	rc->verified = f && stls_facts_is_peer_verified(f);
	rc->facts = &rc->fact_verified;
	if (want & STLS_RELAY_FACT_VERIFIED) {
		rc->fact_verified.name = "Verified";
		rc->fact_verified.value = rc->verified ? "yes" : "no";
		rc->n_facts = 1;
	}
	if (f && (want & ~STLS_RELAY_FACT_VERIFIED))
		fill_rows(rc, want, f);
}
