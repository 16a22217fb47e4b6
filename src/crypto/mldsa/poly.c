/*
 * Arithmetic in R_q = Z_q[X]/(X^256 + 1) for ML-DSA: Montgomery reduction, the NTT and
 * its inverse (FIPS 204 Alg. 41/42), pointwise products, and the rounding functions
 * of §7.4 (Power2Round, Decompose, MakeHint, UseHint). Everything here runs in time
 * independent of the coefficient values: no data-dependent branches or table indices;
 * divisions by constants are written as multiply-and-shift so their timing does not
 * depend on the compiler's choices. On CPUs with AVX2 each function hands over to its
 * twin in poly_avx2.c, which computes the same integers.
 */
#include "mldsa_internal.h"

/* 2^64 / 256 mod q: Montgomery-multiplying by it scales by 2^32 / 256. */
#define INVNTT_SCALE 41978
/* INVNTT_SCALE * -zeta_1 * 2^-32 mod q: the last inverse layer's twiddle, scaled. */
#define INVNTT_SCALE_ZETA1 3975713

/*
 * sg_mldsa_zetas_mont[k] = zeta^BitRev8(k) * 2^32 mod q, centred, for zeta = 1753
 * (FIPS 204 Appendix B lists zeta^BitRev8(k); these are the same values in Montgomery
 * form).
 */
const int32_t sg_mldsa_zetas_mont[256] = {
  -4186625, 25847, -2608894, -518909, 237124, -777960, -876248, 466468, 1826347, 2353451,
  -359251, -2091905, 3119733, -2884855, 3111497, 2680103, 2725464, 1024112, -1079900,
  3585928, -549488, -1119584, 2619752, -2108549, -2118186, -3859737, -1399561, -3277672,
  1757237, -19422, 4010497, 280005, 2706023, 95776, 3077325, 3530437, -1661693, -3592148,
  -2537516, 3915439, -3861115, -3043716, 3574422, -2867647, 3539968, -300467, 2348700,
  -539299, -1699267, -1643818, 3505694, -3821735, 3507263, -2140649, -1600420, 3699596,
  811944, 531354, 954230, 3881043, 3900724, -2556880, 2071892, -2797779, -3930395,
  -1528703, -3677745, -3041255, -1452451, 3475950, 2176455, -1585221, -1257611, 1939314,
  -4083598, -1000202, -3190144, -3157330, -3632928, 126922, 3412210, -983419, 2147896,
  2715295, -2967645, -3693493, -411027, -2477047, -671102, -1228525, -22981, -1308169,
  -381987, 1349076, 1852771, -1430430, -3343383, 264944, 508951, 3097992, 44288,
  -1100098, 904516, 3958618, -3724342, -8578, 1653064, -3249728, 2389356, -210977,
  759969, -1316856, 189548, -3553272, 3159746, -1851402, -2409325, -177440, 1315589,
  1341330, 1285669, -1584928, -812732, -1439742, -3019102, -3881060, -3628969, 3839961,
  2091667, 3407706, 2316500, 3817976, -3342478, 2244091, -2446433, -3562462, 266997,
  2434439, -1235728, 3513181, -3520352, -3759364, -1197226, -3193378, 900702, 1859098,
  909542, 819034, 495491, -1613174, -43260, -522500, -655327, -3122442, 2031748, 3207046,
  -3556995, -525098, -768622, -3595838, 342297, 286988, -2437823, 4108315, 3437287,
  -3342277, 1735879, 203044, 2842341, 2691481, -2590150, 1265009, 4055324, 1247620,
  2486353, 1595974, -3767016, 1250494, 2635921, -3548272, -2994039, 1869119, 1903435,
  -1050970, -1333058, 1237275, -3318210, -1430225, -451100, 1312455, 3306115, -1962642,
  -1279661, 1917081, -2546312, -1374803, 1500165, 777191, 2235880, 3406031, -542412,
  -2831860, -1671176, -1846953, -2584293, -3724270, 594136, -3776993, -2013608, 2432395,
  2454455, -164721, 1957272, 3369112, 185531, -1207385, -3183426, 162844, 1616392,
  3014001, 810149, 1652634, -3694233, -1799107, -3038916, 3523897, 3866901, 269760,
  2213111, -975884, 1717735, 472078, -426683, 1723600, -1803090, 1910376, -1667432,
  -1104333, -260646, -3833893, -2939036, -2235985, -420899, -2286327, 183443, -976891,
  1612842, -3545687, -554416, 3919660, -48306, -1362209, 3937738, 1400424, -846154,
  1976782,
};

