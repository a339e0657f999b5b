/*
 * Draining the OpenSSL error queue into readable text (see ossl_err.h).
 *
 * OpenSSL 3 pushes several entries for one failure: the innermost cause
 * first (for example "No such file or directory" from the system library),
 * then each layer that passed it up, often with a generic reason such as
 * "system lib" or "PEM lib". The readable part is the list of specific
 * reasons, innermost first.
 */
#include "tls/ossl_err.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "stls/log.h"

void stls__ossl_err_clear(void)
{
	char buf[STLS_OSSL_ERR_MAX];

	if (ERR_peek_error() == 0) {
		return;
	}
	STLS_DBG("dropping stale OpenSSL errors: %s",
		 stls__ossl_err_drain(buf, sizeof(buf)));
}

/* Generic reasons that only say which layer passed the error on. */
static bool is_generic(const char *reason)
{
	size_t n = strlen(reason);

	return n > 4 && strcmp(reason + n - 4, " lib") == 0;
}

static void append(char *buf, size_t len, size_t *used, const char *s)
{
	int n;

	if (*used >= len - 1) {
		return;
	}
	n = snprintf(buf + *used, len - *used, "%s%s", *used ? ": " : "", s);
	if (n > 0) {
		*used += (size_t)n;
	}
	if (*used > len - 1) {
		*used = len - 1;
	}
}

const char *stls__ossl_err_drain(char *buf, size_t len)
{
	const char *last = NULL, *generic = NULL;
	unsigned long e;
	size_t used = 0;
	char code[32];

	if (len == 0) {
		return buf;
	}
	buf[0] = '\0';
	/* Reason strings exist once loaded (a no-op after the first time). */
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
			 OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);

		if (!r && ERR_SYSTEM_ERROR(e)) {
			r = strerror(ERR_GET_REASON(e));
		}
		if (!r) {
			snprintf(code, sizeof(code), "error:%08lX", e);
			r = code;
		} else if (is_generic(r)) {
			generic = r;
			continue;
		}
		if (last && r != code && strcmp(last, r) == 0) {
			continue;
		}
		append(buf, len, &used, r);
		last = r == code ? NULL : r;
	}
	if (used == 0) {
		snprintf(buf, len, "%s", generic ? generic :
			 "unknown OpenSSL error");
	}
	return buf;
}
