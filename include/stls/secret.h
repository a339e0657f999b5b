/*
 * Secrets kept in a file of their own (a private key password, a PIN):
 * the first line of the file, without its line end. One reader for the
 * daemon's `private_key_password_file` and siptlsctl's password files, so
 * that every one of them refuses the same things: a file that is not a
 * regular file, an empty first line, a first line too long for the
 * caller's buffer (never silently cut). No OpenSSL here.
 */
#ifndef STLS_SECRET_H
#define STLS_SECRET_H

#include <stddef.h>

#include "stls/common.h"

/* Room for the longest secret siptls reads (OpenSSL's PEM_BUFSIZE). */
#define STLS_SECRET_MAX 1024

/*
 * Reads the first line of <path> into buf[0..len) (NUL-terminated, the
 * "\n" or "\r\n" removed). When mode is not NULL it receives the file's
 * permission bits, so that the caller can warn about a secret that group
 * or others may read. Every byte read past the line is wiped, and buf is
 * wiped on failure. On failure why[0..why_len) says what is wrong in a
 * sentence that names path but never holds a byte of the file.
 * Returns 0, -errno of open/read (-ENOENT, -EACCES, ...), -EINVAL when
 * path is not a regular file or the first line holds a NUL byte (a
 * secret is never cut short), -ENODATA when the first line is empty,
 * -E2BIG when it does not fit in len - 1 bytes. Any thread.
 */
STLS_MUST_USE int stls_secret_read(const char *path, char *buf, size_t len,
				   unsigned *mode, char *why, size_t why_len);

#endif
