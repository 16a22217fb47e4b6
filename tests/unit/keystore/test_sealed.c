/*
 * test_sealed.c - the token's AES master key against a real token.
 *
 * On a SoftHSM2 token made for the test (softhsm_test.h):
 *  - the PKCS#11 sealer generates its AES-256 key once, as a private,
 *    sensitive, never extractable token object for encrypt/decrypt only,
 *    which our own session (C_GetAttributeValue, reading CKA_VALUE refused)
 *    and pkcs11-tool in another process both confirm;
 *  - its "SGK2" blobs name that key's CKA_ID and open only with the same
 *    associated data, untampered; a labelled key that is extractable is
 *    refused; two keys under one label (two processes racing) still open
 *    each other's blobs;
 *  - the DISK keystore with the master key in the HSM (sg_custody_open)
 *    seals new keys as "SGK2", creates no master.key, signs (checked by the
 *    openssl command line), and still opens "SGK1" keys of a former file
 *    master key while that file exists;
 *  - storage HSM for ML-DSA-44/65/87 and MLDSA65-ECDSA-P256: generated and
 *    sealed by the token, signatures verified with sg_verify_digest (the
 *    system OpenSSL has no ML-DSA; Signet's verifier is checked against the
 *    ACVP vectors in tests/unit/mldsa), other version id or algorithm or a
 *    flipped byte does not open, classical keys still go into the token;
 *  - the token going away gives SG_ERR_UNAVAILABLE for sealed keys too, and
 *    they work again when it is back.
 * Exit status 0 only when every check passed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include "sg_crypto.h"
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_pkcs11.h"
#include "sg_sealer.h"
#include "softhsm_test.h"

#define MASTER SG_PKCS11_KEY_LABEL_DEFAULT

static sg_keystore *
open_p11(void)
{
	sg_pkcs11_config cfg = {
		.module = SG_SOFTHSM2_MODULE, .token_label = LABEL, .pin = PIN, .pool_size = 4,
	};
	sg_keystore *ks = NULL;
	int r = sg_keystore_pkcs11_open(&cfg, &ks);
	CHECK_RC(r, SG_OK);
	return r == SG_OK ? ks : NULL;
}

/* ---- the token's view ---- */

/* AES secret keys labelled label: up to cap handles, the count returned (99 on error). */
static CK_ULONG
aes_keys(const char *label, CK_OBJECT_HANDLE *objs, CK_ULONG cap)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ULONG n = 0;
	if (p11->C_FindObjectsInit(p11s, t, 3) != CKR_OK)
		return 99;
	if (p11->C_FindObjects(p11s, objs, cap, &n) != CKR_OK)
		n = 99;
	(void)p11->C_FindObjectsFinal(p11s);
	return n;
}

/* The CKA_ID of obj into id (cap 64): its length, 0 on error. */
static size_t
object_id(CK_OBJECT_HANDLE obj, uint8_t id[64])
{
	CK_ATTRIBUTE a = { CKA_ID, id, 64 };
	return p11->C_GetAttributeValue(p11s, obj, &a, 1) == CKR_OK ? a.ulValueLen : 0;
}

/*
 * pkcs11-tool's view of the master key (another process, from the token
 * files): 1 when exactly one AES-256 secret key carries the label and it
 * is listed for encrypt and decrypt only, sensitive, always sensitive,
 * never extractable and generated on the token; 0 otherwise; -2 when
 * pkcs11-tool failed.
 */
static int
tool_master_key(const char *label)
{
	const char *argv[] = { SG_PKCS11_TOOL, "--module", SG_SOFTHSM2_MODULE, "--token-label",
	    LABEL, "--login", "--pin", PIN, "--list-objects", "--type", "secrkey", NULL };
	char want_label[128], *out, *p;
	int found = 0, good = 0;

	snprintf(want_label, sizeof(want_label), "label:      %s\n", label);
	if (run(argv, "secret-keys.txt") != 0 || (out = read_tmp("secret-keys.txt")) == NULL)
		return -2;
	for (p = strstr(out, "Secret Key Object"); p != NULL;) {
		char *next = strstr(p + 1, "Secret Key Object");
		if (next != NULL)
			*next = '\0';
		if (strstr(p, want_label) != NULL) {
			found++;
			char *usage = strstr(p, "Usage:");
			char *eol = usage != NULL ? strchr(usage, '\n') : NULL;
			if (eol != NULL)
				*eol = '\0';
			good = strncmp(p, "Secret Key Object; AES length 32", 32) == 0 &&
			    usage != NULL && strcmp(usage, "Usage:      encrypt, decrypt") == 0 &&
			    eol != NULL && strstr(eol + 1, "Access:     sensitive, always sensitive, "
			    "never extractable, local") != NULL;
			if (eol != NULL)
				*eol = '\n';
			if (!good)
				fprintf(stderr, "pkcs11-tool lists:\n%s\n", p);
		}
		p = next != NULL ? next + 1 : NULL;
	}
	free(out);
	return found == 1 && good;
}

