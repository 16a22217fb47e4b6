/*
 * client.c - the native-API client over libcurl (contract in sg_client.h).
 *
 * Each call builds its own easy handle from the caller's configuration and
 * throws it away afterwards, so calls share nothing but libcurl's global
 * state, which sg_client_global_init sets up once.  That costs a connection
 * per call; signing traffic is a handful of small requests, and in exchange
 * no lock is held across a network round trip and a hung call cannot block
 * another thread.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "sg_client.h"
#include "sg_secret.h"

#define SG_CLIENT_DEFAULT_UA "signet-client"

void
sg_client_errf(sg_client_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->msg[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void
sg_client_err_clear(sg_client_err *e)
{
	if (e != NULL)
		memset(e, 0, sizeof(*e));
}

void
sg_client_resp_free(sg_client_resp *r)
{
	if (r == NULL)
		return;
	sg_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

static pthread_once_t sg_client_once = PTHREAD_ONCE_INIT;
static int sg_client_init_rc = SG_ERR_INTERNAL;

static void
sg_client_do_init(void)
{
	sg_client_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ?
	    SG_OK : SG_ERR_INTERNAL;
}

int
sg_client_global_init(void)
{
	pthread_once(&sg_client_once, sg_client_do_init);
	return sg_client_init_rc;
}

int
sg_client_config_check(const sg_client_config *cfg, sg_client_err *e)
{
	if (cfg->url == NULL || cfg->url[0] == '\0') {
		sg_client_errf(e, "no service URL");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (strncasecmp(cfg->url, "http://", 7) != 0 && strncasecmp(cfg->url, "https://", 8) != 0) {
		sg_client_errf(e, "service URL must start with http:// or https://: '%s'", cfg->url);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((cfg->cert == NULL) != (cfg->cert_key == NULL)) {
		sg_client_errf(e, "a client certificate and its key go together");
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

char *
sg_client_path_escape(const char *segment)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(segment);
	char *out;
	size_t o = 0;

	if (n > 4096 || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)segment[i];
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static size_t
sg_client_on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	sg_client_resp *r = arg;
	size_t n = size * nmemb;

	if (sg_buf_append(&r->body, p, n) != SG_OK) {
		r->too_large = 1;
		return 0;  /* makes libcurl fail with CURLE_WRITE_ERROR */
	}
	return n;
}

/* Copy a header's value (trimmed) into dst if the line is "name: value". */
static void
sg_client_take_header(const char *line, size_t n, const char *name, char *dst, size_t dstsize)
{
	size_t nl = strlen(name);

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	const char *v = line + nl + 1;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	size_t len = (size_t)(end - v);
	if (len >= dstsize)
		len = dstsize - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static size_t
sg_client_on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	sg_client_resp *r = arg;
	size_t n = size * nmemb;

	sg_client_take_header(p, n, "X-Request-Id", r->request_id, sizeof(r->request_id));
	sg_client_take_header(p, n, "Content-Type", r->content_type, sizeof(r->content_type));
	return n;
}

/* Wipe every header string libcurl's list holds, then free it: one may be the API key. */
static void
sg_client_free_headers(struct curl_slist *h)
{
	for (struct curl_slist *i = h; i != NULL; i = i->next)
		sg_wipe(i->data, strlen(i->data));
	curl_slist_free_all(h);
}

/* Append to a curl header list; NULL (and the old list freed) on failure. */
static struct curl_slist *
sg_client_add_header(struct curl_slist *h, const char *line)
{
	struct curl_slist *n = curl_slist_append(h, line);

	if (n == NULL)
		sg_client_free_headers(h);
	return n;
}

