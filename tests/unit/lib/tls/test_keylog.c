/*
 * lib/tls/keylog.c: the operator's key log. Refused without
 * keylog_enable, written in the SSLKEYLOGFILE format with mode 0600 when
 * both switches are on, for TLS 1.2 and 1.3, server and client contexts,
 * also on contexts prepared for the record hand-off.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tls/profile_fixture.h"

static char *log_path(struct fx *f, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", test_tmp_dir(), name);
	unlink(path);
	return fx_str(f, path);
}

static size_t count_lines(const char *path, const char *prefix)
{
	char line[1024];
	size_t n = 0;
	FILE *fp = fopen(path, "r");

	if (!fp) {
		return 0;
	}
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			n++;
		}
	}
	fclose(fp);
	return n;
}

static void handshake(struct fx *f, int version)
{
	SSL *srv = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_SERVER), NULL);
	SSL *cli = stls_profile_ssl_new(
		stls_profile_set_default(f->set, STLS_ROLE_CLIENT), NULL);

	CHECK(SSL_set_max_proto_version(cli, version));
	CHECK_OK(fx_handshake(cli, srv));
	SSL_free(cli);
	SSL_free(srv);
}

/* A file name alone is refused, and so is the switch alone. */
TEST(keylog_needs_both_switches)
{
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	f.s.keylog_file = log_path(&f, "keylog-refused.txt");
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "keylog_file: refused"));
	CHECK(access(f.s.keylog_file, F_OK) != 0);
	fx_fini(&f);

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	f.s.keylog_enable = 1;
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "keylog_enable: yes needs keylog_file"));
	fx_fini(&f);
}

/* Both switches: a warning, a 0600 file, lines for TLS 1.3 and 1.2. */
TEST(keylog_written_for_both_versions)
{
	struct stat st;
	struct fx f;
	int hoff;

	for (hoff = 0; hoff < 2; hoff++) {
		fx_init(&f);
		fx_server(&f, "default", 1, NULL);
		fx_add(&f, STLS_ROLE_CLIENT, "default", 5);
		f.s.keylog_file = log_path(&f, hoff ? "keylog-h.txt"
						    : "keylog.txt");
		f.s.keylog_enable = 1;
		f.s.record_handoff = hoff;
		CHECK_OK(fx_build(&f));
		CHECK(fx_diag_has(&f, "anyone who reads it can decrypt"));
		CHECK_OK(stat(f.s.keylog_file, &st));
		CHECK_EQ(st.st_mode & 0777, 0600);
		handshake(&f, TLS1_3_VERSION);
		/* Server and client both log each secret. */
		CHECK_EQ(count_lines(f.s.keylog_file,
				     "CLIENT_TRAFFIC_SECRET_0 "), 2);
		CHECK_EQ(count_lines(f.s.keylog_file,
				     "SERVER_HANDSHAKE_TRAFFIC_SECRET "), 2);
		handshake(&f, TLS1_2_VERSION);
		CHECK_EQ(count_lines(f.s.keylog_file, "CLIENT_RANDOM "), 2);
		fx_fini(&f);
	}
}

/* An existing file readable by others is narrowed to 0600. */
TEST(keylog_narrows_an_open_file)
{
	struct stat st;
	FILE *fp;
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	f.s.keylog_file = log_path(&f, "keylog-wide.txt");
	f.s.keylog_enable = 1;
	fp = fopen(f.s.keylog_file, "w");
	CHECK_NOT_NULL(fp);
	fclose(fp);
	CHECK_OK(chmod(f.s.keylog_file, 0644));
	CHECK_OK(fx_build(&f));
	CHECK(fx_diag_has(&f, "was readable by others: now mode 0600"));
	CHECK_OK(stat(f.s.keylog_file, &st));
	CHECK_EQ(st.st_mode & 0777, 0600);
	fx_fini(&f);
}

/* A symbolic link is not followed. */
TEST(keylog_refuses_a_symlink)
{
	char target[512];
	struct fx f;

	fx_init(&f);
	fx_server(&f, "default", 1, NULL);
	f.s.keylog_file = log_path(&f, "keylog-link.txt");
	f.s.keylog_enable = 1;
	snprintf(target, sizeof(target), "%s/keylog-target.txt",
		 test_tmp_dir());
	CHECK_OK(symlink(target, f.s.keylog_file));
	CHECK_EQ(fx_build(&f), -EINVAL);
	CHECK(fx_diag_has(&f, "keylog_file: cannot open"));
	CHECK(access(target, F_OK) != 0);
	unlink(f.s.keylog_file);
	fx_fini(&f);
}
