/*
 * Known-answer tests of the sg_keccak sponge: fixed FIPS 202 digests of the empty
 * string, then SHA3-224/256/384/512 and SHAKE128/256 against OpenSSL EVP for input and
 * output lengths around every rate boundary, and incremental absorb/squeeze in uneven
 * pieces against the one-shot result.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "check.h"
#include "sg_keccak.h"

static const struct {
  sg_keccak_alg alg;
  const char *ossl;
} kinds[] = {
  { SG_KECCAK_SHA3_224, "SHA3-224" }, { SG_KECCAK_SHA3_256, "SHA3-256" },
  { SG_KECCAK_SHA3_384, "SHA3-384" }, { SG_KECCAK_SHA3_512, "SHA3-512" },
  { SG_KECCAK_SHAKE128, "SHAKE128" }, { SG_KECCAK_SHAKE256, "SHAKE256" },
};

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
  for (size_t i = 0; i < len; i++) {
    seed = seed * 1103515245u + 12345u;
    buf[i] = (uint8_t)(seed >> 16);
  }
}

static int openssl_hash(const char *name, const uint8_t *in, size_t inlen, uint8_t *out,
                        size_t outlen)
{
  EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = md != NULL && ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
           EVP_DigestUpdate(ctx, in, inlen) == 1;
  if (ok && (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF)) {
    ok = EVP_DigestFinalXOF(ctx, out, outlen) == 1;
  } else if (ok) {
    unsigned n = 0;
    ok = (size_t)EVP_MD_get_size(md) == outlen && EVP_DigestFinal_ex(ctx, out, &n) == 1;
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  return ok ? 0 : -1;
}

static void hex(uint8_t *out, const char *s)
{
  for (size_t i = 0; s[2 * i]; i++) {
    unsigned v;
    sscanf(s + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}

static void fixed_vectors(void)
{
  uint8_t got[64], want[64];
  sg_sha3_256(got, NULL, 0);
  hex(want, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  CHECK(memcmp(got, want, 32) == 0);
  sg_sha3_512(got, (const uint8_t *)"abc", 3);
  hex(want, "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
            "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0");
  CHECK(memcmp(got, want, 64) == 0);
  sg_shake128(got, 32, NULL, 0);
  hex(want, "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26");
  CHECK(memcmp(got, want, 32) == 0);
  sg_shake256(got, 64, NULL, 0);
  hex(want, "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"
            "d75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be");
  CHECK(memcmp(got, want, 64) == 0);
}

static void against_openssl(void)
{
  static const size_t in_lens[] = { 0,   1,   7,   8,   9,   71,  72,  73,  103, 104,
                                    105, 135, 136, 137, 143, 144, 145, 167, 168, 169,
                                    200, 271, 272, 273, 335, 336, 337, 1000, 4096 };
  static const size_t xof_lens[] = { 1, 16, 32, 64, 135, 136, 137, 167, 168, 169, 336, 500, 1345 };
  uint8_t in[4096], ours[1345], theirs[1345];
  fill(in, sizeof(in), 1);

  for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    size_t digest = sg_keccak_digest_bytes(kinds[k].alg);
    for (size_t i = 0; i < sizeof(in_lens) / sizeof(in_lens[0]); i++) {
      size_t nout = digest ? 1 : sizeof(xof_lens) / sizeof(xof_lens[0]);
      for (size_t o = 0; o < nout; o++) {
        size_t outlen = digest ? digest : xof_lens[o];
        sg_keccak ctx;
        sg_keccak_init(&ctx, kinds[k].alg);
        sg_keccak_absorb(&ctx, in, in_lens[i]);
        sg_keccak_squeeze(&ctx, ours, outlen);
        CHECK(openssl_hash(kinds[k].ossl, in, in_lens[i], theirs, outlen) == 0);
        CHECK(memcmp(ours, theirs, outlen) == 0);
      }
    }
  }
}

/* Absorbing and squeezing in uneven pieces gives the one-shot stream. */
static void incremental(void)
{
  static const size_t pieces[] = { 1, 3, 8, 13, 64, 135, 136, 137, 168, 200 };
  uint8_t in[3000], one[2000], many[2000];
  fill(in, sizeof(in), 7);
  for (size_t k = 4; k < 6; k++) {
    for (size_t s = 0; s < sizeof(pieces) / sizeof(pieces[0]); s++) {
      sg_keccak ctx;
      size_t pos = 0, step = pieces[s];
      sg_keccak_init(&ctx, kinds[k].alg);
      sg_keccak_absorb(&ctx, in, sizeof(in));
      sg_keccak_squeeze(&ctx, one, sizeof(one));

      sg_keccak_init(&ctx, kinds[k].alg);
      while (pos < sizeof(in)) {
        size_t n = sizeof(in) - pos < step ? sizeof(in) - pos : step;
        sg_keccak_absorb(&ctx, in + pos, n);
        pos += n;
        step = step % 7 + pieces[s];
      }
      pos = 0;
      step = pieces[s];
      while (pos < sizeof(many)) {
        size_t n = sizeof(many) - pos < step ? sizeof(many) - pos : step;
        sg_keccak_squeeze(&ctx, many + pos, n);
        pos += n;
        step = step % 5 + pieces[s];
      }
      CHECK(memcmp(one, many, sizeof(one)) == 0);
    }
  }
}

int main(void)
{
  fixed_vectors();
  against_openssl();
  incremental();
  return check_report("keccak");
}
