/*
 * HSM keys: process-wide set-up, routing of key ids to a key source, and
 * the run-time failure count (see stls/hsm.h and hsm_int.h).
 *
 * State: the parameters stls_hsm_init() succeeded with, the engine's
 * PKCS#11 module path (for the token probe), whether the PIN from
 * engine_config was refused, and a mark on every key handed out. Written
 * on the main thread before the workers start and under <lock> later
 * (reloads run on the control thread); the failure counter and the log
 * clock are atomics, touched by workers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>

#include "hsm/hsm_int.h"
#include "stls/log.h"
#include "stls/p11uri.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool started;
static char *cur_engine, *cur_config, *cur_algorithms;
static const struct stls__hsm_source *engine_src;
static char module[4096];
static bool pin_refused;
static int key_mark = -1; /* EVP_PKEY ex_data index */

static atomic_uint_fast64_t failures, failures_logged;
static atomic_llong last_log;

static const char *const key_prefixes[] = { "/engine:", "/uri:", "pkcs11:" };

static bool is_set(const char *s)
{
	return s && *s && strcasecmp(s, "NONE") != 0;
}

static bool same(const char *a, const char *b)
{
	return is_set(a) == is_set(b) && (!is_set(a) || strcmp(a, b) == 0);
}

void stls_hsm_conf_from_settings(const struct stls_settings *s,
				 struct stls_hsm_conf *out)
{
	memset(out, 0, sizeof(*out));
	out->engine = s->engine;
	out->engine_config = s->engine_config;
	out->engine_algorithms = s->engine_algorithms;
}

void stls_hsm_conf_from_conf(const struct stls_conf *c,
			     struct stls_hsm_conf *out)
{
	const struct stls_loc *l;

	stls_hsm_conf_from_settings(&c->tls, out);
	if ((l = stls_conf_tls_loc(c, "engine"))) {
		out->engine_loc = *l;
	}
	if ((l = stls_conf_tls_loc(c, "engine_config"))) {
		out->config_loc = *l;
	}
	if ((l = stls_conf_tls_loc(c, "engine_algorithms"))) {
		out->algorithms_loc = *l;
	}
}

static void diag_at(struct stls_diag *d, const struct stls_loc *loc,
		    const char *key, const char *msg)
{
	stls_diag_add(d, STLS_DIAG_ERROR, loc->line ? loc->file : NULL,
		      loc->line, "%s: %s", key, msg);
}

static int remember(const struct stls_hsm_conf *c)
{
	cur_engine = is_set(c->engine) ? strdup(c->engine) : NULL;
	cur_config = is_set(c->engine_config) ? strdup(c->engine_config)
					      : NULL;
	cur_algorithms = is_set(c->engine_algorithms)
				 ? strdup(c->engine_algorithms) : NULL;
	if ((is_set(c->engine) && !cur_engine) ||
	    (is_set(c->engine_config) && !cur_config) ||
	    (is_set(c->engine_algorithms) && !cur_algorithms)) {
		return -ENOMEM;
	}
	return 0;
}

static void forget(void)
{
	free(cur_engine);
	free(cur_config);
	free(cur_algorithms);
	cur_engine = cur_config = cur_algorithms = NULL;
	module[0] = '\0';
	pin_refused = false;
	started = false;
}

