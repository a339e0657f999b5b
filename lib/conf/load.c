/*
 * Loading: the main config, its [tls] section, inline profiles, then the
 * tls.cfg file or directory named by `config`, and the completion of the
 * profile list (template defaults, duplicates, implicit defaults, or the
 * modparam-mode defaults). Directory mode reads the regular files of the
 * directory in sorted name order, skipping hidden files and editor backups
 * ("~"), each under its own name so that messages point at the real file
 * and line (Kamailio concatenates them into a temporary file instead).
 */
#include "conf_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stls/secret.h"

/* Larger config files are refused: nothing legitimate comes close. */
#define MAX_FILE_SIZE (16 * 1024 * 1024)
#define MAX_DIR_FILES 4096

struct conf_priv {
	struct stls__names *names;
	const char *main_name; /* interned main file name */
	struct stls_loc tls_loc[STLS_SETTINGS_MAX];
};

static int read_file(const char *path, char **buf, size_t *len,
		     struct stls_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!f) {
		err = -errno;
		stls_diag_err(diag, path, 0, "cannot open: %s", strerror(-err));
		return err;
	}
	for (;;) {
		if (n == cap) {
			char *d;

			cap = cap ? cap * 2 : 4096;
			if (cap > MAX_FILE_SIZE + 1 || !(d = realloc(data, cap))) {
				err = cap > MAX_FILE_SIZE + 1 ? -EFBIG : -ENOMEM;
				break;
			}
			data = d;
		}
		size_t r = fread(data + n, 1, cap - n, f);

		n += r;
		if (r == 0) {
			if (ferror(f)) {
				err = -EIO;
			}
			break;
		}
	}
	fclose(f);
	if (err) {
		stls_diag_err(diag, path, 0, "cannot read: %s", strerror(-err));
		free(data);
		return err;
	}
	*buf = data;
	*len = n;
	return 0;
}

static int parse_file(struct stls__parser *p, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int err;

	err = read_file(path, &data, &len, p->diag);
	if (err) {
		return err == -ENOMEM ? err : 0;
	}
	err = stls__parse_buffer(p, path, data ? data : "", len);
	free(data);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool skip_entry(const char *dir, const char *name, char *path,
		       size_t size)
{
	struct stat st;
	size_t len = strlen(name);

	if (name[0] == '.' || len == 0 || name[len - 1] == '~') {
		return true;
	}
	snprintf(path, size, "%s/%s", dir, name);
	return stat(path, &st) != 0 || !S_ISREG(st.st_mode);
}

/* Collects the file names of dir, sorted. */
static int list_dir(const char *dir, char ***out, size_t *count,
		    struct stls_diag *diag)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL, path[4096];
	size_t n = 0;
	int err = 0;

	if (!d) {
		err = -errno;
		stls_diag_err(diag, dir, 0, "cannot open directory: %s",
			      strerror(-err));
		return err;
	}
	while ((e = readdir(d)) && n < MAX_DIR_FILES) {
		char **nv;

		if (skip_entry(dir, e->d_name, path, sizeof(path))) {
			continue;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(path))) {
			v = nv ? nv : v;
			err = -ENOMEM;
			break;
		}
		v = nv;
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	*count = n;
	return err;
}

/* Parses the tls.cfg file or directory path into the parser's list. */
static int parse_config(struct stls__parser *p, const char *path)
{
	struct stat st;
	char **files = NULL;
	size_t n = 0, i;
	int err;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		return parse_file(p, path);
	}
	err = list_dir(path, &files, &n, p->diag);
	for (i = 0; i < n; i++) {
		if (!err) {
			err = parse_file(p, files[i]);
		}
		free(files[i]);
	}
	free(files);
	return err == -ENOMEM ? err : 0;
}

int stls__conf_complete(struct stls_profile_conf **list, const char *base_dir,
			struct stls__names *names, bool implicit,
			struct stls_diag *diag)
{
	struct stls_profile_conf *p;

	for (p = *list; p; p = p->next) {
		if (stls__profile_fill(p, base_dir)) {
			return -ENOMEM;
		}
	}
	stls__profiles_check_dups(*list, diag);
	return implicit ? stls__profiles_add_implicit(list, base_dir, names)
			: 0;
}

/*
 * A database `config`: without STLS_CONF_LOAD_DB an error (the caller
 * cannot read it); with it the inline profiles are completed without
 * implicit defaults, and the caller adds the rows (lib/db).
 */
static int db_profiles(const struct stls_settings *s, const char *base_dir,
		       struct stls__names *names,
		       struct stls_profile_conf **list, unsigned flags,
		       struct stls_diag *diag)
{
	char shown[1024];

	if (!(flags & STLS_CONF_LOAD_DB)) {
		stls_diag_err(diag, NULL, 0,
			      "config: '%s' names a database; this program "
			      "reads profiles from tls.cfg files only",
			      stls_conf_src_redact(s->config, shown,
						   sizeof(shown)));
		return 0;
	}
	return stls__conf_complete(list, base_dir, names, false, diag);
}

