/*
 * sg_store.h - persistence behind one table of functions.
 *
 * Everything Signet must remember (tenants, principals and their
 * credentials, keys and key versions, signing requests, signature records)
 * goes through sg_store_ops.  SQLite (sg_store_sqlite_open) is the embedded
 * default; PostgreSQL will be a second table of the same functions.  Callers
 * never write SQL.
 *
 * Tenancy is enforced here as well as in the API: every lookup or change of
 * a tenant-owned object takes the tenant id (as an argument, or in the
 * record passed in) and answers SG_ERR_NOT_FOUND for another tenant's
 * object, exactly as for a missing one; a list answers empty.  The only
 * exceptions are, by design, the credential lookups that find the tenant
 * (api_key_find, client_cert_find) and the workers' operations across
 * tenants (request_claim, request_count_by_status, idempotency_purge,
 * request_expire_approvals, webhook_list_unsealed, notify_behind,
 * delivery_claim), whose records carry their tenant.
 *
 * Records are plain structs.  Fixed-size text fields are NUL-terminated;
 * heap fields (blobs, JSON text) are owned by the record and released by the
 * matching *_free function.  Functions return SG_OK or a negative sg_err:
 * SG_ERR_NOT_FOUND, SG_ERR_CONFLICT for uniqueness violations (alias, name),
 * SG_ERR_STORE / SG_ERR_UNAVAILABLE when the database fails.  Outputs are
 * written only on success.  All functions are thread-safe.
 *
 * The *_list functions return a malloc'd array of *n records (free it with
 * free(), or sg_key_version_list_free for versions); when nothing matches
 * they return SG_OK with *out = NULL and *n = 0.  Principal names are
 * unique within a tenant, like key aliases.
 */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"
#include "sg_crypto.h"

#define SG_ID_MAX 40        /* UUIDs are 36 characters */
#define SG_NAME_MAX 129     /* tenant, principal names, key aliases: 128 characters + NUL */
#define SG_STATUS_MAX 24
#define SG_POLICY_REF_MAX (2 * SG_NAME_MAX)  /* "project/slug" + NUL */
#define SG_EMAIL_MAX 255    /* an address of at most 254 characters + NUL */

/* Roles (a principal may hold several). */
enum {
	SG_ROLE_ADMIN = 1u << 0,
	SG_ROLE_SIGNER = 1u << 1,
	SG_ROLE_APPROVER = 1u << 2,
	SG_ROLE_AUDITOR = 1u << 3,
	SG_ROLE_OPERATOR = 1u << 4,
};

typedef struct sg_tenant {
	char id[SG_ID_MAX];
	char name[SG_NAME_MAX];
	int64_t created_at;       /* ms since epoch */
} sg_tenant;

typedef struct sg_principal {
	char id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char name[SG_NAME_MAX];
	unsigned roles;           /* SG_ROLE_* bits */
	int64_t created_at;
	char default_policy[SG_POLICY_REF_MAX]; /* "project/slug" or "" (SPEC §4 C4) */
	char email[SG_EMAIL_MAX];               /* notification address or "" */
} sg_principal;

/* An API key is "sg_<prefix>_<secret>"; only SHA-256 of the whole key is kept. */
typedef struct sg_api_key {
	char id[SG_ID_MAX];
	char principal_id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char prefix[24];          /* public, unique, used to find the row */
	uint8_t hash[32];         /* SHA-256 of the full key text */
	int64_t created_at;
	int64_t revoked_at;       /* 0 while valid */
} sg_api_key;

typedef struct sg_client_cert {
	char id[SG_ID_MAX];
	char principal_id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	uint8_t fingerprint[32];  /* SHA-256 of the certificate DER; unique */
	char subject[256];
	int64_t created_at;
} sg_client_cert;

typedef struct sg_key {
	char id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char alias[SG_NAME_MAX];  /* unique per tenant */
	sg_key_alg alg;
	char storage[8];          /* "DISK" | "HSM" */
	char type[16];            /* "PRODUCTION" | "TEST" */
	char status[16];          /* "ONLINE" | "OFFLINE" | "DISABLED" */
	int current_version;      /* newest version; signs by default */
	int64_t created_at;
	int64_t updated_at;
} sg_key;

