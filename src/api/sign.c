/*
 * sign.c - POST /v1/sign and POST /v1/verify: the heart of Signet.
 *
 * A submission (from /v1/sign, or a resubmit in requests.c) goes through
 * api_submit(): resolve the policy if one is named, validate everything the
 * client sent and what the policy demands (nothing touches a key or the
 * store until the whole request is known to be good), then one of three
 * ways:
 *   fast:     sign now (sg_signing_execute) and hand the request and its
 *             record to the group committer; 200 once durable;
 *   queued:   async:true, or a policy without fast signing: stored QUEUED,
 *             a worker signs it (src/queue); 202;
 *   approval: a policy with approvals_required > 0: stored
 *             PENDING_APPROVAL; 202.
 * With an Idempotency-Key, a repeat of the same body by the same principal
 * gets the first outcome; another body under the same key gets 409.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_b64.h"
#include "sg_log.h"
#include "sg_queue.h"
#include "sg_secret.h"

/* What a sign or verify request says, validated and resolved. */
typedef struct sign_input {
	sg_key key;
	sg_key_version version;
	sg_sign_params params;
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	uint8_t context[255];
} sign_input;

/*
 * Validate the fields sign and verify share and load the key version.  With
 * for_signing the key must be ONLINE, the version not destroyed and legacy
 * hashes allowed explicitly; for verification any version that ever existed
 * will do.  Answers the error and returns non-zero on any problem.
 */
static int
resolve(api_req *req, api_resp *resp, const api_sign_fields *f, int for_signing,
    int allow_legacy, sign_input *in)
{
	sg_store *s = req->svc->store;
	const char *errmsg = NULL;
	int64_t version = f->key_version;
	int r;

	memset(in, 0, sizeof(*in));
	in->params.pss_salt_len = (int)f->pss_salt_length;
	in->params.hash = sg_hash_from_name(f->hash_algorithm);
	if (in->params.hash == SG_HASH_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_HASH, "unknown hash_algorithm '%.32s' (SHA-256, "
		    "SHA-384, SHA-512, SHA3-256, SHA3-384, SHA3-512)", f->hash_algorithm);
		return -1;
	}
	if (!allow_legacy && sg_hash_is_legacy(in->params.hash)) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_HASH,
		    "%s is refused: legacy hashes need a signing policy that allows them",
		    sg_hash_name(in->params.hash));
		return -1;
	}
	if ((r = sg_digest_decode(f->digest, in->params.hash, in->digest, &in->digest_len, &errmsg)) != SG_OK) {
		api_error(req, resp, r, "%s", errmsg ? errmsg : "digest does not decode");
		return -1;
	}
	if (f->signature_algorithm != NULL &&
	    (in->params.scheme = sg_scheme_from_name(f->signature_algorithm)) == SG_SCHEME_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_ALGORITHM, "unknown signature_algorithm '%.64s'",
		    f->signature_algorithm);
		return -1;
	}
	int fmt = sg_format_from_name(f->signature_format);
	if (fmt < 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "signature_format must be DER or P1363");
		return -1;
	}
	in->params.format = (sg_sig_format)fmt;
	if (f->context != NULL) {
		uint8_t *c = NULL;
		size_t clen = 0;
		if (sg_b64_decode(f->context, strlen(f->context), &c, &clen) != SG_OK || clen > sizeof(in->context)) {
			free(c);
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "context must be base64 of at most 255 bytes");
			return -1;
		}
		memcpy(in->context, c, clen);
		free(c);
		in->params.context = in->context;
		in->params.context_len = clen;
	}
	if ((r = s->ops->key_get(s, req->tenant.id, f->key, &in->key)) != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no key '%.128s'" : "cannot load key '%.128s'", f->key);
		return -1;
	}
	if (for_signing && strcmp(in->key.status, "ONLINE") != 0) {
		api_error(req, resp, SG_ERR_KEY_NOT_ACTIVE, "key '%s' is %s", in->key.alias, in->key.status);
		return -1;
	}
	sg_key_alg pinned = f->signature_algorithm ? sg_scheme_name_key_alg(f->signature_algorithm) : SG_KEY_NONE;
	if (pinned != SG_KEY_NONE && pinned != in->key.alg)
		r = SG_ERR_ALGORITHM_MISMATCH;
	else
		r = sg_sign_params_check(in->key.alg, &in->params);
	if (r != SG_OK) {
		api_error(req, resp, r, "%s does not fit key '%s' (%s); it signs with %s",
		    f->signature_algorithm ? f->signature_algorithm : "the request", in->key.alias,
		    sg_key_alg_name(in->key.alg), sg_scheme_name(sg_scheme_default(in->key.alg), in->key.alg));
		return -1;
	}
	if (version == 0)
		version = in->key.current_version;
	if ((r = s->ops->key_version_get(s, in->key.id, (int)version, &in->version)) != SG_OK) {
		api_error(req, resp, r, "key '%s' has no version %lld", in->key.alias, (long long)version);
		return -1;
	}
	if (for_signing && strcmp(in->version.state, "ACTIVE") != 0) {
		api_error(req, resp, SG_ERR_KEY_NOT_ACTIVE, "version %d of key '%s' is %s",
		    in->version.version, in->key.alias, in->version.state);
		return -1;
	}
	/* SPEC §1: the newest version signs; older ones remain for verification only. */
	if (for_signing && in->version.version != in->key.current_version) {
		api_error(req, resp, SG_ERR_KEY_NOT_ACTIVE,
		    "version %d of key '%s' is not the current version (%d); older versions only verify",
		    in->version.version, in->key.alias, in->key.current_version);
		return -1;
	}
	return 0;
}

