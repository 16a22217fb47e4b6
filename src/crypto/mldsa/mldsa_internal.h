/*
 * Internal interfaces of the sg_mldsa library, shared by its translation units and by
 * the unit tests; not part of the public API. poly.c holds arithmetic in R_q (NTT,
 * Montgomery reduction, rounding, hints), sample.c the FIPS 204 §7.3 samplers,
 * encode.c the byte encodings of §7.1-7.2 and the SPKI wrapper, mldsa.c the
 * algorithms of §5-6. Polynomials are arrays of 256 int32_t coefficients; each
 * function states the range its inputs must be in and the range of its outputs.
 */
#ifndef SG_MLDSA_INTERNAL_H
#define SG_MLDSA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sg_keccak.h"
#include "sg_mldsa.h"

#define MLDSA_N 256
#define MLDSA_Q 8380417
#define MLDSA_D 13
#define MLDSA_K_MAX 8
#define MLDSA_L_MAX 7
#define MLDSA_CTILDE_MAX 64
#define MLDSA_OMEGA_MAX 80

typedef struct {
  int32_t c[MLDSA_N];
} mldsa_poly;

/* One row of FIPS 204 Table 1 plus the derived encoding sizes. */
typedef struct {
  sg_mldsa_param id;
  const char *name;
  unsigned k, l;
  unsigned eta;
  unsigned tau;
  unsigned omega;
  unsigned ctilde_bytes; /* lambda / 4 */
  int32_t beta;          /* tau * eta */
  int32_t gamma1;
  int32_t gamma2;
  unsigned z_bits;       /* 1 + bitlen(gamma1 - 1) */
  unsigned w1_bits;      /* bitlen((q - 1) / (2 gamma2) - 1) */
  unsigned eta_bits;     /* bitlen(2 eta) */
  size_t pk_bytes, sk_bytes, sig_bytes, spki_bytes;
} mldsa_params;

/* The parameter row for p, or NULL if p is not a parameter set. */
const mldsa_params *sg_mldsa_params(sg_mldsa_param p);

/* ---- AVX2 dispatch ---- */

/*
 * SG_MLDSA_AVX2 is defined when the AVX2 files are compiled in (x86-64 builds that do
 * not ask for the portable code only). The choice is made per call from the CPU's
 * feature bits, which the compiler runtime reads once at start-up, so the library
 * itself keeps no state. Both paths compute bit-for-bit the same results.
 */
#if defined(SG_MLDSA_AVX2)
static inline int mldsa_have_avx2(void)
{
  return __builtin_cpu_supports("avx2");
}
#else
static inline int mldsa_have_avx2(void)
{
  return 0;
}
#endif

/* Keccak-f[1600] round constants (keccak.c). */
extern const uint64_t sg_keccak_round_constants[24];

/*
 * Four SHAKE instances in lock-step (keccak_x4.c, AVX2 only). Lane word i of instance
 * n is s[4 i + n]. Absorb takes one equal-length input per instance, shorter than the
 * rate; squeeze_blocks then appends whole blocks to each of the four outputs.
 */
typedef struct {
  uint64_t s[100];
  unsigned rate;
} sg_mldsa_shake_x4;

void sg_mldsa_shake_x4_absorb(sg_mldsa_shake_x4 *x, sg_keccak_alg alg,
                              const uint8_t *const in[4], size_t inlen);
void sg_mldsa_shake_x4_squeeze_blocks(sg_mldsa_shake_x4 *x, uint8_t *const out[4],
                                      size_t nblocks);

/*
 * The AVX2 part of RejNTTPoly's parser (sample_avx2.c): consumes whole groups of 24
 * bytes of buf while eight slots remain free, advancing *j; returns the bytes used.
 */
size_t sg_mldsa_avx2_parse_uniform(int32_t c[MLDSA_N], unsigned *j_io, const uint8_t *buf,
                                   size_t len);

/* BitUnpack of 18- or 20-bit coefficients (z and y) with AVX2 (poly_avx2.c). */
void sg_mldsa_avx2_unpack_wide(int32_t c[MLDSA_N], const uint8_t *in, unsigned bits,
                               int32_t hi);

