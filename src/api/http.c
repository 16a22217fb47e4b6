/*
 * http.c - libmicrohttpd glue: one api_req per HTTP request, and the edge.
 *
 * MHD calls the access handler several times per request: once when the
 * headers are in, then once per chunk of body, then once more with no data.
 * The first call is where the edge refuses what it must (SPEC §8), before
 * any body is read, with the connection closed afterwards: ambiguous
 * framing (Content-Length with Transfer-Encoding, repeated or non-numeric
 * Content-Length) and a control character in the path (400), a declared
 * body over the limit of the path's dialect (api_max_body; 413; no "100 Continue" is sent because the
 * answer is queued first), and the per-address rate limit (429).  The body
 * is collected into a bounded sg_buf; a chunked body that grows too large is
 * discarded and answered 413 without reaching any handler.  When the body
 * is complete the request gets an id, its client address and TLS client
 * certificate are noted, and it is routed.  HEAD is routed as GET (MHD
 * sends the headers of the answer without its body).
 *
 * Paths are percent-decoded by our own unescaper so that an encoded NUL
 * cannot cut a path short: it becomes 0x7F, a control character like the
 * other encoded ones, and the request is refused.
 *
 * Connections are tracked (MHD_OPTION_NOTIFY_CONNECTION): at most
 * max_conns_per_address at a time from one address (the accept policy
 * refuses more), and a housekeeping thread shuts down every connection
 * that has waited longer than header_timeout_s for a request's complete
 * header, whether it is a slow client or an idle keep-alive.  The same
 * thread writes the audit summaries of failed authentications
 * (ratelimit.h).
 *
 * TLS is libmicrohttpd's (GnuTLS underneath, the only TLS stack the packaged
 * library supports); certificate identity is decided here by GnuTLS chain
 * verification against the configured client CA, and then by looking up the
 * certificate's SHA-256 fingerprint among registered client certificates.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include "api.h"
#include "sg_b64.h"
#include "ratelimit.h"
#include "sg_buf.h"
#include "sg_log.h"
#include "sg_secret.h"

#define DEFAULT_CONNS_PER_ADDRESS 256
#define DEFAULT_HEADER_TIMEOUT_S 30

/* One TCP connection, from accept to close (the socket context). */
typedef struct edge_conn {
	struct edge_conn *prev, *next;
	int fd;
	char ip[64];
	int busy;                 /* a request's header is in; its answer is not yet sent */
	int cut;                  /* shut down by the housekeeper */
	uint64_t waiting_since;   /* when it began waiting for a header */
} edge_conn;

struct sg_api {
	struct MHD_Daemon *daemon;
	sg_service *svc;
	unsigned port;
	char *cert, *key, *ca;
	unsigned max_per_address;
	uint64_t header_timeout_ns;
	pthread_mutex_t mu;       /* guards conns and stopping */
	pthread_cond_t cv;
	edge_conn *conns;
	int stopping;
	pthread_t housekeeper;
	int housekeeper_started;
};

typedef struct conn_state {
	sg_buf body;
	size_t max_body;      /* of the dialect that owns the path (api_max_body) */
	int too_large;
	int answered;             /* the edge answered at the first call */
	uint64_t started_ns;
} conn_state;

static void
fill_client_ip(struct MHD_Connection *conn, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = 0;
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)cap);
}

/* The client's certificate, if it sent one, and whether it chains to our CA. */
static void
fill_peer_cert(api_req *req)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return;
	gnutls_session_t session = (gnutls_session_t)ci->tls_session;
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
	if (certs == NULL || n == 0)
		return;
	req->peer_cert_der = certs[0].data;
	req->peer_cert_len = certs[0].size;
	unsigned status = 0;
	req->peer_cert_verified =
	    gnutls_certificate_verify_peers2(session, &status) == GNUTLS_E_SUCCESS && status == 0;
}

