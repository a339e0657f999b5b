/*
 * Private keys that stay in a hardware security module (docs/hsm.md; the
 * seed's section 9 and parameters 10.35-10.37).
 *
 * A key id names where a key lives instead of a PEM file:
 *   /engine:ID        ID as the configured engine understands it (the
 *                     pkcs11 engine: an RFC 7512 URI; other engines: their
 *                     key label);
 *   pkcs11:...        an RFC 7512 URI: through the engine when [tls]
 *                     engine is set, else through OpenSSL's store loaders;
 *   /uri:URI          any OSSL_STORE URI (file:, or pkcs11: with a
 *                     provider that handles it), never through the engine.
 * The certificate and the CA list stay files, as the seed assumes.
 *
 * Life cycle: stls_hsm_init() runs once in the process, before any worker
 * thread starts (siptlsd does it right after reading its config): it reads
 * engine_config (OpenSSL configuration: engine ctrls such as the PIN, or
 * providers), starts the engine and makes engine_algorithms its defaults.
 * Keys are then loaded on the control thread while profile sets are built;
 * an EVP_PKEY from here is used by every worker at once (the engine's own
 * locking makes concurrent signing safe: docs/hsm.md shows the test and
 * the figures). stls_hsm_fini() runs after the workers stopped.
 *
 * Every failure names its cause (enum stls_hsm_cause) so that --check and
 * tls.reload can say "PIN refused" rather than "cannot load key". PINs and
 * key material never reach a message: key ids are printed through
 * stls_p11uri_redact().
 */
#ifndef STLS_HSM_H
#define STLS_HSM_H

#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "stls/common.h"
#include "stls/conf.h"
#include "stls/diag.h"
#include "stls/settings.h"

/* Why an HSM key could not be had or used. */
enum stls_hsm_cause {
	STLS_HSM_OK,
	STLS_HSM_NO_SUPPORT,         /* engine support not built in */
	STLS_HSM_NO_ENGINE,          /* /engine: key, [tls] engine unset */
	STLS_HSM_ENGINE_NOT_FOUND,   /* no engine by that id */
	STLS_HSM_ENGINE_INIT,        /* the engine refused to start */
	STLS_HSM_ENGINE_ALGORITHMS,  /* engine_algorithms refused */
	STLS_HSM_CONFIG_UNREADABLE,  /* engine_config cannot be read */
	STLS_HSM_CONFIG_INVALID,     /* engine_config does not parse/apply */
	STLS_HSM_PIN_MISSING,        /* the token wants a PIN, none given */
	STLS_HSM_PIN_REFUSED,        /* the token refused the PIN */
	STLS_HSM_TOKEN_ABSENT,       /* no token matches the key id */
	STLS_HSM_KEY_NOT_FOUND,      /* token there, key label/id not */
	STLS_HSM_KEY_ID_INVALID,     /* the engine does not parse the id */
	STLS_HSM_NO_LOADER,          /* no store loader for the URI scheme */
	STLS_HSM_KEY_MISMATCH,       /* key type/value differs from the cert */
	STLS_HSM_KEY_CANNOT_SIGN,    /* a signature the profile needs fails */
	STLS_HSM_OTHER,
	STLS_HSM__COUNT
};

/* "engine not found", "PIN refused", ... indexed by the enum. */
extern const char *const stls_hsm_cause_names[STLS_HSM__COUNT];

/* A failure: its cause and one readable line (never holds a PIN). */
struct stls_hsm_err {
	enum stls_hsm_cause cause;
	char msg[512];
};

/* The three global parameters and where they were written. */
struct stls_hsm_conf {
	const char *engine;            /* NULL, "" or "NONE": no engine */
	const char *engine_config;     /* OpenSSL config file, or NULL */
	const char *engine_algorithms; /* "ALL", "RSA,EC", ... or NULL */
	struct stls_loc engine_loc;    /* line 0: not written / unknown */
	struct stls_loc config_loc;
	struct stls_loc algorithms_loc;
};

