/*
 * The module parameters: every parameter of the seed's section 10 plus
 * ca_path, private_key_password and cipher_suites, under their exact names.
 *
 * One table (lib/conf/settings.c) describes each parameter: name, type,
 * default, range, whether it may change at runtime, and its documentation.
 * The same table fills struct stls_settings from the `[tls]` section,
 * serves `tls.options`, `cfg.get` and `cfg.set`, and generates
 * docs/parameters.md.
 *
 * Thread safety: the fields of the runtime-changeable parameters are written
 * by the control thread while workers run; read them only through
 * stls_settings_get_int() (an atomic load). Strings are never changed in
 * place: `config` is replaced under the owner's lock.
 */
#ifndef STLS_SETTINGS_H
#define STLS_SETTINGS_H

#include "stls/common.h"
#include "stls/diag.h"

/* tls_method values, in the seed's spelling (see stls_method_names). */
enum stls_method {
	STLS_METHOD_UNSET = -1,
	STLS_METHOD_SSLV2,
	STLS_METHOD_SSLV3,
	STLS_METHOD_SSLV23,
	STLS_METHOD_TLSV1,
	STLS_METHOD_TLSV1_PLUS,
	STLS_METHOD_TLSV1_1,
	STLS_METHOD_TLSV1_1_PLUS,
	STLS_METHOD_TLSV1_2,
	STLS_METHOD_TLSV1_2_PLUS,
	STLS_METHOD_TLSV1_3,
	STLS_METHOD_TLSV1_3_PLUS,
	STLS_METHOD__COUNT
};

/* verify_client values. */
enum stls_verify_client {
	STLS_VC_UNSET = -1,
	STLS_VC_OFF,
	STLS_VC_ON,
	STLS_VC_OPTIONAL,
	STLS_VC_OPTIONAL_NO_CA,
	STLS_VC__COUNT
};

/* verify_ocsp values (client profiles, docs/ocsp.md). */
enum stls_verify_ocsp {
	STLS_VOCSP_UNSET = -1,
	STLS_VOCSP_OFF,  /* no staple asked for */
	STLS_VOCSP_SOFT, /* revoked refused; missing or unknown logged */
	STLS_VOCSP_HARD, /* only a good staple accepted */
	STLS_VOCSP__COUNT
};

struct stls_settings {
	/* Profile parameters: used for the default profiles when no tls.cfg
	 * and no inline profile exists (the seed's "modparam" mode). */
	int tls_method;            /* enum stls_method; TLSv1.2+ */
	char *certificate;         /* resolved path or NULL */
	char *private_key;
	char *private_key_password;
	char *private_key_password_file; /* read into the one above */
	char *ca_list;
	char *ca_path;
	char *crl;
	int verify_certificate;    /* 0/1 */
	int verify_depth;          /* 9 */
	int require_certificate;   /* 0/1 */
	int verify_client;         /* enum stls_verify_client */
	char *cipher_list;         /* TLS <= 1.2 cipher list, NULL = default */
	char *cipher_suites;       /* TLS 1.3 suites, NULL = default */
	char *server_name;
	char *groups;              /* key-exchange groups, NULL = default */
	char *ocsp_stapling;       /* "off", "on", "file:PATH"; NULL = off */
	int verify_ocsp;           /* enum stls_verify_ocsp */
	int crl_refresh;           /* 0/1 */

	/* Obsolete: accepted with a warning, no effect. */
	int send_timeout;
	int handshake_timeout;

	/* Global parameters. (rt) = changeable at runtime. */
	int connection_timeout;    /* (rt) seconds, -1 never */
	int tls_disable_compression;
	int ssl_release_buffers;   /* -1/0/1 */
	int ssl_freelist_max_len;  /* no effect on OpenSSL 3 */
	int ssl_max_send_fragment; /* -1 or 512..16384 */
	int ssl_read_ahead;        /* -1/0/1 */
	int send_close_notify;     /* (rt) */
	int con_ct_wq_max;         /* (rt) bytes */
	int ct_wq_max;             /* (rt) bytes */
	int ct_wq_blk_size;        /* (rt) bytes */
	int tls_log;               /* (rt) level, cfg name "log" */
	int tls_debug;             /* (rt) level, cfg name "debug" */
	int low_mem_threshold1;    /* (rt) KB; -1 auto, 0 off */
	int low_mem_threshold2;    /* (rt) KB; -1 auto, 0 off */
	int tls_force_run;
	int session_cache;
	int session_tickets;       /* siptls addition */
	char *session_id;
	int renegotiation;
	char *config;              /* (rt, next reload) tls.cfg file or dir */
	char *xavp_cfg;
	char *event_callback;
	char *rand_engine;         /* no effect on OpenSSL 3 */
	char *engine;
	char *engine_config;
	char *engine_algorithms;

