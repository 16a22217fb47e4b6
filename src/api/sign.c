/*
 * sign.c - POST /v1/sign and POST /v1/verify: the heart of Signet.
 *
 * A synchronous sign request goes: parse and validate everything the client
 * sent (nothing touches a key until the whole request is known to be good)
 * -> load the key and the version to use -> the keystore signs the digest
 * -> the request and its signature record are handed to the group committer
 * and are durable before the answer leaves.  No lock is held across these
 * steps: concurrent signatures only meet inside the committer's batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_b64.h"
#include "sg_log.h"
#include "sg_secret.h"

/* What a sign or verify body says, validated. */
typedef struct sign_input {
	sg_key key;
	sg_key_version version;
	sg_sign_params params;
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	uint8_t context[255];
	char *metadata_json;   /* compact, sorted keys; NULL when absent */
} sign_input;

static void
sign_input_clear(sign_input *in)
{
	sg_key_version_clear(&in->version);
	free(in->metadata_json);
	in->metadata_json = NULL;
}

/*
 * Parse the fields sign and verify share and load the key version.  With
 * for_signing the key must be ONLINE and the version not destroyed; for
 * verification any version that ever existed will do.  Answers the error and
 * returns non-zero on any problem.
 */
static int
parse_common(api_req *req, api_resp *resp, json_t *body, int for_signing, sign_input *in)
{
	sg_store *s = req->svc->store;
	const char *key = NULL, *digest = NULL, *hash = NULL, *scheme = NULL, *format = NULL, *ctx = NULL;
	const char *errmsg = NULL;
	int64_t version = 0, salt = -1;
	int r;

	memset(in, 0, sizeof(*in));
	if (api_field_str(req, resp, body, "key", 1, 128, &key) ||
	    api_field_int(req, resp, body, "key_version", 0, 1, 1000000, &version) ||
	    api_field_str(req, resp, body, "digest", 1, 1024, &digest) ||
	    api_field_str(req, resp, body, "hash_algorithm", 1, 32, &hash) ||
	    api_field_str(req, resp, body, "signature_algorithm", 0, 64, &scheme) ||
	    api_field_str(req, resp, body, "signature_format", 0, 16, &format) ||
	    api_field_str(req, resp, body, "context", 0, 1024, &ctx) ||
	    api_field_int(req, resp, body, "pss_salt_length", 0, 0, 4096, &salt))
		return -1;

	in->params.hash = sg_hash_from_name(hash);
	if (in->params.hash == SG_HASH_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_HASH, "unknown hash_algorithm '%.32s' (SHA-256, "
		    "SHA-384, SHA-512, SHA3-256, SHA3-384, SHA3-512)", hash);
		return -1;
	}
	if (for_signing && sg_hash_is_legacy(in->params.hash)) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_HASH,
		    "%s is refused: legacy hashes need a signing policy that allows them",
		    sg_hash_name(in->params.hash));
		return -1;
	}
	if ((r = sg_digest_decode(digest, in->params.hash, in->digest, &in->digest_len, &errmsg)) != SG_OK) {
		api_error(req, resp, r, "%s", errmsg ? errmsg : "digest does not decode");
		return -1;
	}
	if (scheme != NULL && (in->params.scheme = sg_scheme_from_name(scheme)) == SG_SCHEME_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_ALGORITHM, "unknown signature_algorithm '%.64s'", scheme);
		return -1;
	}
	int f = sg_format_from_name(format);
	if (f < 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "signature_format must be DER or P1363");
		return -1;
	}
	in->params.format = (sg_sig_format)f;
	in->params.pss_salt_len = (int)salt;
	if (ctx != NULL) {
		uint8_t *c = NULL;
		size_t clen = 0;
		if (sg_b64_decode(ctx, strlen(ctx), &c, &clen) != SG_OK || clen > sizeof(in->context)) {
			free(c);
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "context must be base64 of at most 255 bytes");
			return -1;
		}
		memcpy(in->context, c, clen);
		free(c);
		in->params.context = in->context;
		in->params.context_len = clen;
	}

	if ((r = s->ops->key_get(s, req->tenant.id, key, &in->key)) != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no key '%.128s'" : "cannot load key '%.128s'", key);
		return -1;
	}
	if (for_signing && strcmp(in->key.status, "ONLINE") != 0) {
		api_error(req, resp, SG_ERR_KEY_NOT_ACTIVE, "key '%s' is %s", in->key.alias, in->key.status);
		return -1;
	}
	sg_key_alg pinned = scheme ? sg_scheme_name_key_alg(scheme) : SG_KEY_NONE;
	if (pinned != SG_KEY_NONE && pinned != in->key.alg)
		r = SG_ERR_ALGORITHM_MISMATCH;
	else
		r = sg_sign_params_check(in->key.alg, &in->params);
	if (r != SG_OK) {
		api_error(req, resp, r, "%s does not fit key '%s' (%s); it signs with %s",
		    scheme ? scheme : "the request", in->key.alias, sg_key_alg_name(in->key.alg),
		    sg_scheme_name(sg_scheme_default(in->key.alg), in->key.alg));
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
	return 0;
}