/*
 * Completes the list: parses `config` (appending to *list, which holds the
 * inline profiles), or makes the modparam defaults when nothing is
 * defined; then fills, checks duplicates and adds implicit defaults.
 */
static int build_profiles(const struct stls_settings *s, const char *base_dir,
			  struct stls__names *names,
			  struct stls_profile_conf **list, unsigned flags,
			  struct stls_diag *diag, bool *modparam)
{
	struct stls_profile_conf **tail = list;
	struct stls__parser ps = { .mode = STLS__PARSE_TLSCFG,
				   .base_dir = base_dir,
				   .names = names,
				   .diag = diag };
	int err;

	*modparam = false;
	while (*tail) {
		tail = &(*tail)->next;
	}
	if (stls_conf_src_is_db(s->config)) {
		return db_profiles(s, base_dir, names, list, flags, diag);
	}
	if (s->config && s->config[0]) {
		ps.prof_tail = tail;
		err = parse_config(&ps, s->config);
		if (err) {
			return err;
		}
	} else if (!*list) {
		*modparam = true;
		return stls__profiles_from_settings(s, base_dir, names, list);
	}
	return stls__conf_complete(list, base_dir, names, true, diag);
}

static int finish(int err, size_t errors_before, struct stls_diag *diag,
		  struct stls_profile_conf **list)
{
	if (!err && diag->errors > errors_before) {
		err = -EINVAL;
	}
	if (err) {
		stls_profile_conf_list_free(*list);
		*list = NULL;
	}
	return err;
}

int stls_conf_load_profiles(const struct stls_settings *s,
			    const char *base_dir,
			    struct stls_profile_conf **list,
			    struct stls_diag *diag)
{
	struct stls__names *names = stls__names_new();
	size_t before = diag->errors;
	bool modparam;
	int err;

	*list = NULL;
	if (!names) {
		return -ENOMEM;
	}
	err = build_profiles(s, base_dir, names, list, 0, diag, &modparam);
	stls__names_unref(names);
	return finish(err, before, diag, list);
}

int stls__conf_copy_inline(const struct stls_conf *conf,
			   struct stls_profile_conf ***tail)
{
	const struct conf_priv *priv = conf->pool;
	const struct stls_profile_conf *p;
	int err = 0;

	for (p = conf->profiles; p && !err; p = p->next) {
		if (!p->implicit && p->loc.file == priv->main_name) {
			err = stls_profile_conf_dup(p, *tail);
			*tail = err ? *tail : &(**tail)->next;
		}
	}
	return err;
}

int stls_conf_reload_profiles(const struct stls_conf *conf,
			      const struct stls_settings *s,
			      struct stls_profile_conf **list,
			      struct stls_diag *diag)
{
	struct stls_profile_conf **tail = list;
	struct stls__names *names;
	size_t before = diag->errors;
	bool modparam;
	int err = 0;

	*list = NULL;
	err = stls__conf_copy_inline(conf, &tail);
	names = stls__names_new();
	if (!names) {
		err = -ENOMEM;
	}
	if (!err) {
		err = build_profiles(s, conf->base_dir, names, list, 0, diag,
				     &modparam);
	}
	stls__names_unref(names);
	return finish(err, before, diag, list);
}

void stls_section_list_free(struct stls_section *s)
{
	while (s) {
		struct stls_section *next = s->next;

		while (s->kvs) {
			struct stls_kv *kv = s->kvs;

			s->kvs = kv->next;
			free(kv->key);
			free(kv->value);
			free(kv);
		}
		free(s->name);
		free(s);
		s = next;
	}
}

void stls_conf_free(struct stls_conf *conf)
{
	struct conf_priv *priv;

	if (!conf) {
		return;
	}
	priv = conf->pool;
	stls_section_list_free(conf->sections);
	conf->sections = NULL;
	stls_profile_conf_list_free(conf->profiles);
	stls_settings_fini(&conf->tls);
	if (priv) {
		stls__names_unref(priv->names);
		free(priv);
	}
	free(conf->main_file);
	free(conf->base_dir);
	free(conf);
}

/* The main config's directory, made absolute so that a later chdir() of
 * the daemon does not change what relative paths mean. */
static char *abs_dir(const char *main_path)
{
	char *dir = stls__conf_dirname(main_path), *cwd, *r = NULL;

	if (!dir || dir[0] == '/') {
		return dir;
	}
	cwd = getcwd(NULL, 0);
	if (cwd && asprintf(&r, "%s%s%s", cwd,
			    strcmp(dir, ".") == 0 ? "" : "/",
			    strcmp(dir, ".") == 0 ? "" : dir) < 0) {
		r = NULL;
	}
	free(cwd);
	free(dir);
	return r;
}

/*
 * Warns about per-profile [tls] parameters that profiles make useless.
 * With a database `config`, private_key_password is not one: it opens the
 * encrypted keys held in rows (database.md).
 */
