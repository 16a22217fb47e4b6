/*
 * sg_crypto_int.h - what the files of src/crypto share and nobody else sees.
 *
 * The layout of an sg_privkey (privkey.c builds it, sign.c signs with it),
 * the key-type check both key import and SPKI parsing apply, and the ML-DSA
 * parameter mapping.  Not installed, not included outside src/crypto.
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
	uint8_t *mldsa_sk;          /* expanded ML-DSA secret key (wiped on free) */
	size_t mldsa_sk_len;
	uint8_t *mldsa_pk;          /* ML-DSA public key */
	size_t mldsa_pk_len;
	uint8_t mldsa_seed[SG_MLDSA_SEED_LEN]; /* xi, what custody stores */
};

/* 1 for the classical (OpenSSL-only) key algorithms. */
int sg_key_alg_is_classical(sg_key_alg a);

/* 1 for ML-DSA-44/65/87 (not the composite). */
int sg_key_alg_is_mldsa(sg_key_alg a);

/*
 * Check that pkey is exactly of algorithm a (RSA of that modulus size, EC on
 * that curve, Ed25519).  SG_OK or SG_ERR_ALGORITHM_MISMATCH.
 */
int sg_pkey_matches_alg(EVP_PKEY *pkey, sg_key_alg a) SG_WUR;

#endif