/* ---- the master key and the sealer ---- */

static void
test_master_key(sg_keystore *ks)
{
	sg_sealer *a = NULL, *b = NULL;
	CK_OBJECT_HANDLE objs[4];
	CK_BBOOL token = 0, private = 0, sensitive = 0, extractable = 1, always_sensitive = 0,
	    never_extractable = 0, enc = 0, dec = 0, wrap = 1, unwrap = 1, sign = 1, derive = 1,
	    local = 0;
	CK_ULONG len = 0;
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE attrs[] = {
		{ CKA_TOKEN, &token, 1 }, { CKA_PRIVATE, &private, 1 },
		{ CKA_SENSITIVE, &sensitive, 1 }, { CKA_EXTRACTABLE, &extractable, 1 },
		{ CKA_ALWAYS_SENSITIVE, &always_sensitive, 1 },
		{ CKA_NEVER_EXTRACTABLE, &never_extractable, 1 },
		{ CKA_ENCRYPT, &enc, 1 }, { CKA_DECRYPT, &dec, 1 }, { CKA_WRAP, &wrap, 1 },
		{ CKA_UNWRAP, &unwrap, 1 }, { CKA_SIGN, &sign, 1 }, { CKA_DERIVE, &derive, 1 },
		{ CKA_LOCAL, &local, 1 },
		{ CKA_VALUE_LEN, &len, sizeof(len) }, { CKA_KEY_TYPE, &kt, sizeof(kt) },
	};
	uint8_t value[64], id[64];
	CK_ATTRIBUTE secret = { CKA_VALUE, value, sizeof(value) };
	CK_RV rv;

	CHECK(aes_keys(MASTER, objs, 4) == 0);
	/* Not prepared: nothing happens in the token until the first seal. */
	CHECK_RC(sg_sealer_pkcs11_open(ks, NULL, 0, &a), SG_OK);
	CHECK(aes_keys(MASTER, objs, 4) == 0);
	sg_sealer_free(a);
	a = NULL;

	CHECK_RC(sg_sealer_pkcs11_open(ks, NULL, 1, &a), SG_OK);
	CHECK_RC(sg_sealer_pkcs11_open(ks, MASTER, 1, &b), SG_OK);
	CHECK_CTX(aes_keys(MASTER, objs, 4) == 1, "one AES key labelled %s", MASTER);
	rv = p11->C_GetAttributeValue(p11s, objs[0], attrs, sizeof(attrs) / sizeof(attrs[0]));
	CHECK_CTX(rv == CKR_OK, "C_GetAttributeValue 0x%lx", (unsigned long)rv);
	CHECK_CTX(token && private && sensitive && !extractable && always_sensitive &&
	    never_extractable && enc && dec && !wrap && !unwrap && !sign && !derive && local &&
	    len == 32 && kt == CKK_AES,
	    "token %d private %d sensitive %d extractable %d always_sensitive %d "
	    "never_extractable %d encrypt %d decrypt %d wrap %d unwrap %d sign %d derive %d "
	    "local %d len %lu type 0x%lx", token, private, sensitive, extractable,
	    always_sensitive, never_extractable, enc, dec, wrap, unwrap, sign, derive, local,
	    (unsigned long)len, (unsigned long)kt);
	rv = p11->C_GetAttributeValue(p11s, objs[0], &secret, 1);
	CHECK_CTX(rv == CKR_ATTRIBUTE_SENSITIVE, "reading CKA_VALUE gave 0x%lx", (unsigned long)rv);
	CHECK(object_id(objs[0], id) == 16);
	CHECK_CTX(tool_master_key(MASTER) == 1, "pkcs11-tool on the master key");
	sg_sealer_free(a);
	sg_sealer_free(b);
}

