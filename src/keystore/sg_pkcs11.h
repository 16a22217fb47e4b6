/*
 * sg_pkcs11.h - the PKCS#11 ("HSM") keystore: keys generated and used
 * inside a token, reached through any PKCS#11 module by path.
 *
 * Private keys are created in the token as private, sensitive,
 * non-extractable objects and never leave it; the handle Signet persists is
 * only the object's CKA_ID (with a one-byte format version in front), so the
 * store holds nothing secret for these keys.  Signatures are made with
 * C_Sign over the client's digest.  A pool of logged-in sessions lets
 * concurrent requests sign in parallel; when the token goes away operations
 * fail with SG_ERR_UNAVAILABLE and the pool is rebuilt when it returns.
 * The keystore returned serves the SPEC storage value "HSM" for the
 * algorithms a token holds; sg_keystore_hsm_open adds the others, sealed
 * under the token's AES master key, which sg_sealer_pkcs11_open also offers
 * to the software keystore.  See docs/hsm.md.
 */
#ifndef SG_PKCS11_H
#define SG_PKCS11_H

#include <stddef.h>
#include "sg_err.h"
#include "sg_keystore.h"

#define SG_PKCS11_POOL_DEFAULT 8   /* sessions when pool_size is 0 */
#define SG_PKCS11_POOL_MAX 256

typedef struct sg_pkcs11_config {
	const char *module;       /* path of the PKCS#11 module (.so) */
	const char *token_label;  /* CKA_LABEL of the token (trailing blanks ignored) */
	const char *pin;          /* user PIN; the caller reads it from a file or the
	                             environment and wipes its own copy */
	size_t pin_len;           /* bytes of pin; 0 means strlen(pin) */
	unsigned pool_size;       /* sessions in the pool; 0 -> SG_PKCS11_POOL_DEFAULT */
} sg_pkcs11_config;

/*
 * Load cfg->module (dlopen + C_GetFunctionList), initialise it for
 * multi-threaded use (CKF_OS_LOCKING_OK; a module already initialised by
 * another keystore in this process is shared, and finalised only by the
 * last close), find the slot whose token carries cfg->token_label, open
 * pool_size read/write sessions and log in as the user.
 *
 * The keystore keeps its own copy of the PIN, because a token that goes away
 * and comes back needs a fresh login; that copy is wiped at close.  The PIN
 * is never logged.  cfg itself is not retained.
 *
 * Returns SG_OK and *out on success.  SG_ERR_INVALID_ARGUMENT for a missing
 * module, label or PIN or an out-of-range pool size; SG_ERR_IO when the
 * module does not load or is not a PKCS#11 module; SG_ERR_UNAVAILABLE when
 * no present token carries the label or the token refuses sessions;
 * SG_ERR_UNAUTHENTICATED when the PIN is wrong or locked.  *out is untouched
 * on failure.
 *
 * Operations of the returned keystore (see sg_keystore_ops):
 *   generate  RSA-2048/3072/4096, EC-P256/384/521 and (when the token offers
 *             CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA) Ed25519; ML-DSA and
 *             the composite give SG_ERR_UNSUPPORTED_ALGORITHM.
 *   sign      RSA-PKCS1 (DigestInfo built here, CKM_RSA_PKCS), RSA-PSS
 *             (CKM_RSA_PKCS_PSS; SHA-1/SHA-2, plus SHA-3 where the token
 *             has it), ECDSA (CKM_ECDSA; DER or P1363), Ed25519 (CKM_EDDSA
 *             over the digest bytes, or with params->message over the
 *             message as given: an X.509 TBS, say).  A destroyed or
 *             unknown key gives SG_ERR_KEY_NOT_ACTIVE.  Private keys never
 *             leave the token.
 *   destroy   removes the private and public objects; idempotent.
 *   close     drops the caller's reference; sessions close and the module
 *             is released when no sealer holds one either.
 */