	/* siptls additions: revocation data, files, debugging. */
	int fetch_timeout;         /* s: one OCSP or CRL HTTP exchange */
	int crl_refresh_interval;  /* s: longest wait between CRL fetches */
	int watch_files;           /* 0/1: reload when a used file changes */
	int watch_delay;           /* ms: settle time before that reload */
	char *keylog_file;         /* SSLKEYLOGFILE-format log, or NULL */
	int keylog_enable;         /* 0/1: the key log must be asked twice */
	int load_threads;          /* threads a build parses files on (1); 0 auto */

	/* Not a [tls] parameter: set by the program that embeds the library
	 * (siptlsd: [core] tls_record_handoff). 1: server profile contexts
	 * are prepared for the record hand-off (stls_conn_ctx_apply_ex());
	 * 0 (default): they are not, their connections keep their SSL and
	 * OpenSSL formats no key-log lines for them. */
	int record_handoff;
};

/* Names as the seed spells them, indexed by the enums above. */
extern const char *const stls_method_names[STLS_METHOD__COUNT];
extern const char *const stls_verify_client_names[STLS_VC__COUNT];
extern const char *const stls_verify_ocsp_names[STLS_VOCSP__COUNT];

/* Value kinds of the settings table. */
enum stls_setting_kind {
	STLS_SK_INT,  /* decimal integer, optional '-' sign, min..max */
	STLS_SK_BOOL, /* yes/no words or an integer (non-zero = 1) */
	STLS_SK_STR,  /* free string; "" = empty */
	STLS_SK_PATH, /* string resolved against the main config dir */
	STLS_SK_ENUM, /* one of enum_names, case-insensitive */
};

/* Flags of a settings table entry. */
enum stls_setting_flag {
	STLS_SF_RUNTIME = 1 << 0,   /* may change at runtime (cfg.set) */
	STLS_SF_OBSOLETE = 1 << 1,  /* accepted with a warning, no effect */
	STLS_SF_NO_EFFECT = 1 << 2, /* no effect with OpenSSL 3 (warning) */
	STLS_SF_SENSITIVE = 1 << 3, /* never printed: shown as "..." */
	STLS_SF_PATH = 1 << 4,      /* value is a path, resolved on set */
	STLS_SF_PROFILE = 1 << 5,   /* per-profile (modparam mode only) */
	STLS_SF_SOURCE = 1 << 6,    /* `config`: a path or a database URI */
};

/* One entry of the settings table (lib/conf/settings.c). */
struct stls_setting_desc {
	const char *name;     /* module parameter name, e.g. "tls_log" */
	const char *cfg_name; /* runtime variable of group tls: "log" */
	enum stls_setting_kind kind;
	size_t offset;        /* into struct stls_settings: int or char * */
	const char *def;      /* default as text (NULL = unset) */
	int min, max;         /* INT/BOOL/ENUM range */
	const char *const *enum_names; /* ENUM: names indexed by value */
	unsigned flags;       /* enum stls_setting_flag */
	const char *doc;      /* one-paragraph meaning */
	const char *note;     /* OpenSSL 3 / compatibility note, or NULL */
};

/* Longest text stls_settings_format() produces for an int or enum. */
#define STLS_SETTING_INT_STRLEN 24

/* At most this many settings (arrays indexed by setting may use it). */
#define STLS_SETTINGS_MAX 64

/*
 * Fills *s with the defaults of the table. Path defaults stay unresolved
 * (certificate and private_key are NULL, meaning "<main config dir>/cert.pem"
 * until stls_settings_resolve_defaults() runs). Returns 0 or -ENOMEM (then
 * *s holds nothing to free). Any thread; *s is the caller's.
 */
