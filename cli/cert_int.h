/*
 * Internals shared by the cli/cert_*.c files: the option table and parser,
 * and the subcommand handlers. Not part of any API.
 */
#ifndef STLS_CLI_CERT_INT_H
#define STLS_CLI_CERT_INT_H

#include "stls/x509.h"

#define CERT_EXIT_OK 0
#define CERT_EXIT_FAIL 1
#define CERT_EXIT_USAGE 2

#define CERT_MAX_POS 64
#define CERT_MAX_SANS 64

enum cert_opt_id {
	OPT_NONE,
	OPT_CA,
	OPT_SUBJECT,
	OPT_DAYS,
	OPT_RSA,
	OPT_EC,
	OPT_DNS,
	OPT_URI,
	OPT_IP,
	OPT_EMAIL,
	OPT_OUT,
	OPT_CHAIN,
	OPT_FORCE,
	OPT_REASON,
	OPT_KEY,
	OPT_PASS_FILE,
	OPT_ENGINE,
	OPT_ENGINE_CONFIG,
	OPT__COUNT
};

/* Everything a cert subcommand may be given. */
struct cert_opts {
	const char *pos[CERT_MAX_POS];
	int npos;
	const char *ca_dir, *subject, *out, *key_file, *pass_file;
	const char *engine, *engine_config; /* for an HSM --key */
	int days; /* 0: the subcommand's default */
	int reason;
	struct stls_x509_keyspec key;
	struct stls_x509_san sans[CERT_MAX_SANS];
	size_t n_sans;
	bool chain, force;
	bool key_spec; /* --rsa or --ec given */
};

/*
 * Parses argv[1..] (argv[0] is the subcommand name, used in messages).
 * Only the options whose ids are listed in allowed (ending with OPT_NONE)
 * are accepted; between min_pos and max_pos positional arguments. Prints a
 * message and the subcommand's usage on error. Returns 0 or
 * CERT_EXIT_USAGE.
 */
int stls__cert_parse(const char *cmd, int argc, char **argv,
		     const enum cert_opt_id *allowed, int min_pos, int max_pos,
		     struct cert_opts *o);

/* Prints "usage: ..." for one subcommand (or all when cmd is NULL). */
void stls__cert_usage(const char *cmd);

/* Prints "siptlsctl cert: MESSAGE" to stderr; returns CERT_EXIT_FAIL. */
int stls__cert_fail(const char *msg);

/*
 * Reads the first line of a password file into buf. Returns 0 or
 * CERT_EXIT_FAIL (message printed). The caller wipes buf.
 */
int stls__cert_read_pass(const char *path, char *buf, size_t len);

/* Prints a time as "2025-01-31 12:00:00 UTC". */
const char *stls__cert_time(const ASN1_TIME *t, char *buf, size_t len);

/*
 * The subject key of issue, selfsigned and csr (cert_key.c): --key names
 * an existing one (a PEM file, or a key that stays in an HSM: pkcs11:,
 * /engine:, /uri:, started with --engine and --engine-config), else a new
 * one is made (--rsa/--ec). Returns 0 and *out (the caller frees it), or
 * -errno with err set (printed already when it is CERT_EXIT_USAGE-like).
 */
int stls__cert_key_get(const struct cert_opts *o, EVP_PKEY **out,
		       struct stls_x509_err *err);

/* The subject of a new certificate or request: --subject, or CN=NAME. */
int stls__cert_subject(const struct cert_opts *o, const char *name,
		       X509_NAME **out, struct stls_x509_err *err);

/* Adds DNS:NAME + URI:sip:NAME, or IP:NAME, when no name was given. */
void stls__cert_default_sans(struct cert_opts *o, const char *name,
			     char *uri, size_t len);

/* NAME names output files: letters, digits and . _ @ + - only. */
bool stls__cert_name_ok(const char *name);

int stls__cert_cmd_csr(int argc, char **argv);
int stls__cert_cmd_ca(int argc, char **argv);
int stls__cert_cmd_issue(int argc, char **argv);
int stls__cert_cmd_selfsigned(int argc, char **argv);
int stls__cert_cmd_revoke(int argc, char **argv);
int stls__cert_cmd_crl(int argc, char **argv);
int stls__cert_cmd_calist(int argc, char **argv);
int stls__cert_cmd_show(int argc, char **argv);

#endif
