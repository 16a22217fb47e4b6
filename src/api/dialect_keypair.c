/*
 * dialect_keypair.c - the key-pair API (SPEC §4 item 4, readings D1-D7;
 * reference/digicert-stm-keypair-sign-hash.txt) as a dialect over the
 * service.
 *
 * Under /signingmanager/api/v1/: create, list and show keypairs (native
 * keys of the RSA, EC and Ed25519 families; the keypair id is the native
 * key id), sign a hash with a `sig_alg` that fixes hash and scheme, and read
 * a signature record in the document's fields.  Key creation is
 * sg_svc_key_create and signing sg_svc_submit, the same calls as the native
 * API, so keypairs, records and the audit chain are shared.  The hash and
 * sig_alg as sent are kept in the request's metadata, so the record can
 * show them as the document does.  Errors are {"errors":[{code, message}]};
 * a keypair that is unknown, another tenant's, or that the caller may not
 * sign with is 404 KEYPAIR_NOT_FOUND (D6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_b64.h"

#define PREFIX "/signingmanager/api/v1/"
#define R_READ (SG_ROLE_ADMIN | SG_ROLE_SIGNER | SG_ROLE_APPROVER | SG_ROLE_AUDITOR)

/* key_alg + properties -> native key algorithm (D1). */
typedef struct kp_alg {
	const char *key_alg;
	int key_size;                   /* RSA; 0 otherwise */
	const char *curve;              /* ECDSA, EdDSA; NULL otherwise */
	sg_key_alg alg;
} kp_alg;

static const kp_alg kp_algs[] = {
	{ "RSA", 2048, NULL, SG_KEY_RSA_2048 },
	{ "RSA", 3072, NULL, SG_KEY_RSA_3072 },
	{ "RSA", 4096, NULL, SG_KEY_RSA_4096 },
	{ "ECDSA", 0, "P-256", SG_KEY_EC_P256 },
	{ "ECDSA", 0, "P-384", SG_KEY_EC_P384 },
	{ "ECDSA", 0, "P-521", SG_KEY_EC_P521 },
	{ "EdDSA", 0, "Ed25519", SG_KEY_ED25519 },
};

/* sig_alg -> hash and scheme (D3).  ED25519's hash follows from the hash's length. */
typedef struct kp_sig_alg {
	const char *name;
	sg_hash_alg hash;
	sg_sig_scheme scheme;
} kp_sig_alg;

static const kp_sig_alg kp_sig_algs[] = {
	{ "SHA256WithRSA", SG_HASH_SHA256, SG_SCHEME_RSA_PKCS1 },
	{ "SHA384WithRSA", SG_HASH_SHA384, SG_SCHEME_RSA_PKCS1 },
	{ "SHA512WithRSA", SG_HASH_SHA512, SG_SCHEME_RSA_PKCS1 },
	{ "SHA256WithRSA/PSS", SG_HASH_SHA256, SG_SCHEME_RSA_PSS },
	{ "SHA384WithRSA/PSS", SG_HASH_SHA384, SG_SCHEME_RSA_PSS },
	{ "SHA512WithRSA/PSS", SG_HASH_SHA512, SG_SCHEME_RSA_PSS },
	{ "SHA3-256WithRSA/PSS", SG_HASH_SHA3_256, SG_SCHEME_RSA_PSS },
	{ "SHA3-384WithRSA/PSS", SG_HASH_SHA3_384, SG_SCHEME_RSA_PSS },
	{ "SHA3-512WithRSA/PSS", SG_HASH_SHA3_512, SG_SCHEME_RSA_PSS },
	{ "SHA256WithECDSA", SG_HASH_SHA256, SG_SCHEME_ECDSA },
	{ "SHA384WithECDSA", SG_HASH_SHA384, SG_SCHEME_ECDSA },
	{ "SHA512WithECDSA", SG_HASH_SHA512, SG_SCHEME_ECDSA },
	{ "ED25519", SG_HASH_NONE, SG_SCHEME_ED25519 },
};

