/*
 * sg_client.h - a client of signetd's native API (SPEC §3) over libcurl.
 *
 * Shared by the `signet` CLI (src/cli) and the PKCS#11 module
 * (src/pkcs11): both describe where the service is and how to authenticate
 * in an sg_client_config, send one blocking request per call, and read the
 * answer from an sg_client_resp.  Nothing here is process-global: failures
 * are described in an sg_client_err the caller passes to each call, so any
 * number of threads may call at once, with the same configuration or not
 * (each call uses its own libcurl handle).  Response bodies go into a bounded
 * sg_buf, so a misbehaving server cannot make a client grow without limit;
 * redirects are never followed, so credentials only go to the configured
 * URL; the API key is wiped from every buffer that held it, including the
 * header list libcurl copied it into.
 */
#ifndef SG_CLIENT_H
#define SG_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sg_buf.h"
#include "sg_err.h"

/* Most bytes of one response body a client accepts. */
#define SG_CLIENT_MAX_RESPONSE (8u * 1024u * 1024u)

/* Defaults for sg_client_config's timeouts (0 there means these). */
#define SG_CLIENT_CONNECT_TIMEOUT_MS 15000L
#define SG_CLIENT_TIMEOUT_MS 300000L

/*
 * Where and how to reach the service.  The strings are the caller's and must
 * stay valid during each call; nothing is copied or kept.  api_key NULL sends
 * no Authorization header (mTLS alone, or the public endpoints).
 */
typedef struct sg_client_config {
	const char *url;          /* base URL, http:// or https:// */
	const char *api_key;      /* sent as "Authorization: Bearer" */
	const char *ca_file;      /* PEM bundle to trust; NULL: the system store */
	const char *cert;         /* TLS client certificate (PEM), with cert_key */
	const char *cert_key;
	const char *user_agent;   /* NULL: "signet-client" */
	long connect_timeout_ms;  /* 0: SG_CLIENT_CONNECT_TIMEOUT_MS */
	long timeout_ms;          /* whole exchange; 0: SG_CLIENT_TIMEOUT_MS */
} sg_client_config;

/*
 * What went wrong in a failed call: one English sentence (the first one
 * recorded wins, since it names the root cause), the service's stable error
 * code when it sent one ("KEY_NOT_ACTIVE"; "" otherwise), and whether the
 * exchange timed out.  Zero it (or call sg_client_err_clear) before use.
 */
typedef struct sg_client_err {
	char msg[512];
	char code[48];
	long status;      /* HTTP status of an error answer; 0 for transport failures */
	int timed_out;
} sg_client_err;

/* Record a message in e unless one is already there.  e may be NULL. */
void sg_client_errf(sg_client_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Forget what e holds. */
void sg_client_err_clear(sg_client_err *e);

/* One HTTP exchange. */
typedef struct sg_client_resp {
	long status;
	sg_buf body;                 /* at most SG_CLIENT_MAX_RESPONSE bytes */
	char request_id[96];         /* X-Request-Id, "" if none */
	char content_type[96];
	int too_large;               /* the body went over its limit */
} sg_client_resp;

/* Free the body and zero r.  NULL is fine. */
void sg_client_resp_free(sg_client_resp *r);

/*
 * Initialise libcurl for the process, once however often and from however
 * many threads it is called.  Every sg_client_http call does it too; a
 * library that is loaded into foreign programs calls it early anyway.
 * Returns SG_ERR_INTERNAL when libcurl cannot be initialised.
 */
int sg_client_global_init(void) SG_WUR;

/*
 * Check that cfg names a URL with http:// or https:// and either both or
 * neither of cert and cert_key.  The reason is recorded in e on failure.
 */
int sg_client_config_check(const sg_client_config *cfg, sg_client_err *e) SG_WUR;

/*
 * Perform METHOD url+path with an optional body of body_len bytes sent as
 * content_type (body NULL: no body; it must stay valid during the call) and
 * an Accept header (NULL: application/json).  On SG_OK *resp holds the
 * status and body, whatever the status; the caller frees it.  A transport
 * failure (refused, timed out, TLS) returns SG_ERR_UNAVAILABLE, a body over
 * SG_CLIENT_MAX_RESPONSE SG_ERR_TOO_LARGE; the reason is recorded in e and
 * *resp is untouched.
 */
int sg_client_http(const sg_client_config *cfg, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, const char *accept,
    sg_client_resp *resp, sg_client_err *e) SG_WUR;

/*
 * Record a non-2xx answer in e as "service error: HTTP <n> <CODE>: <message>
 * (request <id>)", with e->code and e->status set, and return the SG_ERR_*
 * that fits the status (400 SG_ERR_INVALID_ARGUMENT, 401
 * SG_ERR_UNAUTHENTICATED, 403 SG_ERR_PERMISSION_DENIED, 404
 * SG_ERR_NOT_FOUND, 409 SG_ERR_CONFLICT, 413 SG_ERR_TOO_LARGE, 429
 * SG_ERR_RATE_LIMITED, 503 SG_ERR_UNAVAILABLE, else SG_ERR_INTERNAL).
 */
int sg_client_resp_error(const sg_client_resp *resp, sg_client_err *e);

/*
 * sg_client_http plus the error convention: a 2xx answer whose body is a
 * JSON object is parsed into *out (caller json_decref's) and its status
 * stored in *status (optional).  Any other answer is recorded by
 * sg_client_resp_error; a 2xx answer that is not a JSON object is
 * SG_ERR_BAD_ENCODING.  *out is untouched on failure.
 */
int sg_client_call(const sg_client_config *cfg, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, long *status,
    json_t **out, sg_client_err *e) SG_WUR;

/* sg_client_call with a JSON body (NULL: none), sent compact. */
int sg_client_call_json(const sg_client_config *cfg, const char *method, const char *path,
    const json_t *body, long *status, json_t **out, sg_client_err *e) SG_WUR;

/*
 * GET path with the given Accept header and expect a 200 text answer (PEM):
 * *text is the malloc'd, NUL-terminated body of *len bytes.  Another status
 * is recorded as by sg_client_resp_error; an empty or binary body is
 * SG_ERR_BAD_ENCODING.
 */
int sg_client_get_text(const sg_client_config *cfg, const char *path, const char *accept,
    char **text, size_t *len, sg_client_err *e) SG_WUR;

/* Percent-encode one path segment (an id or alias); malloc'd, NULL on failure. */
char *sg_client_path_escape(const char *segment);

#endif
