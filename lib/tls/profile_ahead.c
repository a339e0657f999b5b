/*
 * Certificate and key files parsed ahead of a set build, on several
 * threads.
 *
 * Parsing is most of what a first build of many profiles costs: OpenSSL
 * 3.0 spends about 1.5 million instructions on each certificate (its
 * public key goes through a decoder context assembled for every call;
 * docs/performance.md, "10,000 tenants"), and every file is parsed on its
 * own. The rest of a build (contexts, checks, the index) is serial and
 * about a quarter of the cost. So before the serial build,
 * stls__parse_ahead() reads and parses every certificate file and every
 * plain key file that the profiles name, on load_threads threads, and
 * puts what parses into the file cache (profile_cache.c) under the
 * build's id. It returns the digest of every file it read by its path
 * (profile_seen.c), and the serial build takes each file's objects from
 * the cache by that digest: each file is read once per build.
 *
 * The library keeps no thread: the caller lends them for the call. The
 * calling thread works too, with load_threads - 1 threads started here
 * and joined before the call returns; they block every signal, so that
 * the process's signals still reach the threads that expect them.
 *
 * Nothing here reports anything, and nothing here decides anything: a
 * file that does not read or parse is simply not cached, and the serial
 * build reads it again and reports it at its file:line, in file order,
 * exactly as it does without threads. Keys are read only the fast way
 * (profile_key.c: unencrypted PKCS#8, no password); encrypted keys, PEM
 * text keys and HSM keys are the build's. A build that fails drops what
 * was cached for it (stls__pcache_forget()).
 *
 * Threads claim files with one atomic counter, in file order; each has
 * its own key reader (a decoder context is not for two threads). The
 * cache's mutex publishes the parsed objects to the building thread.
 *
 * Each thread parses certificates in a library context of its own when
 * that means the same as the default context (profile_libctx.c): on
 * OpenSSL 3.0, threads that decode certificates in one context mostly
 * wait for its locks. Keys stay in the default context, where they are
 * used: the fast reader imports them without assembling a decoder, and a
 * key made in another context would be copied into the default one at
 * its first handshake (measured: +10 to 16 % server CPU on each tenant's
 * first handshake).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "stls/hsm.h"
#include "tls/profile_int.h"

/* With load_threads = 0: one thread per CPU, at most this many. */
#define AUTO_THREADS_MAX 8

/* Files per thread below which a thread is not worth starting. */
#define FILES_PER_THREAD 32

/* load_threads' upper bound (lib/conf/settings.c); a library context
 * slot for each (profile_libctx.c). */
#define THREADS_MAX STLS__LIBCTX_SLOTS

struct job {
	const char *v; /* a path, or PEM text; borrowed from the list */
	bool pem;      /* v is PEM text (certificates only) */
	bool key;      /* a key file for the fast reader */
	bool read;     /* done: md holds the digest of what was read */
	unsigned char md[STLS__PC_MD_LEN];
};

struct ahead {
	struct job *v;
	size_t n;
	atomic_size_t next; /* the next job to claim */
	atomic_uint slot;   /* the next thread's library context slot */
	bool own_ctx;       /* certificates parsed in contexts of their own */
	uint64_t cache_id;
};

static void push(struct ahead *a, const char *v, bool pem, bool key)
{
	struct job *j = &a->v[a->n++];

	j->v = v;
	j->pem = pem;
	j->key = key;
}

/* The files of one chain: its certificates, then its key if a file. */
static void add_chain(struct ahead *a, const struct stls_profile_conf *c,
		      enum stls_pf cf, enum stls_pf kf, const char *cert,
		      const char *key)
{
	bool kpem = stls_profile_conf_is_pem(c, kf);

	if (!has_str(cert)) {
		return;
	}
	push(a, cert, stls_profile_conf_is_pem(c, cf), false);
	if (!has_str(key)) {
		/* seed: the key may follow the certificate in its file. */
		key = cert;
		kpem = stls_profile_conf_is_pem(c, cf);
	}
	if (!kpem && !stls_hsm_is_key_id(key)) {
		push(a, key, false, true);
	}
}

