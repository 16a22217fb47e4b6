/*
 * Tests of the MLDSA65-ECDSA-P256-SHA512 composite against the draft's published
 * vectors (argv[1] is the vectors directory): the M' example, the signatures s (empty
 * context) and sWithContext, the public key derived from the vector's private key, the
 * SPKI inside the vector's self-signed certificate, and the certificate's own
 * composite signature. Then a fresh key pair: sign/verify round trip and rejection of
 * a modified digest, context or signature, or of either half on its own.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "check.h"
#include "sg_composite.h"

typedef struct {
  uint8_t *data;
  size_t len;
} bytes;

static int b64_field(json_t *obj, const char *name, bytes *out)
{
  const char *s = json_string_value(json_object_get(obj, name));
  size_t n, pad = 0;
  int len;
  out->data = NULL;
  out->len = 0;
  if (s == NULL)
    return -1;
  n = strlen(s);
  out->data = malloc(n / 4 * 3 + 3);
  if (out->data == NULL)
    return -1;
  len = EVP_DecodeBlock(out->data, (const unsigned char *)s, (int)n);
  if (len < 0)
    return -1;
  while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
    pad++;
  out->len = (size_t)len - pad;
  return 0;
}

static int hex_field(json_t *obj, const char *name, bytes *out)
{
  const char *s = json_string_value(json_object_get(obj, name));
  size_t n;
  out->data = NULL;
  out->len = 0;
  if (s == NULL || strlen(s) % 2 != 0)
    return -1;
  n = strlen(s) / 2;
  out->data = malloc(n + 1);
  if (out->data == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1)
      return -1;
    out->data[i] = (uint8_t)v;
  }
  out->len = n;
  return 0;
}

static json_t *load(const char *dir, const char *file)
{
  char path[4096];
  json_error_t err;
  json_t *j;
  int n = snprintf(path, sizeof(path), "%s/composite/%s", dir, file);
  if (n < 0 || (size_t)n >= sizeof(path))
    return NULL;
  j = json_load_file(path, 0, &err);
  if (j == NULL)
    fprintf(stderr, "%s: %s\n", path, err.text);
  return j;
}

static void mprime_example(const char *dir)
{
  json_t *j = load(dir, "MLDSA65-ECDSA-P256-SHA512-Mprime-example.json");
  bytes m, ctx, want;
  uint8_t ph[64], got[SG_COMPOSITE_MPRIME_MAX];
  size_t len = 0;
  CHECK(j != NULL);
  if (j == NULL)
    return;
  CHECK(hex_field(j, "M", &m) == 0 && hex_field(j, "ctx", &ctx) == 0 &&
        hex_field(j, "M_prime", &want) == 0);
  SHA512(m.data, m.len, ph);
  CHECK(sg_composite_mprime(ph, ctx.data, ctx.len, got, sizeof(got), &len) == 0);
  CHECK(len == want.len && memcmp(got, want.data, len) == 0);
  CHECK(sg_composite_mprime(ph, ctx.data, 256, got, sizeof(got), &len) ==
        SG_COMPOSITE_ERR_CONTEXT);
  CHECK(sg_composite_mprime(ph, NULL, 0, got, want.len - 1, &len) == SG_COMPOSITE_ERR_PARAM);
  free(m.data);
  free(ctx.data);
  free(want.data);
  json_decref(j);
}

static void published_vectors(const char *dir)
{
  json_t *j = load(dir, "MLDSA65-ECDSA-P256-SHA512.json");
  json_t *t;
  bytes m, ctx, pk, sk, s, sctx, cert;
  uint8_t ph[64], pk2[SG_COMPOSITE_PK_BYTES], spki[SG_COMPOSITE_SPKI_BYTES];
  uint8_t *bad;

  CHECK(j != NULL);
  if (j == NULL)
    return;
  t = json_array_get(json_object_get(j, "tests"), 0);
  CHECK(b64_field(j, "m", &m) == 0 && b64_field(j, "ctx", &ctx) == 0);
  CHECK(b64_field(t, "pk", &pk) == 0 && pk.len == SG_COMPOSITE_PK_BYTES);
  CHECK(b64_field(t, "sk", &sk) == 0 && b64_field(t, "s", &s) == 0 &&
        b64_field(t, "sWithContext", &sctx) == 0 && b64_field(t, "x5c", &cert) == 0);
  if (pk.len != SG_COMPOSITE_PK_BYTES)
    goto out;
  SHA512(m.data, m.len, ph);

  CHECK(sg_composite_verify(pk.data, ph, NULL, 0, s.data, s.len) == 0);
  CHECK(sg_composite_verify(pk.data, ph, ctx.data, ctx.len, sctx.data, sctx.len) == 0);
  /* Each signature is bound to its own context. */
  CHECK(sg_composite_verify(pk.data, ph, ctx.data, ctx.len, s.data, s.len) ==
        SG_COMPOSITE_ERR_BAD_SIGNATURE);
  CHECK(sg_composite_verify(pk.data, ph, NULL, 0, sctx.data, sctx.len) ==
        SG_COMPOSITE_ERR_BAD_SIGNATURE);
  /* A flipped bit in either half, or a different digest, fails. */
  bad = malloc(s.len);
  memcpy(bad, s.data, s.len);
  bad[100] ^= 1;
  CHECK(sg_composite_verify(pk.data, ph, NULL, 0, bad, s.len) == SG_COMPOSITE_ERR_BAD_SIGNATURE);
  memcpy(bad, s.data, s.len);
  bad[s.len - 5] ^= 1;
  CHECK(sg_composite_verify(pk.data, ph, NULL, 0, bad, s.len) == SG_COMPOSITE_ERR_BAD_SIGNATURE);
  CHECK(sg_composite_verify(pk.data, ph, NULL, 0, s.data, 3309) == SG_COMPOSITE_ERR_BAD_SIGNATURE);
  free(bad);
  ph[0] ^= 1;
  CHECK(sg_composite_verify(pk.data, ph, NULL, 0, s.data, s.len) == SG_COMPOSITE_ERR_BAD_SIGNATURE);
  ph[0] ^= 1;

  /* The private key yields the published public key. */
  CHECK(sg_composite_pk_from_sk(sk.data, sk.len, pk2) == 0);
  CHECK(memcmp(pk2, pk.data, sizeof(pk2)) == 0);
  CHECK(sg_composite_pk_from_sk(sk.data, sk.len - 1, pk2) == SG_COMPOSITE_ERR_MALFORMED);
  CHECK(sg_composite_pk_from_sk(sk.data, 32, pk2) == SG_COMPOSITE_ERR_MALFORMED);

  /* Our SPKI equals the one in the published certificate, and the certificate's
   * composite signature over its TBSCertificate verifies. */
  CHECK(sg_composite_spki_encode(pk.data, spki) == 0);
  {
    const unsigned char *p = cert.data;
    X509 *x = d2i_X509(NULL, &p, (long)cert.len);
    unsigned char *der = NULL, *tbs = NULL;
    int derlen = -1, tbslen = -1;
    const ASN1_BIT_STRING *csig = NULL;
    CHECK(x != NULL);
    if (x != NULL) {
      derlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
      CHECK(derlen == SG_COMPOSITE_SPKI_BYTES && memcmp(der, spki, (size_t)derlen) == 0);
      tbslen = i2d_re_X509_tbs(x, &tbs);
      X509_get0_signature(&csig, NULL, x);
      CHECK(tbslen > 0 && csig != NULL);
      if (tbslen > 0 && csig != NULL) {
        uint8_t tbs_ph[64];
        SHA512(tbs, (size_t)tbslen, tbs_ph);
        CHECK(sg_composite_verify(pk.data, tbs_ph, NULL, 0, ASN1_STRING_get0_data(csig),
                                  (size_t)ASN1_STRING_length(csig)) == 0);
      }
    }
    OPENSSL_free(der);
    OPENSSL_free(tbs);
    X509_free(x);
  }
  CHECK(sg_composite_spki_decode(spki, sizeof(spki), pk2) == 0);
  CHECK(memcmp(pk2, pk.data, sizeof(pk2)) == 0);
  spki[9] ^= 1;
  CHECK(sg_composite_spki_decode(spki, sizeof(spki), pk2) == SG_COMPOSITE_ERR_MALFORMED);
  spki[9] ^= 1;
  CHECK(sg_composite_spki_decode(spki, sizeof(spki) - 1, pk2) == SG_COMPOSITE_ERR_MALFORMED);

