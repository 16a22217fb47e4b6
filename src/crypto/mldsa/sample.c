/*
 * The samplers of FIPS 204 §7.3: RejNTTPoly for the public matrix A (Alg. 30, via
 * ExpandA, Alg. 32), RejBoundedPoly for the secret vectors s1, s2 (Alg. 31, via
 * ExpandS, Alg. 33), ExpandMask (Alg. 34) and SampleInBall (Alg. 29). Output is
 * squeezed a whole block at a time; with AVX2, four polynomials are expanded at once
 * by the 4-way Keccak in keccak_x4.c, which yields exactly the same byte streams.
 *
 * ExpandMask is served as a stream: signing iteration t uses the polynomials with
 * indices t l .. t l + l - 1, so the indices run on without gaps across iterations
 * and the AVX2 path can always expand four at once.
 *
 * RejBoundedPoly works on secret bytes: it accepts or rejects each half-byte with
 * arithmetic masks and always writes the candidate, so only the number of rejections
 * (which FIPS 204 lets leak) affects timing. RejNTTPoly works on the public seed rho,
 * and SampleInBall on the commitment hash c~, which is public once the signature is
 * released and, for rejected iterations, a hash of w1 = HighBits(A y) for a discarded
 * y that is independent of the key; both may branch on their data.
 */
#include <string.h>

#include "mldsa_internal.h"

/* Five SHAKE128 blocks: 280 three-byte candidates, enough for 256 with overwhelming
 * probability (each is rejected with probability (2^23 - q) / 2^23 < 0.001). */
#define NTT_SAMPLE_BLOCKS 5
#define NTT_SAMPLE_BYTES (NTT_SAMPLE_BLOCKS * SG_KECCAK_SHAKE128_RATE)
/* Five SHAKE256 blocks hold the 640 bytes of one ExpandMask polynomial. */
#define MASK_BLOCKS 5
#define MASK_BYTES (MASK_BLOCKS * SG_KECCAK_SHAKE256_RATE)

static uint64_t load64_le(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
#else
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
#endif
}

/*
 * RejNTTPoly's inner loop: fill a->c[*j...] from the three-byte candidates in buf
 * (len a multiple of 3). Every candidate is stored; a rejected one is overwritten by
 * the next. Returns with *j == 256 once the polynomial is complete.
 */
static void parse_uniform(mldsa_poly *a, unsigned *j_io, const uint8_t *buf, size_t len)
{
  unsigned j;
  size_t pos = 0;
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2())
    pos = sg_mldsa_avx2_parse_uniform(a->c, j_io, buf, len);
#endif
  j = *j_io;
  /* Eight candidates (24 bytes) per turn while at least eight slots remain. */
  for (; pos + 24 <= len && j + 8 <= MLDSA_N; pos += 24) {
    uint64_t w0 = load64_le(buf + pos), w1 = load64_le(buf + pos + 8);
    uint64_t w2 = load64_le(buf + pos + 16);
    uint32_t v[8];
    v[0] = (uint32_t)w0;
    v[1] = (uint32_t)(w0 >> 24);
    v[2] = (uint32_t)(w0 >> 48 | w1 << 16);
    v[3] = (uint32_t)(w1 >> 8);
    v[4] = (uint32_t)(w1 >> 32);
    v[5] = (uint32_t)(w1 >> 56 | w2 << 8);
    v[6] = (uint32_t)(w2 >> 16);
    v[7] = (uint32_t)(w2 >> 40);
    for (int i = 0; i < 8; i++) {
      v[i] &= 0x7fffff;
      a->c[j] = (int32_t)v[i];
      j += v[i] < MLDSA_Q;
    }
  }
  for (; j < MLDSA_N && pos + 3 <= len; pos += 3) {
    /* CoeffFromThreeBytes (Alg. 14): 23 bits little-endian, top bit of b2 cleared. */
    uint32_t v = (uint32_t)buf[pos] | (uint32_t)buf[pos + 1] << 8 |
                 (uint32_t)(buf[pos + 2] & 0x7f) << 16;
    a->c[j] = (int32_t)v;
    j += v < MLDSA_Q;
  }
  *j_io = j;
}

/*
 * RejBoundedPoly's inner loop over the bytes of buf. out has one spare slot: the second
 * half-byte of a byte may be written after the last coefficient has been accepted, as
 * FIPS 204 then ignores it.
 */
