/*
 * siptlsctl -t: JSON results as readable text tables.
 */
#ifndef STLS_TABLE_H
#define STLS_TABLE_H

#include <jansson.h>
#include <stdio.h>

#include "stls/common.h"

/*
 * Prints <v> for a human: an array of objects as aligned columns (one row
 * per element, the union of keys as headers, "-" for missing cells), an
 * object as aligned "key: value" lines, an array of scalars one per line,
 * a scalar as plain text (strings without quotes). Nested values appear as
 * compact JSON; newlines and control characters in cells become spaces.
 * Columns and lines follow the members' order (jansson keeps insertion
 * order, which is the daemon's order). <v> is borrowed. Returns 0 or
 * -ENOMEM (or -EIO on a write error).
 */
STLS_MUST_USE int stls_table_print(FILE *f, json_t *v);

#endif
