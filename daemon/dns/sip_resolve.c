/*
 * RFC 3263 resolution of a next hop (see sip_resolve.h).
 *
 * One struct stls_sip_resolve walks the steps: NAPTR (optional), SRV
 * candidates one after the other (optional), then the A and AAAA
 * lookups of every host found, all at once. Each step asks the worker's
 * resolver; an answer from the cache comes back inside the call, and
 * the walk goes on at once, so a resolution whose records are all
 * cached finishes inside stls_sip_resolve() without a loop turn.
 * Otherwise the callbacks continue it, and the last one reports.
 */
#include "dns/sip_resolve.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDS 4 /* SRV names to try: usable NAPTRs, or the defaults */
#define MAX_HOSTS 8 /* SRV targets whose addresses are looked up */
#define MAX_IPS 8   /* addresses kept per host and family */

/* An SRV name to look up, with the transport it stands for. */
struct cand {
	char srv[STLS_DNS_NAME_MAX + 1];
	bool tls;
};

struct host;

/* The A or AAAA lookup of one host. */
struct fam {
	struct stls_sip_resolve *r;
	struct host *h;
	bool v6;
	bool done;
	struct stls_dns_lookup *l;
	int err;
	enum stls_dns_status st;
	size_t n;
	uint8_t ip[MAX_IPS][16];
};

struct host {
	char name[STLS_DNS_NAME_MAX + 1];
	uint16_t port;
	bool tls;
	struct fam fam[2]; /* A, AAAA */
};

/* The scalars come first: only they are zeroed for a new resolution
 * (the arrays after <host> are filled as they are used; zeroing them all
 * was half the cost of a resolution from the cache). */
struct stls_sip_resolve {
	struct stls_dns *dns;
	stls_dns_rand_fn *rnd;
	void *rnd_arg;
	stls_sip_resolved_fn *fn;
	void *arg;
	struct stls_sip_dns_req req;
	size_t n_cands, cand;
	size_t n_hosts;
	struct stls_dns_lookup *l; /* NAPTR or SRV lookup waiting */
	unsigned waiting;          /* address lookups waiting */
	bool no_service;           /* an SRV set said "." */
	bool sync;                 /* inside stls_sip_resolve() */
	bool done;                 /* finished while sync */
	int err;
	char host[STLS_DNS_NAME_MAX + 1];
	struct cand cands[MAX_CANDS];
	struct host hosts[MAX_HOSTS];
	struct stls_sip_targets t;
	char why[STLS_SIP_WHY_MAX];
};

/* Copies the name <src> (at most STLS_DNS_NAME_MAX bytes) to <dst>. */
static void copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, STLS_DNS_NAME_MAX);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Tells the owner of a resolution that waited, and frees it. Out of
 * line: stls_sip_resolve() never reaches it (it runs with r->sync). */
__attribute__((noinline)) static void report(struct stls_sip_resolve *r)
{
	r->fn(r->arg, r->err, r->err ? NULL : &r->t, r->why);
	free(r);
}

/* Ends the resolution; an error's reason is "<what> <name>". */
static void finish(struct stls_sip_resolve *r, int err, const char *what,
		   const char *name)
{
	if (err)
		snprintf(r->why, sizeof(r->why), "%.40s %.150s", what, name);
	r->err = err;
	if (r->sync)
		r->done = true;
	else
		report(r);
}

/* A DNS failure of <type> for <name> ends the resolution. */
static void dns_failed(struct stls_sip_resolve *r, int err, uint16_t type,
		       const char *name)
{
	char what[64];

	snprintf(what, sizeof(what), "%s for %s",
		 err == -ETIMEDOUT ? "DNS timeout" : "DNS failure",
		 stls_dns_type_name(type));
	finish(r, err, what, name);
}

/* The transport of a target found without NAPTR and SRV. */
static bool default_tls(const struct stls_sip_dns_req *q)
{
	if (q->transport == STLS_SIP_DNS_TP_TLS || q->sips)
		return true;
	if (q->transport == STLS_SIP_DNS_TP_TCP)
		return false;
	return !q->tcp_ok;
}

