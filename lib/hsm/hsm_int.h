/*
 * Internals of lib/hsm. Not a public interface.
 *
 * A key source is one way of turning a key id into an EVP_PKEY. Two exist:
 * the engine (hsm_engine.c: the only file that uses OpenSSL's deprecated
 * ENGINE API, built only when the headers still offer it) and OpenSSL's
 * store loaders (hsm_store.c: OSSL_STORE, which is where an OpenSSL 3
 * provider such as pkcs11-provider plugs in). hsm.c routes each key id to
 * one of them; a provider-based source needs no new code path here (see
 * docs/hsm.md, "From engine to provider").
 */
#ifndef STLS_HSM_INT_H
#define STLS_HSM_INT_H

#include <stdarg.h>

#include <openssl/ui.h>

#include "stls/hsm.h"

/* The interface a key source implements. */
struct stls__hsm_source {
	const char *name;
	/*
	 * Starts engine <id> and makes <algorithms> (NULL: none) its
	 * defaults. <quiet>: ask the engine not to print on stderr.
	 * Returns 0 or -errno with err set. Main thread.
	 */
	int (*start)(const char *id, const char *algorithms, bool quiet,
		     struct stls_hsm_err *err);
	/*
	 * Loads key <id> as the source understands it; <pin> may be NULL.
	 * Returns 0 and *out, or -errno with err set. Control thread.
	 */
	int (*load)(const char *id, const char *pin, EVP_PKEY **out,
		    struct stls_hsm_err *err);
	/* Releases what start() took. Main thread. */
	void (*stop)(void);
};

#ifdef STLS_HAVE_ENGINE
extern const struct stls__hsm_source stls__hsm_engine_source;
#endif
extern const struct stls__hsm_source stls__hsm_store_source;

/*
 * The answer to a token's PIN prompt (hsm_pin.c): OpenSSL's UI asks, the
 * reader answers from <pin> (NULL: no answer, the prompt fails) and notes
 * that it was asked. Passed as the UI's user data.
 */
struct stls__hsm_pin {
	const char *pin; /* borrowed */
	bool asked;
};

/*
 * The UI method whose reader answers from a struct stls__hsm_pin: never a
 * terminal prompt. Made once; NULL when out of memory. Any thread.
 */
UI_METHOD *stls__hsm_ui(void);

/* The -errno a key load returns for <cause>: -EACCES (PIN), -ENODEV (no
 * token or no loader), -EINVAL (a malformed key id), else -ENOENT. */
int stls__hsm_cause_errno(enum stls_hsm_cause cause);

/* Sets err->cause and a formatted message. */
void stls__hsm_err_set(struct stls_hsm_err *err, enum stls_hsm_cause cause,
		       const char *fmt, ...) STLS_PRINTF(3, 4);

/*
 * Reads the calling thread's OpenSSL error queue (and empties it) to name
 * the cause of a failed key operation: PKCS#11 return values that libp11
 * puts there (PIN incorrect, token not present, ...), engine and store
 * reasons. Returns <fallback> when nothing there is known. The readable
 * reasons go to why[0..len). Any thread.
 */
enum stls_hsm_cause stls__hsm_cause_drain(enum stls_hsm_cause fallback,
					  char *why, size_t len);

/*
 * The engine_config file (hsm_conf.c): checks that it can be read, warns
 * when it holds a PIN or password and group or others may read it, then
 * applies it to OpenSSL under the application name "siptls" (or
 * "kamailio", so that the seed's file works unchanged, or the default
 * "openssl_conf"). When <engine> names an engine section there, its
 * MODULE_PATH is copied into module[0..len) ("" when none).
 * Returns 0 or -errno with the problem in <diag> at <loc>. Main thread.
 */
int stls__hsm_conf_apply(const char *path, const char *engine,
			 const struct stls_loc *loc, struct stls_diag *diag,
			 char *module, size_t len);

/*
 * Keeps every dynamic engine that is loaded now mapped until exit
 * (hsm_dso.c). Main thread, after engine_config and the engine loaded.
 */
void stls__hsm_keep_engines(void);

/*
 * Is a token that matches the token attributes of URI <uri> present in
 * PKCS#11 module <module> (NULL or "": p11-kit's proxy, libp11's default)?
 * Asks the module directly (no login, no session), to tell "token absent"
 * from "key not found" when the engine says only "object not found".
 * Returns 1 (present), 0 (absent) or -errno (cannot tell). Control thread.
 */
int stls__p11_token_present(const char *module, const char *uri);

#endif
