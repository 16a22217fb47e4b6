/*
 * dialect_signpath.c - the hash-signing-data API (SPEC §4 item 3, readings
 * S1-S9): SignPath-style signing requests posted as multipart forms
 * (`curl -F`), whose Artifact is a payload.json naming the signature
 * algorithm, the hash (by OID for RSA, by length for ECDSA) and the
 * base64 hash itself; status polling with SignPath's words; the signed
 * artifact; resubmission under another policy; and the Cryptoki view of
 * the caller's policies (certificate, public key, RSA parameters).
 *
 * The form is parsed by multipart.c (bounded, every malformation a 400);
 * this file turns it into an sg_submit under the policy ProjectSlug/
 * SigningPolicySlug and renders the service's outcome: 200 with the
 * artifact plus Signature when signed in the call, else 201 with a
 * Location to poll.  {organization} is the caller's tenant id; any other
 * is 404 (S1).  Errors keep the native shape and codes (S9).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <microhttpd.h>
#include "api.h"
#include "sg_b64.h"
#include "sg_multipart.h"

/* ---- words ---- */

/* S4: SignPath's status words over the service's enum. */
static const char *
status_word(sg_request_status s)
{
	switch (s) {
	case SG_RQ_QUEUED:
	case SG_RQ_PROCESSING: return "InProgress";
	case SG_RQ_PENDING_APPROVAL: return "WaitingForApproval";
	case SG_RQ_SIGNED: return "Completed";
	case SG_RQ_REJECTED: return "Denied";
	case SG_RQ_FAILED:
	case SG_RQ_DEAD_LETTER:
	case SG_RQ_NONE:
		break;
	}
	return "Failed";
}

static int
is_final(sg_request_status s)
{
	return s == SG_RQ_SIGNED || s == SG_RQ_FAILED || s == SG_RQ_DEAD_LETTER || s == SG_RQ_REJECTED;
}

/* The hashes the document lists by OID (S5); no others. */
static sg_hash_alg
hash_from_oid(const char *oid)
{
	static const sg_hash_alg listed[] = { SG_HASH_MD5, SG_HASH_SHA1, SG_HASH_SHA256, SG_HASH_SHA384,
		SG_HASH_SHA512 };
	sg_hash_alg h = sg_hash_from_oid(oid);
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		if (h == listed[i])
			return h;
	return SG_HASH_NONE;
}

static const struct {
	const char *word;
	sg_sig_scheme scheme;
	const char *native;
} algorithms[] = {
	{ "RsaPkcs1", SG_SCHEME_RSA_PKCS1, "RSA-PKCS1" },
	{ "RsaPss", SG_SCHEME_RSA_PSS, "RSA-PSS" },
	{ "Ecdsa", SG_SCHEME_ECDSA, "ECDSA" },
};
#define NALGORITHMS (sizeof(algorithms) / sizeof(algorithms[0]))

/* ---- request helpers ---- */

/* S1: the organization in the path is the caller's tenant id; else 404. */
static int
check_org(api_req *req, api_resp *resp)
{
	if (strcmp(req->params[0], req->tenant.id) == 0)
		return 0;
	api_error(req, resp, SG_ERR_NOT_FOUND, "no organization '%.64s'", req->params[0]);
	return -1;
}

/*
 * The absolute URL of path on this server, for Location and
 * signedArtifactLink (SignPath clients follow them as given).  The Host
 * header is used only when it is a plain host[:port]; else the URL stays
 * relative.
 */
