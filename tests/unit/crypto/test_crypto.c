/*
 * test_crypto.c - unit tests of src/crypto: names, digest decoding, ECDSA
 * encodings, the parameter matrix, key custody round trips, and sign/verify
 * for every classical key algorithm, scheme, format and hash.
 *
 * Every signature is checked twice: by sg_verify_digest and, independently,
 * by the `openssl` command line over the published SPKI PEM, and a flipped
 * bit must fail both.  The deterministic schemes (RSA-PKCS1, Ed25519) are
 * also signed by the command line with the exported key and must match
 * byte for byte.  One key per algorithm is generated and reused, to keep
 * the run short.  ML-DSA is in test_pq.c.  Usage: test_crypto VECTORS_DIR;
 * exit status 0 only when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "sg_crypto.h"
#include "sg_b64.h"
#include "sg_secret.h"
#include "test_util.h"

#ifndef SG_OPENSSL_CLI
#error "SG_OPENSSL_CLI must name the openssl command line tool"
#endif

static const sg_hash_alg all_hashes[] = {
	SG_HASH_MD5, SG_HASH_SHA1, SG_HASH_SHA256, SG_HASH_SHA384, SG_HASH_SHA512,
	SG_HASH_SHA3_256, SG_HASH_SHA3_384, SG_HASH_SHA3_512,
};
#define NHASHES (sizeof(all_hashes) / sizeof(all_hashes[0]))

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
	default: return NULL;
	}
}

static sg_sign_params
params_of(sg_hash_alg h, sg_sig_scheme s, sg_sig_format f, int salt)
{
	sg_sign_params p;
	memset(&p, 0, sizeof(p));
	p.hash = h;
	p.scheme = s;
	p.format = f;
	p.pss_salt_len = salt;
	return p;
}

/* The digest of a fixed message under h, computed with OpenSSL directly. */
static size_t
make_digest(sg_hash_alg h, uint8_t out[SG_MAX_DIGEST])
{
	static const char msg[] = "Signet signs this release artifact";
	unsigned int n = 0;
	if (EVP_Digest(msg, sizeof(msg) - 1, out, &n, sg_hash_md(h), NULL) != 1)
		return 0;
	return n;
}

/* ---- the openssl command line ---- */

/* Append "-pkeyopt" "name:value" pairs for scheme p to args at *n. */
static void
cli_pkeyopts(const sg_sign_params *p, const char **args, size_t *n, char *bufs, size_t bufsz)
{
	char *digest = bufs, *salt = bufs + bufsz, *mgf = bufs + 2 * bufsz;
	int saltlen = p->pss_salt_len == -1 ? (int)sg_hash_len(p->hash) : p->pss_salt_len;

	snprintf(digest, bufsz, "digest:%s", cli_digest_name(p->hash));
	if (p->scheme == SG_SCHEME_RSA_PSS) {
		args[(*n)++] = "-pkeyopt";
		args[(*n)++] = "rsa_padding_mode:pss";
		snprintf(salt, bufsz, "rsa_pss_saltlen:%d", saltlen);
		args[(*n)++] = "-pkeyopt";
		args[(*n)++] = salt;
		snprintf(mgf, bufsz, "rsa_mgf1_md:%s", cli_digest_name(p->hash));
		args[(*n)++] = "-pkeyopt";
		args[(*n)++] = mgf;
	} else if (p->scheme == SG_SCHEME_RSA_PKCS1) {
		args[(*n)++] = "-pkeyopt";
		args[(*n)++] = "rsa_padding_mode:pkcs1";
	}
	if (p->scheme != SG_SCHEME_ED25519) {
		args[(*n)++] = "-pkeyopt";
		args[(*n)++] = digest;
	} else {
		args[(*n)++] = "-rawin";
	}
}

/* openssl pkeyutl -verify over pub.pem, digest.bin, sig.bin: 1 when verified. */
static int
cli_verify(const sg_sign_params *p)
{
	const char *args[32] = { "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem",
	    "-in", "digest.bin", "-sigfile", "sig.bin" };
	size_t n = 9;
	char bufs[3 * 64];

	cli_pkeyopts(p, args, &n, bufs, 64);
	args[n] = NULL;
	return test_run(SG_OPENSSL_CLI, args) == 0;
}

/* openssl pkeyutl -sign with key.der over digest.bin into clisig.bin. */
static int
cli_sign(const sg_sign_params *p)
{
	const char *args[32] = { "pkeyutl", "-sign", "-keyform", "DER", "-inkey", "key.der",
	    "-in", "digest.bin", "-out", "clisig.bin" };
	size_t n = 10;
	char bufs[3 * 64];

	cli_pkeyopts(p, args, &n, bufs, 64);
	args[n] = NULL;
	return test_run(SG_OPENSSL_CLI, args) == 0;
}

/* Independent P1363 -> DER for the command line: INTEGERs by hand. */
static size_t
der_integer(uint8_t *o, const uint8_t *v, size_t n)
{
	size_t i = 0, len;
	while (i < n - 1 && v[i] == 0)
		i++;
	len = n - i + ((v[i] & 0x80) ? 1 : 0);
	o[0] = 0x02;
	o[1] = (uint8_t)len;
	if (v[i] & 0x80) {
		o[2] = 0;
		memcpy(o + 3, v + i, n - i);
	} else {
		memcpy(o + 2, v + i, n - i);
	}
	return 2 + len;
}

static size_t
p1363_to_der_by_hand(const uint8_t *raw, size_t rawlen, uint8_t *out)
{
	uint8_t body[2 * 70];
	size_t blen = der_integer(body, raw, rawlen / 2);
	size_t hdr;

	blen += der_integer(body + blen, raw + rawlen / 2, rawlen / 2);
	out[0] = 0x30;
	if (blen < 128) {
		out[1] = (uint8_t)blen;
		hdr = 2;
	} else {
		out[1] = 0x81;
		out[2] = (uint8_t)blen;
		hdr = 3;
	}
	memcpy(out + hdr, body, blen);
	return hdr + blen;
}

/* ---- names ---- */

