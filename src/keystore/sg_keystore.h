/*
 * sg_keystore.h - key custody behind one narrow interface.
 *
 * A keystore generates key pairs, signs digests with them and destroys them,
 * always by *handle*: an opaque byte string the keystore hands out at
 * generation and the store persists next to the key version.  For the
 * software ("DISK") keystore the handle is the private key sealed with
 * AES-256-GCM under the master key (a file, or an AES key inside a PKCS#11
 * token: sg_sealer.h); for a PKCS#11 ("HSM") keystore it is the object's
 * CKA_ID inside the token, or, for algorithms no token holds, the private
 * key sealed under the token's AES key (sg_pkcs11.h).  Callers (the API and the job workers)
 * never see private key bytes: this interface is narrow enough to run in a
 * separate process one day.
 *
 * Back-ends are const tables of functions (sg_keystore_ops); a keystore is
 * opened once at start and shared by all threads, so every operation must be
 * thread-safe and must not serialise concurrent signatures on one lock.
 */
#ifndef SG_KEYSTORE_H
#define SG_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"
#include "sg_crypto.h"

/* Room for a key version id: a key id (at most 39 characters), '/', the version. */
#define SG_KEY_VERSION_ID_MAX 64

/*
 * The id of a key version, "<key id>/<version>": the keystore's name for it
 * (cache entries, token labels) and the AAD that binds a sealed blob to it.
 * Built only here, so that every caller binds the same bytes.
 */
void sg_key_version_id(const char *key_id, int version, char out[SG_KEY_VERSION_ID_MAX]);

/* Identifies one key version to the keystore (for caching and binding). */
typedef struct sg_key_ref {
	const char *version_id;   /* stable unique id of the key version, e.g. "<key-uuid>/3" */
	sg_key_alg alg;
	const uint8_t *handle;    /* as returned by generate */
	size_t handle_len;
} sg_key_ref;

typedef struct sg_keystore sg_keystore;

typedef struct sg_keystore_ops {
	const char *storage;      /* "DISK" or "HSM": the SPEC storage value it serves */

	/*
	 * Create a key pair of algorithm alg for the key version version_id.
	 * On success *handle (malloc'd, *handle_len bytes) is what to persist and
	 * *spki (malloc'd) is the public key as SubjectPublicKeyInfo DER.
	 */
	int (*generate)(sg_keystore *ks, const char *version_id, sg_key_alg alg,
	    uint8_t **handle, size_t *handle_len, uint8_t **spki, size_t *spki_len);

	/*
	 * Sign a digest (params already checked with sg_sign_params_check).
	 * With params->message set (Ed25519 and pure ML-DSA only) the input is
	 * the message itself, any length up to SG_MAX_MESSAGE, signed as it is
	 * (pure EdDSA over the bytes; CKM_EDDSA over the data in a token) and
	 * params->hash is not used.  This is also how X.509 structures are
	 * signed: no keystore hands out a private key, not even to this process.
	 */
	int (*sign)(sg_keystore *ks, const sg_key_ref *ref, const sg_sign_params *params,
	    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen);

	/* Destroy the private part; the handle is useless afterwards.  Idempotent. */
	int (*destroy)(sg_keystore *ks, const sg_key_ref *ref);

	/* Free everything (wipes cached keys). */
	void (*close)(sg_keystore *ks);

	/*
	 * Seal / open a secret that is not a key (a webhook's HMAC key) under
	 * the keystore's master key: see sg_keystore_seal_secret.  NULL in a
	 * keystore that has no master key of its own to seal with.
	 */
	int (*seal_secret)(sg_keystore *ks, const char *aad, const uint8_t *plain,
	    size_t plain_len, uint8_t **blob, size_t *blob_len);
	int (*open_secret)(sg_keystore *ks, const char *aad, const uint8_t *blob,
	    size_t blob_len, uint8_t **plain, size_t *plain_len);
} sg_keystore_ops;

struct sg_keystore {
	const sg_keystore_ops *ops;
	void *impl;
};

