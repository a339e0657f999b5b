/*
 * Worker threads and the daemon object (see daemon.h, worker.h).
 *
 * A worker's loop holds: a poll handle on its wake eventfd (its inbox and
 * stop request), an idle and a check handle that run the deferred closes
 * at the end of the loop iteration, the accept back-off timer, the
 * shutdown grace timer, its listeners, its backend socket and its
 * connections.
 *
 * Stopping: the worker stops accepting, lets each connection flush its
 * pending output (up to shutdown_ms), closes them, closes its handles, and
 * its loop returns. The wake eventfd stays open until stls_daemon_free(),
 * so a late post never writes to a closed descriptor.
 *
 * Why not uv_async_t: uv_async_send() marks the handle busy, writes, then
 * marks it done, and the loop spins (then sched_yield()s) while it sees
 * the busy mark. A handshake thread at a lower priority is preempted by
 * the very worker its write wakes, inside that window, and the worker
 * then spun away a third of its CPU during a storm (perf, 2026-12-07).
 * A write() to an eventfd has no such window, and every post writes.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runtime/dconn.h"
#include "runtime/hsoff.h"
#include "runtime/srclim.h"
#include "runtime/synfilter.h"
#include "stls/log.h"
#include "runtime/worker.h"

#define SCRATCH_LEN 65536

bool stls__worker_conn_reserve(struct stls_worker *w)
{
	struct stls_daemon *d = w->d;
	int n = atomic_fetch_add_explicit(&d->n_conns, 1, memory_order_relaxed);

	if (n >= d->o.max_connections) {
		atomic_fetch_sub_explicit(&d->n_conns, 1, memory_order_relaxed);
		return false;
	}
	return true;
}

void stls__worker_conn_release(struct stls_worker *w)
{
	atomic_fetch_sub_explicit(&w->d->n_conns, 1, memory_order_relaxed);
}

/* Runs one hook of every worker part that has it. */
#define EACH_PART(w, hook)                                                 \
	do {                                                               \
		const struct stls_worker_part *const *p_;                  \
		for (p_ = (w)->d->o.parts;                                 \
		     p_ < (w)->d->o.parts + STLS_WORKER_PARTS_MAX && *p_;  \
		     p_++)                                                 \
			if ((*p_)->hook)                                   \
				(*p_)->hook(w);                            \
	} while (0)

/* A loop iteration's closes stop after this long (at least
 * CLOSE_TURN_MIN run): a close costs about 40 µs (the transform's
 * close_notify, the engine's free, the socket), and 5,000 phones behind
 * one NAT leaving at once held a worker for 190 ms in one turn, the
 * connected phones' messages with it. The rest wait for the next
 * iterations, which do not sleep in poll meanwhile. Tests may lower it. */
uint64_t stls__worker_close_turn_ns = 500000;
#define CLOSE_TURN_MIN 8

/* The end of a loop turn: held output leaves first (the backend's
 * datagrams in one sendmmsg(), then one transform write and one socket
 * write per connection), then the deferred closes run, oldest first, for
 * at most stls__worker_close_turn_ns per loop iteration (end_of_turn
 * runs after the poll and again before the next one: once the budget is
 * spent, the second run leaves the closes to the iteration after the
 * poll). Output that the closes themselves produce (a handler answering
 * for a connection that failed) starts the idle handle again, so it
 * leaves on the next turn without waiting in poll. */
