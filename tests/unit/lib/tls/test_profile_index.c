/*
 * Tests for lib/tls/profile_index.c: the lookups by name and address.
 *
 * The index only reads the profiles' configurations, so these tests build
 * sets by hand (no certificates, no SSL_CTX) and can go to 10,000
 * profiles quickly. The rules are checked two ways: cases written out,
 * and random sets where every lookup is compared with a plain scan that
 * applies the documented ranking to every profile (docs/profiles.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "test.h"
#include "tls/profile_int.h"

#define IX_MAX 12000

/* A set made by hand: profiles, their names, and the index. */
struct ix {
	struct stls_profile_set set;
	struct stls_profile *v;
	char (*names)[64];
	char (*ids)[32];
	size_t n;
};

static void ix_init(struct ix *x, size_t cap)
{
	memset(x, 0, sizeof(*x));
	x->v = calloc(cap, sizeof(*x->v));
	x->names = calloc(cap, sizeof(*x->names));
	x->ids = calloc(cap, sizeof(*x->ids));
	CHECK(x->v && x->names && x->ids);
}

/*
 * Adds a profile: dom "default", "any" or "IP:port"; name NULL for none;
 * the line is its position + 1 (for readable checks).
 */
static struct stls_profile_conf *ix_add(struct ix *x, enum stls_role role,
					const char *dom, const char *name,
					int mode)
{
	struct stls_profile_conf *c = &x->v[x->n].conf;

	c->role = role;
	if (strcmp(dom, "default") == 0) {
		c->kind = STLS_PROF_DEFAULT;
		x->set.defaults[role] = &x->v[x->n];
	} else if (strcmp(dom, "any") == 0) {
		c->kind = STLS_PROF_ANY;
	} else {
		c->kind = STLS_PROF_ADDR;
		CHECK_OK(stls_addr_parse(dom, true, &c->addr));
	}
	if (name) {
		snprintf(x->names[x->n], sizeof(x->names[0]), "%s", name);
		c->server_name = x->names[x->n];
	}
	c->server_name_mode = mode;
	c->loc.line = (int)++x->n;
	return c;
}

static void ix_build(struct ix *x)
{
	x->set.v = x->v;
	x->set.n = x->n;
	CHECK_NOT_NULL(x->set.defaults[0]);
	CHECK_NOT_NULL(x->set.defaults[1]);
	CHECK_OK(stls__pindex_build(x->v, x->n, &x->set.index));
}

static void ix_fini(struct ix *x)
{
	stls__pindex_free(x->set.index);
	free(x->v);
	free(x->names);
	free(x->ids);
}

static struct stls_addr A(const char *s)
{
	struct stls_addr a;

	CHECK_OK(stls_addr_parse(s, true, &a));
	return a;
}

/* The line of the server profile chosen. */
static int srv(struct ix *x, const char *local, const char *sni)
{
	struct stls_addr a;

	if (local) {
		a = A(local);
	}
	return stls_profile_set_match_server(&x->set, local ? &a : NULL, sni)
		->conf.loc.line;
}

static int cli(struct ix *x, const char *dst, const char *name,
	       const char *id)
{
	struct stls_addr a;

	if (dst) {
		a = A(dst);
	}
	return stls_profile_set_match_client(&x->set, dst ? &a : NULL, name,
					     id)
		->conf.loc.line;
}

/* ---- the documented ranking, as a plain scan over every profile ---- */

enum { NO, NAMED, ANY, SUFFIX, WILD, EXACT };

static int ref_fit(const struct stls_profile_conf *c, const char *name)
{
	const char *sn = c->server_name, *dot;
	size_t n, k;

	if (!sn || !*sn) {
		return ANY;
	}
	if (!name || !*name) {
		return NAMED;
	}
	if (c->role == STLS_ROLE_SERVER && sn[0] == '*' && sn[1] == '.' &&
	    sn[2]) {
		dot = strchr(name, '.');
		return dot && dot > name && strcasecmp(dot + 1, sn + 2) == 0
			       ? WILD
			       : NO;
	}
	if (c->server_name_mode != 2 && strcasecmp(name, sn) == 0) {
		return EXACT;
	}
	n = strlen(name);
	k = strlen(sn);
	if ((c->server_name_mode == 1 || c->server_name_mode == 2) && n > k &&
	    name[n - k - 1] == '.' && strcasecmp(name + n - k, sn) == 0) {
		return SUFFIX;
	}
	return NO;
}

