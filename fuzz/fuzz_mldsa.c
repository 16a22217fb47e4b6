/*
 * libFuzzer harness for everything in sg_mldsa and sg_composite that parses outside
 * input: ML-DSA SPKI, signatures (hint encodings), private keys, public keys, and the
 * composite's SPKI, private key (DER ECPrivateKey) and signature (DER ECDSA). Byte 0
 * picks the target, byte 1 the parameter set; the rest is the payload. Besides "no
 * crash", it checks properties: accepted encodings re-encode to the same bytes, and a
 * private key that passes validation signs messages that its public key verifies.
 * Built without libFuzzer (gcc, or SIGNET_FUZZ off) it gets a main() that replays the
 * files named on the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mldsa_internal.h"
#include "sg_composite.h"
#include "sg_mldsa.h"

enum {
  T_MLDSA_SPKI,
  T_MLDSA_SIG_FIXED_KEY,
  T_MLDSA_PK_FROM_SK,
  T_MLDSA_SIGN_WITH_SK,
  T_MLDSA_VERIFY_ANY,
  T_MLDSA_PREHASH,
  T_COMPOSITE_VERIFY,
  T_COMPOSITE_SK,
  T_COUNT
};

static const uint8_t fuzz_message[4] = { 'f', 'u', 'z', 'z' };

/* SHA-512("The quick brown fox jumps over the lazy dog."), the composite vectors' m. */
static const uint8_t composite_ph[64] = {
  0x91, 0xea, 0x12, 0x45, 0xf2, 0x0d, 0x46, 0xae, 0x9a, 0x03, 0x7a, 0x98, 0x9f,
  0x54, 0xf1, 0xf7, 0x90, 0xf0, 0xa4, 0x76, 0x07, 0xee, 0xb8, 0xa1, 0x4d, 0x12,
  0x89, 0x0c, 0xea, 0x77, 0xa1, 0xbb, 0xc6, 0xc7, 0xed, 0x9c, 0xf2, 0x05, 0xe6,
  0x7b, 0x7f, 0x2b, 0x8f, 0xd4, 0xc7, 0xdf, 0xd3, 0xa7, 0xa8, 0x61, 0x7e, 0x45,
  0xf3, 0xc4, 0x63, 0xd4, 0x81, 0xc7, 0xe5, 0x86, 0xc3, 0x9a, 0xc1, 0xed,
};

/* The fixed key pair of each parameter set: keygen from 32 bytes of 0x01. */
static uint8_t fixed_pk[3][SG_MLDSA_PK_MAX];

static void fixed_keys(void)
{
  static int done;
  uint8_t seed[32], sk[SG_MLDSA_SK_MAX];
  if (done)
    return;
  memset(seed, 1, sizeof(seed));
  for (int p = 0; p < 3; p++) {
    if (sg_mldsa_keygen((sg_mldsa_param)p, seed, fixed_pk[p], sk) != 0)
      abort();
  }
  done = 1;
}

/* If sig decodes, encoding the decoded parts must give back exactly sig. */
static void check_sig_canonical(const mldsa_params *prm, const uint8_t *sig)
{
  static uint8_t h[MLDSA_K_MAX][MLDSA_N], again[SG_MLDSA_SIG_MAX];
  static mldsa_poly z[MLDSA_L_MAX];
  uint8_t ctilde[MLDSA_CTILDE_MAX];
  if (sg_mldsa_sig_decode(prm, sig, ctilde, z, h) != 0)
    return;
  sg_mldsa_sig_encode(again, prm, ctilde, z, (const uint8_t(*)[MLDSA_N])h);
  if (memcmp(again, sig, prm->sig_bytes) != 0)
    abort();
}

static void fuzz_spki(const uint8_t *in, size_t len)
{
  uint8_t pk[SG_MLDSA_PK_MAX], der[SG_MLDSA_SPKI_MAX];
  sg_mldsa_param p;
  if (sg_mldsa_spki_decode(in, len, &p, pk, sizeof(pk)) != 0)
    return;
  if (sg_mldsa_spki_encode(p, pk, der) != 0 || len != sg_mldsa_spki_bytes(p) ||
      memcmp(der, in, len) != 0)
    abort();
}

static void fuzz_sig_fixed_key(sg_mldsa_param p, const uint8_t *in, size_t len)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  int r;
  fixed_keys();
  if (len == prm->sig_bytes)
    check_sig_canonical(prm, in);
  r = sg_mldsa_verify(p, fixed_pk[p], fuzz_message, sizeof(fuzz_message), NULL, 0, in, len);
  if (r != SG_MLDSA_OK && r != SG_MLDSA_ERR_BAD_SIGNATURE)
    abort();
}

