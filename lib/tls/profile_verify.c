/*
 * Peer verification of a profile: verify mode, callback and depth, and the
 * trust material (ca_list, ca_path, crl).
 *
 * The mode follows the behaviour study, section 5.1, in this order:
 *   require_certificate = 1 or verify_client = on
 *       -> SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
 *   verify_certificate = 1 or verify_client = optional / optional_no_ca
 *       -> SSL_VERIFY_PEER
 *   otherwise -> SSL_VERIFY_NONE
 * optional_no_ca installs a callback that overrides every verification
 * failure, so the handshake goes on, while OpenSSL still stores the first
 * real failure as the verify result (SSL_get_verify_result tells the truth,
 * which $tls_peer_verified and is_peer_verified rely on).
 *
 * ca_list certificates are trusted and also advertised in the
 * CertificateRequest; ca_path is a hashed directory used for lookup only.
 * A crl file turns on CRL checks for the whole chain (CRL_CHECK_ALL): every
 * CA in the chain then needs a valid CRL, as in the seed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "stls/log.h"
#include "tls/ossl_err.h"
#include "tls/profile_int.h"

#define VERIFY_REQUIRE (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT)

/* What verify_client alone asks for, by value. */
static const int vc_modes[STLS_VC__COUNT] = {
	[STLS_VC_OFF] = SSL_VERIFY_NONE,
	[STLS_VC_ON] = VERIFY_REQUIRE,
	[STLS_VC_OPTIONAL] = SSL_VERIFY_PEER,
	[STLS_VC_OPTIONAL_NO_CA] = SSL_VERIFY_PEER,
};

int stls__profile_verify_mode(const struct stls_profile_conf *c)
{
	int vc = c->verify_client;
	int mode = SSL_VERIFY_NONE;

	if (vc >= 0 && vc < STLS_VC__COUNT) {
		mode = vc_modes[vc];
	}
	if (c->require_certificate == 1) {
		mode = VERIFY_REQUIRE;
	} else if (c->verify_certificate == 1 && mode == SSL_VERIFY_NONE) {
		mode = SSL_VERIFY_PEER;
	}
	return mode;
}

/* X509_STORE_CTX ex_data slot: the first error of one verification + 1. */
static pthread_once_t first_once = PTHREAD_ONCE_INIT;
static int first_index = -1;

static void first_index_init(void)
{
	first_index = X509_STORE_CTX_get_ex_new_index(0, NULL, NULL, NULL,
						      NULL);
}

/*
 * optional_no_ca: accept every certificate. Returning 1 only lets the
 * verification continue; the store context keeps the error, and OpenSSL
 * copies it into the SSL's verify result. Going on past a failure can
 * raise follow-up errors (an unknown issuer is followed by "unable to
 * verify the first certificate"), so the first error is put back each
 * time: the result is the one a verifying mode would have reported.
 */
static int accept_any(int ok, X509_STORE_CTX *sctx)
{
	intptr_t first;
	int e;

	if (ok || pthread_once(&first_once, first_index_init) != 0 ||
	    first_index < 0) {
		return 1;
	}
	e = X509_STORE_CTX_get_error(sctx);
	first = (intptr_t)X509_STORE_CTX_get_ex_data(sctx, first_index);
	if (first == 0) {
		X509_STORE_CTX_set_ex_data(sctx, first_index,
					   (void *)(intptr_t)(e + 1));
	} else {
		X509_STORE_CTX_set_error(sctx, (int)(first - 1));
	}
	STLS_DBG("optional_no_ca: accepting certificate at depth %d despite: "
		 "%s", X509_STORE_CTX_get_error_depth(sctx),
		 X509_verify_cert_error_string(e));
	return 1;
}

/* Reads every PEM object of a file or PEM value. NULL after reporting
 * the problem. */
static STACK_OF(X509_INFO) *read_infos(const struct stls__build *b,
				       enum stls_pf f, const char *key,
				       const char *path)
{
	bool pem = stls_profile_conf_is_pem(b->c, f);
	char why[STLS_OSSL_ERR_MAX];
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *bio;

	bio = stls__profile_open(b, f, key, path, pem);
	if (!bio) {
		return NULL;
	}
	stls__ossl_err_clear();
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!infos) {
		stls__build_err(b, f, "%s: cannot load '%s': %s", key,
				stls__profile_src_name(path, pem),
				stls__ossl_err_drain(why, sizeof(why)));
	}
	return infos;
}

/*
 * Adds the certificates and CRLs of <infos> to the context's store (and the
 * certificates' subjects to the client CA list when <advertise>). Counts
 * what was added. Returns 0 or -ENOMEM.
 */
static int add_infos(SSL_CTX *ctx, STACK_OF(X509_INFO) *infos,
		     bool advertise, int *ncerts, int *ncrls)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	int i;

	*ncerts = *ncrls = 0;
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (xi->x509) {
			if (!X509_STORE_add_cert(store, xi->x509) ||
			    (advertise && !SSL_CTX_add_client_CA(ctx, xi->x509))) {
				return -ENOMEM;
			}
			(*ncerts)++;
		}
		if (xi->crl) {
			if (!X509_STORE_add_crl(store, xi->crl)) {
				return -ENOMEM;
			}
			(*ncrls)++;
		}
	}
	return 0;
}

