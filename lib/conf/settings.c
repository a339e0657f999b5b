/*
 * The settings table: one entry per module parameter of the seed (section
 * 10, all 38, exact names) plus ca_path, private_key_password and
 * cipher_suites. Each entry binds a field of struct stls_settings with
 * offsetof; the _Generic term breaks the build when the field's type does
 * not fit the entry's kind (int for INT/BOOL/ENUM, char * for STR/PATH).
 *
 * The same table parses `[tls]`, answers cfg.get/cfg.set and tls.options,
 * and generates docs/parameters.md (settings_doc.c). Value handling lives
 * in settings_value.c; this file holds the table and the lifecycle.
 */
#include "conf_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef STLS_VERSION
#define STLS_VERSION "0"
#endif

#define FIELD(f, ctype)                                  \
	(offsetof(struct stls_settings, f) +             \
	 0 * sizeof(_Generic(((struct stls_settings *)0)->f, ctype: 1)))

#define S_INT(n, c, f, d, lo, hi, fl, doc, note) \
	{ n, c, STLS_SK_INT, FIELD(f, int), d, lo, hi, NULL, fl, doc, note }
#define S_BOOL(n, c, f, d, fl, doc, note) \
	{ n, c, STLS_SK_BOOL, FIELD(f, int), d, 0, 1, NULL, fl, doc, note }
#define S_ENUM(n, c, f, d, names, cnt, fl, doc, note)                    \
	{ n, c, STLS_SK_ENUM, FIELD(f, int), d, 0, (cnt) - 1, names, fl, \
	  doc, note }
#define S_STR(n, c, f, fl, d, doc, note) \
	{ n, c, STLS_SK_STR, FIELD(f, char *), d, 0, 0, NULL, fl, doc, note }
#define S_PATH(n, c, f, fl, doc, note)                                \
	{ n, c, STLS_SK_PATH, FIELD(f, char *), NULL, 0, 0, NULL,     \
	  (fl) | STLS_SF_PATH, doc, note }

#define RT STLS_SF_RUNTIME
#define PROF STLS_SF_PROFILE
#define MIB(x) ((x) * 1024 * 1024)

