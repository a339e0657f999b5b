/*
 * Unit tests for lib/db/db_export.c: the tls.cfg made from the rows loads
 * back into the profiles the rows give (values quoted where needed, PEM
 * text in files with the right modes), and tables that would not load
 * are not exported.
 */
#include "lib/conf/conf_test_util.h"
#include "lib/db/db_fixture.h"
#include "lib/conf/profile_eq.h"

#include <sys/stat.h>

/* Exports rows into a string (malloc'd); returns the export's result. */
static int export(const struct stls_db_rows *rows, const char *pem_dir,
		  char **text, struct stls_diag *d)
{
	struct stls_db_export_opts o = { "tlscfg", pem_dir, false };
	size_t len = 0;
	FILE *f = open_memstream(text, &len);
	int rc;

	CHECK_NOT_NULL(f);
	rc = stls_db_export(rows, &o, f, d);
	fclose(f);
	return rc;
}

static struct stls_profile_conf *conv(const struct stls_db_rows *rows)
{
	struct stls_db_conv_opts o = { "tlscfg", "/etc/x", NULL };
	struct stls_profile_conf *list = NULL;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_db_conv_rows(rows, NULL, &o, &list, &d));
	stls_diag_fini(&d);
	return list;
}

TEST(export_loads_back_into_the_same_profiles)
{
	static const char *const cols[] = {
		"id", "profile_type", "profile_name", "method",
		"verify_certificate", "cipher_list", "server_name",
		"server_name_mode", "server_id", "certificate",
		"private_key_password",
	};
	static const char *const cells[] = {
		"1", "server", "default", "TLSv1.2+", "1",
		"HIGH:!aNULL:@SECLEVEL=2", NULL, "1", NULL, "/c/a b.pem",
		"p#ss \"word\"\\",
		"2", "client", " [2001:db8::2]:5061 ", NULL, "0", NULL,
		"x.example", "2", "trunk # 1", NULL, NULL,
	};
	struct stls_db_rows *rows = db_rows(cols, STLS_ARRAY_SIZE(cols),
					    cells, 2);
	struct stls_profile_conf *want = conv(rows), *got;
	struct stls_diag d;
	char *text = NULL;

	stls_diag_init(&d);
	CHECK_OK(export(rows, NULL, &text, &d));
	CHECK_STR_HAS(text, "# tlscfg id=1\n[server:default]\n"
			    "method = TLSv1.2+\nverify_certificate = 1\n"
			    "cipher_list = HIGH:!aNULL:@SECLEVEL=2\n"
			    "certificate = \"/c/a b.pem\"\n"
			    "private_key_password = "
			    "\"p#ss \\\"word\\\"\\\\\"\n");
	CHECK_STR_HAS(text, "[client:[2001:db8::2]:5061]\n");
	CHECK_STR_HAS(text, "server_name_mode = 2\nserver_id = \"trunk # 1\"");
	/* server_name_mode without a server_name is left out, as kamcli */
	CHECK(strstr(text, "server_name_mode = 1") == NULL);
	got = cfg_profiles(text);
	CHECK_PROFILES_EQ(want, got);
	free(text);
	stls_profile_conf_list_free(want);
	stls_profile_conf_list_free(got);
	stls_db_rows_free(rows);
	stls_diag_fini(&d);
}

TEST(pem_rows_go_to_files)
{
	static const char *cols[] = { "id", "profile_type", "profile_name",
				      "file_type", "certificate",
				      "private_key", "ca_list" };
	char *cert = db_pem("server.pem"), *key = db_pem("server-enc.key");
	char *ca = db_pem("ca.pem"), *text = NULL, path[1200], want[2400];
	const char *cells[] = { "7", "server", "default", "1", cert, key, ca,
				"8", "client", "default", "1", cert, NULL,
				NULL };
	struct stls_db_rows *rows = db_rows(cols, 7, cells, 2);
	struct stls_profile_conf *got;
	struct stat st;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_EQ(export(rows, NULL, &text, &d), -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=7: certificate: PEM text needs a directory "
		       "to go to (--pem-dir)");
	free(text);
	CHECK_OK(export(rows, test_tmp_dir(), &text, &d));
	snprintf(path, sizeof(path), "%s/private_key_7.pem", test_tmp_dir());
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/certificate_7.pem", test_tmp_dir());
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_mode & 0777, 0644);
	snprintf(want, sizeof(want), "# private_key is encrypted and the row "
		 "has no password: add private_key_password\nprivate_key = %s/"
		 "private_key_7.pem\n", test_tmp_dir());
	CHECK_STR_HAS(text, want);
	/* row 8: the key follows the certificate */
	CHECK_STR_HAS(text, "private_key = \"\"\n");
	CHECK(strstr(text, "BEGIN") == NULL);
	got = cfg_profiles(text);
	CHECK_STR_EQ(got->certificate, path);
	stls_profile_conf_list_free(got);
	free(text);
	/* Existing files are kept unless forced. */
	CHECK_EQ(export(rows, test_tmp_dir(), &text, &d), -EIO);
	free(text);
	stls_db_rows_free(rows);
	free(cert);
	free(key);
	free(ca);
	stls_diag_fini(&d);
}

TEST(broken_tables_are_not_exported)
{
	static const char *const cols[] = { "id", "profile_type",
					    "profile_name", "server_id" };
	static const char *const bad[] = { "1", "proxy", "default", NULL };
	static const char *const ctl[] = { "1", "server", "default",
					   "a\001b" };
	struct stls_db_rows *rows = db_rows(cols, 4, bad, 1);
	struct stls_diag d;
	char *text = NULL;

	stls_diag_init(&d);
	CHECK_EQ(export(rows, NULL, &text, &d), -EINVAL);
	CHECK_EQ(strlen(text), 0);
	free(text);
	stls_db_rows_free(rows);
	rows = db_rows(cols, 4, ctl, 1);
	CHECK_EQ(export(rows, NULL, &text, &d), -EINVAL);
	CHECK_DIAG(&d, "tlscfg id=1: server_id: the value cannot be written "
		       "in tls.cfg (control characters, or over 511 bytes)");
	free(text);
	stls_db_rows_free(rows);
	stls_diag_fini(&d);
}
