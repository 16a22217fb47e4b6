/*
 * test_pq.c - ML-DSA through the sg_crypto contract.
 *
 * The ML-DSA library has its own ACVP test; this one checks the wiring:
 * that custody stores the seed and import expands it to the same key (NIST
 * keyGen vectors: seed -> public key), that HashML-DSA binds the client's
 * hash (NIST sigVer pre-hash vectors, valid and invalid, through
 * sg_verify_digest), that contexts and schemes are kept apart, and that an
 * independent implementation (tests/tools/mldsa-verify.mjs on
 * @noble/post-quantum, installed by the test command) accepts our pure ML-DSA and
 * HashML-DSA signatures, our SPKI PEM and our seeds, and refuses altered
 * ones.  The composite is checked against the LAMPS draft's vector and, half
 * by half, against the openssl command line and mldsa-verify.mjs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "sg_crypto.h"
#include "sg_b64.h"
#include "sg_secret.h"
#include "test_util.h"

#define PK_MAX 2592
#define SIG_MAX 4627

static const struct {
	sg_key_alg alg;
	const char *set;
	size_t spki_len, sig_len;
} sets[] = {
	{ SG_KEY_MLDSA_44, "44", 1334, 2420 },
	{ SG_KEY_MLDSA_65, "65", 1974, 3309 },
	{ SG_KEY_MLDSA_87, "87", 2614, 4627 },
};
#define NSETS (sizeof(sets) / sizeof(sets[0]))

static const sg_hash_alg pq_hashes[] = {
	SG_HASH_SHA256, SG_HASH_SHA384, SG_HASH_SHA512,
	SG_HASH_SHA3_256, SG_HASH_SHA3_384, SG_HASH_SHA3_512,
};
#define NPQHASHES (sizeof(pq_hashes) / sizeof(pq_hashes[0]))

/* SPKI header of ML-DSA-65 (id-ml-dsa-65, absent parameters), before the 1952-byte key. */
static const uint8_t spki65_prefix[22] = {
	0x30, 0x82, 0x07, 0xb2, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x03, 0x12, 0x03, 0x82, 0x07, 0xa1, 0x00,
};

static sg_sign_params
pq_params(sg_hash_alg h, sg_sig_scheme s, const uint8_t *ctx, size_t ctx_len)
{
	sg_sign_params p;
	memset(&p, 0, sizeof(p));
	p.hash = h;
	p.scheme = s;
	p.format = SG_FORMAT_DEFAULT;
	p.pss_salt_len = -1;
	p.context = ctx;
	p.context_len = ctx_len;
	return p;
}

static size_t
digest_of(sg_hash_alg h, const void *msg, size_t len, uint8_t out[SG_MAX_DIGEST])
{
	unsigned int n = 0;
	if (EVP_Digest(msg, len, out, &n, sg_hash_md(h), NULL) != 1)
		return 0;
	return n;
}

/*
 * The independent check, with mldsa-verify.mjs (see its header), of the files
 * the caller wrote in tmpdir: PUB (the public key), seed.bin, digest.bin (what
 * was signed: the message of pure ML-DSA, PH(M) otherwise), ctx.bin,
 * ctx_bad.bin (another context), sig.bin and sig_flip.bin (one bit flipped).
 * MODE is "pure", "hash" (with HASH, e.g. "SHA-512") or "composite".  0 when
 * all agree; otherwise the number of the first check that did not:
 *   1. sig.bin verifies with ctx.bin, and seed.bin derives PUB,
 *   2. sig_flip.bin does not verify,
 *   3. sig.bin does not verify with ctx_bad.bin,
 * plus 10 times the verifier's exit status (2: it could not read its input).
 */
static int
independent_check(const char *mode, const char *hash, const char *pub)
{
	const char *good[] = { SG_MLDSA_VERIFY, "--mode", mode, "--context-file", "ctx.bin",
	    "--seed", "seed.bin", pub, "digest.bin", "sig.bin", NULL, NULL, NULL };
	const char *flip[] = { SG_MLDSA_VERIFY, "--mode", mode, "--context-file", "ctx.bin",
	    pub, "digest.bin", "sig_flip.bin", NULL, NULL, NULL };
	const char *bad_ctx[] = { SG_MLDSA_VERIFY, "--mode", mode, "--context-file",
	    "ctx_bad.bin", pub, "digest.bin", "sig.bin", NULL, NULL, NULL };
	int rc;

	if (hash != NULL) {
		good[10] = flip[8] = bad_ctx[8] = "--hash";
		good[11] = flip[9] = bad_ctx[9] = hash;
	}
	if ((rc = test_run(SG_NODE, good)) != 0)
		return 1 + 10 * rc;
	if ((rc = test_run(SG_NODE, flip)) != 1)
		return 2 + 10 * rc;
	if ((rc = test_run(SG_NODE, bad_ctx)) != 1)
		return 3 + 10 * rc;
	return 0;
}

