/*
 * Post-handshake messages from a TLS 1.3 client after the record hand-off
 * (docs/engine.md): reassembly across records and the checks of RFC 8446
 * sections 4.6.3 and 5.1.
 *
 * The only message a client may send us after the handshake is KeyUpdate
 * (we never ask for post-handshake authentication, and NewSessionTicket
 * and the rest go the other way). A handshake message may span records
 * (section 5.1), so the bytes of an unfinished message wait in the record
 * state (at most its 4-byte header: a KeyUpdate is 5 bytes). A KeyUpdate
 * must end on a record boundary, and a message must not be interleaved
 * with records of other types; the engine checks the latter
 * (stls__rec13_hs_pending()).
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { HS_KEY_UPDATE = 24, KU_LEN = 5 };

/* Alert descriptions this file answers with (RFC 8446 section 6). */
enum {
	AL_UNEXPECTED_MESSAGE = 10,
	AL_DECODE_ERROR = 50,
};

static int refuse(struct stls_rec13_hs *e, unsigned char alert,
		  const char *what)
{
	e->alert = alert;
	snprintf(e->what, sizeof(e->what), "%s", what);
	return -EPROTO;
}

/*
 * The content p[0..n) of one handshake record (n > 0), after the bytes of
 * an unfinished message kept from earlier records. Returns 1 when a whole
 * KeyUpdate ends exactly at the end of this record (e->request is its
 * request_update byte, checked by the caller; nothing stays pending), 0
 * when the message is still unfinished (its bytes are kept in r), or
 * -EPROTO with e->alert and e->what set: another message type
 * (unexpected_message), a KeyUpdate whose length is not 1 (decode_error),
 * or bytes after a KeyUpdate in the same record (unexpected_message).
 * Thread: the owner of r.
 */
int stls__rec13_hs_feed(struct stls_rec13 *r, const unsigned char *p,
			size_t n, struct stls_rec13_hs *e)
{
	unsigned char m[KU_LEN];
	size_t have = r->hs_len, take = KU_LEN - have;

	if (take > n) {
		take = n;
	}
	memcpy(m, r->hs, have);
	memcpy(m + have, p, take);
	have += take;
	r->hs_len = 0;
	if (m[0] != HS_KEY_UPDATE) {
		snprintf(e->what, sizeof(e->what),
			 "post-handshake message type %u", m[0]);
		e->alert = AL_UNEXPECTED_MESSAGE;
		return -EPROTO;
	}
	if (have >= 4 && (m[1] || m[2] || m[3] != 1)) {
		return refuse(e, AL_DECODE_ERROR, "malformed KeyUpdate");
	}
	if (have < KU_LEN) {
		memcpy(r->hs, m, have);
		r->hs_len = (unsigned char)have;
		return 0;
	}
	if (take < n) {
		/* A key change must end its record (section 5.1). */
		return refuse(e, AL_UNEXPECTED_MESSAGE,
			      "KeyUpdate not at the record end");
	}
	e->request = m[4];
	return 1;
}

/* True while a handshake message is unfinished (section 5.1: no other
 * record type may come before its end). */
bool stls__rec13_hs_pending(const struct stls_rec13 *r)
{
	return r->hs_len > 0;
}
