/*
 * dialect_sign_hash.c - the sign-hash API (SPEC §4 item 2, readings Q1-Q7;
 * reference/qpher-hash-based-signing.txt) as a dialect over the service.
 *
 * Four routes under /api/v1/signature/: sign-hash and verify-hash take a
 * client-side hash, sign and verify take the message itself.  The caller
 * names an algorithm (`Dilithium3`, the default, or `Composite-ML-DSA`) and
 * a key version, never a key: sg_svc_key_for_alg picks the key (the
 * default policy's, else the tenant's only one of that algorithm).  The
 * translation to the native model:
 *   sign-hash Dilithium3         HashML-DSA-65 over the digest, empty context
 *   sign-hash Composite SHA-512  the composite over the digest as its pre-hash
 *   sign-hash Composite SHA-256/384  the composite with the hash bytes as
 *                                its message (sg_submit.message)
 *   sign / verify                pure ML-DSA-65 or the composite over message
 * Success is {"data": {...}, "request_id", "timestamp"}, errors
 * {"error": {"code", "message"}, "request_id", "timestamp"}, with the
 * document's codes and statuses mapped from sg_err in render_error.
 * Nothing here decides a rule: submission, verification and key choice are
 * the service's.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_b64.h"

#define R_VERIFY (SG_ROLE_ADMIN | SG_ROLE_SIGNER | SG_ROLE_APPROVER | SG_ROLE_AUDITOR)
/* base64 text of the longest message, padded */
#define MESSAGE_B64_MAX (4 * ((SG_MAX_MESSAGE + 2) / 3))
/* base64 text of the longest signature the algorithms here make */
#define SIGNATURE_B64_MAX 8192

/* The document's algorithm names. */
typedef struct sh_alg {
	const char *name;
	sg_key_alg key_alg;
	sg_sig_scheme hash_scheme;      /* what sign-hash uses */
} sh_alg;

static const sh_alg algs[] = {
	{ "Dilithium3", SG_KEY_MLDSA_65, SG_SCHEME_HASH_MLDSA },
	{ "Composite-ML-DSA", SG_KEY_MLDSA65_ECDSA_P256, SG_SCHEME_COMPOSITE },
};

/* The envelope of every answer: body (stolen) as `data`, or an error object. */
static json_t *
envelope(api_req *req, const char *member, json_t *inner)
{
	char ts[32];
	sg_time_format(sg_now_ms(), ts);
	return json_pack("{s:o,s:s,s:s}", member, inner, "request_id", req->request_id, "timestamp", ts);
}

static void
answer(api_req *req, api_resp *resp, unsigned status, json_t *data)
{
	api_json(resp, status, envelope(req, "data", data));
}

/* The error table of the document, from the native error. */
static void
sign_hash_error(api_req *req, api_resp *resp, unsigned status, const char *native_code, int err,
    const char *message)
{
	const char *code;
	(void)native_code;
	switch ((sg_err)err) {
	case SG_ERR_UNSUPPORTED_HASH: status = 400; code = "ERR_SIG_010"; break;
	case SG_ERR_DIGEST_LENGTH: status = 400; code = "ERR_SIG_011"; break;
	case SG_ERR_UNAUTHENTICATED: status = 401; code = "ERR_AUTH_001"; break;
	case SG_ERR_PERMISSION_DENIED: status = 403; code = "ERR_AUTH_001"; break;
	case SG_ERR_NOT_FOUND: status = 404; code = "ERR_SIG_003"; break;
	case SG_ERR_KEY_NOT_ACTIVE:
	case SG_ERR_PRECONDITION:
	case SG_ERR_CONFLICT: status = 409; code = "ERR_SIG_004"; break;
	case SG_ERR_RATE_LIMITED: status = 429; code = "ERR_RATE_001"; break;
	case SG_ERR_TOO_LARGE: status = 413; code = "ERR_INVALID_001"; break;
	case SG_OK:
	case SG_ERR_INVALID_ARGUMENT:
	case SG_ERR_BAD_ENCODING:
	case SG_ERR_UNSUPPORTED_ALGORITHM:
	case SG_ERR_ALGORITHM_MISMATCH:
	case SG_ERR_BAD_SIGNATURE:
		/* The router's 405 and the HTTP layer's 413 arrive as INVALID_ARGUMENT with their status. */
		code = status >= 500 ? "ERR_CRYPTO_001" : "ERR_INVALID_001";
		if (status < 400 || status >= 500)
			status = 400;
		break;
	case SG_ERR_UNAVAILABLE: status = 503; code = "ERR_CRYPTO_001"; break;
	default: status = 500; code = "ERR_CRYPTO_001"; break;
	}
	sg_strlcpy(resp->error_code, code, sizeof(resp->error_code));
	api_json(resp, status, envelope(req, "error", json_pack("{s:s,s:s}", "code", code, "message",
	    message)));
}