static enum MHD_Result
send_resp(struct MHD_Connection *conn, const api_req *req, api_resp *resp, int close_after)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(resp->body_len, resp->body,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(resp->body);
		return MHD_NO;
	}
	resp->body = NULL;
	MHD_add_response_header(r, "Content-Type",
	    resp->content_type ? resp->content_type : "application/json");
	MHD_add_response_header(r, "X-Request-Id", req->request_id);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (resp->location[0])
		MHD_add_response_header(r, "Location", resp->location);
	if (resp->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", resp->retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	if (close_after)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (resp->csp != NULL)
		MHD_add_response_header(r, "Content-Security-Policy", resp->csp);
	enum MHD_Result ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
access_log(const api_req *req, const api_resp *resp, uint64_t started_ns)
{
	double ms = (double)(sg_mono_ns() - started_ns) / 1e6;
	sg_info("http %s %s %u %.2fms id=%s ip=%s principal=%s%s%s", req->method, req->path,
	    resp->status, ms, req->request_id, req->client_ip,
	    req->principal.id[0] ? req->principal.id : "-",
	    resp->error_code[0] ? " error=" : "", resp->error_code);
}

/* Counts what the framing check needs over every header line, repeated ones included. */
typedef struct framing {
	unsigned content_length, transfer_encoding;
	int bad_length, bad_encoding;
} framing;

static enum MHD_Result
framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	framing *f = cls;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		f->content_length++;
		if (value == NULL || value[0] == 0)
			f->bad_length = 1;
		for (const char *p = value; p != NULL && *p; p++)
			if (!isdigit((unsigned char)*p))
				f->bad_length = 1;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encoding++;
		if (value == NULL || strcasecmp(value, "chunked") != 0)
			f->bad_encoding = 1;
	}
	return MHD_YES;
}

/* The message for ambiguous framing, or NULL when the framing is clear. */
static const char *
framing_problem(struct MHD_Connection *conn)
{
	framing f;
	memset(&f, 0, sizeof(f));
	MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_header, &f);
	if (f.content_length > 0 && f.transfer_encoding > 0)
		return "Content-Length and Transfer-Encoding together are ambiguous; send one";
	if (f.content_length > 1)
		return "more than one Content-Length header";
	if (f.bad_length)
		return "Content-Length must be one decimal number";
	if (f.transfer_encoding > 1 || f.bad_encoding)
		return "the only Transfer-Encoding accepted is a single 'chunked'";
	return NULL;
}

/* 1 when the decoded path holds a control character (0x00-0x1F, 0x7F). */
static int
path_has_control(const char *path)
{
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p < 0x20 || *p == 0x7F)
			return 1;
	return 0;
}

/*
 * Percent-decode in place (MHD_OPTION_UNESCAPE_CALLBACK), as MHD's own
 * unescaper does, except that %00 becomes 0x7F instead of ending the
 * string: the path keeps its full length and is refused as holding a
 * control character.
 */
