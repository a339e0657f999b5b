/*
 * UTF-8 (RFC 3629): checking and repairing byte strings that are meant to
 * be text.
 *
 * JSON text must be well-formed UTF-8, and jansson refuses to hold a
 * string that is not. Some strings we turn into JSON come from outside
 * and may be anything: a client's SNI name, certificate name fields, file
 * paths, command-line words in a non-UTF-8 locale. They go through
 * stls_utf8_repair() first, so that a reply always carries them, with each
 * bad byte shown as U+FFFD, instead of failing.
 *
 * Well-formed means RFC 3629 section 4: no overlong forms, no encoded
 * UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF. NUL is a
 * well-formed character. No locale, no global state; any thread.
 */
#ifndef STLS_UTF8_H
#define STLS_UTF8_H

#include "stls/common.h"

/*
 * Length (1-4) of the well-formed sequence that starts at s, looking at no
 * more than <avail> bytes (at least 1), or 0 when the bytes there do not
 * start one.
 */
size_t stls_utf8_seq_len(const char *s, size_t avail);

/* Whether the <len> bytes at s are well-formed UTF-8 (true for len 0). */
bool stls_utf8_valid(const char *s, size_t len);

/*
 * Copies <len> bytes of s into a new NUL-terminated buffer (*out, free()),
 * replacing every byte that does not start a well-formed sequence by
 * U+FFFD (EF BF BD); well-formed sequences, NUL included, are copied
 * unchanged. *out_len (may be NULL) gets the length without the final NUL.
 * Returns 0, or -ENOMEM (*out is NULL then).
 */
STLS_MUST_USE int stls_utf8_repair(const char *s, size_t len, char **out,
				   size_t *out_len);

#endif