/* Writes ctx.bin (CTX) and ctx_bad.bin (CTX with one byte more); 1 on success. */
static int
write_contexts(const uint8_t *ctx, size_t ctx_len)
{
	uint8_t bad[256] = { 0 };

	if (ctx_len > 254)
		return 0;
	if (ctx_len > 0)
		memcpy(bad, ctx, ctx_len);
	return test_write("ctx.bin", ctx, ctx_len) && test_write("ctx_bad.bin", bad, ctx_len + 1);
}

static void
test_set(size_t si)
{
	sg_key_alg alg = sets[si].alg;
	const char *set = sets[si].set;
	sg_privkey *k = NULL, *back = NULL, *x = NULL;
	uint8_t *seed = NULL, *spki = NULL, *spki2 = NULL, *sig = NULL;
	size_t seed_len = 0, spki_len = 0, spki2_len = 0, siglen = 0;
	char *pem = NULL;
	uint8_t digest[SG_MAX_DIGEST], ctx[200];
	size_t dlen;
	sg_sign_params p;

	CHECK_RC(sg_privkey_generate(alg, &k), SG_OK);
	if (k == NULL)
		return;
	CHECK(sg_privkey_alg(k) == alg);
	CHECK(sg_privkey_evp(k) == NULL);
	CHECK_RC(sg_privkey_public_spki(k, &spki, &spki_len), SG_OK);
	CHECK_CTX(spki_len == sets[si].spki_len, "ML-DSA-%s SPKI is %zu bytes", set, spki_len);
	CHECK_RC(sg_spki_to_pem(spki, spki_len, &pem), SG_OK);

	/* Custody holds the seed; import gives back the same key. */
	CHECK_RC(sg_privkey_export(k, &seed, &seed_len), SG_OK);
	CHECK(seed_len == 32);
	CHECK_RC(sg_privkey_import(alg, seed, seed_len, &back), SG_OK);
	if (back != NULL) {
		CHECK_RC(sg_privkey_public_spki(back, &spki2, &spki2_len), SG_OK);
		CHECK(spki2_len == spki_len && spki2 != NULL && memcmp(spki, spki2, spki_len) == 0);
	}
	CHECK_RC(sg_privkey_import(alg, seed, 31, &x), SG_ERR_BAD_ENCODING);
	uint8_t seed33[33] = { 0 };
	CHECK_RC(sg_privkey_import(alg, seed33, 33, &x), SG_ERR_BAD_ENCODING);
	CHECK(x == NULL);

	/* HashML-DSA with every hash FIPS 204 and SPEC §2 both allow. */
	for (size_t i = 0; i < NPQHASHES; i++) {
		sg_hash_alg h = pq_hashes[i];
		dlen = digest_of(h, "release.tar.gz", 14, digest);
		p = pq_params(h, SG_SCHEME_NONE, NULL, 0);
		sig = NULL;
		CHECK_RC(sg_sign_digest(back != NULL ? back : k, &p, digest, dlen, &sig, &siglen),
		    SG_OK);
		if (sig == NULL)
			continue;
		CHECK(siglen == sets[si].sig_len);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen), SG_OK);
		sig[siglen / 3] ^= 0x04;
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		sig[siglen / 3] ^= 0x04;
		digest[dlen - 1] ^= 1;
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		digest[dlen - 1] ^= 1;
		/* The hash OID is bound: same bytes under a hash of the same length fail. */
		sg_sign_params q = p;
		q.hash = h == SG_HASH_SHA256 ? SG_HASH_SHA3_256 : h == SG_HASH_SHA3_256 ?
		    SG_HASH_SHA256 : h == SG_HASH_SHA384 ? SG_HASH_SHA3_384 :
		    h == SG_HASH_SHA3_384 ? SG_HASH_SHA384 : h == SG_HASH_SHA512 ?
		    SG_HASH_SHA3_512 : SG_HASH_SHA512;
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		/* Nor does the pure scheme accept it. */
		q = pq_params(h, SG_SCHEME_MLDSA, NULL, 0);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		free(sig);
	}

	/* Contexts are bound. */
	for (size_t i = 0; i < sizeof(ctx); i++)
		ctx[i] = (uint8_t)(i * 7);
	dlen = digest_of(SG_HASH_SHA512, "x", 1, digest);
	p = pq_params(SG_HASH_SHA512, SG_SCHEME_HASH_MLDSA, ctx, sizeof(ctx));
	sig = NULL;
	CHECK_RC(sg_sign_digest(k, &p, digest, dlen, &sig, &siglen), SG_OK);
	if (sig != NULL) {
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen), SG_OK);
		sg_sign_params q = pq_params(SG_HASH_SHA512, SG_SCHEME_HASH_MLDSA, NULL, 0);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		q = pq_params(SG_HASH_SHA512, SG_SCHEME_HASH_MLDSA, ctx, sizeof(ctx) - 1);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		/* HashML-DSA: M' = 0x01 || len(ctx) || ctx || OID(SHA-512) || digest. */
		CHECK(pem != NULL && test_write("pub.pem", pem, strlen(pem)));
		CHECK(test_write("seed.bin", seed, seed_len));
		CHECK(test_write("digest.bin", digest, dlen));
		CHECK(write_contexts(ctx, sizeof(ctx)));
		CHECK(test_write("sig.bin", sig, siglen));
		sig[siglen / 2] ^= 0x40;
		CHECK(test_write("sig_flip.bin", sig, siglen));
		sig[siglen / 2] ^= 0x40;
		int rc = independent_check("hash", "SHA-512", "pub.pem");
		CHECK_CTX(rc == 0, "ML-DSA-%s: HashML-DSA check %d of mldsa-verify.mjs failed", set,
		    rc);
		free(sig);
	}

	/* Pure ML-DSA over the digest bytes, checked by an independent implementation. */
	dlen = digest_of(SG_HASH_SHA256, "artifact", 8, digest);
	p = pq_params(SG_HASH_SHA256, SG_SCHEME_MLDSA, ctx, 13);
	sig = NULL;
	CHECK_RC(sg_sign_digest(k, &p, digest, dlen, &sig, &siglen), SG_OK);
	if (sig != NULL) {
		CHECK(siglen == sets[si].sig_len);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen), SG_OK);
		sg_sign_params q = pq_params(SG_HASH_SHA256, SG_SCHEME_HASH_MLDSA, ctx, 13);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		CHECK(pem != NULL && test_write("pub.pem", pem, strlen(pem)));
		CHECK(test_write("seed.bin", seed, seed_len));
		CHECK(test_write("digest.bin", digest, dlen));
		CHECK(write_contexts(ctx, 13));
		CHECK(test_write("sig.bin", sig, siglen));
		sig[siglen / 2] ^= 0x40;
		CHECK(test_write("sig_flip.bin", sig, siglen));
		sig[siglen / 2] ^= 0x40;
		int rc = independent_check("pure", NULL, "pub.pem");
		CHECK_CTX(rc == 0, "ML-DSA-%s: pure ML-DSA check %d of mldsa-verify.mjs failed", set,
		    rc);
		free(sig);
	}

	/* The wrong parameter set, a broken SPKI, a hash HashML-DSA cannot bind. */
	p = pq_params(SG_HASH_SHA256, SG_SCHEME_HASH_MLDSA, NULL, 0);
	dlen = digest_of(SG_HASH_SHA256, "y", 1, digest);
	uint8_t fake[8] = { 0 };
	CHECK_RC(sg_verify_digest(sets[(si + 1) % NSETS].alg, spki, spki_len, &p, digest, dlen,
	    fake, sizeof(fake)), SG_ERR_ALGORITHM_MISMATCH);
	CHECK_RC(sg_verify_digest(alg, spki, spki_len - 1, &p, digest, dlen, fake, sizeof(fake)),
	    SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, fake, sizeof(fake)),
	    SG_ERR_BAD_SIGNATURE);
	p = pq_params(SG_HASH_SHA1, SG_SCHEME_HASH_MLDSA, NULL, 0);
	dlen = digest_of(SG_HASH_SHA1, "y", 1, digest);
	sig = NULL;
	CHECK_RC(sg_sign_digest(k, &p, digest, dlen, &sig, &siglen), SG_ERR_UNSUPPORTED_HASH);
	CHECK(sig == NULL);
	p = pq_params(SG_HASH_SHA256, SG_SCHEME_ECDSA, NULL, 0);
	dlen = digest_of(SG_HASH_SHA256, "y", 1, digest);
	CHECK_RC(sg_sign_digest(k, &p, digest, dlen, &sig, &siglen), SG_ERR_ALGORITHM_MISMATCH);
	p = pq_params(SG_HASH_SHA256, SG_SCHEME_MLDSA, NULL, 0);
	CHECK_RC(sg_sign_digest(k, &p, digest, dlen - 1, &sig, &siglen), SG_ERR_DIGEST_LENGTH);

	sg_privkey_free(k);
	sg_privkey_free(back);
	sg_free_secret(seed, seed_len);
	free(spki);
	free(spki2);
	free(pem);
}