static void add_host(struct stls_sip_resolve *r, const char *name,
		     uint16_t port, bool tls)
{
	struct host *h;

	if (r->n_hosts >= MAX_HOSTS)
		return;
	h = &r->hosts[r->n_hosts++];
	memset(h->fam, 0, sizeof(h->fam));
	copy_name(h->name, name);
	h->port = port;
	h->tls = tls;
}

/* Every host's addresses are in: the list, in host order, A first. */
static void assemble(struct stls_sip_resolve *r)
{
	bool timeout = false, failed = false, nx = true;
	size_t i, k, j;

	for (i = 0; i < r->n_hosts; i++) {
		for (k = 0; k < 2; k++) {
			const struct fam *f = &r->hosts[i].fam[k];

			timeout |= f->err == -ETIMEDOUT;
			failed |= f->err != 0;
			nx &= !f->err && f->st == STLS_DNS_NXDOMAIN;
			for (j = 0; j < f->n && r->t.n < STLS_SIP_TARGETS_MAX;
			     j++) {
				struct stls_sip_target *t = &r->t.t[r->t.n++];

				memset(t, 0, sizeof(*t));
				t->addr.family = f->v6 ? AF_INET6 : AF_INET;
				memcpy(t->addr.ip, f->ip[j], f->v6 ? 16 : 4);
				t->addr.port = r->hosts[i].port;
				t->tls = r->hosts[i].tls;
			}
		}
	}
	if (r->t.n)
		finish(r, 0, NULL, NULL);
	else if (timeout)
		finish(r, -ETIMEDOUT, "DNS timeout for A/AAAA",
		       r->hosts[0].name);
	else if (nx && r->n_hosts == 1)
		finish(r, -ENOENT, "DNS: no such domain",
		       r->hosts[0].name);
	else
		finish(r, failed ? -EIO : -ENODATA, "DNS: no address for",
		       r->hosts[0].name);
}

static void fam_result(struct fam *f, int err,
		       const struct stls_dns_rrset *rs)
{
	size_t i;

	f->done = true;
	f->l = NULL;
	f->err = err;
	if (!err) {
		f->st = rs->status;
		for (i = 0; i < rs->n && i < MAX_IPS; i++)
			memcpy(f->ip[i], rs->rr[i].ip, f->v6 ? 16 : 4);
		f->n = i;
	}
	if (--f->r->waiting == 0)
		assemble(f->r);
}

static void on_addr(void *arg, int err, const struct stls_dns_rrset *rs)
{
	fam_result(arg, err, rs);
}

/* A and AAAA of every host, at once. */
static void start_addrs(struct stls_sip_resolve *r)
{
	const struct stls_dns_rrset *hit;
	size_t i, k;
	int rc;

	r->waiting = 1; /* held until every lookup is asked */
	for (i = 0; i < r->n_hosts; i++) {
		for (k = 0; k < 2; k++) {
			struct fam *f = &r->hosts[i].fam[k];

			f->r = r;
			f->h = &r->hosts[i];
			f->v6 = k == 1;
			r->waiting++;
			rc = stls_dns_lookup(r->dns, f->h->name,
					     f->v6 ? STLS_DNS_T_AAAA
						   : STLS_DNS_T_A,
					     on_addr, f, &hit, &f->l);
			if (rc == 1)
				fam_result(f, 0, hit);
			else if (rc < 0)
				fam_result(f, rc, NULL);
		}
	}
	if (--r->waiting == 0)
		assemble(r);
}

static void next_srv(struct stls_sip_resolve *r);

/* Asks <name> for <type>; <cb> gets the answer, now or later. */
static void ask(struct stls_sip_resolve *r, const char *name, uint16_t type,
	       stls_dns_done_fn *cb)
{
	const struct stls_dns_rrset *hit;
	int rc;

	rc = stls_dns_lookup(r->dns, name, type, cb, r, &hit, &r->l);
	if (rc == 1)
		cb(r, 0, hit);
	else if (rc < 0)
		cb(r, rc, NULL);
}