static void
self_url(api_req *req, const char *path, char *out, size_t cap)
{
	const char *host = api_header(req, "Host");
	int ok = host != NULL && host[0] != 0 && strlen(host) < 256;
	for (const char *c = host; ok && *c; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr(".-:[]", *c) != NULL;
	if (!ok) {
		snprintf(out, cap, "%s", path);
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	int tls = ci != NULL && ci->tls_session != NULL;
	snprintf(out, cap, "%s://%s%s", tls ? "https" : "http", host, path);
}

static void
request_url(api_req *req, const char *id, const char *tail, char *out, size_t cap)
{
	char path[256];
	snprintf(path, sizeof(path), "/api/v1/%s/SigningRequests/%s%s", req->tenant.id, id, tail);
	self_url(req, path, out, cap);
}

/* Parse the body as a form whose parts are all in known; 400 and -1 when it is not. */
static int
read_form(api_req *req, api_resp *resp, const char *const *known, sg_mp_form *form)
{
	char boundary[SG_MP_MAX_BOUNDARY + 1];
	const char *why = NULL;
	if (sg_mp_boundary(api_header(req, "Content-Type"), boundary, &why) != SG_OK ||
	    sg_mp_parse(req->body, req->body_len, boundary, form, &why) != SG_OK) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "%s", why);
		return -1;
	}
	for (size_t i = 0; i < form->n; i++) {
		int ok = 0;
		for (size_t k = 0; known[k] != NULL; k++)
			if (strcmp(known[k], form->parts[i].name) == 0)
				ok = 1;
		if (!ok) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "unknown form field '%.63s'",
			    form->parts[i].name);
			return -1;
		}
	}
	return 0;
}

/* A text field into out (cap with its NUL); 400 and -1 when required and missing, or bad. */
static int
form_text(api_req *req, api_resp *resp, const sg_mp_form *form, const char *name, int required,
    char *out, size_t cap)
{
	const sg_mp_part *p = sg_mp_get(form, name);
	out[0] = 0;
	if (p == NULL || p->len == 0) {
		if (!required)
			return 0;
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "form field '%s' is required", name);
		return -1;
	}
	if (p->len >= cap) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "form field '%s' is longer than %zu characters",
		    name, cap - 1);
		return -1;
	}
	for (size_t i = 0; i < p->len; i++) {
		if (p->data[i] < 0x20 || p->data[i] == 0x7f) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "form field '%s' has a control character",
			    name);
			return -1;
		}
	}
	memcpy(out, p->data, p->len);
	out[p->len] = 0;
	return 0;
}

/* ---- POST .../SigningRequests ---- */

/* The decoded payload.json. */
typedef struct artifact {
	json_t *json;               /* the object as sent, echoed back with Signature */
	sg_sig_scheme scheme;
	sg_hash_alg hash;
	sg_sig_format format;
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	char *metadata;             /* canonical JSON text or NULL */
} artifact;

static void
artifact_clear(artifact *a)
{
	json_decref(a->json);
	free(a->metadata);
	memset(a, 0, sizeof(*a));
}

