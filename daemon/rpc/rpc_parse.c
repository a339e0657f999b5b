/*
 * Request text to JSON: jansson's parser within our limits (see rpc.h,
 * "JSON values").
 *
 * jansson parses strictly (RFC 8259) and with the flags below refuses
 * duplicate keys, accepts "\u0000" in strings (a method name or an id may
 * hold one and must still compare by length) and takes any value at the
 * top, so that "1" is answered "not an object" (-32600), not "not JSON".
 *
 * Depth. jansson recurses once per level, up to 2048 levels (compiled
 * in). Our limit, STLS_RPC_MAX_DEPTH, is lower and is checked first, by a
 * scan that counts brackets outside strings: when the text opens one level
 * too many, jansson parses only the text up to and including that
 * bracket. If that much is valid JSON, jansson runs out of input right
 * after the bracket (premature end of input) and the request is refused
 * as too deep; otherwise it reports the syntax error that comes first,
 * exactly where a parser reading the whole text would have stopped. So no
 * request costs more than STLS_RPC_MAX_DEPTH + 1 levels of recursion, and
 * which error a broken, deep request gets does not depend on the scan.
 *
 * Calls nothing else in daemon/rpc (rpc_int.h).
 */
#include "rpc/rpc_int.h"

#include <errno.h>
#include <stdio.h>

#define PARSE_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/*
 * Offset of the '[' or '{' that opens nesting level max + 1, or -1 when
 * there is none. Brackets inside strings do not count. The scan gives up
 * (-1) at a NUL outside strings: jansson takes that byte for the end of
 * the input and fails there, before anything after it can nest.
 */
static ssize_t deep_at(const char *s, size_t len, unsigned max)
{
	bool in_str = false;
	unsigned depth = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\') {
				i++; /* an escaped byte never ends the string */
			} else if (s[i] == '"') {
				in_str = false;
			}
			continue;
		}
		switch (s[i]) {
		case '"':
			in_str = true;
			break;
		case '[':
		case '{':
			if (++depth > max) {
				return (ssize_t)i;
			}
			break;
		case ']':
		case '}':
			if (depth) {
				depth--;
			}
			break;
		case '\0':
			return -1;
		default:
			break;
		}
	}
	return -1;
}

int stls__rpc_parse(const char *text, size_t len, size_t max_size,
		    json_t **out, char *msg, size_t size)
{
	json_error_t jerr;
	ssize_t deep;

	*out = NULL;
	if (len > max_size) {
		snprintf(msg, size,
			 "request refused at byte 0: input larger than %zu "
			 "bytes",
			 max_size);
		return -ENOBUFS;
	}
	deep = deep_at(text, len, STLS_RPC_MAX_DEPTH);
	*out = json_loadb(text, deep < 0 ? len : (size_t)deep + 1,
			  PARSE_FLAGS, &jerr);
	if (*out) {
		return 0; /* then deep < 0: a cut text never parses */
	}
	if (json_error_code(&jerr) == json_error_out_of_memory) {
		return -ENOMEM;
	}
	if (deep >= 0 &&
	    json_error_code(&jerr) == json_error_premature_end_of_input) {
		snprintf(msg, size,
			 "request refused at byte %zd: nesting deeper than %u "
			 "levels",
			 deep, STLS_RPC_MAX_DEPTH);
		return -ENOBUFS;
	}
	snprintf(msg, size, "parse error at byte %d: %s", jerr.position,
		 jerr.text);
	return -EINVAL;
}
