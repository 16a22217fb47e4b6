/*
 * privkey.c - private keys in memory: generate, export for custody, import,
 * public half.
 *
 * A keystore back-end generates a key here, stores what sg_privkey_export
 * gives it (PKCS#8 DER for classical keys), and later hands those bytes back
 * to sg_privkey_import to sign (ML-DSA and the composite: see pq.c).
 * Every buffer that ever held private bytes is
 * wiped before it is freed, on error paths too.  Imports are strict: the
 * bytes must be exactly one key of exactly the algorithm the keystore
 * recorded, so a swapped or truncated blob cannot sign under the wrong name.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include "sg_crypto.h"
#include "sg_crypto_int.h"
#include "sg_secret.h"

/* Largest PKCS#8 we accept: an RSA-4096 key is about 2.4 KB. */
#define SG_PKCS8_MAX (16u * 1024u)

static int
sg_ec_curve_nid(sg_key_alg a)
{
	switch (a) {
	case SG_KEY_EC_P256: return NID_X9_62_prime256v1;
	case SG_KEY_EC_P384: return NID_secp384r1;
	case SG_KEY_EC_P521: return NID_secp521r1;
	default: return NID_undef;
	}
}

int
sg_pkey_matches_alg(EVP_PKEY *pkey, sg_key_alg a)
{
	char group[64];
	size_t group_len = 0;

	if (pkey == NULL)
		return SG_ERR_ALGORITHM_MISMATCH;
	switch (a) {
	case SG_KEY_RSA_2048:
	case SG_KEY_RSA_3072:
	case SG_KEY_RSA_4096:
		/* Plain rsaEncryption only; an id-RSASSA-PSS key is not what was stored. */
		if (!EVP_PKEY_is_a(pkey, "RSA") ||
		    EVP_PKEY_get_bits(pkey) != sg_key_alg_bits(a))
			return SG_ERR_ALGORITHM_MISMATCH;
		return SG_OK;
	case SG_KEY_EC_P256:
	case SG_KEY_EC_P384:
	case SG_KEY_EC_P521:
	case SG_KEY_MLDSA65_ECDSA_P256:
		if (!EVP_PKEY_is_a(pkey, "EC"))
			return SG_ERR_ALGORITHM_MISMATCH;
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_len) != 1) {
			ERR_clear_error();
			return SG_ERR_ALGORITHM_MISMATCH;
		}
		if (OBJ_txt2nid(group) != sg_ec_curve_nid(
		    a == SG_KEY_MLDSA65_ECDSA_P256 ? SG_KEY_EC_P256 : a))
			return SG_ERR_ALGORITHM_MISMATCH;
		return SG_OK;
	case SG_KEY_ED25519:
		if (!EVP_PKEY_is_a(pkey, "ED25519"))
			return SG_ERR_ALGORITHM_MISMATCH;
		return SG_OK;
	default:
		break;
	}
	return SG_ERR_ALGORITHM_MISMATCH;
}

static int
sg_evp_generate(sg_key_alg a, EVP_PKEY **out)
{
	EVP_PKEY *pkey = NULL;

	switch (a) {
	case SG_KEY_RSA_2048:
	case SG_KEY_RSA_3072:
	case SG_KEY_RSA_4096:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)sg_key_alg_bits(a));
		break;
	case SG_KEY_EC_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case SG_KEY_EC_P384:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case SG_KEY_EC_P521:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
		break;
	case SG_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	}
	if (pkey == NULL) {
		ERR_clear_error();
		return SG_ERR_CRYPTO;
	}
	*out = pkey;
	return SG_OK;
}

