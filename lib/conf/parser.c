/*
 * The statement grammar shared by the main config and tls.cfg
 * (behaviour study sections 3.1-3.3, docs/config.md):
 *
 *   file    := { blank | header | option }
 *   header  := "[" NAME "]" | "[" TYPE ":" TARGET "]"      (then EOL)
 *   TYPE    := server | srv | s | client | cli | c
 *   TARGET  := default | def | any | all | IPv4 ":" port
 *            | "[" IPv6 "]" ":" port
 *   option  := KEY "=" VALUE EOL
 *
 * Header tokens may be separated by white space. Errors are reported as
 * "file:line: message" and parsing resumes at the next line; options of a
 * broken header are skipped silently, so one mistake gives one message.
 */
#include "lexer.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct line_ctx {
	struct stls__parser *p;
	struct stls__lexer *lx;
	const char *file; /* owned by p->names */
	int line;
};

static void lower(char *s)
{
	for (; *s; s++) {
		*s = (char)tolower((unsigned char)*s);
	}
}

static void close_section(struct stls__parser *p)
{
	p->cur_prof = NULL;
	p->cur_sec = NULL;
	p->kv_tail = NULL;
	p->in_tls = false;
	p->in_bad = true; /* until a header succeeds */
}

static void start_profile(struct line_ctx *c, enum stls_role role, char *t)
{
	struct stls__parser *p = c->p;
	struct stls_profile_conf *pr = stls__profile_new(role, p->names);

	if (!pr) {
		p->oom = -ENOMEM;
		return;
	}
	pr->loc.file = c->file;
	pr->loc.line = c->line;
	if (!stls__conf_parse_target(pr, t, p->diag, c->file, c->line)) {
		stls_profile_conf_list_free(pr);
		return;
	}
	*p->prof_tail = pr;
	p->prof_tail = &pr->next;
	p->cur_prof = pr;
	p->in_bad = false;
}

