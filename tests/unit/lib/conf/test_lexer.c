/*
 * Unit tests for lib/conf/lexer.c: tokens of both modes, comments,
 * escapes, continuations, quoted strings, limits and invalid bytes.
 */
#include "lib/conf/conf_test_util.h"

#include "conf/lexer.h"

static struct stls__lexer LX;
static struct stls__tok T;
static struct stls_diag D;

static void start(const char *text)
{
	stls_diag_init(&D);
	stls__lex_init(&LX, "t.cfg", text, strlen(text), &D);
}

static enum stls__tok_kind next(bool value)
{
	return stls__lex_next(&LX, value, &T);
}

TEST(normal_mode_splits_words_and_punctuation)
{
	start("[ server : 10.0.0.1:5061 ]  # comment\nkey_1=x\n");
	CHECK_EQ(next(false), STLS__TOK_PUNCT);
	CHECK_STR_EQ(T.text, "[");
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_STR_EQ(T.text, "server");
	CHECK_EQ(next(false), STLS__TOK_PUNCT);
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_STR_EQ(T.text, "10");
	CHECK_EQ(next(false), STLS__TOK_PUNCT);
	CHECK_STR_EQ(T.text, ".");
	while (next(false) != STLS__TOK_EOL) {
		CHECK(T.kind == STLS__TOK_WORD || T.kind == STLS__TOK_PUNCT);
	}
	CHECK_EQ(T.line, 1);
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_STR_EQ(T.text, "key_1");
	CHECK_EQ(T.line, 2);
	CHECK_EQ(next(false), STLS__TOK_PUNCT);
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "x");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(false), STLS__TOK_EOF);
	CHECK_EQ(D.errors, 0);
	stls_diag_fini(&D);
}

TEST(every_delimiter_is_a_punctuation_token)
{
	const char *p;

	start("=:;.,?[]/@!$%&*()-+|'");
	for (p = "=:;.,?[]/@!$%&*()-+|'"; *p; p++) {
		CHECK_EQ(next(false), STLS__TOK_PUNCT);
		CHECK_EQ(T.text[0], *p);
	}
	CHECK_EQ(next(false), STLS__TOK_EOF);
	stls_diag_fini(&D);
}

TEST(value_mode_reads_extended_unquoted_values)
{
	static const char *const values[] = {
		"/etc/siptls/key.pem", "TLSv1.2+", "HIGH:!aNULL:!MD5",
		"ECDHE+AESGCM:@SECLEVEL=2", "./rel/cert.pem", "a\"b",
		"[2001:db8::1]", "x,y;z?(1)%$&*|'",
	};
	char text[128];
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(values); i++) {
		snprintf(text, sizeof(text), "  %s   # trailing\n", values[i]);
		start(text);
		CHECK_EQ(next(true), STLS__TOK_VALUE);
		CHECK_STR_EQ(T.text, values[i]);
		CHECK(!T.quoted);
		CHECK_EQ(next(false), STLS__TOK_EOL);
		stls_diag_fini(&D);
	}
}

TEST(value_ends_at_hash_and_whitespace)
{
	start("abc#def\nx y\n");
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "abc");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "x");
	CHECK_EQ(next(false), STLS__TOK_WORD);
	stls_diag_fini(&D);
}

TEST(quoted_strings_unescape_and_continue)
{
	start("\"a b # not a comment \\\" \\\\ \\n\\r\\t end\"\n"
	      "\"one \\\ntwo\"\n\"multi\nline\"\n");
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK(T.quoted);
	CHECK_STR_EQ(T.text, "a b # not a comment \" \\ \n\r\t end");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "one two");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(T.line, 3);
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "multi\nline");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(T.line, 5);
	CHECK_EQ(D.errors, 0);
	stls_diag_fini(&D);
}

TEST(empty_quoted_string_is_an_empty_value)
{
	start("\"\"\n");
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK(T.quoted);
	CHECK_EQ(T.len, 0);
	stls_diag_fini(&D);
}