static void fuzz_sk(sg_mldsa_param p, const uint8_t *in, size_t len, int sign)
{
  static uint8_t sk[SG_MLDSA_SK_MAX], pk[SG_MLDSA_PK_MAX], sig[SG_MLDSA_SIG_MAX];
  size_t n = sg_mldsa_sk_bytes(p);
  int have_pk;
  if (len < n)
    return;
  memcpy(sk, in, n);
  have_pk = sg_mldsa_pk_from_sk(p, sk, pk) == 0;
  if (!sign)
    return;
  if (sg_mldsa_sign(p, sk, in + n, len - n, NULL, 0, sg_mldsa_rnd_deterministic, sig) != 0)
    return;
  /* A key that passed validation must produce signatures its public key accepts. */
  if (have_pk &&
      sg_mldsa_verify(p, pk, in + n, len - n, NULL, 0, sig, sg_mldsa_sig_bytes(p)) != 0)
    abort();
}

static void fuzz_verify_any(sg_mldsa_param p, const uint8_t *in, size_t len)
{
  size_t npk = sg_mldsa_pk_bytes(p), nsig = sg_mldsa_sig_bytes(p);
  int r;
  if (len < npk + nsig)
    return;
  r = sg_mldsa_verify(p, in, in + npk + nsig, len - npk - nsig, NULL, 0, in + npk, nsig);
  if (r != SG_MLDSA_OK && r != SG_MLDSA_ERR_BAD_SIGNATURE)
    abort();
}

/* Payload: hash id, context length, then context, digest and signature. */
static void fuzz_prehash(sg_mldsa_param p, const uint8_t *in, size_t len)
{
  size_t ctxlen, phlen;
  sg_mldsa_hash_alg alg;
  int r;
  fixed_keys();
  if (len < 2)
    return;
  alg = (sg_mldsa_hash_alg)(in[0] % 14);
  ctxlen = in[1];
  in += 2;
  len -= 2;
  phlen = sg_mldsa_hash_digest_bytes(alg);
  if (len < ctxlen + phlen)
    return;
  r = sg_mldsa_verify_prehash(p, fixed_pk[p], alg, in + ctxlen, phlen, in, ctxlen,
                              in + ctxlen + phlen, len - ctxlen - phlen);
  if (r != SG_MLDSA_OK && r != SG_MLDSA_ERR_BAD_SIGNATURE && r != SG_MLDSA_ERR_PARAM)
    abort();
  if (r == SG_MLDSA_ERR_PARAM && phlen != 0)
    abort();
}

/* Payload: SPKI or raw public key, then the signature. */
static void fuzz_composite_verify(const uint8_t *in, size_t len)
{
  uint8_t pk[SG_COMPOSITE_PK_BYTES];
  size_t off;
  int r;
  if (sg_composite_spki_decode(in, len < SG_COMPOSITE_SPKI_BYTES ? len : SG_COMPOSITE_SPKI_BYTES,
                               pk) == 0) {
    off = SG_COMPOSITE_SPKI_BYTES;
  } else if (len >= SG_COMPOSITE_PK_BYTES) {
    memcpy(pk, in, sizeof(pk));
    off = SG_COMPOSITE_PK_BYTES;
  } else {
    return;
  }
  r = sg_composite_verify(pk, composite_ph, NULL, 0, in + off, len - off);
  if (r != SG_COMPOSITE_OK && r != SG_COMPOSITE_ERR_BAD_SIGNATURE &&
      r != SG_COMPOSITE_ERR_MALFORMED)
    abort();
}

static void fuzz_composite_sk(const uint8_t *in, size_t len)
{
  uint8_t pk[SG_COMPOSITE_PK_BYTES];
  int r = sg_composite_pk_from_sk(in, len, pk);
  if (r != SG_COMPOSITE_OK && r != SG_COMPOSITE_ERR_MALFORMED && r != SG_COMPOSITE_ERR_CRYPTO)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  sg_mldsa_param p;
  if (size < 2)
    return 0;
  p = (sg_mldsa_param)(data[1] % 3);
  switch (data[0] % T_COUNT) {
  case T_MLDSA_SPKI: fuzz_spki(data + 2, size - 2); break;
  case T_MLDSA_SIG_FIXED_KEY: fuzz_sig_fixed_key(p, data + 2, size - 2); break;
  case T_MLDSA_PK_FROM_SK: fuzz_sk(p, data + 2, size - 2, 0); break;
  case T_MLDSA_SIGN_WITH_SK: fuzz_sk(p, data + 2, size - 2, 1); break;
  case T_MLDSA_VERIFY_ANY: fuzz_verify_any(p, data + 2, size - 2); break;
  case T_MLDSA_PREHASH: fuzz_prehash(p, data + 2, size - 2); break;
  case T_COMPOSITE_VERIFY: fuzz_composite_verify(data + 2, size - 2); break;
  default: fuzz_composite_sk(data + 2, size - 2); break;
  }
  return 0;
}

#ifndef SIGNET_LIBFUZZER
/* Replay driver: run each file given on the command line through the harness. */
int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    uint8_t *buf;
    long len;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
      fprintf(stderr, "%s: cannot read\n", argv[i]);
      if (f != NULL)
        fclose(f);
      return 1;
    }
    buf = malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
      fprintf(stderr, "%s: cannot read\n", argv[i]);
      free(buf);
      fclose(f);
      return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
  }
  printf("replayed %d inputs\n", argc - 1);
  return argc > 1 ? 0 : 1;
}
#endif
