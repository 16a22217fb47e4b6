/*
 * api.h - what the files of src/api share (not exported).
 *
 * A request arrives in http.c, which collects the body (bounded by
 * SG_API_MAX_BODY), gives it an id, authenticates it (auth.c), and finds its
 * handler in the route table (router.c).  A handler fills an api_resp; the
 * helpers below build JSON bodies and the one error shape of SPEC §3.
 */
#ifndef SG_API_INTERNAL_H
#define SG_API_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "sg_api.h"
#include "sg_util.h"
#include "sg_svc.h"

#define API_MAX_PARAMS 4

struct api_dialect;

typedef struct api_req {
	sg_service *svc;
	const struct api_dialect *dialect;   /* the dialect that owns the path (router.c) */
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	const uint8_t *body;
	size_t body_len;
	char request_id[SG_UUID_LEN + 1];
	char client_ip[64];
	char user_agent[256];
	const char *params[API_MAX_PARAMS];  /* path parameters, in order */
	size_t nparams;
	/* Set by auth.c for authenticated routes. */
	sg_principal principal;
	sg_tenant tenant;
	const uint8_t *peer_cert_der;        /* TLS client certificate, if any */
	size_t peer_cert_len;
	int peer_cert_verified;
	/*
	 * In-process requests (conn NULL: the fuzz harnesses) carry their
	 * headers here as NULL-terminated name, value pairs; NULL = none.
	 */
	const char *const *headers;
} api_req;

typedef struct api_resp {
	unsigned status;
	char *body;               /* malloc'd */
	size_t body_len;
	const char *content_type;
	char location[512];       /* optional Location header */
	char error_code[40];      /* for the access log */
	unsigned retry_after;     /* seconds; non-zero adds Retry-After (429) */
	const char *csp;          /* optional Content-Security-Policy (static string) */
} api_resp;

typedef void (*api_handler)(api_req *req, api_resp *resp);

/* ---- dialects (router.c, dialect_*.c) ---- */

/* Route roles: a route needs one of these SG_ROLE_* bits, or one of: */
#define API_PUBLIC 0x8000u    /* no credentials at all */
#define API_ANY_ROLE 0x4000u  /* an authenticated principal of any role */

typedef struct api_route_def {
	const char *method;
	const char *pattern;      /* literal segments and "*" for one path parameter */
	api_handler handler;
	unsigned roles;
} api_route_def;

/*
 * An API dialect: the native /v1 API or one of the compatible dialects of
 * SPEC §4.  It is one file exporting one const description.  The router
 * walks the list of dialects (router.c) and gives a request to the first
 * route that matches; a path under one of a dialect's prefixes that no route
 * matches is that dialect's 404 or 405.  Every error raised while the
 * dialect owns a request (authentication, roles, size, rate limits, and
 * every api_error() of the handlers) is written by its render_error, so a
 * client of a dialect only ever sees that dialect's error shape.
 *
 * Credentials are those of auth.c for every dialect: an API key as
 * `Authorization: Bearer`, `x-api-key` (or `X-Vault-Token`), or a
 * registered TLS client certificate.
 */
typedef struct api_dialect {
	const char *name;                 /* "native", "digest", "sign-hash", ... */
	const char *const *prefixes;      /* paths it owns ("*" = one segment); NULL-terminated */
	const api_route_def *routes;
	size_t nroutes;
	/*
	 * Write an error: status and code are the native mapping of err (e.g.
	 * 404 and "NOT_FOUND"); message is meant for the client.  The
	 * renderer may pick another status or code where its documents say so.
	 */
	void (*render_error)(api_req *req, api_resp *resp, unsigned status, const char *code, int err,
	    const char *message);
	/* Largest body on the dialect's paths; 0 = SG_API_MAX_BODY. */
	size_t max_body;
} api_dialect;

extern const api_dialect api_dialect_native;
extern const api_dialect api_dialect_sign_hash;     /* dialect_sign_hash.c, SPEC §4 item 2 */
extern const api_dialect api_dialect_keypair;       /* dialect_keypair.c, SPEC §4 item 4 */
extern const api_dialect api_dialect_digest;     /* SPEC §4 item 1 */
extern const api_dialect api_dialect_signpath;   /* SPEC §4 item 3 */
extern const api_dialect api_dialect_transit;       /* dialect_transit.c, SPEC §4 item 5 */
/*
 * Mount the Transit dialect at /v1/<mount>/ (NULL or "" = "transit"; a
 * name of 1..63 of [A-Za-z0-9._-], checked by the config).  Call once
 * before any HTTP thread runs (sg_api_start does).
 */