/* Read the Artifact part (S5); 400 and -1 when it is not a payload we can sign. */
static int
read_artifact(api_req *req, api_resp *resp, const sg_mp_part *part, artifact *a)
{
	static const char *const known[] = { "SignatureAlgorithm", "RsaHashAlgorithm",
		"EcdsaSignatureFormat", "Base64EncodedHash", "Metadata", NULL };
	const char *alg = NULL, *oid = NULL, *format = NULL, *hash = NULL, *errmsg = NULL;
	json_error_t e;
	int r;

	memset(a, 0, sizeof(*a));
	a->json = json_loadb((const char *)part->data, part->len, JSON_REJECT_DUPLICATES, &e);
	if (a->json == NULL || !json_is_object(a->json)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "the Artifact must be a payload.json object%s%s",
		    a->json ? "" : ": ", a->json ? "" : e.text);
		return -1;
	}
	if (api_fields_known(req, resp, a->json, known) ||
	    api_field_str(req, resp, a->json, "SignatureAlgorithm", 1, 32, &alg) ||
	    api_field_str(req, resp, a->json, "RsaHashAlgorithm", 0, 64, &oid) ||
	    api_field_str(req, resp, a->json, "EcdsaSignatureFormat", 0, 16, &format) ||
	    api_field_str(req, resp, a->json, "Base64EncodedHash", 1, 1024, &hash) ||
	    api_metadata_text(req, resp, a->json, "Metadata", &a->metadata))
		return -1;
	for (size_t i = 0; i < NALGORITHMS; i++)
		if (strcasecmp(alg, algorithms[i].word) == 0)
			a->scheme = algorithms[i].scheme;
	if (a->scheme == SG_SCHEME_NONE) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_ALGORITHM, "unknown SignatureAlgorithm '%.32s' "
		    "(RsaPkcs1, RsaPss, Ecdsa)", alg);
		return -1;
	}
	if (a->scheme == SG_SCHEME_ECDSA) {
		/* The hash follows from the length (S5); the OID is only used for RSA keys. */
		uint8_t *raw = NULL;
		size_t len = 0;
		if (sg_b64_decode(hash, strlen(hash), &raw, &len) != SG_OK) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "Base64EncodedHash is not valid base64");
			return -1;
		}
		free(raw);
		a->hash = len == 32 ? SG_HASH_SHA256 : len == 48 ? SG_HASH_SHA384 : len == 64 ? SG_HASH_SHA512 :
		    SG_HASH_NONE;
		if (a->hash == SG_HASH_NONE) {
			api_error(req, resp, SG_ERR_DIGEST_LENGTH, "an Ecdsa Base64EncodedHash is 32, 48 or 64 "
			    "bytes (SHA-256, SHA-384, SHA-512); this one is %zu", len);
			return -1;
		}
		a->format = SG_FORMAT_P1363;
		if (format != NULL && strcasecmp(format, "Asn1") == 0) {
			a->format = SG_FORMAT_DER;
		} else if (format != NULL && strcasecmp(format, "Ieee") != 0) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "EcdsaSignatureFormat must be Ieee or Asn1");
			return -1;
		}
	} else {
		if (oid == NULL) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "RsaHashAlgorithm (the hash's OID) is "
			    "required for %s", alg);
			return -1;
		}
		if ((a->hash = hash_from_oid(oid)) == SG_HASH_NONE) {
			api_error(req, resp, SG_ERR_UNSUPPORTED_HASH, "unknown RsaHashAlgorithm OID '%.64s' (MD5 "
			    "1.2.840.113549.2.5, SHA1 1.3.14.3.2.26, SHA-256 2.16.840.1.101.3.4.2.1, SHA-384 "
			    "2.16.840.1.101.3.4.2.2, SHA-512 2.16.840.1.101.3.4.2.3)", oid);
			return -1;
		}
	}
	if ((r = sg_digest_decode(hash, a->hash, a->digest, &a->digest_len, &errmsg)) != SG_OK) {
		api_error(req, resp, r, "Base64EncodedHash: %s", errmsg ? errmsg : "does not decode");
		return -1;
	}
	return 0;
}

/* "project/slug" from two form values; 400 and -1 when too long. */
static int
policy_ref(api_req *req, api_resp *resp, const char *project, const char *slug, char *out, size_t cap)
{
	if (strchr(project, '/') != NULL || strchr(slug, '/') != NULL ||
	    (size_t)snprintf(out, cap, "%s/%s", project, slug) >= cap) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "ProjectSlug and SigningPolicySlug must be "
		    "slugs of at most 128 characters, without '/'");
		return -1;
	}
	return 0;
}

/* S3: 201 with a Location to poll (and the id, for clients that read bodies). */
static void
render_created(api_req *req, api_resp *resp, const char *id)
{
	request_url(req, id, "", resp->location, sizeof(resp->location));
	api_json(resp, 201, json_pack("{s:s}", "signingRequestId", id));
}