static void
test_sealer(sg_keystore *ks)
{
	static const uint8_t aad[] = "signet-key|k/1|ML-DSA-65";
	uint8_t plain[100], *blob = NULL, *back = NULL, id[64];
	size_t blob_len = 0, back_len = 0, id_len;
	sg_sealer *sl = NULL, *file = NULL;
	CK_OBJECT_HANDLE objs[2];
	char path[600];

	CHECK(RAND_bytes(plain, sizeof(plain)) == 1);
	CHECK_RC(sg_sealer_pkcs11_open(ks, NULL, 0, &sl), SG_OK);
	if (sl == NULL)
		return;
	CHECK_RC(sg_sealer_seal(sl, aad, sizeof(aad) - 1, plain, sizeof(plain), &blob, &blob_len),
	    SG_OK);
	if (blob == NULL)
		goto out;
	/* "SGK2" | 16 | CKA_ID | nonce | ciphertext | tag */
	CHECK(blob_len == 4 + 1 + 16 + 12 + sizeof(plain) + 16);
	CHECK(memcmp(blob, "SGK2", 4) == 0 && blob[4] == 16);
	CHECK(aes_keys(MASTER, objs, 2) == 1);
	id_len = object_id(objs[0], id);
	CHECK_CTX(id_len == 16 && memcmp(blob + 5, id, 16) == 0, "the blob names the master key");
	for (size_t i = 0; i + 16 <= blob_len; i++)
		CHECK_CTX(memcmp(blob + i, plain, 16) != 0, "plaintext at offset %zu", i);

	CHECK_RC(sg_sealer_open(sl, aad, sizeof(aad) - 1, blob, blob_len, &back, &back_len), SG_OK);
	CHECK(back != NULL && back_len == sizeof(plain) && memcmp(back, plain, sizeof(plain)) == 0);
	free(back);
	back = NULL;

	/* Other associated data: another version id, another algorithm, none. */
	static const uint8_t aad2[] = "signet-key|k/2|ML-DSA-65";
	static const uint8_t aad3[] = "signet-key|k/1|ML-DSA-44";
	CHECK_RC(sg_sealer_open(sl, aad2, sizeof(aad2) - 1, blob, blob_len, &back, &back_len),
	    SG_ERR_CRYPTO);
	CHECK_RC(sg_sealer_open(sl, aad3, sizeof(aad3) - 1, blob, blob_len, &back, &back_len),
	    SG_ERR_CRYPTO);
	CHECK_RC(sg_sealer_open(sl, NULL, 0, blob, blob_len, &back, &back_len), SG_ERR_CRYPTO);
	/* A flipped bit in the nonce, the ciphertext and the tag. */
	size_t spots[] = { 4 + 1 + 16, 4 + 1 + 16 + 12 + 50, blob_len - 1 };
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		blob[spots[i]] ^= 0x04;
		CHECK_RC(sg_sealer_open(sl, aad, sizeof(aad) - 1, blob, blob_len, &back, &back_len),
		    SG_ERR_CRYPTO);
		blob[spots[i]] ^= 0x04;
	}
	/* A key id the token does not have; truncated; an id length past the end. */
	blob[5] ^= 0x80;
	CHECK_RC(sg_sealer_open(sl, aad, sizeof(aad) - 1, blob, blob_len, &back, &back_len),
	    SG_ERR_KEY_NOT_ACTIVE);
	blob[5] ^= 0x80;
	CHECK_RC(sg_sealer_open(sl, aad, sizeof(aad) - 1, blob, 4 + 1 + 16 + 12 + 16, &back,
	    &back_len), SG_ERR_KEY_NOT_ACTIVE);
	blob[4] = 200;
	CHECK_RC(sg_sealer_open(sl, aad, sizeof(aad) - 1, blob, blob_len, &back, &back_len),
	    SG_ERR_KEY_NOT_ACTIVE);
	blob[4] = 16;
	CHECK(back == NULL);
	/* Still fine after all that. */
	CHECK_RC(sg_sealer_open(sl, aad, sizeof(aad) - 1, blob, blob_len, &back, &back_len), SG_OK);
	free(back);
	back = NULL;

	/* The file sealer and the PKCS#11 one do not take each other's blobs. */
	tmp_path(path, sizeof(path), "sealer-test.key");
	CHECK_RC(sg_sealer_file_open(path, 0, &file), SG_ERR_NOT_FOUND);
	CHECK(access(path, F_OK) != 0 && errno == ENOENT);
	CHECK_RC(sg_sealer_file_open(path, 1, &file), SG_OK);
	if (file != NULL) {
		uint8_t *fblob = NULL;
		size_t fblob_len = 0;
		CHECK_RC(sg_sealer_open(file, aad, sizeof(aad) - 1, blob, blob_len, &back, &back_len),
		    SG_ERR_KEY_NOT_ACTIVE);
		CHECK_RC(sg_sealer_seal(file, aad, sizeof(aad) - 1, plain, sizeof(plain), &fblob,
		    &fblob_len), SG_OK);
		CHECK(fblob != NULL && memcmp(fblob, "SGK1", 4) == 0);
		CHECK_RC(sg_sealer_open(sl, aad, sizeof(aad) - 1, fblob, fblob_len, &back,
		    &back_len), SG_ERR_KEY_NOT_ACTIVE);
		free(fblob);
		sg_sealer_free(file);
	}
	unlink(path);
out:
	free(blob);
	sg_sealer_free(sl);
}

