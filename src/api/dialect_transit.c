/*
 * dialect_transit.c - HashiCorp Vault / OpenBao Transit (SPEC §4 item 5) as
 * a dialect over the service, the API that jsign's HASHICORPVAULT store,
 * cosign's hashivault:// KMS and the hvac client speak.
 *
 * Routes under /v1/<mount>/ (transit_mount, default transit): list keys (GET ?list=true and the LIST
 * method), read a key, sign and verify (with an optional hash algorithm as
 * the last path segment, which wins over the body's, as in Vault).  The
 * translation to the native model:
 *   RSA, ECDSA   the input is hashed here with hash_algorithm (at most
 *                64 KiB) unless `prehashed`, then signed as a digest;
 *                pss (default, salt `auto` = the largest) or pkcs1v15;
 *                asn1 = DER, jws = P1363 r||s (and base64url text)
 *   Ed25519      the input itself as the native `message`, never hashed
 *   ML-DSA       pure ML-DSA over the input (`message`); with `prehashed`
 *                HashML-DSA over the digest
 * Every item is one sg_svc_submit: recorded, audited and policy-checked
 * like any native request (under the principal's default policy when that
 * policy signs with this key).  Signatures are "vault:v<N>:<base64>".
 * Errors are Vault's {"errors":["message"]}: missing or bad credentials and
 * missing roles are 403 "permission denied" (Vault never says 401), an
 * unknown key 404, rate limits 429, everything the client got wrong 400.
 * Unknown body fields are ignored (hvac sends `name`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "api.h"
#include "sg_b64.h"

#define TRANSIT_MAX_INPUT (64u * 1024u)
#define INPUT_B64_MAX (4 * ((SG_MAX_MESSAGE + 2) / 3))
#define SIGNATURE_TEXT_MAX 16384
#define MAX_BATCH 1000

/* Vault's error shape. */
static void
transit_error(api_req *req, api_resp *resp, unsigned status, const char *native_code, int err,
    const char *message)
{
	(void)req;
	switch ((sg_err)err) {
	case SG_ERR_UNAUTHENTICATED:
	case SG_ERR_PERMISSION_DENIED: status = 403; message = "permission denied"; break;
	case SG_ERR_NOT_FOUND: status = 404; break;
	case SG_ERR_RATE_LIMITED: status = 429; break;
	case SG_ERR_TOO_LARGE: status = 413; break;
	case SG_ERR_UNAVAILABLE: status = 503; break;
	case SG_ERR_INTERNAL:
	case SG_ERR_NOMEM:
	case SG_ERR_CRYPTO:
	case SG_ERR_IO:
	case SG_ERR_STORE: status = 500; break;
	default:
		/* The router's 405 and the HTTP layer's 413 keep their status. */
		if (status != 405 && status != 413)
			status = 400;
		break;
	}
	sg_strlcpy(resp->error_code, native_code ? native_code : "ERROR", sizeof(resp->error_code));
	api_json(resp, status, json_pack("{s:[s]}", "errors", message));
}

/* Vault's type name of a key algorithm. */
static const char *
type_name(sg_key_alg a)
{
	switch (a) {
	case SG_KEY_RSA_2048: return "rsa-2048";
	case SG_KEY_RSA_3072: return "rsa-3072";
	case SG_KEY_RSA_4096: return "rsa-4096";
	case SG_KEY_EC_P256: return "ecdsa-p256";
	case SG_KEY_EC_P384: return "ecdsa-p384";
	case SG_KEY_EC_P521: return "ecdsa-p521";
	case SG_KEY_ED25519: return "ed25519";
	case SG_KEY_MLDSA_44:
	case SG_KEY_MLDSA_65:
	case SG_KEY_MLDSA_87: return "ml-dsa";
	case SG_KEY_MLDSA65_ECDSA_P256: return "mldsa65-ecdsa-p256";
	default: return "unknown";
	}
}

static int
is_rsa(sg_key_alg a)
{
	return a == SG_KEY_RSA_2048 || a == SG_KEY_RSA_3072 || a == SG_KEY_RSA_4096;
}

static int
is_ec(sg_key_alg a)
{
	return a == SG_KEY_EC_P256 || a == SG_KEY_EC_P384 || a == SG_KEY_EC_P521;
}

