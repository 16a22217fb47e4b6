/*
 * ML-DSA (FIPS 204): key generation, signing and verification for ML-DSA-44, -65 and
 * -87 from one parameterised code base, written from the standard. Covers the pure
 * interface with a context string (Alg. 2/3), HashML-DSA over a caller-supplied
 * pre-hash (Alg. 4/5), the internal interface on M' (Alg. 7/8), signing and verifying
 * from an externally computed mu, raw FIPS 204 key and signature encodings, and
 * SubjectPublicKeyInfo DER with the NIST OIDs. Keys and signatures are plain byte
 * strings in the FIPS 204 encodings; the caller owns every buffer. The library does
 * no heap allocation, keeps no global mutable state (so it is thread-safe), runs in
 * time independent of secret data except for the rejection-sampling loop counts that
 * FIPS 204 permits to leak, and wipes every secret intermediate before returning.
 * Stack use peaks at about 125 KB (signing; arrays are sized for ML-DSA-87).
 *
 * Conventions: functions returning int return SG_MLDSA_OK (0) on success or a negative
 * SG_MLDSA_ERR_* code; on failure their output buffers are left untouched. Pointer
 * arguments must not be NULL unless the contract says so; a (pointer, length) pair
 * with length 0 may pass NULL for the pointer.
 */
#ifndef SG_MLDSA_H
#define SG_MLDSA_H

#include <stddef.h>
#include <stdint.h>

#define SG_MLDSA_WUR __attribute__((warn_unused_result))

typedef enum { SG_MLDSA_44 = 0, SG_MLDSA_65 = 1, SG_MLDSA_87 = 2 } sg_mldsa_param;

/* Error codes: the sg_mldsa block of the project-wide error space. */
enum {
  SG_MLDSA_OK = 0,
  SG_MLDSA_ERR_PARAM = -200,        /* unknown parameter set, hash or name; NULL argument */
  SG_MLDSA_ERR_CONTEXT = -201,      /* context string longer than 255 bytes */
  SG_MLDSA_ERR_LENGTH = -202,       /* a buffer or digest has the wrong length */
  SG_MLDSA_ERR_MALFORMED = -203,    /* key or DER encoding does not decode */
  SG_MLDSA_ERR_BAD_SIGNATURE = -204, /* signature invalid (or malformed) */
  SG_MLDSA_ERR_RANDOM = -205,       /* the system RNG failed */
};

/* Sizes in bytes (FIPS 204 Table 2) and the SPKI DER lengths. */
#define SG_MLDSA_SEED_BYTES 32
#define SG_MLDSA_RND_BYTES 32
#define SG_MLDSA_MU_BYTES 64
#define SG_MLDSA_TR_BYTES 64
#define SG_MLDSA_CONTEXT_MAX 255
#define SG_MLDSA_44_PK_BYTES 1312
#define SG_MLDSA_44_SK_BYTES 2560
#define SG_MLDSA_44_SIG_BYTES 2420
#define SG_MLDSA_44_SPKI_BYTES 1334
#define SG_MLDSA_65_PK_BYTES 1952
#define SG_MLDSA_65_SK_BYTES 4032
#define SG_MLDSA_65_SIG_BYTES 3309
#define SG_MLDSA_65_SPKI_BYTES 1974
#define SG_MLDSA_87_PK_BYTES 2592
#define SG_MLDSA_87_SK_BYTES 4896
#define SG_MLDSA_87_SIG_BYTES 4627
#define SG_MLDSA_87_SPKI_BYTES 2614
#define SG_MLDSA_PK_MAX SG_MLDSA_87_PK_BYTES
#define SG_MLDSA_SK_MAX SG_MLDSA_87_SK_BYTES
#define SG_MLDSA_SIG_MAX SG_MLDSA_87_SIG_BYTES
#define SG_MLDSA_SPKI_MAX SG_MLDSA_87_SPKI_BYTES

/*
 * Pre-hash functions HashML-DSA allows (FIPS 204 §5.4.1). Each is bound into the
 * signature through its OID. The SHAKE entries mean SHAKE128 with 32 bytes of output
 * and SHAKE256 with 64 bytes.
 */
typedef enum {
  SG_MLDSA_PH_SHA2_224,
  SG_MLDSA_PH_SHA2_256,
  SG_MLDSA_PH_SHA2_384,
  SG_MLDSA_PH_SHA2_512,
  SG_MLDSA_PH_SHA2_512_224,
  SG_MLDSA_PH_SHA2_512_256,
  SG_MLDSA_PH_SHA3_224,
  SG_MLDSA_PH_SHA3_256,
  SG_MLDSA_PH_SHA3_384,
  SG_MLDSA_PH_SHA3_512,
  SG_MLDSA_PH_SHAKE128,
  SG_MLDSA_PH_SHAKE256
} sg_mldsa_hash_alg;

/*
 * 32 zero bytes: pass as rnd to get the deterministic variant of signing (FIPS 204
 * §3.4). Hedged signing (rnd == NULL) is the default and the better choice.
 */
extern const uint8_t sg_mldsa_rnd_deterministic[SG_MLDSA_RND_BYTES];

