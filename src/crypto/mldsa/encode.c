/*
 * Byte encodings of FIPS 204 §7.1-7.2 (bit packing, keys, signatures, hints, w1) and
 * the fixed-shape DER SubjectPublicKeyInfo for ML-DSA public keys. Packers move whole
 * coefficients through a 64-bit bit buffer in the standard's little-endian bit order
 * (bits <= 25, so a coefficient always fits next to fewer than 32 pending bits);
 * their control flow depends only on the bit width. Decoders of secret data (the
 * private key) validate with accumulated masks; decoders of public data (signatures,
 * SPKI) may branch and reject early.
 */
#include <string.h>

#include "mldsa_internal.h"

/*
 * Move 32 finished bits from the bit buffer to out once there are that many. The
 * packed size, 32 * bits bytes, is a multiple of 4, so nothing is left over at the
 * end; whether a word is written depends only on the position.
 */
static unsigned flush32(uint8_t **out, uint64_t *acc, unsigned have)
{
  if (have >= 32) {
    uint8_t *p = *out;
    uint32_t w = (uint32_t)*acc;
    p[0] = (uint8_t)w;
    p[1] = (uint8_t)(w >> 8);
    p[2] = (uint8_t)(w >> 16);
    p[3] = (uint8_t)(w >> 24);
    *out = p + 4;
    *acc >>= 32;
    have -= 32;
  }
  return have;
}

void sg_mldsa_pack_simple(uint8_t *out, const mldsa_poly *a, unsigned bits)
{
  uint64_t acc = 0;
  if (bits == 4) { /* w1 of ML-DSA-65/87: two coefficients per byte */
    for (unsigned j = 0; j < MLDSA_N; j += 2)
      out[j / 2] = (uint8_t)(a->c[j] | a->c[j + 1] << 4);
    return;
  }
  if (bits == 6) { /* w1 of ML-DSA-44: four coefficients per three bytes */
    for (unsigned j = 0; j < MLDSA_N; j += 4) {
      uint32_t v = (uint32_t)a->c[j] | (uint32_t)a->c[j + 1] << 6 |
                   (uint32_t)a->c[j + 2] << 12 | (uint32_t)a->c[j + 3] << 18;
      out[3 * j / 4] = (uint8_t)v;
      out[3 * j / 4 + 1] = (uint8_t)(v >> 8);
      out[3 * j / 4 + 2] = (uint8_t)(v >> 16);
    }
    return;
  }
  unsigned have = 0;
  for (unsigned j = 0; j < MLDSA_N; j++) {
    acc |= (uint64_t)(uint32_t)a->c[j] << have;
    have += bits;
    have = flush32(&out, &acc, have);
  }
}

