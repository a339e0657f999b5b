/*
 * What every write of `siptlsctl db` runs before it commits: the rows as
 * the transaction sees them become the profile set a daemon would build
 * (same conversion, same build: every file read, every key checked), so
 * that nothing is written that siptlsd would refuse. And the parsing of
 * a profile given on the command line, with the tls.cfg keyword table.
 */
#include "db_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int stls__db_check(struct db_ctx *c, size_t *nprofiles,
		   struct stls_db_err *err)
{
	struct stls_db_conv_opts o = { stls_db_table(c->db), c->base_dir,
				       stls__db_key_password(c) };
	struct stls_profile_conf *list = NULL;
	struct stls_profile_set *set = NULL;
	struct stls_db_rows *rows = NULL;
	struct stls_diag d;
	int rc;

	rc = stls_db_load_rows(c->db, &rows, err);
	if (rc) {
		return rc;
	}
	stls_diag_init(&d);
	rc = stls_db_conv_rows(rows, c->conf, &o, &list, &d);
	if (!rc) {
		rc = stls_profile_set_build(c->s, list, &d, &set);
	}
	if (!rc && nprofiles) {
		*nprofiles = stls_profile_set_count(set);
	}
	stls_diag_print(&d, stderr);
	if (rc == -EINVAL) {
		snprintf(err->msg, sizeof(err->msg),
			 "refused: the table would not load (%zu problem%s "
			 "above); nothing was written", d.errors,
			 d.errors == 1 ? "" : "s");
	} else if (rc) {
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-rc));
	}
	stls_diag_fini(&d);
	stls_profile_set_unref(set);
	stls_profile_conf_list_free(list);
	stls_db_rows_free(rows);
	return rc;
}

int stls__db_cmd_check(struct db_ctx *c)
{
	struct stls_db_err err = { "" };
	size_t n = 0;

	if (stls__db_check(c, &n, &err)) {
		if (strncmp(err.msg, "refused: ", 9) == 0) {
			return stls__db_fail(c, "table %s does not load "
					     "(problems above)",
					     stls_db_table(c->db));
		}
		return stls__db_fail(c, "%s", err.msg);
	}
	printf("table %s loads: %zu profiles (defaults included)\n",
	       stls_db_table(c->db), n);
	return DB_EXIT_OK;
}

/* Splits "KEY=VALUE"; NULL value when there is no '='. */
static const char *split_kv(const char *arg, char *key, size_t len)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;

	if (!eq || n == 0 || n >= len) {
		return NULL;
	}
	memcpy(key, arg, n);
	key[n] = '\0';
	return eq + 1;
}

static int apply_args(struct db_ctx *c, struct stls_conf_recs *r, char **kv,
		      int n, const char **nulls, size_t *nnulls,
		      struct stls_diag *d)
{
	struct stls_pkey_info ki;
	char key[128], at[160];
	const char *v;
	int i, k, rc;

	for (i = 0; i < n; i++) {
		v = split_kv(kv[i], key, sizeof(key));
		if (!v) {
			return stls__db_usage(c->cmd, "'%s' is not KEY=VALUE",
					      kv[i]);
		}
		k = stls_profile_key_find(key);
		if (k < 0 || !stls_profile_key_at((size_t)k, &ki)) {
			return stls__db_fail(c, "%s: no such profile key",
					     key);
		}
		if (!v[0]) {
			nulls[(*nnulls)++] = ki.name;
			continue;
		}
		snprintf(at, sizeof(at), "argument %s", key);
		rc = stls_conf_recs_apply(r, ki.name, v, at, d);
		if (rc == -ENOMEM) {
			return stls__db_fail(c, "out of memory");
		}
	}
	return 0;
}

int stls__db_profile_of_args(struct db_ctx *c, const char *header,
			     char **kv, int n, struct stls_profile_conf **out,
			     const char ***nulls, size_t *nnulls)
{
	const char *colon = strchr(header, ':');
	char type[32], *cwd = getcwd(NULL, 0);
	struct stls_conf_rec_hdr h = { type, "argument TYPE:NAME",
				       colon ? colon + 1 : "",
				       "argument TYPE:NAME", "argument" };
	struct stls_profile_conf *list = NULL;
	struct stls_conf_recs *r = NULL;
	struct stls_diag d;
	int rc;

	*nnulls = 0;
	*nulls = calloc((size_t)n + 1, sizeof(**nulls));
	stls_diag_init(&d);
	if (!colon || (size_t)(colon - header) >= sizeof(type)) {
		rc = stls__db_usage(c->cmd, "'%s': the profile is TYPE:NAME, "
				    "e.g. server:10.0.0.1:5061", header);
		goto out;
	}
	snprintf(type, sizeof(type), "%.*s", (int)(colon - header), header);
	rc = !cwd || !*nulls || stls_conf_recs_new(cwd, &r) ?
		     stls__db_fail(c, "out of memory") : 0;
	if (!rc && stls_conf_recs_push(r, &h, &d) == -ENOMEM) {
		rc = stls__db_fail(c, "out of memory");
	}
	if (!rc) {
		rc = apply_args(c, r, kv, n, *nulls, nnulls, &d);
	}
	if (!rc && stls_conf_recs_build(r, NULL, &list, &d)) {
		rc = DB_EXIT_FAIL;
	}
	stls_diag_print(&d, stderr);
	if (!rc) {
		stls_profile_conf_list_free(list->next);
		list->next = NULL;
		*out = list;
	}
out:
	if (rc) {
		free(*nulls);
		*nulls = NULL;
	}
	stls_conf_recs_free(r);
	stls_diag_fini(&d);
	free(cwd);
	return rc;
}
