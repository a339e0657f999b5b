/*
 * Control thread <-> workers: questions about connections (tls.list,
 * tls.kill) asked through each worker's queue and answered on the worker's
 * own thread.
 *
 * One request object is shared by the control thread and the workers it
 * asked, and counted: the control thread holds one reference, each message
 * in flight another. The control thread waits on a condition variable
 * (CLOCK_MONOTONIC deadline); when it gives up, it drops its reference and
 * a worker answering later only adds to a request nobody reads, which the
 * last reference frees. A worker therefore never writes into freed memory,
 * and the control thread never reads a connection.
 */
#include "ctl/ctl_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/worker.h"

struct req {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned refs;
	unsigned pending;  /* workers yet to answer */
	int err;           /* first worker-side error */
	bool found;        /* tls.kill: the connection was closed */
	struct stls__ctl_entry *v;
	size_t n, cap;
};

struct req_msg {
	struct stls_msg m;
	struct req *r;
};

static struct req *req_new(unsigned pending)
{
	struct req *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;

	if (!r)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&r->lock, NULL);
	r->refs = 1;
	r->pending = pending;
	return r;
}

/* Drops one reference; the caller holds r->lock, released here. */
static void req_unref_locked(struct req *r)
{
	bool last = --r->refs == 0;

	pthread_mutex_unlock(&r->lock);
	if (!last)
		return;
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r->v);
	free(r);
}

/* A worker's answer: <v> (taken) joins the request; one fewer pending. */
static void req_answer(struct req *r, struct stls__ctl_entry *v, size_t n,
		       int err, bool found)
{
	struct stls__ctl_entry *nv;

	pthread_mutex_lock(&r->lock);
	if (n > 0 && r->n + n > r->cap) {
		nv = realloc(r->v, (r->n + n) * sizeof(*nv));
		if (nv) {
			r->v = nv;
			r->cap = r->n + n;
		} else {
			err = -ENOMEM;
		}
	}
	if (n > 0 && r->n + n <= r->cap) {
		memcpy(r->v + r->n, v, n * sizeof(*v));
		r->n += n;
	}
	if (err && !r->err)
		r->err = err;
	r->found |= found;
	r->pending--;
	pthread_cond_signal(&r->cond);
	req_unref_locked(r);
	free(v);
}

static bool is_tls(const struct stls_dconn *c)
{
	return c->xform.ops && c->xform.ops->describe &&
	       c->kind != STLS_DCONN_BACKEND;
}

struct walk {
	struct stls__ctl_entry *v;
	size_t n, cap;
	uint64_t now_ms;
	time_t now_wall;
	int err;
};

static void fill_entry(struct stls_dconn *c, struct walk *k,
		       struct stls__ctl_entry *e)
{
	uint64_t age;

	memset(e, 0, sizeof(*e));
	e->id = c->id;
	e->kind = c->kind;
	e->peer = c->peer;
	e->local = c->local;
	age = k->now_ms > c->created_ms ? k->now_ms - c->created_ms : 0;
	e->created = k->now_wall - (time_t)(age / 1000);
	if (c->idle_ms > 0) {
		e->timeout = ((int64_t)c->last_active_ms + c->idle_ms -
			      (int64_t)k->now_ms) / 1000;
	} else {
		e->timeout = -1;
	}
	e->info.verified = -1;
	/* A handshake step is out on a handshake thread: the engine is its
	 * own until it comes back, so the row says only that. */
	if (c->step_out) {
		snprintf(e->info.state, sizeof(e->info.state), "handshaking");
		return;
	}
	c->xform.ops->describe(c->xform.x, &e->info);
}

static void walk_one(struct stls_dconn *c, void *arg)
{
	struct walk *k = arg;
	struct stls__ctl_entry *nv;
	size_t cap;

	if (!is_tls(c) || k->err || c->state >= STLS_DCONN_CLOSING)
		return;
	if (k->n == k->cap) {
		cap = k->cap ? k->cap * 2 : 16;
		nv = realloc(k->v, cap * sizeof(*nv));
		if (!nv) {
			k->err = -ENOMEM;
			return;
		}
		k->v = nv;
		k->cap = cap;
	}
	fill_entry(c, k, &k->v[k->n++]);
}

