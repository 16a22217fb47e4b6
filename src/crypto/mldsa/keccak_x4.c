/*
 * Four Keccak-f[1600] instances side by side in AVX2 registers (64-bit lane i of each
 * 256-bit word belongs to instance i), and the 4-way SHAKE the AVX2 samplers use to
 * expand four polynomials at once. The round is the one in keccak.c with each 64-bit
 * operation widened to four; outputs are identical to four scalar runs. Compiled with
 * -mavx2 and only called after the run-time CPU check in mldsa_internal.h.
 */
#include <immintrin.h>
#include <string.h>

#include "mldsa_internal.h"

#define ROL64_X4(x, n) _mm256_or_si256(_mm256_slli_epi64((x), (n)), _mm256_srli_epi64((x), 64 - (n)))

#define KECCAK_ROUND_X4(A, E, rc) \
  do { \
    __m256i c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4; \
    c0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(A##0, A##5), A##10), A##15), A##20); \
    c1 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(A##1, A##6), A##11), A##16), A##21); \
    c2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(A##2, A##7), A##12), A##17), A##22); \
    c3 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(A##3, A##8), A##13), A##18), A##23); \
    c4 = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(A##4, A##9), A##14), A##19), A##24); \
    d0 = _mm256_xor_si256(c4, ROL64_X4(c1, 1)); \
    d1 = _mm256_xor_si256(c0, ROL64_X4(c2, 1)); \
    d2 = _mm256_xor_si256(c1, ROL64_X4(c3, 1)); \
    d3 = _mm256_xor_si256(c2, ROL64_X4(c4, 1)); \
    d4 = _mm256_xor_si256(c3, ROL64_X4(c0, 1)); \
    b0 = _mm256_xor_si256(A##0, d0); \
    b1 = ROL64_X4(_mm256_xor_si256(A##6, d1), 44); \
    b2 = ROL64_X4(_mm256_xor_si256(A##12, d2), 43); \
    b3 = ROL64_X4(_mm256_xor_si256(A##18, d3), 21); \
    b4 = ROL64_X4(_mm256_xor_si256(A##24, d4), 14); \
    E##0 = _mm256_xor_si256(_mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2)), _mm256_set1_epi64x((long long)(rc))); \
    E##1 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3)); \
    E##2 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4)); \
    E##3 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0)); \
    E##4 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1)); \
    b0 = ROL64_X4(_mm256_xor_si256(A##3, d3), 28); \
    b1 = ROL64_X4(_mm256_xor_si256(A##9, d4), 20); \
    b2 = ROL64_X4(_mm256_xor_si256(A##10, d0), 3); \
    b3 = ROL64_X4(_mm256_xor_si256(A##16, d1), 45); \
    b4 = ROL64_X4(_mm256_xor_si256(A##22, d2), 61); \
    E##5 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2)); \
    E##6 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3)); \
    E##7 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4)); \
    E##8 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0)); \
    E##9 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1)); \
    b0 = ROL64_X4(_mm256_xor_si256(A##1, d1), 1); \
    b1 = ROL64_X4(_mm256_xor_si256(A##7, d2), 6); \
    b2 = ROL64_X4(_mm256_xor_si256(A##13, d3), 25); \
    b3 = ROL64_X4(_mm256_xor_si256(A##19, d4), 8); \
    b4 = ROL64_X4(_mm256_xor_si256(A##20, d0), 18); \
    E##10 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2)); \
    E##11 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3)); \
    E##12 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4)); \
    E##13 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0)); \
    E##14 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1)); \
    b0 = ROL64_X4(_mm256_xor_si256(A##4, d4), 27); \
    b1 = ROL64_X4(_mm256_xor_si256(A##5, d0), 36); \
    b2 = ROL64_X4(_mm256_xor_si256(A##11, d1), 10); \
    b3 = ROL64_X4(_mm256_xor_si256(A##17, d2), 15); \
    b4 = ROL64_X4(_mm256_xor_si256(A##23, d3), 56); \
    E##15 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2)); \
    E##16 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3)); \
    E##17 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4)); \
    E##18 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0)); \
    E##19 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1)); \
    b0 = ROL64_X4(_mm256_xor_si256(A##2, d2), 62); \
    b1 = ROL64_X4(_mm256_xor_si256(A##8, d3), 55); \
    b2 = ROL64_X4(_mm256_xor_si256(A##14, d4), 39); \
    b3 = ROL64_X4(_mm256_xor_si256(A##15, d0), 41); \
    b4 = ROL64_X4(_mm256_xor_si256(A##21, d1), 2); \
    E##20 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2)); \
    E##21 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3)); \
    E##22 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4)); \
    E##23 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0)); \
    E##24 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1)); \
  } while (0)

static void keccak_x4_permute(uint64_t s[100])
{
  __m256i a0 = _mm256_loadu_si256((const __m256i *)&s[0]);
  __m256i a1 = _mm256_loadu_si256((const __m256i *)&s[4]);
  __m256i a2 = _mm256_loadu_si256((const __m256i *)&s[8]);
  __m256i a3 = _mm256_loadu_si256((const __m256i *)&s[12]);
  __m256i a4 = _mm256_loadu_si256((const __m256i *)&s[16]);
  __m256i a5 = _mm256_loadu_si256((const __m256i *)&s[20]);
  __m256i a6 = _mm256_loadu_si256((const __m256i *)&s[24]);
  __m256i a7 = _mm256_loadu_si256((const __m256i *)&s[28]);
  __m256i a8 = _mm256_loadu_si256((const __m256i *)&s[32]);
  __m256i a9 = _mm256_loadu_si256((const __m256i *)&s[36]);
  __m256i a10 = _mm256_loadu_si256((const __m256i *)&s[40]);
  __m256i a11 = _mm256_loadu_si256((const __m256i *)&s[44]);
  __m256i a12 = _mm256_loadu_si256((const __m256i *)&s[48]);
  __m256i a13 = _mm256_loadu_si256((const __m256i *)&s[52]);
  __m256i a14 = _mm256_loadu_si256((const __m256i *)&s[56]);
  __m256i a15 = _mm256_loadu_si256((const __m256i *)&s[60]);
  __m256i a16 = _mm256_loadu_si256((const __m256i *)&s[64]);
  __m256i a17 = _mm256_loadu_si256((const __m256i *)&s[68]);
  __m256i a18 = _mm256_loadu_si256((const __m256i *)&s[72]);
  __m256i a19 = _mm256_loadu_si256((const __m256i *)&s[76]);
  __m256i a20 = _mm256_loadu_si256((const __m256i *)&s[80]);
  __m256i a21 = _mm256_loadu_si256((const __m256i *)&s[84]);
  __m256i a22 = _mm256_loadu_si256((const __m256i *)&s[88]);
  __m256i a23 = _mm256_loadu_si256((const __m256i *)&s[92]);
  __m256i a24 = _mm256_loadu_si256((const __m256i *)&s[96]);
  __m256i e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15, e16;
  __m256i e17, e18, e19, e20, e21, e22, e23, e24;

  for (int i = 0; i < 24; i += 2) {
    KECCAK_ROUND_X4(a, e, sg_keccak_round_constants[i]);
    KECCAK_ROUND_X4(e, a, sg_keccak_round_constants[i + 1]);
  }

  _mm256_storeu_si256((__m256i *)&s[0], a0);
  _mm256_storeu_si256((__m256i *)&s[4], a1);
  _mm256_storeu_si256((__m256i *)&s[8], a2);
  _mm256_storeu_si256((__m256i *)&s[12], a3);
  _mm256_storeu_si256((__m256i *)&s[16], a4);
  _mm256_storeu_si256((__m256i *)&s[20], a5);
  _mm256_storeu_si256((__m256i *)&s[24], a6);
  _mm256_storeu_si256((__m256i *)&s[28], a7);
  _mm256_storeu_si256((__m256i *)&s[32], a8);
  _mm256_storeu_si256((__m256i *)&s[36], a9);
  _mm256_storeu_si256((__m256i *)&s[40], a10);
  _mm256_storeu_si256((__m256i *)&s[44], a11);
  _mm256_storeu_si256((__m256i *)&s[48], a12);
  _mm256_storeu_si256((__m256i *)&s[52], a13);
  _mm256_storeu_si256((__m256i *)&s[56], a14);
  _mm256_storeu_si256((__m256i *)&s[60], a15);
  _mm256_storeu_si256((__m256i *)&s[64], a16);
  _mm256_storeu_si256((__m256i *)&s[68], a17);
  _mm256_storeu_si256((__m256i *)&s[72], a18);
  _mm256_storeu_si256((__m256i *)&s[76], a19);
  _mm256_storeu_si256((__m256i *)&s[80], a20);
  _mm256_storeu_si256((__m256i *)&s[84], a21);
  _mm256_storeu_si256((__m256i *)&s[88], a22);
  _mm256_storeu_si256((__m256i *)&s[92], a23);
  _mm256_storeu_si256((__m256i *)&s[96], a24);
}

void sg_mldsa_shake_x4_absorb(sg_mldsa_shake_x4 *x, sg_keccak_alg alg,
                              const uint8_t *const in[4], size_t inlen)
{
  uint8_t block[SG_KECCAK_SHAKE128_RATE];
  x->rate = alg == SG_KECCAK_SHAKE128 ? SG_KECCAK_SHAKE128_RATE : SG_KECCAK_SHAKE256_RATE;
  memset(x->s, 0, sizeof(x->s));
  for (int inst = 0; inst < 4; inst++) {
    /* One padded block per instance: the seeds are shorter than the rate. */
    memset(block, 0, x->rate);
    memcpy(block, in[inst], inlen);
    block[inlen] ^= 0x1f;
    block[x->rate - 1] ^= 0x80;
    for (unsigned i = 0; i < x->rate / 8; i++) {
      uint64_t w;
      memcpy(&w, block + 8 * i, 8);
      x->s[4 * i + inst] = w;
    }
  }
  sg_mldsa_wipe(block, sizeof(block));
}

void sg_mldsa_shake_x4_squeeze_blocks(sg_mldsa_shake_x4 *x, uint8_t *const out[4],
                                      size_t nblocks)
{
  for (size_t b = 0; b < nblocks; b++) {
    keccak_x4_permute(x->s);
    for (unsigned i = 0; i < x->rate / 8; i++) {
      for (int inst = 0; inst < 4; inst++)
        memcpy(out[inst] + b * x->rate + 8 * i, &x->s[4 * i + inst], 8);
    }
  }
}