/* ---- NIST vectors ---- */

static json_t *
load_json(const char *dir, const char *file)
{
	char path[1024];
	json_error_t err;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((j = json_load_file(path, 0, &err)) == NULL)
		fprintf(stderr, "%s: %s\n", path, err.text);
	return j;
}

static const char *
str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* keyGen: every seed, imported as custody would, yields NIST's public key. */
static void
test_acvp_keygen(const char *dir)
{
	json_t *prompt = load_json(dir, "acvp/ML-DSA-keyGen-FIPS204/prompt.json");
	json_t *expect = load_json(dir, "acvp/ML-DSA-keyGen-FIPS204/expectedResults.json");
	size_t gi, ti, ran = 0;
	json_t *g, *t;

	CHECK(prompt != NULL && expect != NULL);
	if (prompt == NULL || expect == NULL)
		goto out;
	json_array_foreach(json_object_get(prompt, "testGroups"), gi, g) {
		if (strcmp(str_of(g, "parameterSet") ? str_of(g, "parameterSet") : "", "ML-DSA-65"))
			continue;
		json_t *eg = NULL, *egi;
		size_t k;
		json_array_foreach(json_object_get(expect, "testGroups"), k, egi) {
			if (json_integer_value(json_object_get(egi, "tgId")) ==
			    json_integer_value(json_object_get(g, "tgId")))
				eg = egi;
		}
		CHECK(eg != NULL);
		if (eg == NULL)
			continue;
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			json_int_t tc = json_integer_value(json_object_get(t, "tcId"));
			json_t *et = NULL, *eti;
			json_array_foreach(json_object_get(eg, "tests"), k, eti) {
				if (json_integer_value(json_object_get(eti, "tcId")) == tc)
					et = eti;
			}
			uint8_t seed[32], pk[PK_MAX];
			size_t seed_len = str_of(t, "seed") ? test_unhex(str_of(t, "seed"), seed, 32) : 0;
			size_t pk_len = et && str_of(et, "pk") ? test_unhex(str_of(et, "pk"), pk, PK_MAX) : 0;
			sg_privkey *key = NULL;
			uint8_t *spki = NULL;
			size_t spki_len = 0;
			CHECK_CTX(seed_len == 32 && pk_len == 1952, "keyGen tcId %lld unreadable",
			    (long long)tc);
			CHECK_RC(sg_privkey_import(SG_KEY_MLDSA_65, seed, seed_len, &key), SG_OK);
			if (key != NULL)
				CHECK_RC(sg_privkey_public_spki(key, &spki, &spki_len), SG_OK);
			CHECK_CTX(spki != NULL && spki_len == 22 + pk_len &&
			    memcmp(spki, spki65_prefix, 22) == 0 && memcmp(spki + 22, pk, pk_len) == 0,
			    "keyGen tcId %lld: another public key", (long long)tc);
			free(spki);
			sg_privkey_free(key);
			sg_wipe(seed, sizeof(seed));
			ran++;
		}
	}
	CHECK_CTX(ran == 25, "ran %zu keyGen cases, want 25", ran);
