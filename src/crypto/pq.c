/*
 * pq.c - ML-DSA keys behind sg_privkey, sign and verify.
 *
 * Glue between the sg_crypto contract and the self-contained ML-DSA library
 * in src/crypto/mldsa.  Custody stores only the 32-byte seed xi (FIPS 204
 * KeyGen_internal input); the expanded secret key is derived once at
 * generate/import and kept in the sg_privkey for signing.  HashML-DSA signs
 * the client's digest through the pre-hash interface, binding the hash OID;
 * pure ML-DSA signs the digest bytes as the message.  Signing is hedged
 * (fresh randomness each time), as FIPS 204 recommends.  Built without
 * sg_mldsa, every entry point answers SG_ERR_UNSUPPORTED_ALGORITHM.
 */
#include <stdlib.h>
#include <string.h>
#include "sg_crypto.h"
#include "sg_crypto_int.h"
#include "sg_secret.h"

#ifdef SG_HAVE_MLDSA
#include "sg_mldsa.h"

static int
sg_mldsa_param_of(sg_key_alg a, sg_mldsa_param *p)
{
	switch (a) {
	case SG_KEY_MLDSA_44: *p = SG_MLDSA_44; return SG_OK;
	case SG_KEY_MLDSA_65: *p = SG_MLDSA_65; return SG_OK;
	case SG_KEY_MLDSA_87: *p = SG_MLDSA_87; return SG_OK;
	default: return SG_ERR_UNSUPPORTED_ALGORITHM;
	}
}

static int
sg_mldsa_ph_of(sg_hash_alg h, sg_mldsa_hash_alg *ph)
{
	switch (h) {
	case SG_HASH_SHA256: *ph = SG_MLDSA_PH_SHA2_256; return SG_OK;
	case SG_HASH_SHA384: *ph = SG_MLDSA_PH_SHA2_384; return SG_OK;
	case SG_HASH_SHA512: *ph = SG_MLDSA_PH_SHA2_512; return SG_OK;
	case SG_HASH_SHA3_256: *ph = SG_MLDSA_PH_SHA3_256; return SG_OK;
	case SG_HASH_SHA3_384: *ph = SG_MLDSA_PH_SHA3_384; return SG_OK;
	case SG_HASH_SHA3_512: *ph = SG_MLDSA_PH_SHA3_512; return SG_OK;
	default: return SG_ERR_UNSUPPORTED_HASH;
	}
}

static int
sg_mldsa_err(int e)
{
	switch (e) {
	case SG_MLDSA_OK: return SG_OK;
	case SG_MLDSA_ERR_CONTEXT: return SG_ERR_INVALID_ARGUMENT;
	case SG_MLDSA_ERR_LENGTH: return SG_ERR_DIGEST_LENGTH;
	case SG_MLDSA_ERR_MALFORMED: return SG_ERR_BAD_ENCODING;
	case SG_MLDSA_ERR_BAD_SIGNATURE: return SG_ERR_BAD_SIGNATURE;
	case SG_MLDSA_ERR_RANDOM: return SG_ERR_CRYPTO;
	default: return SG_ERR_INTERNAL;
	}
}

