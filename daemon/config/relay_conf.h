/*
 * The [relay] section of siptlsd's main configuration: its keyword table,
 * applied into struct stls_relay_settings (docs/relay-config.md is made
 * from the table). The relay (relay/relay.h) reads the applied settings;
 * nothing here knows about connections or workers.
 */
#ifndef STLSD_RELAY_CONF_H
#define STLSD_RELAY_CONF_H

#include <stdio.h>

#include "config/core_conf.h"
#include "config/nets.h"
#include "stls/conf.h"
#include "stls/diag.h"

/* Facts headers passed to the backend ([relay] facts). */
#define STLS_RELAY_FACT_VERIFIED 0x01u
#define STLS_RELAY_FACT_SUBJECT 0x02u
#define STLS_RELAY_FACT_ISSUER 0x04u
#define STLS_RELAY_FACT_SAN 0x08u
#define STLS_RELAY_FACT_FINGERPRINT 0x10u
#define STLS_RELAY_FACT_SNI 0x20u
#define STLS_RELAY_FACT_VERSION 0x40u
#define STLS_RELAY_FACT_CIPHER 0x80u
#define STLS_RELAY_FACT_SERIAL 0x100u
#define STLS_RELAY_FACT_VALIDITY 0x200u
#define STLS_RELAY_FACT_SUBJECT_PARTS 0x400u
#define STLS_RELAY_FACT_ISSUER_PARTS 0x800u
#define STLS_RELAY_FACT_SAN_KINDS 0x1000u
#define STLS_RELAY_FACT_STATUS 0x2000u
#define STLS_RELAY_FACT_CHAIN 0x4000u
#define STLS_RELAY_FACT_CIPHER_BITS 0x8000u
#define STLS_RELAY_FACT_DESCRIPTION 0x10000u
#define STLS_RELAY_FACT_RESUMED 0x20000u
#define STLS_RELAY_FACT_CERT_VERSION 0x40000u
#define STLS_RELAY_FACT_CERT 0x80000u /* not in `all` */
/* What `facts = all` means: every fact but the certificate itself. */
#define STLS_RELAY_FACTS_ALL (STLS_RELAY_FACT_CERT - 1)

/* What happens to a backend request for a target without TLS. */
enum stls_relay_plain {
	STLS_RELAY_PLAIN_TCP,    /* open plain TCP (default) */
	STLS_RELAY_PLAIN_REFUSE, /* answer 503 */
};

/* The applied [relay] section; owns its strings and arrays. */
struct stls_relay_settings {
	unsigned facts;            /* STLS_RELAY_FACT_* */
	char *facts_prefix;        /* "X-TLS-" */
	bool *verified_only;       /* per [core] listener */
	size_t n_listen;
	int unverified_code;       /* 403 */
	char *unverified_reason;   /* NULL: the standard phrase */
	int options_reply;         /* 1: answer OPTIONS to us with 200 */
	char *server_header;       /* Server of local replies; NULL: none */
	int plain_targets;         /* enum stls_relay_plain */
	struct stls_net *deny, *allow;
	size_t n_deny, n_allow;
	int out_queue_max;         /* requests queued per destination */
	char *inside_host;         /* Via host towards the backend, or NULL */
	int outbound_keepalive;    /* s between CRLF pings; 0: off */
	int outbound_keepalive_timeout; /* s to wait for the pong */
	int flow_timer;            /* RFC 5626 Flow-Timer seconds, 0: none */
	int inside_peers;          /* 1: in-dialog requests from other hosts */
};

/*
 * Applies a [relay] section (NULL: defaults) against the applied [core]
 * (listener names in verified_only must be its tls: listeners). Every
 * problem goes to <diag> as "FILE:LINE: key: reason". *out is always
 * initialised; release it with stls_relay_settings_fini(). Returns 0 or
 * -EINVAL. Any thread.
 */
STLS_MUST_USE int stls_relay_settings_apply(const struct stls_section *sec,
					    const struct stls_core_conf *core,
					    struct stls_relay_settings *out,
					    struct stls_diag *diag);

void stls_relay_settings_fini(struct stls_relay_settings *s);

/* Writes docs/relay-config.md (the keyword table) to f. 0 or -EIO. */
STLS_MUST_USE int stls_relay_settings_write_doc(FILE *f);

#endif
