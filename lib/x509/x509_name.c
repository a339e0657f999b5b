/*
 * Names: the one-line subject form ("/O=Example/CN=Example SIP CA") and the
 * checks applied to subjectAltName values before they go into a
 * certificate.
 *
 * SAN values are checked strictly because a certificate with a malformed
 * name is useless and long-lived: RFC 5280 §4.2.1.6 (dNSName in preferred
 * name syntax, iPAddress as 4 or 16 octets, URI with a scheme) and
 * RFC 5922 §7.1 (a SIP domain is carried as a URI "sip:example.com" or as a
 * dNSName).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "x509/x509_int.h"

#define NAME_MAX_LEN 1024

/*
 * Copies the next "/"-separated component of *p into out (unescaping "\/"
 * and "\\"), advances *p. Returns the length or -EINVAL when too long.
 */
static int next_component(const char **p, char *out, size_t len)
{
	const char *s = *p;
	size_t n = 0;

	while (*s && *s != '/') {
		if (*s == '\\' && (s[1] == '/' || s[1] == '\\')) {
			s++;
		}
		if (n + 1 >= len) {
			return -EINVAL;
		}
		out[n++] = *s++;
	}
	out[n] = '\0';
	*p = s;
	return (int)n;
}

static int add_component(X509_NAME *name, char *comp, const char *text,
			 struct stls_x509_err *err)
{
	char *eq = strchr(comp, '=');

	if (!eq || eq == comp || !eq[1]) {
		stls_x509_err_set(err, "bad subject '%s': '%s' is not "
				  "ATTRIBUTE=value", text, comp);
		return -EINVAL;
	}
	*eq = '\0';
	if (OBJ_txt2nid(comp) == NID_undef) {
		ERR_clear_error();
		stls_x509_err_set(err, "bad subject '%s': unknown attribute "
				  "'%s' (use CN, O, OU, C, ST, L, ...)", text,
				  comp);
		return -EINVAL;
	}
	if (!X509_NAME_add_entry_by_txt(name, comp, MBSTRING_UTF8,
					(const unsigned char *)(eq + 1), -1,
					-1, 0)) {
		char msg[NAME_MAX_LEN + 64];

		snprintf(msg, sizeof(msg), "bad subject '%s': bad value for %s",
			 text, comp);
		stls__x509_err_ssl(err, msg);
		return -EINVAL;
	}
	return 0;
}

int stls_x509_name_parse(const char *text, X509_NAME **out,
			 struct stls_x509_err *err)
{
	char comp[NAME_MAX_LEN];
	const char *p = text;
	X509_NAME *name = NULL;
	int rc = -EINVAL;

	if (!text || text[0] != '/' || strlen(text) >= NAME_MAX_LEN) {
		stls_x509_err_set(err, "bad subject '%s': write it as "
				  "/O=Example/CN=Example SIP CA",
				  text ? text : "");
		return -EINVAL;
	}
	name = X509_NAME_new();
	if (!name) {
		stls_x509_err_set(err, "out of memory");
		return -ENOMEM;
	}
	while (*p == '/') {
		p++;
		if (next_component(&p, comp, sizeof(comp)) <= 0) {
			stls_x509_err_set(err, "bad subject '%s': empty "
					  "component", text);
			rc = -EINVAL;
			goto out;
		}
		rc = add_component(name, comp, text, err);
		if (rc) {
			goto out;
		}
	}
	*out = name;
	name = NULL;
	rc = 0;
out:
	X509_NAME_free(name);
	return rc;
}

/* One DNS label: 1..63 letters, digits and inner hyphens. */
static bool dns_label_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-') {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
			return false;
		}
	}
	return true;
}

static bool dns_ok(const char *v)
{
	const char *dot;
	size_t len = strlen(v);

	if (len == 0 || len > 253) {
		return false;
	}
	/* A wildcard is allowed as the whole leftmost label only. */
	if (strncmp(v, "*.", 2) == 0) {
		v += 2;
	}
	while ((dot = strchr(v, '.')) != NULL) {
		if (!dns_label_ok(v, (size_t)(dot - v))) {
			return false;
		}
		v = dot + 1;
	}
	return dns_label_ok(v, strlen(v));
}

static bool uri_ok(const char *v)
{
	const char *p = v;

	if (!isalpha((unsigned char)*p)) {
		return false;
	}
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	       *p == '.') {
		p++;
	}
	if (*p != ':' || !p[1]) {
		return false;
	}
	for (p++; *p; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			return false;
		}
	}
	return true;
}

static bool ip_ok(const char *v)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, v, buf) == 1 ||
	       inet_pton(AF_INET6, v, buf) == 1;
}

static bool email_ok(const char *v)
{
	const char *at = strchr(v, '@');
	const char *p;

	if (!at || at == v || strchr(at + 1, '@') || !dns_ok(at + 1)) {
		return false;
	}
	for (p = v; p < at; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			return false;
		}
	}
	return true;
}

static const struct {
	const char *name;
	bool (*ok)(const char *v);
	const char *hint;
} san_types[] = {
	[STLS_X509_SAN_DNS] = { "DNS", dns_ok,
				"a host name such as sip.example.com" },
	[STLS_X509_SAN_URI] = { "URI", uri_ok,
				"a URI with a scheme such as sip:example.com" },
	[STLS_X509_SAN_IP] = { "IP", ip_ok,
			       "an IPv4 or IPv6 address such as 192.0.2.10" },
	[STLS_X509_SAN_EMAIL] = { "email", email_ok,
				  "an address such as alice@example.com" },
};

const char *stls_x509_san_type_name(enum stls_x509_san_type type)
{
	if ((size_t)type >= STLS_ARRAY_SIZE(san_types)) {
		return "?";
	}
	return san_types[type].name;
}

int stls_x509_san_validate(const struct stls_x509_san *san,
			   struct stls_x509_err *err)
{
	if ((size_t)san->type >= STLS_ARRAY_SIZE(san_types)) {
		stls_x509_err_set(err, "unknown subjectAltName type");
		return -EINVAL;
	}
	if (!san->value || !san_types[san->type].ok(san->value)) {
		stls_x509_err_set(err, "bad %s name '%s': expected %s",
				  san_types[san->type].name,
				  san->value ? san->value : "",
				  san_types[san->type].hint);
		return -EINVAL;
	}
	return 0;
}