typedef struct sg_key_version {
	char key_id[SG_ID_MAX];
	int version;              /* 1..n */
	char state[16];           /* "ACTIVE" | "DESTROYED" */
	uint8_t *spki;            /* public key, SubjectPublicKeyInfo DER */
	size_t spki_len;
	uint8_t *handle;          /* keystore handle; NULL once destroyed */
	size_t handle_len;
	char *cert_chain_pem;     /* NULL when no certificate was uploaded/issued */
	int64_t created_at;
	int64_t destroyed_at;     /* 0 while active */
} sg_key_version;

/* One signing request (SPEC §1).  Status strings are the SPEC's. */
typedef struct sg_request {
	char id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char principal_id[SG_ID_MAX];    /* submitter */
	char key_id[SG_ID_MAX];
	int key_version;                 /* 0: the current one at signing time */
	char policy[2 * SG_NAME_MAX];    /* "project/slug" or "" */
	char hash_alg[16];               /* canonical names, as in sg_crypto.h */
	char sig_scheme[32];
	char sig_format[8];              /* "DER" | "P1363" | "" */
	int pss_salt_len;                /* -1 default */
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	uint8_t context[255];
	size_t context_len;
	int timestamp;                   /* bool: add an RFC 3161 token */
	char *metadata_json;             /* JSON object text, NULL = {} */
	char status[SG_STATUS_MAX];      /* PENDING_APPROVAL, QUEUED, PROCESSING, SIGNED, FAILED, REJECTED, DEAD_LETTER */
	char *error;                     /* last error message, NULL if none */
	char signature_id[SG_ID_MAX];    /* "" until SIGNED */
	char original_request_id[SG_ID_MAX]; /* resubmit: the request it re-signs */
	char client_ip[64];
	char client_type[256];           /* User-Agent */
	int attempts;
	int64_t created_at;
	int64_t updated_at;
	/* Workflow (issue 4).  Zero/empty when unused. */
	char description[512];           /* free text, e.g. from a resubmit */
	int approvals_required;          /* N from the policy at submission */
	int64_t approval_deadline;       /* ms; 0 = no window */
	int64_t next_attempt_at;         /* ms; a QUEUED request is due from then */
	int64_t lease_until;             /* ms; a PROCESSING request's claim ends then */
	char idempotency_key[256];       /* "" = none; unique per principal while kept */
	uint8_t body_hash[32];           /* SHA-256 of the request body (idempotency) */
} sg_request;

/* A signing policy (SPEC §3), identified by (tenant, project, slug). */
typedef struct sg_policy {
	char id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char project[SG_NAME_MAX];
	char slug[SG_NAME_MAX];
	char key_id[SG_ID_MAX];
	char *allowed_hash_algorithms;      /* JSON array text; NULL = anything the key supports */
	char *allowed_signature_algorithms; /* JSON array text; NULL = anything the key supports */
	int allow_fast;
	int approvals_required;
	char *approvers;                    /* JSON: {"role":"approver"} or {"principals":[ids]} */
	int64_t approval_timeout_seconds;   /* 0 = no window */
	char *required_metadata;            /* JSON array of field names; NULL = none */
	int allow_legacy_hashes;
	int timestamp;
	int64_t created_at;
} sg_policy;

/* One vote on a request. */
typedef struct sg_approval {
	char request_id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char approver_id[SG_ID_MAX];
	char decision[16];                  /* "APPROVED" | "REJECTED" */
	char comment[1024];
	int64_t created_at;
} sg_approval;

/*
 * One audit log entry.  Entries form a hash chain per tenant:
 * hash = SHA-256(prev_hash || canonical encoding of the other fields), see
 * sg_audit_entry_hash().  The store assigns seq (1, 2, ... per tenant),
 * prev_hash and hash when it appends, inside the same transaction as the
 * change the entry describes, and keeps the newest (seq, hash) per tenant as
 * the chain head so that removing the last entries is detectable too.
 */
typedef struct sg_audit_entry {
	int64_t seq;
	char tenant_id[SG_ID_MAX];
	int64_t ts;                         /* ms */
	char actor[SG_ID_MAX];              /* principal id; "" when unauthenticated */
	char action[48];                    /* e.g. "key.created", "request.signed", "auth.failed" */
	char object[96];                    /* id of what was acted on; "" if none */
	char *details;                      /* JSON object text or NULL */
	uint8_t prev_hash[32];
	uint8_t hash[32];
} sg_audit_entry;

