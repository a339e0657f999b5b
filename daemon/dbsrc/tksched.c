/*
 * The ticket key schedule (see tksched.h). Rows come newest first.
 */
#include "dbsrc/tksched.h"

/* Index of the current key (newest with active_from <= now), or n. */
static size_t current(const struct stls_db_tkeys *t, int64_t now)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].active_from <= now)
			return i;
	}
	return t->n;
}

size_t stls_tksched_ring(const struct stls_db_tkeys *t, int64_t now,
			 int64_t lifetime, struct stls_tkey *keys,
			 enum stls_tkey_use *use)
{
	size_t i, n = 0, cur = current(t, now);

	for (i = 0; i < t->n && n < STLS_TKEYS_MAX; i++) {
		enum stls_tkey_use u;

		if (i < cur) {
			u = STLS_TKEY_ACCEPT;
		} else if (i == cur) {
			u = STLS_TKEY_ENCRYPT;
		} else if (i == cur + 1 &&
			   now < t->v[cur].active_from + lifetime) {
			u = STLS_TKEY_RENEW;
		} else {
			break;
		}
		keys[n] = t->v[i].key;
		use[n++] = u;
	}
	return n;
}

bool stls_tksched_due(const struct stls_db_tkeys *t, int64_t now,
		      int64_t lifetime, int64_t *from)
{
	size_t cur = current(t, now);
	int64_t end;

	if (cur > 0)
		return false; /* a next key is already there */
	if (cur == t->n) {
		*from = now;
		return true;
	}
	end = t->v[cur].active_from + lifetime;
	if (now < end - lifetime / 4)
		return false;
	*from = end > now ? end : now;
	return true;
}
