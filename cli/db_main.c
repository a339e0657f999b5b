/*
 * `siptlsctl db`: command table, options and the context of a command
 * (which database, which main config). Options may come before or after
 * the command's arguments; "--opt VALUE" and "--opt=VALUE" both work.
 *
 * The database is --db SOURCE, else $SIPTLS_DB, else the [tls] config of
 * the main config given with -c. With -c, a change is checked against
 * that config exactly as siptlsd would load it (its [tls] settings, its
 * inline profiles, its directory for relative paths); without, against
 * the default settings, relative paths being taken from the current
 * directory.
 */
#include "db.h"
#include "db_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stls/secret.h"

enum opt_bit {
	O_DB = 1 << 0, O_CONFIG = 1 << 1, O_PASS = 1 << 2, O_OUT = 1 << 3,
	O_PEM_DIR = 1 << 4, O_FILE_TYPE = 1 << 5, O_KAMCLI = 1 << 6,
	O_REPLACE = 1 << 7, O_FORCE = 1 << 8,
};

static const struct {
	const char *name;
	enum opt_bit bit;
	bool has_arg;
} opt_table[] = {
	{ "db", O_DB, true },
	{ "config", O_CONFIG, true },
	{ "key-password-file", O_PASS, true },
	{ "out", O_OUT, true },
	{ "pem-dir", O_PEM_DIR, true },
	{ "file-type", O_FILE_TYPE, true },
	{ "kamcli", O_KAMCLI, false },
	{ "replace", O_REPLACE, false },
	{ "force", O_FORCE, false },
};

#define O_SRC (O_DB | O_CONFIG | O_PASS)

/* What each command needs: its options, arguments and database mode. */
static const struct {
	const char *name;
	int (*run)(struct db_ctx *c);
	unsigned opts;
	int min_pos, max_pos;
	int open; /* -1: no database; else enum stls_db_open_flag bits */
	const char *usage;
} commands[] = {
	{ "init", stls__db_cmd_init, O_SRC, 0, 0, STLS_DB_OPEN_CREATE,
	  "init" },
	{ "schema", stls__db_cmd_schema, O_DB | O_CONFIG | O_KAMCLI, 0, 1, -1,
	  "schema [sqlite|postgresql] [--kamcli]" },
	{ "upgrade", stls__db_cmd_upgrade, O_SRC, 0, 0, STLS_DB_OPEN_WRITE,
	  "upgrade" },
	{ "import", stls__db_cmd_import, O_SRC | O_FILE_TYPE | O_REPLACE, 1,
	  1, STLS_DB_OPEN_WRITE,
	  "import TLS_CFG [--file-type 0|1] [--replace]" },
	{ "export", stls__db_cmd_export, O_SRC | O_OUT | O_PEM_DIR | O_FORCE,
	  0, 0, 0, "export [--out FILE] [--pem-dir DIR] [--force]" },
	{ "add", stls__db_cmd_add, O_SRC | O_FILE_TYPE, 1, DB_MAX_POS,
	  STLS_DB_OPEN_WRITE,
	  "add server|client:default|any|IP:PORT [KEY=VALUE]... "
	  "[--file-type 0|1]" },
	{ "set", stls__db_cmd_set, O_SRC | O_FILE_TYPE, 2, DB_MAX_POS,
	  STLS_DB_OPEN_WRITE, "set ID KEY=VALUE... [--file-type 0|1]" },
	{ "rm", stls__db_cmd_rm, O_SRC, 1, DB_MAX_POS, STLS_DB_OPEN_WRITE,
	  "rm ID..." },
	{ "show", stls__db_cmd_show, O_SRC, 0, 1, 0, "show [ID]" },
	{ "check", stls__db_cmd_check, O_SRC, 0, 0, 0, "check" },
};

static void usage(const char *cmd)
{
	const char *lead = "usage:";
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(commands); i++) {
		if (!cmd || strcmp(cmd, commands[i].name) == 0) {
			fprintf(stderr, "%s siptlsctl db [--db SOURCE | -c "
				"CONFIG] %s\n", lead, commands[i].usage);
			lead = "      ";
		}
	}
	if (!cmd) {
		fprintf(stderr,
			"SOURCE: sqlite:PATH or postgresql://USER@HOST/DB"
			"[?table=NAME] (else $%s,\nelse [tls] config of "
			"CONFIG). --key-password-file FILE: the password of "
			"the\nencrypted keys held in rows. See "
			"docs/database.md.\n", STLS_DB_ENV);
	}
}

static int set_opt(const char *cmd, enum opt_bit bit, const char *val,
		   struct db_opts *o)
{
	switch (bit) {
	case O_DB: o->db = val; break;
	case O_CONFIG: o->config = val; break;
	case O_PASS: o->pass_file = val; break;
	case O_OUT: o->out = val; break;
	case O_PEM_DIR: o->pem_dir = val; break;
	case O_KAMCLI: o->kamcli = true; break;
	case O_REPLACE: o->replace = true; break;
	case O_FORCE: o->force = true; break;
	case O_FILE_TYPE:
		if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0) {
			return stls__db_usage(cmd, "--file-type: 0 (paths) or "
					      "1 (PEM text), not '%s'", val);
		}
		o->file_type = val[0] - '0';
		break;
	}
	return 0;
}