static void start_named(struct line_ctx *c, char *name)
{
	struct stls__parser *p = c->p;
	struct stls_section *s;
	enum stls_role role;

	if (!name[0] || strspn(name, "abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
				strlen(name)) {
		stls_diag_err(p->diag, c->file, c->line,
			      "invalid section name '[%s]'", name);
		return;
	}
	if (p->mode == STLS__PARSE_TLSCFG ||
	    stls__conf_parse_role(name, &role) == 0) {
		stls_diag_err(p->diag, c->file, c->line,
			      "invalid profile header '[%s]': expected "
			      "[server:...] or [client:...]",
			      name);
		return;
	}
	lower(name);
	p->in_bad = false;
	if (strcmp(name, "tls") == 0) {
		p->in_tls = true;
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		p->oom = -ENOMEM;
		return;
	}
	s->loc.file = c->file;
	s->loc.line = c->line;
	*p->sec_tail = s;
	p->sec_tail = &s->next;
	p->cur_sec = s;
	p->kv_tail = &s->kvs;
}

/* Joins the header's tokens up to the end of the line (white space
 * dropped). Returns false after reporting an error. */
static bool collect_header(struct line_ctx *c, char *buf, size_t size)
{
	struct stls__tok t;
	size_t used = 0;

	for (;;) {
		switch (stls__lex_next(c->lx, false, &t)) {
		case STLS__TOK_EOF:
		case STLS__TOK_EOL:
			return true;
		case STLS__TOK_ERROR:
			stls__lex_skip_line(c->lx);
			return false;
		case STLS__TOK_VALUE:
			stls_diag_err(c->p->diag, c->file, c->line,
				      "unexpected string in section header");
			stls__lex_skip_line(c->lx);
			return false;
		default:
			break;
		}
		if (used + t.len + 1 > size) {
			stls_diag_err(c->p->diag, c->file, c->line,
				      "section header too long");
			stls__lex_skip_line(c->lx);
			return false;
		}
		memcpy(buf + used, t.text, t.len + 1);
		used += t.len;
	}
}

static void parse_header(struct line_ctx *c)
{
	char buf[2 * STLS__TOKEN_MAX];
	enum stls_role role;
	char *end, *colon;
	int depth = 1;

	close_section(c->p);
	if (!collect_header(c, buf, sizeof(buf))) {
		return;
	}
	for (end = buf; *end && depth > 0; end++) {
		depth += *end == '[' ? 1 : *end == ']' ? -1 : 0;
	}
	if (depth > 0) {
		stls_diag_err(c->p->diag, c->file, c->line,
			      "closing ']' missing in section header");
		return;
	}
	if (*end) {
		stls_diag_err(c->p->diag, c->file, c->line,
			      "end of line expected after section header, "
			      "found '%s'", end);
		return;
	}
	end[-1] = '\0';
	colon = strchr(buf, ':');
	if (!colon) {
		start_named(c, buf);
		return;
	}
	*colon = '\0';
	if (stls__conf_parse_role(buf, &role) == 0) {
		start_profile(c, role, colon + 1);
	} else {
		stls_diag_err(c->p->diag, c->file, c->line,
			      "invalid profile type '%s' (server or client "
			      "expected)", buf);
	}
}

static int add_kv(struct stls__parser *p, struct line_ctx *c,
		  const char *key, const char *value)
{
	struct stls_kv *kv = calloc(1, sizeof(*kv));

	if (!kv || !(kv->key = strdup(key)) || !(kv->value = strdup(value))) {
		if (kv) {
			free(kv->key);
		}
		free(kv);
		return -ENOMEM;
	}
	kv->loc.file = c->file;
	kv->loc.line = c->line;
	*p->kv_tail = kv;
	p->kv_tail = &kv->next;
	return 0;
}

static int set_tls(struct stls__parser *p, struct line_ctx *c,
		   const char *key, const char *value)
{
	const struct stls_setting_desc *d = stls_setting_find(key);
	const char *warn;
	char err[STLS__TOKEN_MAX + 128];
	int rc;

	if (!d) {
		stls_diag_err(p->diag, c->file, c->line,
			      "unknown [tls] parameter '%s'", key);
		return 0;
	}
	rc = stls_settings_set_str(p->tls, d, value, p->base_dir, err,
				   sizeof(err));
	if (rc == -ENOMEM) {
		return rc;
	}
	if (rc) {
		stls_diag_err(p->diag, c->file, c->line, "%s", err);
		return 0;
	}
	warn = stls_setting_warning(p->tls, d);
	if (warn) {
		stls_diag_warn(p->diag, c->file, c->line, "%s: %s", d->name,
			       warn);
	}
	if (p->tls_loc) {
		size_t i;

		for (i = 0; stls_setting_at(i) != d; i++) {
		}
		p->tls_loc[i].file = c->file;
		p->tls_loc[i].line = c->line;
	}
	return 0;
}

static int apply_option(struct line_ctx *c, char *key, const char *value)
{
	struct stls__parser *p = c->p;

	lower(key);
	if (p->in_bad) {
		return 0;
	}
	if (p->cur_prof) {
		return stls__profile_set(p->cur_prof, key, value, p->base_dir,
					 c->file, c->line, p->diag);
	}
	if (p->in_tls) {
		return set_tls(p, c, key, value);
	}
	if (p->cur_sec) {
		return add_kv(p, c, key, value);
	}
	stls_diag_err(p->diag, c->file, c->line,
		      "option '%s' before the first section header", key);
	return 0;
}

static void parse_option(struct line_ctx *c, struct stls__tok *key)
{
	char k[STLS__TOKEN_MAX + 1];
	struct stls__tok t;
	enum stls__tok_kind kind;
	int rc;

	memcpy(k, key->text, key->len + 1);
	kind = stls__lex_next(c->lx, false, &t);
	if (kind != STLS__TOK_PUNCT || t.text[0] != '=') {
		if (kind != STLS__TOK_ERROR) {
			stls_diag_err(c->p->diag, c->file, c->line,
				      "'=' expected after '%s'", k);
		}
		if (kind != STLS__TOK_EOL && kind != STLS__TOK_EOF) {
			stls__lex_skip_line(c->lx);
		}
		return;
	}
	kind = stls__lex_next(c->lx, true, &t);
	if (kind == STLS__TOK_EOL || kind == STLS__TOK_EOF) {
		stls_diag_err(c->p->diag, c->file, c->line,
			      "%s: option value missing", k);
		return;
	}
	if (kind == STLS__TOK_ERROR) {
		stls__lex_skip_line(c->lx);
		return;
	}
	rc = apply_option(c, k, t.text);
	if (rc) {
		c->p->oom = rc;
	}
	kind = stls__lex_next(c->lx, false, &t);
	if (kind != STLS__TOK_EOL && kind != STLS__TOK_EOF) {
		if (kind != STLS__TOK_ERROR) {
			stls_diag_err(c->p->diag, c->file, c->line,
				      "%s: end of line expected after the "
				      "value, found '%s'", k, t.text);
		}
		stls__lex_skip_line(c->lx);
	}
}

int stls__parse_buffer(struct stls__parser *p, const char *file,
		       const char *data, size_t len)
{
	struct stls__lexer lx;
	struct stls__tok t;
	struct line_ctx c = { p, &lx, stls__names_add(p->names, file), 0 };

	if (!c.file) {
		return -ENOMEM;
	}
	stls__lex_init(&lx, c.file, data, len, p->diag);
	while (!p->oom) {
		enum stls__tok_kind kind = stls__lex_next(&lx, false, &t);

		c.line = t.line;
		if (kind == STLS__TOK_EOF) {
			break;
		}
		if (kind == STLS__TOK_EOL) {
			continue;
		}
		if (kind == STLS__TOK_ERROR) {
			stls__lex_skip_line(&lx);
		} else if (kind == STLS__TOK_PUNCT && t.text[0] == '[') {
			parse_header(&c);
		} else if (kind == STLS__TOK_WORD) {
			parse_option(&c, &t);
		} else {
			stls_diag_err(p->diag, c.file, c.line,
				      "unexpected '%s' at the start of a line",
				      t.text);
			stls__lex_skip_line(&lx);
		}
	}
	return p->oom;
}
