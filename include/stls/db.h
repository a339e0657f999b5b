/*
 * TLS profiles from a database table (docs/database.md): libsiptls_db.
 *
 * [tls] `config` may name a table of profiles instead of a tls.cfg:
 * "sqlite:PATH[?table=NAME]" or a libpq URI "postgresql://...?table=NAME"
 * (the table parameter is ours and never reaches libpq; the default table
 * is "tlscfg"). The table is kamcli's `tlscfg` (a table made by kamcli
 * loads unchanged) plus nullable columns for every other profile key that
 * tls.cfg takes. A row gives exactly the profile the equivalent tls.cfg
 * section gives: the same keyword table, the same checks, the same
 * completion (lib/conf, "Profiles from records"); problems name the row
 * and column: "tlscfg id=17 column=certificate: ...".
 *
 * This library is apart from libsiptls (which stays free of sockets and of
 * database clients): it links SQLite and libpq. Two engines sit behind one
 * small interface (lib/db/db_int.h): open, close, query, a write
 * transaction, and change detection.
 *
 * Change detection (stls_db_poll): SQLite compares PRAGMA data_version
 * (it changes when another connection commits) with the value seen at the
 * last load or poll; PostgreSQL LISTENs on channel "siptls_<table>", which
 * the trigger made by `siptlsctl db init` / `upgrade` notifies after each
 * statement that changes the table, and reports whether a notification
 * arrived. Either way a change committed after a load is never missed:
 * the marker is taken before the rows are read.
 *
 * Secrets: a password in a PostgreSQL URI is never shown (messages use
 * stls_db_shown()); cells are wiped when rows are freed.
 *
 * Errors: fallible functions return 0 or a negative errno and fill a
 * struct stls_db_err with one sentence that starts with the source as
 * shown. -ENOTCONN: the server cannot be reached or the connection was
 * lost (open it again later); -EIO: the statement failed (no such table,
 * a constraint); -ENOENT: no such row or SQLite file; -EINVAL: bad input.
 *
 * Threads: one struct stls_db is used by one thread at a time.
 */
#ifndef STLS_DB_H
#define STLS_DB_H

#include "stls/common.h"
#include "stls/conf.h"
#include "stls/diag.h"
#include "stls/profile.h"
#include "stls/settings.h"
#include "stls/tkeys.h"

struct stls_db;
struct stls_db_rows;

/* One readable sentence; never a password, never key material. */
struct stls_db_err {
	char msg[1024];
};

/* The default table name, kamcli's. */
#define STLS_DB_TABLE_DEFAULT "tlscfg"
/* Longest table name accepted (lower-case letters, digits, '_'). */
#define STLS_DB_TABLE_MAX 40

/* --- sources (lib/db/db_src.c) ------------------------------------- */

/* A `config` value taken apart. Every string is owned. */
struct stls_db_src {
	enum stls_conf_src kind; /* SQLITE or POSTGRESQL */
	char *target; /* SQLite file, or the URI without our table= */
	char *table;  /* "tlscfg" unless table= says otherwise */
	char *shown;  /* the value with any password hidden */
};

/*
 * Parses a database `config` value. Refuses anything else, a bad or
 * repeated table parameter, and an empty SQLite path with -EINVAL (err
 * says why, with the value as shown). Returns 0 (fini *out later) or
 * -EINVAL / -ENOMEM.
 */
STLS_MUST_USE int stls_db_src_parse(const char *config,
				    struct stls_db_src *out,
				    struct stls_db_err *err);

void stls_db_src_fini(struct stls_db_src *src);

/* --- connections (lib/db/db.c) ------------------------------------- */

enum stls_db_open_flag {
	STLS_DB_OPEN_WRITE = 1 << 0,  /* read-write (default: read-only) */
	STLS_DB_OPEN_CREATE = 1 << 1, /* SQLite: create a missing file */
	STLS_DB_OPEN_WATCH = 1 << 2,  /* PostgreSQL: LISTEN for changes */
};

