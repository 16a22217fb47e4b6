/*
 * test_pkcs11.c - the PKCS#11 ("HSM") keystore against a real token.
 *
 * The test makes its own SoftHSM2 token in a temporary directory (config
 * file, softhsm2-util --init-token), opens the keystore on it and, for
 * every algorithm a token can hold, generates a key and signs with every
 * scheme, format and hash that fits.  Each signature is verified by the
 * `openssl` command line over the SPKI the keystore returned, written as
 * PEM, and a flipped bit must fail.  The private objects are checked to be
 * sensitive and never extractable twice: through our own PKCS#11 session
 * (C_GetAttributeValue, and reading the secret must be refused) and by
 * pkcs11-tool in a separate process.  Then: 8 threads x 50 signatures with
 * one key, destroy (the objects go, signing fails, a second destroy is
 * fine, a stale cached object handle in another keystore is noticed), and
 * the token going away (its directory moved) and coming back.
 * Exit status 0 only when every check passed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include "sg_crypto.h"
#include "sg_keystore.h"
#include "sg_pkcs11.h"
#include "sg_log.h"
#include "softhsm_test.h"

static sg_keystore *
open_ks(unsigned pool)
{
	sg_pkcs11_config cfg = {
		.module = SG_SOFTHSM2_MODULE, .token_label = LABEL, .pin = PIN, .pool_size = pool,
	};
	sg_keystore *ks = NULL;
	int r = sg_keystore_pkcs11_open(&cfg, &ks);
	CHECK_RC(r, SG_OK);
	return r == SG_OK ? ks : NULL;
}

/* ---- our own PKCS#11 view of the token, to inspect objects ---- */

static CK_ULONG
p11_find(CK_OBJECT_CLASS cls, const uint8_t *handle, CK_OBJECT_HANDLE *obj)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)(handle + 1), 16 },
	};
	CK_OBJECT_HANDLE objs[4];
	CK_ULONG n = 0;
	if (p11->C_FindObjectsInit(p11s, t, 2) != CKR_OK)
		return 99;
	if (p11->C_FindObjects(p11s, objs, 4, &n) != CKR_OK)
		n = 99;
	(void)p11->C_FindObjectsFinal(p11s);
	if (n >= 1 && obj != NULL)
		*obj = objs[0];
	return n;
}

static void
check_objects(const uint8_t *handle, sg_key_alg alg, const char *version_id)
{
	CK_OBJECT_HANDLE priv = 0, pub = 0;
	CK_BBOOL sensitive = 0, extractable = 1, private = 0, token = 0, sign = 0,
	    always_sensitive = 0, never_extractable = 0, decrypt = 1;
	char label[128] = { 0 };
	CK_ATTRIBUTE a[] = {
		{ CKA_SENSITIVE, &sensitive, 1 },
		{ CKA_EXTRACTABLE, &extractable, 1 },
		{ CKA_PRIVATE, &private, 1 },
		{ CKA_TOKEN, &token, 1 },
		{ CKA_SIGN, &sign, 1 },
		{ CKA_ALWAYS_SENSITIVE, &always_sensitive, 1 },
		{ CKA_NEVER_EXTRACTABLE, &never_extractable, 1 },
		{ CKA_DECRYPT, &decrypt, 1 },
		{ CKA_LABEL, label, sizeof(label) - 1 },
	};
	uint8_t secret[1024];
	CK_ATTRIBUTE sa = { alg <= SG_KEY_RSA_4096 ? CKA_PRIVATE_EXPONENT : CKA_VALUE, secret,
		sizeof(secret) };
	CK_RV rv;

	CHECK_CTX(p11_find(CKO_PRIVATE_KEY, handle, &priv) == 1, "%s private object",
	    sg_key_alg_name(alg));
	CHECK_CTX(p11_find(CKO_PUBLIC_KEY, handle, &pub) == 1, "%s public object",
	    sg_key_alg_name(alg));
	rv = p11->C_GetAttributeValue(p11s, priv, a, sizeof(a) / sizeof(a[0]));
	CHECK_CTX(rv == CKR_OK, "%s: C_GetAttributeValue 0x%lx", sg_key_alg_name(alg),
	    (unsigned long)rv);
	CHECK_CTX(sensitive == CK_TRUE && extractable == CK_FALSE && private == CK_TRUE &&
	    token == CK_TRUE && sign == CK_TRUE && always_sensitive == CK_TRUE &&
	    never_extractable == CK_TRUE && decrypt == CK_FALSE,
	    "%s: sensitive %d extractable %d private %d token %d sign %d always_sensitive %d "
	    "never_extractable %d decrypt %d", sg_key_alg_name(alg), sensitive, extractable,
	    private, token, sign, always_sensitive, never_extractable, decrypt);
	CHECK_CTX(strcmp(label, version_id) == 0, "label \"%s\"", label);
	rv = p11->C_GetAttributeValue(p11s, priv, &sa, 1);
	CHECK_CTX(rv == CKR_ATTRIBUTE_SENSITIVE, "%s: reading the secret gave 0x%lx",
	    sg_key_alg_name(alg), (unsigned long)rv);
}