static int start_engine(const struct stls_hsm_conf *c, struct stls_diag *d)
{
	struct stls_hsm_err err = { STLS_HSM_OK, "" };
	const struct stls_loc *loc = &c->engine_loc;
	int rc;

#ifdef STLS_HAVE_ENGINE
	engine_src = &stls__hsm_engine_source;
	rc = engine_src->start(c->engine, is_set(c->engine_algorithms) ?
				c->engine_algorithms : NULL,
			       !stls_log_enabled(STLS_L_DBG), &err);
	if (rc && err.cause == STLS_HSM_ENGINE_ALGORITHMS) {
		diag_at(d, &c->algorithms_loc, "engine_algorithms", err.msg);
		engine_src = NULL;
		return rc;
	}
#else
	rc = -ENODEV;
	stls__hsm_err_set(&err, STLS_HSM_NO_SUPPORT,
			  "%s: this siptls was built against OpenSSL headers "
			  "without the ENGINE API; use /uri: keys with a "
			  "provider (docs/hsm.md)",
			  stls_hsm_cause_names[STLS_HSM_NO_SUPPORT]);
#endif
	if (rc) {
		diag_at(d, loc, "engine", err.msg);
		engine_src = NULL;
	}
	return rc;
}

static int init_locked(const struct stls_hsm_conf *c, struct stls_diag *d)
{
	int rc = 0;

	if (started) {
		return same(c->engine, cur_engine) &&
		       same(c->engine_config, cur_config) &&
		       same(c->engine_algorithms, cur_algorithms) ? 0
								   : -EALREADY;
	}
	if (!is_set(c->engine) && !is_set(c->engine_config)) {
		return 0;
	}
	if (key_mark < 0) {
		key_mark = EVP_PKEY_get_ex_new_index(0, NULL, NULL, NULL,
						     NULL);
	}
	if (is_set(c->engine_config)) {
		rc = stls__hsm_conf_apply(c->engine_config, c->engine,
					  &c->config_loc, d, module,
					  sizeof(module));
	}
	if (!rc && is_set(c->engine)) {
		rc = start_engine(c, d);
	}
	stls__hsm_keep_engines();
	if (!rc) {
		rc = remember(c);
	}
	if (rc) {
		forget();
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	started = true;
	return 0;
}

int stls_hsm_init(const struct stls_hsm_conf *c, struct stls_diag *diag)
{
	int rc;

	pthread_mutex_lock(&lock);
	rc = init_locked(c, diag);
	pthread_mutex_unlock(&lock);
	return rc;
}

bool stls_hsm_has_engine(void)
{
	bool r;

	pthread_mutex_lock(&lock);
	r = engine_src != NULL;
	pthread_mutex_unlock(&lock);
	return r;
}

void stls_hsm_fini(void)
{
	pthread_mutex_lock(&lock);
	if (engine_src && engine_src->stop) {
		engine_src->stop();
	}
	engine_src = NULL;
	forget();
	pthread_mutex_unlock(&lock);
}

bool stls_hsm_is_key_id(const char *key)
{
	size_t i;

	for (i = 0; key && i < STLS_ARRAY_SIZE(key_prefixes); i++) {
		if (strncasecmp(key, key_prefixes[i],
				strlen(key_prefixes[i])) == 0) {
			return true;
		}
	}
	return false;
}

/* "object not found" from the engine: is it the token or the key? */
static void name_missing(const char *uri, struct stls_hsm_err *err, int *rc)
{
	if (err->cause != STLS_HSM_KEY_NOT_FOUND || !stls_p11uri_is(uri) ||
	    stls__p11_token_present(module, uri) != 0) {
		return;
	}
	stls__hsm_err_set(err, STLS_HSM_TOKEN_ABSENT,
			  "%s: no token present matches the URI's token "
			  "attributes", stls_hsm_cause_names
			  [STLS_HSM_TOKEN_ABSENT]);
	*rc = -ENODEV;
}

/* What to do about the common causes, after the engine's own words. */
static void add_hint(struct stls_hsm_err *err)
{
	const char *hint;
	size_t n = strlen(err->msg);

	switch (err->cause) {
	case STLS_HSM_PIN_MISSING:
		hint = "the token wants a PIN: set PIN in engine_config's "
		       "engine section, pin-value in the URI, or the "
		       "profile's private_key_password";
		break;
	case STLS_HSM_KEY_NOT_FOUND:
		hint = "the token is there but holds no private key with "
		       "that label (object=) or id (id=)";
		break;
	case STLS_HSM_KEY_ID_INVALID:
		hint = "the engine does not understand this key id (the "
		       "pkcs11 engine wants an RFC 7512 URI)";
		break;
	default:
		return;
	}
	snprintf(err->msg + n, sizeof(err->msg) - n, " (%s)", hint);
}

/* Whether the PIN offered for <id> comes from engine_config. */
static bool pin_from_config(const char *id, const char *pin)
{
	char tmp[2];

	return !pin && stls_p11uri_get(id, "pin-value", tmp, sizeof(tmp)) ==
			       -ENOENT;
}

static int load_engine(const char *id, const char *pin, EVP_PKEY **out,
		       struct stls_hsm_err *err)
{
	int rc;

	if (!engine_src) {
		stls__hsm_err_set(err, STLS_HSM_NO_ENGINE,
				  "%s: set [tls] engine (e.g. engine = "
				  "pkcs11) for engine keys",
				  stls_hsm_cause_names[STLS_HSM_NO_ENGINE]);
		return -ENODEV;
	}
	if (pin_refused && pin_from_config(id, pin)) {
		stls__hsm_err_set(err, STLS_HSM_PIN_REFUSED,
				  "%s: the token refused the PIN of "
				  "engine_config earlier; not offered again "
				  "(tokens lock after a few wrong PINs): fix "
				  "it and restart",
				  stls_hsm_cause_names[STLS_HSM_PIN_REFUSED]);
		return -EACCES;
	}
	rc = engine_src->load(id, pin, out, err);
	if (rc && err->cause == STLS_HSM_PIN_REFUSED &&
	    pin_from_config(id, pin)) {
		pin_refused = true;
	}
	if (rc) {
		name_missing(id, err, &rc);
		add_hint(err);
	}
	return rc;
}

int stls_hsm_key_load(const char *id, const char *pin, EVP_PKEY **out,
		      struct stls_hsm_err *err)
{
	int rc;

	err->cause = STLS_HSM_OK;
	err->msg[0] = '\0';
	pthread_mutex_lock(&lock);
	if (strncasecmp(id, "/uri:", 5) == 0) {
		rc = stls__hsm_store_source.load(id + 5, pin, out, err);
	} else if (strncasecmp(id, "/engine:", 8) == 0) {
		rc = load_engine(id + 8, pin, out, err);
	} else if (engine_src) {
		rc = load_engine(id, pin, out, err);
	} else {
		rc = stls__hsm_store_source.load(id, pin, out, err);
	}
	if (!rc && key_mark >= 0) {
		(void)EVP_PKEY_set_ex_data(*out, key_mark, (void *)&key_mark);
	}
	pthread_mutex_unlock(&lock);
	ERR_clear_error();
	return rc;
}

bool stls_hsm_key_is_hsm(const EVP_PKEY *key)
{
	return key && key_mark >= 0 &&
	       EVP_PKEY_get_ex_data(key, key_mark) == &key_mark;
}

static long long now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

void stls_hsm_key_failed(const char *who, const char *detail)
{
	uint64_t n = atomic_fetch_add(&failures, 1) + 1;
	long long now = now_sec(), last = atomic_load(&last_log);
	uint64_t before;

	if (last && now - last < STLS_HSM_LOG_INTERVAL) {
		return;
	}
	if (!atomic_compare_exchange_strong(&last_log, &last, now ? now : 1)) {
		return; /* another thread logs this interval */
	}
	before = atomic_exchange(&failures_logged, n);
	STLS_WARN("hsm: %s: private key operation failed in a handshake "
		  "(%llu failed since the last report, %llu in all; token "
		  "removed or key deleted?): %s; next report in %d s at "
		  "most", who, (unsigned long long)(n - before),
		  (unsigned long long)n, detail, STLS_HSM_LOG_INTERVAL);
}

uint64_t stls_hsm_key_failures(void)
{
	return atomic_load(&failures);
}
