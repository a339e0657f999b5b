/*
 * The script object: its configuration, the published source generation,
 * the per-worker states and their counters, and the reload that publishes
 * a new generation (see script.h for the design).
 *
 * A generation is published only after it loaded in a state of its own
 * off the workers. Workers take the new text under the lock (a reference
 * count keeps it alive while a worker compiles it) and build their state
 * from it: never from the file, so every worker runs the text that was
 * checked.
 */
#include "script/script_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/worker.h"
#include "stls/log.h"

/* Largest script file read. */
#define SCRIPT_FILE_MAX (4u << 20)

static void src_unref(struct script_src *src)
{
	if (src && atomic_fetch_sub(&src->refs, 1) == 1) {
		free(src->text);
		free(src);
	}
}

static struct script_src *src_get(struct stls_script *s)
{
	struct script_src *src = NULL;

	pthread_mutex_lock(&s->lock);
	src = s->src;
	atomic_fetch_add(&src->refs, 1);
	pthread_mutex_unlock(&s->lock);
	return src;
}

/* Reads the script file. Returns 0 with *out (refs 1), or -errno with
 * the reason in <diag>. */
static int src_read(const char *path, uint64_t gen, struct stls_diag *diag,
		    struct script_src **out)
{
	struct script_src *src = calloc(1, sizeof(*src));
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	int err = 0;

	if (!src || !f) {
		err = src ? -errno : -ENOMEM;
		stls_diag_err(diag, path, 0, "cannot read the script: %s",
			      strerror(-err));
		goto out;
	}
	src->text = malloc(SCRIPT_FILE_MAX + 1);
	if (!src->text) {
		err = -ENOMEM;
		goto out;
	}
	n = fread(src->text, 1, SCRIPT_FILE_MAX + 1, f);
	if (ferror(f) || n > SCRIPT_FILE_MAX) {
		err = ferror(f) ? -EIO : -EFBIG;
		stls_diag_err(diag, path, 0, "cannot read the script: %s",
			      ferror(f) ? strerror(EIO) : "larger than 4 MiB");
		goto out;
	}
	src->len = n;
	src->gen = gen;
	atomic_init(&src->refs, 1);
	*out = src;
	src = NULL;
out:
	if (f)
		fclose(f);
	if (src)
		free(src->text);
	free(src);
	return err;
}

/*
 * Reads and checks the script as generation <gen>: it must load in a
 * state of its own. Returns 0 with *out, or -errno (reasons in diag).
 */
static int src_load(struct stls_script *s, uint64_t gen,
		    struct stls_diag *diag, struct script_src **out)
{
	struct script_src *src = NULL;
	struct script_vm *vm;
	int err;

	err = src_read(s->conf.path, gen, diag, &src);
	if (err)
		return err;
	err = stls__script_vm_new(&s->conf, src->text, src->len, gen, diag,
				  &vm);
	if (err) {
		src_unref(src);
		return err;
	}
	stls__script_vm_free(vm);
	*out = src;
	return 0;
}

static char *dup_or_null(const char *v)
{
	return v && *v ? strdup(v) : NULL;
}

int stls_script_conf_from(const struct stls_core_conf *core,
			  const char *event_callback, const char *xavp_cfg,
			  const char *base_dir, char *path_buf,
			  struct stls_script_conf *out)
{
	int n;

