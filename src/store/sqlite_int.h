/*
 * sqlite_int.h - private to the SQLite back-end (src/store/sqlite*.c): the
 * connection and pool types, the statement ids, binding and row reading,
 * and the functions one part of the back-end calls in another.  Nothing
 * outside src/store/sqlite*.c includes it.
 */
#ifndef SG_SQLITE_INT_H
#define SG_SQLITE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sqlite3.h>
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_store.h"
#include "sg_store_records.h"
#include "sg_store_rules.h"
#include "sg_util.h"

#define SQ_READERS 16
#define SQ_BUSY_TIMEOUT_MS 5000

/* ---- schema ---- */

#define SQ_TENANT_COLS "id, name, created_at"
#define SQ_PRINCIPAL_COLS "id, tenant_id, name, roles, created_at, default_policy, email"
#define SQ_API_KEY_COLS "id, principal_id, tenant_id, prefix, hash, created_at, revoked_at"
#define SQ_CERT_COLS "id, principal_id, tenant_id, fingerprint, subject, created_at"
#define SQ_KEY_COLS "id, tenant_id, alias, alg, storage, type, status, current_version, " \
	"created_at, updated_at"

/*
 * The last condition of every key_versions statement: the key is the
 * tenant's (bound last).  A correlated EXISTS probes keys by primary key; an
 * "IN (SELECT id FROM keys WHERE tenant_id = ?)" would list all the tenant's keys.
 */
#define SQ_VERSION_OF_TENANT \
	" AND EXISTS (SELECT 1 FROM keys WHERE keys.id = key_versions.key_id AND keys.tenant_id = ?)"

#define SQ_VERSION_COLS "key_id, version, state, spki, handle, cert_chain_pem, created_at, " \
	"destroyed_at"
#define SQ_REQUEST_COLS "id, tenant_id, principal_id, key_id, key_version, policy, hash_alg, " \
	"sig_scheme, sig_format, pss_salt_len, digest, context, timestamp, metadata_json, " \
	"status, error, signature_id, original_request_id, client_ip, client_type, attempts, " \
	"created_at, updated_at, description, approvals_required, approval_deadline, " \
	"next_attempt_at, lease_until, idempotency_key, body_hash"
#define SQ_SIGNATURE_COLS "id, request_id, tenant_id, key_id, key_version, hash_alg, " \
	"sig_scheme, sig_format, digest, signature, timestamp_token, metadata_json, " \
	"created_by, client_ip, client_type, created_at"
#define SQ_POLICY_COLS "id, tenant_id, project, slug, key_id, allowed_hash_algorithms, " \
	"allowed_signature_algorithms, allow_fast, approvals_required, approvers, " \
	"approval_timeout_seconds, required_metadata, allow_legacy_hashes, timestamp, created_at"
#define SQ_APPROVAL_COLS "request_id, tenant_id, approver_id, decision, comment, created_at"
#define SQ_AUDIT_COLS "seq, tenant_id, ts, actor, action, object, details, prev_hash, hash"
#define SQ_WEBHOOK_COLS "id, tenant_id, url, events, secret, sealed, created_at"
#define SQ_DELIVERY_COLS "id, tenant_id, webhook_id, recipient, event, request_id, key_id, " \
	"audit_seq, body, status, attempts, last_status, last_error, next_attempt_at, created_at, " \
	"updated_at"

/* ---- the statements, prepared once per connection on first use ---- */

