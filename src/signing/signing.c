/*
 * signing.c - executing a validated signing request (see sg_signing.h): the
 * rule of which key version may sign (sg_signing_obstacles), the workers'
 * path that loads and re-checks a stored request (sg_signing_execute), and
 * the one call into the keystore that both paths end in (sign_checked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_signing.h"
#include "sg_status.h"
#include "sg_tsa.h"
#include "sg_util.h"

sg_keystore *
sg_service_keystore(const sg_service *svc, const char *storage)
{
	if (strcmp(storage, "DISK") == 0)
		return svc->soft;
	if (strcmp(storage, "HSM") == 0)
		return svc->hsm;
	return NULL;
}

/* A stored request's names as signing parameters, checked against key algorithm alg. */
static int
stored_params(const sg_request *rq, sg_key_alg alg, sg_sign_params *p)
{
	memset(p, 0, sizeof(*p));
	p->hash = sg_hash_from_name(rq->hash_alg);
	p->scheme = rq->sig_scheme[0] ? sg_scheme_from_name(rq->sig_scheme) : SG_SCHEME_NONE;
	p->message = strcmp(rq->sig_format, SG_SIGNING_MESSAGE_FORMAT) == 0;
	int f = p->message ? SG_FORMAT_DEFAULT : sg_format_from_name(rq->sig_format[0] ? rq->sig_format : NULL);
	if (p->hash == SG_HASH_NONE || f < 0 || (rq->sig_scheme[0] && p->scheme == SG_SCHEME_NONE))
		return SG_ERR_INVALID_ARGUMENT;
	p->format = (sg_sig_format)f;
	p->pss_salt_len = rq->pss_salt_len;
	if (rq->context_len > 0) {
		p->context = rq->context;
		p->context_len = rq->context_len;
	}
	return sg_sign_params_check(alg, p);
}

int
sg_signing_transient(int err)
{
	return err == SG_ERR_UNAVAILABLE || err == SG_ERR_KEY_NOT_ACTIVE || err == SG_ERR_STORE;
}

unsigned
sg_signing_obstacles(const sg_key *key, const sg_key_version *version)
{
	unsigned ob = 0;
	if (sg_key_status_of(key) != SG_KEY_ONLINE)
		ob |= SG_SIGNING_KEY_NOT_ONLINE;
	if (version == NULL)
		return ob;
	if (sg_version_state_of(version) != SG_VERSION_ACTIVE || version->handle == NULL)
		ob |= SG_SIGNING_VERSION_DESTROYED;
	if (version->version != key->current_version)
		ob |= SG_SIGNING_VERSION_NOT_CURRENT;
	return ob;
}

/* Have the keystore sign input (the digest, or the message of a message request) and fill *sig. */
static int
sign_checked(const sg_service *svc, const sg_request *rq, const sg_key *key,
    const sg_key_version *version, const sg_sign_params *params, const uint8_t *input, size_t input_len,
    sg_signature *sig, const char **errmsg)
{
	char vid[SG_KEY_VERSION_ID_MAX];
	int r;

	sg_keystore *ks = sg_service_keystore(svc, key->storage);
	if (ks == NULL) {
		*errmsg = "the key's storage is not available";
		return SG_ERR_UNAVAILABLE;
	}
	memset(sig, 0, sizeof(*sig));
	if ((r = sg_uuid(sig->id)) != SG_OK)
		return r;
	sg_key_version_id(key->id, version->version, vid);
	sg_key_ref ref = { vid, key->alg, version->handle, version->handle_len };
	if ((r = sg_keystore_sign(ks, &ref, params, input, input_len, &sig->signature,
	    &sig->signature_len)) != SG_OK) {
		*errmsg = r == SG_ERR_UNAVAILABLE ? "the key's storage is not available" : "the keystore could not sign";
		return r;
	}
	const char *format = sg_format_name(params->format);
	sg_strlcpy(sig->request_id, rq->id, sizeof(sig->request_id));
	sg_strlcpy(sig->tenant_id, rq->tenant_id, sizeof(sig->tenant_id));
	sg_strlcpy(sig->key_id, key->id, sizeof(sig->key_id));
	sig->key_version = version->version;
	sg_strlcpy(sig->hash_alg, sg_hash_name(params->hash), sizeof(sig->hash_alg));
	sg_strlcpy(sig->sig_scheme, sg_scheme_name(params->scheme, key->alg), sizeof(sig->sig_scheme));
	sg_strlcpy(sig->sig_format, params->message ? SG_SIGNING_MESSAGE_FORMAT : format ? format : "",
	    sizeof(sig->sig_format));
	memcpy(sig->digest, rq->digest, rq->digest_len);
	sig->digest_len = rq->digest_len;
	sig->metadata_json = rq->metadata_json;
	sg_strlcpy(sig->created_by, rq->principal_id, sizeof(sig->created_by));
	sg_strlcpy(sig->client_ip, rq->client_ip, sizeof(sig->client_ip));
	sg_strlcpy(sig->client_type, rq->client_type, sizeof(sig->client_type));
	sig->created_at = sg_now_ms();
	if (rq->timestamp) {
		/* The token's imprint is the hash of the signature value (SPEC §1, RFC 3161 usage). */
		const EVP_MD *md = sg_hash_is_legacy(params->hash) ? EVP_sha256() : sg_hash_md(params->hash);
		unsigned char h[EVP_MAX_MD_SIZE];
		unsigned int hlen = 0;
		if (svc->tsa == NULL) {
			*errmsg = "the time-stamp authority is not available";
			r = SG_ERR_UNAVAILABLE;
			goto fail;
		}
		if (EVP_Digest(sig->signature, sig->signature_len, h, &hlen, md, NULL) != 1) {
			r = SG_ERR_CRYPTO;
			goto fail;
		}
		if ((r = sg_tsa_stamp(svc->tsa, md, h, hlen, &sig->timestamp_token,
		    &sig->timestamp_token_len)) != SG_OK) {
			*errmsg = "the time-stamp authority could not stamp the signature";
			goto fail;
		}
	}
	*errmsg = NULL;
	return SG_OK;
fail:
	sig->metadata_json = NULL;
	sg_signature_clear(sig);
	return r;
}

