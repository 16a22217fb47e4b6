/*
 * The ML-DSA algorithms of FIPS 204 §5-6 behind sg_mldsa.h: KeyGen_internal,
 * Sign_internal and Verify_internal, parameterised by a row of Table 1, plus the
 * external interfaces that build M' (pure, HashML-DSA, external mu). All working
 * storage is on the stack in fixed-size arrays for the largest parameter set; the
 * parts that hold secrets are gathered in one struct per operation and wiped on every
 * exit path. Signing branches only on the outcome of each rejection test, which the
 * loop structure of FIPS 204 Alg. 7 exposes anyway; each test itself scans all
 * coefficients without branching.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "mldsa_internal.h"

const uint8_t sg_mldsa_rnd_deterministic[SG_MLDSA_RND_BYTES] = { 0 };

static const mldsa_params param_table[] = {
  { SG_MLDSA_44, "ML-DSA-44", 4, 4, 2, 39, 80, 32, 78, 1 << 17, (MLDSA_Q - 1) / 88, 18, 6,
    3, SG_MLDSA_44_PK_BYTES, SG_MLDSA_44_SK_BYTES, SG_MLDSA_44_SIG_BYTES,
    SG_MLDSA_44_SPKI_BYTES },
  { SG_MLDSA_65, "ML-DSA-65", 6, 5, 4, 49, 55, 48, 196, 1 << 19, (MLDSA_Q - 1) / 32, 20,
    4, 4, SG_MLDSA_65_PK_BYTES, SG_MLDSA_65_SK_BYTES, SG_MLDSA_65_SIG_BYTES,
    SG_MLDSA_65_SPKI_BYTES },
  { SG_MLDSA_87, "ML-DSA-87", 8, 7, 2, 60, 75, 64, 120, 1 << 19, (MLDSA_Q - 1) / 32, 20,
    4, 3, SG_MLDSA_87_PK_BYTES, SG_MLDSA_87_SK_BYTES, SG_MLDSA_87_SIG_BYTES,
    SG_MLDSA_87_SPKI_BYTES },
};

const mldsa_params *sg_mldsa_params(sg_mldsa_param p)
{
  if ((unsigned)p >= sizeof(param_table) / sizeof(param_table[0]))
    return NULL;
  return &param_table[p];
}

size_t sg_mldsa_pk_bytes(sg_mldsa_param p)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  return prm ? prm->pk_bytes : 0;
}

size_t sg_mldsa_sk_bytes(sg_mldsa_param p)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  return prm ? prm->sk_bytes : 0;
}

size_t sg_mldsa_sig_bytes(sg_mldsa_param p)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  return prm ? prm->sig_bytes : 0;
}

size_t sg_mldsa_spki_bytes(sg_mldsa_param p)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  return prm ? prm->spki_bytes : 0;
}

const char *sg_mldsa_param_name(sg_mldsa_param p)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  return prm ? prm->name : NULL;
}

int sg_mldsa_param_from_name(const char *name, sg_mldsa_param *out)
{
  if (name == NULL || out == NULL)
    return SG_MLDSA_ERR_PARAM;
  for (size_t i = 0; i < sizeof(param_table) / sizeof(param_table[0]); i++) {
    if (strcmp(name, param_table[i].name) == 0) {
      *out = param_table[i].id;
      return SG_MLDSA_OK;
    }
  }
  return SG_MLDSA_ERR_PARAM;
}

static const struct {
  const char *name;
  sg_mldsa_hash_alg alg;
  size_t digest_bytes;
} hash_table[] = {
  { "SHA2-224", SG_MLDSA_PH_SHA2_224, 28 },
  { "SHA2-256", SG_MLDSA_PH_SHA2_256, 32 },
  { "SHA2-384", SG_MLDSA_PH_SHA2_384, 48 },
  { "SHA2-512", SG_MLDSA_PH_SHA2_512, 64 },
  { "SHA2-512/224", SG_MLDSA_PH_SHA2_512_224, 28 },
  { "SHA2-512/256", SG_MLDSA_PH_SHA2_512_256, 32 },
  { "SHA3-224", SG_MLDSA_PH_SHA3_224, 28 },
  { "SHA3-256", SG_MLDSA_PH_SHA3_256, 32 },
  { "SHA3-384", SG_MLDSA_PH_SHA3_384, 48 },
  { "SHA3-512", SG_MLDSA_PH_SHA3_512, 64 },
  { "SHAKE-128", SG_MLDSA_PH_SHAKE128, 32 },
  { "SHAKE-256", SG_MLDSA_PH_SHAKE256, 64 },
  { "SHAKE128", SG_MLDSA_PH_SHAKE128, 32 },
  { "SHAKE256", SG_MLDSA_PH_SHAKE256, 64 },
};

int sg_mldsa_hash_from_name(const char *name, sg_mldsa_hash_alg *out)
{
  if (name == NULL || out == NULL)
    return SG_MLDSA_ERR_PARAM;
  for (size_t i = 0; i < sizeof(hash_table) / sizeof(hash_table[0]); i++) {
    if (strcmp(name, hash_table[i].name) == 0) {
      *out = hash_table[i].alg;
      return SG_MLDSA_OK;
    }
  }
  return SG_MLDSA_ERR_PARAM;
}

size_t sg_mldsa_hash_digest_bytes(sg_mldsa_hash_alg alg)
{
  for (size_t i = 0; i < sizeof(hash_table) / sizeof(hash_table[0]); i++) {
    if (hash_table[i].alg == alg)
      return hash_table[i].digest_bytes;
  }
  return 0;
}

const char *sg_mldsa_implementation(void)
{
  return mldsa_have_avx2() ? "avx2" : "portable";
}

const char *sg_mldsa_err_str(int err)
{
  switch (err) {
  case SG_MLDSA_OK: return "success";
  case SG_MLDSA_ERR_PARAM: return "invalid ML-DSA argument";
  case SG_MLDSA_ERR_CONTEXT: return "ML-DSA context string longer than 255 bytes";
  case SG_MLDSA_ERR_LENGTH: return "wrong buffer or digest length";
  case SG_MLDSA_ERR_MALFORMED: return "malformed ML-DSA key encoding";
  case SG_MLDSA_ERR_BAD_SIGNATURE: return "ML-DSA signature verification failed";
  case SG_MLDSA_ERR_RANDOM: return "system random number generator failed";
  default: return "unknown ML-DSA error";
  }
}

/* Calling memset through a volatile pointer stops the compiler proving the store dead. */
static void *(*const volatile memset_no_elide)(void *, int, size_t) = memset;