static int
parse_metadata(api_req *req, api_resp *resp, json_t *body, sign_input *in)
{
	json_t *m = json_object_get(body, "metadata");
	if (m == NULL || json_is_null(m))
		return 0;
	if (!json_is_object(m)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field 'metadata' must be a JSON object");
		return -1;
	}
	if ((in->metadata_json = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		api_error(req, resp, SG_ERR_NOMEM, "metadata");
		return -1;
	}
	return 0;
}

void
api_sign(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "key", "policy", "key_version", "digest", "hash_algorithm",
		"signature_algorithm", "signature_format", "context", "pss_salt_length", "metadata",
		"timestamp", "async", NULL };
	sign_input in;
	sg_request rq;
	sg_signature sig;
	uint8_t *sigbytes = NULL;
	size_t siglen = 0;
	int want_ts = 0, want_async = 0, r;
	char vid[SG_ID_MAX + 16];

	memset(&in, 0, sizeof(in));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_bool(req, resp, body, "timestamp", &want_ts) ||
	    api_field_bool(req, resp, body, "async", &want_async))
		goto out;
	/* Said plainly rather than half-done: these arrive with the workflow and TSA work. */
	if (json_object_get(body, "policy") != NULL) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "signing policies are not available on this server version; sign with 'key'");
		goto out;
	}
	if (want_async) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "asynchronous signing is not available on this server version");
		goto out;
	}
	if (want_ts) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "timestamps are not available on this server version");
		goto out;
	}
	if (parse_common(req, resp, body, 1, &in) || parse_metadata(req, resp, body, &in))
		goto out;

	sg_keystore *ks = sg_service_keystore(req->svc, in.key.storage);
	if (ks == NULL) {
		api_error(req, resp, SG_ERR_UNAVAILABLE, "storage %s is not available", in.key.storage);
		goto out;
	}
	snprintf(vid, sizeof(vid), "%s/%d", in.key.id, in.version.version);
	sg_key_ref ref = { vid, in.key.alg, in.version.handle, in.version.handle_len };
	if ((r = sg_keystore_sign(ks, &ref, &in.params, in.digest, in.digest_len, &sigbytes, &siglen)) != SG_OK) {
		api_error(req, resp, r, "signing with key %s version %d failed", in.key.id, in.version.version);
		goto out;
	}

	int64_t now = sg_now_ms();
	memset(&rq, 0, sizeof(rq));
	memset(&sig, 0, sizeof(sig));
	if (sg_uuid(rq.id) != SG_OK || sg_uuid(sig.id) != SG_OK) {
		api_error(req, resp, SG_ERR_INTERNAL, "uuid");
		goto out;
	}
	const char *hash_name = sg_hash_name(in.params.hash);
	const char *scheme_name = sg_scheme_name(in.params.scheme, in.key.alg);
	const char *format_name = sg_format_name(in.params.format);
	sg_strlcpy(rq.tenant_id, req->tenant.id, sizeof(rq.tenant_id));
	sg_strlcpy(rq.principal_id, req->principal.id, sizeof(rq.principal_id));
	sg_strlcpy(rq.key_id, in.key.id, sizeof(rq.key_id));
	rq.key_version = in.version.version;
	sg_strlcpy(rq.hash_alg, hash_name, sizeof(rq.hash_alg));
	sg_strlcpy(rq.sig_scheme, scheme_name, sizeof(rq.sig_scheme));
	sg_strlcpy(rq.sig_format, format_name ? format_name : "", sizeof(rq.sig_format));
	rq.pss_salt_len = in.params.pss_salt_len;
	memcpy(rq.digest, in.digest, in.digest_len);
	rq.digest_len = in.digest_len;
	memcpy(rq.context, in.context, in.params.context_len);
	rq.context_len = in.params.context_len;
	rq.metadata_json = in.metadata_json;
	sg_strlcpy(rq.status, "SIGNED", sizeof(rq.status));
	sg_strlcpy(rq.signature_id, sig.id, sizeof(rq.signature_id));
	sg_strlcpy(rq.client_ip, req->client_ip, sizeof(rq.client_ip));
	sg_strlcpy(rq.client_type, req->user_agent, sizeof(rq.client_type));
	rq.attempts = 1;
	rq.created_at = rq.updated_at = now;

	sg_strlcpy(sig.request_id, rq.id, sizeof(sig.request_id));
	sg_strlcpy(sig.tenant_id, rq.tenant_id, sizeof(sig.tenant_id));
	sg_strlcpy(sig.key_id, rq.key_id, sizeof(sig.key_id));
	sig.key_version = rq.key_version;
	sg_strlcpy(sig.hash_alg, rq.hash_alg, sizeof(sig.hash_alg));
	sg_strlcpy(sig.sig_scheme, rq.sig_scheme, sizeof(sig.sig_scheme));
	sg_strlcpy(sig.sig_format, rq.sig_format, sizeof(sig.sig_format));
	memcpy(sig.digest, in.digest, in.digest_len);
	sig.digest_len = in.digest_len;
	sig.signature = sigbytes;
	sig.signature_len = siglen;
	sig.metadata_json = in.metadata_json;
	sg_strlcpy(sig.created_by, req->principal.id, sizeof(sig.created_by));
	sg_strlcpy(sig.client_ip, req->client_ip, sizeof(sig.client_ip));
	sg_strlcpy(sig.client_type, req->user_agent, sizeof(sig.client_type));
	sig.created_at = now;

	/* Durable before the client hears of it: a signature without a record must not exist. */
	if ((r = sg_commit_signature(req->svc->committer, &rq, &sig)) != SG_OK) {
		api_error(req, resp, r, "cannot record the signature");
		goto out;
	}
	api_json(resp, 200, api_signature_response(&sig, rq.status));
out:
	free(sigbytes);
	sign_input_clear(&in);
	json_decref(body);
}

void
api_verify(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "key", "key_version", "digest", "hash_algorithm",
		"signature_algorithm", "signature_format", "context", "pss_salt_length", "signature", NULL };
	sign_input in;
	const char *sigtext = NULL;
	uint8_t *sigbytes = NULL;
	size_t siglen = 0;

	memset(&in, 0, sizeof(in));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "signature", 1, 64 * 1024, &sigtext) ||
	    parse_common(req, resp, body, 0, &in))
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
	sign_input_clear(&in);
	json_decref(body);
}