out:
	json_decref(prompt);
	json_decref(expect);
}

/*
 * sigVer, pre-hash group: each case with a hash Signet offers goes through
 * sg_verify_digest with PH(message) as the client's digest, and must come
 * out as NIST says (valid, or refused as a bad signature).
 */
static void
test_acvp_sigver(const char *dir)
{
	json_t *proj = load_json(dir, "acvp/ML-DSA-sigVer-FIPS204/internalProjection.json");
	size_t gi, ti, ran = 0, valid = 0;
	json_t *g, *t;
	uint8_t *pk = malloc(PK_MAX + 22), *sig = malloc(SIG_MAX + 1), *msg = malloc(16384);
	uint8_t ctx[256], digest[SG_MAX_DIGEST];

	CHECK(proj != NULL && pk != NULL && sig != NULL && msg != NULL);
	if (proj == NULL || pk == NULL || sig == NULL || msg == NULL)
		goto out;
	json_array_foreach(json_object_get(proj, "testGroups"), gi, g) {
		const char *ph = str_of(g, "preHash");
		if (ph == NULL || strcmp(ph, "preHash") != 0 ||
		    strcmp(str_of(g, "parameterSet") ? str_of(g, "parameterSet") : "", "ML-DSA-65"))
			continue;
		json_array_foreach(json_object_get(g, "tests"), ti, t) {
			const char *hn = str_of(t, "hashAlg");
			sg_hash_alg h = SG_HASH_NONE;
			if (hn == NULL)
				continue;
			if (strcmp(hn, "SHA2-256") == 0) h = SG_HASH_SHA256;
			else if (strcmp(hn, "SHA2-384") == 0) h = SG_HASH_SHA384;
			else if (strcmp(hn, "SHA2-512") == 0) h = SG_HASH_SHA512;
			else if (strcmp(hn, "SHA3-256") == 0) h = SG_HASH_SHA3_256;
			else if (strcmp(hn, "SHA3-384") == 0) h = SG_HASH_SHA3_384;
			else if (strcmp(hn, "SHA3-512") == 0) h = SG_HASH_SHA3_512;
			if (h == SG_HASH_NONE)
				continue;  /* SHA-224, SHAKE...: not Signet hashes */
			json_int_t tc = json_integer_value(json_object_get(t, "tcId"));
			int passed = json_is_true(json_object_get(t, "testPassed"));
			const char *mhex = str_of(t, "message"), *chex = str_of(t, "context");
			memcpy(pk, spki65_prefix, 22);
			size_t pk_len = test_unhex(str_of(t, "pk") ? str_of(t, "pk") : "", pk + 22, PK_MAX);
			size_t sig_len = test_unhex(str_of(t, "signature") ? str_of(t, "signature") : "",
			    sig, SIG_MAX + 1);
			size_t msg_len = mhex ? test_unhex(mhex, msg, 16384) : 0;
			size_t ctx_len = chex ? test_unhex(chex, ctx, sizeof(ctx)) : 0;
			CHECK_CTX(pk_len == 1952 && sig_len > 0 && (msg_len > 0 || (mhex && !*mhex)) &&
			    (ctx_len > 0 || (chex && !*chex)), "sigVer tcId %lld unreadable",
			    (long long)tc);
			size_t dlen = digest_of(h, msg, msg_len, digest);
			sg_sign_params p = pq_params(h, SG_SCHEME_HASH_MLDSA, ctx, ctx_len);
			int rc = sg_verify_digest(SG_KEY_MLDSA_65, pk, 22 + pk_len, &p, digest, dlen,
			    sig, sig_len);
			CHECK_CTX(rc == (passed ? SG_OK : SG_ERR_BAD_SIGNATURE),
			    "sigVer tcId %lld (%s, %s): got %d", (long long)tc, hn,
			    passed ? "valid" : str_of(t, "reason"), rc);
			ran++;
			valid += passed;
		}
	}
	/* 7 cases use Signet's hashes; 2 of them are valid. */
	CHECK_CTX(ran == 7 && valid == 2, "ran %zu sigVer cases (%zu valid), want 7 (2)", ran,
	    valid);
out:
	free(pk);
	free(sig);
	free(msg);
	json_decref(proj);
}