void sg_mldsa_wipe(void *ptr, size_t len)
{
  if (len == 0)
    return;
  memset_no_elide(ptr, 0, len);
#if defined(__GNUC__)
  __asm__ __volatile__("" : : "r"(ptr) : "memory");
#endif
}

int sg_mldsa_random_seed(uint8_t seed[SG_MLDSA_SEED_BYTES])
{
  uint8_t buf[SG_MLDSA_SEED_BYTES];
  size_t got = 0;
  if (seed == NULL)
    return SG_MLDSA_ERR_PARAM;
  while (got < sizeof(buf)) {
    ssize_t n = getrandom(buf + got, sizeof(buf) - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      sg_mldsa_wipe(buf, sizeof(buf));
      return SG_MLDSA_ERR_RANDOM;
    }
    got += (size_t)n;
  }
  memcpy(seed, buf, sizeof(buf));
  sg_mldsa_wipe(buf, sizeof(buf));
  return SG_MLDSA_OK;
}

/*
 * Overwrite the stack area below the caller's frame, where the frames of the
 * functions it called (Keccak, samplers, packers) may have spilled secret registers.
 * Deeper than any call chain in this library, which keeps its big buffers in the
 * caller's frame.
 */
#define BURN_STACK_BYTES 8192

__attribute__((noinline)) static void burn_stack(void)
{
  uint8_t area[BURN_STACK_BYTES];
  sg_mldsa_wipe(area, sizeof(area));
}

/* Constant-time equality of two byte strings: 0 if equal, -1 otherwise. */
static int ct_compare(const void *a, const void *b, size_t len)
{
  const uint8_t *x = a, *y = b;
  uint32_t diff = 0;
  for (size_t i = 0; i < len; i++)
    diff |= (uint32_t)(x[i] ^ y[i]);
  return -(int)((diff + 0xffu) >> 8);
}

