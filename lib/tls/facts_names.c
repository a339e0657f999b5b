/*
 * Fact names: the seed's pseudo-variables (behaviour study 7.2) and selects
 * (7.3) resolved to one query each, from tables. docs/facts.md is the
 * reader's version of these tables.
 *
 * Pseudo-variables: "tls_<conn-name>", "tls_peer_<cert-name>",
 * "tls_my_<cert-name>", and the four "tls(m|p_subject|issuer_line)".
 * Selects: "@tls[.<conn-name>]" or "@tls.<who>[.<cert-name>...]" with the
 * seed's aliases. A trailing "[N]" sets the index.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

struct pv_conn {
	const char *name;
	enum stls_fkind kind;
	int who;
	int issuer;
};

struct pv_cert {
	const char *name;
	enum stls_fkind kind;
	int issuer;
	int arg;
};

struct alias {
	const char *name;
	enum stls_fkind kind;
	int arg;
};

static const struct pv_conn pv_conn_tab[] = {
	{ "tls_version", F_VERSION, W_CONN, 0 },
	{ "tls_description", F_DESC, W_CONN, 0 },
	{ "tls_cipher_info", F_CIPHER, W_CONN, 0 },
	{ "tls_cipher_bits", F_BITS, W_CONN, 0 },
	{ "tls_peer_server_name", F_SNI, W_CONN, 0 },
	{ "tls_resumed", F_RESUMED, W_CONN, 0 },
	{ "tls(m_subject_line)", F_DN, W_MY, 0 },
	{ "tls(m_issuer_line)", F_DN, W_MY, 1 },
	{ "tls(p_subject_line)", F_DN, W_PEER, 0 },
	{ "tls(p_issuer_line)", F_DN, W_PEER, 1 },
};

#define DN_COMPS(pre, iss)                                             \
	{ pre "cn", F_COMP, iss, NID_commonName },                     \
	{ pre "locality", F_COMP, iss, NID_localityName },             \
	{ pre "country", F_COMP, iss, NID_countryName },               \
	{ pre "state", F_COMP, iss, NID_stateOrProvinceName },         \
	{ pre "organization", F_COMP, iss, NID_organizationName },     \
	{ pre "unit", F_COMP, iss, NID_organizationalUnitName }

static const struct pv_cert pv_cert_tab[] = {
	{ "raw_cert", F_PEM, 0, 0 },
	{ "urlencoded_cert", F_URLPEM, 0, 0 },
	{ "version", F_XVER, 0, 0 },
	{ "serial", F_SERIAL, 0, 0 },
	{ "subject", F_DN, 0, 0 },
	{ "issuer", F_DN, 1, 0 },
	DN_COMPS("subject_", 0),
	{ "subject_uid", F_COMP, 0, NID_userId },
	DN_COMPS("issuer_", 1),
	{ "san_email", F_SAN, 0, GEN_EMAIL },
	{ "san_hostname", F_SAN, 0, GEN_DNS },
	{ "san_uri", F_SAN, 0, GEN_URI },
	{ "san_ip", F_SAN, 0, GEN_IPADD },
	{ "san_count(DNS)", F_SAN_COUNT, 0, GEN_DNS },
	{ "san_count(URI)", F_SAN_COUNT, 0, GEN_URI },
	{ "san_count(EMAIL)", F_SAN_COUNT, 0, GEN_EMAIL },
	{ "san_count(IP)", F_SAN_COUNT, 0, GEN_IPADD },
	{ "verified", F_VERIFIED, 0, 0 },
	{ "revoked", F_REVOKED, 0, 0 },
	{ "expired", F_EXPIRED, 0, 0 },
	{ "selfsigned", F_SELFSIGNED, 0, 0 },
	{ "notBefore", F_NOTBEFORE, 0, 0 },
	{ "notAfter", F_NOTAFTER, 0, 0 },
};

#define PV_CERT_NAMES(w)                                                   \
	"tls_" w "_raw_cert", "tls_" w "_urlencoded_cert",                 \
	"tls_" w "_version", "tls_" w "_serial", "tls_" w "_subject",      \
	"tls_" w "_issuer", "tls_" w "_subject_cn",                        \
	"tls_" w "_subject_locality", "tls_" w "_subject_country",         \
	"tls_" w "_subject_state", "tls_" w "_subject_organization",       \
	"tls_" w "_subject_unit", "tls_" w "_subject_uid",                 \
	"tls_" w "_issuer_cn", "tls_" w "_issuer_locality",                \
	"tls_" w "_issuer_country", "tls_" w "_issuer_state",              \
	"tls_" w "_issuer_organization", "tls_" w "_issuer_unit",          \
	"tls_" w "_san_email", "tls_" w "_san_hostname",                   \
	"tls_" w "_san_uri", "tls_" w "_san_ip", "tls_" w "_san_count(DNS)", \
	"tls_" w "_san_count(URI)", "tls_" w "_san_count(EMAIL)",          \
	"tls_" w "_san_count(IP)", "tls_" w "_notBefore",                  \
	"tls_" w "_notAfter"

const char *const stls_facts_pv_names[] = {
	"tls_version", "tls_description", "tls_cipher_info",
	"tls_cipher_bits", "tls_peer_server_name", "tls_resumed",
	"tls(m_subject_line)", "tls(m_issuer_line)", "tls(p_subject_line)",
	"tls(p_issuer_line)", PV_CERT_NAMES("peer"), PV_CERT_NAMES("my"),
	"tls_peer_verified", "tls_peer_revoked", "tls_peer_expired",
	"tls_peer_selfsigned", NULL
};

/* Selects: names after "@tls." for the connection. */
static const struct alias sel_conn_tab[] = {
	{ "version", F_VERSION, 0 },   { "desc", F_DESC, 0 },
	{ "description", F_DESC, 0 },  { "cipher", F_CIPHER, 0 },
	{ "serverName", F_SNI, 0 },    { "server_name", F_SNI, 0 },
	{ "resumed", F_RESUMED, 0 },
};

