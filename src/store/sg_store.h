/*
 * sg_store.h - persistence behind one table of functions.
 *
 * Everything Signet must remember (tenants, principals and their
 * credentials, keys and key versions, signing requests, signature records)
 * goes through sg_store_ops.  SQLite (sg_store_sqlite_open) is the embedded
 * default; PostgreSQL will be a second table of the same functions.  Callers
 * never write SQL.
 *
 * Tenancy is enforced here as well as in the API: every lookup of a
 * tenant-owned object takes the tenant id and answers SG_ERR_NOT_FOUND for
 * another tenant's object, exactly as for a missing one.
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
#define SG_NAME_MAX 128     /* tenant, principal names, key aliases */
#define SG_STATUS_MAX 24

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
} sg_request;

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
	int (*key_version_get)(sg_store *s, const char *key_id, int version, sg_key_version *out);
	int (*key_version_list)(sg_store *s, const char *key_id, sg_key_version **out, size_t *n);
	/*
	 * Marks DESTROYED and drops the handle (overwritten first); spki and
	 * records stay.  Destroying a destroyed version succeeds and changes nothing.
	 */
	int (*key_version_destroy)(sg_store *s, const char *key_id, int version, int64_t when);
	/* pem NULL removes the certificate chain. */
	int (*key_version_set_cert)(sg_store *s, const char *key_id, int version, const char *pem);

	/* requests and signatures */
	int (*request_get)(sg_store *s, const char *tenant_id, const char *id, sg_request *out);
	int (*signature_get)(sg_store *s, const char *tenant_id, const char *id, sg_signature *out);
	/*
	 * Write n (request, signature) pairs in ONE transaction: each request is
	 * inserted or, if its id exists, updated; each signature inserted.
	 * sigs[i] may be NULL (a request without a signature, e.g. FAILED).
	 * All or nothing.
	 */
	int (*commit_batch)(sg_store *s, const sg_request *const *reqs,
	    const sg_signature *const *sigs, size_t n);

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
 * in-memory database (one connection; for tests).
 */
int sg_store_sqlite_open(const char *path, sg_store **out) SG_WUR;

void sg_store_close(sg_store *s);

/* Free heap fields of records (the structs themselves belong to the caller). */
void sg_key_version_clear(sg_key_version *v);
void sg_request_clear(sg_request *r);
void sg_signature_clear(sg_signature *sig);
/* Free arrays returned by the *_list functions, clearing each element. */
void sg_key_version_list_free(sg_key_version *v, size_t n);

/* Role names <-> bits ("admin", "signer", "approver", "auditor", "operator"; parsing ignores case). */
unsigned sg_role_from_name(const char *name);   /* 0 if unknown */
const char *sg_role_name(unsigned role_bit);

/*
 * Group commit.  sg_commit_signature() hands one (request, signature) pair
 * to a committer thread that gathers whatever is pending into one
 * commit_batch transaction, and returns once that transaction is durable.
 * Many signing threads therefore share one fsync instead of paying one each.
 */
typedef struct sg_committer sg_committer;
/* max_batch 0 means the default (64). */
int sg_committer_start(sg_store *s, size_t max_batch, sg_committer **out) SG_WUR;
/*
 * Blocks until the pair is durable; returns commit_batch's result for it.
 * req must not be NULL, sig may be.  The structs are read by the committer
 * thread while the caller waits.  If a shared batch fails, each of its
 * pairs is retried alone, so one bad pair fails only its own caller.
 * SG_ERR_UNAVAILABLE once sg_committer_stop has begun.
 */
int sg_commit_signature(sg_committer *c, const sg_request *req, const sg_signature *sig) SG_WUR;
/*
 * Counters for metrics and tests: commit_batch calls made (transactions)
 * and pairs handled so far.  Either pointer may be NULL.
 */
void sg_committer_stats(sg_committer *c, uint64_t *batches, uint64_t *items);
/* Writes everything already queued, then joins the thread and frees c.  NULL is fine. */
void sg_committer_stop(sg_committer *c);

#endif