static size_t
unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	char *w = s;
	for (const char *r = s; *r; ) {
		int hi, lo;
		if (r[0] == '%' && (hi = sg_hex_digit(r[1])) >= 0 && (lo = sg_hex_digit(r[2])) >= 0) {
			int c = hi * 16 + lo;
			*w++ = c == 0 ? 0x7F : (char)c;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
	return (size_t)(w - s);
}

static edge_conn *
conn_edge(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* A new request on conn has its header: the header timeout no longer runs. */
static void
conn_busy(sg_api *api, struct MHD_Connection *conn, int busy)
{
	edge_conn *c = conn_edge(conn);
	if (c == NULL)
		return;
	pthread_mutex_lock(&api->mu);
	c->busy = busy;
	if (!busy)
		c->waiting_since = sg_mono_ns();
	pthread_mutex_unlock(&api->mu);
}

static void
req_init(sg_api *api, struct MHD_Connection *conn, api_req *req, const char *url, const char *method)
{
	memset(req, 0, sizeof(*req));
	req->svc = api->svc;
	req->conn = conn;
	/* HEAD is answered wherever GET is; MHD leaves the body out. */
	req->method = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method;
	req->path = url;
	req->body = (const uint8_t *)"";
	if (sg_uuid(req->request_id) != SG_OK)
		sg_strlcpy(req->request_id, "00000000-0000-0000-0000-000000000000", sizeof(req->request_id));
	fill_client_ip(conn, req->client_ip, sizeof(req->client_ip));
	const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	sg_strlcpy(req->user_agent, ua ? ua : "", sizeof(req->user_agent));
	/*
	 * The User-Agent is kept in signature records (client_type) and in logs:
	 * printable ASCII only, anything else becomes '?', so that no header byte
	 * reaches a log line as a control character or the store as text that is
	 * not UTF-8 (PostgreSQL refuses it; a cut may also split a UTF-8 sequence).
	 */
	for (char *p = req->user_agent; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

/*
 * The checks made as soon as the header is in.  Returns 1 when the request
 * was answered here (the body, if any, is never read: MHD closes the
 * connection after the answer).
 */
static int
edge_first(sg_api *api, struct MHD_Connection *conn, conn_state *st, const char *url,
    const char *method, enum MHD_Result *ret)
{
	api_req req;
	api_resp resp;
	const char *problem;
	int64_t len;
	int close_after = 1;

	memset(&resp, 0, sizeof(resp));
	req_init(api, conn, &req, url, method);
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if ((problem = framing_problem(conn)) != NULL)
		api_error(&req, &resp, SG_ERR_INVALID_ARGUMENT, "%s", problem);
	else if (path_has_control(url))
		api_error(&req, &resp, SG_ERR_INVALID_ARGUMENT, "the path holds a control character");
	else if (cl != NULL && (sg_parse_int64(cl, 0, INT64_MAX, &len) != SG_OK ||
	    (uint64_t)len > st->max_body))
		api_error(&req, &resp, SG_ERR_TOO_LARGE, "request body is larger than %zu bytes",
		    st->max_body);
	else if (api_rl_address(&req, &resp) == 0)
		return 0;
	else
		close_after = 0;
	st->answered = 1;
	api_metrics_observe(-1, resp.status, 0, 0);
	access_log(&req, &resp, st->started_ns);
	*ret = send_resp(conn, &req, &resp, close_after);
	return 1;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	sg_api *api = cls;
	conn_state *st = *con_cls;
	enum MHD_Result ret = MHD_YES;
	(void)version;

	if (st == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return MHD_NO;
		st->max_body = api_max_body(url);
		sg_buf_init(&st->body, st->max_body);
		st->started_ns = sg_mono_ns();
		*con_cls = st;
		conn_busy(api, conn, 1);
		edge_first(api, conn, st, url, method, &ret);
		return ret;
	}
	if (st->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!st->too_large && sg_buf_append(&st->body, upload_data, *upload_data_size) != SG_OK) {
			st->too_large = 1;
			sg_buf_free(&st->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	api_req req;
	api_resp resp;
	memset(&resp, 0, sizeof(resp));
	req_init(api, conn, &req, url, method);
	req.body = st->body.data ? st->body.data : (const uint8_t *)"";
	req.body_len = st->body.len;
	fill_peer_cert(&req);

	if (st->too_large)
		api_error(&req, &resp, SG_ERR_TOO_LARGE, "request body is larger than %zu bytes",
		    st->max_body);
	else
		api_route(&req, &resp);
	if (resp.status == 0)
		api_error(&req, &resp, SG_ERR_INTERNAL, "no response");
	st->answered = 1;
	access_log(&req, &resp, st->started_ns);
	return send_resp(conn, &req, &resp, 0);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	sg_api *api = cls;
	(void)toe;
	conn_state *st = *con_cls;
	if (st == NULL)
		return;
	conn_busy(api, conn, 0);
	/* Bodies may carry secrets (a new principal's key never does, but be safe). */
	sg_buf_free_secret(&st->body);
	free(st);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	sg_warn("http: %s", msg);
}

/* Track each connection for the per-address cap and the header timeout. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	sg_api *api = cls;
	edge_conn *c = *socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return;
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci != NULL ? ci->connect_fd : -1;
		fill_client_ip(conn, c->ip, sizeof(c->ip));
		c->waiting_since = sg_mono_ns();
		pthread_mutex_lock(&api->mu);
		c->next = api->conns;
		if (api->conns != NULL)
			api->conns->prev = c;
		api->conns = c;
		pthread_mutex_unlock(&api->mu);
		*socket_context = c;
		return;
	}
	if (c == NULL)
		return;
	pthread_mutex_lock(&api->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		api->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&api->mu);
	free(c);
	*socket_context = NULL;
}

/* Accept policy: refuse an address that already holds its maximum of connections. */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	sg_api *api = cls;
	char ip[64] = "";
	unsigned n = 0;
	(void)addrlen;
	if (addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, ip, sizeof(ip));
	else if (addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr, ip, sizeof(ip));
	pthread_mutex_lock(&api->mu);
	for (const edge_conn *c = api->conns; c != NULL && n < api->max_per_address; c = c->next)
		if (strcmp(c->ip, ip) == 0)
			n++;
	pthread_mutex_unlock(&api->mu);
	if (n < api->max_per_address)
		return MHD_YES;
	sg_warn("http: refused a connection from %s: it already holds %u", ip, n);
	return MHD_NO;
}

/*
 * Housekeeping, once a second: shut down connections that have waited
 * too long for a header (MHD then sees the end of the stream and closes
 * them), and write due audit summaries of failed authentications.
 */
static void *
housekeeper(void *arg)
{
	sg_api *api = arg;
	pthread_mutex_lock(&api->mu);
	while (!api->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&api->cv, &api->mu, &ts);
		if (api->stopping)
			break;
		uint64_t now = sg_mono_ns();
		for (edge_conn *c = api->conns; c != NULL; c = c->next) {
			if (c->busy || c->cut || c->fd < 0 || now - c->waiting_since < api->header_timeout_ns)
				continue;
			/* The fd stays open until MHD's close, which waits for this lock. */
			shutdown(c->fd, SHUT_RDWR);
			c->cut = 1;
			sg_info("http: closed a connection from %s: no complete request header within %us",
			    c->ip, (unsigned)(api->header_timeout_ns / 1000000000u));
		}
		pthread_mutex_unlock(&api->mu);
		api_rl_flush(sg_now_ms());
		pthread_mutex_lock(&api->mu);
	}
	pthread_mutex_unlock(&api->mu);
	return NULL;
}

static double
rate_or(double v, double dflt)
{
	return v < 0 ? 0 : v == 0 ? dflt : v;
}

/* Parse "host:port", "[v6]:port" or ":port" into a socket address. */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[256];
	const char *colon;
	int64_t port;

	memset(ss, 0, sizeof(*ss));
	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (end == NULL || end[1] != ':' || (size_t)(end - listen - 1) >= sizeof(host))
			return SG_ERR_INVALID_ARGUMENT;
		memcpy(host, listen + 1, (size_t)(end - listen - 1));
		host[end - listen - 1] = 0;
		colon = end + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
			return SG_ERR_INVALID_ARGUMENT;
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = 0;
	}
	if (sg_parse_int64(colon + 1, 0, 65535, &port) != SG_OK)
		return SG_ERR_INVALID_ARGUMENT;
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (host[0] == 0 || strcmp(host, "0.0.0.0") == 0) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_ANY);
		v4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*v4);
	} else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*v6);
	} else if (strcmp(host, "localhost") == 0) {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		v4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*v4);
	} else {
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

int
sg_api_start(sg_service *svc, const sg_api_config *cfg, sg_api **out)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (parse_listen(cfg->listen, &ss, &sslen) != SG_OK) {
		sg_error("http: cannot parse listen address '%s' (want HOST:PORT)", cfg->listen);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	sg_api *api = calloc(1, sizeof(*api));
	if (api == NULL)
		return SG_ERR_NOMEM;
	api->svc = svc;
	api->max_per_address = cfg->max_conns_per_address ? cfg->max_conns_per_address :
	    DEFAULT_CONNS_PER_ADDRESS;
	api->header_timeout_ns = (uint64_t)(cfg->header_timeout_s ? cfg->header_timeout_s :
	    DEFAULT_HEADER_TIMEOUT_S) * 1000000000u;
	pthread_mutex_init(&api->mu, NULL);
	pthread_cond_init(&api->cv, NULL);
	api_transit_mount(cfg->transit_mount);
	api_routes_init();
	api_rl_config rl = {
		.principal_rate = rate_or(cfg->rate_limit_principal, 1000),
		.principal_burst = cfg->rate_limit_principal_burst,
		.address_rate = rate_or(cfg->rate_limit_address, 5000),
		.address_burst = cfg->rate_limit_address_burst,
		.auth_fail_rate = rate_or(cfg->rate_limit_auth_failures, 1),
		.auth_fail_burst = cfg->rate_limit_auth_failures_burst > 0 ?
		    cfg->rate_limit_auth_failures_burst : 20,
		.auth_audit_interval_s = cfg->auth_audit_interval_s,
	};
	api_rl_configure(svc, &rl);
	if (cfg->tls_cert_pem != NULL) {
		flags |= MHD_USE_TLS;
		/* MHD keeps pointers to these for the daemon's lifetime. */
		api->cert = strdup(cfg->tls_cert_pem);
		api->key = strdup(cfg->tls_key_pem ? cfg->tls_key_pem : "");
		api->ca = cfg->tls_client_ca_pem ? strdup(cfg->tls_client_ca_pem) : NULL;
	}
	struct MHD_OptionItem opts[20];
	size_t i = 0;
	/* The logger must come first, or MHD logs the options' errors its own way. */
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, cfg->threads ? cfg->threads : 8, NULL };
	/* Inactivity; the whole-header bound is the housekeeper's. */
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, 4096, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, api };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, api };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL };
	if (api->cert != NULL) {
		opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, api->cert };
		opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, api->key };
		opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" };
		if (api->ca != NULL)
			opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, api->ca };
	}
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	(void)sslen;

	api->daemon = MHD_start_daemon(flags, 0, on_accept, api, on_request, api,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (api->daemon == NULL) {
		sg_error("http: cannot listen on %s", cfg->listen);
		sg_api_stop(api);
		return SG_ERR_IO;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
	api->port = di ? di->port : 0;
	if (pthread_create(&api->housekeeper, NULL, housekeeper, api) != 0) {
		sg_error("http: cannot start the housekeeping thread");
		sg_api_stop(api);
		return SG_ERR_INTERNAL;
	}
	api->housekeeper_started = 1;
	*out = api;
	return SG_OK;
}

unsigned
sg_api_port(const sg_api *api)
{
	return api->port;
}

void
sg_api_stop(sg_api *api)
{
	if (api == NULL)
		return;
	if (api->housekeeper_started) {
		pthread_mutex_lock(&api->mu);
		api->stopping = 1;
		pthread_cond_signal(&api->cv);
		pthread_mutex_unlock(&api->mu);
		pthread_join(api->housekeeper, NULL);
	}
	if (api->daemon != NULL)
		MHD_stop_daemon(api->daemon);
	api_rl_shutdown();
	pthread_mutex_destroy(&api->mu);
	pthread_cond_destroy(&api->cv);
	free(api->cert);
	if (api->key != NULL) {
		sg_wipe(api->key, strlen(api->key));
		free(api->key);
	}
	free(api->ca);
	free(api);
}

const char *
api_header(api_req *req, const char *name)
{
	if (req->conn == NULL) {
		for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i += 2)
			if (strcasecmp(req->headers[i], name) == 0)
				return req->headers[i + 1];
		return NULL;
	}
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
api_query(api_req *req, const char *name)
{
	if (req->conn == NULL)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}