int
sg_client_http(const sg_client_config *cfg, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, const char *accept,
    sg_client_resp *resp, sg_client_err *e)
{
	int r = SG_ERR_INTERNAL;
	CURL *curl = NULL;
	struct curl_slist *headers = NULL;
	char *url = NULL, *auth = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char accept_line[128], ctype_line[128];
	sg_client_resp out;
	size_t base_len, url_len, auth_len = 0;
	CURLcode cc;

	memset(&out, 0, sizeof(out));
	sg_buf_init(&out.body, SG_CLIENT_MAX_RESPONSE);
	if ((r = sg_client_config_check(cfg, e)) != SG_OK)
		return r;
	if (sg_client_global_init() != SG_OK) {
		sg_client_errf(e, "cannot initialise libcurl");
		return SG_ERR_INTERNAL;
	}

	base_len = strlen(cfg->url);
	while (base_len > 0 && cfg->url[base_len - 1] == '/')
		base_len--;
	url_len = base_len + strlen(path) + 1;
	if ((url = malloc(url_len)) == NULL)
		goto nomem;
	snprintf(url, url_len, "%.*s%s", (int)base_len, cfg->url, path);

	snprintf(accept_line, sizeof(accept_line), "Accept: %s",
	    accept != NULL ? accept : "application/json");
	if ((headers = sg_client_add_header(headers, accept_line)) == NULL)
		goto nomem;
	if (body != NULL) {
		snprintf(ctype_line, sizeof(ctype_line), "Content-Type: %s",
		    content_type != NULL ? content_type : "application/octet-stream");
		if ((headers = sg_client_add_header(headers, ctype_line)) == NULL)
			goto nomem;
	}
	if (cfg->api_key != NULL) {
		auth_len = strlen(cfg->api_key) + sizeof("Authorization: Bearer ");
		if ((auth = malloc(auth_len)) == NULL)
			goto nomem;
		snprintf(auth, auth_len, "Authorization: Bearer %s", cfg->api_key);
		if ((headers = sg_client_add_header(headers, auth)) == NULL)
			goto nomem;
	}
	/* libcurl would otherwise send "Expect: 100-continue" and wait on big bodies. */
	if ((headers = sg_client_add_header(headers, "Expect:")) == NULL)
		goto nomem;

	if ((curl = curl_easy_init()) == NULL)
		goto nomem;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	/* No SIGALRM for timeouts: a library must not touch its host's signals. */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms > 0 ?
	    cfg->connect_timeout_ms : SG_CLIENT_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, cfg->timeout_ms > 0 ?
	    cfg->timeout_ms : SG_CLIENT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, cfg->user_agent != NULL ?
	    cfg->user_agent : SG_CLIENT_DEFAULT_UA);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sg_client_on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, sg_client_on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (cfg->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->cert != NULL) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, cfg->cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, cfg->cert_key);
	}

	cc = curl_easy_perform(curl);
	if (cc == CURLE_WRITE_ERROR && out.too_large) {
		sg_client_errf(e, "response from %s is larger than %u bytes", cfg->url,
		    SG_CLIENT_MAX_RESPONSE);
		r = SG_ERR_TOO_LARGE;
		goto out;
	}
	if (cc != CURLE_OK) {
		if (e != NULL && cc == CURLE_OPERATION_TIMEDOUT)
			e->timed_out = 1;
		sg_client_errf(e, "cannot reach %s: %s", cfg->url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
		r = SG_ERR_UNAVAILABLE;
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
	*resp = out;
	memset(&out, 0, sizeof(out));
	r = SG_OK;
	goto out;
nomem:
	sg_client_errf(e, "out of memory");
	r = SG_ERR_NOMEM;
out:
	curl_easy_cleanup(curl);
	sg_client_free_headers(headers);
	sg_free_secret(auth, auth_len);
	free(url);
	sg_client_resp_free(&out);
	return r;
}

/* The SG_ERR_* that fits an HTTP error status. */
static int
sg_client_status_err(long status)
{
	switch (status) {
	case 400: return SG_ERR_INVALID_ARGUMENT;
	case 401: return SG_ERR_UNAUTHENTICATED;
	case 403: return SG_ERR_PERMISSION_DENIED;
	case 404: return SG_ERR_NOT_FOUND;
	case 409: return SG_ERR_CONFLICT;
	case 413: return SG_ERR_TOO_LARGE;
	case 429: return SG_ERR_RATE_LIMITED;
	case 503: return SG_ERR_UNAVAILABLE;
	default: return SG_ERR_INTERNAL;
	}
}

/* String member of a JSON object, or NULL when absent or not a non-empty string. */
static const char *
sg_client_json_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL && s[0] != '\0' ? s : NULL;
}