/* AVX2 twins of the poly.c functions of the same names (poly_avx2.c). */
void sg_mldsa_avx2_ntt(int32_t c[MLDSA_N]);
void sg_mldsa_avx2_invntt_mont(int32_t c[MLDSA_N]);
void sg_mldsa_avx2_poly_mul(int32_t r[MLDSA_N], const int32_t a[MLDSA_N],
                            const int32_t b[MLDSA_N]);
void sg_mldsa_avx2_poly_dot(int32_t r[MLDSA_N], const mldsa_poly *a, const mldsa_poly *b,
                            unsigned n);
void sg_mldsa_avx2_poly_freeze(int32_t a[MLDSA_N]);
void sg_mldsa_avx2_poly_center(int32_t a[MLDSA_N]);
int sg_mldsa_avx2_poly_exceeds(const int32_t a[MLDSA_N], int32_t bound);
void sg_mldsa_avx2_poly_power2round(int32_t t1[MLDSA_N], int32_t t0[MLDSA_N],
                                    const int32_t a[MLDSA_N]);
void sg_mldsa_avx2_poly_highbits(int32_t a[MLDSA_N], int32_t gamma2);
int sg_mldsa_avx2_poly_lowbits_exceed(const int32_t a[MLDSA_N], int32_t gamma2,
                                      int32_t bound);
unsigned sg_mldsa_avx2_poly_make_hint(uint8_t h[MLDSA_N], const int32_t r[MLDSA_N],
                                      const int32_t ct0[MLDSA_N], int32_t gamma2);
void sg_mldsa_avx2_poly_use_hint(int32_t a[MLDSA_N], const uint8_t h[MLDSA_N],
                                 int32_t gamma2);

/* ---- arithmetic (poly.c) ---- */

/* zeta^BitRev8(k) * 2^32 mod q, centred (the NTT twiddles in Montgomery form). */
extern const int32_t sg_mldsa_zetas_mont[MLDSA_N];

/* q^-1 mod 2^32. */
#define MLDSA_QINV 58728449

/*
 * a * 2^-32 mod q for |a| < 2^31 q; result in (-q, q). Signed right shifts are
 * arithmetic and integer narrowing keeps the low bits (GCC and Clang define both).
 */
static inline int32_t mldsa_montgomery(int64_t a)
{
  /* t = a * q^-1 mod 2^32 (signed), so a - t q is divisible by 2^32. */
  int32_t t = (int32_t)((uint32_t)a * (uint32_t)MLDSA_QINV);
  int64_t q = MLDSA_Q;
#if defined(__GNUC__)
  /*
   * Hide q from constant propagation: with generic tuning GCC expands t * q into a
   * five-instruction shift-and-subtract chain, which made the NTT 20% slower than one
   * multiply does.
   */
  __asm__("" : "+r"(q));
#endif
  return (int32_t)((a - (int64_t)t * q) >> 32);
}

/* a mod q in [-6283009, 6283008] for |a| < 2^31 - 2^22. */
static inline int32_t mldsa_reduce32(int32_t a)
{
  /* q = 2^23 - 2^13 + 1, so round(a / 2^23) is within one of round(a / q). */
  int32_t t = (a + (1 << 22)) >> 23;
  return a - t * MLDSA_Q;
}

/* a + q if a is negative, else a. */
static inline int32_t mldsa_add_q_if_negative(int32_t a)
{
  return a + ((a >> 31) & MLDSA_Q);
}

/* a mod q in [0, q) for |a| < 2^31 - 2^22. */
static inline int32_t mldsa_freeze(int32_t a)
{
  return mldsa_add_q_if_negative(mldsa_reduce32(a));
}

/*
 * In-place forward NTT (Alg. 41). Input |c| < q; output |c| < 9q. Products are safe
 * without a further reduction as long as each Montgomery reduction sees less than
 * 2^31 q and yields less than q: that holds for sums of up to 7 products of a value
 * below q (the matrix A) with one below 9q (|sum| < 63 q^2), and for one product of
 * two values below 9q (81 q^2); either way the result is below 1.4e6 + q / 2 < q.
 */
