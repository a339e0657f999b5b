/*
 * PKCS#11 URIs (RFC 7512) as far as siptls needs them: reading one
 * attribute, and hiding a PIN before a key id is printed.
 *
 * A URI is "pkcs11:" then path attributes separated by ';' (token, object,
 * id, serial, slot-id, ...) and, after '?', query attributes separated by
 * '&' (pin-value, pin-source, module-path, module-name). Values are
 * percent-encoded. No OpenSSL here: lib/conf uses the redaction too.
 */
#ifndef STLS_P11URI_H
#define STLS_P11URI_H

#include <stddef.h>

#include "stls/common.h"

/* True when <s> starts with "pkcs11:" (the scheme is case-insensitive). */
bool stls_p11uri_is(const char *s);

/*
 * Writes the percent-decoded value of attribute <name> ("token",
 * "pin-value", ...) of URI <uri> into out[0..len) (NUL-terminated).
 * Path attributes are searched first, then query attributes.
 * Returns the decoded length, -ENOENT when the URI has no such attribute,
 * -EINVAL when <uri> is not a pkcs11: URI or a value is badly encoded,
 * -ENOBUFS when out is too small. Any thread.
 */
STLS_MUST_USE int stls_p11uri_get(const char *uri, const char *name,
				  char *out, size_t len);

/*
 * Copies key id <id> (a URI, "/engine:...", anything) into out[0..len)
 * with the value of every "pin-value=" replaced by "***", so that a PIN
 * written into a key id never reaches a log, a reply or a diagnostic.
 * Truncates to fit; always NUL-terminated. Returns out. Any thread.
 */
const char *stls_p11uri_redact(const char *id, char *out, size_t len);

#endif