static unsigned long long ref_rank(const struct stls_profile_conf *c,
				   const struct stls_addr *a, const char *name)
{
	unsigned long long len = 0;
	int fit;

	if (c->kind == STLS_PROF_DEFAULT) {
		return 0;
	}
	if (c->kind == STLS_PROF_ADDR &&
	    !(a && stls_addr_ip_eq(&c->addr, a) &&
	      (c->addr.port == 0 || c->addr.port == a->port))) {
		return 0;
	}
	fit = ref_fit(c, name);
	if (fit == NO || (c->kind == STLS_PROF_ANY && fit < SUFFIX)) {
		return 0;
	}
	if (fit == SUFFIX) {
		len = strlen(c->server_name);
	}
	return (unsigned long long)fit << 40 |
	       (unsigned long long)(c->kind == STLS_PROF_ADDR) << 32 |
	       len << 8 | (c->kind == STLS_PROF_ADDR && c->addr.port != 0);
}

static int ref_best(const struct ix *x, enum stls_role role, unsigned kinds,
		    const struct stls_addr *a, const char *name)
{
	unsigned long long top = 0, r;
	int found = 0;
	size_t i;

	for (i = 0; i < x->n; i++) {
		const struct stls_profile_conf *c = &x->v[i].conf;

		if (c->role != role || !(kinds & (1u << c->kind))) {
			continue;
		}
		r = ref_rank(c, a, name);
		if (r != 0 && r >= top) {
			top = r;
			found = c->loc.line;
		}
	}
	return found;
}

static int ref_srv(const struct ix *x, const struct stls_addr *a,
		   const char *sni)
{
	int l = ref_best(x, STLS_ROLE_SERVER,
			 1u << STLS_PROF_ADDR | 1u << STLS_PROF_ANY, a, sni);

	return l ? l : x->set.defaults[STLS_ROLE_SERVER]->conf.loc.line;
}

static int ref_cli(const struct ix *x, const struct stls_addr *a,
		   const char *name, const char *id)
{
	int l = 0;
	size_t i;

	for (i = 0; id && *id && i < x->n; i++) {
		const struct stls_profile_conf *c = &x->v[i].conf;

		if (c->role == STLS_ROLE_CLIENT && c->server_id &&
		    *c->server_id && strcasecmp(c->server_id, id) == 0) {
			l = c->loc.line;
		}
	}
	if (!l) {
		l = ref_best(x, STLS_ROLE_CLIENT, 1u << STLS_PROF_ADDR, a,
			     name);
	}
	if (!l && name && *name) {
		l = ref_best(x, STLS_ROLE_CLIENT, 1u << STLS_PROF_ANY, a,
			     name);
	}
	return l ? l : x->set.defaults[STLS_ROLE_CLIENT]->conf.loc.line;
}

/* ---- cases written out ---- */

static void server_set(struct ix *x)
{
	ix_init(x, 32);
	ix_add(x, STLS_ROLE_SERVER, "default", NULL, 0);           /* 1 */
	ix_add(x, STLS_ROLE_SERVER, "any", "example.com", 1);      /* 2 */
	ix_add(x, STLS_ROLE_SERVER, "any", "*.example.com", 0);    /* 3 */
	ix_add(x, STLS_ROLE_SERVER, "any", "a.example.com", 0);    /* 4 */
	ix_add(x, STLS_ROLE_SERVER, "any", "sub.example.com", 2);  /* 5 */
	ix_add(x, STLS_ROLE_SERVER, "any", "*.sub.example.com", 0); /* 6 */
	ix_add(x, STLS_ROLE_SERVER, "any", "Only.Example.NET", 0); /* 7 */
	ix_add(x, STLS_ROLE_SERVER, "10.0.0.1:5061", NULL, 0);     /* 8 */
	ix_add(x, STLS_ROLE_SERVER, "10.0.0.1:5061", "*.example.org",
	       0);                                                  /* 9 */
	ix_add(x, STLS_ROLE_SERVER, "10.0.0.1:0", "b.example.com", 0); /* 10 */
	ix_add(x, STLS_ROLE_CLIENT, "default", NULL, 0);           /* 11 */
	ix_build(x);
}

