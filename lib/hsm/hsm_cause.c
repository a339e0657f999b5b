/*
 * Naming the cause of a failed HSM key operation from the OpenSSL error
 * queue (see hsm_int.h), and the cause names.
 *
 * libp11 (the pkcs11 engine) puts the PKCS#11 return value of the call
 * that failed on the queue as the reason code of its own error library
 * ("PKCS#11 module"), so CKR_PIN_INCORRECT arrives as reason 0xA0. Its
 * library number is given out at run time, so the library is recognised
 * by name. Everything else is OpenSSL's own libraries (UI: the PIN prompt
 * found no PIN; OSSL_STORE: no loader for the scheme; ENGINE: no such
 * engine). The text keeps the specific reasons, innermost first, as
 * lib/tls/ossl_err.c does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/engineerr.h>
#include <openssl/err.h>
#include <openssl/store.h>
#include <openssl/ui.h>

#include "hsm/hsm_int.h"

#include <errno.h>

const char *const stls_hsm_cause_names[STLS_HSM__COUNT] = {
	[STLS_HSM_OK] = "ok",
	[STLS_HSM_NO_SUPPORT] = "engine support not built in",
	[STLS_HSM_NO_ENGINE] = "no engine configured",
	[STLS_HSM_ENGINE_NOT_FOUND] = "engine not found",
	[STLS_HSM_ENGINE_INIT] = "engine failed to start",
	[STLS_HSM_ENGINE_ALGORITHMS] = "engine algorithms refused",
	[STLS_HSM_CONFIG_UNREADABLE] = "engine config unreadable",
	[STLS_HSM_CONFIG_INVALID] = "engine config invalid",
	[STLS_HSM_PIN_MISSING] = "PIN missing",
	[STLS_HSM_PIN_REFUSED] = "PIN refused",
	[STLS_HSM_TOKEN_ABSENT] = "token absent",
	[STLS_HSM_KEY_NOT_FOUND] = "key not found",
	[STLS_HSM_KEY_ID_INVALID] = "key id invalid",
	[STLS_HSM_NO_LOADER] = "no loader for this URI",
	[STLS_HSM_KEY_MISMATCH] = "key does not match the certificate",
	[STLS_HSM_KEY_CANNOT_SIGN] = "key cannot sign",
	[STLS_HSM_OTHER] = "key operation failed",
};

int stls__hsm_cause_errno(enum stls_hsm_cause cause)
{
	switch (cause) {
	case STLS_HSM_PIN_MISSING:
	case STLS_HSM_PIN_REFUSED:
		return -EACCES;
	case STLS_HSM_NO_LOADER:
	case STLS_HSM_TOKEN_ABSENT:
		return -ENODEV;
	case STLS_HSM_KEY_ID_INVALID:
		return -EINVAL;
	default:
		return -ENOENT;
	}
}

void stls__hsm_err_set(struct stls_hsm_err *err, enum stls_hsm_cause cause,
		       const char *fmt, ...)
{
	va_list ap;

	err->cause = cause;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* PKCS#11 return values (PKCS#11 v2.40 section 11.1) worth telling. */
static enum stls_hsm_cause from_ckr(unsigned long ckr)
{
	switch (ckr) {
	case 0xA0: /* CKR_PIN_INCORRECT */
	case 0xA1: /* CKR_PIN_INVALID */
	case 0xA2: /* CKR_PIN_LEN_RANGE */
	case 0xA3: /* CKR_PIN_EXPIRED */
	case 0xA4: /* CKR_PIN_LOCKED */
		return STLS_HSM_PIN_REFUSED;
	case 0x101: /* CKR_USER_NOT_LOGGED_IN */
		return STLS_HSM_PIN_MISSING;
	case 0x03: /* CKR_SLOT_ID_INVALID */
	case 0x30: /* CKR_DEVICE_ERROR */
	case 0x32: /* CKR_DEVICE_REMOVED */
	case 0xB0: /* CKR_SESSION_CLOSED */
	case 0xB3: /* CKR_SESSION_HANDLE_INVALID */
	case 0xE0: /* CKR_TOKEN_NOT_PRESENT */
	case 0xE1: /* CKR_TOKEN_NOT_RECOGNIZED */
		return STLS_HSM_TOKEN_ABSENT;
	case 0x60: /* CKR_KEY_HANDLE_INVALID */
	case 0x82: /* CKR_OBJECT_HANDLE_INVALID */
		return STLS_HSM_KEY_NOT_FOUND;
	case 0x63: /* CKR_KEY_TYPE_INCONSISTENT */
	case 0x68: /* CKR_KEY_FUNCTION_NOT_PERMITTED */
	case 0x70: /* CKR_MECHANISM_INVALID */
	case 0x71: /* CKR_MECHANISM_PARAM_INVALID */
		return STLS_HSM_KEY_CANNOT_SIGN;
	default:
		return STLS_HSM__COUNT;
	}
}