static uint32_t load32_le(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
#else
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

void sg_mldsa_unpack_simple(mldsa_poly *a, const uint8_t *in, unsigned bits)
{
  /*
   * Refill a 64-bit bit buffer 32 bits at a time: the input, 32 * bits bytes, is a
   * whole number of words, so exactly the input is read. The refill depends only on
   * the position.
   */
  uint64_t acc = 0;
  unsigned have = 0;
  uint32_t mask = (1u << bits) - 1;
  for (unsigned j = 0; j < MLDSA_N; j++) {
    if (have < bits) {
      acc |= (uint64_t)load32_le(in) << have;
      in += 4;
      have += 32;
    }
    a->c[j] = (int32_t)(acc & mask);
    acc >>= bits;
    have -= bits;
  }
}

void sg_mldsa_pack_signed(uint8_t *out, const mldsa_poly *a, unsigned bits, int32_t hi)
{
  uint64_t acc = 0;
  unsigned have = 0;
  for (unsigned j = 0; j < MLDSA_N; j++) {
    acc |= (uint64_t)(uint32_t)(hi - a->c[j]) << have;
    have += bits;
    have = flush32(&out, &acc, have);
  }
}

void sg_mldsa_unpack_signed(mldsa_poly *a, const uint8_t *in, unsigned bits, int32_t hi)
{
#if defined(SG_MLDSA_AVX2)
  if ((bits == 18 || bits == 20) && mldsa_have_avx2()) {
    sg_mldsa_avx2_unpack_wide(a->c, in, bits, hi);
    return;
  }
#endif
  sg_mldsa_unpack_simple(a, in, bits);
  for (unsigned j = 0; j < MLDSA_N; j++)
    a->c[j] = hi - a->c[j];
}

void sg_mldsa_pk_encode(uint8_t *pk, const mldsa_params *prm, const uint8_t rho[32],
                        const mldsa_poly *t1)
{
  memcpy(pk, rho, 32);
  pk += 32;
  for (unsigned i = 0; i < prm->k; i++) {
    sg_mldsa_pack_simple(pk, &t1[i], 23 - MLDSA_D);
    pk += 32 * (23 - MLDSA_D);
  }
}

void sg_mldsa_pk_decode(const mldsa_params *prm, const uint8_t *pk, uint8_t rho[32],
                        mldsa_poly *t1)
{
  memcpy(rho, pk, 32);
  pk += 32;
  for (unsigned i = 0; i < prm->k; i++) {
    sg_mldsa_unpack_simple(&t1[i], pk, 23 - MLDSA_D);
    pk += 32 * (23 - MLDSA_D);
  }
}

void sg_mldsa_sk_encode(uint8_t *sk, const mldsa_params *prm, const uint8_t rho[32],
                        const uint8_t key[32], const uint8_t tr[64], const mldsa_poly *s1,
                        const mldsa_poly *s2, const mldsa_poly *t0)
{
  size_t eta_len = 32 * (size_t)prm->eta_bits;
  memcpy(sk, rho, 32);
  memcpy(sk + 32, key, 32);
  memcpy(sk + 64, tr, 64);
  sk += 128;
  for (unsigned i = 0; i < prm->l; i++, sk += eta_len)
    sg_mldsa_pack_signed(sk, &s1[i], prm->eta_bits, (int32_t)prm->eta);
  for (unsigned i = 0; i < prm->k; i++, sk += eta_len)
    sg_mldsa_pack_signed(sk, &s2[i], prm->eta_bits, (int32_t)prm->eta);
  for (unsigned i = 0; i < prm->k; i++, sk += 32 * MLDSA_D)
    sg_mldsa_pack_signed(sk, &t0[i], MLDSA_D, 1 << (MLDSA_D - 1));
}

/* All-ones top bit if some coefficient is below -eta (the packed value exceeded 2 eta). */
static uint32_t below_minus_eta(const mldsa_poly *a, int32_t eta)
{
  uint32_t bad = 0;
  for (unsigned j = 0; j < MLDSA_N; j++)
    bad |= (uint32_t)(a->c[j] + eta);
  return bad;
}

int sg_mldsa_sk_decode(const mldsa_params *prm, const uint8_t *sk, uint8_t rho[32],
                       uint8_t key[32], uint8_t tr[64], mldsa_poly *s1, mldsa_poly *s2,
                       mldsa_poly *t0)
{
  size_t eta_len = 32 * (size_t)prm->eta_bits;
  int32_t eta = (int32_t)prm->eta;
  uint32_t bad = 0;

  memcpy(rho, sk, 32);
  memcpy(key, sk + 32, 32);
  memcpy(tr, sk + 64, 64);
  sk += 128;
  for (unsigned i = 0; i < prm->l; i++, sk += eta_len) {
    sg_mldsa_unpack_signed(&s1[i], sk, prm->eta_bits, eta);
    bad |= below_minus_eta(&s1[i], eta);
  }
  for (unsigned i = 0; i < prm->k; i++, sk += eta_len) {
    sg_mldsa_unpack_signed(&s2[i], sk, prm->eta_bits, eta);
    bad |= below_minus_eta(&s2[i], eta);
  }
  /* Every 13-bit pattern is a valid t0 coefficient in (-2^12, 2^12]. */
  for (unsigned i = 0; i < prm->k; i++, sk += 32 * MLDSA_D)
    sg_mldsa_unpack_signed(&t0[i], sk, MLDSA_D, 1 << (MLDSA_D - 1));
  return -(int)(bad >> 31);
}

void sg_mldsa_sig_encode(uint8_t *sig, const mldsa_params *prm, const uint8_t *ctilde,
                         const mldsa_poly *z, const uint8_t h[][MLDSA_N])
{
  size_t z_len = 32 * (size_t)prm->z_bits;
  unsigned count = 0;

  memcpy(sig, ctilde, prm->ctilde_bytes);
  sig += prm->ctilde_bytes;
  for (unsigned i = 0; i < prm->l; i++, sig += z_len)
    sg_mldsa_pack_signed(sig, &z[i], prm->z_bits, prm->gamma1);

  /* HintBitPack (Alg. 20). The hint is part of the released signature: public. */
  memset(sig, 0, prm->omega + prm->k);
  for (unsigned i = 0; i < prm->k; i++) {
    for (unsigned j = 0; j < MLDSA_N; j++) {
      if (h[i][j] && count < prm->omega)
        sig[count++] = (uint8_t)j;
    }
    sig[prm->omega + i] = (uint8_t)count;
  }
}

int sg_mldsa_sig_decode(const mldsa_params *prm, const uint8_t *sig, uint8_t *ctilde,
                        mldsa_poly *z, uint8_t h[][MLDSA_N])
{
  size_t z_len = 32 * (size_t)prm->z_bits;
  const uint8_t *y;
  unsigned index = 0;

  memcpy(ctilde, sig, prm->ctilde_bytes);
  sig += prm->ctilde_bytes;
  for (unsigned i = 0; i < prm->l; i++, sig += z_len)
    sg_mldsa_unpack_signed(&z[i], sig, prm->z_bits, prm->gamma1);

  /* HintBitUnpack (Alg. 21). */
  y = sig;
  for (unsigned i = 0; i < prm->k; i++) {
    unsigned end = y[prm->omega + i];
    memset(h[i], 0, MLDSA_N);
    if (end < index || end > prm->omega)
      return -1;
    for (unsigned first = index; index < end; index++) {
      if (index > first && y[index - 1] >= y[index])
        return -1;
      h[i][y[index]] = 1;
    }
  }
  for (unsigned i = index; i < prm->omega; i++) {
    if (y[i] != 0)
      return -1;
  }
  return 0;
}

void sg_mldsa_w1_encode(uint8_t *out, const mldsa_poly *w1, const mldsa_params *prm)
{
  sg_mldsa_pack_simple(out, w1, prm->w1_bits);
}

/* DER OIDs 2.16.840.1.101.3.4.2.x of the pre-hash functions (FIPS 204 §5.4.1). */
static const uint8_t hash_oids[][11] = {
  [SG_MLDSA_PH_SHA2_224] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04 },
  [SG_MLDSA_PH_SHA2_256] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 },
  [SG_MLDSA_PH_SHA2_384] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 },
  [SG_MLDSA_PH_SHA2_512] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 },
  [SG_MLDSA_PH_SHA2_512_224] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x05 },
  [SG_MLDSA_PH_SHA2_512_256] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x06 },
  [SG_MLDSA_PH_SHA3_224] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x07 },
  [SG_MLDSA_PH_SHA3_256] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x08 },
  [SG_MLDSA_PH_SHA3_384] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x09 },
  [SG_MLDSA_PH_SHA3_512] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0a },
  [SG_MLDSA_PH_SHAKE128] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0b },
  [SG_MLDSA_PH_SHAKE256] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0c },
};

