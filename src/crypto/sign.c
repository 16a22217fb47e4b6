/*
 * sign.c - signing and verifying a digest.
 *
 * The one place where a digest meets a key.  Parameters are checked again
 * here (sg_sign_params_check is cheap), so a caller that skipped the check
 * gets an error, not a signature it did not ask for.  Each call builds its
 * own EVP_PKEY_CTX / EVP_MD_CTX from the shared, read-only EVP_PKEY, which
 * is what makes concurrent signing with one key safe.  Verification parses
 * the public key from SPKI DER, so it needs nothing but what Signet
 * publishes.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include "sg_crypto.h"
#include "sg_crypto_int.h"
#include "sg_secret.h"

/* Largest SPKI we parse: ML-DSA-87 is 2614 bytes, RSA-4096 about 550. */
#define SG_SPKI_MAX (16u * 1024u)

/* Padding, hash and salt of RSA-PKCS1 / RSA-PSS on a fresh sign or verify ctx. */
static int
sg_rsa_ctx_setup(EVP_PKEY_CTX *ctx, const sg_sign_params *p)
{
	const EVP_MD *md = sg_hash_md(p->hash);

	if (md == NULL)
		return SG_ERR_UNSUPPORTED_HASH;
	if (p->scheme == SG_SCHEME_RSA_PKCS1) {
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
			return SG_ERR_CRYPTO;
		return SG_OK;
	}
	int salt = p->pss_salt_len == -1 ? (int)sg_hash_len(p->hash) : p->pss_salt_len;
	if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) <= 0)
		return SG_ERR_CRYPTO;
	return SG_OK;
}

/*
 * RSA and ECDSA over a digest.  ECDSA gets no signature md: it signs the
 * digest bytes as given (truncated to the order as the standard says), so
 * any allowed hash works with any curve.
 */
