/*
 * Managing the profile table (siptlsctl db): its columns and DDL, creating
 * and upgrading it, rows made from profiles, writes, and a tls.cfg made
 * from the rows. Daemons need only stls/db.h.
 *
 * The table (docs/database.md): kamcli's `tlscfg` columns
 *   id, profile_type, profile_name, method, verify_certificate,
 *   verify_depth, require_certificate, cipher_list, server_name,
 *   server_name_mode, server_id, file_type, certificate, private_key,
 *   ca_list, crl
 * then one nullable column per other profile key, in lib/conf's table
 * order (verify_client, verify_server_name, verify_wildcard,
 * private_key_password, certificate2, private_key2,
 * private_key_password2, ca_path, cipher_suites at the time of writing):
 * INTEGER for integers and booleans, TEXT for the rest.
 */
#ifndef STLS_DB_ADMIN_H
#define STLS_DB_ADMIN_H

#include <stdio.h>

#include "stls/db.h"

/* --- columns and DDL (lib/db/db_schema.c) --------------------------- */

enum stls_db_col_type {
	STLS_DB_COL_INT,
	STLS_DB_COL_TEXT,
};

struct stls_db_col {
	const char *name;
	enum stls_db_col_type type;
	bool kamcli; /* one of kamcli's columns */
	int key;     /* the profile key (stls_profile_key_at), or -1 for
		      * id, profile_type, profile_name and file_type */
};

size_t stls_db_col_count(void);
/* Column i (kamcli's first). Returns false past the end. */
bool stls_db_col_at(size_t i, struct stls_db_col *out);
/* Column index by exact name (any case), or -1. */
int stls_db_col_find(const char *name);

/*
 * Statements, malloc'd, without a final ';', or NULL (out of memory, or i
 * past the end). table must be a valid table name (stls_db_src_parse()
 * checks it).
 *   create: CREATE TABLE with every column, or kamcli's only;
 *   add_column: ALTER TABLE ... ADD COLUMN for extension column i;
 *   notify: PostgreSQL's change trigger, statement i of 3 (the function
 *           "siptls_<table>_notify", then the trigger, replaced if there).
 */
char *stls_db_schema_create(enum stls_conf_src kind, const char *table,
			    bool kamcli_only);
char *stls_db_schema_add_column(enum stls_conf_src kind, const char *table,
				size_t i);
char *stls_db_schema_notify(const char *table, size_t i);

/*
 * PostgreSQL's ticket key table of a fleet next to profile table <table>
 * (stls_db_tkeys_name()): CREATE TABLE IF NOT EXISTS, malloc'd, or NULL.
 */
char *stls_db_schema_tkeys(const char *table);

/* The ticket key table next to profile table <table>, into buf. */
const char *stls_db_tkeys_name(const char *table, char *buf, size_t len);

/* --- the table (lib/db/db_admin.c) --------------------------------- */

/*
 * Creates the table with every column and, on PostgreSQL, the change
 * trigger, in one transaction. Returns 0, -EEXIST (the table exists:
 * `upgrade` it), -EIO, -ENOTCONN or -ENOMEM.
 */
STLS_MUST_USE int stls_db_admin_init(struct stls_db *db,
				     struct stls_db_err *err);

/*
 * Adds the extension columns the table lacks (a kamcli table gets them
 * all) and, on PostgreSQL, (re)installs the change trigger, in one
 * transaction; *added gets the number of columns added. Returns 0,
 * -ENOENT (no such table), -EIO, -ENOTCONN or -ENOMEM.
 */
STLS_MUST_USE int stls_db_admin_upgrade(struct stls_db *db, size_t *added,
					struct stls_db_err *err);

/*
 * The table's columns, as the column names of an empty result. Returns
 * 0 and *out, -ENOENT (no such table), -EIO, -ENOTCONN or -ENOMEM.
 */