/* Sizes for p, or 0 if p is not a parameter set. */
size_t sg_mldsa_pk_bytes(sg_mldsa_param p);
size_t sg_mldsa_sk_bytes(sg_mldsa_param p);
size_t sg_mldsa_sig_bytes(sg_mldsa_param p);
size_t sg_mldsa_spki_bytes(sg_mldsa_param p);

/* "ML-DSA-44" etc. for p, or NULL if p is not a parameter set. Static storage. */
const char *sg_mldsa_param_name(sg_mldsa_param p);

/*
 * Look up a parameter set by its FIPS 204 name ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87",
 * exact match). Writes *out and returns 0, or SG_MLDSA_ERR_PARAM if name is unknown or
 * NULL.
 */
SG_MLDSA_WUR int sg_mldsa_param_from_name(const char *name, sg_mldsa_param *out);

/*
 * Look up a pre-hash function by its ACVP / FIPS 204 name ("SHA2-256", "SHA2-512/224",
 * "SHA3-384", "SHAKE-128", "SHAKE-256"; "SHAKE128"/"SHAKE256" are accepted too).
 * Returns 0 and writes *out, or SG_MLDSA_ERR_PARAM.
 */
SG_MLDSA_WUR int sg_mldsa_hash_from_name(const char *name, sg_mldsa_hash_alg *out);

/* Length in bytes of PH(M) for alg (SHAKE128: 32, SHAKE256: 64), or 0 if unknown. */
size_t sg_mldsa_hash_digest_bytes(sg_mldsa_hash_alg alg);

/*
 * Which code path this process uses: "avx2" on x86-64 CPUs with AVX2 (unless the
 * library was built portable-only), else "portable". Both give identical results.
 */
const char *sg_mldsa_implementation(void);

/* Human-readable text for an SG_MLDSA_* code. Static storage, never NULL. */
const char *sg_mldsa_err_str(int err);

/*
 * Overwrite len bytes at ptr with zeros in a way the compiler may not elide. ptr may
 * be NULL when len is 0.
 */
void sg_mldsa_wipe(void *ptr, size_t len);

/*
 * Fill seed with 32 bytes from the system RNG (getrandom). Returns 0, or
 * SG_MLDSA_ERR_RANDOM. The caller owns and must wipe the seed: it is the private key.
 */
SG_MLDSA_WUR int sg_mldsa_random_seed(uint8_t seed[SG_MLDSA_SEED_BYTES]);

/*
 * ML-DSA.KeyGen_internal (Alg. 6): derive the key pair of set p from the 32-byte seed
 * xi, writing sg_mldsa_pk_bytes(p) bytes to pk and sg_mldsa_sk_bytes(p) bytes to sk.
 * Deterministic: the seed is a compact form of the private key, and this is how to
 * expand a stored seed into the signing key once and reuse it. seed == NULL draws a
 * fresh seed from the system RNG (ML-DSA.KeyGen, Alg. 1) and wipes it afterwards.
 * Returns 0, SG_MLDSA_ERR_PARAM, or SG_MLDSA_ERR_RANDOM.
 */
SG_MLDSA_WUR int sg_mldsa_keygen(sg_mldsa_param p, const uint8_t *seed, uint8_t *pk,
                                 uint8_t *sk);

/*
 * Recompute the public key of the private key sk (sg_mldsa_sk_bytes(p) bytes) into pk.
 * Also validates sk: every coefficient in range, t0 consistent with s1, s2 and rho,
 * and tr equal to H(pk). Returns 0, SG_MLDSA_ERR_PARAM, or SG_MLDSA_ERR_MALFORMED.
 */
SG_MLDSA_WUR int sg_mldsa_pk_from_sk(sg_mldsa_param p, const uint8_t *sk, uint8_t *pk);

/*
 * ML-DSA.Sign (Alg. 2), the pure interface: sign msg (mlen bytes) under context ctx
 * (ctxlen <= 255 bytes; ctxlen 0 is the empty context) with private key sk, writing
 * sg_mldsa_sig_bytes(p) bytes to sig. rnd: NULL for hedged signing with 32 fresh bytes
 * from the system RNG; otherwise 32 caller-chosen bytes, e.g.
 * sg_mldsa_rnd_deterministic for the deterministic variant. Returns 0,
 * SG_MLDSA_ERR_PARAM, SG_MLDSA_ERR_CONTEXT, SG_MLDSA_ERR_MALFORMED (sk does not decode)
 * or SG_MLDSA_ERR_RANDOM.
 */
SG_MLDSA_WUR int sg_mldsa_sign(sg_mldsa_param p, const uint8_t *sk, const uint8_t *msg,
                               size_t mlen, const uint8_t *ctx, size_t ctxlen,
                               const uint8_t *rnd, uint8_t *sig);

/*
 * HashML-DSA.Sign (Alg. 4) over a pre-hash the caller computed: ph = PH(M) with
 * phlen == sg_mldsa_hash_digest_bytes(ph_alg). The signature binds ph_alg's OID, so it
 * verifies only with the same ph_alg. ctx and rnd as for sg_mldsa_sign. Returns as
 * sg_mldsa_sign, plus SG_MLDSA_ERR_LENGTH when phlen does not match ph_alg.
 */
