/*
 * The OCSP responses server profiles staple (docs/ocsp.md).
 *
 * One entry per certificate and source ("on": the responder named in the
 * certificate's Authority Information Access; "file:PATH": a response an
 * operator or a cron job puts there), shared by every profile and set
 * that staples it, found by the SHA-256 of the certificate and the source
 * in a chained hash table. Sets hold references; the entry outlives a
 * reload because the new set takes its reference before the old set lets
 * go of its own, so the response fetched for the old set is stapled by
 * the new one at once.
 *
 * What an entry staples is its last good response: a fetch or a file that
 * brings anything else (an error, a responder that is down, a bad
 * signature, "unknown") changes nothing but the error shown and the next
 * attempt (back-off); a current "revoked" answer drops it (stapling a
 * good answer we know to be wrong would be a lie). The held response is
 * stapled until its nextUpdate, never after.
 *
 * Locks: st_lock guards the table and the reference counts; each entry's
 * lock guards its response and schedule. A handshake takes one entry lock
 * for a copy; the refresh never holds a lock across HTTP.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "stls/log.h"
#include "revoc/revoc.h"

#define ST_BUCKETS 4096 /* chains stay short up to tens of thousands */

struct stls__staple {
	struct stls__staple *next, **pprev; /* bucket chain: st_lock */
	unsigned refs;                      /* st_lock */
	bool fetching;                      /* st_lock: a refresh holds it */
	unsigned char key[32];
	X509 *leaf, *issuer;                /* references */
	char *source;                       /* "on" or "file:PATH" */
	char *url;                          /* "on": the responder */
	bool must_staple;
	char name[128];                     /* the subject, for logs */

	pthread_mutex_t lock;               /* everything below */
	unsigned char *der;                 /* the response stapled */
	size_t len;
	struct stls__ocsp_result res;       /* what der says */
	enum stls_ocsp_state state;
	time_t last_fetch, next_fetch;
	int backoff;
	char error[160];
	bool expired_logged, ending_warned;
};

static pthread_mutex_t st_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stls__staple *st_buckets[ST_BUCKETS];
static size_t st_count;

static int make_key(X509 *leaf, const char *source, unsigned char *key)
{
	unsigned char *der = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int n = i2d_X509(leaf, &der), ok;

	ok = md && n > 0 && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(md, der, (size_t)n) &&
	     EVP_DigestUpdate(md, source, strlen(source) + 1) &&
	     EVP_DigestFinal_ex(md, key, NULL);
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok ? 0 : -ENOMEM;
}

static size_t bucket_of(const unsigned char *key)
{
	return ((size_t)key[0] << 8 | key[1]) % ST_BUCKETS;
}

/* The first http:// responder of the certificate's AIA, or NULL. */
static char *aia_url(X509 *leaf)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(leaf);
	char *url = NULL;
	int i;

	for (i = 0; i < sk_OPENSSL_STRING_num(urls) && !url; i++) {
		const char *u = sk_OPENSSL_STRING_value(urls, i);

		if (strncasecmp(u, "http://", 7) == 0) {
			url = strdup(u);
		}
	}
	X509_email_free(urls);
	ERR_clear_error();
	return url;
}