static void
kp_error(api_req *req, api_resp *resp, unsigned status, const char *code, int err, const char *message)
{
	/* Every "no such keypair", whatever the reason, reads the same (D6). */
	if (err == SG_ERR_NOT_FOUND && req->path != NULL &&
	    strncmp(req->path, PREFIX "keypairs", strlen(PREFIX "keypairs")) == 0) {
		status = 404;
		code = "KEYPAIR_NOT_FOUND";
		message = "Keypair not found or you do not have access";
	} else if (err == SG_ERR_NOT_FOUND && req->path != NULL &&
	    strncmp(req->path, PREFIX "signatures", strlen(PREFIX "signatures")) == 0) {
		code = "SIGNATURE_NOT_FOUND";
	}
	sg_strlcpy(resp->error_code, code, sizeof(resp->error_code));
	api_json(resp, status, json_pack("{s:[{s:s,s:s}]}", "errors", "code", code, "message", message));
}

static const kp_alg *
kp_alg_of(sg_key_alg alg)
{
	for (size_t i = 0; i < sizeof(kp_algs) / sizeof(kp_algs[0]); i++)
		if (kp_algs[i].alg == alg)
			return &kp_algs[i];
	return NULL;
}

static json_t *
keypair_json(const sg_key *k)
{
	char ts[32];
	const kp_alg *a = kp_alg_of(k->alg);
	json_t *props = a == NULL ? json_object() : a->curve ? json_pack("{s:s}", "curve", a->curve) :
	    json_pack("{s:i}", "key_size", a->key_size);
	sg_time_format(k->created_at, ts);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:i,s:s}", "id", k->id, "alias", k->alias,
	    "key_alg", a ? a->key_alg : sg_key_alg_name(k->alg), "key_storage", k->storage, "key_type",
	    k->type, "properties", props, "status", k->status, "current_version", k->current_version,
	    "created_on", ts);
}

static void
kp_create(api_req *req, api_resp *resp)
{
	const char *alias = NULL, *key_alg = NULL, *storage = "DISK", *type = "PRODUCTION", *status = "ONLINE";
	const char *curve = NULL;
	int64_t key_size = 0;
	sg_key_create in;
	sg_key k;
	sg_problem problem;
	sg_caller caller;
	const kp_alg *a = NULL;

	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	json_t *props = json_object_get(body, "properties");
	if (api_field_str(req, resp, body, "alias", 1, 128, &alias) ||
	    api_field_str(req, resp, body, "key_alg", 1, 16, &key_alg) ||
	    api_field_str(req, resp, body, "key_storage", 0, 16, &storage) ||
	    api_field_str(req, resp, body, "key_type", 0, 16, &type) ||
	    api_field_str(req, resp, body, "status", 0, 16, &status))
		goto out;
	if (!api_valid_name(alias)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "alias must be 1-128 characters of letters, digits, '.', '_' or '-'");
		goto out;
	}
	if (strcmp(key_alg, "RSA") != 0 && strcmp(key_alg, "ECDSA") != 0 && strcmp(key_alg, "EdDSA") != 0) {
		api_error_code(req, resp, 400, "INVALID_KEY_ALG", "Invalid key algorithm '%.16s': use RSA, "
		    "ECDSA or EdDSA", key_alg);
		goto out;
	}
	if (props != NULL && !json_is_object(props)) {
		api_error_code(req, resp, 400, "INVALID_PROPERTIES", "properties must be an object");
		goto out;
	}
	json_t *ks = json_object_get(props, "key_size"), *cv = json_object_get(props, "curve");
	if (json_is_integer(ks))
		key_size = json_integer_value(ks);
	if (json_is_string(cv))
		curve = json_string_value(cv);
	for (size_t i = 0; i < sizeof(kp_algs) / sizeof(kp_algs[0]) && a == NULL; i++) {
		if (strcmp(kp_algs[i].key_alg, key_alg) != 0)
			continue;
		if (kp_algs[i].curve ? curve != NULL && strcmp(curve, kp_algs[i].curve) == 0 :
		    key_size == kp_algs[i].key_size)
			a = &kp_algs[i];
	}
	if (a == NULL) {
		api_error_code(req, resp, 400, "INVALID_PROPERTIES", strcmp(key_alg, "RSA") == 0 ?
		    "RSA needs properties.key_size 2048, 3072 or 4096" : strcmp(key_alg, "ECDSA") == 0 ?
		    "ECDSA needs properties.curve P-256, P-384 or P-521" : "EdDSA needs properties.curve Ed25519");
		goto out;
	}
	in = (sg_key_create){ alias, a->alg, storage, type, sg_key_status_from_name(status) };
	if ((strcmp(storage, "DISK") != 0 && strcmp(storage, "HSM") != 0) ||
	    (strcmp(type, "PRODUCTION") != 0 && strcmp(type, "TEST") != 0) ||
	    (in.status != SG_KEY_ONLINE && in.status != SG_KEY_OFFLINE)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "key_storage must be HSM or DISK, key_type "
		    "PRODUCTION or TEST, status ONLINE or OFFLINE");
		goto out;
	}
	if (sg_svc_key_create(req->svc, api_caller(req, &caller), &in, &k, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	snprintf(resp->location, sizeof(resp->location), PREFIX "keypairs/%s", k.id);
	api_json(resp, 201, keypair_json(&k));
out:
	json_decref(body);
}

static void
kp_list(api_req *req, api_resp *resp)
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
		if (kp_alg_of(list[i].alg) != NULL)
			json_array_append_new(a, keypair_json(&list[i]));
	free(list);
	api_json(resp, 200, json_pack("{s:o}", "keypairs", a));
}

