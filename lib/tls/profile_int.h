/*
 * Internals shared by the profile files (profile_set.c, profile_build.c,
 * profile_verify.c, profile_match.c). Not a public interface.
 */
#ifndef STLS_TLS_PROFILE_INT_H
#define STLS_TLS_PROFILE_INT_H

#include <stdatomic.h>

#include "base/hmap.h"
#include "stls/profile.h"

/*
 * A profile's certificates, as a connection receives them: each chain's
 * leaf, key and chain (one reference each), the current one last.
 */
struct stls__cert {
	X509 *x509;
	EVP_PKEY *key;
	STACK_OF(X509) *chain; /* NULL: none built */
};

struct stls__certs {
	size_t n;
	struct stls__cert v[2]; /* certificate, certificate2 */
};

struct stls__staple;
struct stls__crlslot;

struct stls_profile {
	struct stls_profile_conf conf; /* own copy, passwords dropped */
	SSL_CTX *ctx;                  /* one reference; maybe shared */
	bool shares_ctx;               /* ctx is an earlier profile's */
	struct stls__certs *certs;     /* what its connections present */
	struct stls__staple *staple[2]; /* per certs->v[i]; NULL: none */
	struct stls__crlslot **crlslots; /* crl_refresh: one per CA */
	size_t ncrlslots;
	struct stls_profile_set *set;  /* back pointer, not a reference */
	char name[STLS_PROFILE_NAME_MAX];
};

struct stls__pindex;

struct stls_profile_set {
	atomic_uint refs;
	uint64_t generation;
	size_t n;
	struct stls_profile *v;        /* n profiles, file order */
	struct stls_profile *defaults[2]; /* indexed by enum stls_role */
	struct stls__pindex *index;    /* by name and address */
	char **strs;                   /* strings the copies point to */
	size_t nstrs, capstrs;
	struct stls__hmap files;       /* while building: file names, once */
};

/* A string option is set when it is neither NULL nor "" (seed: "" = none). */
static inline bool has_str(const char *s)
{
	return s && *s;
}

/* Writes an ASN.1 time as "2021-01-01 00:00:00 UTC" into buf. Returns buf. */
const char *stls__asn1_time_str(const ASN1_TIME *t, char *buf, size_t len);

struct stls__keyrd;
struct stls__seen;

/*
 * The library context and property query of every profile's SSL_CTX
 * (SSL_CTX_new_ex()), and so of the record layers' algorithms after the
 * hand-off (stls_conn_ctx_apply_ex()): OpenSSL's defaults. One place to
 * change when profiles get providers of their own.
 */
#define STLS_PROFILE_LIBCTX NULL
#define STLS_PROFILE_PROPQ NULL

/* What one profile build needs besides the profile itself. */
struct stls__build {
	const struct stls_settings *s;
	struct stls_diag *diag;
	const struct stls_profile_conf *c; /* the caller's (with passwords) */
	const char *name;                  /* "TLSs<default>" for messages */
	struct stls__keyrd *keys;          /* the set build's; may be NULL */
	uint64_t cache_id;                 /* the set build's; 0: no cache */
	bool keylog;                       /* install the operator's key log */
	const struct stls__seen *seen;     /* files parsed ahead; may be NULL */
};

/*
 * Reports a problem with key <field> of the profile being built (field
 * STLS_PF__COUNT = the section itself): at the key's file:line, else the
 * section header's, else prefixed with the profile name.
 */
void stls__build_err(const struct stls__build *b, enum stls_pf field,
		     const char *fmt, ...) STLS_PRINTF(3, 4);
void stls__build_warn(const struct stls__build *b, enum stls_pf field,
		      const char *fmt, ...) STLS_PRINTF(3, 4);

