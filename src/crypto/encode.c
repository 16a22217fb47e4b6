/*
 * encode.c - signature and public-key encodings.
 *
 * ECDSA signatures leave OpenSSL as DER SEQUENCE{r, s}; clients may ask for
 * the fixed-width r||s of IEEE P1363 instead (JOSE, WebCrypto, some HSMs),
 * and /v1/verify accepts either.  Public keys are published as PEM of the
 * SubjectPublicKeyInfo, written generically so that it also works for
 * algorithms the system OpenSSL does not know (ML-DSA, the composite).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "sg_crypto.h"

/* Largest field we handle: P-521, 66 bytes.  Bounds inputs before any parsing. */
#define SG_EC_FIELD_MAX 66
/* Largest SPKI we publish: ML-DSA-87 plus room; refuses nonsense early. */
#define SG_SPKI_MAX (16u * 1024u)

int
sg_ecdsa_der_to_p1363(const uint8_t *der, size_t derlen, size_t field_len,
    uint8_t **out, size_t *outlen)
{
	int r = SG_ERR_INTERNAL;
	ECDSA_SIG *sig = NULL;
	const unsigned char *p = der;
	unsigned char *reenc = NULL;
	uint8_t *raw = NULL;
	const BIGNUM *br = NULL, *bs = NULL;
	int reenc_len;

	if (der == NULL || out == NULL || outlen == NULL || field_len == 0 ||
	    field_len > SG_EC_FIELD_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	/* SEQUENCE{INTEGER, INTEGER} of at most field_len + 1 bytes each. */
	if (derlen == 0 || derlen > 2 * (field_len + 1) + 9)
		return SG_ERR_BAD_ENCODING;
	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	/* Only the one DER encoding: BER variants would make signatures malleable. */
	reenc_len = i2d_ECDSA_SIG(sig, &reenc);
	if (reenc_len < 0 || (size_t)reenc_len != derlen || memcmp(reenc, der, derlen) != 0) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	ECDSA_SIG_get0(sig, &br, &bs);
	if (BN_is_zero(br) || BN_is_negative(br) || BN_is_zero(bs) || BN_is_negative(bs)) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((raw = malloc(2 * field_len)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (BN_bn2binpad(br, raw, (int)field_len) < 0 ||
	    BN_bn2binpad(bs, raw + field_len, (int)field_len) < 0) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	*out = raw;
	*outlen = 2 * field_len;
	raw = NULL;
	r = SG_OK;
out:
	free(raw);
	OPENSSL_free(reenc);
	ECDSA_SIG_free(sig);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}

int
sg_ecdsa_p1363_to_der(const uint8_t *raw, size_t rawlen, uint8_t **out, size_t *outlen)
{
	int r = SG_ERR_INTERNAL;
	ECDSA_SIG *sig = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	uint8_t *der = NULL;
	unsigned char *p;
	int len;
	size_t half;

	if (raw == NULL || out == NULL || outlen == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (rawlen == 0 || rawlen % 2 != 0 || rawlen > 2 * SG_EC_FIELD_MAX)
		return SG_ERR_BAD_ENCODING;
	half = rawlen / 2;
	if ((br = BN_bin2bn(raw, (int)half, NULL)) == NULL ||
	    (bs = BN_bin2bn(raw + half, (int)half, NULL)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (BN_is_zero(br) || BN_is_zero(bs)) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((sig = ECDSA_SIG_new()) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (ECDSA_SIG_set0(sig, br, bs) != 1)
		goto out;
	br = bs = NULL;
	if ((len = i2d_ECDSA_SIG(sig, NULL)) <= 0)
		goto out;
	if ((der = malloc((size_t)len)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	p = der;
	if (i2d_ECDSA_SIG(sig, &p) != len)
		goto out;
	*out = der;
	*outlen = (size_t)len;
	der = NULL;
	r = SG_OK;
out:
	free(der);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}

/* True when der is exactly one DER SEQUENCE spanning all len bytes. */
static int
sg_der_is_one_sequence(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	long body = 0;
	int tag = 0, cls = 0;
	int ret = ASN1_get_object(&p, &body, &tag, &cls, (long)len);

	if ((ret & 0x80) != 0 || ret != V_ASN1_CONSTRUCTED)
		return 0;
	if (tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL)
		return 0;
	return (size_t)(p - der) + (size_t)body == len;
}

int
sg_spki_to_pem(const uint8_t *spki, size_t len, char **pem)
{
	int r = SG_ERR_INTERNAL;
	BIO *bio = NULL;
	char *data = NULL, *text = NULL;
	long n;

	if (spki == NULL || pem == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (len == 0 || len > SG_SPKI_MAX || !sg_der_is_one_sequence(spki, len)) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (PEM_write_bio(bio, "PUBLIC KEY", "", spki, (long)len) <= 0) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	if ((n = BIO_get_mem_data(bio, &data)) <= 0)
		goto out;
	if ((text = malloc((size_t)n + 1)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	memcpy(text, data, (size_t)n);
	text[n] = '\0';
	*pem = text;
	text = NULL;
	r = SG_OK;
out:
	free(text);
	BIO_free(bio);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}
