/*
 * What the control plane shows of one TLS connection (tls.list), filled by
 * the TLS transform's describe() op on the owning worker. Plain data: it is
 * copied to the control thread.
 */
#ifndef STLSD_TLS_INFO_H
#define STLSD_TLS_INFO_H

#include <stddef.h>
#include <stdint.h>

struct stls_tls_info {
	char state[16];       /* "accepting", "connecting", "established"... */
	unsigned flags;       /* 1 write-wants-read, 2 handshake done,
			       * 4 renegotiation seen (the seed's tls.list) */
	size_t ct_wq_size;    /* clear text queued (bytes) */
	size_t enc_rd_buf;    /* ciphertext received, not yet decrypted */
	char sni[256];        /* received (server) or sent (client), "" none */
	char cipher[256];     /* cipher description line, "" before handshake */
	char version[16];     /* "TLSv1.3", "" before the handshake */
	char profile[320];    /* "TLSs<default>" (after any SNI switch) */
	uint64_t generation;  /* profile set generation the connection uses */
	char peer_subject[512]; /* one-line DN, "" when none */
	int verified;         /* 1 verified peer certificate, 0 not, -1 no
			       * handshake yet */
	int resumed;          /* 1 resumed session */
};

#endif
