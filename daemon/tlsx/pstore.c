/*
 * The daemon's published TLS profile set (see pstore.h).
 */
#include "tlsx/pstore.h"
#include "tlsx/refresh.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stls/log.h"

struct stls_pstore {
	const struct stls_conf *conf;
	const struct stls_settings *live;
	const struct stls_core_conf *core;
	struct stls_pstore_src src; /* load NULL: the files */
	pthread_mutex_t cur_lock;    /* guards cur: load + ref */
	pthread_mutex_t reload_lock; /* one reload at a time */
	struct stls_profile_set *cur;
	uint64_t reload_ok, reload_failed;
	int64_t last_good;           /* time of the last good build */
	struct stls_refresher *refresher; /* kicked after a reload */
	void (*on_reload)(void *arg); /* called after a good reload */
	void *on_reload_arg;
};

static bool ip_is_any(const struct stls_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) == 0;
}

static bool listener_serves(const struct stls_listen_conf *l,
			    const struct stls_addr *pa)
{
	if (l->proto != STLS_PROTO_TLS || l->addr.family != pa->family)
		return false;
	if (pa->port != 0 && pa->port != l->addr.port)
		return false;
	return ip_is_any(&l->addr) || stls_addr_ip_eq(&l->addr, pa);
}

size_t stls_pstore_check_listeners(const struct stls_profile_set *set,
				   const struct stls_core_conf *core,
				   struct stls_diag *diag)
{
	size_t i, j, errors = 0;

	for (i = 0; i < stls_profile_set_count(set); i++) {
		const struct stls_profile *p = stls_profile_set_get0(set, i);
		const struct stls_profile_conf *pc = stls_profile_conf_of(p);
		bool served = false;

		if (pc->role != STLS_ROLE_SERVER || pc->kind != STLS_PROF_ADDR)
			continue;
		for (j = 0; j < core->n_listen && !served; j++)
			served = listener_serves(&core->listen[j], &pc->addr);
		if (!served) {
			stls_diag_err(diag, pc->loc.file, pc->loc.line,
				      "%s: no TLS listener serves this address "
				      "(add `listen = tls:...` to [core])",
				      stls_profile_name(p));
			errors++;
		}
	}
	return errors;
}

/* Builds and checks a set from <list>. */
static int build_checked(const struct stls_pstore *ps,
			 const struct stls_profile_conf *list,
			 struct stls_diag *diag, struct stls_profile_set **out)
{
	struct stls_profile_set *set = NULL;
	int err;

	err = stls_profile_set_build(ps->live, list, diag, &set);
	if (err)
		return err;
	if (stls_pstore_check_listeners(set, ps->core, diag) > 0) {
		stls_profile_set_unref(set);
		return -EINVAL;
	}
	if (ps->src.tkeys) {
		err = stls_profile_set_use_tkeys(set, ps->src.tkeys);
		if (err) {
			stls_profile_set_unref(set);
			return err;
		}
	}
	*out = set;
	return 0;
}

/* The list of a build: from the source, or the files (reload). */
static int load_list(struct stls_pstore *ps, struct stls_profile_conf **list,
		     struct stls_diag *diag)
{
	if (ps->src.load)
		return ps->src.load(ps->src.arg, list, diag);
	return stls_conf_reload_profiles(ps->conf, ps->live, list, diag);
}

static void tell_done(struct stls_pstore *ps, int err,
		      const struct stls_diag *diag)
{
	if (ps->src.done)
		ps->src.done(ps->src.arg, err, diag);
}

int stls_pstore_new(const struct stls_conf *conf,
		    const struct stls_settings *live,
		    const struct stls_core_conf *core, struct stls_diag *diag,
		    struct stls_pstore **out)
{
	return stls_pstore_new_src(conf, live, core, NULL, diag, out);
}

int stls_pstore_new_src(const struct stls_conf *conf,
			const struct stls_settings *live,
			const struct stls_core_conf *core,
			const struct stls_pstore_src *src,
			struct stls_diag *diag, struct stls_pstore **out)
{
	struct stls_pstore *ps = calloc(1, sizeof(*ps));
	struct stls_profile_conf *list = NULL;
	int err;