static void parse_bounded(int32_t out[MLDSA_N + 1], unsigned *j_io, const uint8_t *buf,
                          size_t len, unsigned eta)
{
  unsigned j = *j_io;
  for (size_t i = 0; i < len && j < MLDSA_N; i++) {
    uint32_t half[2] = { buf[i] & 15u, (uint32_t)buf[i] >> 4 };
    for (int h = 0; h < 2; h++) {
      uint32_t b = half[h];
      int32_t value;
      uint32_t ok;
      /* CoeffFromHalfByte (Alg. 15). */
      if (eta == 2) {
        uint32_t mod5 = b - 5 * ((b * 205) >> 10); /* b mod 5 for b < 16 */
        value = 2 - (int32_t)mod5;
        ok = (b - 15) >> 31; /* b < 15 */
      } else {
        value = 4 - (int32_t)b;
        ok = (b - 9) >> 31; /* b < 9 */
      }
      out[j] = value;
      j += ok;
    }
  }
  *j_io = j;
}

void sg_mldsa_sample_ntt(mldsa_poly *a, const uint8_t rho[32], uint8_t col, uint8_t row)
{
  uint8_t buf[NTT_SAMPLE_BYTES];
  uint8_t seed[34];
  sg_keccak xof;
  unsigned j = 0;

  memcpy(seed, rho, 32);
  seed[32] = col;
  seed[33] = row;
  sg_keccak_init(&xof, SG_KECCAK_SHAKE128);
  sg_keccak_absorb(&xof, seed, sizeof(seed));
  sg_keccak_squeeze(&xof, buf, sizeof(buf));
  parse_uniform(a, &j, buf, sizeof(buf));
  while (j < MLDSA_N) {
    /* The block size is a multiple of 3, so no candidate straddles blocks. */
    sg_keccak_squeeze(&xof, buf, SG_KECCAK_SHAKE128_RATE);
    parse_uniform(a, &j, buf, SG_KECCAK_SHAKE128_RATE);
  }
}

void sg_mldsa_sample_bounded(mldsa_poly *a, const uint8_t rhoprime[64], uint16_t index,
                             unsigned eta)
{
  uint8_t buf[SG_KECCAK_SHAKE256_RATE];
  uint8_t seed[66];
  int32_t out[MLDSA_N + 1];
  sg_keccak xof;
  unsigned j = 0;

  memcpy(seed, rhoprime, 64);
  seed[64] = (uint8_t)index;
  seed[65] = (uint8_t)(index >> 8);
  sg_keccak_init(&xof, SG_KECCAK_SHAKE256);
  sg_keccak_absorb(&xof, seed, sizeof(seed));
  while (j < MLDSA_N) {
    sg_keccak_squeeze(&xof, buf, sizeof(buf));
    parse_bounded(out, &j, buf, sizeof(buf), eta);
  }
  memcpy(a->c, out, sizeof(a->c));
  sg_mldsa_wipe(out, sizeof(out));
  sg_mldsa_wipe(buf, sizeof(buf));
  sg_mldsa_wipe(seed, sizeof(seed));
  sg_keccak_wipe(&xof);
}

void sg_mldsa_sample_mask(mldsa_poly *y, const uint8_t rhopp[64], uint16_t index,
                          const mldsa_params *prm)
{
  uint8_t buf[32 * 20]; /* 32 * (1 + bitlen(gamma1 - 1)) bytes, at most 640 */
  uint8_t seed[66];
  sg_keccak xof;
  size_t len = 32 * (size_t)prm->z_bits;

  memcpy(seed, rhopp, 64);
  seed[64] = (uint8_t)index;
  seed[65] = (uint8_t)(index >> 8);
  sg_keccak_init(&xof, SG_KECCAK_SHAKE256);
  sg_keccak_absorb(&xof, seed, sizeof(seed));
  sg_keccak_squeeze(&xof, buf, len);
  sg_mldsa_unpack_signed(y, buf, prm->z_bits, prm->gamma1);
  sg_mldsa_wipe(buf, sizeof(buf));
  sg_mldsa_wipe(seed, sizeof(seed));
  sg_keccak_wipe(&xof);
}

