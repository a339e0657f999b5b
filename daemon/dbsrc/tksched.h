/*
 * The schedule of a fleet's session ticket keys (dbsrc.h), as pure
 * functions of the key table's rows, the server's clock and
 * ticket_key_lifetime L, so that every edge decides alike.
 *
 * A key is current (ENCRYPT) from its active_from until the next key's;
 * the key before the current one opens tickets (RENEW) until L after the
 * current one began; a key whose time has not come yet opens tickets
 * (ACCEPT), so that an edge that hears of it late still understands the
 * tickets of an edge that began with it. Anything older is dropped: a
 * ticket under it gives a full handshake. The next key is due L/4 before
 * the current one's lifetime ends and starts when it ends (or now, when
 * there is none or it is long over).
 */
#ifndef STLSD_TKSCHED_H
#define STLSD_TKSCHED_H

#include <stdbool.h>

#include "stls/db.h"
#include "stls/tkeys.h"

/*
 * The keys a ring holds at <now>: fills keys[] and use[] (room for
 * STLS_TKEYS_MAX) and returns how many.
 */
size_t stls_tksched_ring(const struct stls_db_tkeys *t, int64_t now,
			 int64_t lifetime, struct stls_tkey *keys,
			 enum stls_tkey_use *use);

/* Whether a new key is due at <now>; if so *from is its active_from. */
bool stls_tksched_due(const struct stls_db_tkeys *t, int64_t now,
		      int64_t lifetime, int64_t *from);

#endif
