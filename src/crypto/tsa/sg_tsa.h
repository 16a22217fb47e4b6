/*
 * sg_tsa.h - the time-stamp authority (RFC 3161) of signetd.
 *
 * One sg_tsa per process holds the TSA's signing key and certificate, the
 * policy it stamps under and its serial-number counter.  The key is one of
 * three: a keystore key (sg_keystore.h; signetd's default, made by
 * sg_tsa_create_key, so it lives sealed under the master key or inside the
 * HSM and no private key is ever in clear on disk), an operator's issued
 * certificate with its PEM key file, or the clear tsa.key an older signetd
 * generated in the data directory (still used, never generated any more).  `POST /tsa` hands
 * the request body to sg_tsa_respond, which always answers with a DER
 * TimeStampResp (granted, or a rejection with a failInfo the client can
 * read); `timestamp: true` on a sign request calls sg_tsa_stamp with the
 * hash of the signature value; `GET /tsa/certificate` serves
 * sg_tsa_cert_chain_pem.  Clients check tokens offline with
 * sg_tsa_verify_token, which lives apart in sg_tsa_verify.h (library
 * sg_tsa_verify) so they need not link the authority.  The ASN.1 is OpenSSL's (TS_RESP_CTX, TS_VERIFY_CTX);
 * this module chooses the key, the policy, the accepted hashes and the
 * serial numbers.
 *
 * Serial numbers are unique and strictly increasing for one serial file,
 * across threads and restarts: blocks of numbers are reserved by writing the
 * block's upper bound to the serial file (fsync + rename + fsync of the
 * directory) before any number from the block is used, so a crash skips
 * numbers but never repeats one.  A serial is also never below the wall
 * clock in microseconds at open time, so a lost serial file does not restart
 * the count at 1.  Two processes must not share one serial file: sg_tsa_open
 * takes an exclusive lock on "<serial file>.lock" and refuses when it is held.
 * With sg_tsa_config.serial_next (several nodes on one PostgreSQL database)
 * the numbers come from that callback instead and no serial file is used.
 *
 * All functions are thread-safe; an sg_tsa may be used by many threads at
 * once between sg_tsa_open and sg_tsa_close.
 */
#ifndef SG_TSA_H
#define SG_TSA_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "sg_err.h"
#include "sg_keystore.h"
#include "sg_tsa_verify.h"

/*
 * The policy OID used when the configuration names none.  It sits under the
 * UUID arc 2.25 (ITU-T X.667: anyone may mint an OID from a fresh UUID, so
 * it collides with nobody) and is a placeholder: an operator whose time
 * stamps are relied on by others should set the OID of their own published
 * TSA policy.
 */
#define SG_TSA_DEFAULT_POLICY "2.25.314270499503092785436115663385519827620.1"

/* Accuracy stated in every token when the configuration says 0. */
#define SG_TSA_DEFAULT_ACCURACY_MS 1000u

/* Queries longer than this are rejected (badDataFormat) without parsing. */
#define SG_TSA_MAX_QUERY (16u * 1024u)

/*
 * The key version id of the TSA's keystore key (the AAD of its seal, its
 * token label): sg_key_version_id(SG_TSA_KEY_ID, SG_TSA_KEY_VERSION).  Key
 * ids are UUIDs, so "tsa" is no tenant key's.
 */
#define SG_TSA_KEY_ID "tsa"
#define SG_TSA_KEY_VERSION 1
#define SG_TSA_KEY_VERSION_ID "tsa/1"

/* File names inside data_dir; SG_TSA_KEY_FILE only as older versions left it. */
#define SG_TSA_KEY_FILE "tsa.key"
#define SG_TSA_CERT_FILE "tsa.crt"
#define SG_TSA_SERIAL_FILE "tsa.serial"

/* The kind of key sg_tsa_create_key makes. */
typedef enum sg_tsa_key_type {
	SG_TSA_KEY_EC_P256 = 0,  /* default; tokens signed with ECDSA-SHA256 */
	SG_TSA_KEY_RSA_3072,     /* RSA PKCS#1 v1.5 with SHA-256 */
} sg_tsa_key_type;

