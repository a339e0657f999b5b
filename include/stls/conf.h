/*
 * Configuration model: what the config files say, before anything is built.
 *
 * One grammar serves the main config (sections `[tls]`, `[core]`, ... and
 * inline profiles) and tls.cfg (profiles only), compatible with Kamailio's
 * tls.cfg (see docs/config.md). Parsing never touches OpenSSL: it produces
 * struct stls_conf; lib/tls turns the profiles into SSL_CTXs.
 *
 * Ownership: a struct stls_conf owns everything hanging from it (strings,
 * profiles, sections). Locations point to file names kept alive by a
 * reference-counted block shared by the conf and every profile that
 * mentions them, so a profile list outlives the conf it came from.
 */
#ifndef STLS_CONF_H
#define STLS_CONF_H

#include "stls/addr.h"
#include "stls/common.h"
#include "stls/diag.h"
#include "stls/settings.h"

/*
 * Where something was written: a file and its line, or a database record
 * ("tlscfg id=17", "tlscfg id=17 column=method"), which has no line (0).
 */
struct stls_loc {
	const char *file; /* file name or record label; NULL for built-ins */
	int line;         /* 0 for records */
};

/* Whether loc names a place (a file line or a record). */
static inline bool stls_loc_is_set(const struct stls_loc *loc)
{
	return loc->file != NULL || loc->line > 0;
}

/*
 * Formats loc as "tls.cfg:3", "tlscfg id=17" (a record) or "(built-in)".
 * Returns buf.
 */
const char *stls_loc_format(const struct stls_loc *loc, char *buf,
			    size_t len);

enum stls_prof_kind {
	STLS_PROF_DEFAULT, /* [server:default], [client:default] */
	STLS_PROF_ANY,     /* [server:any]: matched by server_name only */
	STLS_PROF_ADDR,    /* [server:IP:port]; port 0 = any port */
};

/* Profile fields whose location is recorded (for build-time errors). */
enum stls_pf {
	STLS_PF_METHOD,
	STLS_PF_VERIFY_CERTIFICATE,
	STLS_PF_REQUIRE_CERTIFICATE,
	STLS_PF_VERIFY_DEPTH,
	STLS_PF_VERIFY_CLIENT,
	STLS_PF_VERIFY_SERVER_NAME,
	STLS_PF_VERIFY_WILDCARD,
	STLS_PF_CERTIFICATE,
	STLS_PF_PRIVATE_KEY,
	STLS_PF_PRIVATE_KEY_PASSWORD,
	STLS_PF_CERTIFICATE2,
	STLS_PF_PRIVATE_KEY2,
	STLS_PF_PRIVATE_KEY_PASSWORD2,
	STLS_PF_CA_LIST,
	STLS_PF_CA_PATH,
	STLS_PF_CRL,
	STLS_PF_CIPHER_LIST,
	STLS_PF_CIPHER_SUITES,
	STLS_PF_SERVER_NAME,
	STLS_PF_SERVER_NAME_MODE,
	STLS_PF_SERVER_ID,
	STLS_PF_GROUPS,
	STLS_PF_OCSP_STAPLING,
	STLS_PF_VERIFY_OCSP,
	STLS_PF_CRL_REFRESH,
	STLS_PF__COUNT
};

/*
 * One [server:...] or [client:...] section, after defaults are filled in
 * (every int field is then >= 0 except where noted). Paths are resolved
 * (absolute, or "./..." relative to the working directory as the seed
 * says); an explicitly empty path ("") means "none", as in Kamailio.
 */
struct stls_profile_conf {
	enum stls_role role;
	enum stls_prof_kind kind;
	struct stls_addr addr;      /* STLS_PROF_ADDR only */
	struct stls_loc loc;        /* the section header */
	bool implicit;              /* not written: made from the defaults */