/* The durable record of one signature (SPEC §1). */
typedef struct sg_signature {
	char id[SG_ID_MAX];
	char request_id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char key_id[SG_ID_MAX];
	int key_version;
	char hash_alg[16];
	char sig_scheme[32];
	char sig_format[8];
	uint8_t digest[SG_MAX_DIGEST];
	size_t digest_len;
	uint8_t *signature;
	size_t signature_len;
	uint8_t *timestamp_token;        /* DER TimeStampToken or NULL */
	size_t timestamp_token_len;
	char *metadata_json;             /* NULL = {} */
	char created_by[SG_ID_MAX];      /* principal id */
	char client_ip[64];
	char client_type[256];
	int64_t created_at;
} sg_signature;

/*
 * A webhook of a tenant (SPEC §7): deliveries of the subscribed events are
 * POSTed to url, signed with HMAC-SHA256 under its secret.  Signet must use
 * that HMAC key in clear for every delivery, so it is kept sealed under the
 * master key custody (sg_keystore_seal_secret, bound to
 * "webhook:<tenant id>/<webhook id>"; src/notify seals and opens it) and
 * the store holds only the sealed blob: secret holds it with secret_sealed
 * = 1.  A row written by a version that did not seal secrets still holds
 * the key in clear, read back with secret_sealed = 0 until the server
 * seals it at start (webhook_list_unsealed, webhook_seal).  Callers
 * wipe their copies (sg_webhook_clear) and never return or log them.
 */
#define SG_WEBHOOK_URL_MAX 2049     /* 2048 characters + NUL */
#define SG_WEBHOOK_SECRET_MAX 256   /* bytes of the HMAC key in clear */
#define SG_WEBHOOK_SEALED_MAX (SG_WEBHOOK_SECRET_MAX + 128)  /* room for any sealer's overhead */
typedef struct sg_webhook {
	char id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char url[SG_WEBHOOK_URL_MAX];
	unsigned events;                    /* SG_EVENT_* bits (sg_notify.h) */
	uint8_t secret[SG_WEBHOOK_SEALED_MAX]; /* the sealed blob; in clear only when !secret_sealed */
	size_t secret_len;
	int secret_sealed;                  /* 1: secret is a sealed blob */
	int64_t created_at;
} sg_webhook;

/*
 * The time-stamp authority's own key (SPEC §6): one per installation, a
 * keystore key like any other, so every node that shares the store stamps
 * with the same certificate.  The handle is what the keystore of storage
 * gave for the key version id "tsa/1" (sg_tsa.h): a sealed blob for DISK,
 * a CKA_ID for HSM; it holds no private key in clear.
 */
typedef struct sg_tsa_key_record {
	char alg[24];             /* sg_key_alg_name, e.g. "EC-P256" */
	char storage[8];          /* "DISK" | "HSM" */
	uint8_t *handle;          /* keystore handle */
	size_t handle_len;
	char *cert_pem;           /* the TSA certificate (self-signed), PEM */
	int64_t created_at;
} sg_tsa_key_record;

/*
 * One notification in the outbox: a webhook delivery (webhook_id set) or an
 * e-mail (recipient set).  One row per (tenant, audit entry, webhook or
 * recipient), so turning an audit entry into deliveries twice adds nothing.
 */
typedef struct sg_delivery {
	char id[SG_ID_MAX];
	char tenant_id[SG_ID_MAX];
	char webhook_id[SG_ID_MAX];         /* "" for e-mail */
	char recipient[SG_EMAIL_MAX];       /* "" for webhooks */
	char event[32];                     /* "request.signed", ... */
	char request_id[SG_ID_MAX];         /* "" for key.rotated */
	char key_id[SG_ID_MAX];             /* "" when none */
	int64_t audit_seq;                  /* the tenant's audit entry it comes from */
	char *body;                         /* JSON (webhook) or the whole message (e-mail); owned */
	char status[16];                    /* "PENDING" | "DELIVERED" | "FAILED" */
	int attempts;
	int last_status;                    /* HTTP status (webhook) or SMTP reply code; 0 none */
	char last_error[256];               /* transport error of the last attempt, "" if none */
	int64_t next_attempt_at;            /* ms; also the end of a sender's claim */
	int64_t created_at;
	int64_t updated_at;
} sg_delivery;

/* How far the notification dispatcher has read a tenant's audit log. */
typedef struct sg_notify_cursor {
	char tenant_id[SG_ID_MAX];
	int64_t seq;                        /* entries up to here are turned into deliveries */
	int64_t head;                       /* the chain head's seq */
} sg_notify_cursor;