/* Selects: names after "@tls.<who>.". */
static const struct alias sel_cert_tab[] = {
	{ "verified", F_VERIFIED, 0 },
	{ "revoked", F_REVOKED, 0 },
	{ "expired", F_EXPIRED, 0 },
	{ "self_signed", F_SELFSIGNED, 0 },
	{ "version", F_XVER, 0 },
	{ "rawCert", F_PEM, 0 },
	{ "raw_cert", F_PEM, 0 },
	{ "URLEncodedCert", F_URLPEM, 0 },
	{ "urlencoded_cert", F_URLPEM, 0 },
	{ "verified_cert_chain", F_CHAIN, 0 },
	{ "sn", F_SERIAL, 0 },
	{ "serialNumber", F_SERIAL, 0 },
	{ "serial_number", F_SERIAL, 0 },
	{ "notBefore", F_NOTBEFORE, 0 },
	{ "not_before", F_NOTBEFORE, 0 },
	{ "notAfter", F_NOTAFTER, 0 },
	{ "not_after", F_NOTAFTER, 0 },
	{ "email", F_SAN, GEN_EMAIL },
	{ "emailAddress", F_SAN, GEN_EMAIL },
	{ "email_address", F_SAN, GEN_EMAIL },
	{ "host", F_SAN, GEN_DNS },
	{ "hostname", F_SAN, GEN_DNS },
	{ "dns", F_SAN, GEN_DNS },
	{ "uri", F_SAN, GEN_URI },
	{ "url", F_SAN, GEN_URI },
	{ "urn", F_SAN, GEN_URI },
	{ "ip", F_SAN, GEN_IPADD },
	{ "IPAddress", F_SAN, GEN_IPADD },
	{ "ip_address", F_SAN, GEN_IPADD },
};

/* Selects: DN component aliases (arg = NID). */
static const struct alias sel_comp_tab[] = {
	{ "cn", F_COMP, NID_commonName },
	{ "commonName", F_COMP, NID_commonName },
	{ "common_name", F_COMP, NID_commonName },
	{ "name", F_COMP, NID_commonName },
	{ "l", F_COMP, NID_localityName },
	{ "localityName", F_COMP, NID_localityName },
	{ "locality_name", F_COMP, NID_localityName },
	{ "locality", F_COMP, NID_localityName },
	{ "c", F_COMP, NID_countryName },
	{ "countryName", F_COMP, NID_countryName },
	{ "country_name", F_COMP, NID_countryName },
	{ "country", F_COMP, NID_countryName },
	{ "st", F_COMP, NID_stateOrProvinceName },
	{ "stateOrProvinceName", F_COMP, NID_stateOrProvinceName },
	{ "state_or_province_name", F_COMP, NID_stateOrProvinceName },
	{ "state", F_COMP, NID_stateOrProvinceName },
	{ "o", F_COMP, NID_organizationName },
	{ "organizationName", F_COMP, NID_organizationName },
	{ "organization_name", F_COMP, NID_organizationName },
	{ "organization", F_COMP, NID_organizationName },
	{ "ou", F_COMP, NID_organizationalUnitName },
	{ "organizationalUnitName", F_COMP, NID_organizationalUnitName },
	{ "organizational_unit_name", F_COMP, NID_organizationalUnitName },
	{ "unit", F_COMP, NID_organizationalUnitName },
	{ "uid", F_COMP, NID_userId },
	{ "uniqueIdentifier", F_COMP, NID_userId },
	{ "unique_identifier", F_COMP, NID_userId },
};

static const struct alias sel_count_tab[] = {
	{ "DNS", F_SAN_COUNT, GEN_DNS },
	{ "URI", F_SAN_COUNT, GEN_URI },
	{ "EMAIL", F_SAN_COUNT, GEN_EMAIL },
	{ "IP", F_SAN_COUNT, GEN_IPADD },
};

static const struct alias *find(const struct alias *tab, size_t n,
				const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++) {
		if (strcmp(tab[i].name, name) == 0) {
			return &tab[i];
		}
	}
	return NULL;
}

