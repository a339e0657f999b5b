/*
 * `siptlsctl cert show` and `siptlsctl cert calist`: reading certificates
 * and CRLs back for people, and building the `ca_list` file (seed §10.4)
 * from CA certificates only.
 *
 * `show` prints what an operator checks when a TLS peer is refused:
 * who (subject, issuer, serial), when (validity, days left or EXPIRED),
 * which names (SANs by type, as RFC 5922 matching uses them), the key, the
 * fingerprint, whether it can act as a CA, and with --key whether the key
 * file belongs to the certificate (exit 1 when it does not).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "cert_int.h"

#define NAME_FLAGS (XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ & ~ASN1_STRFLGS_ESC_MSB)
#define PATH_LEN 4096

static void print_name(const char *label, const X509_NAME *name)
{
	BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);

	printf("  %-12s ", label);
	fflush(stdout);
	if (out) {
		X509_NAME_print_ex(out, name, 0, NAME_FLAGS);
		BIO_free(out);
	}
	printf("\n");
}

/* Prints "not after: ... (N days left)" or "(EXPIRED N days ago)". */
static void print_until(const char *label, const ASN1_TIME *t,
			const char *late)
{
	char buf[64];
	int days = 0, secs = 0;

	printf("  %-12s %s", label, stls__cert_time(t, buf, sizeof(buf)));
	if (!t || !ASN1_TIME_diff(&days, &secs, NULL, t)) {
		printf("\n");
	} else if (days < 0 || (days == 0 && secs < 0)) {
		printf(" (%s %d days ago)\n", late, -days);
	} else {
		/* Rounded: a 30-day CRL shows "30 days left", not 29. */
		printf(" (%d days left)\n", days + (secs >= 43200));
	}
}

static void print_ip(const ASN1_OCTET_STRING *o)
{
	char ip[INET6_ADDRSTRLEN];
	int len = ASN1_STRING_length(o);
	int af = len == 4 ? AF_INET : AF_INET6;

	if ((len == 4 || len == 16) &&
	    inet_ntop(af, ASN1_STRING_get0_data(o), ip, sizeof(ip))) {
		printf("  %-12s %s\n", "SAN IP:", ip);
	} else {
		printf("  %-12s (malformed, %d octets)\n", "SAN IP:", len);
	}
}

static void print_sans(X509 *x)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	const char *label;
	int i;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		label = g->type == GEN_DNS   ? "SAN DNS:"
			: g->type == GEN_URI ? "SAN URI:"
					     : "SAN email:";
		if (g->type == GEN_IPADD) {
			print_ip(g->d.ip);
		} else if (g->type == GEN_DNS || g->type == GEN_URI ||
			   g->type == GEN_EMAIL) {
			printf("  %-12s %.*s\n", label,
			       ASN1_STRING_length(g->d.ia5),
			       (const char *)ASN1_STRING_get0_data(g->d.ia5));
		} else {
			printf("  %-12s (GeneralName type %d)\n", "SAN other:",
			       g->type);
		}
	}
	if (sk_GENERAL_NAME_num(gens) <= 0) {
		printf("  %-12s none\n", "SAN:");
	}
	GENERAL_NAMES_free(gens);
}

static const struct {
	uint32_t bit;
	const char *name;
} eku_names[] = {
	{ XKU_SSL_SERVER, "serverAuth" },
	{ XKU_SSL_CLIENT, "clientAuth" },
	{ XKU_SMIME, "emailProtection" },
	{ XKU_CODE_SIGN, "codeSigning" },
	{ XKU_OCSP_SIGN, "OCSPSigning" },
	{ XKU_TIMESTAMP, "timeStamping" },
};

static void print_usage_ext(X509 *x)
{
	uint32_t eku = X509_get_extended_key_usage(x);
	const char *sep = "";
	size_t i;

	printf("  %-12s ", "ext usage:");
	if (eku == UINT32_MAX) {
		printf("any (no extendedKeyUsage)\n");
		return;
	}
	for (i = 0; i < STLS_ARRAY_SIZE(eku_names); i++) {
		if (eku & eku_names[i].bit) {
			printf("%s%s", sep, eku_names[i].name);
			sep = ", ";
		}
	}
	printf("%s\n", sep[0] ? "" : "none of the known ones");
}