static void on_srv(void *arg, int err, const struct stls_dns_rrset *rs)
{
	struct stls_sip_resolve *r = arg;
	const struct cand *c = &r->cands[r->cand];
	uint8_t idx[STLS_DNS_RR_MAX];
	size_t n, i;

	r->l = NULL;
	if (err) {
		dns_failed(r, err, STLS_DNS_T_SRV, c->srv);
		return;
	}
	n = rs->status == STLS_DNS_OK
		    ? stls_dns_srv_order(rs, r->rnd, r->rnd_arg, idx)
		    : 0;
	/* Targets "." (RFC 2782: no service here) are skipped. */
	for (i = 0; i < n; i++) {
		if (rs->rr[idx[i]].name[0])
			add_host(r, rs->rr[idx[i]].name, rs->rr[idx[i]].port,
				 c->tls);
		else
			r->no_service = true;
	}
	if (r->n_hosts) {
		start_addrs(r);
		return;
	}
	r->cand++;
	next_srv(r);
}

/* The next SRV candidate, or A/AAAA of the host when none is left. */
static void next_srv(struct stls_sip_resolve *r)
{
	bool tls;

	if (r->cand < r->n_cands) {
		ask(r, r->cands[r->cand].srv, STLS_DNS_T_SRV, on_srv);
		return;
	}
	if (r->no_service) {
		/* RFC 2782: "." says the service is not offered here. */
		finish(r, -ENOENT, "DNS: SRV says no SIP service at",
		       r->host);
		return;
	}
	/* RFC 3263 4.2: no SRV: the host itself, the default port. */
	tls = r->n_cands ? r->cands[0].tls : default_tls(&r->req);
	add_host(r, r->host, tls ? 5061 : 5060, tls);
	start_addrs(r);
}

static void add_cand(struct stls_sip_resolve *r, const char *srv, bool tls)
{
	struct cand *c;

	if (r->n_cands >= MAX_CANDS)
		return;
	c = &r->cands[r->n_cands++];
	copy_name(c->srv, srv);
	c->tls = tls;
}

/* SRV names for the transports we may use, TLS first. */
static void default_cands(struct stls_sip_resolve *r)
{
	const struct stls_sip_dns_req *q = &r->req;
	char name[STLS_DNS_NAME_MAX + 16];

	if (q->tls_ok && q->transport != STLS_SIP_DNS_TP_TCP) {
		snprintf(name, sizeof(name), "_sips._tcp.%s", r->host);
		if (strlen(name) <= STLS_DNS_NAME_MAX)
			add_cand(r, name, true);
	}
	if (q->tcp_ok && !q->sips && q->transport != STLS_SIP_DNS_TP_TLS) {
		snprintf(name, sizeof(name), "_sip._tcp.%s", r->host);
		if (strlen(name) <= STLS_DNS_NAME_MAX)
			add_cand(r, name, false);
	}
}

/* A NAPTR record we can follow: flag "s", a service we may open. */
static int usable_naptr(const struct stls_sip_resolve *r,
			const struct stls_dns_rr *rr)
{
	if (strcmp(rr->flags, "s") != 0 || !rr->name[0])
		return -1;
	if (strcmp(rr->service, "SIPS+D2T") == 0 && r->req.tls_ok)
		return 1;
	if (strcmp(rr->service, "SIP+D2T") == 0 && r->req.tcp_ok &&
	    !r->req.sips)
		return 0;
	return -1;
}

static void on_naptr(void *arg, int err, const struct stls_dns_rrset *rs)
{
	struct stls_sip_resolve *r = arg;
	uint8_t idx[STLS_DNS_RR_MAX];
	size_t n, i;
	int tls;

	r->l = NULL;
	if (err) {
		dns_failed(r, err, STLS_DNS_T_NAPTR, r->host);
		return;
	}
	if (rs->status == STLS_DNS_NXDOMAIN) {
		finish(r, -ENOENT, "DNS: no such domain", r->host);
		return;
	}
	n = rs->status == STLS_DNS_OK ? stls_dns_naptr_order(rs, idx) : 0;
	for (i = 0; i < n; i++) {
		tls = usable_naptr(r, &rs->rr[idx[i]]);
		if (tls >= 0)
			add_cand(r, rs->rr[idx[i]].name, tls == 1);
	}
	if (!r->n_cands)
		default_cands(r);
	next_srv(r);
}

