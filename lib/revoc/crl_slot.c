/*
 * CRLs kept current from their distribution points (crl_refresh,
 * docs/ocsp.md).
 *
 * One slot per CA, by issuer name, shared by every profile context with
 * crl_refresh whose `crl` file has that CA's CRL. The slot keeps the
 * newest good CRL it has seen (the file's, then each fetched one that
 * passes stls__crl_check() and is not older), the URLs to fetch it from,
 * and the schedule: at the CRL's nextUpdate, at the latest crl_interval
 * seconds after the last fetch, sooner after a failure (back-off).
 *
 * Verification sees the slot through the contexts' X509_STORE lookup
 * callback (stls__crlslot_lookup()): the store's own CRLs (the file, as
 * without crl_refresh) plus the slot's latest, and OpenSSL takes the
 * newest current one. So the immutable profile set does not change, and
 * a fetched CRL applies to the next handshake without a reload. A CRL
 * whose nextUpdate passes while every fetch fails is no longer current:
 * verification then fails with "CRL has expired", as it does without
 * crl_refresh (warned about before it happens).
 *
 * Locks: cs_lock guards the list and the reference counts; each slot's
 * lock guards its CRL, URLs and schedule. HTTP runs with no lock held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "stls/log.h"
#include "revoc/revoc.h"

#define SLOT_URLS 4

struct stls__crlslot {
	struct stls__crlslot *next; /* cs_lock */
	unsigned refs;              /* cs_lock */
	bool fetching;              /* cs_lock */
	X509_NAME *name;            /* the CA; immutable */
	X509 *issuer;               /* verifies fetched CRLs; immutable */
	char text[256];             /* the name, for logs */

	pthread_mutex_t lock;       /* everything below */
	char *urls[SLOT_URLS];
	size_t nurls;
	X509_CRL *crl;              /* the newest good one */
	time_t last_fetch, next_fetch;
	int backoff;
	char error[160];
};

static pthread_mutex_t cs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stls__crlslot *cs_all;

static void slot_free(struct stls__crlslot *s)
{
	size_t i;

	for (i = 0; i < s->nurls; i++) {
		free(s->urls[i]);
	}
	X509_NAME_free(s->name);
	X509_free(s->issuer);
	X509_CRL_free(s->crl);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct stls__crlslot *slot_new(X509_CRL *crl, X509 *issuer)
{
	struct stls__crlslot *s = calloc(1, sizeof(*s));

	if (!s || !(s->name = X509_NAME_dup(X509_CRL_get_issuer(crl)))) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	(void)X509_up_ref(issuer); /* a reference count: cannot fail */
	s->issuer = issuer;
	X509_NAME_oneline(s->name, s->text, sizeof(s->text));
	s->refs = 1;
	return s;
}

/* Merges <urls> and offers <crl> (s->lock held). */
static void offer(struct stls__crlslot *s, X509_CRL *crl, char *const *urls,
		  size_t nurls)
{
	size_t i, j;

	for (i = 0; i < nurls && s->nurls < SLOT_URLS; i++) {
		bool seen = false;

		for (j = 0; j < s->nurls; j++) {
			seen = seen || strcmp(s->urls[j], urls[i]) == 0;
		}
		if (!seen && (s->urls[s->nurls] = strdup(urls[i])) != NULL) {
			s->nurls++;
		}
	}
	if (stls__crl_compare(crl, s->crl) > 0 && X509_CRL_up_ref(crl)) {
		X509_CRL_free(s->crl);
		s->crl = crl;
	}
}

int stls__crlslot_get(X509_CRL *crl, X509 *issuer, char *const *urls,
		      size_t nurls, struct stls__crlslot **out)
{
	struct stls__crlslot *s;

	pthread_mutex_lock(&cs_lock);
	for (s = cs_all; s; s = s->next) {
		if (X509_NAME_cmp(s->name, X509_CRL_get_issuer(crl)) == 0) {
			break;
		}
	}
	if (s) {
		s->refs++;
	} else if ((s = slot_new(crl, issuer)) != NULL) {
		s->next = cs_all;
		cs_all = s;
	}
	pthread_mutex_unlock(&cs_lock);
	if (!s) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->lock);
	offer(s, crl, urls, nurls);
	pthread_mutex_unlock(&s->lock);
	*out = s;
	return 0;
}