static void print_cert(X509 *x, int idx, int n, const char *file)
{
	char buf[128];

	printf("certificate %d of %d (%s)\n", idx, n, file);
	print_name("subject:", X509_get_subject_name(x));
	print_name("issuer:", X509_get_issuer_name(x));
	printf("  %-12s %s\n", "serial:",
	       stls_x509_serial_hex(x, buf, sizeof(buf)));
	printf("  %-12s %s\n", "not before:",
	       stls__cert_time(X509_get0_notBefore(x), buf, sizeof(buf)));
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		printf("  %-12s NOT YET VALID\n", "status:");
	}
	print_until("not after:", X509_get0_notAfter(x), "EXPIRED");
	print_sans(x);
	printf("  %-12s %s\n", "key:",
	       stls_x509_key_describe(X509_get0_pubkey(x), buf, sizeof(buf)));
	printf("  %-12s %s\n", "CA:", stls_x509_is_ca(x) ? "yes" : "no");
	print_usage_ext(x);
	printf("  %-12s %s\n", "sha256:",
	       stls_x509_fingerprint(x, buf, sizeof(buf)));
}

static void print_crl(X509_CRL *crl, const char *file)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	ASN1_INTEGER *num;
	char buf[128];
	int i, crit = 0;

	printf("CRL (%s)\n", file);
	print_name("issuer:", X509_CRL_get_issuer(crl));
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	printf("  %-12s %ld\n", "CRL number:",
	       num ? ASN1_INTEGER_get(num) : -1L);
	ASN1_INTEGER_free(num);
	printf("  %-12s %s\n", "last update:",
	       stls__cert_time(X509_CRL_get0_lastUpdate(crl), buf,
			       sizeof(buf)));
	print_until("next update:", X509_CRL_get0_nextUpdate(crl), "OVERDUE");
	/* An empty CRL has no stack at all (-1). */
	printf("  %-12s %d\n", "revoked:",
	       revs ? sk_X509_REVOKED_num(revs) : 0);
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
		ASN1_ENUMERATED *code;
		BIGNUM *bn;
		char *hex;
		const char *reason = "unspecified";

		code = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
		if (code && stls_x509_reason_name(
				    (int)ASN1_ENUMERATED_get(code))) {
			reason = stls_x509_reason_name(
				(int)ASN1_ENUMERATED_get(code));
		}
		bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r),
					NULL);
		hex = bn ? BN_bn2hex(bn) : NULL;
		printf("    serial %s  revoked %s  %s\n", hex ? hex : "?",
		       stls__cert_time(X509_REVOKED_get0_revocationDate(r),
				       buf, sizeof(buf)),
		       reason);
		OPENSSL_free(hex);
		BN_free(bn);
		ASN1_ENUMERATED_free(code);
	}
}

static int show_key(const char *key_file, X509 *leaf)
{
	struct stls_x509_err err = { "" };
	EVP_PKEY *key = NULL;
	char msg[PATH_LEN + 128];
	int rc;

	rc = stls_x509_key_read(key_file, "key", NULL, &key, &err);
	if (rc) {
		return stls__cert_fail(err.msg);
	}
	rc = stls_x509_key_matches(leaf, key);
	EVP_PKEY_free(key);
	if (!rc) {
		printf("  %-12s DOES NOT MATCH %s\n", "key file:", key_file);
		snprintf(msg, sizeof(msg), "key '%s' does not match the "
			 "certificate", key_file);
		return stls__cert_fail(msg);
	}
	printf("  %-12s matches %s\n", "key file:", key_file);
	return CERT_EXIT_OK;
}