STLS_MUST_USE int stls_settings_init(struct stls_settings *s);

/*
 * Sets certificate and private_key, when unset, to <base_dir>/cert.pem as
 * the seed documents. base_dir NULL leaves them unset. Returns 0 or
 * -ENOMEM.
 */
STLS_MUST_USE int stls_settings_resolve_defaults(struct stls_settings *s,
						 const char *base_dir);

/* Frees every string of *s (the key password is wiped first). NULL-safe. */
void stls_settings_fini(struct stls_settings *s);

/*
 * Deep copy of src into dst (dst is overwritten, not freed first: pass an
 * uninitialised or finied struct). Returns 0 or -ENOMEM (dst then holds
 * nothing to free).
 */
STLS_MUST_USE int stls_settings_copy(struct stls_settings *dst,
				     const struct stls_settings *src);

/*
 * Looks a setting up by module parameter name ("tls_log") or runtime
 * variable name ("log"), case-insensitively. Returns the entry or NULL.
 */
const struct stls_setting_desc *stls_setting_find(const char *name);

/* Entry i of the table (0-based, table order), or NULL past the end. */
const struct stls_setting_desc *stls_setting_at(size_t i);

/* Number of entries of the table. */
size_t stls_setting_count(void);

/*
 * Parses value for entry d (booleans, integers with an optional '-' sign,
 * enum names, strings) and stores it in *s after the range check. PATH
 * entries are resolved: "/..." kept, "." prefix kept (working directory),
 * anything else prefixed by base_dir (NULL base_dir: kept as written);
 * "" stays "" (none). On failure writes a message naming the parameter
 * and the value into err ("verify_depth: invalid integer value 'x'") and
 * returns -EINVAL (syntax), -ERANGE (out of range) or -ENOMEM; *s is
 * unchanged then. Integers are stored atomically; strings are not safe
 * against concurrent readers.
 */
STLS_MUST_USE int stls_settings_set_str(struct stls_settings *s,
					const struct stls_setting_desc *d,
					const char *value, const char *base_dir,
					char *err, size_t errlen);

/*
 * The warning to print after d was set to its current value in *s
 * (obsolete parameter, no effect with OpenSSL 3, compression that stays
 * off, HSM engines not implemented yet), or NULL. Static text.
 */
const char *stls_setting_warning(const struct stls_settings *s,
				 const struct stls_setting_desc *d);

/*
 * Reads an INT/BOOL/ENUM setting with an atomic load (safe against
 * stls_settings_set_runtime() from another thread). d must not be a
 * string entry (returns 0 then).
 */
int stls_settings_get_int(const struct stls_settings *s,
			  const struct stls_setting_desc *d);

/*
 * cfg.set: changes a RUNTIME setting. sval is the value as text (NULL:
 * use ival, for cfg.set_now_int). Integers are stored with an atomic store;
 * `config` (a string) is resolved against base_dir and replaced: the caller
 * serialises that with its readers (it only matters at the next reload).
 * Returns 0, -EPERM (not changeable at runtime: err says why), -ERANGE (out
 * of range), -EINVAL (bad value or a string setting given an int) or
 * -ENOMEM. err gets the message.
 */
STLS_MUST_USE int stls_settings_set_runtime(struct stls_settings *s,
					    const struct stls_setting_desc *d,
					    const char *sval, int ival,
					    const char *base_dir, char *err,
					    size_t errlen);

/*
 * Formats the current value of d for tls.options / cfg.get: integers in
 * decimal, enums by name, strings as they are ("" when unset), SENSITIVE
 * ones as "..." when set, `config` with a URI password hidden (SOURCE).
 * Returns the length written (without NUL), -ENOBUFS when buf is too small
 * (buf is then truncated, NUL-terminated) or -ENOMEM.
 */
STLS_MUST_USE int stls_settings_format(const struct stls_settings *s,
				       const struct stls_setting_desc *d,
				       char *buf, size_t len);

/*
 * The docs/parameters.md text generated from the table. Returns a malloc'd
 * NUL-terminated string (the caller frees it) or NULL when out of memory.
 */
char *stls_settings_doc_markdown(void);

#endif