static void warn_ignored(const struct conf_priv *priv,
			 const struct stls_settings *s, struct stls_diag *diag)
{
	bool db = stls_conf_src_is_db(s->config);
	size_t i;

	for (i = 0; i < stls_setting_count(); i++) {
		const struct stls_setting_desc *d = stls_setting_at(i);

		if (db && (strcmp(d->name, "private_key_password") == 0 ||
			   strcmp(d->name, "private_key_password_file") == 0)) {
			continue;
		}
		if ((d->flags & STLS_SF_PROFILE) && priv->tls_loc[i].line) {
			stls_diag_warn(diag, priv->tls_loc[i].file,
				       priv->tls_loc[i].line,
				       "%s: ignored because profiles are "
				       "defined (config or inline sections); "
				       "set it in the profiles",
				       d->name);
		}
	}
}

/*
 * private_key_password_file: its first line becomes private_key_password
 * (stls/secret.h). Problems are errors at the key's line; returns -ENOMEM
 * only.
 */
static int read_key_password(struct stls_conf *c, struct stls_diag *diag)
{
	struct stls_settings *s = &c->tls;
	const struct stls_loc *loc;
	char pw[STLS_SECRET_MAX], why[512];
	const char *file;
	unsigned mode = 0;
	int line;

	if (!s->private_key_password_file) {
		return 0;
	}
	loc = stls_conf_tls_loc(c, "private_key_password_file");
	file = loc ? loc->file : c->main_file;
	line = loc ? loc->line : 0;
	if (s->private_key_password) {
		stls_diag_err(diag, file, line, "private_key_password_file: "
			      "private_key_password is set too; set one of "
			      "them");
		return 0;
	}
	if (stls_secret_read(s->private_key_password_file, pw, sizeof(pw),
			     &mode, why, sizeof(why))) {
		stls_diag_err(diag, file, line,
			      "private_key_password_file: %s", why);
		return 0;
	}
	if (mode & (S_IRGRP | S_IROTH)) {
		stls_diag_warn(diag, file, line,
			       "private_key_password_file: '%s' is readable by "
			       "group or others (mode %04o): chmod 600 it",
			       s->private_key_password_file, mode);
	}
	s->private_key_password = strdup(pw);
	explicit_bzero(pw, sizeof(pw));
	return s->private_key_password ? 0 : -ENOMEM;
}

static int load_main(struct stls_conf *c, struct conf_priv *priv,
		     unsigned flags, struct stls_diag *diag)
{
	struct stls__parser ps = { .mode = STLS__PARSE_MAIN,
				   .base_dir = c->base_dir,
				   .names = priv->names,
				   .diag = diag,
				   .tls = &c->tls,
				   .tls_loc = priv->tls_loc,
				   .prof_tail = &c->profiles,
				   .sec_tail = &c->sections };
	char *data = NULL;
	size_t len = 0;
	bool modparam;
	int err;

	priv->main_name = stls__names_add(priv->names, c->main_file);
	if (!priv->main_name) {
		return -ENOMEM;
	}
	err = read_file(c->main_file, &data, &len, diag);
	if (err) {
		return err;
	}
	err = stls__parse_buffer(&ps, c->main_file, data ? data : "", len);
	free(data);
	if (!err) {
		err = stls_settings_resolve_defaults(&c->tls, c->base_dir);
	}
	if (!err) {
		err = read_key_password(c, diag);
	}
	if (!err) {
		err = build_profiles(&c->tls, c->base_dir, priv->names,
				     &c->profiles, flags, diag, &modparam);
	}
	if (!err && !modparam) {
		warn_ignored(priv, &c->tls, diag);
	}
	return err;
}

int stls_conf_load(const char *main_path, struct stls_conf **out,
		   struct stls_diag *diag)
{
	return stls_conf_load_ex(main_path, 0, out, diag);
}

int stls_conf_load_ex(const char *main_path, unsigned flags,
		      struct stls_conf **out, struct stls_diag *diag)
{
	struct stls_conf *c = calloc(1, sizeof(*c));
	struct conf_priv *priv = calloc(1, sizeof(*priv));
	size_t before = diag->errors;
	int err = -ENOMEM;

	*out = NULL;
	if (!c || !priv || stls_settings_init(&c->tls)) {
		free(c);
		free(priv);
		return -ENOMEM;
	}
	c->pool = priv;
	priv->names = stls__names_new();
	c->main_file = strdup(main_path);
	c->base_dir = abs_dir(main_path);
	if (priv->names && c->main_file && c->base_dir) {
		err = load_main(c, priv, flags, diag);
	}
	if (!err && diag->errors > before) {
		err = -EINVAL;
	}
	if (err) {
		stls_conf_free(c);
		return err;
	}
	*out = c;
	return 0;
}

const struct stls_loc *stls_conf_tls_loc(const struct stls_conf *conf,
					 const char *name)
{
	const struct conf_priv *priv = conf->pool;
	const struct stls_setting_desc *d = stls_setting_find(name);
	size_t i;

	for (i = 0; d && i < stls_setting_count() && i < STLS_SETTINGS_MAX;
	     i++) {
		if (stls_setting_at(i) == d) {
			return priv->tls_loc[i].line ? &priv->tls_loc[i] : NULL;
		}
	}
	return NULL;
}