static const struct stls_setting_desc table[] = {
	S_ENUM("tls_method", "method", tls_method, "TLSv1.2+",
	       stls_method_names, STLS_METHOD__COUNT, PROF,
	       "Protocol versions of the default profiles: a single version "
	       "(TLSv1.2) or a minimum (TLSv1.2+). SSLv23 leaves the range to "
	       "OpenSSL.",
	       "Default TLSv1.2+ instead of the seed's TLSv1 (see "
	       "compatibility.md). SSLv2 and SSLv3 do not exist in OpenSSL 3; "
	       "TLSv1 and TLSv1.1 fail at OpenSSL 3's default security level."),
	S_PATH("certificate", "certificate", certificate, PROF,
	       "PEM file with the certificate chain (leaf first) of the "
	       "default profiles; it may hold the private key too. Default: "
	       "cert.pem in the main config file's directory.",
	       NULL),
	S_PATH("private_key", "private_key", private_key, PROF,
	       "PEM private key of the default profiles. Default: cert.pem in "
	       "the main config file's directory. A key that stays in an HSM "
	       "is named instead: \"/engine:ID\" (through the engine), "
	       "\"pkcs11:...\" (an RFC 7512 URI) or \"/uri:URI\" (an OpenSSL "
	       "store URI); see hsm.md.",
	       NULL),
	S_STR("private_key_password", "private_key_password",
	      private_key_password, PROF | STLS_SF_SENSITIVE, NULL,
	      "Password of an encrypted private key. Never printed.",
	      "Kamailio 5.6 has no such parameter; siptls applies it in the "
	      "default profiles too."),
	S_PATH("private_key_password_file", "private_key_password_file",
	       private_key_password_file, PROF,
	       "File whose first line is private_key_password, so that the "
	       "password stays out of the main config (and out of the rows "
	       "of a database config). Read when the main config is read; "
	       "set one of the two, not both. Warned about when group or "
	       "others may read it.",
	       "siptls addition."),
	S_PATH("ca_list", "ca_list", ca_list, PROF,
	       "PEM file of trusted CA certificates, used to verify peers and "
	       "advertised to clients in the certificate request.",
	       NULL),
	S_PATH("ca_path", "ca_path", ca_path, PROF,
	       "Directory of trusted CA certificates in OpenSSL's hashed "
	       "layout (c_rehash); used for verification only.",
	       "Kamailio ignores it outside tls.cfg; siptls applies it."),
	S_PATH("crl", "crl", crl, PROF,
	       "PEM file of certificate revocation lists checked when peers "
	       "are verified.",
	       NULL),
	S_BOOL("verify_certificate", "verify_certificate", verify_certificate,
	       "0", PROF,
	       "Verify the peer's certificate chain against the CA list.",
	       NULL),
	S_INT("verify_depth", "verify_depth", verify_depth, "9", 0, 100, PROF,
	      "Longest certificate chain accepted above the peer's "
	      "certificate.",
	      NULL),
	S_BOOL("require_certificate", "require_certificate",
	       require_certificate, "0", PROF,
	       "As a server, refuse clients that present no certificate "
	       "(with verify_certificate).",
	       NULL),
	S_STR("cipher_list", "cipher_list", cipher_list, PROF, NULL,
	      "Cipher list for TLS 1.2 and older, in OpenSSL's syntax. Unset: "
	      "BCP 195 (ECDHE with AES-GCM or ChaCha20-Poly1305, AES-128 "
	      "first).",
	      NULL),
	S_STR("cipher_suites", "cipher_suites", cipher_suites, PROF, NULL,
	      "TLS 1.3 cipher suites, colon separated (OpenSSL's "
	      "SSL_CTX_set_ciphersuites syntax). Unset: OpenSSL's three "
	      "(AES-GCM, ChaCha20-Poly1305), the server preferring "
	      "TLS_AES_128_GCM_SHA256.",
	      "siptls addition: Kamailio has one cipher_list for both."),
	S_STR("server_name", "server_name", server_name, PROF, NULL,
	      "SNI name of the default profiles: the client default sends it "
	      "when the request names none.",
	      "Kamailio stores this parameter but never uses it."),
	S_INT("send_timeout", "send_timeout", send_timeout, "0", INT_MIN,
	      INT_MAX, STLS_SF_OBSOLETE,
	      "Obsolete: accepted for old configs, no effect.",
	      "Use [core] send_timeout."),
	S_INT("handshake_timeout", "handshake_timeout", handshake_timeout, "0",
	      INT_MIN, INT_MAX, STLS_SF_OBSOLETE,
	      "Obsolete: accepted for old configs, no effect.",
	      "Use [core] handshake_timeout."),
	S_INT("connection_timeout", "connection_timeout", connection_timeout,
	      "600", -1, INT_MAX, RT,
	      "Seconds after which a TLS connection that never carried data "
	      "is closed; -1 means never. A change applies to new "
	      "connections.",
	      NULL),
	S_BOOL("tls_disable_compression", "disable_compression",
	       tls_disable_compression, "1", 0,
	       "Keep TLS compression off (it costs memory and enables the "
	       "CRIME attack).",
	       "OpenSSL 3 on Debian has no compression: 0 only warns."),
	S_INT("ssl_release_buffers", "ssl_release_buffers",
	      ssl_release_buffers, "1", -1, 1, 0,
	      "1: free OpenSSL's read and write buffers of idle connections "
	      "(SSL_MODE_RELEASE_BUFFERS); 0: keep them; -1: OpenSSL's "
	      "default.",
	      NULL),
	S_INT("ssl_freelist_max_len", "ssl_free_list_max",
	      ssl_freelist_max_len, "0", -1, 1 << 30, STLS_SF_NO_EFFECT,
	      "Accepted for old configs.",
	      "No effect: OpenSSL 1.1 removed the buffer free lists it tuned."),
	S_INT("ssl_max_send_fragment", "ssl_max_send_fragment",
	      ssl_max_send_fragment, "-1", -1, 16384, 0,
	      "Largest plaintext per TLS record, 512..16384 bytes; -1 keeps "
	      "OpenSSL's default (16384). Small values save memory but may "
	      "break handshakes with large certificate chains.",
	      NULL),
	S_INT("ssl_read_ahead", "ssl_read_ahead", ssl_read_ahead, "0", -1, 1,
	      0,
	      "1: let OpenSSL read more than one record at a time; 0: off; "
	      "-1: OpenSSL's default. Useful for debugging only.",
	      NULL),
	S_BOOL("send_close_notify", "send_close_notify", send_close_notify,
	       "1", RT,
	       "Send a TLS close_notify alert before closing a connection.",
	       "Default 1 instead of the seed's 0: RFC 8446 section 6.1 and "
	       "RFC 5246 section 7.2.1 require close_notify before closing "
	       "(see compatibility.md)."),
	S_INT("con_ct_wq_max", "con_ct_wq_max", con_ct_wq_max, "65536", 0,
	      MIB(4), RT,
	      "Bytes of plaintext one connection may queue while its "
	      "handshake is not done.",
	      NULL),
	S_INT("ct_wq_max", "ct_wq_max", ct_wq_max, "10485760", 0, 1 << 30,
	      RT,
	      "Bytes of plaintext all connections together may queue while "
	      "their handshakes are not done.",
	      NULL),
	S_INT("ct_wq_blk_size", "ct_wq_blk_size", ct_wq_blk_size, "4096", 1,
	      65536, RT,
	      "Smallest block of the plaintext queues, in bytes.", NULL),
	S_INT("tls_log", "log", tls_log, "3", 0, 1000, RT,
	      "Log level of TLS messages (new connections, verification "
	      "failures); they are written when the core log level is at "
	      "least this.",
	      NULL),
	S_INT("tls_debug", "debug", tls_debug, "3", 0, 1000, RT,
	      "Log level of TLS debug traces (handshake and renegotiation "
	      "details).",
	      NULL),
	S_INT("low_mem_threshold1", "low_mem_threshold1", low_mem_threshold1,
	      "-1", -1, 1 << 30, RT,
	      "Free memory in KB below which new TLS connections are "
	      "refused; -1 automatic, 0 off.",
	      NULL),
	S_INT("low_mem_threshold2", "low_mem_threshold2", low_mem_threshold2,
	      "-1", -1, 1 << 30, RT,
	      "Free memory in KB below which TLS work on established "
	      "connections fails; -1 automatic, 0 off.",
	      NULL),
	S_BOOL("tls_force_run", "force_run", tls_force_run, "0",
	       STLS_SF_NO_EFFECT, "Accepted for old configs.",
	       "No effect: siptls runs no OpenSSL start-up sanity checks "
	       "that could be skipped; a configuration that does not build "
	       "never starts."),
	S_BOOL("session_cache", "session_cache", session_cache, "0", 0,
	       "Keep a server-side cache of TLS sessions for resumption.",
	       "The session-id cache only: session tickets resume without "
	       "it. For no resumption at all set session_tickets = 0 too."),
	S_BOOL("session_tickets", "session_tickets", session_tickets, "1", 0,
	       "Issue session tickets (TLS 1.2 RFC 5077 tickets, TLS 1.3 "
	       "tickets) so that clients resume without server state; 0: "
	       "none.",
	       "siptls addition. Kamailio leaves OpenSSL's tickets on, as "
	       "the default 1 does."),
	S_STR("session_id", "session_id", session_id, 0,
	      "siptls-tls-" STLS_VERSION,
	      "Session ID context set on every profile; resumption only "
	      "works between profiles sharing it.",
	      "Default names siptls instead of kamailio-tls-5.x.y."),
	S_BOOL("renegotiation", "renegotiation", renegotiation, "0", 0,
	       "Allow renegotiation started by the client; off closes such "
	       "connections.",
	       NULL),
	S_PATH("config", "config", config, RT | STLS_SF_SOURCE,
	       "tls.cfg file or directory with the [server:...] and "
	       "[client:...] profiles, or a database table of profiles: "
	       "sqlite:PATH or a postgresql:// URI (see database.md; a "
	       "password in the URI is never shown). When profiles exist the "
	       "per-profile parameters above are ignored. A runtime change "
	       "applies at the next tls.reload.",
	       NULL),
	S_STR("xavp_cfg", "xavp_cfg", xavp_cfg, 0, NULL,
	      "Name of the per-request attribute group carrying server_name "
	      "and server_id for outbound connections.",
	      NULL),
	S_STR("event_callback", "event_callback", event_callback, 0, NULL,
	      "Name of the script function for the event "
	      "tls:connection-out.",
	      "Called as FUNCTION(\"tls:connection-out\") before the first "
	      "byte of every TLS connection siptlsd opens; KSR.drop() "
	      "refuses it (docs/scripting.md). Needs [core] script: "
	      "without one, a warning says it is not called."),
	S_STR("rand_engine", "rand_engine", rand_engine, STLS_SF_NO_EFFECT,
	      NULL, "Accepted for old configs.",
	      "No effect: OpenSSL 3's generator is thread-safe and siptls "
	      "never forks after OpenSSL starts, the reasons it was needed."),
	S_STR("engine", "engine", engine, 0, NULL,
	      "OpenSSL engine that holds HSM keys (pkcs11 for a PKCS#11 "
	      "token, gem for SafeNet Luna, cloudhsm, ...), started once "
	      "before the workers; NONE or unset: none. Global only.",
	      "Uses OpenSSL's ENGINE API (deprecated in OpenSSL 3, still the "
	      "route to PKCS#11 tokens on Debian 12): see hsm.md."),
	S_PATH("engine_config", "engine_config", engine_config, 0,
	       "OpenSSL configuration file applied before the engine starts "
	       "(engine commands such as MODULE_PATH and PIN, or providers), "
	       "under the key `siptls =` (or the seed's `kamailio =`). Warned "
	       "about when it holds a PIN and others may read it. Global "
	       "only.",
	       NULL),
	S_STR("engine_algorithms", "engine_algorithms", engine_algorithms, 0,
	      NULL,
	      "Comma-separated methods the engine becomes the default for: "
	      "ALL, RSA, DSA, DH, EC, RAND, CIPHERS, DIGESTS, PKEY, "
	      "PKEY_CRYPTO, PKEY_ASN1. Unset: none (keys from the engine "
	      "still use it). Global only.",
	      NULL),
	S_STR("groups", "groups", groups, PROF, NULL,
	      "Key-exchange groups of the default profiles, in preference "
	      "order, colon separated (OpenSSL's names: X25519, P-256, "
	      "P-384, X448, ffdhe2048, ...), e.g. \"X25519:P-256\". Unset: "
	      "OpenSSL's default list.",
	      "siptls addition."),
	S_STR("ocsp_stapling", "ocsp_stapling", ocsp_stapling, PROF, NULL,
	      "OCSP stapling of the server default profile: off, on (fetch "
	      "from the certificate's AIA responder and refresh before "
	      "nextUpdate) or file:PATH (a DER OCSP response, read at start "
	      "and at every reload). See ocsp.md.",
	      "siptls addition."),
	S_ENUM("verify_ocsp", "verify_ocsp", verify_ocsp, "off",
	       stls_verify_ocsp_names, STLS_VOCSP__COUNT, PROF,
	       "Client default profile: ask the server for a stapled OCSP "
	       "response. off; soft (a revoked certificate is refused, a "
	       "missing or unknown staple is logged and accepted); hard "
	       "(only a good staple is accepted).",
	       "siptls addition."),
	S_BOOL("crl_refresh", "crl_refresh", crl_refresh, "0", PROF,
	       "Fetch the CRLs of `crl` again from their HTTP distribution "
	       "points, on a schedule and at their nextUpdate, keeping the "
	       "last good one while the server is down. See ocsp.md.",
	       "siptls addition."),
	S_INT("fetch_timeout", "fetch_timeout", fetch_timeout, "10", 1, 300,
	      0,
	      "Seconds one OCSP or CRL HTTP exchange may take (connect, send, "
	      "receive).",
	      "siptls addition."),
	S_INT("crl_refresh_interval", "crl_refresh_interval",
	      crl_refresh_interval, "3600", 10, 604800, 0,
	      "Longest time in seconds between two fetches of a CRL with "
	      "crl_refresh; a CRL is fetched at its nextUpdate when that "
	      "comes first.",
	      "siptls addition."),
	S_BOOL("watch_files", "watch_files", watch_files, "0", 0,
	       "Reload the profiles when a file they use changes: "
	       "certificates, keys, CA lists, CA directories, CRLs, OCSP "
	       "response files and the `config` file or directory (inotify "
	       "on their directories, so that a rename into place is seen). "
	       "See operations.md.",
	       "siptls addition."),
	S_INT("watch_delay", "watch_delay", watch_delay, "2000", 100, 60000,
	      0,
	      "Milliseconds without further change before watch_files "
	      "reloads.",
	      "siptls addition."),
	S_PATH("keylog_file", "keylog_file", keylog_file, 0,
	       "Debugging only: append the TLS secrets of every connection "
	       "to this file in the SSLKEYLOGFILE format (Wireshark), mode "
	       "0600. Refused unless keylog_enable = yes too.",
	       "siptls addition. Anyone who reads the file can decrypt the "
	       "traffic."),
	S_BOOL("keylog_enable", "keylog_enable", keylog_enable, "0", 0,
	       "The second switch of keylog_file: yes writes the key log "
	       "(with a warning at every start and reload).",
	       "siptls addition."),
	S_INT("load_threads", "load_threads", load_threads, "0", 0, 64, 0,
	      "Threads that read and parse the certificate and key files "
	      "of the profiles while a set is built (at start, by --check, "
	      "at every reload): 0 one per CPU, at most 8; 1 only the "
	      "building thread. They run only during the build, and only "
	      "for sets of at least 64 files; messages and their order are "
	      "the same with any number. Each parses certificates in an "
	      "OpenSSL library context of its own (made once, kept), unless "
	      "an engine is set or OpenSSL's configuration loaded another "
	      "provider (then in the default context, where threads mostly "
	      "wait for its locks).",
	      "siptls addition (performance.md, 10,000 tenants)."),
	S_ENUM("verify_client", "verify_client", verify_client, "off",
	       stls_verify_client_names, STLS_VC__COUNT, PROF,
	       "Client certificate policy of the server default profile: off "
	       "(not requested), on (required and verified), optional "
	       "(verified when sent), optional_no_ca (requested, never "
	       "fatal).",
	       NULL),
};