/* ---- the composite MLDSA65-ECDSA-P256-SHA512 ---- */
#ifdef SG_TEST_HAVE_COMPOSITE

#define COMPOSITE_PREFIX "CompositeAlgorithmSignatures2025"
#define COMPOSITE_LABEL "COMPSIG-MLDSA65-ECDSA-P256-SHA512"

/* M' of the LAMPS draft, built here without the composite library. */
static size_t
composite_mprime(const uint8_t ph[64], const uint8_t *ctx, size_t ctx_len, uint8_t *out)
{
	size_t n = 0;
	memcpy(out + n, COMPOSITE_PREFIX, 32);
	n += 32;
	memcpy(out + n, COMPOSITE_LABEL, 33);
	n += 33;
	out[n++] = (uint8_t)ctx_len;
	if (ctx_len > 0)
		memcpy(out + n, ctx, ctx_len);
	n += ctx_len;
	memcpy(out + n, ph, 64);
	return n + 64;
}

/*
 * Check both halves of a composite signature with other implementations:
 * the ECDSA half with the openssl command line (P-256, SHA-256 over M'), then
 * the whole with mldsa-verify.mjs, which builds M' itself and checks the
 * ML-DSA half with @noble/post-quantum (pure ML-DSA-65 over M' with the label
 * as context; the seed is the first 32 bytes of the key) and the ECDSA half.
 */
