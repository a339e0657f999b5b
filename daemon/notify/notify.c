/*
 * systemd notifications and the worker-proven watchdog (see notify.h).
 */
#include "notify/notify.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "stls/log.h"

/*
 * One round of pings, shared with the workers' answers. Counted: the
 * notifier holds one reference to the current round, each ping in flight
 * another, so a late answer (to an old round, or after stls_notify_free())
 * still writes into live memory and never counts for a newer round.
 */
struct round {
	atomic_uint refs;
	atomic_uint answered;
};

struct stls_notify {
	struct stls_daemon *d;
	uv_timer_t *timer;     /* NULL: no watchdog */
	struct round *r;       /* the round last posted, or NULL */
	uint64_t usec;         /* WATCHDOG_USEC, 0 off */
	unsigned posted;       /* pings posted in it */
	uint64_t sent;
	bool stopping;
};

struct ping {
	struct stls_msg m;
	struct round *r;
};

static void round_unref(struct round *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1)
		free(r);
}

static void notify(const char *msg)
{
	int rc = sd_notify(0, msg);

	if (rc < 0)
		STLS_WARN("systemd notify: %s", strerror(-rc));
}

void stls_notify_ready(struct stls_notify *n, const char *status)
{
	char buf[256];

	(void)n;
	if (status) {
		snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", status);
		notify(buf);
	} else {
		notify("READY=1");
	}
}

void stls_notify_reloading(struct stls_notify *n)
{
	struct timespec ts;
	char buf[96];

	(void)n;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
			 (unsigned long long)ts.tv_nsec / 1000ull);
	notify(buf);
}

void stls_notify_stopping(struct stls_notify *n)
{
	notify("STOPPING=1");
	if (n && n->timer) {
		n->stopping = true;
		uv_timer_stop(n->timer);
	}
}

/* On a worker: the ping of round p->round is answered. */
static void on_ping(struct stls_worker *w, struct stls_dconn *c,
		    struct stls_msg *m, bool cancelled)
{
	struct ping *p = (struct ping *)m;

	(void)w;
	(void)c;
	if (!cancelled)
		atomic_fetch_add(&p->r->answered, 1);
	round_unref(p->r);
	free(p);
}

/* Pings every worker for a new round. */
static void ping_workers(struct stls_notify *n)
{
	unsigned i, nw = stls_daemon_workers(n->d);
	struct ping *p;

	if (n->r)
		round_unref(n->r);
	n->posted = 0;
	n->r = calloc(1, sizeof(*n->r));
	if (!n->r)
		return;
	atomic_init(&n->r->refs, 1);
	for (i = 0; i < nw; i++) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return;
		p->m.fn = on_ping;
		p->r = n->r;
		atomic_fetch_add(&n->r->refs, 1);
		if (stls_daemon_post(n->d, i, &p->m) != 0) {
			round_unref(n->r);
			free(p);
			return;
		}
		n->posted++;
	}
}

static void on_tick(uv_timer_t *t)
{
	struct stls_notify *n = t->data;
	unsigned nw = stls_daemon_workers(n->d);

	if (n->stopping)
		return;
	/* Every worker answered the last round: all of them ran a loop
	 * turn within the last half interval. */
	if (!n->r) {
		ping_workers(n); /* the first tick, or out of memory */
	} else if (n->posted == nw && atomic_load(&n->r->answered) == nw) {
		notify("WATCHDOG=1");
		n->sent++;
		ping_workers(n);
	} else {
		STLS_WARN("watchdog: %u of %u workers answered in %llu ms: "
			  "no WATCHDOG=1",
			  atomic_load(&n->r->answered), nw,
			  (unsigned long long)(n->usec / 2000));
	}
}

static void on_timer_closed(uv_handle_t *h)
{
	free(h);
}

int stls_notify_new(struct stls_daemon *d, uv_loop_t *loop,
		    struct stls_notify **out)
{
	struct stls_notify *n = calloc(1, sizeof(*n));
	uint64_t usec = 0;
	uint64_t half;
	int err;

	if (!n)
		return -ENOMEM;
	n->d = d;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		n->usec = usec;
	if (!n->usec) {
		*out = n;
		return 0;
	}
	n->timer = calloc(1, sizeof(*n->timer));
	if (!n->timer) {
		free(n);
		return -ENOMEM;
	}
	err = uv_timer_init(loop, n->timer);
	if (err) {
		free(n->timer);
		free(n);
		return err;
	}
	n->timer->data = n;
	half = n->usec / 2000;
	if (half == 0)
		half = 1;
	/* First tick at once: the first round starts; the first WATCHDOG=1
	 * follows half an interval later, once every worker answered. */
	uv_timer_start(n->timer, on_tick, 0, half);
	STLS_NOTICE("watchdog: every %llu ms, when all %u workers answer",
		    (unsigned long long)half, stls_daemon_workers(d));
	*out = n;
	return 0;
}

void stls_notify_free(struct stls_notify *n)
{
	if (!n)
		return;
	if (n->timer) {
		uv_timer_stop(n->timer);
		uv_close((uv_handle_t *)n->timer, on_timer_closed);
	}
	if (n->r)
		round_unref(n->r);
	free(n);
}

uint64_t stls_notify_watchdog_usec(const struct stls_notify *n)
{
	return n->usec;
}

uint64_t stls_notify_watchdog_sent(const struct stls_notify *n)
{
	return n->sent;
}