/*
 * pkcs11-tool's view (another process, from the token files): 1 when the
 * private key with this CKA_ID is listed as sensitive, always sensitive,
 * never extractable and generated on the token; 0 when listed otherwise;
 * -1 when not listed; -2 when pkcs11-tool failed.
 */
static int
tool_private_key(const uint8_t *handle)
{
	const char *argv[] = { SG_PKCS11_TOOL, "--module", SG_SOFTHSM2_MODULE, "--token-label",
	    LABEL, "--login", "--pin", PIN, "--list-objects", "--type", "privkey", NULL };
	char hex[33], *out, *p;
	int res = -1;

	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", handle[1 + i]);
	if (run(argv, "objects.txt") != 0 || (out = read_tmp("objects.txt")) == NULL)
		return -2;
	/* One block per object, each starting "Private Key Object". */
	for (p = strstr(out, "Private Key Object"); p != NULL;) {
		char *next = strstr(p + 1, "Private Key Object");
		if (next != NULL)
			*next = '\0';
		char *id = strstr(p, "ID:");
		if (id != NULL && strstr(id, hex) != NULL) {
			char *access = strstr(p, "Access:");
			res = access != NULL && strstr(access, "sensitive, always sensitive, never "
			    "extractable, local") != NULL ? 1 : 0;
			if (res == 0)
				fprintf(stderr, "pkcs11-tool lists:\n%s\n", p);
			break;
		}
		p = next != NULL ? next + 1 : NULL;
	}
	free(out);
	return res;
}

/* ---- verification by the openssl command line ---- */

static const char *
cli_digest_name(sg_hash_alg h)
{
	switch (h) {
	case SG_HASH_MD5: return "md5";
	case SG_HASH_SHA1: return "sha1";
	case SG_HASH_SHA256: return "sha256";
	case SG_HASH_SHA384: return "sha384";
	case SG_HASH_SHA512: return "sha512";
	case SG_HASH_SHA3_256: return "sha3-256";
	case SG_HASH_SHA3_384: return "sha3-384";
	case SG_HASH_SHA3_512: return "sha3-512";
	default: return "none";
	}
}

/* openssl pkeyutl -verify over pub.pem, digest.bin and sig.bin: 1 when it verifies. */
static int
cli_verify(const sg_sign_params *p)
{
	const char *argv[32] = { SG_OPENSSL_CLI, "pkeyutl", "-verify", "-pubin", "-inkey",
	    "pub.pem", "-in", "digest.bin", "-sigfile", "sig.bin" };
	size_t n = 10;
	char digest[64], salt[64], mgf[64];

	snprintf(digest, sizeof(digest), "digest:%s", cli_digest_name(p->hash));
	if (p->scheme == SG_SCHEME_ED25519) {
		argv[n++] = "-rawin";
	} else {
		argv[n++] = "-pkeyopt";
		argv[n++] = digest;
	}
	if (p->scheme == SG_SCHEME_RSA_PSS) {
		snprintf(salt, sizeof(salt), "rsa_pss_saltlen:%d",
		    p->pss_salt_len < 0 ? (int)sg_hash_len(p->hash) : p->pss_salt_len);
		snprintf(mgf, sizeof(mgf), "rsa_mgf1_md:%s", cli_digest_name(p->hash));
		argv[n++] = "-pkeyopt";
		argv[n++] = "rsa_padding_mode:pss";
		argv[n++] = "-pkeyopt";
		argv[n++] = salt;
		argv[n++] = "-pkeyopt";
		argv[n++] = mgf;
	} else if (p->scheme == SG_SCHEME_RSA_PKCS1) {
		argv[n++] = "-pkeyopt";
		argv[n++] = "rsa_padding_mode:pkcs1";
	}
	argv[n] = NULL;
	return run(argv, NULL) == 0;
}