/* PKCS#8 DER of pkey into a malloc'd buffer the caller wipes. */
static int
sg_evp_export(EVP_PKEY *pkey, uint8_t **out, size_t *outlen)
{
	int r = SG_ERR_INTERNAL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	uint8_t *der = NULL;
	unsigned char *p;
	int len = 0;

	if ((p8 = EVP_PKEY2PKCS8(pkey)) == NULL) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	if ((len = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) <= 0) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	/* Encode straight into our buffer so no other copy of the key exists. */
	if ((der = malloc((size_t)len)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	p = der;
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != len) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	*out = der;
	*outlen = (size_t)len;
	der = NULL;
	r = SG_OK;
out:
	if (der != NULL)
		sg_free_secret(der, (size_t)len);
	PKCS8_PRIV_KEY_INFO_free(p8);  /* its ASN.1 callback clears the key octets */
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}

static int
sg_evp_import(sg_key_alg a, const uint8_t *der, size_t len, EVP_PKEY **out)
{
	int r = SG_ERR_INTERNAL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = der;

	if (len == 0 || len > SG_PKCS8_MAX) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((pkey = EVP_PKCS82PKEY(p8)) == NULL) {
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((r = sg_pkey_matches_alg(pkey, a)) != SG_OK)
		goto out;
	*out = pkey;
	pkey = NULL;
	r = SG_OK;
out:
	EVP_PKEY_free(pkey);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}

static int
sg_privkey_new(sg_key_alg a, sg_privkey **out)
{
	sg_privkey *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return SG_ERR_NOMEM;
	k->alg = a;
	*out = k;
	return SG_OK;
}

int
sg_privkey_generate(sg_key_alg a, sg_privkey **out)
{
	int r = SG_ERR_INTERNAL;
	sg_privkey *k = NULL;

	if (out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (!sg_key_alg_is_classical(a) && !sg_key_alg_is_pq(a))
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	if ((r = sg_privkey_new(a, &k)) != SG_OK)
		goto out;
	if (sg_key_alg_is_pq(a))
		r = sg_pq_generate(k);
	else
		r = sg_evp_generate(a, &k->pkey);
	if (r != SG_OK)
		goto out;
	*out = k;
	k = NULL;
	r = SG_OK;
out:
	sg_privkey_free(k);
	return r;
}

int
sg_privkey_export(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	if (k == NULL || out == NULL || outlen == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (sg_key_alg_is_pq(k->alg))
		return sg_pq_export(k, out, outlen);
	if (!sg_key_alg_is_classical(k->alg))
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	return sg_evp_export(k->pkey, out, outlen);
}

int
sg_privkey_import(sg_key_alg a, const uint8_t *der, size_t len, sg_privkey **out)
{
	int r = SG_ERR_INTERNAL;
	sg_privkey *k = NULL;

	if (der == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (!sg_key_alg_is_classical(a) && !sg_key_alg_is_pq(a))
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	if ((r = sg_privkey_new(a, &k)) != SG_OK)
		goto out;
	if (sg_key_alg_is_pq(a))
		r = sg_pq_import(k, der, len);
	else
		r = sg_evp_import(a, der, len, &k->pkey);
	if (r != SG_OK)
		goto out;
	*out = k;
	k = NULL;
	r = SG_OK;
out:
	sg_privkey_free(k);
	return r;
}

/* SPKI DER of an EVP_PKEY's public half into a malloc'd buffer. */
static int
sg_evp_spki(EVP_PKEY *pkey, uint8_t **out, size_t *outlen)
{
	uint8_t *der = NULL;
	unsigned char *p;
	int len;

	if ((len = i2d_PUBKEY(pkey, NULL)) <= 0) {
		ERR_clear_error();
		return SG_ERR_CRYPTO;
	}
	if ((der = malloc((size_t)len)) == NULL)
		return SG_ERR_NOMEM;
	p = der;
	if (i2d_PUBKEY(pkey, &p) != len) {
		free(der);
		ERR_clear_error();
		return SG_ERR_CRYPTO;
	}
	*out = der;
	*outlen = (size_t)len;
	return SG_OK;
}

int
sg_privkey_public_spki(const sg_privkey *k, uint8_t **out, size_t *outlen)
{
	if (k == NULL || out == NULL || outlen == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (sg_key_alg_is_pq(k->alg))
		return sg_pq_public_spki(k, out, outlen);
	if (!sg_key_alg_is_classical(k->alg))
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	return sg_evp_spki(k->pkey, out, outlen);
}

EVP_PKEY *
sg_privkey_evp(const sg_privkey *k)
{
	return k != NULL ? k->pkey : NULL;
}

sg_key_alg
sg_privkey_alg(const sg_privkey *k)
{
	return k != NULL ? k->alg : SG_KEY_NONE;
}

void
sg_privkey_free(sg_privkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);  /* OpenSSL clears key material it frees */
	sg_free_secret(k->pq_sk, k->pq_sk_len);
	free(k->pq_pk);
	sg_wipe(k->pq_seed, sizeof(k->pq_seed));
	free(k);
}
