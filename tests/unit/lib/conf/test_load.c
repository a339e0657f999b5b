/*
 * Unit tests for lib/conf/load.c: the main config, tls.cfg files and
 * directories, path rules, modparam mode, warnings, reload and errors
 * naming the real file and line.
 */
#include "lib/conf/conf_test_util.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static struct stls_diag D;

static struct stls_conf *load_ok(const char *path)
{
	struct stls_conf *c = NULL;
	int rc = stls_conf_load(path, &c, &D);

	if (rc) {
		diag_dump(&D);
	}
	CHECK_OK(rc);
	CHECK_NOT_NULL(c);
	return c;
}

static int count(const struct stls_profile_conf *p)
{
	int n = 0;

	for (; p; p = p->next) {
		n++;
	}
	return n;
}

TEST(main_config_with_tls_cfg_file)
{
	const char *dir = test_tmp_dir();
	char want[1024];
	struct stls_conf *c;
	const struct stls_profile_conf *p;

	stls_diag_init(&D);
	write_file(dir, "tls.cfg",
		   "[server:default]\ncertificate = s.pem\n"
		   "private_key = s.key\n[client:any]\nserver_name = x.org\n");
	c = load_ok(write_file(dir, "siptls.conf",
			       "[core]\nlisten = tls:127.0.0.1:5061\n[tls]\n"
			       "config = tls.cfg\nconnection_timeout = 60\n"));
	CHECK_EQ(D.errors, 0);
	CHECK_EQ(c->tls.connection_timeout, 60);
	CHECK_STR_EQ(c->base_dir, dir);
	snprintf(want, sizeof(want), "%s/tls.cfg", dir);
	CHECK_STR_EQ(c->tls.config, want);
	snprintf(want, sizeof(want), "%s/cert.pem", dir);
	CHECK_STR_EQ(c->tls.certificate, want);
	CHECK_STR_EQ(c->sections->name, "core");
	CHECK_EQ(count(c->profiles), 3); /* + implicit client default */
	p = c->profiles;
	snprintf(want, sizeof(want), "%s/s.pem", dir);
	CHECK_STR_EQ(p->certificate, want);
	snprintf(want, sizeof(want), "%s/tls.cfg", dir);
	CHECK_STR_EQ(p->loc.file, want);
	CHECK_EQ(p->next->kind, STLS_PROF_ANY);
	CHECK(p->next->next->implicit);
	CHECK_EQ(p->next->next->role, STLS_ROLE_CLIENT);
	stls_conf_free(c);
	stls_diag_fini(&D);
}

TEST(modparam_mode_when_no_profile_exists)
{
	const char *dir = test_tmp_dir();
	char want[1024];
	struct stls_conf *c;

	stls_diag_init(&D);
	c = load_ok(write_file(dir, "m.conf",
			       "[tls]\ntls_method = TLSv1.3\n"
			       "certificate = ./server-test.pem\n"
			       "private_key = ./server-test.pem\n"
			       "ca_list = ./calist.pem\n"));
	CHECK_EQ(D.n, 0);
	CHECK_EQ(count(c->profiles), 2);
	CHECK(c->profiles->implicit);
	CHECK_EQ(c->profiles->method, STLS_METHOD_TLSV1_3);
	CHECK_STR_EQ(c->profiles->next->certificate, "./server-test.pem");
	CHECK_STR_EQ(c->profiles->next->ca_list, "./calist.pem");
	stls_conf_free(c);

	c = load_ok(write_file(dir, "empty.conf", "# nothing at all\n"));
	snprintf(want, sizeof(want), "%s/cert.pem", dir);
	CHECK_STR_EQ(c->profiles->certificate, want);
	CHECK_STR_EQ(c->profiles->next->certificate, want);
	CHECK_EQ(c->profiles->method, STLS_METHOD_TLSV1_2_PLUS);
	stls_conf_free(c);
	stls_diag_fini(&D);
}