static void
test_names(void)
{
	static const struct { sg_hash_alg h; const char *name; size_t len; const char *oid; } hv[] = {
		{ SG_HASH_MD5, "MD5", 16, "1.2.840.113549.2.5" },
		{ SG_HASH_SHA1, "SHA-1", 20, "1.3.14.3.2.26" },
		{ SG_HASH_SHA256, "SHA-256", 32, "2.16.840.1.101.3.4.2.1" },
		{ SG_HASH_SHA384, "SHA-384", 48, "2.16.840.1.101.3.4.2.2" },
		{ SG_HASH_SHA512, "SHA-512", 64, "2.16.840.1.101.3.4.2.3" },
		{ SG_HASH_SHA3_256, "SHA3-256", 32, "2.16.840.1.101.3.4.2.8" },
		{ SG_HASH_SHA3_384, "SHA3-384", 48, "2.16.840.1.101.3.4.2.9" },
		{ SG_HASH_SHA3_512, "SHA3-512", 64, "2.16.840.1.101.3.4.2.10" },
	};
	for (size_t i = 0; i < sizeof(hv) / sizeof(hv[0]); i++) {
		CHECK(sg_hash_from_name(hv[i].name) == hv[i].h);
		CHECK(strcmp(sg_hash_name(hv[i].h), hv[i].name) == 0);
		CHECK(sg_hash_len(hv[i].h) == hv[i].len);
		CHECK(sg_hash_from_oid(hv[i].oid) == hv[i].h);
		CHECK(strcmp(sg_hash_oid(hv[i].h), hv[i].oid) == 0);
		CHECK(sg_hash_md(hv[i].h) != NULL &&
		    (size_t)EVP_MD_get_size(sg_hash_md(hv[i].h)) == hv[i].len);
		CHECK(sg_hash_is_legacy(hv[i].h) == (hv[i].h == SG_HASH_MD5 || hv[i].h == SG_HASH_SHA1));
	}
	CHECK(sg_hash_from_name("sha256") == SG_HASH_SHA256);
	CHECK(sg_hash_from_name("SHA256") == SG_HASH_SHA256);
	CHECK(sg_hash_from_name("SHA3_256") == SG_HASH_SHA3_256);
	CHECK(sg_hash_from_name("sha3-512") == SG_HASH_SHA3_512);
	CHECK(sg_hash_from_name("sha1") == SG_HASH_SHA1);
	CHECK(sg_hash_from_name("SHA-257") == SG_HASH_NONE);
	CHECK(sg_hash_from_name("") == SG_HASH_NONE);
	CHECK(sg_hash_from_name(NULL) == SG_HASH_NONE);
	CHECK(sg_hash_from_oid("2.16.840.1.101.3.4.2.4") == SG_HASH_NONE);
	CHECK(sg_hash_name(SG_HASH_NONE) == NULL && sg_hash_len(SG_HASH_NONE) == 0);
	CHECK(sg_hash_md(SG_HASH_NONE) == NULL);

	CHECK(sg_key_alg_from_name("RSA-2048") == SG_KEY_RSA_2048);
	CHECK(sg_key_alg_from_name("rsa-4096") == SG_KEY_RSA_4096);
	CHECK(sg_key_alg_from_name("EC-P256") == SG_KEY_EC_P256);
	CHECK(sg_key_alg_from_name("ec-p521") == SG_KEY_EC_P521);
	CHECK(sg_key_alg_from_name("ED25519") == SG_KEY_ED25519);
	CHECK(sg_key_alg_from_name("ML-DSA-65") == SG_KEY_MLDSA_65);
	CHECK(sg_key_alg_from_name("ml-dsa-87") == SG_KEY_MLDSA_87);
	CHECK(sg_key_alg_from_name("Dilithium3") == SG_KEY_MLDSA_65);
	CHECK(sg_key_alg_from_name("DILITHIUM3") == SG_KEY_MLDSA_65);
	CHECK(sg_key_alg_from_name("MLDSA65-ECDSA-P256") == SG_KEY_MLDSA65_ECDSA_P256);
	CHECK(sg_key_alg_from_name("RSA-1024") == SG_KEY_NONE);
	CHECK(sg_key_alg_from_name(NULL) == SG_KEY_NONE);
	CHECK(strcmp(sg_key_alg_name(SG_KEY_MLDSA_65), "ML-DSA-65") == 0);
	CHECK(strcmp(sg_key_alg_name(SG_KEY_EC_P384), "EC-P384") == 0);
	CHECK(sg_key_alg_bits(SG_KEY_RSA_3072) == 3072);
	CHECK(sg_key_alg_bits(SG_KEY_EC_P521) == 521);
	CHECK(sg_key_alg_ec_field_len(SG_KEY_EC_P256) == 32);
	CHECK(sg_key_alg_ec_field_len(SG_KEY_EC_P384) == 48);
	CHECK(sg_key_alg_ec_field_len(SG_KEY_EC_P521) == 66);
	CHECK(sg_key_alg_ec_field_len(SG_KEY_RSA_2048) == 0);

	CHECK(sg_scheme_from_name("RSA-PKCS1") == SG_SCHEME_RSA_PKCS1);
	CHECK(sg_scheme_from_name("rsa-pss") == SG_SCHEME_RSA_PSS);
	CHECK(sg_scheme_from_name("ECDSA") == SG_SCHEME_ECDSA);
	CHECK(sg_scheme_from_name("Ed25519") == SG_SCHEME_ED25519);
	CHECK(sg_scheme_from_name("HashML-DSA-44") == SG_SCHEME_HASH_MLDSA);
	CHECK(sg_scheme_from_name("HashML-DSA-65") == SG_SCHEME_HASH_MLDSA);
	CHECK(sg_scheme_from_name("HashML-DSA-87") == SG_SCHEME_HASH_MLDSA);
	CHECK(sg_scheme_from_name("ML-DSA-44") == SG_SCHEME_MLDSA);
	CHECK(sg_scheme_from_name("ML-DSA-87") == SG_SCHEME_MLDSA);
	CHECK(sg_scheme_from_name("Dilithium3") == SG_SCHEME_MLDSA);
	CHECK(sg_scheme_from_name("MLDSA65-ECDSA-P256") == SG_SCHEME_COMPOSITE);
	CHECK(sg_scheme_from_name("DSA") == SG_SCHEME_NONE);
	CHECK(sg_scheme_name_key_alg("HashML-DSA-44") == SG_KEY_MLDSA_44);
	CHECK(sg_scheme_name_key_alg("Dilithium3") == SG_KEY_MLDSA_65);
	CHECK(sg_scheme_name_key_alg("RSA-PSS") == SG_KEY_NONE);
	CHECK(strcmp(sg_scheme_name(SG_SCHEME_HASH_MLDSA, SG_KEY_MLDSA_87), "HashML-DSA-87") == 0);
	CHECK(strcmp(sg_scheme_name(SG_SCHEME_MLDSA, SG_KEY_MLDSA_44), "ML-DSA-44") == 0);
	CHECK(strcmp(sg_scheme_name(SG_SCHEME_RSA_PSS, SG_KEY_RSA_2048), "RSA-PSS") == 0);
	CHECK(sg_scheme_name(SG_SCHEME_HASH_MLDSA, SG_KEY_RSA_2048) == NULL);
	CHECK(sg_scheme_default(SG_KEY_RSA_2048) == SG_SCHEME_RSA_PKCS1);
	CHECK(sg_scheme_default(SG_KEY_EC_P384) == SG_SCHEME_ECDSA);
	CHECK(sg_scheme_default(SG_KEY_ED25519) == SG_SCHEME_ED25519);
	CHECK(sg_scheme_default(SG_KEY_MLDSA_65) == SG_SCHEME_HASH_MLDSA);
	CHECK(sg_scheme_default(SG_KEY_MLDSA65_ECDSA_P256) == SG_SCHEME_COMPOSITE);

	CHECK(sg_format_from_name(NULL) == SG_FORMAT_DEFAULT);
	CHECK(sg_format_from_name("der") == SG_FORMAT_DER);
	CHECK(sg_format_from_name("P1363") == SG_FORMAT_P1363);
	CHECK(sg_format_from_name("raw") == -1);
	CHECK(strcmp(sg_format_name(SG_FORMAT_P1363), "P1363") == 0);
	CHECK(sg_format_name(SG_FORMAT_DEFAULT) == NULL);

	uint8_t h[32];
	sg_sha256("abc", 3, h);
	CHECK(h[0] == 0xba && h[1] == 0x78 && h[30] == 0x15 && h[31] == 0xad);
}

