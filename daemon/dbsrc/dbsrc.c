/*
 * The database source of the profile store (see dbsrc.h): open, the
 * loader with its snapshot fall-back, the done hook (snapshot, counters,
 * the last refusal), and the counters.
 */
#include "dbsrc/dbsrc_int.h"
#include "dbsrc/snapshot.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stls/log.h"

/* Started as root with [core] user: the watch thread writes snapshots
 * after the privileges are dropped, so the directory is the user's. */
static void give_to_user(const char *dir, const char *user)
{
	struct passwd *pw;

	if (!user || geteuid() != 0)
		return;
	pw = getpwnam(user);
	if (pw && chown(dir, pw->pw_uid, pw->pw_gid) != 0)
		STLS_WARN("state_dir %s: chown to %s: %s", dir, user,
			  strerror(errno));
}

static int make_snap_path(struct stls_dbsrc *ds, struct stls_diag *diag)
{
	const char *dir = ds->c.core->state_dir;

	if (!dir)
		return 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		stls_diag_warn(diag, NULL, 0, "state_dir %s: %s (no snapshot "
			       "of the profiles)", dir, strerror(errno));
		return 0;
	}
	give_to_user(dir, ds->c.core->user);
	if (asprintf(&ds->snap_path, "%s/profiles-%s.db", dir,
		     ds->src.table) < 0) {
		ds->snap_path = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* A relative SQLite path is taken from the main config's directory, as
 * every other path (docs/database.md). */
static char *resolve(const char *config, const char *base_dir)
{
	char *s = NULL;

	if (!config)
		return NULL;
	if (strncmp(config, "sqlite:", 7) != 0 || config[7] == '/' ||
	    !base_dir)
		return strdup(config);
	return asprintf(&s, "sqlite:%s/%s", base_dir, config + 7) < 0 ? NULL
								       : s;
}

int stls_dbsrc_new(const struct stls_dbsrc_conf *c, struct stls_diag *diag,
		   struct stls_dbsrc **out)
{
	struct stls_dbsrc *ds = calloc(1, sizeof(*ds));
	struct stls_db_err err;
	int rc;

	if (!ds)
		return -ENOMEM;
	ds->c = *c;
	ds->wake[0] = ds->wake[1] = -1;
	pthread_mutex_init(&ds->mu, NULL);
	ds->written = strdup(c->live->config ? c->live->config : "");
	ds->config = resolve(ds->written, c->conf->base_dir);
	if (!ds->config) {
		stls_dbsrc_free(ds);
		return -ENOMEM;
	}
	rc = stls_db_src_parse(ds->config, &ds->src, &err);
	if (rc) {
		stls_diag_err(diag, NULL, 0, "config: %s", err.msg);
		free(ds->config);
		ds->config = NULL;
		stls_dbsrc_free(ds);
		return rc;
	}
	ds->st.source = ds->src.shown;
	ds->watch = ds->src.kind == STLS_CONF_SRC_POSTGRESQL;
	rc = make_snap_path(ds, diag);
	if (!rc && !c->no_snapshot)
		rc = stls__dbsrc_tkeys_init(ds);
	if (rc) {
		stls_dbsrc_free(ds);
		return rc;
	}
	if (stls__dbsrc_open(ds) == 0)
		ds->st.connected = true;
	*out = ds;
	return 0;
}

void stls_dbsrc_stop(struct stls_dbsrc *ds)
{
	if (!ds || !ds->th_started)
		return;
	if (write(ds->wake[1], "x", 1) < 0) {
		/* a full pipe already holds a stop */
	}
	pthread_join(ds->th, NULL);
	ds->th_started = false;
}

void stls_dbsrc_free(struct stls_dbsrc *ds)
{
	if (!ds)
		return;
	stls_dbsrc_stop(ds);
	if (ds->wake[0] >= 0) {
		close(ds->wake[0]);
		close(ds->wake[1]);
	}
	stls__dbsrc_tkeys_fini(ds);
	stls_db_rows_free(ds->pending);
	stls_db_free(ds->db);
	if (ds->config)
		stls_db_src_fini(&ds->src);
	free(ds->config);
	free(ds->written);
	free(ds->snap_path);
	pthread_mutex_destroy(&ds->mu);
	free(ds);
}

/* At start, with the database away: the snapshot, or a clear failure. */
static int from_snapshot(struct stls_dbsrc *ds, struct stls_db_rows **rows,
			 struct stls_diag *diag)
{
	struct stls_db_err err;
	struct stat st;
	char when[32] = "?";
	int rc;

	if (ds->c.no_snapshot || !ds->snap_path) {
		stls_diag_err(diag, NULL, 0, "%s%s", ds->open_err.msg,
			      ds->c.no_snapshot ? ""
			      : " (and no snapshot: [core] state_dir is "
				"unset)");
		return -ENOTCONN;
	}
	rc = stls_snapshot_read(ds->snap_path, ds->src.table, rows, &err);
	if (rc) {
		stls_diag_err(diag, NULL, 0, "%s; no usable snapshot of the "
			      "profiles: %s", ds->open_err.msg, err.msg);
		return -ENOTCONN;
	}
	if (stat(ds->snap_path, &st) == 0) {
		struct tm tm;

		gmtime_r(&st.st_mtime, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	STLS_WARN("%s; starting from the snapshot of %s (%s), the last "
		  "profiles that built; the database is tried again in the "
		  "background", ds->open_err.msg, when, ds->snap_path);
	ds->st.from_snapshot = true;
	return 0;
}

/* The rows of a build: the database, else (at start) the snapshot. */
static int load_rows(struct stls_dbsrc *ds, struct stls_db_rows **rows,
		     bool *from_db, struct stls_diag *diag)
{
	struct stls_db_err err;
	int rc;

	*from_db = false;
	if (ds->c.live->config == NULL ||
	    strcmp(ds->c.live->config, ds->written) != 0) {
		stls_diag_err(diag, NULL, 0, "config: changed from a "
			      "database to another source; restart siptlsd "
			      "to read it");
		return -EINVAL;
	}
	if (!ds->db && stls__dbsrc_open(ds) == 0) {
		ds->st.connected = true;
		if (ds->started)
			ds->st.reconnects++;
	}
	if (ds->db) {
		rc = stls_db_load_rows(ds->db, rows, &err);
		if (rc == -ENOTCONN) {
			snprintf(ds->open_err.msg, sizeof(ds->open_err.msg),
				 "%s", err.msg);
			stls__dbsrc_lost(ds, err.msg);
		} else if (rc) {
			stls_diag_err(diag, NULL, 0, "%s", err.msg);
			return rc;
		} else {
			*from_db = true;
			return 0;
		}
	}
	if (ds->started) {
		stls_diag_err(diag, NULL, 0, "%s", ds->open_err.msg);
		return -ENOTCONN;
	}
	return from_snapshot(ds, rows, diag);
}

static int dbsrc_load(void *arg, struct stls_profile_conf **list,
		      struct stls_diag *diag)
{
	struct stls_dbsrc *ds = arg;
	struct stls_db_conv_opts o = {
		.table = ds->src.table,
		.base_dir = ds->c.conf->base_dir,
		.key_password = ds->c.live->private_key_password,
	};
	struct stls_db_rows *rows = NULL;
	bool from_db;
	int rc;

	*list = NULL;
	pthread_mutex_lock(&ds->mu);
	rc = load_rows(ds, &rows, &from_db, diag);
	if (!rc)
		rc = stls_db_conv_rows(rows, ds->c.conf, &o, list, diag);
	stls_db_rows_free(ds->pending);
	ds->pending = rc ? NULL : rows;
	ds->pending_from_db = from_db;
	if (rc)
		stls_db_rows_free(rows);
	pthread_mutex_unlock(&ds->mu);
	return rc;
}

/* The first errors of a refused build, on one line. */
static void keep_reasons(struct stls_dbsrc *ds, const struct stls_diag *d)
{
	char line[1024];
	size_t i, n = 0, shown = 0;

	ds->st.last_error[0] = '\0';
	for (i = 0; i < d->n && shown < 3; i++) {
		if (d->v[i].level != STLS_DIAG_ERROR)
			continue;
		stls_diag_format(&d->v[i], line, sizeof(line));
		n += (size_t)snprintf(ds->st.last_error + n,
				      n < sizeof(ds->st.last_error)
					      ? sizeof(ds->st.last_error) - n
					      : 0,
				      "%s%s", shown ? "; " : "", line);
		if (n >= sizeof(ds->st.last_error))
			break;
		shown++;
	}
	if (!shown)
		snprintf(ds->st.last_error, sizeof(ds->st.last_error),
			 "refused");
}

static void dbsrc_done(void *arg, int err, const struct stls_diag *diag)
{
	struct stls_dbsrc *ds = arg;
	struct stls_db_err e;

	pthread_mutex_lock(&ds->mu);
	if (err) {
		ds->st.changes_refused++;
		keep_reasons(ds, diag);
	} else {
		ds->st.last_error[0] = '\0';
		if (ds->pending_from_db) {
			ds->st.changes_applied++;
			ds->st.from_snapshot = false;
		}
		if (ds->pending_from_db && ds->snap_path) {
			if (stls_snapshot_write(ds->snap_path, ds->src.table,
						ds->pending, &e) == 0)
				ds->st.snapshots_written++;
			else
				STLS_WARN("profile snapshot not written: %s",
					  e.msg);
		}
	}
	ds->started = ds->started || !err;
	stls_db_rows_free(ds->pending);
	ds->pending = NULL;
	pthread_mutex_unlock(&ds->mu);
}

void stls_dbsrc_pstore_src(struct stls_dbsrc *ds, struct stls_pstore_src *out)
{
	memset(out, 0, sizeof(*out));
	out->load = dbsrc_load;
	out->done = dbsrc_done;
	out->arg = ds;
	out->tkeys = ds->ring;
}

void stls_dbsrc_stats(struct stls_dbsrc *ds, struct stls_dbsrc_stats *out)
{
	pthread_mutex_lock(&ds->mu);
	*out = ds->st;
	pthread_mutex_unlock(&ds->mu);
}