TEST(tls_parameter_locations_for_hsm_messages)
{
	const char *dir = test_tmp_dir();
	const struct stls_loc *l;
	struct stls_conf *c;
	const char *path;

	stls_diag_init(&D);
	path = write_file(dir, "h.conf",
			  "[tls]\n# the seed's HSM parameters\n"
			  "engine = pkcs11\nengine_config = openssl.cnf\n"
			  "private_key = pkcs11:token=T;object=K\n");
	c = load_ok(path);
	l = stls_conf_tls_loc(c, "engine");
	CHECK_NOT_NULL(l);
	CHECK_EQ(l->line, 3);
	CHECK_STR_EQ(l->file, path);
	CHECK_EQ(stls_conf_tls_loc(c, "engine_config")->line, 4);
	CHECK_NULL(stls_conf_tls_loc(c, "engine_algorithms"));
	CHECK_NULL(stls_conf_tls_loc(c, "no_such_parameter"));
	CHECK_STR_EQ(c->profiles->private_key, "pkcs11:token=T;object=K");
	stls_conf_free(c);
	stls_diag_fini(&D);
}

TEST(inline_profiles_and_ignored_tls_parameters_warn)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c;
	char want[1200];

	stls_diag_init(&D);
	c = load_ok(write_file(dir, "m.conf",
			       "[tls]\nverify_depth = 3\nsession_cache = 1\n"
			       "[server:default]\ncertificate = a.pem\n"));
	snprintf(want, sizeof(want), "%s/m.conf:2: warning: verify_depth: "
		 "ignored because profiles are defined (config or inline "
		 "sections); set it in the profiles", dir);
	CHECK_DIAG(&D, want);
	CHECK_EQ(D.warnings, 1);
	CHECK_EQ(c->profiles->verify_depth, 9);
	CHECK_EQ(count(c->profiles), 2);
	stls_conf_free(c);
	stls_diag_fini(&D);
}

TEST(errors_name_the_real_file_and_line_and_all_are_reported)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c = (struct stls_conf *)1;
	char want[1024];

	stls_diag_init(&D);
	write_file(dir, "tls.cfg",
		   "[server:default]\nverify_depth = x\n[server:default]\n");
	CHECK_EQ(stls_conf_load(write_file(dir, "m.conf",
					   "[tls]\nconfig = tls.cfg\n"
					   "nosuch = 1\n[server:any]\n"),
				&c, &D),
		 -EINVAL);
	CHECK_NULL(c);
	snprintf(want, sizeof(want), "%s/m.conf:3: unknown [tls] parameter "
		 "'nosuch'", dir);
	CHECK_DIAG(&D, want);
	snprintf(want, sizeof(want), "%s/m.conf:4: profile [server:any] has "
		 "no server_name (an 'any' profile is matched by SNI only)",
		 dir);
	CHECK_DIAG(&D, want);
	snprintf(want, sizeof(want), "%s/tls.cfg:2: verify_depth: invalid "
		 "integer value 'x'", dir);
	CHECK_DIAG(&D, want);
	snprintf(want, sizeof(want), "%s/tls.cfg:3: duplicate profile "
		 "[server:default] (first defined at %s/tls.cfg:1)", dir, dir);
	CHECK_DIAG(&D, want);
	CHECK_EQ(D.errors, 4);
	stls_diag_fini(&D);
}

TEST(inline_and_config_profiles_collide)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c = NULL;
	char want[1024];

	stls_diag_init(&D);
	write_file(dir, "tls.cfg", "# tenant\n[server:default]\n");
	CHECK_EQ(stls_conf_load(write_file(dir, "m.conf",
					   "[server:default]\n[tls]\n"
					   "config = tls.cfg\n"),
				&c, &D),
		 -EINVAL);
	snprintf(want, sizeof(want), "%s/tls.cfg:2: duplicate profile "
		 "[server:default] (first defined at %s/m.conf:1)", dir, dir);
	CHECK_DIAG(&D, want);
	stls_diag_fini(&D);
}

TEST(missing_files_are_reported)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c = NULL;
	char path[1024], want[1100];

	stls_diag_init(&D);
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	CHECK_EQ(stls_conf_load(path, &c, &D), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
		 "directory", path);
	CHECK_DIAG(&D, want);
	stls_diag_fini(&D);

	stls_diag_init(&D);
	CHECK_EQ(stls_conf_load(write_file(dir, "m.conf",
					   "[tls]\nconfig = nope.cfg\n"),
				&c, &D),
		 -EINVAL);
	snprintf(want, sizeof(want), "%s/nope.cfg: cannot open: No such file "
		 "or directory", dir);
	CHECK_DIAG(&D, want);
	stls_diag_fini(&D);
}