/*
 * Makes the SSL_CTX of one profile without its certificates
 * (profile_build.c): protocol versions, ciphers, options, verification,
 * SNI callback, session settings. Every problem is reported, and the
 * context is made all the same so that the certificates can be checked
 * too: the caller looks at the diag's errors. Returns 0 and the context
 * in *out (owned by the caller), or -ENOMEM (nothing left allocated).
 */
STLS_MUST_USE int stls__profile_ctx_new(const struct stls__build *b,
					SSL_CTX **out);

/* Where a profile's certificates go: ssl when set, else ctx. */
struct stls__certdst {
	SSL_CTX *ctx;
	SSL *ssl;
};

/*
 * Reads, checks and installs the certificates and keys of the profile
 * into <d>, then builds each chain once (profile_cert.c). Problems are
 * reported; returns 0 (check the diag's errors) or -ENOMEM.
 */
STLS_MUST_USE int stls__profile_certs_apply(const struct stls__build *b,
					    const struct stls__certdst *d);

/*
 * Reads key <kpath> of field f (private_key or private_key2; when unset,
 * the key that follows certificate <cpath> of field cf), with password
 * <pw> (borrowed; NULL or "": none), checks it against <leaf> and
 * installs it into <d> (profile_pkey.c). Problems are reported.
 */
void stls__profile_key_load(const struct stls__build *b,
			    const struct stls__certdst *d, enum stls_pf f,
			    const char *kpath, const char *pw, enum stls_pf cf,
			    const char *cpath, X509 *leaf);

/*
 * The certificates installed in <d> as a new bundle (*out, freed with
 * stls__certs_free(); NULL is a no-op). Returns 0, -ENOMEM or -EINVAL.
 */
STLS_MUST_USE int stls__certs_get(const struct stls__certdst *d,
				  struct stls__certs **out);
void stls__certs_free(struct stls__certs *c);

/*
 * Gives <ssl> exactly the certificates of bundle <c> (the ones it had are
 * dropped). Returns 0, or -EPROTO when OpenSSL refuses one.
 */
STLS_MUST_USE int stls__certs_install(SSL *ssl, const struct stls__certs *c);

/*
 * Parsed certificate and key files by the SHA-256 of their bytes
 * (profile_cache.c), process-wide and thread-safe. A set build gets an id
 * from _begin() and calls _end() with it when done (entries that this
 * build and the one before did not use are dropped); a build that fails
 * calls _forget() before (what it added is dropped). _read() reads a
 * file (at most 1 MiB) and its digest: 0 or -errno; the bytes are wiped
 * and freed by _file_fini(). _get_*() return new references (NULL: not
 * cached); _put_*() take references of their own.
 */
#define STLS__PC_MD_LEN 32

struct stls__pc_file {
	unsigned char *data;
	size_t len;
	unsigned char md[STLS__PC_MD_LEN];
};

uint64_t stls__pcache_begin(void);
void stls__pcache_end(uint64_t id);
void stls__pcache_forget(uint64_t id);
STLS_MUST_USE int stls__pcache_read(const char *path, struct stls__pc_file *f);
/* PEM text held in memory, as _read() gives a file (a copy, digested). */
STLS_MUST_USE int stls__pcache_text(const char *text,
				   struct stls__pc_file *f);
void stls__pcache_file_fini(struct stls__pc_file *f);
STACK_OF(X509) *stls__pcache_get_certs(uint64_t id, const unsigned char *md);
EVP_PKEY *stls__pcache_get_key(uint64_t id, const unsigned char *md);
void stls__pcache_put_certs(uint64_t id, const unsigned char *md,
			    STACK_OF(X509) *certs);
void stls__pcache_put_key(uint64_t id, const unsigned char *md, EVP_PKEY *key);
/* The number of files cached (tests, diagnostics). */
size_t stls__pcache_count(void);

/*
 * The certificates of value <v> (a file, or PEM text when pem) through
 * the file cache of build <cache_id> (profile_cert.c): from the cache
 * when its bytes are known, else parsed as
 * SSL_CTX_use_certificate_chain_file() reads them and cached. A new
 * reference on the stack (leaf first), or NULL when it cannot be read or
 * parsed, or cache_id is 0 (nothing reported: the caller's file way says
 * why). Any thread.
 */