/* Handles the option at argv[*i] (which starts with '-'). */
static int parse_opt(const char *cmd, unsigned allowed, int argc,
		     char **argv, int *i, struct db_opts *o)
{
	const char *a = argv[*i], *name = a + 2, *eq, *val = NULL;
	size_t len, k;

	if (strcmp(a, "-c") == 0) {
		name = "config";
	} else if (strncmp(a, "--", 2) != 0) {
		return stls__db_usage(cmd, "unknown option '%s'", a);
	}
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	for (k = 0; k < STLS_ARRAY_SIZE(opt_table); k++) {
		if (strlen(opt_table[k].name) == len &&
		    strncmp(opt_table[k].name, name, len) == 0) {
			break;
		}
	}
	if (k == STLS_ARRAY_SIZE(opt_table) || !(allowed & opt_table[k].bit)) {
		return stls__db_usage(cmd, "unknown option '%s'", a);
	}
	if (eq && !opt_table[k].has_arg) {
		return stls__db_usage(cmd, "'%s' takes no value", a);
	}
	val = eq ? eq + 1 : NULL;
	if (opt_table[k].has_arg && !val) {
		if (*i + 1 >= argc) {
			return stls__db_usage(cmd, "'%s' needs a value", a);
		}
		val = argv[++*i];
	}
	return set_opt(cmd, opt_table[k].bit, val, o);
}

static int parse(size_t ci, int argc, char **argv, struct db_opts *o)
{
	const char *cmd = commands[ci].name;
	bool only_pos = false;
	int i, rc;

	for (i = 2; i < argc; i++) {
		if (!only_pos && strcmp(argv[i], "--") == 0) {
			only_pos = true;
		} else if (!only_pos && argv[i][0] == '-' && argv[i][1]) {
			rc = parse_opt(cmd, commands[ci].opts, argc, argv, &i,
				       o);
			if (rc) {
				return rc;
			}
		} else if (o->npos < DB_MAX_POS) {
			o->pos[o->npos++] = argv[i];
		} else {
			return stls__db_usage(cmd, "too many arguments");
		}
	}
	if (o->npos < commands[ci].min_pos || o->npos > commands[ci].max_pos) {
		return stls__db_usage(cmd, "wrong number of arguments");
	}
	return 0;
}

/* First line of the key password file, without its newline. */
static int read_pass(struct db_ctx *c)
{
	char why[600];

	if (stls_secret_read(c->o.pass_file, c->key_password,
			     sizeof(c->key_password), NULL, why,
			     sizeof(why))) {
		return stls__db_fail(c, "--key-password-file: %s", why);
	}
	return 0;
}

/* The main config (-c) or the default settings. */
static int load_settings(struct db_ctx *c)
{
	struct stls_diag d;
	int rc;

	if (!c->o.config) {
		if (stls_settings_init(&c->own) ||
		    !(c->base_dir = getcwd(NULL, 0)) ||
		    stls_settings_resolve_defaults(&c->own, c->base_dir)) {
			return stls__db_fail(c, "out of memory");
		}
		c->s = &c->own;
		return 0;
	}
	stls_diag_init(&d);
	rc = stls_conf_load_ex(c->o.config, STLS_CONF_LOAD_DB, &c->conf, &d);
	stls_diag_print(&d, stderr);
	stls_diag_fini(&d);
	if (rc) {
		return stls__db_fail(c, "cannot load '%s'", c->o.config);
	}
	c->s = &c->conf->tls;
	c->base_dir = strdup(c->conf->base_dir);
	return c->base_dir ? 0 : stls__db_fail(c, "out of memory");
}

static const char *source(const struct db_ctx *c)
{
	const char *env = getenv(STLS_DB_ENV);

	if (c->o.db) {
		return c->o.db;
	}
	if (env && *env) {
		return env;
	}
	if (c->conf && stls_conf_src_is_db(c->conf->tls.config)) {
		return c->conf->tls.config;
	}
	return NULL;
}

static int open_db(struct db_ctx *c, int flags)
{
	struct stls_db_opts o = { .flags = (unsigned)flags,
				  .app_name = "siptlsctl" };
	struct stls_db_err err;
	const char *src = source(c);

	if (!src) {
		return stls__db_usage(c->cmd, "no database: give --db "
				      "sqlite:PATH|postgresql://..., "
				      "$%s, or -c CONFIG whose [tls] config "
				      "names one", STLS_DB_ENV);
	}
	if (stls_db_open(src, &o, &c->db, &err)) {
		fprintf(stderr, "siptlsctl db %s: %s\n", c->cmd, err.msg);
		return DB_EXIT_FAIL;
	}
	return 0;
}

static int run(size_t ci, struct db_ctx *c)
{
	int rc = load_settings(c);

	if (!rc && c->o.pass_file) {
		rc = read_pass(c);
	}
	if (!rc && commands[ci].open >= 0) {
		rc = open_db(c, commands[ci].open);
	}
	return rc ? rc : commands[ci].run(c);
}

int stls_cli_db_main(int argc, char **argv)
{
	struct db_ctx c;
	size_t ci;
	int rc;

	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(NULL);
		return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
	}
	for (ci = 0; ci < STLS_ARRAY_SIZE(commands); ci++) {
		if (strcmp(argv[1], commands[ci].name) == 0) {
			break;
		}
	}
	if (ci == STLS_ARRAY_SIZE(commands)) {
		rc = stls__db_usage(NULL, "unknown command '%s'", argv[1]);
		usage(NULL);
		return rc;
	}
	memset(&c, 0, sizeof(c));
	c.cmd = commands[ci].name;
	c.o.file_type = -1;
	rc = parse(ci, argc, argv, &c.o);
	if (!rc) {
		rc = run(ci, &c);
	}
	if (rc == DB_EXIT_USAGE) {
		/* The message is out (stls__db_usage()); the text follows. */
		usage(c.cmd);
	}
	stls_db_free(c.db);
	stls_conf_free(c.conf);
	if (c.s == &c.own) {
		stls_settings_fini(&c.own);
	}
	free(c.base_dir);
	explicit_bzero(c.key_password, sizeof(c.key_password));
	return rc;
}