/* The cause one queue entry stands for, or STLS_HSM__COUNT. */
static enum stls_hsm_cause classify(unsigned long e)
{
	const char *lib = ERR_lib_error_string(e);
	const char *reason = ERR_reason_error_string(e);
	int l = ERR_GET_LIB(e), r = ERR_GET_REASON(e);

	if (lib && strstr(lib, "PKCS#11")) {
		return from_ckr((unsigned long)r);
	}
	if (lib && strstr(lib, "pkcs11 engine") && reason) {
		if (strstr(reason, "object not found")) {
			return STLS_HSM_KEY_NOT_FOUND;
		}
		if (strstr(reason, "invalid id")) {
			return STLS_HSM_KEY_ID_INVALID;
		}
	}
	if (l == ERR_LIB_UI) {
		return STLS_HSM_PIN_MISSING;
	}
	if (l == ERR_LIB_OSSL_STORE &&
	    r == OSSL_STORE_R_UNREGISTERED_SCHEME) {
		return STLS_HSM_NO_LOADER;
	}
#ifndef OPENSSL_NO_ENGINE
	if (l == ERR_LIB_ENGINE && (r == ENGINE_R_NO_SUCH_ENGINE ||
				    r == ENGINE_R_DSO_NOT_FOUND ||
				    r == ENGINE_R_DSO_FAILURE)) {
		return STLS_HSM_ENGINE_NOT_FOUND;
	}
#endif
	if (l == ERR_LIB_SYS) {
		return STLS_HSM_KEY_NOT_FOUND;
	}
	return STLS_HSM__COUNT;
}

static void append(char *buf, size_t len, size_t *used, const char *s)
{
	int n;

	if (*used + 1 >= len) {
		return;
	}
	n = snprintf(buf + *used, len - *used, "%s%s", *used ? ": " : "", s);
	if (n > 0) {
		*used += (size_t)n;
	}
	if (*used >= len) {
		*used = len - 1;
	}
}

/* Reasons that only name the layer that passed an error on. */
static bool is_generic(const char *r)
{
	size_t n = strlen(r);

	return (n > 4 && strcmp(r + n - 4, " lib") == 0) ||
	       strcmp(r, "failed loading private key") == 0;
}

enum stls_hsm_cause stls__hsm_cause_drain(enum stls_hsm_cause fallback,
					  char *why, size_t len)
{
	enum stls_hsm_cause cause = STLS_HSM__COUNT, c;
	const char *last = NULL;
	unsigned long e;
	size_t used = 0;
	char code[40];

	if (len) {
		why[0] = '\0';
	}
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);

		c = classify(e);
		/* The innermost known cause wins: it is the one that
		 * happened; outer layers only report it. OSSL_STORE says
		 * "unregistered scheme" for its legacy loaders before a
		 * provider tries the URI, so that one yields to any other. */
		if (cause == STLS_HSM__COUNT ||
		    (cause == STLS_HSM_NO_LOADER && c != STLS_HSM__COUNT)) {
			cause = c;
		}
		if (!r && ERR_SYSTEM_ERROR(e)) {
			r = strerror(ERR_GET_REASON(e));
		}
		if (!r) {
			snprintf(code, sizeof(code), "error:%08lX", e);
			r = code;
		}
		if (is_generic(r) || (last && strcmp(last, r) == 0)) {
			continue;
		}
		if (len) {
			append(why, len, &used, r);
		}
		last = r == code ? NULL : r;
	}
	if (len && used == 0) {
		snprintf(why, len, "no detail from OpenSSL");
	}
	return cause == STLS_HSM__COUNT ? fallback : cause;
}