STACK_OF(X509) *stls__certs_read(uint64_t cache_id, const char *v, bool pem);
/* The same from bytes already read and digested (<f>, borrowed), parsed
 * in library context <libctx> (NULL: the default) unless cached. */
STACK_OF(X509) *stls__certs_parse(uint64_t cache_id, OSSL_LIB_CTX *libctx,
				  const struct stls__pc_file *f);

/*
 * Parsing ahead (profile_ahead.c): reads and parses the certificate and
 * plain key files of <list> into the file cache of build <cache_id>, on
 * the number of threads s->load_threads asks for (the calling one, plus
 * threads started for this call and joined before it returns), so that
 * the serial build finds them parsed. Returns what was read: each file's
 * digest by its path (freed with stls__seen_free()), or NULL when
 * nothing was done (small sets, one thread, out of memory). Reports
 * nothing: what does not parse is left to the build, which says why.
 */
struct stls__seen *stls__parse_ahead(const struct stls_settings *s,
				     const struct stls_profile_conf *list,
				     uint64_t cache_id);

/*
 * Library contexts for the threads that parse ahead (profile_libctx.c).
 * _private_ok(): whether a parse in a context of its own means the same
 * as in the default context under <s> (only OpenSSL's own providers
 * there, no FIPS mode, no engine). _slot(): the context of parsing slot
 * <slot> (below STLS__LIBCTX_SLOTS), made at its first use and kept for
 * the life of the process; NULL when none can be made (then the default
 * context is used). Any thread.
 */
#define STLS__LIBCTX_SLOTS 64
bool stls__libctx_private_ok(const struct stls_settings *s);
OSSL_LIB_CTX *stls__libctx_slot(unsigned slot);

/*
 * The files one build has read ahead (profile_seen.c): path -> SHA-256
 * of the bytes read, so that the build reads each file once. _new()
 * makes room for <cap> files (0 or -ENOMEM); _add() keeps <path>
 * (borrowed: it must outlive the table) unless full or known; _md() is
 * the digest of <path>, or NULL (also for a NULL table). Not
 * thread-safe: filled, then read, by one thread.
 */
STLS_MUST_USE int stls__seen_new(size_t cap, struct stls__seen **out);
void stls__seen_add(struct stls__seen *t, const char *path,
		    const unsigned char *md);
const unsigned char *stls__seen_md(const struct stls__seen *t,
				   const char *path);
void stls__seen_free(struct stls__seen *t);

/*
 * The fast key reader of one set build (profile_key.c). _read() returns an
 * unencrypted PKCS#8 key from <path> (the caller owns it), or NULL for
 * anything else, which the caller then reads the general way; it reports
 * nothing. With a <cache_id> (0: none) the keys it reads go through the
 * file cache. <kr> NULL: always NULL. Not thread-safe: one per build.
 */
STLS_MUST_USE int stls__keyrd_new(uint64_t cache_id,
				  struct stls__keyrd **out);
void stls__keyrd_free(struct stls__keyrd *kr);
EVP_PKEY *stls__keyrd_read(struct stls__keyrd *kr, const char *path);
/* The same from bytes already read and digested (<f>, borrowed). */
EVP_PKEY *stls__keyrd_parse(struct stls__keyrd *kr,
			    const struct stls__pc_file *f);

/*
 * Context sharing (profile_share.c): the table of one set build, and the
 * build of one profile's context and certificates through it: p->ctx
 * and p->certs are set on success. Returns 0, -EINVAL after reporting
 * problems, or -ENOMEM.
 */
struct stls__shares;

