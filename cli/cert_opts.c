/*
 * `siptlsctl cert`: the usage texts and the option parser shared by every
 * subcommand, and the small helpers they share (failure message, pass
 * file, time format). The lowest file of the cert commands: it calls none
 * of them (cert_main.c dispatches).
 *
 * Options are table-driven: one table names every option and whether it
 * takes a value; each subcommand lists the options it accepts. Both
 * "--days 30" and "--days=30" work, "--" ends the options, and options may
 * come before or after the positional arguments. Values are checked here
 * (numbers, SAN syntax, reason names) so that a typo is a usage error
 * before anything is read or written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cert.h"
#include "cert_int.h"
#include "stls/secret.h"

static const struct {
	const char *name;
	bool has_arg;
} opt_table[OPT__COUNT] = {
	[OPT_CA] = { "ca", true },
	[OPT_SUBJECT] = { "subject", true },
	[OPT_DAYS] = { "days", true },
	[OPT_RSA] = { "rsa", true },
	[OPT_EC] = { "ec", false },
	[OPT_DNS] = { "dns", true },
	[OPT_URI] = { "uri", true },
	[OPT_IP] = { "ip", true },
	[OPT_EMAIL] = { "email", true },
	[OPT_OUT] = { "out", true },
	[OPT_CHAIN] = { "chain", false },
	[OPT_FORCE] = { "force", false },
	[OPT_REASON] = { "reason", true },
	[OPT_KEY] = { "key", true },
	[OPT_PASS_FILE] = { "pass-file", true },
	[OPT_ENGINE] = { "engine", true },
	[OPT_ENGINE_CONFIG] = { "engine-config", true },
};

static const struct {
	const char *name;
	const char *usage;
} usages[] = {
	{ "ca",
	  "ca init DIR [--subject \"/O=Example/CN=Example SIP CA\"] "
	  "[--days 3650]\n        [--rsa BITS | --ec] [--pass-file FILE] "
	  "[--force]" },
	{ "issue",
	  "issue server|client NAME --ca DIR [--dns NAME]... "
	  "[--uri sip:...]...\n        [--ip ADDR]... [--email ADDR]... "
	  "[--subject /CN=...] [--days 825]\n        [--rsa BITS | --ec | "
	  "--key KEY [--engine ID] [--engine-config FILE]]\n        "
	  "[--out DIR] [--chain] [--force] [--pass-file FILE]" },
	{ "csr",
	  "csr NAME [--dns NAME]... [--uri sip:...]... [--ip ADDR]... "
	  "[--subject /CN=...]\n        [--rsa BITS | --ec | --key KEY "
	  "[--engine ID] [--engine-config FILE]]\n        [--out DIR] "
	  "[--force]" },
	{ "revoke",
	  "revoke CERT --ca DIR [--reason keyCompromise|...] "
	  "[--pass-file FILE]" },
	{ "crl",
	  "crl --ca DIR [--out FILE] [--days 30] [--pass-file FILE]" },
	{ "calist", "calist OUT CERT..." },
	{ "show", "show FILE [--key KEY]" },
	{ "selfsigned",
	  "selfsigned NAME [--dns NAME]... [--uri sip:...]... [--ip ADDR]...\n"
	  "        [--days 825] [--rsa BITS | --ec | --key KEY [--engine ID] "
	  "[--engine-config FILE]]\n        [--out DIR] [--force]" },
};

void stls__cert_usage(const char *cmd)
{
	const char *lead = "usage:";
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(usages); i++) {
		if (!cmd || strcmp(cmd, usages[i].name) == 0) {
			fprintf(stderr, "%s siptlsctl cert %s\n", lead,
				usages[i].usage);
			lead = "      ";
		}
	}
	if (!cmd) {
		fprintf(stderr, "See docs/certificates.md for examples.\n");
	}
}

int stls__cert_fail(const char *msg)
{
	fprintf(stderr, "siptlsctl cert: %s\n", msg);
	return CERT_EXIT_FAIL;
}

static int usage_err(const char *cmd, const char *fmt, ...)
	STLS_PRINTF(2, 3);

static int usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "siptlsctl cert %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	stls__cert_usage(cmd);
	return CERT_EXIT_USAGE;
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

static int add_san(const char *cmd, struct cert_opts *o,
		   enum stls_x509_san_type type, const char *val)
{
	struct stls_x509_err err;
	struct stls_x509_san san = { type, val };

	if (o->n_sans >= CERT_MAX_SANS) {
		return usage_err(cmd, "too many names (at most 64): '%s'", val);
	}
	if (stls_x509_san_validate(&san, &err)) {
		return usage_err(cmd, "%s", err.msg);
	}
	o->sans[o->n_sans++] = san;
	return 0;
}

/* Stores one option's value. Returns 0 or CERT_EXIT_USAGE. */
static int apply_opt(const char *cmd, enum cert_opt_id id, const char *val,
		     struct cert_opts *o)
{
	switch (id) {
	case OPT_CA: o->ca_dir = val; break;
	case OPT_SUBJECT: o->subject = val; break;
	case OPT_OUT: o->out = val; break;
	case OPT_KEY: o->key_file = val; break;
	case OPT_PASS_FILE: o->pass_file = val; break;
	case OPT_ENGINE: o->engine = val; break;
	case OPT_ENGINE_CONFIG: o->engine_config = val; break;
	case OPT_CHAIN: o->chain = true; break;
	case OPT_FORCE: o->force = true; break;
	case OPT_EC:
		o->key.type = STLS_X509_KEY_EC;
		o->key_spec = true;
		break;
	case OPT_DNS: return add_san(cmd, o, STLS_X509_SAN_DNS, val);
	case OPT_URI: return add_san(cmd, o, STLS_X509_SAN_URI, val);
	case OPT_IP: return add_san(cmd, o, STLS_X509_SAN_IP, val);
	case OPT_EMAIL: return add_san(cmd, o, STLS_X509_SAN_EMAIL, val);
	case OPT_DAYS:
		if (parse_int(val, 1, 36500, &o->days)) {
			return usage_err(cmd, "bad --days '%s': a number of "
					 "days from 1 to 36500", val);
		}
		break;
	case OPT_RSA:
		o->key.type = STLS_X509_KEY_RSA;
		o->key_spec = true;
		if (parse_int(val, 2048, 16384, &o->key.bits)) {
			return usage_err(cmd, "bad --rsa '%s': a key size "
					 "from 2048 to 16384 bits", val);
		}
		break;
	case OPT_REASON:
		o->reason = stls_x509_reason_parse(val);
		if (o->reason < 0) {
			fprintf(stderr, "siptlsctl cert %s: unknown reason "
				"'%s'; use one of: %s\n", cmd, val,
				stls_x509_reason_list());
			return CERT_EXIT_USAGE;
		}
		break;
	default:
		return CERT_EXIT_USAGE;
	}
	return 0;
}

