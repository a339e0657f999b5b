/*
 * siptlsctl -t: JSON results as readable text tables.
 */
#ifndef STLS_TABLE_H
#define STLS_TABLE_H

#include <stdio.h>

#include "stls/json.h"

/*
 * Prints <v> for a human: an array of objects as aligned columns (one row
 * per element, the union of keys as headers, "-" for missing cells), an
 * object as aligned "key: value" lines, an array of scalars one per line,
 * a scalar as plain text (strings without quotes). Nested values appear as
 * compact JSON; newlines and control characters in cells become spaces.
 * Returns 0 or -ENOMEM (or -EIO on a write error).
 */
STLS_MUST_USE int stls_table_print(FILE *f, const struct stls_json *v);

#endif
