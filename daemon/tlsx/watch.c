/*
 * watch_files (watch.h): fs_event handles on the directories of the
 * files the current set uses, a settle timer, and an async handle that
 * the pstore's reload callback pokes to have the list read again.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stls/log.h"
#include "stls/profile.h"
#include "tlsx/watch.h"

struct wdir {
	uv_fs_event_t h;
	char *path;           /* the directory */
	bool whole;           /* any name in it counts (ca_path, config dir) */
	struct stls_watch *w;
};

struct stls_watch {
	uv_loop_t *loop;
	struct stls_pstore *ps;
	const struct stls_settings *live;
	int delay;
	int (*reload)(void *arg);
	void *arg;
	uv_timer_t timer;
	uv_async_t async;
	struct wdir **dirs;
	size_t ndirs;
	char **files;          /* the watched paths */
	size_t nfiles;
	unsigned open_handles; /* timer, async, dirs: freed at 0 */
	bool closing;
};

static void maybe_free(struct stls_watch *w)
{
	if (w->open_handles == 0 && w->closing) {
		free(w);
	}
}

static void wdir_closed(uv_handle_t *h)
{
	struct wdir *d = h->data;
	struct stls_watch *w = d->w;

	free(d->path);
	free(d);
	w->open_handles--;
	maybe_free(w);
}

static void handle_closed(uv_handle_t *h)
{
	struct stls_watch *w = h->data;

	w->open_handles--;
	maybe_free(w);
}

static void drop_all(struct stls_watch *w)
{
	size_t i;

	for (i = 0; i < w->ndirs; i++) {
		uv_fs_event_stop(&w->dirs[i]->h);
		uv_close((uv_handle_t *)&w->dirs[i]->h, wdir_closed);
	}
	free(w->dirs);
	w->dirs = NULL;
	w->ndirs = 0;
	for (i = 0; i < w->nfiles; i++) {
		free(w->files[i]);
	}
	free(w->files);
	w->files = NULL;
	w->nfiles = 0;
}