enum sq_stmt_id {
	SQ_BEGIN,
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_PING,
	SQ_TENANT_INSERT,
	SQ_TENANT_GET,
	SQ_TENANT_GET_BY_NAME,
	SQ_PRINCIPAL_INSERT,
	SQ_PRINCIPAL_GET,
	SQ_PRINCIPAL_LIST,
	SQ_PRINCIPAL_REVOKE_KEYS,
	SQ_PRINCIPAL_DELETE_CERTS,
	SQ_PRINCIPAL_DELETE,
	SQ_PRINCIPAL_UPDATE,
	SQ_API_KEY_INSERT,
	SQ_API_KEY_FIND,
	SQ_API_KEY_LIST,
	SQ_API_KEY_REVOKE,
	SQ_CERT_INSERT,
	SQ_CERT_FIND,
	SQ_KEY_INSERT,
	SQ_KEY_GET,
	SQ_KEY_GET_ALIAS,
	SQ_KEY_LIST,
	SQ_KEY_SET_STATUS,
	SQ_KEY_CURRENT,
	SQ_KEY_SET_CURRENT,
	SQ_VERSION_INSERT,
	SQ_VERSION_GET,
	SQ_VERSION_LIST,
	SQ_VERSION_WIPE,
	SQ_VERSION_DESTROY,
	SQ_VERSION_EXISTS,
	SQ_VERSION_SET_CERT,
	SQ_REQUEST_UPSERT,
	SQ_REQUEST_GET,
	SQ_SIGNATURE_INSERT,
	SQ_SIGNATURE_GET,
	SQ_REQUEST_INSERT,
	SQ_REQUEST_EXISTS,
	SQ_REQUEST_LIST,
	SQ_REQUEST_CLAIM,
	SQ_REQUEST_TRANSITION,
	SQ_REQUEST_COUNT,
	SQ_REQUEST_FIND_IDEMPOTENT,
	SQ_IDEMPOTENCY_PURGE,
	SQ_REQUEST_VOTE_INFO,
	SQ_REQUEST_SET_STATUS,
	SQ_REQUEST_EXPIRE,
	SQ_POLICY_INSERT,
	SQ_POLICY_GET,
	SQ_POLICY_LIST,
	SQ_APPROVAL_INSERT,
	SQ_APPROVAL_COUNT,
	SQ_APPROVAL_LIST,
	SQ_AUDIT_HEAD,
	SQ_AUDIT_INSERT,
	SQ_AUDIT_SET_HEAD,
	SQ_AUDIT_LIST,
	/* notifications (issue 15) */
	SQ_WEBHOOK_INSERT,
	SQ_WEBHOOK_LIST,
	SQ_WEBHOOK_GET,
	SQ_WEBHOOK_DELETE,
	SQ_WEBHOOK_DELETE_DELIVERIES,
	SQ_WEBHOOK_UNSEALED,
	SQ_WEBHOOK_SEAL,
	SQ_NOTIFY_BEHIND,
	SQ_NOTIFY_SET_CURSOR,
	SQ_DELIVERY_INSERT,
	SQ_DELIVERY_DUE,
	SQ_DELIVERY_CLAIM,
	SQ_DELIVERY_FINISH,
	SQ_DELIVERY_LIST,
	SQ_TSA_KEY_GET,
	SQ_TSA_KEY_INSERT,
	SQ_STMT_COUNT
};

typedef struct sq_stmt_def {
	const char *name;  /* for the log */
	const char *sql;
} sq_stmt_def;

extern const sq_stmt_def sq_stmts[SQ_STMT_COUNT];

/* ---- connections ---- */

typedef struct sq_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQ_STMT_COUNT];
} sq_conn;

typedef struct sq_db {
	sq_conn writer;
	pthread_mutex_t writer_mu;
	/* Readers; none for an in-memory database, whose reads use the writer. */
	sq_conn readers[SQ_READERS];
	size_t nreaders;
	size_t free_readers[SQ_READERS];  /* stack of indices into readers */
	size_t nfree;
	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv;
} sq_db;

/* ---- binding parameters ---- */

enum { SQ_T_NULL, SQ_T_TEXT, SQ_T_INT, SQ_T_BLOB };

typedef struct sq_arg {
	int type;
	const void *p;
	size_t n;
	int64_t i;
} sq_arg;

static inline sq_arg
sq_text_n(const char *s, size_t n)
{
	return (sq_arg){ .type = SQ_T_TEXT, .p = s, .n = n };
}

/* A NUL-terminated string; NULL binds SQL NULL. */
static inline sq_arg
sq_str(const char *s)
{
	if (s == NULL)
		return (sq_arg){ .type = SQ_T_NULL };
	return sq_text_n(s, strlen(s));
}

/* A fixed-size text field of a record, which may lack its NUL when full. */
#define SQ_FIELD(f) sq_text_n((f), strnlen((f), sizeof(f)))

static inline sq_arg
sq_int(int64_t v)
{
	return (sq_arg){ .type = SQ_T_INT, .i = v };
}

/* Bytes; NULL with n == 0 binds an empty blob, never SQL NULL. */
static inline sq_arg
sq_blob(const void *p, size_t n)
{
	return (sq_arg){ .type = SQ_T_BLOB, .p = p, .n = n };
}

/* Bytes, or SQL NULL when p is NULL. */
static inline sq_arg
sq_blob_or_null(const void *p, size_t n)
{
	if (p == NULL)
		return (sq_arg){ .type = SQ_T_NULL };
	return sq_blob(p, n);
}