#if defined(SG_MLDSA_AVX2)
/* Four matrix entries at once; entries[] index Ahat in row-major order. */
static void expand_a_x4(mldsa_poly *a_hat, const uint8_t rho[32], const mldsa_params *prm,
                        unsigned first)
{
  uint8_t bufs[4][NTT_SAMPLE_BYTES];
  uint8_t seeds[4][34];
  const uint8_t *in[4];
  uint8_t *out[4];
  unsigned j[4] = { 0, 0, 0, 0 };
  unsigned count = prm->k * prm->l - first < 4 ? prm->k * prm->l - first : 4;
  sg_mldsa_shake_x4 x4;

  for (unsigned n = 0; n < 4; n++) {
    /* Unused lanes repeat the last real entry and are discarded. */
    unsigned e = first + (n < count ? n : count - 1);
    memcpy(seeds[n], rho, 32);
    seeds[n][32] = (uint8_t)(e % prm->l);
    seeds[n][33] = (uint8_t)(e / prm->l);
    in[n] = seeds[n];
    out[n] = bufs[n];
  }
  sg_mldsa_shake_x4_absorb(&x4, SG_KECCAK_SHAKE128, in, sizeof(seeds[0]));
  sg_mldsa_shake_x4_squeeze_blocks(&x4, out, NTT_SAMPLE_BLOCKS);
  for (unsigned n = 0; n < count; n++)
    parse_uniform(&a_hat[first + n], &j[n], bufs[n], NTT_SAMPLE_BYTES);
  for (;;) {
    int more = 0;
    for (unsigned n = 0; n < count; n++)
      more |= j[n] < MLDSA_N;
    if (!more)
      break;
    sg_mldsa_shake_x4_squeeze_blocks(&x4, out, 1);
    for (unsigned n = 0; n < count; n++)
      parse_uniform(&a_hat[first + n], &j[n], bufs[n], SG_KECCAK_SHAKE128_RATE);
  }
}

/* Four polynomials of ExpandS: index r < l is s1[r], index r >= l is s2[r - l]. */
static void expand_s_x4(mldsa_poly *s1, mldsa_poly *s2, const uint8_t rhoprime[64],
                        const mldsa_params *prm, unsigned first)
{
  uint8_t bufs[4][SG_KECCAK_SHAKE256_RATE];
  uint8_t seeds[4][66];
  int32_t outs[4][MLDSA_N + 1];
  const uint8_t *in[4];
  uint8_t *out[4];
  unsigned j[4] = { 0, 0, 0, 0 };
  unsigned total = prm->l + prm->k;
  unsigned count = total - first < 4 ? total - first : 4;
  sg_mldsa_shake_x4 x4;
  int more;

  for (unsigned n = 0; n < 4; n++) {
    unsigned r = first + (n < count ? n : count - 1);
    memcpy(seeds[n], rhoprime, 64);
    seeds[n][64] = (uint8_t)r;
    seeds[n][65] = (uint8_t)(r >> 8);
    in[n] = seeds[n];
    out[n] = bufs[n];
  }
  sg_mldsa_shake_x4_absorb(&x4, SG_KECCAK_SHAKE256, in, sizeof(seeds[0]));
  do {
    sg_mldsa_shake_x4_squeeze_blocks(&x4, out, 1);
    more = 0;
    for (unsigned n = 0; n < count; n++) {
      parse_bounded(outs[n], &j[n], bufs[n], SG_KECCAK_SHAKE256_RATE, prm->eta);
      more |= j[n] < MLDSA_N;
    }
  } while (more);
  for (unsigned n = 0; n < count; n++) {
    unsigned r = first + n;
    mldsa_poly *dst = r < prm->l ? &s1[r] : &s2[r - prm->l];
    memcpy(dst->c, outs[n], sizeof(dst->c));
  }
  sg_mldsa_wipe(outs, sizeof(outs));
  sg_mldsa_wipe(bufs, sizeof(bufs));
  sg_mldsa_wipe(seeds, sizeof(seeds));
  sg_mldsa_wipe(&x4, sizeof(x4));
}

