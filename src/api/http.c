/*
 * http.c - libmicrohttpd glue: one api_req per HTTP request.
 *
 * MHD calls the access handler several times per request: once when the
 * headers are in, then once per chunk of body, then once more with no data.
 * The body is collected into a bounded sg_buf; an oversized body (by its
 * Content-Length, or as it arrives) is discarded and answered 413 without
 * reaching any handler.  When the body is complete the request gets an id,
 * its client address and TLS client certificate are noted, and it is routed.
 *
 * TLS is libmicrohttpd's (GnuTLS underneath, the only TLS stack the packaged
 * library supports); certificate identity is decided here by GnuTLS chain
 * verification against the configured client CA, and then by looking up the
 * certificate's SHA-256 fingerprint among registered client certificates.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include "api.h"
#include "sg_buf.h"
#include "sg_log.h"
#include "sg_secret.h"

struct sg_api {
	struct MHD_Daemon *daemon;
	sg_service *svc;
	unsigned port;
	char *cert, *key, *ca;
};

typedef struct conn_state {
	sg_buf body;
	size_t max_body;      /* of the dialect that owns the path (api_max_body) */
	int too_large;
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
send_resp(struct MHD_Connection *conn, const api_req *req, api_resp *resp)
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

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	sg_api *api = cls;
	conn_state *st = *con_cls;
	(void)version;

	if (st == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return MHD_NO;
		st->max_body = api_max_body(url);
		sg_buf_init(&st->body, st->max_body);
		st->started_ns = sg_mono_ns();
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t len;
		if (cl != NULL && sg_parse_int64(cl, 0, INT64_MAX, &len) == SG_OK &&
		    (uint64_t)len > st->max_body)
			st->too_large = 1;
		*con_cls = st;
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
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.svc = api->svc;
	req.conn = conn;
	req.method = method;
	req.path = url;
	req.body = st->body.data ? st->body.data : (const uint8_t *)"";
	req.body_len = st->body.len;
	if (sg_uuid(req.request_id) != SG_OK)
		sg_strlcpy(req.request_id, "00000000-0000-0000-0000-000000000000", sizeof(req.request_id));
	fill_client_ip(conn, req.client_ip, sizeof(req.client_ip));
	const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	sg_strlcpy(req.user_agent, ua ? ua : "", sizeof(req.user_agent));
	fill_peer_cert(&req);

	if (st->too_large)
		api_error(&req, &resp, SG_ERR_TOO_LARGE, "request body is larger than %zu bytes",
		    st->max_body);
	else
		api_route(&req, &resp);
	if (resp.status == 0)
		api_error(&req, &resp, SG_ERR_INTERNAL, "no response");
	access_log(&req, &resp, st->started_ns);
	return send_resp(conn, &req, &resp);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	conn_state *st = *con_cls;
	if (st == NULL)
		return;
	/* Bodies may carry secrets (a new principal's key never does, but be safe). */
	sg_buf_free_secret(&st->body);
	free(st);
	*con_cls = NULL;
}

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
	api_routes_init();
	if (cfg->tls_cert_pem != NULL) {
		flags |= MHD_USE_TLS;
		/* MHD keeps pointers to these for the daemon's lifetime. */
		api->cert = strdup(cfg->tls_cert_pem);
		api->key = strdup(cfg->tls_key_pem ? cfg->tls_key_pem : "");
		api->ca = cfg->tls_client_ca_pem ? strdup(cfg->tls_client_ca_pem) : NULL;
	}
	struct MHD_OptionItem opts[16];
	size_t i = 0;
	/* The logger must come first, or MHD logs the options' errors its own way. */
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, cfg->threads ? cfg->threads : 8, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, 4096, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL };
	opts[i++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL };
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

	api->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, api,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (api->daemon == NULL) {
		sg_error("http: cannot listen on %s", cfg->listen);
		sg_api_stop(api);
		return SG_ERR_IO;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
	api->port = di ? di->port : 0;
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
	if (api->daemon != NULL)
		MHD_stop_daemon(api->daemon);
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
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
api_query(api_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}