static void
submit(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "ProjectSlug", "SigningPolicySlug", "IsFastSigningRequest",
		"Description", "Artifact", NULL };
	sg_mp_form form;
	artifact a;
	char project[SG_NAME_MAX], slug[SG_NAME_MAX], fast[8], description[512];
	char policy[SG_POLICY_REF_MAX];
	sg_submit in;
	sg_outcome out;
	sg_problem problem;
	sg_caller caller;

	memset(&a, 0, sizeof(a));
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	if (check_org(req, resp) || read_form(req, resp, known, &form) ||
	    form_text(req, resp, &form, "ProjectSlug", 1, project, sizeof(project)) ||
	    form_text(req, resp, &form, "SigningPolicySlug", 1, slug, sizeof(slug)) ||
	    form_text(req, resp, &form, "IsFastSigningRequest", 0, fast, sizeof(fast)) ||
	    form_text(req, resp, &form, "Description", 0, description, sizeof(description)) ||
	    policy_ref(req, resp, project, slug, policy, sizeof(policy)))
		return;
	if (fast[0] && strcasecmp(fast, "true") != 0 && strcasecmp(fast, "false") != 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "IsFastSigningRequest must be true or false");
		return;
	}
	const sg_mp_part *part = sg_mp_get(&form, "Artifact");
	if (part == NULL) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "form field 'Artifact' (payload.json) is required");
		return;
	}
	if (read_artifact(req, resp, part, &a))
		goto out;
	in.policy = policy;
	in.hash = a.hash;
	in.digest = a.digest;
	in.digest_len = a.digest_len;
	in.scheme = a.scheme;
	in.format = a.format;
	in.pss_salt_len = -1;                /* S5: salt = hash length */
	in.metadata_json = a.metadata;
	in.description = description[0] ? description : NULL;
	/* Not fast: the request is always queued (or held), never signed in the call. */
	in.async = strcasecmp(fast, "true") != 0;
	if (sg_svc_submit(req->svc, api_caller(req, &caller), &in, &out, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	if (out.has_signature && !in.async) {
		/* S3: exactly the payload's properties and values, plus Signature. */
		json_t *j = json_deep_copy(a.json);
		api_b64_set(j, "Signature", out.signature.signature, out.signature.signature_len);
		api_json(resp, 200, j);
	} else {
		render_created(req, resp, out.request.id);
	}
	sg_outcome_clear(&out);
out:
	artifact_clear(&a);
}

/* ---- GET .../SigningRequests/{id} and .../SignedArtifact ---- */

/* A native name back to the document's word ("RSA-PSS" -> "RsaPss"); the native name otherwise. */
static const char *
algorithm_word(const char *native)
{
	for (size_t i = 0; i < NALGORITHMS; i++)
		if (strcmp(native, algorithms[i].native) == 0)
			return algorithms[i].word;
	return native;
}

static void
get_request(api_req *req, api_resp *resp)
{
	sg_request rq;
	sg_problem problem;
	sg_caller caller;
	int has_sig = 0;
	char link[600];

	if (check_org(req, resp))
		return;
	if (sg_svc_request_get(req->svc, api_caller(req, &caller), req->params[1], &rq, NULL, &has_sig,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	sg_request_status st = sg_request_status_of(&rq);
	json_t *j = json_pack("{s:s,s:s,s:b}", "id", rq.id, "status", status_word(st), "isFinalStatus",
	    is_final(st));
	const char *slash = strchr(rq.policy, '/');
	if (slash != NULL) {
		json_object_set_new(j, "projectSlug", json_stringn(rq.policy, (size_t)(slash - rq.policy)));
		json_object_set_new(j, "signingPolicySlug", json_string(slash + 1));
	}
	json_object_set_new(j, "description", json_string(rq.description));
	if (st == SG_RQ_SIGNED) {
		request_url(req, rq.id, "/SignedArtifact", link, sizeof(link));
		json_object_set_new(j, "signedArtifactLink", json_string(link));
	}
	api_json(resp, 200, j);
	sg_request_clear(&rq);
}

/* S4: the artifact rebuilt from the native request, plus Signature. */
static void
get_signed_artifact(api_req *req, api_resp *resp)
{
	sg_request rq;
	sg_signature sig;
	sg_problem problem;
	sg_caller caller;
	int has_sig = 0;

	if (check_org(req, resp))
		return;
	if (sg_svc_request_get(req->svc, api_caller(req, &caller), req->params[1], &rq, &sig, &has_sig,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	if (!has_sig) {
		api_error(req, resp, SG_ERR_PRECONDITION, "signing request %s is %s, not Completed", rq.id,
		    status_word(sg_request_status_of(&rq)));
		sg_request_clear(&rq);
		return;
	}
	json_t *j = json_pack("{s:s}", "SignatureAlgorithm", algorithm_word(sig.sig_scheme));
	sg_sig_scheme scheme = sg_scheme_from_name(sig.sig_scheme);
	if (scheme == SG_SCHEME_RSA_PKCS1 || scheme == SG_SCHEME_RSA_PSS) {
		const char *oid = sg_hash_oid(sg_hash_from_name(sig.hash_alg));
		json_object_set_new(j, "RsaHashAlgorithm", json_string(oid ? oid : ""));
	} else if (scheme == SG_SCHEME_ECDSA) {
		json_object_set_new(j, "EcdsaSignatureFormat",
		    json_string(strcmp(sig.sig_format, "DER") == 0 ? "Asn1" : "Ieee"));
	}
	api_b64_set(j, "Base64EncodedHash", sig.digest, sig.digest_len);
	json_t *m = rq.metadata_json ? json_loads(rq.metadata_json, 0, NULL) : NULL;
	if (m != NULL)
		json_object_set_new(j, "Metadata", m);
	api_b64_set(j, "Signature", sig.signature, sig.signature_len);
	api_json(resp, 200, j);
	sg_signature_clear(&sig);
	sg_request_clear(&rq);
}

/* ---- POST .../SigningRequests/Resubmit ---- */

static void
resubmit(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "OriginalSigningRequestId", "SigningPolicySlug", "Description",
		NULL };
	sg_mp_form form;
	char original[SG_ID_MAX], slug[SG_NAME_MAX], description[512], policy[SG_POLICY_REF_MAX];
	sg_request orig;
	sg_outcome out;
	sg_problem problem;
	sg_caller caller;
	int has_sig = 0;

	if (check_org(req, resp) || read_form(req, resp, known, &form) ||
	    form_text(req, resp, &form, "OriginalSigningRequestId", 1, original, sizeof(original)) ||
	    form_text(req, resp, &form, "SigningPolicySlug", 1, slug, sizeof(slug)) ||
	    form_text(req, resp, &form, "Description", 0, description, sizeof(description)))
		return;
	/* S6: the original's project, with the new policy's slug. */
	if (sg_svc_request_get(req->svc, api_caller(req, &caller), original, &orig, NULL, &has_sig,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	const char *slash = strchr(orig.policy, '/');
	if (slash == NULL) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "signing request %s was made without a "
		    "project, so it cannot be resubmitted to one", orig.id);
		sg_request_clear(&orig);
		return;
	}
	char project[SG_NAME_MAX];
	snprintf(project, sizeof(project), "%.*s", (int)(slash - orig.policy), orig.policy);
	sg_request_clear(&orig);
	if (policy_ref(req, resp, project, slug, policy, sizeof(policy)))
		return;
	memset(&out, 0, sizeof(out));
	if (sg_svc_resubmit_keep(req->svc, api_caller(req, &caller), original, policy,
	    description[0] ? description : NULL, &out, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	render_created(req, resp, out.request.id);
	sg_outcome_clear(&out);
}

/* ---- GET .../Cryptoki/MySigningPolicies ---- */

/* One policy as the Cryptoki client sees it (S8); NULL when its key is neither RSA nor EC. */
static json_t *
policy_view(api_req *req, const sg_policy *pol)
{
	sg_key key;
	sg_key_version v;
	sg_problem problem;
	sg_caller caller;
	uint8_t *bits = NULL, *cert = NULL, *n = NULL, *e = NULL;
	size_t bitslen = 0, certlen = 0, nlen = 0, elen = 0;
	json_t *j = NULL;

	if (sg_svc_key_get(req->svc, api_caller(req, &caller), pol->key_id, &key, &problem) != SG_OK)
		return NULL;
	int rsa = key.alg == SG_KEY_RSA_2048 || key.alg == SG_KEY_RSA_3072 || key.alg == SG_KEY_RSA_4096;
	int ec = key.alg == SG_KEY_EC_P256 || key.alg == SG_KEY_EC_P384 || key.alg == SG_KEY_EC_P521;
	if ((!rsa && !ec) ||
	    sg_svc_key_version_get(req->svc, api_caller(req, &caller), &key, 0, &v, &problem) != SG_OK)
		return NULL;
	if (sg_spki_public_bits(v.spki, v.spki_len, &bits, &bitslen) != SG_OK ||
	    (rsa && sg_spki_rsa_params(v.spki, v.spki_len, &n, &nlen, &e, &elen) != SG_OK))
		goto out;
	j = json_pack("{s:s,s:s,s:s,s:s,s:i}", "signingPolicyId", pol->id, "signingPolicySlug", pol->slug,
	    "projectSlug", pol->project, "keyType", rsa ? "Rsa" : "Ecdsa", "keySizeInBits",
	    sg_key_alg_bits(key.alg));
	api_b64_set(j, "publicKeyBytes", bits, bitslen);
	if (v.cert_chain_pem != NULL && sg_pem_first_cert_der(v.cert_chain_pem, &cert, &certlen) == SG_OK)
		api_b64_set(j, "certificateBytes", cert, certlen);
	else
		json_object_set_new(j, "certificateBytes", json_null());
	if (rsa) {
		json_t *params = json_object();
		api_b64_set(params, "publicExponent", e, elen);
		api_b64_set(params, "modulus", n, nlen);
		json_object_set_new(j, "rsaParameters", params);
	} else {
		json_object_set_new(j, "rsaParameters", json_null());
	}
out:
	free(bits);
	free(cert);
	free(n);
	free(e);
	sg_key_version_clear(&v);
	return j;
}

static void
my_signing_policies(api_req *req, api_resp *resp)
{
	const char *project = api_query(req, "projectSlug"), *slug = api_query(req, "signingPolicySlug");
	sg_policy *list = NULL;
	size_t n = 0;
	sg_problem problem;
	sg_caller caller;

	if (check_org(req, resp))
		return;
	if (sg_svc_policies_for_submitter(req->svc, api_caller(req, &caller), &list, &n, &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		if ((project != NULL && project[0] && strcmp(project, list[i].project) != 0) ||
		    (slug != NULL && slug[0] && strcmp(slug, list[i].slug) != 0))
			continue;
		json_t *p = policy_view(req, &list[i]);
		if (p != NULL)
			json_array_append_new(a, p);
	}
	sg_policy_list_free(list, n);
	api_json(resp, 200, json_pack("{s:o}", "signingPolicies", a));
}

#define R_READ_REQUESTS (SG_ROLE_SIGNER | SG_ROLE_AUDITOR | SG_ROLE_ADMIN | SG_ROLE_APPROVER)

static const api_route_def routes[] = {
	{ "POST", "/api/v1/*/SigningRequests", submit, SG_ROLE_SIGNER },
	{ "POST", "/api/v1/*/SigningRequests/Resubmit", resubmit, SG_ROLE_SIGNER },
	{ "GET", "/api/v1/*/SigningRequests/*", get_request, R_READ_REQUESTS },
	{ "GET", "/api/v1/*/SigningRequests/*/SignedArtifact", get_signed_artifact, R_READ_REQUESTS },
	{ "GET", "/api/v1/*/Cryptoki/MySigningPolicies", my_signing_policies, API_ANY_ROLE },
	/* SignPath's own clients spell the prefix /Api/v1. */
	{ "POST", "/Api/v1/*/SigningRequests", submit, SG_ROLE_SIGNER },
	{ "POST", "/Api/v1/*/SigningRequests/Resubmit", resubmit, SG_ROLE_SIGNER },
	{ "GET", "/Api/v1/*/SigningRequests/*", get_request, R_READ_REQUESTS },
	{ "GET", "/Api/v1/*/SigningRequests/*/SignedArtifact", get_signed_artifact, R_READ_REQUESTS },
	{ "GET", "/Api/v1/*/Cryptoki/MySigningPolicies", my_signing_policies, API_ANY_ROLE },
};

static const char *const prefixes[] = { "/api/v1/*/SigningRequests", "/api/v1/*/Cryptoki/",
	"/Api/v1/*/SigningRequests", "/Api/v1/*/Cryptoki/", NULL };

const api_dialect api_dialect_signpath = {
	.name = "signpath",
	.prefixes = prefixes,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.render_error = api_native_error,  /* S9 */
};