	int method;                 /* enum stls_method */
	int verify_certificate;     /* 0/1 */
	int require_certificate;    /* 0/1 */
	int verify_depth;
	int verify_client;          /* enum stls_verify_client */
	int verify_server_name;     /* ours, client: RFC 5922 name check */
	int verify_wildcard;        /* ours, client: allow "*." DNS SANs */
	char *certificate;
	char *private_key;          /* path, or "/engine:..."/"/uri:..." id */
	char *private_key_password; /* SENSITIVE: never logged */
	char *certificate2;
	char *private_key2;
	char *private_key_password2;
	char *ca_list;
	char *ca_path;
	char *crl;
	char *cipher_list;          /* TLS <= 1.2 list */
	char *cipher_suites;        /* ours: TLS 1.3 suites */
	char *server_name;          /* SNI to match / to send (client) */
	int server_name_mode;       /* 0 exact, 1 domain+subdomains, 2 subs */
	char *server_id;
	/* ours (docs/profiles.md, docs/ocsp.md): */
	char *groups;               /* key-exchange groups, "X25519:P-256" */
	char *ocsp_stapling;        /* server: "off", "on" or "file:PATH"
				     * (PATH resolved); NULL = off */
	int verify_ocsp;            /* client: enum stls_verify_ocsp */
	int crl_refresh;            /* 0/1: fetch CRLs from their URLs */

	/*
	 * Fields that hold PEM text instead of a path (bit 1u << STLS_PF_x;
	 * only certificate, private_key, certificate2, private_key2, ca_list
	 * and crl): a database row with file_type = 1. Never set by tls.cfg.
	 */
	unsigned pem_inline;

	/* Where each field was written; unset (stls_loc_is_set) = default. */
	struct stls_loc field_loc[STLS_PF__COUNT];
	struct stls_profile_conf *next;            /* file order */
	void *names; /* private: keeps the file names of the locs alive */
};

/* Whether field f of p holds PEM text rather than a path. */
static inline bool stls_profile_conf_is_pem(const struct stls_profile_conf *p,
					    enum stls_pf f)
{
	return (p->pem_inline >> f) & 1u;
}

/* One key = value line of a non-profile section such as [core]. */
struct stls_kv {
	char *key;   /* lower-cased */
	char *value; /* unquoted, unescaped */
	struct stls_loc loc;
	struct stls_kv *next;
};

struct stls_section {
	char *name;            /* lower-cased, e.g. "core" */
	struct stls_loc loc;
	struct stls_kv *kvs;   /* in file order */
	struct stls_section *next;
};

struct stls_conf {
	char *main_file;    /* as given */
	char *base_dir;     /* directory of the main config */
	struct stls_settings tls;           /* the [tls] section */
	struct stls_section *sections;      /* [core] and other daemon ones */
	struct stls_profile_conf *profiles; /* inline + `config`, file order */
	void *pool;         /* private: owned strings and file names */
};

/*
 * Loads the main config main_path: its [tls] section (through the settings
 * table), the other sections (kept as key/value lists for the daemon), the
 * inline profiles and, when [tls] config is set, the tls.cfg file or
 * directory. Then completes the profiles: template defaults, duplicate
 * checks, implicit [server:default]/[client:default], or both defaults
 * from the [tls] parameters when no profile exists at all (docs/config.md).
 * Every problem goes to diag as "FILE:LINE: message" (warnings too), and
 * loading goes on after an error where it can, so that all are reported.
 * On success *out is a new conf (free with stls_conf_free()). Returns 0,
 * -EINVAL when diag got at least one error (*out = NULL), -ENOENT / -EACCES
 * when the main file cannot be read, or -ENOMEM. Touches no OpenSSL state;
 * any thread.
 */
STLS_MUST_USE int stls_conf_load(const char *main_path, struct stls_conf **out,
				 struct stls_diag *diag);

/* Flags of stls_conf_load_ex(). */
enum stls_conf_load_flag {
	/*
	 * The caller reads a database `config` itself (lib/db,
	 * stls_db_profiles_load()): conf->profiles then holds the inline
	 * profiles only, filled and checked for duplicates among themselves,
	 * without implicit defaults. Without this flag a database `config`
	 * is an error.
	 */
	STLS_CONF_LOAD_DB = 1 << 0,
};

/* stls_conf_load() with flags (enum stls_conf_load_flag). */
STLS_MUST_USE int stls_conf_load_ex(const char *main_path, unsigned flags,
				    struct stls_conf **out,
				    struct stls_diag *diag);

/*
 * Reads the profiles of s->config alone (file or directory) and completes
 * them as stls_conf_load() does: template defaults, duplicate checks,
 * implicit defaults. With s->config unset, *list holds the two defaults
 * made from the [tls] parameters of s; a database `config` is an error
 * (lib/db reads it). base_dir is the main config's directory (for relative
 * paths). On success *list is a new list (free with
 * stls_profile_conf_list_free()). Returns 0, -EINVAL (errors in diag,
 * *list = NULL) or -ENOMEM.
 */
