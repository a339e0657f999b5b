/*
 * TLS profiles in OpenSSL: one SSL_CTX per [server:...]/[client:...]
 * profile, gathered in an immutable, reference-counted profile set.
 *
 * Life cycle: the control thread builds a complete set from the parsed
 * profiles (stls_profile_set_build: every file read, every key checked)
 * and publishes it; workers take a reference for each connection they open
 * (stls_profile_ssl_new does it for them) and the last reference frees
 * every SSL_CTX. A failed build changes nothing and reports every problem
 * with the file:line of the key concerned.
 *
 * Matching (docs/profiles.md): the server side picks a profile by the local
 * address and, once the ClientHello arrives, by SNI (a ClientHello callback
 * on every server SSL_CTX re-matches against the set the connection started
 * with); the client side by server_id, destination address and server
 * name. Lookups go through an index by name and address: their cost does
 * not grow with the number of profiles. Matching never fails: the [server:default] / [client:default]
 * profile is the fallback, and every set has both.
 *
 * Thread safety: a set and its profiles are immutable once built, so any
 * thread may match and read them while it holds a reference.
 */
#ifndef STLS_PROFILE_H
#define STLS_PROFILE_H

#include <openssl/ssl.h>

#include "stls/addr.h"
#include "stls/common.h"
#include "stls/conf.h"
#include "stls/diag.h"
#include "stls/settings.h"

struct stls_profile;
struct stls_profile_set;

/* Longest name stls_profile_name() returns, with the NUL. */
#define STLS_PROFILE_NAME_MAX 320

/*
 * The cipher list used for TLS <= 1.2 when a profile sets no cipher_list:
 * ECDHE key exchange with AEAD ciphers only (RFC 9325, BCP 195).
 */
extern const char stls_profile_default_cipher_list[];
/* The TLS 1.3 suites when cipher_suites is unset (server order). */
extern const char stls_profile_default_cipher_suites[];

/* The key-exchange groups when a profile sets no `groups`: OpenSSL 3.0's
 * defaults, in its order. */
extern const char stls_profile_default_groups[];

/* TLS 1.3 session tickets a server sends after each full handshake. */
#define STLS_PROFILE_NUM_TICKETS 1

/*
 * Builds a profile set from <list> (the parsed profiles, file order, may be
 * NULL) and the global parameters <s>. A [server:default] or
 * [client:default] missing from <list> is made from the profile parameters
 * of <s> (the seed's modparam mode). Every profile is built even after one
 * fails, so that <diag> (borrowed, may be NULL) receives every problem as
 * "FILE:LINE: key: reason", plus warnings that never fail the build.
 * <s> and <list> are borrowed: the set keeps its own copy of each profile
 * (without passwords). File-valued keys may hold PEM text instead of a
 * path (stls_profile_conf_is_pem()): it is read from memory; a private key
 * held that way must be encrypted.
 * Returns 0 and a new set in *out (one reference, owned by the caller), or
 * -EINVAL when any profile has an error, -ENOMEM; on failure everything
 * built is freed and *out is untouched. Control thread; thread-safe.
 */
STLS_MUST_USE int stls_profile_set_build(const struct stls_settings *s,
					 const struct stls_profile_conf *list,
					 struct stls_diag *diag,
					 struct stls_profile_set **out);

/* Takes one more reference (atomic). Returns <set>. Any thread. */
struct stls_profile_set *stls_profile_set_ref(struct stls_profile_set *set);

/*
 * Drops one reference (atomic); the last one frees every profile and
 * SSL_CTX of the set. NULL is a no-op. Any thread.
 */
void stls_profile_set_unref(struct stls_profile_set *set);

/*
 * The set's generation: a process-wide number that increases with every
 * successful build (the first set is 1).
 */
uint64_t stls_profile_set_generation(const struct stls_profile_set *set);

/* Number of profiles, defaults included (implicit ones too). */
size_t stls_profile_set_count(const struct stls_profile_set *set);

/*
 * Profile number <i> (0 .. count-1): the profiles in file order, then any
 * default made from the parameters. Returns NULL when i is out of range.
 * Borrowed: valid while the caller holds a reference on the set.
 */
const struct stls_profile *
stls_profile_set_get0(const struct stls_profile_set *set, size_t i);

/* The [server:default] or [client:default] profile. Never NULL. */
const struct stls_profile *
stls_profile_set_default(const struct stls_profile_set *set,
			 enum stls_role role);

/*
 * The server profile for a connection accepted on <local> (the listening
 * address), with the SNI name <sni> (NULL or "" before the ClientHello or
 * when the client sent none). Rules in docs/profiles.md. Never NULL;
 * borrowed like stls_profile_set_get0().
 */
const struct stls_profile *
stls_profile_set_match_server(const struct stls_profile_set *set,
			      const struct stls_addr *local, const char *sni);

/*
 * The client profile for an outbound connection to <dst>, for the server
 * name <server_name> and the server id <server_id> (each NULL or "" when
 * the request names none). Never NULL.
 */
const struct stls_profile *
stls_profile_set_match_client(const struct stls_profile_set *set,
			      const struct stls_addr *dst,
			      const char *server_name, const char *server_id);

/*
 * "TLSs<default>", "TLSc<default>", "TLSs<any:example.com>",
 * "TLSc<1.2.3.4:5061>", "TLSs<[2001:db8::1]:5061>". Borrowed.
 */
const char *stls_profile_name(const struct stls_profile *p);

/*
 * The profile's configuration: a copy without passwords and without keys
 * held as PEM text (private_key NULL then). Borrowed.
 */
const struct stls_profile_conf *
stls_profile_conf_of(const struct stls_profile *p);

/*
 * The profile's SSL_CTX. Profiles of one set whose settings are equal
 * (all but their names and certificates, docs/profiles.md) share the
 * context of the first of them, which holds that first profile's
 * certificates; stls_profile_ssl_new() gives every connection its own
 * profile's. Borrowed: SSL_CTX_up_ref() to keep it.
 */
SSL_CTX *stls_profile_ssl_ctx(const struct stls_profile *p);

enum stls_role stls_profile_role(const struct stls_profile *p);

/* The set a profile belongs to. Borrowed. */
struct stls_profile_set *stls_profile_set_of(const struct stls_profile *p);

/*
 * Creates the SSL object of one connection using profile <p>: in accept
 * state for a server profile (<addr> = the local address the connection
 * arrived on, used again when SNI arrives), in connect state for a client
 * profile (<addr> = the destination; the profile's server_name, if any, is
 * set as SNI: call SSL_set_tlsext_host_name() again to send another).
 * The SSL holds a reference on p's set until it is freed, so a reload
 * never pulls the profiles from under a live connection.
 * Returns the SSL (the caller owns it: SSL_free()), or NULL when out of
 * memory. No BIO is attached. Any thread.
 */
SSL *stls_profile_ssl_new(const struct stls_profile *p,
			  const struct stls_addr *addr);

/*
 * The profile an SSL made by stls_profile_ssl_new() currently uses (after
 * an SNI switch, the new one), or NULL for any other SSL. Borrowed: valid
 * while the SSL lives.
 */
const struct stls_profile *stls_profile_of_ssl(const SSL *ssl);

#endif