/* ---- digest decoding ---- */

static void
test_digest_decode(void)
{
	uint8_t digest[32], out[SG_MAX_DIGEST], sha1[20];
	size_t outlen = 0;
	const char *msg = NULL;
	char *std, *url, text[128], hex[65];

	/* 0xfb bytes put both '+' and '/' (or '-' and '_') into the text. */
	memset(digest, 0xfb, sizeof(digest));
	digest[0] = 0x01;
	std = sg_b64_encode(digest, sizeof(digest));
	url = sg_b64url_encode(digest, sizeof(digest));
	CHECK(std != NULL && url != NULL && strchr(std, '+') && strchr(std, '/') &&
	    strchr(std, '=') && strchr(url, '-') && strchr(url, '_') && !strchr(url, '='));

	memset(out, 0, sizeof(out));
	CHECK_RC(sg_digest_decode(std, SG_HASH_SHA256, out, &outlen, &msg), SG_OK);
	CHECK(outlen == 32 && memcmp(out, digest, 32) == 0);

	memset(out, 0, sizeof(out));
	CHECK_RC(sg_digest_decode(url, SG_HASH_SHA256, out, &outlen, &msg), SG_OK);
	CHECK(outlen == 32 && memcmp(out, digest, 32) == 0);

	/* Standard alphabet without padding, URL-safe with padding. */
	snprintf(text, sizeof(text), "%s", std);
	text[strcspn(text, "=")] = '\0';
	memset(out, 0, sizeof(out));
	CHECK_RC(sg_digest_decode(text, SG_HASH_SHA256, out, &outlen, &msg), SG_OK);
	CHECK(memcmp(out, digest, 32) == 0);
	snprintf(text, sizeof(text), "%s=", url);
	memset(out, 0, sizeof(out));
	CHECK_RC(sg_digest_decode(text, SG_HASH_SHA256, out, &outlen, &msg), SG_OK);
	CHECK(memcmp(out, digest, 32) == 0);

	/* Both alphabets in one string. */
	snprintf(text, sizeof(text), "%s", std);
	*strchr(text, '+') = '-';
	msg = NULL;
	outlen = 12345;
	CHECK_RC(sg_digest_decode(text, SG_HASH_SHA256, out, &outlen, &msg), SG_ERR_BAD_ENCODING);
	CHECK(msg != NULL && strcmp(msg, "digest is not valid base64") == 0);
	CHECK(outlen == 12345);

	/* Hex of the right length: refused with a message that says so. */
	sg_hex_encode(digest, 32, hex);
	msg = NULL;
	CHECK_RC(sg_digest_decode(hex, SG_HASH_SHA256, out, &outlen, &msg), SG_ERR_BAD_ENCODING);
	CHECK(msg != NULL && strstr(msg, "hex") != NULL && strstr(msg, "base64") != NULL);
	for (size_t i = 0; hex[i]; i++)
		hex[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	CHECK_RC(sg_digest_decode(hex, SG_HASH_SHA256, out, &outlen, NULL), SG_ERR_BAD_ENCODING);

	/* A SHA-1 digest sent as SHA-256. */
	memset(sha1, 0x42, sizeof(sha1));
	char *s1 = sg_b64_encode(sha1, sizeof(sha1));
	msg = NULL;
	CHECK_RC(sg_digest_decode(s1, SG_HASH_SHA256, out, &outlen, &msg), SG_ERR_DIGEST_LENGTH);
	CHECK_CTX(msg != NULL && strcmp(msg, "digest is 20 bytes, SHA-256 needs 32") == 0,
	    "msg=%s", msg ? msg : "(null)");
	CHECK_RC(sg_digest_decode(s1, SG_HASH_SHA1, out, &outlen, &msg), SG_OK);
	CHECK(outlen == 20 && memcmp(out, sha1, 20) == 0);
	free(s1);

	/* SHA-512 digest for SHA3-256, and an empty one. */
	uint8_t big[64];
	memset(big, 7, sizeof(big));
	char *s64 = sg_b64_encode(big, sizeof(big));
	CHECK_RC(sg_digest_decode(s64, SG_HASH_SHA3_256, out, &outlen, &msg), SG_ERR_DIGEST_LENGTH);
	CHECK(strcmp(msg, "digest is 64 bytes, SHA3-256 needs 32") == 0);
	CHECK_RC(sg_digest_decode(s64, SG_HASH_SHA512, out, &outlen, &msg), SG_OK);
	free(s64);
	CHECK_RC(sg_digest_decode("", SG_HASH_SHA256, out, &outlen, &msg), SG_ERR_DIGEST_LENGTH);

	/* Garbage. */
	CHECK_RC(sg_digest_decode("!!!!not*base64!!!", SG_HASH_SHA256, out, &outlen, &msg),
	    SG_ERR_BAD_ENCODING);
	CHECK(strcmp(msg, "digest is not valid base64") == 0);
	snprintf(text, sizeof(text), "%s\n", std);
	CHECK_RC(sg_digest_decode(text, SG_HASH_SHA256, out, &outlen, &msg), SG_ERR_BAD_ENCODING);
	snprintf(text, sizeof(text), "A%s", std);
	CHECK(sg_digest_decode(text, SG_HASH_SHA256, out, &outlen, &msg) != SG_OK);
	char longtext[1024];
	memset(longtext, 'A', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	CHECK_RC(sg_digest_decode(longtext, SG_HASH_SHA256, out, &outlen, &msg),
	    SG_ERR_DIGEST_LENGTH);

	/* Unknown hash, missing text. */
	CHECK_RC(sg_digest_decode(std, SG_HASH_NONE, out, &outlen, &msg), SG_ERR_UNSUPPORTED_HASH);
	CHECK_RC(sg_digest_decode(NULL, SG_HASH_SHA256, out, &outlen, &msg),
	    SG_ERR_INVALID_ARGUMENT);
	free(std);
	free(url);
}

/* ---- ECDSA DER <-> P1363 ---- */

static void
test_p1363(sg_privkey *const keys[], const sg_key_alg algs[], size_t nkeys)
{
	uint8_t digest[SG_MAX_DIGEST];
	size_t dlen = make_digest(SG_HASH_SHA256, digest);

	for (size_t i = 0; i < nkeys; i++) {
		size_t field = sg_key_alg_ec_field_len(algs[i]);
		if (field == 0)
			continue;
		for (int round = 0; round < 20; round++) {
			sg_sign_params p = params_of(SG_HASH_SHA256, SG_SCHEME_ECDSA, SG_FORMAT_DER, -1);
			uint8_t *der = NULL, *raw = NULL, *back = NULL;
			size_t derlen = 0, rawlen = 0, backlen = 0;

			CHECK_RC(sg_sign_digest(keys[i], &p, digest, dlen, &der, &derlen), SG_OK);
			CHECK_RC(sg_ecdsa_der_to_p1363(der, derlen, field, &raw, &rawlen), SG_OK);
			CHECK(rawlen == 2 * field);
			CHECK_RC(sg_ecdsa_p1363_to_der(raw, rawlen, &back, &backlen), SG_OK);
			CHECK(backlen == derlen && back != NULL && memcmp(back, der, derlen) == 0);
			if (round == 0) {
				/* Too narrow a field for this curve's numbers. */
				uint8_t *x = NULL;
				size_t xl = 0;
				if (field > 32)
					CHECK(sg_ecdsa_der_to_p1363(der, derlen, 32, &x, &xl) != SG_OK);
				/* Trailing byte, truncation, BER long length. */
				uint8_t bad[160];
				memcpy(bad, der, derlen);
				bad[derlen] = 0;
				CHECK_RC(sg_ecdsa_der_to_p1363(bad, derlen + 1, field, &x, &xl),
				    SG_ERR_BAD_ENCODING);
				CHECK_RC(sg_ecdsa_der_to_p1363(der, derlen - 1, field, &x, &xl),
				    SG_ERR_BAD_ENCODING);
				CHECK(x == NULL);
			}
			free(der);
			free(raw);
			free(back);
		}
	}

	/* Hand-made encodings. */
	static const uint8_t ok[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
	static const uint8_t ber_len[] = { 0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
	static const uint8_t padded_int[] = { 0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02 };
	static const uint8_t zero_r[] = { 0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x02 };
	static const uint8_t neg_r[] = { 0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02 };
	static const uint8_t one_int[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	static const uint8_t not_seq[] = { 0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
	uint8_t *raw = NULL, *der = NULL;
	size_t rawlen = 0, derlen = 0;

	CHECK_RC(sg_ecdsa_der_to_p1363(ok, sizeof(ok), 32, &raw, &rawlen), SG_OK);
	CHECK(rawlen == 64 && raw[31] == 1 && raw[63] == 2 && raw[0] == 0 && raw[32] == 0);
	CHECK_RC(sg_ecdsa_p1363_to_der(raw, rawlen, &der, &derlen), SG_OK);
	CHECK(derlen == sizeof(ok) && memcmp(der, ok, derlen) == 0);
	free(raw);
	free(der);
	raw = der = NULL;
	CHECK_RC(sg_ecdsa_der_to_p1363(ber_len, sizeof(ber_len), 32, &raw, &rawlen),
	    SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_ecdsa_der_to_p1363(padded_int, sizeof(padded_int), 32, &raw, &rawlen),
	    SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_ecdsa_der_to_p1363(zero_r, sizeof(zero_r), 32, &raw, &rawlen),
	    SG_ERR_BAD_ENCODING);
	CHECK(sg_ecdsa_der_to_p1363(neg_r, sizeof(neg_r), 32, &raw, &rawlen) != SG_OK);
	CHECK_RC(sg_ecdsa_der_to_p1363(one_int, sizeof(one_int), 32, &raw, &rawlen),
	    SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_ecdsa_der_to_p1363(not_seq, sizeof(not_seq), 32, &raw, &rawlen),
	    SG_ERR_BAD_ENCODING);
	CHECK(sg_ecdsa_der_to_p1363(ok, sizeof(ok), 0, &raw, &rawlen) != SG_OK);
	CHECK(sg_ecdsa_der_to_p1363(ok, 0, 32, &raw, &rawlen) != SG_OK);
	CHECK(raw == NULL);

	uint8_t zeros[64] = { 0 }, odd[63] = { 1 };
	zeros[63] = 1;  /* r = 0, s = 1 */
	CHECK_RC(sg_ecdsa_p1363_to_der(zeros, sizeof(zeros), &der, &derlen), SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_ecdsa_p1363_to_der(odd, sizeof(odd), &der, &derlen), SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_ecdsa_p1363_to_der(odd, 0, &der, &derlen), SG_ERR_BAD_ENCODING);
	CHECK(der == NULL);
}

/* ---- parameter matrix ---- */

static void
test_params_check(void)
{
	sg_sign_params p;
	static const uint8_t ctx[3] = { 1, 2, 3 };
	static uint8_t bigctx[256];

	/* Defaults resolve. */
	p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_OK);
	CHECK(p.scheme == SG_SCHEME_RSA_PKCS1 && p.format == SG_FORMAT_DEFAULT);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_EC_P256, &p), SG_OK);
	CHECK(p.scheme == SG_SCHEME_ECDSA && p.format == SG_FORMAT_DER);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_ED25519, &p), SG_OK);
	CHECK(p.scheme == SG_SCHEME_ED25519);
	p = params_of(SG_HASH_SHA384, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_65, &p), SG_OK);
	CHECK(p.scheme == SG_SCHEME_HASH_MLDSA);
	p = params_of(SG_HASH_SHA512, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA65_ECDSA_P256, &p), SG_OK);
	CHECK(p.scheme == SG_SCHEME_COMPOSITE);

	/* Scheme against key family. */
	static const struct { sg_key_alg a; sg_sig_scheme s; int want; } fit[] = {
		{ SG_KEY_RSA_2048, SG_SCHEME_RSA_PSS, SG_OK },
		{ SG_KEY_RSA_4096, SG_SCHEME_RSA_PKCS1, SG_OK },
		{ SG_KEY_RSA_2048, SG_SCHEME_ECDSA, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_RSA_2048, SG_SCHEME_ED25519, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_RSA_2048, SG_SCHEME_HASH_MLDSA, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_EC_P256, SG_SCHEME_RSA_PKCS1, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_EC_P384, SG_SCHEME_RSA_PSS, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_EC_P521, SG_SCHEME_ED25519, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_EC_P256, SG_SCHEME_COMPOSITE, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_ED25519, SG_SCHEME_ECDSA, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_MLDSA_44, SG_SCHEME_MLDSA, SG_OK },
		{ SG_KEY_MLDSA_87, SG_SCHEME_HASH_MLDSA, SG_OK },
		{ SG_KEY_MLDSA_65, SG_SCHEME_ECDSA, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_MLDSA_65, SG_SCHEME_COMPOSITE, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_MLDSA65_ECDSA_P256, SG_SCHEME_ECDSA, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_MLDSA65_ECDSA_P256, SG_SCHEME_MLDSA, SG_ERR_ALGORITHM_MISMATCH },
		{ SG_KEY_NONE, SG_SCHEME_ECDSA, SG_ERR_UNSUPPORTED_ALGORITHM },
		{ SG_KEY_EC_P256, (sg_sig_scheme)99, SG_ERR_UNSUPPORTED_ALGORITHM },
	};
	for (size_t i = 0; i < sizeof(fit) / sizeof(fit[0]); i++) {
		sg_hash_alg h = fit[i].a == SG_KEY_MLDSA65_ECDSA_P256 ? SG_HASH_SHA512 : SG_HASH_SHA256;
		p = params_of(h, fit[i].s, SG_FORMAT_DEFAULT, -1);
		int rc = sg_sign_params_check(fit[i].a, &p);
		CHECK_CTX(rc == fit[i].want, "case %zu: got %d want %d", i, rc, fit[i].want);
		if (rc != SG_OK)
			CHECK(p.scheme == fit[i].s);  /* untouched on error */
	}

	/* Formats. */
	p = params_of(SG_HASH_SHA256, SG_SCHEME_ECDSA, SG_FORMAT_P1363, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_EC_P384, &p), SG_OK);
	CHECK(p.format == SG_FORMAT_P1363);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_P1363, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_EC_P384, &p), SG_OK);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PKCS1, SG_FORMAT_P1363, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_ERR_ALGORITHM_MISMATCH);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_ED25519, SG_FORMAT_DER, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_ED25519, &p), SG_ERR_ALGORITHM_MISMATCH);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_P1363, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_65, &p), SG_ERR_ALGORITHM_MISMATCH);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_ECDSA, (sg_sig_format)7, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_EC_P256, &p), SG_ERR_INVALID_ARGUMENT);

	/* PSS salt: emLen - hLen - 2 is the largest. */
	p = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 0);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_OK);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 256 - 32 - 2);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_OK);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 256 - 32 - 1);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_ERR_INVALID_ARGUMENT);
	p = params_of(SG_HASH_SHA512, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 512 - 64 - 2);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_4096, &p), SG_OK);
	p = params_of(SG_HASH_SHA512, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 512 - 64 - 1);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_4096, &p), SG_ERR_INVALID_ARGUMENT);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, -2);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_ERR_INVALID_ARGUMENT);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PKCS1, SG_FORMAT_DEFAULT, 32);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_ERR_INVALID_ARGUMENT);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_ECDSA, SG_FORMAT_DEFAULT, 0);
	CHECK_RC(sg_sign_params_check(SG_KEY_EC_P256, &p), SG_ERR_INVALID_ARGUMENT);

	/* Context. */
	p = params_of(SG_HASH_SHA256, SG_SCHEME_HASH_MLDSA, SG_FORMAT_DEFAULT, -1);
	p.context = ctx;
	p.context_len = sizeof(ctx);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_65, &p), SG_OK);
	p.context = bigctx;
	p.context_len = 255;
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_65, &p), SG_OK);
	p.context_len = 256;
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_65, &p), SG_ERR_INVALID_ARGUMENT);
	p.context = NULL;
	p.context_len = 3;
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_65, &p), SG_ERR_INVALID_ARGUMENT);
	p = params_of(SG_HASH_SHA512, SG_SCHEME_COMPOSITE, SG_FORMAT_DEFAULT, -1);
	p.context = ctx;
	p.context_len = sizeof(ctx);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA65_ECDSA_P256, &p), SG_OK);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_ECDSA, SG_FORMAT_DEFAULT, -1);
	p.context = ctx;
	p.context_len = sizeof(ctx);
	CHECK_RC(sg_sign_params_check(SG_KEY_EC_P256, &p), SG_ERR_INVALID_ARGUMENT);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_ED25519, SG_FORMAT_DEFAULT, -1);
	p.context = ctx;
	p.context_len = sizeof(ctx);
	CHECK_RC(sg_sign_params_check(SG_KEY_ED25519, &p), SG_ERR_INVALID_ARGUMENT);

	/* Hashes. */
	p = params_of(SG_HASH_NONE, SG_SCHEME_RSA_PKCS1, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_ERR_UNSUPPORTED_HASH);
	p = params_of((sg_hash_alg)42, SG_SCHEME_RSA_PKCS1, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_ERR_UNSUPPORTED_HASH);
	p = params_of(SG_HASH_MD5, SG_SCHEME_RSA_PKCS1, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, &p), SG_OK);  /* policy decides */
	p = params_of(SG_HASH_SHA1, SG_SCHEME_ECDSA, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_EC_P256, &p), SG_OK);
	p = params_of(SG_HASH_SHA256, SG_SCHEME_COMPOSITE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA65_ECDSA_P256, &p), SG_ERR_UNSUPPORTED_HASH);
	p = params_of(SG_HASH_SHA3_512, SG_SCHEME_COMPOSITE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA65_ECDSA_P256, &p), SG_ERR_UNSUPPORTED_HASH);
	p = params_of(SG_HASH_SHA1, SG_SCHEME_HASH_MLDSA, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_65, &p), SG_ERR_UNSUPPORTED_HASH);
	p = params_of(SG_HASH_SHA1, SG_SCHEME_MLDSA, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_65, &p), SG_OK);
	p = params_of(SG_HASH_SHA3_384, SG_SCHEME_HASH_MLDSA, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_params_check(SG_KEY_MLDSA_44, &p), SG_OK);

	CHECK_RC(sg_sign_params_check(SG_KEY_RSA_2048, NULL), SG_ERR_INVALID_ARGUMENT);
}

