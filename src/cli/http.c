/*
 * http.c - the CLI's client for signetd's native API (SPEC §3), over libcurl.
 *
 * Each call is one blocking request with a bearer API key and/or a TLS
 * client certificate.  Response bodies go into a bounded sg_buf, so a
 * misbehaving server cannot make the CLI grow without limit.  Redirects are
 * not followed: the credentials must only ever go to the configured URL.
 * The API key is wiped from every buffer that held it, including the header
 * list libcurl copied it into.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "sg_cli.h"
#include "sg_secret.h"

#define SG_CLI_CONNECT_TIMEOUT_S 15L
#define SG_CLI_TIMEOUT_S 300L

sg_cli_conn_flags sg_cli_flags;

const char sg_cli_usage_conn[] =
    "\n"
    "connection options (before or after the command):\n"
    "  --url URL           signetd base URL (default: $SIGNET_URL)\n"
    "  --api-key KEY       API key (default: $SIGNET_API_KEY; prefer the variable, since\n"
    "                      arguments are visible to other local users)\n"
    "  --cacert FILE       trust this CA bundle (PEM) for the service's certificate\n"
    "  --cert FILE         TLS client certificate (PEM), for mTLS\n"
    "  --cert-key FILE     its private key (PEM)\n";

void
sg_cli_conn_opts(sg_cli_conn_flags *f, sg_cli_opt out[6])
{
	out[0] = (sg_cli_opt){ "url", 1, &f->url };
	out[1] = (sg_cli_opt){ "api-key", 1, &f->api_key };
	out[2] = (sg_cli_opt){ "cacert", 1, &f->cacert };
	out[3] = (sg_cli_opt){ "cert", 1, &f->cert };
	out[4] = (sg_cli_opt){ "cert-key", 1, &f->cert_key };
	out[5] = (sg_cli_opt){ NULL, 0, NULL };
}

int
sg_cli_conn_init(sg_cli_conn *c, sg_cli_conn_flags *f)
{
	const char *url = f->url != NULL ? f->url : getenv("SIGNET_URL");
	const char *key = f->api_key != NULL ? f->api_key : getenv("SIGNET_API_KEY");

	memset(c, 0, sizeof(*c));
	if (url == NULL || url[0] == '\0') {
		sg_cli_err("no service URL: set SIGNET_URL or pass --url");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		sg_cli_err("service URL must start with http:// or https://: '%s'", url);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((f->cert == NULL) != (f->cert_key == NULL)) {
		sg_cli_err("--cert and --cert-key go together");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((key == NULL || key[0] == '\0') && f->cert == NULL) {
		sg_cli_err("no credentials: set SIGNET_API_KEY, pass --api-key, "
		    "or use --cert/--cert-key");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (key != NULL && key[0] != '\0') {
		if ((c->api_key = strdup(key)) == NULL) {
			sg_cli_err("out of memory");
			return SG_ERR_NOMEM;
		}
		/* Out of `ps` output from now on; the environment is the caller's. */
		if (f->api_key != NULL)
			sg_wipe((char *)f->api_key, strlen(f->api_key));
	}
	c->url = url;
	c->cacert = f->cacert;
	c->cert = f->cert;
	c->cert_key = f->cert_key;
	return SG_OK;
}

void
sg_cli_conn_clear(sg_cli_conn *c)
{
	if (c == NULL)
		return;
	sg_free_secret_str(c->api_key);
	memset(c, 0, sizeof(*c));
}

void
sg_cli_resp_free(sg_cli_resp *r)
{
	if (r == NULL)
		return;
	sg_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

char *
sg_cli_path_escape(const char *segment)
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
sg_cli_on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	sg_cli_resp *r = arg;
	size_t n = size * nmemb;

	if (sg_buf_append(&r->body, p, n) != SG_OK) {
		r->too_large = 1;
		return 0;  /* makes libcurl fail with CURLE_WRITE_ERROR */
	}
	return n;
}

/* Copy a header's value (trimmed) into dst if the line is "name: value". */
static void
sg_cli_take_header(const char *line, size_t n, const char *name, char *dst, size_t dstsize)
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
sg_cli_on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	sg_cli_resp *r = arg;
	size_t n = size * nmemb;

	sg_cli_take_header(p, n, "X-Request-Id", r->request_id, sizeof(r->request_id));
	sg_cli_take_header(p, n, "Content-Type", r->content_type, sizeof(r->content_type));
	return n;
}

