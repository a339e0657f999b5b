/*
 * The tokenizer of the config grammar (internal to lib/conf).
 *
 * Two modes: the normal mode returns words (letters, digits, '_'), single
 * punctuation characters, quoted strings and ends of line; the value mode
 * reads one value: a quoted string, or an unquoted run of words,
 * punctuation and '"' that ends at white space, '#' or the end of the line
 * (so paths, TLSv1.2+ and HIGH:!aNULL need no quotes). See docs/config.md.
 */
#ifndef STLS_CONF_LEXER_H
#define STLS_CONF_LEXER_H

#include "conf_int.h"

/* Internal: not exported from a shared libsiptls. */
#pragma GCC visibility push(hidden)

enum stls__tok_kind {
	STLS__TOK_EOF,
	STLS__TOK_EOL,
	STLS__TOK_WORD,
	STLS__TOK_PUNCT, /* text holds the one character */
	STLS__TOK_VALUE, /* a value (value mode) or a quoted string */
	STLS__TOK_ERROR, /* already reported; skip the line */
};

struct stls__tok {
	enum stls__tok_kind kind;
	int line;    /* where the token starts */
	bool quoted; /* VALUE came from "..." */
	size_t len;
	char text[STLS__TOKEN_MAX + 1];
};

struct stls__lexer {
	const char *file; /* for messages; borrowed */
	const char *p, *end;
	int line;
	struct stls_diag *diag; /* borrowed */
};

/* Starts reading data[0..len) of file at line 1. Borrows everything. */
void stls__lex_init(struct stls__lexer *lx, const char *file,
		    const char *data, size_t len, struct stls_diag *diag);

/*
 * Reads the next token into *t and returns its kind. Errors (invalid
 * character, bad escape, missing quote, token over 511 bytes) are reported
 * to the diag as "file:line: message" and return STLS__TOK_ERROR.
 */
enum stls__tok_kind stls__lex_next(struct stls__lexer *lx, bool value_mode,
				   struct stls__tok *t);

/* Error recovery: skips what is left of the current line. */
void stls__lex_skip_line(struct stls__lexer *lx);

/* True for the single-character delimiters of the grammar. */
bool stls__lex_is_punct(int c);

#pragma GCC visibility pop

#endif
