/*
 * Tokenizer of the config grammar, compatible with Kamailio's tls.cfg
 * lexical rules (behaviour study section 3.1): '#' comments outside
 * quotes, escapes, backslash-newline continuation, a 511-byte token limit
 * and a fixed set of punctuation characters; any other byte is refused.
 */
#include "lexer.h"

#include <string.h>

static const char punct_chars[] = "=:;.,?[]/@!$%&*()-+|'";

bool stls__lex_is_punct(int c)
{
	return c != '\0' && strchr(punct_chars, c) != NULL;
}

static bool is_word(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

void stls__lex_init(struct stls__lexer *lx, const char *file,
		    const char *data, size_t len, struct stls_diag *diag)
{
	lx->file = file;
	lx->p = data;
	lx->end = data + len;
	lx->line = 1;
	lx->diag = diag;
}

static int peek(const struct stls__lexer *lx, size_t off)
{
	return lx->p + off < lx->end ? (unsigned char)lx->p[off] : -1;
}

/* Length of a backslash-newline at p ("\\\n" or "\\\r\n"), or 0. */
static size_t continuation(const struct stls__lexer *lx)
{
	if (peek(lx, 0) != '\\') {
		return 0;
	}
	if (peek(lx, 1) == '\n') {
		return 2;
	}
	if (peek(lx, 1) == '\r' && peek(lx, 2) == '\n') {
		return 3;
	}
	return 0;
}

static void skip_ws(struct stls__lexer *lx)
{
	size_t n;

	for (;;) {
		int c = peek(lx, 0);

		if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
		} else if ((n = continuation(lx)) > 0) {
			lx->p += n;
			lx->line++;
		} else {
			return;
		}
	}
}

/* Skips a comment up to (not including) its newline; '\' escapes. */
static void skip_comment(struct stls__lexer *lx)
{
	while (lx->p < lx->end && *lx->p != '\n') {
		if (*lx->p == '\\' && lx->p + 1 < lx->end) {
			if (lx->p[1] == '\n') {
				lx->line++;
			}
			lx->p++;
		}
		lx->p++;
	}
}

void stls__lex_skip_line(struct stls__lexer *lx)
{
	while (lx->p < lx->end && *lx->p != '\n') {
		lx->p++;
	}
}

static enum stls__tok_kind lex_error(struct stls__lexer *lx, int line,
				     const char *msg, int c)
{
	if (c >= 0) {
		stls_diag_err(lx->diag, lx->file, line, "%s 0x%02x", msg, c);
	} else {
		stls_diag_err(lx->diag, lx->file, line, "%s", msg);
	}
	return STLS__TOK_ERROR;
}

static bool put(struct stls__tok *t, int c)
{
	if (t->len >= STLS__TOKEN_MAX) {
		return false;
	}
	t->text[t->len++] = (char)c;
	t->text[t->len] = '\0';
	return true;
}

/* Maps the character after a backslash; -1 when unsupported. */
static int unescape(int c, bool quoted)
{
	switch (c) {
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case '\\':
	case '"':
		return c;
	case '#':
	case ' ':
		return quoted ? -1 : c;
	default:
		return -1;
	}
}

/* Handles a backslash at p inside a value; returns false on error. */
static bool escape(struct stls__lexer *lx, struct stls__tok *t, bool quoted,
		   enum stls__tok_kind *kind)
{
	size_t n = continuation(lx);
	int c;

	if (n) {
		lx->p += n;
		lx->line++;
		return true;
	}
	c = unescape(peek(lx, 1), quoted);
	if (c < 0) {
		stls_diag_err(lx->diag, lx->file, lx->line,
			      "unsupported escape character '\\%c'",
			      peek(lx, 1) > ' ' && peek(lx, 1) < 127 ?
				      peek(lx, 1) : '?');
		*kind = STLS__TOK_ERROR;
		return false;
	}
	lx->p += 2;
	if (!put(t, c)) {
		*kind = lex_error(lx, lx->line,
				  "token too long (more than 511 bytes)", -1);
		return false;
	}
	return true;
}

static enum stls__tok_kind lex_quoted(struct stls__lexer *lx,
				      struct stls__tok *t)
{
	enum stls__tok_kind kind = STLS__TOK_VALUE;

	lx->p++;
	t->quoted = true;
	for (;;) {
		int c = peek(lx, 0);

		if (c < 0) {
			return lex_error(lx, t->line,
					 "premature end of file, missing "
					 "closing quote",
					 -1);
		}
		if (c == '"') {
			lx->p++;
			return kind;
		}
		if (c == '\\') {
			if (!escape(lx, t, true, &kind)) {
				return kind;
			}
			continue;
		}
		if (c == '\n') {
			lx->line++;
		}
		if (!put(t, c)) {
			return lex_error(lx, t->line,
					 "token too long (more than 511 bytes)",
					 -1);
		}
		lx->p++;
	}
}

static enum stls__tok_kind lex_value(struct stls__lexer *lx,
				     struct stls__tok *t)
{
	enum stls__tok_kind kind = STLS__TOK_VALUE;

	if (peek(lx, 0) == '"') {
		return lex_quoted(lx, t);
	}
	if (peek(lx, 0) == '\\' && !continuation(lx)) {
		/* Kamailio keeps a leading backslash literally. */
		put(t, '\\');
		lx->p++;
	}
	for (;;) {
		int c = peek(lx, 0);

		if (c < 0 || c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == '#') {
			return kind;
		}
		if (c == '\\') {
			if (!escape(lx, t, false, &kind)) {
				return kind;
			}
			continue;
		}
		if (!is_word(c) && !stls__lex_is_punct(c) && c != '"') {
			return lex_error(lx, lx->line, "invalid character", c);
		}
		if (!put(t, c)) {
			return lex_error(lx, t->line,
					 "token too long (more than 511 bytes)",
					 -1);
		}
		lx->p++;
	}
}

static enum stls__tok_kind lex_word(struct stls__lexer *lx,
				    struct stls__tok *t)
{
	while (lx->p < lx->end && is_word((unsigned char)*lx->p)) {
		if (!put(t, *lx->p)) {
			return lex_error(lx, t->line,
					 "token too long (more than 511 bytes)",
					 -1);
		}
		lx->p++;
	}
	return STLS__TOK_WORD;
}

enum stls__tok_kind stls__lex_next(struct stls__lexer *lx, bool value_mode,
				   struct stls__tok *t)
{
	int c;

	t->len = 0;
	t->text[0] = '\0';
	t->quoted = false;
	skip_ws(lx);
	if (peek(lx, 0) == '#') {
		skip_comment(lx);
	}
	t->line = lx->line;
	c = peek(lx, 0);
	if (c < 0) {
		return t->kind = STLS__TOK_EOF;
	}
	if (c == '\n') {
		lx->p++;
		lx->line++;
		return t->kind = STLS__TOK_EOL;
	}
	if (value_mode) {
		return t->kind = lex_value(lx, t);
	}
	if (c == '"') {
		return t->kind = lex_quoted(lx, t);
	}
	if (is_word(c)) {
		return t->kind = lex_word(lx, t);
	}
	if (stls__lex_is_punct(c)) {
		put(t, c);
		lx->p++;
		return t->kind = STLS__TOK_PUNCT;
	}
	lx->p++;
	return t->kind = lex_error(lx, t->line, "invalid character", c);
}
