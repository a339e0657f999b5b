/*
 * The fleet's session ticket keys (see dbsrc.h and tksched.h): the ring
 * every profile set uses, filled from the key table of PostgreSQL, with a
 * new key added when one is due by whichever edge gets the advisory lock.
 *
 * Until the table has been read (the database away since the start) the
 * ring holds one key of this edge alone, so that tickets still work here.
 * Key values are copied between the table's rows, the ring and this
 * file's copy only, never logged, and wiped when dropped.
 */
#include "dbsrc/dbsrc_int.h"
#include "dbsrc/tksched.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "stls/log.h"

static bool keys_on(const struct stls_dbsrc *ds)
{
	return ds->src.kind == STLS_CONF_SRC_POSTGRESQL &&
	       ds->c.core->ticket_key_lifetime > 0;
}

int stls__dbsrc_tkeys_init(struct stls_dbsrc *ds)
{
	struct stls_tkey k;
	enum stls_tkey_use u = STLS_TKEY_ENCRYPT;
	int rc;

	if (!keys_on(ds))
		return 0;
	rc = stls_tkeys_new(&ds->ring);
	if (rc)
		return rc;
	/* This edge's own key until the fleet's are read. */
	rc = stls_tkey_generate(&k);
	if (!rc)
		rc = stls_tkeys_set(ds->ring, &k, &u, 1);
	stls_tkey_wipe(&k);
	ds->ring_local = true;
	return rc;
}

void stls__dbsrc_tkeys_fini(struct stls_dbsrc *ds)
{
	stls_db_tkeys_wipe(&ds->keys);
	OPENSSL_cleanse(ds->applied, sizeof(ds->applied));
	stls_tkeys_unref(ds->ring);
	ds->ring = NULL;
}

/* Seconds a failed read or rotation waits before the next try (a table
 * not upgraded yet, or not granted, would otherwise log 4 times a second);
 * the ring keeps the keys it has. */
#define KEYS_RETRY_S 30

static int64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void keys_failed(struct stls_dbsrc *ds, int rc, const char *msg)
{
	if (rc == -ENOTCONN) {
		/* The connection's own back-off takes over. */
		stls__dbsrc_lost(ds, msg);
		return;
	}
	STLS_WARN("ticket keys: %s; the ring keeps its keys, next try in "
		  "%d s", msg, KEYS_RETRY_S);
	ds->keys_retry_at = mono_s() + KEYS_RETRY_S;
}

static int64_t server_now(const struct stls_dbsrc *ds)
{
	return (int64_t)time(NULL) + ds->clock_offset;
}

static int read_keys(struct stls_dbsrc *ds)
{
	struct stls_db_err err;
	int rc;

	stls_db_tkeys_wipe(&ds->keys);
	rc = stls_db_tkeys_load(ds->db, &ds->keys, &err);
	if (rc) {
		keys_failed(ds, rc, err.msg);
		return rc;
	}
	ds->clock_offset = ds->keys.now - (int64_t)time(NULL);
	ds->keys_loaded = true;
	ds->keys_dirty = false;
	return 0;
}

/* Under the advisory lock: read again, and add a key if still due. */
static int add_if_due(struct stls_db *db, void *arg, struct stls_db_err *err)
{
	struct stls_dbsrc *ds = arg;
	struct stls_tkey k;
	int64_t from;
	int rc;

	stls_db_tkeys_wipe(&ds->keys);
	rc = stls_db_tkeys_load(db, &ds->keys, err);
	if (rc)
		return rc;
	ds->clock_offset = ds->keys.now - (int64_t)time(NULL);
	if (!stls_tksched_due(&ds->keys, ds->keys.now,
			      ds->c.core->ticket_key_lifetime, &from))
		return 0;
	rc = stls_tkey_generate(&k);
	if (!rc)
		rc = stls_db_tkeys_add(db, from, &k, err);
	stls_tkey_wipe(&k);
	if (!rc)
		ds->st.tkeys_rotations++;
	return rc;
}

static void rotate(struct stls_dbsrc *ds)
{
	struct stls_db_err err;
	bool ran = false;
	int rc = stls_db_tkeys_locked(ds->db, add_if_due, ds, &ran, &err);

	if (rc) {
		keys_failed(ds, rc, err.msg);
		return;
	}
	if (ran)
		read_keys(ds);
}

/* The ring as the schedule wants it now, set when it differs. */
static void apply(struct stls_dbsrc *ds)
{
	struct stls_tkey keys[STLS_TKEYS_MAX];
	enum stls_tkey_use use[STLS_TKEYS_MAX];
	size_t n = stls_tksched_ring(&ds->keys, server_now(ds),
				     ds->c.core->ticket_key_lifetime, keys,
				     use);

	if (n == 0 || (!ds->ring_local && n == ds->n_applied &&
		       CRYPTO_memcmp(keys, ds->applied,
				     n * sizeof(keys[0])) == 0 &&
		       memcmp(use, ds->applied_use, n * sizeof(use[0])) == 0)) {
		OPENSSL_cleanse(keys, sizeof(keys));
		return;
	}
	if (stls_tkeys_set(ds->ring, keys, use, n) == 0) {
		memcpy(ds->applied, keys, n * sizeof(keys[0]));
		memcpy(ds->applied_use, use, n * sizeof(use[0]));
		ds->n_applied = n;
		ds->ring_local = false;
		ds->st.tkeys_updates++;
	}
	OPENSSL_cleanse(keys, sizeof(keys));
}

void stls__dbsrc_tkeys_step(struct stls_dbsrc *ds)
{
	int64_t from;

	if (!ds->ring || !ds->db || mono_s() < ds->keys_retry_at)
		return;
	if ((!ds->keys_loaded || ds->keys_dirty) && read_keys(ds))
		return;
	if (ds->db && stls_tksched_due(&ds->keys, server_now(ds),
				       ds->c.core->ticket_key_lifetime,
				       &from))
		rotate(ds);
	if (ds->keys_loaded)
		apply(ds);
}
