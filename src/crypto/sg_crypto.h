/*
 * sg_crypto.h - the algorithms Signet speaks, and signing/verifying a digest.
 *
 * This module names every hash, key algorithm and signature scheme of SPEC
 * §2, checks that a combination fits, and performs sign/verify over a digest
 * with a private or public key held in memory.  Classical algorithms go
 * through OpenSSL EVP; ML-DSA and the composite go through src/crypto/mldsa
 * and src/crypto/composite.  Key custody (where private keys live, how they
 * are unwrapped) is src/keystore's business: this module only ever sees a key
 * that a keystore has already loaded.
 */
#ifndef SG_CRYPTO_H
#define SG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "sg_err.h"

#define SG_MAX_DIGEST 64
/* Longest message a message signature takes (SPEC §3 `message`: 1 MiB). */
#define SG_MAX_MESSAGE (1024 * 1024)

typedef enum sg_hash_alg {
	SG_HASH_NONE = 0,
	SG_HASH_MD5,
	SG_HASH_SHA1,
	SG_HASH_SHA256,
	SG_HASH_SHA384,
	SG_HASH_SHA512,
	SG_HASH_SHA3_256,
	SG_HASH_SHA3_384,
	SG_HASH_SHA3_512,
} sg_hash_alg;

typedef enum sg_key_alg {
	SG_KEY_NONE = 0,
	SG_KEY_RSA_2048,
	SG_KEY_RSA_3072,
	SG_KEY_RSA_4096,
	SG_KEY_EC_P256,
	SG_KEY_EC_P384,
	SG_KEY_EC_P521,
	SG_KEY_ED25519,
	SG_KEY_MLDSA_44,
	SG_KEY_MLDSA_65,
	SG_KEY_MLDSA_87,
	SG_KEY_MLDSA65_ECDSA_P256,
} sg_key_alg;

typedef enum sg_sig_scheme {
	SG_SCHEME_NONE = 0,
	SG_SCHEME_RSA_PKCS1,
	SG_SCHEME_RSA_PSS,
	SG_SCHEME_ECDSA,
	SG_SCHEME_ED25519,
	SG_SCHEME_HASH_MLDSA,   /* HashML-DSA-{44,65,87}: FIPS 204 §5.4 pre-hash */
	SG_SCHEME_MLDSA,        /* pure ML-DSA-{44,65,87} over the digest bytes */
	SG_SCHEME_COMPOSITE,    /* MLDSA65-ECDSA-P256 */
} sg_sig_scheme;

typedef enum sg_sig_format {
	SG_FORMAT_DEFAULT = 0,  /* DER for ECDSA; the only form for the others */
	SG_FORMAT_DER,
	SG_FORMAT_P1363,
} sg_sig_format;

/* Everything that shapes a signature besides the key and the digest. */
typedef struct sg_sign_params {
	sg_hash_alg hash;
	sg_sig_scheme scheme;
	sg_sig_format format;
	int pss_salt_len;        /* -1: hash length (the default) */
	const uint8_t *context;  /* ML-DSA / composite context, may be NULL */
	size_t context_len;      /* 0..255 */
	/*
	 * 1: the input of sign/verify is the message itself (any length up to
	 * SG_MAX_MESSAGE), not a digest of `hash`.  Only pure ML-DSA and Ed25519
	 * sign messages this way; the composite's message is given as its
	 * SHA-512 pre-hash (its own definition), so callers hash it first.
	 */
	int message;
} sg_sign_params;

/* ---- names (SPEC §2 spellings; parsing is case-insensitive) ---- */

/* "SHA-256" etc.; also accepts "SHA256", "sha256", "SHA3_256".  SG_HASH_NONE if unknown. */
sg_hash_alg sg_hash_from_name(const char *name);
const char *sg_hash_name(sg_hash_alg h);          /* canonical, e.g. "SHA-256"; NULL if NONE */
size_t sg_hash_len(sg_hash_alg h);                /* digest length in bytes; 0 if NONE */
const EVP_MD *sg_hash_md(sg_hash_alg h);          /* OpenSSL digest; NULL if NONE */
int sg_hash_is_legacy(sg_hash_alg h);             /* MD5, SHA-1 */
sg_hash_alg sg_hash_from_oid(const char *dotted); /* "2.16.840.1.101.3.4.2.1" -> SHA-256 */
const char *sg_hash_oid(sg_hash_alg h);           /* dotted OID (static); NULL if NONE */

