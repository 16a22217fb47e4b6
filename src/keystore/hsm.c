/*
 * hsm.c - the keystore behind storage "HSM": a router over two custodians.
 *
 * Algorithms a PKCS#11 token can hold (RSA, EC, Ed25519) are generated and
 * used inside it by the PKCS#11 keystore (pkcs11.c); their handle is
 * 0x01 || CKA_ID.  Algorithms no token speaks yet (ML-DSA-44/65/87 and the
 * MLDSA65-ECDSA-P256 composite) are generated in this process and sealed at
 * once under the token's AES master key by a software keystore whose only
 * sealer is the PKCS#11 one (p11_sealer.c); their handle is the "SGK2"
 * blob.  That keystore keeps no cache: every signature unseals through the
 * token (C_Decrypt), signs and wipes, so the private key is in memory only
 * while it is being made or used, and nothing signs while the token is
 * away.  The two handle formats cannot be mistaken for each other (0x01
 * versus "SGK"), so sign and destroy route by handle, generate by
 * algorithm.
 */
#include <stdlib.h>
#include <string.h>
#include "pkcs11_int.h"
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_pkcs11.h"
#include "sg_sealer.h"

typedef struct hsm_ks {
	sg_keystore *p11;      /* keys inside the token */
	sg_keystore *sealed;   /* keys sealed by the token; NULL: refused */
	const sg_sealer *sealer;  /* borrowed from sealed, to recognise its blobs */
} hsm_ks;

static int
sealed_alg(sg_key_alg alg)
{
	switch (alg) {
	case SG_KEY_MLDSA_44:
	case SG_KEY_MLDSA_65:
	case SG_KEY_MLDSA_87:
	case SG_KEY_MLDSA65_ECDSA_P256:
		return 1;
	default:
		return 0;
	}
}

/* The keystore that holds ref's key; NULL for a handle neither knows. */
static sg_keystore *
route(const hsm_ks *h, const sg_key_ref *ref)
{
	if (ref == NULL || ref->handle == NULL)
		return h->p11;   /* which refuses it */
	if (h->sealed != NULL && sg_sealer_owns(h->sealer, ref->handle, ref->handle_len))
		return h->sealed;
	return h->p11;
}

static int
hsm_generate(sg_keystore *ks, const char *version_id, sg_key_alg alg,
    uint8_t **handle, size_t *handle_len, uint8_t **spki, size_t *spki_len)
{
	hsm_ks *h = ks->impl;

	if (!sealed_alg(alg))
		return sg_keystore_generate(h->p11, version_id, alg, handle, handle_len, spki,
		    spki_len);
	if (h->sealed == NULL) {
		sg_warn("keystore: %s keys in storage HSM need the token's AES master key, "
		    "which is not set up", sg_key_alg_name(alg));
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	}
	return sg_keystore_generate(h->sealed, version_id, alg, handle, handle_len, spki,
	    spki_len);
}

static int
hsm_sign(sg_keystore *ks, const sg_key_ref *ref, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen)
{
	return sg_keystore_sign(route(ks->impl, ref), ref, params, digest, digest_len, sig,
	    siglen);
}

static int
hsm_destroy(sg_keystore *ks, const sg_key_ref *ref)
{
	/* For a sealed key: drops nothing cached (there is no cache); the store drops the blob. */
	return sg_keystore_destroy(route(ks->impl, ref), ref);
}

static void
hsm_close(sg_keystore *ks)
{
	hsm_ks *h = ks->impl;
	sg_keystore_close(h->sealed);
	sg_keystore_close(h->p11);
	free(h);
	free(ks);
}

static const sg_keystore_ops hsm_ops = {
	.storage = "HSM",
	.generate = hsm_generate,
	.sign = hsm_sign,
	.destroy = hsm_destroy,
	.close = hsm_close,
};

int
sg_keystore_hsm_open(sg_keystore *p11, sg_sealer *sealer, sg_keystore **out)
{
	sg_keystore *ks = NULL, *sealed = NULL;
	hsm_ks *h = NULL;
	int r;

	if (!sg_p11_is_pkcs11(p11) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if ((ks = calloc(1, sizeof(*ks))) == NULL || (h = calloc(1, sizeof(*h))) == NULL) {
		free(ks);
		return SG_ERR_NOMEM;
	}
	if (sealer != NULL &&
	    (r = sg_keystore_soft_open_sealed(sealer, NULL, 0, &sealed)) != SG_OK) {
		free(h);
		free(ks);
		return r;
	}
	h->p11 = p11;
	h->sealed = sealed;
	h->sealer = sealer;
	ks->ops = &hsm_ops;
	ks->impl = h;
	*out = ks;
	return SG_OK;
}