void sg_mldsa_ntt(mldsa_poly *a);
/*
 * In-place inverse NTT (Alg. 42) times the Montgomery factor 2^32: the output is
 * NTT^-1(a) * 2^32 mod q, which cancels the 2^-32 of a preceding Montgomery product.
 * Input |c| < q; output |c| < q.
 */
void sg_mldsa_invntt_mont(mldsa_poly *a);
/* r = a o b * 2^-32 (pointwise). Inputs |c| < 9q; output |c| < q. */
void sg_mldsa_poly_mul(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b);
/*
 * r = sum of a[j] o b[j] for j < n, times 2^-32, reduced once. The sum must stay in
 * the bound stated at sg_mldsa_ntt (up to 7 terms with one factor below q, or one term
 * with both factors below 9q); then |r| < q.
 */
void sg_mldsa_poly_dot(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b, unsigned n);
/* Map every coefficient (|c| < 2^31 - 2^22) to [0, q). */
void sg_mldsa_poly_freeze(mldsa_poly *a);
/* Map every coefficient (|c| < 2^31 - 2^22) to the centred range [-(q-1)/2, (q-1)/2]. */
void sg_mldsa_poly_center(mldsa_poly *a);
/*
 * 1 if some centred coefficient has |c| >= bound, else 0, without branching on the
 * coefficients. Input in the centred range.
 */
int sg_mldsa_poly_exceeds(const mldsa_poly *a, int32_t bound);

/* Power2Round (Alg. 35) of a in [0, q): t1 in [0, 2^10), t0 in (-2^12, 2^12]. */
void sg_mldsa_poly_power2round(mldsa_poly *t1, mldsa_poly *t0, const mldsa_poly *a);
/* HighBits (Alg. 37) of a in [0, q), in place. */
void sg_mldsa_poly_highbits(mldsa_poly *a, int32_t gamma2);
/* 1 if some LowBits (Alg. 38) of a in [0, q) has |r0| >= bound, else 0 (constant time). */
int sg_mldsa_poly_lowbits_exceed(const mldsa_poly *a, int32_t gamma2, int32_t bound);
/*
 * h = MakeHint(-ct0, r + ct0) (Alg. 39): h_i = [HighBits(r_i + ct0_i) != HighBits(r_i)]
 * as bytes 0/1, with r in [0, q) and ct0 centred. Returns the number of ones.
 */
unsigned sg_mldsa_poly_make_hint(uint8_t h[MLDSA_N], const mldsa_poly *r,
                                 const mldsa_poly *ct0, int32_t gamma2);
/* UseHint (Alg. 40) in place on a in [0, q) with hint bytes h (0/1). */
void sg_mldsa_poly_use_hint(mldsa_poly *a, const uint8_t h[MLDSA_N], int32_t gamma2);

/* ---- sampling (sample.c) ---- */

/* ExpandA (Alg. 32): all k * l entries of Ahat, row-major (a_hat[i * l + j]). */
void sg_mldsa_expand_a(mldsa_poly *a_hat, const uint8_t rho[32], const mldsa_params *prm);
/* ExpandS (Alg. 33): s1 (l polynomials) and s2 (k), coefficients in [-eta, eta]. */
void sg_mldsa_expand_s(mldsa_poly *s1, mldsa_poly *s2, const uint8_t rhoprime[64],
                       const mldsa_params *prm);
/*
 * ExpandMask (Alg. 34) as a stream: the polynomials for indices 0, 1, 2, ... in order,
 * so that the signing iteration with counter kappa takes the l polynomials kappa ..
 * kappa + l - 1. With AVX2 they are expanded four at a time ahead of use. The stream
 * holds secrets; wipe it with the signing workspace.
 */
typedef struct {
  mldsa_poly ahead[4];
  unsigned pos;   /* next polynomial to hand out from ahead[] */
  unsigned count; /* polynomials left in ahead[] */
  unsigned next;  /* index of the next polynomial to expand */
} mldsa_mask_stream;

void sg_mldsa_mask_stream_init(mldsa_mask_stream *st);
void sg_mldsa_mask_stream_take(mldsa_mask_stream *st, mldsa_poly *y, unsigned count,
                               const uint8_t rhopp[64], const mldsa_params *prm);

