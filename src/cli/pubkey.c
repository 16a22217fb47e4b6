/*
 * pubkey.c - public keys for offline verification: PEM in, SPKI DER and key
 * algorithm out.
 *
 * src/crypto verifies against an SPKI DER of a named key algorithm.  Users
 * hold PEM public keys or certificates, so this file turns either into the
 * SPKI bytes, and tells the algorithm from the key itself (RSA modulus size,
 * EC curve, Ed25519, ML-DSA or composite OID) rather than trusting a label.
 * OpenSSL 3.0 cannot decode ML-DSA keys, so the SPKI is always carried as raw
 * bytes and the algorithm read from its OID when OpenSSL has no key type for it.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "sg_cli.h"

/*
 * OIDs of the key types OpenSSL 3.0 cannot decode: the ML-DSA parameter sets
 * (FIPS 204, NIST CSOR) and the composite (the LAMPS draft src/crypto/composite
 * implements).
 */
static const struct {
	const char *oid;
	sg_key_alg alg;
} sg_cli_pq_oids[] = {
	{ "2.16.840.1.101.3.4.3.17", SG_KEY_MLDSA_44 },
	{ "2.16.840.1.101.3.4.3.18", SG_KEY_MLDSA_65 },
	{ "2.16.840.1.101.3.4.3.19", SG_KEY_MLDSA_87 },
	{ "1.3.6.1.5.5.7.6.45", SG_KEY_MLDSA65_ECDSA_P256 },
};

/* SPKI DER of a certificate's subject key, without decoding the key itself. */
static int
sg_cli_cert_spki(const uint8_t *der, long len, uint8_t **spki, size_t *spki_len)
{
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, len);
	unsigned char *der_out = NULL;
	uint8_t *copy;
	int n;

	if (cert == NULL)
		return SG_ERR_BAD_ENCODING;
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der_out);
	X509_free(cert);
	if (n <= 0)
		return SG_ERR_BAD_ENCODING;
	if ((copy = malloc((size_t)n)) == NULL) {
		OPENSSL_free(der_out);
		return SG_ERR_NOMEM;
	}
	memcpy(copy, der_out, (size_t)n);
	OPENSSL_free(der_out);
	*spki = copy;
	*spki_len = (size_t)n;
	return SG_OK;
}

int
sg_cli_spki_from_pem(const char *pem, size_t pem_len, uint8_t **spki, size_t *spki_len)
{
	int r = SG_ERR_BAD_ENCODING;
	BIO *bio = NULL;

	if (pem_len > SG_CLI_MAX_PEM || (bio = BIO_new_mem_buf(pem, (int)pem_len)) == NULL) {
		sg_cli_err("public key text is too large");
		return SG_ERR_TOO_LARGE;
	}
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long len = 0;

		if (PEM_read_bio(bio, &name, &header, &data, &len) != 1)
			break;
		if (strcmp(name, "PUBLIC KEY") == 0 && len > 0) {
			uint8_t *copy = malloc((size_t)len);
			if (copy != NULL) {
				memcpy(copy, data, (size_t)len);
				*spki = copy;
				*spki_len = (size_t)len;
				r = SG_OK;
			} else {
				r = SG_ERR_NOMEM;
			}
		} else if (strcmp(name, "CERTIFICATE") == 0 && len > 0) {
			r = sg_cli_cert_spki(data, len, spki, spki_len);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (r == SG_OK || r == SG_ERR_NOMEM)
			break;
	}
	BIO_free(bio);
	ERR_clear_error();
	if (r == SG_ERR_NOMEM)
		sg_cli_err("out of memory");
	else if (r != SG_OK)
		sg_cli_err("no PEM PUBLIC KEY or CERTIFICATE found");
	return r;
}

/* Key algorithm of a key OpenSSL could decode. */
static sg_key_alg
sg_cli_pkey_alg(EVP_PKEY *pkey)
{
	char curve[64];
	size_t curve_len = 0;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		switch (EVP_PKEY_get_bits(pkey)) {
		case 2048: return SG_KEY_RSA_2048;
		case 3072: return SG_KEY_RSA_3072;
		case 4096: return SG_KEY_RSA_4096;
		default: return SG_KEY_NONE;
		}
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve,
		    sizeof(curve), &curve_len) != 1)
			return SG_KEY_NONE;
		if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0)
			return SG_KEY_EC_P256;
		if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0)
			return SG_KEY_EC_P384;
		if (strcmp(curve, "secp521r1") == 0 || strcmp(curve, "P-521") == 0)
			return SG_KEY_EC_P521;
		return SG_KEY_NONE;
	case EVP_PKEY_ED25519:
		return SG_KEY_ED25519;
	default:
		return SG_KEY_NONE;
	}
}

sg_key_alg
sg_cli_spki_key_alg(const uint8_t *spki, size_t spki_len)
{
	const unsigned char *p = spki;
	X509_PUBKEY *xpk = NULL;
	EVP_PKEY *pkey = NULL;
	ASN1_OBJECT *oid = NULL;
	sg_key_alg a = SG_KEY_NONE;
	char dotted[128];

	if (spki == NULL || spki_len == 0 || spki_len > SG_CLI_MAX_PEM)
		return SG_KEY_NONE;
	/* d2i_X509_PUBKEY keeps keys of types OpenSSL does not know, undecoded. */
	if ((xpk = d2i_X509_PUBKEY(NULL, &p, (long)spki_len)) == NULL ||
	    p != spki + spki_len)
		goto out;
	if ((pkey = X509_PUBKEY_get0(xpk)) != NULL) {
		a = sg_cli_pkey_alg(pkey);
		goto out;
	}
	if (X509_PUBKEY_get0_param(&oid, NULL, NULL, NULL, xpk) != 1 ||
	    OBJ_obj2txt(dotted, sizeof(dotted), oid, 1) <= 0)
		goto out;
	for (size_t i = 0; i < sizeof(sg_cli_pq_oids) / sizeof(sg_cli_pq_oids[0]); i++) {
		if (strcmp(dotted, sg_cli_pq_oids[i].oid) == 0)
			a = sg_cli_pq_oids[i].alg;
	}
out:
	X509_PUBKEY_free(xpk);
	ERR_clear_error();
	return a;
}