/* P1363 r||s to DER by hand, independent of the code under test. */
static size_t
der_integer(uint8_t *o, const uint8_t *v, size_t n)
{
	size_t i = 0;
	while (i < n - 1 && v[i] == 0)
		i++;
	int pad = (v[i] & 0x80) != 0;
	size_t len = n - i + (size_t)pad;
	o[0] = 0x02;
	o[1] = (uint8_t)len;
	o[2] = 0;
	memcpy(o + 2 + pad, v + i, n - i);
	return 2 + len;
}

static size_t
p1363_to_der(const uint8_t *raw, size_t rawlen, uint8_t *out)
{
	uint8_t body[2 * 70];
	size_t blen = der_integer(body, raw, rawlen / 2);
	blen += der_integer(body + blen, raw + rawlen / 2, rawlen / 2);
	size_t hdr = 0;
	out[hdr++] = 0x30;
	if (blen >= 0x80)
		out[hdr++] = 0x81;
	out[hdr++] = (uint8_t)blen;
	memcpy(out + hdr, body, blen);
	return hdr + blen;
}

static int
write_pub_pem(const uint8_t *spki, size_t spki_len)
{
	char *pem = NULL;
	int r = sg_spki_to_pem(spki, spki_len, &pem);
	if (r != SG_OK)
		return -1;
	r = write_tmp("pub.pem", pem, strlen(pem));
	free(pem);
	return r;
}

/* ---- signing matrix ---- */

static const sg_hash_alg all_hashes[] = {
	SG_HASH_MD5, SG_HASH_SHA1, SG_HASH_SHA256, SG_HASH_SHA384, SG_HASH_SHA512,
	SG_HASH_SHA3_256, SG_HASH_SHA3_384, SG_HASH_SHA3_512,
};
#define NHASHES (sizeof(all_hashes) / sizeof(all_hashes[0]))

typedef struct key_under_test {
	sg_key_alg alg;
	char version_id[64];
	uint8_t *handle, *spki;
	size_t handle_len, spki_len;
} key_under_test;

static int signatures_verified;

/*
 * Sign a fresh random digest with params and check the outcome: want is the
 * expected result; on SG_OK the signature must verify with openssl and a
 * flipped bit must not.
 */