typedef struct sg_store sg_store;

typedef struct sg_store_ops {
	const char *name;  /* "sqlite", "postgresql" */

	/* tenants */
	int (*tenant_create)(sg_store *s, const sg_tenant *t);
	int (*tenant_get)(sg_store *s, const char *id, sg_tenant *out);
	int (*tenant_get_by_name)(sg_store *s, const char *name, sg_tenant *out);

	/* principals and credentials */
	int (*principal_create)(sg_store *s, const sg_principal *p);
	int (*principal_get)(sg_store *s, const char *tenant_id, const char *id, sg_principal *out);
	int (*principal_list)(sg_store *s, const char *tenant_id, sg_principal **out, size_t *n);
	/*
	 * Replaces roles, default_policy and email of the principal p->id in
	 * p->tenant_id (name and created_at stay); SG_ERR_NOT_FOUND if there is
	 * no such principal in that tenant.
	 */
	int (*principal_update)(sg_store *s, const sg_principal *p);
	/* Deletes the principal and revokes its API keys and client certificates. */
	int (*principal_delete)(sg_store *s, const char *tenant_id, const char *id);
	/* Fails with SG_ERR_NOT_FOUND unless k->principal_id is a principal of k->tenant_id. */
	int (*api_key_create)(sg_store *s, const sg_api_key *k);
	/* By public prefix, revoked or not (the caller checks revoked_at and the hash). */
	int (*api_key_find)(sg_store *s, const char *prefix, sg_api_key *out);
	/* principal_id NULL or "": every API key of the tenant. */
	int (*api_key_list)(sg_store *s, const char *tenant_id, const char *principal_id,
	    sg_api_key **out, size_t *n);
	/* Revoking a revoked key succeeds and keeps the first revoked_at. */
	int (*api_key_revoke)(sg_store *s, const char *tenant_id, const char *id, int64_t when);
	/* Like api_key_create, the principal must exist in c->tenant_id. */
	int (*client_cert_add)(sg_store *s, const sg_client_cert *c);
	int (*client_cert_find)(sg_store *s, const uint8_t fingerprint[32], sg_client_cert *out);

	/* keys; id_or_alias matches either the id or the alias within the tenant */
	/*
	 * Creates the key and its first version in one transaction.  v1->version
	 * must be 1 (the key's current_version is stored as 1); v1->key_id is
	 * ignored in favour of k->id; an empty v1->state is stored as "ACTIVE".
	 */
	int (*key_create)(sg_store *s, const sg_key *k, const sg_key_version *v1);
	int (*key_get)(sg_store *s, const char *tenant_id, const char *id_or_alias, sg_key *out);
	int (*key_list)(sg_store *s, const char *tenant_id, sg_key **out, size_t *n);
	int (*key_set_status)(sg_store *s, const char *tenant_id, const char *key_id,
	    const char *status, int64_t when);
	/* Adds version v->version, which must be current_version + 1, and makes it current. */
	int (*key_add_version)(sg_store *s, const char *tenant_id, const sg_key_version *v);
	/*
	 * The key_version_* functions, like key_add_version, find only versions
	 * of tenant_id's keys: another tenant's key id is SG_ERR_NOT_FOUND for
	 * get, destroy and set_cert (nothing changes) and an empty list for list.
	 */
	int (*key_version_get)(sg_store *s, const char *tenant_id, const char *key_id, int version,
	    sg_key_version *out);
	int (*key_version_list)(sg_store *s, const char *tenant_id, const char *key_id,
	    sg_key_version **out, size_t *n);
	/*
	 * Marks DESTROYED and drops the handle (overwritten first); spki and
	 * records stay.  Destroying a destroyed version succeeds and changes nothing.
	 */
	int (*key_version_destroy)(sg_store *s, const char *tenant_id, const char *key_id,
	    int version, int64_t when);
	/* pem NULL removes the certificate chain. */
	int (*key_version_set_cert)(sg_store *s, const char *tenant_id, const char *key_id,
	    int version, const char *pem);

	/* requests and signatures */
	int (*request_get)(sg_store *s, const char *tenant_id, const char *id, sg_request *out);
	int (*signature_get)(sg_store *s, const char *tenant_id, const char *id, sg_signature *out);
	/*
	 * Write n (request, signature) pairs in ONE transaction: each request is
	 * inserted or, if its id exists, updated; each signature inserted.
	 * sigs[i] may be NULL (a request without a signature, e.g. FAILED);
	 * one given must be reqs[i]'s (its request_id and tenant_id), else
	 * SG_ERR_INVALID_ARGUMENT and nothing is written.
	 * audits may be NULL, or audits[i] NULL; otherwise each entry is appended
	 * to its tenant's chain in the same transaction.  All or nothing; a
	 * duplicate (principal, idempotency_key) is SG_ERR_CONFLICT, and so is a
	 * request that is already SIGNED (a request is signed once on record)
	 * or whose id belongs to another tenant.  Lease fencing: an existing
	 * PROCESSING request is updated only by a record with its attempts
	 * count (the worker of its current claim), and an existing request
	 * becomes SIGNED only from PROCESSING; otherwise SG_ERR_CONFLICT.  An update never changes a
	 * request's tenant, submitter, created_at or idempotency key.
	 */
	int (*commit_batch)(sg_store *s, const sg_request *const *reqs,
	    const sg_signature *const *sigs, sg_audit_entry *const *audits, size_t n);

	/* ---- workflow (issue 4) ---- */

	/* Policies: (tenant, project, slug) unique -> SG_ERR_CONFLICT. */
	int (*policy_create)(sg_store *s, const sg_policy *p, sg_audit_entry *audit);
	int (*policy_get)(sg_store *s, const char *tenant_id, const char *project, const char *slug,
	    sg_policy *out);
	int (*policy_list)(sg_store *s, const char *tenant_id, sg_policy **out, size_t *n);

	/* status NULL = all; newest first; at most limit (1..1000). */
	int (*request_list)(sg_store *s, const char *tenant_id, const char *status, int64_t limit,
	    sg_request **out, size_t *n);
	/*
	 * Claim up to max requests for a worker, across tenants, in one
	 * transaction: QUEUED ones due (next_attempt_at <= now) and PROCESSING
	 * ones whose lease has run out (their worker died).  Each becomes
	 * PROCESSING with lease_until = now + lease_ms and attempts + 1.  Oldest
	 * first.  *n may be 0.
	 */
	int (*request_claim)(sg_store *s, int64_t now, int64_t lease_ms, size_t max,
	    sg_request **out, size_t *n);
	/*
	 * Compare-and-set a request's status: only if it is `from` now and,
	 * when attempts > 0, its attempts count is still `attempts` (the value
	 * the caller's claim gave: a worker whose lease ran out and whose
	 * request was claimed again is fenced out), else SG_ERR_PRECONDITION;
	 * SG_ERR_NOT_FOUND if absent.  Sets error (NULL clears it),
	 * next_attempt_at, updated_at = now; appends audit if given.
	 */
	int (*request_transition)(sg_store *s, const char *tenant_id, const char *id, const char *from,
	    const char *to, int attempts, const char *error, int64_t next_attempt_at, int64_t now,
	    sg_audit_entry *audit);
	/* Requests per status over all tenants (metrics); counts[i] for statuses[i]. */
	int (*request_count_by_status)(sg_store *s, const char *const *statuses, size_t n,
	    int64_t *counts);
	/*
	 * The live request the principal of tenant_id submitted with this
	 * idempotency key, if any (another tenant's: SG_ERR_NOT_FOUND).
	 */
	int (*request_find_idempotent)(sg_store *s, const char *tenant_id, const char *principal_id,
	    const char *key, sg_request *out);
	/* Forget idempotency keys of requests created before `before` (ms). */
	int (*idempotency_purge)(sg_store *s, int64_t before);

	/*
	 * Record a vote and move the request, in one transaction.  The request
	 * must be PENDING_APPROVAL with its approval window (if any) still open at
 * a->created_at (else SG_ERR_PRECONDITION), the approver must
	 * not be its submitter (SG_ERR_PERMISSION_DENIED) and must not have voted
	 * on it before (SG_ERR_CONFLICT).  A REJECTED vote makes the request
	 * REJECTED; the approvals_required-th APPROVED vote makes it QUEUED (due
	 * now).  *new_status receives the request's status afterwards.  The audit
	 * entry (if any) is appended; a second entry for the status change is
	 * appended by the store when the status changes ("request.queued" or
	 * "request.rejected", actor = the approver, object = the request id).
	 * These rules are sg_store_rules.h's (sg_rule_vote_*), which every
	 * back-end applies inside the vote's transaction.
	 */
	int (*approval_add)(sg_store *s, const sg_approval *a, sg_audit_entry *audit,
	    char new_status[SG_STATUS_MAX]);
	int (*approval_list)(sg_store *s, const char *tenant_id, const char *request_id,
	    sg_approval **out, size_t *n);
	/*
	 * PENDING_APPROVAL requests whose approval_deadline passed become
	 * REJECTED with error "approval window expired" (one audit entry each,
	 * actor "", action "request.expired"); returns how many in *n (and the
	 * requests, oldest first, if out is non-NULL).  The entry is
	 * sg_rule_expiry_audit's (sg_store_rules.h).
	 */
	int (*request_expire_approvals)(sg_store *s, int64_t now, sg_request **out, size_t *n);

	/*
	 * Audit log: append one entry (seq, prev_hash, hash are filled in on
	 * success; the same holds for every audit entry the other functions take).
	 * The log refuses UPDATE and DELETE at the database level too.
	 */
	int (*audit_append)(sg_store *s, sg_audit_entry *e);
	/* Entries with seq > after, ascending, at most limit (1..10000). */
	int (*audit_list)(sg_store *s, const char *tenant_id, int64_t after, int64_t limit,
	    sg_audit_entry **out, size_t *n);
	/* The chain head the store keeps: newest seq and hash (seq 0 when empty). */
	int (*audit_head)(sg_store *s, const char *tenant_id, int64_t *seq, uint8_t hash[32]);

	/* ---- notifications (issue 15): webhooks and the outbox ---- */

	/*
	 * id unique; the tenant must exist (SG_ERR_NOT_FOUND).  The secret must
	 * be sealed (secret_sealed = 1): a clear one is SG_ERR_INVALID_ARGUMENT
	 * and never written.
	 */
	int (*webhook_create)(sg_store *s, const sg_webhook *w);
	/* The tenant's webhooks, oldest first, secrets included (callers wipe them). */
	int (*webhook_list)(sg_store *s, const char *tenant_id, sg_webhook **out, size_t *n);
	int (*webhook_get)(sg_store *s, const char *tenant_id, const char *id, sg_webhook *out);
	/* Deletes the webhook and its deliveries, pending ones included, in one transaction. */
	int (*webhook_delete)(sg_store *s, const char *tenant_id, const char *id);
	/*
	 * Every tenant's webhooks whose secret is still in clear (written
	 * before secrets were sealed), with that secret: to be sealed at start.
	 * *n is 0 once all are sealed.  Callers wipe the list
	 * (sg_webhook_list_free).
	 */
	int (*webhook_list_unsealed)(sg_store *s, sg_webhook **out, size_t *n);
	/*
	 * Replace a webhook's clear secret by blob (blob_len bytes, 1 ..
	 * SG_WEBHOOK_SEALED_MAX, made by sg_keystore_seal_secret), in one
	 * transaction and only while it is still in clear: SG_ERR_NOT_FOUND
	 * when the webhook is gone or its secret is sealed already, so a repeat
	 * changes nothing.  Afterwards no copy of the clear secret remains in
	 * the database files: freed content is zeroed (secure_delete) and the
	 * write-ahead log is checkpointed into the database and truncated.
	 */
	int (*webhook_seal)(sg_store *s, const char *tenant_id, const char *id,
	    const uint8_t *blob, size_t blob_len);
	/*
	 * Tenants whose audit log has entries past the dispatcher's cursor (the
	 * service chain "" excluded); a tenant never read has cursor 0.
	 */
	int (*notify_behind)(sg_store *s, sg_notify_cursor **out, size_t *n);
	/*
	 * In one transaction: insert deliveries d[0..n-1] (a row for the same
	 * tenant, audit_seq, webhook and recipient already there is kept as it
	 * is) and move tenant_id's cursor to seq (never backwards).
	 */
	int (*notify_enqueue)(sg_store *s, const char *tenant_id, int64_t seq,
	    const sg_delivery *d, size_t n);
	/*
	 * Claim up to max PENDING deliveries due at now (next_attempt_at <= now),
	 * across tenants, oldest due first: each gets next_attempt_at = now +
	 * lease_ms, so no other sender takes it until it is finished or the claim
	 * runs out (its sender died).  *n may be 0.
	 */
	int (*delivery_claim)(sg_store *s, int64_t now, int64_t lease_ms, size_t max,
	    sg_delivery **out, size_t *n);
	/*
	 * Record an attempt's outcome: status, attempts, last_status, last_error
	 * and next_attempt_at of d are stored, updated_at = now.  SG_ERR_NOT_FOUND
	 * when the delivery is gone (its webhook was deleted meanwhile) or is not
	 * d->tenant_id's.
	 */
	int (*delivery_finish)(sg_store *s, const sg_delivery *d, int64_t now);
	/* A webhook's deliveries, newest first, at most limit (1..1000). */
	int (*delivery_list)(sg_store *s, const char *tenant_id, const char *webhook_id,
	    int64_t limit, sg_delivery **out, size_t *n);

	/* ---- the time-stamp authority's key (SPEC §6) ---- */

	/* The one TSA key; SG_ERR_NOT_FOUND before one was put. */
	int (*tsa_key_get)(sg_store *s, sg_tsa_key_record *out);
	/*
	 * Record the TSA key; SG_ERR_CONFLICT when one is already recorded (it is
	 * never replaced: another node won the race, use its key).
	 */
	int (*tsa_key_put)(sg_store *s, const sg_tsa_key_record *k);
	/*
	 * The next TSA serial number from the database (PostgreSQL: one sequence
	 * shared by every node, no per-node caching; SPEC §6).  NULL when the
	 * back-end has none (SQLite: one node, the TSA keeps its serial file).
	 */
	int (*tsa_serial_next)(sg_store *s, uint64_t *out);

	/* Liveness of the database, for /readyz. */
	int (*ping)(sg_store *s);
	void (*close)(sg_store *s);
} sg_store_ops;

