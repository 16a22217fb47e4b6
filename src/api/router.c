/*
 * router.c - the route table: method, path pattern, handler, roles.
 *
 * Patterns are literal segments and "*" for a path parameter.  A route with
 * roles == ROUTE_PUBLIC needs no credentials; roles == ROUTE_ANY needs an
 * authenticated principal of any role; otherwise the principal must hold at
 * least one of the role bits.  A path that matches with another method is
 * 405; no match at all is 404.
 */
#include <stdio.h>
#include <string.h>
#include "api.h"

#define ROUTE_PUBLIC 0x8000u
#define ROUTE_ANY 0x4000u

typedef struct route {
	const char *method;
	const char *pattern;
	api_handler handler;
	unsigned roles;
} route;

#define R_ADMIN SG_ROLE_ADMIN
#define R_READ (SG_ROLE_ADMIN | SG_ROLE_SIGNER | SG_ROLE_APPROVER | SG_ROLE_AUDITOR)

static const route routes[] = {
	{ "GET", "/healthz", api_health, ROUTE_PUBLIC },
	{ "GET", "/readyz", api_ready, ROUTE_PUBLIC },
	{ "GET", "/v1/openapi.json", api_openapi, ROUTE_PUBLIC },
	{ "POST", "/tsa", api_tsa_query, ROUTE_PUBLIC },
	{ "GET", "/tsa/certificate", api_tsa_certificate, ROUTE_PUBLIC },

	{ "POST", "/v1/tenants", api_tenants_create, SG_ROLE_OPERATOR },
	{ "POST", "/v1/principals", api_principals_create, SG_ROLE_ADMIN | SG_ROLE_OPERATOR },
	{ "GET", "/v1/principals", api_principals_list, R_ADMIN },
	{ "DELETE", "/v1/principals/*", api_principals_delete, R_ADMIN },
	{ "PATCH", "/v1/principals/*", api_principals_patch, R_ADMIN },
	{ "POST", "/v1/principals/*/api-keys", api_principals_add_api_key, R_ADMIN },
	{ "GET", "/v1/principals/*/api-keys", api_principals_list_api_keys, R_ADMIN },
	{ "POST", "/v1/principals/*/client-certs", api_principals_add_client_cert, R_ADMIN },
	{ "DELETE", "/v1/api-keys/*", api_api_keys_revoke, R_ADMIN },

	{ "POST", "/v1/keys", api_keys_create, R_ADMIN },
	{ "GET", "/v1/keys", api_keys_list, R_READ },
	{ "GET", "/v1/keys/*", api_keys_get, R_READ },
	{ "PATCH", "/v1/keys/*", api_keys_patch, R_ADMIN },
	{ "POST", "/v1/keys/*/rotate", api_keys_rotate, R_ADMIN },
	{ "DELETE", "/v1/keys/*/versions/*", api_keys_destroy_version, R_ADMIN },
	{ "GET", "/v1/keys/*/public-key", api_keys_public_key, R_READ },
	{ "POST", "/v1/keys/*/csr", api_keys_csr, R_ADMIN },
	{ "POST", "/v1/keys/*/versions/*/self-signed", api_keys_self_signed, R_ADMIN },
	{ "PUT", "/v1/keys/*/versions/*/certificate", api_keys_upload_cert, R_ADMIN },

	{ "POST", "/v1/sign", api_sign, SG_ROLE_SIGNER },
	{ "GET", "/v1/requests", api_requests_list, SG_ROLE_SIGNER | SG_ROLE_AUDITOR | SG_ROLE_ADMIN | SG_ROLE_APPROVER },
	{ "POST", "/v1/requests/*/resubmit", api_requests_resubmit, SG_ROLE_SIGNER },
	{ "POST", "/v1/policies", api_policies_create, R_ADMIN },
	{ "GET", "/v1/policies", api_policies_list, R_READ },
	{ "GET", "/v1/policies/*/*", api_policies_get, R_READ },
	{ "GET", "/v1/approvals", api_approvals_list, SG_ROLE_APPROVER | SG_ROLE_ADMIN | SG_ROLE_AUDITOR },
	{ "GET", "/v1/approvals/*", api_approvals_get, SG_ROLE_APPROVER | SG_ROLE_ADMIN | SG_ROLE_AUDITOR },
	{ "POST", "/v1/approvals/*/approve", api_approvals_approve, ROUTE_ANY },
	{ "POST", "/v1/approvals/*/reject", api_approvals_reject, ROUTE_ANY },
	{ "GET", "/v1/audit", api_audit_list, SG_ROLE_AUDITOR | SG_ROLE_ADMIN },
	{ "GET", "/v1/audit/verify", api_audit_verify, SG_ROLE_AUDITOR | SG_ROLE_ADMIN },
	/* Service-wide figures (all tenants): operators only. */
	{ "GET", "/metrics", api_metrics, SG_ROLE_OPERATOR },
	{ "POST", "/v1/verify", api_verify, R_READ },
	{ "GET", "/v1/signatures/*", api_signatures_get, SG_ROLE_SIGNER | SG_ROLE_AUDITOR | SG_ROLE_ADMIN },
	{ "GET", "/v1/requests/*", api_requests_get, SG_ROLE_SIGNER | SG_ROLE_AUDITOR | SG_ROLE_ADMIN | SG_ROLE_APPROVER },

	/* Notifications (issue 15, webhooks.c): the tenant's admins only. */
	{ "POST", "/v1/webhooks", api_webhooks_create, R_ADMIN },
	{ "GET", "/v1/webhooks", api_webhooks_list, R_ADMIN },
	{ "GET", "/v1/webhooks/*", api_webhooks_get, R_ADMIN },
	{ "DELETE", "/v1/webhooks/*", api_webhooks_delete, R_ADMIN },
	{ "GET", "/v1/webhooks/*/deliveries", api_webhooks_deliveries, R_ADMIN },
};

