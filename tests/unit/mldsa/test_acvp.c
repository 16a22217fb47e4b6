/*
 * Runs every NIST ACVP ML-DSA case under the vectors directory given as argv[1]:
 * keyGen, sigGen (FIPS204 and FIPS204-tr1: deterministic and hedged, pure, HashML-DSA,
 * internal, external mu, seed and expanded keys) and sigVer including the negative
 * cases. Each folder's prompt.json is joined with its expectedResults.json on
 * tgId/tcId, and each group's parameterSet picks the ML-DSA variant, so the full
 * upstream files run unchanged. Prints the count per file and in total; exits
 * non-zero on any mismatch, on a missing directory, or when no case ran.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "sg_keccak.h"
#include "sg_mldsa.h"

typedef struct {
  uint8_t *data;
  size_t len;
} bytes;

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decode the hex string field name of obj; a missing field is an error. */
static int get_hex(json_t *obj, const char *name, bytes *out)
{
  const char *s = json_string_value(json_object_get(obj, name));
  size_t n;
  out->data = NULL;
  out->len = 0;
  if (s == NULL)
    return -1;
  n = strlen(s);
  if (n % 2 != 0)
    return -1;
  out->len = n / 2;
  out->data = malloc(out->len + 1);
  if (out->data == NULL)
    return -1;
  for (size_t i = 0; i < out->len; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out->data[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

static void bytes_free(bytes *b)
{
  free(b->data);
  b->data = NULL;
  b->len = 0;
}

static const char *get_str(json_t *obj, const char *name)
{
  const char *s = json_string_value(json_object_get(obj, name));
  return s ? s : "";
}

static json_t *find_by_id(json_t *array, const char *key, json_int_t id)
{
  size_t i;
  json_t *v;
  json_array_foreach(array, i, v) {
    if (json_integer_value(json_object_get(v, key)) == id)
      return v;
  }
  return NULL;
}

/* PH(M) for HashML-DSA: SHA2/SHA3 by OpenSSL, SHAKE by our own sponge. */
static int prehash(const char *name, const bytes *msg, uint8_t *out, size_t *outlen)
{
  static const struct {
    const char *name;
    const EVP_MD *(*md)(void);
  } mds[] = {
    { "SHA2-224", EVP_sha224 },         { "SHA2-256", EVP_sha256 },
    { "SHA2-384", EVP_sha384 },         { "SHA2-512", EVP_sha512 },
    { "SHA2-512/224", EVP_sha512_224 }, { "SHA2-512/256", EVP_sha512_256 },
    { "SHA3-224", EVP_sha3_224 },       { "SHA3-256", EVP_sha3_256 },
    { "SHA3-384", EVP_sha3_384 },       { "SHA3-512", EVP_sha3_512 },
  };
  if (strcmp(name, "SHAKE-128") == 0) {
    sg_shake128(out, 32, msg->data, msg->len);
    *outlen = 32;
    return 0;
  }
  if (strcmp(name, "SHAKE-256") == 0) {
    sg_shake256(out, 64, msg->data, msg->len);
    *outlen = 64;
    return 0;
  }
  for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
    if (strcmp(name, mds[i].name) == 0) {
      unsigned int n = 0;
      if (EVP_Digest(msg->data, msg->len, out, &n, mds[i].md(), NULL) != 1)
        return -1;
      *outlen = n;
      return 0;
    }
  }
  return -1;
}

typedef struct {
  unsigned passed, failed;
} tally;

static void record(tally *t, const char *file, json_int_t tg, json_int_t tc, int ok,
                   const char *what)
{
  if (ok) {
    t->passed++;
  } else {
    t->failed++;
    fprintf(stderr, "FAIL %s tgId=%lld tcId=%lld: %s\n", file, (long long)tg,
            (long long)tc, what);
  }
}

static int bytes_equal(const uint8_t *a, size_t alen, const bytes *b)
{
  return alen == b->len && memcmp(a, b->data, alen) == 0;
}

static void run_keygen(const char *file, sg_mldsa_param p, json_int_t tg, json_t *test,
                       json_t *exp, tally *t)
{
  json_int_t tc = json_integer_value(json_object_get(test, "tcId"));
  bytes seed, pk, sk;
  uint8_t got_pk[SG_MLDSA_PK_MAX], got_sk[SG_MLDSA_SK_MAX];
  int ok = get_hex(test, "seed", &seed) == 0 && seed.len == 32 &&
           get_hex(exp, "pk", &pk) == 0 && get_hex(exp, "sk", &sk) == 0;
  if (ok)
    ok = sg_mldsa_keygen(p, seed.data, got_pk, got_sk) == 0;
  record(t, file, tg, tc,
         ok && bytes_equal(got_pk, sg_mldsa_pk_bytes(p), &pk) &&
             bytes_equal(got_sk, sg_mldsa_sk_bytes(p), &sk),
         "keyGen mismatch");
  bytes_free(&seed);
  bytes_free(&pk);
  bytes_free(&sk);
}

/*
 * Sign or verify one case according to the group's interface. For sign, sig receives
 * the signature and the return value is the library's; for verify (sig_in set), the
 * return value is the library's verdict.
 */
static int dispatch(sg_mldsa_param p, json_t *group, json_t *test, const uint8_t *key,
                    const uint8_t *rnd, const bytes *sig_in, uint8_t *sig_out)
{
  const char *iface = get_str(group, "signatureInterface");
  bytes msg = { 0 }, ctx = { 0 }, mu = { 0 };
  int r = -1000;

  if (strcmp(iface, "internal") == 0) {
    if (json_is_true(json_object_get(group, "externalMu"))) {
      if (get_hex(test, "mu", &mu) == 0 && mu.len == SG_MLDSA_MU_BYTES)
        r = sig_in ? sg_mldsa_verify_mu(p, key, mu.data, sig_in->data, sig_in->len)
                   : sg_mldsa_sign_mu(p, key, mu.data, rnd, sig_out);
    } else if (get_hex(test, "message", &msg) == 0) {
      r = sig_in ? sg_mldsa_verify_internal(p, key, msg.data, msg.len, sig_in->data,
                                            sig_in->len)
                 : sg_mldsa_sign_internal(p, key, msg.data, msg.len, rnd, sig_out);
    }
  } else if (strcmp(iface, "external") == 0) {
    const char *mode = get_str(group, "preHash");
    if (get_hex(test, "message", &msg) != 0 || get_hex(test, "context", &ctx) != 0)
      goto out;
    if (strcmp(mode, "pure") == 0) {
      r = sig_in ? sg_mldsa_verify(p, key, msg.data, msg.len, ctx.data, ctx.len,
                                   sig_in->data, sig_in->len)
                 : sg_mldsa_sign(p, key, msg.data, msg.len, ctx.data, ctx.len, rnd, sig_out);
    } else if (strcmp(mode, "preHash") == 0) {
      const char *hname = get_str(test, "hashAlg");
      sg_mldsa_hash_alg alg;
      uint8_t ph[64];
      size_t phlen;
      if (sg_mldsa_hash_from_name(hname, &alg) != 0 || prehash(hname, &msg, ph, &phlen) != 0)
        goto out;
      r = sig_in ? sg_mldsa_verify_prehash(p, key, alg, ph, phlen, ctx.data, ctx.len,
                                           sig_in->data, sig_in->len)
                 : sg_mldsa_sign_prehash(p, key, alg, ph, phlen, ctx.data, ctx.len, rnd,
                                         sig_out);
    }
  }
out:
  bytes_free(&msg);
  bytes_free(&ctx);
  bytes_free(&mu);
  return r;
}

static void run_siggen(const char *file, sg_mldsa_param p, json_t *group, json_t *test,
                       json_t *exp, tally *t)
{
  json_int_t tg = json_integer_value(json_object_get(group, "tgId"));
  json_int_t tc = json_integer_value(json_object_get(test, "tcId"));
  bytes sk = { 0 }, seed = { 0 }, rnd = { 0 }, want = { 0 };
  uint8_t sk_buf[SG_MLDSA_SK_MAX], pk_buf[SG_MLDSA_PK_MAX], sig[SG_MLDSA_SIG_MAX];
  const uint8_t *key = NULL, *rndp = sg_mldsa_rnd_deterministic;
  int ok = get_hex(exp, "signature", &want) == 0;

  if (strcmp(get_str(group, "keyFormat"), "seed") == 0) {
    if (get_hex(test, "seed", &seed) == 0 && seed.len == 32 &&
        sg_mldsa_keygen(p, seed.data, pk_buf, sk_buf) == 0)
      key = sk_buf;
  } else if (get_hex(test, "sk", &sk) == 0 && sk.len == sg_mldsa_sk_bytes(p)) {
    key = sk.data;
  }
  if (!json_is_true(json_object_get(group, "deterministic"))) {
    if (get_hex(test, "rnd", &rnd) == 0 && rnd.len == 32)
      rndp = rnd.data;
    else
      ok = 0;
  }
  ok = ok && key != NULL && dispatch(p, group, test, key, rndp, NULL, sig) == 0 &&
       bytes_equal(sig, sg_mldsa_sig_bytes(p), &want);
  record(t, file, tg, tc, ok, "sigGen mismatch");
  bytes_free(&sk);
  bytes_free(&seed);
  bytes_free(&rnd);
  bytes_free(&want);
}

static void run_sigver(const char *file, sg_mldsa_param p, json_t *group, json_t *test,
                       json_t *exp, tally *t)
{
  json_int_t tg = json_integer_value(json_object_get(group, "tgId"));
  json_int_t tc = json_integer_value(json_object_get(test, "tcId"));
  json_t *passed = json_object_get(exp, "testPassed");
  bytes pk = { 0 }, sig = { 0 };
  int ok = json_is_boolean(passed) && get_hex(test, "signature", &sig) == 0;
  /* Newer files carry pk per test, older ones per group. */
  if (ok && get_hex(test, "pk", &pk) != 0 && get_hex(group, "pk", &pk) != 0)
    ok = 0;
  if (ok && pk.len != sg_mldsa_pk_bytes(p))
    ok = 0;
  if (ok) {
    int r = dispatch(p, group, test, pk.data, NULL, &sig, NULL);
    int valid = r == SG_MLDSA_OK;
    ok = (r == SG_MLDSA_OK || r == SG_MLDSA_ERR_BAD_SIGNATURE) &&
         valid == json_is_true(passed);
  }
  record(t, file, tg, tc, ok, "sigVer verdict mismatch");
  bytes_free(&pk);
  bytes_free(&sig);
}

static int join_path(char *out, size_t cap, const char *dir, const char *sub,
                     const char *file)
{
  int n = snprintf(out, cap, "%s/%s/%s", dir, sub, file);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Run one ACVP folder; returns the mode seen ("keyGen", ...) via *mode_seen. */
static int run_folder(const char *dir, const char *name, tally *total, char *mode_seen,
                      size_t mode_cap)
{
  char path[4096];
  json_error_t err;
  json_t *prompt, *expected;
  tally t = { 0, 0 };
  const char *mode;
  size_t gi;
  json_t *group;

  if (join_path(path, sizeof(path), dir, name, "prompt.json") != 0)
    return -1;
  prompt = json_load_file(path, 0, &err);
  if (prompt == NULL) {
    fprintf(stderr, "%s: %s\n", path, err.text);
    return -1;
  }
  if (join_path(path, sizeof(path), dir, name, "expectedResults.json") != 0) {
    json_decref(prompt);
    return -1;
  }
  expected = json_load_file(path, 0, &err);
  if (expected == NULL) {
    fprintf(stderr, "%s: %s\n", path, err.text);
    json_decref(prompt);
    return -1;
  }
  mode = get_str(prompt, "mode");
  snprintf(mode_seen, mode_cap, "%s", mode);

  json_array_foreach(json_object_get(prompt, "testGroups"), gi, group) {
    json_int_t tg = json_integer_value(json_object_get(group, "tgId"));
    json_t *exp_group = find_by_id(json_object_get(expected, "testGroups"), "tgId", tg);
    json_t *exp_tests = json_object_get(exp_group, "tests");
    sg_mldsa_param p;
    size_t ti;
    json_t *test;
    int known = sg_mldsa_param_from_name(get_str(group, "parameterSet"), &p) == 0;

    json_array_foreach(json_object_get(group, "tests"), ti, test) {
      json_int_t tc = json_integer_value(json_object_get(test, "tcId"));
      json_t *exp = find_by_id(exp_tests, "tcId", tc);
      if (!known || exp == NULL) {
        record(&t, name, tg, tc, 0, "unknown parameter set or no expected result");
        continue;
      }
      if (strcmp(mode, "keyGen") == 0)
        run_keygen(name, p, tg, test, exp, &t);
      else if (strcmp(mode, "sigGen") == 0)
        run_siggen(name, p, group, test, exp, &t);
      else if (strcmp(mode, "sigVer") == 0)
        run_sigver(name, p, group, test, exp, &t);
      else
        record(&t, name, tg, tc, 0, "unknown mode");
    }
  }
  printf("%-28s %-7s %4u passed, %u failed\n", name, mode, t.passed, t.failed);
  total->passed += t.passed;
  total->failed += t.failed;
  json_decref(prompt);
  json_decref(expected);
  return t.passed + t.failed > 0 ? 0 : -1;
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
  char acvp[4096];
  char *names[64];
  size_t count = 0;
  int have_keygen = 0, have_siggen = 0, have_sigver = 0, bad = 0;
  tally total = { 0, 0 };
  DIR *d;
  struct dirent *e;

  if (argc != 2) {
    fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
    return 2;
  }
  if (snprintf(acvp, sizeof(acvp), "%s/acvp", argv[1]) >= (int)sizeof(acvp)) {
    fprintf(stderr, "FAIL: path too long\n");
    return 1;
  }
  d = opendir(acvp);
  if (d == NULL) {
    fprintf(stderr, "FAIL: cannot open %s\n", acvp);
    return 1;
  }
  while ((e = readdir(d)) != NULL && count < sizeof(names) / sizeof(names[0])) {
    if (strncmp(e->d_name, "ML-DSA-", 7) == 0)
      names[count++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, count, sizeof(names[0]), cmp_names);

  for (size_t i = 0; i < count; i++) {
    char mode[32] = "";
    if (run_folder(acvp, names[i], &total, mode, sizeof(mode)) != 0)
      bad = 1;
    have_keygen |= strcmp(mode, "keyGen") == 0;
    have_siggen |= strcmp(mode, "sigGen") == 0;
    have_sigver |= strcmp(mode, "sigVer") == 0;
    free(names[i]);
  }
  printf("implementation: %s\n", sg_mldsa_implementation());
  printf("ACVP: %u passed, %u failed\n", total.passed, total.failed);
  if (!have_keygen || !have_siggen || !have_sigver) {
    fprintf(stderr, "FAIL: keyGen, sigGen and sigVer vectors are all required\n");
    bad = 1;
  }
  return bad || total.failed > 0 || total.passed == 0 ? 1 : 0;
}