STLS_MUST_USE int stls_db_admin_columns(struct stls_db *db,
					struct stls_db_rows **out,
					struct stls_db_err *err);

/* --- rows to write (lib/db/db_row.c) ------------------------------- */

/* Column values to write; NULL values are SQL NULL. */
struct stls_db_row;

STLS_MUST_USE int stls_db_row_new(struct stls_db_row **out);
/* Wipes the values (keys, passwords) and frees. NULL-safe. */
void stls_db_row_free(struct stls_db_row *r);

/* Sets column col (copied) to val (copied; NULL = SQL NULL). */
STLS_MUST_USE int stls_db_row_set(struct stls_db_row *r, const char *col,
				  const char *val);
size_t stls_db_row_count(const struct stls_db_row *r);
const char *stls_db_row_col(const struct stls_db_row *r, size_t i);
const char *stls_db_row_val(const struct stls_db_row *r, size_t i);

/*
 * The row of one profile, as `siptlsctl db import` and `add` write it:
 * profile_type and profile_name from its header, file_type, and every key
 * that was written (not the template's defaults), by canonical name.
 * file_type 1: the files of certificate, private_key, certificate2,
 * private_key2, ca_list and crl are read and their PEM text stored
 * (values that already are PEM text are kept). A private_key written as
 * "" (the key follows the certificate) becomes the certificate's path
 * (file_type 0) or NULL (file_type 1), which mean the same in a row.
 * Problems (unreadable file, not PEM) go to diag at the key's location.
 * Returns 0 and *out, -EINVAL or -ENOMEM.
 */
STLS_MUST_USE int stls_db_row_from_profile(const struct stls_profile_conf *p,
					   int file_type,
					   struct stls_db_row **out,
					   struct stls_diag *diag);

/*
 * Refuses a row naming a column that cols (stls_db_admin_columns()) lacks:
 * -ENOENT with "column C is missing from TABLE: run `siptlsctl db
 * upgrade`", or -EINVAL for a column that is no column of the schema.
 */
STLS_MUST_USE int stls_db_row_check(const struct stls_db_row *r,
				    const struct stls_db_rows *cols,
				    const char *table,
				    struct stls_db_err *err);

/*
 * INSERT (the new id in *id, may be NULL), UPDATE of row id, DELETE of
 * row id. Update and delete return -ENOENT when no row has that id.
 * Other returns as stls_db_query().
 */
STLS_MUST_USE int stls_db_row_insert(struct stls_db *db,
				     const struct stls_db_row *r,
				     long long *id, struct stls_db_err *err);
STLS_MUST_USE int stls_db_row_update(struct stls_db *db, long long id,
				     const struct stls_db_row *r,
				     struct stls_db_err *err);
STLS_MUST_USE int stls_db_row_delete(struct stls_db *db, long long id,
				     struct stls_db_err *err);

/* --- a tls.cfg from the rows (lib/db/db_export.c) ------------------ */

struct stls_db_export_opts {
	const char *table;   /* for labels; NULL: "tlscfg" */
	/* Where the PEM text of file_type 1 rows goes, as
	 * <column>_<id>.pem (keys 0600, the rest 0644); NULL: such rows are
	 * an error. Files are written atomically. */
	const char *pem_dir;
	bool force;          /* overwrite existing PEM files */
};

/*
 * Writes a tls.cfg with one section per row, in row order, like `kamcli
 * tls cfgprint`: "[profile_type:profile_name]" and "key = value" for
 * every non-blank column (server_name_mode only with a server_name),
 * quoted where the grammar needs it. The rows are converted first
 * (stls_db_conv_rows()): a table that would not load is not exported.
 * Returns 0, -EINVAL (problems in diag), -EIO or -ENOMEM.
 */
STLS_MUST_USE int stls_db_export(const struct stls_db_rows *rows,
				 const struct stls_db_export_opts *o,
				 FILE *out, struct stls_diag *diag);

#endif