/* "RSA-2048", "EC-P256", "Ed25519", "ML-DSA-65" (alias "Dilithium3"), "MLDSA65-ECDSA-P256"... */
sg_key_alg sg_key_alg_from_name(const char *name);
const char *sg_key_alg_name(sg_key_alg a);
int sg_key_alg_bits(sg_key_alg a);                /* RSA modulus / curve size / 0 */

/* "RSA-PKCS1", "RSA-PSS", "ECDSA", "Ed25519", "HashML-DSA-65", "ML-DSA-65", "MLDSA65-ECDSA-P256" */
sg_sig_scheme sg_scheme_from_name(const char *name);
/*
 * The key algorithm a scheme name pins down, which sg_sig_scheme cannot
 * carry: "HashML-DSA-44" -> SG_KEY_MLDSA_44, "Dilithium3" -> SG_KEY_MLDSA_65,
 * "Ed25519" -> SG_KEY_ED25519, "MLDSA65-ECDSA-P256" -> the composite.
 * SG_KEY_NONE for names that fit several key algorithms ("RSA-PSS", "ECDSA")
 * and for unknown names.  Callers compare it with the key's algorithm so
 * that "HashML-DSA-44" is refused for an ML-DSA-65 key.
 */
sg_key_alg sg_scheme_name_key_alg(const char *name);
/* Canonical scheme name for this key algorithm, e.g. HASH_MLDSA + MLDSA_87 -> "HashML-DSA-87". */
const char *sg_scheme_name(sg_sig_scheme s, sg_key_alg a);
sg_sig_scheme sg_scheme_default(sg_key_alg a);    /* RSA-PKCS1, ECDSA, Ed25519, HashML-DSA, composite */

/* "DER" / "P1363" (case-insensitive); SG_FORMAT_DEFAULT for NULL; -1 if unknown. */
int sg_format_from_name(const char *name);
const char *sg_format_name(sg_sig_format f);      /* "DER", "P1363", NULL for default */

/*
 * Check that params fit key algorithm a: scheme belongs to the key family
 * (SG_ERR_ALGORITHM_MISMATCH otherwise), format only for ECDSA, salt length
 * only for PSS and within what the modulus allows, context only for ML-DSA /
 * composite and at most 255 bytes (SG_ERR_INVALID_ARGUMENT), composite only
 * with SHA-512 (SG_ERR_UNSUPPORTED_HASH).  Legacy hashes are NOT refused here
 * (policy decides).  Resolves SG_SCHEME_NONE to the key's default scheme and
 * SG_FORMAT_DEFAULT to the concrete format in *p.
 *
 * In detail: unknown a or scheme -> SG_ERR_UNSUPPORTED_ALGORITHM; hash
 * NONE/unknown -> SG_ERR_UNSUPPORTED_HASH; DER or P1363 with a scheme other
 * than ECDSA -> SG_ERR_ALGORITHM_MISMATCH (the format does not fit); an
 * unknown format value -> SG_ERR_INVALID_ARGUMENT; pss_salt_len other than
 * -1 for a non-PSS scheme, below -1, or above modulus_bytes - hash_len - 2
 * -> SG_ERR_INVALID_ARGUMENT (so a zero-initialised struct must set
 * pss_salt_len = -1); context_len > 0 with a NULL context ->
 * SG_ERR_INVALID_ARGUMENT; HashML-DSA with MD5 or SHA-1 ->
 * SG_ERR_UNSUPPORTED_HASH (FIPS 204 §5.4 pre-hashes have no such entry).
 * Non-ECDSA schemes keep SG_FORMAT_DEFAULT; pss_salt_len -1 stays -1.
 * message set with a scheme other than pure ML-DSA or Ed25519 ->
 * SG_ERR_ALGORITHM_MISMATCH.
 * *p is changed only on SG_OK.
 */
int sg_sign_params_check(sg_key_alg a, sg_sign_params *p) SG_WUR;

/*
 * Decode a client digest: base64 (either alphabet, padding optional) of
 * exactly sg_hash_len(h) bytes into out.  A hex string of the right length
 * for h gives SG_ERR_BAD_ENCODING (the caller says "hex is not accepted");
 * another length gives SG_ERR_DIGEST_LENGTH.  *errmsg (optional) gets a
 * human message on error, fit for the client ("digest is not valid base64",
 * "digest is 20 bytes, SHA-256 needs 32"); it is static or thread-local and
 * stays valid until the next sg_digest_decode call in the same thread.
 * Unknown h -> SG_ERR_UNSUPPORTED_HASH; NULL text -> SG_ERR_INVALID_ARGUMENT.
 * out and *outlen are written only on success.
 */
int sg_digest_decode(const char *text, sg_hash_alg h, uint8_t out[SG_MAX_DIGEST],
    size_t *outlen, const char **errmsg) SG_WUR;

