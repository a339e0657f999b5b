/*
 * tls.cfg files for the daemon/tlsx tests (test_pstore.c, test_watch.c):
 * the two default profiles with a certificate, key and CA list, then any
 * extra sections. Header-only.
 */
#ifndef STLS_TEST_TLS_CFG_FIXTURE_H
#define STLS_TEST_TLS_CFG_FIXTURE_H

#include <stdio.h>

#include "test.h"

static inline void tcf_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

/* <path>: [server:default] with <cert>/<key>, [client:default] verifying
 * with <ca>, then <extra>. */
static inline void tcf_write_tls(const char *path, const char *cert,
				 const char *key, const char *ca,
				 const char *extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "[server:default]\ncertificate = %s\nprivate_key = %s\n"
		 "[client:default]\nverify_certificate = yes\nca_list = %s\n"
		 "%s",
		 cert, key, ca, extra);
	tcf_write_file(path, text);
}

#endif
