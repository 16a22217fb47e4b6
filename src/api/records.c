/*
 * records.c - signature records and signing requests as the API shows them.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"

static json_t *
metadata_json(const char *text)
{
	json_t *m = text ? json_loads(text, 0, NULL) : NULL;
	return m ? m : json_object();
}

json_t *
api_signature_response(const sg_signature *s, const char *status)
{
	char ts[32];
	sg_time_format(s->created_at, ts);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s}", "request_id", s->request_id,
	    "signature_id", s->id, "status", status, "key_id", s->key_id, "key_version", s->key_version,
	    "signature_algorithm", s->sig_scheme, "hash_algorithm", s->hash_alg, "created_at", ts);
	if (s->sig_format[0])
		json_object_set_new(j, "signature_format", json_string(s->sig_format));
	api_b64_set(j, "signature", s->signature, s->signature_len);
	if (s->timestamp_token)
		api_b64_set(j, "timestamp_token", s->timestamp_token, s->timestamp_token_len);
	return j;
}

json_t *
api_signature_json(const sg_signature *s)
{
	char ts[32];
	sg_time_format(s->created_at, ts);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:o,s:s,s:s,s:s,s:s}", "id", s->id,
	    "request_id", s->request_id, "tenant", s->tenant_id, "key_id", s->key_id,
	    "key_version", s->key_version, "hash_algorithm", s->hash_alg,
	    "signature_algorithm", s->sig_scheme, "metadata", metadata_json(s->metadata_json),
	    "created_by", s->created_by, "client_ip", s->client_ip, "client_type", s->client_type,
	    "created_at", ts);
	if (s->sig_format[0])
		json_object_set_new(j, "signature_format", json_string(s->sig_format));
	api_b64_set(j, "digest", s->digest, s->digest_len);
	api_b64_set(j, "signature", s->signature, s->signature_len);
	if (s->timestamp_token)
		api_b64_set(j, "timestamp_token", s->timestamp_token, s->timestamp_token_len);
	return j;
}

json_t *
api_request_json(const sg_request *r, const sg_signature *sig)
{
	char cts[32], uts[32];
	sg_time_format(r->created_at, cts);
	sg_time_format(r->updated_at, uts);
	json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:o,s:s,s:s,s:s,s:i}", "id", r->id,
	    "status", r->status, "key_id", r->key_id, "key_version", r->key_version,
	    "hash_algorithm", r->hash_alg, "signature_algorithm", r->sig_scheme,
	    "metadata", metadata_json(r->metadata_json), "submitted_by", r->principal_id,
	    "created_at", cts, "updated_at", uts, "attempts", r->attempts);
	api_b64_set(j, "digest", r->digest, r->digest_len);
	if (r->policy[0])
		json_object_set_new(j, "policy", json_string(r->policy));
	if (r->original_request_id[0])
		json_object_set_new(j, "original_request_id", json_string(r->original_request_id));
	if (r->error)
		json_object_set_new(j, "error", json_string(r->error));
	if (r->description[0])
		json_object_set_new(j, "description", json_string(r->description));
	if (r->approvals_required > 0)
		json_object_set_new(j, "approvals_required", json_integer(r->approvals_required));
	if (r->signature_id[0])
		json_object_set_new(j, "signature_id", json_string(r->signature_id));
	if (sig != NULL) {
		api_b64_set(j, "signature", sig->signature, sig->signature_len);
		if (sig->sig_format[0])
			json_object_set_new(j, "signature_format", json_string(sig->sig_format));
		if (sig->timestamp_token)
			api_b64_set(j, "timestamp_token", sig->timestamp_token, sig->timestamp_token_len);
	}
	return j;
}

void
api_signatures_get(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_signature sig;
	int r = s->ops->signature_get(s, req->tenant.id, req->params[0], &sig);
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such signature" : "cannot load signature");
		return;
	}
	api_json(resp, 200, api_signature_json(&sig));
	sg_signature_clear(&sig);
}

void
api_requests_get(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_request rq;
	sg_signature sig;
	int have_sig = 0;
	int r = s->ops->request_get(s, req->tenant.id, req->params[0], &rq);
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such request" : "cannot load request");
		return;
	}
	if (rq.signature_id[0] && s->ops->signature_get(s, req->tenant.id, rq.signature_id, &sig) == SG_OK)
		have_sig = 1;
	api_json(resp, 200, api_request_json(&rq, have_sig ? &sig : NULL));
	if (have_sig)
		sg_signature_clear(&sig);
	sg_request_clear(&rq);
}