void api_transit_mount(const char *mount);

/* The dialect that owns path (native when no other claims it). */
const api_dialect *api_dialect_owner(const char *path);
/* The body limit on path: its owner's max_body, else SG_API_MAX_BODY. */
size_t api_max_body(const char *path);
/* The native error shape {"error":{"code","message","request_id"}}. */
void api_native_error(api_req *req, api_resp *resp, unsigned status, const char *code, int err,
    const char *message);

/* ---- responses ---- */
/* Serialise j (stolen: decref'd here) as the body with the given status. */
void api_json(api_resp *resp, unsigned status, json_t *j);
/* The SPEC error shape for err, with a message meant for the client. */
void api_error(api_req *req, api_resp *resp, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Error with an explicit HTTP status and code string. */
void api_error_code(api_req *req, api_resp *resp, unsigned status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void api_text(api_resp *resp, unsigned status, const char *content_type, const char *text);
/* HTTP status and stable code string for an sg_err. */
void api_err_map(int err, unsigned *status, const char **code);

/* ---- request helpers ---- */
/* Parse the body as a JSON object; on failure answers 400 and returns NULL. */
json_t *api_body_object(api_req *req, api_resp *resp);
/*
 * Typed field access.  Each answers 400 INVALID_ARGUMENT naming the field and
 * returns non-zero when the field is required but missing or has the wrong
 * type; *out is left untouched when the field is absent.
 */
int api_field_str(api_req *req, api_resp *resp, json_t *obj, const char *name,
    int required, size_t maxlen, const char **out);
int api_field_int(api_req *req, api_resp *resp, json_t *obj, const char *name,
    int required, int64_t min, int64_t max, int64_t *out);
int api_field_bool(api_req *req, api_resp *resp, json_t *obj, const char *name, int *out);
/* Reject any field not in the NULL-terminated list (typos must not pass silently). */
int api_fields_known(api_req *req, api_resp *resp, json_t *obj, const char *const *known);
const char *api_header(api_req *req, const char *name);
const char *api_query(api_req *req, const char *name);
/* Names and aliases: 1..128 of [A-Za-z0-9._-], starting with a letter or digit. */
int api_valid_name(const char *s);
/* 1 when the principal holds any of the role bits. */
int api_has_role(const api_req *req, unsigned roles);

/* ---- auth.c ---- */
/* Authenticate; on failure fills resp (401) and returns non-zero. */
int api_authenticate(api_req *req, api_resp *resp);
/*
 * Create an API key for a principal: stores its hash, returns the key text
 * (malloc'd; the caller wipes it with sg_free_secret_str after answering).
 */
int api_issue_api_key(sg_store *store, const sg_principal *p, const char *fixed_key,
    sg_api_key *rec, char **key_text) SG_WUR;
/* Lookup prefix of a presented API key (see auth.c). */
void api_key_prefix(const char *key, char out[24]);

/* ---- audit.c ---- */
/*
 * Prepare an audit entry for this request: tenant and actor from the
 * authenticated principal, action and object as given, no details.  The
 * entry borrows nothing; details (if set later) must be freed by the caller.
 */
void api_audit_init(const api_req *req, sg_audit_entry *e, const char *action, const char *object);
/*
 * Append an audit entry on its own (for events whose change is already
 * stored, e.g. key creation).  Failure is logged, not reported: the
 * change it records has happened.
 */
void api_audit(api_req *req, const char *action, const char *object, json_t *details);

/* ---- router.c ---- */
/* Find and run the handler for the request (auth and roles included). */
void api_route(api_req *req, api_resp *resp);
/* "METHOD /pattern" of route i, NULL past the end (metrics labels). */
const char *api_route_name(int i);
/* Fill the route names once, before any HTTP thread runs. */
void api_routes_init(void);

/* ---- metrics.c ---- */
/* Count a finished request on route (-1: none matched); is_sign adds ns to the sign histogram. */
void api_metrics_observe(int route, unsigned status, int is_sign, uint64_t ns);

/* ---- requests.c / audit.c ---- */
int api_valid_status(const char *s);
json_t *api_audit_entry_json(const sg_audit_entry *e);

/* ---- resources: shared JSON renderers ---- */
json_t *api_key_json(api_req *req, const sg_key *k);
json_t *api_signature_json(const sg_signature *s);
/* The body of a successful POST /v1/sign (SPEC §3). */
json_t *api_signature_response(const sg_signature *s, const char *status);
json_t *api_request_json(const sg_request *r, const sg_signature *sig);
json_t *api_roles_json(unsigned roles);
void api_b64_set(json_t *obj, const char *name, const uint8_t *p, size_t n);

/* ---- the service layer, seen from the edge ---- */
/* The caller of the service: this request's tenant, principal, address and User-Agent. */
const sg_caller *api_caller(const api_req *req, sg_caller *c);
/* Answer a service refusal in the error shape of the request's dialect. */
void api_problem(api_req *req, api_resp *resp, const sg_problem *p);

/* ---- approvals.c ---- */
/*
 * Read a vote's body ({"comment"}, optional) and cast the caller's vote on
 * the request named by the first path parameter.  0 with *after the request
 * as it is now (release with sg_request_clear); otherwise the error is
 * answered in the request's dialect and -1 returned.
 */
int api_vote(api_req *req, api_resp *resp, int approve, sg_request *after);

/* ---- sign.c ---- */
/* Native answer for a submission: 200 with the signature, or 202 {request_id, status}. */
void api_render_outcome(api_req *req, api_resp *resp, const sg_outcome *o);
/* Idempotency-Key header into in (with the canonical body's hash); 400 and non-zero when bad. */
int api_idempotency_key(api_req *req, api_resp *resp, json_t *body, sg_submit *in);
/* Field `name` (absent, null or an object) as canonical JSON text in *out (malloc'd, NULL when absent). */
int api_metadata_text(api_req *req, api_resp *resp, json_t *body, const char *name, char **out);

/* ---- policies.c ---- */
json_t *api_policy_json(api_req *req, const sg_policy *p, int with_key);

/* ---- handlers, one group per resource file ---- */
void api_policies_create(api_req *, api_resp *);
void api_policies_list(api_req *, api_resp *);
void api_policies_get(api_req *, api_resp *);
void api_requests_list(api_req *, api_resp *);
void api_requests_resubmit(api_req *, api_resp *);
void api_approvals_list(api_req *, api_resp *);
void api_approvals_get(api_req *, api_resp *);
void api_approvals_approve(api_req *, api_resp *);
void api_approvals_reject(api_req *, api_resp *);
void api_audit_list(api_req *, api_resp *);
void api_audit_verify(api_req *, api_resp *);
void api_metrics(api_req *, api_resp *);
void api_tsa_query(api_req *, api_resp *);
void api_tsa_certificate(api_req *, api_resp *);
void api_health(api_req *, api_resp *);
void api_ready(api_req *, api_resp *);
void api_openapi(api_req *, api_resp *);
/* portal.c: GET /portal and /portal/<file>, the approvers' portal (public static files). */
void api_portal(api_req *, api_resp *);
void api_tenants_create(api_req *, api_resp *);
void api_principals_create(api_req *, api_resp *);
void api_principals_list(api_req *, api_resp *);
void api_principals_patch(api_req *, api_resp *);
void api_principals_delete(api_req *, api_resp *);
void api_principals_add_api_key(api_req *, api_resp *);
void api_principals_list_api_keys(api_req *, api_resp *);
void api_principals_add_client_cert(api_req *, api_resp *);
void api_api_keys_revoke(api_req *, api_resp *);
void api_keys_create(api_req *, api_resp *);
void api_keys_list(api_req *, api_resp *);
void api_keys_get(api_req *, api_resp *);
void api_keys_patch(api_req *, api_resp *);
void api_keys_rotate(api_req *, api_resp *);
void api_keys_destroy_version(api_req *, api_resp *);
void api_keys_public_key(api_req *, api_resp *);
void api_keys_csr(api_req *, api_resp *);
void api_keys_self_signed(api_req *, api_resp *);
void api_keys_upload_cert(api_req *, api_resp *);
void api_sign(api_req *, api_resp *);
void api_verify(api_req *, api_resp *);
void api_signatures_get(api_req *, api_resp *);
void api_requests_get(api_req *, api_resp *);
/* webhooks.c (issue 15) */
void api_webhooks_create(api_req *, api_resp *);
void api_webhooks_list(api_req *, api_resp *);
void api_webhooks_get(api_req *, api_resp *);
void api_webhooks_delete(api_req *, api_resp *);
void api_webhooks_deliveries(api_req *, api_resp *);

#endif