/* Convenience wrappers that dispatch through ops. */
int sg_keystore_generate(sg_keystore *ks, const char *version_id, sg_key_alg alg,
    uint8_t **handle, size_t *handle_len, uint8_t **spki, size_t *spki_len) SG_WUR;
int sg_keystore_sign(sg_keystore *ks, const sg_key_ref *ref, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen) SG_WUR;
int sg_keystore_destroy(sg_keystore *ks, const sg_key_ref *ref) SG_WUR;
void sg_keystore_close(sg_keystore *ks);

/* Longest aad sg_keystore_seal_secret takes (characters, without the NUL). */
#define SG_SECRET_AAD_MAX 160

/*
 * Seal plain_len (1..SG_SEALER_MAX_PLAIN) bytes of a secret the server must
 * later use in clear (a webhook's HMAC key) under the same master key
 * custody as the keystore's private keys, so that it rests only sealed.
 * aad (a NUL-terminated string of 1..SG_SECRET_AAD_MAX characters naming
 * the row the blob belongs to, e.g. "webhook:<tenant id>/<webhook id>") is
 * bound into the seal, not stored: the same string must be given to open.
 * The keystore keeps secrets apart from private keys in what it binds, so
 * a sealed key handle never opens as a secret nor the reverse.  On success
 * *blob (malloc'd, not secret) starts with its sealer's magic.  Returns
 * SG_ERR_PRECONDITION when this keystore cannot seal secrets (it has no
 * master key of its own), SG_ERR_INVALID_ARGUMENT for bad sizes,
 * SG_ERR_UNAVAILABLE when the sealer's token is away; outputs are written
 * only on success.
 */
int sg_keystore_seal_secret(sg_keystore *ks, const char *aad, const uint8_t *plain,
    size_t plain_len, uint8_t **blob, size_t *blob_len) SG_WUR;

/*
 * Open a blob made by sg_keystore_seal_secret (by this keystore or one
 * holding the same master key; also a former master key the keystore
 * still opens with) with the aad it was sealed with.  On success *plain is
 * malloc'd and secret: the caller wipes and frees it with
 * sg_free_secret(*plain, *plain_len) as soon as it is used.
 * SG_ERR_CRYPTO when the blob does not authenticate (tampered, another
 * aad, another master key), SG_ERR_KEY_NOT_ACTIVE for a blob in no format
 * of ours, SG_ERR_UNAVAILABLE when its sealer is missing or away,
 * SG_ERR_PRECONDITION when this keystore cannot open secrets.  Nothing
 * secret is left behind on failure.
 */
int sg_keystore_open_secret(sg_keystore *ks, const char *aad, const uint8_t *blob,
    size_t blob_len, uint8_t **plain, size_t *plain_len) SG_WUR;

/*
 * The software keystore.  Private keys are sealed with AES-256-GCM under a
 * 32-byte master key read from master_key_path, which is generated there with
 * mode 0600 when it does not exist.  The key version id is bound into each
 * seal as associated data, so a sealed key copied to another version row does
 * not open.  cache_keys: keep unsealed keys in memory (wiped on destroy and
 * close) instead of unsealing on every signature.
 */
int sg_keystore_soft_open(const char *master_key_path, int cache_keys, sg_keystore **out) SG_WUR;

struct sg_sealer;

/*
 * The software keystore over sealers of the caller's choice (sg_sealer.h):
 * sealer seals every new key and opens the blobs it made; also_open (may be
 * NULL) only opens blobs in its own format, for keys sealed before the
 * master key moved (say, "SGK1" blobs under master.key after the master key
 * moved into the HSM).  A blob in one of Signet's formats whose sealer is not
 * given fails with SG_ERR_UNAVAILABLE (and a log line naming what is
 * missing).  On success the keystore owns both sealers and frees them at
 * close; on failure the caller still owns them.  The keystore serves
 * storage "DISK".  sg_keystore_soft_open is this with the file sealer of
 * master_key_path (created when missing) and no second one.
 */
int sg_keystore_soft_open_sealed(struct sg_sealer *sealer, struct sg_sealer *also_open,
    int cache_keys, sg_keystore **out) SG_WUR;

#endif
