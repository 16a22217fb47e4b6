/*
 * sign.c - the native POST /v1/sign and POST /v1/verify.
 *
 * These handlers only translate: the JSON body becomes an sg_submit or
 * sg_verify (names to enums, base64 to bytes, here at the edge), the
 * service (src/service) decides and signs, and the outcome is rendered in
 * the native shape: 200 with the signature, or 202 {request_id, status}
 * when the request is queued or waits for approval.  An Idempotency-Key
 * makes a repeat of the same body return the first outcome (the body's
 * identity is the SHA-256 of its canonical JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_b64.h"

/* The decoded fields sign and verify share; buffers live here while the service runs. */
typedef struct native_fields {
	const char *key;
	int64_t key_version;
	sg_hash_alg hash;
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	sg_sig_scheme scheme;
	sg_key_alg scheme_key_alg;
	sg_sig_format format;
	int64_t pss_salt_length;
	uint8_t context[255];
	size_t context_len;
	uint8_t *message;            /* decoded `message` (malloc'd), NULL when a digest is given */
	size_t message_len;
} native_fields;

/* An empty message still needs a non-NULL pointer (sg_submit: NULL means a digest). */
static uint8_t empty_message[1];

static void
native_fields_clear(native_fields *f)
{
	if (f->message != empty_message)
		free(f->message);
	f->message = NULL;
}

/*
 * A base64 digest of the wrong length for its hash is passed on to the
 * service as it is (when it fits), so that the service's order of checks
 * decides the answer: a legacy hash without a policy allowing it is refused
 * as such before its length is looked at.
 */
static int
short_digest(const char *text, native_fields *f)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	int r = sg_b64_decode(text, strlen(text), &bytes, &len);
	if (r == SG_OK && (len == 0 || len > sizeof(f->digest)))
		r = SG_ERR_DIGEST_LENGTH;
	if (r == SG_OK) {
		memcpy(f->digest, bytes, len);
		f->digest_len = len;
	}
	free(bytes);
	return r;
}

/* Read and decode the sign/verify fields; answers 400 and returns non-zero when invalid. */
static int
read_fields(api_req *req, api_resp *resp, json_t *body, int key_required, native_fields *f)
{
	const char *digest = NULL, *hash = NULL, *scheme = NULL, *format = NULL, *context = NULL;
	const char *message = NULL;
	const char *errmsg = NULL;
	int r;

	memset(f, 0, sizeof(*f));
	f->pss_salt_length = -1;
	/* base64 of SG_MAX_MESSAGE bytes, padded */
	if (api_field_str(req, resp, body, "message", 0, 4 * ((SG_MAX_MESSAGE + 2) / 3), &message))
		return -1;
	if (message != NULL && (json_object_get(body, "digest") || json_object_get(body, "hash_algorithm"))) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "give either 'message' or 'digest' with "
		    "'hash_algorithm', not both");
		return -1;
	}
	if (api_field_str(req, resp, body, "key", key_required, 128, &f->key) ||
	    api_field_int(req, resp, body, "key_version", 0, 1, 1000000, &f->key_version) ||
	    api_field_str(req, resp, body, "digest", message == NULL, 1024, &digest) ||
	    api_field_str(req, resp, body, "hash_algorithm", message == NULL, 32, &hash) ||
	    api_field_str(req, resp, body, "signature_algorithm", 0, 64, &scheme) ||
	    api_field_str(req, resp, body, "signature_format", 0, 16, &format) ||
	    api_field_str(req, resp, body, "context", 0, 1024, &context) ||
	    api_field_int(req, resp, body, "pss_salt_length", 0, 0, 4096, &f->pss_salt_length))
		return -1;
	if (message != NULL) {
		if (sg_b64_decode(message, strlen(message), &f->message, &f->message_len) != SG_OK) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "message must be base64");
			return -1;
		}
		if (f->message_len > SG_MAX_MESSAGE) {
			api_error(req, resp, SG_ERR_TOO_LARGE, "message is %zu bytes; at most %d are signed",
			    f->message_len, SG_MAX_MESSAGE);
			return -1;
		}
		if (f->message == NULL)
			f->message = empty_message;
	} else if ((f->hash = sg_hash_from_name(hash)) == SG_HASH_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_HASH, "unknown hash_algorithm '%.32s' (SHA-256, "
		    "SHA-384, SHA-512, SHA3-256, SHA3-384, SHA3-512)", hash);
		return -1;
	}
	if (message == NULL &&
	    (r = sg_digest_decode(digest, f->hash, f->digest, &f->digest_len, &errmsg)) != SG_OK &&
	    (r != SG_ERR_DIGEST_LENGTH || short_digest(digest, f) != SG_OK)) {
		api_error(req, resp, r, "%s", errmsg ? errmsg : "digest does not decode");
		return -1;
	}
	if (scheme != NULL && (f->scheme = sg_scheme_from_name(scheme)) == SG_SCHEME_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_ALGORITHM, "unknown signature_algorithm '%.64s'", scheme);
		return -1;
	}
	f->scheme_key_alg = scheme ? sg_scheme_name_key_alg(scheme) : SG_KEY_NONE;
	int fmt = sg_format_from_name(format);
	if (fmt < 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "signature_format must be DER or P1363");
		return -1;
	}
	f->format = (sg_sig_format)fmt;
	if (context != NULL) {
		uint8_t *c = NULL;
		size_t clen = 0;
		if (sg_b64_decode(context, strlen(context), &c, &clen) != SG_OK || clen > sizeof(f->context)) {
			free(c);
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "context must be base64 of at most 255 bytes");
			return -1;
		}
		memcpy(f->context, c, clen);
		f->context_len = clen;
		free(c);
	}
	return 0;
}

