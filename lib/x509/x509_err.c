/*
 * Error messages of the x509 room: the caller's message buffer, and the
 * reason OpenSSL's error queue gives (its first entry, the root cause).
 * The lowest file of the room: every other file may call it, it calls
 * none of them.
 */
#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>

#include "x509/x509_int.h"

void stls_x509_err_set(struct stls_x509_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

const char *stls__x509_ssl_reason(char *buf, size_t len)
{
	unsigned long e, last = 0;
	const char *reason;

	/* The first error is usually the root cause; later ones add context. */
	while ((e = ERR_get_error()) != 0) {
		if (!last) {
			last = e;
		}
	}
	buf[0] = '\0';
	if (last) {
		reason = ERR_reason_error_string(last);
		if (reason) {
			snprintf(buf, len, "%s", reason);
		} else {
			ERR_error_string_n(last, buf, len);
		}
	}
	return buf;
}

void stls__x509_err_ssl(struct stls_x509_err *err, const char *what)
{
	char reason[160];

	stls__x509_ssl_reason(reason, sizeof(reason));
	if (reason[0]) {
		stls_x509_err_set(err, "%s: %s", what, reason);
	} else {
		stls_x509_err_set(err, "%s", what);
	}
}