STLS_MUST_USE int stls_conf_load_profiles(const struct stls_settings *s,
					  const char *base_dir,
					  struct stls_profile_conf **list,
					  struct stls_diag *diag);

/*
 * tls.reload: the profile list a reload should build. It is the inline
 * profiles of conf (copied, written ones only) followed by the profiles
 * re-read from s->config (s: the live settings, whose `config` may have
 * been changed by cfg.set), checked for duplicates across both, with
 * implicit defaults added, exactly as at start-up. Without `config` and
 * without inline profiles the defaults come from the [tls] parameters of s.
 * Same returns and ownership as stls_conf_load_profiles().
 */
STLS_MUST_USE int stls_conf_reload_profiles(const struct stls_conf *conf,
					    const struct stls_settings *s,
					    struct stls_profile_conf **list,
					    struct stls_diag *diag);

/*
 * Profiles from records (a database table, lib/db) instead of tls.cfg
 * lines: each record names its type and target as a section header would
 * and sets keys as option lines would, through the same keyword table and
 * the same checks, so that a record gives exactly the profile the
 * equivalent tls.cfg section gives. Locations are labels without a line
 * ("tlscfg id=17 column=method"): messages read "LABEL: message".
 * Ownership: a recs object owns the profiles pushed into it until
 * stls_conf_recs_build() takes them. Not thread-safe; any thread.
 */
struct stls_conf_recs;

/* The header of one record; every string is borrowed. */
struct stls_conf_rec_hdr {
	const char *type;    /* "server", "client" (or srv, s, cli, c) */
	const char *type_at; /* label for problems with type */
	const char *name;    /* "default", "any", "IP:port", "[IPv6]:port" */
	const char *name_at; /* label for problems with name */
	const char *at;      /* the record, e.g. "tlscfg id=17" */
};

/*
 * A new, empty set of records whose relative paths resolve against
 * base_dir (the main config's directory; NULL or "": kept as written).
 * Returns 0 and *out, or -ENOMEM.
 */
STLS_MUST_USE int stls_conf_recs_new(const char *base_dir,
				     struct stls_conf_recs **out);

/* Frees r and every profile it still holds. NULL-safe. */
void stls_conf_recs_free(struct stls_conf_recs *r);

/*
 * Starts a profile from a header. White space in type and name is
 * ignored, as in a section header. Returns 0, -EINVAL after reporting the
 * problem to diag (the record's keys are then ignored) or -ENOMEM.
 */
STLS_MUST_USE int stls_conf_recs_push(struct stls_conf_recs *r,
				      const struct stls_conf_rec_hdr *h,
				      struct stls_diag *diag);

/*
 * Sets key = value on the last profile pushed, as the tls.cfg line
 * "key = value" would (aliases, booleans, enums, ranges, relative paths).
 * Returns 0, -EINVAL after reporting a problem at label at (also when no
 * valid profile was pushed) or -ENOMEM.
 */
STLS_MUST_USE int stls_conf_recs_apply(struct stls_conf_recs *r,
				       const char *key, const char *value,
				       const char *at, struct stls_diag *diag);

/*
 * Sets a certificate, private_key, certificate2, private_key2, ca_list or
 * crl key of the last profile to PEM text (kept as given, never written to
 * a file: see stls_profile_conf_is_pem()). Same returns as apply.
 */
STLS_MUST_USE int stls_conf_recs_apply_pem(struct stls_conf_recs *r,
					   const char *key, const char *pem,
					   const char *at,
					   struct stls_diag *diag);

/*
 * The complete profile list, as stls_conf_reload_profiles() makes it from
 * a tls.cfg: the inline profiles of conf (may be NULL) first, then the
 * records in push order; template defaults filled, duplicates reported
 * (across both), implicit [server:default] / [client:default] added. The
 * records move into *list (r is left empty). Returns 0, -EINVAL (errors
 * in diag, *list = NULL; also when diag already had errors from push and
 * apply since r was made) or -ENOMEM.
 */
STLS_MUST_USE int stls_conf_recs_build(struct stls_conf_recs *r,
				       const struct stls_conf *conf,
				       struct stls_profile_conf **list,
				       struct stls_diag *diag);

/* Frees a list of non-profile sections and their key/value lines. */
void stls_section_list_free(struct stls_section *s);