/* ---- M' and mu ---- */

/*
 * The message representative M' as a list of pieces, so the external interfaces never
 * copy the caller's message: pure 0 || |ctx| || ctx || M, HashML-DSA
 * 1 || |ctx| || ctx || OID || PH(M), internal M' as given, or an external mu.
 */
typedef struct {
  const uint8_t *mu; /* non-NULL: external mu, the pieces are unused */
  uint8_t head[2];
  size_t head_len;
  const uint8_t *ctx;
  size_t ctx_len;
  const uint8_t *oid;
  size_t oid_len;
  const uint8_t *msg;
  size_t msg_len;
} mprime;

/* mu = H(tr || M', 64) (Alg. 7 line 6, Alg. 8 line 7). */
static void compute_mu(uint8_t mu[64], const uint8_t tr[64], const mprime *m)
{
  sg_keccak h;
  if (m->mu != NULL) {
    memcpy(mu, m->mu, 64);
    return;
  }
  sg_keccak_init(&h, SG_KECCAK_SHAKE256);
  sg_keccak_absorb(&h, tr, 64);
  sg_keccak_absorb(&h, m->head, m->head_len);
  sg_keccak_absorb(&h, m->ctx, m->ctx_len);
  sg_keccak_absorb(&h, m->oid, m->oid_len);
  sg_keccak_absorb(&h, m->msg, m->msg_len);
  sg_keccak_squeeze(&h, mu, 64);
  sg_keccak_wipe(&h);
}

/* Fill m for the pure (prehash NULL) or HashML-DSA interface; checks the arguments. */
static int build_mprime(mprime *m, const uint8_t *ctx, size_t ctxlen, const uint8_t *msg,
                        size_t mlen, const uint8_t *oid, size_t oidlen)
{
  if (ctxlen > SG_MLDSA_CONTEXT_MAX)
    return SG_MLDSA_ERR_CONTEXT;
  if ((ctx == NULL && ctxlen != 0) || (msg == NULL && mlen != 0))
    return SG_MLDSA_ERR_PARAM;
  memset(m, 0, sizeof(*m));
  m->head[0] = oid != NULL ? 1 : 0;
  m->head[1] = (uint8_t)ctxlen;
  m->head_len = 2;
  m->ctx = ctx;
  m->ctx_len = ctxlen;
  m->oid = oid;
  m->oid_len = oidlen;
  m->msg = msg;
  m->msg_len = mlen;
  return SG_MLDSA_OK;
}

/* ---- KeyGen ---- */

/* Secrets of key generation, wiped as one block. */
typedef struct {
  uint8_t expanded[128]; /* rho || rho' || K */
  uint8_t tr[64];
  mldsa_poly s1[MLDSA_L_MAX];
  mldsa_poly s1_hat[MLDSA_L_MAX];
  mldsa_poly s2[MLDSA_K_MAX];
  mldsa_poly t0[MLDSA_K_MAX];
  mldsa_poly t;
} keygen_ws;

/* t = NTT^-1(A o NTT(s1)) + s2 split by Power2Round into t1, t0 (Alg. 6 lines 3-6). */
static void compute_t(const mldsa_params *prm, const uint8_t rho[32], keygen_ws *ws,
                      mldsa_poly *t1)
{
  mldsa_poly a_hat[MLDSA_K_MAX * MLDSA_L_MAX]; /* public */
  sg_mldsa_expand_a(a_hat, rho, prm);
  for (unsigned j = 0; j < prm->l; j++) {
    ws->s1_hat[j] = ws->s1[j];
    sg_mldsa_ntt(&ws->s1_hat[j]);
  }
  for (unsigned i = 0; i < prm->k; i++) {
    sg_mldsa_poly_dot(&ws->t, &a_hat[i * prm->l], ws->s1_hat, prm->l);
    sg_mldsa_invntt_mont(&ws->t);
    for (unsigned n = 0; n < MLDSA_N; n++)
      ws->t.c[n] += ws->s2[i].c[n];
    sg_mldsa_poly_freeze(&ws->t);
    sg_mldsa_poly_power2round(&t1[i], &ws->t0[i], &ws->t);
  }
}