void stls__crlslot_put(struct stls__crlslot *s)
{
	struct stls__crlslot **pp;
	bool last;

	if (!s) {
		return;
	}
	pthread_mutex_lock(&cs_lock);
	last = --s->refs == 0;
	for (pp = &cs_all; last && *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&cs_lock);
	if (last) {
		slot_free(s);
	}
}

X509_CRL *stls__crlslot_get1_crl(struct stls__crlslot *s)
{
	X509_CRL *crl;

	pthread_mutex_lock(&s->lock);
	crl = s->crl && X509_CRL_up_ref(s->crl) ? s->crl : NULL;
	pthread_mutex_unlock(&s->lock);
	return crl;
}

STACK_OF(X509_CRL) *stls__crlslot_lookup(const X509_STORE_CTX *ctx,
					 const X509_NAME *nm)
{
	STACK_OF(X509_CRL) *sk = X509_STORE_CTX_get1_crls(ctx, nm);
	struct stls__crlslot *s;
	X509_CRL *crl = NULL;

	if (!sk) {
		return NULL;
	}
	pthread_mutex_lock(&cs_lock);
	for (s = cs_all; s; s = s->next) {
		if (X509_NAME_cmp(s->name, nm) == 0) {
			crl = stls__crlslot_get1_crl(s);
			break;
		}
	}
	pthread_mutex_unlock(&cs_lock);
	if (crl && !sk_X509_CRL_push(sk, crl)) {
		X509_CRL_free(crl);
	}
	return sk;
}

/* After a failure: back off; warn while the held CRL nears its end. */
static time_t next_after_failure(struct stls__crlslot *s, int interval,
				 time_t now)
{
	time_t next = s->crl ? stls__asn1_to_time(
				       X509_CRL_get0_nextUpdate(s->crl)) : 0;
	char when[40];

	s->backoff = s->backoff ? s->backoff * 2 : STLS__BACKOFF_MIN;
	if (s->backoff > STLS__BACKOFF_MAX) {
		s->backoff = STLS__BACKOFF_MAX;
	}
	if (s->backoff > interval) {
		s->backoff = interval;
	}
	if (next && next - now < 3600) {
		STLS_WARN("CRL: %s: the CRL held %s at %s and cannot be "
			  "refreshed: %s", s->text,
			  next > now ? "expires" : "expired",
			  stls__time_str(next, when, sizeof(when)), s->error);
	}
	return now + s->backoff;
}

/* After a success: at nextUpdate, or the interval, whichever is first;
 * a CA late with its next CRL gets retried after back-off. */
static time_t next_after_good(struct stls__crlslot *s, int interval,
			      time_t now)
{
	time_t next = stls__asn1_to_time(X509_CRL_get0_nextUpdate(s->crl));
	time_t t = now + interval;

	if (next && next < t) {
		t = next;
	}
	if (t <= now) {
		s->backoff = s->backoff ? s->backoff * 2 : STLS__BACKOFF_MIN;
		if (s->backoff > interval) {
			s->backoff = interval;
		}
		t = now + s->backoff;
	} else {
		s->backoff = 0;
	}
	return t;
}

time_t stls__crlslot_apply(struct stls__crlslot *s, const unsigned char *data,
			   size_t len, const char *err, int interval,
			   time_t now)
{
	X509_CRL *crl = NULL;
	char why[160], when[40];
	int rc = -EIO, cmp = 0;

	if (data) {
		rc = stls__crl_check(data, len, s->issuer, now, &crl, why,
				     sizeof(why));
	}
	pthread_mutex_lock(&s->lock);
	s->last_fetch = now;
	if (rc == 0 && (cmp = stls__crl_compare(crl, s->crl)) < 0) {
		snprintf(why, sizeof(why), "older than the CRL held");
		rc = -ESTALE;
	}
	if (rc == 0) {
		if (cmp > 0) {
			X509_CRL_free(s->crl);
			s->crl = crl;
			crl = NULL;
			STLS_INFO("CRL: %s: new CRL, next update %s", s->text,
				  stls__time_str(stls__asn1_to_time(
						   X509_CRL_get0_nextUpdate(
							   s->crl)),
					   when, sizeof(when)));
		}
		s->error[0] = '\0';
		s->next_fetch = next_after_good(s, interval, now);
	} else {
		snprintf(s->error, sizeof(s->error), "%s",
			 data ? why : err);
		s->next_fetch = next_after_failure(s, interval, now);
		STLS_WARN("CRL: %s: %s: %s; %s, next attempt in %d s",
			  s->text, s->nurls ? s->urls[0] : "(no URL)",
			  s->error,
			  s->crl ? "keeping the last good CRL" : "no CRL",
			  s->backoff);
	}
	now = s->next_fetch;
	pthread_mutex_unlock(&s->lock);
	X509_CRL_free(crl);
	return now;
}