static void
composite_cross_check(const uint8_t *pk, const uint8_t *sk, const uint8_t ph[64],
    const uint8_t *ctx, size_t ctx_len, uint8_t *sig, size_t siglen)
{
	static const uint8_t p256_spki_prefix[26] = {
		0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
		0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
	};
	uint8_t spki[26 + 65], mprime[400];
	size_t mlen = composite_mprime(ph, ctx, ctx_len, mprime);
	const char *args[] = { "dgst", "-sha256", "-verify", "p256.der", "-keyform", "DER",
	    "-signature", "ecdsa.bin", "mprime.bin", NULL };

	memcpy(spki, p256_spki_prefix, 26);
	memcpy(spki + 26, pk + 1952, 65);
	CHECK(test_write("p256.der", spki, sizeof(spki)));
	CHECK(test_write("mprime.bin", mprime, mlen));
	CHECK(test_write("ecdsa.bin", sig + 3309, siglen - 3309));
	CHECK_CTX(test_run(SG_OPENSSL_CLI, args) == 0, "openssl refuses the composite's ECDSA half");
	sig[siglen - 3] ^= 0x01;
	CHECK(test_write("ecdsa.bin", sig + 3309, siglen - 3309));
	CHECK_CTX(test_run(SG_OPENSSL_CLI, args) == 1, "openssl accepts a flipped ECDSA half");
	sig[siglen - 3] ^= 0x01;
	CHECK(test_write("pub.bin", pk, 1952 + 65));
	CHECK(test_write("seed.bin", sk, 32));
	CHECK(test_write("digest.bin", ph, 64));
	CHECK(write_contexts(ctx, ctx_len));
	CHECK(test_write("sig.bin", sig, siglen));
	sig[1000] ^= 0x02;
	CHECK(test_write("sig_flip.bin", sig, siglen));
	sig[1000] ^= 0x02;
	int rc = independent_check("composite", NULL, "pub.bin");
	CHECK_CTX(rc == 0, "composite: check %d of mldsa-verify.mjs failed", rc);
}