/* Make an AES key in the token through our own session. */
static int
make_aes_key(const char *label, const uint8_t *id, size_t id_len, int sensitive)
{
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE obj;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) }, { CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE_LEN, &len, sizeof(len) }, { CKA_TOKEN, &yes, 1 },
		{ CKA_PRIVATE, &yes, 1 }, { CKA_ENCRYPT, &yes, 1 }, { CKA_DECRYPT, &yes, 1 },
		{ CKA_LABEL, (void *)label, strlen(label) }, { CKA_ID, (void *)id, id_len },
		{ CKA_SENSITIVE, sensitive ? &yes : &no, 1 },
		{ CKA_EXTRACTABLE, sensitive ? &no : &yes, 1 },
	};
	CK_RV rv = p11->C_GenerateKey(p11s, &mech, t, sizeof(t) / sizeof(t[0]), &obj);
	CHECK_CTX(rv == CKR_OK, "C_GenerateKey %s: 0x%lx", label, (unsigned long)rv);
	return rv == CKR_OK ? 0 : -1;
}

static void
test_unfit_and_duplicate_keys(sg_keystore *ks)
{
	static const uint8_t aad[] = "signet-key|dup/1|EC-P256";
	static const uint8_t low_id[16] = { 0 };
	uint8_t plain[48], *blob_a = NULL, *blob_b = NULL, *back = NULL;
	size_t la = 0, lb = 0, back_len = 0;
	sg_sealer *a = NULL, *b = NULL, *weak = NULL;
	uint8_t weak_id[16] = { 0x77 };
	CK_OBJECT_HANDLE objs[4];

	/* An operator-made key that could be read out is not a master key. */
	if (make_aes_key("weak-master", weak_id, sizeof(weak_id), 0) == 0) {
		CHECK_RC(sg_sealer_pkcs11_open(ks, "weak-master", 1, &weak), SG_ERR_PERMISSION_DENIED);
		CHECK(weak == NULL);
		CHECK(aes_keys("weak-master", objs, 4) == 1);   /* and no second one was made */
	}

	/*
	 * Two processes generated a key under one label at the same moment: new
	 * blobs go under the smaller CKA_ID, and blobs under either key open.
	 */
	CHECK(RAND_bytes(plain, sizeof(plain)) == 1);
	CHECK_RC(sg_sealer_pkcs11_open(ks, "dup-master", 1, &a), SG_OK);
	if (a == NULL)
		return;
	CHECK_RC(sg_sealer_seal(a, aad, sizeof(aad) - 1, plain, sizeof(plain), &blob_a, &la),
	    SG_OK);
	if (make_aes_key("dup-master", low_id, sizeof(low_id), 1) == 0) {
		CHECK(aes_keys("dup-master", objs, 4) == 2);
		CHECK_RC(sg_sealer_pkcs11_open(ks, "dup-master", 1, &b), SG_OK);
	}
	if (b != NULL && blob_a != NULL) {
		CHECK_RC(sg_sealer_seal(b, aad, sizeof(aad) - 1, plain, sizeof(plain), &blob_b, &lb),
		    SG_OK);
		CHECK(blob_b != NULL && memcmp(blob_b + 5, low_id, 16) == 0);
		CHECK(memcmp(blob_a + 5, low_id, 16) != 0);
		CHECK_RC(sg_sealer_open(b, aad, sizeof(aad) - 1, blob_a, la, &back, &back_len), SG_OK);
		CHECK(back != NULL && back_len == sizeof(plain) &&
		    memcmp(back, plain, sizeof(plain)) == 0);
		free(back);
		back = NULL;
		CHECK_RC(sg_sealer_open(a, aad, sizeof(aad) - 1, blob_b, lb, &back, &back_len), SG_OK);
		free(back);
	}
	free(blob_a);
	free(blob_b);
	sg_sealer_free(a);
	sg_sealer_free(b);
}

/* ---- signing and verifying ---- */

typedef struct test_key {
	char version_id[64];
	sg_key_alg alg;
	uint8_t *handle, *spki;
	size_t handle_len, spki_len;
} test_key;

/* Generate, expecting want; SG_OK or the result. */
static int
gen_want(sg_keystore *ks, const char *version_id, sg_key_alg alg, test_key *k, int want)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->version_id, sizeof(k->version_id), "%s", version_id);
	k->alg = alg;
	int r = sg_keystore_generate(ks, version_id, alg, &k->handle, &k->handle_len, &k->spki,
	    &k->spki_len);
	CHECK_CTX(r == want, "generate %s %s: %s, want %s", sg_key_alg_name(alg), version_id,
	    sg_err_str(r), sg_err_str(want));
	if (r != SG_OK)
		CHECK(k->handle == NULL && k->spki == NULL);
	return r;
}

static int
gen(sg_keystore *ks, const char *version_id, sg_key_alg alg, test_key *k)
{
	return gen_want(ks, version_id, alg, k, SG_OK);
}

static void
key_free(test_key *k)
{
	free(k->handle);
	free(k->spki);
	k->handle = k->spki = NULL;
}

static sg_key_ref
ref_of(const test_key *k)
{
	return (sg_key_ref){ k->version_id, k->alg, k->handle, k->handle_len };
}

