/* signing.c - executing a validated signing request (see sg_signing.h). */
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

int
sg_signing_params(const sg_request *rq, sg_key_alg alg, sg_sign_params *p)
{
	memset(p, 0, sizeof(*p));
	p->hash = sg_hash_from_name(rq->hash_alg);
	p->scheme = rq->sig_scheme[0] ? sg_scheme_from_name(rq->sig_scheme) : SG_SCHEME_NONE;
	int f = sg_format_from_name(rq->sig_format[0] ? rq->sig_format : NULL);
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

int
sg_signing_execute(const sg_service *svc, const sg_request *rq, const sg_key *key,
    const sg_key_version *version, sg_signature *sig, const char **errmsg)
{
	sg_store *s = svc->store;
	sg_key k;
	sg_key_version v;
	sg_sign_params params;
	int r, own_version = 0;
	char vid[SG_KEY_VERSION_ID_MAX];

	memset(&v, 0, sizeof(v));
	*errmsg = "signing failed";
	if (key == NULL) {
		if ((r = s->ops->key_get(s, rq->tenant_id, rq->key_id, &k)) != SG_OK) {
			*errmsg = r == SG_ERR_NOT_FOUND ? "the key no longer exists" : "cannot load the key";
			return r;
		}
		key = &k;
	}
	if (sg_key_status_of(key) != SG_KEY_ONLINE) {
		*errmsg = "the key is not ONLINE";
		return SG_ERR_KEY_NOT_ACTIVE;
	}
	if (version == NULL) {
		int want = rq->key_version > 0 ? rq->key_version : key->current_version;
		if ((r = s->ops->key_version_get(s, key->id, want, &v)) != SG_OK) {
			*errmsg = "the key version does not exist";
			return r;
		}
		version = &v;
		own_version = 1;
	}
	/* SPEC §1: only the newest version signs, even for a request queued before a rotation. */
	if (version->version != key->current_version) {
		*errmsg = "the requested key version is no longer the current one";
		r = SG_ERR_PRECONDITION;
		goto out;
	}
	if (sg_version_state_of(version) != SG_VERSION_ACTIVE || version->handle == NULL) {
		*errmsg = "the key version is destroyed";
		r = SG_ERR_KEY_NOT_ACTIVE;
		goto out;
	}
	if ((r = sg_signing_params(rq, key->alg, &params)) != SG_OK) {
		*errmsg = "the signature parameters do not fit the key";
		goto out;
	}
	sg_keystore *ks = sg_service_keystore(svc, key->storage);
	if (ks == NULL) {
		*errmsg = "the key's storage is not available";
		r = SG_ERR_UNAVAILABLE;
		goto out;
	}
	memset(sig, 0, sizeof(*sig));
	if ((r = sg_uuid(sig->id)) != SG_OK)
		goto out;
	sg_key_version_id(key->id, version->version, vid);
	sg_key_ref ref = { vid, key->alg, version->handle, version->handle_len };
	if ((r = sg_keystore_sign(ks, &ref, &params, rq->digest, rq->digest_len, &sig->signature,
	    &sig->signature_len)) != SG_OK) {
		*errmsg = r == SG_ERR_UNAVAILABLE ? "the key's storage is not available" : "the keystore could not sign";
		goto out;
	}
	const char *format = sg_format_name(params.format);
	sg_strlcpy(sig->request_id, rq->id, sizeof(sig->request_id));
	sg_strlcpy(sig->tenant_id, rq->tenant_id, sizeof(sig->tenant_id));
	sg_strlcpy(sig->key_id, key->id, sizeof(sig->key_id));
	sig->key_version = version->version;
	sg_strlcpy(sig->hash_alg, sg_hash_name(params.hash), sizeof(sig->hash_alg));
	sg_strlcpy(sig->sig_scheme, sg_scheme_name(params.scheme, key->alg), sizeof(sig->sig_scheme));
	sg_strlcpy(sig->sig_format, format ? format : "", sizeof(sig->sig_format));
	memcpy(sig->digest, rq->digest, rq->digest_len);
	sig->digest_len = rq->digest_len;
	sig->metadata_json = rq->metadata_json;
	sg_strlcpy(sig->created_by, rq->principal_id, sizeof(sig->created_by));
	sg_strlcpy(sig->client_ip, rq->client_ip, sizeof(sig->client_ip));
	sg_strlcpy(sig->client_type, rq->client_type, sizeof(sig->client_type));
	sig->created_at = sg_now_ms();
	if (rq->timestamp) {
		/* The token's imprint is the hash of the signature value (SPEC §1, RFC 3161 usage). */
		const EVP_MD *md = sg_hash_is_legacy(params.hash) ? EVP_sha256() : sg_hash_md(params.hash);
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
	goto out;
fail:
	sig->metadata_json = NULL;
	sg_signature_clear(sig);
out:
	if (own_version)
		sg_key_version_clear(&v);
	return r;
}