/* KeyGen_internal (Alg. 6). */
static void keygen_internal(const mldsa_params *prm, const uint8_t xi[32], uint8_t *pk,
                            uint8_t *sk)
{
  keygen_ws ws;
  mldsa_poly t1[MLDSA_K_MAX];
  uint8_t input[34];
  const uint8_t *rho = ws.expanded, *rhoprime = ws.expanded + 32, *key = ws.expanded + 96;

  memcpy(input, xi, 32);
  input[32] = (uint8_t)prm->k;
  input[33] = (uint8_t)prm->l;
  sg_shake256(ws.expanded, sizeof(ws.expanded), input, sizeof(input));

  sg_mldsa_expand_s(ws.s1, ws.s2, rhoprime, prm);

  compute_t(prm, rho, &ws, t1);
  sg_mldsa_pk_encode(pk, prm, rho, t1);
  sg_shake256(ws.tr, sizeof(ws.tr), pk, prm->pk_bytes);
  sg_mldsa_sk_encode(sk, prm, rho, key, ws.tr, ws.s1, ws.s2, ws.t0);

  sg_mldsa_wipe(&ws, sizeof(ws));
  burn_stack();
  sg_mldsa_wipe(input, sizeof(input));
}

int sg_mldsa_keygen(sg_mldsa_param p, const uint8_t *seed, uint8_t *pk, uint8_t *sk)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  uint8_t fresh[SG_MLDSA_SEED_BYTES];
  int r;

  if (prm == NULL || pk == NULL || sk == NULL)
    return SG_MLDSA_ERR_PARAM;
  if (seed == NULL) {
    r = sg_mldsa_random_seed(fresh);
    if (r != SG_MLDSA_OK)
      return r;
    keygen_internal(prm, fresh, pk, sk);
    sg_mldsa_wipe(fresh, sizeof(fresh));
    return SG_MLDSA_OK;
  }
  keygen_internal(prm, seed, pk, sk);
  return SG_MLDSA_OK;
}

int sg_mldsa_pk_from_sk(sg_mldsa_param p, const uint8_t *sk, uint8_t *pk)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  keygen_ws ws;
  mldsa_poly t1[MLDSA_K_MAX];
  mldsa_poly t0_stored[MLDSA_K_MAX];
  uint8_t rho[32], key[32], tr[64];
  uint8_t pk_local[SG_MLDSA_PK_MAX];
  int bad;

  if (prm == NULL || sk == NULL || pk == NULL)
    return SG_MLDSA_ERR_PARAM;
  bad = sg_mldsa_sk_decode(prm, sk, rho, key, tr, ws.s1, ws.s2, t0_stored);
  compute_t(prm, rho, &ws, t1);
  sg_mldsa_pk_encode(pk_local, prm, rho, t1);
  sg_shake256(ws.tr, sizeof(ws.tr), pk_local, prm->pk_bytes);
  bad |= ct_compare(ws.t0, t0_stored, prm->k * sizeof(mldsa_poly));
  bad |= ct_compare(ws.tr, tr, sizeof(tr));
  if (bad == 0)
    memcpy(pk, pk_local, prm->pk_bytes);

  sg_mldsa_wipe(&ws, sizeof(ws));
  burn_stack();
  sg_mldsa_wipe(t0_stored, sizeof(t0_stored));
  sg_mldsa_wipe(key, sizeof(key));
  return bad == 0 ? SG_MLDSA_OK : SG_MLDSA_ERR_MALFORMED;
}

/* ---- Sign ---- */

/* Secrets of signing, wiped as one block. */
typedef struct {
  uint8_t rho[32];
  uint8_t key[32];
  uint8_t tr[64];
  uint8_t rnd[32];
  uint8_t mu[64];
  uint8_t rhopp[64];
  uint8_t ctilde[MLDSA_CTILDE_MAX];
  uint8_t w1_packed[MLDSA_K_MAX * 32 * 6];
  uint8_t h[MLDSA_K_MAX][MLDSA_N];
  mldsa_poly s1_hat[MLDSA_L_MAX];
  mldsa_poly s2_hat[MLDSA_K_MAX];
  mldsa_poly t0_hat[MLDSA_K_MAX];
  mldsa_poly y[MLDSA_L_MAX]; /* y, then z = y + <<c s1>> */
  mldsa_poly y_hat[MLDSA_L_MAX];
  mldsa_poly w[MLDSA_K_MAX]; /* w, then w - <<c s2>> */
  mldsa_poly c_hat;
  mldsa_poly tmp;
  mldsa_mask_stream mask;
} sign_ws;

