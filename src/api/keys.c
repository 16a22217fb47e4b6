/*
 * keys.c - key resources: create, list, show, status, rotate, destroy a
 * version, export the public key.
 *
 * A key's private parts are made and held by the keystore for its storage
 * (DISK or HSM); this file only ever handles their public keys and opaque
 * handles.  Creating, rotating, changing the status of a key and destroying
 * a version are the service's (sg_svc_key_create, sg_svc_key_rotate,
 * sg_svc_key_set_status, sg_svc_key_destroy_version), shared with the
 * key-pair dialect; the handlers here parse names into enums and render.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

static int
is_one_of(const char *s, const char *const *set)
{
	for (size_t i = 0; set[i] != NULL; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

static json_t *
version_json(const sg_key_version *v)
{
	char ts[32];
	char *pem = NULL;
	sg_time_format(v->created_at, ts);
	json_t *j = json_pack("{s:i,s:s,s:s}", "version", v->version, "state", v->state, "created_at", ts);
	if (sg_spki_to_pem(v->spki, v->spki_len, &pem) == SG_OK)
		json_object_set_new(j, "public_key_pem", json_string(pem));
	free(pem);
	if (v->destroyed_at) {
		sg_time_format(v->destroyed_at, ts);
		json_object_set_new(j, "destroyed_at", json_string(ts));
	}
	if (v->cert_chain_pem)
		json_object_set_new(j, "certificate_chain_pem", json_string(v->cert_chain_pem));
	return j;
}

json_t *
api_key_json(api_req *req, const sg_key *k)
{
	sg_store *s = req->svc->store;
	char cts[32], uts[32];
	sg_key_version *vs = NULL;
	size_t n = 0;
	sg_time_format(k->created_at, cts);
	sg_time_format(k->updated_at, uts);
	json_t *versions = json_array();
	if (s->ops->key_version_list(s, req->tenant.id, k->id, &vs, &n) == SG_OK) {
		for (size_t i = 0; i < n; i++)
			json_array_append_new(versions, version_json(&vs[i]));
		sg_key_version_list_free(vs, n);
	}
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:o,s:s,s:s}",
	    "id", k->id, "alias", k->alias, "algorithm", sg_key_alg_name(k->alg),
	    "storage", k->storage, "type", k->type, "status", k->status,
	    "current_version", k->current_version,
	    "default_signature_algorithm", sg_scheme_name(sg_scheme_default(k->alg), k->alg),
	    "versions", versions, "created_at", cts, "updated_at", uts);
}

/* Load the caller's key by id or alias; answers 404 and returns non-zero if absent. */
static int
load_key(api_req *req, api_resp *resp, const char *id_or_alias, sg_key *k)
{
	sg_problem problem;
	sg_caller caller;
	if (sg_svc_key_get(req->svc, api_caller(req, &caller), id_or_alias, k, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return -1;
	}
	return 0;
}

void
api_keys_create(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "alias", "algorithm", "storage", "type", "status", NULL };
	static const char *const storages[] = { "DISK", "HSM", NULL };
	static const char *const types[] = { "PRODUCTION", "TEST", NULL };
	const char *alias = NULL, *alg = NULL, *storage = "DISK", *type = "PRODUCTION", *status = "ONLINE";
	sg_key_create in;
	sg_key k;
	sg_problem problem;
	sg_caller caller;

	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "alias", 1, 128, &alias) ||
	    api_field_str(req, resp, body, "algorithm", 1, 64, &alg) ||
	    api_field_str(req, resp, body, "storage", 0, 16, &storage) ||
	    api_field_str(req, resp, body, "type", 0, 16, &type) ||
	    api_field_str(req, resp, body, "status", 0, 16, &status))
		goto out;
	if (!api_valid_name(alias)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "alias must be 1-128 characters of letters, digits, '.', '_' or '-'");
		goto out;
	}
	in = (sg_key_create){ alias, sg_key_alg_from_name(alg), storage, type, sg_key_status_from_name(status) };
	if (in.alg == SG_KEY_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_ALGORITHM,
		    "unknown algorithm '%.64s' (RSA-2048, RSA-3072, RSA-4096, EC-P256, EC-P384, EC-P521, "
		    "Ed25519, ML-DSA-44, ML-DSA-65, ML-DSA-87, MLDSA65-ECDSA-P256)", alg);
		goto out;
	}
	if (!is_one_of(storage, storages) || !is_one_of(type, types) || in.status == SG_KEY_STATUS_NONE) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "storage must be DISK or HSM, type PRODUCTION or TEST, status ONLINE, OFFLINE or DISABLED");
		goto out;
	}
	if (sg_svc_key_create(req->svc, api_caller(req, &caller), &in, &k, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	snprintf(resp->location, sizeof(resp->location), "/v1/keys/%s", k.id);
	api_json(resp, 201, api_key_json(req, &k));
out:
	json_decref(body);
}

void
api_keys_list(api_req *req, api_resp *resp)
{
	sg_key *list = NULL;
	size_t n = 0;
	sg_problem problem;
	sg_caller caller;
	if (sg_svc_key_list(req->svc, api_caller(req, &caller), &list, &n, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, api_key_json(req, &list[i]));
	free(list);
	api_json(resp, 200, json_pack("{s:o}", "keys", a));
}

void
api_keys_get(api_req *req, api_resp *resp)
{
	sg_key k;
	if (load_key(req, resp, req->params[0], &k) == 0)
		api_json(resp, 200, api_key_json(req, &k));
}

void
api_keys_patch(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "status", NULL };
	const char *status = NULL;
	sg_key_status st;
	sg_key k;
	sg_problem problem;
	sg_caller caller;
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "status", 1, 16, &status))
		goto out;
	if ((st = sg_key_status_from_name(status)) == SG_KEY_STATUS_NONE) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "status must be ONLINE, OFFLINE or DISABLED");
		goto out;
	}
	if (sg_svc_key_set_status(req->svc, api_caller(req, &caller), req->params[0], st, &k, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	api_json(resp, 200, api_key_json(req, &k));
out:
	json_decref(body);
}

void
api_keys_rotate(api_req *req, api_resp *resp)
{
	sg_key k;
	sg_problem problem;
	sg_caller caller;

	if (sg_svc_key_rotate(req->svc, api_caller(req, &caller), req->params[0], &k, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	api_json(resp, 200, api_key_json(req, &k));
}

void
api_keys_destroy_version(api_req *req, api_resp *resp)
{
	sg_key_version v;
	int64_t version;
	sg_problem problem;
	sg_caller caller;

	if (sg_parse_int64(req->params[1], 1, 1000000, &version) != SG_OK) {
		sg_key k;
		/* An unknown key is 404 before a malformed version is 400. */
		if (sg_svc_key_get(req->svc, api_caller(req, &caller), req->params[0], &k, &problem) != SG_OK)
			api_problem(req, resp, &problem);
		else
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "version must be a positive integer");
		return;
	}
	if (sg_svc_key_destroy_version(req->svc, api_caller(req, &caller), req->params[0], (int)version, &v,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	api_json(resp, 200, version_json(&v));
	sg_key_version_clear(&v);
}

void
api_keys_public_key(api_req *req, api_resp *resp)
{
	sg_problem problem;
	sg_caller caller;
	sg_key k;
	sg_key_version v;
	int64_t version;
	char *pem = NULL;
	int r;

	memset(&v, 0, sizeof(v));
	if (load_key(req, resp, req->params[0], &k) != 0)
		return;
	version = k.current_version;
	const char *q = api_query(req, "version");
	if (q != NULL && sg_parse_int64(q, 1, 1000000, &version) != SG_OK) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "version must be a positive integer");
		return;
	}
	if (sg_svc_key_version_get(req->svc, api_caller(req, &caller), &k, (int)version, &v, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	if ((r = sg_spki_to_pem(v.spki, v.spki_len, &pem)) != SG_OK) {
		api_error(req, resp, r, "cannot encode public key");
		goto out;
	}
	const char *accept = api_header(req, "Accept");
	if (accept != NULL && (strstr(accept, "application/x-pem-file") || strstr(accept, "text/plain"))) {
		api_text(resp, 200, "application/x-pem-file", pem);
	} else {
		json_t *j = json_pack("{s:s,s:s,s:i,s:s,s:s}", "key_id", k.id, "alias", k.alias,
		    "version", v.version, "algorithm", sg_key_alg_name(k.alg), "public_key_pem", pem);
		api_b64_set(j, "public_key_der", v.spki, v.spki_len);
		if (v.cert_chain_pem)
			json_object_set_new(j, "certificate_chain_pem", json_string(v.cert_chain_pem));
		api_json(resp, 200, j);
	}
out:
	free(pem);
	sg_key_version_clear(&v);
}