struct stls_db_opts {
	unsigned flags;           /* enum stls_db_open_flag */
	const char *app_name;     /* PostgreSQL application_name, unless
				   * the URI sets one; NULL: "siptls" */
	int connect_timeout_s;    /* PostgreSQL, unless the URI sets one;
				   * 0: 10 s */
	int busy_timeout_ms;      /* SQLite lock wait; 0: 5000 ms */
};

/*
 * Opens the database that `config` names. A PostgreSQL password comes
 * from the URI, the passfile= parameter or PGPASSFILE (~/.pgpass), as
 * libpq reads them; it never appears in err. Returns 0 and *out (free
 * with stls_db_free()), -EINVAL (bad value), -ENOENT (no SQLite file),
 * -ENOTCONN (server unreachable, authentication refused) or -ENOMEM.
 */
STLS_MUST_USE int stls_db_open(const char *config,
			       const struct stls_db_opts *o,
			       struct stls_db **out, struct stls_db_err *err);

/* Closes the connection. NULL-safe. */
void stls_db_free(struct stls_db *db);

/* The engine, the table, and the source with any password hidden. */
enum stls_conf_src stls_db_kind(const struct stls_db *db);
const char *stls_db_table(const struct stls_db *db);
const char *stls_db_shown(const struct stls_db *db);

/*
 * Runs one statement with text parameters $1..$n (NULL = SQL NULL); the
 * same placeholders serve both engines. Rows go to *out when out is not
 * NULL (column names too, even without rows). Returns 0, -EIO, -ENOTCONN
 * or -ENOMEM.
 */
STLS_MUST_USE int stls_db_query(struct stls_db *db, const char *sql,
				const char *const *params, size_t n,
				struct stls_db_rows **out,
				struct stls_db_err *err);

/* A step run inside stls_db_txn(): 0 commits, anything else rolls back. */
typedef int stls_db_txn_fn(struct stls_db *db, void *arg,
			   struct stls_db_err *err);

enum stls_db_txn_flag {
	/* Keep other writers of the table out until the end (the table must
	 * exist): what fn checks is what it commits. */
	STLS_DB_TXN_LOCK = 1 << 0,
};

/*
 * Runs fn(db, arg, err) in one write transaction (SQLite: BEGIN IMMEDIATE,
 * which holds the whole file against other writers; PostgreSQL: BEGIN,
 * with STLS_DB_TXN_LOCK also LOCK TABLE ... IN EXCLUSIVE MODE: readers go
 * on). Commits when fn returns 0, rolls back otherwise. Returns fn's
 * result or the engine's error (-EIO, -ENOTCONN).
 */
STLS_MUST_USE int stls_db_txn(struct stls_db *db, unsigned flags,
			      stls_db_txn_fn *fn, void *arg,
			      struct stls_db_err *err);

/*
 * Every row of the table, ordered by id, all columns as text (the change
 * marker is taken first: see stls_db_poll). Returns 0 and *out, -EIO (no
 * such table...), -ENOTCONN or -ENOMEM.
 */
STLS_MUST_USE int stls_db_load_rows(struct stls_db *db,
				    struct stls_db_rows **out,
				    struct stls_db_err *err);

/*
 * Whether the table may have changed since the last load or poll (see the
 * top of this file). Never blocks. A PostgreSQL connection opened without
 * STLS_DB_OPEN_WATCH always says false. Returns 0 and *changed, or
 * -ENOTCONN when the connection is lost (open a new one; changes missed
 * meanwhile are found by loading again) / -EIO.
 */
STLS_MUST_USE int stls_db_poll(struct stls_db *db, bool *changed,
			       struct stls_db_err *err);

/* What changed (stls_db_poll_what). */
enum stls_db_changed {
	STLS_DB_CHANGED_PROFILES = 1 << 0, /* the profile table */
	STLS_DB_CHANGED_TKEYS = 1 << 1,    /* the ticket keys (PostgreSQL) */
};