/* ---- sign / verify, checked by the openssl command line ---- */

struct sv_case {
	sg_sig_scheme scheme;
	sg_sig_format format;
	int salt;
};

/* The signature as the command line reads it: P1363 re-encoded by hand. */
static size_t
cli_form(const struct sv_case *c, const uint8_t *sig, size_t siglen, uint8_t cli[1024])
{
	if (c->format == SG_FORMAT_P1363)
		return p1363_to_der_by_hand(sig, siglen, cli);
	memcpy(cli, sig, siglen);
	return siglen;
}

static void
sign_verify_case(sg_key_alg alg, const sg_privkey *key, const uint8_t *spki, size_t spki_len,
    sg_hash_alg h, const struct sv_case *c)
{
	sg_sign_params p = params_of(h, c->scheme, c->format, c->salt);
	uint8_t digest[SG_MAX_DIGEST], other[SG_MAX_DIGEST];
	size_t dlen = make_digest(h, digest);
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc;
	const char *what = sg_scheme_name(c->scheme, alg);
	const char *an = sg_key_alg_name(alg), *hn = sg_hash_name(h);

	rc = sg_sign_digest(key, &p, digest, dlen, &sig, &siglen);
	CHECK_CTX(rc == SG_OK, "%s %s %s salt %d: sign = %d", an, what, hn, c->salt, rc);
	if (rc != SG_OK)
		return;

	/* Lengths a client can rely on. */
	if (c->scheme == SG_SCHEME_RSA_PKCS1 || c->scheme == SG_SCHEME_RSA_PSS)
		CHECK(siglen == (size_t)sg_key_alg_bits(alg) / 8);
	else if (c->format == SG_FORMAT_P1363)
		CHECK(siglen == 2 * sg_key_alg_ec_field_len(alg));
	else if (c->scheme == SG_SCHEME_ED25519)
		CHECK(siglen == 64);
	else
		CHECK(sig[0] == 0x30);

	rc = sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen);
	CHECK_CTX(rc == SG_OK, "%s %s %s: verify = %d", an, what, hn, rc);

	/* The command line, on what we published. */
	uint8_t cli[1024];
	size_t clilen = cli_form(c, sig, siglen, cli);
	CHECK(test_write("digest.bin", digest, dlen));
	CHECK(test_write("sig.bin", cli, clilen));
	CHECK_CTX(cli_verify(&p), "%s %s %s salt %d: openssl refuses a good signature",
	    an, what, hn, c->salt);

	/* One flipped bit fails both. */
	sig[siglen / 2] ^= 0x10;
	rc = sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen);
	CHECK_CTX(rc == SG_ERR_BAD_SIGNATURE, "%s %s %s: flipped verify = %d", an, what, hn, rc);
	clilen = cli_form(c, sig, siglen, cli);
	CHECK(test_write("sig.bin", cli, clilen));
	CHECK_CTX(!cli_verify(&p), "%s %s %s: openssl accepts a flipped signature", an, what, hn);
	sig[siglen / 2] ^= 0x10;

	/* Another digest of the same length does not verify. */
	memcpy(other, digest, dlen);
	other[0] ^= 1;
	CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, other, dlen, sig, siglen),
	    SG_ERR_BAD_SIGNATURE);
	/* Nor a digest of the wrong length. */
	CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen - 1, sig, siglen),
	    SG_ERR_DIGEST_LENGTH);

	/* Deterministic schemes: the command line signs the same bytes. */
	if (c->scheme == SG_SCHEME_RSA_PKCS1 || c->scheme == SG_SCHEME_ED25519) {
		uint8_t theirs[1024];
		size_t tlen = 0;
		CHECK(cli_sign(&p));
		CHECK(test_read("clisig.bin", theirs, sizeof(theirs), &tlen));
		CHECK_CTX(tlen == siglen && memcmp(theirs, sig, siglen) == 0,
		    "%s %s %s: openssl signs different bytes", an, what, hn);
	}
	free(sig);
}

