/*
 * pq.c - ML-DSA and the MLDSA65-ECDSA-P256 composite behind sg_privkey.
 *
 * Glue between the sg_crypto contract and the self-contained libraries in
 * src/crypto/mldsa and src/crypto/composite.  For ML-DSA, custody stores
 * only the 32-byte seed xi (FIPS 204 KeyGen_internal input); the expanded
 * secret key is derived once at generate/import and kept for signing.
 * HashML-DSA signs the client's digest through the pre-hash interface,
 * binding the hash OID; pure ML-DSA signs the digest bytes as the message.
 * The composite's private key is seed || ECPrivateKey as the LAMPS draft
 * encodes it, and its PH is the client's SHA-512 digest.  Signing is hedged
 * (fresh randomness each time), as FIPS 204 recommends.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "sg_crypto.h"
#include "sg_crypto_int.h"
#include "sg_secret.h"

#include "sg_mldsa.h"
#include "sg_composite.h"

/* Keep both private-key fields wiped and freed in one place. */
static void
sg_pq_clear(sg_privkey *k)
{
	sg_free_secret(k->pq_sk, k->pq_sk_len);
	free(k->pq_pk);
	k->pq_sk = k->pq_pk = NULL;
	k->pq_sk_len = k->pq_pk_len = 0;
}

/* ================================ ML-DSA ================================ */

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

/* Expand k->pq_seed into k's public and secret keys. */
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
	if ((r = sg_mldsa_err(sg_mldsa_keygen(p, k->pq_seed, pk, sk))) != SG_OK)
		goto out;
	sg_pq_clear(k);
	k->pq_pk = pk;
	k->pq_pk_len = pk_len;
	k->pq_sk = sk;
	k->pq_sk_len = sk_len;
	pk = sk = NULL;
	r = SG_OK;
out:
	free(pk);
	if (sk != NULL)
		sg_free_secret(sk, sk_len);
	return r;
}

static int
sg_mldsa_generate(sg_privkey *k)
{
	int r;

	if ((r = sg_mldsa_err(sg_mldsa_random_seed(k->pq_seed))) != SG_OK)
		return r;
	return sg_mldsa_expand(k);
}

static int
sg_mldsa_export(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	uint8_t *seed;

	if (k->pq_sk == NULL)
		return SG_ERR_INTERNAL;
	if ((seed = malloc(SG_MLDSA_SEED_LEN)) == NULL)
		return SG_ERR_NOMEM;
	memcpy(seed, k->pq_seed, SG_MLDSA_SEED_LEN);
	*out = seed;
	*outlen = SG_MLDSA_SEED_LEN;
	return SG_OK;
}

static int
sg_mldsa_import(sg_privkey *k, const uint8_t *seed, size_t len)
{
	if (len != SG_MLDSA_SEED_LEN)
		return SG_ERR_BAD_ENCODING;
	memcpy(k->pq_seed, seed, SG_MLDSA_SEED_LEN);
	return sg_mldsa_expand(k);
}

static int
sg_mldsa_public_spki(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	int r;
	sg_mldsa_param p;
	uint8_t *der;
	size_t len;

	if ((r = sg_mldsa_param_of(k->alg, &p)) != SG_OK)
		return r;
	if (k->pq_pk == NULL)
		return SG_ERR_INTERNAL;
	len = sg_mldsa_spki_bytes(p);
	if ((der = malloc(len)) == NULL)
		return SG_ERR_NOMEM;
	if ((r = sg_mldsa_err(sg_mldsa_spki_encode(p, k->pq_pk, der))) != SG_OK) {
		free(der);
		return r;
	}
	*out = der;
	*outlen = len;
	return SG_OK;
}