static void
sign_and_verify(sg_keystore *ks, const key_under_test *k, sg_hash_alg h, sg_sig_scheme scheme,
    sg_sig_format format, int salt, int want)
{
	sg_sign_params p = { .hash = h, .scheme = scheme, .format = format, .pss_salt_len = salt };
	sg_key_ref ref = { k->version_id, k->alg, k->handle, k->handle_len };
	uint8_t digest[SG_MAX_DIGEST], *sig = NULL, der[160];
	size_t digest_len = sg_hash_len(h), siglen = 0;
	const char *what = sg_key_alg_name(k->alg);
	int r;

	if (sg_sign_params_check(k->alg, &p) != SG_OK) {
		CHECK_CTX(0, "%s %s %s: params refused", what, sg_scheme_name(scheme, k->alg),
		    sg_hash_name(h));
		return;
	}
	CHECK(RAND_bytes(digest, (int)digest_len) == 1);
	r = sg_keystore_sign(ks, &ref, &p, digest, digest_len, &sig, &siglen);
	CHECK_CTX(r == want, "%s %s %s %s salt %d: %s, want %s", what,
	    sg_scheme_name(scheme, k->alg), sg_hash_name(h),
	    sg_format_name(p.format) ? sg_format_name(p.format) : "-", salt, sg_err_str(r),
	    sg_err_str(want));
	if (r != SG_OK) {
		free(sig);
		return;
	}
	const uint8_t *to_check = sig;
	size_t check_len = siglen;
	if (scheme == SG_SCHEME_ECDSA && p.format == SG_FORMAT_P1363) {
		CHECK_CTX(siglen == 2 * sg_key_alg_ec_field_len(k->alg), "P1363 length %zu", siglen);
		check_len = p1363_to_der(sig, siglen, der);
		to_check = der;
	}
	if (scheme == SG_SCHEME_ECDSA && p.format == SG_FORMAT_DER)
		CHECK_CTX(sig[0] == 0x30, "ECDSA DER starts 0x%02x", sig[0]);
	CHECK(write_tmp("digest.bin", digest, digest_len) == 0);
	CHECK(write_tmp("sig.bin", to_check, check_len) == 0);
	int ok = cli_verify(&p);
	CHECK_CTX(ok, "openssl does not verify %s %s %s %s salt %d", what,
	    sg_scheme_name(scheme, k->alg), sg_hash_name(h),
	    sg_format_name(p.format) ? sg_format_name(p.format) : "-", salt);
	signatures_verified += ok;
	/*
	 * A flipped bit in the digest must fail (the signature stays as it was).
	 * The first byte: ECDSA uses only the leftmost field-size bits of a
	 * longer digest.
	 */
	digest[0] ^= 0x01;
	CHECK(write_tmp("digest.bin", digest, digest_len) == 0);
	CHECK_CTX(!cli_verify(&p), "openssl verifies a wrong digest for %s %s %s", what,
	    sg_scheme_name(scheme, k->alg), sg_hash_name(h));
	free(sig);
}

static void
sign_matrix(sg_keystore *ks, const key_under_test *k)
{
	if (write_pub_pem(k->spki, k->spki_len) != 0) {
		CHECK_CTX(0, "cannot write the PEM of %s", sg_key_alg_name(k->alg));
		return;
	}
	switch (k->alg) {
	case SG_KEY_RSA_2048:
	case SG_KEY_RSA_3072:
	case SG_KEY_RSA_4096:
		for (size_t i = 0; i < NHASHES; i++)
			sign_and_verify(ks, k, all_hashes[i], SG_SCHEME_RSA_PKCS1, SG_FORMAT_DEFAULT,
			    -1, SG_OK);
		for (size_t i = 0; i < NHASHES; i++) {
			sg_hash_alg h = all_hashes[i];
			/* PKCS#11 has no MGF1 over MD5; SoftHSM2 2.6 has none over SHA-3. */
			int want = h == SG_HASH_MD5 || h == SG_HASH_SHA3_256 ||
			    h == SG_HASH_SHA3_384 || h == SG_HASH_SHA3_512 ?
			    SG_ERR_UNSUPPORTED_HASH : SG_OK;
			sign_and_verify(ks, k, h, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, -1, want);
			if (want == SG_OK && k->alg == SG_KEY_RSA_2048) {
				sign_and_verify(ks, k, h, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 0, SG_OK);
				sign_and_verify(ks, k, h, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 20, SG_OK);
			}
		}
		break;
	case SG_KEY_EC_P256:
	case SG_KEY_EC_P384:
	case SG_KEY_EC_P521:
		for (size_t i = 0; i < NHASHES; i++) {
			sign_and_verify(ks, k, all_hashes[i], SG_SCHEME_ECDSA, SG_FORMAT_DER, -1, SG_OK);
			sign_and_verify(ks, k, all_hashes[i], SG_SCHEME_ECDSA, SG_FORMAT_P1363, -1,
			    SG_OK);
		}
		sign_and_verify(ks, k, SG_HASH_SHA256, SG_SCHEME_ECDSA, SG_FORMAT_DEFAULT, -1, SG_OK);
		break;
	case SG_KEY_ED25519:
		for (size_t i = 0; i < NHASHES; i++)
			sign_and_verify(ks, k, all_hashes[i], SG_SCHEME_ED25519, SG_FORMAT_DEFAULT, -1,
			    SG_OK);
		break;
	default:
		CHECK(0);
	}
}