static int32_t mont_mul(int32_t a, int32_t b)
{
  return mldsa_montgomery((int64_t)a * b);
}

/*
 * Two Cooley-Tukey layers at once (distance len, then len / 2) so each coefficient is
 * loaded and stored once per pair of layers. Layer len, block b uses
 * sg_mldsa_zetas_mont[256 / (2 len) + b] (FIPS 204 Alg. 41 counts k up from 1).
 */
static void ntt_layer_pair(int32_t *c, unsigned len)
{
  unsigned half = len / 2;
  for (unsigned b = 0; b < MLDSA_N / (2 * len); b++) {
    unsigned start = 2 * len * b;
    int32_t z1 = sg_mldsa_zetas_mont[MLDSA_N / (2 * len) + b];
    int32_t z2 = sg_mldsa_zetas_mont[MLDSA_N / len + 2 * b];
    int32_t z3 = sg_mldsa_zetas_mont[MLDSA_N / len + 2 * b + 1];
    for (unsigned j = start; j < start + half; j++) {
      int32_t a0 = c[j], a1 = c[j + half], a2 = c[j + len], a3 = c[j + len + half], t;
      t = mont_mul(z1, a2);
      a2 = a0 - t;
      a0 = a0 + t;
      t = mont_mul(z1, a3);
      a3 = a1 - t;
      a1 = a1 + t;
      t = mont_mul(z2, a1);
      a1 = a0 - t;
      a0 = a0 + t;
      t = mont_mul(z3, a3);
      a3 = a2 - t;
      a2 = a2 + t;
      c[j] = a0;
      c[j + half] = a1;
      c[j + len] = a2;
      c[j + len + half] = a3;
    }
  }
}

void sg_mldsa_ntt(mldsa_poly *a)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_ntt(a->c);
    return;
  }
#endif
  /*
   * Each layer grows |c| by at most q (a Montgomery product of a twiddle, |zeta| <
   * q / 2, and |c| < 9q stays below q), so from |c| < q the output is below 9q.
   */
  for (unsigned len = 128; len >= 2; len >>= 2)
    ntt_layer_pair(a->c, len);
}

/*
 * Two Gentleman-Sande layers at once (distance len, then 2 len). Layer len, block b
 * uses -sg_mldsa_zetas_mont[256 / len - 1 - b] (Alg. 42 counts k down from 256).
 */
static void invntt_layer_pair(int32_t *c, unsigned len)
{
  for (unsigned b = 0; b < MLDSA_N / (4 * len); b++) {
    unsigned start = 4 * len * b;
    int32_t z1 = -sg_mldsa_zetas_mont[MLDSA_N / len - 1 - 2 * b];
    int32_t z2 = -sg_mldsa_zetas_mont[MLDSA_N / len - 2 - 2 * b];
    int32_t z3 = -sg_mldsa_zetas_mont[MLDSA_N / (2 * len) - 1 - b];
    for (unsigned j = start; j < start + len; j++) {
      int32_t a0 = c[j], a1 = c[j + len], a2 = c[j + 2 * len], a3 = c[j + 3 * len], t;
      t = a0;
      a0 = t + a1;
      a1 = mont_mul(z1, t - a1);
      t = a2;
      a2 = t + a3;
      a3 = mont_mul(z2, t - a3);
      t = a0;
      a0 = t + a2;
      a2 = mont_mul(z3, t - a2);
      t = a1;
      a1 = t + a3;
      a3 = mont_mul(z3, t - a3);
      c[j] = a0;
      c[j + len] = a1;
      c[j + 2 * len] = a2;
      c[j + 3 * len] = a3;
    }
  }
}

void sg_mldsa_invntt_mont(mldsa_poly *a)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_invntt_mont(a->c);
    return;
  }
