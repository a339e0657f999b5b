/*
 * Internal interfaces of lib/conf, shared by its source files and its unit
 * tests. Nothing here is part of the public API.
 */
#ifndef STLS_CONF_INT_H
#define STLS_CONF_INT_H

#include "stls/conf.h"

/* Internal: not exported from a shared libsiptls. */
#pragma GCC visibility push(hidden)

/* Longest token of the grammar, in bytes (Kamailio's limit). */
#define STLS__TOKEN_MAX 511

/*
 * Parses a boolean word: yes true enable enabled 1 on / no false disable
 * disabled 0 off, case-insensitive. Returns 0 and *out = 0/1, or -EINVAL.
 */
STLS_MUST_USE int stls__conf_parse_bool(const char *v, int *out);

/*
 * Parses a decimal integer with an optional '-' sign and no other
 * characters, within int. Returns 0, -EINVAL (syntax) or -ERANGE.
 */
STLS_MUST_USE int stls__conf_parse_int(const char *v, int *out);

/*
 * Finds v in names[0..n) case-insensitively. Returns the index or -1.
 * For stls_method_names the aliases "TLSv1.0" and "TLSv1.0+" are known too.
 */
int stls__conf_enum_find(const char *const *names, int n, const char *v);

/*
 * Resolves a configured path as the seed says: "" stays "", "/..." stays
 * (so "/engine:..." and "/uri:..." key ids are untouched), "pkcs11:..."
 * (an RFC 7512 key id) stays, "." prefix stays
 * (working directory), anything else becomes base_dir/v (base_dir NULL or
 * "": v). *out is malloc'd. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__conf_path_resolve(const char *base_dir, const char *v,
					  char **out);

/*
 * Resolves a `config` value: "sqlite:PATH" gets PATH resolved as above,
 * a PostgreSQL URI is kept, anything else is a path. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__conf_src_resolve(const char *base_dir, const char *v,
					 char **out);

/*
 * ocsp_stapling: "off", "on" (any case) or "file:PATH" (PATH resolved as
 * stls__conf_path_resolve() does). *out gets the normal form: "off",
 * "on" or "file:" and the resolved path (malloc'd). Returns 0, -EINVAL
 * for anything else (an empty PATH too) or -ENOMEM.
 */
STLS_MUST_USE int stls__conf_staple_norm(const char *base_dir, const char *v,
					 char **out);

/* The directory part of path ("." when it has none). malloc'd or NULL. */
char *stls__conf_dirname(const char *path);

/*
 * File names referenced by struct stls_loc: a reference-counted block that
 * owns them. Every profile and every conf holds one reference.
 */
struct stls__names;

struct stls__names *stls__names_new(void);
struct stls__names *stls__names_ref(struct stls__names *n);
void stls__names_unref(struct stls__names *n);
/* Returns a copy of file owned by n (same pointer for equal names), or NULL
 * when out of memory. */
const char *stls__names_add(struct stls__names *n, const char *file);

/* Section header words (lib/conf/target.c). */

/*
 * Parses a profile type word: server srv s / client cli c, any case.
 * Returns 0 and *role, or -EINVAL.
 */
STLS_MUST_USE int stls__conf_parse_role(const char *w, enum stls_role *role);

/*
 * Parses a profile target (white space already removed): default def any
 * all, IPv4:port or [IPv6]:port. Sets pr->kind and pr->addr. Problems go
 * to diag at file:line. t may be modified. Returns true on success.
 */
bool stls__conf_parse_target(struct stls_profile_conf *pr, char *t,
			     struct stls_diag *diag, const char *file,
			     int line);

/* Profiles (lib/conf/profile_conf.c). */

/* A new profile with every field unset (-1 / NULL), holding a ref on names. */
struct stls_profile_conf *stls__profile_new(enum stls_role role,
					    struct stls__names *names);

/*
 * Fills the unset fields of p from the compiled-in template of its role
 * (see docs/config.md): certificate and private_key of server profiles
 * become <base_dir>/cert.pem. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__profile_fill(struct stls_profile_conf *p,
				     const char *base_dir);

/*
 * Reports every duplicate of list into diag (see docs/config.md,
 * "Duplicates"). Returns the number of errors added.
 */
int stls__profiles_check_dups(const struct stls_profile_conf *list,
			      struct stls_diag *diag);

/*
 * Appends implicit [server:default] / [client:default] profiles made from
 * the template when list lacks them. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__profiles_add_implicit(struct stls_profile_conf **list,
					      const char *base_dir,
					      struct stls__names *names);

/*
 * Modparam mode: both default profiles made from the [tls] parameters
 * (the same values for both). Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__profiles_from_settings(
	const struct stls_settings *s, const char *base_dir,
	struct stls__names *names, struct stls_profile_conf **list);

/* Loading (lib/conf/load.c). */

/*
 * Fills every profile of *list from the template, reports duplicates and,
 * when implicit, appends the missing default profiles. Returns 0 or
 * -ENOMEM (problems go to diag).
 */
STLS_MUST_USE int stls__conf_complete(struct stls_profile_conf **list,
				      const char *base_dir,
				      struct stls__names *names, bool implicit,
				      struct stls_diag *diag);

/*
 * Appends copies of the profiles written inline in conf's main config
 * at **tail, advancing *tail. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__conf_copy_inline(const struct stls_conf *conf,
					 struct stls_profile_conf ***tail);

/* Parser (lib/conf/parser.c). */

enum stls__parse_mode {
	STLS__PARSE_MAIN,   /* sections [tls], [core], ... and profiles */
	STLS__PARSE_TLSCFG, /* profiles only */
};

/* State kept across the files of one tls.cfg directory. */
struct stls__parser {
	enum stls__parse_mode mode;
	const char *base_dir;          /* for path values */
	struct stls__names *names;     /* borrowed */
	struct stls_diag *diag;        /* borrowed */
	struct stls_settings *tls;     /* [tls] target (MAIN mode) */
	struct stls_loc *tls_loc;      /* per table entry: where set */
	struct stls_profile_conf **prof_tail; /* where to append profiles */
	struct stls_section **sec_tail;       /* where to append sections */
	/* current section: exactly one of these, or none */
	struct stls_profile_conf *cur_prof;
	struct stls_section *cur_sec;
	struct stls_kv **kv_tail;
	bool in_tls;
	bool in_bad;                   /* a broken header: skip its options */
	int oom;                       /* -ENOMEM seen */
};

/*
 * Parses one file's bytes (data need not be NUL-terminated) into p. Every
 * problem goes to p->diag as "file:line: message". Returns 0, or -ENOMEM.
 * Syntax errors are not a return value: check diag->errors.
 */
STLS_MUST_USE int stls__parse_buffer(struct stls__parser *p, const char *file,
				     const char *data, size_t len);

/*
 * Applies key = value (as written) to profile p; the key and its aliases
 * are in lib/conf/profile_keys.c. Reports problems to diag at file:line.
 * Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__profile_set(struct stls_profile_conf *p,
				    const char *key, const char *value,
				    const char *base_dir, const char *file,
				    int line, struct stls_diag *diag);

/*
 * Sets key (certificate, private_key, certificate2, private_key2, ca_list
 * or crl) of p to PEM text, kept as given and marked in p->pem_inline.
 * Any other key is reported to diag. Returns 0 or -ENOMEM.
 */
STLS_MUST_USE int stls__profile_set_pem(struct stls_profile_conf *p,
					const char *key, const char *pem,
					const char *file, int line,
					struct stls_diag *diag);

#pragma GCC visibility pop

#endif