out:
  free(m.data);
  free(ctx.data);
  free(pk.data);
  free(sk.data);
  free(s.data);
  free(sctx.data);
  free(cert.data);
  json_decref(j);
}

static void round_trip(void)
{
  uint8_t pk[SG_COMPOSITE_PK_BYTES], pk2[SG_COMPOSITE_PK_BYTES], sk[SG_COMPOSITE_SK_BYTES];
  uint8_t sig[SG_COMPOSITE_SIG_MAX], sig2[SG_COMPOSITE_SIG_MAX], ph[64], ctx[255];
  size_t siglen = sizeof(sig), siglen2 = sizeof(sig2), small = SG_COMPOSITE_SIG_MAX - 1;

  memset(ph, 0x42, sizeof(ph));
  memset(ctx, 0x17, sizeof(ctx));
  CHECK(sg_composite_keygen(pk, sk) == 0);
  CHECK(sg_composite_pk_from_sk(sk, sizeof(sk), pk2) == 0 && memcmp(pk, pk2, sizeof(pk)) == 0);
  CHECK(sg_composite_sign(sk, sizeof(sk), ph, ctx, 12, sig, &siglen) == 0);
  CHECK(siglen > 3309 + 8 && siglen <= SG_COMPOSITE_SIG_MAX);
  CHECK(sg_composite_verify(pk, ph, ctx, 12, sig, siglen) == 0);
  CHECK(sg_composite_verify(pk, ph, ctx, 11, sig, siglen) == SG_COMPOSITE_ERR_BAD_SIGNATURE);
  CHECK(sg_composite_verify(pk, ph, NULL, 0, sig, siglen) == SG_COMPOSITE_ERR_BAD_SIGNATURE);
  CHECK(sg_composite_sign(sk, sizeof(sk), ph, ctx, 255, sig2, &siglen2) == 0);
  CHECK(sg_composite_verify(pk, ph, ctx, 255, sig2, siglen2) == 0);
  siglen2 = sizeof(sig2);
  CHECK(sg_composite_sign(sk, sizeof(sk), ph, ctx, 256, sig2, &siglen2) ==
        SG_COMPOSITE_ERR_CONTEXT);
  CHECK(sg_composite_sign(sk, sizeof(sk), ph, NULL, 0, sig2, &small) == SG_COMPOSITE_ERR_PARAM);

  /* Valid only if both halves verify: splice halves of two different signatures. */
  siglen2 = sizeof(sig2);
  ph[1] ^= 1;
  CHECK(sg_composite_sign(sk, sizeof(sk), ph, ctx, 12, sig2, &siglen2) == 0);
  ph[1] ^= 1;
  {
    uint8_t mixed[SG_COMPOSITE_SIG_MAX];
    memcpy(mixed, sig, 3309);
    memcpy(mixed + 3309, sig2 + 3309, siglen2 - 3309);
    CHECK(sg_composite_verify(pk, ph, ctx, 12, mixed, siglen2) == SG_COMPOSITE_ERR_BAD_SIGNATURE);
    memcpy(mixed, sig2, 3309);
    memcpy(mixed + 3309, sig + 3309, siglen - 3309);
    CHECK(sg_composite_verify(pk, ph, ctx, 12, mixed, siglen) == SG_COMPOSITE_ERR_BAD_SIGNATURE);
  }
  /* A public key whose EC point is off the curve is refused. */
  memcpy(pk2, pk, sizeof(pk));
  pk2[1952 + 10] ^= 1;
  CHECK(sg_composite_verify(pk2, ph, ctx, 12, sig, siglen) == SG_COMPOSITE_ERR_MALFORMED);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
    return 2;
  }
  mprime_example(argv[1]);
  published_vectors(argv[1]);
  round_trip();
  return check_report("composite");
}