int sg_keystore_pkcs11_open(const sg_pkcs11_config *cfg, sg_keystore **out) SG_WUR;

/* ---- the token's AES master key ---- */

#define SG_PKCS11_KEY_LABEL_DEFAULT "signet-master-key"
#define SG_PKCS11_KEY_LABEL_MAX 64

struct sg_sealer;

/*
 * A sealer (sg_sealer.h, blob magic "SGK2") whose master key is an AES-256
 * key inside the token of p11 (a keystore from sg_keystore_pkcs11_open),
 * found by CKA_LABEL key_label (NULL or "" -> SG_PKCS11_KEY_LABEL_DEFAULT)
 * and generated there when the token has none: a private token object,
 * sensitive, never extractable, for encrypt and decrypt only.  Sealing and
 * opening are CKM_AES_GCM in the pool's sessions, so the key's bytes never
 * enter this process, and a token that is away gives SG_ERR_UNAVAILABLE
 * until the pool's recovery finds it again.  Each blob names the AES key
 * (by CKA_ID) that sealed it.
 *
 * prepare: resolve (and if need be generate) the key now, so that a token
 * without CKM_AES_GCM or a labelled key unfit to be the master key
 * (extractable, not sensitive: SG_ERR_PERMISSION_DENIED) fails here, at
 * start; otherwise that happens at the first seal.  Opening needs no
 * label: the blob names its key.
 *
 * The sealer holds a reference to p11, which stays usable until both the
 * caller has closed it and the sealer is freed, in either order.  *out is
 * written only on success.
 */
int sg_sealer_pkcs11_open(sg_keystore *p11, const char *key_label, int prepare,
    struct sg_sealer **out) SG_WUR;

/*
 * The keystore serving storage "HSM" (hsm.c): generate routes by algorithm,
 * sign and destroy by handle.
 *   RSA, EC, Ed25519   to p11 (keys inside the token, handle 0x01 || CKA_ID).
 *   ML-DSA-44/65/87,   generated in this process and sealed at once with
 *   MLDSA65-ECDSA-P256 sealer (handle: the "SGK2" blob).  No cache: every
 *                      signature unseals through the token, signs and
 *                      wipes.  With sealer NULL they are refused
 *                      (SG_ERR_UNSUPPORTED_ALGORITHM).
 * On success the keystore owns p11 and sealer (both
 * closed or freed at close); on failure the caller still owns them.
 */
int sg_keystore_hsm_open(sg_keystore *p11, struct sg_sealer *sealer, sg_keystore **out) SG_WUR;

/* ---- the keystores of a server ---- */

typedef struct sg_custody_config {
	const char *master_key_path;   /* the file master key, data_dir/master.key */
	int master_key_in_hsm;         /* 0: master_key = file, 1: master_key = hsm */
	const char *master_key_label;  /* CKA_LABEL of the token's AES key; NULL -> default */
	int cache_keys;                /* DISK: keep unsealed keys in memory */
} sg_custody_config;

/*
 * Open the keystores for storage DISK and HSM as signetd runs them (see
 * docs/hsm.md, "The master key in the HSM").  p11 is the PKCS#11 keystore,
 * or NULL for a server without HSM.
 *   DISK, master key in a file: new keys sealed by master_key_path ("SGK1",
 *     the file is created when missing); with p11, "SGK2" blobs still open.
 *   DISK, master key in the HSM (needs p11): new keys sealed by the token's
 *     AES key ("SGK2", generated now if the token has none); "SGK1" blobs
 *     still open while master_key_path exists; that file is never created.
 *   HSM (only with p11): sg_keystore_hsm_open with its own PKCS#11 sealer.
 * On success *disk is set, *hsm is set when p11 was given (else NULL), and
 * *hsm owns p11.  On failure nothing is set and the caller still owns p11.
 */
int sg_custody_open(const sg_custody_config *cfg, sg_keystore *p11, sg_keystore **disk,
    sg_keystore **hsm) SG_WUR;

#endif