/* The SPKI the keystore returned is a public key of the right algorithm and size. */
static void
check_spki(const key_under_test *k)
{
	const unsigned char *p = k->spki;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)k->spki_len);
	CHECK_CTX(pk != NULL && p == k->spki + k->spki_len, "%s SPKI does not parse",
	    sg_key_alg_name(k->alg));
	if (pk == NULL)
		return;
	switch (k->alg) {
	case SG_KEY_RSA_2048:
	case SG_KEY_RSA_3072:
	case SG_KEY_RSA_4096:
		CHECK(EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) == sg_key_alg_bits(k->alg));
		break;
	case SG_KEY_EC_P256:
	case SG_KEY_EC_P384:
	case SG_KEY_EC_P521: {
		char group[64] = { 0 };
		size_t gl = 0;
		const char *want = k->alg == SG_KEY_EC_P256 ? "prime256v1" :
		    k->alg == SG_KEY_EC_P384 ? "secp384r1" : "secp521r1";
		CHECK(EVP_PKEY_is_a(pk, "EC") &&
		    EVP_PKEY_get_group_name(pk, group, sizeof(group), &gl) == 1 &&
		    strcmp(group, want) == 0);
		break;
	}
	case SG_KEY_ED25519:
		CHECK(EVP_PKEY_is_a(pk, "ED25519"));
		break;
	default:
		CHECK(0);
	}
	EVP_PKEY_free(pk);
}

/* ---- concurrency ---- */

#define THREADS 8
#define PER_THREAD 50

typedef struct thread_arg {
	sg_keystore *ks;
	const key_under_test *k;
	EVP_PKEY *pub;
	int ok, bad;
} thread_arg;

static void *
signer(void *argp)
{
	thread_arg *a = argp;
	sg_key_ref ref = { a->k->version_id, a->k->alg, a->k->handle, a->k->handle_len };
	sg_sign_params p = { .hash = SG_HASH_SHA256, .scheme = SG_SCHEME_ECDSA,
		.format = SG_FORMAT_DER, .pss_salt_len = -1 };
	EVP_PKEY_CTX *vctx = EVP_PKEY_CTX_new(a->pub, NULL);

	for (int i = 0; i < PER_THREAD; i++) {
		uint8_t digest[32], *sig = NULL;
		size_t siglen = 0;
		if (RAND_bytes(digest, sizeof(digest)) != 1 ||
		    sg_keystore_sign(a->ks, &ref, &p, digest, sizeof(digest), &sig, &siglen) !=
		    SG_OK) {
			a->bad++;
			continue;
		}
		/* OpenSSL directly, not Signet's verify: an independent check per signature. */
		if (vctx != NULL && EVP_PKEY_verify_init(vctx) == 1 &&
		    EVP_PKEY_verify(vctx, sig, siglen, digest, sizeof(digest)) == 1)
			a->ok++;
		else
			a->bad++;
		free(sig);
	}
	EVP_PKEY_CTX_free(vctx);
	return NULL;
}

