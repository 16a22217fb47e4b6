/*
 * MLDSA65-ECDSA-P256-SHA512 composite signatures (see sg_composite.h). The ML-DSA
 * half is expanded from its 32-byte seed on every use, so the stored private key stays
 * compact; the ECDSA half is parsed by OpenSSL from the DER ECPrivateKey and must name
 * P-256. Fixed-size encodings (the 51-byte ECPrivateKey keygen writes, the SPKI) are
 * written by hand.
 */
#include "sg_composite.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sg_mldsa.h"

#define MLDSA_PK 1952
#define MLDSA_SK 4032
#define MLDSA_SIG 3309
#define EC_POINT_BYTES 65
#define SEED_BYTES 32
#define ECDSA_SIG_MAX 72

static const uint8_t prefix[32] = "CompositeAlgorithmSignatures2025";
static const uint8_t label[33] = "COMPSIG-MLDSA65-ECDSA-P256-SHA512";

/* SEQUENCE { SEQUENCE { OID 1.3.6.1.5.5.7.6.45 }, BIT STRING { 0 unused bits, pk } } */
static const uint8_t spki_header[21] = {
  0x30, 0x82, 0x07, 0xf2, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01,
  0x05, 0x05, 0x07, 0x06, 0x2d, 0x03, 0x82, 0x07, 0xe2, 0x00,
};

/* ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING (32), [0] prime256v1 } */
static const uint8_t ec_sk_head[7] = { 0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20 };
static const uint8_t ec_sk_tail[12] = { 0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

const char *sg_composite_err_str(int err)
{
  switch (err) {
  case SG_COMPOSITE_OK: return "success";
  case SG_COMPOSITE_ERR_PARAM: return "invalid composite signature argument";
  case SG_COMPOSITE_ERR_CONTEXT: return "composite context longer than 255 bytes";
  case SG_COMPOSITE_ERR_MALFORMED: return "malformed composite key encoding";
  case SG_COMPOSITE_ERR_BAD_SIGNATURE: return "composite signature verification failed";
  case SG_COMPOSITE_ERR_CRYPTO: return "cryptographic back-end failure";
  default: return "unknown composite signature error";
  }
}

int sg_composite_mprime(const uint8_t ph[SG_COMPOSITE_PH_BYTES], const uint8_t *ctx,
                        size_t ctxlen, uint8_t *out, size_t outcap, size_t *outlen)
{
  size_t len = sizeof(prefix) + sizeof(label) + 1 + ctxlen + SG_COMPOSITE_PH_BYTES;
  uint8_t *p = out;
  if (ctxlen > SG_COMPOSITE_CONTEXT_MAX)
    return SG_COMPOSITE_ERR_CONTEXT;
  if (ph == NULL || out == NULL || outlen == NULL || (ctx == NULL && ctxlen != 0) ||
      outcap < len)
    return SG_COMPOSITE_ERR_PARAM;
  memcpy(p, prefix, sizeof(prefix));
  p += sizeof(prefix);
  memcpy(p, label, sizeof(label));
  p += sizeof(label);
  *p++ = (uint8_t)ctxlen;
  if (ctxlen != 0)
    memcpy(p, ctx, ctxlen);
  p += ctxlen;
  memcpy(p, ph, SG_COMPOSITE_PH_BYTES);
  *outlen = len;
  return SG_COMPOSITE_OK;
}

/* The uncompressed encoding of an EC key's public point, which must be on P-256. */
static int ec_public_point(EVP_PKEY *ec, uint8_t out[EC_POINT_BYTES])
{
  size_t len = 0;
  if (EVP_PKEY_set_utf8_string_param(ec, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                     "uncompressed") != 1 ||
      EVP_PKEY_get_octet_string_param(ec, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out,
                                      EC_POINT_BYTES, &len) != 1 ||
      len != EC_POINT_BYTES || out[0] != 0x04)
    return SG_COMPOSITE_ERR_CRYPTO;
  return SG_COMPOSITE_OK;
}

static int is_p256(EVP_PKEY *key)
{
  char group[64];
  size_t len = 0;
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
         EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1 &&
         strcmp(group, "prime256v1") == 0;
}

/*
 * Split sk into the expanded ML-DSA-65 key pair and the P-256 key. mldsa_sk and
 * mldsa_pk are always written (the caller wipes mldsa_sk); *ec is set on success.
 */
static int decode_sk(const uint8_t *sk, size_t sklen, uint8_t mldsa_pk[MLDSA_PK],
                     uint8_t mldsa_sk[MLDSA_SK], EVP_PKEY **ec)
{
  const unsigned char *p;
  EVP_PKEY *key;
  if (sk == NULL)
    return SG_COMPOSITE_ERR_PARAM;
  if (sklen <= SEED_BYTES || sklen > SG_COMPOSITE_SK_MAX)
    return SG_COMPOSITE_ERR_MALFORMED;
  if (sg_mldsa_keygen(SG_MLDSA_65, sk, mldsa_pk, mldsa_sk) != SG_MLDSA_OK)
    return SG_COMPOSITE_ERR_CRYPTO;
  p = sk + SEED_BYTES;
  key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)(sklen - SEED_BYTES));
  if (key == NULL || p != sk + sklen || !is_p256(key)) {
    EVP_PKEY_free(key);
    return SG_COMPOSITE_ERR_MALFORMED;
  }
  *ec = key;
  return SG_COMPOSITE_OK;
}