static void
test_sign_verify(sg_key_alg alg, sg_privkey *key)
{
	uint8_t *spki = NULL, *der = NULL;
	size_t spki_len = 0, der_len = 0;
	char *pem = NULL;

	CHECK_RC(sg_privkey_public_spki(key, &spki, &spki_len), SG_OK);
	CHECK_RC(sg_spki_to_pem(spki, spki_len, &pem), SG_OK);
	CHECK_RC(sg_privkey_export(key, &der, &der_len), SG_OK);
	if (spki == NULL || pem == NULL || der == NULL)
		goto out;
	CHECK(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	CHECK(test_write("pub.pem", pem, strlen(pem)));
	CHECK(test_write("key.der", der, der_len));

	static const struct sv_case rsa_cases[] = {
		{ SG_SCHEME_RSA_PKCS1, SG_FORMAT_DEFAULT, -1 },
		{ SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, -1 },
	};
	static const struct sv_case ec_cases[] = {
		{ SG_SCHEME_ECDSA, SG_FORMAT_DEFAULT, -1 },
		{ SG_SCHEME_ECDSA, SG_FORMAT_P1363, -1 },
	};
	static const struct sv_case ed_cases[] = {
		{ SG_SCHEME_ED25519, SG_FORMAT_DEFAULT, -1 },
	};
	const struct sv_case *cases;
	size_t ncases;
	switch (sg_scheme_default(alg)) {
	case SG_SCHEME_RSA_PKCS1: cases = rsa_cases; ncases = 2; break;
	case SG_SCHEME_ECDSA: cases = ec_cases; ncases = 2; break;
	default: cases = ed_cases; ncases = 1; break;
	}
	for (size_t i = 0; i < NHASHES; i++)
		for (size_t j = 0; j < ncases; j++)
			sign_verify_case(alg, key, spki, spki_len, all_hashes[i], &cases[j]);

	if (cases == rsa_cases) {
		/* Salt lengths at both ends of what the modulus allows. */
		int max = sg_key_alg_bits(alg) / 8 - 64 - 2;
		struct sv_case zero = { SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 0 };
		struct sv_case most = { SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, max };
		struct sv_case twenty = { SG_SCHEME_RSA_PSS, SG_FORMAT_DEFAULT, 20 };
		sign_verify_case(alg, key, spki, spki_len, SG_HASH_SHA512, &zero);
		sign_verify_case(alg, key, spki, spki_len, SG_HASH_SHA512, &most);
		sign_verify_case(alg, key, spki, spki_len, SG_HASH_SHA256, &twenty);

		/* A PKCS1 signature does not pass as PSS, nor SHA-256 as SHA3-256. */
		uint8_t digest[SG_MAX_DIGEST], *sig = NULL;
		size_t dlen = make_digest(SG_HASH_SHA256, digest), siglen = 0;
		sg_sign_params p = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PKCS1, 0, -1);
		CHECK_RC(sg_sign_digest(key, &p, digest, dlen, &sig, &siglen), SG_OK);
		sg_sign_params q = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PSS, 0, -1);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		q = params_of(SG_HASH_SHA3_256, SG_SCHEME_RSA_PKCS1, 0, -1);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		free(sig);
		sig = NULL;
		/* A PSS signature with salt 20 does not verify with the default salt. */
		p = params_of(SG_HASH_SHA256, SG_SCHEME_RSA_PSS, 0, 20);
		CHECK_RC(sg_sign_digest(key, &p, digest, dlen, &sig, &siglen), SG_OK);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &q, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		p.pss_salt_len = 20;
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &p, digest, dlen, sig, siglen), SG_OK);
		free(sig);
	}
	if (cases == ec_cases) {
		/* DER given as P1363 and the other way round. */
		uint8_t digest[SG_MAX_DIGEST], *sig = NULL;
		size_t dlen = make_digest(SG_HASH_SHA384, digest), siglen = 0;
		sg_sign_params as_der = params_of(SG_HASH_SHA384, SG_SCHEME_ECDSA, SG_FORMAT_DER, -1);
		sg_sign_params as_raw = params_of(SG_HASH_SHA384, SG_SCHEME_ECDSA, SG_FORMAT_P1363, -1);
		CHECK_RC(sg_sign_digest(key, &as_der, digest, dlen, &sig, &siglen), SG_OK);
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &as_raw, digest, dlen, sig, siglen),
		    SG_ERR_BAD_SIGNATURE);
		free(sig);
		sig = NULL;
		CHECK_RC(sg_sign_digest(key, &as_raw, digest, dlen, &sig, &siglen), SG_OK);
		CHECK(sg_verify_digest(alg, spki, spki_len, &as_der, digest, dlen, sig, siglen) != SG_OK);
		/* Truncated P1363. */
		CHECK_RC(sg_verify_digest(alg, spki, spki_len, &as_raw, digest, dlen, sig, siglen - 1),
		    SG_ERR_BAD_SIGNATURE);
		free(sig);
	}