static void
test_concurrency(sg_keystore *ks, const key_under_test *k)
{
	pthread_t t[THREADS];
	thread_arg args[THREADS];
	const unsigned char *p = k->spki;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)k->spki_len);
	int ok = 0, bad = 0;

	CHECK(pub != NULL);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (thread_arg){ .ks = ks, .k = k, .pub = pub };
		CHECK(pthread_create(&t[i], NULL, signer, &args[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += args[i].ok;
		bad += args[i].bad;
	}
	CHECK_CTX(ok == THREADS * PER_THREAD && bad == 0, "%d verified, %d failed", ok, bad);
	EVP_PKEY_free(pub);
}

/* ---- the tests ---- */

static int
gen(sg_keystore *ks, sg_key_alg alg, const char *version_id, key_under_test *k)
{
	memset(k, 0, sizeof(*k));
	k->alg = alg;
	snprintf(k->version_id, sizeof(k->version_id), "%s", version_id);
	int r = sg_keystore_generate(ks, version_id, alg, &k->handle, &k->handle_len, &k->spki,
	    &k->spki_len);
	CHECK_CTX(r == SG_OK, "generate %s: %s", sg_key_alg_name(alg), sg_err_str(r));
	if (r == SG_OK)
		CHECK(k->handle_len == 17 && k->handle[0] == 0x01 && k->spki_len > 0);
	return r;
}

static void
key_free(key_under_test *k)
{
	free(k->handle);
	free(k->spki);
	k->handle = k->spki = NULL;
}

static void
test_open_errors(void)
{
	sg_keystore *ks = NULL;
	sg_pkcs11_config cfg = {
		.module = SG_SOFTHSM2_MODULE, .token_label = LABEL, .pin = "000000",
	};

	/* Wrong PIN first, while nothing else has the token logged in. */
	CHECK_RC(sg_keystore_pkcs11_open(&cfg, &ks), SG_ERR_UNAUTHENTICATED);
	cfg.pin = PIN;
	cfg.token_label = "no-such-token";
	CHECK_RC(sg_keystore_pkcs11_open(&cfg, &ks), SG_ERR_UNAVAILABLE);
	cfg.token_label = LABEL;
	cfg.module = "/nonexistent/libnothing.so";
	CHECK_RC(sg_keystore_pkcs11_open(&cfg, &ks), SG_ERR_IO);
	cfg.module = SG_SOFTHSM2_MODULE;
	cfg.pin = "";
	CHECK_RC(sg_keystore_pkcs11_open(&cfg, &ks), SG_ERR_INVALID_ARGUMENT);
	cfg.pin = PIN;
	cfg.pool_size = SG_PKCS11_POOL_MAX + 1;
	CHECK_RC(sg_keystore_pkcs11_open(&cfg, &ks), SG_ERR_INVALID_ARGUMENT);
	CHECK(ks == NULL);
	/* And the right PIN still works after a wrong one. */
	cfg.pool_size = 2;
	CHECK_RC(sg_keystore_pkcs11_open(&cfg, &ks), SG_OK);
	CHECK(ks != NULL && strcmp(ks->ops->storage, "HSM") == 0 );
	sg_keystore_close(ks);
}

static void
test_destroy(sg_keystore *ks)
{
	key_under_test k;
	sg_keystore *other;
	uint8_t digest[32] = { 1 }, *sig = NULL;
	size_t siglen = 0;
	sg_sign_params p = { .hash = SG_HASH_SHA256, .scheme = SG_SCHEME_ECDSA,
		.format = SG_FORMAT_DER, .pss_salt_len = -1 };

	if (gen(ks, SG_KEY_EC_P256, "destroy-me/1", &k) != SG_OK)
		return;
	sg_key_ref ref = { k.version_id, k.alg, k.handle, k.handle_len };
	CHECK(tool_private_key(k.handle) == 1);
	CHECK_RC(sg_keystore_sign(ks, &ref, &p, digest, 32, &sig, &siglen), SG_OK);
	free(sig);
	sig = NULL;

	/* Destroyed through another keystore, this one still has the object cached. */
	if ((other = open_ks(2)) != NULL) {
		CHECK_RC(sg_keystore_destroy(other, &ref), SG_OK);
		sg_keystore_close(other);
	}
	CHECK(p11_find(CKO_PRIVATE_KEY, k.handle, NULL) == 0);
	CHECK(p11_find(CKO_PUBLIC_KEY, k.handle, NULL) == 0);
	CHECK(tool_private_key(k.handle) == -1);
	CHECK_RC(sg_keystore_sign(ks, &ref, &p, digest, 32, &sig, &siglen), SG_ERR_KEY_NOT_ACTIVE);
	CHECK(sig == NULL);
	/* Idempotent, in either keystore. */
	CHECK_RC(sg_keystore_destroy(ks, &ref), SG_OK);
	key_free(&k);

	/* And the plain case: destroy through the keystore that signs. */
	if (gen(ks, SG_KEY_RSA_2048, "destroy-me/2", &k) != SG_OK)
		return;
	sg_key_ref ref2 = { k.version_id, k.alg, k.handle, k.handle_len };
	p.scheme = SG_SCHEME_RSA_PKCS1;
	p.format = SG_FORMAT_DEFAULT;
	CHECK_RC(sg_keystore_sign(ks, &ref2, &p, digest, 32, &sig, &siglen), SG_OK);
	free(sig);
	sig = NULL;
	CHECK_RC(sg_keystore_destroy(ks, &ref2), SG_OK);
	CHECK(p11_find(CKO_PRIVATE_KEY, k.handle, NULL) == 0);
	CHECK(p11_find(CKO_PUBLIC_KEY, k.handle, NULL) == 0);
	CHECK(tool_private_key(k.handle) == -1);
	CHECK_RC(sg_keystore_sign(ks, &ref2, &p, digest, 32, &sig, &siglen), SG_ERR_KEY_NOT_ACTIVE);
	CHECK_RC(sg_keystore_destroy(ks, &ref2), SG_OK);
	key_free(&k);
}

static void
test_refusals(sg_keystore *ks)
{
	uint8_t *h = NULL, *spki = NULL, digest[32] = { 0 }, *sig = NULL;
	size_t hl = 0, sl = 0, siglen = 0;
	sg_sign_params p = { .hash = SG_HASH_SHA256, .scheme = SG_SCHEME_ECDSA,
		.format = SG_FORMAT_DER, .pss_salt_len = -1 };
	uint8_t bogus[17] = { 0x01 };
	sg_key_ref ref = { "bogus/1", SG_KEY_EC_P256, bogus, sizeof(bogus) };

	CHECK_RC(sg_keystore_generate(ks, "pq/1", SG_KEY_MLDSA_65, &h, &hl, &spki, &sl),
	    SG_ERR_UNSUPPORTED_ALGORITHM);
	CHECK_RC(sg_keystore_generate(ks, "pq/2", SG_KEY_MLDSA65_ECDSA_P256, &h, &hl, &spki, &sl),
	    SG_ERR_UNSUPPORTED_ALGORITHM);
	CHECK(h == NULL && spki == NULL);
	/* A well-formed handle naming no object, and a DISK handle. */
	CHECK_RC(sg_keystore_sign(ks, &ref, &p, digest, 32, &sig, &siglen), SG_ERR_KEY_NOT_ACTIVE);
	ref.handle_len = 16;
	CHECK_RC(sg_keystore_sign(ks, &ref, &p, digest, 32, &sig, &siglen), SG_ERR_KEY_NOT_ACTIVE);
	CHECK_RC(sg_keystore_destroy(ks, &ref), SG_ERR_KEY_NOT_ACTIVE);
	CHECK(sig == NULL);
}

/*
 * Someone logs the application out behind the keystore's back (login state
 * is shared by every session of the process): signing and destroying log
 * in again instead of failing or, worse, finding no private object and
 * calling the destroy done.
 */
static void
test_logged_out(sg_keystore *ks, const key_under_test *k)
{
	uint8_t digest[32] = { 3 }, *sig = NULL;
	size_t siglen = 0;
	sg_key_ref ref = { k->version_id, k->alg, k->handle, k->handle_len };
	sg_sign_params p = { .hash = SG_HASH_SHA256, .scheme = SG_SCHEME_ECDSA,
		.format = SG_FORMAT_DER, .pss_salt_len = -1 };
	key_under_test victim;

	CHECK(p11->C_Logout(p11s) == CKR_OK);
	CHECK_RC(sg_keystore_sign(ks, &ref, &p, digest, 32, &sig, &siglen), SG_OK);
	free(sig);
	if (gen(ks, SG_KEY_EC_P384, "logged-out/1", &victim) != SG_OK)
		return;
	sg_key_ref vref = { victim.version_id, victim.alg, victim.handle, victim.handle_len };
	CHECK(p11->C_Logout(p11s) == CKR_OK);
	CHECK_RC(sg_keystore_destroy(ks, &vref), SG_OK);
	CHECK(p11_find(CKO_PRIVATE_KEY, victim.handle, NULL) == 0);
	CHECK(tool_private_key(victim.handle) == -1);
	key_free(&victim);
}

/*
 * The token goes away (its directory is moved out of SoftHSM2's token dir,
 * as a pulled USB token or a lost network HSM would) and comes back.
 */
static void
test_token_loss(sg_keystore *ks, const key_under_test *k)
{
	char dir[600], away[600];
	uint8_t digest[32] = { 7 }, *sig = NULL;
	size_t siglen = 0;
	sg_key_ref ref = { k->version_id, k->alg, k->handle, k->handle_len };
	sg_sign_params p = { .hash = SG_HASH_SHA256, .scheme = SG_SCHEME_ECDSA,
		.format = SG_FORMAT_DER, .pss_salt_len = -1 };
	int r;

	if (token_subdir(dir, sizeof(dir)) != 0) {
		CHECK_CTX(0, "no token directory in %s", tokendir);
		return;
	}
	tmp_path(away, sizeof(away), "token-away");
	CHECK_RC(sg_keystore_sign(ks, &ref, &p, digest, 32, &sig, &siglen), SG_OK);
	free(sig);
	sig = NULL;

	CHECK(rename(dir, away) == 0);
	for (int i = 0; i < 3; i++) {
		r = sg_keystore_sign(ks, &ref, &p, digest, 32, &sig, &siglen);
		CHECK_CTX(r == SG_ERR_UNAVAILABLE, "sign %d with the token gone: %s", i,
		    sg_err_str(r));
		free(sig);
		sig = NULL;
	}
	uint8_t *h = NULL, *spki = NULL;
	size_t hl = 0, sl = 0;
	CHECK_RC(sg_keystore_generate(ks, "gone/1", SG_KEY_EC_P256, &h, &hl, &spki, &sl),
	    SG_ERR_UNAVAILABLE);

	CHECK(rename(away, dir) == 0);
	/* Rebuilds are attempted at most once a second: give it a few. */
	r = SG_ERR_UNAVAILABLE;
	for (int i = 0; i < 50 && r == SG_ERR_UNAVAILABLE; i++) {
		r = sg_keystore_sign(ks, &ref, &p, digest, 32, &sig, &siglen);
		if (r == SG_ERR_UNAVAILABLE)
			nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	CHECK_CTX(r == SG_OK, "after the token came back: %s", sg_err_str(r));
	free(sig);
	sig = NULL;
	if (r == SG_OK)
		test_concurrency(ks, k);
}

int
main(void)
{
	static const sg_key_alg algs[] = {
		SG_KEY_RSA_2048, SG_KEY_RSA_3072, SG_KEY_RSA_4096, SG_KEY_EC_P256, SG_KEY_EC_P384,
		SG_KEY_EC_P521, SG_KEY_ED25519,
	};
	key_under_test keys[sizeof(algs) / sizeof(algs[0])];
	sg_keystore *ks;

	/* The expected failures would be noise; SG_TEST_LOG=1 shows the log. */
	if (getenv("SG_TEST_LOG") == NULL)
		sg_log_set_level((sg_log_level)(SG_LOG_ERROR + 1));
	if (setup_token() != 0) {
		fprintf(stderr, "cannot set up a SoftHSM2 token in %s\n", tmpdir);
		return 1;
	}
	test_open_errors();
	if ((ks = open_ks(8)) == NULL || p11_attach() != 0) {
		fprintf(stderr, "cannot open the keystore or attach to the token\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		char vid[64];
		snprintf(vid, sizeof(vid), "key-%zu/1", i);
		if (gen(ks, algs[i], vid, &keys[i]) != SG_OK)
			continue;
		check_spki(&keys[i]);
		check_objects(keys[i].handle, algs[i], vid);
		CHECK_CTX(tool_private_key(keys[i].handle) == 1, "pkcs11-tool on %s",
		    sg_key_alg_name(algs[i]));
		sign_matrix(ks, &keys[i]);
	}
	test_concurrency(ks, &keys[3]);
	/* More signers than sessions: requests wait for a free one. */
	sg_keystore *small = open_ks(2);
	if (small != NULL) {
		test_concurrency(small, &keys[3]);
		sg_keystore_close(small);
	}
	test_logged_out(ks, &keys[3]);
	test_refusals(ks);
	test_destroy(ks);
	p11_detach();
	test_token_loss(ks, &keys[3]);
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		key_free(&keys[i]);
	sg_keystore_close(ks);
	/*
	 * p11dl stays open on purpose: it keeps SoftHSM2 mapped until exit, so
	 * that LeakSanitizer can name the library in its reports and lsan.supp
	 * can match SoftHSM2's own leaks (see CMakeLists.txt).
	 */

	if (failures == 0)
		rm_rf(tmpdir);
	printf("keystore_pkcs11: %d checks, %d signatures verified by openssl, %d failures%s%s\n",
	    checks, signatures_verified, failures, failures ? "; token left in " : "",
	    failures ? tmpdir : "");
	return failures == 0 ? 0 : 1;
}