/* ExpandMask polynomials for the four consecutive indices first .. first + 3. */
static void mask_x4(mldsa_poly y[4], const uint8_t rhopp[64], unsigned first,
                    const mldsa_params *prm)
{
  uint8_t bufs[4][MASK_BYTES];
  uint8_t seeds[4][66];
  const uint8_t *in[4];
  uint8_t *out[4];
  sg_mldsa_shake_x4 x4;

  for (unsigned n = 0; n < 4; n++) {
    unsigned idx = first + n;
    memcpy(seeds[n], rhopp, 64);
    seeds[n][64] = (uint8_t)idx;
    seeds[n][65] = (uint8_t)(idx >> 8);
    in[n] = seeds[n];
    out[n] = bufs[n];
  }
  sg_mldsa_shake_x4_absorb(&x4, SG_KECCAK_SHAKE256, in, sizeof(seeds[0]));
  sg_mldsa_shake_x4_squeeze_blocks(&x4, out, MASK_BLOCKS);
  for (unsigned n = 0; n < 4; n++)
    sg_mldsa_unpack_signed(&y[n], bufs[n], prm->z_bits, prm->gamma1);
  sg_mldsa_wipe(bufs, sizeof(bufs));
  sg_mldsa_wipe(seeds, sizeof(seeds));
  sg_mldsa_wipe(&x4, sizeof(x4));
}
#endif

void sg_mldsa_expand_a(mldsa_poly *a_hat, const uint8_t rho[32], const mldsa_params *prm)
{
  unsigned total = prm->k * prm->l, e = 0;
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    for (; total - e >= 2; e += 4 > total - e ? total - e : 4)
      expand_a_x4(a_hat, rho, prm, e);
  }
#endif
  for (; e < total; e++)
    sg_mldsa_sample_ntt(&a_hat[e], rho, (uint8_t)(e % prm->l), (uint8_t)(e / prm->l));
}

void sg_mldsa_expand_s(mldsa_poly *s1, mldsa_poly *s2, const uint8_t rhoprime[64],
                       const mldsa_params *prm)
{
  unsigned r = 0;
#if defined(SG_MLDSA_AVX2)
  if (mldsa_have_avx2()) {
    unsigned total = prm->l + prm->k;
    for (; r < total; r += 4)
      expand_s_x4(s1, s2, rhoprime, prm, r);
    return;
  }
#endif
  for (; r < prm->l; r++)
    sg_mldsa_sample_bounded(&s1[r], rhoprime, (uint16_t)r, prm->eta);
  for (r = 0; r < prm->k; r++)
    sg_mldsa_sample_bounded(&s2[r], rhoprime, (uint16_t)(r + prm->l), prm->eta);
}

void sg_mldsa_mask_stream_init(mldsa_mask_stream *st)
{
  st->pos = 0;
  st->count = 0;
  st->next = 0;
}

void sg_mldsa_mask_stream_take(mldsa_mask_stream *st, mldsa_poly *y, unsigned count,
                               const uint8_t rhopp[64], const mldsa_params *prm)
{
  for (unsigned r = 0; r < count; r++) {
    if (st->count == 0) {
      st->pos = 0;
#if defined(SG_MLDSA_AVX2)
      if (mldsa_have_avx2()) {
        mask_x4(st->ahead, rhopp, st->next, prm);
        st->count = 4;
        st->next += 4;
      }
#endif
      if (st->count == 0) {
        sg_mldsa_sample_mask(&st->ahead[0], rhopp, (uint16_t)st->next, prm);
        st->count = 1;
        st->next += 1;
      }
    }
    y[r] = st->ahead[st->pos++];
    st->count--;
  }
}

void sg_mldsa_sample_in_ball(mldsa_poly *c, const uint8_t *ctilde, size_t ctilde_bytes,
                             unsigned tau)
{
  uint8_t buf[SG_KECCAK_SHAKE256_RATE];
  sg_keccak xof;
  uint64_t signs = 0;
  size_t pos;

  memset(c->c, 0, sizeof(c->c));
  sg_keccak_init(&xof, SG_KECCAK_SHAKE256);
  sg_keccak_absorb(&xof, ctilde, ctilde_bytes);
  sg_keccak_squeeze(&xof, buf, sizeof(buf));
  for (int i = 0; i < 8; i++)
    signs |= (uint64_t)buf[i] << (8 * i);
  pos = 8;

  for (unsigned i = MLDSA_N - tau; i < MLDSA_N; i++) {
    unsigned j;
    do {
      if (pos == sizeof(buf)) {
        sg_keccak_squeeze(&xof, buf, sizeof(buf));
        pos = 0;
      }
      j = buf[pos++];
    } while (j > i);
    c->c[i] = c->c[j];
    c->c[j] = 1 - 2 * (int32_t)(signs & 1);
    signs >>= 1;
  }
  sg_keccak_wipe(&xof);
}