out:
	free(spki);
	free(pem);
	sg_free_secret(der, der_len);
}

/* ---- custody round trip and strict import ---- */

static void
test_export_import(sg_key_alg alg, sg_privkey *key, const uint8_t *other_der, size_t other_len,
    sg_key_alg other_alg)
{
	uint8_t *der = NULL, *spki1 = NULL, *spki2 = NULL;
	size_t der_len = 0, spki1_len = 0, spki2_len = 0;
	sg_privkey *back = NULL, *x = NULL;

	CHECK_RC(sg_privkey_export(key, &der, &der_len), SG_OK);
	if (der == NULL)
		return;
	CHECK_RC(sg_privkey_import(alg, der, der_len, &back), SG_OK);
	if (back == NULL)
		goto out;
	CHECK(sg_privkey_alg(back) == alg);
	CHECK(sg_privkey_evp(back) != NULL);
	CHECK_RC(sg_privkey_public_spki(key, &spki1, &spki1_len), SG_OK);
	CHECK_RC(sg_privkey_public_spki(back, &spki2, &spki2_len), SG_OK);
	CHECK(spki1 != NULL && spki2 != NULL && spki1_len == spki2_len &&
	    memcmp(spki1, spki2, spki1_len) == 0);

	/* The imported key signs what the original's public key verifies. */
	uint8_t digest[SG_MAX_DIGEST], *sig = NULL;
	size_t dlen = make_digest(SG_HASH_SHA256, digest), siglen = 0;
	sg_sign_params p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_sign_digest(back, &p, digest, dlen, &sig, &siglen), SG_OK);
	CHECK_RC(sg_verify_digest(alg, spki1, spki1_len, &p, digest, dlen, sig, siglen), SG_OK);
	free(sig);

	/* Exactly these bytes, exactly this algorithm. */
	uint8_t *longer = malloc(der_len + 1);
	if (longer != NULL) {
		memcpy(longer, der, der_len);
		longer[der_len] = 0;
		CHECK_RC(sg_privkey_import(alg, longer, der_len + 1, &x), SG_ERR_BAD_ENCODING);
		sg_free_secret(longer, der_len + 1);
	}
	CHECK_RC(sg_privkey_import(alg, der, der_len - 1, &x), SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_privkey_import(alg, der, 0, &x), SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_privkey_import(alg, (const uint8_t *)"garbage!", 8, &x), SG_ERR_BAD_ENCODING);
	if (other_der != NULL)
		CHECK_RC(sg_privkey_import(alg, other_der, other_len, &x), SG_ERR_ALGORITHM_MISMATCH);
	/* Our public key under another algorithm's name is refused too. */
	if (other_alg != SG_KEY_NONE) {
		CHECK_RC(sg_privkey_import(other_alg, der, der_len, &x), SG_ERR_ALGORITHM_MISMATCH);
		p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
		uint8_t fake[64] = { 0 };
		CHECK_RC(sg_verify_digest(other_alg, spki1, spki1_len, &p, digest, dlen, fake,
		    sizeof(fake)), SG_ERR_ALGORITHM_MISMATCH);
	}
	CHECK(x == NULL);

	/* Garbage SPKI. */
	p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
	CHECK_RC(sg_verify_digest(alg, spki1, spki1_len - 1, &p, digest, dlen, digest, dlen),
	    SG_ERR_BAD_ENCODING);
