/*
 * sg_signing.h - executing a signing request: the one place a digest is signed.
 *
 * Both paths that sign end here: the synchronous POST /v1/sign (src/api)
 * and the queue workers (src/queue).  sg_signing_execute() takes a validated
 * request, resolves the key version, checks that key and version may sign,
 * has the key's keystore sign the digest and fills in the signature record.
 * It stores nothing: the caller commits the record (through the group
 * committer) together with the request's new status.
 *
 * sg_service is what the long-lived parts of signetd share.  It is built
 * once at start and read-only afterwards; every member is thread-safe.
 */
#ifndef SG_SIGNING_H
#define SG_SIGNING_H

#include "sg_err.h"
#include "sg_keystore.h"
#include "sg_store.h"

struct sg_queue;
struct sg_tsa;

typedef struct sg_service {
	sg_store *store;
	sg_committer *committer;
	sg_keystore *soft;        /* storage DISK */
	sg_keystore *hsm;         /* storage HSM; NULL when no PKCS#11 module is configured */
	struct sg_queue *queue;   /* async workers; NULL until started */
	struct sg_tsa *tsa;       /* time-stamp authority; NULL when not configured */
	int64_t started_at;
	int64_t idempotency_ttl_ms;
} sg_service;

/* Keystore for a SPEC storage value ("DISK"/"HSM"); NULL if not available. */
sg_keystore *sg_service_keystore(const sg_service *svc, const char *storage);

/*
 * Build signing parameters from a request's stored names (hash_alg,
 * sig_scheme, sig_format, pss_salt_len, context) and check them against key
 * algorithm alg.  SG_ERR_* as sg_sign_params_check.
 */
int sg_signing_params(const sg_request *rq, sg_key_alg alg, sg_sign_params *p) SG_WUR;

/*
 * Sign request rq.  key and version may be passed when the caller has just
 * loaded them (the synchronous path), else NULL and they are loaded here
 * (tenant-scoped).  The key must be ONLINE and the version ACTIVE
 * (SG_ERR_KEY_NOT_ACTIVE) and current (SG_ERR_PRECONDITION: a request pinned
 * to a version that has since been rotated out fails for good), the storage
 * available (SG_ERR_UNAVAILABLE).  On
 * success *sig is a complete record (fresh id, request_id = rq->id,
 * created_at = now; sig->signature malloc'd, release with
 * sg_signature_clear; sig->metadata_json points at rq->metadata_json and is
 * NOT owned: set it to NULL before clearing).  With rq->timestamp the record
 * also gets an RFC 3161 token over the hash of the signature value (the
 * request's hash algorithm; SHA-256 for legacy hashes) from svc->tsa.
 * *errmsg gets a static message fit for the client on failure.
 */
int sg_signing_execute(const sg_service *svc, const sg_request *rq, const sg_key *key,
    const sg_key_version *version, sg_signature *sig, const char **errmsg) SG_WUR;

/*
 * The sig_format a request and its record carry when the signature covers a
 * message (pure ML-DSA, Ed25519) rather than the digest: their digest is
 * then SHA-512 of the message, kept for reference, and the message itself is
 * not stored, so such a request is signed only synchronously
 * (sg_signing_execute_message).  sg_signing_params sets params->message for it.
 */
#define SG_SIGNING_MESSAGE_FORMAT "MESSAGE"

/*
 * As sg_signing_execute, but the keystore signs message (message_len bytes,
 * at most SG_MAX_MESSAGE; borrowed) instead of rq->digest; rq->sig_format
 * must be SG_SIGNING_MESSAGE_FORMAT (SG_ERR_INVALID_ARGUMENT otherwise).
 * The record gets rq->digest (the message's SHA-512) as its digest.
 * sg_signing_execute refuses such a request (SG_ERR_PRECONDITION: its
 * message is gone).
 */
int sg_signing_execute_message(const sg_service *svc, const sg_request *rq, const sg_key *key,
    const sg_key_version *version, const uint8_t *message, size_t message_len, sg_signature *sig,
    const char **errmsg) SG_WUR;

/* 1 when a failure of sg_signing_execute may succeed on retry (HSM away, key OFFLINE). */
int sg_signing_transient(int err);

#endif
