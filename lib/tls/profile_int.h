/*
 * Internals shared by the profile files (profile_set.c, profile_build.c,
 * profile_verify.c, profile_match.c). Not a public interface.
 */
#ifndef STLS_TLS_PROFILE_INT_H
#define STLS_TLS_PROFILE_INT_H

#include <stdatomic.h>

#include "stls/profile.h"

struct stls_profile {
	struct stls_profile_conf conf; /* own copy, passwords dropped */
	SSL_CTX *ctx;
	struct stls_profile_set *set;  /* back pointer, not a reference */
	char name[STLS_PROFILE_NAME_MAX];
};

struct stls_profile_set {
	atomic_uint refs;
	uint64_t generation;
	size_t n;
	struct stls_profile *v;        /* n profiles, file order */
	struct stls_profile *defaults[2]; /* indexed by enum stls_role */
	char **strs;                   /* strings the copies point to */
	size_t nstrs, capstrs;
};

/* A string option is set when it is neither NULL nor "" (seed: "" = none). */
static inline bool has_str(const char *s)
{
	return s && *s;
}

/* Writes an ASN.1 time as "2021-01-01 00:00:00 UTC" into buf. Returns buf. */
const char *stls__asn1_time_str(const ASN1_TIME *t, char *buf, size_t len);

/* What one profile build needs besides the profile itself. */
struct stls__build {
	const struct stls_settings *s;
	struct stls_diag *diag;
	const struct stls_profile_conf *c; /* the caller's (with passwords) */
	const char *name;                  /* "TLSs<default>" for messages */
};

/*
 * Reports a problem with key <field> of the profile being built (field
 * STLS_PF__COUNT = the section itself): at the key's file:line, else the
 * section header's, else prefixed with the profile name.
 */
void stls__build_err(const struct stls__build *b, enum stls_pf field,
		     const char *fmt, ...) STLS_PRINTF(3, 4);
void stls__build_warn(const struct stls__build *b, enum stls_pf field,
		      const char *fmt, ...) STLS_PRINTF(3, 4);

/*
 * Makes the SSL_CTX of one profile (profile_build.c). Returns 0 and the
 * context in *out (owned by the caller), or -EINVAL after reporting every
 * problem, -ENOMEM. Nothing is left allocated on failure.
 */
STLS_MUST_USE int stls__profile_ctx_build(const struct stls__build *b,
					  SSL_CTX **out);

/*
 * File-valued keys (profile_pem.c): value v names a file, or is PEM text
 * when pem (stls_profile_conf_is_pem() of its field).
 *
 * stls__profile_src_name: v itself for a file, "(PEM value)" for PEM text
 * (for messages: PEM text is never printed).
 * stls__profile_open: a BIO reading v (the file, or the text in place:
 * v must outlive the BIO). A missing or unreadable file is reported at
 * field f as "<key>: cannot load '<path>': <reason>"; NULL then.
 * stls__profile_use_chain_bio: SSL_CTX_use_certificate_chain_file() on a
 * BIO. Returns 1, or 0 with the reason on OpenSSL's error queue.
 */
const char *stls__profile_src_name(const char *v, bool pem);
BIO *stls__profile_open(const struct stls__build *b, enum stls_pf f,
			const char *key, const char *v, bool pem);
int stls__profile_use_chain_bio(SSL_CTX *ctx, BIO *bio);

/*
 * Verification (profile_verify.c): sets the verify mode, callback and depth
 * of <ctx> from the profile, loads ca_list, ca_path and crl, and warns
 * about unsafe combinations. Problems are reported; returns the number of
 * errors reported (0 = fine).
 */
int stls__profile_verify_apply(const struct stls__build *b, SSL_CTX *ctx);

/* The OpenSSL verify mode for a profile (behaviour study 5.1). */
int stls__profile_verify_mode(const struct stls_profile_conf *c);

/*
 * Installs the SNI callback on a server context (profile_match.c).
 * Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__profile_sni_install(SSL_CTX *ctx);

#endif
