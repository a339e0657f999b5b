/*
 * One worker's resolver (see resolver.h): the cache in front, one query
 * per name and type on the way (a struct flight with the lookups that
 * wait for it), the channel behind.
 */
#include "dns/resolver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/cache.h"
#include "dns/channel.h"
#include "stls/log.h"

const char *const stls_dns_stat_names[STLS_DNS__COUNT] = {
	[STLS_DNS_LOOKUPS] = "lookups",
	[STLS_DNS_HITS] = "cache_hits",
	[STLS_DNS_NEG_HITS] = "negative_hits",
	[STLS_DNS_QUERIES] = "queries",
	[STLS_DNS_SHARED] = "shared",
	[STLS_DNS_ANSWERS] = "answers",
	[STLS_DNS_TIMEOUTS] = "timeouts",
	[STLS_DNS_FAILURES] = "failures",
};

struct flight;

struct stls_dns_lookup {
	struct stls_dns_lookup *next;
	struct flight *f;
	stls_dns_done_fn *fn;
	void *arg;
};

/* A query on the way and the lookups waiting for it. */
struct flight {
	struct flight *next;
	struct stls_dns *d;
	struct stls_dns_lookup *waiters;
	uint16_t type;
	char name[STLS_DNS_NAME_MAX + 1];
};

struct stls_dns {
	uv_loop_t *loop;
	struct stls_dns_channel *ch;
	struct stls_dns_cache *cache;
	struct flight *flights;
	bool closed;
	struct stls_dns_counters *cnt; /* conf's, or own */
	struct stls_dns_counters own;
};

static void count(struct stls_dns *d, enum stls_dns_stat k)
{
	uint64_t v = atomic_load_explicit(&d->cnt->v[k], memory_order_relaxed);

	atomic_store_explicit(&d->cnt->v[k], v + 1, memory_order_relaxed);
}

int stls_dns_new(uv_loop_t *loop, const struct stls_dns_conf *conf,
		 struct stls_dns **out)
{
	struct stls_dns_channel_conf cc = {
		.servers = conf->servers,
		.n_servers = conf->n_servers,
		.timeout_ms = conf->timeout_ms,
		.tries = conf->tries,
	};
	struct stls_dns *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->loop = loop;
	d->cnt = conf->counters ? conf->counters : &d->own;
	err = stls_dns_cache_new(conf->cache_size ? conf->cache_size : 1024,
				 &d->cache);
	if (!err)
		err = stls_dns_channel_new(loop, &cc, &d->ch);
	if (err) {
		stls_dns_cache_free(d->cache);
		free(d);
		return err;
	}
	*out = d;
	return 0;
}

uint64_t stls_dns_now(const struct stls_dns *d)
{
	return uv_now(d->loop);
}

const struct stls_dns_counters *stls_dns_counters(const struct stls_dns *d)
{
	return d->cnt;
}

static void unlink_flight(struct flight *f)
{
	struct flight **pp = &f->d->flights;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
}

/* The channel's answer for flight <arg>: parse, cache, tell waiters. */
static void on_raw(void *arg, int err, const uint8_t *abuf, size_t alen)
{
	struct flight *f = arg;
	struct stls_dns *d = f->d;
	struct stls_dns_rrset *rs = NULL;
	struct stls_dns_lookup *l;
	stls_dns_done_fn *fn;
	void *fn_arg;

	unlink_flight(f);
	if (!err)
		err = stls_dns_answer_parse(f->type, abuf, alen, &rs);
	if (!err) {
		count(d, STLS_DNS_ANSWERS);
		if (d->cache &&
		    stls_dns_cache_put(d->cache, f->name, rs, uv_now(d->loop)))
			STLS_DBG("dns: %s %s not cached (no memory)", f->name,
				 stls_dns_type_name(f->type));
	} else if (err == -ETIMEDOUT) {
		count(d, STLS_DNS_TIMEOUTS);
	} else if (err != -ECANCELED) {
		count(d, STLS_DNS_FAILURES);
		STLS_DBG("dns: %s %s: %s", f->name,
			 stls_dns_type_name(f->type), strerror(-err));
	}
	/* One at a time from the list: a callback may cancel another
	 * waiter of this flight. */
	while ((l = f->waiters)) {
		f->waiters = l->next;
		fn = l->fn;
		fn_arg = l->arg;
		free(l);
		fn(fn_arg, err, rs);
	}
	stls_dns_rrset_unref(rs);
	free(f);
}

static struct flight *find_flight(struct stls_dns *d, const char *name,
				  uint16_t type)
{
	struct flight *f;

	for (f = d->flights; f; f = f->next) {
		if (f->type == type && strcasecmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

static int new_flight(struct stls_dns *d, const char *name, uint16_t type,
		      struct flight **out)
{
	struct flight *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	f->d = d;
	f->type = type;
	memcpy(f->name, name, strlen(name) + 1);
	err = stls_dns_channel_query(d->ch, f->name, type, on_raw, f);
	if (err) {
		count(d, STLS_DNS_FAILURES);
		free(f);
		return err;
	}
	count(d, STLS_DNS_QUERIES);
	f->next = d->flights;
	d->flights = f;
	*out = f;
	return 0;
}

int stls_dns_lookup(struct stls_dns *d, const char *name, uint16_t type,
		    stls_dns_done_fn *fn, void *arg,
		    const struct stls_dns_rrset **hit,
		    struct stls_dns_lookup **out)
{
	char key[STLS_DNS_NAME_MAX + 1];
	const struct stls_dns_rrset *rs;
	struct stls_dns_lookup *l;
	struct flight *f;
	size_t n = strlen(name);
	int err;

	if (d->closed)
		return -ECANCELED;
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > STLS_DNS_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(key, name, n);
	key[n] = '\0';
	count(d, STLS_DNS_LOOKUPS);
	rs = stls_dns_cache_get(d->cache, key, type, uv_now(d->loop));
	if (rs) {
		count(d, rs->status == STLS_DNS_OK ? STLS_DNS_HITS
						   : STLS_DNS_NEG_HITS);
		*hit = rs;
		return 1;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	f = find_flight(d, key, type);
	if (f) {
		count(d, STLS_DNS_SHARED);
	} else {
		err = new_flight(d, key, type, &f);
		if (err) {
			free(l);
			return err;
		}
	}
	l->f = f;
	l->fn = fn;
	l->arg = arg;
	l->next = f->waiters;
	f->waiters = l;
	*out = l;
	return 0;
}

void stls_dns_lookup_cancel(struct stls_dns_lookup *l)
{
	struct stls_dns_lookup **pp;

	if (!l)
		return;
	for (pp = &l->f->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	free(l);
}

void stls_dns_close(struct stls_dns *d)
{
	if (!d || d->closed)
		return;
	d->closed = true;
	/* Every flight ends here, its waiters told -ECANCELED. */
	stls_dns_channel_close(d->ch);
	d->ch = NULL;
	stls_dns_cache_free(d->cache);
	d->cache = NULL;
}

void stls_dns_free(struct stls_dns *d)
{
	if (!d)
		return;
	stls_dns_close(d);
	free(d);
}
