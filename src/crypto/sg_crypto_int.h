/*
 * sg_crypto_int.h - what the files of src/crypto share and nobody else sees.
 *
 * The layout of an sg_privkey (privkey.c builds it, sign.c signs with it),
 * the key-type check both key import and SPKI parsing apply, and the entry
 * points of the post-quantum glue in pq.c.  Not installed, not included outside src/crypto.
 */
#ifndef SG_CRYPTO_INT_H
#define SG_CRYPTO_INT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "sg_crypto.h"

#define SG_MLDSA_SEED_LEN 32

struct sg_privkey {
	sg_key_alg alg;
	EVP_PKEY *pkey;             /* classical key; the P-256 half of the composite */
	/*
	 * ML-DSA: the expanded FIPS 204 secret key, derived from pq_seed.
	 * Composite: its private key as custody stores it, seed || ECPrivateKey.
	 * Wiped on free.
	 */
	uint8_t *pq_sk;
	size_t pq_sk_len;
	uint8_t *pq_pk;             /* raw public key (ML-DSA pk; composite pk) */
	size_t pq_pk_len;
	uint8_t pq_seed[SG_MLDSA_SEED_LEN]; /* ML-DSA xi, what custody stores */
};

/* 1 for the classical (OpenSSL-only) key algorithms. */
int sg_key_alg_is_classical(sg_key_alg a);

/* 1 for ML-DSA-44/65/87 (not the composite). */
int sg_key_alg_is_mldsa(sg_key_alg a);

/* 1 for the algorithms pq.c handles: ML-DSA and the composite. */
int sg_key_alg_is_pq(sg_key_alg a);

/*
 * Check that pkey is exactly of algorithm a (RSA of that modulus size, EC on
 * that curve, Ed25519).  SG_OK or SG_ERR_ALGORITHM_MISMATCH.
 */
int sg_pkey_matches_alg(EVP_PKEY *pkey, sg_key_alg a) SG_WUR;

/*
 * ML-DSA-44/65/87 and the composite behind sg_privkey (pq.c).  k->alg is
 * already set and params already checked by the caller.  Each returns SG_OK
 * or an SG_ERR_* code, writes outputs only on success, and answers
 * SG_ERR_UNSUPPORTED_ALGORITHM for an algorithm Signet was built without
 * (no sg_mldsa / sg_composite target).
 */
int sg_pq_generate(sg_privkey *k) SG_WUR;
int sg_pq_export(const sg_privkey *k, uint8_t **out, size_t *outlen) SG_WUR;
int sg_pq_import(sg_privkey *k, const uint8_t *der, size_t len) SG_WUR;
int sg_pq_public_spki(const sg_privkey *k, uint8_t **out, size_t *outlen) SG_WUR;
int sg_pq_sign(const sg_privkey *k, const sg_sign_params *params, const uint8_t *digest,
    size_t digest_len, uint8_t **sig, size_t *siglen) SG_WUR;
int sg_pq_verify(sg_key_alg a, const uint8_t *spki, size_t spki_len,
    const sg_sign_params *params, const uint8_t *digest, size_t digest_len,
    const uint8_t *sig, size_t siglen) SG_WUR;

#endif