TEST(exact_beats_wildcard_beats_suffix)
{
	struct ix x;

	server_set(&x);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "a.example.com"), 4);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "A.EXAMPLE.com"), 4);
	/* One label in front of example.com: the wildcard. */
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "z.example.com"), 3);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "Z.Example.Com"), 3);
	/* Two labels: not the wildcard; example.com's subdomains (mode 1). */
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "y.z.example.com"), 2);
	/* The wildcard's base itself is not covered by it. */
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "example.com"), 2);
	/* An empty first label is no label. */
	CHECK_EQ(srv(&x, "10.9.9.9:5061", ".example.com"), 2);
	/* Mode 2 excludes the name itself: the wildcard takes it. */
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "sub.example.com"), 3);
	/* Deeper: the nearer wildcard, then the longer suffix. */
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "q.sub.example.com"), 6);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "p.q.sub.example.com"), 5);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "only.example.net"), 7);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "x.only.example.net"), 1);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "other.org"), 1);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", NULL), 1);
	CHECK_EQ(srv(&x, NULL, "z.example.com"), 3);
	ix_fini(&x);
}

TEST(address_profiles_and_wildcards)
{
	struct ix x;

	server_set(&x);
	/* No name: the nameless address profile; port 0 for other ports. */
	CHECK_EQ(srv(&x, "10.0.0.1:5061", NULL), 8);
	CHECK_EQ(srv(&x, "10.0.0.1:5062", NULL), 10);
	/* A wildcard on the address beats the nameless profile. */
	CHECK_EQ(srv(&x, "10.0.0.1:5061", "w.example.org"), 9);
	CHECK_EQ(srv(&x, "10.0.0.1:5061", "v.w.example.org"), 8);
	/* An address profile's exact name beats an any wildcard. */
	CHECK_EQ(srv(&x, "10.0.0.1:5061", "b.example.com"), 10);
	CHECK_EQ(srv(&x, "10.0.0.1:5062", "b.example.com"), 10);
	/* An any wildcard beats the nameless address profile. */
	CHECK_EQ(srv(&x, "10.0.0.1:5061", "c.example.com"), 3);
	CHECK_EQ(srv(&x, "10.0.0.2:5061", "w.example.org"), 1);
	ix_fini(&x);
}

/* Mode 0: the name; 1: the name and every subdomain; 2: subdomains. */
TEST(server_name_modes)
{
	struct ix x;

	ix_init(&x, 8);
	ix_add(&x, STLS_ROLE_SERVER, "default", NULL, 0);  /* 1 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "m0.test", 0); /* 2 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "m1.test", 1); /* 3 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "m2.test", 2); /* 4 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "m5.test", 5); /* 5: as 0 */
	ix_add(&x, STLS_ROLE_CLIENT, "default", NULL, 0);  /* 6 */
	ix_build(&x);
	CHECK_EQ(srv(&x, NULL, "m0.test"), 2);
	CHECK_EQ(srv(&x, NULL, "a.m0.test"), 1);
	CHECK_EQ(srv(&x, NULL, "m1.test"), 3);
	CHECK_EQ(srv(&x, NULL, "a.b.m1.test"), 3);
	CHECK_EQ(srv(&x, NULL, "m2.test"), 1);
	CHECK_EQ(srv(&x, NULL, "a.m2.test"), 4);
	CHECK_EQ(srv(&x, NULL, "xm2.test"), 1);
	CHECK_EQ(srv(&x, NULL, "m5.test"), 5);
	CHECK_EQ(srv(&x, NULL, "a.m5.test"), 1);
	ix_fini(&x);
}

/* On a complete tie the profile defined later wins. */
TEST(later_definition_wins_ties)
{
	struct ix x;

	ix_init(&x, 8);
	ix_add(&x, STLS_ROLE_SERVER, "default", NULL, 0);          /* 1 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "t.example", 1);       /* 2 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "T.EXAMPLE", 0);       /* 3 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "*.w.example", 0);     /* 4 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "*.W.example", 0);     /* 5 */
	ix_add(&x, STLS_ROLE_SERVER, "10.0.0.1:5061", NULL, 0);    /* 6 */
	ix_add(&x, STLS_ROLE_SERVER, "10.0.0.1:5061", NULL, 0);    /* 7 */
	ix_add(&x, STLS_ROLE_CLIENT, "default", NULL, 0);          /* 8 */
	ix_build(&x);
	CHECK_EQ(srv(&x, NULL, "t.example"), 3);
	CHECK_EQ(srv(&x, NULL, "a.t.example"), 2);
	CHECK_EQ(srv(&x, NULL, "a.w.example"), 5);
	CHECK_EQ(srv(&x, "10.0.0.1:5061", NULL), 7);
	ix_fini(&x);
}