/* Fetches slot <s> from its URLs in turn until one answers well. */
static time_t fetch_one(struct stls__crlslot *s, int timeout, int interval)
{
	char *urls[SLOT_URLS] = { NULL };
	unsigned char *data = NULL;
	size_t i, n, len = 0;
	char why[160] = "no http:// distribution point known";
	X509_CRL *crl;
	time_t t;

	pthread_mutex_lock(&s->lock);
	for (n = 0; n < s->nurls; n++) {
		urls[n] = strdup(s->urls[n]);
	}
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n && !data; i++) {
		if (!urls[i] || stls__http_get(urls[i], timeout,
					       STLS__CRL_MAX_RESP, &data, &len,
					       why, sizeof(why)) != 0) {
			data = NULL;
			continue;
		}
		/* A bad answer from one point: try the next. */
		if (stls__crl_check(data, len, s->issuer, time(NULL), &crl,
				    why, sizeof(why)) != 0) {
			free(data);
			data = NULL;
			continue;
		}
		X509_CRL_free(crl);
	}
	t = stls__crlslot_apply(s, data, len, why, interval, time(NULL));
	free(data);
	for (i = 0; i < n; i++) {
		free(urls[i]);
	}
	return t;
}

time_t stls__crlslot_refresh(int timeout, int interval, time_t now)
{
	struct stls__crlslot *s, **v = NULL;
	size_t n = 0, cap = 0, i;
	time_t next = 0, t;

	pthread_mutex_lock(&cs_lock);
	for (s = cs_all; s; s = s->next) {
		bool urls;

		pthread_mutex_lock(&s->lock);
		urls = s->nurls > 0;
		t = s->next_fetch;
		pthread_mutex_unlock(&s->lock);
		if (!urls || s->fetching) {
			continue;
		}
		if (t > now) {
			next = !next || t < next ? t : next;
			continue;
		}
		if (n == cap) {
			struct stls__crlslot **nv;

			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				break;
			}
			v = nv;
		}
		s->refs++;
		s->fetching = true;
		v[n++] = s;
	}
	pthread_mutex_unlock(&cs_lock);
	for (i = 0; i < n; i++) {
		t = fetch_one(v[i], timeout, interval);
		next = !next || t < next ? t : next;
		pthread_mutex_lock(&cs_lock);
		v[i]->fetching = false;
		pthread_mutex_unlock(&cs_lock);
		stls__crlslot_put(v[i]);
	}
	free(v);
	return next;
}

size_t stls__crlslot_list(void (*fn)(const struct stls_crl_status *st,
				     void *arg),
			  void *arg)
{
	struct stls_crl_status st;
	struct stls__crlslot *s;
	size_t n = 0;

	pthread_mutex_lock(&cs_lock);
	for (s = cs_all; s; s = s->next, n++) {
		memset(&st, 0, sizeof(st));
		snprintf(st.issuer, sizeof(st.issuer), "%s", s->text);
		pthread_mutex_lock(&s->lock);
		snprintf(st.url, sizeof(st.url), "%s",
			 s->nurls ? s->urls[0] : "");
		if (s->crl) {
			st.last_update = stls__asn1_to_time(
				X509_CRL_get0_lastUpdate(s->crl));
			st.next_update = stls__asn1_to_time(
				X509_CRL_get0_nextUpdate(s->crl));
		}
		st.last_fetch = s->last_fetch;
		st.next_fetch = s->nurls ? s->next_fetch : 0;
		snprintf(st.error, sizeof(st.error), "%s", s->error);
		pthread_mutex_unlock(&s->lock);
		fn(&st, arg);
	}
	pthread_mutex_unlock(&cs_lock);
	return n;
}
