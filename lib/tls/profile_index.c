/*
 * The profile index: which profile serves a connection, found by name and
 * address lookups whose cost does not grow with the number of profiles.
 *
 * Matching ranks candidates (docs/profiles.md); the most specific wins:
 *   1. how the server name fits: exact > wildcard (server profiles,
 *      "*.example.com": one label) > suffix (server_name_mode 1/2) >
 *      profile without server_name > profile with a server_name while the
 *      connection has no name (an address profile only);
 *   2. an IP:port profile beats an any profile;
 *   3. a longer server_name suffix beats a shorter one;
 *   4. an exact port beats port 0;
 *   5. on a full tie, the profile defined later (Kamailio's order).
 * Any profiles match only through their server_name.
 *
 * Design: the profiles of a set fall into groups whose members differ
 * only by name: the any profiles of a role, and the address profiles of
 * one role and one IP:port (port 0 being its own group). Every group keeps
 * a hash table of its server names, and each name entry the latest
 * profile for each way the name can fit (exact, wildcard base, suffix).
 * A lookup visits at most three groups (the IP with the port, the IP with
 * port 0, any) and in each walks the name once from its end: the hash of
 * every suffix that follows a dot comes out of the same walk, so exact,
 * wildcard and subdomain lookups cost one pass over the name plus one
 * probe per dot. The winners of the groups are compared with the rank
 * above. Client profiles are also indexed by server_id.
 *
 * The index is built once with its set and only read afterwards, so any
 * thread may use it while it holds a reference on the set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/hmap.h"
#include "tls/profile_int.h"

/* How well a profile's server_name fits the name of a connection. */
enum fit {
	FIT_NO = 0,     /* a name was given and does not match */
	FIT_NAMED = 1,  /* no name given, the profile has one */
	FIT_ANY = 2,    /* the profile has no server_name */
	FIT_SUFFIX = 3, /* a subdomain of server_name (mode 1 or 2) */
	FIT_WILD = 4,   /* "*.base": one label followed by .base */
	FIT_EXACT = 5,  /* equal, ignoring case (mode 0 or 1) */
};

/* One distinct server name (or server_id) of a group. */
struct pname {
	const char *name; /* borrowed from a profile's conf */
	size_t len;
	int32_t exact;    /* latest position with this name, mode != 2 */
	int32_t suffix;   /* latest with mode 1 or 2 */
	int32_t wild;     /* latest "*.<name>" (server profiles) */
};

/* Profiles that compete by name only. */
struct pgroup {
	enum stls_role role;
	enum stls_prof_kind kind;  /* STLS_PROF_ADDR or STLS_PROF_ANY */
	struct stls_addr addr;     /* ADDR: the IP and the port (0 = any) */
	int32_t nameless;          /* latest without server_name, or -1 */
	int32_t named;             /* latest with a server_name, or -1 */
	bool suffixes, wilds;      /* some entry has a suffix / wildcard */
	struct stls__hmap names;   /* struct pname by folded name */
	struct pgroup *next;       /* all groups, for freeing */
};

struct stls__pindex {
	uint64_t seed;
	struct stls__hmap groups; /* struct pgroup by role, kind, address */
	struct pgroup *all;
	struct stls__hmap ids;    /* client server_id -> struct pname */
	struct pname *nv;         /* storage for every pname */
	size_t nn;
};

/* What a lookup looks for in a group. */
struct gkey {
	enum stls_role role;
	enum stls_prof_kind kind;
	const struct stls_addr *addr;
	uint16_t port;
};

/* A name being looked up: its bytes and length. */
struct nkey {
	const char *s;
	size_t len;
};