static int
is_mldsa(sg_key_alg a)
{
	return a == SG_KEY_MLDSA_44 || a == SG_KEY_MLDSA_65 || a == SG_KEY_MLDSA_87;
}

/* The `name` Vault gives a version of a key of this algorithm. */
static const char *
version_name(sg_key_alg a)
{
	switch (a) {
	case SG_KEY_EC_P256: return "P-256";
	case SG_KEY_EC_P384: return "P-384";
	case SG_KEY_EC_P521: return "P-521";
	default: return type_name(a);
	}
}

/* Load the caller's key; answers (404 for a missing or foreign one) and returns non-zero on error. */
static int
load_key(api_req *req, api_resp *resp, const char *name, sg_key *k)
{
	sg_problem problem;
	sg_caller caller;
	if (sg_svc_key_get(req->svc, api_caller(req, &caller), name, k, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return -1;
	}
	return 0;
}

/* One version's entry in `keys`: Vault's public-key encoding (raw base64 for Ed25519, else PEM). */
static json_t *
version_json(const sg_key *k, const sg_key_version *v)
{
	char ts[32];
	char *pub = NULL;
	sg_time_format(v->created_at, ts);
	json_t *j = json_pack("{s:s,s:s}", "creation_time", ts, "name", version_name(k->alg));
	if (k->alg == SG_KEY_ED25519 && v->spki_len >= 32)
		pub = sg_b64_encode(v->spki + v->spki_len - 32, 32);
	else if (sg_spki_to_pem(v->spki, v->spki_len, &pub) != SG_OK)
		pub = NULL;
	json_object_set_new(j, "public_key", pub ? json_string(pub) : json_string(""));
	free(pub);
	return j;
}

static void
keys_list(api_req *req, api_resp *resp)
{
	sg_key *list = NULL;
	size_t n = 0;
	if (req->method[0] == 'G') {
		const char *l = api_query(req, "list");
		if (l == NULL || strcmp(l, "true") != 0) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "use LIST or GET with ?list=true");
			return;
		}
	}
	sg_problem problem;
	sg_caller caller;
	if (sg_svc_key_list(req->svc, api_caller(req, &caller), &list, &n, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i].alias));
	free(list);
	api_json(resp, 200, json_pack("{s:{s:o}}", "data", "keys", a));
}

static void
keys_read(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_key k;
	sg_key_version *vs = NULL;
	size_t n = 0;
	if (load_key(req, resp, req->params[0], &k) != 0)
		return;
	int r = s->ops->key_version_list(s, req->tenant.id, k.id, &vs, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot read the key's versions");
		return;
	}
	json_t *keys = json_object();
	for (size_t i = 0; i < n; i++) {
		char num[16];
		snprintf(num, sizeof(num), "%d", vs[i].version);
		json_object_set_new(keys, num, version_json(&k, &vs[i]));
	}
	sg_key_version_list_free(vs, n);
	/* Only the current version signs (older ones verify): min_encryption_version = latest. */
	json_t *data = json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:b,s:b,s:b,s:b,s:b,s:o}", "name", k.alias,
	    "type", type_name(k.alg), "latest_version", k.current_version, "min_available_version", 0,
	    "min_decryption_version", 1, "min_encryption_version", k.current_version, "supports_signing", 1, "supports_encryption", 0,
	    "supports_decryption", 0, "deletion_allowed", 0, "exportable", 0, "keys", keys);
	if (is_mldsa(k.alg))
		json_object_set_new(data, "parameter_set", json_string(k.alg == SG_KEY_MLDSA_44 ? "44" :
		    k.alg == SG_KEY_MLDSA_65 ? "65" : "87"));
	api_json(resp, 200, json_pack("{s:o}", "data", data));
}

/* The options of a sign or verify call, decoded once for all its items. */
typedef struct tr_opts {
	sg_key key;
	sg_hash_alg hash;
	int prehashed;
	sg_sig_scheme scheme;
	sg_sig_format format;
	int jws;
	int pss_salt_len;
	int key_version;
	char policy[SG_POLICY_REF_MAX]; /* the principal's default policy when it signs with key */
} tr_opts;