static void end_of_turn(struct stls_worker *w)
{
	struct stls_dconn *c;
	uint64_t t0 = 0;
	unsigned n = 0;

	/* While handshake reads are held the idle handle stays on: libuv
	 * takes the poll's timeout after the idle phase, so an idle callback
	 * that stopped itself would let the poll sleep on held work. */
	if (!w->hsq_head)
		uv_idle_stop(&w->due_idle);
	EACH_PART(w, turn_end);
	while ((c = w->flush_head) != NULL)
		stls_dconn_flush(c);
	if (w->closes_spent) {
		if (w->close_head)
			stls__worker_due(w);
		return;
	}
	if (w->close_head)
		t0 = uv_hrtime();
	while ((c = w->close_head) != NULL) {
		if (++n > CLOSE_TURN_MIN &&
		    uv_hrtime() - t0 > stls__worker_close_turn_ns) {
			stls_stats_add(&w->stats, STLS_STAT_CLOSES_DEFERRED, 1);
			w->closes_spent = true;
			stls__worker_due(w);
			break;
		}
		w->close_head = c->close_next;
		if (!w->close_head)
			w->close_tail = NULL;
		c->close_next = NULL;
		stls__dconn_finish_close(c);
	}
}

static void on_due_idle(uv_idle_t *h)
{
	end_of_turn(h->data);
}

/* After the poll: the held handshake reads get the turn's rest first,
 * so that their answers leave with the turn's other output. */
static void on_due_check(uv_check_t *h)
{
	struct stls_worker *w = h->data;

	w->closes_spent = false; /* a poll came between: a new budget */

	stls__hs_turn_end(w);
	/* More held: the next poll only looks, it does not wait. */
	if (w->hsq_head)
		stls__worker_due(w);
	end_of_turn(w);
}

/* An active idle handle makes the next poll return at once, so work
 * made due by a timer (or by the closes) does not wait for an event. */
void stls__worker_due(struct stls_worker *w)
{
	uv_idle_start(&w->due_idle, on_due_idle);
}

void stls__worker_defer_flush(struct stls_worker *w, struct stls_dconn *c)
{
	c->flush_next = w->flush_head;
	c->flush_pprev = &w->flush_head;
	if (w->flush_head)
		w->flush_head->flush_pprev = &c->flush_next;
	w->flush_head = c;
	stls__worker_due(w);
}

void stls__worker_defer_close(struct stls_worker *w, struct stls_dconn *c)
{
	c->close_next = NULL;
	if (w->close_tail)
		w->close_tail->close_next = c;
	else
		w->close_head = c;
	w->close_tail = c;
	stls__worker_due(w);
}

static void maybe_finish(struct stls_worker *w)
{
	if (!w->stopping || w->live > 0 || w->finished)
		return;
	w->finished = true;
	EACH_PART(w, stop);
	uv_close((uv_handle_t *)&w->due_idle, NULL);
	uv_close((uv_handle_t *)&w->due_check, NULL);
	uv_close((uv_handle_t *)&w->backoff, NULL);
	uv_close((uv_handle_t *)&w->shed_timer, NULL);
	uv_close((uv_handle_t *)&w->synf_timer, NULL);
	uv_close((uv_handle_t *)&w->stop_timer, NULL);
	uv_unref((uv_handle_t *)&w->wake);
}

void stls__worker_conn_gone(struct stls_worker *w)
{
	w->live--;
	maybe_finish(w);
}

static void close_now(struct stls_dconn *c, void *arg)
{
	(void)arg;
	stls_dconn_close(c, STLS_DCLOSE_SHUTDOWN);
}

static void drain_or_close(struct stls_dconn *c, void *arg)
{
	(void)arg;
	stls__dconn_pause(c, STLS_PAUSE_SHUTDOWN);
	stls_dconn_flush(c);
	if (c->state >= STLS_DCONN_CLOSING)
		return;
	if (c->pending == 0 || c->state == STLS_DCONN_CONNECTING)
		stls_dconn_close(c, STLS_DCLOSE_SHUTDOWN);
	else
		c->draining = true;
}

static void on_stop_timer(uv_timer_t *t)
{
	struct stls_worker *w = t->data;

	stls_dconn_table_foreach(&w->table, close_now, NULL);
}