	memset(out, 0, sizeof(*out));
	if (core->script[0] == '/' || !base_dir || !*base_dir)
		n = snprintf(path_buf, PATH_MAX, "%s", core->script);
	else
		n = snprintf(path_buf, PATH_MAX, "%s/%s", base_dir,
			     core->script);
	if (n < 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	out->path = path_buf;
	out->request_callback = core->request_callback;
	out->event_callback = event_callback;
	out->xavp_cfg = xavp_cfg;
	out->instructions = core->script_instructions;
	out->memory = (size_t)core->script_memory;
	out->pass_on_error = core->script_on_error == STLS_SCRIPT_ERR_PASS;
	out->allow = (unsigned)core->script_allow;
	return 0;
}

static int copy_conf(struct stls_script_conf *dst,
		     const struct stls_script_conf *src)
{
	*dst = *src;
	dst->path = strdup(src->path);
	dst->request_callback = dup_or_null(src->request_callback);
	dst->event_callback = dup_or_null(src->event_callback);
	dst->xavp_cfg = dup_or_null(src->xavp_cfg);
	if (!dst->path ||
	    (src->request_callback && *src->request_callback &&
	     !dst->request_callback) ||
	    (src->event_callback && *src->event_callback &&
	     !dst->event_callback) ||
	    (src->xavp_cfg && *src->xavp_cfg && !dst->xavp_cfg))
		return -ENOMEM;
	return 0;
}

static void free_conf(struct stls_script_conf *c)
{
	free((char *)c->path);
	free((char *)c->request_callback);
	free((char *)c->event_callback);
	free((char *)c->xavp_cfg);
}

int stls_script_new(const struct stls_script_conf *conf, unsigned workers,
		    struct stls_diag *diag, struct stls_script **out)
{
	struct stls_script *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->n_workers = workers;
	s->vms = calloc(workers ? workers : 1, sizeof(*s->vms));
	s->cnt = calloc(workers ? workers : 1, sizeof(*s->cnt));
	s->wgen = calloc(workers ? workers : 1, sizeof(*s->wgen));
	err = copy_conf(&s->conf, conf);
	if (!err && (!s->vms || !s->cnt || !s->wgen))
		err = -ENOMEM;
	if (!err)
		err = src_load(s, 1, diag, &s->src);
	if (err) {
		stls_script_free(s);
		return err;
	}
	atomic_init(&s->gen, 1);
	*out = s;
	return 0;
}

void stls_script_free(struct stls_script *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; s->vms && i < s->n_workers; i++)
		stls__script_vm_free(s->vms[i]);
	free(s->vms);
	free(s->cnt);
	free(s->wgen);
	src_unref(s->src);
	free_conf(&s->conf);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void stls_script_attach(struct stls_script *s, struct stls_daemon *d)
{
	atomic_store(&s->d, d);
}

struct nudge_msg {
	struct stls_msg m; /* first: the queue frees through it */
	struct stls_script *s;
};

/* Runs on each worker after a reload: rebuilds its state now. */
static void nudge(struct stls_worker *w, struct stls_dconn *c,
		  struct stls_msg *m, bool cancelled)
{
	struct nudge_msg *n = (struct nudge_msg *)m;

	(void)c;
	if (!cancelled && n->s->vms[w->idx])
		(void)stls__script_vm_of(n->s, w->idx);
	free(n);
}

static void nudge_all(struct stls_script *s)
{
	struct stls_daemon *d = atomic_load(&s->d);
	unsigned i;

	for (i = 0; d && i < s->n_workers; i++) {
		struct nudge_msg *n = calloc(1, sizeof(*n));

		if (!n)
			return; /* the worker rebuilds at its next call */
		n->m.fn = nudge;
		n->s = s;
		if (stls_daemon_post(d, i, &n->m) != 0)
			free(n);
	}
}

int stls_script_reload(struct stls_script *s, struct stls_diag *diag,
		       uint64_t *gen)
{
	static pthread_mutex_t one = PTHREAD_MUTEX_INITIALIZER;
	struct script_src *src = NULL, *old;
	uint64_t next;
	int err;

	pthread_mutex_lock(&one);
	next = atomic_load(&s->gen) + 1;
	err = src_load(s, next, diag, &src);
	if (err) {
		pthread_mutex_unlock(&one);
		atomic_fetch_add(&s->reload_failures, 1);
		return err;
	}
	pthread_mutex_lock(&s->lock);
	old = s->src;
	s->src = src;
	atomic_store(&s->gen, next);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&one);
	src_unref(old);
	atomic_fetch_add(&s->reloads, 1);
	STLS_NOTICE("script: %s: generation %" PRIu64 " loaded",
		    s->conf.path, next);
	nudge_all(s);
	if (gen)
		*gen = next;
	return 0;
}

uint64_t stls_script_generation(const struct stls_script *s)
{
	return atomic_load(&((struct stls_script *)s)->gen);
}

const char *stls_script_path(const struct stls_script *s)
{
	return s->conf.path;
}

bool stls_script_has_request(const struct stls_script *s)
{
	return s && s->conf.request_callback;
}

bool stls_script_has_event(const struct stls_script *s)
{
	return s && s->conf.event_callback;
}