TEST(directory_mode_reads_sorted_files_and_skips_backups)
{
	const char *dir = test_tmp_dir();
	char sub[512], want[1400];
	struct stls_conf *c = NULL;
	const struct stls_profile_conf *p;

	stls_diag_init(&D);
	snprintf(sub, sizeof(sub), "%s/tls.d", dir);
	CHECK_OK(mkdir(sub, 0700));
	snprintf(want, sizeof(want), "%s/nested", sub);
	CHECK_OK(mkdir(want, 0700));
	write_file(sub, "20-b.cfg", "[server:10.0.0.2:5061]\n");
	write_file(sub, "10-a.cfg", "[server:10.0.0.1:5061]\n");
	write_file(sub, "30-c.cfg", "verify_depth = 4\n[server:default]\n");
	write_file(sub, "10-a.cfg~", "[server:default]\n");
	write_file(sub, ".hidden.cfg", "[server:default]\n");
	write_file(sub, "nested/x.cfg", "[server:default]\n");
	c = load_ok(write_file(dir, "m.conf", "[tls]\nconfig = tls.d\n"));
	p = c->profiles;
	CHECK_EQ(p->addr.ip[3], 1);
	CHECK_EQ(p->next->addr.ip[3], 2);
	/* Kamailio concatenates: options before the first header of a file
	 * belong to the last section of the previous file. */
	CHECK_EQ(p->next->verify_depth, 4);
	snprintf(want, sizeof(want), "%s/30-c.cfg", sub);
	CHECK_STR_EQ(p->next->field_loc[STLS_PF_VERIFY_DEPTH].file, want);
	CHECK_STR_EQ(p->next->next->loc.file, want);
	CHECK_EQ(count(c->profiles), 4);
	stls_conf_free(c);

	write_file(sub, "40-d.cfg", "\n\n[server:10.0.0.1:5061]\n");
	CHECK_EQ(stls_conf_load(write_file(dir, "m.conf",
					   "[tls]\nconfig = tls.d\n"),
				&c, &D),
		 -EINVAL);
	snprintf(want, sizeof(want), "%s/40-d.cfg:3: duplicate profile "
		 "[server:10.0.0.1:5061] (first defined at %s/10-a.cfg:1)",
		 sub, sub);
	CHECK_DIAG(&D, want);
	stls_diag_fini(&D);
}

TEST(load_profiles_rereads_config_alone)
{
	const char *dir = test_tmp_dir();
	struct stls_settings s;
	struct stls_profile_conf *list = NULL;
	char err[128];

	stls_diag_init(&D);
	CHECK_OK(stls_settings_init(&s));
	write_file(dir, "tls.cfg", "[server:1.2.3.4:5061]\n");
	CHECK_OK(stls_settings_set_str(&s, stls_setting_find("config"),
				       "tls.cfg", dir, err, sizeof(err)));
	CHECK_OK(stls_conf_load_profiles(&s, dir, &list, &D));
	CHECK_EQ(count(list), 3);
	CHECK_EQ(list->kind, STLS_PROF_ADDR);
	CHECK(list->next->implicit && list->next->next->implicit);
	stls_profile_conf_list_free(list);

	write_file(dir, "tls.cfg", "[server:1.2.3.4:5061]\nmethod = x\n");
	CHECK_EQ(stls_conf_load_profiles(&s, dir, &list, &D), -EINVAL);
	CHECK_NULL(list);
	stls_settings_fini(&s);
	stls_diag_fini(&D);
}

