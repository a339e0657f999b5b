/*
 * Allocation failure injection through OpenSSL's allocator: every
 * OPENSSL_malloc / OPENSSL_realloc in OpenSSL itself and in libsiptls's
 * TLS engine (which allocates its queues, buffers and record state with
 * OPENSSL_*) goes through af_malloc() / af_realloc() below once
 * af_install() has run.
 *
 * Use: count the allocations an operation makes (af_arm(0), run it,
 * af_seen(), af_disarm()), then repeat it from the same starting point
 * once per allocation with af_arm(i): the i-th allocation after arming
 * returns NULL, every other one succeeds (af_arm_sticky(i): the i-th and
 * every later one fail). af_failed() says whether the failure was reached.
 *
 * af_install() must run before OpenSSL allocates anything (OpenSSL refuses
 * to change its allocator afterwards): call it from a constructor. Header
 * only (static functions) for the test binaries and the fuzz targets; one
 * thread.
 */
#ifndef STLS_TEST_ALLOC_FAIL_H
#define STLS_TEST_ALLOC_FAIL_H

#include <stdbool.h>
#include <stdlib.h>

#include <openssl/crypto.h>

static bool af_installed;
static bool af_armed;
static bool af_sticky;
static bool af_hit;
static unsigned long af_target; /* 0: count only */
static unsigned long af_n;      /* allocations since af_arm() */

static __attribute__((unused)) bool af_fail_now(void)
{
	if (!af_armed) {
		return false;
	}
	af_n++;
	if (af_target && (af_n == af_target ||
			  (af_sticky && af_n > af_target))) {
		af_hit = true;
		return true;
	}
	return false;
}

static void *af_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return af_fail_now() ? NULL : malloc(n);
}

static void *af_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	/* realloc(p, 0) frees: never a failure to inject. */
	if (n && af_fail_now()) {
		return NULL;
	}
	return realloc(p, n);
}

static void af_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* Route OpenSSL's allocator through the injector. True when it took. */
static __attribute__((unused)) bool af_install(void)
{
	if (!af_installed) {
		af_installed = CRYPTO_set_mem_functions(af_malloc, af_realloc,
							af_free) == 1;
	}
	return af_installed;
}

/* Start counting; the i-th allocation from now fails (0: none does). */
static __attribute__((unused)) void af_arm(unsigned long i)
{
	af_armed = true;
	af_sticky = false;
	af_hit = false;
	af_target = i;
	af_n = 0;
}

/* As af_arm(), but the i-th allocation and every later one fail. */
static __attribute__((unused)) void af_arm_sticky(unsigned long i)
{
	af_arm(i);
	af_sticky = true;
}

/* Allocations seen since af_arm(). */
static __attribute__((unused)) unsigned long af_seen(void)
{
	return af_n;
}

/* Whether an injected failure happened since af_arm(). */
static __attribute__((unused)) bool af_failed(void)
{
	return af_hit;
}

static __attribute__((unused)) void af_disarm(void)
{
	af_armed = false;
}

/*
 * Pause counting (and failing) around work that is not under test (the
 * peer's side of a handshake), then go on where it stopped.
 */
static bool af_paused_armed;

static __attribute__((unused)) void af_pause(void)
{
	af_paused_armed = af_armed;
	af_armed = false;
}

static __attribute__((unused)) void af_resume(void)
{
	af_armed = af_paused_armed;
}

#endif