/* Frees a conf and everything it owns. NULL-safe. */
void stls_conf_free(struct stls_conf *conf);

/*
 * Where [tls] parameter <name> ("engine", ...) was written in the main
 * config, or NULL when it was not. Borrowed: valid while <conf> lives.
 */
const struct stls_loc *stls_conf_tls_loc(const struct stls_conf *conf,
					 const char *name);

/* Frees a whole profile list (passwords are wiped). NULL-safe. */
void stls_profile_conf_list_free(struct stls_profile_conf *list);

/*
 * Deep copy of one profile (next = NULL; shares the file names by
 * reference). Returns 0 and *out, or -ENOMEM.
 */
STLS_MUST_USE int stls_profile_conf_dup(const struct stls_profile_conf *p,
					struct stls_profile_conf **out);

/*
 * The identity string of a profile, as tls.list shows it:
 * "TLSs<default>", "TLSc<default>", "TLSs<any:NAME>", "TLSs<10.0.0.1:5061>",
 * "TLSs<2001:db8::1:5061>" (IPv6 without brackets). Returns buf.
 */
const char *stls_profile_conf_name(const struct stls_profile_conf *p,
				   char *buf, size_t len);

/*
 * The section header of a profile as written in tls.cfg:
 * "[server:default]", "[client:any]", "[server:[2001:db8::1]:5061]".
 * Returns buf.
 */
const char *stls_profile_conf_header(const struct stls_profile_conf *p,
				     char *buf, size_t len);

/*
 * What [tls] `config` names (docs/database.md): nothing, a tls.cfg file or
 * directory, or a database of profiles ("sqlite:PATH", a libpq URI
 * "postgresql://..." or "postgres://..."). Databases are read by lib/db.
 */
enum stls_conf_src {
	STLS_CONF_SRC_NONE,
	STLS_CONF_SRC_FILE,
	STLS_CONF_SRC_SQLITE,
	STLS_CONF_SRC_POSTGRESQL,
};

/* Classifies a `config` value (NULL and "" are NONE). */
enum stls_conf_src stls_conf_src_kind(const char *config);

/* Whether a `config` value names a database. */
static inline bool stls_conf_src_is_db(const char *config)
{
	enum stls_conf_src k = stls_conf_src_kind(config);

	return k == STLS_CONF_SRC_SQLITE || k == STLS_CONF_SRC_POSTGRESQL;
}

/*
 * A `config` value fit to show (logs, tls.options, cfg.get, messages): a
 * password in a PostgreSQL URI, as user:PASSWORD@ or as a password=
 * parameter, becomes "***". Anything else is copied. Truncates to len.
 * Returns buf.
 */
const char *stls_conf_src_redact(const char *config, char *buf, size_t len);

/*
 * The keys a profile takes (tls.cfg), from the one table the parser uses
 * (lib/conf/profile_keys.c): for tools that store profiles elsewhere
 * (lib/db columns, siptlsctl db) and must stay in step with tls.cfg.
 */
enum stls_pkey_kind {
	STLS_PKEY_INT,  /* decimal integer */
	STLS_PKEY_BOOL, /* yes/no words, stored as 0/1 */
	STLS_PKEY_ENUM, /* one of a list of names */
	STLS_PKEY_STR,  /* free text */
	STLS_PKEY_PATH, /* a file (or PEM text, see pem) */
};

struct stls_pkey_info {
	const char *name;       /* the canonical key, e.g. "certificate" */
	enum stls_pkey_kind kind;
	enum stls_pf field;
	bool pem;               /* may hold PEM text (file_type = 1) */
	bool secret;            /* a password: never shown */
};

/* Number of profile keys. */
size_t stls_profile_key_count(void);

/* Fills *out with key i (table order). Returns false past the end. */
bool stls_profile_key_at(size_t i, struct stls_pkey_info *out);

/*
 * The index of a key by name or alias ("cert_file" finds "certificate"),
 * case-insensitively, or -1.
 */
int stls_profile_key_find(const char *name);

/*
 * The value of key i in p, as tls.cfg would take it back: integers and
 * booleans in decimal, enums by name (in buf), strings and paths as
 * stored (a pointer into p; PEM text when stls_profile_conf_is_pem()).
 * Returns NULL when the field is unset.
 */
const char *stls_profile_key_format(const struct stls_profile_conf *p,
				    size_t i, char *buf, size_t len);

#endif