TEST(reload_keeps_inline_profiles_and_rereads_config)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c;
	struct stls_profile_conf *list = NULL;
	struct stls_settings live;
	char err[128];

	stls_diag_init(&D);
	write_file(dir, "a.cfg", "[server:1.2.3.4:5061]\n");
	write_file(dir, "b.cfg", "[server:1.2.3.4:5062]\n[client:default]\n");
	c = load_ok(write_file(dir, "m.conf",
			       "[server:default]\ncertificate = in.pem\n"
			       "[tls]\nconfig = a.cfg\n"));
	CHECK_EQ(count(c->profiles), 3);
	CHECK_OK(stls_settings_copy(&live, &c->tls));
	CHECK_OK(stls_settings_set_runtime(&live, stls_setting_find("config"),
					   "b.cfg", 0, c->base_dir, err,
					   sizeof(err)));
	CHECK_OK(stls_conf_reload_profiles(c, &live, &list, &D));
	stls_conf_free(c); /* the new list does not depend on the conf */
	CHECK_EQ(count(list), 3);
	CHECK_EQ(list->kind, STLS_PROF_DEFAULT);
	CHECK_STR_HAS(list->certificate, "/in.pem");
	CHECK_EQ(list->next->addr.port, 5062);
	CHECK_EQ(list->next->next->role, STLS_ROLE_CLIENT);
	CHECK(!list->next->next->implicit);
	CHECK_STR_HAS(list->next->loc.file, "/b.cfg");
	stls_profile_conf_list_free(list);
	stls_settings_fini(&live);
	stls_diag_fini(&D);
}

TEST(reload_without_config_falls_back_to_parameters)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c;
	struct stls_profile_conf *list = NULL;

	stls_diag_init(&D);
	c = load_ok(write_file(dir, "m.conf", "[tls]\nverify_depth = 2\n"));
	CHECK_OK(stls_conf_reload_profiles(c, &c->tls, &list, &D));
	CHECK_EQ(count(list), 2);
	CHECK_EQ(list->verify_depth, 2);
	stls_profile_conf_list_free(list);
	stls_conf_free(c);
	stls_conf_free(NULL);
	stls_diag_fini(&D);
}

TEST(relative_main_path_gives_an_absolute_base_dir)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c;
	char cwd[1024], want[1100];

	stls_diag_init(&D);
	CHECK_NOT_NULL(getcwd(cwd, sizeof(cwd)));
	CHECK_OK(chdir(dir));
	write_file(dir, "m.conf", "[tls]\n");
	c = load_ok("m.conf");
	CHECK_STR_EQ(c->base_dir, dir);
	snprintf(want, sizeof(want), "%s/cert.pem", dir);
	CHECK_STR_EQ(c->profiles->certificate, want);
	stls_conf_free(c);
	CHECK_OK(chdir(cwd));
	stls_diag_fini(&D);
}

/* A database `config` is an error for callers that cannot read it, and
 * the password of its URI stays hidden in the message. */
TEST(database_config_is_refused_without_the_db_flag)
{
	const char *dir = test_tmp_dir();
	struct stls_profile_conf *list = (void *)1;
	struct stls_conf *c = (void *)1;
	struct stls_settings s;

	stls_diag_init(&D);
	CHECK_EQ(stls_conf_load(write_file(dir, "m.conf",
					   "[tls]\nconfig = postgresql://u:"
					   "hush@h/db\n"),
				&c, &D),
		 -EINVAL);
	CHECK_NULL(c);
	CHECK_DIAG(&D, "config: 'postgresql://u:***@h/db' names a database; "
		       "this program reads profiles from tls.cfg files only");
	CHECK_OK(stls_settings_init(&s));
	free(s.config);
	s.config = strdup("sqlite:/x.db");
	CHECK_EQ(stls_conf_load_profiles(&s, dir, &list, &D), -EINVAL);
	CHECK_NULL(list);
	stls_settings_fini(&s);
	stls_diag_fini(&D);
}

/* With STLS_CONF_LOAD_DB the inline profiles are kept, filled and
 * checked, without implicit defaults: lib/db adds the rows. */