/* Wipe every header string libcurl's list holds, then free it: one may be the API key. */
static void
sg_cli_free_headers(struct curl_slist *h)
{
	for (struct curl_slist *i = h; i != NULL; i = i->next)
		sg_wipe(i->data, strlen(i->data));
	curl_slist_free_all(h);
}

/* Append to a curl header list; NULL (and the old list freed) on failure. */
static struct curl_slist *
sg_cli_add_header(struct curl_slist *h, const char *line)
{
	struct curl_slist *n = curl_slist_append(h, line);

	if (n == NULL)
		sg_cli_free_headers(h);
	return n;
}

int
sg_cli_conn_public(sg_cli_conn *c, const sg_cli_conn_flags *f)
{
	const char *url = f->url != NULL ? f->url : getenv("SIGNET_URL");

	memset(c, 0, sizeof(*c));
	if (url == NULL || url[0] == '\0') {
		sg_cli_err("no service URL: set SIGNET_URL or pass --url");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		sg_cli_err("service URL must start with http:// or https://: '%s'", url);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((f->cert == NULL) != (f->cert_key == NULL)) {
		sg_cli_err("--cert and --cert-key go together");
		return SG_ERR_INVALID_ARGUMENT;
	}
	c->url = url;
	c->cacert = f->cacert;
	/* A client certificate is TLS, not an API credential: a server may require it. */
	c->cert = f->cert;
	c->cert_key = f->cert_key;
	return SG_OK;
}

int
sg_cli_http(const sg_cli_conn *c, const char *method, const char *path,
    const json_t *body, const char *accept, sg_cli_resp *resp)
{
	char *json = NULL;
	int r;

	if (body != NULL && (json = json_dumps(body, JSON_COMPACT)) == NULL) {
		sg_cli_err("out of memory");
		return SG_ERR_NOMEM;
	}
	r = sg_cli_http_raw(c, method, path, json, json != NULL ? strlen(json) : 0,
	    json != NULL ? "application/json" : NULL, accept, resp);
	free(json);
	return r;
}

int
sg_cli_http_raw(const sg_cli_conn *c, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, const char *accept,
    sg_cli_resp *resp)
{
	int r = SG_ERR_INTERNAL;
	CURL *curl = NULL;
	struct curl_slist *headers = NULL;
	char *url = NULL, *auth = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char accept_line[128], ctype_line[128];
	sg_cli_resp out;
	size_t base_len, url_len, auth_len = 0;
	CURLcode cc;

	memset(&out, 0, sizeof(out));
	sg_buf_init(&out.body, SG_CLI_MAX_RESPONSE);

	base_len = strlen(c->url);
	while (base_len > 0 && c->url[base_len - 1] == '/')
		base_len--;
	url_len = base_len + strlen(path) + 1;
	if ((url = malloc(url_len)) == NULL) {
		r = SG_ERR_NOMEM;
		goto nomem;
	}
	snprintf(url, url_len, "%.*s%s", (int)base_len, c->url, path);

	snprintf(accept_line, sizeof(accept_line), "Accept: %s",
	    accept != NULL ? accept : "application/json");
	if ((headers = sg_cli_add_header(headers, accept_line)) == NULL)
		goto nomem;
	if (body != NULL) {
		snprintf(ctype_line, sizeof(ctype_line), "Content-Type: %s",
		    content_type != NULL ? content_type : "application/octet-stream");
		if ((headers = sg_cli_add_header(headers, ctype_line)) == NULL)
			goto nomem;
	}
	if (c->api_key != NULL) {
		auth_len = strlen(c->api_key) + sizeof("Authorization: Bearer ");
		if ((auth = malloc(auth_len)) == NULL)
			goto nomem;
		snprintf(auth, auth_len, "Authorization: Bearer %s", c->api_key);
		if ((headers = sg_cli_add_header(headers, auth)) == NULL)
			goto nomem;
	}
	/* libcurl would otherwise send "Expect: 100-continue" and wait on big bodies. */
	if ((headers = sg_cli_add_header(headers, "Expect:")) == NULL)
		goto nomem;

	if ((curl = curl_easy_init()) == NULL)
		goto nomem;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, SG_CLI_CONNECT_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, SG_CLI_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, SG_CLI_USER_AGENT);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sg_cli_on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, sg_cli_on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (c->cacert != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
	if (c->cert != NULL) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, c->cert_key);
	}

	cc = curl_easy_perform(curl);
	if (cc == CURLE_WRITE_ERROR && out.too_large) {
		sg_cli_err("response from %s is larger than %u bytes", c->url,
		    SG_CLI_MAX_RESPONSE);
		r = SG_ERR_TOO_LARGE;
		goto out;
	}
	if (cc != CURLE_OK) {
		sg_cli_err("cannot reach %s: %s", c->url,
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
	sg_cli_err("out of memory");
	r = SG_ERR_NOMEM;
out:
	curl_easy_cleanup(curl);
	sg_cli_free_headers(headers);
	sg_free_secret(auth, auth_len);
	free(url);
	sg_cli_resp_free(&out);
	return r;
}

/* The SG_ERR_* that fits an HTTP error status. */
static int
sg_cli_status_err(long status)
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

int
sg_cli_resp_error(const sg_cli_resp *resp)
{
	json_t *root = NULL, *err;
	const char *code = NULL, *msg = NULL, *rid = NULL;

	if (resp->body.len > 0)
		root = json_loadb((const char *)resp->body.data, resp->body.len, 0, NULL);
	if ((err = json_object_get(root, "error")) != NULL) {
		code = sg_cli_json_str(err, "code");
		msg = sg_cli_json_str(err, "message");
		rid = sg_cli_json_str(err, "request_id");
	}
	if (rid == NULL && resp->request_id[0] != '\0')
		rid = resp->request_id;
	if (code != NULL) {
		sg_cli_err("service error: HTTP %ld %s: %s%s%s%s", resp->status, code,
		    msg != NULL ? msg : "(no message)", rid != NULL ? " (request " : "",
		    rid != NULL ? rid : "", rid != NULL ? ")" : "");
	} else {
		sg_cli_err("service error: HTTP %ld without a Signet error body%s%s%s",
		    resp->status, rid != NULL ? " (request " : "", rid != NULL ? rid : "",
		    rid != NULL ? ")" : "");
	}
	json_decref(root);
	return sg_cli_status_err(resp->status);
}

int
sg_cli_call(const sg_cli_conn *c, const char *method, const char *path,
    const json_t *body, long *status, json_t **out)
{
	char *json = NULL;
	int r;

	if (body != NULL && (json = json_dumps(body, JSON_COMPACT)) == NULL) {
		sg_cli_err("out of memory");
		return SG_ERR_NOMEM;
	}
	r = sg_cli_call_raw(c, method, path, json, json != NULL ? strlen(json) : 0,
	    json != NULL ? "application/json" : NULL, status, out);
	free(json);
	return r;
}

int
sg_cli_call_raw(const sg_cli_conn *c, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, long *status, json_t **out)
{
	sg_cli_resp resp;
	json_t *root = NULL;
	json_error_t jerr;
	int r;

	if ((r = sg_cli_http_raw(c, method, path, body, body_len, content_type, NULL,
	    &resp)) != SG_OK)
		return r;
	if (resp.status < 200 || resp.status > 299) {
		r = sg_cli_resp_error(&resp);
		goto out;
	}
	root = json_loadb(resp.body.len > 0 ? (const char *)resp.body.data : "",
	    resp.body.len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		sg_cli_err("service answered HTTP %ld with a body that is not a JSON object%s%s%s",
		    resp.status, resp.request_id[0] != '\0' ? " (request " : "",
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
	sg_cli_resp_free(&resp);
	return r;
}

int
sg_cli_get_text(const sg_cli_conn *c, const char *path, const char *accept, char **text,
    size_t *len)
{
	sg_cli_resp resp;
	uint8_t *p;
	size_t n = 0;
	int r;

	if ((r = sg_cli_http(c, "GET", path, NULL, accept, &resp)) != SG_OK)
		return r;
	if (resp.status != 200) {
		r = sg_cli_resp_error(&resp);
		sg_cli_resp_free(&resp);
		return r;
	}
	/* sg_buf keeps a NUL after the bytes; an empty body has no buffer yet. */
	if (resp.body.len == 0 || memchr(resp.body.data, '\0', resp.body.len) != NULL) {
		sg_cli_resp_free(&resp);
		sg_cli_err("service answer to GET %s is empty or not text", path);
		return SG_ERR_BAD_ENCODING;
	}
	p = sg_buf_steal(&resp.body, &n);
	sg_cli_resp_free(&resp);
	*text = (char *)p;
	*len = n;
	return SG_OK;
}