static int
sg_mldsa_sign_digest(const sg_privkey *k, const sg_sign_params *params, const uint8_t *digest,
    size_t digest_len, uint8_t **sig, size_t *siglen)
{
	int r = SG_ERR_INTERNAL;
	sg_mldsa_param p;
	sg_mldsa_hash_alg ph;
	uint8_t *out = NULL;
	size_t len;

	if ((r = sg_mldsa_param_of(k->alg, &p)) != SG_OK)
		return r;
	if (k->pq_sk == NULL)
		return SG_ERR_INTERNAL;
	len = sg_mldsa_sig_bytes(p);
	if ((out = malloc(len)) == NULL)
		return SG_ERR_NOMEM;
	if (params->scheme == SG_SCHEME_HASH_MLDSA) {
		if ((r = sg_mldsa_ph_of(params->hash, &ph)) != SG_OK)
			goto out;
		r = sg_mldsa_err(sg_mldsa_sign_prehash(p, k->pq_sk, ph, digest, digest_len,
		    params->context, params->context_len, NULL, out));
	} else if (params->scheme == SG_SCHEME_MLDSA) {
		r = sg_mldsa_err(sg_mldsa_sign(p, k->pq_sk, digest, digest_len,
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

static int
sg_mldsa_verify_digest(sg_key_alg a, const uint8_t *spki, size_t spki_len,
    const sg_sign_params *params, const uint8_t *digest, size_t digest_len,
    const uint8_t *sig, size_t siglen)
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


/* ============================== composite =============================== */

static int
sg_composite_err(int e)
{
	switch (e) {
	case SG_COMPOSITE_OK: return SG_OK;
	case SG_COMPOSITE_ERR_CONTEXT: return SG_ERR_INVALID_ARGUMENT;
	case SG_COMPOSITE_ERR_MALFORMED: return SG_ERR_BAD_ENCODING;
	case SG_COMPOSITE_ERR_BAD_SIGNATURE: return SG_ERR_BAD_SIGNATURE;
	case SG_COMPOSITE_ERR_CRYPTO: return SG_ERR_CRYPTO;
	default: return SG_ERR_INTERNAL;
	}
}

/*
 * Take the composite private key sk (seed || ECPrivateKey): check it,
 * derive its public key, and keep a copy plus the P-256 half as an
 * EVP_PKEY (for X.509 work that needs one).
 */
static int
sg_composite_load(sg_privkey *k, const uint8_t *sk, size_t sklen)
{
	int r = SG_ERR_INTERNAL;
	uint8_t *pk = NULL, *copy = NULL;
	EVP_PKEY *ec = NULL;
	const unsigned char *p;

	if (sklen <= SG_MLDSA_SEED_LEN || sklen > SG_COMPOSITE_SK_MAX)
		return SG_ERR_BAD_ENCODING;
	if ((pk = malloc(SG_COMPOSITE_PK_BYTES)) == NULL || (copy = malloc(sklen)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if ((r = sg_composite_err(sg_composite_pk_from_sk(sk, sklen, pk))) != SG_OK)
		goto out;
	p = sk + SG_MLDSA_SEED_LEN;
	ec = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)(sklen - SG_MLDSA_SEED_LEN));
	if (ec == NULL || p != sk + sklen) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((r = sg_pkey_matches_alg(ec, SG_KEY_MLDSA65_ECDSA_P256)) != SG_OK)
		goto out;
	memcpy(copy, sk, sklen);
	sg_pq_clear(k);
	EVP_PKEY_free(k->pkey);
	k->pkey = ec;
	k->pq_sk = copy;
	k->pq_sk_len = sklen;
	k->pq_pk = pk;
	k->pq_pk_len = SG_COMPOSITE_PK_BYTES;
	ec = NULL;
	copy = pk = NULL;
	r = SG_OK;
out:
	EVP_PKEY_free(ec);
	if (copy != NULL)
		sg_free_secret(copy, sklen);
	free(pk);
	ERR_clear_error();
	return r;
}

static int
sg_composite_generate(sg_privkey *k)
{
	uint8_t pk[SG_COMPOSITE_PK_BYTES], sk[SG_COMPOSITE_SK_BYTES];
	int r;

	if ((r = sg_composite_err(sg_composite_keygen(pk, sk))) == SG_OK)
		r = sg_composite_load(k, sk, sizeof(sk));
	sg_wipe(sk, sizeof(sk));
	return r;
}

static int
sg_composite_export(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	uint8_t *sk;

	if (k->pq_sk == NULL)
		return SG_ERR_INTERNAL;
	if ((sk = malloc(k->pq_sk_len)) == NULL)
		return SG_ERR_NOMEM;
	memcpy(sk, k->pq_sk, k->pq_sk_len);
	*out = sk;
	*outlen = k->pq_sk_len;
	return SG_OK;
}

static int
sg_composite_public_spki(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	uint8_t *der;
	int r;

	if (k->pq_pk == NULL)
		return SG_ERR_INTERNAL;
	if ((der = malloc(SG_COMPOSITE_SPKI_BYTES)) == NULL)
		return SG_ERR_NOMEM;
	if ((r = sg_composite_err(sg_composite_spki_encode(k->pq_pk, der))) != SG_OK) {
		free(der);
		return r;
	}
	*out = der;
	*outlen = SG_COMPOSITE_SPKI_BYTES;
	return SG_OK;
}

static int
sg_composite_sign_digest(const sg_privkey *k, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen)
{
	uint8_t *out;
	size_t len = SG_COMPOSITE_SIG_MAX;
	int r;

	if (k->pq_sk == NULL)
		return SG_ERR_INTERNAL;
	if (params->scheme != SG_SCHEME_COMPOSITE)
		return SG_ERR_ALGORITHM_MISMATCH;
	if (digest_len != SG_COMPOSITE_PH_BYTES)
		return SG_ERR_DIGEST_LENGTH;
	if ((out = malloc(len)) == NULL)
		return SG_ERR_NOMEM;
	r = sg_composite_err(sg_composite_sign(k->pq_sk, k->pq_sk_len, digest,
	    params->context, params->context_len, out, &len));
	if (r != SG_OK) {
		free(out);
		return r;
	}
	*sig = out;
	*siglen = len;
	return SG_OK;
}

static int
sg_composite_verify_digest(const uint8_t *spki, size_t spki_len, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, const uint8_t *sig, size_t siglen)
{
	uint8_t *pk;
	int r;

	if (params->scheme != SG_SCHEME_COMPOSITE)
		return SG_ERR_ALGORITHM_MISMATCH;
	if (digest_len != SG_COMPOSITE_PH_BYTES)
		return SG_ERR_DIGEST_LENGTH;
	if ((pk = malloc(SG_COMPOSITE_PK_BYTES)) == NULL)
		return SG_ERR_NOMEM;
	if (sg_composite_spki_decode(spki, spki_len, pk) != SG_COMPOSITE_OK) {
		r = SG_ERR_BAD_ENCODING;
	} else {
		r = sg_composite_err(sg_composite_verify(pk, digest, params->context,
		    params->context_len, sig, siglen));
	}
	free(pk);
	ERR_clear_error();
	return r;
}


/* ============================== dispatch ================================ */

int
sg_pq_generate(sg_privkey *k)
{
	if (sg_key_alg_is_mldsa(k->alg))
		return sg_mldsa_generate(k);
	if (k->alg == SG_KEY_MLDSA65_ECDSA_P256)
		return sg_composite_generate(k);
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_export(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	if (sg_key_alg_is_mldsa(k->alg))
		return sg_mldsa_export(k, out, outlen);
	if (k->alg == SG_KEY_MLDSA65_ECDSA_P256)
		return sg_composite_export(k, out, outlen);
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_import(sg_privkey *k, const uint8_t *der, size_t len)
{
	if (sg_key_alg_is_mldsa(k->alg))
		return sg_mldsa_import(k, der, len);
	if (k->alg == SG_KEY_MLDSA65_ECDSA_P256)
		return sg_composite_load(k, der, len);
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_public_spki(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	if (sg_key_alg_is_mldsa(k->alg))
		return sg_mldsa_public_spki(k, out, outlen);
	if (k->alg == SG_KEY_MLDSA65_ECDSA_P256)
		return sg_composite_public_spki(k, out, outlen);
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_sign(const sg_privkey *k, const sg_sign_params *params, const uint8_t *digest,
    size_t digest_len, uint8_t **sig, size_t *siglen)
{
	if (sg_key_alg_is_mldsa(k->alg))
		return sg_mldsa_sign_digest(k, params, digest, digest_len, sig, siglen);
	if (k->alg == SG_KEY_MLDSA65_ECDSA_P256)
		return sg_composite_sign_digest(k, params, digest, digest_len, sig, siglen);
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}

int
sg_pq_verify(sg_key_alg a, const uint8_t *spki, size_t spki_len, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, const uint8_t *sig, size_t siglen)
{
	if (sg_key_alg_is_mldsa(a))
		return sg_mldsa_verify_digest(a, spki, spki_len, params, digest, digest_len, sig,
		    siglen);
	if (a == SG_KEY_MLDSA65_ECDSA_P256)
		return sg_composite_verify_digest(spki, spki_len, params, digest, digest_len, sig,
		    siglen);
	return SG_ERR_UNSUPPORTED_ALGORITHM;
}