#define FIND(tab, name) find(tab, STLS_ARRAY_SIZE(tab), name)

static int resolve_pv(const char *name, struct stls_fq *q)
{
	const char *rest;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(pv_conn_tab); i++) {
		if (strcmp(pv_conn_tab[i].name, name) == 0) {
			q->kind = pv_conn_tab[i].kind;
			q->who = pv_conn_tab[i].who;
			q->issuer = pv_conn_tab[i].issuer;
			return 0;
		}
	}
	if (strncmp(name, "tls_peer_", 9) == 0) {
		q->who = W_PEER;
		rest = name + 9;
	} else if (strncmp(name, "tls_my_", 7) == 0) {
		q->who = W_MY;
		rest = name + 7;
	} else {
		return -EINVAL;
	}
	for (i = 0; i < STLS_ARRAY_SIZE(pv_cert_tab); i++) {
		if (strcmp(pv_cert_tab[i].name, rest) == 0) {
			q->kind = pv_cert_tab[i].kind;
			q->issuer = pv_cert_tab[i].issuer;
			q->arg = pv_cert_tab[i].arg;
			return 0;
		}
	}
	return -EINVAL;
}

/* "@tls.<who>..." after the who token; tok[] holds the rest. */
static int resolve_cert_sel(char **tok, int n, struct stls_fq *q)
{
	const struct alias *a;

	q->kind = F_COMP;
	q->arg = NID_commonName;
	if (n == 0) {
		return 0; /* @tls.peer: subject CN */
	}
	if (!strcmp(tok[0], "subject") || !strcmp(tok[0], "subj") ||
	    !strcmp(tok[0], "issuer")) {
		q->issuer = tok[0][0] == 'i';
		if (n == 1) {
			return 0;
		}
		a = FIND(sel_comp_tab, tok[1]);
		if (!a || n > 2) {
			return -EINVAL;
		}
		q->arg = a->arg;
		return 0;
	}
	if (!strcmp(tok[0], "count")) {
		a = n == 2 ? FIND(sel_count_tab, tok[1]) : NULL;
	} else {
		a = n == 1 ? FIND(sel_cert_tab, tok[0]) : NULL;
	}
	if (!a) {
		return -EINVAL;
	}
	q->kind = a->kind;
	q->arg = a->arg;
	return 0;
}

static int resolve_sel(char *path, struct stls_fq *q)
{
	char *tok[8], *save = NULL, *t;
	const struct alias *a;
	int n = 0;

	if (strstr(path, "..") || path[strlen(path) - 1] == '.') {
		return -EINVAL; /* empty component */
	}
	for (t = strtok_r(path, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
		if (n == (int)STLS_ARRAY_SIZE(tok)) {
			return -EINVAL;
		}
		tok[n++] = t;
	}
	if (n == 0 || strcmp(tok[0], "@tls") != 0) {
		return -EINVAL;
	}
	q->who = W_CONN;
	if (n == 1) {
		q->kind = F_DESC;
		return 0;
	}
	if (!strcmp(tok[1], "peer")) {
		q->who = W_PEER;
	} else if (!strcmp(tok[1], "my") || !strcmp(tok[1], "me") ||
		   !strcmp(tok[1], "myself")) {
		q->who = W_MY;
	}
	if (q->who != W_CONN) {
		return resolve_cert_sel(tok + 2, n - 2, q);
	}
	if (n == 3 && !strcmp(tok[1], "cipher") && !strcmp(tok[2], "bits")) {
		q->kind = F_BITS;
		return 0;
	}
	a = n == 2 ? FIND(sel_conn_tab, tok[1]) : NULL;
	if (!a) {
		return -EINVAL;
	}
	q->kind = a->kind;
	return 0;
}

/* Split a trailing "[N]" off name into idx. False when malformed. */
static bool split_index(char *name, int *idx)
{
	size_t n = strlen(name);
	char *open, *end;
	long v;

	if (n == 0 || name[n - 1] != ']') {
		return true;
	}
	open = strrchr(name, '[');
	if (!open || open[1] == ']') {
		return false;
	}
	v = strtol(open + 1, &end, 10);
	if (end != name + n - 1 || v < 0 || v > 1000000) {
		return false;
	}
	*idx = (int)v;
	*open = '\0';
	return true;
}

int stls__facts_resolve(const char *name, int index, struct stls_fq *q)
{
	char copy[160];
	size_t n = strlen(name);

	memset(q, 0, sizeof(*q));
	if (n == 0 || n >= sizeof(copy)) {
		return -EINVAL;
	}
	memcpy(copy, name, n + 1);
	q->index = index;
	if (!split_index(copy, &q->index)) {
		return -EINVAL;
	}
	if (copy[0] == '@') {
		return resolve_sel(copy, q);
	}
	if (copy[0] == '$') {
		return resolve_pv(copy + 1, q);
	}
	return resolve_pv(copy, q);
}