/* Client profiles: server_id first, names are literal (no wildcard). */
TEST(client_server_id_and_literal_names)
{
	struct stls_profile_conf *c;
	struct ix x;

	ix_init(&x, 8);
	ix_add(&x, STLS_ROLE_CLIENT, "default", NULL, 0);               /* 1 */
	c = ix_add(&x, STLS_ROLE_CLIENT, "10.1.1.1:5061", NULL, 0);     /* 2 */
	c->server_id = "pbx";
	c = ix_add(&x, STLS_ROLE_CLIENT, "any", "*.carrier.test", 0);   /* 3 */
	c = ix_add(&x, STLS_ROLE_CLIENT, "any", "carrier.test", 1);     /* 4 */
	c->server_id = "PBX";
	ix_add(&x, STLS_ROLE_SERVER, "default", NULL, 0);               /* 5 */
	ix_build(&x);
	CHECK_EQ(cli(&x, "10.9.9.9:5061", NULL, "pbx"), 4);
	CHECK_EQ(cli(&x, NULL, NULL, "Pbx"), 4);
	CHECK_EQ(cli(&x, "10.1.1.1:5061", NULL, "other"), 2);
	CHECK_EQ(cli(&x, "10.9.9.9:5061", "sip.carrier.test", NULL), 4);
	CHECK_EQ(cli(&x, "10.9.9.9:5061", "*.carrier.test", NULL), 3);
	CHECK_EQ(cli(&x, "10.9.9.9:5061", NULL, NULL), 1);
	/* Destination profiles come before any profiles. */
	CHECK_EQ(cli(&x, "10.1.1.1:5061", "sip.carrier.test", NULL), 2);
	ix_fini(&x);
}

/* ---- random sets against the scan ---- */

static const char *const words[] = { "a",  "b",   "ex", "example",
				     "B",  "EX",  "c",  "" };
static const char *const addrs[] = {
	"10.0.0.1:5061",      "10.0.0.1:0",	 "10.0.0.2:5061",
	"[2001:db8::1]:5061", "[2001:db8::1]:0", "[::ffff:10.0.0.1]:5061"
};

/* A random name of 1 to 4 labels from a small vocabulary (so that names
 * collide, nest and differ by case), sometimes with an empty label or a
 * trailing dot. */
static void rnd_name(char *buf, size_t len, unsigned *seed)
{
	int labels = 1 + rand_r(seed) % 4, i;
	size_t n = 0;

	buf[0] = '\0';
	for (i = 0; i < labels && n < len; i++) {
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "." : "",
				      words[rand_r(seed) % 8]);
	}
	if (rand_r(seed) % 16 == 0 && n + 1 < len) {
		buf[n] = '.';
		buf[n + 1] = '\0';
	}
}

static void rnd_profile(struct ix *x, unsigned *seed)
{
	enum stls_role role = rand_r(seed) % 3 ? STLS_ROLE_SERVER
					       : STLS_ROLE_CLIENT;
	char name[64];
	struct stls_profile_conf *c;
	int r = rand_r(seed) % 4;

	rnd_name(name, sizeof(name), seed);
	if (rand_r(seed) % 4 == 0) {
		memmove(name + 2, name, strlen(name) + 1);
		memcpy(name, "*.", 2);
	}
	c = ix_add(x, role, r == 0 ? "any" : addrs[rand_r(seed) % 6],
		   r == 0 || rand_r(seed) % 3 ? name : NULL,
		   rand_r(seed) % 4);
	if (role == STLS_ROLE_CLIENT && rand_r(seed) % 4 == 0) {
		snprintf(x->ids[x->n - 1], sizeof(x->ids[0]), "%s",
			 words[rand_r(seed) % 6]);
		c->server_id = x->ids[x->n - 1];
	}
}