typedef struct sg_tsa_config {
	/*
	 * Required; created (0700) when missing.  It holds the serial file and,
	 * with a keystore key, a copy of its certificate (SG_TSA_CERT_FILE,
	 * 0644) for operators, written when missing or different.  With
	 * neither a keystore key nor cert_path/key_path, the TSA uses the clear
	 * SG_TSA_KEY_FILE an older version generated here (SG_ERR_NOT_FOUND when
	 * there is none: no key is generated in clear any more); such a key
	 * readable by group or others is refused, and one without
	 * SG_TSA_CERT_FILE gets a new self-signed certificate.
	 */
	const char *data_dir;
	/*
	 * Optional: the TSA key is a keystore key.  keystore_key names it
	 * (version_id NULL means SG_TSA_KEY_VERSION_ID; alg RSA of 2048 bits or
	 * more, or EC P-256/384/521; the handle is copied) and
	 * keystore_cert_pem is its certificate (PEM), checked as an issued one
	 * is.  At open the keystore signs random bytes once and the signature
	 * must verify with the certificate, so a key that is not the
	 * certificate's, or a keystore that cannot sign, stops the open.  The
	 * keystore must outlive the sg_tsa.  Not together with cert_path.
	 */
	sg_keystore *keystore;
	sg_key_ref keystore_key;
	const char *keystore_cert_pem;
	/*
	 * Optional, together: an issued TSA certificate (PEM) and its private
	 * key (unencrypted PEM, RSA or EC).  The certificate must carry a
	 * critical extendedKeyUsage of timeStamping only, a keyUsage (if any)
	 * of digitalSignature/nonRepudiation only, be currently valid and match
	 * the key; otherwise sg_tsa_open refuses and logs why.
	 */
	const char *cert_path;
	const char *key_path;
	/*
	 * Optional: PEM certificates of the issuing CA chain (intermediates,
	 * optionally the root).  Served after the TSA certificate by
	 * sg_tsa_cert_chain_pem and included in tokens whose query set certReq.
	 */
	const char *chain_path;
	/* Dotted policy OID; NULL means SG_TSA_DEFAULT_POLICY. */
	const char *policy_oid;
	/* Accuracy in milliseconds stated in every token; 0 means the default. */
	unsigned accuracy_ms;
	/* Serial counter file; NULL means data_dir/SG_TSA_SERIAL_FILE. */
	const char *serial_path;
	/*
	 * Optional: where serial numbers come from instead of the serial file
	 * (a database sequence shared by several nodes, SPEC §6).  Called once
	 * per token, from any thread; returns SG_OK and a number > 0, unique and
	 * increasing across every caller, or an error (SG_ERR_UNAVAILABLE while
	 * the database is away), which fails that token with the same error.
	 * With it, serial_path is neither read nor locked.
	 */
	int (*serial_next)(void *arg, uint64_t *out);
	void *serial_arg;
} sg_tsa_config;

typedef struct sg_tsa sg_tsa;

/*
 * Make a TSA key in keystore ks: a key pair of type (generated by the
 * keystore under SG_TSA_KEY_VERSION_ID, so it is sealed or in the token
 * from the start) and its self-signed certificate, signed through the
 * keystore: subject CN=Signet TSA, valid 10 years, critical
 * extendedKeyUsage timeStamping, critical keyUsage digitalSignature,
 * basicConstraints CA:FALSE.  On SG_OK *handle (malloc'd, *handle_len
 * bytes) is the keystore handle to persist and *cert_pem (malloc'd, NUL
 * terminated) the certificate; both are public.  On failure the outputs
 * are untouched and a key already generated is destroyed.  Returns
 * SG_ERR_INVALID_ARGUMENT, the keystore's error, SG_ERR_CRYPTO or
 * SG_ERR_NOMEM.
 */
