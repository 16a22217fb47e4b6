/*
 * sg_svc.h - the service layer: what Signet does, with no HTTP and no JSON
 * rendering in it.
 *
 * Every API dialect (the native /v1 API, the digest API, the sign-hash API,
 * and the others in src/api/dialect_*.c) turns its own request into the
 * typed inputs below, calls one of these functions, and renders the typed
 * result or the sg_problem in its own shape.  Submission, policy checks,
 * approval eligibility and votes, key lifecycle checks and lookups live
 * here once, so no dialect holds a copy of a rule.
 *
 * Names (hash and scheme names, status words) become enums at the edge, in
 * the dialect; the service takes enums.  Request status, key status and
 * version state have one table of native names each (sg_status.h).
 *
 * Every function is tenant-scoped through the sg_caller: another tenant's
 * object is SG_ERR_NOT_FOUND, exactly like a missing one.  Functions return
 * SG_OK or a negative sg_err and, on failure, fill *problem with that error
 * and a message fit for the client (never internal library text; the cause
 * of an internal error is logged with the caller's request id).  Outputs
 * are written only on success.
 */
#ifndef SG_SVC_H
#define SG_SVC_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"
#include "sg_crypto.h"
#include "sg_store.h"
#include "sg_status.h"
#include "sg_signing.h"

/* ---- who is asking ---- */

typedef struct sg_caller {
	const sg_tenant *tenant;
	const sg_principal *principal;
	const char *client_ip;       /* "" when unknown */
	const char *client_type;     /* User-Agent; "" when none */
	const char *request_id;      /* the HTTP request id, for the log */
} sg_caller;

/* A refusal: the error and a message meant for the client. */
typedef struct sg_problem {
	int err;
	char message[384];
} sg_problem;

/* ---- submission ---- */

/*
 * One signing request, already parsed by a dialect.  Exactly one of key and
 * policy is given (after the dialect resolved any default such as the
 * principal's default policy).
 */
typedef struct sg_submit {
	const char *key;                /* id or alias; NULL when policy is given */
	const char *policy;             /* "project/slug"; NULL when key is given */
	int key_version;                /* 0 = the current version */
	sg_hash_alg hash;               /* of digest */
	const uint8_t *digest;          /* decoded; its length is checked against hash */
	size_t digest_len;
	sg_sig_scheme scheme;           /* SG_SCHEME_NONE = the key's default */
	sg_key_alg scheme_key_alg;      /* key algorithm the scheme's name pins (e.g.
	                                 * "HashML-DSA-65"), SG_KEY_NONE when it pins none */
	sg_sig_format format;           /* SG_FORMAT_DEFAULT = the scheme's default */
	int pss_salt_len;               /* -1 = hash length */
	const uint8_t *context;         /* ML-DSA context, NULL = empty */
	size_t context_len;             /* 0..255 */
	const char *metadata_json;      /* JSON object text (compact, sorted keys); NULL = none */
	int timestamp;                  /* add an RFC 3161 token */
	int async;                      /* queue even when it could be signed now */
	int require_approval;           /* hold for max(1, N) approvals (SPEC §4 C5) */
	const char *original_request_id;/* resubmit: the request it re-signs; NULL = none */
	const char *description;        /* NULL = none */
	const char *idempotency_key;    /* NULL = none */
	uint8_t body_hash[32];          /* identity of the request for idempotency */
	/*
	 * A message to sign instead of a digest (SPEC §3 `message`): non-NULL
	 * (even when message_len is 0) means hash and digest are not given.  Only
	 * schemes that sign messages take one: pure ML-DSA (the default for an
	 * ML-DSA key here), Ed25519, and the composite (which signs its SHA-512
	 * pre-hash, so its record is an ordinary SHA-512 digest record).  For
	 * ML-DSA and Ed25519 the request and record carry sig_format
	 * SG_SIGNING_MESSAGE_FORMAT, hash SHA-512 and digest SHA-512(message);
	 * the message is not stored, so it is signed only in the call: async,
	 * approval or a policy without fast signing is SG_ERR_INVALID_ARGUMENT.
	 * Over SG_MAX_MESSAGE bytes: SG_ERR_TOO_LARGE.
	 */
	const uint8_t *message;
	size_t message_len;
} sg_submit;

typedef enum sg_outcome_kind {
	SG_OUTCOME_SIGNED = 1,          /* signed in this call; signature filled */
	SG_OUTCOME_QUEUED,              /* stored QUEUED; a worker signs it */
	SG_OUTCOME_PENDING_APPROVAL,    /* stored PENDING_APPROVAL */
	SG_OUTCOME_REPLAY,              /* an idempotent repeat: request is the first one's
	                                 * state; signature filled when it is SIGNED */
} sg_outcome_kind;

