/*
 * Peer facts: what the seed's pseudo-variables ($tls_peer_subject_cn, ...)
 * and selects (@tls.peer.subject.cn, ...) expose about one TLS connection.
 *
 * The engine computes the facts once, at handshake end: protocol version,
 * cipher, secret bits, SNI, resumption, the recorded verification result,
 * and references to the peer certificate, our own certificate and the
 * peer's verified chain (X509_up_ref on objects OpenSSL already parsed: no
 * copies). Strings are derived from those certificates into the caller's
 * buffer on query; the SSL object is never consulted again, so facts stay
 * valid after it is freed. docs/facts.md lists every name.
 *
 * Thread: immutable once built; queries may run on any thread while the
 * owner keeps the facts alive.
 */
#ifndef STLS_FACTS_H
#define STLS_FACTS_H

#include "stls/common.h"

struct stls_facts;

/*
 * Answer one pseudo-variable or select by name, writing a NUL-terminated
 * string into buf[0..len). Accepted names:
 *   - pseudo-variables without the '$': "tls_version", "tls_peer_subject_cn",
 *     "tls_my_san_hostname", "tls_peer_san_count(DNS)", "tls(p_subject_line)";
 *   - selects with the '@': "@tls", "@tls.peer.subject.cn",
 *     "@tls.my.host", "@tls.peer.count.URI", "@tls.peer.verified_cert_chain".
 * `index` selects the N-th entry (0-based) of SAN and chain names; a
 * trailing "[N]" in the name overrides it. Integers and booleans are
 * printed in decimal ("1"/"0").
 * Returns the string length (without the NUL), -ENOENT when the value is
 * absent (no such certificate, component, entry or index), -EINVAL for an
 * unknown name or a peer-only name asked for "my", -ENOBUFS when buf is too
 * small (buf then holds a truncated string).
 */
STLS_MUST_USE ssize_t stls_facts_get(const struct stls_facts *f,
				     const char *name, int index, char *buf,
				     size_t len);

/* Typed shortcuts. */
bool stls_facts_is_peer_verified(const struct stls_facts *f);
bool stls_facts_has_peer_cert(const struct stls_facts *f);
bool stls_facts_is_resumed(const struct stls_facts *f);
/* The X509_V_* result recorded at handshake end. */
long stls_facts_get_verify_result(const struct stls_facts *f);
/* Protocol ("TLSv1.3") and cipher name; never NULL. */
const char *stls_facts_get_version(const struct stls_facts *f);
const char *stls_facts_get_cipher(const struct stls_facts *f);
/* SNI received (server) or sent (client), or NULL. */
const char *stls_facts_get_sni(const struct stls_facts *f);

/* Every pseudo-variable name this module answers (NULL-terminated list,
 * "peer" and "my" variants spelled out), for docs and tests. */
extern const char *const stls_facts_pv_names[];

/* Release facts (the engine does this in stls_conn_free()). NULL: no-op. */
void stls_facts_free(struct stls_facts *f);

#endif