TEST(unquoted_escapes_and_leading_backslash)
{
	start("a\\#b\\ c\\\\d\\\"e\\tf\n\\x\nab\\\ncd\n");
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "a#b c\\d\"e\tf");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "\\x"); /* kept literally, as Kamailio does */
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "abcd");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(T.line, 4);
	CHECK_EQ(D.errors, 0);
	stls_diag_fini(&D);
}

TEST(continuation_between_tokens_and_in_comments)
{
	start("key \\\n = v # comment \\\n still comment\nnext\n");
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_EQ(next(false), STLS__TOK_PUNCT);
	CHECK_EQ(T.line, 2);
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(T.line, 3);
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_STR_EQ(T.text, "next");
	CHECK_EQ(T.line, 4);
	stls_diag_fini(&D);
}

TEST(crlf_line_ends_work)
{
	start("a = b\r\n\r\nc = \"d\"\r\n");
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_EQ(next(false), STLS__TOK_PUNCT);
	CHECK_EQ(next(true), STLS__TOK_VALUE);
	CHECK_STR_EQ(T.text, "b");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_EQ(T.line, 3);
	stls_diag_fini(&D);
}

TEST(errors_are_reported_with_file_and_line)
{
	start("\n{\n");
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(false), STLS__TOK_ERROR);
	CHECK_DIAG(&D, "t.cfg:2: invalid character 0x7b");
	stls_diag_fini(&D);

	start("a~b\n");
	CHECK_EQ(next(true), STLS__TOK_ERROR);
	CHECK_DIAG(&D, "t.cfg:1: invalid character 0x7e");
	stls_diag_fini(&D);

	start("ab\\qc\n");
	CHECK_EQ(next(true), STLS__TOK_ERROR);
	CHECK_DIAG(&D, "t.cfg:1: unsupported escape character '\\q'");
	stls_diag_fini(&D);

	start("\"abc\\#\"\n");
	CHECK_EQ(next(true), STLS__TOK_ERROR);
	CHECK_DIAG(&D, "t.cfg:1: unsupported escape character '\\#'");
	stls_diag_fini(&D);

	start("\n\"abc\n\ndef");
	CHECK_EQ(next(true), STLS__TOK_EOL);
	CHECK_EQ(next(true), STLS__TOK_ERROR);
	CHECK_DIAG(&D, "t.cfg:2: premature end of file, missing closing "
		       "quote");
	stls_diag_fini(&D);

	start("a\0b");
	LX.end = LX.p + 3;
	CHECK_EQ(next(true), STLS__TOK_ERROR);
	CHECK_DIAG(&D, "t.cfg:1: invalid character 0x00");
	stls_diag_fini(&D);
}

TEST(tokens_are_limited_to_511_bytes)
{
	char text[1100];

	memset(text, 'a', 511);
	text[511] = '\0';
	start(text);
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_EQ(T.len, 511);
	stls_diag_fini(&D);

	memset(text, 'a', 512);
	text[512] = '\0';
	start(text);
	CHECK_EQ(next(true), STLS__TOK_ERROR);
	CHECK_DIAG(&D, "t.cfg:1: token too long (more than 511 bytes)");
	stls_diag_fini(&D);

	start(text);
	CHECK_EQ(next(false), STLS__TOK_ERROR);
	stls_diag_fini(&D);

	text[0] = '"';
	memset(text + 1, 'b', 600);
	strcpy(text + 601, "\"");
	start(text);
	CHECK_EQ(next(true), STLS__TOK_ERROR);
	CHECK_DIAG(&D, "t.cfg:1: token too long (more than 511 bytes)");
	stls_diag_fini(&D);
}

TEST(skip_line_resumes_at_the_next_line)
{
	start("garbage { } more\nnext\n");
	CHECK_EQ(next(false), STLS__TOK_WORD);
	stls__lex_skip_line(&LX);
	CHECK_EQ(next(false), STLS__TOK_EOL);
	CHECK_EQ(next(false), STLS__TOK_WORD);
	CHECK_STR_EQ(T.text, "next");
	CHECK_EQ(T.line, 2);
	stls_diag_fini(&D);
}
