/*
 * Internals of the cli/db_*.c files: options, the context every command
 * gets (the database, the settings and inline profiles of the main
 * config used to check a change), and the commands. Not an API.
 */
#ifndef STLS_CLI_DB_CMD_H
#define STLS_CLI_DB_CMD_H

#include "stls/db.h"
#include "stls/db_admin.h"
#include "stls/secret.h"

#define DB_EXIT_OK 0
#define DB_EXIT_FAIL 1
#define DB_EXIT_USAGE 2

/* Most positional arguments a command takes (KEY=VALUE lists). */
#define DB_MAX_POS 128

/* The database when neither --db nor -c names one. */
#define STLS_DB_ENV "SIPTLS_DB"

struct db_opts {
	const char *db;        /* --db SOURCE */
	const char *config;    /* -c, --config MAIN_CONFIG */
	const char *pass_file; /* --key-password-file FILE */
	const char *out;       /* --out FILE (export) */
	const char *pem_dir;   /* --pem-dir DIR (export) */
	int file_type;         /* --file-type 0|1; -1: not given */
	bool kamcli;           /* --kamcli (schema) */
	bool replace;          /* --replace (import) */
	bool force;            /* --force (export) */
	const char *pos[DB_MAX_POS];
	int npos;
};

/* What a command works with; set up by db_main.c. */
struct db_ctx {
	const char *cmd;
	struct db_opts o;
	struct stls_db *db;          /* opened for the command */
	struct stls_conf *conf;      /* -c, or NULL */
	struct stls_settings own;    /* the settings without -c */
	const struct stls_settings *s; /* conf's [tls] or own */
	char *base_dir;              /* for relative paths */
	char key_password[STLS_SECRET_MAX]; /* --key-password-file, or "" */
};

/* Prints "siptlsctl db CMD: message" to stderr; returns DB_EXIT_FAIL. */
int stls__db_fail(const struct db_ctx *c, const char *fmt, ...)
	STLS_PRINTF(2, 3);

/* Prints "siptlsctl db CMD: message" for a usage error; returns
 * DB_EXIT_USAGE, on which db_main.c prints the command's usage text. */
int stls__db_usage(const char *cmd, const char *fmt, ...) STLS_PRINTF(2, 3);

/* The key password for rows (--key-password-file, else the main
 * config's private_key_password), or NULL. */
const char *stls__db_key_password(const struct db_ctx *c);

/*
 * The check every write runs before it commits (db_check.c): reads the
 * table as the transaction sees it and builds the complete profile set a
 * daemon would build (the inline profiles of -c, the settings, the key
 * password). Prints every problem (warnings too) to stderr. Returns 0,
 * -EINVAL (it would not load) or a database error (message printed).
 */
int stls__db_check(struct db_ctx *c, size_t *nprofiles,
		   struct stls_db_err *err);

/*
 * The profile that "TYPE:NAME" and KEY=VALUE arguments describe, parsed
 * with the tls.cfg keyword table (db_check.c); paths are made absolute.
 * Values left empty (KEY=) are not applied: *nulls gets their keys
 * (canonical names, malloc'd array of borrowed strings). Returns 0 and
 * *out (one profile), or DB_EXIT_FAIL / DB_EXIT_USAGE after printing.
 */
int stls__db_profile_of_args(struct db_ctx *c, const char *header,
			     char **kv, int n, struct stls_profile_conf **out,
			     const char ***nulls, size_t *nnulls);

int stls__db_cmd_check(struct db_ctx *c);
int stls__db_cmd_init(struct db_ctx *c);
int stls__db_cmd_schema(struct db_ctx *c);
int stls__db_cmd_upgrade(struct db_ctx *c);
int stls__db_cmd_import(struct db_ctx *c);
int stls__db_cmd_export(struct db_ctx *c);
int stls__db_cmd_add(struct db_ctx *c);
int stls__db_cmd_set(struct db_ctx *c);
int stls__db_cmd_rm(struct db_ctx *c);
int stls__db_cmd_show(struct db_ctx *c);

#endif