static sg_hash_alg
vault_hash(const char *name)
{
	static const struct { const char *name; sg_hash_alg h; } map[] = {
		{ "sha2-256", SG_HASH_SHA256 }, { "sha2-384", SG_HASH_SHA384 }, { "sha2-512", SG_HASH_SHA512 },
		{ "sha3-256", SG_HASH_SHA3_256 }, { "sha3-384", SG_HASH_SHA3_384 },
		{ "sha3-512", SG_HASH_SHA3_512 },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(name, map[i].name) == 0)
			return map[i].h;
	return SG_HASH_NONE;
}

/* Read the options shared by sign and verify; answers and returns non-zero on error. */
static int
read_opts(api_req *req, api_resp *resp, json_t *body, tr_opts *o)
{
	const char *hash = "sha2-256", *sigalg = "pss", *salt = "auto", *marshal = "asn1";
	int64_t kv = 0;
	sg_problem problem;
	sg_caller caller;
	sg_policy pol;

	memset(o, 0, sizeof(*o));
	if (api_field_str(req, resp, body, "hash_algorithm", 0, 32, &hash) ||
	    api_field_bool(req, resp, body, "prehashed", &o->prehashed) ||
	    api_field_str(req, resp, body, "signature_algorithm", 0, 32, &sigalg) ||
	    api_field_str(req, resp, body, "salt_length", 0, 32, &salt) ||
	    api_field_str(req, resp, body, "marshaling_algorithm", 0, 32, &marshal) ||
	    api_field_int(req, resp, body, "key_version", 0, 0, 1000000, &kv))
		return -1;
	if (req->nparams > 1)
		hash = req->params[1];
	o->key_version = (int)kv;
	if ((o->hash = vault_hash(hash)) == SG_HASH_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_HASH, "unsupported hash algorithm %.32s", hash);
		return -1;
	}
	if (strcmp(marshal, "asn1") != 0 && strcmp(marshal, "jws") != 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "unsupported marshaling algorithm %.32s", marshal);
		return -1;
	}
	o->jws = strcmp(marshal, "jws") == 0;
	if (strcmp(sigalg, "pss") != 0 && strcmp(sigalg, "pkcs1v15") != 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "unsupported signature algorithm %.32s", sigalg);
		return -1;
	}
	if (load_key(req, resp, req->params[0], &o->key) != 0)
		return -1;
	sg_key_alg a = o->key.alg;
	o->pss_salt_len = -1;
	if (is_rsa(a)) {
		o->scheme = sigalg[1] == 's' ? SG_SCHEME_RSA_PSS : SG_SCHEME_RSA_PKCS1;
		if (o->scheme == SG_SCHEME_RSA_PSS) {
			int max = sg_key_alg_bits(a) / 8 - (int)sg_hash_len(o->hash) - 2;
			if (strcmp(salt, "auto") == 0) {
				o->pss_salt_len = max;
			} else if (strcmp(salt, "hash") != 0) {
				char *end = NULL;
				long v = strtol(salt, &end, 10);
				if (end == salt || *end != 0 || v < 0 || v > max) {
					api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "invalid salt_length %.32s: use auto, "
					    "hash or a number from 0 to %d", salt, max);
					return -1;
				}
				o->pss_salt_len = (int)v;
			}
		}
	} else if (is_ec(a)) {
		o->scheme = SG_SCHEME_ECDSA;
		o->format = o->jws ? SG_FORMAT_P1363 : SG_FORMAT_DER;
	} else if (a == SG_KEY_ED25519) {
		o->scheme = SG_SCHEME_ED25519;
	} else if (is_mldsa(a)) {
		o->scheme = o->prehashed ? SG_SCHEME_HASH_MLDSA : SG_SCHEME_MLDSA;
	}
	const char *dp = req->principal.default_policy;
	if (dp[0] && sg_svc_policy_get(req->svc, api_caller(req, &caller), dp, &pol, &problem) == SG_OK) {
		if (strcmp(pol.key_id, o->key.id) == 0)
			sg_strlcpy(o->policy, dp, sizeof(o->policy));
		sg_policy_clear(&pol);
	}
	return 0;
}

/*
 * An item's input, as what the service signs: the message (Ed25519, pure
 * ML-DSA), the client's digest (prehashed) or the digest computed here.
 * Returns SG_OK or an error with *msg for the client.
 */
