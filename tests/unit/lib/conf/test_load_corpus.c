/*
 * The config corpus (tests/cfg): every file of tests/cfg/valid must load
 * without errors; every file of tests/cfg/invalid starts with
 *
 *   # expect: [FILE:]LINE: message-substring
 *
 * and must fail with that error (FILE defaults to the file itself; LINE 0
 * means a message without a line). tls.cfg files (*.cfg) are loaded
 * through a main config whose `config` names them; main configs (*.conf)
 * are loaded directly. Directories are used by the .conf files only.
 */
#include "lib/conf/conf_test_util.h"

#include <dirent.h>
#include <libgen.h>
#include <stdlib.h>

#define CORPUS STLS_SOURCE_DIR "/tests/cfg"

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Loads one corpus file; returns the load result, diag filled. */
static int load_one(const char *path, struct stls_diag *d)
{
	struct stls_conf *c = NULL;
	char main_text[1200];
	const char *main_path = path;
	int rc;

	if (has_suffix(path, ".cfg")) {
		snprintf(main_text, sizeof(main_text), "[tls]\nconfig = %s\n",
			 path);
		main_path = write_file(test_tmp_dir(), "main.conf", main_text);
	}
	rc = stls_conf_load(main_path, &c, d);
	stls_conf_free(c);
	return rc;
}

static int for_each(const char *dir, void (*fn)(const char *path))
{
	struct dirent **v;
	char path[1024];
	int n, i, files = 0;

	n = scandir(dir, &v, NULL, alphasort);
	CHECK(n > 0);
	for (i = 0; i < n; i++) {
		const char *name = v[i]->d_name;

		if (has_suffix(name, ".cfg") || has_suffix(name, ".conf")) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			fn(path);
			files++;
		}
		free(v[i]);
	}
	free(v);
	return files;
}

static void check_valid(const char *path)
{
	struct stls_diag d;
	int rc;

	stls_diag_init(&d);
	rc = load_one(path, &d);
	if (rc || d.errors) {
		diag_dump(&d);
		test_fail(__FILE__, __LINE__, "%s: expected to load, got %d",
			  path, rc);
	}
	stls_diag_fini(&d);
}

TEST(every_valid_corpus_file_loads)
{
	CHECK(for_each(CORPUS "/valid", check_valid) >= 30);
}

struct expect {
	char file[256]; /* basename, "" = the corpus file */
	int line;
	char msg[512];
};

static void read_expect(const char *path, struct expect *e)
{
	char first[1024], *p, *colon;
	FILE *f = fopen(path, "r");

	CHECK_NOT_NULL(f);
	CHECK_NOT_NULL(fgets(first, sizeof(first), f));
	fclose(f);
	first[strcspn(first, "\n")] = '\0';
	CHECK(strncmp(first, "# expect: ", 10) == 0);
	p = first + 10;
	e->file[0] = '\0';
	if (*p < '0' || *p > '9') {
		colon = strchr(p, ':');
		CHECK_NOT_NULL(colon);
		snprintf(e->file, sizeof(e->file), "%.*s", (int)(colon - p), p);
		p = colon + 1;
	}
	e->line = (int)strtol(p, &p, 10);
	CHECK(strncmp(p, ": ", 2) == 0);
	snprintf(e->msg, sizeof(e->msg), "%s", p + 2);
}

static bool matches(const struct stls_diag_entry *v, const char *path,
		    const struct expect *e)
{
	char copy[1024];
	const char *want_file = e->file;

	if (v->level != STLS_DIAG_ERROR || !v->file) {
		return false;
	}
	snprintf(copy, sizeof(copy), "%s", path);
	if (!want_file[0]) {
		want_file = basename(copy);
	}
	snprintf(copy, sizeof(copy), "%s", v->file);
	return strcmp(basename(copy), want_file) == 0 && v->line == e->line &&
	       strstr(v->msg, e->msg) != NULL;
}

static void check_invalid(const char *path)
{
	struct stls_diag d;
	struct expect e;
	size_t i;
	bool found = false;

	read_expect(path, &e);
	stls_diag_init(&d);
	CHECK(load_one(path, &d) != 0);
	for (i = 0; i < d.n; i++) {
		found = found || matches(&d.v[i], path, &e);
	}
	if (!found) {
		diag_dump(&d);
		test_fail(__FILE__, __LINE__,
			  "%s: no error %s:%d: ...%s...", path,
			  e.file[0] ? e.file : "(this file)", e.line, e.msg);
	}
	stls_diag_fini(&d);
}

TEST(every_invalid_corpus_file_fails_with_its_expected_error)
{
	CHECK(for_each(CORPUS "/invalid", check_invalid) >= 30);
}

static struct stls_conf *load_corpus(const char *name, struct stls_diag *d)
{
	struct stls_conf *c = NULL;
	char main_text[1200];

	snprintf(main_text, sizeof(main_text), "[tls]\nconfig = %s/valid/%s\n",
		 CORPUS, name);
	CHECK_OK(stls_conf_load(write_file(test_tmp_dir(), "main.conf",
					   main_text),
				&c, d));
	return c;
}

TEST(seed_example_1_40_means_what_the_seed_says)
{
	struct stls_diag d;
	struct stls_conf *c;
	const struct stls_profile_conf *p;
	char buf[64];

	stls_diag_init(&d);
	c = load_corpus("seed-example-1.40.cfg", &d);
	p = c->profiles;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSs<default>");
	CHECK_EQ(p->method, STLS_METHOD_TLSV1);
	CHECK_EQ(p->verify_certificate, 1);
	CHECK_EQ(p->require_certificate, 1);
	CHECK_STR_HAS(p->crl, "/default_crl.pem");
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSc<default>");
	CHECK_EQ(p->method, STLS_METHOD_TLSV1_2_PLUS); /* template */
	CHECK_NULL(p->certificate);
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSs<127.0.0.1:5061>");
	CHECK_EQ(p->verify_depth, 3);
	CHECK_STR_EQ(p->server_name, "kamailio.org");
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSc<127.0.0.1:5061>");
	CHECK_STR_EQ(p->server_id, "kamailio.org");
	p = p->next;
	CHECK_STR_EQ(stls_profile_conf_name(p, buf, sizeof(buf)),
		     "TLSs<any:kamailio.net>");
	CHECK_EQ(p->server_name_mode, 1);
	CHECK_NULL(p->next);
	CHECK_EQ(d.n, 0);
	stls_conf_free(c);
	stls_diag_fini(&d);
}

TEST(quoting_corpus_file_unescapes_values)
{
	struct stls_diag d;
	struct stls_conf *c;
	const struct stls_profile_conf *p;

	stls_diag_init(&d);
	c = load_corpus("quoting-and-escapes.cfg", &d);
	p = c->profiles;
	CHECK_STR_HAS(p->certificate, "/certs/with space.pem");
	CHECK_STR_HAS(p->private_key, "/certs/with space.key");
	CHECK_STR_HAS(p->ca_list, "/certs/ca.pem");
	CHECK_STR_EQ(p->cipher_list, "HIGH:!aNULL:!MD5");
	CHECK_EQ(p->verify_depth, 4);
	CHECK_STR_EQ(p->next->cipher_list, "HIGH:!aNULL");
	CHECK_STR_EQ(p->next->server_id, "id \"quoted\" \\ backslash");
	stls_conf_free(c);
	stls_diag_fini(&d);
}