static void
test_composite_generated(void)
{
	const sg_key_alg alg = SG_KEY_MLDSA65_ECDSA_P256;
	sg_privkey *k = NULL, *back = NULL, *x = NULL;
	uint8_t *sk = NULL, *spki = NULL, *spki2 = NULL, *sig = NULL;
	size_t sk_len = 0, spki_len = 0, spki2_len = 0, siglen = 0;
	uint8_t digest[SG_MAX_DIGEST], ctx[40];
	size_t dlen = digest_of(SG_HASH_SHA512, "firmware.bin", 12, digest);
	sg_sign_params p;
	char *pem = NULL;

	memset(ctx, 0x5a, sizeof(ctx));
	CHECK_RC(sg_privkey_generate(alg, &k), SG_OK);
	if (k == NULL)
		return;
	EVP_PKEY *ec = sg_privkey_evp(k);
	CHECK(ec != NULL && EVP_PKEY_is_a(ec, "EC") && EVP_PKEY_get_bits(ec) == 256);
	CHECK_RC(sg_privkey_public_spki(k, &spki, &spki_len), SG_OK);
	CHECK(spki_len == 2038);
	CHECK_RC(sg_spki_to_pem(spki, spki_len, &pem), SG_OK);
	CHECK_RC(sg_privkey_export(k, &sk, &sk_len), SG_OK);
	CHECK(sk_len == 83);
	CHECK_RC(sg_privkey_import(alg, sk, sk_len, &back), SG_OK);
	if (back != NULL)
		CHECK_RC(sg_privkey_public_spki(back, &spki2, &spki2_len), SG_OK);
	CHECK(spki2 != NULL && spki2_len == spki_len && memcmp(spki, spki2, spki_len) == 0);
	CHECK_RC(sg_privkey_import(alg, sk, 32, &x), SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_privkey_import(alg, sk, sk_len - 1, &x), SG_ERR_BAD_ENCODING);
	CHECK(x == NULL);
	if (spki == NULL || sk == NULL)
		goto out;

	for (int with_ctx = 0; with_ctx < 2; with_ctx++) {
		p = pq_params(SG_HASH_SHA512, SG_SCHEME_NONE, with_ctx ? ctx : NULL,
		    with_ctx ? sizeof(ctx) : 0);
		sig = NULL;
		CHECK_RC(sg_sign_digest(back != NULL ? back : k, &p, digest, dlen, &sig, &siglen),
		    SG_OK);
		if (sig == NULL)
			continue;
		CHECK(siglen > 3309 + 8 && siglen <= 3309 + 72 && sig[3309] == 0x30);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen), SG_OK);
		composite_cross_check(spki + 21, sk, digest, p.context, p.context_len, sig, siglen);
		/* Valid only if both halves verify. */
		sig[100] ^= 0x08;
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		sig[100] ^= 0x08;
		sig[siglen - 2] ^= 0x08;
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		sig[siglen - 2] ^= 0x08;
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, 3309),
		    SG_ERR_BAD_SIGNATURE);
		sg_sign_params q = pq_params(SG_HASH_SHA512, SG_SCHEME_COMPOSITE,
		    with_ctx ? NULL : ctx, with_ctx ? 0 : sizeof(ctx));
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		free(sig);
	}

	/* SHA-512 only; composite scheme only; its own SPKI only. */
	p = pq_params(SG_HASH_SHA3_512, SG_SCHEME_COMPOSITE, NULL, 0);
	sig = NULL;
	CHECK_RC(sg_sign_digest(k, &p, digest, dlen, &sig, &siglen), SG_ERR_UNSUPPORTED_HASH);
	p = pq_params(SG_HASH_SHA512, SG_SCHEME_ECDSA, NULL, 0);
	CHECK_RC(sg_sign_digest(k, &p, digest, dlen, &sig, &siglen), SG_ERR_ALGORITHM_MISMATCH);
	CHECK(sig == NULL);
	p = pq_params(SG_HASH_SHA512, SG_SCHEME_COMPOSITE, NULL, 0);
	uint8_t fake[8] = { 0 };
	CHECK_RC(sg_verify_digest(SG_KEY_MLDSA_65, spki, spki_len,
	    &(sg_sign_params){ SG_HASH_SHA512, SG_SCHEME_MLDSA, 0, -1, NULL, 0 }, digest, dlen,
	    fake, sizeof(fake)), SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_verify_digest(alg, spki, spki_len - 1, &p, digest, dlen, fake, sizeof(fake)),
	    SG_ERR_BAD_ENCODING);
out:
	sg_privkey_free(k);
	sg_privkey_free(back);
	sg_free_secret(sk, sk_len);
	free(spki);
	free(spki2);
	free(pem);
}

static uint8_t *
b64_field(json_t *o, const char *key, size_t *len)
{
	const char *s = str_of(o, key);
	uint8_t *out = NULL;
	*len = 0;
	if (s == NULL || sg_b64_decode(s, strlen(s), &out, len) != SG_OK)
		return NULL;
	return out;
}

