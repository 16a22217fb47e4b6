/*
 * dialect_native.c - the native /v1 API as a dialect: its route table and
 * its error shape (SPEC §3).
 *
 * Each route names its handler (one file per resource: keys.c, sign.c,
 * requests.c, approvals.c, ...) and the roles that may call it.  Health
 * checks, the OpenAPI document and the time-stamp authority are public.
 * The native dialect also owns every path no other dialect claims, so
 * unknown paths get the native 404.
 */
#include "api.h"

#define R_ADMIN SG_ROLE_ADMIN
#define R_READ (SG_ROLE_ADMIN | SG_ROLE_SIGNER | SG_ROLE_APPROVER | SG_ROLE_AUDITOR)
#define ROUTE_PUBLIC API_PUBLIC
#define ROUTE_ANY API_ANY_ROLE

static const api_route_def routes[] = {
	{ "GET", "/healthz", api_health, ROUTE_PUBLIC },
	{ "GET", "/readyz", api_ready, ROUTE_PUBLIC },
	{ "GET", "/v1/openapi.json", api_openapi, ROUTE_PUBLIC },
	{ "POST", "/tsa", api_tsa_query, ROUTE_PUBLIC },
	{ "GET", "/tsa/certificate", api_tsa_certificate, ROUTE_PUBLIC },

	/* The approvers' portal: public static files; its API calls authenticate as usual. */
	{ "GET", "/portal", api_portal, ROUTE_PUBLIC },
	{ "GET", "/portal/*", api_portal, ROUTE_PUBLIC },

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
	/* Notifications (webhooks.c): the tenant's admins only. */
	{ "POST", "/v1/webhooks", api_webhooks_create, R_ADMIN },
	{ "GET", "/v1/webhooks", api_webhooks_list, R_ADMIN },
	{ "GET", "/v1/webhooks/*", api_webhooks_get, R_ADMIN },
	{ "DELETE", "/v1/webhooks/*", api_webhooks_delete, R_ADMIN },
	{ "GET", "/v1/webhooks/*/deliveries", api_webhooks_deliveries, R_ADMIN },
	{ "GET", "/v1/requests/*", api_requests_get, SG_ROLE_SIGNER | SG_ROLE_AUDITOR | SG_ROLE_ADMIN | SG_ROLE_APPROVER },
};

static const char *const prefixes[] = { "/", NULL };

void
api_native_error(api_req *req, api_resp *resp, unsigned status, const char *code, int err,
    const char *message)
{
	(void)err;
	api_json(resp, status, json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "message", message,
	    "request_id", req->request_id));
}

const api_dialect api_dialect_native = {
	.name = "native",
	.prefixes = prefixes,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.render_error = api_native_error,
};