int sg_tsa_create_key(sg_keystore *ks, sg_tsa_key_type type, uint8_t **handle,
    size_t *handle_len, char **cert_pem) SG_WUR;

/*
 * Load the TSA key and certificate described by cfg, take the serial-file
 * lock and reserve the first block of serial numbers.  On success *out holds a new sg_tsa for sg_tsa_close.  Returns
 * SG_ERR_INVALID_ARGUMENT for a bad configuration (missing data_dir, bad
 * policy OID, only one of cert_path/key_path, both a keystore key and
 * cert_path, a certificate without the
 * critical timeStamping EKU, a key that does not match, an expired
 * certificate, a corrupt serial file), SG_ERR_CONFLICT when another sg_tsa
 * holds the serial file, SG_ERR_IO, SG_ERR_NOT_FOUND for a named file that
 * does not exist (or no key at all), the keystore's error when it cannot
 * sign, SG_ERR_PERMISSION_DENIED for a generated key readable by
 * group or others, SG_ERR_CRYPTO; each failure is logged with its reason.
 * *out is untouched on failure.
 */
int sg_tsa_open(const sg_tsa_config *cfg, sg_tsa **out) SG_WUR;

/*
 * Answer a DER TimeStampReq (query, qlen bytes; NULL with 0 is an empty
 * query).  On SG_OK, *reply holds a malloc'd DER TimeStampResp of *rlen
 * bytes for the caller to free: granted with a token, or for bad input a
 * rejection carrying a failInfo - badDataFormat for anything that is not
 * exactly one well-formed TimeStampReq or has a digest of the wrong
 * length, badRequest for a version other than 1, badAlg for hashes other
 * than SHA-256/384/512 and SHA3-256/384/512, unacceptedPolicy for a
 * reqPolicy other than ours, unacceptedExtension for any extension.  The
 * token echoes the nonce, includes the TSA certificate and chain when
 * certReq is set, and carries ESSCertIDv2 (SHA-256) and the configured
 * accuracy.  Returns an error (SG_ERR_NOMEM, SG_ERR_CRYPTO,
 * SG_ERR_IO when no serial number could be reserved, SG_ERR_INTERNAL) only
 * when the TSA itself failed; outputs are untouched then.
 */
int sg_tsa_respond(sg_tsa *t, const uint8_t *query, size_t qlen, uint8_t **reply,
    size_t *rlen) SG_WUR;

/*
 * Issue a TimeStampToken (DER ContentInfo) over a hash the caller computed
 * with md: imprint holds len bytes.  Used for `timestamp: true`, where the
 * imprint is the hash of the signature value.  The token is what
 * sg_tsa_respond would grant for a query with certReq set and a random
 * nonce.  On SG_OK, *token is malloc'd (*toklen bytes) for the caller to
 * free.  Returns SG_ERR_UNSUPPORTED_HASH for an md the TSA does not accept,
 * SG_ERR_DIGEST_LENGTH when len is not md's size, otherwise as
 * sg_tsa_respond; outputs are untouched on failure.
 */
int sg_tsa_stamp(sg_tsa *t, const EVP_MD *md, const uint8_t *imprint, size_t len,
    uint8_t **token, size_t *toklen) SG_WUR;

/*
 * The TSA certificate followed by the configured chain, PEM, NUL-terminated,
 * for `GET /tsa/certificate`.  Owned by t; valid until sg_tsa_close.
 */
const char *sg_tsa_cert_chain_pem(const sg_tsa *t);

/* The policy OID (dotted) the TSA stamps under; owned by t. */
const char *sg_tsa_policy(const sg_tsa *t);

/*
 * Release the TSA: its key is freed (OpenSSL clears private key numbers;
 * a keystore key stays in its keystore), the lock released.  Reserved but unused serial numbers are skipped, never
 * reused.  NULL is fine.  No call on t may be running.
 */
void sg_tsa_close(sg_tsa *t);

#endif