/*
 * One candidate of the Sign_internal loop (Alg. 7 lines 11-31); the t-th call uses
 * counter kappa = t l, whose mask polynomials are the next l of ws->mask.
 * Returns 1 and leaves (c~, z, h) in ws when the candidate is accepted, 0 when one of
 * the four rejection tests fails.
 */
static int sign_attempt(const mldsa_params *prm, const mldsa_poly *a_hat, sign_ws *ws)
{
  size_t w1_len = 32 * (size_t)prm->w1_bits;
  unsigned hints = 0;
  int reject = 0;
  sg_keccak h;

  /* ExpandMask(rho'', kappa): the stream's next l polynomials. */
  sg_mldsa_mask_stream_take(&ws->mask, ws->y, prm->l, ws->rhopp, prm);
  for (unsigned r = 0; r < prm->l; r++) {
    ws->y_hat[r] = ws->y[r];
    sg_mldsa_ntt(&ws->y_hat[r]);
  }

  /* w = NTT^-1(A o NTT(y)), w1 = HighBits(w), c~ = H(mu || w1Encode(w1), lambda/4). */
  for (unsigned i = 0; i < prm->k; i++) {
    sg_mldsa_poly_dot(&ws->w[i], &a_hat[i * prm->l], ws->y_hat, prm->l);
    sg_mldsa_invntt_mont(&ws->w[i]);
    sg_mldsa_poly_freeze(&ws->w[i]);
    ws->tmp = ws->w[i];
    sg_mldsa_poly_highbits(&ws->tmp, prm->gamma2);
    sg_mldsa_w1_encode(ws->w1_packed + i * w1_len, &ws->tmp, prm);
  }
  sg_keccak_init(&h, SG_KECCAK_SHAKE256);
  sg_keccak_absorb(&h, ws->mu, sizeof(ws->mu));
  sg_keccak_absorb(&h, ws->w1_packed, prm->k * w1_len);
  sg_keccak_squeeze(&h, ws->ctilde, prm->ctilde_bytes);
  sg_keccak_wipe(&h);

  sg_mldsa_sample_in_ball(&ws->c_hat, ws->ctilde, prm->ctilde_bytes, prm->tau);
  sg_mldsa_ntt(&ws->c_hat);

  /* z = y + <<c s1>>; reject if ||z|| >= gamma1 - beta. */
  for (unsigned r = 0; r < prm->l; r++) {
    sg_mldsa_poly_mul(&ws->tmp, &ws->c_hat, &ws->s1_hat[r]);
    sg_mldsa_invntt_mont(&ws->tmp);
    sg_mldsa_poly_center(&ws->tmp);
    for (unsigned n = 0; n < MLDSA_N; n++)
      ws->y[r].c[n] += ws->tmp.c[n];
    reject |= sg_mldsa_poly_exceeds(&ws->y[r], prm->gamma1 - prm->beta);
  }
  if (reject)
    return 0;

  /* r0 = LowBits(w - <<c s2>>); reject if ||r0|| >= gamma2 - beta. */
  for (unsigned i = 0; i < prm->k; i++) {
    sg_mldsa_poly_mul(&ws->tmp, &ws->c_hat, &ws->s2_hat[i]);
    sg_mldsa_invntt_mont(&ws->tmp);
    for (unsigned n = 0; n < MLDSA_N; n++)
      ws->w[i].c[n] -= ws->tmp.c[n];
    sg_mldsa_poly_freeze(&ws->w[i]);
    reject |= sg_mldsa_poly_lowbits_exceed(&ws->w[i], prm->gamma2,
                                           prm->gamma2 - prm->beta);
  }
  if (reject)
    return 0;

  /* h = MakeHint(-<<c t0>>, w - <<c s2>> + <<c t0>>); reject on ||c t0|| >= gamma2
   * or more than omega hints. */
  for (unsigned i = 0; i < prm->k; i++) {
    sg_mldsa_poly_mul(&ws->tmp, &ws->c_hat, &ws->t0_hat[i]);
    sg_mldsa_invntt_mont(&ws->tmp);
    sg_mldsa_poly_center(&ws->tmp);
    reject |= sg_mldsa_poly_exceeds(&ws->tmp, prm->gamma2);
    hints += sg_mldsa_poly_make_hint(ws->h[i], &ws->w[i], &ws->tmp, prm->gamma2);
  }
  if (reject || hints > prm->omega)
    return 0;
  return 1;
}

