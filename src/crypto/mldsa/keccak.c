/*
 * Keccak-f[1600] and the FIPS 202 sponge behind sg_keccak.h. The permutation keeps the
 * 25 lanes in local variables and runs two rounds per loop turn, ping-ponging between
 * two sets of variables so no round needs a copy; the round body below is the FIPS 202
 * step mappings theta, rho, pi, chi, iota written out lane by lane. Nothing here
 * branches on or indexes by the data being hashed.
 */
#include "sg_keccak.h"

#include <stdlib.h>
#include <string.h>

#include "mldsa_internal.h"

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* Round constants RC[i], from the rc(t) LFSR of FIPS 202 Algorithm 5. */
const uint64_t sg_keccak_round_constants[24] = {
  0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
  0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
  0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
  0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
  0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
  0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
  0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
  0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/*
 * One round from state A (A##0..A##24, lane x + 5y) into state E. For output plane y',
 * lane x' of the pi/rho output comes from A[(x' + 3y') mod 5][x'] rotated by that lane's
 * rho offset; chi then combines the plane's five lanes and iota touches lane 0.
 */
#define KECCAK_ROUND(A, E, rc) \
  do { \
    uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4; \
    c0 = A##0 ^ A##5 ^ A##10 ^ A##15 ^ A##20; \
    c1 = A##1 ^ A##6 ^ A##11 ^ A##16 ^ A##21; \
    c2 = A##2 ^ A##7 ^ A##12 ^ A##17 ^ A##22; \
    c3 = A##3 ^ A##8 ^ A##13 ^ A##18 ^ A##23; \
    c4 = A##4 ^ A##9 ^ A##14 ^ A##19 ^ A##24; \
    d0 = c4 ^ ROL64(c1, 1); \
    d1 = c0 ^ ROL64(c2, 1); \
    d2 = c1 ^ ROL64(c3, 1); \
    d3 = c2 ^ ROL64(c4, 1); \
    d4 = c3 ^ ROL64(c0, 1); \
    b0 = A##0 ^ d0; \
    b1 = ROL64(A##6 ^ d1, 44); \
    b2 = ROL64(A##12 ^ d2, 43); \
    b3 = ROL64(A##18 ^ d3, 21); \
    b4 = ROL64(A##24 ^ d4, 14); \
    E##0 = b0 ^ (~b1 & b2) ^ (rc); \
    E##1 = b1 ^ (~b2 & b3); \
    E##2 = b2 ^ (~b3 & b4); \
    E##3 = b3 ^ (~b4 & b0); \
    E##4 = b4 ^ (~b0 & b1); \
    b0 = ROL64(A##3 ^ d3, 28); \
    b1 = ROL64(A##9 ^ d4, 20); \
    b2 = ROL64(A##10 ^ d0, 3); \
    b3 = ROL64(A##16 ^ d1, 45); \
    b4 = ROL64(A##22 ^ d2, 61); \
    E##5 = b0 ^ (~b1 & b2); \
    E##6 = b1 ^ (~b2 & b3); \
    E##7 = b2 ^ (~b3 & b4); \
    E##8 = b3 ^ (~b4 & b0); \
    E##9 = b4 ^ (~b0 & b1); \
    b0 = ROL64(A##1 ^ d1, 1); \
    b1 = ROL64(A##7 ^ d2, 6); \
    b2 = ROL64(A##13 ^ d3, 25); \
    b3 = ROL64(A##19 ^ d4, 8); \
    b4 = ROL64(A##20 ^ d0, 18); \
    E##10 = b0 ^ (~b1 & b2); \
    E##11 = b1 ^ (~b2 & b3); \
    E##12 = b2 ^ (~b3 & b4); \
    E##13 = b3 ^ (~b4 & b0); \
    E##14 = b4 ^ (~b0 & b1); \
    b0 = ROL64(A##4 ^ d4, 27); \
    b1 = ROL64(A##5 ^ d0, 36); \
    b2 = ROL64(A##11 ^ d1, 10); \
    b3 = ROL64(A##17 ^ d2, 15); \
    b4 = ROL64(A##23 ^ d3, 56); \
    E##15 = b0 ^ (~b1 & b2); \
    E##16 = b1 ^ (~b2 & b3); \
    E##17 = b2 ^ (~b3 & b4); \
    E##18 = b3 ^ (~b4 & b0); \
    E##19 = b4 ^ (~b0 & b1); \
    b0 = ROL64(A##2 ^ d2, 62); \
    b1 = ROL64(A##8 ^ d3, 55); \
    b2 = ROL64(A##14 ^ d4, 39); \
    b3 = ROL64(A##15 ^ d0, 41); \
    b4 = ROL64(A##21 ^ d1, 2); \
    E##20 = b0 ^ (~b1 & b2); \
    E##21 = b1 ^ (~b2 & b3); \
    E##22 = b2 ^ (~b3 & b4); \
    E##23 = b3 ^ (~b4 & b0); \
    E##24 = b4 ^ (~b0 & b1); \
  } while (0)

void sg_keccak_f1600(uint64_t lanes[25])
{
  uint64_t a0 = lanes[0], a1 = lanes[1], a2 = lanes[2], a3 = lanes[3], a4 = lanes[4];
  uint64_t a5 = lanes[5], a6 = lanes[6], a7 = lanes[7], a8 = lanes[8], a9 = lanes[9];
  uint64_t a10 = lanes[10], a11 = lanes[11], a12 = lanes[12], a13 = lanes[13];
  uint64_t a14 = lanes[14], a15 = lanes[15], a16 = lanes[16], a17 = lanes[17];
  uint64_t a18 = lanes[18], a19 = lanes[19], a20 = lanes[20], a21 = lanes[21];
  uint64_t a22 = lanes[22], a23 = lanes[23], a24 = lanes[24];
  uint64_t e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15, e16;
  uint64_t e17, e18, e19, e20, e21, e22, e23, e24;

  for (int i = 0; i < 24; i += 2) {
    KECCAK_ROUND(a, e, sg_keccak_round_constants[i]);
    KECCAK_ROUND(e, a, sg_keccak_round_constants[i + 1]);
  }

  lanes[0] = a0; lanes[1] = a1; lanes[2] = a2; lanes[3] = a3; lanes[4] = a4;
  lanes[5] = a5; lanes[6] = a6; lanes[7] = a7; lanes[8] = a8; lanes[9] = a9;
  lanes[10] = a10; lanes[11] = a11; lanes[12] = a12; lanes[13] = a13; lanes[14] = a14;
  lanes[15] = a15; lanes[16] = a16; lanes[17] = a17; lanes[18] = a18; lanes[19] = a19;
  lanes[20] = a20; lanes[21] = a21; lanes[22] = a22; lanes[23] = a23; lanes[24] = a24;
}

/* Lanes are little-endian byte strings; on little-endian hosts that is a plain copy. */
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

static void store64_le(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy(p, &v, sizeof(v));
#else
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
#endif
}

void sg_keccak_init(sg_keccak *ctx, sg_keccak_alg alg)
{
  memset(ctx->lanes, 0, sizeof(ctx->lanes));
  ctx->pos = 0;
  ctx->squeezing = 0;
  ctx->digest = (unsigned)sg_keccak_digest_bytes(alg);
  if (alg == SG_KECCAK_SHAKE128 || alg == SG_KECCAK_SHAKE256) {
    /* SHAKE appends the bits 1111 before pad10*1: 0x1f with the first pad bit. */
    ctx->suffix = 0x1f;
    ctx->rate = alg == SG_KECCAK_SHAKE128 ? SG_KECCAK_SHAKE128_RATE : SG_KECCAK_SHAKE256_RATE;
  } else {
    /* SHA3 appends 01: 0x06 with the first pad bit; capacity is twice the digest. */
    ctx->suffix = 0x06;
    ctx->rate = 200 - 2 * ctx->digest;
  }
}

size_t sg_keccak_digest_bytes(sg_keccak_alg alg)
{
  switch (alg) {
  case SG_KECCAK_SHA3_224: return 28;
  case SG_KECCAK_SHA3_256: return 32;
  case SG_KECCAK_SHA3_384: return 48;
  case SG_KECCAK_SHA3_512: return 64;
  default: return 0;
  }
}

static void xor_byte(sg_keccak *ctx, unsigned i, uint8_t b)
{
  ctx->lanes[i / 8] ^= (uint64_t)b << (8 * (i % 8));
}

void sg_keccak_absorb(sg_keccak *ctx, const uint8_t *in, size_t len)
{
  if (ctx->squeezing)
    abort();
  while (len > 0 && ctx->pos % 8 != 0) {
    xor_byte(ctx, ctx->pos++, *in++);
    len--;
    if (ctx->pos == ctx->rate) {
      sg_keccak_f1600(ctx->lanes);
      ctx->pos = 0;
    }
  }
  /* Lane-aligned from here on (every rate is a multiple of 8). */
  while (len >= 8) {
    ctx->lanes[ctx->pos / 8] ^= load64_le(in);
    ctx->pos += 8;
    in += 8;
    len -= 8;
    if (ctx->pos == ctx->rate) {
      sg_keccak_f1600(ctx->lanes);
      ctx->pos = 0;
    }
  }
  while (len > 0) {
    xor_byte(ctx, ctx->pos++, *in++);
    len--;
  }
}

static void finalise(sg_keccak *ctx)
{
  xor_byte(ctx, ctx->pos, ctx->suffix);
  xor_byte(ctx, ctx->rate - 1, 0x80);
  ctx->squeezing = 1;
  ctx->pos = ctx->rate; /* the first squeeze permutes */
}

void sg_keccak_squeeze(sg_keccak *ctx, uint8_t *out, size_t len)
{
  if (!ctx->squeezing)
    finalise(ctx);
  while (len > 0) {
    if (ctx->pos == ctx->rate) {
      sg_keccak_f1600(ctx->lanes);
      ctx->pos = 0;
    }
    if (ctx->pos == 0 && len >= ctx->rate) {
      for (unsigned i = 0; i < ctx->rate / 8; i++)
        store64_le(out + 8 * i, ctx->lanes[i]);
      out += ctx->rate;
      len -= ctx->rate;
      ctx->pos = ctx->rate;
      continue;
    }
    while (len > 0 && ctx->pos < ctx->rate) {
      *out++ = (uint8_t)(ctx->lanes[ctx->pos / 8] >> (8 * (ctx->pos % 8)));
      ctx->pos++;
      len--;
    }
  }
}

void sg_keccak_wipe(sg_keccak *ctx)
{
  sg_mldsa_wipe(ctx, sizeof(*ctx));
}

static void oneshot(sg_keccak_alg alg, uint8_t *out, size_t outlen, const uint8_t *in,
                    size_t inlen)
{
  sg_keccak ctx;
  sg_keccak_init(&ctx, alg);
  sg_keccak_absorb(&ctx, in, inlen);
  sg_keccak_squeeze(&ctx, out, outlen);
  sg_keccak_wipe(&ctx);
}

void sg_sha3_256(uint8_t out[32], const uint8_t *in, size_t inlen)
{
  oneshot(SG_KECCAK_SHA3_256, out, 32, in, inlen);
}

void sg_sha3_512(uint8_t out[64], const uint8_t *in, size_t inlen)
{
  oneshot(SG_KECCAK_SHA3_512, out, 64, in, inlen);
}

void sg_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
  oneshot(SG_KECCAK_SHAKE128, out, outlen, in, inlen);
}

void sg_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
  oneshot(SG_KECCAK_SHAKE256, out, outlen, in, inlen);
}