static void run(struct stls_sip_resolve *r)
{
	const struct stls_sip_dns_req *q = &r->req;
	bool tls = default_tls(q);

	if ((tls && !q->tls_ok) || (!tls && !q->tcp_ok && !q->tls_ok)) {
		finish(r, -EPROTONOSUPPORT, "no transport for", r->host);
		return;
	}
	if (q->port) {
		/* RFC 3263 4.2: a port but no numeric host: A/AAAA. */
		add_host(r, r->host, q->port, tls);
		start_addrs(r);
	} else if (q->transport != STLS_SIP_DNS_TP_NONE) {
		default_cands(r);
		next_srv(r);
	} else {
		ask(r, r->host, STLS_DNS_T_NAPTR, on_naptr);
	}
}

/* A numeric host: one target, no DNS. */
static int numeric(const struct stls_sip_dns_req *q,
		   struct stls_sip_targets *now, char *why)
{
	struct stls_sip_target *t = &now->t[0];
	bool tls = default_tls(q);

	if ((tls && !q->tls_ok) || (!tls && !q->tcp_ok)) {
		snprintf(why, STLS_SIP_WHY_MAX, "no transport for %s",
			 q->host);
		return -EPROTONOSUPPORT;
	}
	memset(now, 0, sizeof(*now));
	if (stls_addr_parse_ip(q->host, &t->addr) != 0) {
		snprintf(why, STLS_SIP_WHY_MAX, "bad address %s", q->host);
		return -EINVAL;
	}
	t->addr.port = q->port ? q->port : tls ? 5061 : 5060;
	t->tls = tls;
	now->n = 1;
	return 1;
}

int stls_sip_resolve(struct stls_dns *dns, const struct stls_sip_dns_req *req,
		     stls_dns_rand_fn *rnd, void *rnd_arg,
		     stls_sip_resolved_fn *fn, void *arg,
		     struct stls_sip_targets *now, char *why,
		     struct stls_sip_resolve **out)
{
	struct stls_sip_resolve *r;
	size_t n = strlen(req->host);
	int err;

	why[0] = '\0';
	if (req->host_is_ip)
		return numeric(req, now, why);
	if (n && req->host[n - 1] == '.')
		n--;
	if (n == 0 || n > STLS_DNS_NAME_MAX) {
		snprintf(why, STLS_SIP_WHY_MAX, "bad host name");
		return -EINVAL;
	}
	if (!dns) {
		snprintf(why, STLS_SIP_WHY_MAX, "no resolver for %.*s",
			 (int)n, req->host);
		return -ENOTSUP;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r, 0, offsetof(struct stls_sip_resolve, host));
	r->t.n = 0;
	r->why[0] = '\0';
	r->dns = dns;
	r->rnd = rnd;
	r->rnd_arg = rnd_arg;
	r->fn = fn;
	r->arg = arg;
	r->req = *req;
	memcpy(r->host, req->host, n);
	r->host[n] = '\0';
	r->req.host = r->host;
	r->sync = true;
	run(r);
	r->sync = false;
	if (!r->done) {
		*out = r;
		return 0;
	}
	err = r->err;
	if (!err)
		*now = r->t;
	snprintf(why, STLS_SIP_WHY_MAX, "%s", r->why);
	free(r);
	return err ? err : 1;
}

void stls_sip_resolve_cancel(struct stls_sip_resolve *r)
{
	size_t i, k;

	if (!r)
		return;
	stls_dns_lookup_cancel(r->l);
	for (i = 0; i < r->n_hosts; i++) {
		for (k = 0; k < 2; k++)
			stls_dns_lookup_cancel(r->hosts[i].fam[k].l);
	}
	free(r);
}
