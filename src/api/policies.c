/*
 * policies.c - signing policies (SPEC §3): POST/GET /v1/policies and
 * GET /v1/policies/{project}/{slug}.  The checks a policy imposes on a sign
 * request are the service's (src/service).
 *
 * Lists are kept as JSON text in the store; an omitted list means "anything
 * the key supports".  allow_fast defaults to true when no approvals are
 * required and to false otherwise (an approved request is signed by the
 * queue, never in the HTTP call).
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_log.h"

static json_t *
loads_or(const char *text, json_t *fallback)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	if (j == NULL)
		return fallback;
	json_decref(fallback);
	return j;
}

json_t *
api_policy_json(api_req *req, const sg_policy *p, int with_key)
{
	char ts[32];
	sg_store *s = req->svc->store;
	sg_key k;
	sg_time_format(p->created_at, ts);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i,s:o,s:I,s:b,s:b,s:s}", "id", p->id,
	    "project", p->project, "slug", p->slug, "key", p->key_id, "allow_fast", p->allow_fast,
	    "approvals_required", p->approvals_required,
	    "approvers", loads_or(p->approvers, json_pack("{s:s}", "role", "approver")),
	    "approval_timeout_seconds", (json_int_t)p->approval_timeout_seconds,
	    "allow_legacy_hashes", p->allow_legacy_hashes, "timestamp", p->timestamp, "created_at", ts);
	json_object_set_new(j, "allowed_hash_algorithms", loads_or(p->allowed_hash_algorithms, json_null()));
	json_object_set_new(j, "allowed_signature_algorithms",
	    loads_or(p->allowed_signature_algorithms, json_null()));
	json_object_set_new(j, "required_metadata", loads_or(p->required_metadata, json_array()));
	if (with_key && s->ops->key_get(s, req->tenant.id, p->key_id, &k) == SG_OK) {
		sg_key_version v;
		json_object_set_new(j, "key_alias", json_string(k.alias));
		json_object_set_new(j, "key_algorithm", json_string(sg_key_alg_name(k.alg)));
		json_object_set_new(j, "key_version", json_integer(k.current_version));
		if (s->ops->key_version_get(s, req->tenant.id, k.id, k.current_version, &v) == SG_OK) {
			char *pem = NULL;
			if (sg_spki_to_pem(v.spki, v.spki_len, &pem) == SG_OK)
				json_object_set_new(j, "public_key_pem", json_string(pem));
			free(pem);
			json_object_set_new(j, "certificate_chain_pem",
			    v.cert_chain_pem ? json_string(v.cert_chain_pem) : json_null());
			sg_key_version_clear(&v);
		}
	}
	return j;
}

/*
 * A JSON array of strings each accepted by canon(), stored as the canonical
 * names canon() returns (so "sha256" is kept as "SHA-256" and matches at sign
 * time); answers 400 when an entry is unknown.
 */
static int
string_list(api_req *req, api_resp *resp, json_t *body, const char *name,
    const char *(*canon)(const char *, sg_key_alg), sg_key_alg alg, char **out)
{
	json_t *a = json_object_get(body, name);
	size_t i;
	json_t *v;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 64) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' must be an array of names", name);
		return -1;
	}
	json_t *canonical = json_array();
	json_array_foreach(a, i, v) {
		const char *c = json_is_string(v) && json_string_length(v) <= 128 ?
		    canon(json_string_value(v), alg) : NULL;
		if (c == NULL) {
			json_decref(canonical);
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' has an unknown or invalid entry "
			    "(%.64s)", name, json_is_string(v) ? json_string_value(v) : "not a string");
			return -1;
		}
		json_array_append_new(canonical, json_string(c));
	}
	*out = json_dumps(canonical, JSON_COMPACT);
	json_decref(canonical);
	return 0;
}

static const char *
canon_hash(const char *s, sg_key_alg alg)
{
	(void)alg;
	return sg_hash_name(sg_hash_from_name(s));
}

/* A scheme must fit the policy's key, and is named as for that key ("HashML-DSA-65"). */
static const char *
canon_scheme(const char *s, sg_key_alg alg)
{
	sg_sign_params p = { .hash = SG_HASH_SHA512, .scheme = sg_scheme_from_name(s), .pss_salt_len = -1 };
	sg_key_alg pinned = sg_scheme_name_key_alg(s);
	if (p.scheme == SG_SCHEME_NONE || (pinned != SG_KEY_NONE && pinned != alg) ||
	    sg_sign_params_check(alg, &p) == SG_ERR_ALGORITHM_MISMATCH)
		return NULL;
	return sg_scheme_name(p.scheme, alg);
}

static const char *
canon_field(const char *s, sg_key_alg alg)
{
	(void)alg;
	return s[0] != 0 ? s : NULL;
}