/* The jobs of <list>, in file order. Returns 0 or -ENOMEM. */
static int collect(struct ahead *a, const struct stls_profile_conf *list)
{
	const struct stls_profile_conf *c;
	size_t n = 0;

	for (c = list; c; c = c->next) {
		n += 4;
	}
	a->v = n ? calloc(n, sizeof(*a->v)) : NULL;
	if (n && !a->v) {
		return -ENOMEM;
	}
	for (c = list; c; c = c->next) {
		add_chain(a, c, STLS_PF_CERTIFICATE, STLS_PF_PRIVATE_KEY,
			  c->certificate, c->private_key);
		add_chain(a, c, STLS_PF_CERTIFICATE2, STLS_PF_PRIVATE_KEY2,
			  c->certificate2, c->private_key2);
	}
	return 0;
}

/* How many threads parse <njobs> files: 0 or 1 means none ahead. */
static unsigned thread_count(const struct stls_settings *s, size_t njobs)
{
	long n = s->load_threads;

	if (n <= 0) {
		n = stls_cpus_usable();
		n = n > AUTO_THREADS_MAX ? AUTO_THREADS_MAX : n;
	}
	n = n > THREADS_MAX ? THREADS_MAX : n;
	if ((size_t)n > njobs / FILES_PER_THREAD) {
		n = (long)(njobs / FILES_PER_THREAD);
	}
	return n < 1 ? 0 : (unsigned)n;
}

/* One thread's share: jobs until none is left. Any thread. */
static void *work(void *arg)
{
	struct ahead *a = arg;
	struct stls__keyrd *kr = NULL;
	OSSL_LIB_CTX *libctx = NULL;
	size_t i;

	if (a->own_ctx) {
		libctx = stls__libctx_slot(atomic_fetch_add(&a->slot, 1));
	}
	/* Without a reader (out of memory) keys are left to the build. */
	if (stls__keyrd_new(a->cache_id, &kr) != 0) {
		kr = NULL;
	}
	while ((i = atomic_fetch_add(&a->next, 1)) < a->n) {
		struct job *j = &a->v[i];
		struct stls__pc_file f;

		if (stls__profile_src_read(j->v, j->pem, &f) != 0) {
			continue;
		}
		if (j->key) {
			EVP_PKEY_free(stls__keyrd_parse(kr, &f));
		} else {
			sk_X509_pop_free(stls__certs_parse(a->cache_id, libctx, &f),
					 X509_free);
		}
		memcpy(j->md, f.md, sizeof(j->md));
		j->read = true;
		stls__pcache_file_fini(&f);
	}
	stls__keyrd_free(kr);
	ERR_clear_error();
	return NULL;
}

/* The digests of the files read (not PEM text: the build has it). */
static struct stls__seen *seen_of(const struct ahead *a)
{
	struct stls__seen *t;
	size_t i;

	if (stls__seen_new(a->n, &t) != 0) {
		return NULL;
	}
	for (i = 0; i < a->n; i++) {
		if (a->v[i].read && !a->v[i].pem) {
			stls__seen_add(t, a->v[i].v, a->v[i].md);
		}
	}
	return t;
}

struct stls__seen *stls__parse_ahead(const struct stls_settings *s,
				     const struct stls_profile_conf *list,
				     uint64_t cache_id)
{
	struct ahead a = { .cache_id = cache_id };
	struct stls__seen *seen;
	pthread_t tid[THREADS_MAX];
	unsigned n, started = 0;
	sigset_t all, old;

	if (!cache_id || collect(&a, list) != 0) {
		return NULL;
	}
	n = thread_count(s, a.n);
	if (n < 2) {
		free(a.v);
		return NULL;
	}
	a.own_ctx = stls__libctx_private_ok(s);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (started + 1 < n &&
	       pthread_create(&tid[started], NULL, work, &a) == 0) {
		/* Only the threads made here: the caller's keeps its name. */
		pthread_setname_np(tid[started], "stls-load");
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* With no thread started, this one parses alone: the same work
	 * the build would do, done first. */
	work(&a);
	/* The join publishes every job's result to this thread. */
	while (started > 0) {
		pthread_join(tid[--started], NULL);
	}
	seen = seen_of(&a);
	free(a.v);
	return seen;
}
