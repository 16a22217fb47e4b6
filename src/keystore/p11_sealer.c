/*
 * p11_sealer.c - the PKCS#11 sealer: private keys sealed by an AES-256 key
 * that lives in the token and never leaves it.
 *
 * Blob: "SGK2" | id_len(1) | CKA_ID of the AES key (id_len bytes) | nonce(12)
 * | ciphertext | tag(16), made with CKM_AES_GCM inside the token (C_Encrypt
 * in a session of the PKCS#11 keystore's pool) with the keystore's
 * associated data in CK_GCM_PARAMS.  The blob names the AES key that sealed
 * it, so blobs keep opening when the token holds several keys with the
 * master label (two processes that generated one at the same moment, or a
 * new key brought in later); new blobs are sealed under the key the label
 * resolves to (pkcs11_int.h: sg_p11_master_key), found once and remembered.
 * Nonces are random (RAND_bytes), 96 bits: one AES-GCM call per key version
 * sealed, far below the 2^32 calls per key that random nonces allow.
 *
 * The plaintext exists only in the caller's buffer and, while opening, in
 * a buffer of ours that is wiped on every path.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "pkcs11_int.h"
#include "sg_log.h"
#include "sg_pkcs11.h"
#include "sg_sealer.h"
#include "sg_secret.h"
#include "sg_util.h"

#define P11S_HDR_FIXED (SG_SEALER_MAGIC_LEN + 1)

typedef struct p11_sealer {
	sg_keystore *p11;                  /* a reference of our own (sg_p11_retain) */
	char label[SG_PKCS11_KEY_LABEL_MAX + 1];
	pthread_mutex_t lock;              /* guards id, id_len */
	uint8_t id[SG_P11_SECRET_ID_MAX];  /* CKA_ID of the sealing key */
	size_t id_len;                     /* 0 until resolved */
} p11_sealer;