#endif
  int32_t *c = a->c;

  /*
   * The sums at most double per layer: from |c| < q the largest value after 8 layers
   * is 256 (q - 1) < 2^31, so no intermediate reduction is needed, and every product
   * zeta * difference is below 2^31 q.
   */
  for (unsigned len = 1; len < 64; len <<= 2)
    invntt_layer_pair(c, len);
  /* Layers 64 and 128, with the scaling by 2^32 / 256 folded into the last one. */
  for (unsigned j = 0; j < 64; j++) {
    int32_t a0 = c[j], a1 = c[j + 64], a2 = c[j + 128], a3 = c[j + 192], t;
    t = a0;
    a0 = t + a1;
    a1 = mont_mul(-sg_mldsa_zetas_mont[3], t - a1);
    t = a2;
    a2 = t + a3;
    a3 = mont_mul(-sg_mldsa_zetas_mont[2], t - a3);
    c[j] = mont_mul(INVNTT_SCALE, a0 + a2);
    c[j + 128] = mont_mul(INVNTT_SCALE_ZETA1, a0 - a2);
    c[j + 64] = mont_mul(INVNTT_SCALE, a1 + a3);
    c[j + 192] = mont_mul(INVNTT_SCALE_ZETA1, a1 - a3);
  }
}

void sg_mldsa_poly_mul(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_poly_mul(r->c, a->c, b->c);
    return;
  }
#endif
  for (unsigned j = 0; j < MLDSA_N; j++)
    r->c[j] = mont_mul(a->c[j], b->c[j]);
}

void sg_mldsa_poly_dot(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b, unsigned n)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_poly_dot(r->c, a, b, n);
    return;
  }
#endif
  for (unsigned i = 0; i < MLDSA_N; i++) {
    int64_t sum = 0;
    for (unsigned j = 0; j < n; j++)
      sum += (int64_t)a[j].c[i] * b[j].c[i];
    r->c[i] = mldsa_montgomery(sum);
  }
}

void sg_mldsa_poly_freeze(mldsa_poly *a)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_poly_freeze(a->c);
    return;
  }
#endif
  for (unsigned j = 0; j < MLDSA_N; j++)
    a->c[j] = mldsa_freeze(a->c[j]);
}

void sg_mldsa_poly_center(mldsa_poly *a)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_poly_center(a->c);
    return;
  }
#endif
  for (unsigned j = 0; j < MLDSA_N; j++) {
    int32_t v = mldsa_freeze(a->c[j]);
    /* Subtract q when v > (q - 1) / 2, i.e. when (q - 1) / 2 - v is negative. */
    v -= (((MLDSA_Q - 1) / 2 - v) >> 31) & MLDSA_Q;
    a->c[j] = v;
  }
}

int sg_mldsa_poly_exceeds(const mldsa_poly *a, int32_t bound)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2())
    return sg_mldsa_avx2_poly_exceeds(a->c, bound);
#endif
  uint32_t bad = 0;
  for (unsigned j = 0; j < MLDSA_N; j++) {
    int32_t v = a->c[j];
    int32_t abs = v - ((v >> 31) & (2 * v)); /* |v| without a branch */
    /* bound - 1 - |v| is negative exactly when |v| >= bound. */
    bad |= (uint32_t)(bound - 1 - abs);
  }
  return (int)(bad >> 31);
}

void sg_mldsa_poly_power2round(mldsa_poly *t1, mldsa_poly *t0, const mldsa_poly *a)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_poly_power2round(t1->c, t0->c, a->c);
    return;
  }
#endif
  for (unsigned j = 0; j < MLDSA_N; j++) {
    int32_t v = a->c[j];
    /* r1 = ceil((v - 2^12) / 2^13) so that r0 = v - r1 2^13 lies in (-2^12, 2^12]. */
    int32_t r1 = (v + (1 << (MLDSA_D - 1)) - 1) >> MLDSA_D;
    t1->c[j] = r1;
    t0->c[j] = v - (r1 << MLDSA_D);
  }
}

