/*
 * The snapshot of the last profile rows that built (dbsrc.h, "Database
 * away"): an SQLite file holding one table named as the source's, with the
 * source's columns and rows as text, so that loading it goes through the
 * same lib/db path and its problems name the same rows.
 *
 * Written atomically: a new file next to the target (mode 0600: rows may
 * hold encrypted keys), committed, then renamed over it. Any thread.
 */
#ifndef STLSD_SNAPSHOT_H
#define STLSD_SNAPSHOT_H

#include "stls/db.h"

/*
 * Writes <rows> as table <table> to <path>. Returns 0 or -errno with
 * err set (nothing replaced).
 */
STLS_MUST_USE int stls_snapshot_write(const char *path, const char *table,
				      const struct stls_db_rows *rows,
				      struct stls_db_err *err);

/*
 * Reads the rows back. Returns 0 and *out, -ENOENT (no snapshot), or
 * -errno with err set.
 */
STLS_MUST_USE int stls_snapshot_read(const char *path, const char *table,
				     struct stls_db_rows **out,
				     struct stls_db_err *err);

#endif