/* The parameters of <s>, without locations. */
void stls_hsm_conf_from_settings(const struct stls_settings *s,
				 struct stls_hsm_conf *out);

/* The parameters of a loaded main config, with their [tls] lines. */
void stls_hsm_conf_from_conf(const struct stls_conf *c,
			     struct stls_hsm_conf *out);

/*
 * Reads engine_config (when set), starts the engine (when set) and sets
 * its default algorithms. Problems go to <diag> at the parameter's line,
 * naming the cause; a group- or world-readable engine_config that holds a
 * PIN or password is warned about. Does nothing when neither engine nor
 * engine_config is set. Once it succeeded, later calls with the same
 * parameters return 0 at once; other parameters return -EALREADY (the
 * engine is global to the process; change it with a restart).
 * Returns 0, -EINVAL (errors in diag), -EALREADY or -ENOMEM.
 * Main thread, before workers start; <c> is borrowed.
 */
STLS_MUST_USE int stls_hsm_init(const struct stls_hsm_conf *c,
				struct stls_diag *diag);

/* Whether stls_hsm_init() succeeded with an engine. Any thread. */
bool stls_hsm_has_engine(void);

/*
 * Stops the engine and forgets the parameters. Keys loaded earlier keep
 * their own references (free them first for a clean shutdown).
 * Main thread, after the workers stopped.
 */
void stls_hsm_fini(void);

/* True when <key> is a key id (/engine:, /uri:, pkcs11:), not a file. */
bool stls_hsm_is_key_id(const char *key);

/*
 * Loads the private key named by key id <id> (see the top of this file).
 * <pin> (may be NULL) answers the token's PIN prompt when neither
 * engine_config nor the URI gives one (a profile's private_key_password).
 * A PIN refused once, when it came from engine_config, is not offered again
 * in this process: tokens lock after a few wrong PINs.
 * Returns 0 and *out (owned by the caller), or -errno with err->cause and
 * err->msg set: -ENODEV (engine/token/support missing), -EACCES (PIN),
 * -ENOENT (key not found), -EINVAL (bad id), -ENOMEM. Control thread.
 */
STLS_MUST_USE int stls_hsm_key_load(const char *id, const char *pin,
				    EVP_PKEY **out,
				    struct stls_hsm_err *err);

/* True for a key that stls_hsm_key_load() returned. Any thread. */
bool stls_hsm_key_is_hsm(const EVP_PKEY *key);

/*
 * Checks that <key> can serve certificate <cert> for protocol versions
 * <min_version>..<max_version> (TLS1_2_VERSION, TLS1_3_VERSION; 0 = no
 * bound): same key type, same public key, and one real signature per
 * signature scheme those versions use with this key type (RSA: PKCS#1
 * v1.5 for TLS 1.2 and RSA-PSS for both; EC: ECDSA with the curve's
 * hash), each verified with the certificate's public key. The test
 * signatures go through the token, so a key that exists but may not sign
 * (CKA_SIGN false, a mechanism the HSM lacks) is found here and not at
 * the first handshake.
 * Returns 0, or -EKEYREJECTED (KEY_MISMATCH), -EPERM (KEY_CANNOT_SIGN,
 * msg names the scheme), -ENODEV (token gone), -ENOMEM. Control thread.
 */
STLS_MUST_USE int stls_hsm_key_check(X509 *cert, EVP_PKEY *key,
				     int min_version, int max_version,
				     struct stls_hsm_err *err);

/*
 * A handshake failed while <who> (a profile name) signed with an HSM key:
 * counts it, and logs a warning with <detail> at most once per
 * STLS_HSM_LOG_INTERVAL seconds (saying how many failed meanwhile), so a
 * token that went away cannot flood the log. Any thread.
 */
void stls_hsm_key_failed(const char *who, const char *detail);

#define STLS_HSM_LOG_INTERVAL 60

/* Handshakes failed by HSM key operations since start. Any thread. */
uint64_t stls_hsm_key_failures(void);

#endif