	if (!ps)
		return -ENOMEM;
	ps->conf = conf;
	ps->live = live;
	ps->core = core;
	if (src)
		ps->src = *src;
	pthread_mutex_init(&ps->cur_lock, NULL);
	pthread_mutex_init(&ps->reload_lock, NULL);
	if (ps->src.load) {
		err = ps->src.load(ps->src.arg, &list, diag);
		if (!err)
			err = build_checked(ps, list, diag, &ps->cur);
		stls_profile_conf_list_free(list);
		tell_done(ps, err, diag);
	} else {
		err = build_checked(ps, conf->profiles, diag, &ps->cur);
	}
	if (err) {
		stls_pstore_free(ps);
		return err;
	}
	ps->last_good = (int64_t)time(NULL);
	*out = ps;
	return 0;
}

void stls_pstore_free(struct stls_pstore *ps)
{
	if (!ps)
		return;
	stls_profile_set_unref(ps->cur);
	pthread_mutex_destroy(&ps->cur_lock);
	pthread_mutex_destroy(&ps->reload_lock);
	free(ps);
}

struct stls_profile_set *stls_pstore_get(struct stls_pstore *ps)
{
	struct stls_profile_set *set;

	pthread_mutex_lock(&ps->cur_lock);
	set = stls_profile_set_ref(ps->cur);
	pthread_mutex_unlock(&ps->cur_lock);
	return set;
}

uint64_t stls_pstore_generation(struct stls_pstore *ps)
{
	uint64_t g;

	pthread_mutex_lock(&ps->cur_lock);
	g = stls_profile_set_generation(ps->cur);
	pthread_mutex_unlock(&ps->cur_lock);
	return g;
}

void stls_pstore_counts(struct stls_pstore *ps, uint64_t *ok,
			uint64_t *failed)
{
	*ok = __atomic_load_n(&ps->reload_ok, __ATOMIC_RELAXED);
	*failed = __atomic_load_n(&ps->reload_failed, __ATOMIC_RELAXED);
}

int stls_pstore_reload(struct stls_pstore *ps, struct stls_diag *diag,
		       uint64_t *generation)
{
	struct stls_profile_conf *list = NULL;
	struct stls_profile_set *set = NULL, *old;
	int err;

	pthread_mutex_lock(&ps->reload_lock);
	err = load_list(ps, &list, diag);
	if (!err)
		err = build_checked(ps, list, diag, &set);
	stls_profile_conf_list_free(list);
	if (err) {
		tell_done(ps, err, diag);
		__atomic_add_fetch(&ps->reload_failed, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&ps->reload_lock);
		return err;
	}
	pthread_mutex_lock(&ps->cur_lock);
	old = ps->cur;
	ps->cur = set;
	pthread_mutex_unlock(&ps->cur_lock);
	/* Live first: the source's bookkeeping (a database snapshot of every
	 * row) must not delay the new set. */
	tell_done(ps, 0, diag);
	/* Connections made with the old set keep their own references. */
	stls_profile_set_unref(old);
	__atomic_add_fetch(&ps->reload_ok, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&ps->last_good, (int64_t)time(NULL),
			 __ATOMIC_RELAXED);
	/* New staples and CRL slots are due at once. */
	stls_refresher_kick(ps->refresher);
	if (generation)
		*generation = stls_profile_set_generation(set);
	STLS_NOTICE("TLS profiles reloaded: generation %llu, %zu profiles",
		    (unsigned long long)stls_profile_set_generation(set),
		    stls_profile_set_count(set));
	pthread_mutex_unlock(&ps->reload_lock);
	if (ps->on_reload)
		ps->on_reload(ps->on_reload_arg);
	return 0;
}

time_t stls_pstore_last_good(struct stls_pstore *ps)
{
	return (time_t)__atomic_load_n(&ps->last_good, __ATOMIC_RELAXED);
}

/* Under the reload lock: a reload (from the control thread, which may
 * already run) kicks the refresher while holding it, so that it never
 * sees a half-set pointer, nor one about to be stopped. */
void stls_pstore_set_refresher(struct stls_pstore *ps,
			       struct stls_refresher *r)
{
	pthread_mutex_lock(&ps->reload_lock);
	ps->refresher = r;
	pthread_mutex_unlock(&ps->reload_lock);
}

void stls_pstore_set_on_reload(struct stls_pstore *ps,
			       void (*fn)(void *arg), void *arg)
{
	ps->on_reload = fn;
	ps->on_reload_arg = arg;
}