/* Answer with a request's outcome so far: 200 and the signature, or 202. */
static void
answer_existing(api_req *req, api_resp *resp, const sg_request *rq)
{
	sg_store *s = req->svc->store;
	sg_signature sig;
	if (strcmp(rq->status, "SIGNED") == 0 &&
	    s->ops->signature_get(s, rq->tenant_id, rq->signature_id, &sig) == SG_OK) {
		api_json(resp, 200, api_signature_response(&sig, rq->status));
		sg_signature_clear(&sig);
		return;
	}
	api_json(resp, 202, json_pack("{s:s,s:s}", "request_id", rq->id, "status", rq->status));
}

/* The idempotent repeat: same body -> first outcome; other body -> 409. Returns 1 if answered. */
static int
idempotent_repeat(api_req *req, api_resp *resp, const api_sign_fields *f)
{
	sg_store *s = req->svc->store;
	sg_request prior;
	if (f->idempotency_key == NULL)
		return 0;
	if (s->ops->request_find_idempotent(s, req->principal.id, f->idempotency_key, &prior) != SG_OK)
		return 0;
	if (!sg_ct_equal(prior.body_hash, f->body_hash, sizeof(prior.body_hash)))
		api_error(req, resp, SG_ERR_CONFLICT,
		    "Idempotency-Key was already used with a different request body");
	else
		answer_existing(req, resp, &prior);
	sg_request_clear(&prior);
	return 1;
}