/*
 * Sign_internal (Alg. 7) from the encoded private key, with M' (or mu) described by m.
 * rnd_in NULL draws fresh randomness.
 */
static int sign_internal(const mldsa_params *prm, const uint8_t *sk, const mprime *m,
                         const uint8_t *rnd_in, uint8_t *sig)
{
  sign_ws ws;
  mldsa_poly a_hat[MLDSA_K_MAX * MLDSA_L_MAX]; /* public */
  int r = SG_MLDSA_ERR_MALFORMED;

  if (sg_mldsa_sk_decode(prm, sk, ws.rho, ws.key, ws.tr, ws.s1_hat, ws.s2_hat, ws.t0_hat) != 0)
    goto out;
  if (rnd_in == NULL) {
    r = sg_mldsa_random_seed(ws.rnd);
    if (r != SG_MLDSA_OK)
      goto out;
  } else {
    memcpy(ws.rnd, rnd_in, sizeof(ws.rnd));
  }

  for (unsigned j = 0; j < prm->l; j++)
    sg_mldsa_ntt(&ws.s1_hat[j]);
  for (unsigned i = 0; i < prm->k; i++) {
    sg_mldsa_ntt(&ws.s2_hat[i]);
    sg_mldsa_ntt(&ws.t0_hat[i]);
  }
  sg_mldsa_expand_a(a_hat, ws.rho, prm);

  compute_mu(ws.mu, ws.tr, m);
  {
    /* rho'' = H(K || rnd || mu, 64). */
    sg_keccak h;
    sg_keccak_init(&h, SG_KECCAK_SHAKE256);
    sg_keccak_absorb(&h, ws.key, sizeof(ws.key));
    sg_keccak_absorb(&h, ws.rnd, sizeof(ws.rnd));
    sg_keccak_absorb(&h, ws.mu, sizeof(ws.mu));
    sg_keccak_squeeze(&h, ws.rhopp, sizeof(ws.rhopp));
    sg_keccak_wipe(&h);
  }

  sg_mldsa_mask_stream_init(&ws.mask);
  while (!sign_attempt(prm, a_hat, &ws))
    ;
  sg_mldsa_sig_encode(sig, prm, ws.ctilde, ws.y, (const uint8_t(*)[MLDSA_N])ws.h);
  r = SG_MLDSA_OK;

out:
  sg_mldsa_wipe(&ws, sizeof(ws));
  burn_stack();
  return r;
}

static int sign_checked(sg_mldsa_param p, const uint8_t *sk, const mprime *m,
                        const uint8_t *rnd, uint8_t *sig)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  if (prm == NULL || sk == NULL || sig == NULL)
    return SG_MLDSA_ERR_PARAM;
  return sign_internal(prm, sk, m, rnd, sig);
}

int sg_mldsa_sign(sg_mldsa_param p, const uint8_t *sk, const uint8_t *msg, size_t mlen,
                  const uint8_t *ctx, size_t ctxlen, const uint8_t *rnd, uint8_t *sig)
{
  mprime m;
  int r = build_mprime(&m, ctx, ctxlen, msg, mlen, NULL, 0);
  if (r != SG_MLDSA_OK)
    return r;
  return sign_checked(p, sk, &m, rnd, sig);
}

/* Checks ph against ph_alg and builds the HashML-DSA M'. */
static int build_prehash(mprime *m, sg_mldsa_hash_alg ph_alg, const uint8_t *ph,
                         size_t phlen, const uint8_t *ctx, size_t ctxlen)
{
  size_t oid_len;
  const uint8_t *oid = sg_mldsa_hash_oid(ph_alg, &oid_len);
  if (oid == NULL || ph == NULL)
    return SG_MLDSA_ERR_PARAM;
  if (phlen != sg_mldsa_hash_digest_bytes(ph_alg))
    return SG_MLDSA_ERR_LENGTH;
  return build_mprime(m, ctx, ctxlen, ph, phlen, oid, oid_len);
}