void
api_render_outcome(api_req *req, api_resp *resp, const sg_outcome *o)
{
	(void)req;
	if (o->has_signature) {
		api_json(resp, 200, api_signature_response(&o->signature, o->request.status));
		return;
	}
	if (o->kind != SG_OUTCOME_REPLAY)
		snprintf(resp->location, sizeof(resp->location), "/v1/requests/%s", o->request.id);
	api_json(resp, 202, json_pack("{s:s,s:s}", "request_id", o->request.id, "status", o->request.status));
}

int
api_idempotency_key(api_req *req, api_resp *resp, json_t *body, sg_submit *in)
{
	in->idempotency_key = api_header(req, "Idempotency-Key");
	if (in->idempotency_key == NULL)
		return 0;
	if (strlen(in->idempotency_key) == 0 || strlen(in->idempotency_key) > 255) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "Idempotency-Key must be 1 to 255 characters");
		return -1;
	}
	/*
	 * Printable ASCII only (the draft's sf-string): a key is stored and compared
	 * as text, and bytes that are not UTF-8 would be kept by SQLite but refused
	 * by PostgreSQL; one rule for both stores.
	 */
	for (const char *p = in->idempotency_key; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
			    "Idempotency-Key must be printable ASCII");
			return -1;
		}
	}
	/* Same JSON, however it is spaced or ordered, is the same request. */
	char *canonical = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	if (canonical == NULL) {
		api_error(req, resp, SG_ERR_NOMEM, "body");
		return -1;
	}
	sg_sha256(canonical, strlen(canonical), in->body_hash);
	free(canonical);
	return 0;
}

int
api_metadata_text(api_req *req, api_resp *resp, json_t *body, const char *name, char **out)
{
	json_t *m = json_object_get(body, name);
	*out = NULL;
	if (m == NULL || json_is_null(m))
		return 0;
	if (!json_is_object(m)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' must be a JSON object", name);
		return -1;
	}
	if ((*out = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		api_error(req, resp, SG_ERR_NOMEM, "metadata");
		return -1;
	}
	return 0;
}

void
api_sign(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "key", "policy", "key_version", "digest", "hash_algorithm",
		"message", "signature_algorithm", "signature_format", "context", "pss_salt_length", "metadata",
		"timestamp", "async", NULL };
	native_fields f;
	sg_submit in;
	sg_outcome out;
	sg_problem problem;
	sg_caller caller;
	char *metadata = NULL;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	memset(&f, 0, sizeof(f));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) || read_fields(req, resp, body, 0, &f) ||
	    api_field_str(req, resp, body, "policy", 0, 2 * SG_NAME_MAX, &in.policy) ||
	    api_field_bool(req, resp, body, "timestamp", &in.timestamp) ||
	    api_field_bool(req, resp, body, "async", &in.async) ||
	    api_metadata_text(req, resp, body, "metadata", &metadata) ||
	    api_idempotency_key(req, resp, body, &in))
		goto out;
	in.key = f.key;
	in.key_version = (int)f.key_version;
	in.hash = f.hash;
	in.digest = f.digest;
	in.digest_len = f.digest_len;
	in.scheme = f.scheme;
	in.scheme_key_alg = f.scheme_key_alg;
	in.format = f.format;
	in.pss_salt_len = (int)f.pss_salt_length;
	in.context = f.context;
	in.context_len = f.context_len;
	in.metadata_json = metadata;
	in.message = f.message;
	in.message_len = f.message_len;
	if (sg_svc_submit(req->svc, api_caller(req, &caller), &in, &out, &problem) != SG_OK)
		api_problem(req, resp, &problem);
	else
		api_render_outcome(req, resp, &out);
	sg_outcome_clear(&out);
out:
	native_fields_clear(&f);
	free(metadata);
	json_decref(body);
}

void
api_verify(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "key", "key_version", "digest", "hash_algorithm", "message",
		"signature_algorithm", "signature_format", "context", "pss_salt_length", "signature", NULL };
	native_fields f;
	sg_verify in;
	sg_verify_result res;
	sg_problem problem;
	sg_caller caller;
	const char *sigtext = NULL;
	uint8_t *sigbytes = NULL;
	size_t siglen = 0;

	memset(&f, 0, sizeof(f));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) || read_fields(req, resp, body, 1, &f) ||
	    api_field_str(req, resp, body, "signature", 1, 64 * 1024, &sigtext))
		goto out;
	if (sg_b64_decode(sigtext, strlen(sigtext), &sigbytes, &siglen) != SG_OK) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "signature must be base64");
		goto out;
	}
	in = (sg_verify){ f.key, (int)f.key_version, f.hash, f.digest, f.digest_len, f.scheme,
		f.scheme_key_alg, f.format, (int)f.pss_salt_length, f.context, f.context_len, sigbytes, siglen,
		f.message, f.message_len };
	if (sg_svc_verify(req->svc, api_caller(req, &caller), &in, &res, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	json_t *j = json_pack("{s:b,s:s,s:i,s:s}", "valid", res.valid, "key_id", res.key.id,
	    "key_version", res.key_version, "signature_algorithm", sg_scheme_name(res.scheme, res.key.alg));
	if (f.message == NULL)
		json_object_set_new(j, "hash_algorithm", json_string(sg_hash_name(f.hash)));
	api_json(resp, 200, j);
out:
	native_fields_clear(&f);
	free(sigbytes);
	json_decref(body);
}
