/*
 * What a daemon calls to get its profiles from a database: the rows of
 * the table, converted (db_conv.c) with the main config's directory and
 * key password, and, if asked, built into a profile set. Database
 * failures go to the diag as well, so that `--check` and a refused reload
 * list them with the other problems.
 */
#include "db/db_int.h"

#include <errno.h>

int stls_db_profiles_load(struct stls_db *db, const struct stls_conf *conf,
			  const struct stls_settings *s,
			  const char *key_password,
			  struct stls_profile_conf **list, uint8_t digest[32],
			  struct stls_diag *diag)
{
	struct stls_db_conv_opts o = {
		.table = db->src.table,
		.base_dir = conf ? conf->base_dir : NULL,
		.key_password = key_password ? key_password
			      : s ? s->private_key_password : NULL,
	};
	struct stls_db_rows *rows = NULL;
	struct stls_db_err err;
	int rc;

	*list = NULL;
	rc = stls_db_load_rows(db, &rows, &err);
	if (rc) {
		stls_diag_err(diag, NULL, 0, "%s", err.msg);
		return rc;
	}
	if (digest) {
		rc = stls_db_rows_digest(rows, digest);
	}
	if (!rc) {
		rc = stls_db_conv_rows(rows, conf, &o, list, diag);
	}
	stls_db_rows_free(rows);
	return rc;
}

int stls_db_profile_set_build(struct stls_db *db,
			      const struct stls_conf *conf,
			      const struct stls_settings *s,
			      const char *key_password,
			      struct stls_diag *diag,
			      struct stls_profile_set **out)
{
	struct stls_profile_conf *list = NULL;
	int rc;

	rc = stls_db_profiles_load(db, conf, s, key_password, &list, NULL,
				   diag);
	if (!rc) {
		rc = stls_profile_set_build(s, list, diag, out);
	}
	stls_profile_conf_list_free(list);
	return rc;
}