static sg_sign_params
params_for(sg_key_alg alg)
{
	sg_sign_params p = { .hash = alg == SG_KEY_MLDSA65_ECDSA_P256 ? SG_HASH_SHA512 :
	    SG_HASH_SHA256, .pss_salt_len = -1 };
	if (sg_sign_params_check(alg, &p) != SG_OK)
		CHECK_CTX(0, "no parameters for %s", sg_key_alg_name(alg));
	return p;
}

/*
 * An Ed25519 key of ks signs a message (params->message: the bytes as they
 * are, far longer than any digest, as X.509 TBS are); OpenSSL's own pure
 * EdDSA verification over the key's SPKI accepts it and refuses it for a
 * message one bit off.  optional: a keystore (a token) that may lack
 * Ed25519, whose refusal to generate skips the check.
 */
static void
ed25519_message_check(sg_keystore *ks, const char *version_id, int optional)
{
	test_key k;
	uint8_t msg[3000], *sig = NULL;
	size_t siglen = 0;
	EVP_PKEY *pub = NULL;
	if (sg_keystore_generate(ks, version_id, SG_KEY_ED25519, &k.handle, &k.handle_len, &k.spki,
	    &k.spki_len) != SG_OK) {
		CHECK_CTX(optional, "%s: cannot generate an Ed25519 key", version_id);
		printf("# %s: no Ed25519 in this keystore, message check skipped\n", version_id);
		return;
	}
	snprintf(k.version_id, sizeof(k.version_id), "%s", version_id);
	k.alg = SG_KEY_ED25519;
	sg_key_ref ref = ref_of(&k);
	sg_sign_params p = { .hash = SG_HASH_SHA512, .scheme = SG_SCHEME_ED25519, .pss_salt_len = -1,
	    .message = 1 };
	CHECK_RC(sg_sign_params_check(SG_KEY_ED25519, &p), SG_OK);
	CHECK(RAND_bytes(msg, sizeof(msg)) == 1);
	CHECK_RC(sg_keystore_sign(ks, &ref, &p, msg, sizeof(msg), &sig, &siglen), SG_OK);
	const unsigned char *sp = k.spki;
	CHECK((pub = d2i_PUBKEY(NULL, &sp, (long)k.spki_len)) != NULL);
	for (int flip = 0; pub != NULL && sig != NULL && flip < 2; flip++) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		msg[1234] ^= (uint8_t)flip;
		int ok = c != NULL && EVP_DigestVerifyInit(c, NULL, NULL, NULL, pub) == 1 &&
		    EVP_DigestVerify(c, sig, siglen, msg, sizeof(msg)) == 1;
		CHECK_CTX(ok == !flip, "%s: Ed25519 message signature %s", version_id,
		    flip ? "verifies over another message" : "does not verify");
		EVP_MD_CTX_free(c);
	}
	EVP_PKEY_free(pub);
	free(sig);
	key_free(&k);
}

/*
 * Sign a random digest with k through ks; want the result.  On SG_OK the
 * signature must verify (by the openssl command line for classical keys,
 * sg_verify_digest for ML-DSA and the composite) and fail for another
 * digest.
 */
static void
sign_check(sg_keystore *ks, const test_key *k, int want)
{
	sg_sign_params p = params_for(k->alg);
	sg_key_ref ref = ref_of(k);
	uint8_t digest[SG_MAX_DIGEST], *sig = NULL;
	size_t dlen = sg_hash_len(p.hash), siglen = 0;
	int r;

	CHECK(RAND_bytes(digest, (int)dlen) == 1);
	r = sg_keystore_sign(ks, &ref, &p, digest, dlen, &sig, &siglen);
	CHECK_CTX(r == want, "sign with %s %s: %s, want %s", sg_key_alg_name(k->alg),
	    k->version_id, sg_err_str(r), sg_err_str(want));
	if (r != SG_OK) {
		CHECK(sig == NULL);
		free(sig);
		return;
	}
	if (k->alg <= SG_KEY_ED25519) {
		char *pem = NULL;
		CHECK(sg_spki_to_pem(k->spki, k->spki_len, &pem) == SG_OK && pem != NULL);
		CHECK(pem != NULL && write_tmp("pub.pem", pem, strlen(pem)) == 0);
		free(pem);
		const char *argv[] = { SG_OPENSSL_CLI, "pkeyutl", "-verify", "-pubin", "-inkey",
		    "pub.pem", "-in", "digest.bin", "-sigfile", "sig.bin", "-pkeyopt",
		    "digest:sha256", NULL };
		CHECK(write_tmp("digest.bin", digest, dlen) == 0 &&
		    write_tmp("sig.bin", sig, siglen) == 0);
		CHECK_CTX(run(argv, NULL) == 0, "openssl does not verify %s %s",
		    sg_key_alg_name(k->alg), k->version_id);
		digest[0] ^= 1;
		CHECK(write_tmp("digest.bin", digest, dlen) == 0);
		CHECK_CTX(run(argv, NULL) != 0, "openssl verifies a wrong digest");
	} else {
		CHECK_RC(sg_verify_digest(k->alg, k->spki, k->spki_len, &p, digest, dlen, sig,
		    siglen), SG_OK);
		digest[0] ^= 1;
		CHECK_RC(sg_verify_digest(k->alg, k->spki, k->spki_len, &p, digest, dlen, sig,
		    siglen), SG_ERR_BAD_SIGNATURE);
	}
	free(sig);
}

