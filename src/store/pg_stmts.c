/*
 * pg_stmts.c - every SQL statement of the PostgreSQL store, by id
 * (enum pg_stmt_id in pg_int.h).  Each connection prepares a statement
 * the first time it runs it (pg_conn.c).  Column lists are in the order of
 * the record column tables (sg_store_records.h) that read their rows.
 */
#include <stddef.h>
#include "pg_int.h"

#define PG_PRINCIPAL_COLS "id, tenant_id, name, roles, created_at, default_policy, email"
#define PG_API_KEY_COLS "id, principal_id, tenant_id, prefix, hash, created_at, revoked_at"
#define PG_CERT_COLS "id, principal_id, tenant_id, fingerprint, subject, created_at"
#define PG_KEY_COLS "id, tenant_id, alias, alg, storage, type, status, current_version, " \
	"created_at, updated_at"
#define PG_VERSION_COLS "key_id, version, state, spki, handle, cert_chain_pem, created_at, " \
	"destroyed_at"
#define PG_REQUEST_COLS "id, tenant_id, principal_id, key_id, key_version, policy, hash_alg, " \
	"sig_scheme, sig_format, pss_salt_len, digest, context, timestamp, metadata_json, " \
	"status, error, signature_id, original_request_id, client_ip, client_type, attempts, " \
	"created_at, updated_at, description, approvals_required, approval_deadline, " \
	"next_attempt_at, lease_until, idempotency_key, body_hash"
#define PG_REQUEST_PARAMS "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, " \
	"$16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30"
#define PG_SIGNATURE_COLS "id, request_id, tenant_id, key_id, key_version, hash_alg, " \
	"sig_scheme, sig_format, digest, signature, timestamp_token, metadata_json, " \
	"created_by, client_ip, client_type, created_at"
#define PG_POLICY_COLS "id, tenant_id, project, slug, key_id, allowed_hash_algorithms, " \
	"allowed_signature_algorithms, allow_fast, approvals_required, approvers, " \
	"approval_timeout_seconds, required_metadata, allow_legacy_hashes, timestamp, created_at"
#define PG_APPROVAL_COLS "request_id, tenant_id, approver_id, decision, comment, created_at"
#define PG_AUDIT_COLS "seq, tenant_id, ts, actor, action, object, details, prev_hash, hash"
#define PG_WEBHOOK_COLS "id, tenant_id, url, events, secret, sealed, created_at"
#define PG_DELIVERY_COLS "id, tenant_id, webhook_id, recipient, event, request_id, key_id, " \
	"audit_seq, body, status, attempts, last_status, last_error, next_attempt_at, created_at, " \
	"updated_at"
/* The last condition of key_versions statements: the key is the tenant's. */
#define PG_VERSION_OF_TENANT(n) \
	" AND EXISTS (SELECT 1 FROM keys WHERE keys.id = key_versions.key_id AND keys.tenant_id = $" n ")"


/*
 * Parameters whose type the server cannot infer from the statement (a
 * SELECT list, "$n IS NULL", arithmetic) carry a cast.  Lists sorted by
 * text sort with COLLATE "C" (byte order, as SQLite), whatever the
 * database's collation; the queue and outbox claims keep the index order
 * (their order within one millisecond is not part of any answer).
 */