typedef struct tr_input {
	uint8_t *raw;           /* decoded input (malloc'd) */
	size_t raw_len;
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	int is_message;
} tr_input;

static int
decode_input(const tr_opts *o, json_t *item, tr_input *in, const char **msg)
{
	memset(in, 0, sizeof(*in));
	json_t *v = json_object_get(item, "input");
	if (!json_is_string(v)) {
		*msg = "missing input";
		return SG_ERR_INVALID_ARGUMENT;
	}
	const char *text = json_string_value(v);
	size_t tlen = json_string_length(v);
	if (tlen > INPUT_B64_MAX) {
		*msg = "input is too large";
		return SG_ERR_TOO_LARGE;
	}
	if (sg_b64_decode(text, tlen, &in->raw, &in->raw_len) != SG_OK) {
		*msg = "unable to decode input as base64";
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (in->raw == NULL && (in->raw = malloc(1)) == NULL) {
		*msg = "out of memory";
		return SG_ERR_NOMEM;
	}
	if (o->scheme == SG_SCHEME_ED25519 || o->scheme == SG_SCHEME_MLDSA) {
		in->is_message = 1;
		return SG_OK;
	}
	if (o->prehashed) {
		if (in->raw_len != sg_hash_len(o->hash)) {
			*msg = "prehashed input has the wrong length for its hash algorithm";
			return SG_ERR_DIGEST_LENGTH;
		}
		memcpy(in->digest, in->raw, in->raw_len);
		in->digest_len = in->raw_len;
		return SG_OK;
	}
	if (in->raw_len > TRANSIT_MAX_INPUT) {
		*msg = "input over 64 KiB: hash it and send it with prehashed=true";
		return SG_ERR_INVALID_ARGUMENT;
	}
	unsigned int dl = 0;
	if (EVP_Digest(in->raw, in->raw_len, in->digest, &dl, sg_hash_md(o->hash), NULL) != 1) {
		*msg = "cannot hash the input";
		return SG_ERR_INTERNAL;
	}
	in->digest_len = dl;
	return SG_OK;
}

/* Sign one item: the service does everything; fills *sigtext ("vault:vN:...") or *problem. */
static int
sign_item(api_req *req, const tr_opts *o, json_t *item, json_t **result, sg_problem *problem)
{
	tr_input in;
	sg_submit s;
	sg_outcome out;
	sg_caller caller;
	const char *msg = NULL;
	char *enc = NULL;
	int r;

	memset(&s, 0, sizeof(s));
	memset(&out, 0, sizeof(out));
	if ((r = decode_input(o, item, &in, &msg)) != SG_OK) {
		problem->err = r;
		sg_strlcpy(problem->message, msg, sizeof(problem->message));
		goto out;
	}
	if (o->policy[0])
		s.policy = o->policy;
	else
		s.key = o->key.id;
	s.key_version = o->key_version;
	s.scheme = o->scheme;
	s.format = o->format;
	s.pss_salt_len = o->pss_salt_len;
	if (in.is_message) {
		s.message = in.raw;
		s.message_len = in.raw_len;
	} else {
		s.hash = o->hash;
		s.digest = in.digest;
		s.digest_len = in.digest_len;
	}
	if ((r = sg_svc_submit(req->svc, api_caller(req, &caller), &s, &out, problem)) != SG_OK) {
		/* The key exists (read_opts loaded it): a missing version is a bad request, as in Vault. */
		if (r == SG_ERR_NOT_FOUND)
			r = problem->err = SG_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (!out.has_signature) {
		r = SG_ERR_PRECONDITION;
		problem->err = r;
		snprintf(problem->message, sizeof(problem->message), "signing request %s is %s: Transit "
		    "signs only what can be signed at once (see GET /v1/requests/%s)", out.request.id,
		    out.request.status, out.request.id);
		goto out;
	}
	enc = o->jws ? sg_b64url_encode(out.signature.signature, out.signature.signature_len) :
	    sg_b64_encode(out.signature.signature, out.signature.signature_len);
	if (enc == NULL) {
		r = SG_ERR_NOMEM;
		problem->err = r;
		sg_strlcpy(problem->message, "out of memory", sizeof(problem->message));
		goto out;
	}
	size_t cap = strlen(enc) + 32;
	char *text = malloc(cap);
	if (text == NULL) {
		r = SG_ERR_NOMEM;
		problem->err = r;
		sg_strlcpy(problem->message, "out of memory", sizeof(problem->message));
		goto out;
	}
	snprintf(text, cap, "vault:v%d:%s", out.signature.key_version, enc);
	*result = json_pack("{s:s,s:i}", "signature", text, "key_version", out.signature.key_version);
	free(text);
	r = SG_OK;
out:
	free(enc);
	free(in.raw);
	sg_outcome_clear(&out);
	return r;
}

/* Parse "vault:v<N>:<text>" into version and bytes (base64, or base64url for jws). */
static int
parse_signature(const char *text, int jws, int *version, uint8_t **sig, size_t *siglen)
{
	if (strncmp(text, "vault:v", 7) != 0)
		return SG_ERR_INVALID_ARGUMENT;
	char *end = NULL;
	long v = strtol(text + 7, &end, 10);
	if (end == text + 7 || *end != ':' || v < 1 || v > 1000000)
		return SG_ERR_INVALID_ARGUMENT;
	*version = (int)v;
	const char *b = end + 1;
	size_t n = strlen(b);
	if (!jws)
		return sg_b64_decode(b, n, sig, siglen) == SG_OK && *sig ? SG_OK : SG_ERR_INVALID_ARGUMENT;
	/* base64url without padding -> standard base64 for the decoder */
	char *std = malloc(n + 4);
	if (std == NULL)
		return SG_ERR_NOMEM;
	size_t i;
	for (i = 0; i < n; i++)
		std[i] = b[i] == '-' ? '+' : b[i] == '_' ? '/' : b[i];
	while (i % 4)
		std[i++] = '=';
	int r = sg_b64_decode(std, i, sig, siglen) == SG_OK && *sig ? SG_OK : SG_ERR_INVALID_ARGUMENT;
	free(std);
	return r;
}

static int
verify_item(api_req *req, const tr_opts *o, json_t *item, json_t **result, sg_problem *problem)
{
	tr_input in;
	sg_verify v;
	sg_verify_result res;
	sg_caller caller;
	const char *msg = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int version = 0, r;

	memset(&v, 0, sizeof(v));
	if ((r = decode_input(o, item, &in, &msg)) != SG_OK) {
		problem->err = r;
		sg_strlcpy(problem->message, msg, sizeof(problem->message));
		goto out;
	}
	json_t *st = json_object_get(item, "signature");
	if (!json_is_string(st) || json_string_length(st) > SIGNATURE_TEXT_MAX ||
	    (r = parse_signature(json_string_value(st), o->jws, &version, &sig, &siglen)) != SG_OK) {
		r = SG_ERR_INVALID_ARGUMENT;
		problem->err = r;
		sg_strlcpy(problem->message, "missing or invalid signature: expected vault:v<N>:<base64>",
		    sizeof(problem->message));
		goto out;
	}
	v.key = o->key.id;
	v.key_version = version;
	v.scheme = o->scheme;
	v.format = o->format;
	v.pss_salt_len = o->pss_salt_len;
	v.signature = sig;
	v.signature_len = siglen;
	if (in.is_message) {
		v.message = in.raw;
		v.message_len = in.raw_len;
	} else {
		v.hash = o->hash;
		v.digest = in.digest;
		v.digest_len = in.digest_len;
	}
	if ((r = sg_svc_verify(req->svc, api_caller(req, &caller), &v, &res, problem)) != SG_OK) {
		if (r == SG_ERR_NOT_FOUND)
			r = problem->err = SG_ERR_INVALID_ARGUMENT;
		goto out;
	}
	*result = json_pack("{s:b}", "valid", res.valid);
out:
	free(sig);
	free(in.raw);
	return r;
}

typedef int (*item_fn)(api_req *, const tr_opts *, json_t *, json_t **, sg_problem *);

/*
 * One call: a single item (the body itself) or batch_input.  In a batch
 * each result keeps its input's place and `reference`; a failed item
 * carries `error`, and the call is 400 only when every item failed.
 */
static void
run_items(api_req *req, api_resp *resp, item_fn fn)
{
	tr_opts o;
	sg_problem problem = { SG_ERR_INVALID_ARGUMENT, "batch item must be an object" };
	json_t *result = NULL;
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (read_opts(req, resp, body, &o) != 0)
		goto out;
	json_t *batch = json_object_get(body, "batch_input");
	if (batch == NULL || json_is_null(batch)) {
		if (fn(req, &o, body, &result, &problem) != SG_OK) {
			api_problem(req, resp, &problem);
			goto out;
		}
		api_json(resp, 200, json_pack("{s:o}", "data", result));
		goto out;
	}
	if (!json_is_array(batch) || json_array_size(batch) == 0 || json_array_size(batch) > MAX_BATCH) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "batch_input must be a list of 1 to %d items",
		    MAX_BATCH);
		goto out;
	}
	json_t *results = json_array();
	size_t failed = 0, i;
	json_t *item;
	json_array_foreach(batch, i, item) {
		json_t *one = NULL;
		if (!json_is_object(item)) {
			one = json_pack("{s:s}", "error", "batch item must be an object");
			failed++;
		} else if (fn(req, &o, item, &one, &problem) != SG_OK) {
			one = json_pack("{s:s}", "error", problem.message);
			failed++;
		}
		json_t *ref = json_object_get(item, "reference");
		if (json_is_string(ref))
			json_object_set(one, "reference", ref);
		json_array_append_new(results, one);
	}
	if (failed == json_array_size(batch)) {
		json_decref(results);
		api_error(req, resp, problem.err, "%s", problem.message);
		goto out;
	}
	api_json(resp, 200, json_pack("{s:{s:o}}", "data", "batch_results", results));
out:
	json_decref(body);
}