TEST(database_config_with_the_db_flag_keeps_inline_profiles_only)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c = NULL;
	char want[1024];

	stls_diag_init(&D);
	CHECK_OK(stls_conf_load_ex(write_file(dir, "m.conf",
					      "[tls]\nconfig = sqlite:t.db\n"
					      "[client:10.0.0.1:5061]\n"),
				   STLS_CONF_LOAD_DB, &c, &D));
	snprintf(want, sizeof(want), "sqlite:%s/t.db", dir);
	CHECK_STR_EQ(c->tls.config, want);
	CHECK_EQ(count(c->profiles), 1);
	CHECK_EQ(c->profiles->verify_depth, 9);
	stls_conf_free(c);
	/* The key password opens keys in rows: not "ignored" then; other
	 * per-profile parameters are. */
	CHECK_OK(stls_conf_load_ex(write_file(dir, "m3.conf",
					      "[tls]\nconfig = sqlite:t.db\n"
					      "private_key_password = pw\n"
					      "verify_depth = 3\n"),
				   STLS_CONF_LOAD_DB, &c, &D));
	CHECK_EQ(D.warnings, 1);
	CHECK(strstr(D.v[0].msg, "verify_depth: ignored") != NULL);
	stls_conf_free(c);
	/* Duplicates among inline profiles are still errors. */
	CHECK_EQ(stls_conf_load_ex(write_file(dir, "m2.conf",
					      "[tls]\nconfig = sqlite:t.db\n"
					      "[client:default]\n"
					      "[client:default]\n"),
				   STLS_CONF_LOAD_DB, &c, &D),
		 -EINVAL);
	stls_diag_fini(&D);
}

/* private_key_password_file: its first line is the key password; every
 * problem names the main config's line and the key, never the secret. */
TEST(key_password_from_a_file)
{
	const char *dir = test_tmp_dir();
	struct stls_conf *c = NULL;
	char want[2048];
	const char *m;

	stls_diag_init(&D);
	chmod(write_file(dir, "key.pass", "from-file\nignored\n"), 0600);
	CHECK_OK(stls_conf_load(write_file(dir, "ok.conf",
					   "[tls]\nprivate_key_password_file "
					   "= key.pass\n"),
				&c, &D));
	CHECK_STR_EQ(c->tls.private_key_password, "from-file");
	CHECK_EQ(D.warnings, 0);
	/* The default profiles get it, as from private_key_password. */
	CHECK_STR_EQ(c->profiles->private_key_password, "from-file");
	stls_conf_free(c);
	/* Group-readable: a warning at the key's line. */
	chmod(write_file(dir, "open.pass", "pw\n"), 0644);
	CHECK_OK(stls_conf_load(m = write_file(dir, "open.conf",
					       "[tls]\n\n"
					       "private_key_password_file = "
					       "open.pass\n"),
				&c, &D));
	snprintf(want, sizeof(want), "%s:3: warning: "
		 "private_key_password_file: '%s/open.pass' is readable by "
		 "group or others (mode 0644): chmod 600 it", m, dir);
	CHECK_DIAG(&D, want);
	stls_conf_free(c);
	/* Both: an error. */
	CHECK_EQ(stls_conf_load(m = write_file(dir, "both.conf",
					       "[tls]\nprivate_key_password"
					       " = a\nprivate_key_password_"
					       "file = key.pass\n"),
				&c, &D),
		 -EINVAL);
	snprintf(want, sizeof(want), "%s:3: private_key_password_file: "
		 "private_key_password is set too; set one of them", m);
	CHECK_DIAG(&D, want);
	/* Missing and empty files. */
	CHECK_EQ(stls_conf_load(m = write_file(dir, "miss.conf",
					       "[tls]\nprivate_key_password_"
					       "file = nope.pass\n"),
				&c, &D),
		 -EINVAL);
	snprintf(want, sizeof(want), "%s:2: private_key_password_file: "
		 "cannot read '%s/nope.pass': No such file or directory", m,
		 dir);
	CHECK_DIAG(&D, want);
	chmod(write_file(dir, "empty.pass", "\n"), 0600);
	CHECK_EQ(stls_conf_load(m = write_file(dir, "empty.conf",
					       "[tls]\nprivate_key_password_"
					       "file = empty.pass\n"),
				&c, &D),
		 -EINVAL);
	snprintf(want, sizeof(want), "%s:2: private_key_password_file: "
		 "'%s/empty.pass': the first line is empty", m, dir);
	CHECK_DIAG(&D, want);
	stls_diag_fini(&D);
}
