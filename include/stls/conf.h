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

/* Where something was written. */
struct stls_loc {
	const char *file; /* NULL for built-in values */
	int line;
};

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

	struct stls_loc field_loc[STLS_PF__COUNT]; /* line 0 = not written */
	struct stls_profile_conf *next;            /* file order */
	void *names; /* private: keeps the file names of the locs alive */
};

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

/*
 * Reads the profiles of s->config alone (file or directory) and completes
 * them as stls_conf_load() does: template defaults, duplicate checks,
 * implicit defaults. With s->config unset, *list holds the two defaults
 * made from the [tls] parameters of s. base_dir is the main config's
 * directory (for relative paths). On success *list is a new list (free
 * with stls_profile_conf_list_free()). Returns 0, -EINVAL (errors in
 * diag, *list = NULL) or -ENOMEM.
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

#endif