typedef struct sg_outcome {
	sg_outcome_kind kind;
	sg_request request;             /* as stored */
	sg_signature signature;         /* valid when has_signature */
	int has_signature;
	sg_key key;                     /* the key that signs (or will) */
} sg_outcome;

/*
 * Validate a submission completely (key, version, lifecycle, scheme and
 * format against the key, policy constraints, required metadata, legacy
 * hashes, TSA availability), then sign now, queue, or hold for approval:
 *   fast:     no approvals, not async, the policy allows fast signing:
 *             signed, and the record committed durably before return;
 *   queued:   async, or a policy without fast signing;
 *   approval: the policy needs N >= 1 approvals, or require_approval.
 * With an idempotency key, a repeat of the same body_hash by the same
 * principal gives SG_OUTCOME_REPLAY; another body is SG_ERR_CONFLICT.
 * Release *out with sg_outcome_clear.
 */
int sg_svc_submit(sg_service *svc, const sg_caller *c, const sg_submit *in, sg_outcome *out,
    sg_problem *problem) SG_WUR;

/*
 * Resubmit the SIGNED request original_id under policy ("project/slug"):
 * same digest, hash, scheme and metadata, a new request.  A request that is
 * not SIGNED is SG_ERR_PRECONDITION.
 */
int sg_svc_resubmit(sg_service *svc, const sg_caller *c, const char *original_id,
    const char *policy, const char *description, sg_outcome *out, sg_problem *problem) SG_WUR;

/*
 * Like sg_svc_resubmit, and the new request also keeps the original's
 * signature scheme, format, PSS salt length and context (for dialects
 * whose clients chose them, SPEC §4 S6); the new policy's key must fit
 * them (SG_ERR_ALGORITHM_MISMATCH otherwise).
 */
int sg_svc_resubmit_keep(sg_service *svc, const sg_caller *c, const char *original_id,
    const char *policy, const char *description, sg_outcome *out, sg_problem *problem) SG_WUR;

void sg_outcome_clear(sg_outcome *o);

/* ---- verification ---- */

typedef struct sg_verify {
	const char *key;                /* id or alias */
	int key_version;                /* 0 = current */
	sg_hash_alg hash;
	const uint8_t *digest;
	size_t digest_len;
	sg_sig_scheme scheme;           /* SG_SCHEME_NONE = the key's default */
	sg_key_alg scheme_key_alg;
	sg_sig_format format;
	int pss_salt_len;
	const uint8_t *context;
	size_t context_len;
	const uint8_t *signature;
	size_t signature_len;
	/* A message instead of hash and digest, as in sg_submit; NULL = a digest. */
	const uint8_t *message;
	size_t message_len;
} sg_verify;

typedef struct sg_verify_result {
	int valid;
	sg_key key;
	int key_version;
	sg_sig_scheme scheme;           /* resolved */
} sg_verify_result;

/* Any version that still has its public key verifies; a bad signature is valid = 0, not an error. */
int sg_svc_verify(sg_service *svc, const sg_caller *c, const sg_verify *in, sg_verify_result *out,
    sg_problem *problem) SG_WUR;

/* ---- lookups ---- */

/*
 * A request of the caller's tenant and, when it is SIGNED, its signature
 * record (*has_signature = 1).  Release with sg_request_clear and
 * sg_signature_clear.
 */
int sg_svc_request_get(sg_service *svc, const sg_caller *c, const char *id, sg_request *out,
    sg_signature *sig, int *has_signature, sg_problem *problem) SG_WUR;
int sg_svc_signature_get(sg_service *svc, const sg_caller *c, const char *id, sg_signature *out,
    sg_problem *problem) SG_WUR;
int sg_svc_key_get(sg_service *svc, const sg_caller *c, const char *id_or_alias, sg_key *out,
    sg_problem *problem) SG_WUR;
/* The caller's tenant's keys (malloc'd array of *n, free(); NULL and 0 when none). */
int sg_svc_key_list(sg_service *svc, const sg_caller *c, sg_key **out, size_t *n,
    sg_problem *problem) SG_WUR;
/*
 * The caller's key for key algorithm alg, for dialects that name an
 * algorithm rather than a key (SPEC §4 Q1): the key of the principal's
 * default policy when that key has algorithm alg (*policy gets the policy's
 * "project/slug", to submit under), else the tenant's only key of that
 * algorithm, whatever its status (*policy = "").  No such key:
 * SG_ERR_NOT_FOUND; several and no default policy naming one:
 * SG_ERR_INVALID_ARGUMENT.
 */
int sg_svc_key_for_alg(sg_service *svc, const sg_caller *c, sg_key_alg alg, sg_key *out,
    char policy[SG_POLICY_REF_MAX], sg_problem *problem) SG_WUR;
/* ---- key lifecycle ---- */

/*
 * Creating, rotating, changing the status of keys and destroying versions
 * need the admin role; the dialects' route tables require it before any of
 * these functions is called (as for every route), so they do not check
 * roles again.
 */