/* Expand k->mldsa_seed into k's public and secret keys. */
static int
sg_mldsa_expand(sg_privkey *k)
{
	int r = SG_ERR_INTERNAL;
	sg_mldsa_param p;
	uint8_t *pk = NULL, *sk = NULL;
	size_t pk_len, sk_len;

	if ((r = sg_mldsa_param_of(k->alg, &p)) != SG_OK)
		return r;
	pk_len = sg_mldsa_pk_bytes(p);
	sk_len = sg_mldsa_sk_bytes(p);
	if ((pk = malloc(pk_len)) == NULL || (sk = malloc(sk_len)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if ((r = sg_mldsa_err(sg_mldsa_keygen(p, k->mldsa_seed, pk, sk))) != SG_OK)
		goto out;
	k->mldsa_pk = pk;
	k->mldsa_pk_len = pk_len;
	k->mldsa_sk = sk;
	k->mldsa_sk_len = sk_len;
	pk = sk = NULL;
	r = SG_OK;
out:
	free(pk);
	if (sk != NULL)
		sg_free_secret(sk, sk_len);
	return r;
}

int
sg_pq_generate(sg_privkey *k)
{
	int r;

	if ((r = sg_mldsa_err(sg_mldsa_random_seed(k->mldsa_seed))) != SG_OK)
		return r;
	return sg_mldsa_expand(k);
}

int
sg_pq_export(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	uint8_t *seed;

	if (k->mldsa_sk == NULL)
		return SG_ERR_INTERNAL;
	if ((seed = malloc(SG_MLDSA_SEED_LEN)) == NULL)
		return SG_ERR_NOMEM;
	memcpy(seed, k->mldsa_seed, SG_MLDSA_SEED_LEN);
	*out = seed;
	*outlen = SG_MLDSA_SEED_LEN;
	return SG_OK;
}

int
sg_pq_import(sg_privkey *k, const uint8_t *seed, size_t len)
{
	if (len != SG_MLDSA_SEED_LEN)
		return SG_ERR_BAD_ENCODING;
	memcpy(k->mldsa_seed, seed, SG_MLDSA_SEED_LEN);
	return sg_mldsa_expand(k);
}

int
sg_pq_public_spki(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	int r;
	sg_mldsa_param p;
	uint8_t *der;
	size_t len;

	if ((r = sg_mldsa_param_of(k->alg, &p)) != SG_OK)
		return r;
	if (k->mldsa_pk == NULL)
		return SG_ERR_INTERNAL;
	len = sg_mldsa_spki_bytes(p);
	if ((der = malloc(len)) == NULL)
		return SG_ERR_NOMEM;
	if ((r = sg_mldsa_err(sg_mldsa_spki_encode(p, k->mldsa_pk, der))) != SG_OK) {
		free(der);
		return r;
	}
	*out = der;
	*outlen = len;
	return SG_OK;
}

int
sg_pq_sign(const sg_privkey *k, const sg_sign_params *params, const uint8_t *digest,
    size_t digest_len, uint8_t **sig, size_t *siglen)
{
	int r = SG_ERR_INTERNAL;
	sg_mldsa_param p;
	sg_mldsa_hash_alg ph;
	uint8_t *out = NULL;
	size_t len;

	if ((r = sg_mldsa_param_of(k->alg, &p)) != SG_OK)
		return r;
	if (k->mldsa_sk == NULL)
		return SG_ERR_INTERNAL;
	len = sg_mldsa_sig_bytes(p);
	if ((out = malloc(len)) == NULL)
		return SG_ERR_NOMEM;
	if (params->scheme == SG_SCHEME_HASH_MLDSA) {
		if ((r = sg_mldsa_ph_of(params->hash, &ph)) != SG_OK)
			goto out;
		r = sg_mldsa_err(sg_mldsa_sign_prehash(p, k->mldsa_sk, ph, digest, digest_len,
		    params->context, params->context_len, NULL, out));
	} else if (params->scheme == SG_SCHEME_MLDSA) {
		r = sg_mldsa_err(sg_mldsa_sign(p, k->mldsa_sk, digest, digest_len,
		    params->context, params->context_len, NULL, out));
	} else {
		r = SG_ERR_ALGORITHM_MISMATCH;
	}
	if (r != SG_OK)
		goto out;
	*sig = out;
	*siglen = len;
	out = NULL;
out:
	free(out);
	return r;
}

int
sg_pq_verify(sg_key_alg a, const uint8_t *spki, size_t spki_len, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, const uint8_t *sig, size_t siglen)
{
	int r = SG_ERR_INTERNAL;
	sg_mldsa_param want, got;
	sg_mldsa_hash_alg ph;
	uint8_t *pk = NULL;

	if ((r = sg_mldsa_param_of(a, &want)) != SG_OK)
		return r;
	if ((pk = malloc(SG_MLDSA_PK_MAX)) == NULL)
		return SG_ERR_NOMEM;
	if (sg_mldsa_spki_decode(spki, spki_len, &got, pk, SG_MLDSA_PK_MAX) != SG_MLDSA_OK) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (got != want) {
		r = SG_ERR_ALGORITHM_MISMATCH;
		goto out;
	}
	if (params->scheme == SG_SCHEME_HASH_MLDSA) {
		if ((r = sg_mldsa_ph_of(params->hash, &ph)) != SG_OK)
			goto out;
		r = sg_mldsa_err(sg_mldsa_verify_prehash(want, pk, ph, digest, digest_len,
		    params->context, params->context_len, sig, siglen));
	} else if (params->scheme == SG_SCHEME_MLDSA) {
		r = sg_mldsa_err(sg_mldsa_verify(want, pk, digest, digest_len,
		    params->context, params->context_len, sig, siglen));
	} else {
		r = SG_ERR_ALGORITHM_MISMATCH;
	}
out:
	free(pk);
	return r;
}

int
sg_pq_available(void)
{
	return 1;
}

#else /* !SG_HAVE_MLDSA */

int
sg_pq_generate(sg_privkey *k)
{
	(void)k;
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_export(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	(void)k;
	(void)out;
	(void)outlen;
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_import(sg_privkey *k, const uint8_t *seed, size_t len)
{
	(void)k;
	(void)seed;
	(void)len;
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_public_spki(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	(void)k;
	(void)out;
	(void)outlen;
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_sign(const sg_privkey *k, const sg_sign_params *params, const uint8_t *digest,
    size_t digest_len, uint8_t **sig, size_t *siglen)
{
	(void)k;
	(void)params;
	(void)digest;
	(void)digest_len;
	(void)sig;
	(void)siglen;
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_verify(sg_key_alg a, const uint8_t *spki, size_t spki_len, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, const uint8_t *sig, size_t siglen)
{
	(void)a;
	(void)spki;
	(void)spki_len;
	(void)params;
	(void)digest;
	(void)digest_len;
	(void)sig;
	(void)siglen;
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_available(void)
{
	return 0;
}

#endif
