/*
 * Error messages of lib/db: "SOURCE: message", the source shown with its
 * password hidden. The lowest file of the room: every file may call it,
 * it calls none of them.
 */
#include "db/db_int.h"

#include <stdarg.h>
#include <stdio.h>

int stls__db_err(struct stls_db_err *err, const struct stls_db *db, int rc,
		 const char *fmt, ...)
{
	char msg[sizeof(err->msg) - 320];
	va_list ap;

	if (!err) {
		return rc;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (db) {
		snprintf(err->msg, sizeof(err->msg), "%.*s: %s",
			 (int)(sizeof(err->msg) - sizeof(msg) - 3),
			 db->src.shown, msg);
	} else {
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
	}
	return rc;
}