/* Builds worker <widx>'s state from the published source. */
static int build(struct stls_script *s, unsigned widx)
{
	struct script_src *src = src_get(s);
	struct script_vm *vm = NULL, *old = s->vms[widx];
	struct stls_diag diag;
	char buf[1024];
	size_t i;
	int err;

	stls_diag_init(&diag);
	s->wgen[widx] = src->gen; /* tried: not again before the next one */
	err = stls__script_vm_new(&s->conf, src->text, src->len, src->gen,
				  &diag, &vm);
	for (i = 0; i < diag.n; i++)
		STLS_ERR("script: worker %u: %s", widx,
			 stls_diag_format(&diag.v[i], buf, sizeof(buf)));
	stls_diag_fini(&diag);
	if (err) {
		/* Keep the state it has (if any); try again at the next
		 * generation. */
	} else {
		s->vms[widx] = vm;
		stls__script_vm_free(old);
		atomic_store_explicit(&s->cnt[widx].v[SC_MEM_USED], vm->mem,
				      memory_order_relaxed);
		if (old)
			script_count(&s->cnt[widx], SC_REBUILDS, 1);
	}
	src_unref(src);
	return err;
}

int stls_script_worker_start(struct stls_script *s, unsigned widx)
{
	if (widx >= s->n_workers)
		return -EINVAL;
	return build(s, widx);
}

void stls_script_worker_stop(struct stls_script *s, unsigned widx)
{
	if (!s || widx >= s->n_workers)
		return;
	stls__script_vm_free(s->vms[widx]);
	s->vms[widx] = NULL;
	atomic_store_explicit(&s->cnt[widx].v[SC_MEM_USED], 0,
			      memory_order_relaxed);
}

struct script_vm *stls__script_vm_of(struct stls_script *s, unsigned widx)
{
	if (s->wgen[widx] != atomic_load_explicit(&s->gen,
						  memory_order_relaxed))
		(void)build(s, widx);
	return s->vms[widx];
}

void stls__script_vm_renew(struct stls_script *s, unsigned widx)
{
	struct script_vm *vm = s->vms[widx];

	STLS_WARN("script: worker %u: state still holds %zu of %zu bytes "
		  "after a collection: rebuilt (globals start afresh)",
		  widx, vm ? vm->mem : 0, vm ? vm->mem_cap : 0);
	(void)build(s, widx);
}

void stls_script_stats(const struct stls_script *s,
		       struct stls_script_stats *out)
{
	uint64_t v[SC__COUNT] = { 0 };
	unsigned w, k;

	for (w = 0; w < s->n_workers; w++) {
		for (k = 0; k < SC__COUNT; k++)
			v[k] += atomic_load_explicit(&s->cnt[w].v[k],
						     memory_order_relaxed);
	}
	memset(out, 0, sizeof(*out));
	out->requests = v[SC_REQUESTS];
	out->events = v[SC_EVENTS];
	out->errors = v[SC_ERRORS];
	out->budget = v[SC_BUDGET];
	out->memory = v[SC_MEMORY];
	out->replies = v[SC_REPLIES];
	out->drops = v[SC_DROPS];
	out->conn_dropped = v[SC_CONN_DROPPED];
	out->rebuilds = v[SC_REBUILDS];
	out->memory_used = v[SC_MEM_USED];
	out->reloads = atomic_load(&((struct stls_script *)s)->reloads);
	out->reload_failures =
		atomic_load(&((struct stls_script *)s)->reload_failures);
}

void stls_script_stats_log(const struct stls_script *s)
{
	struct stls_script_stats st;

	if (!s)
		return;
	stls_script_stats(s, &st);
	STLS_NOTICE("stats: script: generation=%" PRIu64 " requests=%" PRIu64
		    " events=%" PRIu64 " errors=%" PRIu64 " budget=%" PRIu64
		    " memory=%" PRIu64 " replies=%" PRIu64 " drops=%" PRIu64
		    " conn_dropped=%" PRIu64 " rebuilds=%" PRIu64
		    " reloads=%" PRIu64 " reload_failures=%" PRIu64
		    " memory_used=%" PRIu64,
		    stls_script_generation(s), st.requests, st.events,
		    st.errors, st.budget, st.memory, st.replies, st.drops,
		    st.conn_dropped, st.rebuilds, st.reloads,
		    st.reload_failures, st.memory_used);
}
