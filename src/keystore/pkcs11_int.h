/*
 * pkcs11_int.h - what pkcs11.c lends to the other PKCS#11 files of the
 * keystore module (p11_sealer.c, hsm.c): the token's AES master key, and
 * AES-GCM with it in a pooled session.  Not for use outside src/keystore.
 *
 * All functions take the keystore returned by sg_keystore_pkcs11_open and
 * use its session pool, login and token-loss recovery: a token that is away
 * gives SG_ERR_UNAVAILABLE and marks the pool for rebuilding, exactly as a
 * signature would.
 */
#ifndef SG_PKCS11_INT_H
#define SG_PKCS11_INT_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"
#include "sg_keystore.h"

#define SG_P11_SECRET_ID_MAX 64    /* longest CKA_ID of an AES master key we accept */
#define SG_P11_SECRET_ID_LEN 16    /* CKA_ID of one we generate */
#define SG_P11_GCM_NONCE 12
#define SG_P11_GCM_TAG 16

/* 1 when ks came from sg_keystore_pkcs11_open. */
int sg_p11_is_pkcs11(const sg_keystore *ks);

/*
 * Take one more reference to ks: sg_keystore_close (or sg_p11_release)
 * drops one, and the sessions close and the module is released with the
 * last.  Lets a sealer outlive the keystore it was made from.
 */
void sg_p11_retain(sg_keystore *ks);
void sg_p11_release(sg_keystore *ks);

/*
 * The AES-256 master key labelled label: its CKA_ID into id (cap
 * SG_P11_SECRET_ID_MAX bytes) and *id_len.  When the token has none and
 * create is set, one is generated (CKM_AES_KEY_GEN) as a token object,
 * private, sensitive, never extractable, for encrypt and decrypt only, with
 * 16 random bytes of CKA_ID.  When several carry the label, the one with
 * the smallest CKA_ID is used (two processes that generated at once agree
 * on it), with a warning.  A labelled key that is extractable, not
 * sensitive, not 32 bytes or not for both encrypt and decrypt is refused
 * (SG_ERR_PERMISSION_DENIED), as is one with no or too long a CKA_ID.
 * SG_ERR_NOT_FOUND when there is none and !create;
 * SG_ERR_UNSUPPORTED_ALGORITHM when the token lacks CKM_AES_KEY_GEN or
 * CKM_AES_GCM; SG_ERR_UNAVAILABLE when the token is away.  Outputs are
 * written only on success.
 */
int sg_p11_master_key(sg_keystore *ks, const char *label, int create, uint8_t *id,
    size_t *id_len) SG_WUR;

/*
 * AES-256-GCM (CKM_AES_GCM, CK_GCM_PARAMS with a 96-bit IV, 128-bit tag and
 * aad) with the secret key whose CKA_ID is key_id, in one of the pool's
 * sessions (C_EncryptInit/C_Encrypt or C_DecryptInit/C_Decrypt).
 * Encrypt: out receives ciphertext || tag, in_len + SG_P11_GCM_TAG bytes.
 * Decrypt: in is ciphertext || tag; out needs room for in_len bytes (tokens
 * ask for the whole input) and receives the plaintext, *out_len bytes.  out
 * is written to on failure too, so a caller that decrypts wipes it either
 * way.  SG_ERR_KEY_NOT_ACTIVE when the token has no such key;
 * SG_ERR_CRYPTO when the tag does not verify; SG_ERR_UNAVAILABLE when the
 * token is away.
 */
int sg_p11_aes_gcm(sg_keystore *ks, int encrypt, const uint8_t *key_id, size_t key_id_len,
    const uint8_t iv[SG_P11_GCM_NONCE], const uint8_t *aad, size_t aad_len,
    const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len) SG_WUR;

/* The token label, for log lines. */
const char *sg_p11_token_label(const sg_keystore *ks);

#endif
