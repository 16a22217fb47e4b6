/*
 * encode.c - signature and public-key encodings.
 *
 * ECDSA signatures leave OpenSSL as DER SEQUENCE{r, s}; clients may ask for
 * the fixed-width r||s of IEEE P1363 instead (JOSE, WebCrypto, some HSMs),
 * and /v1/verify accepts either.  Public keys are published as PEM of the
 * SubjectPublicKeyInfo, written generically so that it also works for
 * algorithms the system OpenSSL does not know (ML-DSA, the composite).
 * Dialects that publish a key's raw parts (the BIT STRING of its SPKI, an
 * RSA modulus and exponent, a leaf certificate's DER) take them from here.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>
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

int
sg_spki_public_bits(const uint8_t *spki, size_t len, uint8_t **out, size_t *outlen)
{
	int r = SG_ERR_BAD_ENCODING;
	const unsigned char *p = spki;
	const unsigned char *bits = NULL;
	int nbits = 0;
	X509_PUBKEY *xpk = NULL;
	uint8_t *copy = NULL;

	if (spki == NULL || len == 0 || len > SG_SPKI_MAX || !sg_der_is_one_sequence(spki, len))
		goto out;
	/* X509_PUBKEY parses any algorithm's SPKI, known to OpenSSL or not. */
	if ((xpk = d2i_X509_PUBKEY(NULL, &p, (long)len)) == NULL || (size_t)(p - spki) != len ||
	    X509_PUBKEY_get0_param(NULL, &bits, &nbits, NULL, xpk) != 1 || nbits <= 0)
		goto out;
	if ((copy = malloc((size_t)nbits)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, bits, (size_t)nbits);
	*out = copy;
	*outlen = (size_t)nbits;
	r = SG_OK;
out:
	X509_PUBKEY_free(xpk);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}

/* BN parameter name of pkey as unsigned big-endian bytes (malloc'd). */
static int
bn_param(const EVP_PKEY *pkey, const char *name, uint8_t **out, size_t *outlen)
{
	BIGNUM *bn = NULL;
	uint8_t *buf = NULL;
	int r = SG_ERR_BAD_ENCODING;
	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		goto out;
	int n = BN_num_bytes(bn);
	if ((buf = malloc(n > 0 ? (size_t)n : 1)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	BN_bn2bin(bn, buf);
	*out = buf;
	*outlen = (size_t)n;
	buf = NULL;
	r = SG_OK;
out:
	free(buf);
	BN_free(bn);
	return r;
}

int
sg_spki_rsa_params(const uint8_t *spki, size_t len, uint8_t **modulus, size_t *modlen,
    uint8_t **exponent, size_t *explen)
{
	int r = SG_ERR_BAD_ENCODING;
	const unsigned char *p = spki;
	EVP_PKEY *pkey = NULL;
	uint8_t *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;

	if (spki == NULL || len == 0 || len > SG_SPKI_MAX ||
	    (pkey = d2i_PUBKEY(NULL, &p, (long)len)) == NULL || (size_t)(p - spki) != len)
		goto out;
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		r = SG_ERR_ALGORITHM_MISMATCH;
		goto out;
	}
	if ((r = bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n, &nlen)) != SG_OK ||
	    (r = bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e, &elen)) != SG_OK)
		goto out;
	*modulus = n;
	*modlen = nlen;
	*exponent = e;
	*explen = elen;
	n = e = NULL;
	r = SG_OK;
out:
	free(n);
	free(e);
	EVP_PKEY_free(pkey);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}

int
sg_pem_first_cert_der(const char *pem, uint8_t **der, size_t *len)
{
	int r = SG_ERR_BAD_ENCODING;
	BIO *bio = NULL;
	X509 *x = NULL;
	unsigned char *buf = NULL;
	int n;

	if (pem == NULL || (bio = BIO_new_mem_buf(pem, -1)) == NULL)
		goto out;
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL || (n = i2d_X509(x, &buf)) <= 0)
		goto out;
	uint8_t *copy = malloc((size_t)n);
	if (copy == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, buf, (size_t)n);
	*der = copy;
	*len = (size_t)n;
	r = SG_OK;
out:
	OPENSSL_free(buf);
	X509_free(x);
	BIO_free(bio);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}