STLS_MUST_USE int stls__shares_new(struct stls__shares **out);
void stls__shares_free(struct stls__shares *t);
STLS_MUST_USE int stls__profile_share_build(const struct stls__build *b,
					    struct stls__shares *t,
					    struct stls_profile *p);

/*
 * File-valued keys (profile_pem.c): value v names a file, or is PEM text
 * when pem (stls_profile_conf_is_pem() of its field).
 *
 * stls__profile_src_name: v itself for a file, "(PEM value)" for PEM text
 * (for messages: PEM text is never printed).
 * stls__profile_open: a BIO reading v (the file, or the text in place:
 * v must outlive the BIO). A missing or unreadable file is reported at
 * field f as "<key>: cannot load '<path>': <reason>"; NULL then.
 * stls__profile_src_read: v's bytes and digest for the file cache
 * (stls__pcache_read() or stls__pcache_text()); 0 or -errno.
 * stls__certdst_use_chain_bio: SSL_CTX_use_certificate_chain_file() on a
 * BIO, into either target of <d>. Returns 1, or 0 with the reason on
 * OpenSSL's error queue.
 */
const char *stls__profile_src_name(const char *v, bool pem);
BIO *stls__profile_open(const struct stls__build *b, enum stls_pf f,
			const char *key, const char *v, bool pem);
STLS_MUST_USE int stls__profile_src_read(const char *v, bool pem,
					 struct stls__pc_file *f);
int stls__certdst_use_chain_bio(const struct stls__certdst *d, BIO *bio);

/*
 * Verification (profile_verify.c): sets the verify mode, callback and depth
 * of <ctx> from the profile, loads ca_list, ca_path and crl, and warns
 * about unsafe combinations. Problems are reported; returns the number of
 * errors reported (0 = fine).
 */
int stls__profile_verify_apply(const struct stls__build *b, SSL_CTX *ctx);

/* The OpenSSL verify mode for a profile (behaviour study 5.1). */
int stls__profile_verify_mode(const struct stls_profile_conf *c);

/*
 * The profile index (profile_index.c): builds the lookup structures for
 * the profiles v[0..n) (the set's final array: the index keeps positions
 * and borrows their names). Returns 0 and the index in *out, -E2BIG or
 * -ENOMEM. stls__pindex_free(NULL) is a no-op.
 */
STLS_MUST_USE int stls__pindex_build(const struct stls_profile *v, size_t n,
				     struct stls__pindex **out);
void stls__pindex_free(struct stls__pindex *ix);

/*
 * Whether a profile's server_name is a wildcard: a server profile whose
 * name is "*." followed by at least one byte (docs/profiles.md).
 */
bool stls__profile_name_is_wild(const struct stls_profile_conf *c);

/*
 * The operator's key log (keylog.c). _prepare() checks keylog_file and
 * keylog_enable of <s> once per set build, opens the file and warns;
 * *on says whether contexts get the log. Returns 0, or -errno after
 * reporting an error. _install() puts the callback on one context.
 */
STLS_MUST_USE int stls__keylog_prepare(const struct stls_settings *s,
				       struct stls_diag *diag, bool *on);
void stls__keylog_install(SSL_CTX *ctx);

/*
 * Revocation (profile_revoc.c, docs/ocsp.md), once p->ctx and p->certs
 * are built: a server profile with ocsp_stapling gets a staple entry per
 * certificate and the status callback on its context; a client profile
 * with verify_ocsp asks for the peer's staple and checks it; a profile
 * with crl_refresh gets a refreshed-CRL slot per CRL of its store.
 * Problems are reported; returns 0 or -ENOMEM. _release() drops what
 * _attach() took (the profile's context stays).
 */
STLS_MUST_USE int stls__profile_revoc_attach(const struct stls__build *b,
					     struct stls_profile *p);
void stls__profile_revoc_release(struct stls_profile *p);

/*
 * Installs the SNI callback on a server context (profile_match.c).
 * Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__profile_sni_install(SSL_CTX *ctx);

#endif