static int
sg_evp_sign_digest(EVP_PKEY *pkey, const sg_sign_params *p, const uint8_t *digest,
    size_t digest_len, uint8_t **sig, size_t *siglen)
{
	int r = SG_ERR_INTERNAL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_sign_init(ctx) <= 0) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	if (p->scheme != SG_SCHEME_ECDSA && (r = sg_rsa_ctx_setup(ctx, p)) != SG_OK)
		goto out;
	if (EVP_PKEY_sign(ctx, NULL, &outlen, digest, digest_len) <= 0 || outlen == 0) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	if ((out = malloc(outlen)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_sign(ctx, out, &outlen, digest, digest_len) <= 0) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	*sig = out;
	*siglen = outlen;
	out = NULL;
	r = SG_OK;
out:
	free(out);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Pure Ed25519 with the digest bytes as the message (SPEC §2). */
static int
sg_ed25519_sign(EVP_PKEY *pkey, const uint8_t *digest, size_t digest_len,
    uint8_t **sig, size_t *siglen)
{
	int r = SG_ERR_INTERNAL;
	EVP_MD_CTX *mctx = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;

	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(mctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(mctx, NULL, &outlen, digest, digest_len) != 1 || outlen == 0) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	if ((out = malloc(outlen)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSign(mctx, out, &outlen, digest, digest_len) != 1) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	*sig = out;
	*siglen = outlen;
	out = NULL;
	r = SG_OK;
out:
	free(out);
	EVP_MD_CTX_free(mctx);
	return r;
}

int
sg_sign_digest(const sg_privkey *k, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen)
{
	int r = SG_ERR_INTERNAL;
	sg_sign_params p;
	uint8_t *out = NULL, *raw = NULL;
	size_t outlen = 0, rawlen = 0;

	if (k == NULL || params == NULL || digest == NULL || sig == NULL || siglen == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	p = *params;
	if ((r = sg_sign_params_check(k->alg, &p)) != SG_OK)
		return r;
	if (p.message ? digest_len > SG_MAX_MESSAGE : digest_len != sg_hash_len(p.hash))
		return p.message ? SG_ERR_TOO_LARGE : SG_ERR_DIGEST_LENGTH;

	switch (p.scheme) {
	case SG_SCHEME_RSA_PKCS1:
	case SG_SCHEME_RSA_PSS:
	case SG_SCHEME_ECDSA:
		r = sg_evp_sign_digest(k->pkey, &p, digest, digest_len, &out, &outlen);
		break;
	case SG_SCHEME_ED25519:
		r = sg_ed25519_sign(k->pkey, digest, digest_len, &out, &outlen);
		break;
	case SG_SCHEME_HASH_MLDSA:
	case SG_SCHEME_MLDSA:
	case SG_SCHEME_COMPOSITE:
		r = sg_pq_sign(k, &p, digest, digest_len, &out, &outlen);
		break;
	case SG_SCHEME_NONE:
		r = SG_ERR_UNSUPPORTED_ALGORITHM;
		break;
	}
	if (r != SG_OK)
		goto out;

	if (p.scheme == SG_SCHEME_ECDSA && p.format == SG_FORMAT_P1363) {
		r = sg_ecdsa_der_to_p1363(out, outlen, sg_key_alg_ec_field_len(k->alg),
		    &raw, &rawlen);
		if (r != SG_OK) {
			r = SG_ERR_INTERNAL;  /* OpenSSL's own DER did not convert */
			goto out;
		}
		free(out);
		out = raw;
		outlen = rawlen;
		raw = NULL;
	}
	*sig = out;
	*siglen = outlen;
	out = NULL;
	r = SG_OK;
out:
	free(out);
	free(raw);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}

/* Parse SPKI DER (all of it) into an EVP_PKEY that must be of algorithm a. */
static int
sg_spki_parse(sg_key_alg a, const uint8_t *spki, size_t spki_len, EVP_PKEY **out)
{
	const unsigned char *q = spki;
	EVP_PKEY *pkey = NULL;
	int r;

	if (spki_len == 0 || spki_len > SG_SPKI_MAX)
		return SG_ERR_BAD_ENCODING;
	if ((pkey = d2i_PUBKEY(NULL, &q, (long)spki_len)) == NULL || q != spki + spki_len) {
		EVP_PKEY_free(pkey);
		return SG_ERR_BAD_ENCODING;
	}
	if ((r = sg_pkey_matches_alg(pkey, a)) != SG_OK) {
		EVP_PKEY_free(pkey);
		return r;
	}
	*out = pkey;
	return SG_OK;
}

static int
sg_evp_verify_digest(EVP_PKEY *pkey, const sg_sign_params *p, const uint8_t *digest,
    size_t digest_len, const uint8_t *sig, size_t siglen)
{
	int r = SG_ERR_INTERNAL;
	EVP_PKEY_CTX *ctx = NULL;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_verify_init(ctx) <= 0) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	if (p->scheme != SG_SCHEME_ECDSA && (r = sg_rsa_ctx_setup(ctx, p)) != SG_OK)
		goto out;
	/* 0 is "does not verify", negative is "could not even be checked": same to a client. */
	r = EVP_PKEY_verify(ctx, sig, siglen, digest, digest_len) == 1 ?
	    SG_OK : SG_ERR_BAD_SIGNATURE;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int
sg_ed25519_verify(EVP_PKEY *pkey, const uint8_t *digest, size_t digest_len,
    const uint8_t *sig, size_t siglen)
{
	int r = SG_ERR_INTERNAL;
	EVP_MD_CTX *mctx = NULL;

	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, pkey) != 1) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	r = EVP_DigestVerify(mctx, sig, siglen, digest, digest_len) == 1 ?
	    SG_OK : SG_ERR_BAD_SIGNATURE;
out:
	EVP_MD_CTX_free(mctx);
	return r;
}

int
sg_verify_digest(sg_key_alg a, const uint8_t *spki, size_t spki_len,
    const sg_sign_params *params, const uint8_t *digest, size_t digest_len,
    const uint8_t *sig, size_t siglen)
{
	int r = SG_ERR_INTERNAL;
	sg_sign_params p;
	EVP_PKEY *pkey = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;

	if (spki == NULL || params == NULL || digest == NULL || sig == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	p = *params;
	if ((r = sg_sign_params_check(a, &p)) != SG_OK)
		return r;
	if (p.message ? digest_len > SG_MAX_MESSAGE : digest_len != sg_hash_len(p.hash))
		return p.message ? SG_ERR_TOO_LARGE : SG_ERR_DIGEST_LENGTH;
	if (sg_key_alg_is_pq(a))
		return sg_pq_verify(a, spki, spki_len, &p, digest, digest_len, sig, siglen);
	if (!sg_key_alg_is_classical(a))
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	if ((r = sg_spki_parse(a, spki, spki_len, &pkey)) != SG_OK)
		goto out;

	switch (p.scheme) {
	case SG_SCHEME_ECDSA:
		if (p.format == SG_FORMAT_P1363) {
			if (siglen != 2 * sg_key_alg_ec_field_len(a)) {
				r = SG_ERR_BAD_SIGNATURE;
				goto out;
			}
			if ((r = sg_ecdsa_p1363_to_der(sig, siglen, &der, &derlen)) != SG_OK) {
				if (r == SG_ERR_BAD_ENCODING)
					r = SG_ERR_BAD_SIGNATURE;
				goto out;
			}
			sig = der;
			siglen = derlen;
		}
		/* FALLTHROUGH */
	case SG_SCHEME_RSA_PKCS1:
	case SG_SCHEME_RSA_PSS:
		r = sg_evp_verify_digest(pkey, &p, digest, digest_len, sig, siglen);
		break;
	case SG_SCHEME_ED25519:
		r = sg_ed25519_verify(pkey, digest, digest_len, sig, siglen);
		break;
	case SG_SCHEME_HASH_MLDSA:
	case SG_SCHEME_MLDSA:
	case SG_SCHEME_COMPOSITE:
	case SG_SCHEME_NONE:
		r = SG_ERR_UNSUPPORTED_ALGORITHM;
		break;
	}
out:
	free(der);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}
