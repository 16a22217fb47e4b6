/*
 * Keccak-f[1600] sponge: SHA3-224/256/384/512 and SHAKE128/256 (FIPS 202), with
 * incremental absorb and incremental squeeze. ML-DSA uses SHAKE128 and SHAKE256 as its
 * XOFs G and H and needs to squeeze them block by block, which OpenSSL 3.0 cannot do;
 * the SHA3 digests come for free from the same sponge. Part of the self-contained
 * sg_mldsa library: no allocation, no global state, no dependencies beyond libc.
 */
#ifndef SG_KECCAK_H
#define SG_KECCAK_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  SG_KECCAK_SHA3_224,
  SG_KECCAK_SHA3_256,
  SG_KECCAK_SHA3_384,
  SG_KECCAK_SHA3_512,
  SG_KECCAK_SHAKE128,
  SG_KECCAK_SHAKE256
} sg_keccak_alg;

#define SG_KECCAK_SHAKE128_RATE 168
#define SG_KECCAK_SHAKE256_RATE 136

/* Sponge state. The fields are visible only so the struct can live on the stack. */
typedef struct sg_keccak {
  uint64_t lanes[25];
  unsigned rate;      /* bytes per block */
  unsigned pos;       /* absorb: bytes absorbed in this block; squeeze: bytes consumed */
  unsigned digest;    /* SHA3 output length in bytes, 0 for a XOF */
  uint8_t suffix;     /* domain separation bits plus the first padding bit */
  uint8_t squeezing;
} sg_keccak;

/*
 * Apply the 24-round Keccak-f[1600] permutation to lanes (lane x + 5y is A[x][y],
 * loaded little-endian). Exposed for known-answer testing and for the sampling code.
 */
void sg_keccak_f1600(uint64_t lanes[25]);

/* Start a fresh hash or XOF computation of kind alg in ctx (caller-owned storage). */
void sg_keccak_init(sg_keccak *ctx, sg_keccak_alg alg);

/*
 * Absorb len bytes of in (in may be NULL when len is 0). Must not be called after the
 * first squeeze: doing so is a programming error and aborts the process.
 */
void sg_keccak_absorb(sg_keccak *ctx, const uint8_t *in, size_t len);

/*
 * Squeeze len bytes into out. The first call pads and finalises the input; later calls
 * continue the same output stream, so squeezing 10 then 20 bytes yields the same bytes
 * as squeezing 30 at once. For the SHA3 kinds the caller should squeeze exactly the
 * digest length once (sg_keccak_digest_bytes) or use the one-shot functions.
 */
void sg_keccak_squeeze(sg_keccak *ctx, uint8_t *out, size_t len);

/* Digest length in bytes of a SHA3 kind, or 0 for the XOFs. */
size_t sg_keccak_digest_bytes(sg_keccak_alg alg);

/* Erase ctx (it may have absorbed secrets). ctx may be reused after sg_keccak_init. */
void sg_keccak_wipe(sg_keccak *ctx);

/* One-shot helpers. in may be NULL when inlen is 0. */
void sg_sha3_256(uint8_t out[32], const uint8_t *in, size_t inlen);
void sg_sha3_512(uint8_t out[64], const uint8_t *in, size_t inlen);
void sg_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);
void sg_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);

#endif