#define SQ_NARGS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- argument checks ---- */

static inline int
sq_bad_str(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* ---- the audit chain ---- */

/* Where an appended entry landed in its chain; copied into the caller's entry after COMMIT. */
typedef struct sq_link {
	int64_t seq;
	uint8_t prev_hash[32];
	uint8_t hash[32];
} sq_link;

/* ---- sqlite_schema.c ---- */

int sq_migrate(sq_conn *c);

/* ---- sqlite_conn.c ---- */

int sq_err(const sq_conn *c, int rc, const char *what);
int sq_prepare(sq_conn *c, enum sq_stmt_id id, sqlite3_stmt **out);
void sq_finish(sqlite3_stmt *st);
sq_conn *sq_read_begin(sq_db *q);
void sq_read_end(sq_db *q, sq_conn *c);
sq_conn *sq_write_begin(sq_db *q);
void sq_write_end(sq_db *q);
int sq_bind(sq_conn *c, sqlite3_stmt *st, const sq_arg *a, size_t n, const char *what);
int sq_run(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, int *changes);
int sq_tx_begin(sq_conn *c);
void sq_tx_rollback(sq_conn *c);
int sq_tx_commit(sq_conn *c);
void sq_conn_close(sq_conn *c);
int sq_exec(sq_conn *c, const char *sql, const char *what);
int sq_conn_open(const char *path, int reader, sq_conn *c);
int sq_set_wal(sq_conn *c);
sq_conn *sq_lazy_write_begin(sq_db *q);
void sq_lazy_write_end(sq_db *q, sq_conn *w);

/* ---- sqlite_row.c ---- */

int sq_read_record(sqlite3_stmt *st, const sg_record_desc *d, void *out);
int sq_one_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, const sg_record_desc *d,
    void *out);
int sq_get_one(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, const sg_record_desc *d,
    void *out);
int sq_scalar_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, int64_t *out);
int sq_list_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, const sg_record_desc *d,
    void **out, size_t *count);
int sq_get_list(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, const sg_record_desc *d,
    void **out, size_t *count);
int sq_write1(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, int *changes);

/* ---- sqlite_ops_principals.c ---- */

int sq_tenant_create(sg_store *s, const sg_tenant *t);
int sq_tenant_get(sg_store *s, const char *id, sg_tenant *out);
int sq_tenant_get_by_name(sg_store *s, const char *name, sg_tenant *out);
int sq_principal_create(sg_store *s, const sg_principal *p);
int sq_principal_update(sg_store *s, const sg_principal *p);
int sq_principal_get(sg_store *s, const char *tenant_id, const char *id, sg_principal *out);
int sq_principal_list(sg_store *s, const char *tenant_id, sg_principal **out, size_t *n);
int sq_principal_delete(sg_store *s, const char *tenant_id, const char *id);
int sq_api_key_create(sg_store *s, const sg_api_key *k);
int sq_api_key_find(sg_store *s, const char *prefix, sg_api_key *out);
int sq_api_key_list(sg_store *s, const char *tenant_id, const char *principal_id,
    sg_api_key **out, size_t *n);
int sq_api_key_revoke(sg_store *s, const char *tenant_id, const char *id, int64_t when);
int sq_client_cert_add(sg_store *s, const sg_client_cert *c);
int sq_client_cert_find(sg_store *s, const uint8_t fingerprint[32], sg_client_cert *out);

/* ---- sqlite_ops_keys.c ---- */

int sq_key_create(sg_store *s, const sg_key *k, const sg_key_version *v1);
int sq_key_get(sg_store *s, const char *tenant_id, const char *id_or_alias, sg_key *out);
int sq_key_list(sg_store *s, const char *tenant_id, sg_key **out, size_t *n);
int sq_key_set_status(sg_store *s, const char *tenant_id, const char *key_id, const char *status,
    int64_t when);
int sq_key_add_version(sg_store *s, const char *tenant_id, const sg_key_version *v);
int sq_key_version_get(sg_store *s, const char *tenant_id, const char *key_id, int version,
    sg_key_version *out);
int sq_key_version_list(sg_store *s, const char *tenant_id, const char *key_id,
    sg_key_version **out, size_t *n);
int sq_key_version_destroy(sg_store *s, const char *tenant_id, const char *key_id, int version,
    int64_t when);
int sq_key_version_set_cert(sg_store *s, const char *tenant_id, const char *key_id, int version,
    const char *pem);