out:
	sg_privkey_free(back);
	free(spki1);
	free(spki2);
	sg_free_secret(der, der_len);
}

/* ---- PEM of an SPKI OpenSSL 3.0 cannot parse as a key ---- */

static void
test_pem_generic(void)
{
	/* SEQUENCE { SEQUENCE { OID id-ml-dsa-65 }, BIT STRING { 0, 16 bytes } } */
	static const uint8_t spki[] = {
		0x30, 0x20, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
		0x03, 0x12, 0x03, 0x11, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	};
	char *pem = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long len = 0;

	CHECK_RC(sg_spki_to_pem(spki, sizeof(spki), &pem), SG_OK);
	if (pem == NULL)
		return;
	CHECK(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	CHECK(strstr(pem, "-----END PUBLIC KEY-----\n") != NULL);
	BIO *bio = BIO_new_mem_buf(pem, -1);
	CHECK(bio != NULL && PEM_read_bio(bio, &name, &header, &data, &len) == 1);
	CHECK(name != NULL && strcmp(name, "PUBLIC KEY") == 0);
	CHECK(len == (long)sizeof(spki) && data != NULL && memcmp(data, spki, sizeof(spki)) == 0);
	BIO_free(bio);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	free(pem);
	pem = NULL;

	CHECK_RC(sg_spki_to_pem(spki, sizeof(spki) - 1, &pem), SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_spki_to_pem(spki, 0, &pem), SG_ERR_BAD_ENCODING);
	CHECK_RC(sg_spki_to_pem((const uint8_t *)"\x04\x00", 2, &pem), SG_ERR_BAD_ENCODING);
	CHECK(pem == NULL);
}

/* ---- what is not there yet ---- */

static void
test_unavailable(void)
{
	sg_privkey *k = NULL;
#ifndef SG_TEST_HAVE_MLDSA
	CHECK_RC(sg_privkey_generate(SG_KEY_MLDSA_65, &k), SG_ERR_UNSUPPORTED_ALGORITHM);
#endif
#ifndef SG_TEST_HAVE_COMPOSITE
	CHECK_RC(sg_privkey_generate(SG_KEY_MLDSA65_ECDSA_P256, &k), SG_ERR_UNSUPPORTED_ALGORITHM);
#endif
	CHECK_RC(sg_privkey_generate(SG_KEY_NONE, &k), SG_ERR_UNSUPPORTED_ALGORITHM);
	CHECK_RC(sg_privkey_generate((sg_key_alg)77, &k), SG_ERR_UNSUPPORTED_ALGORITHM);
	CHECK(k == NULL);
}

/* ---- many threads, one key ---- */

struct thread_arg {
	const sg_privkey *key;
	sg_key_alg alg;
	const uint8_t *spki;
	size_t spki_len;
	int bad;
};

static void *
sign_many(void *v)
{
	struct thread_arg *a = v;
	uint8_t digest[SG_MAX_DIGEST];
	size_t dlen = make_digest(SG_HASH_SHA256, digest);

	for (int i = 0; i < 40; i++) {
		sg_sign_params p = params_of(SG_HASH_SHA256, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1);
		uint8_t *sig = NULL;
		size_t siglen = 0;
		digest[0] = (uint8_t)i;
		if (sg_sign_digest(a->key, &p, digest, dlen, &sig, &siglen) != SG_OK ||
		    sg_verify_digest(a->alg, a->spki, a->spki_len, &p, digest, dlen, sig,
		    siglen) != SG_OK)
			a->bad++;
		free(sig);
	}
	return NULL;
}

static void
test_threads(sg_key_alg alg, const sg_privkey *key)
{
	pthread_t t[4];
	struct thread_arg args[4];
	uint8_t *spki = NULL;
	size_t spki_len = 0;

	CHECK_RC(sg_privkey_public_spki(key, &spki, &spki_len), SG_OK);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ key, alg, spki, spki_len, 0 };
		CHECK(pthread_create(&t[i], NULL, sign_many, &args[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_CTX(args[i].bad == 0, "%s thread %d: %d failures", sg_key_alg_name(alg), i,
		    args[i].bad);
	}
	free(spki);
}

int
main(int argc, char **argv)
{
	static const sg_key_alg algs[] = {
		SG_KEY_RSA_2048, SG_KEY_RSA_3072, SG_KEY_RSA_4096,
		SG_KEY_EC_P256, SG_KEY_EC_P384, SG_KEY_EC_P521, SG_KEY_ED25519,
	};
	enum { NKEYS = sizeof(algs) / sizeof(algs[0]) };
	sg_privkey *keys[NKEYS] = { NULL };
	uint8_t *ders[NKEYS] = { NULL };
	size_t der_lens[NKEYS] = { 0 };

	if (test_tmpdir_make() != 0)
		return 1;

	test_names();
	test_digest_decode();
	test_params_check();
	test_pem_generic();
	test_unavailable();

	for (size_t i = 0; i < NKEYS; i++) {
		CHECK_RC(sg_privkey_generate(algs[i], &keys[i]), SG_OK);
		if (keys[i] == NULL)
			goto out;
		CHECK(sg_privkey_alg(keys[i]) == algs[i]);
		CHECK_RC(sg_privkey_export(keys[i], &ders[i], &der_lens[i]), SG_OK);
	}
	test_p1363(keys, algs, NKEYS);
	for (size_t i = 0; i < NKEYS; i++) {
		/* The neighbour in the list is always of another algorithm. */
		size_t o = (i + 1) % NKEYS;
		test_export_import(algs[i], keys[i], ders[o], der_lens[o], algs[o]);
		test_sign_verify(algs[i], keys[i]);
	}
	test_threads(SG_KEY_EC_P256, keys[3]);
	test_threads(SG_KEY_RSA_2048, keys[0]);
	test_threads(SG_KEY_ED25519, keys[6]);
#ifdef SG_TEST_HAVE_MLDSA
	test_pq(argc > 1 ? argv[1] : NULL);
#else
	(void)argc;
	(void)argv;
#endif
out:
	for (size_t i = 0; i < NKEYS; i++) {
		sg_privkey_free(keys[i]);
		sg_free_secret(ders[i], der_lens[i]);
	}
	test_tmpdir_remove();
	printf("%d checks, %d failures\n", checks, failures);
	return failures == 0 && checks > 0 ? 0 : 1;
}