int sg_mldsa_sign_prehash(sg_mldsa_param p, const uint8_t *sk, sg_mldsa_hash_alg ph_alg,
                          const uint8_t *ph, size_t phlen, const uint8_t *ctx,
                          size_t ctxlen, const uint8_t *rnd, uint8_t *sig)
{
  mprime m;
  int r = build_prehash(&m, ph_alg, ph, phlen, ctx, ctxlen);
  if (r != SG_MLDSA_OK)
    return r;
  return sign_checked(p, sk, &m, rnd, sig);
}

int sg_mldsa_sign_internal(sg_mldsa_param p, const uint8_t *sk, const uint8_t *mprime_in,
                           size_t mlen, const uint8_t *rnd, uint8_t *sig)
{
  mprime m;
  if (mprime_in == NULL && mlen != 0)
    return SG_MLDSA_ERR_PARAM;
  memset(&m, 0, sizeof(m));
  m.msg = mprime_in;
  m.msg_len = mlen;
  return sign_checked(p, sk, &m, rnd, sig);
}

int sg_mldsa_sign_mu(sg_mldsa_param p, const uint8_t *sk, const uint8_t mu[SG_MLDSA_MU_BYTES],
                     const uint8_t *rnd, uint8_t *sig)
{
  mprime m;
  if (mu == NULL)
    return SG_MLDSA_ERR_PARAM;
  memset(&m, 0, sizeof(m));
  m.mu = mu;
  return sign_checked(p, sk, &m, rnd, sig);
}

int sg_mldsa_compute_mu(sg_mldsa_param p, const uint8_t *pk, const uint8_t *msg,
                        size_t mlen, const uint8_t *ctx, size_t ctxlen,
                        uint8_t mu[SG_MLDSA_MU_BYTES])
{
  const mldsa_params *prm = sg_mldsa_params(p);
  uint8_t tr[64];
  mprime m;
  int r;
  if (prm == NULL || pk == NULL || mu == NULL)
    return SG_MLDSA_ERR_PARAM;
  r = build_mprime(&m, ctx, ctxlen, msg, mlen, NULL, 0);
  if (r != SG_MLDSA_OK)
    return r;
  sg_shake256(tr, sizeof(tr), pk, prm->pk_bytes);
  compute_mu(mu, tr, &m);
  return SG_MLDSA_OK;
}

/* ---- Verify ---- */