int sq_tsa_key_get(sg_store *s, sg_tsa_key_record *out);
int sq_tsa_key_put(sg_store *s, const sg_tsa_key_record *k);

/* ---- sqlite_ops_audit.c ---- */

void sq_link_fill(sg_audit_entry *e, const sq_link *l);
int sq_audit_head_on(sq_conn *c, const char *tenant_id, int64_t *seq, uint8_t hash[32]);
int sq_audit_insert_after(sq_conn *w, const sg_audit_entry *e, int64_t head_seq,
    const uint8_t head_hash[32], sq_link *link);
int sq_audit_set_head(sq_conn *w, const char *tenant_id, int64_t seq, const uint8_t hash[32]);
int sq_audit_append_on(sq_conn *w, const sg_audit_entry *e, sq_link *link);
int sq_commit_with_audit(sq_conn *w, sg_audit_entry *audit);
int sq_audit_append(sg_store *s, sg_audit_entry *e);
int sq_audit_list(sg_store *s, const char *tenant_id, int64_t after, int64_t limit,
    sg_audit_entry **out, size_t *n);
int sq_audit_head(sg_store *s, const char *tenant_id, int64_t *seq, uint8_t hash[32]);

/* ---- sqlite_ops_requests.c ---- */

int sq_policy_create(sg_store *s, const sg_policy *p, sg_audit_entry *audit);
int sq_policy_get(sg_store *s, const char *tenant_id, const char *project, const char *slug,
    sg_policy *out);
int sq_policy_list(sg_store *s, const char *tenant_id, sg_policy **out, size_t *n);
int sq_request_write(sq_conn *w, enum sq_stmt_id id, const sg_request *q);
int sq_request_get(sg_store *s, const char *tenant_id, const char *id, sg_request *out);
int sq_signature_get(sg_store *s, const char *tenant_id, const char *id, sg_signature *out);
int sq_commit_batch(sg_store *s, const sg_request *const *reqs, const sg_signature *const *sigs,
    sg_audit_entry *const *audits, size_t n);
int sq_request_list(sg_store *s, const char *tenant_id, const char *status, int64_t limit,
    sg_request **out, size_t *n);
int sq_request_claim(sg_store *s, int64_t now, int64_t lease_ms, size_t max, sg_request **out,
    size_t *n);
int sq_request_transition(sg_store *s, const char *tenant_id, const char *id, const char *from,
    const char *to, int attempts, const char *error, int64_t next_attempt_at, int64_t now,
    sg_audit_entry *audit);
int sq_request_count_by_status(sg_store *s, const char *const *statuses, size_t n, int64_t *counts);
int sq_request_find_idempotent(sg_store *s, const char *tenant_id, const char *principal_id,
    const char *key, sg_request *out);
int sq_idempotency_purge(sg_store *s, int64_t before);
int sq_approval_add(sg_store *s, const sg_approval *a, sg_audit_entry *audit,
    char new_status[SG_STATUS_MAX]);
int sq_approval_list(sg_store *s, const char *tenant_id, const char *request_id,
    sg_approval **out, size_t *n);
int sq_request_expire_approvals(sg_store *s, int64_t now, sg_request **out, size_t *n);

/* ---- sqlite_ops_notify.c ---- */

int sq_webhook_create(sg_store *s, const sg_webhook *h);
int sq_webhook_list(sg_store *s, const char *tenant_id, sg_webhook **out, size_t *n);
int sq_webhook_get(sg_store *s, const char *tenant_id, const char *id, sg_webhook *out);
int sq_webhook_list_unsealed(sg_store *s, sg_webhook **out, size_t *n);
int sq_webhook_seal(sg_store *s, const char *tenant_id, const char *id, const uint8_t *blob,
    size_t blob_len);
int sq_webhook_delete(sg_store *s, const char *tenant_id, const char *id);
int sq_notify_behind(sg_store *s, sg_notify_cursor **out, size_t *n);
int sq_notify_enqueue(sg_store *s, const char *tenant_id, int64_t seq, const sg_delivery *d, size_t n);
int sq_delivery_claim(sg_store *s, int64_t now, int64_t lease_ms, size_t max, sg_delivery **out,
    size_t *n);
int sq_delivery_finish(sg_store *s, const sg_delivery *d, int64_t now);
int sq_delivery_list(sg_store *s, const char *tenant_id, const char *webhook_id, int64_t limit,
    sg_delivery **out, size_t *n);

#endif
