/* See mem_tls.h. */
#include "mem_tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bench_bio_move(BIO *from, BIO *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
		BIO_write(to, buf, n);
	}
}

int bench_conn_feed(struct stls_conn *c, BIO *c2s, unsigned char *out,
		    size_t cap, size_t *got)
{
	char buf[16384];
	size_t n1, all = 0;
	int n;

	while ((n = BIO_read(c2s, buf, sizeof(buf))) > 0) {
		if (stls_conn_feed_drain(c, buf, (size_t)n, out, cap, &n1) ==
		    STLS_IO_FAILED) {
			return -EPROTO;
		}
		all += n1;
	}
	if (got) {
		*got = all;
	}
	return 0;
}

void bench_conn_flush(struct stls_conn *c, BIO *s2c)
{
	const void *p;
	size_t len;

	while ((p = stls_conn_peek(c, &len)) != NULL) {
		BIO_write(s2c, p, (int)len);
		stls_conn_consume(c, len);
	}
}

int bench_settings_server(struct stls_settings *s, const char *cert,
			  const char *key)
{
	int err = stls_settings_init(s);

	if (err) {
		return err;
	}
	free(s->certificate);
	free(s->private_key);
	s->certificate = strdup(cert);
	s->private_key = strdup(key);
	s->verify_certificate = 0;
	s->require_certificate = 0;
	return s->certificate && s->private_key ? 0 : -ENOMEM;
}

int bench_conn_server(const struct stls_profile *prof,
		      const struct stls_settings *set, struct stls_conn **out)
{
	struct stls_conn_opts o = { 0 };
	struct stls_addr a = { 0 };

	o.role = STLS_ROLE_SERVER;
	o.ssl = stls_profile_ssl_new(prof, &a);
	if (!o.ssl) {
		return -ENOMEM;
	}
	o.settings = set;
	return stls_conn_new(&o, out, NULL);
}
