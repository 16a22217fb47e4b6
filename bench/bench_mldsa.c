/*
 * Benchmark (not a test): key generation, signing and verification throughput and
 * median cycle counts for ML-DSA-44/65/87 from sg_mldsa, next to RSA-2048, EC-P256
 * and Ed25519 from OpenSSL EVP on the same machine. Signing hashes nothing: every
 * scheme signs the same 32-byte message (a digest, as Signet receives), ML-DSA in its
 * default hedged mode. Usage: bench_mldsa [iterations] (default 1000; RSA key
 * generation runs a tenth as often). Each measurement is repeated in three rounds and
 * the best round is reported (highest rate, lowest median), which filters out bursts
 * from other tenants of a shared machine. Cycles come from the TSC on x86-64 and are
 * 0 elsewhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "sg_mldsa.h"

#if defined(__x86_64__)
#include <x86intrin.h>
static uint64_t cycles(void) { return __rdtsc(); }
#else
static uint64_t cycles(void) { return 0; }
#endif

typedef struct {
  double ops_per_sec;
  uint64_t median_cycles;
} result;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

typedef int (*op_fn)(void *state);

#define ROUNDS 3

/* Run op n times; every call must succeed. */
static int measure_round(op_fn op, void *state, int n, result *out)
{
  uint64_t *samples = calloc((size_t)n, sizeof(*samples));
  double start;
  if (samples == NULL)
    return -1;
  if (op(state) != 0) { /* warm-up, and a check that the operation works */
    free(samples);
    return -1;
  }
  start = now();
  for (int i = 0; i < n; i++) {
    uint64_t c0 = cycles();
    if (op(state) != 0) {
      free(samples);
      return -1;
    }
    samples[i] = cycles() - c0;
  }
  out->ops_per_sec = n / (now() - start);
  qsort(samples, (size_t)n, sizeof(*samples), cmp_u64);
  out->median_cycles = samples[n / 2];
  free(samples);
  return 0;
}

/* The best of ROUNDS rounds of n operations each. */
static int measure(op_fn op, void *state, int n, result *out)
{
  for (int r = 0; r < ROUNDS; r++) {
    result one;
    if (measure_round(op, state, n, &one) != 0)
      return -1;
    if (r == 0 || one.median_cycles < out->median_cycles)
      out->median_cycles = one.median_cycles;
    if (r == 0 || one.ops_per_sec > out->ops_per_sec)
      out->ops_per_sec = one.ops_per_sec;
  }
  return 0;
}

static const uint8_t message[32] = "signet benchmark digest 32 bytes";

/* ---- ML-DSA ---- */

typedef struct {
  sg_mldsa_param p;
  uint8_t pk[SG_MLDSA_PK_MAX];
  uint8_t sk[SG_MLDSA_SK_MAX];
  uint8_t sig[SG_MLDSA_SIG_MAX];
} mldsa_state;

static int mldsa_keygen(void *v)
{
  mldsa_state *s = v;
  return sg_mldsa_keygen(s->p, NULL, s->pk, s->sk);
}

static int mldsa_sign(void *v)
{
  mldsa_state *s = v;
  return sg_mldsa_sign(s->p, s->sk, message, sizeof(message), NULL, 0, NULL, s->sig);
}

static int mldsa_verify(void *v)
{
  mldsa_state *s = v;
  return sg_mldsa_verify(s->p, s->pk, message, sizeof(message), NULL, 0, s->sig,
                         sg_mldsa_sig_bytes(s->p));
}

/* ---- OpenSSL ---- */

typedef struct {
  const char *name;
  int kind; /* 0 RSA-2048, 1 EC-P256, 2 Ed25519 */
  EVP_PKEY *key;
  unsigned char sig[512];
  size_t siglen;
} ossl_state;

static EVP_PKEY *ossl_generate(int kind)
{
  switch (kind) {
  case 0: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  case 1: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  default: return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  }
}

