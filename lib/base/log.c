/*
 * Logging (see stls/log.h). One atomic level and one sink for the process.
 */
#include "stls/log.h"

#include <stdarg.h>
#include <stdio.h>

static int log_level = STLS_L_INFO;
static stls_log_sink_fn *log_sink;
static void *log_sink_arg;

void stls_log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int stls_log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

bool stls_log_enabled(int level)
{
	return level <= stls_log_get_level();
}

void stls_log_set_sink(stls_log_sink_fn *fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

const char *stls_log_level_name(int level)
{
	switch (level) {
	case STLS_L_ALERT:
		return "ALERT";
	case STLS_L_BUG:
		return "BUG";
	case STLS_L_CRIT:
		return "CRITICAL";
	case STLS_L_ERR:
		return "ERROR";
	case STLS_L_WARN:
		return "WARNING";
	case STLS_L_NOTICE:
		return "NOTICE";
	case STLS_L_INFO:
		return "INFO";
	default:
		return "DEBUG";
	}
}

void stls_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!stls_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_sink) {
		log_sink(level, msg, log_sink_arg);
		return;
	}
	/* One fprintf per line keeps lines whole across threads. */
	fprintf(stderr, "%s: %s\n", stls_log_level_name(level), msg);
}