int stls__cert_cmd_show(int argc, char **argv)
{
	static const enum cert_opt_id allowed[] = { OPT_KEY, OPT_NONE };
	struct stls_x509_err err = { "" };
	STACK_OF(X509) *sk = NULL;
	X509_CRL *crl = NULL;
	struct cert_opts o;
	int rc, i, n;

	rc = stls__cert_parse("show", argc, argv, allowed, 1, 1, &o);
	if (rc) {
		return rc;
	}
	if (stls_x509_file_is_crl(o.pos[0])) {
		if (stls_x509_crl_read(o.pos[0], &crl, &err)) {
			return stls__cert_fail(err.msg);
		}
		print_crl(crl, o.pos[0]);
		X509_CRL_free(crl);
		return CERT_EXIT_OK;
	}
	if (stls_x509_certs_read(o.pos[0], "certificate", &sk, &err)) {
		return stls__cert_fail(err.msg);
	}
	n = sk_X509_num(sk);
	for (i = 0; i < n; i++) {
		print_cert(sk_X509_value(sk, i), i + 1, n, o.pos[0]);
	}
	fflush(stdout);
	rc = o.key_file ? show_key(o.key_file, sk_X509_value(sk, 0)) : 0;
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* Adds the certificates of one file; refuses non-CA certificates. */
static int calist_add(const char *file, STACK_OF(X509) *all)
{
	struct stls_x509_err err = { "" };
	STACK_OF(X509) *sk = NULL;
	char msg[PATH_LEN + 600];
	X509 *x;
	int i, j, rc = CERT_EXIT_OK;

	if (stls_x509_certs_read(file, "certificate", &sk, &err)) {
		return stls__cert_fail(err.msg);
	}
	for (i = 0; i < sk_X509_num(sk) && rc == CERT_EXIT_OK; i++) {
		x = sk_X509_value(sk, i);
		if (!stls_x509_is_ca(x)) {
			char *s = X509_NAME_oneline(X509_get_subject_name(x),
						    NULL, 0);

			snprintf(msg, sizeof(msg), "'%s' (certificate %d, %s) "
				 "is not a CA certificate: a CA list holds "
				 "only CA certificates; nothing written",
				 file, i + 1, s ? s : "?");
			OPENSSL_free(s);
			rc = stls__cert_fail(msg);
			break;
		}
		if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
			fprintf(stderr, "siptlsctl cert calist: warning: "
				"'%s' (certificate %d) has expired\n", file,
				i + 1);
		}
		for (j = 0; j < sk_X509_num(all); j++) {
			if (X509_cmp(x, sk_X509_value(all, j)) == 0) {
				break;
			}
		}
		if (j == sk_X509_num(all) && X509_up_ref(x)) {
			/* The reference taken here belongs to all. */
			if (!sk_X509_push(all, x)) {
				X509_free(x);
				rc = stls__cert_fail("out of memory");
			}
		}
	}
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int stls__cert_cmd_calist(int argc, char **argv)
{
	static const enum cert_opt_id allowed[] = { OPT_NONE };
	struct stls_x509_err err = { "" };
	STACK_OF(X509) *all = sk_X509_new_null();
	X509 **v = NULL;
	struct cert_opts o;
	int rc, i, n = 0;

	rc = stls__cert_parse("calist", argc, argv, allowed, 2, CERT_MAX_POS,
			      &o);
	for (i = 1; !rc && i < o.npos; i++) {
		rc = calist_add(o.pos[i], all);
	}
	n = sk_X509_num(all);
	v = n > 0 ? OPENSSL_malloc((size_t)n * sizeof(*v)) : NULL;
	if (!rc && !v) {
		rc = stls__cert_fail("out of memory");
	}
	for (i = 0; !rc && i < n; i++) {
		v[i] = sk_X509_value(all, i);
	}
	if (!rc && stls_x509_certs_write(o.pos[0], v, (size_t)n, true, true,
					 &err)) {
		rc = stls__cert_fail(err.msg);
	}
	if (!rc) {
		printf("wrote %s: %d CA certificate%s\n", o.pos[0], n,
		       n == 1 ? "" : "s");
	}
	OPENSSL_free(v);
	sk_X509_pop_free(all, X509_free);
	return rc;
}
