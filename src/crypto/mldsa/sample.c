/*
 * The samplers of FIPS 204 §7.3: RejNTTPoly for the public matrix A (Alg. 30),
 * RejBoundedPoly for the secret vectors s1, s2 (Alg. 31), ExpandMask's polynomials
 * (Alg. 34) and SampleInBall (Alg. 29). Output is squeezed a whole block at a time so
 * no permutation is wasted on byte-wise bookkeeping. RejBoundedPoly works on secret
 * bytes: it accepts or rejects each half-byte with arithmetic masks and always writes
 * the candidate, so only the number of rejections (which FIPS 204 lets leak) affects
 * timing. RejNTTPoly works on the public seed rho and SampleInBall on the commitment
 * hash c~, which is public once the signature is released and, for rejected
 * iterations, a hash of w1 = HighBits(A y) for a discarded y that is independent of
 * the key; both may branch on their data.
 */
#include <string.h>

#include "mldsa_internal.h"

/* Five SHAKE128 blocks: 280 three-byte candidates, enough for 256 with overwhelming
 * probability (each is rejected with probability (2^23 - q) / 2^23 < 0.001). */
#define NTT_SAMPLE_BLOCKS 5

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

void sg_mldsa_sample_ntt(mldsa_poly *a, const uint8_t rho[32], uint8_t col, uint8_t row)
{
  uint8_t buf[NTT_SAMPLE_BLOCKS * SG_KECCAK_SHAKE128_RATE];
  uint8_t seed[34];
  sg_keccak xof;
  size_t have, pos = 0;
  unsigned j = 0;

  memcpy(seed, rho, 32);
  seed[32] = col;
  seed[33] = row;
  sg_keccak_init(&xof, SG_KECCAK_SHAKE128);
  sg_keccak_absorb(&xof, seed, sizeof(seed));
  sg_keccak_squeeze(&xof, buf, sizeof(buf));
  have = sizeof(buf);

  for (;;) {
    /* Eight candidates (24 bytes) per turn while at least eight slots remain. */
    for (; pos + 24 <= have && j + 8 <= MLDSA_N; pos += 24) {
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
    for (; j < MLDSA_N && pos + 3 <= have; pos += 3) {
      /* CoeffFromThreeBytes (Alg. 14): 23 bits little-endian, top bit of b2 cleared.
       * Every candidate is stored; a rejected one is overwritten by the next. */
      uint32_t v = (uint32_t)buf[pos] | (uint32_t)buf[pos + 1] << 8 |
                   (uint32_t)(buf[pos + 2] & 0x7f) << 16;
      a->c[j] = (int32_t)v;
      j += v < MLDSA_Q;
    }
    if (j == MLDSA_N)
      break;
    /* The block size is a multiple of 3, so no candidate straddles blocks. */
    sg_keccak_squeeze(&xof, buf, SG_KECCAK_SHAKE128_RATE);
    have = SG_KECCAK_SHAKE128_RATE;
    pos = 0;
  }
}

void sg_mldsa_sample_bounded(mldsa_poly *a, const uint8_t rhoprime[64], uint16_t index,
                             unsigned eta)
{
  uint8_t buf[SG_KECCAK_SHAKE256_RATE];
  uint8_t seed[66];
  /* One spare slot: the second half-byte of a byte may be written after the last
   * coefficient has been accepted, as FIPS 204 then ignores it. */
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
    for (size_t i = 0; i < sizeof(buf) && j < MLDSA_N; i++) {
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