const struct stls_setting_desc *stls_setting_at(size_t i)
{
	return i < STLS_ARRAY_SIZE(table) ? &table[i] : NULL;
}

size_t stls_setting_count(void)
{
	_Static_assert(STLS_ARRAY_SIZE(table) <= STLS_SETTINGS_MAX,
		       "raise STLS_SETTINGS_MAX");
	return STLS_ARRAY_SIZE(table);
}

const struct stls_setting_desc *stls_setting_find(const char *name)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(table); i++) {
		if (strcasecmp(name, table[i].name) == 0) {
			return &table[i];
		}
	}
	for (i = 0; i < STLS_ARRAY_SIZE(table); i++) {
		if (strcasecmp(name, table[i].cfg_name) == 0) {
			return &table[i];
		}
	}
	return NULL;
}

static bool is_str(const struct stls_setting_desc *d)
{
	return d->kind == STLS_SK_STR || d->kind == STLS_SK_PATH;
}

int stls_settings_init(struct stls_settings *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < STLS_ARRAY_SIZE(table); i++) {
		const struct stls_setting_desc *d = &table[i];
		char *base = (char *)s + d->offset;

		if (is_str(d)) {
			if (!d->def) {
				continue;
			}
			*(char **)(void *)base = strdup(d->def);
			if (!*(char **)(void *)base) {
				stls_settings_fini(s);
				return -ENOMEM;
			}
		} else if (d->kind == STLS_SK_ENUM) {
			*(int *)(void *)base = stls__conf_enum_find(
				d->enum_names, d->max + 1, d->def);
		} else if (stls__conf_parse_int(d->def, (int *)(void *)base)) {
			/* Unreachable: test_settings checks every default. */
			*(int *)(void *)base = 0;
		}
	}
	return 0;
}