struct sg_store {
	const sg_store_ops *ops;
	void *impl;
};

/*
 * Open (creating and migrating as needed) the SQLite database at path, in WAL
 * mode.  A new file is created with mode 0600.  ":memory:" gives a private
 * in-memory database (one connection; for tests).  The store comes wrapped
 * in the read cache (sg_store_cache_wrap, SG_STORE_CACHE_TTL_MS).
 */
int sg_store_sqlite_open(const char *path, sg_store **out) SG_WUR;

/*
 * Open the PostgreSQL store at url, a libpq URI
 * (postgresql://user:password@host:port/db) whose role owns the database;
 * creates and migrates the schema (several nodes may do so at once).
 * src/store/pg*.c.
 */
int sg_store_pg_open(const char *url, sg_store **out) SG_WUR;

/*
 * How long a cached record may be served without asking the database, in
 * ms: the bound on how late a change made by another process sharing the
 * database is seen (SPEC: a revocation reaches every node within 1 s).
 */
#define SG_STORE_CACHE_TTL_MS 500

/*
 * Put a read cache in front of inner (src/store/cache.c).  tenant_get,
 * principal_get, api_key_find, client_cert_find, key_get, key_version_get
 * and policy_get answer from memory when they can; the operations that
 * change those records (principal_delete, api_key_revoke, key_create,
 * key_set_status, key_add_version, key_version_destroy,
 * key_version_set_cert) make every cached record stale once they return, so
 * a change made through this store is seen by the next read at once.
 * Changes made by another process are seen within ttl_ms.  A back-end
 * operation added to sg_store_ops that changes one of the cached records
 * must be added to the wrapper's list, or it will be seen late.  Every
 * other operation is the inner one.  *out owns inner from then on: closing
 * *out closes inner.  Outputs only on success; inner is untouched on failure.
 */