/*
 * Decompose (Alg. 36) of v in [0, q) for alpha = 2 gamma2: r1 = ceil((v - gamma2) /
 * alpha) computed as floor((v + gamma2 - 1) / alpha) by multiply-and-shift (exact for
 * every argument below q + gamma2, checked exhaustively), then the wrap-around case
 * v - r0 = q - 1 folded to r1 = 0, r0 = r0 - 1 with a mask.
 */
static void decompose(int32_t v, int32_t gamma2, int32_t *r1_out, int32_t *r0_out)
{
  int32_t alpha = 2 * gamma2;
  uint64_t magic = gamma2 == (MLDSA_Q - 1) / 32 ? 537395713u : 1477838210u;
  int32_t top = (MLDSA_Q - 1) / alpha;
  int32_t r1 = (int32_t)(((uint64_t)(uint32_t)(v + gamma2 - 1) * magic) >> 48);
  int32_t r0 = v - r1 * alpha;
  uint32_t wrap = ((uint32_t)(r1 ^ top) - 1) >> 31; /* 1 iff r1 == top */
  r1 &= (int32_t)wrap - 1;
  r0 -= (int32_t)wrap;
  *r1_out = r1;
  *r0_out = r0;
}

void sg_mldsa_poly_highbits(mldsa_poly *a, int32_t gamma2)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_poly_highbits(a->c, gamma2);
    return;
  }
#endif
  for (unsigned j = 0; j < MLDSA_N; j++) {
    int32_t r1, r0;
    decompose(a->c[j], gamma2, &r1, &r0);
    a->c[j] = r1;
  }
}

int sg_mldsa_poly_lowbits_exceed(const mldsa_poly *a, int32_t gamma2, int32_t bound)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2())
    return sg_mldsa_avx2_poly_lowbits_exceed(a->c, gamma2, bound);
#endif
  uint32_t bad = 0;
  for (unsigned j = 0; j < MLDSA_N; j++) {
    int32_t r1, r0;
    decompose(a->c[j], gamma2, &r1, &r0);
    int32_t abs = r0 - ((r0 >> 31) & (2 * r0));
    bad |= (uint32_t)(bound - 1 - abs);
  }
  return (int)(bad >> 31);
}

unsigned sg_mldsa_poly_make_hint(uint8_t h[MLDSA_N], const mldsa_poly *r,
                                 const mldsa_poly *ct0, int32_t gamma2)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2())
    return sg_mldsa_avx2_poly_make_hint(h, r->c, ct0->c, gamma2);
#endif
  unsigned count = 0;
  for (unsigned j = 0; j < MLDSA_N; j++) {
    int32_t hi_r, hi_s, lo;
    /* r in [0, q), |ct0| < q / 2: one conditional add or subtract of q suffices. */
    int32_t s = r->c[j] + ct0->c[j];
    s = mldsa_add_q_if_negative(s);
    s -= ((MLDSA_Q - 1 - s) >> 31) & MLDSA_Q;
    decompose(r->c[j], gamma2, &hi_r, &lo);
    decompose(s, gamma2, &hi_s, &lo);
    uint32_t diff = (uint32_t)(hi_r ^ hi_s);
    uint8_t bit = (uint8_t)((diff | (0u - diff)) >> 31); /* 1 iff diff != 0 */
    h[j] = bit;
    count += bit;
  }
  return count;
}

void sg_mldsa_poly_use_hint(mldsa_poly *a, const uint8_t h[MLDSA_N], int32_t gamma2)
{
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    sg_mldsa_avx2_poly_use_hint(a->c, h, gamma2);
    return;
  }
#endif
  int32_t top = (MLDSA_Q - 1) / (2 * gamma2);
  for (unsigned j = 0; j < MLDSA_N; j++) {
    int32_t r1, r0;
    decompose(a->c[j], gamma2, &r1, &r0);
    int32_t hint = h[j];
    /* +1 when r0 > 0, -1 otherwise, applied only where the hint is set. */
    int32_t step = 1 - 2 * (int32_t)((uint32_t)(r0 - 1) >> 31);
    int32_t v = r1 + hint * step;
    v += (v >> 31) & top;             /* -1 -> top - 1 */
    v -= ((top - 1 - v) >> 31) & top; /* top -> 0 */
    a->c[j] = v;
  }
}