int
sg_client_resp_error(const sg_client_resp *resp, sg_client_err *e)
{
	json_t *root = NULL, *err;
	const char *code = NULL, *msg = NULL, *rid = NULL;

	if (resp->body.len > 0)
		root = json_loadb((const char *)resp->body.data, resp->body.len, 0, NULL);
	if ((err = json_object_get(root, "error")) != NULL) {
		code = sg_client_json_str(err, "code");
		msg = sg_client_json_str(err, "message");
		rid = sg_client_json_str(err, "request_id");
	}
	if (rid == NULL && resp->request_id[0] != '\0')
		rid = resp->request_id;
	if (e != NULL && e->msg[0] == '\0') {
		e->status = resp->status;
		snprintf(e->code, sizeof(e->code), "%s", code != NULL ? code : "");
	}
	if (code != NULL) {
		sg_client_errf(e, "service error: HTTP %ld %s: %s%s%s%s", resp->status, code,
		    msg != NULL ? msg : "(no message)", rid != NULL ? " (request " : "",
		    rid != NULL ? rid : "", rid != NULL ? ")" : "");
	} else {
		sg_client_errf(e, "service error: HTTP %ld without a Signet error body%s%s%s",
		    resp->status, rid != NULL ? " (request " : "", rid != NULL ? rid : "",
		    rid != NULL ? ")" : "");
	}
	json_decref(root);
	return sg_client_status_err(resp->status);
}

int
sg_client_call(const sg_client_config *cfg, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, long *status,
    json_t **out, sg_client_err *e)
{
	sg_client_resp resp;
	json_t *root = NULL;
	json_error_t jerr;
	int r;

	if ((r = sg_client_http(cfg, method, path, body, body_len, content_type, NULL,
	    &resp, e)) != SG_OK)
		return r;
	if (resp.status < 200 || resp.status > 299) {
		r = sg_client_resp_error(&resp, e);
		goto out;
	}
	root = json_loadb(resp.body.len > 0 ? (const char *)resp.body.data : "",
	    resp.body.len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		sg_client_errf(e, "service answered HTTP %ld with a body that is not a JSON "
		    "object%s%s%s", resp.status, resp.request_id[0] != '\0' ? " (request " : "",
		    resp.request_id, resp.request_id[0] != '\0' ? ")" : "");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (status != NULL)
		*status = resp.status;
	*out = root;
	root = NULL;
	r = SG_OK;
out:
	json_decref(root);
	sg_client_resp_free(&resp);
	return r;
}

int
sg_client_call_json(const sg_client_config *cfg, const char *method, const char *path,
    const json_t *body, long *status, json_t **out, sg_client_err *e)
{
	char *json = NULL;
	int r;

	if (body != NULL && (json = json_dumps(body, JSON_COMPACT)) == NULL) {
		sg_client_errf(e, "out of memory");
		return SG_ERR_NOMEM;
	}
	r = sg_client_call(cfg, method, path, json, json != NULL ? strlen(json) : 0,
	    json != NULL ? "application/json" : NULL, status, out, e);
	free(json);
	return r;
}

int
sg_client_get_text(const sg_client_config *cfg, const char *path, const char *accept,
    char **text, size_t *len, sg_client_err *e)
{
	sg_client_resp resp;
	uint8_t *p;
	size_t n = 0;
	int r;

	if ((r = sg_client_http(cfg, "GET", path, NULL, 0, NULL, accept, &resp, e)) != SG_OK)
		return r;
	if (resp.status != 200) {
		r = sg_client_resp_error(&resp, e);
		sg_client_resp_free(&resp);
		return r;
	}
	/* sg_buf keeps a NUL after the bytes; an empty body has no buffer yet. */
	if (resp.body.len == 0 || memchr(resp.body.data, '\0', resp.body.len) != NULL) {
		sg_client_resp_free(&resp);
		sg_client_errf(e, "service answer to GET %s is empty or not text", path);
		return SG_ERR_BAD_ENCODING;
	}
	p = sg_buf_steal(&resp.body, &n);
	sg_client_resp_free(&resp);
	*text = (char *)p;
	*len = n;
	return SG_OK;
}
