/*
 * What monitoring reads from the TLS layer (siptlsd's /metrics): when a
 * profile's certificate expires, and why a peer certificate failed
 * verification, as a short fixed cause name.
 *
 * Both answers come from objects the library already keeps: a profile's
 * certificates (immutable once its set is built) and a connection's
 * recorded X509 verification result. Nothing here is on the data path.
 */
#ifndef STLS_TLSMON_H
#define STLS_TLSMON_H

#include <time.h>

#include "stls/common.h"

struct stls_conn;
struct stls_profile;

/*
 * The earliest notAfter of the certificates profile <p> presents
 * (certificate and certificate2), as Unix time in *out. Returns 0,
 * -ENOENT when the profile presents no certificate (a client profile
 * without one), or -ERANGE when a notAfter cannot be converted. Any
 * thread, while the caller holds a reference on p's set.
 */
STLS_MUST_USE int stls_profile_get_not_after(const struct stls_profile *p,
					     time_t *out);

/* Why a peer certificate failed verification: a small, closed set. */
enum stls_verify_cause {
	STLS_VCAUSE_UNTRUSTED,     /* no path to a trusted CA */
	STLS_VCAUSE_EXPIRED,       /* a certificate or CRL is past notAfter */
	STLS_VCAUSE_NOT_YET_VALID, /* before notBefore */
	STLS_VCAUSE_REVOKED,       /* listed in a CRL */
	STLS_VCAUSE_CRL,           /* CRL missing, unreadable or stale */
	STLS_VCAUSE_SIGNATURE,     /* bad signature or key */
	STLS_VCAUSE_CHAIN,         /* depth, purpose, constraints */
	STLS_VCAUSE_OTHER,
	STLS_VCAUSE__COUNT
};

/* "untrusted", "expired", "not_yet_valid", ... indexed by the enum. */
extern const char *const stls_verify_cause_names[STLS_VCAUSE__COUNT];

/* The cause of an X509_V_ERR_* code (X509_V_OK gives OTHER). */
enum stls_verify_cause stls_verify_cause_of(long x509_verify_result);

/*
 * The cause of connection <c>'s verification failure: from its SSL while
 * it has one, else from the facts of its handshake. OTHER when neither
 * records a failure. Owning thread of <c>.
 */
enum stls_verify_cause stls_conn_get_verify_cause(const struct stls_conn *c);

#endif