SG_MLDSA_WUR int sg_mldsa_sign_prehash(sg_mldsa_param p, const uint8_t *sk,
                                       sg_mldsa_hash_alg ph_alg, const uint8_t *ph,
                                       size_t phlen, const uint8_t *ctx, size_t ctxlen,
                                       const uint8_t *rnd, uint8_t *sig);

/*
 * ML-DSA.Sign_internal (Alg. 7): sign the already formatted message M' (mprime,
 * mlen bytes) with no domain separation added. For protocols and tests that build M'
 * themselves. rnd as for sg_mldsa_sign.
 */
SG_MLDSA_WUR int sg_mldsa_sign_internal(sg_mldsa_param p, const uint8_t *sk,
                                        const uint8_t *mprime, size_t mlen,
                                        const uint8_t *rnd, uint8_t *sig);

/*
 * External-mu signing: Sign_internal starting from mu = H(tr || M', 64) that someone
 * else computed (for instance with sg_mldsa_compute_mu next to the message). rnd as
 * for sg_mldsa_sign.
 */
SG_MLDSA_WUR int sg_mldsa_sign_mu(sg_mldsa_param p, const uint8_t *sk,
                                  const uint8_t mu[SG_MLDSA_MU_BYTES], const uint8_t *rnd,
                                  uint8_t *sig);

/*
 * mu = H(H(pk, 64) || M', 64) for M' = 0 || ctxlen || ctx || msg, i.e. the mu that
 * sg_mldsa_sign would compute for the pure interface. Only public data is involved.
 * Returns 0, SG_MLDSA_ERR_PARAM or SG_MLDSA_ERR_CONTEXT.
 */
SG_MLDSA_WUR int sg_mldsa_compute_mu(sg_mldsa_param p, const uint8_t *pk,
                                     const uint8_t *msg, size_t mlen, const uint8_t *ctx,
                                     size_t ctxlen, uint8_t mu[SG_MLDSA_MU_BYTES]);

/*
 * ML-DSA.Verify (Alg. 3): check sig (siglen bytes) on msg under ctx with public key pk
 * (sg_mldsa_pk_bytes(p) bytes). Returns 0 if the signature is valid,
 * SG_MLDSA_ERR_BAD_SIGNATURE if it is not (including a wrong length or a malformed
 * hint encoding), SG_MLDSA_ERR_PARAM or SG_MLDSA_ERR_CONTEXT for bad arguments.
 */
SG_MLDSA_WUR int sg_mldsa_verify(sg_mldsa_param p, const uint8_t *pk, const uint8_t *msg,
                                 size_t mlen, const uint8_t *ctx, size_t ctxlen,
                                 const uint8_t *sig, size_t siglen);

/* HashML-DSA.Verify (Alg. 5) over a caller-supplied PH(M); see sg_mldsa_sign_prehash. */
SG_MLDSA_WUR int sg_mldsa_verify_prehash(sg_mldsa_param p, const uint8_t *pk,
                                         sg_mldsa_hash_alg ph_alg, const uint8_t *ph,
                                         size_t phlen, const uint8_t *ctx, size_t ctxlen,
                                         const uint8_t *sig, size_t siglen);

/* ML-DSA.Verify_internal (Alg. 8) on a formatted M'. */
SG_MLDSA_WUR int sg_mldsa_verify_internal(sg_mldsa_param p, const uint8_t *pk,
                                          const uint8_t *mprime, size_t mlen,
                                          const uint8_t *sig, size_t siglen);

/* Verify_internal starting from an external mu (see sg_mldsa_sign_mu). */
SG_MLDSA_WUR int sg_mldsa_verify_mu(sg_mldsa_param p, const uint8_t *pk,
                                    const uint8_t mu[SG_MLDSA_MU_BYTES],
                                    const uint8_t *sig, size_t siglen);

/*
 * Wrap the raw public key pk of set p in a DER SubjectPublicKeyInfo with the NIST OID
 * (id-ml-dsa-44/65/87, 2.16.840.1.101.3.4.3.17/18/19) and absent parameters, writing
 * sg_mldsa_spki_bytes(p) bytes to der. Returns 0 or SG_MLDSA_ERR_PARAM.
 */
SG_MLDSA_WUR int sg_mldsa_spki_encode(sg_mldsa_param p, const uint8_t *pk, uint8_t *der);

/*
 * Parse a DER SubjectPublicKeyInfo (exactly derlen bytes, strict DER, absent
 * parameters) holding an ML-DSA public key. On success writes the parameter set to
 * *p and the raw key to pk, whose capacity pkcap must be at least
 * sg_mldsa_pk_bytes(*p) (SG_MLDSA_PK_MAX always suffices). Returns 0,
 * SG_MLDSA_ERR_MALFORMED, or SG_MLDSA_ERR_LENGTH when pkcap is too small.
 */
SG_MLDSA_WUR int sg_mldsa_spki_decode(const uint8_t *der, size_t derlen, sg_mldsa_param *p,
                                      uint8_t *pk, size_t pkcap);

#endif
