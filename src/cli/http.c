/*
 * http.c - the CLI's connection to signetd: flags and environment resolved
 * into an sg_cli_conn, and thin wrappers over the shared client library
 * (src/client, sg_client.h) that move its per-call error description into
 * the CLI's one-message record (sg_cli_err).  The transport itself - one
 * blocking libcurl request, bounded bodies, no redirects, the API key wiped
 * from every buffer - is the library's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sg_cli.h"
#include "sg_client.h"
#include "sg_secret.h"

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

/* The library's view of a CLI connection. */
static void
sg_cli_client_config(const sg_cli_conn *c, sg_client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->url = c->url;
	cfg->api_key = c->api_key;
	cfg->ca_file = c->cacert;
	cfg->cert = c->cert;
	cfg->cert_key = c->cert_key;
	cfg->user_agent = SG_CLI_USER_AGENT;
}

/* Hand the library's description of a failure to the CLI's one-message record. */
static int
sg_cli_client_result(int r, const sg_client_err *e)
{
	if (r != SG_OK && e->msg[0] != '\0')
		sg_cli_err("%s", e->msg);
	return r;
}

void
sg_cli_resp_free(sg_cli_resp *r)
{
	sg_client_resp_free(r);
}

char *
sg_cli_path_escape(const char *segment)
{
	return sg_client_path_escape(segment);
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
	sg_client_config cfg;
	sg_client_err e = { 0 };

	sg_cli_client_config(c, &cfg);
	return sg_cli_client_result(sg_client_http(&cfg, method, path, body, body_len,
	    content_type, accept, resp, &e), &e);
}

int
sg_cli_resp_error(const sg_cli_resp *resp)
{
	sg_client_err e = { 0 };

	return sg_cli_client_result(sg_client_resp_error(resp, &e), &e);
}

int
sg_cli_call(const sg_cli_conn *c, const char *method, const char *path,
    const json_t *body, long *status, json_t **out)
{
	sg_client_config cfg;
	sg_client_err e = { 0 };

	sg_cli_client_config(c, &cfg);
	return sg_cli_client_result(sg_client_call_json(&cfg, method, path, body, status, out,
	    &e), &e);
}

int
sg_cli_call_raw(const sg_cli_conn *c, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, long *status, json_t **out)
{
	sg_client_config cfg;
	sg_client_err e = { 0 };

	sg_cli_client_config(c, &cfg);
	return sg_cli_client_result(sg_client_call(&cfg, method, path, body, body_len,
	    content_type, status, out, &e), &e);
}

int
sg_cli_get_text(const sg_cli_conn *c, const char *path, const char *accept, char **text,
    size_t *len)
{
	sg_client_config cfg;
	sg_client_err e = { 0 };

	sg_cli_client_config(c, &cfg);
	return sg_cli_client_result(sg_client_get_text(&cfg, path, accept, text, len, &e), &e);
}