/* Verify_internal (Alg. 8). Everything here is public: early exits are fine. */
static int verify_internal(const mldsa_params *prm, const uint8_t *pk, const mprime *m,
                           const uint8_t *sig, size_t siglen)
{
  uint8_t ctilde[MLDSA_CTILDE_MAX], ctilde2[MLDSA_CTILDE_MAX];
  uint8_t rho[32], tr[64], mu[64];
  uint8_t h[MLDSA_K_MAX][MLDSA_N];
  uint8_t w1_packed[MLDSA_K_MAX * 32 * 6];
  mldsa_poly a_hat[MLDSA_K_MAX * MLDSA_L_MAX];
  mldsa_poly z_hat[MLDSA_L_MAX];
  mldsa_poly t1[MLDSA_K_MAX];
  mldsa_poly c_hat, w, ct1;
  size_t w1_len = 32 * (size_t)prm->w1_bits;
  sg_keccak xof;

  if (sig == NULL || siglen != prm->sig_bytes)
    return SG_MLDSA_ERR_BAD_SIGNATURE;
  if (sg_mldsa_sig_decode(prm, sig, ctilde, z_hat, h) != 0)
    return SG_MLDSA_ERR_BAD_SIGNATURE;
  for (unsigned j = 0; j < prm->l; j++) {
    if (sg_mldsa_poly_exceeds(&z_hat[j], prm->gamma1 - prm->beta))
      return SG_MLDSA_ERR_BAD_SIGNATURE;
  }

  sg_mldsa_pk_decode(prm, pk, rho, t1);
  sg_shake256(tr, sizeof(tr), pk, prm->pk_bytes);
  compute_mu(mu, tr, m);

  sg_mldsa_sample_in_ball(&c_hat, ctilde, prm->ctilde_bytes, prm->tau);
  sg_mldsa_ntt(&c_hat);
  for (unsigned j = 0; j < prm->l; j++)
    sg_mldsa_ntt(&z_hat[j]);

  /* w'_approx = NTT^-1(A o NTT(z) - NTT(c) o NTT(t1 2^d)), then UseHint. */
  sg_mldsa_expand_a(a_hat, rho, prm);
  for (unsigned i = 0; i < prm->k; i++) {
    sg_mldsa_poly_dot(&w, &a_hat[i * prm->l], z_hat, prm->l);
    for (unsigned n = 0; n < MLDSA_N; n++)
      t1[i].c[n] <<= MLDSA_D;
    sg_mldsa_ntt(&t1[i]);
    sg_mldsa_poly_mul(&ct1, &c_hat, &t1[i]);
    for (unsigned n = 0; n < MLDSA_N; n++)
      w.c[n] = mldsa_reduce32(w.c[n] - ct1.c[n]); /* the inverse NTT wants |c| < q */
    sg_mldsa_invntt_mont(&w);
    sg_mldsa_poly_freeze(&w);
    sg_mldsa_poly_use_hint(&w, h[i], prm->gamma2);
    sg_mldsa_w1_encode(w1_packed + i * w1_len, &w, prm);
  }

  sg_keccak_init(&xof, SG_KECCAK_SHAKE256);
  sg_keccak_absorb(&xof, mu, sizeof(mu));
  sg_keccak_absorb(&xof, w1_packed, prm->k * w1_len);
  sg_keccak_squeeze(&xof, ctilde2, prm->ctilde_bytes);

  if (ct_compare(ctilde, ctilde2, prm->ctilde_bytes) != 0)
    return SG_MLDSA_ERR_BAD_SIGNATURE;
  return SG_MLDSA_OK;
}

static int verify_checked(sg_mldsa_param p, const uint8_t *pk, const mprime *m,
                          const uint8_t *sig, size_t siglen)
{
  const mldsa_params *prm = sg_mldsa_params(p);
  if (prm == NULL || pk == NULL)
    return SG_MLDSA_ERR_PARAM;
  return verify_internal(prm, pk, m, sig, siglen);
}

int sg_mldsa_verify(sg_mldsa_param p, const uint8_t *pk, const uint8_t *msg, size_t mlen,
                    const uint8_t *ctx, size_t ctxlen, const uint8_t *sig, size_t siglen)
{
  mprime m;
  int r = build_mprime(&m, ctx, ctxlen, msg, mlen, NULL, 0);
  if (r != SG_MLDSA_OK)
    return r;
  return verify_checked(p, pk, &m, sig, siglen);
}

int sg_mldsa_verify_prehash(sg_mldsa_param p, const uint8_t *pk, sg_mldsa_hash_alg ph_alg,
                            const uint8_t *ph, size_t phlen, const uint8_t *ctx,
                            size_t ctxlen, const uint8_t *sig, size_t siglen)
{
  mprime m;
  int r = build_prehash(&m, ph_alg, ph, phlen, ctx, ctxlen);
  if (r != SG_MLDSA_OK)
    return r;
  return verify_checked(p, pk, &m, sig, siglen);
}

int sg_mldsa_verify_internal(sg_mldsa_param p, const uint8_t *pk, const uint8_t *mprime_in,
                             size_t mlen, const uint8_t *sig, size_t siglen)
{
  mprime m;
  if (mprime_in == NULL && mlen != 0)
    return SG_MLDSA_ERR_PARAM;
  memset(&m, 0, sizeof(m));
  m.msg = mprime_in;
  m.msg_len = mlen;
  return verify_checked(p, pk, &m, sig, siglen);
}

int sg_mldsa_verify_mu(sg_mldsa_param p, const uint8_t *pk, const uint8_t mu[SG_MLDSA_MU_BYTES],
                       const uint8_t *sig, size_t siglen)
{
  mprime m;
  if (mu == NULL)
    return SG_MLDSA_ERR_PARAM;
  memset(&m, 0, sizeof(m));
  m.mu = mu;
  return verify_checked(p, pk, &m, sig, siglen);
}
