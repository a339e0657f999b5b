/*
 * Configuration model: what the config files say, before anything is built.
 *
 * One grammar serves the main config (sections `[tls]`, `[core]`, ... and
 * inline profiles) and tls.cfg (profiles only), compatible with Kamailio's
 * tls.cfg (see docs/config.md). Parsing never touches OpenSSL: it produces
 * struct stls_conf; lib/tls turns the profiles into SSL_CTXs.
 *
 * Ownership: a struct stls_conf owns everything hanging from it (strings,
 * profiles, sections). Locations point to file names owned by the conf.
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

	struct stls_loc field_loc[STLS_PF__COUNT]; /* line 0 = not written */
	struct stls_profile_conf *next;            /* file order */
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

#endif