/*
 * stls_db_poll() for both tables: *what gets the STLS_DB_CHANGED_* bits
 * of what may have changed since each was last loaded or polled. Never
 * blocks. Same returns as stls_db_poll().
 */
STLS_MUST_USE int stls_db_poll_what(struct stls_db *db, unsigned *what,
				    struct stls_db_err *err);

/*
 * The descriptor that becomes readable when a PostgreSQL notification
 * arrives (then call stls_db_poll), or -1 for SQLite (poll on a timer).
 * A statement run on the connection may read a notification off it: poll
 * after every load, not only when the descriptor is readable.
 */
int stls_db_watch_fd(const struct stls_db *db);

/* --- session ticket keys of a fleet (lib/db/db_tkeys.c) ------------- */

/*
 * PostgreSQL only. The edges of a fleet share their TLS session ticket
 * keys (stls/tkeys.h) through a table next to the profile table:
 * "tlskeys" for "tlscfg", "<table>_keys" for any other (`siptlsctl db
 * init` / `upgrade` create it):
 *   id BIGSERIAL, active_from BIGINT (Unix time, the server's clock),
 *   tkey TEXT (the key as hex, stls_tkey_to_hex())
 * A key encrypts new tickets from active_from on. One edge at a time adds
 * keys (stls_db_tkeys_locked(): a transaction holding an advisory lock)
 * and notifies the others; the table keeps the STLS_DB_TKEYS_KEEP newest.
 * Whoever reads this table can open every ticket: grant it to the edges
 * only. Key values never appear in messages.
 */
#define STLS_DB_TKEYS_KEEP 3

struct stls_db_tkey_row {
	int64_t id;
	int64_t active_from;
	struct stls_tkey key;
};

/* The newest keys, newest (largest active_from) first. */
struct stls_db_tkeys {
	int64_t now; /* the server's clock when they were read */
	size_t n;
	struct stls_db_tkey_row v[STLS_DB_TKEYS_KEEP];
};

/* The ticket key table's name. */
const char *stls_db_tkeys_table(const struct stls_db *db);

/*
 * Reads the newest keys and the server's clock. Rows whose key is not
 * valid hex are refused (-EIO, naming their id). Returns 0, -ENOENT (no
 * table: `siptlsctl db upgrade`), -ENOTSUP (SQLite), -EIO, -ENOTCONN or
 * -ENOMEM. Wipe *out with stls_db_tkeys_wipe().
 */
STLS_MUST_USE int stls_db_tkeys_load(struct stls_db *db,
				     struct stls_db_tkeys *out,
				     struct stls_db_err *err);

void stls_db_tkeys_wipe(struct stls_db_tkeys *t);

/*
 * Runs fn(db, arg, err) in one transaction that holds the table's
 * advisory lock (pg_try_advisory_xact_lock), so that one edge at a time
 * decides about keys; commits when fn returns 0. When another edge holds
 * the lock, fn does not run and *ran is false. Returns fn's result, 0, or
 * the engine's error.
 */
STLS_MUST_USE int stls_db_tkeys_locked(struct stls_db *db, stls_db_txn_fn *fn,
				       void *arg, bool *ran,
				       struct stls_db_err *err);

/*
 * Inside stls_db_tkeys_locked(): adds key <k> active from <active_from>,
 * drops all but the STLS_DB_TKEYS_KEEP newest and notifies the edges
 * (delivered at commit). Returns 0, -EIO, -ENOTCONN or -ENOMEM.
 */
STLS_MUST_USE int stls_db_tkeys_add(struct stls_db *db, int64_t active_from,
				    const struct stls_tkey *k,
				    struct stls_db_err *err);

/* --- rows (lib/db/db_rows.c) --------------------------------------- */