/* ---- keys in memory ---- */

/*
 * A private key as the crypto code uses it.  For classical algorithms
 * `pkey` holds it; for ML-DSA `mldsa_sk` holds the expanded secret key; the
 * composite uses both (pkey = P-256 half).  Opaque to callers.
 */
typedef struct sg_privkey sg_privkey;

/* Generate a fresh key pair of algorithm a. */
int sg_privkey_generate(sg_key_alg a, sg_privkey **out) SG_WUR;

/*
 * Serialise the private key for custody: PKCS#8 DER for classical keys, the
 * 32-byte seed for ML-DSA, seed || DER ECPrivateKey for the composite.  The
 * caller wipes and frees *out (sg_free_secret).
 */
int sg_privkey_export(const sg_privkey *k, uint8_t **out, size_t *outlen) SG_WUR;

/* Inverse of sg_privkey_export. */
int sg_privkey_import(sg_key_alg a, const uint8_t *der, size_t len, sg_privkey **out) SG_WUR;

/* SubjectPublicKeyInfo DER of the public half (malloc'd). */
int sg_privkey_public_spki(const sg_privkey *k, uint8_t **out, size_t *outlen) SG_WUR;

/* The EVP_PKEY inside (NULL for pure ML-DSA); borrowed, for X.509 work. */
EVP_PKEY *sg_privkey_evp(const sg_privkey *k);

sg_key_alg sg_privkey_alg(const sg_privkey *k);

/* Wipe and free.  NULL is fine. */
void sg_privkey_free(sg_privkey *k);

/*
 * Sign a digest (or, with params->message, a message of digest_len bytes up
 * to SG_MAX_MESSAGE).  params must have passed sg_sign_params_check for the
 * key's algorithm.  *sig is malloc'd (caller frees) with *siglen bytes.
 * Safe to call from many threads at once on the same key.
 */
int sg_sign_digest(const sg_privkey *k, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen) SG_WUR;

/*
 * Verify a signature over a digest (or a message, as for sg_sign_digest)
 * with a public key given as SPKI DER of algorithm a.  Returns SG_OK when valid, SG_ERR_BAD_SIGNATURE when not,
 * another code when the inputs themselves are unusable.
 */
int sg_verify_digest(sg_key_alg a, const uint8_t *spki, size_t spki_len,
    const sg_sign_params *params, const uint8_t *digest, size_t digest_len,
    const uint8_t *sig, size_t siglen) SG_WUR;

/* ---- encodings ---- */

/* ECDSA DER SEQUENCE{r,s} -> fixed r||s of 2*field_len bytes (malloc'd). */
int sg_ecdsa_der_to_p1363(const uint8_t *der, size_t derlen, size_t field_len,
    uint8_t **out, size_t *outlen) SG_WUR;
/* Fixed r||s -> DER (malloc'd). */
int sg_ecdsa_p1363_to_der(const uint8_t *raw, size_t rawlen, uint8_t **out, size_t *outlen) SG_WUR;
size_t sg_key_alg_ec_field_len(sg_key_alg a);     /* 32/48/66, 0 if not EC */

/* PEM "PUBLIC KEY" text of an SPKI DER (malloc'd NUL-terminated string). */
int sg_spki_to_pem(const uint8_t *spki, size_t len, char **pem) SG_WUR;

/*
 * The contents of an SPKI's subjectPublicKey BIT STRING (PKCS#1
 * RSAPublicKey for RSA, the uncompressed point for EC), malloc'd into
 * *out.  SG_ERR_BAD_ENCODING when spki is not one SubjectPublicKeyInfo.
 */
int sg_spki_public_bits(const uint8_t *spki, size_t len, uint8_t **out, size_t *outlen) SG_WUR;
/*
 * An RSA SPKI's modulus and public exponent as unsigned big-endian bytes
 * without leading zeros (both malloc'd).  SG_ERR_ALGORITHM_MISMATCH for a
 * key that is not RSA, SG_ERR_BAD_ENCODING for one that does not parse.
 */
int sg_spki_rsa_params(const uint8_t *spki, size_t len, uint8_t **modulus, size_t *modlen,
    uint8_t **exponent, size_t *explen) SG_WUR;
/*
 * The DER of the first certificate in a PEM chain (the leaf, as chains
 * are stored leaf first), malloc'd.  SG_ERR_BAD_ENCODING when pem holds no
 * certificate.
 */
int sg_pem_first_cert_der(const char *pem, uint8_t **der, size_t *len) SG_WUR;

/* SHA-256 of data, for fingerprints and hashing secrets at rest. */
void sg_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
