/*
 * sg_signing.h - executing a signing request: the one place a digest is signed.
 *
 * Both paths that sign end here: the synchronous one (sg_svc_submit, for
 * every dialect) through sg_signing_sign() with the key, version and
 * parameters it has just resolved and checked, and the queue workers
 * (src/queue) through sg_signing_execute(), which loads and checks them
 * afresh for a request that waited.  Which key version may sign is decided
 * in one place, sg_signing_obstacles().  The key's keystore signs the
 * digest and the signature record is filled in; nothing is stored here:
 * the caller commits the record (through the group committer) together
 * with the request's new status.
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
 * What stops version `version` of key from signing now (SPEC §1), as a set
 * of the SG_SIGNING_* bits below; 0 when nothing does.  With version NULL
 * only the key is looked at.  This is the one statement of the rule: the
 * synchronous path (sg_svc_submit, which refuses before anything is stored)
 * and the workers (sg_signing_execute, for a request queued earlier) both
 * ask it, and each words the refusal its own way.
 */
#define SG_SIGNING_KEY_NOT_ONLINE      0x1u  /* the key is OFFLINE or DISABLED */
#define SG_SIGNING_VERSION_DESTROYED   0x2u  /* not ACTIVE, or its private part is gone */
#define SG_SIGNING_VERSION_NOT_CURRENT 0x4u  /* rotated out: it only verifies now */
unsigned sg_signing_obstacles(const sg_key *key, const sg_key_version *version);

/*
 * Sign the stored request rq: the queue workers' path, for a request that
 * was validated when it was submitted and may have waited since.  Loads its
 * key and version (tenant-scoped; rq->key_version 0 = the current one) and
 * asks sg_signing_obstacles again, since they may have changed while it
 * waited: a key not ONLINE or a destroyed version is SG_ERR_KEY_NOT_ACTIVE
 * (transient: the key may come back ONLINE, the key may be rotated), a
 * version that is no longer the current one SG_ERR_PRECONDITION (for good).
 * The stored hash, scheme and format names are turned into enums here, once
 * (the store is this path's edge); a message request is SG_ERR_PRECONDITION
 * (its message is gone).  Otherwise as sg_signing_sign.
 */
int sg_signing_execute(const sg_service *svc, const sg_request *rq, sg_signature *sig,
    const char **errmsg) SG_WUR;

/*
 * The sig_format a request and its record carry when the signature covers a
 * message (pure ML-DSA, Ed25519) rather than the digest: their digest is
 * then SHA-512 of the message, kept for reference, and the message itself is
 * not stored, so such a request is signed only synchronously
 * (sg_signing_sign with params->message set).
 */
#define SG_SIGNING_MESSAGE_FORMAT "MESSAGE"

/*
 * Sign request rq now with version `version` of key, under params: the
 * synchronous path.  The caller has resolved and checked all three
 * (sg_svc_submit: sg_signing_obstacles and sg_sign_params_check), so
 * neither the key's state nor any name is looked at again here.  With
 * params->message the keystore signs message (message_len bytes, at most
 * SG_MAX_MESSAGE; borrowed) and the record keeps rq->digest (the message's
 * SHA-512); otherwise message is NULL and rq->digest is signed.  A mismatch
 * between the two is SG_ERR_INVALID_ARGUMENT.  The storage missing is
 * SG_ERR_UNAVAILABLE.
 *
 * It stores nothing.  On success *sig is a complete record (fresh id,
 * request_id = rq->id, created_at = now; sig->signature malloc'd, release
 * with sg_signature_clear; sig->metadata_json points at rq->metadata_json
 * and is NOT owned: set it to NULL before clearing).  With rq->timestamp the
 * record also gets an RFC 3161 token over the hash of the signature value
 * (params->hash; SHA-256 for legacy hashes) from svc->tsa.  *errmsg gets a
 * static message fit for the client on failure, NULL on success.
 */
int sg_signing_sign(const sg_service *svc, const sg_request *rq, const sg_key *key,
    const sg_key_version *version, const sg_sign_params *params, const uint8_t *message,
    size_t message_len, sg_signature *sig, const char **errmsg) SG_WUR;

/* 1 when a failure of sg_signing_execute may succeed on retry (HSM away, key OFFLINE). */
int sg_signing_transient(int err);

#endif
