/*
 * hash.c - the hash algorithms of SPEC §2 and the decoding of client digests.
 *
 * One table holds every hash Signet knows: its canonical name, the spellings
 * clients use, its length, its OpenSSL digest, its OID (RSA DigestInfo,
 * HashML-DSA and the SignPath dialect name hashes by OID) and whether it is a
 * legacy hash that policy must allow explicitly.  Digests arrive as base64;
 * sg_digest_decode turns them into bytes and says precisely what is wrong
 * when they do not fit, because that message reaches the client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include "sg_crypto.h"
#include "sg_b64.h"

#define SG_HASH_ALIASES 4

struct sg_hash_info {
	sg_hash_alg id;
	const char *name;
	const char *aliases[SG_HASH_ALIASES];
	size_t len;
	const char *oid;
	int legacy;
	const EVP_MD *(*md)(void);
};

static const struct sg_hash_info sg_hashes[] = {
	{ SG_HASH_MD5, "MD5", { "MD-5", NULL, NULL, NULL }, 16,
	    "1.2.840.113549.2.5", 1, EVP_md5 },
	{ SG_HASH_SHA1, "SHA-1", { "SHA1", "SHA_1", NULL, NULL }, 20,
	    "1.3.14.3.2.26", 1, EVP_sha1 },
	{ SG_HASH_SHA256, "SHA-256", { "SHA256", "SHA_256", "SHA2-256", NULL }, 32,
	    "2.16.840.1.101.3.4.2.1", 0, EVP_sha256 },
	{ SG_HASH_SHA384, "SHA-384", { "SHA384", "SHA_384", "SHA2-384", NULL }, 48,
	    "2.16.840.1.101.3.4.2.2", 0, EVP_sha384 },
	{ SG_HASH_SHA512, "SHA-512", { "SHA512", "SHA_512", "SHA2-512", NULL }, 64,
	    "2.16.840.1.101.3.4.2.3", 0, EVP_sha512 },
	{ SG_HASH_SHA3_256, "SHA3-256", { "SHA3_256", "SHA3256", NULL, NULL }, 32,
	    "2.16.840.1.101.3.4.2.8", 0, EVP_sha3_256 },
	{ SG_HASH_SHA3_384, "SHA3-384", { "SHA3_384", "SHA3384", NULL, NULL }, 48,
	    "2.16.840.1.101.3.4.2.9", 0, EVP_sha3_384 },
	{ SG_HASH_SHA3_512, "SHA3-512", { "SHA3_512", "SHA3512", NULL, NULL }, 64,
	    "2.16.840.1.101.3.4.2.10", 0, EVP_sha3_512 },
};

#define SG_NHASHES (sizeof(sg_hashes) / sizeof(sg_hashes[0]))

static const struct sg_hash_info *
sg_hash_info(sg_hash_alg h)
{
	for (size_t i = 0; i < SG_NHASHES; i++) {
		if (sg_hashes[i].id == h)
			return &sg_hashes[i];
	}
	return NULL;
}

sg_hash_alg
sg_hash_from_name(const char *name)
{
	if (name == NULL)
		return SG_HASH_NONE;
	for (size_t i = 0; i < SG_NHASHES; i++) {
		if (strcasecmp(name, sg_hashes[i].name) == 0)
			return sg_hashes[i].id;
		for (size_t j = 0; j < SG_HASH_ALIASES && sg_hashes[i].aliases[j] != NULL; j++) {
			if (strcasecmp(name, sg_hashes[i].aliases[j]) == 0)
				return sg_hashes[i].id;
		}
	}
	return SG_HASH_NONE;
}

const char *
sg_hash_name(sg_hash_alg h)
{
	const struct sg_hash_info *hi = sg_hash_info(h);
	return hi != NULL ? hi->name : NULL;
}

size_t
sg_hash_len(sg_hash_alg h)
{
	const struct sg_hash_info *hi = sg_hash_info(h);
	return hi != NULL ? hi->len : 0;
}

const EVP_MD *
sg_hash_md(sg_hash_alg h)
{
	const struct sg_hash_info *hi = sg_hash_info(h);
	return hi != NULL ? hi->md() : NULL;
}

int
sg_hash_is_legacy(sg_hash_alg h)
{
	const struct sg_hash_info *hi = sg_hash_info(h);
	return hi != NULL && hi->legacy;
}

sg_hash_alg
sg_hash_from_oid(const char *dotted)
{
	if (dotted == NULL)
		return SG_HASH_NONE;
	for (size_t i = 0; i < SG_NHASHES; i++) {
		if (strcmp(dotted, sg_hashes[i].oid) == 0)
			return sg_hashes[i].id;
	}
	return SG_HASH_NONE;
}

const char *
sg_hash_oid(sg_hash_alg h)
{
	const struct sg_hash_info *hi = sg_hash_info(h);
	return hi != NULL ? hi->oid : NULL;
}

int
sg_digest_decode(const char *text, sg_hash_alg h, uint8_t out[SG_MAX_DIGEST],
    size_t *outlen, const char **errmsg)
{
	/* The one message with a number in it; per thread so callers need no lock. */
	static _Thread_local char sg_digest_msg[96];
	const struct sg_hash_info *hi = sg_hash_info(h);
	const char *msg = NULL;
	uint8_t *dec = NULL;
	size_t declen = 0, textlen;
	int r = SG_ERR_INTERNAL;

	if (hi == NULL) {
		r = SG_ERR_UNSUPPORTED_HASH;
		msg = "unknown hash algorithm";
		goto out;
	}
	if (text == NULL || out == NULL || outlen == NULL) {
		r = SG_ERR_INVALID_ARGUMENT;
		msg = "digest is missing";
		goto out;
	}
	textlen = strlen(text);
	/*
	 * Hex of any digest length (sha256sum output declared as SHA-384, say)
	 * is refused, not decoded as base64 of something else.  The only real
	 * base64 digest of such a length is SHA-384's 64 characters, and those
	 * are all hex digits with probability (22/64)^64: nothing real is lost.
	 */
	size_t half = textlen / 2;
	if (textlen % 2 == 0 && (half == 16 || half == 20 || half == 28 || half == 32 || half == 48 ||
	    half == 64) && sg_is_hex(text, textlen)) {
		r = SG_ERR_BAD_ENCODING;
		msg = "digest looks hex-encoded; send it base64";
		goto out;
	}
	/* Anything far longer than any digest is refused before decoding it. */
	if (textlen > 4 * SG_MAX_DIGEST) {
		r = SG_ERR_DIGEST_LENGTH;
		snprintf(sg_digest_msg, sizeof(sg_digest_msg),
		    "digest is too long, %s needs %zu bytes", hi->name, hi->len);
		msg = sg_digest_msg;
		goto out;
	}
	if ((r = sg_b64_decode(text, textlen, &dec, &declen)) != SG_OK) {
		if (r != SG_ERR_NOMEM) {
			r = SG_ERR_BAD_ENCODING;
			msg = "digest is not valid base64";
		}
		goto out;
	}
	if (declen != hi->len) {
		r = SG_ERR_DIGEST_LENGTH;
		snprintf(sg_digest_msg, sizeof(sg_digest_msg),
		    "digest is %zu bytes, %s needs %zu", declen, hi->name, hi->len);
		msg = sg_digest_msg;
		goto out;
	}
	memcpy(out, dec, declen);
	*outlen = declen;
	r = SG_OK;
out:
	free(dec);
	if (errmsg != NULL && r != SG_OK)
		*errmsg = msg != NULL ? msg : sg_err_str(r);
	return r;
}

void
sg_sha256(const void *data, size_t len, uint8_t out[32])
{
	/*
	 * EVP_Digest fails only when memory runs out.  These hashes guard
	 * API keys at rest, so a made-up value (say, zeros that would match
	 * another failed hash) is worse than stopping.
	 */
	if (EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) != 1)
		abort();
}
