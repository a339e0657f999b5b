/*
 * Tests for lib/conf/profile_dups.c: duplicate profiles found in one pass.
 * The written cases are in test_profile_conf.c and test_load.c; here,
 * random lists are compared with the pairwise rule of docs/config.md
 * (every profile against every earlier one), message by message, and
 * 10,000-profile lists are checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "lib/conf/conf_test_util.h"

/* A list made by hand, in order. */
struct plist {
	struct stls_profile_conf *head, **tail;
	struct stls__names *names;
	const char *file;
};

static void pl_init(struct plist *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->names = stls__names_new();
	CHECK_NOT_NULL(l->names);
	l->file = stls__names_add(l->names, "tls.cfg");
	CHECK_NOT_NULL(l->file);
}

static struct stls_profile_conf *pl_add(struct plist *l, enum stls_role role,
					const char *dom, const char *name,
					int line)
{
	struct stls_profile_conf *p = stls__profile_new(role, l->names);

	CHECK_NOT_NULL(p);
	if (strcmp(dom, "any") == 0) {
		p->kind = STLS_PROF_ANY;
	} else if (strcmp(dom, "default") != 0) {
		p->kind = STLS_PROF_ADDR;
		CHECK_OK(stls_addr_parse(dom, true, &p->addr));
	}
	if (name) {
		p->server_name = strdup(name);
		CHECK_NOT_NULL(p->server_name);
	}
	p->loc.file = l->file;
	p->loc.line = line;
	*l->tail = p;
	l->tail = &p->next;
	return p;
}

static void pl_fini(struct plist *l)
{
	stls_profile_conf_list_free(l->head);
	stls__names_unref(l->names);
}

/* The rule of docs/config.md, pairwise: b duplicates an earlier a. */
static bool ref_is_dup(const struct stls_profile_conf *a,
		       const struct stls_profile_conf *b)
{
	bool na = a->server_name && *a->server_name;
	bool nb = b->server_name && *b->server_name;

	if (a->role != b->role || a->kind != b->kind) {
		return false;
	}
	if (a->kind == STLS_PROF_DEFAULT) {
		return true;
	}
	if (a->kind == STLS_PROF_ADDR && !stls_addr_eq(&a->addr, &b->addr)) {
		return false;
	}
	return !na || !nb || strcasecmp(a->server_name, b->server_name) == 0;
}

/* The messages the pairwise rule gives, in order, one per line. */
static void ref_messages(const struct stls_profile_conf *list, char *out,
			 size_t len)
{
	const struct stls_profile_conf *a, *b;
	char h[80];
	size_t n = 0;

	out[0] = '\0';
	for (b = list; b; b = b->next) {
		bool nb = b->server_name && *b->server_name;

		stls_profile_conf_header(b, h, sizeof(h));
		if (b->kind == STLS_PROF_ANY && !nb) {
			n += (size_t)snprintf(out + n, len - n,
					      "tls.cfg:%d: profile %s has no "
					      "server_name (an 'any' profile "
					      "is matched by SNI only)\n",
					      b->loc.line, h);
			continue;
		}
		for (a = list; a != b && !ref_is_dup(a, b); a = a->next) {
		}
		if (a == b) {
			continue;
		}
		n += (size_t)snprintf(out + n, len - n,
				      "tls.cfg:%d: duplicate profile %s",
				      b->loc.line, h);
		if (nb && a->server_name && *a->server_name) {
			n += (size_t)snprintf(out + n, len - n,
					      " with server_name '%s'",
					      b->server_name);
		}
		n += (size_t)snprintf(out + n, len - n,
				      " (first defined at tls.cfg:%d)\n",
				      a->loc.line);
	}
}

static void got_messages(const struct stls_diag *d, char *out, size_t len)
{
	char buf[1024];
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < d->n; i++) {
		n += (size_t)snprintf(out + n, len - n, "%s\n",
				      stls_diag_format(&d->v[i], buf,
						       sizeof(buf)));
	}
}

static const char *const doms[] = { "default", "any", "10.0.0.1:5061",
				    "10.0.0.1:5062", "[::1]:5061",
				    "10.0.0.2:0" };
static const char *const names[] = { "a.example", "A.EXAMPLE", "b.example",
				     "", NULL };

TEST(random_lists_match_the_pairwise_rule)
{
	static char want[65536], got[65536];
	unsigned seed = 5;
	int round, i, n;

	for (round = 0; round < 300; round++) {
		struct stls_diag d;
		struct plist l;
		int errors;

		pl_init(&l);
		stls_diag_init(&d);
		n = rand_r(&seed) % 16;
		for (i = 0; i < n; i++) {
			pl_add(&l, rand_r(&seed) % 2 ? STLS_ROLE_SERVER
						     : STLS_ROLE_CLIENT,
			       doms[rand_r(&seed) % 6],
			       names[rand_r(&seed) % 5], i + 1);
		}
		errors = stls__profiles_check_dups(l.head, &d);
		ref_messages(l.head, want, sizeof(want));
		got_messages(&d, got, sizeof(got));
		CHECK_STR_EQ(got, want);
		CHECK_EQ(errors, (long long)d.errors);
		stls_diag_fini(&d);
		pl_fini(&l);
	}
}

/* 10,000 tenants: no error; then every 100th repeats an earlier name
 * (another case) and every 1000th is a second default. */
TEST(ten_thousand_profiles)
{
	struct stls_diag d;
	struct plist l;
	char name[64], want[160];
	int i;

	pl_init(&l);
	stls_diag_init(&d);
	pl_add(&l, STLS_ROLE_SERVER, "default", NULL, 1);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "t%d.tenants.test", i);
		pl_add(&l, STLS_ROLE_SERVER, i % 2 ? "any" : "10.0.0.1:5061",
		       name, i + 2);
	}
	CHECK_EQ(stls__profiles_check_dups(l.head, &d), 0);
	for (i = 0; i < 10000; i += 100) {
		snprintf(name, sizeof(name), "T%d.Tenants.TEST", i + 1);
		pl_add(&l, STLS_ROLE_SERVER, "any", name, 20000 + i);
		if (i % 1000 == 0) {
			pl_add(&l, STLS_ROLE_SERVER, "default", NULL,
			       30000 + i);
		}
	}
	CHECK_EQ(stls__profiles_check_dups(l.head, &d), 110);
	CHECK(diag_has(&d, "tls.cfg:20100: duplicate profile [server:any] "
		       "with server_name 'T101.Tenants.TEST' (first defined "
		       "at tls.cfg:103)"));
	snprintf(want, sizeof(want), "tls.cfg:39000: duplicate profile "
		 "[server:default] (first defined at tls.cfg:1)");
	CHECK(diag_has(&d, want));
	stls_diag_fini(&d);
	pl_fini(&l);
}
