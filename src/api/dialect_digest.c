/*
 * dialect_digest.c - the digest API (SPEC §4 item 1, readings C1-C9): a
 * client hashes locally and posts {digest, algorithm, metadata, async,
 * requireApproval, keyId} to /api/v1/sign/digest, polls
 * /api/v1/sign/requests/{requestId}, and approvers decide through
 * /api/v1/approvals/{id}.
 *
 * This file only translates.  The body becomes an sg_submit (the key from
 * keyId, else the principal's default policy), the service decides whether
 * the request is signed now, queued or held for approval, and the outcome
 * is rendered in this dialect's camelCase shape with its status words
 * (C7: native FAILED and DEAD_LETTER are both FAILED).  Votes go through
 * sg_svc_vote, so the native approval rules hold unchanged.  Errors keep
 * the native shape and codes (C9); the requestId is the native request id
 * (C2), so every request made here is also visible under /v1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

/* C7: the six status words of the digest API over the service's enum. */
static const char *
status_word(sg_request_status s)
{
	switch (s) {
	case SG_RQ_PENDING_APPROVAL: return "PENDING_APPROVAL";
	case SG_RQ_QUEUED: return "QUEUED";
	case SG_RQ_PROCESSING: return "PROCESSING";
	case SG_RQ_SIGNED: return "SIGNED";
	case SG_RQ_REJECTED: return "REJECTED";
	case SG_RQ_FAILED:
	case SG_RQ_DEAD_LETTER:
	case SG_RQ_NONE:
		break;
	}
	return "FAILED";
}

/* C3: the document's lower-case names; anything else is refused. */
static sg_hash_alg
hash_from_word(const char *w)
{
	if (strcmp(w, "sha256") == 0)
		return SG_HASH_SHA256;
	if (strcmp(w, "sha384") == 0)
		return SG_HASH_SHA384;
	if (strcmp(w, "sha512") == 0)
		return SG_HASH_SHA512;
	return SG_HASH_NONE;
}

/* Signature (and C8 timestamp token) of a signed request into j. */
static void
set_signature(json_t *j, const sg_signature *sig)
{
	api_b64_set(j, "signature", sig->signature, sig->signature_len);
	if (sig->timestamp_token != NULL)
		api_b64_set(j, "timestamp", sig->timestamp_token, sig->timestamp_token_len);
}

/* C1: 200 {requestId, status: "SIGNED", signature[, timestamp]} or 202 {requestId}. */
static void
render_outcome(api_req *req, api_resp *resp, const sg_outcome *o)
{
	(void)req;
	json_t *j = json_pack("{s:s}", "requestId", o->request.id);
	if (o->has_signature) {
		json_object_set_new(j, "status", json_string(status_word(SG_RQ_SIGNED)));
		set_signature(j, &o->signature);
		api_json(resp, 200, j);
		return;
	}
	snprintf(resp->location, sizeof(resp->location), "/api/v1/sign/requests/%s", o->request.id);
	api_json(resp, 202, j);
}

static void
sign_digest(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "digest", "algorithm", "metadata", "async",
		"requireApproval", "keyId", NULL };
	const char *digest = NULL, *algorithm = "sha256", *errmsg = NULL;
	uint8_t bytes[SG_MAX_DIGEST];
	char *metadata = NULL;
	sg_submit in;
	sg_outcome out;
	sg_problem problem;
	sg_caller caller;
	int r;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.pss_salt_len = -1;
	/* C3: JSON whatever the Content-Type says (the async example sends none). */
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "digest", 1, 1024, &digest) ||
	    api_field_str(req, resp, body, "algorithm", 0, 32, &algorithm) ||
	    api_field_str(req, resp, body, "keyId", 0, 128, &in.key) ||
	    api_field_bool(req, resp, body, "async", &in.async) ||
	    api_field_bool(req, resp, body, "requireApproval", &in.require_approval) ||
	    api_metadata_text(req, resp, body, "metadata", &metadata) ||
	    api_idempotency_key(req, resp, body, &in))
		goto out;
	if ((in.hash = hash_from_word(algorithm)) == SG_HASH_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_HASH, "unknown algorithm '%.32s' (sha256, sha384, "
		    "sha512)", algorithm);
		goto out;
	}
	if ((r = sg_digest_decode(digest, in.hash, bytes, &in.digest_len, &errmsg)) != SG_OK) {
		api_error(req, resp, r, "%s", errmsg ? errmsg : "digest does not decode");
		goto out;
	}
	in.digest = bytes;
	/* C4: keyId, else the principal's default policy, else nothing to sign with. */
	if (in.key == NULL) {
		if (req->principal.default_policy[0] == 0) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "give 'keyId', or set a default_policy "
			    "on this principal (PATCH /v1/principals/{id})");
			goto out;
		}
		in.policy = req->principal.default_policy;
	}
	in.metadata_json = metadata;
	if (sg_svc_submit(req->svc, api_caller(req, &caller), &in, &out, &problem) != SG_OK)
		api_problem(req, resp, &problem);
	else
		render_outcome(req, resp, &out);
	sg_outcome_clear(&out);