int sg_store_cache_wrap(sg_store *inner, int64_t ttl_ms, sg_store **out) SG_WUR;

/* Reads answered from the cache and reads that went to the database; 0 for an uncached store. */
void sg_store_cache_stats(sg_store *s, uint64_t *hits, uint64_t *misses);

void sg_store_close(sg_store *s);

/* Free heap fields of records (the structs themselves belong to the caller). */
void sg_key_version_clear(sg_key_version *v);
void sg_request_clear(sg_request *r);
void sg_signature_clear(sg_signature *sig);
/* Free arrays returned by the *_list functions, clearing each element. */
void sg_key_version_list_free(sg_key_version *v, size_t n);

void sg_policy_clear(sg_policy *p);
void sg_audit_entry_clear(sg_audit_entry *e);
void sg_request_list_free(sg_request *r, size_t n);
void sg_policy_list_free(sg_policy *p, size_t n);
void sg_audit_list_free(sg_audit_entry *e, size_t n);
/* Wipe a webhook's secret (the struct stays usable). */
void sg_webhook_clear(sg_webhook *w);
/* Wipe every secret of a webhook list and free it. */
void sg_webhook_list_free(sg_webhook *w, size_t n);
void sg_delivery_clear(sg_delivery *d);
/* Free the handle and certificate of a TSA key record. */
void sg_tsa_key_record_clear(sg_tsa_key_record *k);
void sg_delivery_list_free(sg_delivery *d, size_t n);