void
api_submit(api_req *req, api_resp *resp, const api_sign_fields *f0)
{
	sg_store *s = req->svc->store;
	api_sign_fields f = *f0;
	sg_policy pol;
	int has_policy = 0, r;
	sign_input in;
	sg_request rq;
	sg_signature sig;
	sg_audit_entry audit;
	const char *errmsg = NULL;
	char *metadata_text = NULL;

	memset(&pol, 0, sizeof(pol));
	memset(&in, 0, sizeof(in));
	memset(&rq, 0, sizeof(rq));
	memset(&sig, 0, sizeof(sig));
	if (idempotent_repeat(req, resp, &f))
		return;
	if ((f.key == NULL) == (f.policy == NULL)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "give exactly one of 'key' and 'policy'");
		return;
	}
	if (f.policy != NULL) {
		char project[SG_NAME_MAX + 1];
		const char *slash = strchr(f.policy, '/');
		if (slash == NULL || (size_t)(slash - f.policy) >= sizeof(project) || strchr(slash + 1, '/')) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "policy must be 'project/slug'");
			return;
		}
		memcpy(project, f.policy, (size_t)(slash - f.policy));
		project[slash - f.policy] = 0;
		if ((r = s->ops->policy_get(s, req->tenant.id, project, slash + 1, &pol)) != SG_OK) {
			api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no policy %.200s" : "cannot load policy %.200s",
			    f.policy);
			return;
		}
		has_policy = 1;
		f.key = pol.key_id;
		f.timestamp = f.timestamp || pol.timestamp;
	}
	if (resolve(req, resp, &f, 1, has_policy && pol.allow_legacy_hashes, &in))
		goto out;
	const char *hash_name = sg_hash_name(in.params.hash);
	const char *scheme_name = sg_scheme_name(in.params.scheme, in.key.alg);
	if (has_policy && api_policy_check(req, resp, &pol, hash_name, scheme_name, f.metadata))
		goto out;
	if (f.timestamp && req->svc->tsa == NULL) {
		api_error(req, resp, SG_ERR_UNAVAILABLE, "the time-stamp authority is not available");
		goto out;
	}
	if (f.metadata != NULL && (metadata_text = json_dumps(f.metadata, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		api_error(req, resp, SG_ERR_NOMEM, "metadata");
		goto out;
	}

	int64_t now = sg_now_ms();
	if (sg_uuid(rq.id) != SG_OK) {
		api_error(req, resp, SG_ERR_INTERNAL, "uuid");
		goto out;
	}
	const char *format_name = sg_format_name(in.params.format);
	sg_strlcpy(rq.tenant_id, req->tenant.id, sizeof(rq.tenant_id));
	sg_strlcpy(rq.principal_id, req->principal.id, sizeof(rq.principal_id));
	sg_strlcpy(rq.key_id, in.key.id, sizeof(rq.key_id));
	/* An explicit version is kept; otherwise the current one when the request is signed. */
	rq.key_version = f.key_version > 0 ? in.version.version : 0;
	if (has_policy)
		snprintf(rq.policy, sizeof(rq.policy), "%s/%s", pol.project, pol.slug);
	sg_strlcpy(rq.hash_alg, hash_name, sizeof(rq.hash_alg));
	sg_strlcpy(rq.sig_scheme, scheme_name, sizeof(rq.sig_scheme));
	sg_strlcpy(rq.sig_format, format_name ? format_name : "", sizeof(rq.sig_format));
	rq.pss_salt_len = in.params.pss_salt_len;
	memcpy(rq.digest, in.digest, in.digest_len);
	rq.digest_len = in.digest_len;
	memcpy(rq.context, in.context, in.params.context_len);
	rq.context_len = in.params.context_len;
	rq.timestamp = f.timestamp;
	rq.metadata_json = metadata_text;
	sg_strlcpy(rq.client_ip, req->client_ip, sizeof(rq.client_ip));
	sg_strlcpy(rq.client_type, req->user_agent, sizeof(rq.client_type));
	if (f.original_request_id)
		sg_strlcpy(rq.original_request_id, f.original_request_id, sizeof(rq.original_request_id));
	if (f.description)
		sg_strlcpy(rq.description, f.description, sizeof(rq.description));
	if (f.idempotency_key)
		sg_strlcpy(rq.idempotency_key, f.idempotency_key, sizeof(rq.idempotency_key));
	memcpy(rq.body_hash, f.body_hash, sizeof(rq.body_hash));
	rq.created_at = rq.updated_at = now;
	rq.approvals_required = has_policy ? pol.approvals_required : 0;

	int fast = !f.async && rq.approvals_required == 0 && (!has_policy || pol.allow_fast);
	if (!fast) {
		if (rq.approvals_required > 0) {
			sg_strlcpy(rq.status, "PENDING_APPROVAL", sizeof(rq.status));
			if (pol.approval_timeout_seconds > 0)
				rq.approval_deadline = now + pol.approval_timeout_seconds * 1000;
		} else {
			sg_strlcpy(rq.status, "QUEUED", sizeof(rq.status));
			rq.next_attempt_at = now;
		}
		api_audit_init(req, &audit, "request.submitted", rq.id);
		/* Through the group committer too: async submissions share fsyncs like signatures. */
		r = sg_commit_signature(req->svc->committer, &rq, NULL, &audit);
		if (r == SG_ERR_CONFLICT && f.idempotency_key && idempotent_repeat(req, resp, &f))
			goto out;
		if (r != SG_OK) {
			api_error(req, resp, r, "cannot store the request");
			goto out;
		}
		if (strcmp(rq.status, "QUEUED") == 0)
			sg_queue_notify(req->svc->queue);
		snprintf(resp->location, sizeof(resp->location), "/v1/requests/%s", rq.id);
		api_json(resp, 202, json_pack("{s:s,s:s}", "request_id", rq.id, "status", rq.status));
		goto out;
	}

	if ((r = sg_signing_execute(req->svc, &rq, &in.key, &in.version, &sig, &errmsg)) != SG_OK) {
		api_error(req, resp, r, "%s", errmsg ? errmsg : "signing failed");
		goto out;
	}
	sg_strlcpy(rq.status, "SIGNED", sizeof(rq.status));
	sg_strlcpy(rq.signature_id, sig.id, sizeof(rq.signature_id));
	rq.key_version = sig.key_version;
	rq.attempts = 1;
	api_audit_init(req, &audit, "request.signed", rq.id);
	/* Durable before the client hears of it: a signature without a record must not exist. */
	r = sg_commit_signature(req->svc->committer, &rq, &sig, &audit);
	if (r == SG_ERR_CONFLICT && f.idempotency_key && idempotent_repeat(req, resp, &f))
		goto out;  /* a concurrent twin won; this signature is dropped unrecorded */
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot record the signature");
		goto out;
	}
	api_json(resp, 200, api_signature_response(&sig, rq.status));
out:
	sig.metadata_json = NULL;  /* borrowed from rq */
	sg_signature_clear(&sig);
	free(metadata_text);
	sg_key_version_clear(&in.version);
	sg_policy_clear(&pol);
}