/* The fields the four routes share, decoded. */
typedef struct sh_fields {
	const sh_alg *alg;
	int64_t key_version;
	sg_hash_alg hash;               /* sign-hash / verify-hash */
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	uint8_t *message;               /* sign / verify (malloc'd; never NULL once read) */
	size_t message_len;
	uint8_t *signature;             /* verify-hash / verify (malloc'd) */
	size_t signature_len;
	sg_key key;                     /* the key Q1 picks */
	char policy[SG_POLICY_REF_MAX]; /* the default policy it came from, or "" */
} sh_fields;

static void
fields_clear(sh_fields *f)
{
	free(f->message);
	free(f->signature);
	memset(f, 0, sizeof(*f));
}

/*
 * Read the body: with_hash for the -hash routes (hash, hash_algorithm),
 * else the message; with_signature for the verify routes.  Q7's order:
 * missing fields, then the hash algorithm, then the algorithm, then the
 * hash's length; then the key (Q1).  Answers and returns non-zero on error.
 */
static int
read_fields(api_req *req, api_resp *resp, int with_hash, int with_signature, sh_fields *f)
{
	const char *hash = NULL, *hash_alg = NULL, *message = NULL, *alg = NULL, *signature = NULL;
	const char *errmsg = NULL;
	sg_problem problem;
	sg_caller caller;
	int r, rc = -1;

	memset(f, 0, sizeof(*f));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return -1;
	if ((with_hash && (api_field_str(req, resp, body, "hash", 1, 1024, &hash) ||
	    api_field_str(req, resp, body, "hash_algorithm", 1, 32, &hash_alg))) ||
	    (!with_hash && api_field_str(req, resp, body, "message", 0, MESSAGE_B64_MAX, &message)) ||
	    (with_signature && api_field_str(req, resp, body, "signature", 1, SIGNATURE_B64_MAX, &signature)) ||
	    api_field_int(req, resp, body, "key_version", 1, 1, 1000000, &f->key_version) ||
	    api_field_str(req, resp, body, "algorithm", 0, 64, &alg))
		goto out;
	if (!with_hash && message == NULL) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field 'message' is required");
		goto out;
	}
	if (with_hash) {
		f->hash = sg_hash_from_name(hash_alg);
		if (f->hash != SG_HASH_SHA256 && f->hash != SG_HASH_SHA384 && f->hash != SG_HASH_SHA512) {
			api_error(req, resp, SG_ERR_UNSUPPORTED_HASH, "unsupported hash_algorithm '%.32s': use "
			    "SHA-256, SHA-384 or SHA-512", hash_alg);
			goto out;
		}
	}
	f->alg = &algs[0];
	if (alg != NULL) {
		f->alg = NULL;
		for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
			if (strcmp(alg, algs[i].name) == 0)
				f->alg = &algs[i];
		if (f->alg == NULL) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "unknown algorithm '%.64s': use Dilithium3 "
			    "or Composite-ML-DSA", alg);
			goto out;
		}
	}
	if (with_hash && (r = sg_digest_decode(hash, f->hash, f->digest, &f->digest_len, &errmsg)) != SG_OK) {
		api_error(req, resp, r, "%s", errmsg ? errmsg : "hash does not decode");
		goto out;
	}
	if (message != NULL) {
		if (sg_b64_decode(message, strlen(message), &f->message, &f->message_len) != SG_OK) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "message must be base64");
			goto out;
		}
		if (f->message == NULL && (f->message = malloc(1)) == NULL) {
			api_error(req, resp, SG_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (signature != NULL && sg_b64_decode(signature, strlen(signature), &f->signature,
	    &f->signature_len) != SG_OK) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "signature must be base64");
		goto out;
	}
	if (sg_svc_key_for_alg(req->svc, api_caller(req, &caller), f->alg->key_alg, &f->key, f->policy,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	rc = 0;
out:
	json_decref(body);
	return rc;
}

/*
 * What the service is asked to sign or check: the digest with the
 * algorithm's hash scheme, or a message.  Composite-ML-DSA with SHA-256 or
 * SHA-384 signs the hash bytes as its message (Q4).
 */
static void
to_input(sh_fields *f, const uint8_t **digest, size_t *digest_len, const uint8_t **message,
    size_t *message_len, sg_sig_scheme *scheme)
{
	*digest = NULL;
	*digest_len = 0;
	*message = NULL;
	*message_len = 0;
	if (f->message != NULL) {
		*message = f->message;
		*message_len = f->message_len;
		*scheme = f->alg->key_alg == SG_KEY_MLDSA_65 ? SG_SCHEME_MLDSA : SG_SCHEME_COMPOSITE;
	} else if (f->alg->hash_scheme == SG_SCHEME_COMPOSITE && f->hash != SG_HASH_SHA512) {
		*message = f->digest;
		*message_len = f->digest_len;
		*scheme = SG_SCHEME_COMPOSITE;
	} else {
		*digest = f->digest;
		*digest_len = f->digest_len;
		*scheme = f->alg->hash_scheme;
	}
}

static void
sign_common(api_req *req, api_resp *resp, int with_hash)
{
	sh_fields f;
	sg_submit in;
	sg_outcome out;
	sg_problem problem;
	sg_caller caller;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	if (read_fields(req, resp, with_hash, 0, &f) != 0)
		goto out;
	if (f.policy[0])
		in.policy = f.policy;
	else
		in.key = f.key.id;
	in.key_version = (int)f.key_version;
	in.hash = f.hash;
	to_input(&f, &in.digest, &in.digest_len, &in.message, &in.message_len, &in.scheme);
	in.scheme_key_alg = f.alg->key_alg;
	in.pss_salt_len = -1;
	if (sg_svc_submit(req->svc, api_caller(req, &caller), &in, &out, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	if (!out.has_signature) {
		/* Held by the default policy (approval or queue): the native request says what happens next. */
		answer(req, resp, 202, json_pack("{s:s,s:s,s:i,s:s}", "status", out.request.status,
		    "signing_request_id", out.request.id, "key_version", (int)f.key_version, "algorithm",
		    f.alg->name));
		goto out;
	}
	json_t *data = json_pack("{s:i,s:s,s:s,s:s,s:s}", "key_version", out.signature.key_version,
	    "algorithm", f.alg->name, "signature_type", with_hash ? "detached" : "embedded",
	    "signature_id", out.signature.id, "signing_request_id", out.request.id);
	api_b64_set(data, "signature", out.signature.signature, out.signature.signature_len);
	if (with_hash)
		json_object_set_new(data, "hash_algorithm", json_string(sg_hash_name(f.hash)));
	answer(req, resp, 200, data);
out:
	sg_outcome_clear(&out);
	fields_clear(&f);
}

static void
verify_common(api_req *req, api_resp *resp, int with_hash)
{
	sh_fields f;
	sg_verify in;
	sg_verify_result res;
	sg_problem problem;
	sg_caller caller;

	memset(&in, 0, sizeof(in));
	if (read_fields(req, resp, with_hash, 1, &f) != 0)
		goto out;
	in.key = f.key.id;
	in.key_version = (int)f.key_version;
	in.hash = f.hash;
	to_input(&f, &in.digest, &in.digest_len, &in.message, &in.message_len, &in.scheme);
	in.scheme_key_alg = f.alg->key_alg;
	in.pss_salt_len = -1;
	in.signature = f.signature;
	in.signature_len = f.signature_len;
	if (sg_svc_verify(req->svc, api_caller(req, &caller), &in, &res, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	json_t *data = json_pack("{s:b,s:i,s:s}", "valid", res.valid, "key_version", res.key_version,
	    "algorithm", f.alg->name);
	if (with_hash)
		json_object_set_new(data, "hash_algorithm", json_string(sg_hash_name(f.hash)));
	answer(req, resp, 200, data);
out:
	fields_clear(&f);
}

static void sign_hash(api_req *req, api_resp *resp) { sign_common(req, resp, 1); }
static void verify_hash(api_req *req, api_resp *resp) { verify_common(req, resp, 1); }
static void sign_message(api_req *req, api_resp *resp) { sign_common(req, resp, 0); }
static void verify_message(api_req *req, api_resp *resp) { verify_common(req, resp, 0); }

static const api_route_def routes[] = {
	{ "POST", "/api/v1/signature/sign-hash", sign_hash, SG_ROLE_SIGNER },
	{ "POST", "/api/v1/signature/verify-hash", verify_hash, R_VERIFY },
	{ "POST", "/api/v1/signature/sign", sign_message, SG_ROLE_SIGNER },
	{ "POST", "/api/v1/signature/verify", verify_message, R_VERIFY },
};

static const char *const prefixes[] = { "/api/v1/signature/", NULL };

const api_dialect api_dialect_sign_hash = {
	.name = "sign-hash",
	.prefixes = prefixes,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.render_error = sign_hash_error,
	/* /signature/sign takes a message of up to 1 MiB, which is 1.4 MB as base64 (Q5). */
	.max_body = 2u * 1024u * 1024u,
};