/* The draft's own vector: its key imports to its public key, its signatures verify. */
static void
test_composite_vectors(const char *dir)
{
	json_t *j = load_json(dir, "composite/MLDSA65-ECDSA-P256-SHA512.json");
	json_t *t = j ? json_array_get(json_object_get(j, "tests"), 0) : NULL;
	uint8_t *m = NULL, *ctx = NULL, *pk = NULL, *sk = NULL, *s = NULL, *sc = NULL;
	size_t m_len, ctx_len, pk_len, sk_len, s_len, sc_len;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	sg_privkey *k = NULL;
	uint8_t ph[SG_MAX_DIGEST];

	CHECK(j != NULL && t != NULL);
	if (t == NULL)
		goto out;
	m = b64_field(j, "m", &m_len);
	ctx = b64_field(j, "ctx", &ctx_len);
	pk = b64_field(t, "pk", &pk_len);
	sk = b64_field(t, "sk", &sk_len);
	s = b64_field(t, "s", &s_len);
	sc = b64_field(t, "sWithContext", &sc_len);
	CHECK(m && ctx && pk && sk && s && sc && pk_len == 2017 && sk_len == 83);
	if (!(m && ctx && pk && sk && s && sc))
		goto out;
	CHECK_RC(sg_privkey_import(SG_KEY_MLDSA65_ECDSA_P256, sk, sk_len, &k), SG_OK);
	if (k != NULL)
		CHECK_RC(sg_privkey_public_spki(k, &spki, &spki_len), SG_OK);
	CHECK_CTX(spki != NULL && spki_len == 2038 && memcmp(spki + 21, pk, 2017) == 0,
	    "the draft's private key imports to another public key");
	if (spki == NULL)
		goto out;
	size_t dlen = digest_of(SG_HASH_SHA512, m, m_len, ph);
	sg_sign_params none = pq_params(SG_HASH_SHA512, SG_SCHEME_COMPOSITE, NULL, 0);
	sg_sign_params with = pq_params(SG_HASH_SHA512, SG_SCHEME_COMPOSITE, ctx, ctx_len);
	CHECK_RC(sg_verify_digest(SG_KEY_MLDSA65_ECDSA_P256, spki, spki_len, &none, ph, dlen, s,
	    s_len), SG_OK);
	CHECK_RC(sg_verify_digest(SG_KEY_MLDSA65_ECDSA_P256, spki, spki_len, &with, ph, dlen, sc,
	    sc_len), SG_OK);
	CHECK_RC(sg_verify_digest(SG_KEY_MLDSA65_ECDSA_P256, spki, spki_len, &with, ph, dlen, s,
	    s_len), SG_ERR_BAD_SIGNATURE);
	CHECK_RC(sg_verify_digest(SG_KEY_MLDSA65_ECDSA_P256, spki, spki_len, &none, ph, dlen, sc,
	    sc_len), SG_ERR_BAD_SIGNATURE);
	ph[0] ^= 1;
	CHECK_RC(sg_verify_digest(SG_KEY_MLDSA65_ECDSA_P256, spki, spki_len, &none, ph, dlen, s,
	    s_len), SG_ERR_BAD_SIGNATURE);
out:
	sg_privkey_free(k);
	free(spki);
	free(m);
	free(ctx);
	free(pk);
	if (sk != NULL)
		sg_free_secret(sk, sk_len);
	free(s);
	free(sc);
	json_decref(j);
}
#endif /* SG_TEST_HAVE_COMPOSITE */

/* ---- many threads, one ML-DSA key ---- */

struct pq_thread {
	const sg_privkey *key;
	const uint8_t *spki;
	size_t spki_len;
	int bad;
};

static void *
pq_sign_many(void *v)
{
	struct pq_thread *a = v;
	uint8_t digest[SG_MAX_DIGEST];

	for (int i = 0; i < 6; i++) {
		uint8_t *sig = NULL;
		size_t siglen = 0;
		size_t dlen = digest_of(SG_HASH_SHA256, &i, sizeof(i), digest);
		sg_sign_params p = pq_params(SG_HASH_SHA256, SG_SCHEME_HASH_MLDSA, NULL, 0);
		if (sg_sign_digest(a->key, &p, digest, dlen, &sig, &siglen) != SG_OK ||
		    sg_verify_digest(SG_KEY_MLDSA_65, a->spki, a->spki_len, &p, digest, dlen, sig,
		    siglen) != SG_OK)
			a->bad++;
		free(sig);
	}
	return NULL;
}

static void
test_pq_threads(void)
{
	sg_privkey *k = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	pthread_t t[4];
	struct pq_thread args[4];

	CHECK_RC(sg_privkey_generate(SG_KEY_MLDSA_65, &k), SG_OK);
	CHECK_RC(sg_privkey_public_spki(k, &spki, &spki_len), SG_OK);
	if (k == NULL || spki == NULL)
		goto out;
	for (int i = 0; i < 4; i++) {
		args[i] = (struct pq_thread){ k, spki, spki_len, 0 };
		CHECK(pthread_create(&t[i], NULL, pq_sign_many, &args[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_CTX(args[i].bad == 0, "ML-DSA thread %d: %d failures", i, args[i].bad);
	}
out:
	free(spki);
	sg_privkey_free(k);
}

void
test_pq(const char *vectors_dir)
{
	for (size_t i = 0; i < NSETS; i++)
		test_set(i);
	test_pq_threads();
	CHECK_CTX(vectors_dir != NULL, "usage: test_crypto VECTORS_DIR");
	if (vectors_dir != NULL) {
		test_acvp_keygen(vectors_dir);
		test_acvp_sigver(vectors_dir);
	}
#ifdef SG_TEST_HAVE_COMPOSITE
	test_composite_generated();
	if (vectors_dir != NULL)
		test_composite_vectors(vectors_dir);
#endif
}
