/*
 * A daemon's view of an SQLite profile table for the daemon/dbsrc tests:
 * the table made with `db init`'s DDL and two profiles (server:default
 * with the test PKI's server.pem, server:any for SNI other.example.test
 * with server2.pem), a main config naming it, its [core] applied, and a
 * dbsrc with its profile store.
 */
#ifndef STLS_TEST_DBSRC_FIXTURE_H
#define STLS_TEST_DBSRC_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "dbsrc/dbsrc.h"
#include "lib/db/db_fixture.h"
#include "stls/db_admin.h"

struct dbf {
	char dir[600], cfg[700], pki[700];
	struct stls_db *adm; /* read-write, for the test's changes */
	struct stls_conf *conf;
	struct stls_core_conf core;
	struct stls_dbsrc *ds;
	struct stls_pstore *ps;
};

static inline const struct stls_section *dbf_core(const struct stls_conf *c)
{
	const struct stls_section *s;

	for (s = c->sections; s; s = s->next) {
		if (strcmp(s->name, "core") == 0)
			return s;
	}
	return NULL;
}

/* A row: id, profile_type, profile_name, server_name, cert, key names. */
static inline void dbf_row(struct dbf *f, const char *id, const char *name,
			   const char *sni, const char *cert)
{
	char c[800], k[800], sql[300];

	snprintf(c, sizeof(c), "%s/%s.pem", f->pki, cert);
	snprintf(k, sizeof(k), "%s/%s.key", f->pki, cert);
	snprintf(sql, sizeof(sql), "INSERT INTO \"%s\" (id, profile_type, "
		 "profile_name, server_name, certificate, private_key) VALUES "
		 "($1, 'server', $2, $3, $4, $5)", stls_db_table(f->adm));
	DB_EXEC(f->adm, sql, id, name, sni, c, k);
}

/* The table at <config> (NULL: sqlite:tls.db in the case's directory). */
static inline void dbf_table_at(struct dbf *f, const char *config)
{
	struct stls_db_err err;

	snprintf(f->dir, sizeof(f->dir), "%s", test_tmp_dir());
	snprintf(f->pki, sizeof(f->pki), "%s", test_certs_dir());
	f->adm = db_open_ok(config ? config : db_sqlite_config("tls.db"),
			    STLS_DB_OPEN_WRITE | STLS_DB_OPEN_CREATE);
	CHECK_OK(stls_db_admin_init(f->adm, &err));
	dbf_row(f, "1", "default", NULL, "server");
	dbf_row(f, "2", "any", "other.example.test", "server2");
}

static inline void dbf_table(struct dbf *f)
{
	dbf_table_at(f, NULL);
}

/* The main config (relative sqlite: path), loaded and [core] applied. */
static inline void dbf_conf_src(struct dbf *f, const char *core_extra,
				const char *config)
{
	struct stls_diag diag;
	FILE *o;

	snprintf(f->cfg, sizeof(f->cfg), "%s/siptlsd.cfg", f->dir);
	o = fopen(f->cfg, "w");
	CHECK(o != NULL);
	fprintf(o, "[core]\nlisten = tls:127.0.0.1:0\nbackend = "
		   "udp:127.0.0.1:9\nhandler = echo\ndb_poll_interval = 50\n"
		   "%s\n[tls]\nconfig = %s\n",
		core_extra ? core_extra : "", config);
	fclose(o);
	stls_diag_init(&diag);
	CHECK_OK(stls_conf_load_ex(f->cfg, STLS_CONF_LOAD_DB, &f->conf,
				   &diag));
	CHECK_OK(stls_core_conf_apply(dbf_core(f->conf), &f->conf->tls,
				      &f->core, &diag));
	stls_diag_fini(&diag);
}

static inline void dbf_conf(struct dbf *f, const char *core_extra)
{
	dbf_conf_src(f, core_extra, "sqlite:tls.db");
}

/* The dbsrc and its store; returns the store's result (diag filled). */
static inline int dbf_start(struct dbf *f, bool no_snapshot,
			    struct stls_diag *diag)
{
	struct stls_dbsrc_conf dc = { f->conf, &f->conf->tls, &f->core,
				      no_snapshot };
	struct stls_pstore_src src;

	CHECK_OK(stls_dbsrc_new(&dc, diag, &f->ds));
	stls_dbsrc_pstore_src(f->ds, &src);
	return stls_pstore_new_src(f->conf, &f->conf->tls, &f->core, &src,
				   diag, &f->ps);
}

static inline void dbf_fini(struct dbf *f)
{
	stls_dbsrc_stop(f->ds);
	stls_pstore_free(f->ps);
	stls_dbsrc_free(f->ds);
	stls_core_conf_fini(&f->core);
	stls_conf_free(f->conf);
	stls_db_free(f->adm);
	memset(f, 0, sizeof(*f));
}

#endif