/*
 * A result table: column names and text cells (NULL = SQL NULL). Cells
 * are wiped when the rows are freed (they may hold encrypted keys and
 * passwords).
 */
STLS_MUST_USE int stls_db_rows_new(size_t ncols, const char *const *names,
				   struct stls_db_rows **out);
void stls_db_rows_free(struct stls_db_rows *r);

/* Appends a row of ncols cells (copied; NULL entries are NULL). */
STLS_MUST_USE int stls_db_rows_push(struct stls_db_rows *r,
				    const char *const *cells);

size_t stls_db_rows_ncols(const struct stls_db_rows *r);
size_t stls_db_rows_count(const struct stls_db_rows *r);
const char *stls_db_rows_col(const struct stls_db_rows *r, size_t j);
/* Column index by name (case-insensitive), or -1. */
int stls_db_rows_find(const struct stls_db_rows *r, const char *name);
/* Cell (row i, column j), or NULL (SQL NULL, or out of range). */
const char *stls_db_rows_get(const struct stls_db_rows *r, size_t i,
			     size_t j);

/*
 * SHA-256 over the column names and cells (NULL told apart from ""): two
 * loads with equal digests hold the same rows. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls_db_rows_digest(const struct stls_db_rows *r,
				      uint8_t out[32]);

/* --- rows to profiles (lib/db/db_conv.c, db_load.c) ------------------ */

struct stls_db_conv_opts {
	const char *table;        /* for labels; NULL: "tlscfg" */
	const char *base_dir;     /* relative paths; NULL: as written */
	/* Password of the encrypted keys held in rows (file_type = 1) that
	 * have no private_key_password of their own. Borrowed. */
	const char *key_password;
};

/*
 * The complete profile list of rows, as stls_conf_recs_build() makes it:
 * the inline profiles of conf (may be NULL) first, then one profile per
 * row in row order, defaults filled, duplicates reported, implicit
 * defaults added. Columns are matched by name; a column that is no
 * profile key gets one warning. NULL and blank cells are unset (as kamcli
 * prints them); server_name_mode counts only with a server_name (kamcli
 * again). file_type 1: certificate, private_key, certificate2,
 * private_key2, ca_list and crl hold PEM text (read from memory; a key
 * must be encrypted), and an empty private_key means the key follows the
 * certificate. Every problem goes to diag as "TABLE id=N column=C:
 * message". Returns 0 and *list, -EINVAL (*list = NULL) or -ENOMEM.
 */
STLS_MUST_USE int stls_db_conv_rows(const struct stls_db_rows *rows,
				    const struct stls_conf *conf,
				    const struct stls_db_conv_opts *o,
				    struct stls_profile_conf **list,
				    struct stls_diag *diag);

/*
 * What a daemon calls instead of stls_conf_reload_profiles() when
 * `config` names a database: loads the rows of db and converts them with
 * stls_db_conv_rows() (base_dir: conf's; key password: key_password, else
 * s->private_key_password). digest (may be NULL) gets the rows' digest.
 * Database failures are added to diag too, as "SOURCE: reason". Returns
 * 0 and *list, -EINVAL (bad rows), -EIO, -ENOTCONN or -ENOMEM.
 */
STLS_MUST_USE int stls_db_profiles_load(struct stls_db *db,
					const struct stls_conf *conf,
					const struct stls_settings *s,
					const char *key_password,
					struct stls_profile_conf **list,
					uint8_t digest[32],
					struct stls_diag *diag);

/*
 * stls_db_profiles_load() then stls_profile_set_build(s, list): the
 * complete, checked profile set of the table. Returns 0 and *out (one
 * reference), or the first failure as above.
 */
STLS_MUST_USE int stls_db_profile_set_build(struct stls_db *db,
					    const struct stls_conf *conf,
					    const struct stls_settings *s,
					    const char *key_password,
					    struct stls_diag *diag,
					    struct stls_profile_set **out);

#endif