TEST(random_sets_match_the_scan)
{
	unsigned seed = 19;
	char name[64];
	int round, i, k;

	for (round = 0; round < 60; round++) {
		struct ix x;
		int n = 1 + rand_r(&seed) % 40;

		ix_init(&x, (size_t)n + 2);
		ix_add(&x, STLS_ROLE_SERVER, "default", NULL, 0);
		for (i = 0; i < n; i++) {
			rnd_profile(&x, &seed);
		}
		ix_add(&x, STLS_ROLE_CLIENT, "default", NULL, 0);
		ix_build(&x);
		for (k = 0; k < 400; k++) {
			struct stls_addr a = A(addrs[rand_r(&seed) % 6]);
			const char *nm = name, *id = NULL;

			switch (rand_r(&seed) % 4) {
			case 0:
				a.port = 0;
				break;
			case 1:
				a.port = 7;
				break;
			}
			rnd_name(name, sizeof(name), &seed);
			nm = rand_r(&seed) % 8 ? name : NULL;
			CHECK_EQ(stls_profile_set_match_server(&x.set, &a, nm)
					 ->conf.loc.line,
				 ref_srv(&x, &a, nm));
			if (rand_r(&seed) % 4 == 0) {
				id = words[rand_r(&seed) % 6];
			}
			CHECK_EQ(stls_profile_set_match_client(&x.set, &a, nm,
							       id)
					 ->conf.loc.line,
				 ref_cli(&x, &a, nm, id));
		}
		ix_fini(&x);
	}
}

/* 10,000 tenants on `any` and on one address: every name finds its own
 * profile, and the lookups agree with the scan. */
TEST(ten_thousand_tenants)
{
	char name[64];
	struct ix x;
	int i;

	ix_init(&x, IX_MAX);
	ix_add(&x, STLS_ROLE_SERVER, "default", NULL, 0);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), i % 10 == 9 ? "*.w%d.tenants.test"
							 : "t%d.tenants.test",
			 i);
		ix_add(&x, STLS_ROLE_SERVER, i % 2 ? "any" : "10.0.0.1:5061",
		       name, i % 3 == 1 ? 1 : 0);
	}
	ix_add(&x, STLS_ROLE_CLIENT, "default", NULL, 0);
	ix_build(&x);
	for (i = 0; i < 10000; i++) {
		int want = i + 2;
		struct stls_addr a = A(i % 4 ? "10.0.0.1:5061"
					     : "10.0.0.9:5061");

		if (i % 10 == 9) {
			snprintf(name, sizeof(name), "L.w%d.tenants.test", i);
		} else {
			snprintf(name, sizeof(name), "T%d.tenants.TEST", i);
		}
		if (i % 2 == 0 && i % 4 == 0) {
			want = 1; /* an address profile, another address */
		}
		CHECK_EQ(stls_profile_set_match_server(&x.set, &a, name)
				 ->conf.loc.line,
			 want);
		CHECK_EQ(want, ref_srv(&x, &a, name));
	}
	CHECK_EQ(srv(&x, "10.0.0.9:5061", "x.t1.tenants.test"), 3);
	CHECK_EQ(srv(&x, "10.0.0.9:5061", "t1.tenants.test.evil"), 1);
	CHECK_EQ(srv(&x, "10.0.0.9:5061", "tenants.test"), 1);
	ix_fini(&x);
}

/* The example of docs/profiles.md, "Server matching", with the wildcard
 * profile the text adds at line 7. */
TEST(docs_example_with_wildcard)
{
	struct ix x;

	ix_init(&x, 8);
	ix_add(&x, STLS_ROLE_SERVER, "default", NULL, 0);              /* 1 */
	ix_add(&x, STLS_ROLE_SERVER, "10.0.0.1:5061", NULL, 0);        /* 2 */
	ix_add(&x, STLS_ROLE_SERVER, "10.0.0.1:5061", "a.example.com",
	       0);                                                      /* 3 */
	ix_add(&x, STLS_ROLE_SERVER, "10.0.0.1:0", NULL, 0);           /* 4 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "example.com", 1);         /* 5 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "sub.example.com", 2);     /* 6 */
	ix_add(&x, STLS_ROLE_SERVER, "any", "*.example.com", 0);       /* 7 */
	ix_add(&x, STLS_ROLE_CLIENT, "default", NULL, 0);              /* 8 */
	ix_build(&x);
	CHECK_EQ(srv(&x, "10.0.0.1:5061", NULL), 2);
	CHECK_EQ(srv(&x, "10.0.0.1:5061", "a.example.com"), 3);
	CHECK_EQ(srv(&x, "10.0.0.1:5061", "zzz.org"), 2);
	CHECK_EQ(srv(&x, "10.0.0.1:5061", "b.example.com"), 7);
	CHECK_EQ(srv(&x, "10.0.0.1:5062", NULL), 4);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", NULL), 1);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "example.com"), 5);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "sub.example.com"), 7);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "a.sub.example.com"), 6);
	CHECK_EQ(srv(&x, "10.9.9.9:5061", "other.org"), 1);
	ix_fini(&x);
}