static int ossl_keygen(void *v)
{
  ossl_state *s = v;
  EVP_PKEY *k = ossl_generate(s->kind);
  if (k == NULL)
    return -1;
  EVP_PKEY_free(k);
  return 0;
}

/* RSA and ECDSA sign the 32-byte value as a SHA-256 digest; Ed25519 as the message. */
static int ossl_sign(void *v)
{
  ossl_state *s = v;
  int ok;
  if (s->kind == 2) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    s->siglen = sizeof(s->sig);
    ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, s->key) == 1 &&
         EVP_DigestSign(md, s->sig, &s->siglen, message, sizeof(message)) == 1;
    EVP_MD_CTX_free(md);
  } else {
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(s->key, NULL);
    s->siglen = sizeof(s->sig);
    ok = pc != NULL && EVP_PKEY_sign_init(pc) == 1 &&
         EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
         EVP_PKEY_sign(pc, s->sig, &s->siglen, message, sizeof(message)) == 1;
    EVP_PKEY_CTX_free(pc);
  }
  return ok ? 0 : -1;
}

static int ossl_verify(void *v)
{
  ossl_state *s = v;
  int ok;
  if (s->kind == 2) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, s->key) == 1 &&
         EVP_DigestVerify(md, s->sig, s->siglen, message, sizeof(message)) == 1;
    EVP_MD_CTX_free(md);
  } else {
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(s->key, NULL);
    ok = pc != NULL && EVP_PKEY_verify_init(pc) == 1 &&
         EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
         EVP_PKEY_verify(pc, s->sig, s->siglen, message, sizeof(message)) == 1;
    EVP_PKEY_CTX_free(pc);
  }
  return ok ? 0 : -1;
}

static void print_row(const char *name, const result r[3])
{
  printf("%-10s %12.0f %12.0f %12.0f %14llu %14llu %14llu\n", name, r[0].ops_per_sec,
         r[1].ops_per_sec, r[2].ops_per_sec, (unsigned long long)r[0].median_cycles,
         (unsigned long long)r[1].median_cycles, (unsigned long long)r[2].median_cycles);
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  static const sg_mldsa_param sets[] = { SG_MLDSA_44, SG_MLDSA_65, SG_MLDSA_87 };
  static const char *ossl_names[] = { "RSA-2048", "EC-P256", "Ed25519" };
  static mldsa_state ms;
  result r[3];

  if (n < 1)
    n = 1;
  printf("ML-DSA implementation: %s\n", sg_mldsa_implementation());
  printf("%-10s %12s %12s %12s %14s %14s %14s\n", "algorithm", "keygen/s", "sign/s",
         "verify/s", "keygen cyc", "sign cyc", "verify cyc");
  for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
    ms.p = sets[i];
    if (measure(mldsa_keygen, &ms, n, &r[0]) != 0 || measure(mldsa_sign, &ms, n, &r[1]) != 0 ||
        measure(mldsa_verify, &ms, n, &r[2]) != 0) {
      fprintf(stderr, "%s failed\n", sg_mldsa_param_name(sets[i]));
      return 1;
    }
    print_row(sg_mldsa_param_name(sets[i]), r);
  }
  for (int kind = 0; kind < 3; kind++) {
    ossl_state os = { ossl_names[kind], kind, NULL, { 0 }, 0 };
    int keygen_n = kind == 0 ? (n / 10 > 0 ? n / 10 : 1) : n;
    os.key = ossl_generate(kind);
    if (os.key == NULL || measure(ossl_keygen, &os, keygen_n, &r[0]) != 0 ||
        measure(ossl_sign, &os, n, &r[1]) != 0 || measure(ossl_verify, &os, n, &r[2]) != 0) {
      fprintf(stderr, "%s failed\n", os.name);
      EVP_PKEY_free(os.key);
      return 1;
    }
    print_row(os.name, r);
    EVP_PKEY_free(os.key);
  }
  return 0;
}