/* The CKA_ID new blobs are sealed under; resolved (and generated) on first use. */
static int
current_key(p11_sealer *p, uint8_t id[SG_P11_SECRET_ID_MAX], size_t *id_len)
{
	int r = SG_OK;

	pthread_mutex_lock(&p->lock);
	if (p->id_len == 0) {
		/* Under the lock: one process generates at most one key. */
		r = sg_p11_master_key(p->p11, p->label, 1, p->id, &p->id_len);
		if (r == SG_OK) {
			char hex[2 * SG_P11_SECRET_ID_MAX + 1];
			for (size_t i = 0; i < p->id_len; i++)
				snprintf(hex + 2 * i, 3, "%02x", p->id[i]);
			sg_info("keystore: sealing keys under AES key \"%s\" (CKA_ID %s) in token "
			    "\"%s\"", p->label, hex, sg_p11_token_label(p->p11));
		} else {
			p->id_len = 0;
		}
	}
	if (r == SG_OK) {
		memcpy(id, p->id, p->id_len);
		*id_len = p->id_len;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* The sealing key is gone from the token: look the label up again next time. */
static void
forget_key(p11_sealer *p, const uint8_t *id, size_t id_len)
{
	pthread_mutex_lock(&p->lock);
	if (p->id_len == id_len && memcmp(p->id, id, id_len) == 0)
		p->id_len = 0;
	pthread_mutex_unlock(&p->lock);
}

static int
p11s_seal(sg_sealer *sl, const uint8_t *aad, size_t aad_len,
    const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *outlen)
{
	p11_sealer *p = sl->impl;
	uint8_t id[SG_P11_SECRET_ID_MAX], *blob = NULL;
	size_t id_len = 0, total = 0, got = 0;
	int r = SG_ERR_INTERNAL;

	for (int attempt = 0; attempt < 2; attempt++) {
		free(blob);
		blob = NULL;
		if ((r = current_key(p, id, &id_len)) != SG_OK)
			break;
		total = P11S_HDR_FIXED + id_len + SG_P11_GCM_NONCE + plain_len + SG_P11_GCM_TAG;
		if ((blob = malloc(total)) == NULL) {
			r = SG_ERR_NOMEM;
			break;
		}
		memcpy(blob, sl->ops->magic, SG_SEALER_MAGIC_LEN);
		blob[SG_SEALER_MAGIC_LEN] = (uint8_t)id_len;
		memcpy(blob + P11S_HDR_FIXED, id, id_len);
		uint8_t *nonce = blob + P11S_HDR_FIXED + id_len, *ct = nonce + SG_P11_GCM_NONCE;
		if (RAND_bytes(nonce, SG_P11_GCM_NONCE) != 1) {
			r = SG_ERR_CRYPTO;
			break;
		}
		r = sg_p11_aes_gcm(p->p11, 1, id, id_len, nonce, aad, aad_len, plain, plain_len,
		    ct, plain_len + SG_P11_GCM_TAG, &got);
		if (r != SG_ERR_KEY_NOT_ACTIVE)
			break;
		forget_key(p, id, id_len);
	}
	if (r == SG_OK && got != plain_len + SG_P11_GCM_TAG) {
		sg_error("pkcs11: token \"%s\" returned %zu bytes of AES-GCM for %zu",
		    sg_p11_token_label(p->p11), got, plain_len);
		r = SG_ERR_CRYPTO;
	}
	if (r == SG_OK) {
		*out = blob;
		*outlen = total;
		blob = NULL;
	}
	free(blob);
	return r;
}

static int
p11s_open(sg_sealer *sl, const uint8_t *aad, size_t aad_len,
    const uint8_t *blob, size_t blob_len, uint8_t **out, size_t *outlen)
{
	p11_sealer *p = sl->impl;
	size_t id_len, hdr, sealed_len, got = 0;
	uint8_t *plain;
	int r;

	if (blob_len < P11S_HDR_FIXED)
		return SG_ERR_KEY_NOT_ACTIVE;
	id_len = blob[SG_SEALER_MAGIC_LEN];
	hdr = P11S_HDR_FIXED + id_len + SG_P11_GCM_NONCE;
	if (id_len == 0 || id_len > SG_P11_SECRET_ID_MAX || blob_len < hdr + SG_P11_GCM_TAG + 1)
		return SG_ERR_KEY_NOT_ACTIVE;
	sealed_len = blob_len - hdr;   /* ciphertext || tag */
	if (sealed_len - SG_P11_GCM_TAG > SG_SEALER_MAX_PLAIN)
		return SG_ERR_INVALID_ARGUMENT;
	if ((plain = malloc(sealed_len)) == NULL)
		return SG_ERR_NOMEM;
	r = sg_p11_aes_gcm(p->p11, 0, blob + P11S_HDR_FIXED, id_len,
	    blob + P11S_HDR_FIXED + id_len, aad, aad_len, blob + hdr, sealed_len, plain,
	    sealed_len, &got);
	if (r == SG_OK && got != sealed_len - SG_P11_GCM_TAG)
		r = SG_ERR_CRYPTO;
	if (r != SG_OK) {
		sg_free_secret(plain, sealed_len);
		return r;
	}
	/* The tail held nothing of ours, but the token was free to write there. */
	sg_wipe(plain + got, sealed_len - got);
	*out = plain;
	*outlen = got;
	return SG_OK;
}

static void
p11s_free(sg_sealer *sl)
{
	p11_sealer *p = sl->impl;
	sg_p11_release(p->p11);
	pthread_mutex_destroy(&p->lock);
	free(p);
	free(sl);
}

static const sg_sealer_ops p11s_ops = {
	.kind = "pkcs11",
	.magic = { 'S', 'G', 'K', '2' },
	.seal = p11s_seal,
	.open = p11s_open,
	.free = p11s_free,
};

int
sg_sealer_pkcs11_open(sg_keystore *p11, const char *key_label, int prepare, sg_sealer **out)
{
	sg_sealer *sl;
	p11_sealer *p;
	uint8_t id[SG_P11_SECRET_ID_MAX];
	size_t id_len;
	int r;

	if (!sg_p11_is_pkcs11(p11) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (key_label == NULL || key_label[0] == '\0')
		key_label = SG_PKCS11_KEY_LABEL_DEFAULT;
	if (strlen(key_label) > SG_PKCS11_KEY_LABEL_MAX) {
		sg_error("pkcs11: master key label \"%s\" is longer than %d bytes", key_label,
		    SG_PKCS11_KEY_LABEL_MAX);
		return SG_ERR_INVALID_ARGUMENT;
	}
	sl = calloc(1, sizeof(*sl));
	p = calloc(1, sizeof(*p));
	if (sl == NULL || p == NULL) {
		free(sl);
		free(p);
		return SG_ERR_NOMEM;
	}
	sg_strlcpy(p->label, key_label, sizeof(p->label));
	pthread_mutex_init(&p->lock, NULL);
	sg_p11_retain(p11);
	p->p11 = p11;
	sl->ops = &p11s_ops;
	sl->impl = p;
	if (prepare && (r = current_key(p, id, &id_len)) != SG_OK) {
		p11s_free(sl);
		return r;
	}
	*out = sl;
	return SG_OK;
}