/* RejNTTPoly (Alg. 30) on rho || col || row: Ahat[row][col], coefficients in [0, q). */
void sg_mldsa_sample_ntt(mldsa_poly *a, const uint8_t rho[32], uint8_t col, uint8_t row);
/* RejBoundedPoly (Alg. 31) on rho' || IntegerToBytes(index, 2); coefficients in [-eta, eta]. */
void sg_mldsa_sample_bounded(mldsa_poly *a, const uint8_t rhoprime[64], uint16_t index,
                             unsigned eta);
/* One polynomial of ExpandMask (Alg. 34): rho'' || IntegerToBytes(index, 2). */
void sg_mldsa_sample_mask(mldsa_poly *y, const uint8_t rhopp[64], uint16_t index,
                          const mldsa_params *prm);
/* SampleInBall (Alg. 29) on the whole commitment hash ctilde. */
void sg_mldsa_sample_in_ball(mldsa_poly *c, const uint8_t *ctilde, size_t ctilde_bytes,
                             unsigned tau);

/* ---- encodings (encode.c) ---- */

/* SimpleBitPack / SimpleBitUnpack (Alg. 16/18) with bits per coefficient. */
void sg_mldsa_pack_simple(uint8_t *out, const mldsa_poly *a, unsigned bits);
void sg_mldsa_unpack_simple(mldsa_poly *a, const uint8_t *in, unsigned bits);
/* BitPack (Alg. 17): coefficients in [-lo, hi] stored as hi - c in bits bits. */
void sg_mldsa_pack_signed(uint8_t *out, const mldsa_poly *a, unsigned bits, int32_t hi);
/* BitUnpack (Alg. 19): c = hi - v for each bits-bit v. */
void sg_mldsa_unpack_signed(mldsa_poly *a, const uint8_t *in, unsigned bits, int32_t hi);

/* pkEncode / pkDecode (Alg. 22/23). */
void sg_mldsa_pk_encode(uint8_t *pk, const mldsa_params *prm, const uint8_t rho[32],
                        const mldsa_poly *t1);
void sg_mldsa_pk_decode(const mldsa_params *prm, const uint8_t *pk, uint8_t rho[32],
                        mldsa_poly *t1);

/* skEncode (Alg. 24). */
void sg_mldsa_sk_encode(uint8_t *sk, const mldsa_params *prm, const uint8_t rho[32],
                        const uint8_t key[32], const uint8_t tr[64], const mldsa_poly *s1,
                        const mldsa_poly *s2, const mldsa_poly *t0);
/*
 * skDecode (Alg. 25) plus validation: returns 0, or -1 if a coefficient of s1 or s2 is
 * outside [-eta, eta]. The check does not branch per coefficient; the outputs are
 * written either way and the caller must wipe them.
 */
int sg_mldsa_sk_decode(const mldsa_params *prm, const uint8_t *sk, uint8_t rho[32],
                       uint8_t key[32], uint8_t tr[64], mldsa_poly *s1, mldsa_poly *s2,
                       mldsa_poly *t0);

/* sigEncode (Alg. 26) with hint bytes h[i][j] in {0, 1} and at most omega ones. */
void sg_mldsa_sig_encode(uint8_t *sig, const mldsa_params *prm, const uint8_t *ctilde,
                         const mldsa_poly *z, const uint8_t h[][MLDSA_N]);
/*
 * sigDecode (Alg. 27) with HintBitUnpack (Alg. 21): returns 0, or -1 if the hint
 * encoding is malformed (indices not strictly increasing within a polynomial, counts
 * decreasing or above omega, non-zero padding). Signatures are public: branches.
 */
int sg_mldsa_sig_decode(const mldsa_params *prm, const uint8_t *sig, uint8_t *ctilde,
                        mldsa_poly *z, uint8_t h[][MLDSA_N]);

/* w1Encode (Alg. 28) of one polynomial with coefficients in [0, (q-1)/(2 gamma2)). */
void sg_mldsa_w1_encode(uint8_t *out, const mldsa_poly *w1, const mldsa_params *prm);

/* DER OID (tag, length, value) of a pre-hash function; *len receives its length. */
const uint8_t *sg_mldsa_hash_oid(sg_mldsa_hash_alg alg, size_t *len);

#endif