const pg_stmt pg_stmts[PG_STMT_COUNT] = {
	[PG_PING] = { "ping", "SELECT 1" },
	[PG_TENANT_INSERT] = { "tenant_insert",
	    "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)" },
	[PG_TENANT_GET] = { "tenant_get",
	    "SELECT id, name, created_at FROM tenants WHERE id = $1" },
	[PG_TENANT_GET_BY_NAME] = { "tenant_get_by_name",
	    "SELECT id, name, created_at FROM tenants WHERE name = $1" },
	[PG_PRINCIPAL_INSERT] = { "principal_insert",
	    "INSERT INTO principals (" PG_PRINCIPAL_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	[PG_PRINCIPAL_GET] = { "principal_get",
	    "SELECT " PG_PRINCIPAL_COLS " FROM principals WHERE tenant_id = $1 AND id = $2" },
	[PG_PRINCIPAL_LIST] = { "principal_list",
	    "SELECT " PG_PRINCIPAL_COLS " FROM principals WHERE tenant_id = $1"
	    " ORDER BY created_at, name COLLATE \"C\"" },
	[PG_PRINCIPAL_REVOKE_KEYS] = { "principal_revoke_keys",
	    "UPDATE api_keys SET revoked_at = $1"
	    " WHERE tenant_id = $2 AND principal_id = $3 AND revoked_at = 0" },
	[PG_PRINCIPAL_DELETE_CERTS] = { "principal_delete_certs",
	    "DELETE FROM client_certs WHERE tenant_id = $1 AND principal_id = $2" },
	[PG_PRINCIPAL_DELETE] = { "principal_delete",
	    "DELETE FROM principals WHERE tenant_id = $1 AND id = $2" },
	[PG_PRINCIPAL_UPDATE] = { "principal_update",
	    "UPDATE principals SET roles = $1, default_policy = $2, email = $3"
	    " WHERE tenant_id = $4 AND id = $5" },
	[PG_API_KEY_INSERT] = { "api_key_insert",
	    "INSERT INTO api_keys (" PG_API_KEY_COLS ")"
	    " SELECT $1::text, $2::text, $3::text, $4::text, $5::bytea, $6::bigint, $7::bigint"
	    " WHERE EXISTS (SELECT 1 FROM principals WHERE id = $2 AND tenant_id = $3)" },
	[PG_API_KEY_FIND] = { "api_key_find",
	    "SELECT " PG_API_KEY_COLS " FROM api_keys WHERE prefix = $1" },
	[PG_API_KEY_LIST] = { "api_key_list",
	    "SELECT " PG_API_KEY_COLS " FROM api_keys"
	    " WHERE tenant_id = $1 AND ($2::text IS NULL OR principal_id = $2::text)"
	    " ORDER BY created_at, id COLLATE \"C\"" },
	[PG_API_KEY_REVOKE] = { "api_key_revoke",
	    "UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN $1::bigint"
	    " ELSE revoked_at END WHERE tenant_id = $2 AND id = $3" },
	[PG_CERT_INSERT] = { "client_cert_insert",
	    "INSERT INTO client_certs (" PG_CERT_COLS ")"
	    " SELECT $1::text, $2::text, $3::text, $4::bytea, $5::text, $6::bigint"
	    " WHERE EXISTS (SELECT 1 FROM principals WHERE id = $2 AND tenant_id = $3)" },
	[PG_CERT_FIND] = { "client_cert_find",
	    "SELECT " PG_CERT_COLS " FROM client_certs WHERE fingerprint = $1" },
	[PG_KEY_INSERT] = { "key_insert",
	    "INSERT INTO keys (" PG_KEY_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)" },
	/* Id first, so that an id wins over an alias that looks like another key's id. */
	[PG_KEY_GET] = { "key_get",
	    "SELECT " PG_KEY_COLS " FROM keys WHERE tenant_id = $1 AND id = $2" },
	[PG_KEY_GET_ALIAS] = { "key_get_alias",
	    "SELECT " PG_KEY_COLS " FROM keys WHERE tenant_id = $1 AND alias = $2" },
	[PG_KEY_LIST] = { "key_list",
	    "SELECT " PG_KEY_COLS " FROM keys WHERE tenant_id = $1"
	    " ORDER BY created_at, alias COLLATE \"C\"" },
	[PG_KEY_SET_STATUS] = { "key_set_status",
	    "UPDATE keys SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4" },
	/* Locks the key until commit: two rotations of one key queue up. */
	[PG_KEY_CURRENT] = { "key_current",
	    "SELECT current_version FROM keys WHERE tenant_id = $1 AND id = $2 FOR UPDATE" },
	[PG_KEY_SET_CURRENT] = { "key_set_current",
	    "UPDATE keys SET current_version = $1, updated_at = $2 WHERE id = $3" },
	[PG_VERSION_INSERT] = { "key_version_insert",
	    "INSERT INTO key_versions (" PG_VERSION_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)" },
	[PG_VERSION_GET] = { "key_version_get",
	    "SELECT " PG_VERSION_COLS " FROM key_versions WHERE key_id = $1 AND version = $2"
	    PG_VERSION_OF_TENANT("3") },
	[PG_VERSION_LIST] = { "key_version_list",
	    "SELECT " PG_VERSION_COLS " FROM key_versions WHERE key_id = $1"
	    PG_VERSION_OF_TENANT("2") " ORDER BY version" },
	[PG_VERSION_DESTROY] = { "key_version_destroy",
	    "UPDATE key_versions SET handle = NULL, state = 'DESTROYED', destroyed_at = $1"
	    " WHERE key_id = $2 AND version = $3 AND state <> 'DESTROYED'" PG_VERSION_OF_TENANT("4") },
	[PG_VERSION_EXISTS] = { "key_version_exists",
	    "SELECT 1 FROM key_versions WHERE key_id = $1 AND version = $2" PG_VERSION_OF_TENANT("3") },
	[PG_VERSION_SET_CERT] = { "key_version_set_cert",
	    "UPDATE key_versions SET cert_chain_pem = $1 WHERE key_id = $2 AND version = $3"
	    PG_VERSION_OF_TENANT("4") },
	/*
	 * A request is re-written as it moves through its states; its tenant,
	 * submitter, creation time and idempotency key never change.  An id of
	 * another tenant, or a request already SIGNED, updates nothing (a
	 * conflict): a request is signed once on record.  A PROCESSING request
	 * is updated only by the worker of its current claim (the attempts
	 * value its claim gave), and only a PROCESSING request may become
	 * SIGNED over an existing row: a worker whose lease ran out and was
	 * claimed again, or whose request another worker failed, is fenced out.
	 */
	[PG_REQUEST_UPSERT] = { "request_upsert",
	    "INSERT INTO requests (" PG_REQUEST_COLS ") VALUES (" PG_REQUEST_PARAMS ")"
	    " ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id,"
	    " key_version = excluded.key_version, policy = excluded.policy,"
	    " hash_alg = excluded.hash_alg, sig_scheme = excluded.sig_scheme,"
	    " sig_format = excluded.sig_format, pss_salt_len = excluded.pss_salt_len,"
	    " digest = excluded.digest, context = excluded.context,"
	    " timestamp = excluded.timestamp, metadata_json = excluded.metadata_json,"
	    " status = excluded.status, error = excluded.error,"
	    " signature_id = excluded.signature_id,"
	    " original_request_id = excluded.original_request_id,"
	    " client_ip = excluded.client_ip, client_type = excluded.client_type,"
	    " attempts = excluded.attempts, updated_at = excluded.updated_at,"
	    " description = excluded.description,"
	    " approvals_required = excluded.approvals_required,"
	    " approval_deadline = excluded.approval_deadline,"
	    " next_attempt_at = excluded.next_attempt_at, lease_until = excluded.lease_until"
	    " WHERE requests.tenant_id = excluded.tenant_id AND requests.status <> 'SIGNED'"
	    " AND (requests.status <> 'PROCESSING' OR requests.attempts = excluded.attempts)"
	    " AND (excluded.status <> 'SIGNED' OR requests.status = 'PROCESSING')" },
	[PG_REQUEST_GET] = { "request_get",
	    "SELECT " PG_REQUEST_COLS " FROM requests WHERE tenant_id = $1 AND id = $2" },
	[PG_SIGNATURE_INSERT] = { "signature_insert",
	    "INSERT INTO signatures (" PG_SIGNATURE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
	    " $9, $10, $11, $12, $13, $14, $15, $16)" },
	[PG_SIGNATURE_GET] = { "signature_get",
	    "SELECT " PG_SIGNATURE_COLS " FROM signatures WHERE tenant_id = $1 AND id = $2" },
	[PG_REQUEST_INSERT] = { "request_insert",
	    "INSERT INTO requests (" PG_REQUEST_COLS ") VALUES (" PG_REQUEST_PARAMS ")" },
	[PG_REQUEST_EXISTS] = { "request_exists",
	    "SELECT 1 FROM requests WHERE tenant_id = $1 AND id = $2" },
	[PG_REQUEST_LIST] = { "request_list",
	    "SELECT " PG_REQUEST_COLS " FROM requests"
	    " WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2::text)"
	    " ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT $3" },
	/*
	 * Rows another node is claiming right now are skipped, not waited for;
	 * a PROCESSING row whose lease ran out is due again (its worker died).
	 * The UPDATE states the condition again: a row another claim changed
	 * after this statement's snapshot is re-checked against it in its newest
	 * version (without it, test_store_pg saw rows claimed twice).  The
	 * expiry sweep and the outbox claims below do the same.
	 */
	[PG_REQUEST_CLAIM] = { "request_claim",
	    "WITH due AS (SELECT id AS due_id FROM requests"
	    "  WHERE status IN ('QUEUED', 'PROCESSING') AND ((status = 'QUEUED' AND next_attempt_at <= $1)"
	    "  OR (status = 'PROCESSING' AND lease_until <= $1))"
	    "  ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
	    " UPDATE requests SET status = 'PROCESSING', lease_until = $1::bigint + $2::bigint,"
	    " attempts = attempts + 1, updated_at = $1"
	    " FROM due WHERE id = due.due_id AND ((status = 'QUEUED' AND next_attempt_at <= $1)"
	    " OR (status = 'PROCESSING' AND lease_until <= $1)) RETURNING " PG_REQUEST_COLS },
	[PG_REQUEST_TRANSITION] = { "request_transition",
	    "UPDATE requests SET status = $1::text, error = $2, next_attempt_at = $3, updated_at = $4,"
	    " lease_until = CASE WHEN $1::text = 'PROCESSING' THEN lease_until ELSE 0 END"
	    " WHERE tenant_id = $5 AND id = $6 AND status = $7 AND ($8::bigint <= 0 OR attempts = $8)" },
	[PG_REQUEST_COUNT] = { "request_count",
	    "SELECT count(*) FROM requests WHERE status = $1" },
	[PG_REQUEST_FIND_IDEMPOTENT] = { "request_find_idempotent",
	    "SELECT " PG_REQUEST_COLS " FROM requests"
	    " WHERE principal_id = $1 AND idempotency_key = $2 AND tenant_id = $3" },
	[PG_IDEMPOTENCY_PURGE] = { "idempotency_purge",
	    "UPDATE requests SET idempotency_key = NULL"
	    " WHERE idempotency_key IS NOT NULL AND created_at < $1" },
	/* The lock that serialises votes on one request across nodes. */
	[PG_REQUEST_VOTE_INFO] = { "request_vote_info",
	    "SELECT principal_id, status, approvals_required, approval_deadline FROM requests"
	    " WHERE tenant_id = $1 AND id = $2 FOR UPDATE" },
	[PG_REQUEST_SET_STATUS] = { "request_set_status",
	    "UPDATE requests SET status = $1, next_attempt_at = $2, updated_at = $3 WHERE id = $4" },
	[PG_REQUEST_EXPIRE] = { "request_expire",
	    "WITH due AS (SELECT id AS due_id FROM requests"
	    "  WHERE status = 'PENDING_APPROVAL' AND approval_deadline > 0"
	    "  AND approval_deadline <= $1 FOR UPDATE SKIP LOCKED)"
	    " UPDATE requests SET status = $2, error = $3, updated_at = $1"
	    " FROM due WHERE id = due.due_id AND status = 'PENDING_APPROVAL'"
	    " AND approval_deadline > 0 AND approval_deadline <= $1 RETURNING " PG_REQUEST_COLS },
	[PG_POLICY_INSERT] = { "policy_insert",
	    "INSERT INTO policies (" PG_POLICY_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
	    " $10, $11, $12, $13, $14, $15)" },
	[PG_POLICY_GET] = { "policy_get",
	    "SELECT " PG_POLICY_COLS " FROM policies"
	    " WHERE tenant_id = $1 AND project = $2 AND slug = $3" },
	[PG_POLICY_LIST] = { "policy_list",
	    "SELECT " PG_POLICY_COLS " FROM policies WHERE tenant_id = $1 ORDER BY project COLLATE \"C\","
	    " slug COLLATE \"C\"" },
	[PG_APPROVAL_INSERT] = { "approval_insert",
	    "INSERT INTO approvals (" PG_APPROVAL_COLS ") VALUES ($1, $2, $3, $4, $5, $6)" },
	[PG_APPROVAL_COUNT] = { "approval_count",
	    "SELECT count(*) FROM approvals WHERE request_id = $1 AND decision = 'APPROVED'" },
	[PG_APPROVAL_LIST] = { "approval_list",
	    "SELECT " PG_APPROVAL_COLS " FROM approvals WHERE tenant_id = $1 AND request_id = $2"
	    " ORDER BY created_at, approver_id COLLATE \"C\"" },
	[PG_AUDIT_HEAD] = { "audit_head",
	    "SELECT seq, hash FROM chain_heads WHERE tenant_id = $1" },
	/*
	 * The head, created (seq 0, zero hash) if the chain is new, and locked
	 * until commit in either case: the next append of the tenant on any
	 * node waits here, so no two entries get the same seq.
	 */
	[PG_AUDIT_LOCK_HEAD] = { "audit_lock_head",
	    "INSERT INTO chain_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)"
	    " ON CONFLICT (tenant_id) DO UPDATE SET seq = chain_heads.seq RETURNING seq, hash" },
	[PG_AUDIT_INSERT] = { "audit_insert",
	    "INSERT INTO audit_log (" PG_AUDIT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)" },
	[PG_AUDIT_SET_HEAD] = { "audit_set_head",
	    "UPDATE chain_heads SET seq = $2, hash = $3 WHERE tenant_id = $1" },
	[PG_AUDIT_LIST] = { "audit_list",
	    "SELECT " PG_AUDIT_COLS " FROM audit_log WHERE tenant_id = $1 AND seq > $2"
	    " ORDER BY seq LIMIT $3" },
	[PG_WEBHOOK_INSERT] = { "webhook_insert",
	    "INSERT INTO webhooks (" PG_WEBHOOK_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	[PG_WEBHOOK_LIST] = { "webhook_list",
	    "SELECT " PG_WEBHOOK_COLS " FROM webhooks WHERE tenant_id = $1 ORDER BY created_at,"
	    " id COLLATE \"C\"" },
	[PG_WEBHOOK_GET] = { "webhook_get",
	    "SELECT " PG_WEBHOOK_COLS " FROM webhooks WHERE tenant_id = $1 AND id = $2" },
	[PG_WEBHOOK_DELETE] = { "webhook_delete",
	    "DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2" },
	[PG_WEBHOOK_DELETE_DELIVERIES] = { "webhook_delete_deliveries",
	    "DELETE FROM deliveries WHERE tenant_id = $1 AND webhook_id = $2" },
	[PG_WEBHOOK_UNSEALED] = { "webhook_unsealed",
	    "SELECT " PG_WEBHOOK_COLS " FROM webhooks WHERE sealed = 0 ORDER BY created_at,"
	    " id COLLATE \"C\"" },
	[PG_WEBHOOK_SEAL] = { "webhook_seal",
	    "UPDATE webhooks SET secret = $1, sealed = 1 WHERE tenant_id = $2 AND id = $3"
	    " AND sealed = 0" },
	[PG_NOTIFY_BEHIND] = { "notify_behind",
	    "SELECT h.tenant_id, coalesce(c.seq, 0), h.seq FROM chain_heads h"
	    " LEFT JOIN notify_cursors c ON c.tenant_id = h.tenant_id"
	    " WHERE h.tenant_id <> '' AND h.seq > coalesce(c.seq, 0) ORDER BY h.tenant_id COLLATE \"C\"" },
	[PG_NOTIFY_SET_CURSOR] = { "notify_set_cursor",
	    "INSERT INTO notify_cursors (tenant_id, seq) VALUES ($1, $2)"
	    " ON CONFLICT (tenant_id) DO UPDATE SET seq = greatest(notify_cursors.seq, excluded.seq)" },
	[PG_DELIVERY_INSERT] = { "delivery_insert",
	    "INSERT INTO deliveries (" PG_DELIVERY_COLS ")"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
	    " ON CONFLICT DO NOTHING" },
	[PG_DELIVERY_CLAIM] = { "delivery_claim",
	    "WITH due AS (SELECT id AS due_id FROM deliveries"
	    "  WHERE status = 'PENDING' AND next_attempt_at <= $1"
	    "  ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
	    " UPDATE deliveries SET next_attempt_at = $1::bigint + $2::bigint"
	    " FROM due WHERE id = due.due_id AND status = 'PENDING' AND next_attempt_at <= $1"
	    " RETURNING " PG_DELIVERY_COLS },
	[PG_DELIVERY_FINISH] = { "delivery_finish",
	    "UPDATE deliveries SET status = $1, attempts = $2, last_status = $3, last_error = $4,"
	    " next_attempt_at = $5, updated_at = $6 WHERE id = $7 AND tenant_id = $8" },
	[PG_DELIVERY_LIST] = { "delivery_list",
	    "SELECT " PG_DELIVERY_COLS " FROM deliveries WHERE tenant_id = $1 AND webhook_id = $2"
	    " ORDER BY created_at DESC, audit_seq DESC LIMIT $3" },
	[PG_TSA_KEY_GET] = { "tsa_key_get",
	    "SELECT alg, storage, handle, cert_pem, created_at FROM tsa_key WHERE id = 1" },
	[PG_TSA_KEY_INSERT] = { "tsa_key_insert",
	    "INSERT INTO tsa_key (id, alg, storage, handle, cert_pem, created_at)"
	    " VALUES (1, $1, $2, $3, $4, $5)" },
	[PG_TSA_SERIAL_NEXT] = { "tsa_serial_next", "SELECT nextval('tsa_serial')" },
};
const size_t pg_nstmts = PG_STMT_COUNT;