/* Read the sign/verify fields from a JSON body; answers 400 and returns non-zero when invalid. */
static int
read_fields(api_req *req, api_resp *resp, json_t *body, api_sign_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->pss_salt_length = -1;
	if (api_field_str(req, resp, body, "key", 0, 128, &f->key) ||
	    api_field_int(req, resp, body, "key_version", 0, 1, 1000000, &f->key_version) ||
	    api_field_str(req, resp, body, "digest", 1, 1024, &f->digest) ||
	    api_field_str(req, resp, body, "hash_algorithm", 1, 32, &f->hash_algorithm) ||
	    api_field_str(req, resp, body, "signature_algorithm", 0, 64, &f->signature_algorithm) ||
	    api_field_str(req, resp, body, "signature_format", 0, 16, &f->signature_format) ||
	    api_field_str(req, resp, body, "context", 0, 1024, &f->context) ||
	    api_field_int(req, resp, body, "pss_salt_length", 0, 0, 4096, &f->pss_salt_length))
		return -1;
	return 0;
}

void
api_sign(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "key", "policy", "key_version", "digest", "hash_algorithm",
		"signature_algorithm", "signature_format", "context", "pss_salt_length", "metadata",
		"timestamp", "async", NULL };
	api_sign_fields f;
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) || read_fields(req, resp, body, &f) ||
	    api_field_str(req, resp, body, "policy", 0, 2 * SG_NAME_MAX, &f.policy) ||
	    api_field_bool(req, resp, body, "timestamp", &f.timestamp) ||
	    api_field_bool(req, resp, body, "async", &f.async))
		goto out;
	json_t *m = json_object_get(body, "metadata");
	if (m != NULL && !json_is_null(m) && !json_is_object(m)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field 'metadata' must be a JSON object");
		goto out;
	}
	f.metadata = json_is_object(m) ? m : NULL;
	f.idempotency_key = api_header(req, "Idempotency-Key");
	if (f.idempotency_key != NULL && (strlen(f.idempotency_key) == 0 || strlen(f.idempotency_key) > 255)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "Idempotency-Key must be 1 to 255 characters");
		goto out;
	}
	if (f.idempotency_key != NULL) {
		/* Same JSON, however it is spaced or ordered, is the same request. */
		char *canonical = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
		if (canonical == NULL) {
			api_error(req, resp, SG_ERR_NOMEM, "body");
			goto out;
		}
		sg_sha256(canonical, strlen(canonical), f.body_hash);
		free(canonical);
	}
	api_submit(req, resp, &f);
out:
	json_decref(body);
}

void
api_verify(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "key", "key_version", "digest", "hash_algorithm",
		"signature_algorithm", "signature_format", "context", "pss_salt_length", "signature", NULL };
	api_sign_fields f;
	sign_input in;
	const char *sigtext = NULL;
	uint8_t *sigbytes = NULL;
	size_t siglen = 0;

	memset(&in, 0, sizeof(in));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) || read_fields(req, resp, body, &f) ||
	    api_field_str(req, resp, body, "key", 1, 128, &f.key) ||
	    api_field_str(req, resp, body, "signature", 1, 64 * 1024, &sigtext) ||
	    resolve(req, resp, &f, 0, 0, &in))
		goto out;
	if (sg_b64_decode(sigtext, strlen(sigtext), &sigbytes, &siglen) != SG_OK) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "signature must be base64");
		goto out;
	}
	int r = sg_verify_digest(in.key.alg, in.version.spki, in.version.spki_len, &in.params,
	    in.digest, in.digest_len, sigbytes, siglen);
	if (r != SG_OK && r != SG_ERR_BAD_SIGNATURE && r != SG_ERR_BAD_ENCODING &&
	    r != SG_ERR_CRYPTO) {
		api_error(req, resp, r, "cannot verify");
		goto out;
	}
	json_t *j = json_pack("{s:b,s:s,s:i,s:s,s:s}", "valid", r == SG_OK, "key_id", in.key.id,
	    "key_version", in.version.version, "signature_algorithm",
	    sg_scheme_name(in.params.scheme, in.key.alg), "hash_algorithm", sg_hash_name(in.params.hash));
	api_json(resp, 200, j);
out:
	free(sigbytes);
	sg_key_version_clear(&in.version);
	json_decref(body);
}