const uint8_t *sg_mldsa_hash_oid(sg_mldsa_hash_alg alg, size_t *len)
{
  if ((unsigned)alg > SG_MLDSA_PH_SHAKE256)
    return NULL;
  *len = sizeof(hash_oids[0]);
  return hash_oids[alg];
}

/*
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey
 * BIT STRING }, with AlgorithmIdentifier = SEQUENCE { id-ml-dsa-xx } (parameters
 * absent, as the LAMPS ML-DSA certificate profile requires). Every length is fixed per parameter set, so the 22 bytes in front
 * of the raw key are a constant header.
 */
#define SPKI_HEADER_BYTES 22

static void spki_header(uint8_t hdr[SPKI_HEADER_BYTES], const mldsa_params *prm)
{
  size_t bits_len = prm->pk_bytes + 1;         /* unused-bits octet + key */
  size_t seq_len = 13 + 4 + bits_len;          /* AlgorithmIdentifier + BIT STRING */
  static const uint8_t alg_id[13] = { 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48,
                                      0x01, 0x65, 0x03, 0x04, 0x03, 0x00 };
  hdr[0] = 0x30;
  hdr[1] = 0x82;
  hdr[2] = (uint8_t)(seq_len >> 8);
  hdr[3] = (uint8_t)seq_len;
  memcpy(hdr + 4, alg_id, sizeof(alg_id));
  hdr[16] = (uint8_t)(0x11 + prm->id); /* 2.16.840.1.101.3.4.3.17 / .18 / .19 */
  hdr[17] = 0x03;
  hdr[18] = 0x82;
  hdr[19] = (uint8_t)(bits_len >> 8);
  hdr[20] = (uint8_t)bits_len;
  hdr[21] = 0x00;
}

int sg_mldsa_spki_encode(sg_mldsa_param p, const uint8_t *pk, uint8_t *der)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  if (prm == NULL || pk == NULL || der == NULL)
    return SG_MLDSA_ERR_PARAM;
  spki_header(der, prm);
  memcpy(der + SPKI_HEADER_BYTES, pk, prm->pk_bytes);
  return SG_MLDSA_OK;
}

int sg_mldsa_spki_decode(const uint8_t *der, size_t derlen, sg_mldsa_param *p,
                         uint8_t *pk, size_t pkcap)
{
  static const sg_mldsa_param all[] = { SG_MLDSA_44, SG_MLDSA_65, SG_MLDSA_87 };
  if (der == NULL || p == NULL || pk == NULL)
    return SG_MLDSA_ERR_PARAM;
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    const mldsa_params *prm = sg_mldsa_params(all[i]);
    uint8_t hdr[SPKI_HEADER_BYTES];
    if (derlen != prm->spki_bytes)
      continue;
    spki_header(hdr, prm);
    if (memcmp(der, hdr, sizeof(hdr)) != 0)
      continue;
    if (pkcap < prm->pk_bytes)
      return SG_MLDSA_ERR_LENGTH;
    memcpy(pk, der + SPKI_HEADER_BYTES, prm->pk_bytes);
    *p = all[i];
    return SG_MLDSA_OK;
  }
  return SG_MLDSA_ERR_MALFORMED;
}