/* Match path against pattern, collecting "*" segments into req->params. */
static int
match(const char *pattern, const char *path, api_req *req)
{
	const char *p = pattern, *s = path;
	size_t n = 0;
	while (*p && *s) {
		if (*p == '*') {
			const char *end = strchr(s, '/');
			size_t len = end ? (size_t)(end - s) : strlen(s);
			if (len == 0 || n >= API_MAX_PARAMS)
				return 0;
			req->params[n++] = s;  /* terminated below by copying */
			s += len;
			p++;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p != 0 || (*s != 0 && strcmp(s, "/") != 0))
		return 0;
	req->nparams = n;
	return 1;
}

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static char route_names[NROUTES][80];

void
api_routes_init(void)
{
	for (size_t k = 0; k < NROUTES; k++)
		snprintf(route_names[k], sizeof(route_names[k]), "%s %s", routes[k].method, routes[k].pattern);
}

const char *
api_route_name(int i)
{
	if (i < 0 || (size_t)i >= NROUTES)
		return NULL;
	return route_names[i];
}

static void
run(const route *rt, int index, api_req *req, api_resp *resp)
{
	uint64_t t0 = sg_mono_ns();
	rt->handler(req, resp);
	api_metrics_observe(index, resp->status, rt->handler == api_sign, sg_mono_ns() - t0);
}

void
api_route(api_req *req, api_resp *resp)
{
	int path_matched = 0;
	/* NUL-terminated copies of the path parameters, alive while the handler runs. */
	char params[API_MAX_PARAMS][256];

	for (size_t i = 0; i < NROUTES; i++) {
		const route *rt = &routes[i];
		if (!match(rt->pattern, req->path, req))
			continue;
		path_matched = 1;
		if (strcmp(rt->method, req->method) != 0)
			continue;
		for (size_t k = 0; k < req->nparams; k++) {
			const char *end = strchr(req->params[k], '/');
			size_t len = end ? (size_t)(end - req->params[k]) : strlen(req->params[k]);
			if (len >= sizeof(params[k])) {
				api_error(req, resp, SG_ERR_NOT_FOUND, "no such resource");
				return;
			}
			memcpy(params[k], req->params[k], len);
			params[k][len] = 0;
			req->params[k] = params[k];
		}
		if (rt->roles != ROUTE_PUBLIC) {
			if (api_authenticate(req, resp) != 0) {
				api_metrics_observe((int)i, resp->status, 0, 0);
				return;
			}
			if (rt->roles != ROUTE_ANY && !api_has_role(req, rt->roles)) {
				api_error(req, resp, SG_ERR_PERMISSION_DENIED,
				    "this principal's roles do not allow %s %s", req->method, rt->pattern);
				api_metrics_observe((int)i, resp->status, 0, 0);
				return;
			}
		}
		run(rt, (int)i, req, resp);
		return;
	}
	if (path_matched)
		api_error_code(req, resp, 405, "METHOD_NOT_ALLOWED", "%s is not allowed here", req->method);
	else
		api_error(req, resp, SG_ERR_NOT_FOUND, "no such endpoint: %.200s", req->path);
	api_metrics_observe(-1, resp->status, 0, 0);
}