static void entry_free(struct stls__staple *e)
{
	X509_free(e->leaf);
	X509_free(e->issuer);
	free(e->source);
	free(e->url);
	free(e->der);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static int entry_new(X509 *leaf, X509 *issuer, const char *source,
		     const unsigned char *key, struct stls__staple **out)
{
	struct stls__staple *e = calloc(1, sizeof(*e));

	if (!e || !(e->source = strdup(source))) {
		free(e);
		return -ENOMEM;
	}
	pthread_mutex_init(&e->lock, NULL);
	memcpy(e->key, key, sizeof(e->key));
	if (strcmp(source, "on") == 0 && !(e->url = aia_url(leaf))) {
		entry_free(e);
		return -ENOENT;
	}
	/* Plain reference counts: these cannot fail. */
	(void)X509_up_ref(leaf);
	(void)X509_up_ref(issuer);
	e->leaf = leaf;
	e->issuer = issuer;
	e->must_staple = stls__must_staple(leaf);
	X509_NAME_oneline(X509_get_subject_name(leaf), e->name,
			  sizeof(e->name));
	e->state = STLS_OCSP_NONE;
	e->refs = 1;
	*out = e;
	return 0;
}

/* Installs a checked good response (e->lock held). */
static int hold(struct stls__staple *e, const unsigned char *der, size_t len,
		const struct stls__ocsp_result *r)
{
	unsigned char *copy = malloc(len);

	if (!copy) {
		return -ENOMEM;
	}
	memcpy(copy, der, len);
	free(e->der);
	e->der = copy;
	e->len = len;
	e->res = *r;
	e->state = STLS_OCSP_GOOD;
	e->expired_logged = e->ending_warned = false;
	return 0;
}

static void drop(struct stls__staple *e, enum stls_ocsp_state state)
{
	free(e->der);
	e->der = NULL;
	e->len = 0;
	memset(&e->res, 0, sizeof(e->res));
	e->state = state;
}

/*
 * What a checked response does to the entry (e->lock held): a good one
 * replaces an older held one; revoked drops it; unknown changes nothing.
 * Returns 0 when held, else -errno with *why.
 */
static int take(struct stls__staple *e, const unsigned char *der, size_t len,
		time_t now, char *why, size_t whylen)
{
	struct stls__ocsp_result r;
	int err;

	err = stls__ocsp_check(der, len, e->leaf, e->issuer, now,
			       STLS__OCSP_SKEW, &r, why, whylen);
	/* We staple until nextUpdate itself, whatever clients tolerate. */
	if (!err && r.next_update && r.next_update <= now) {
		snprintf(why, whylen, "expired (nextUpdate has passed)");
		err = -ESTALE;
	}
	if (err) {
		return err;
	}
	if (r.status == V_OCSP_CERTSTATUS_REVOKED) {
		drop(e, STLS_OCSP_REVOKED);
		snprintf(why, whylen, "the responder says REVOKED");
		return -EKEYREVOKED;
	}
	if (r.status != V_OCSP_CERTSTATUS_GOOD) {
		snprintf(why, whylen, "the responder does not know the "
			 "certificate (unknown)");
		if (!e->der) {
			e->state = STLS_OCSP_UNKNOWN;
		}
		return -ENOENT;
	}
	if (e->der && r.this_update < e->res.this_update) {
		snprintf(why, whylen, "older than the response held");
		return -ESTALE;
	}
	return hold(e, der, len, &r);
}

/* Reads a response file (at most the largest response accepted). */
static int read_file(const char *path, unsigned char **data, size_t *len,
		     char *why, size_t whylen)
{
	unsigned char *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(why, whylen, "cannot read '%s': %s", path,
			 strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > STLS__OCSP_MAX_RESP ||
	    !(buf = malloc((size_t)st.st_size))) {
		snprintf(why, whylen, "'%s' is not a response file (empty, "
			 "too large or not a file)", path);
		close(fd);
		return -EINVAL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != (ssize_t)st.st_size) {
		free(buf);
		snprintf(why, whylen, "short read of '%s'", path);
		return -EIO;
	}
	*data = buf;
	*len = (size_t)n;
	return 0;
}

static void load_file(struct stls__staple *e, time_t now, char *why,
		      size_t whylen)
{
	const char *path = e->source + 5;
	unsigned char *data = NULL;
	size_t len = 0;
	char tmp[160];

	why[0] = '\0';
	if (read_file(path, &data, &len, why, whylen) != 0) {
		goto out;
	}
	pthread_mutex_lock(&e->lock);
	e->last_fetch = now;
	if (take(e, data, len, now, tmp, sizeof(tmp)) == 0) {
		e->error[0] = '\0';
	} else {
		snprintf(why, whylen, "'%s': %s", path, tmp);
		snprintf(e->error, sizeof(e->error), "%s", tmp);
	}
	pthread_mutex_unlock(&e->lock);
out:
	free(data);
}

int stls__staple_get(X509 *leaf, X509 *issuer, const char *source,
		     time_t now, struct stls__staple **out, char *why,
		     size_t whylen)
{
	unsigned char key[32];
	struct stls__staple *e, **b;
	int err;

	why[0] = '\0';
	err = make_key(leaf, source, key);
	if (err) {
		return err;
	}
	pthread_mutex_lock(&st_lock);
	b = &st_buckets[bucket_of(key)];
	for (e = *b; e && memcmp(e->key, key, sizeof(key)) != 0; e = e->next)
		;
	if (e) {
		e->refs++;
	} else if ((err = entry_new(leaf, issuer, source, key, &e)) == 0) {
		e->next = *b;
		if (*b) {
			(*b)->pprev = &e->next;
		}
		e->pprev = b;
		*b = e;
		st_count++;
	}
	pthread_mutex_unlock(&st_lock);
	if (err == -ENOENT) {
		snprintf(why, whylen, "no http:// OCSP responder URL "
			 "(Authority Information Access) in the certificate");
	}
	if (err) {
		return err;
	}
	if (strncmp(source, "file:", 5) == 0) {
		load_file(e, now, why, whylen);
	}
	*out = e;
	return 0;
}

void stls__staple_put(struct stls__staple *e)
{
	bool last;

	if (!e) {
		return;
	}
	pthread_mutex_lock(&st_lock);
	last = --e->refs == 0;
	if (last) {
		*e->pprev = e->next;
		if (e->next) {
			e->next->pprev = e->pprev;
		}
		st_count--;
	}
	pthread_mutex_unlock(&st_lock);
	if (last) {
		entry_free(e);
	}
}

X509 *stls__staple_leaf(const struct stls__staple *e)
{
	return e->leaf;
}

size_t stls__staple_count(void)
{
	size_t n;

	pthread_mutex_lock(&st_lock);
	n = st_count;
	pthread_mutex_unlock(&st_lock);
	return n;
}

/* True when the held response is past its nextUpdate (e->lock held);
 * says so once. */
static bool expired(struct stls__staple *e, time_t now)
{
	char when[40];

	if (!e->der || !e->res.next_update || now < e->res.next_update) {
		return false;
	}
	e->state = STLS_OCSP_EXPIRED;
	if (!e->expired_logged) {
		e->expired_logged = true;
		STLS_ERR("OCSP: %s: the stapled response expired at %s: no "
			 "longer stapled%s%s", e->name,
			 stls__time_str(e->res.next_update, when, sizeof(when)),
			 e->error[0] ? "; last error: " : "", e->error);
	}
	return true;
}

int stls__staple_copy(struct stls__staple *e, time_t now, unsigned char **der,
		      size_t *len)
{
	int err = -ENOENT;

	pthread_mutex_lock(&e->lock);
	if (e->der && e->state == STLS_OCSP_GOOD && !expired(e, now)) {
		*der = OPENSSL_memdup(e->der, e->len);
		*len = e->len;
		err = *der ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&e->lock);
	return err;
}

void stls__staple_status(struct stls__staple *e, time_t now,
			 struct stls_cert_status *out)
{
	pthread_mutex_lock(&e->lock);
	(void)expired(e, now);
	out->must_staple = e->must_staple;
	out->ocsp = e->state;
	snprintf(out->ocsp_source, sizeof(out->ocsp_source), "%s",
		 e->url ? e->url : e->source + 5);
	out->ocsp_this_update = e->der ? e->res.this_update : 0;
	out->ocsp_next_update = e->der ? e->res.next_update : 0;
	out->ocsp_last_fetch = e->last_fetch;
	out->ocsp_next_fetch = e->url ? e->next_fetch : 0;
	snprintf(out->ocsp_error, sizeof(out->ocsp_error), "%s", e->error);
	pthread_mutex_unlock(&e->lock);
}

/*
 * When to fetch again after a good answer: halfway to nextUpdate (RFC
 * 6960 leaves the schedule to us; half the window leaves time for
 * retries), at least 10 s on, and hourly for a response without one.
 */
static time_t next_after_good(const struct stls__ocsp_result *r, time_t now)
{
	time_t t;

	if (!r->next_update) {
		return now + 3600;
	}
	t = now + (r->next_update - now) / 2;
	return t < now + 10 ? now + 10 : t;
}

/* After a failure: back off, and warn while the held response ends. */
static time_t next_after_failure(struct stls__staple *e, time_t now)
{
	time_t left, window;
	char when[40];

	e->backoff = e->backoff ? e->backoff * 2 : STLS__BACKOFF_MIN;
	if (e->backoff > STLS__BACKOFF_MAX) {
		e->backoff = STLS__BACKOFF_MAX;
	}
	if (e->der && e->res.next_update) {
		left = e->res.next_update - now;
		window = e->res.next_update - e->res.this_update;
		if (left < 3600 || left < window / 4) {
			STLS_WARN("OCSP: %s: the stapled response expires at "
				  "%s and cannot be refreshed: %s", e->name,
				  stls__time_str(e->res.next_update, when,
					   sizeof(when)),
				  e->error);
			e->ending_warned = true;
		}
	}
	return now + e->backoff;
}

time_t stls__staple_apply(struct stls__staple *e, const unsigned char *der,
			  size_t len, const char *err, time_t now)
{
	char why[160], when[40];
	bool was_failing;
	int rc;

	pthread_mutex_lock(&e->lock);
	e->last_fetch = now;
	was_failing = e->error[0] != '\0';
	rc = der ? take(e, der, len, now, why, sizeof(why)) : -EIO;
	if (rc == 0) {
		e->error[0] = '\0';
		e->backoff = 0;
		e->next_fetch = next_after_good(&e->res, now);
		stls_log(was_failing ? STLS_L_NOTICE : STLS_L_INFO,
			 "OCSP: %s: good, stapled until %s", e->name,
			 e->res.next_update ?
				 stls__time_str(e->res.next_update, when,
					  sizeof(when)) :
				 "further notice");
	} else if (rc == -EKEYREVOKED) {
		snprintf(e->error, sizeof(e->error), "%s", why);
		e->backoff = 0;
		e->next_fetch = now + 3600;
		STLS_ERR("OCSP: %s: the certificate is REVOKED according to "
			 "%s: stapling stopped; replace the certificate",
			 e->name, e->url ? e->url : e->source);
	} else {
		snprintf(e->error, sizeof(e->error), "%s", der ? why : err);
		e->next_fetch = next_after_failure(e, now);
		STLS_WARN("OCSP: %s: %s: %s; %s, next attempt in %d s",
			  e->name, e->url ? e->url : e->source, e->error,
			  e->der ? "keeping the last good response" :
				   "nothing to staple",
			  e->backoff);
	}
	(void)expired(e, now);
	now = e->next_fetch;
	pthread_mutex_unlock(&e->lock);
	return now;
}

/* The entries due at <now> (referenced, marked fetching) and the next
 * time any other is due. */
static struct stls__staple **collect_due(time_t now, size_t *n,
					 time_t *next)
{
	struct stls__staple **v, *e;
	size_t i;

	*n = 0;
	*next = 0;
	pthread_mutex_lock(&st_lock);
	v = calloc(st_count ? st_count : 1, sizeof(*v));
	for (i = 0; v && i < ST_BUCKETS; i++) {
		for (e = st_buckets[i]; e; e = e->next) {
			time_t due;

			if (!e->url || e->fetching) {
				continue;
			}
			pthread_mutex_lock(&e->lock);
			due = e->next_fetch;
			pthread_mutex_unlock(&e->lock);
			if (due <= now) {
				e->refs++;
				e->fetching = true;
				v[(*n)++] = e;
			} else if (!*next || due < *next) {
				*next = due;
			}
		}
	}
	pthread_mutex_unlock(&st_lock);
	return v;
}

time_t stls__staple_refresh(int timeout, time_t now)
{
	struct stls__staple **v;
	unsigned char *der;
	size_t i, n, len;
	char why[160];
	time_t next, t;

	v = collect_due(now, &n, &next);
	for (i = 0; v && i < n; i++) {
		struct stls__staple *e = v[i];

		der = NULL;
		if (stls__http_ocsp(e->url, e->leaf, e->issuer, timeout, &der,
				    &len, why, sizeof(why)) != 0) {
			der = NULL;
		}
		t = stls__staple_apply(e, der, len, why, time(NULL));
		free(der);
		if (!next || t < next) {
			next = t;
		}
		pthread_mutex_lock(&st_lock);
		e->fetching = false;
		pthread_mutex_unlock(&st_lock);
		stls__staple_put(e);
	}
	free(v);
	return next;
}
