/*
 * The /metrics HTTP server (see metrics.h): libmicrohttpd with its own
 * polling thread, one request at a time (a scrape is cheap and scrapers
 * are few), GET and HEAD of /metrics only, and an accept policy that
 * closes connections from sources metrics_allow does not admit.
 */
#include "metrics/metrics_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "stls/log.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct stls_metrics {
	struct stls_metrics_conf conf; /* allow list: our own copy */
	struct stls_metrics_src src;
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;          /* one page at a time: the cache */
	struct stls__mcert mc;
	_Atomic uint64_t scrapes, refused;
	uint16_t port;
};

static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa,
				 socklen_t len)
{
	struct stls_metrics *m = cls;
	struct stls_addr a;

	(void)len;
	stls_addr_from_sockaddr(sa, &a);
	if (stls_metrics_conf_allows(&m->conf, &a))
		return MHD_YES;
	atomic_fetch_add_explicit(&m->refused, 1, memory_order_relaxed);
	return MHD_NO;
}

int stls_metrics_render(struct stls_metrics *m, char **out, size_t *len)
{
	uint64_t self[2];
	struct stls_prom p;

	stls_prom_init(&p);
	self[0] = atomic_load_explicit(&m->scrapes, memory_order_relaxed);
	self[1] = atomic_load_explicit(&m->refused, memory_order_relaxed);
	pthread_mutex_lock(&m->lock);
	stls__metrics_page(&m->src, &m->mc, self, &p);
	pthread_mutex_unlock(&m->lock);
	*out = stls_prom_take(&p, len);
	return *out ? 0 : -ENOMEM;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     char *body, size_t len, bool page)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body,
					    page ? MHD_RESPMEM_MUST_FREE
						 : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (page)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				page ? CONTENT_TYPE : "text/plain");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	static char not_found[] = "not found: try /metrics\n";
	static char not_allowed[] = "method not allowed\n";
	static char no_memory[] = "out of memory\n";
	struct stls_metrics *m = cls;
	char *page;
	size_t len;

	(void)version;
	(void)upload;
	/* The first call only announces the request (headers read). */
	if (!*state) {
		*state = m;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* a body: ignored, refused below */
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, not_found,
			     sizeof(not_found) - 1, false);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
			     sizeof(not_allowed) - 1, false);
	atomic_fetch_add_explicit(&m->scrapes, 1, memory_order_relaxed);
	if (stls_metrics_render(m, &page, &len) != 0)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, no_memory,
			     sizeof(no_memory) - 1, false);
	return reply(conn, MHD_HTTP_OK, page, len, true);
}

/* libmicrohttpd's own messages go to our log. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	STLS_WARN("metrics: %s", buf);
}

static int copy_conf(struct stls_metrics_conf *dst,
		     const struct stls_metrics_conf *src)
{
	*dst = *src;
	dst->allow = NULL;
	if (!src->n_allow)
		return 0;
	dst->allow = calloc(src->n_allow, sizeof(*dst->allow));
	if (!dst->allow)
		return -ENOMEM;
	memcpy(dst->allow, src->allow, src->n_allow * sizeof(*dst->allow));
	return 0;
}

int stls_metrics_start(const struct stls_metrics_conf *conf,
		       const struct stls_metrics_src *src,
		       struct stls_metrics **out)
{
	struct stls_metrics *m = calloc(1, sizeof(*m));
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct stls_addr bound;
	char buf[STLS_ADDR_STRLEN];
	unsigned flags;

	if (!m || copy_conf(&m->conf, conf) != 0) {
		free(m);
		return -ENOMEM;
	}
	m->src = *src;
	pthread_mutex_init(&m->lock, NULL);
	stls_addr_to_sockaddr(&conf->addr, &ss);
	/* epoll (poll elsewhere), not select(): a busy daemon's scrape
	 * socket has a descriptor far above FD_SETSIZE, which select()
	 * cannot watch (the scrape would be dropped). */
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (conf->addr.family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(
		flags, conf->addr.port, on_accept, m, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!m->mhd) {
		STLS_ERR("metrics: cannot serve on %s (address in use or "
			 "not available)",
			 stls_addr_str(&conf->addr, true, buf));
		stls_metrics_free(m);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info ? info->port : conf->addr.port;
	bound = conf->addr;
	bound.port = m->port;
	STLS_NOTICE("metrics: serving http://%s/metrics%s",
		    stls_addr_str(&bound, true, buf),
		    conf->n_allow ? " (metrics_allow networks too)"
				  : " (loopback clients only)");
	*out = m;
	return 0;
}

void stls_metrics_free(struct stls_metrics *m)
{
	if (!m)
		return;
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	stls__mcert_fini(&m->mc);
	free(m->conf.allow);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

uint16_t stls_metrics_port(const struct stls_metrics *m)
{
	return m->port;
}
