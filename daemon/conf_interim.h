/*
 * INTERIM main-config reader, until lib/conf (stls_conf_load) is merged.
 *
 * It reads just enough of the main config's grammar to give siptlsd its
 * [core] section and [tls] connection_timeout: `[section]` headers,
 * `key = value` lines, `#` comments, optional double quotes around a
 * value. Profile sections ([server:...], [client:...]) and every other
 * section are kept as sections too; nothing else is interpreted. The lead
 * replaces the call in main.c with lib/conf and deletes this file.
 */
#ifndef STLSD_CONF_INTERIM_H
#define STLSD_CONF_INTERIM_H

#include "stls/conf.h"
#include "stls/diag.h"

/*
 * Reads <path> into a list of sections (*out, owned by the caller: free
 * with stls__interim_conf_free()). Syntax errors go to <diag> as
 * "FILE:LINE: reason". Returns 0, -EINVAL (errors added) or -errno when
 * the file cannot be read. <path> must outlive the sections (their
 * locations point to it).
 */
STLS_MUST_USE int stls__interim_conf_load(const char *path,
					  struct stls_section **out,
					  struct stls_diag *diag);

void stls__interim_conf_free(struct stls_section *s);

/* The section named <name>, or NULL. */
const struct stls_section *stls__interim_conf_find(
	const struct stls_section *s, const char *name);

#endif
