/*
 * The CA state file: parse and format (format described in
 * include/stls/x509_ca.h and docs/certificates.md).
 *
 * The format is line-based text so that an operator can read it, grep it
 * and keep it in version control. The parser is strict: a line it does not
 * understand is an error with its line number, never silently dropped,
 * because a lost "revoked" line would quietly un-revoke a certificate.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>

#include "x509/x509_int.h"
#include "stls/x509_ca.h"

#define LINE_MAX_LEN 2048

void stls_x509_castate_init(struct stls_x509_castate *st)
{
	memset(st, 0, sizeof(*st));
	st->crl_number = 1;
}

void stls_x509_castate_fini(struct stls_x509_castate *st)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		free(st->v[i].name);
	}
	free(st->v);
	memset(st, 0, sizeof(*st));
}

static bool serial_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 40) {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static bool word_ok(const struct stls_x509_carec *rec)
{
	static const char *const profiles[] = { "ca", "server", "client" };
	size_t i;

	if (rec->revoked) {
		return stls_x509_reason_parse(rec->word) >= 0;
	}
	for (i = 0; i < STLS_ARRAY_SIZE(profiles); i++) {
		if (strcmp(rec->word, profiles[i]) == 0) {
			return true;
		}
	}
	return false;
}

ssize_t stls_x509_castate_find(const struct stls_x509_castate *st,
			       const char *serial, bool revoked)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		if (st->v[i].revoked == revoked &&
		    strcasecmp(st->v[i].serial, serial) == 0) {
			return (ssize_t)i;
		}
	}
	return -1;
}

int stls_x509_castate_add(struct stls_x509_castate *st,
			  const struct stls_x509_carec *rec)
{
	struct stls_x509_carec *r;
	size_t i;

	if (!serial_ok(rec->serial) || !word_ok(rec) ||
	    (!rec->revoked && (!rec->name || strpbrk(rec->name, "\r\n")))) {
		return -EINVAL;
	}
	if (stls_x509_castate_find(st, rec->serial, rec->revoked) >= 0) {
		return rec->revoked ? -EALREADY : -EEXIST;
	}
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;

		r = realloc(st->v, cap * sizeof(*r));
		if (!r) {
			return -ENOMEM;
		}
		st->v = r;
		st->cap = cap;
	}
	r = &st->v[st->n];
	*r = *rec;
	r->name = NULL;
	if (!rec->revoked) {
		r->name = strdup(rec->name);
		if (!r->name) {
			return -ENOMEM;
		}
	}
	for (i = 0; r->serial[i]; i++) {
		r->serial[i] = (char)toupper((unsigned char)r->serial[i]);
	}
	st->n++;
	return 0;
}

static void time_fmt(time_t t, char buf[16])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y%m%d%H%M%SZ", &tm);
}

/*
 * "YYYYMMDDHHMMSSZ" (GeneralizedTime, as time_fmt() writes it) to a time.
 * OpenSSL checks it, so that a day the month does not have (Feb 31) is
 * refused rather than moved into the next month. Returns 0 or -EINVAL.
 */
static int time_parse(const char *s, time_t *out)
{
	ASN1_GENERALIZEDTIME *t;
	struct tm tm;
	size_t i;
	int ok;

	if (strlen(s) != 15 || s[14] != 'Z') {
		return -EINVAL;
	}
	for (i = 0; i < 14; i++) {
		if (!isdigit((unsigned char)s[i])) {
			return -EINVAL;
		}
	}
	t = ASN1_GENERALIZEDTIME_new();
	ok = t && ASN1_GENERALIZEDTIME_set_string(t, s) == 1 &&
	     ASN1_TIME_to_tm(t, &tm) == 1;
	ASN1_GENERALIZEDTIME_free(t);
	if (!ok) {
		return -EINVAL;
	}
	*out = timegm(&tm);
	return 0;
}

