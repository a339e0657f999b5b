/*
 * The database connection of a source: opening it, and giving it up when
 * the engine says it is gone (counted, logged; the profiles in service
 * stay). Called by the loader (dbsrc.c), the watch thread and the ticket
 * keys; calls none of them.
 */
#include "dbsrc/dbsrc_int.h"

#include "stls/log.h"

int stls__dbsrc_open(struct stls_dbsrc *ds)
{
	struct stls_db_opts o = {
		.flags = ds->watch ? STLS_DB_OPEN_WATCH : 0,
		.connect_timeout_s = 3,
	};

	return stls_db_open(ds->config, &o, &ds->db, &ds->open_err);
}

void stls__dbsrc_lost(struct stls_dbsrc *ds, const char *why)
{
	stls_db_free(ds->db);
	ds->db = NULL;
	ds->st.connected = false;
	ds->st.db_failures++;
	STLS_ERR("database %s: connection lost (%s); serving the current "
		 "profiles, reconnecting", ds->src.shown, why);
}