static int
file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* ---- DISK keys under the HSM master key ---- */

static int
custody(const char *dir_name, int in_hsm, int cache, sg_keystore **disk, sg_keystore **hsm,
    char *master_path, size_t cap)
{
	char dir[600];
	sg_keystore *token;
	tmp_path(dir, sizeof(dir), dir_name);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(master_path, cap, "%s/master.key", dir);
	sg_custody_config cc = { .master_key_path = master_path, .master_key_in_hsm = in_hsm,
		.master_key_label = NULL, .cache_keys = cache };
	if ((token = open_p11()) == NULL)
		return -1;
	int r = sg_custody_open(&cc, token, disk, hsm);
	CHECK_RC(r, SG_OK);
	if (r != SG_OK) {
		sg_keystore_close(token);
		return -1;
	}
	return 0;
}

static void
test_disk_in_hsm(void)
{
	sg_keystore *disk = NULL, *hsm = NULL;
	char master[700];
	test_key k;

	if (custody("disk-hsm", 1, 1, &disk, &hsm, master, sizeof(master)) != 0)
		return;
	CHECK(strcmp(disk->ops->storage, "DISK") == 0 && strcmp(hsm->ops->storage, "HSM") == 0);
	if (gen(disk, "disk-hsm/1", SG_KEY_EC_P256, &k) == SG_OK) {
		CHECK(k.handle_len > 4 && memcmp(k.handle, "SGK2", 4) == 0);
		sign_check(disk, &k, SG_OK);
		sign_check(disk, &k, SG_OK);   /* from the cache */
		/* Bound to its version id (the algorithm: see test_hsm_storage, no cache there). */
		test_key moved = k;
		snprintf(moved.version_id, sizeof(moved.version_id), "disk-hsm/2");
		sign_check(disk, &moved, SG_ERR_CRYPTO);
		key_free(&k);
	}
	ed25519_message_check(disk, "disk-hsm-ed/1", 0);
	CHECK_CTX(!file_exists(master), "%s was created with the master key in the HSM", master);
	sg_keystore_close(hsm);   /* either order */
	sg_keystore_close(disk);
	CHECK(!file_exists(master));
}

/* Keys sealed by master.key keep working after the master key moved into the HSM. */
static void
test_migration(void)
{
	sg_keystore *disk = NULL, *hsm = NULL;
	char master[700];
	test_key old, fresh;
	int have_old, have_fresh = 0;

	if (custody("migrate", 0, 0, &disk, &hsm, master, sizeof(master)) != 0)
		return;
	CHECK(file_exists(master));
	have_old = gen(disk, "migrate/1", SG_KEY_EC_P256, &old) == SG_OK;
	if (have_old) {
		CHECK(memcmp(old.handle, "SGK1", 4) == 0);
		sign_check(disk, &old, SG_OK);
	}
	sg_keystore_close(disk);
	sg_keystore_close(hsm);

	if (custody("migrate", 1, 0, &disk, &hsm, master, sizeof(master)) != 0)
		goto out;
	if (have_old)
		sign_check(disk, &old, SG_OK);
	have_fresh = gen(disk, "migrate/2", SG_KEY_EC_P256, &fresh) == SG_OK;
	if (have_fresh) {
		CHECK(memcmp(fresh.handle, "SGK2", 4) == 0);
		sign_check(disk, &fresh, SG_OK);
	}
	sg_keystore_close(disk);
	sg_keystore_close(hsm);

	/* And back to the file: keys sealed in the HSM meanwhile still open. */
	if (custody("migrate", 0, 0, &disk, &hsm, master, sizeof(master)) != 0)
		goto out;
	if (have_old)
		sign_check(disk, &old, SG_OK);
	if (have_fresh)
		sign_check(disk, &fresh, SG_OK);
	sg_keystore_close(disk);
	sg_keystore_close(hsm);

	/* Without master.key an "SGK1" key is the operator's problem: 503, not a bad request. */
	CHECK(unlink(master) == 0);
	if (custody("migrate", 1, 0, &disk, &hsm, master, sizeof(master)) != 0)
		goto out;
	if (have_old)
		sign_check(disk, &old, SG_ERR_UNAVAILABLE);
	if (have_fresh)
		sign_check(disk, &fresh, SG_OK);
	CHECK(!file_exists(master));
	sg_keystore_close(disk);
	sg_keystore_close(hsm);
out:
	if (have_old)
		key_free(&old);
	if (have_fresh)
		key_free(&fresh);
}