static void transit_sign(api_req *req, api_resp *resp) { run_items(req, resp, sign_item); }
static void transit_verify(api_req *req, api_resp *resp) { run_items(req, resp, verify_item); }

/*
 * The mount is configurable (transit_mount), so the patterns and the prefix
 * are built by api_transit_mount before the server starts; until then they
 * are those of the default mount.
 */
#define PATTERN_MAX 96
static char p_keys[PATTERN_MAX] = "/v1/transit/keys";
static char p_key[PATTERN_MAX] = "/v1/transit/keys/*";
static char p_sign[PATTERN_MAX] = "/v1/transit/sign/*";
static char p_sign_hash[PATTERN_MAX] = "/v1/transit/sign/*/*";
static char p_verify[PATTERN_MAX] = "/v1/transit/verify/*";
static char p_verify_hash[PATTERN_MAX] = "/v1/transit/verify/*/*";
static char p_prefix[PATTERN_MAX] = "/v1/transit/";

static const api_route_def routes[] = {
	{ "GET", p_keys, keys_list, API_ANY_ROLE },
	{ "LIST", p_keys, keys_list, API_ANY_ROLE },
	{ "GET", p_key, keys_read, API_ANY_ROLE },
	{ "POST", p_sign, transit_sign, SG_ROLE_SIGNER },
	{ "POST", p_sign_hash, transit_sign, SG_ROLE_SIGNER },
	{ "POST", p_verify, transit_verify, API_ANY_ROLE },
	{ "POST", p_verify_hash, transit_verify, API_ANY_ROLE },
};

static const char *const prefixes[] = { p_prefix, NULL };

void
api_transit_mount(const char *mount)
{
	if (mount == NULL || *mount == 0 || strlen(mount) > 63)
		mount = "transit";
	snprintf(p_keys, sizeof(p_keys), "/v1/%s/keys", mount);
	snprintf(p_key, sizeof(p_key), "/v1/%s/keys/*", mount);
	snprintf(p_sign, sizeof(p_sign), "/v1/%s/sign/*", mount);
	snprintf(p_sign_hash, sizeof(p_sign_hash), "/v1/%s/sign/*/*", mount);
	snprintf(p_verify, sizeof(p_verify), "/v1/%s/verify/*", mount);
	snprintf(p_verify_hash, sizeof(p_verify_hash), "/v1/%s/verify/*/*", mount);
	snprintf(p_prefix, sizeof(p_prefix), "/v1/%s/", mount);
}
const api_dialect api_dialect_transit = {
	.name = "transit",
	.prefixes = prefixes,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.render_error = transit_error,
	/* an Ed25519 or ML-DSA input of SG_MAX_MESSAGE bytes is 1.4 MB as base64 */
	.max_body = 2u * 1024u * 1024u,
};
