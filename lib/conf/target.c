/*
 * The profile types and targets of the section header grammar, shared by
 * the tls.cfg parser and by profiles made from database records:
 *
 *   TYPE    := server | srv | s | client | cli | c
 *   TARGET  := default | def | any | all | IPv4 ":" port
 *            | "[" IPv6 "]" ":" port
 *
 * IPv4 follows Kamailio's rule (four decimal octets, each at most 255);
 * port 0 means any port.
 */
#include "conf_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* Where a problem is reported. */
struct where {
	struct stls_diag *diag;
	const char *file;
	int line;
};

static bool word_in(const char *w, const char *const *set)
{
	for (; *set; set++) {
		if (strcasecmp(w, *set) == 0) {
			return true;
		}
	}
	return false;
}

static const char *const server_words[] = { "server", "srv", "s", NULL };
static const char *const client_words[] = { "client", "cli", "c", NULL };

int stls__conf_parse_role(const char *w, enum stls_role *role)
{
	if (word_in(w, server_words)) {
		*role = STLS_ROLE_SERVER;
		return 0;
	}
	if (word_in(w, client_words)) {
		*role = STLS_ROLE_CLIENT;
		return 0;
	}
	return -EINVAL;
}
static const char *const default_words[] = { "default", "def", NULL };
static const char *const any_words[] = { "any", "all", NULL };

/* Four decimal octets, each at most 255 (Kamailio's rule). */
static bool parse_ipv4(const char *s, struct stls_addr *a)
{
	int parts = 0, digits = 0, val = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			val = val * 10 + (*s - '0');
			if (++digits > 3 || val > 255) {
				return false;
			}
		} else if ((*s == '.' || *s == '\0') && digits > 0) {
			a->ip[parts++] = (uint8_t)val;
			if (*s == '\0') {
				break;
			}
			if (parts == 4) {
				return false;
			}
			digits = val = 0;
		} else {
			return false;
		}
	}
	a->family = AF_INET;
	return parts == 4;
}

static int parse_port(const char *s, uint16_t *port)
{
	long v = 0;

	if (!*s) {
		return -EINVAL;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (*s - '0')) > 65535) {
			return -EINVAL;
		}
	}
	*port = (uint16_t)v;
	return 0;
}

/* Parses "IPv4:port" or "[IPv6]:port" (white space removed) into pr. */
static bool parse_ip_port(const struct where *c, struct stls_profile_conf *pr,
			  char *t)
{
	char *colon, *ip = t;

	if (t[0] == '[') {
		char *close = strchr(t, ']');

		if (!close) {
			stls_diag_err(c->diag, c->file, c->line,
				      "closing ']' of the IPv6 address "
				      "missing");
			return false;
		}
		*close = '\0';
		ip = t + 1;
		colon = close + 1;
		if (*colon != ':') {
			colon = NULL;
		}
		if (strspn(ip, "0123456789abcdefABCDEF:.") != strlen(ip) ||
		    stls_addr_parse_ip(ip, &pr->addr) ||
		    pr->addr.family != AF_INET6) {
			stls_diag_err(c->diag, c->file, c->line,
				      "invalid IPv6 address '%s'", ip);
			return false;
		}
	} else {
		colon = strrchr(t, ':');
		if (colon) {
			*colon = '\0';
		}
		if (!parse_ipv4(t, &pr->addr)) {
			stls_diag_err(c->diag, c->file, c->line,
				      "invalid IPv4 address '%s'", t);
			return false;
		}
	}
	if (!colon) {
		stls_diag_err(c->diag, c->file, c->line,
			      "port number missing after '%s'", ip);
		return false;
	}
	if (parse_port(colon + 1, &pr->addr.port)) {
		stls_diag_err(c->diag, c->file, c->line,
			      "invalid port number '%s'", colon + 1);
		return false;
	}
	return true;
}

/* Parses TARGET (white space already removed) into the profile. */
bool stls__conf_parse_target(struct stls_profile_conf *pr, char *t,
			     struct stls_diag *diag, const char *file, int line)
{
	const struct where w = { diag, file, line }, *c = &w;
	char *colon;

	if (word_in(t, default_words) || word_in(t, any_words)) {
		pr->kind = word_in(t, any_words) ? STLS_PROF_ANY :
						   STLS_PROF_DEFAULT;
		return true;
	}
	if (!t[0]) {
		stls_diag_err(c->diag, c->file, c->line,
			      "profile target missing (default, any, IP:port)");
		return false;
	}
	colon = strchr(t, ':');
	if (colon && t[0] != '[') {
		bool kw;

		*colon = '\0';
		kw = word_in(t, default_words) || word_in(t, any_words);
		if (kw) {
			stls_diag_err(c->diag, c->file, c->line,
				      "'%s' takes no port", t);
			return false;
		}
		*colon = ':';
	}
	if (!parse_ip_port(c, pr, t)) {
		return false;
	}
	pr->kind = STLS_PROF_ADDR;
	return true;
}