int
sg_signing_sign(const sg_service *svc, const sg_request *rq, const sg_key *key,
    const sg_key_version *version, const sg_sign_params *params, const uint8_t *message,
    size_t message_len, sg_signature *sig, const char **errmsg)
{
	*errmsg = "signing failed";
	if (params->message != (message != NULL)) {
		*errmsg = params->message ? "a message request needs its message" :
		    "this request signs a digest, not a message";
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (message != NULL && (message == rq->digest || message_len > SG_MAX_MESSAGE))
		return SG_ERR_INVALID_ARGUMENT;
	return sign_checked(svc, rq, key, version, params, message ? message : rq->digest,
	    message ? message_len : rq->digest_len, sig, errmsg);
}

int
sg_signing_execute(const sg_service *svc, const sg_request *rq, sg_signature *sig, const char **errmsg)
{
	sg_store *s = svc->store;
	sg_key key;
	sg_key_version version;
	sg_sign_params params;
	int r;

	memset(&version, 0, sizeof(version));
	*errmsg = "signing failed";
	if ((r = s->ops->key_get(s, rq->tenant_id, rq->key_id, &key)) != SG_OK) {
		*errmsg = r == SG_ERR_NOT_FOUND ? "the key no longer exists" : "cannot load the key";
		return r;
	}
	if (sg_signing_obstacles(&key, NULL) & SG_SIGNING_KEY_NOT_ONLINE) {
		*errmsg = "the key is not ONLINE";
		return SG_ERR_KEY_NOT_ACTIVE;
	}
	int want = rq->key_version > 0 ? rq->key_version : key.current_version;
	if ((r = s->ops->key_version_get(s, rq->tenant_id, key.id, want, &version)) != SG_OK) {
		*errmsg = "the key version does not exist";
		return r;
	}
	unsigned ob = sg_signing_obstacles(&key, &version);
	/* A request pinned to a version rotated out fails for good; a destroyed one may yet be rotated. */
	if (ob & SG_SIGNING_VERSION_NOT_CURRENT) {
		*errmsg = "the requested key version is no longer the current one";
		r = SG_ERR_PRECONDITION;
		goto out;
	}
	if (ob & SG_SIGNING_VERSION_DESTROYED) {
		*errmsg = "the key version is destroyed";
		r = SG_ERR_KEY_NOT_ACTIVE;
		goto out;
	}
	if ((r = stored_params(rq, key.alg, &params)) != SG_OK) {
		*errmsg = "the signature parameters do not fit the key";
		goto out;
	}
	if (params.message) {
		*errmsg = "a message request cannot be signed once its message is gone";
		r = SG_ERR_PRECONDITION;
		goto out;
	}
	r = sign_checked(svc, rq, &key, &version, &params, rq->digest, rq->digest_len, sig, errmsg);
out:
	sg_key_version_clear(&version);
	return r;
}