int sg_composite_keygen(uint8_t pk[SG_COMPOSITE_PK_BYTES], uint8_t sk[SG_COMPOSITE_SK_BYTES])
{
  uint8_t seed[SEED_BYTES], d[32];
  uint8_t mldsa_sk[MLDSA_SK];
  uint8_t pk_local[SG_COMPOSITE_PK_BYTES];
  EVP_PKEY *ec = NULL;
  BIGNUM *priv = NULL;
  int r = SG_COMPOSITE_ERR_CRYPTO;

  if (pk == NULL || sk == NULL)
    return SG_COMPOSITE_ERR_PARAM;
  if (sg_mldsa_random_seed(seed) != SG_MLDSA_OK ||
      sg_mldsa_keygen(SG_MLDSA_65, seed, pk_local, mldsa_sk) != SG_MLDSA_OK)
    goto out;
  ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  if (ec == NULL || EVP_PKEY_get_bn_param(ec, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1 ||
      BN_bn2binpad(priv, d, sizeof(d)) != (int)sizeof(d) ||
      ec_public_point(ec, pk_local + MLDSA_PK) != SG_COMPOSITE_OK)
    goto out;

  memcpy(pk, pk_local, sizeof(pk_local));
  memcpy(sk, seed, SEED_BYTES);
  memcpy(sk + SEED_BYTES, ec_sk_head, sizeof(ec_sk_head));
  memcpy(sk + SEED_BYTES + sizeof(ec_sk_head), d, sizeof(d));
  memcpy(sk + SEED_BYTES + sizeof(ec_sk_head) + sizeof(d), ec_sk_tail, sizeof(ec_sk_tail));
  r = SG_COMPOSITE_OK;
out:
  BN_clear_free(priv);
  EVP_PKEY_free(ec);
  sg_mldsa_wipe(seed, sizeof(seed));
  sg_mldsa_wipe(d, sizeof(d));
  sg_mldsa_wipe(mldsa_sk, sizeof(mldsa_sk));
  return r;
}

int sg_composite_pk_from_sk(const uint8_t *sk, size_t sklen, uint8_t pk[SG_COMPOSITE_PK_BYTES])
{
  uint8_t mldsa_sk[MLDSA_SK];
  uint8_t pk_local[SG_COMPOSITE_PK_BYTES];
  EVP_PKEY *ec = NULL;
  int r;

  if (pk == NULL)
    return SG_COMPOSITE_ERR_PARAM;
  r = decode_sk(sk, sklen, pk_local, mldsa_sk, &ec);
  if (r == SG_COMPOSITE_OK)
    r = ec_public_point(ec, pk_local + MLDSA_PK);
  if (r == SG_COMPOSITE_OK)
    memcpy(pk, pk_local, sizeof(pk_local));
  EVP_PKEY_free(ec);
  sg_mldsa_wipe(mldsa_sk, sizeof(mldsa_sk));
  return r;
}

int sg_composite_sign(const uint8_t *sk, size_t sklen, const uint8_t ph[SG_COMPOSITE_PH_BYTES],
                      const uint8_t *ctx, size_t ctxlen, uint8_t *sig, size_t *siglen)
{
  uint8_t mprime[SG_COMPOSITE_MPRIME_MAX];
  uint8_t mldsa_sk[MLDSA_SK], mldsa_pk[MLDSA_PK];
  uint8_t out[SG_COMPOSITE_SIG_MAX];
  size_t mlen, eclen = ECDSA_SIG_MAX;
  EVP_PKEY *ec = NULL;
  EVP_MD_CTX *md = NULL;
  int r;

  if (sig == NULL || siglen == NULL || *siglen < SG_COMPOSITE_SIG_MAX)
    return SG_COMPOSITE_ERR_PARAM;
  r = sg_composite_mprime(ph, ctx, ctxlen, mprime, sizeof(mprime), &mlen);
  if (r != SG_COMPOSITE_OK)
    return r;
  r = decode_sk(sk, sklen, mldsa_pk, mldsa_sk, &ec);
  if (r != SG_COMPOSITE_OK)
    goto out;

  r = SG_COMPOSITE_ERR_CRYPTO;
  if (sg_mldsa_sign(SG_MLDSA_65, mldsa_sk, mprime, mlen, label, sizeof(label), NULL, out) !=
      SG_MLDSA_OK)
    goto out;
  md = EVP_MD_CTX_new();
  if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec) != 1 ||
      EVP_DigestSign(md, out + MLDSA_SIG, &eclen, mprime, mlen) != 1)
    goto out;
  memcpy(sig, out, MLDSA_SIG + eclen);
  *siglen = MLDSA_SIG + eclen;
  r = SG_COMPOSITE_OK;
