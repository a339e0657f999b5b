/*
 * Logging.
 *
 * Levels use the seed's (Kamailio's) numbering so that the `tls_log` and
 * `tls_debug` parameters keep their meaning: a message logged at level L is
 * written when L <= the current level (`[core] debug`, default 2 = info).
 * The default sink writes "LEVEL: message" lines to stderr; the daemon may
 * install another (syslog). Safe to call from any thread. Never pass key
 * material or passwords to it.
 */
#ifndef STLS_LOG_H
#define STLS_LOG_H

#include "stls/common.h"

enum stls_log_level {
	STLS_L_ALERT = -5,
	STLS_L_BUG = -4,
	STLS_L_CRIT = -2,
	STLS_L_ERR = -1,
	STLS_L_WARN = 0,
	STLS_L_NOTICE = 1,
	STLS_L_INFO = 2,
	STLS_L_DBG = 3,
};

typedef void stls_log_sink_fn(int level, const char *msg, void *arg);

void stls_log_set_level(int level);
int stls_log_get_level(void);
bool stls_log_enabled(int level);
/* Installs a sink (NULL restores stderr). Not thread-safe: call at start. */
void stls_log_set_sink(stls_log_sink_fn *fn, void *arg);
const char *stls_log_level_name(int level);

void stls_log(int level, const char *fmt, ...) STLS_PRINTF(2, 3);

#define STLS_ERR(...) stls_log(STLS_L_ERR, __VA_ARGS__)
#define STLS_WARN(...) stls_log(STLS_L_WARN, __VA_ARGS__)
#define STLS_NOTICE(...) stls_log(STLS_L_NOTICE, __VA_ARGS__)
#define STLS_INFO(...) stls_log(STLS_L_INFO, __VA_ARGS__)
#define STLS_DBG(...) stls_log(STLS_L_DBG, __VA_ARGS__)

#endif