/* ---- storage HSM for ML-DSA and the composite ---- */

#define THREADS 4
#define PER_THREAD 10

typedef struct thread_arg {
	sg_keystore *ks;
	const test_key *k;
	int ok, bad;
} thread_arg;

static void *
signer(void *argp)
{
	thread_arg *a = argp;
	sg_sign_params p = { .hash = SG_HASH_SHA256, .pss_salt_len = -1 };
	sg_key_ref ref = ref_of(a->k);

	if (sg_sign_params_check(a->k->alg, &p) != SG_OK) {
		a->bad = PER_THREAD;
		return NULL;
	}
	for (int i = 0; i < PER_THREAD; i++) {
		uint8_t digest[32], *sig = NULL;
		size_t siglen = 0;
		if (RAND_bytes(digest, sizeof(digest)) == 1 &&
		    sg_keystore_sign(a->ks, &ref, &p, digest, 32, &sig, &siglen) == SG_OK &&
		    sg_verify_digest(a->k->alg, a->k->spki, a->k->spki_len, &p, digest, 32, sig,
		    siglen) == SG_OK)
			a->ok++;
		else
			a->bad++;
		free(sig);
	}
	return NULL;
}

static void
test_concurrency(sg_keystore *ks, const test_key *k)
{
	pthread_t t[THREADS];
	thread_arg args[THREADS];
	int ok = 0, bad = 0;

	for (int i = 0; i < THREADS; i++) {
		args[i] = (thread_arg){ .ks = ks, .k = k };
		CHECK(pthread_create(&t[i], NULL, signer, &args[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += args[i].ok;
		bad += args[i].bad;
	}
	CHECK_CTX(ok == THREADS * PER_THREAD && bad == 0, "%d verified, %d failed", ok, bad);
}

static void
test_hsm_storage(sg_keystore *hsm)
{
	static const sg_key_alg pq[] = {
		SG_KEY_MLDSA_44, SG_KEY_MLDSA_65, SG_KEY_MLDSA_87, SG_KEY_MLDSA65_ECDSA_P256,
	};
	test_key k, ec;

	ed25519_message_check(hsm, "hsm-ed/1", 1);
	for (size_t i = 0; i < sizeof(pq) / sizeof(pq[0]); i++) {
		char vid[64];
		snprintf(vid, sizeof(vid), "pq-%zu/1", i);
		if (gen(hsm, vid, pq[i], &k) != SG_OK)
			continue;
		CHECK_CTX(k.handle_len > 4 && memcmp(k.handle, "SGK2", 4) == 0, "%s handle",
		    sg_key_alg_name(pq[i]));
		sign_check(hsm, &k, SG_OK);
		sign_check(hsm, &k, SG_OK);
		key_free(&k);
	}

	if (gen(hsm, "pq-65/1", SG_KEY_MLDSA_65, &k) != SG_OK)
		return;
	/* Another version id, another algorithm, a flipped byte: none opens. */
	test_key bad = k;
	snprintf(bad.version_id, sizeof(bad.version_id), "pq-65/2");
	sign_check(hsm, &bad, SG_ERR_CRYPTO);
	bad = k;
	bad.alg = SG_KEY_MLDSA_44;
	sign_check(hsm, &bad, SG_ERR_CRYPTO);
	k.handle[k.handle_len - 20] ^= 0x10;
	sign_check(hsm, &k, SG_ERR_CRYPTO);
	k.handle[k.handle_len - 20] ^= 0x10;
	sign_check(hsm, &k, SG_OK);
	test_concurrency(hsm, &k);

	/* Classical algorithms still live inside the token. */
	if (gen(hsm, "ec-in-token/1", SG_KEY_EC_P256, &ec) == SG_OK) {
		CHECK(ec.handle_len == 17 && ec.handle[0] == 0x01);
		sign_check(hsm, &ec, SG_OK);
		sg_key_ref ref = ref_of(&ec);
		CHECK_RC(sg_keystore_destroy(hsm, &ref), SG_OK);
		sign_check(hsm, &ec, SG_ERR_KEY_NOT_ACTIVE);
		key_free(&ec);
	}
	/* A handle neither custodian made. */
	uint8_t junk[40] = { 'X', 'Y' };
	test_key j = { .alg = SG_KEY_MLDSA_65, .handle = junk, .handle_len = sizeof(junk) };
	snprintf(j.version_id, sizeof(j.version_id), "junk/1");
	sign_check(hsm, &j, SG_ERR_KEY_NOT_ACTIVE);
	/* Destroying a sealed version: the store drops the blob; idempotent here. */
	sg_key_ref ref = ref_of(&k);
	CHECK_RC(sg_keystore_destroy(hsm, &ref), SG_OK);
	CHECK_RC(sg_keystore_destroy(hsm, &ref), SG_OK);
	key_free(&k);
}

/* ---- the token going away ---- */

static void
test_token_loss(sg_keystore *disk, sg_keystore *hsm)
{
	char dir[600], away[600];
	test_key pq, cached, uncached;
	int have_pq, have_cached, have_uncached, r;

	have_pq = gen(hsm, "loss-pq/1", SG_KEY_MLDSA_65, &pq) == SG_OK;
	have_cached = gen(disk, "loss-disk/1", SG_KEY_EC_P256, &cached) == SG_OK;
	have_uncached = gen(disk, "loss-disk/2", SG_KEY_EC_P256, &uncached) == SG_OK;
	if (!have_pq || !have_cached || !have_uncached || token_subdir(dir, sizeof(dir)) != 0) {
		CHECK_CTX(0, "cannot set up the token loss test");
		goto out;
	}
	sign_check(hsm, &pq, SG_OK);
	sign_check(disk, &cached, SG_OK);

	tmp_path(away, sizeof(away), "token-away");
	CHECK(rename(dir, away) == 0);
	for (int i = 0; i < 3; i++)
		sign_check(hsm, &pq, SG_ERR_UNAVAILABLE);
	/* The DISK key cache holds unsealed keys: those sign on; the others wait. */
	sign_check(disk, &cached, SG_OK);
	sign_check(disk, &uncached, SG_ERR_UNAVAILABLE);
	test_key t;
	(void)gen_want(hsm, "loss-pq/2", SG_KEY_MLDSA_65, &t, SG_ERR_UNAVAILABLE);
	(void)gen_want(disk, "loss-disk/3", SG_KEY_EC_P256, &t, SG_ERR_UNAVAILABLE);

	CHECK(rename(away, dir) == 0);
	/* Rebuilds are attempted at most once a second: give it a few. */
	sg_sign_params p = params_for(SG_KEY_MLDSA_65);
	sg_key_ref ref = ref_of(&pq);
	uint8_t digest[32] = { 9 }, *sig = NULL;
	size_t siglen = 0;
	r = SG_ERR_UNAVAILABLE;
	for (int i = 0; i < 50 && r == SG_ERR_UNAVAILABLE; i++) {
		r = sg_keystore_sign(hsm, &ref, &p, digest, 32, &sig, &siglen);
		if (r == SG_ERR_UNAVAILABLE)
			nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	CHECK_CTX(r == SG_OK, "after the token came back: %s", sg_err_str(r));
	free(sig);
	if (r == SG_OK) {
		sign_check(hsm, &pq, SG_OK);
		sign_check(disk, &uncached, SG_OK);
		test_concurrency(hsm, &pq);
	}
out:
	if (have_pq)
		key_free(&pq);
	if (have_cached)
		key_free(&cached);
	if (have_uncached)
		key_free(&uncached);
}

int
main(void)
{
	sg_keystore *base, *disk = NULL, *hsm = NULL;
	char master[700];

	/* The expected failures would be noise; SG_TEST_LOG=1 shows the log. */
	if (getenv("SG_TEST_LOG") == NULL)
		sg_log_set_level((sg_log_level)(SG_LOG_ERROR + 1));
	if (setup_token() != 0) {
		fprintf(stderr, "cannot set up a SoftHSM2 token in %s\n", tmpdir);
		return 1;
	}
	/* base keeps the module initialised for p11_attach's session. */
	if ((base = open_p11()) == NULL || p11_attach() != 0) {
		fprintf(stderr, "cannot open the keystore or attach to the token\n");
		return 1;
	}
	test_master_key(base);
	test_sealer(base);
	test_unfit_and_duplicate_keys(base);
	test_disk_in_hsm();
	test_migration();
	if (custody("loss", 1, 1, &disk, &hsm, master, sizeof(master)) == 0) {
		test_hsm_storage(hsm);
		/*
		 * For the token loss, this custody set must be the module's only
		 * user: SoftHSM2 sees a returning token only after C_Finalize.
		 */
		p11_detach();
		sg_keystore_close(base);
		base = NULL;
		test_token_loss(disk, hsm);
		sg_keystore_close(disk);
		sg_keystore_close(hsm);
	}
	p11_detach();
	sg_keystore_close(base);
	/* p11dl stays open on purpose (softhsm_test.h). */

	if (failures == 0)
		rm_rf(tmpdir);
	printf("keystore_sealed: %d checks, %d failures%s%s\n", checks, failures,
	    failures ? "; token left in " : "", failures ? tmpdir : "");
	return failures == 0 ? 0 : 1;
}
