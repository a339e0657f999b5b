/*
 * The watch thread (see dbsrc.h): waits for a change (PostgreSQL
 * notification descriptor, or SQLite's data_version on a timer), keeps the
 * connection (reconnect with back-off: 250 ms doubling to 5 s), steps the
 * ticket key schedule, and calls the daemon's reload on a change, with the
 * connection's mutex released (the reload's loader takes it).
 */
#include "dbsrc/dbsrc_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stls/log.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 5000
#define TICK_PG_MS 250

struct watch {
	int backoff_ms;
	int64_t next_try_ms; /* monotonic */
	bool need_reload;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Not connected: try again when the back-off allows (mu held). */
static void try_connect(struct stls_dbsrc *ds, struct watch *w)
{
	int64_t now = mono_ms();

	if (now < w->next_try_ms)
		return;
	if (stls__dbsrc_open(ds) == 0) {
		ds->st.connected = true;
		ds->st.reconnects++;
		w->backoff_ms = 0;
		w->need_reload = true; /* changes made while away */
		ds->keys_dirty = true;
		STLS_NOTICE("database %s: connected again; reloading the "
			    "profiles", ds->src.shown);
		return;
	}
	ds->st.db_failures++;
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	w->next_try_ms = now + w->backoff_ms;
	STLS_WARN("database away: %s (next try in %d ms)", ds->open_err.msg,
		  w->backoff_ms);
}

/* Connected: what changed (mu held). */
static void check(struct stls_dbsrc *ds, struct watch *w)
{
	struct stls_db_err err;
	unsigned what = 0;
	int rc = stls_db_poll_what(ds->db, &what, &err);

	if (rc == -ENOTCONN) {
		snprintf(ds->open_err.msg, sizeof(ds->open_err.msg), "%s",
			 err.msg);
		stls__dbsrc_lost(ds, err.msg);
		w->backoff_ms = 0;
		w->next_try_ms = mono_ms() + BACKOFF_FIRST_MS;
		return;
	}
	if (rc) {
		STLS_WARN("database %s: %s", ds->src.shown, err.msg);
		return;
	}
	if (what & STLS_DB_CHANGED_PROFILES)
		w->need_reload = true;
	if (what & STLS_DB_CHANGED_TKEYS)
		ds->keys_dirty = true;
}

static void reload(struct stls_dbsrc *ds)
{
	struct stls_diag diag;
	char buf[1024];
	size_t i;
	int err;

	stls_diag_init(&diag);
	err = ds->reload(ds->reload_arg, &diag);
	if (err) {
		STLS_ERR("database change refused, the running profiles stay:");
		for (i = 0; i < diag.n; i++)
			stls_log(diag.v[i].level == STLS_DIAG_ERROR
					 ? STLS_L_ERR
					 : STLS_L_WARN,
				 "  %s", stls_diag_format(&diag.v[i], buf,
							  sizeof(buf)));
	}
	stls_diag_fini(&diag);
}

static bool stop_asked(int fd)
{
	char c;

	return read(fd, &c, 1) > 0;
}

void *stls__dbsrc_watch(void *arg)
{
	struct stls_dbsrc *ds = arg;
	struct watch w = { 0 };
	int tick = ds->watch ? TICK_PG_MS : ds->c.core->db_poll_interval;

	pthread_setname_np(pthread_self(), "stls-dbwatch");
	for (;;) {
		struct pollfd p[2] = { { ds->wake[0], POLLIN, 0 },
				       { -1, POLLIN, 0 } };

		pthread_mutex_lock(&ds->mu);
		if (!ds->db)
			try_connect(ds, &w);
		if (ds->db)
			check(ds, &w);
		stls__dbsrc_tkeys_step(ds);
		p[1].fd = ds->db ? stls_db_watch_fd(ds->db) : -1;
		pthread_mutex_unlock(&ds->mu);
		if (w.need_reload) {
			w.need_reload = false;
			reload(ds);
			continue; /* the load may have read a notification */
		}
		if (poll(p, 2, tick) > 0 && (p[0].revents & POLLIN) &&
		    stop_asked(ds->wake[0]))
			break;
	}
	return NULL;
}

int stls_dbsrc_start(struct stls_dbsrc *ds, stls_dbsrc_reload_fn *fn,
		     void *arg)
{
	int rc;

	ds->reload = fn;
	ds->reload_arg = arg;
	if (pipe2(ds->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = -errno;
		STLS_ERR("database watch: pipe: %s", strerror(errno));
		return rc;
	}
	rc = pthread_create(&ds->th, NULL, stls__dbsrc_watch, ds);
	if (rc) {
		STLS_ERR("database watch: thread: %s", strerror(rc));
		return -rc;
	}
	ds->th_started = true;
	return 0;
}
