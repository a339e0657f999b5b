/*
 * Unit tests for daemon/conf_interim.c (the stop-gap config reader).
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "conf_interim.h"

static const char *write_tmp(const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/main.cfg", test_tmp_dir());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

TEST(interim_reads_sections)
{
	const char *p = write_tmp("# top\n[TLS]\nconnection_timeout = 5\n"
				  "\n[core]\nlisten = tcp:127.0.0.1:5060 # c\n"
				  "rpc_socket = \"/run/a b#c\"\n"
				  "[server:default]\nmethod = TLSv1.2+\n");
	struct stls_section *s;
	const struct stls_section *core;
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls__interim_conf_load(p, &s, &d));
	CHECK_NOT_NULL(stls__interim_conf_find(s, "tls"));
	CHECK_NOT_NULL(stls__interim_conf_find(s, "server:default"));
	core = stls__interim_conf_find(s, "core");
	CHECK_NOT_NULL(core);
	CHECK_STR_EQ(core->kvs->key, "listen");
	CHECK_STR_EQ(core->kvs->value, "tcp:127.0.0.1:5060");
	CHECK_EQ(core->kvs->loc.line, 6);
	CHECK_STR_EQ(core->kvs->next->value, "/run/a b#c");
	CHECK_NULL(stls__interim_conf_find(s, "nope"));
	stls__interim_conf_free(s);
	stls_diag_fini(&d);
}

TEST(interim_reports_syntax_errors)
{
	const char *p = write_tmp("key = outside\n[core\n[core]\nnovalue\n"
				  "= x\n");
	struct stls_section *s;
	struct stls_diag d;
	char buf[256];

	stls_diag_init(&d);
	CHECK_EQ(stls__interim_conf_load(p, &s, &d), -EINVAL);
	CHECK_EQ(d.errors, 4);
	CHECK_STR_HAS(stls_diag_format(&d.v[0], buf, sizeof(buf)),
		      "main.cfg:1: key outside");
	CHECK_STR_HAS(stls_diag_format(&d.v[1], buf, sizeof(buf)),
		      "main.cfg:2: bad section");
	CHECK_STR_HAS(stls_diag_format(&d.v[3], buf, sizeof(buf)),
		      "main.cfg:5: expected key = value");
	stls__interim_conf_free(s);
	CHECK_EQ(stls__interim_conf_load("/nonexistent.cfg", &s, &d), -ENOENT);
	CHECK_NULL(s);
	stls_diag_fini(&d);
}