/* On the worker: describe every TLS connection it owns. */
static void on_list(struct stls_worker *w, struct stls_dconn *c,
		    struct stls_msg *m, bool cancelled)
{
	struct req_msg *rm = (struct req_msg *)m;
	struct walk k;

	(void)c;
	memset(&k, 0, sizeof(k));
	if (!cancelled) {
		uv_update_time(&w->loop);
		/* The same clock as dconn's timestamps (uv_now() + 1). */
		k.now_ms = uv_now(&w->loop) + 1;
		k.now_wall = time(NULL);
		stls_dconn_table_foreach(&w->table, walk_one, &k);
	}
	req_answer(rm->r, k.v, k.n, cancelled ? -ESHUTDOWN : k.err, false);
	free(rm);
}

/* On the owning worker: close the connection if it is a TLS one. */
static void on_kill(struct stls_worker *w, struct stls_dconn *c,
		    struct stls_msg *m, bool cancelled)
{
	struct req_msg *rm = (struct req_msg *)m;
	bool found = false;

	(void)w;
	if (!cancelled && c && is_tls(c) && c->state < STLS_DCONN_CLOSING) {
		stls_dconn_close(c, STLS_DCLOSE_KILLED);
		found = true;
	}
	req_answer(rm->r, NULL, 0, cancelled ? -ESHUTDOWN : 0, found);
	free(rm);
}

/* Posts one message for worker widx (conn_id 0) or for conn_id. */
static int post(struct stls_daemon *d, struct req *r, unsigned widx,
		uint64_t conn_id, stls_msg_fn *fn)
{
	struct req_msg *rm = calloc(1, sizeof(*rm));
	int err;

	if (!rm)
		return -ENOMEM;
	rm->m.conn_id = conn_id;
	rm->m.fn = fn;
	rm->r = r;
	pthread_mutex_lock(&r->lock);
	r->refs++;
	pthread_mutex_unlock(&r->lock);
	err = stls_daemon_post(d, widx, &rm->m);
	if (err) {
		pthread_mutex_lock(&r->lock);
		r->refs--;
		pthread_mutex_unlock(&r->lock);
		free(rm);
	}
	return err;
}

/* Waits until every posted message was answered or wait_ms passed. */
static int wait_answers(struct req *r, unsigned wait_ms)
{
	struct timespec dl;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += wait_ms / 1000;
	dl.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	while (r->pending > 0 && rc == 0)
		rc = pthread_cond_timedwait(&r->cond, &r->lock, &dl);
	if (r->pending > 0)
		return -ETIMEDOUT;
	return r->err;
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = ((const struct stls__ctl_entry *)a)->id;
	uint64_t y = ((const struct stls__ctl_entry *)b)->id;

	return x < y ? -1 : x > y;
}

int stls__ctl_collect(struct stls_daemon *d, unsigned wait_ms,
		      struct stls__ctl_entry **out, size_t *n)
{
	unsigned i, nw = stls_daemon_workers(d);
	struct req *r = req_new(nw);
	int err = 0;

	if (!r)
		return -ENOMEM;
	for (i = 0; i < nw && !err; i++)
		err = post(d, r, i, 0, on_list);
	pthread_mutex_lock(&r->lock);
	/* Workers not asked will never answer. */
	r->pending -= nw - i + (err ? 1 : 0);
	if (!err)
		err = wait_answers(r, wait_ms);
	if (!err) {
		if (r->n > 1)
			qsort(r->v, r->n, sizeof(*r->v), cmp_id);
		*out = r->v;
		*n = r->n;
		r->v = NULL;
		r->n = 0;
	}
	req_unref_locked(r);
	return err;
}

int stls__ctl_kill(struct stls_daemon *d, uint64_t id, unsigned wait_ms)
{
	struct req *r;
	int wi = stls_dconn_id_worker(id);
	int err;

	if (wi < 0 || (unsigned)wi >= stls_daemon_workers(d))
		return -ENOENT;
	r = req_new(1);
	if (!r)
		return -ENOMEM;
	err = post(d, r, 0, id, on_kill);
	pthread_mutex_lock(&r->lock);
	if (err)
		r->pending = 0;
	else
		err = wait_answers(r, wait_ms);
	if (!err && !r->found)
		err = -ENOENT;
	req_unref_locked(r);
	return err;
}