/* A new key, its names already checked by the dialect. */
typedef struct sg_key_create {
	const char *alias;              /* the dialect checks the name rule */
	sg_key_alg alg;
	const char *storage;            /* "DISK" | "HSM" */
	const char *type;               /* "PRODUCTION" | "TEST" */
	sg_key_status status;
} sg_key_create;

/*
 * Create a key with version 1 in the keystore of its storage, store it and
 * audit key.created.  A storage this server lacks is
 * SG_ERR_INVALID_ARGUMENT, an alias in use SG_ERR_CONFLICT, an unknown
 * algorithm SG_ERR_UNSUPPORTED_ALGORITHM; a version the store refused is
 * destroyed in the keystore again.  *out is the key as stored.
 */
int sg_svc_key_create(sg_service *svc, const sg_caller *c, const sg_key_create *in, sg_key *out,
    sg_problem *problem) SG_WUR;

/*
 * Rotate the key id_or_alias: generate version current + 1, store it as the
 * current version and audit key.rotated.  A DISABLED key is
 * SG_ERR_KEY_NOT_ACTIVE; a concurrent rotation SG_ERR_CONFLICT.  *out is
 * the key as it is now.
 */
int sg_svc_key_rotate(sg_service *svc, const sg_caller *c, const char *id_or_alias, sg_key *out,
    sg_problem *problem) SG_WUR;

/*
 * Set the status of key id_or_alias (ONLINE, OFFLINE or DISABLED; the
 * dialect turned its word into the enum, anything else is
 * SG_ERR_INVALID_ARGUMENT) and audit key.status_changed with the status.
 * Setting the status a key already has succeeds and is audited too.
 * Requests already queued for the key see the new status when a worker
 * takes them (sg_signing_execute).  *out is the key as it is now.
 */
int sg_svc_key_set_status(sg_service *svc, const sg_caller *c, const char *id_or_alias,
    sg_key_status status, sg_key *out, sg_problem *problem) SG_WUR;

/*
 * Destroy version `version` of key id_or_alias: its private part in the
 * keystore of the key's storage, then the version is stored DESTROYED
 * (its public key stays, for verification) and key.version_destroyed is
 * audited with the version.  Any version may be destroyed, the current one
 * too: the key then does not sign until it is rotated.  A version already
 * DESTROYED is left as it is and not audited again (success).  No such
 * version: SG_ERR_NOT_FOUND; the storage not configured:
 * SG_ERR_UNAVAILABLE.  *out is the version as it is now; release it with
 * sg_key_version_clear.
 */
int sg_svc_key_destroy_version(sg_service *svc, const sg_caller *c, const char *id_or_alias,
    int version, sg_key_version *out, sg_problem *problem) SG_WUR;

/* "project/slug" -> policy.  Release with sg_policy_clear. */
int sg_svc_policy_get(sg_service *svc, const sg_caller *c, const char *project_slug, sg_policy *out,
    sg_problem *problem) SG_WUR;

/*
 * The tenant's policies the caller may submit to: every policy for a
 * principal with the signer role, none otherwise (*out NULL, *n 0).
 * Release with sg_policy_list_free.
 */
int sg_svc_policies_for_submitter(sg_service *svc, const sg_caller *c, sg_policy **out, size_t *n,
    sg_problem *problem) SG_WUR;
/*
 * A key's version (0 = its current one), tenant-scoped through the key.
 * Release with sg_key_version_clear.
 */
int sg_svc_key_version_get(sg_service *svc, const sg_caller *c, const sg_key *key, int version,
    sg_key_version *out, sg_problem *problem) SG_WUR;

/* ---- approvals ---- */

/* 1 when the caller is in the approver group of request rq (its policy's group, else the approver role). */
int sg_svc_may_vote(sg_service *svc, const sg_caller *c, const sg_request *rq);

/*
 * Cast the caller's vote (APPROVED when approve, else REJECTED; a rejection
 * needs a non-empty comment) on request id.  The native rules: the request
 * must be PENDING_APPROVAL with its window open (SG_ERR_PRECONDITION), the
 * caller in its approver group and not its submitter
 * (SG_ERR_PERMISSION_DENIED), one vote each (SG_ERR_CONFLICT).  N approvals
 * queue it, one rejection ends it.  *after gets the request as it is now.
 */
int sg_svc_vote(sg_service *svc, const sg_caller *c, const char *id, int approve,
    const char *comment, sg_request *after, sg_problem *problem) SG_WUR;

/* The votes on a request (malloc'd array, free()).  *approved counts APPROVED votes. */
int sg_svc_votes(sg_service *svc, const sg_caller *c, const char *id, sg_approval **out, size_t *n,
    int *approved, sg_problem *problem) SG_WUR;

#endif