int stls_settings_resolve_defaults(struct stls_settings *s,
				   const char *base_dir)
{
	int err = 0;

	if (!base_dir) {
		return 0;
	}
	if (!s->certificate) {
		err = stls__conf_path_resolve(base_dir, "cert.pem",
					      &s->certificate);
	}
	if (!err && !s->private_key) {
		err = stls__conf_path_resolve(base_dir, "cert.pem",
					      &s->private_key);
	}
	return err;
}

void stls_settings_fini(struct stls_settings *s)
{
	size_t i;

	if (!s) {
		return;
	}
	if (s->private_key_password) {
		explicit_bzero(s->private_key_password,
			       strlen(s->private_key_password));
	}
	for (i = 0; i < STLS_ARRAY_SIZE(table); i++) {
		char **f = (char **)(void *)((char *)s + table[i].offset);

		if (is_str(&table[i])) {
			free(*f);
			*f = NULL;
		}
	}
}

int stls_settings_copy(struct stls_settings *dst,
		       const struct stls_settings *src)
{
	size_t i;

	memcpy(dst, src, sizeof(*dst));
	for (i = 0; i < STLS_ARRAY_SIZE(table); i++) {
		char **f = (char **)(void *)((char *)dst + table[i].offset);

		if (is_str(&table[i]) && *f) {
			*f = strdup(*f);
			if (!*f) {
				/* Later fields still point into src. */
				for (i++; i < STLS_ARRAY_SIZE(table); i++) {
					char **g = (char **)(void *)((char *)dst +
						table[i].offset);
					if (is_str(&table[i])) {
						*g = NULL;
					}
				}
				stls_settings_fini(dst);
				return -ENOMEM;
			}
		}
	}
	return 0;
}