/* The caller's keypair path[0]; 404 KEYPAIR_NOT_FOUND when absent or not a key-pair family. */
static int
load_keypair(api_req *req, api_resp *resp, sg_key *k)
{
	sg_problem problem;
	sg_caller caller;
	if (sg_svc_key_get(req->svc, api_caller(req, &caller), req->params[0], k, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return -1;
	}
	if (kp_alg_of(k->alg) == NULL) {
		api_error(req, resp, SG_ERR_NOT_FOUND, "not a keypair");
		return -1;
	}
	return 0;
}

static void
kp_get(api_req *req, api_resp *resp)
{
	sg_key k;
	if (load_keypair(req, resp, &k) == 0)
		api_json(resp, 200, keypair_json(&k));
}

static void
kp_sign(api_req *req, api_resp *resp)
{
	const char *hash = NULL, *sig_alg = NULL, *errmsg = NULL;
	const kp_sig_alg *sa = NULL;
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len = 0;
	sg_submit in;
	sg_outcome out;
	sg_problem problem;
	sg_caller caller;
	sg_key k;
	char *metadata = NULL;
	int r;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	/* D6: without a signing role the keypair is not there for this caller. */
	if (!api_has_role(req, SG_ROLE_SIGNER)) {
		api_error(req, resp, SG_ERR_NOT_FOUND, "no signing role");
		return;
	}
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_field_str(req, resp, body, "hash", 1, 1024, &hash) ||
	    api_field_str(req, resp, body, "sig_alg", 1, 32, &sig_alg))
		goto out;
	if (load_keypair(req, resp, &k) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(kp_sig_algs) / sizeof(kp_sig_algs[0]); i++)
		if (strcmp(sig_alg, kp_sig_algs[i].name) == 0)
			sa = &kp_sig_algs[i];
	/* Does the scheme fit the key?  (ED25519's hash is only known from the hash's length.) */
	sg_sign_params params = { sa && sa->hash != SG_HASH_NONE ? sa->hash : SG_HASH_SHA256,
		sa ? sa->scheme : SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1, NULL, 0, 0 };
	if (sa == NULL || sg_sign_params_check(k.alg, &params) != SG_OK) {
		api_error_code(req, resp, 400, "INVALID_SIG_ALG", "Signature algorithm '%.32s' is not "
		    "compatible with keypair algorithm %s", sig_alg, sg_key_alg_name(k.alg));
		goto out;
	}
	in.hash = sa->hash;
	if (sa->scheme == SG_SCHEME_ED25519) {
		/* ED25519 signs the hash bytes; the hash is whichever SHA-2 has their length. */
		uint8_t *raw = NULL;
		size_t rawlen = 0;
		if (sg_b64_decode(hash, strlen(hash), &raw, &rawlen) == SG_OK)
			in.hash = rawlen == 32 ? SG_HASH_SHA256 : rawlen == 48 ? SG_HASH_SHA384 :
			    rawlen == 64 ? SG_HASH_SHA512 : SG_HASH_NONE;
		free(raw);
		if (in.hash == SG_HASH_NONE) {
			api_error(req, resp, SG_ERR_DIGEST_LENGTH, "hash must be base64 of 32, 48 or 64 bytes");
			goto out;
		}
	}
	if ((r = sg_digest_decode(hash, in.hash, digest, &digest_len, &errmsg)) != SG_OK) {
		api_error(req, resp, r, "%s (%s)", errmsg ? errmsg : "hash does not decode", sig_alg);
		goto out;
	}
	json_t *md = json_pack("{s:s,s:s}", "hash", hash, "sig_alg", sig_alg);
	metadata = md ? json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(md);
	in.key = k.id;
	in.digest = digest;
	in.digest_len = digest_len;
	in.scheme = sa->scheme;
	in.pss_salt_len = -1;
	in.metadata_json = metadata;
	if (sg_svc_submit(req->svc, api_caller(req, &caller), &in, &out, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	if (!out.has_signature) {
		api_error(req, resp, SG_ERR_PRECONDITION, "the signature is not ready");
		goto out;
	}
	json_t *j = json_pack("{s:s,s:s,s:s}", "id", out.signature.id, "keypair_id", k.id, "sig_alg", sig_alg);
	api_b64_set(j, "signature", out.signature.signature, out.signature.signature_len);
	api_json(resp, 200, j);
out:
	sg_outcome_clear(&out);
	free(metadata);
	json_decref(body);
}

/* A metadata field the sign route kept, or NULL. */
static const char *
kept(json_t *md, const char *name)
{
	return json_string_value(json_object_get(md, name));
}

static void
kp_signature(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_signature sig;
	sg_problem problem;
	sg_caller caller;
	sg_key k;
	sg_principal who;
	char ts[32];

	if (sg_svc_signature_get(req->svc, api_caller(req, &caller), req->params[0], &sig, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	json_t *md = sig.metadata_json ? json_loads(sig.metadata_json, 0, NULL) : NULL;
	int have_key = sg_svc_key_get(req->svc, &caller, sig.key_id, &k, &problem) == SG_OK;
	int have_who = s->ops->principal_get(s, req->tenant.id, sig.created_by, &who) == SG_OK;
	sg_time_format(sig.created_at, ts);
	json_t *j = json_pack("{s:s,s:s,s:s,s:[s],s:s,s:s,s:s,s:s}", "id", sig.id, "keypair_id", sig.key_id,
	    "signing_status", "SUCCESS", "account", req->tenant.id, "created_on", ts, "created_by",
	    sig.created_by, "client_ip", sig.client_ip, "client_type", sig.client_type);
	json_object_set_new(j, "key_pair", have_key ? json_string(k.alias) : json_null());
	api_b64_set(j, "signature", sig.signature, sig.signature_len);
	json_object_set_new(j, "sig_alg", json_string(kept(md, "sig_alg") ? kept(md, "sig_alg") : sig.sig_scheme));
	if (kept(md, "hash") != NULL)
		json_object_set_new(j, "hash", json_string(kept(md, "hash")));
	else
		api_b64_set(j, "hash", sig.digest, sig.digest_len);
	json_object_set_new(j, "created_by_user", have_who ? json_string(who.name) : json_null());
	static const char *const unset[] = { "modified_on", "modified_by", "modified_by_user",
		"certificate_id", "signature_type" };
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		json_object_set_new(j, unset[i], json_null());
	json_decref(md);
	sg_signature_clear(&sig);
	api_json(resp, 200, j);
}

static const api_route_def routes[] = {
	{ "POST", PREFIX "keypairs", kp_create, SG_ROLE_ADMIN },
	{ "GET", PREFIX "keypairs", kp_list, R_READ },
	{ "GET", PREFIX "keypairs/*", kp_get, R_READ },
	/* Any role: a caller without signer gets KEYPAIR_NOT_FOUND, not 403 (D6). */
	{ "POST", PREFIX "keypairs/*/sign", kp_sign, API_ANY_ROLE },
	{ "GET", PREFIX "signatures/*", kp_signature, SG_ROLE_SIGNER | SG_ROLE_AUDITOR | SG_ROLE_ADMIN },
};

static const char *const prefixes[] = { PREFIX, NULL };

const api_dialect api_dialect_keypair = {
	.name = "keypair",
	.prefixes = prefixes,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.render_error = kp_error,
};