static void begin_stop(struct stls_worker *w)
{
	w->stopping = true;
	stls__listen_stop(w);
	EACH_PART(w, stop);
	stls_dconn_table_foreach(&w->table, drain_or_close, NULL);
	uv_timer_start(&w->stop_timer, on_stop_timer,
		       (uint64_t)w->d->o.shutdown_ms, 0);
	maybe_finish(w);
}

void stls__worker_wake(struct stls_worker *w)
{
	uint64_t one = 1;

	if (!atomic_load(&w->wake_ok))
		return;
	/* EAGAIN: the counter is full, so the worker is woken anyway. */
	while (write(w->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void on_wake(uv_poll_t *h, int status, int events)
{
	struct stls_worker *w = h->data;
	struct stls_msg *m, *next;
	struct stls_dconn *c;
	uint64_t n;

	(void)status;
	(void)events;
	/* Cleared before the queue is taken: a push after the take writes
	 * again, so no message waits for a later wake-up. */
	while (read(w->wake_fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	if (atomic_load(&w->stop_req) && !w->stopping)
		begin_stop(w);
	if (atomic_exchange(&w->synf_poke, false))
		stls__listen_synf_run(w);
	for (m = stls_mpsc_take(&w->inbox); m; m = next) {
		next = m->next;
		c = m->conn_id ? stls_dconn_table_get(&w->table, m->conn_id)
			       : NULL;
		if (c && c->state >= STLS_DCONN_CLOSING)
			c = NULL;
		m->fn(w, c, m, false);
	}
}

static int start_parts(struct stls_worker *w)
{
	const struct stls_worker_part *const *p;
	int err;

	for (p = w->d->o.parts; p < w->d->o.parts + STLS_WORKER_PARTS_MAX && *p;
	     p++) {
		if ((*p)->start && (err = (*p)->start(w)) != 0)
			return err;
	}
	return 0;
}

static int worker_init(struct stls_worker *w)
{
	int err;

	err = uv_loop_init(&w->loop);
	if (err)
		return err;
	w->loop_ok = true;
	w->wake.data = w->due_idle.data = w->due_check.data = w;
	w->backoff.data = w->stop_timer.data = w->shed_timer.data = w;
	w->synf_timer.data = w;
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0)
		return -errno;
	if (uv_poll_init(&w->loop, &w->wake, w->wake_fd) ||
	    uv_poll_start(&w->wake, UV_READABLE, on_wake) ||
	    uv_idle_init(&w->loop, &w->due_idle) ||
	    uv_check_init(&w->loop, &w->due_check) ||
	    uv_timer_init(&w->loop, &w->backoff) ||
	    uv_timer_init(&w->loop, &w->shed_timer) ||
	    uv_timer_init(&w->loop, &w->synf_timer) ||
	    uv_timer_init(&w->loop, &w->stop_timer))
		return -ENOMEM;
	atomic_store(&w->wake_ok, true);
	uv_check_start(&w->due_check, on_due_check);
	/* The check handle alone must not keep a stopped loop alive. */
	uv_unref((uv_handle_t *)&w->due_check);
	w->scratch_len = SCRATCH_LEN;
	w->scratch = malloc(SCRATCH_LEN);
	w->scratch2 = malloc(SCRATCH_LEN);
	if (!w->scratch || !w->scratch2)
		return -ENOMEM;
	err = stls__listen_start(w);
	if (err)
		return err;
	err = start_parts(w);
	if (err)
		return err;
	if (STLS_H(w)->worker_init) {
		err = STLS_H(w)->worker_init(w, STLS_HARG(w));
		if (err)
			return err;
		w->hinit = true;
	}
	return 0;
}

static void worker_main(void *arg)
{
	struct stls_worker *w = arg;
	char name[16];

	snprintf(name, sizeof(name), "stls-w%u", w->idx);
	pthread_setname_np(pthread_self(), name);
	w->init_err = worker_init(w);
	uv_sem_post(&w->ready);
	if (w->init_err)
		return;
	uv_run(&w->loop, UV_RUN_DEFAULT);
	if (w->hinit && STLS_H(w)->worker_fini)
		STLS_H(w)->worker_fini(w, STLS_HARG(w));
	w->hinit = false;
}

static void cancel_inbox(struct stls_worker *w)
{
	struct stls_msg *m, *next;

	for (m = stls_mpsc_take(&w->inbox); m; m = next) {
		next = m->next;
		m->fn(w, NULL, m, true);
	}
}

static void close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* After the thread is gone (or never ran): release the loop. */
static void worker_fini(struct stls_worker *w)
{
	cancel_inbox(w);
	if (w->loop_ok) {
		uv_walk(&w->loop, close_any, NULL);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		EACH_PART(w, free);
		if (uv_loop_close(&w->loop) != 0)
			STLS_ERR("worker %u: loop not empty at exit", w->idx);
		w->loop_ok = false;
	}
	atomic_store(&w->wake_ok, false);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->wake_fd = -1;
	if (w->hinit && STLS_H(w)->worker_fini)
		STLS_H(w)->worker_fini(w, STLS_HARG(w));
	stls_dconn_table_fini(&w->table);
	free(w->listeners);
	free(w->scratch);
	free(w->scratch2);
	w->listeners = NULL;
	w->scratch = w->scratch2 = NULL;
}

void stls_daemon_opts_from_conf(const struct stls_core_conf *c,
				struct stls_daemon_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->workers = (unsigned)c->workers;
	o->listen = c->listen;
	o->n_listen = c->n_listen;
	o->backend_proto = c->backend_proto;
	o->backend = c->backend;
	o->backend_source = c->backend_source;
	o->max_connections = c->max_connections;
	o->handshake_ms = c->handshake_timeout * 1000;
	o->send_ms = c->send_timeout * 1000;
	o->idle_ms = c->connection_timeout < 0 ? -1
					       : c->connection_timeout * 1000;
	o->shutdown_ms = c->shutdown_timeout * 1000;
	o->accept_backoff_ms = c->accept_backoff;
	o->max_handshakes = c->max_handshakes_in_flight;
	o->shed_ms = c->handshake_shed_age;
	o->hs_threads = (unsigned)c->handshake_threads;
	o->hs_offload_at = (unsigned)c->handshake_offload_at;
	o->hs_nice = c->handshake_nice;
	o->hs_idle = c->handshake_idle != 0;
	o->hs_slice_us = (unsigned)c->handshake_slice;
	o->source_max_conns = c->source_max_connections;
	o->source_rate = c->source_handshake_rate;
	o->source_filter_max = c->source_filter ? c->source_filter_max : 0;
	o->source_filter_hold_ms = c->source_filter_hold;
	o->high_water = (size_t)c->send_high_water;
	o->low_water = (size_t)c->send_low_water;
	o->udp_buffer = c->udp_buffer;
}

static int check_opts(const struct stls_daemon_opts *o)
{
	size_t i;

	if (o->workers < 1 || o->workers > 255 || !o->handler ||
	    !o->handler->data || o->low_water >= o->high_water ||
	    o->max_connections < 1)
		return -EINVAL;
	for (i = 0; i < o->n_listen; i++) {
		if (o->listen[i].proto == STLS_PROTO_TLS && !o->xform_new) {
			STLS_ERR("listen tls: needs the TLS engine, which "
				 "this build does not wire yet");
			return -ENOTSUP;
		}
	}
	return 0;
}

/* The source filter, when asked for and there are limits to feed it. */
static int synf_new(struct stls_daemon *d)
{
	int err;

	if (d->o.source_filter_max <= 0)
		return 0;
	if (!d->srclim) {
		STLS_WARN("source_filter: no source_max_connections or "
			  "source_handshake_rate: nothing to filter");
		return 0;
	}
	d->synf = stls_synfilter_new((size_t)d->o.source_filter_max,
				     d->o.source_filter_hold_ms, &err);
	if (!d->synf)
		return err;
	if (stls_synfilter_max(d->synf) < (size_t)d->o.source_filter_max)
		STLS_WARN("source_filter_max: %zu sources at most "
			  "(net.core.optmem_max)",
			  stls_synfilter_max(d->synf));
	return 0;
}

int stls_daemon_new(const struct stls_daemon_opts *o, struct stls_daemon **out)
{
	struct stls_daemon *d;
	unsigned i;
	int err = check_opts(o);

	if (err)
		return err;
	/* Writes to a closed socket must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->o = *o;
	d->n = o->workers;
	d->srclim = stls_srclim_new(o->source_max_conns, o->source_rate, &err);
	if (err) {
		free(d);
		return err;
	}
	err = synf_new(d);
	if (err) {
		stls_srclim_free(d->srclim);
		free(d);
		return err;
	}
	atomic_init(&d->idle_ms, o->idle_ms);
	d->w = calloc(d->n, sizeof(*d->w));
	d->fds = malloc((o->n_listen * d->n + 1) * sizeof(*d->fds));
	d->bound = calloc(o->n_listen + 1, sizeof(*d->bound));
	if (!d->w || !d->fds || !d->bound) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < o->n_listen * d->n; i++)
		d->fds[i] = -1;
	for (i = 0; i < d->n; i++) {
		d->w[i].d = d;
		d->w[i].idx = i;
		d->w[i].wake_fd = -1;
		d->w[i].listeners = calloc(o->n_listen + 1,
					   sizeof(*d->w[i].listeners));
		if (!d->w[i].listeners ||
		    stls_dconn_table_init(&d->w[i].table, i) != 0) {
			err = -ENOMEM;
			goto fail;
		}
	}
	err = stls__listen_open(d);
	if (err)
		goto fail;
	*out = d;
	return 0;
fail:
	stls_daemon_free(d);
	return err;
}

/* The handshake threads, when asked for and a tls: listener needs them. */
static int hsoff_new(struct stls_daemon *d)
{
	const struct stls_hsoff_prio prio = {
		.nice = d->o.hs_nice,
		.idle = d->o.hs_idle,
		.slice_us = d->o.hs_slice_us,
	};
	size_t i;

	if (d->o.hs_threads == 0 || d->hsoff)
		return 0;
	for (i = 0; i < d->o.n_listen; i++) {
		if (d->o.listen[i].proto == STLS_PROTO_TLS)
			return stls_hsoff_new(d->o.hs_threads, &prio,
					      stls__hs_step_back, d,
					      &d->hsoff);
	}
	return 0;
}

int stls_daemon_start(struct stls_daemon *d)
{
	unsigned i;
	int err = hsoff_new(d);

	if (err) {
		STLS_ERR("handshake_threads: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < d->n; i++) {
		struct stls_worker *w = &d->w[i];

		if (uv_sem_init(&w->ready, 0) != 0)
			return -ENOMEM;
		if (uv_thread_create(&w->thread, worker_main, w) != 0) {
			uv_sem_destroy(&w->ready);
			err = -EAGAIN;
			break;
		}
		w->started = true;
	}
	for (i = 0; i < d->n; i++) {
		if (!d->w[i].started)
			continue;
		uv_sem_wait(&d->w[i].ready);
		uv_sem_destroy(&d->w[i].ready);
		if (d->w[i].init_err && !err)
			err = d->w[i].init_err;
	}
	if (err) {
		STLS_ERR("starting workers: %s", uv_strerror(err));
		stls_daemon_stop(d);
		stls_daemon_join(d);
	}
	return err;
}

void stls_daemon_stop(struct stls_daemon *d)
{
	unsigned i;

	for (i = 0; d && i < d->n; i++) {
		atomic_store(&d->w[i].stop_req, true);
		if (d->w[i].started)
			stls__worker_wake(&d->w[i]);
	}
}

void stls_daemon_join(struct stls_daemon *d)
{
	unsigned i;

	for (i = 0; d && i < d->n; i++) {
		if (d->w[i].started)
			uv_thread_join(&d->w[i].thread);
		d->w[i].started = false;
	}
}

void stls_daemon_free(struct stls_daemon *d)
{
	unsigned i;

	if (!d)
		return;
	stls_daemon_stop(d);
	stls_daemon_join(d);
	/* No step is out once the workers have returned (a connection
	 * waits for its step before it is freed): the threads go first,
	 * and a step they still hand back is cancelled by worker_fini(). */
	stls_hsoff_free(d->hsoff);
	d->hsoff = NULL;
	for (i = 0; d->w && i < d->n; i++)
		worker_fini(&d->w[i]);
	stls__listen_close_fds(d);
	free(d->w);
	free(d->fds);
	free(d->bound);
	stls_srclim_free(d->srclim);
	stls_synfilter_free(d->synf);
	free(d);
}

const struct stls_addr *stls_daemon_bound(const struct stls_daemon *d,
					  size_t i)
{
	return i < d->o.n_listen ? &d->bound[i] : NULL;
}

unsigned stls_daemon_workers(const struct stls_daemon *d)
{
	return d->n;
}

size_t stls_daemon_filtered_sources(struct stls_daemon *d)
{
	return d->synf ? stls_synfilter_count(d->synf) : 0;
}

size_t stls_daemon_hs_queued(struct stls_daemon *d)
{
	return stls_hsoff_queued(d->hsoff);
}

struct stls_worker *stls_daemon_worker(struct stls_daemon *d, unsigned i)
{
	return i < d->n ? &d->w[i] : NULL;
}

void stls_daemon_set_idle_timeout(struct stls_daemon *d, int ms)
{
	atomic_store_explicit(&d->idle_ms, ms, memory_order_relaxed);
}

int stls_daemon_conn_count(const struct stls_daemon *d)
{
	return atomic_load_explicit(&d->n_conns, memory_order_relaxed);
}

int stls_daemon_post(struct stls_daemon *d, unsigned widx, struct stls_msg *m)
{
	struct stls_worker *w;

	if (m->conn_id) {
		int wi = stls_dconn_id_worker(m->conn_id);

		if (wi < 0)
			return -ENOENT;
		widx = (unsigned)wi;
	}
	if (widx >= d->n)
		return -ENOENT;
	w = &d->w[widx];
	/* Woken on every post, not only on the first into an empty queue:
	 * a poster preempted between its push and its write (a handshake
	 * thread at a lower priority) would otherwise hold back every
	 * message queued behind its own. */
	(void)stls_mpsc_push(&w->inbox, m);
	stls__worker_wake(w);
	return 0;
}

struct send_msg {
	struct stls_msg m;
	size_t n;
	uint8_t data[];
};

static void on_send_msg(struct stls_worker *w, struct stls_dconn *c,
			struct stls_msg *m, bool cancelled)
{
	struct send_msg *s = (struct send_msg *)m;

	(void)w;
	if (c && !cancelled && stls_dconn_send(c, s->data, s->n) != 0)
		STLS_DBG("conn %" PRIx64 ": cross-worker send failed",
			 m->conn_id);
	free(s);
}

int stls_daemon_send(struct stls_daemon *d, uint64_t id, const uint8_t *p,
		     size_t n)
{
	struct send_msg *s;
	int err;

	if (stls_dconn_id_worker(id) < 0 ||
	    (unsigned)stls_dconn_id_worker(id) >= d->n)
		return -ENOENT;
	s = malloc(sizeof(*s) + n);
	if (!s)
		return -ENOMEM;
	s->m.conn_id = id;
	s->m.fn = on_send_msg;
	s->n = n;
	memcpy(s->data, p, n);
	err = stls_daemon_post(d, 0, &s->m);
	if (err)
		free(s);
	return err;
}