static enum cert_opt_id find_opt(const char *name, size_t len,
				 const enum cert_opt_id *allowed)
{
	size_t i;

	for (i = 0; allowed[i] != OPT_NONE; i++) {
		const char *n = opt_table[allowed[i]].name;

		if (strlen(n) == len && strncmp(n, name, len) == 0) {
			return allowed[i];
		}
	}
	return OPT_NONE;
}

/* Handles argv[*i], an option; may consume the next argument. */
static int parse_one(const char *cmd, int argc, char **argv, int *i,
		     const enum cert_opt_id *allowed, struct cert_opts *o)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	enum cert_opt_id id = find_opt(name, len, allowed);
	const char *val = eq ? eq + 1 : NULL;

	if (id == OPT_NONE) {
		return usage_err(cmd, "unknown option '%s'", argv[*i]);
	}
	if (!opt_table[id].has_arg && val) {
		return usage_err(cmd, "option '%s' takes no value", argv[*i]);
	}
	if (opt_table[id].has_arg && !val) {
		if (*i + 1 >= argc) {
			return usage_err(cmd, "option '%s' needs a value",
					 argv[*i]);
		}
		val = argv[++*i];
	}
	return apply_opt(cmd, id, val, o);
}

int stls__cert_parse(const char *cmd, int argc, char **argv,
		     const enum cert_opt_id *allowed, int min_pos, int max_pos,
		     struct cert_opts *o)
{
	bool opts_done = false;
	int i, rc;

	memset(o, 0, sizeof(*o));
	o->reason = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (!opts_done && strncmp(a, "--", 2) == 0) {
			rc = parse_one(cmd, argc, argv, &i, allowed, o);
			if (rc) {
				return rc;
			}
		} else if (!opts_done && a[0] == '-' && a[1]) {
			return usage_err(cmd, "unknown option '%s'", a);
		} else if (o->npos >= max_pos || o->npos >= CERT_MAX_POS) {
			return usage_err(cmd, "unexpected argument '%s'", a);
		} else {
			o->pos[o->npos++] = a;
		}
	}
	if (o->npos < min_pos) {
		return usage_err(cmd, "%s", "missing argument");
	}
	return 0;
}

int stls__cert_read_pass(const char *path, char *buf, size_t len)
{
	char why[600], msg[700];

	if (stls_secret_read(path, buf, len, NULL, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "password file: %s", why);
		return stls__cert_fail(msg);
	}
	if (strlen(buf) < 4) {
		OPENSSL_cleanse(buf, len);
		snprintf(msg, sizeof(msg), "password file '%.500s': the "
			 "password (first line) must have at least 4 "
			 "characters", path);
		return stls__cert_fail(msg);
	}
	return 0;
}

const char *stls__cert_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		snprintf(buf, len, "?");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}