/* Parses "issued ..." or "revoked ..." (after the keyword) into st. */
static int parse_rec(struct stls_x509_castate *st, bool revoked, char *rest,
		     const char **why)
{
	struct stls_x509_carec rec;
	char *serial, *when, *word, *save = NULL;
	int rc;

	memset(&rec, 0, sizeof(rec));
	rec.revoked = revoked;
	serial = strtok_r(rest, " ", &save);
	when = strtok_r(NULL, " ", &save);
	word = strtok_r(NULL, " ", &save);
	rec.name = revoked ? NULL : strtok_r(NULL, "", &save);
	if (!serial || !when || !word || (!revoked && !rec.name) ||
	    (revoked && strtok_r(NULL, " ", &save))) {
		*why = revoked
			       ? "expected: revoked SERIAL TIME REASON"
			       : "expected: issued SERIAL NOTAFTER PROFILE "
				 "NAME";
		return -EINVAL;
	}
	if (!serial_ok(serial)) {
		*why = "bad serial (hex, at most 40 digits)";
		return -EINVAL;
	}
	if (time_parse(when, &rec.when)) {
		*why = "bad time (YYYYMMDDHHMMSSZ)";
		return -EINVAL;
	}
	snprintf(rec.serial, sizeof(rec.serial), "%s", serial);
	snprintf(rec.word, sizeof(rec.word), "%s", word);
	rc = stls_x509_castate_add(st, &rec);
	if (rc == -EINVAL) {
		*why = revoked ? "unknown revocation reason"
			       : "unknown profile (ca, server, client)";
	} else if (rc == -EEXIST || rc == -EALREADY) {
		*why = "duplicate serial";
		rc = -EINVAL;
	} else if (rc) {
		*why = "out of memory";
	}
	return rc;
}

static int parse_line(struct stls_x509_castate *st, char *line,
		      bool *seen_format, const char **why)
{
	char *rest = strchr(line, ' ');
	char *end = NULL;

	if (rest) {
		*rest++ = '\0';
	}
	if (!rest || !*rest) {
		*why = "missing value";
		return -EINVAL;
	}
	if (strcmp(line, "format") == 0) {
		*seen_format = true;
		if (strcmp(rest, "1") != 0) {
			*why = "unsupported format (this version reads 1)";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(line, "crl-number") == 0) {
		errno = 0;
		st->crl_number = strtoul(rest, &end, 10);
		if (errno || *end || st->crl_number == 0 || *rest == '-') {
			*why = "bad crl-number (a positive integer)";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(line, "issued") == 0 || strcmp(line, "revoked") == 0) {
		return parse_rec(st, line[0] == 'r', rest, why);
	}
	*why = "unknown keyword (format, crl-number, issued, revoked)";
	return -EINVAL;
}

int stls_x509_castate_parse(struct stls_x509_castate *st, const char *text,
			    size_t len, const char *file,
			    struct stls_x509_err *err)
{
	char line[LINE_MAX_LEN];
	const char *p = text, *end = text + len, *nl, *why = NULL;
	bool seen_format = false;
	int lineno = 0, rc = 0;
	size_t n;

	while (p < end && !rc) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n >= sizeof(line) || memchr(p, '\0', n)) {
			why = n >= sizeof(line) ? "line too long" : "NUL byte";
			rc = -EINVAL;
			break;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r') {
			line[n - 1] = '\0';
		}
		p = nl ? nl + 1 : end;
		if (line[0] == '#' || line[0] == '\0') {
			continue;
		}
		rc = parse_line(st, line, &seen_format, &why);
	}
	if (!rc && !seen_format) {
		why = "missing 'format 1' line";
		rc = -EINVAL;
		lineno = 0;
	}
	if (rc) {
		stls_x509_err_set(err, "%s:%d: %s", file, lineno,
				  why ? why : "out of memory");
	}
	return rc;
}

char *stls_x509_castate_format(const struct stls_x509_castate *st)
{
	char *buf = NULL, t[16];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		return NULL;
	}
	fprintf(f, "# siptls CA state, written by siptlsctl cert.\n"
		   "# See docs/certificates.md before editing.\n"
		   "format 1\ncrl-number %lu\n", st->crl_number);
	for (i = 0; i < st->n; i++) {
		const struct stls_x509_carec *r = &st->v[i];

		time_fmt(r->when, t);
		if (r->revoked) {
			fprintf(f, "revoked %s %s %s\n", r->serial, t, r->word);
		} else {
			fprintf(f, "issued %s %s %s %s\n", r->serial, t,
				r->word, r->name);
		}
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