static void load_ca_list(const struct stls__build *b, SSL_CTX *ctx)
{
	const char *path = b->c->ca_list;
	const char *name = stls__profile_src_name(
		path, stls_profile_conf_is_pem(b->c, STLS_PF_CA_LIST));
	STACK_OF(X509_INFO) *infos;
	int ncerts = 0, ncrls = 0;

	infos = read_infos(b, STLS_PF_CA_LIST, "ca_list", path);
	if (!infos) {
		return;
	}
	stls__ossl_err_clear();
	if (add_infos(ctx, infos, b->c->role == STLS_ROLE_SERVER, &ncerts,
		      &ncrls) != 0) {
		ERR_clear_error();
		stls__build_err(b, STLS_PF_CA_LIST,
				"ca_list: cannot add '%s': out of memory",
				name);
	} else if (ncerts == 0) {
		stls__build_err(b, STLS_PF_CA_LIST,
				"ca_list: no certificate in '%s'", name);
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
}

static void load_ca_path(const struct stls__build *b, SSL_CTX *ctx)
{
	const char *path = b->c->ca_path;
	char why[STLS_OSSL_ERR_MAX];
	struct stat st;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		stls__build_err(b, STLS_PF_CA_PATH,
				"ca_path: '%s' is not a directory", path);
		return;
	}
	if (stat(path, &st) != 0 || access(path, R_OK | X_OK) != 0) {
		stls__build_err(b, STLS_PF_CA_PATH,
				"ca_path: cannot read '%s': %s", path,
				strerror(errno));
		return;
	}
	stls__ossl_err_clear();
	if (!SSL_CTX_load_verify_dir(ctx, path)) {
		stls__build_err(b, STLS_PF_CA_PATH,
				"ca_path: cannot use '%s': %s", path,
				stls__ossl_err_drain(why, sizeof(why)));
	}
}

/* Warns about every CRL of <infos> whose nextUpdate has passed. */
static void check_crl_dates(const struct stls__build *b, const char *path,
			    STACK_OF(X509_INFO) *infos)
{
	char when[48], issuer[256];
	int i;

	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_CRL *crl = sk_X509_INFO_value(infos, i)->crl;
		const ASN1_TIME *nu = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;

		if (!nu || X509_cmp_current_time(nu) > 0) {
			continue;
		}
		X509_NAME_oneline(X509_CRL_get_issuer(crl), issuer,
				  sizeof(issuer));
		stls__build_warn(b, STLS_PF_CRL,
				 "crl: the CRL of '%s' in '%s' is past its "
				 "nextUpdate (%s)", issuer, path,
				 stls__asn1_time_str(nu, when, sizeof(when)));
	}
}

static void load_crl(const struct stls__build *b, SSL_CTX *ctx)
{
	const char *path = b->c->crl;
	const char *name = stls__profile_src_name(
		path, stls_profile_conf_is_pem(b->c, STLS_PF_CRL));
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509_INFO) *infos;
	int ncerts = 0, ncrls = 0;

	infos = read_infos(b, STLS_PF_CRL, "crl", path);
	if (!infos) {
		return;
	}
	stls__ossl_err_clear();
	if (add_infos(ctx, infos, false, &ncerts, &ncrls) != 0) {
		ERR_clear_error();
		stls__build_err(b, STLS_PF_CRL,
				"crl: cannot add '%s': out of memory", name);
	} else if (ncrls == 0) {
		stls__build_err(b, STLS_PF_CRL, "crl: no CRL found in '%s'",
				name);
	} else {
		check_crl_dates(b, name, infos);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
				     X509_V_FLAG_CRL_CHECK_ALL);
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
}

/* The key a verification warning points at: the one that was written. */
static enum stls_pf verify_key(const struct stls_profile_conf *c)
{
	if (stls_loc_is_set(&c->field_loc[STLS_PF_VERIFY_CLIENT])) {
		return STLS_PF_VERIFY_CLIENT;
	}
	if (stls_loc_is_set(&c->field_loc[STLS_PF_REQUIRE_CERTIFICATE])) {
		return STLS_PF_REQUIRE_CERTIFICATE;
	}
	return STLS_PF_VERIFY_CERTIFICATE;
}

static void warn_verify(const struct stls__build *b, int mode)
{
	const struct stls_profile_conf *c = b->c;
	bool trust = has_str(c->ca_list) || has_str(c->ca_path);

	/* The implicit client default is only warned about once written. */
	if (mode == SSL_VERIFY_NONE && c->role == STLS_ROLE_CLIENT &&
	    !c->implicit) {
		stls__build_warn(b, verify_key(c),
				 "verification is off: the server's "
				 "certificate is not checked (set "
				 "verify_certificate = 1 and a ca_list)");
	}
	if (mode == SSL_VERIFY_NONE && has_str(c->crl)) {
		stls__build_warn(b, STLS_PF_CRL,
				 "crl: has no effect while verification is "
				 "off");
	}
	if (mode != SSL_VERIFY_NONE && !trust &&
	    c->verify_client != STLS_VC_OPTIONAL_NO_CA) {
		stls__build_warn(b, verify_key(c),
				 "verification is on but neither ca_list "
				 "nor ca_path is set: every peer "
				 "certificate will fail");
	}
}

int stls__profile_verify_apply(const struct stls__build *b, SSL_CTX *ctx)
{
	const struct stls_profile_conf *c = b->c;
	size_t errors0 = b->diag->errors;
	int mode = stls__profile_verify_mode(c);
	int depth = c->verify_depth >= 0 ? c->verify_depth : 9;

	SSL_CTX_set_verify(ctx, mode,
			   c->verify_client == STLS_VC_OPTIONAL_NO_CA ?
				   accept_any : NULL);
	SSL_CTX_set_verify_depth(ctx, depth);
	if (has_str(c->ca_list)) {
		load_ca_list(b, ctx);
	}
	if (has_str(c->ca_path)) {
		load_ca_path(b, ctx);
	}
	if (has_str(c->crl)) {
		load_crl(b, ctx);
	}
	warn_verify(b, mode);
	return (int)(b->diag->errors - errors0);
}