out:
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(ec);
  sg_mldsa_wipe(mldsa_sk, sizeof(mldsa_sk));
  return r;
}

/* An EVP_PKEY for the uncompressed P-256 point, or NULL if it is not on the curve. */
static EVP_PKEY *ec_public_key(const uint8_t point[EC_POINT_BYTES])
{
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  EVP_PKEY *key = NULL;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, EC_POINT_BYTES),
    OSSL_PARAM_construct_end(),
  };
  if (point[0] != 0x04 || pc == NULL || EVP_PKEY_fromdata_init(pc) != 1 ||
      EVP_PKEY_fromdata(pc, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
    key = NULL;
  EVP_PKEY_CTX_free(pc);
  return key;
}

int sg_composite_verify(const uint8_t pk[SG_COMPOSITE_PK_BYTES],
                        const uint8_t ph[SG_COMPOSITE_PH_BYTES], const uint8_t *ctx,
                        size_t ctxlen, const uint8_t *sig, size_t siglen)
{
  uint8_t mprime[SG_COMPOSITE_MPRIME_MAX];
  size_t mlen;
  EVP_PKEY *ec;
  EVP_MD_CTX *md;
  int mldsa_ok, ecdsa_ok;
  int r;

  if (pk == NULL)
    return SG_COMPOSITE_ERR_PARAM;
  r = sg_composite_mprime(ph, ctx, ctxlen, mprime, sizeof(mprime), &mlen);
  if (r != SG_COMPOSITE_OK)
    return r;
  if (sig == NULL || siglen <= MLDSA_SIG || siglen > SG_COMPOSITE_SIG_MAX)
    return SG_COMPOSITE_ERR_BAD_SIGNATURE;
  ec = ec_public_key(pk + MLDSA_PK);
  if (ec == NULL)
    return SG_COMPOSITE_ERR_MALFORMED;

  /* Both halves are always checked; the signature is valid only if both verify. */
  mldsa_ok = sg_mldsa_verify(SG_MLDSA_65, pk, mprime, mlen, label, sizeof(label), sig,
                             MLDSA_SIG) == SG_MLDSA_OK;
  md = EVP_MD_CTX_new();
  ecdsa_ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ec) == 1 &&
             EVP_DigestVerify(md, sig + MLDSA_SIG, siglen - MLDSA_SIG, mprime, mlen) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(ec);
  return mldsa_ok && ecdsa_ok ? SG_COMPOSITE_OK : SG_COMPOSITE_ERR_BAD_SIGNATURE;
}

int sg_composite_spki_encode(const uint8_t pk[SG_COMPOSITE_PK_BYTES],
                             uint8_t der[SG_COMPOSITE_SPKI_BYTES])
{
  if (pk == NULL || der == NULL)
    return SG_COMPOSITE_ERR_PARAM;
  memcpy(der, spki_header, sizeof(spki_header));
  memcpy(der + sizeof(spki_header), pk, SG_COMPOSITE_PK_BYTES);
  return SG_COMPOSITE_OK;
}

int sg_composite_spki_decode(const uint8_t *der, size_t derlen,
                             uint8_t pk[SG_COMPOSITE_PK_BYTES])
{
  if (der == NULL || pk == NULL)
    return SG_COMPOSITE_ERR_PARAM;
  if (derlen != SG_COMPOSITE_SPKI_BYTES || memcmp(der, spki_header, sizeof(spki_header)) != 0)
    return SG_COMPOSITE_ERR_MALFORMED;
  memcpy(pk, der + sizeof(spki_header), SG_COMPOSITE_PK_BYTES);
  return SG_COMPOSITE_OK;
}
