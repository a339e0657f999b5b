/*
 * Names in the certificates siptlsctl makes: the NAME argument (it names
 * the output files, so a safe alphabet only), the default subject (CN =
 * NAME unless --subject) and the default subjectAltNames (RFC 5922
 * section 7.1: DNS:NAME and URI:sip:NAME for a host name, IP:NAME for an
 * address). Shared by the CA commands (cert_ca.c) and the commands for an
 * existing key (cert_key.c); calls neither.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cert_int.h"

/* NAME becomes a file name: keep it to a safe alphabet. */
bool stls__cert_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 200 || name[0] == '.' || name[0] == '-') {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)name[i]) &&
		    !strchr("._@+-", name[i])) {
			return false;
		}
	}
	return true;
}

void stls__cert_default_sans(struct cert_opts *o, const char *name,
			     char *uri, size_t len)
{
	struct stls_x509_san dns = { STLS_X509_SAN_DNS, name };
	unsigned char ip[16];

	if (o->n_sans > 0) {
		return;
	}
	if (inet_pton(AF_INET, name, ip) == 1 ||
	    inet_pton(AF_INET6, name, ip) == 1) {
		o->sans[o->n_sans++] = (struct stls_x509_san){
			STLS_X509_SAN_IP, name };
		return;
	}
	if (stls_x509_san_validate(&dns, NULL) == 0) {
		snprintf(uri, len, "sip:%s", name);
		o->sans[o->n_sans++] = dns;
		o->sans[o->n_sans++] = (struct stls_x509_san){
			STLS_X509_SAN_URI, uri };
	}
}

int stls__cert_subject(const struct cert_opts *o, const char *name,
		       X509_NAME **out, struct stls_x509_err *err)
{
	X509_NAME *n;

	if (o->subject) {
		return stls_x509_name_parse(o->subject, out, err);
	}
	n = X509_NAME_new();
	if (!n || !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
					      (const unsigned char *)name, -1,
					      -1, 0)) {
		X509_NAME_free(n);
		stls_x509_err_set(err, "bad name '%s' for a CN", name);
		return -EINVAL;
	}
	*out = n;
	return 0;
}