static bool in_list(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

/* A key that is not a file: "/engine:...", "/uri:...", "pkcs11:...". */
static bool not_a_file(const char *p)
{
	return strncmp(p, "/engine:", 8) == 0 || strncmp(p, "/uri:", 5) == 0 ||
	       strncmp(p, "pkcs11:", 7) == 0;
}

static void on_timer(uv_timer_t *t);

static void on_event(uv_fs_event_t *h, const char *name, int events,
		     int status)
{
	struct wdir *d = h->data;
	struct stls_watch *w = d->w;
	char full[4096];

	(void)events;
	if (status < 0 || w->closing) {
		return;
	}
	if (!d->whole) {
		if (!name) {
			return;
		}
		/* The root directory is "/": no second slash after it. */
		snprintf(full, sizeof(full), "%s%s%s", d->path,
			 strcmp(d->path, "/") == 0 ? "" : "/", name);
		if (!in_list(w->files, w->nfiles, full)) {
			return;
		}
	}
	STLS_DBG("watch_files: %s/%s changed; reload in %d ms", d->path,
		 name ? name : "", w->delay);
	/* A restart replaces the pending timeout: settle from now. */
	uv_timer_start(&w->timer, on_timer, (uint64_t)w->delay, 0);
}

/* Takes the handle of <dir> from the previous list, if it had one. */
static struct wdir *steal(struct wdir **old, size_t nold, const char *dir)
{
	struct wdir *d;
	size_t i;

	for (i = 0; i < nold; i++) {
		if (old[i] && strcmp(old[i]->path, dir) == 0) {
			d = old[i];
			old[i] = NULL;
			return d;
		}
	}
	return NULL;
}

static int add_dir(struct stls_watch *w, struct wdir **old, size_t nold,
		   const char *dir, bool whole)
{
	struct wdir *d, **v;
	size_t i;

	for (i = 0; i < w->ndirs; i++) {
		if (strcmp(w->dirs[i]->path, dir) == 0) {
			w->dirs[i]->whole |= whole;
			return 0;
		}
	}
	v = realloc(w->dirs, (w->ndirs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->dirs = v;
	/* A directory watched before keeps its handle: no event is lost
	 * between the old list and the new. */
	d = steal(old, nold, dir);
	if (d) {
		d->whole = whole;
		w->dirs[w->ndirs++] = d;
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(dir))) {
		free(d);
		return -ENOMEM;
	}
	d->w = w;
	d->whole = whole;
	if (uv_fs_event_init(w->loop, &d->h) != 0) {
		free(d->path);
		free(d);
		return -ENOMEM;
	}
	d->h.data = d;
	w->open_handles++;
	w->dirs[w->ndirs++] = d;
	if (uv_fs_event_start(&d->h, on_event, dir, 0) != 0) {
		STLS_WARN("watch_files: cannot watch directory %s", dir);
	}
	return 0;
}

/* Watches <path>: a directory itself, a file through its directory. */
static int add_path(struct stls_watch *w, struct wdir **old, size_t nold,
		    const char *path)
{
	struct stat st;
	char dir[4096], *slash, **v;

	if (!path || !*path || not_a_file(path) ||
	    in_list(w->files, w->nfiles, path)) {
		return 0;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		return add_dir(w, old, nold, path, true);
	}
	v = realloc(w->files, (w->nfiles + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->files = v;
	if (!(w->files[w->nfiles] = strdup(path)))
		return -ENOMEM;
	w->nfiles++;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return add_dir(w, old, nold, dir, false);
}

static int collect(struct stls_watch *w, struct wdir **old, size_t nold)
{
	struct stls_profile_set *set = stls_pstore_get(w->ps);
	size_t i, n = stls_profile_set_count(set);
	int err = add_path(w, old, nold, w->live->config);

	for (i = 0; i < n && !err; i++) {
		const struct stls_profile_conf *c =
			stls_profile_conf_of(stls_profile_set_get0(set, i));
		const char *v[] = { c->certificate, c->private_key,
				    c->certificate2, c->private_key2,
				    c->ca_list, c->ca_path, c->crl,
				    c->ocsp_stapling &&
						    strncmp(c->ocsp_stapling,
							    "file:", 5) == 0 ?
					    c->ocsp_stapling + 5 :
					    NULL };
		size_t j;

		for (j = 0; j < STLS_ARRAY_SIZE(v) && !err; j++)
			err = add_path(w, old, nold, v[j]);
	}
	stls_profile_set_unref(set);
	return err;
}

static void rearm(struct stls_watch *w)
{
	struct wdir **old = w->dirs;
	size_t i, nold = w->ndirs;

	w->dirs = NULL;
	w->ndirs = 0;
	for (i = 0; i < w->nfiles; i++)
		free(w->files[i]);
	free(w->files);
	w->files = NULL;
	w->nfiles = 0;
	if (collect(w, old, nold) != 0)
		STLS_WARN("watch_files: out of memory: some files are not "
			  "watched");
	for (i = 0; i < nold; i++) {
		if (old[i]) {
			uv_fs_event_stop(&old[i]->h);
			uv_close((uv_handle_t *)&old[i]->h, wdir_closed);
		}
	}
	free(old);
	STLS_INFO("watch_files: %zu files in %zu directories watched",
		  w->nfiles, w->ndirs);
}

static void on_timer(uv_timer_t *t)
{
	struct stls_watch *w = t->data;

	STLS_NOTICE("watch_files: files changed: reloading the TLS profiles");
	if (w->reload(w->arg) != 0)
		STLS_ERR("watch_files: reload failed; the running profiles "
			 "stay (a file half written? the next change retries)");
}

static void on_async(uv_async_t *a)
{
	struct stls_watch *w = a->data;

	if (!w->closing)
		rearm(w);
}

/* The pstore's callback after a good reload: any thread. */
static void reloaded(void *arg)
{
	struct stls_watch *w = arg;

	uv_async_send(&w->async);
}

int stls_watch_new(uv_loop_t *loop, struct stls_pstore *ps,
		   const struct stls_settings *live, int delay_ms,
		   int (*reload)(void *arg), void *arg,
		   struct stls_watch **out)
{
	struct stls_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	*w = (struct stls_watch){ .loop = loop, .ps = ps, .live = live,
				  .delay = delay_ms, .reload = reload,
				  .arg = arg };
	if (uv_timer_init(loop, &w->timer) != 0) {
		free(w);
		return -ENOMEM;
	}
	w->timer.data = w;
	w->open_handles++;
	if (uv_async_init(loop, &w->async, on_async) != 0) {
		w->closing = true;
		uv_close((uv_handle_t *)&w->timer, handle_closed);
		return -ENOMEM;
	}
	w->async.data = w;
	w->open_handles++;
	rearm(w);
	stls_pstore_set_on_reload(ps, reloaded, w);
	*out = w;
	return 0;
}

size_t stls_watch_dirs(const struct stls_watch *w)
{
	return w->ndirs;
}

void stls_watch_free(struct stls_watch *w)
{
	if (!w)
		return;
	stls_pstore_set_on_reload(w->ps, NULL, NULL);
	w->closing = true;
	drop_all(w);
	uv_close((uv_handle_t *)&w->timer, handle_closed);
	uv_close((uv_handle_t *)&w->async, handle_closed);
}
