/*
 * The one place that reads the OpenSSL error queue.
 *
 * OpenSSL reports failures by pushing entries on a per-thread queue. Every
 * caller clears the queue before an OpenSSL call whose failure it will
 * report (so stale entries are not blamed on it) and drains it right after,
 * turning the entries into one readable line.
 */
#ifndef STLS_TLS_OSSL_ERR_H
#define STLS_TLS_OSSL_ERR_H

#include <stddef.h>

/*
 * Empties the calling thread's queue. Entries found there are stale (some
 * earlier caller forgot to drain): they are logged at debug level and
 * dropped. Any thread.
 */
void stls__ossl_err_clear(void);

/*
 * Empties the calling thread's queue into <buf> (<len> bytes, always
 * NUL-terminated) as the reasons of its entries, oldest (innermost) first,
 * separated by ": ", with repeats and generic "... lib" reasons left out;
 * "unknown OpenSSL error" when the queue is empty. Returns buf. Any thread.
 */
const char *stls__ossl_err_drain(char *buf, size_t len);

/* A buffer size that fits any drained line worth reading. */
#define STLS_OSSL_ERR_MAX 256

#endif
