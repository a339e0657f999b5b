/*
 * Duplicate profiles (docs/config.md, "Duplicates"), found in one pass.
 *
 * Two profiles are duplicates when they have the same role and kind (and,
 * for IP:port profiles, the same address and port), unless both have a
 * non-empty server_name and the names differ, ignoring case; two defaults
 * of one role always are. Each duplicate is reported once, against the
 * first earlier profile it duplicates.
 *
 * Instead of comparing every pair, profiles are grouped by (role, kind,
 * address); a group remembers its first profile, its first profile
 * without a name, and the first profile of each name. For a new profile
 * the first earlier duplicate is then its group's first profile (when the
 * new one has no name, or is a default), or else the earlier of the
 * group's first nameless profile and the first profile with the same
 * name. Thousands of profiles cost thousands of lookups, not millions of
 * comparisons.
 */
#include "conf_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"

/* A profile and its place in the list. */
struct seen {
	const struct stls_profile_conf *p;
	size_t pos;
};

struct dgroup {
	const struct stls_profile_conf *key; /* role, kind and address */
	struct seen first, nameless;         /* nameless.p NULL: none yet */
	struct stls__hmap names;             /* struct seen by folded name */
	struct dgroup *next;
};

struct dups {
	struct stls__hmap groups;
	struct dgroup *all;
	struct seen *seen;    /* storage for the name entries */
	size_t nseen;
};

static bool has_name(const struct stls_profile_conf *p)
{
	return p->server_name && p->server_name[0];
}

static uint64_t group_hash(const struct stls_profile_conf *p)
{
	uint64_t h = stls__hmix(0, (uint64_t)p->role << 8 | p->kind);

	size_t i, n = p->addr.family == AF_INET ? 4 : 16;

	if (p->kind != STLS_PROF_ADDR) {
		return h;
	}
	h = stls__hmix(h, (uint64_t)p->addr.family << 16 | p->addr.port);
	for (i = 0; i < n; i += 4) {
		uint32_t w;

		memcpy(&w, p->addr.ip + i, 4);
		h = stls__hmix(h, w);
	}
	return h;
}

static bool group_eq(const void *val, const void *key)
{
	const struct stls_profile_conf *a = ((const struct dgroup *)val)->key;
	const struct stls_profile_conf *b = key;

	return a->role == b->role && a->kind == b->kind &&
	       (a->kind != STLS_PROF_ADDR || stls_addr_eq(&a->addr, &b->addr));
}

static bool name_eq(const void *val, const void *key)
{
	const char *a = ((const struct seen *)val)->p->server_name;
	const char *b = key;
	size_t n = strlen(b);

	return strlen(a) == n && stls__fold_eq(a, b, n);
}

static void report_dup(const struct stls_profile_conf *a,
		       const struct stls_profile_conf *b,
		       struct stls_diag *diag)
{
	char h[STLS_ADDR_STRLEN + 32], sn[600] = "", at[300];

	if (has_name(a) && has_name(b)) {
		snprintf(sn, sizeof(sn), " with server_name '%s'",
			 b->server_name);
	}
	stls_diag_err(diag, b->loc.file, b->loc.line,
		      "duplicate profile %s%s (first defined at %s)",
		      stls_profile_conf_header(b, h, sizeof(h)), sn,
		      stls_loc_format(&a->loc, at, sizeof(at)));
}

static struct dgroup *group_of(struct dups *d,
			       const struct stls_profile_conf *p)
{
	uint64_t h = group_hash(p);
	struct dgroup *g = stls__hmap_get(&d->groups, h, group_eq, p);

	if (g) {
		return g;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		return NULL;
	}
	g->key = p;
	stls__hmap_init(&g->names);
	g->next = d->all;
	d->all = g;
	return stls__hmap_add(&d->groups, h, g) == 0 ? g : NULL;
}

/* The first earlier profile that <p> duplicates, or NULL. */
static const struct stls_profile_conf *
first_dup(const struct dgroup *g, const struct stls_profile_conf *p,
	  const struct seen *same)
{
	const struct seen *n = g->nameless.p ? &g->nameless : NULL;

	if (!g->first.p) {
		return NULL;
	}
	if (p->kind == STLS_PROF_DEFAULT || !has_name(p)) {
		return g->first.p;
	}
	if (n && same) {
		return n->pos < same->pos ? n->p : same->p;
	}
	return n ? n->p : same ? same->p : NULL;
}

/* Checks profile <p> (number <pos>) and records it. -ENOMEM or 0. */
static int check_one(struct dups *d, const struct stls_profile_conf *p,
		     size_t pos, struct stls_diag *diag, int *errors)
{
	struct dgroup *g = group_of(d, p);
	const struct stls_profile_conf *a;
	struct seen *same = NULL;
	uint64_t h = 0;
	char hd[STLS_ADDR_STRLEN + 32];

	if (!g) {
		return -ENOMEM;
	}
	if (has_name(p)) {
		h = stls__hname(0, p->server_name, strlen(p->server_name));
		same = stls__hmap_get(&g->names, h, name_eq, p->server_name);
	}
	if (p->kind == STLS_PROF_ANY && !has_name(p)) {
		stls_diag_err(diag, p->loc.file, p->loc.line,
			      "profile %s has no server_name (an 'any' "
			      "profile is matched by SNI only)",
			      stls_profile_conf_header(p, hd, sizeof(hd)));
		(*errors)++;
	} else if ((a = first_dup(g, p, same)) != NULL) {
		report_dup(a, p, diag);
		(*errors)++;
	}
	if (!g->first.p) {
		g->first = (struct seen){ p, pos };
	}
	if (!has_name(p) && !g->nameless.p) {
		g->nameless = (struct seen){ p, pos };
	}
	if (has_name(p) && !same) {
		same = &d->seen[d->nseen++];
		*same = (struct seen){ p, pos };
		return stls__hmap_add(&g->names, h, same);
	}
	return 0;
}

int stls__profiles_check_dups(const struct stls_profile_conf *list,
			      struct stls_diag *diag)
{
	const struct stls_profile_conf *p;
	struct dups d = { .all = NULL };
	struct dgroup *g;
	size_t n = 0, pos = 0;
	int errors = 0, err = 0;

	for (p = list; p; p = p->next) {
		n++;
	}
	stls__hmap_init(&d.groups);
	d.seen = calloc(n ? n : 1, sizeof(*d.seen));
	err = d.seen ? 0 : -ENOMEM;
	for (p = list; p && !err; p = p->next) {
		err = check_one(&d, p, pos++, diag, &errors);
	}
	while ((g = d.all) != NULL) {
		d.all = g->next;
		stls__hmap_fini(&g->names);
		free(g);
	}
	stls__hmap_fini(&d.groups);
	free(d.seen);
	if (err) {
		stls_diag_err(diag, NULL, 0, "duplicate check: out of memory");
		errors++;
	}
	return errors;
}