/*
 * The chain hash of an entry: SHA-256 over prev_hash, then each field as a
 * 4-byte big-endian length and its bytes, in this order: seq (decimal),
 * tenant_id, ts (decimal), actor, action, object, details ("" when NULL).
 * Length-prefixing makes the encoding unambiguous.
 */
void sg_audit_entry_hash(const sg_audit_entry *e, const uint8_t prev_hash[32], uint8_t out[32]);

/*
 * Verify a tenant's chain from the start: contiguous seq from 1, each
 * prev_hash equal to the previous hash, each hash recomputed, and the last
 * entry equal to the stored head.  SG_OK when intact; SG_ERR_BAD_SIGNATURE
 * when not, with *bad_seq the first entry at fault (or the head's seq) and
 * why[] a human reason ("entry 7 was modified", "entry 12 is missing", ...).
 * *checked gets the number of entries read.
 */
int sg_audit_verify(sg_store *s, const char *tenant_id, int64_t *checked, int64_t *bad_seq,
    char *why, size_t whylen) SG_WUR;

/* Role names <-> bits ("admin", "signer", "approver", "auditor", "operator"; parsing ignores case). */
unsigned sg_role_from_name(const char *name);   /* 0 if unknown */
const char *sg_role_name(unsigned role_bit);

/*
 * Group commit.  sg_commit_signature() queues one (request, signature,
 * audit) triple; whatever is pending is written in one commit_batch
 * transaction by one of the waiting callers (the leader: the first to find
 * nobody writing, and after it the oldest waiter), and each caller returns
 * once the transaction holding its triple is durable.  Many signing threads
 * therefore share one fsync instead of paying one each, and no thread of
 * its own is involved.
 */
