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

struct stls_settings {
	/* Profile parameters: used for the default profiles when no tls.cfg
	 * and no inline profile exists (the seed's "modparam" mode). */
	int tls_method;            /* enum stls_method; TLSv1.2+ */
	char *certificate;         /* resolved path or NULL */
	char *private_key;
	char *private_key_password;
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
	char *session_id;
	int renegotiation;
	char *config;              /* (rt, next reload) tls.cfg file or dir */
	char *xavp_cfg;
	char *event_callback;
	char *rand_engine;         /* no effect on OpenSSL 3 */
	char *engine;
	char *engine_config;
	char *engine_algorithms;
};

/* Names as the seed spells them, indexed by the enums above. */
extern const char *const stls_method_names[STLS_METHOD__COUNT];
extern const char *const stls_verify_client_names[STLS_VC__COUNT];

#endif
