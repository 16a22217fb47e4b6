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
 * The keystore returned serves the SPEC storage value "HSM"; see docs/hsm.md.
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
 *             over the digest bytes).  A destroyed or unknown key gives
 *             SG_ERR_KEY_NOT_ACTIVE.
 *   load      not provided (private keys never leave the token).
 *   destroy   removes the private and public objects; idempotent.
 */
int sg_keystore_pkcs11_open(const sg_pkcs11_config *cfg, sg_keystore **out) SG_WUR;

#endif
