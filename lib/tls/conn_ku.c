/*
 * A KeyUpdate the application asks for (stls/conn.h,
 * stls_conn_key_update()), TLS 1.3 only (RFC 8446 section 4.6.3): on a
 * handed-off connection conn_rec13.c sends it and changes the write key;
 * with an SSL, OpenSSL does (SSL_key_update(), then SSL_do_handshake() to
 * write it now rather than with the next data). The engine also updates
 * its write key on its own before the AEAD limit and answers every
 * update_requested from the peer (docs/engine.md).
 */
#include "tls/tls_int.h"

#include <errno.h>

#include "tls/ossl_err.h"

int stls_conn_key_update(struct stls_conn *c, bool request_peer)
{
	char why[STLS_OSSL_ERR_MAX];
	int rc;

	if (stls_conn_get_state(c) != STLS_CONN_ESTABLISHED) {
		return -ENOTCONN;
	}
	if (!c->ssl) {
		rc = c->rec->v12 ? -EOPNOTSUPP
				 : stls__conn_rec_key_update(c, request_peer);
		stls__conn_rec_idle(c);
		return rc;
	}
	if (SSL_version(c->ssl) != TLS1_3_VERSION) {
		return -EOPNOTSUPP;
	}
	stls__ossl_err_clear();
	rc = SSL_key_update(c->ssl, request_peer
					    ? SSL_KEY_UPDATE_REQUESTED
					    : SSL_KEY_UPDATE_NOT_REQUESTED);
	if (rc != 1 || SSL_do_handshake(c->ssl) != 1) {
		stls__ossl_err_drain(why, sizeof(why));
		stls__conn_fail(c,
				c->io.out_failed ? STLS_CLOSE_NO_MEMORY
						 : STLS_CLOSE_PROTOCOL,
				why);
		return -EPIPE;
	}
	return 0;
}