void
api_policies_create(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "project", "slug", "key", "allowed_hash_algorithms",
		"allowed_signature_algorithms", "allow_fast", "approvals_required", "approvers",
		"approval_timeout_seconds", "required_metadata", "allow_legacy_hashes", "timestamp", NULL };
	sg_store *s = req->svc->store;
	const char *project = NULL, *slug = NULL, *key = NULL;
	int64_t n = 0, timeout = 0;
	int allow_fast = -1, legacy = 0, ts = 0, r;
	sg_policy p;
	sg_key k;
	sg_audit_entry audit;

	memset(&p, 0, sizeof(p));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "project", 1, 128, &project) ||
	    api_field_str(req, resp, body, "slug", 1, 128, &slug) ||
	    api_field_str(req, resp, body, "key", 1, 128, &key) ||
	    api_field_int(req, resp, body, "approvals_required", 0, 0, 16, &n) ||
	    api_field_int(req, resp, body, "approval_timeout_seconds", 0, 0, 30LL * 86400, &timeout) ||
	    api_field_bool(req, resp, body, "allow_fast", &allow_fast) ||
	    api_field_bool(req, resp, body, "allow_legacy_hashes", &legacy) ||
	    api_field_bool(req, resp, body, "timestamp", &ts))
		goto out;
	if ((r = s->ops->key_get(s, req->tenant.id, key, &k)) != SG_OK) {
		api_error(req, resp, r, "no key '%.128s'", key);
		goto out;
	}
	if (string_list(req, resp, body, "allowed_hash_algorithms", canon_hash, k.alg,
	        &p.allowed_hash_algorithms) ||
	    string_list(req, resp, body, "allowed_signature_algorithms", canon_scheme, k.alg,
	        &p.allowed_signature_algorithms) ||
	    string_list(req, resp, body, "required_metadata", canon_field, k.alg, &p.required_metadata))
		goto out;
	if (!api_valid_name(project) || !api_valid_name(slug)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "project and slug must be 1-128 characters of letters, digits, '.', '_' or '-'");
		goto out;
	}
	if (allow_fast == 1 && n > 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "allow_fast cannot be true when approvals_required is above 0");
		goto out;
	}
	/* Approver group: a role, or a list of principals of this tenant. */
	json_t *ap = json_object_get(body, "approvers");
	if (ap == NULL || json_is_null(ap)) {
		p.approvers = strdup("{\"role\":\"approver\"}");
	} else {
		json_t *role = json_object_get(ap, "role"), *list = json_object_get(ap, "principals");
		int ok = json_is_object(ap) && json_object_size(ap) == 1;
		if (ok && role != NULL)
			ok = json_is_string(role) && sg_role_from_name(json_string_value(role)) != 0;
		else if (ok && list != NULL && json_is_array(list) && json_array_size(list) > 0) {
			size_t i;
			json_t *v;
			sg_principal pr;
			json_array_foreach(list, i, v) {
				if (!json_is_string(v) || json_string_length(v) >= SG_ID_MAX ||
				    s->ops->principal_get(s, req->tenant.id, json_string_value(v), &pr) != SG_OK)
					ok = 0;
			}
		} else
			ok = 0;
		if (!ok) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
			    "approvers must be {\"role\": ROLE} or {\"principals\": [principal ids of this tenant]}");
			goto out;
		}
		p.approvers = json_dumps(ap, JSON_COMPACT);
	}
	if (sg_uuid(p.id) != SG_OK) {
		api_error(req, resp, SG_ERR_INTERNAL, "uuid");
		goto out;
	}
	sg_strlcpy(p.tenant_id, req->tenant.id, sizeof(p.tenant_id));
	sg_strlcpy(p.project, project, sizeof(p.project));
	sg_strlcpy(p.slug, slug, sizeof(p.slug));
	sg_strlcpy(p.key_id, k.id, sizeof(p.key_id));
	p.approvals_required = (int)n;
	p.allow_fast = allow_fast < 0 ? n == 0 : allow_fast;
	p.approval_timeout_seconds = timeout;
	p.allow_legacy_hashes = legacy;
	p.timestamp = ts;
	p.created_at = sg_now_ms();
	api_audit_init(req, &audit, "policy.created", p.id);
	if ((r = s->ops->policy_create(s, &p, &audit)) != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_CONFLICT ? "policy %s/%s already exists" :
		    "cannot create policy %s/%s", project, slug);
		goto out;
	}
	sg_info("policy %s/%s (%s) created by %s", p.project, p.slug, p.id, req->principal.id);
	api_json(resp, 201, api_policy_json(req, &p, 1));
out:
	sg_policy_clear(&p);
	json_decref(body);
}

void
api_policies_list(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_policy *list = NULL;
	size_t n = 0;
	int r = s->ops->policy_list(s, req->tenant.id, &list, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot list policies");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, api_policy_json(req, &list[i], 0));
	sg_policy_list_free(list, n);
	api_json(resp, 200, json_pack("{s:o}", "policies", a));
}

void
api_policies_get(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_policy p;
	int r = s->ops->policy_get(s, req->tenant.id, req->params[0], req->params[1], &p);
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no policy %s/%s" : "cannot load policy %s/%s",
		    req->params[0], req->params[1]);
		return;
	}
	api_json(resp, 200, api_policy_json(req, &p, 1));
	sg_policy_clear(&p);
}
