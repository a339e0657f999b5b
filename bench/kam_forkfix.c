/*
 * kam_forkfix: an LD_PRELOAD helper that gives every child of a forking
 * server fresh OpenSSL thread-local state, for the Kamailio 5.6 comparison
 * in bench/compare.sh.
 *
 * OpenSSL 3 keeps per-thread state (error queue, DRBGs, init bookkeeping)
 * in pthread thread-specific slots. A server that initialises OpenSSL and
 * then forks hands every child the parent's slot values; when that state
 * lives in memory shared between the processes (Kamailio allocates
 * OpenSSL's memory from its shared pool) the children use the same objects
 * at once and corrupt them. This library interposes pthread_key_create() to
 * remember the keys created by libcrypto and libssl, and its
 * pthread_atfork() child handler sets each of them to NULL in the child, so
 * that OpenSSL builds new thread-local state on first use there.
 *
 * Set KAM_FORKFIX_ALL=1 to clear every key created through the PLT, not
 * only OpenSSL's; KAM_FORKFIX_DEBUG=1 logs to stderr.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 256

int pthread_key_create(pthread_key_t *key, void (*destr)(void *));

static pthread_key_t keys[MAX_KEYS];
static int nkeys;
static bool all, debug;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool from_openssl(const void *caller)
{
	Dl_info di;

	if (all) {
		return true;
	}
	if (!dladdr(caller, &di) || !di.dli_fname) {
		return false;
	}
	return strstr(di.dli_fname, "libcrypto") != NULL ||
	       strstr(di.dli_fname, "libssl") != NULL;
}

int pthread_key_create(pthread_key_t *key, void (*destr)(void *))
{
	static int (*real)(pthread_key_t *, void (*)(void *));
	const void *caller = __builtin_return_address(0);
	int r;

	if (!real) {
		*(void **)&real = dlsym(RTLD_NEXT, "pthread_key_create");
		if (!real) {
			return 11; /* EAGAIN: no key available */
		}
	}
	r = real(key, destr);
	if (r == 0 && from_openssl(caller)) {
		pthread_mutex_lock(&lock);
		if (nkeys < MAX_KEYS) {
			keys[nkeys++] = *key;
		}
		pthread_mutex_unlock(&lock);
		if (debug) {
			fprintf(stderr, "kam_forkfix: tracking key %u\n",
				(unsigned)*key);
		}
	}
	return r;
}

static void child(void)
{
	int i;

	/* The child has one thread and a copy of the lock's state; the
	 * parent held it only around the short list update above. */
	pthread_mutex_init(&lock, NULL);
	for (i = 0; i < nkeys; i++) {
		pthread_setspecific(keys[i], NULL);
	}
	if (debug) {
		fprintf(stderr, "kam_forkfix: child: cleared %d keys\n",
			nkeys);
	}
}

__attribute__((constructor)) static void init(void)
{
	const char *v = getenv("KAM_FORKFIX_ALL");

	all = v && strcmp(v, "1") == 0;
	v = getenv("KAM_FORKFIX_DEBUG");
	debug = v && strcmp(v, "1") == 0;
	pthread_atfork(NULL, NULL, child);
}
