/*
 * sqlite_stmts.c - every SQL statement the SQLite back-end runs, by
 * sq_stmt_id.  Each connection prepares a statement on first use and keeps it
 * (sq_prepare in sqlite_conn.c), so the sign path never parses SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

const sq_stmt_def sq_stmts[SQ_STMT_COUNT] = {
	[SQ_BEGIN] = { "begin", "BEGIN IMMEDIATE" },
	[SQ_COMMIT] = { "commit", "COMMIT" },
	[SQ_ROLLBACK] = { "rollback", "ROLLBACK" },
	[SQ_PING] = { "ping", "SELECT count(*) FROM (SELECT 1 FROM tenants LIMIT 1)" },
	[SQ_TENANT_INSERT] = { "tenant_insert",
	    "INSERT INTO tenants (" SQ_TENANT_COLS ") VALUES (?, ?, ?)" },
	[SQ_TENANT_GET] = { "tenant_get",
	    "SELECT " SQ_TENANT_COLS " FROM tenants WHERE id = ?" },
	[SQ_TENANT_GET_BY_NAME] = { "tenant_get_by_name",
	    "SELECT " SQ_TENANT_COLS " FROM tenants WHERE name = ?" },
	[SQ_PRINCIPAL_INSERT] = { "principal_insert",
	    "INSERT INTO principals (" SQ_PRINCIPAL_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?)" },
	[SQ_PRINCIPAL_GET] = { "principal_get",
	    "SELECT " SQ_PRINCIPAL_COLS " FROM principals WHERE tenant_id = ? AND id = ?" },
	[SQ_PRINCIPAL_LIST] = { "principal_list",
	    "SELECT " SQ_PRINCIPAL_COLS " FROM principals WHERE tenant_id = ?"
	    " ORDER BY created_at, name" },
	[SQ_PRINCIPAL_REVOKE_KEYS] = { "principal_revoke_keys",
	    "UPDATE api_keys SET revoked_at = ?"
	    " WHERE tenant_id = ? AND principal_id = ? AND revoked_at = 0" },
	[SQ_PRINCIPAL_DELETE_CERTS] = { "principal_delete_certs",
	    "DELETE FROM client_certs WHERE tenant_id = ? AND principal_id = ?" },
	[SQ_PRINCIPAL_DELETE] = { "principal_delete",
	    "DELETE FROM principals WHERE tenant_id = ? AND id = ?" },
	[SQ_PRINCIPAL_UPDATE] = { "principal_update",
	    "UPDATE principals SET roles = ?, default_policy = ?, email = ? WHERE tenant_id = ? AND id = ?" },
	/* Inserted only when the principal exists in that tenant. */
	[SQ_API_KEY_INSERT] = { "api_key_insert",
	    "INSERT INTO api_keys (" SQ_API_KEY_COLS ")"
	    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7"
	    " WHERE EXISTS (SELECT 1 FROM principals WHERE id = ?2 AND tenant_id = ?3)" },
	[SQ_API_KEY_FIND] = { "api_key_find",
	    "SELECT " SQ_API_KEY_COLS " FROM api_keys WHERE prefix = ?" },
	[SQ_API_KEY_LIST] = { "api_key_list",
	    "SELECT " SQ_API_KEY_COLS " FROM api_keys"
	    " WHERE tenant_id = ?1 AND (?2 IS NULL OR principal_id = ?2)"
	    " ORDER BY created_at, id" },
	/* Revoking twice keeps the first revocation time. */
	[SQ_API_KEY_REVOKE] = { "api_key_revoke",
	    "UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ?1 ELSE revoked_at END"
	    " WHERE tenant_id = ?2 AND id = ?3" },
	[SQ_CERT_INSERT] = { "client_cert_insert",
	    "INSERT INTO client_certs (" SQ_CERT_COLS ")"
	    " SELECT ?1, ?2, ?3, ?4, ?5, ?6"
	    " WHERE EXISTS (SELECT 1 FROM principals WHERE id = ?2 AND tenant_id = ?3)" },
	[SQ_CERT_FIND] = { "client_cert_find",
	    "SELECT " SQ_CERT_COLS " FROM client_certs WHERE fingerprint = ?" },
	[SQ_KEY_INSERT] = { "key_insert",
	    "INSERT INTO keys (" SQ_KEY_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" },
	/*
	 * Two plain index lookups, id first so that an id wins over an alias
	 * that happens to look like another key's id.  (One query with
	 * "id = ? OR alias = ?" made SQLite plan a multi-index OR and a sort,
	 * four times the cost, on the hot sign path.)
	 */
	[SQ_KEY_GET] = { "key_get",
	    "SELECT " SQ_KEY_COLS " FROM keys WHERE tenant_id = ? AND id = ?" },
	[SQ_KEY_GET_ALIAS] = { "key_get_alias",
	    "SELECT " SQ_KEY_COLS " FROM keys WHERE tenant_id = ? AND alias = ?" },
	[SQ_KEY_LIST] = { "key_list",
	    "SELECT " SQ_KEY_COLS " FROM keys WHERE tenant_id = ? ORDER BY created_at, alias" },
	[SQ_KEY_SET_STATUS] = { "key_set_status",
	    "UPDATE keys SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ?" },
	[SQ_KEY_CURRENT] = { "key_current",
	    "SELECT current_version FROM keys WHERE tenant_id = ? AND id = ?" },
	[SQ_KEY_SET_CURRENT] = { "key_set_current",
	    "UPDATE keys SET current_version = ?, updated_at = ? WHERE id = ?" },
	[SQ_VERSION_INSERT] = { "key_version_insert",
	    "INSERT INTO key_versions (" SQ_VERSION_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)" },
	/*
	 * Versions belong to their key's tenant: each statement below ends in
	 * SQ_VERSION_OF_TENANT, so another tenant's key id matches no row,
	 * exactly like a missing one.
	 */
	[SQ_VERSION_GET] = { "key_version_get",
	    "SELECT " SQ_VERSION_COLS " FROM key_versions WHERE key_id = ? AND version = ?"
	    SQ_VERSION_OF_TENANT },
	[SQ_VERSION_LIST] = { "key_version_list",
	    "SELECT " SQ_VERSION_COLS " FROM key_versions WHERE key_id = ?"
	    SQ_VERSION_OF_TENANT " ORDER BY version" },
	[SQ_VERSION_WIPE] = { "key_version_wipe",
	    "UPDATE key_versions SET handle = zeroblob(length(handle))"
	    " WHERE key_id = ? AND version = ? AND handle IS NOT NULL" SQ_VERSION_OF_TENANT },
	[SQ_VERSION_DESTROY] = { "key_version_destroy",
	    "UPDATE key_versions SET handle = NULL, state = 'DESTROYED', destroyed_at = ?"
	    " WHERE key_id = ? AND version = ? AND state <> 'DESTROYED'" SQ_VERSION_OF_TENANT },
	[SQ_VERSION_EXISTS] = { "key_version_exists",
	    "SELECT 1 FROM key_versions WHERE key_id = ? AND version = ?" SQ_VERSION_OF_TENANT },
	[SQ_VERSION_SET_CERT] = { "key_version_set_cert",
	    "UPDATE key_versions SET cert_chain_pem = ? WHERE key_id = ? AND version = ?"
	    SQ_VERSION_OF_TENANT },
	/*
	 * A request is re-written as it moves through its states; its tenant,
	 * submitter, creation time and idempotency key never change.  An id that
	 * belongs to another tenant, or a request already SIGNED, updates
	 * nothing (reported as a conflict): a request is signed once on record.
	 * A PROCESSING request is updated only by the worker of its current
	 * claim (the attempts value its claim gave), and only a PROCESSING
	 * request may become SIGNED over an existing row (lease fencing, see
	 * pg_stmts.c).
	 */
	[SQ_REQUEST_UPSERT] = { "request_upsert",
	    "INSERT INTO requests (" SQ_REQUEST_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
	[SQ_REQUEST_GET] = { "request_get",
	    "SELECT " SQ_REQUEST_COLS " FROM requests WHERE tenant_id = ? AND id = ?" },
	[SQ_SIGNATURE_INSERT] = { "signature_insert",
	    "INSERT INTO signatures (" SQ_SIGNATURE_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?, ?, ?)" },
	[SQ_SIGNATURE_GET] = { "signature_get",
	    "SELECT " SQ_SIGNATURE_COLS " FROM signatures WHERE tenant_id = ? AND id = ?" },
	[SQ_REQUEST_INSERT] = { "request_insert",
	    "INSERT INTO requests (" SQ_REQUEST_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" },
	[SQ_REQUEST_EXISTS] = { "request_exists",
	    "SELECT 1 FROM requests WHERE tenant_id = ? AND id = ?" },
	[SQ_REQUEST_LIST] = { "request_list",
	    "SELECT " SQ_REQUEST_COLS " FROM requests"
	    " WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2)"
	    " ORDER BY created_at DESC, id DESC LIMIT ?3" },
	/* RETURNING gives the rows in no particular order; the caller sorts them. */
	[SQ_REQUEST_CLAIM] = { "request_claim",
	    "UPDATE requests SET status = 'PROCESSING', lease_until = ?1 + ?2,"
	    " attempts = attempts + 1, updated_at = ?1"
	    " WHERE id IN (SELECT id FROM requests"
	    "  WHERE (status = 'QUEUED' AND next_attempt_at <= ?1)"
	    "  OR (status = 'PROCESSING' AND lease_until <= ?1)"
	    "  ORDER BY created_at, id LIMIT ?3)"
	    " RETURNING " SQ_REQUEST_COLS },
	[SQ_REQUEST_TRANSITION] = { "request_transition",
	    "UPDATE requests SET status = ?1, error = ?2, next_attempt_at = ?3, updated_at = ?4,"
	    " lease_until = CASE WHEN ?1 = 'PROCESSING' THEN lease_until ELSE 0 END"
	    " WHERE tenant_id = ?5 AND id = ?6 AND status = ?7 AND (?8 <= 0 OR attempts = ?8)" },
	[SQ_REQUEST_COUNT] = { "request_count",
	    "SELECT count(*) FROM requests WHERE status = ?" },
	[SQ_REQUEST_FIND_IDEMPOTENT] = { "request_find_idempotent",
	    "SELECT " SQ_REQUEST_COLS " FROM requests"
	    " WHERE principal_id = ? AND idempotency_key = ? AND tenant_id = ?" },
	[SQ_IDEMPOTENCY_PURGE] = { "idempotency_purge",
	    "UPDATE requests SET idempotency_key = NULL"
	    " WHERE idempotency_key IS NOT NULL AND created_at < ?" },
	[SQ_REQUEST_VOTE_INFO] = { "request_vote_info",
	    "SELECT principal_id, status, approvals_required, approval_deadline FROM requests"
	    " WHERE tenant_id = ? AND id = ?" },
	[SQ_REQUEST_SET_STATUS] = { "request_set_status",
	    "UPDATE requests SET status = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?" },
	[SQ_REQUEST_EXPIRE] = { "request_expire",
	    "UPDATE requests SET status = ?2, error = ?3, updated_at = ?1"
	    " WHERE status = 'PENDING_APPROVAL' AND approval_deadline > 0"
	    " AND approval_deadline <= ?1"
	    " RETURNING " SQ_REQUEST_COLS },
	[SQ_POLICY_INSERT] = { "policy_insert",
	    "INSERT INTO policies (" SQ_POLICY_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?)" },
	[SQ_POLICY_GET] = { "policy_get",
	    "SELECT " SQ_POLICY_COLS " FROM policies WHERE tenant_id = ? AND project = ? AND slug = ?" },
	[SQ_POLICY_LIST] = { "policy_list",
	    "SELECT " SQ_POLICY_COLS " FROM policies WHERE tenant_id = ? ORDER BY project, slug" },
	[SQ_APPROVAL_INSERT] = { "approval_insert",
	    "INSERT INTO approvals (" SQ_APPROVAL_COLS ") VALUES (?, ?, ?, ?, ?, ?)" },
	[SQ_APPROVAL_COUNT] = { "approval_count",
	    "SELECT count(*) FROM approvals WHERE request_id = ? AND decision = 'APPROVED'" },
	[SQ_APPROVAL_LIST] = { "approval_list",
	    "SELECT " SQ_APPROVAL_COLS " FROM approvals WHERE tenant_id = ? AND request_id = ?"
	    " ORDER BY created_at, approver_id" },
	[SQ_AUDIT_HEAD] = { "audit_head",
	    "SELECT seq, hash FROM chain_heads WHERE tenant_id = ?" },
	[SQ_AUDIT_INSERT] = { "audit_insert",
	    "INSERT INTO audit_log (" SQ_AUDIT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" },
	[SQ_AUDIT_SET_HEAD] = { "audit_set_head",
	    "INSERT INTO chain_heads (tenant_id, seq, hash) VALUES (?, ?, ?)"
	    " ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash" },
	[SQ_AUDIT_LIST] = { "audit_list",
	    "SELECT " SQ_AUDIT_COLS " FROM audit_log WHERE tenant_id = ? AND seq > ?"
	    " ORDER BY seq LIMIT ?" },
	/* notifications (issue 15) */
	[SQ_WEBHOOK_INSERT] = { "webhook_insert",
	    "INSERT INTO webhooks (" SQ_WEBHOOK_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?)" },
	[SQ_WEBHOOK_LIST] = { "webhook_list",
	    "SELECT " SQ_WEBHOOK_COLS " FROM webhooks WHERE tenant_id = ? ORDER BY created_at, id" },
	[SQ_WEBHOOK_GET] = { "webhook_get",
	    "SELECT " SQ_WEBHOOK_COLS " FROM webhooks WHERE tenant_id = ? AND id = ?" },
	[SQ_WEBHOOK_DELETE] = { "webhook_delete",
	    "DELETE FROM webhooks WHERE tenant_id = ? AND id = ?" },
	[SQ_WEBHOOK_DELETE_DELIVERIES] = { "webhook_delete_deliveries",
	    "DELETE FROM deliveries WHERE tenant_id = ? AND webhook_id = ?" },
	[SQ_WEBHOOK_UNSEALED] = { "webhook_unsealed",
	    "SELECT " SQ_WEBHOOK_COLS " FROM webhooks WHERE sealed = 0 ORDER BY created_at, id" },
	[SQ_WEBHOOK_SEAL] = { "webhook_seal",
	    "UPDATE webhooks SET secret = ?, sealed = 1 WHERE tenant_id = ? AND id = ? AND sealed = 0" },
	[SQ_NOTIFY_BEHIND] = { "notify_behind",
	    "SELECT h.tenant_id, coalesce(c.seq, 0), h.seq FROM chain_heads h"
	    " LEFT JOIN notify_cursors c ON c.tenant_id = h.tenant_id"
	    " WHERE h.tenant_id <> '' AND h.seq > coalesce(c.seq, 0) ORDER BY h.tenant_id" },
	[SQ_NOTIFY_SET_CURSOR] = { "notify_set_cursor",
	    "INSERT INTO notify_cursors (tenant_id, seq) VALUES (?1, ?2)"
	    " ON CONFLICT (tenant_id) DO UPDATE SET seq = max(seq, excluded.seq)" },
	[SQ_DELIVERY_INSERT] = { "delivery_insert",
	    "INSERT OR IGNORE INTO deliveries (" SQ_DELIVERY_COLS ")"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" },
	[SQ_DELIVERY_DUE] = { "delivery_due",
	    "SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE status = 'PENDING'"
	    " AND next_attempt_at <= ? LIMIT 1)" },
	[SQ_DELIVERY_CLAIM] = { "delivery_claim",
	    "UPDATE deliveries SET next_attempt_at = ?1 + ?2"
	    " WHERE id IN (SELECT id FROM deliveries WHERE status = 'PENDING' AND next_attempt_at <= ?1"
	    "  ORDER BY next_attempt_at, id LIMIT ?3)"
	    " RETURNING " SQ_DELIVERY_COLS },
	[SQ_DELIVERY_FINISH] = { "delivery_finish",
	    "UPDATE deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?,"
	    " next_attempt_at = ?, updated_at = ? WHERE id = ? AND tenant_id = ?" },
	[SQ_DELIVERY_LIST] = { "delivery_list",
	    "SELECT " SQ_DELIVERY_COLS " FROM deliveries WHERE tenant_id = ? AND webhook_id = ?"
	    " ORDER BY created_at DESC, audit_seq DESC LIMIT ?" },
	[SQ_TSA_KEY_GET] = { "tsa_key_get",
	    "SELECT alg, storage, handle, cert_pem, created_at FROM tsa_key WHERE id = 1" },
	[SQ_TSA_KEY_INSERT] = { "tsa_key_insert",
	    "INSERT INTO tsa_key (id, alg, storage, handle, cert_pem, created_at)"
	    " VALUES (1, ?, ?, ?, ?, ?)" },
};