out:
	free(metadata);
	json_decref(body);
}

static void
get_request(api_req *req, api_resp *resp)
{
	sg_request rq;
	sg_signature sig;
	sg_problem problem;
	sg_caller caller;
	int has_sig = 0;

	if (sg_svc_request_get(req->svc, api_caller(req, &caller), req->params[0], &rq, &sig, &has_sig,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	sg_request_status st = sg_request_status_of(&rq);
	json_t *j = json_pack("{s:s,s:s}", "requestId", rq.id, "status", status_word(st));
	if (has_sig)
		set_signature(j, &sig);
	if ((st == SG_RQ_FAILED || st == SG_RQ_DEAD_LETTER || st == SG_RQ_REJECTED) && rq.error != NULL)
		json_object_set_new(j, "error", json_string(rq.error));
	api_json(resp, 200, j);
	if (has_sig)
		sg_signature_clear(&sig);
	sg_request_clear(&rq);
}

/* C6: {requestId, status, approvalsRequired, approvals: [{approver, decision, comment, at}]}. */
static void
render_approval(api_req *req, api_resp *resp, const sg_request *rq)
{
	sg_approval *votes = NULL;
	size_t n = 0;
	int approved = 0;
	sg_problem problem;
	sg_caller caller;

	if (sg_svc_votes(req->svc, api_caller(req, &caller), rq->id, &votes, &n, &approved,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char at[32];
		sg_time_format(votes[i].created_at, at);
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "approver", votes[i].approver_id,
		    "decision", votes[i].decision, "comment", votes[i].comment, "at", at));
	}
	free(votes);
	api_json(resp, 200, json_pack("{s:s,s:s,s:i,s:o}", "requestId", rq->id,
	    "status", status_word(sg_request_status_of(rq)), "approvalsRequired", rq->approvals_required,
	    "approvals", a));
}

static void
get_approval(api_req *req, api_resp *resp)
{
	sg_request rq;
	sg_problem problem;
	sg_caller caller;
	int has_sig = 0;

	if (sg_svc_request_get(req->svc, api_caller(req, &caller), req->params[0], &rq, NULL, &has_sig,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	render_approval(req, resp, &rq);
	sg_request_clear(&rq);
}

/* C5: {"comment"}, required to reject; the service applies the native voting rules. */
static void
decide(api_req *req, api_resp *resp, int approve)
{
	sg_request after;
	if (api_vote(req, resp, approve, &after) != 0)
		return;
	render_approval(req, resp, &after);
	sg_request_clear(&after);
}

static void
approve(api_req *req, api_resp *resp)
{
	decide(req, resp, 1);
}

static void
reject(api_req *req, api_resp *resp)
{
	decide(req, resp, 0);
}

#define R_READ_REQUESTS (SG_ROLE_SIGNER | SG_ROLE_AUDITOR | SG_ROLE_ADMIN | SG_ROLE_APPROVER)

static const api_route_def routes[] = {
	{ "POST", "/api/v1/sign/digest", sign_digest, SG_ROLE_SIGNER },
	{ "GET", "/api/v1/sign/requests/*", get_request, R_READ_REQUESTS },
	{ "GET", "/api/v1/approvals/*", get_approval, R_READ_REQUESTS },
	{ "POST", "/api/v1/approvals/*/approve", approve, API_ANY_ROLE },
	{ "POST", "/api/v1/approvals/*/reject", reject, API_ANY_ROLE },
};

static const char *const prefixes[] = { "/api/v1/sign/", "/api/v1/approvals/", NULL };

const api_dialect api_dialect_digest = {
	.name = "digest",
	.prefixes = prefixes,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.render_error = api_native_error,  /* C9 */
};
