/*
 * Composite signature MLDSA65-ECDSA-P256-SHA512 (draft-ietf-lamps-pq-composite-sigs,
 * OID 1.3.6.1.5.5.7.6.45): an ML-DSA-65 signature and an ECDSA P-256/SHA-256
 * signature over the same composite message representative
 *   M' = "CompositeAlgorithmSignatures2025" || Label || len(ctx) || ctx || SHA-512(M)
 * with Label = "COMPSIG-MLDSA65-ECDSA-P256-SHA512". A signature is valid only when both
 * halves verify. Signet receives digests, so every function takes PH = SHA-512(M)
 * (64 bytes) rather than M. The ML-DSA half comes from sg_mldsa (pure ML-DSA-65 over
 * M' with the Label as its context, hedged), the ECDSA half from OpenSSL EVP.
 *
 * Encodings, as in the draft's test vectors:
 *   public key  = ML-DSA-65 pk (1952 B) || uncompressed P-256 point (65 B, 0x04 ...)
 *   private key = ML-DSA seed xi (32 B) || DER ECPrivateKey (RFC 5915)
 *   signature   = ML-DSA-65 signature (3309 B) || DER ECDSA-Sig-Value
 *
 * Conventions as in sg_mldsa.h: 0 on success or a negative SG_COMPOSITE_ERR_* code,
 * outputs untouched on failure, secrets wiped before returning; the caller owns every
 * buffer.
 */
#ifndef SG_COMPOSITE_H
#define SG_COMPOSITE_H

#include <stddef.h>
#include <stdint.h>

#define SG_COMPOSITE_WUR __attribute__((warn_unused_result))

enum {
  SG_COMPOSITE_OK = 0,
  SG_COMPOSITE_ERR_PARAM = -220,         /* NULL argument or buffer too small */
  SG_COMPOSITE_ERR_CONTEXT = -221,       /* context longer than 255 bytes */
  SG_COMPOSITE_ERR_MALFORMED = -222,     /* key or DER encoding does not decode */
  SG_COMPOSITE_ERR_BAD_SIGNATURE = -223, /* a half failed, or the signature is malformed */
  SG_COMPOSITE_ERR_CRYPTO = -224,        /* OpenSSL or the RNG failed */
};

#define SG_COMPOSITE_NAME "MLDSA65-ECDSA-P256-SHA512"
#define SG_COMPOSITE_PH_BYTES 64
#define SG_COMPOSITE_CONTEXT_MAX 255
#define SG_COMPOSITE_PK_BYTES (1952 + 65)
#define SG_COMPOSITE_SPKI_BYTES 2038
/* The private key keygen writes: seed || 51-byte ECPrivateKey (curve named, no
 * public key). Decoders also accept the ECPrivateKey with its optional public key. */
#define SG_COMPOSITE_SK_BYTES (32 + 51)
#define SG_COMPOSITE_SK_MAX (32 + 121)
/* ML-DSA-65 signature plus the longest DER ECDSA P-256 signature. */
#define SG_COMPOSITE_SIG_MAX (3309 + 72)
/* Longest M': prefix 32 + label 33 + 1 + ctx 255 + PH 64. */
#define SG_COMPOSITE_MPRIME_MAX (32 + 33 + 1 + 255 + 64)

/* Human-readable text for an SG_COMPOSITE_* code. Static storage, never NULL. */
const char *sg_composite_err_str(int err);

/*
 * Build M' for digest ph (SHA-512 of the message) and context ctx (ctxlen <= 255)
 * into out (capacity outcap, SG_COMPOSITE_MPRIME_MAX always suffices) and its length
 * into *outlen. Returns 0, SG_COMPOSITE_ERR_CONTEXT or SG_COMPOSITE_ERR_PARAM.
 */
SG_COMPOSITE_WUR int sg_composite_mprime(const uint8_t ph[SG_COMPOSITE_PH_BYTES],
                                         const uint8_t *ctx, size_t ctxlen, uint8_t *out,
                                         size_t outcap, size_t *outlen);

/*
 * Generate a fresh key pair from the system RNG: pk receives SG_COMPOSITE_PK_BYTES,
 * sk receives SG_COMPOSITE_SK_BYTES (the caller must wipe it when done). Returns 0,
 * SG_COMPOSITE_ERR_PARAM or SG_COMPOSITE_ERR_CRYPTO.
 */
SG_COMPOSITE_WUR int sg_composite_keygen(uint8_t pk[SG_COMPOSITE_PK_BYTES],
                                         uint8_t sk[SG_COMPOSITE_SK_BYTES]);

/*
 * Derive the public key of sk (sklen bytes) into pk. Returns 0,
 * SG_COMPOSITE_ERR_MALFORMED if sk does not decode (wrong length, not a P-256
 * ECPrivateKey, trailing bytes), SG_COMPOSITE_ERR_PARAM or SG_COMPOSITE_ERR_CRYPTO.
 */
SG_COMPOSITE_WUR int sg_composite_pk_from_sk(const uint8_t *sk, size_t sklen,
                                             uint8_t pk[SG_COMPOSITE_PK_BYTES]);

/*
 * Sign the message whose SHA-512 digest is ph under context ctx (ctxlen <= 255, NULL
 * allowed when 0) with private key sk. sig has capacity *siglen on entry, which must
 * be at least SG_COMPOSITE_SIG_MAX; on success *siglen receives the signature length
 * (the DER ECDSA half varies). Both halves are randomised. Returns 0, SG_COMPOSITE_ERR_PARAM,
 * SG_COMPOSITE_ERR_CONTEXT, SG_COMPOSITE_ERR_MALFORMED or SG_COMPOSITE_ERR_CRYPTO.
 */
SG_COMPOSITE_WUR int sg_composite_sign(const uint8_t *sk, size_t sklen,
                                       const uint8_t ph[SG_COMPOSITE_PH_BYTES],
                                       const uint8_t *ctx, size_t ctxlen, uint8_t *sig,
                                       size_t *siglen);

/*
 * Verify sig (siglen bytes) on digest ph under ctx with public key pk. Returns 0 only
 * if both the ML-DSA-65 and the ECDSA half verify; SG_COMPOSITE_ERR_BAD_SIGNATURE if
 * either does not (or sig is malformed), SG_COMPOSITE_ERR_MALFORMED if pk's EC point
 * is not on P-256, SG_COMPOSITE_ERR_CONTEXT / _PARAM for bad arguments.
 */
SG_COMPOSITE_WUR int sg_composite_verify(const uint8_t pk[SG_COMPOSITE_PK_BYTES],
                                         const uint8_t ph[SG_COMPOSITE_PH_BYTES],
                                         const uint8_t *ctx, size_t ctxlen,
                                         const uint8_t *sig, size_t siglen);

/* Wrap pk in a DER SubjectPublicKeyInfo (OID 1.3.6.1.5.5.7.6.45, parameters absent),
 * writing SG_COMPOSITE_SPKI_BYTES to der. Returns 0 or SG_COMPOSITE_ERR_PARAM. */
SG_COMPOSITE_WUR int sg_composite_spki_encode(const uint8_t pk[SG_COMPOSITE_PK_BYTES],
                                              uint8_t der[SG_COMPOSITE_SPKI_BYTES]);

/* Parse exactly derlen bytes of DER SubjectPublicKeyInfo into pk. Returns 0,
 * SG_COMPOSITE_ERR_MALFORMED or SG_COMPOSITE_ERR_PARAM. */
SG_COMPOSITE_WUR int sg_composite_spki_decode(const uint8_t *der, size_t derlen,
                                              uint8_t pk[SG_COMPOSITE_PK_BYTES]);

#endif