static size_t ip_len(const struct stls_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

static uint64_t group_hash(const struct stls__pindex *ix,
			   const struct gkey *k)
{
	uint64_t h = stls__hmix(ix->seed, (uint64_t)k->role << 8 | k->kind);
	size_t i;

	if (k->kind != STLS_PROF_ADDR) {
		return h;
	}
	h = stls__hmix(h, (uint64_t)k->addr->family << 16 | k->port);
	for (i = 0; i < ip_len(k->addr); i += 4) {
		uint32_t w;

		memcpy(&w, k->addr->ip + i, 4);
		h = stls__hmix(h, w);
	}
	return h;
}

static bool group_eq(const void *val, const void *key)
{
	const struct pgroup *g = val;
	const struct gkey *k = key;

	if (g->role != k->role || g->kind != k->kind) {
		return false;
	}
	return k->kind != STLS_PROF_ADDR ||
	       (g->addr.port == k->port && stls_addr_ip_eq(&g->addr, k->addr));
}

static bool name_eq(const void *val, const void *key)
{
	const struct pname *e = val;
	const struct nkey *k = key;

	return e->len == k->len && stls__fold_eq(e->name, k->s, k->len);
}

static struct pname *name_get(const struct stls__hmap *m, uint64_t h,
			      const char *s, size_t len)
{
	struct nkey k = { s, len };

	return stls__hmap_get(m, h, name_eq, &k);
}

/* The entry for <s> in <m>, added when missing. NULL when out of memory. */
static struct pname *name_entry(struct stls__pindex *ix, struct stls__hmap *m,
				const char *s, size_t len)
{
	uint64_t h = stls__hname(ix->seed, s, len);
	struct pname *e = name_get(m, h, s, len);

	if (e) {
		return e;
	}
	e = &ix->nv[ix->nn];
	*e = (struct pname){ s, len, -1, -1, -1 };
	if (stls__hmap_add(m, h, e) != 0) {
		return NULL;
	}
	ix->nn++;
	return e;
}

static struct pgroup *group_entry(struct stls__pindex *ix,
				  const struct stls_profile_conf *c)
{
	struct gkey k = { c->role, c->kind, &c->addr, c->addr.port };
	uint64_t h = group_hash(ix, &k);
	struct pgroup *g = stls__hmap_get(&ix->groups, h, group_eq, &k);

	if (g) {
		return g;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		return NULL;
	}
	g->role = c->role;
	g->kind = c->kind;
	g->addr = c->addr;
	g->nameless = -1;
	g->named = -1;
	stls__hmap_init(&g->names);
	g->next = ix->all;
	ix->all = g;
	if (stls__hmap_add(&ix->groups, h, g) != 0) {
		return NULL; /* freed with the index: it is on the list */
	}
	return g;
}

bool stls__profile_name_is_wild(const struct stls_profile_conf *c)
{
	const char *sn = c->server_name;

	return c->role == STLS_ROLE_SERVER && sn && sn[0] == '*' &&
	       sn[1] == '.' && sn[2] != '\0';
}

/* Files profile <pos> (an address or any profile) in its group. */
static int add_named(struct stls__pindex *ix, const struct stls_profile *p,
		     int32_t pos)
{
	const struct stls_profile_conf *c = &p->conf;
	struct pgroup *g = group_entry(ix, c);
	bool wild = stls__profile_name_is_wild(c);
	const char *sn = c->server_name;
	struct pname *e;

	if (!g) {
		return -ENOMEM;
	}
	if (!has_str(sn)) {
		g->nameless = pos;
		return 0;
	}
	g->named = pos;
	sn += wild ? 2 : 0;
	e = name_entry(ix, &g->names, sn, strlen(sn));
	if (!e) {
		return -ENOMEM;
	}
	if (wild) {
		e->wild = pos;
		g->wilds = true;
		return 0;
	}
	if (c->server_name_mode != 2) {
		e->exact = pos;
	}
	if (c->server_name_mode == 1 || c->server_name_mode == 2) {
		e->suffix = pos;
		g->suffixes = true;
	}
	return 0;
}

static int add_one(struct stls__pindex *ix, const struct stls_profile *p,
		   int32_t pos)
{
	const struct stls_profile_conf *c = &p->conf;
	struct pname *e;
	int err = 0;

	if (c->kind != STLS_PROF_DEFAULT) {
		err = add_named(ix, p, pos);
	}
	if (!err && c->role == STLS_ROLE_CLIENT && has_str(c->server_id)) {
		e = name_entry(ix, &ix->ids, c->server_id,
			       strlen(c->server_id));
		if (!e) {
			return -ENOMEM;
		}
		e->exact = pos; /* the later definition wins */
	}
	return err;
}

void stls__pindex_free(struct stls__pindex *ix)
{
	struct pgroup *g;

	if (!ix) {
		return;
	}
	while ((g = ix->all) != NULL) {
		ix->all = g->next;
		stls__hmap_fini(&g->names);
		free(g);
	}
	stls__hmap_fini(&ix->groups);
	stls__hmap_fini(&ix->ids);
	free(ix->nv);
	free(ix);
}

int stls__pindex_build(const struct stls_profile *v, size_t n,
		       struct stls__pindex **out)
{
	struct stls__pindex *ix;
	size_t i;
	int err = 0;

	if (n > INT32_MAX) {
		return -E2BIG;
	}
	ix = calloc(1, sizeof(*ix));
	if (!ix || !(ix->nv = calloc(n ? 2 * n : 1, sizeof(*ix->nv)))) {
		free(ix);
		return -ENOMEM;
	}
	/* Names are the operator's, but the lookups are the peers': a seed
	 * keeps probe sequences unpredictable. */
	if (RAND_bytes((unsigned char *)&ix->seed, sizeof(ix->seed)) != 1) {
		ix->seed = (uint64_t)(uintptr_t)ix;
	}
	stls__hmap_init(&ix->groups);
	stls__hmap_init(&ix->ids);
	for (i = 0; i < n && !err; i++) {
		err = add_one(ix, &v[i], (int32_t)i);
	}
	if (err) {
		stls__pindex_free(ix);
		return err;
	}
	*out = ix;
	return 0;
}

/* Rank of profile <c> with fit <fit> (higher is better); 0: no match. */
static uint64_t rank(const struct stls_profile_conf *c, enum fit fit)
{
	uint64_t len = 0;

	if (fit == FIT_NO || (c->kind == STLS_PROF_ANY && fit < FIT_SUFFIX)) {
		return 0;
	}
	if (fit == FIT_SUFFIX) {
		len = strlen(c->server_name);
		len = len > 0xffff ? 0xffff : len;
	}
	return (uint64_t)fit << 40 |
	       (uint64_t)(c->kind == STLS_PROF_ADDR) << 32 | len << 8 |
	       (uint64_t)(c->kind == STLS_PROF_ADDR && c->addr.port != 0);
}

/*
 * The best candidate so far. Each group offers at most one candidate, its
 * latest profile for the best fit it has, so ties between profiles are
 * settled inside the groups; two groups never tie, as they differ in kind
 * (address or any) or in the exact-port bit of the rank.
 */
struct best {
	const struct stls_profile *v; /* the set's profiles */
	int32_t pos;
	uint64_t rank;
};

static void offer(struct best *b, int32_t pos, enum fit fit)
{
	uint64_t r;

	if (pos < 0) {
		return;
	}
	r = rank(&b->v[pos].conf, fit);
	if (r > b->rank) {
		b->rank = r;
		b->pos = pos;
	}
}

/*
 * The group's best profile for the name <s> (<len> > 0). One walk from
 * the end of the name: at each dot the hash of the suffix after it is
 * complete; the leftmost dot's suffix is the wildcard base.
 */
static void group_named(const struct stls__pindex *ix, const struct pgroup *g,
			const char *s, size_t len, struct best *b)
{
	uint64_t h = stls__hname_init(ix->seed), base_h = 0;
	const struct pname *e, *suffix = NULL, *base = NULL;
	size_t i, dot = len; /* leftmost dot; len = none */

	for (i = len; i-- > 0;) {
		if (s[i] == '.' && i + 1 < len) {
			dot = i;
			base_h = stls__hname_fin(h);
			base = NULL;
			if (g->suffixes) {
				base = name_get(&g->names, base_h, s + i + 1,
						len - i - 1);
				suffix = base && base->suffix >= 0 ? base
								   : suffix;
			}
		}
		h = stls__hname_step(h, (unsigned char)s[i]);
	}
	e = name_get(&g->names, stls__hname_fin(h), s, len);
	if (e && e->exact >= 0) {
		offer(b, e->exact, FIT_EXACT);
		return;
	}
	if (g->wilds && dot > 0 && dot < len) {
		if (!g->suffixes) {
			base = name_get(&g->names, base_h, s + dot + 1,
					len - dot - 1);
		}
		if (base && base->wild >= 0) {
			offer(b, base->wild, FIT_WILD);
			return;
		}
	}
	if (suffix) {
		offer(b, suffix->suffix, FIT_SUFFIX);
		return;
	}
	offer(b, g->nameless, FIT_ANY);
}

static void group_best(const struct stls__pindex *ix, const struct gkey *k,
		       const char *name, struct best *b)
{
	const struct pgroup *g;

	g = stls__hmap_get(&ix->groups, group_hash(ix, k), group_eq, k);
	if (!g) {
		return;
	}
	if (has_str(name)) {
		group_named(ix, g, name, strlen(name), b);
	} else if (g->nameless >= 0) {
		offer(b, g->nameless, FIT_ANY);
	} else {
		offer(b, g->named, FIT_NAMED);
	}
}

/* The address groups of <a>: its port, then port 0 (when different). */
static void addr_best(const struct stls_profile_set *set, enum stls_role role,
		      const struct stls_addr *a, const char *name,
		      struct best *b)
{
	struct gkey k = { role, STLS_PROF_ADDR, a, 0 };

	if (!a || (a->family != AF_INET && a->family != AF_INET6)) {
		return;
	}
	k.port = a->port;
	group_best(set->index, &k, name, b);
	if (a->port != 0) {
		k.port = 0;
		group_best(set->index, &k, name, b);
	}
}

static void any_best(const struct stls_profile_set *set, enum stls_role role,
		     const char *name, struct best *b)
{
	struct gkey k = { role, STLS_PROF_ANY, NULL, 0 };

	if (has_str(name)) {
		group_best(set->index, &k, name, b);
	}
}

const struct stls_profile *
stls_profile_set_match_server(const struct stls_profile_set *set,
			      const struct stls_addr *local, const char *sni)
{
	struct best b = { set->v, -1, 0 };

	addr_best(set, STLS_ROLE_SERVER, local, sni, &b);
	any_best(set, STLS_ROLE_SERVER, sni, &b);
	return b.pos >= 0 ? &set->v[b.pos] : set->defaults[STLS_ROLE_SERVER];
}

const struct stls_profile *
stls_profile_set_match_client(const struct stls_profile_set *set,
			      const struct stls_addr *dst,
			      const char *server_name, const char *server_id)
{
	struct best b = { set->v, -1, 0 };
	const struct pname *e;
	size_t n;

	if (has_str(server_id)) {
		n = strlen(server_id);
		e = name_get(&set->index->ids,
			     stls__hname(set->index->seed, server_id, n),
			     server_id, n);
		if (e) {
			return &set->v[e->exact];
		}
	}
	addr_best(set, STLS_ROLE_CLIENT, dst, server_name, &b);
	if (b.pos < 0) {
		any_best(set, STLS_ROLE_CLIENT, server_name, &b);
	}
	return b.pos >= 0 ? &set->v[b.pos] : set->defaults[STLS_ROLE_CLIENT];
}
