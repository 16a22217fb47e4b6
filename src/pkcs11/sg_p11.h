/*
 * sg_p11.h - the inside of libsignet-pkcs11.so, the PKCS#11 module that
 * exposes Signet keys to signing tools (SPEC §5).
 *
 * The module is a thin translation: module.c implements the Cryptoki entry
 * points over one slot and one token; the token's objects are built from
 * GET /v1/keys by objects.c (a private key, a public key and the current
 * version's certificate chain per key); mech.c turns a PKCS#11 mechanism and
 * its input into the digest, hash and scheme of a POST /v1/sign; config.c
 * reads the environment and the optional configuration file.  All traffic
 * goes through the shared client library (sg_client.h), so the module holds
 * no HTTP code and no process-global error buffer of its own.  Private key
 * bytes never exist here: the service signs.
 */
#ifndef SG_P11_H
#define SG_P11_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <p11-kit/pkcs11.h>
#include "sg_crypto.h"
#include "sg_err.h"

/* ---- configuration ---- */

/* The default of SIGNET_PKCS11_TIMEOUT, seconds. */
#define SG_P11_DEFAULT_TIMEOUT_S 30
#define SG_P11_DEFAULT_TOKEN_LABEL "Signet"
/* Most aliases SIGNET_PKCS11_ALIASES may list, and the size of the config file. */
#define SG_P11_MAX_ALIASES 256
#define SG_P11_MAX_CONFIG_FILE (64u * 1024u)

/* Key types the filter SIGNET_PKCS11_KEY_TYPES can name (bits). */
#define SG_P11_KT_RSA 1u
#define SG_P11_KT_EC 2u
#define SG_P11_KT_ED25519 4u
#define SG_P11_KT_ALL (SG_P11_KT_RSA | SG_P11_KT_EC | SG_P11_KT_ED25519)

typedef struct sg_p11_config {
	char *url;
	char *api_key;        /* secret: wiped by sg_p11_config_free */
	char *ca_file;
	char *cert, *cert_key;
	char *token_label;    /* at most 32 bytes */
	char **aliases;       /* NULL: every alias */
	size_t n_aliases;
	unsigned key_types;   /* SG_P11_KT_* */
	int require_cert;     /* only keys whose current version has a certificate */
	long timeout_ms;
	int debug;            /* SIGNET_PKCS11_DEBUG: failures described on stderr */
} sg_p11_config;

/*
 * Fill *c from the environment, over the file named by SIGNET_PKCS11_CONFIG
 * (lines "KEY=VALUE" with the same keys as the environment, '#' comments;
 * the environment wins).  Keys: SIGNET_URL (required), SIGNET_API_KEY,
 * SIGNET_CA_FILE, SIGNET_CLIENT_CERT and SIGNET_CLIENT_KEY (together),
 * SIGNET_PKCS11_TOKEN_LABEL, SIGNET_PKCS11_ALIASES (comma-separated),
 * SIGNET_PKCS11_KEY_TYPES (comma-separated rsa, ec, ed25519),
 * SIGNET_PKCS11_REQUIRE_CERT (1/true/yes), SIGNET_PKCS11_TIMEOUT (seconds,
 * 1-3600), SIGNET_PKCS11_DEBUG.  On failure the reason is written to err and
 * *c is left empty (nothing to free).
 */
int sg_p11_config_load(sg_p11_config *c, char *err, size_t errlen) SG_WUR;

/* Free and wipe everything *c holds; zero it.  NULL is fine. */
void sg_p11_config_free(sg_p11_config *c);

/* ---- objects ---- */

/* One attribute of an object; value owned by the object. */
typedef struct sg_p11_attr {
	CK_ATTRIBUTE_TYPE type;
	void *value;
	CK_ULONG len;
} sg_p11_attr;

/* What the module needs to sign with a key. */
typedef struct sg_p11_key {
	char id[40];           /* the key's UUID, as text */
	sg_key_alg alg;
	CK_KEY_TYPE key_type;  /* CKK_RSA, CKK_EC, CKK_EC_EDWARDS */
	size_t sig_len;        /* bytes of a signature (RSA: modulus; EC: r||s) */
	CK_ULONG bits;         /* modulus or field size */
} sg_p11_key;