typedef struct sg_committer sg_committer;
/* max_batch 0 means the default (64). */
int sg_committer_start(sg_store *s, size_t max_batch, sg_committer **out) SG_WUR;
/*
 * Blocks until the triple is durable; returns commit_batch's result for it.
 * req must not be NULL, sig and audit may be.  The structs are read by the
 * leader's thread while the caller waits; the caller may be that leader and
 * then also writes the other waiters' triples.  If a shared batch fails, each
 * of its triples is retried alone, so one bad triple fails only its own
 * caller.  SG_ERR_UNAVAILABLE once sg_committer_stop has begun.
 */
int sg_commit_signature(sg_committer *c, const sg_request *req, const sg_signature *sig,
    sg_audit_entry *audit) SG_WUR;
/*
 * sg_commit_signature for n triples at once (a queue worker's claimed
 * requests): they join the pending list together, so they share
 * transactions with each other and with everyone else's, and the call
 * returns once all n are written.  sigs and audits may be NULL, or hold
 * NULLs; reqs[i] must not be NULL.  results[i] gets commit_batch's result
 * for triple i.  Returns SG_OK when every triple was written, else one of
 * the failures (results says which); SG_ERR_INVALID_ARGUMENT or
 * SG_ERR_NOMEM before anything is queued leave results untouched.
 */
int sg_commit_signatures(sg_committer *c, size_t n, const sg_request *const *reqs,
    const sg_signature *const *sigs, sg_audit_entry *const *audits, int *results) SG_WUR;
/*
 * Counters for metrics and tests: commit_batch calls made (transactions),
 * triples handled so far, and triples waiting for the next batch right now.
 * Any pointer may be NULL.
 */
void sg_committer_stats(sg_committer *c, uint64_t *batches, uint64_t *items, uint64_t *queued);
/*
 * Refuses new triples, waits until everything already queued is written and
 * those callers have returned, then frees c.  Nobody may start
 * sg_commit_signature on c once this has returned.  NULL is fine.
 */
void sg_committer_stop(sg_committer *c);

#endif