typedef struct sg_p11_object {
	CK_OBJECT_CLASS cls;
	size_t key;            /* index into sg_p11_objects.keys (keys and leaf certs) */
	int is_private;        /* CKA_PRIVATE */
	sg_p11_attr *attrs;
	size_t n_attrs;
} sg_p11_object;

typedef struct sg_p11_objects {
	sg_p11_key *keys;
	size_t n_keys;
	sg_p11_object *objs;   /* handle h is objs[h - 1] */
	size_t n_objs;
} sg_p11_objects;

/*
 * Build the objects of a GET /v1/keys answer (`{"keys": [...]}`) under the
 * filters of cfg: for every key of a type PKCS#11 can name (RSA, EC,
 * Ed25519) whose current version has a public key, a private key and a
 * public key (CKA_LABEL alias, CKA_ID the 16 bytes of the UUID), and the
 * current version's certificate chain: the leaf with the same label and id,
 * CA certificates (each once) labelled by their subject's CN and identified
 * by the SHA-1 of their DER.  `private_keys_private` sets CKA_PRIVATE on the
 * private keys.  Keys that cannot be parsed are skipped.  On success *out
 * owns everything (sg_p11_objects_free); on failure it is untouched.
 */
int sg_p11_objects_build(const json_t *keys_answer, const sg_p11_config *cfg,
    int private_keys_private, sg_p11_objects *out) SG_WUR;

void sg_p11_objects_free(sg_p11_objects *o);

/* The attribute `type` of o, or NULL. */
const sg_p11_attr *sg_p11_object_attr(const sg_p11_object *o, CK_ATTRIBUTE_TYPE type);

/* 1 when every attribute of the template is present on o with the same value. */
int sg_p11_object_matches(const sg_p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* ---- mechanisms ---- */

/* One mechanism the token offers. */
typedef struct sg_p11_mech {
	CK_MECHANISM_TYPE type;
	CK_KEY_TYPE key_type;
	sg_hash_alg hash;       /* SG_HASH_NONE: the input is the digest (or DigestInfo) */
	int pss;
	CK_ULONG min_bits, max_bits;
} sg_p11_mech;

/* The table entry of a mechanism type, or NULL when the token does not offer it. */
const sg_p11_mech *sg_p11_mech_find(CK_MECHANISM_TYPE type);

/* All mechanisms, for C_GetMechanismList; *n receives the count. */
const sg_p11_mech *sg_p11_mech_all(size_t *n);

/* What one signature asks of the service. */
typedef struct sg_p11_sign_req {
	sg_hash_alg hash;
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	const char *scheme;        /* "RSA-PKCS1", "RSA-PSS", "ECDSA", "Ed25519" */
	int has_salt;
	CK_ULONG salt_len;
} sg_p11_sign_req;

/*
 * Check a mechanism's parameter against the key when C_SignInit is called:
 * PSS parameters must be present, name a SHA-256/384/512 hash that equals
 * the mechanism's own (for the hash-and-sign forms) and an MGF1 with the same
 * hash; other mechanisms take no parameter.  On CKR_OK *pss_hash (for PSS)
 * and *salt hold what the parameter says.
 */
CK_RV sg_p11_mech_check(const sg_p11_mech *m, const CK_MECHANISM *mech,
    sg_hash_alg *pss_hash, CK_ULONG *salt);

/*
 * Turn the input of a single-part mechanism (a DigestInfo for CKM_RSA_PKCS,
 * a digest otherwise) into *req.  CKR_DATA_INVALID for a CKM_RSA_PKCS input
 * that is not a DigestInfo of a hash Signet knows; CKR_DATA_LEN_RANGE for a
 * digest whose length names no hash (32, 48, 64) or does not fit the PSS
 * hash.
 */
CK_RV sg_p11_mech_input(const sg_p11_mech *m, sg_hash_alg pss_hash, const uint8_t *in,
    size_t len, sg_p11_sign_req *req);

/* The service's name of a scheme for a key and mechanism. */
const char *sg_p11_mech_scheme(const sg_p11_mech *m);

#endif
