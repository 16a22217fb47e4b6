/*
 * sqlite.c - the SQLite back-end of sg_store (sg_store_sqlite_open).
 *
 * One database file in WAL mode with synchronous=FULL, so a commit is on
 * disk when COMMIT returns.  Connections are used by one thread at a time
 * (SQLITE_OPEN_NOMUTEX) and guarded here: every write goes through the one
 * writer connection under writer_mu (SQLite admits one writer anyway), while
 * reads take any free connection from a small pool and run concurrently,
 * each on its own WAL snapshot.  Each connection caches its prepared
 * statements, prepared on first use, so the sign path never re-parses SQL.
 * The schema is versioned with PRAGMA user_version and brought up to date
 * by the migrations below, in order, inside one transaction.  Freed pages
 * are zeroed (secure_delete) and a destroyed key handle is overwritten
 * before it is dropped, so private-key material does not linger in the file.
 * Webhook secrets arrive sealed (src/notify/secrets.c); one an earlier
 * version stored in clear is replaced by its sealed blob at start, with a
 * checkpoint that truncates the write-ahead log (sq_webhook_seal).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_store.h"
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

/*
 * Migration i brings user_version from i to i + 1.  Append only: a shipped
 * migration is never edited, because databases in the field already ran it.
 * API keys and signatures keep a principal id without a foreign key on
 * purpose: a deleted principal's revoked keys and its signatures stay.
 */
static const char *const sq_migrations[] = {
	"CREATE TABLE tenants ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE principals ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" name TEXT NOT NULL,"
	" roles INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" UNIQUE (tenant_id, name));"
	"CREATE TABLE api_keys ("
	" id TEXT PRIMARY KEY,"
	" principal_id TEXT NOT NULL,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" prefix TEXT NOT NULL UNIQUE,"
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" created_at INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX api_keys_principal ON api_keys (tenant_id, principal_id);"
	"CREATE TABLE client_certs ("
	" id TEXT PRIMARY KEY,"
	" principal_id TEXT NOT NULL REFERENCES principals(id),"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" fingerprint BLOB NOT NULL UNIQUE CHECK (length(fingerprint) = 32),"
	" subject TEXT NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX client_certs_principal ON client_certs (principal_id);"
	"CREATE TABLE keys ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" alias TEXT NOT NULL,"
	" alg TEXT NOT NULL,"
	" storage TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" current_version INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" UNIQUE (tenant_id, alias));"
	"CREATE TABLE key_versions ("
	" key_id TEXT NOT NULL REFERENCES keys(id),"
	" version INTEGER NOT NULL CHECK (version >= 1),"
	" state TEXT NOT NULL,"
	" spki BLOB NOT NULL,"
	" handle BLOB,"
	" cert_chain_pem TEXT,"
	" created_at INTEGER NOT NULL,"
	" destroyed_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (key_id, version));"
	"CREATE TABLE requests ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" principal_id TEXT NOT NULL,"
	" key_id TEXT NOT NULL,"
	" key_version INTEGER NOT NULL,"
	" policy TEXT NOT NULL,"
	" hash_alg TEXT NOT NULL,"
	" sig_scheme TEXT NOT NULL,"
	" sig_format TEXT NOT NULL,"
	" pss_salt_len INTEGER NOT NULL,"
	" digest BLOB NOT NULL,"
	" context BLOB NOT NULL,"
	" timestamp INTEGER NOT NULL,"
	" metadata_json TEXT,"
	" status TEXT NOT NULL,"
	" error TEXT,"
	" signature_id TEXT NOT NULL,"
	" original_request_id TEXT NOT NULL,"
	" client_ip TEXT NOT NULL,"
	" client_type TEXT NOT NULL,"
	" attempts INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX requests_tenant ON requests (tenant_id, created_at);"
	"CREATE INDEX requests_status ON requests (status, created_at);"
	"CREATE TABLE signatures ("
	" id TEXT PRIMARY KEY,"
	" request_id TEXT NOT NULL REFERENCES requests(id),"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" key_id TEXT NOT NULL,"
	" key_version INTEGER NOT NULL,"
	" hash_alg TEXT NOT NULL,"
	" sig_scheme TEXT NOT NULL,"
	" sig_format TEXT NOT NULL,"
	" digest BLOB NOT NULL,"
	" signature BLOB NOT NULL,"
	" timestamp_token BLOB,"
	" metadata_json TEXT,"
	" created_by TEXT NOT NULL,"
	" client_ip TEXT NOT NULL,"
	" client_type TEXT NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX signatures_request ON signatures (request_id);"
	"CREATE INDEX signatures_tenant ON signatures (tenant_id, created_at);",

	/*
	 * 2: the workflow.  A request's idempotency key is NULL when it has none
	 * (or it was purged), so the unique index only binds live keys.  The
	 * audit log refuses UPDATE and DELETE; audit_heads keeps each chain's
	 * newest (seq, hash) so that cutting entries off the end shows too.  The
	 * service's own chain has tenant_id "", hence no foreign key there.
	 */
	"ALTER TABLE requests ADD COLUMN description TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE requests ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE requests ADD COLUMN approval_deadline INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE requests ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE requests ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE requests ADD COLUMN idempotency_key TEXT;"
	"ALTER TABLE requests ADD COLUMN body_hash BLOB;"
	"CREATE UNIQUE INDEX requests_idempotency ON requests (principal_id, idempotency_key)"
	" WHERE idempotency_key IS NOT NULL;"
	"CREATE TABLE policies ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" project TEXT NOT NULL,"
	" slug TEXT NOT NULL,"
	" key_id TEXT NOT NULL REFERENCES keys(id),"
	" allowed_hash_algorithms TEXT,"
	" allowed_signature_algorithms TEXT,"
	" allow_fast INTEGER NOT NULL,"
	" approvals_required INTEGER NOT NULL,"
	" approvers TEXT,"
	" approval_timeout_seconds INTEGER NOT NULL,"
	" required_metadata TEXT,"
	" allow_legacy_hashes INTEGER NOT NULL,"
	" timestamp INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" UNIQUE (tenant_id, project, slug));"
	"CREATE TABLE approvals ("
	" request_id TEXT NOT NULL REFERENCES requests(id),"
	" tenant_id TEXT NOT NULL,"
	" approver_id TEXT NOT NULL,"
	" decision TEXT NOT NULL CHECK (decision IN ('APPROVED', 'REJECTED')),"
	" comment TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY (request_id, approver_id));"
	"CREATE TABLE audit_log ("
	" tenant_id TEXT NOT NULL,"
	" seq INTEGER NOT NULL CHECK (seq >= 1),"
	" ts INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" details TEXT,"
	" prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),"
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" PRIMARY KEY (tenant_id, seq));"
	"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TABLE audit_heads ("
	" tenant_id TEXT PRIMARY KEY,"
	" seq INTEGER NOT NULL,"
	" hash BLOB NOT NULL CHECK (length(hash) = 32));",
	/* 3: principals gain a default policy (SPEC §4 C4) and an e-mail address. */
	"ALTER TABLE principals ADD COLUMN default_policy TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE principals ADD COLUMN email TEXT NOT NULL DEFAULT '';",
	/*
	 * 4: notifications (issue 15).  The dispatcher turns audit entries past
	 * each tenant's cursor into deliveries; existing tenants start at their
	 * chain head, so an upgrade does not replay history to new webhooks.
	 * A webhook's secret is an HMAC key used in clear for every delivery.
	 */
	"CREATE TABLE webhooks ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" url TEXT NOT NULL,"
	" events INTEGER NOT NULL,"
	" secret BLOB NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at);"
	"CREATE TABLE notify_cursors ("
	" tenant_id TEXT PRIMARY KEY,"
	" seq INTEGER NOT NULL);"
	"INSERT INTO notify_cursors (tenant_id, seq) SELECT tenant_id, seq FROM audit_heads;"
	"CREATE TABLE deliveries ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL,"
	" webhook_id TEXT NOT NULL,"
	" recipient TEXT NOT NULL,"
	" event TEXT NOT NULL,"
	" request_id TEXT NOT NULL,"
	" key_id TEXT NOT NULL,"
	" audit_seq INTEGER NOT NULL,"
	" body TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),"
	" attempts INTEGER NOT NULL,"
	" last_status INTEGER NOT NULL,"
	" last_error TEXT NOT NULL,"
	" next_attempt_at INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" UNIQUE (tenant_id, audit_seq, webhook_id, recipient));"
	"CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING';"
	"CREATE INDEX deliveries_webhook ON deliveries (webhook_id, created_at);",

	/*
	 * 5: fewer bytes per signature.  No query reads signatures by request
	 * or by tenant and time (a signature is found by its id, and a
	 * request names its signature), yet every signature paid for two more
	 * B-tree leaves in each group commit.  Add an index back with the
	 * query that needs it.
	 */
	"DROP INDEX IF EXISTS signatures_request; DROP INDEX IF EXISTS signatures_tenant;",

	/*
	 * 6: webhook secrets sealed at rest: from now on the secret column holds
	 * a blob sealed under the master key custody (sealed = 1).  Rows
	 * written before keep their clear secret (sealed = 0) until the server
	 * seals them at start (webhook_seal), which also leaves no clear copy
	 * in the files.
	 */
	"ALTER TABLE webhooks ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1));",

	/*
	 * 7: the time-stamp authority's key is a keystore key (SPEC §6): one
	 * row at most, never replaced, holding the keystore handle (a sealed
	 * blob or a CKA_ID, never a clear key) and the certificate.
	 */
	"CREATE TABLE tsa_key ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" alg TEXT NOT NULL,"
	" storage TEXT NOT NULL CHECK (storage IN ('DISK', 'HSM')),"
	" handle BLOB NOT NULL,"
	" cert_pem TEXT NOT NULL,"
	" created_at INTEGER NOT NULL);",
};

#define SQ_SCHEMA_VERSION ((int)(sizeof(sq_migrations) / sizeof(sq_migrations[0])))

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

static const struct {
	const char *name;  /* for the log */
	const char *sql;
} sq_stmts[SQ_STMT_COUNT] = {
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
	    " WHERE requests.tenant_id = excluded.tenant_id AND requests.status <> 'SIGNED'" },
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
	    " WHERE tenant_id = ?5 AND id = ?6 AND status = ?7" },
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
	    "SELECT seq, hash FROM audit_heads WHERE tenant_id = ?" },
	[SQ_AUDIT_INSERT] = { "audit_insert",
	    "INSERT INTO audit_log (" SQ_AUDIT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" },
	[SQ_AUDIT_SET_HEAD] = { "audit_set_head",
	    "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, ?, ?)"
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
	    "SELECT h.tenant_id, coalesce(c.seq, 0), h.seq FROM audit_heads h"
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

/* Map an SQLite result code to an sg_err, logging what is not the caller's fault. */
static int
sq_err(const sq_conn *c, int rc, const char *what)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		sg_debug("store: %s: %s", what, sqlite3_errmsg(c->db));
		return SG_ERR_CONFLICT;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		/* The tenant, principal, key or request referred to does not exist. */
		sg_debug("store: %s: %s", what, sqlite3_errmsg(c->db));
		return SG_ERR_NOT_FOUND;
	default:
		break;
	}
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
		sg_debug("store: %s: %s", what, sqlite3_errmsg(c->db));
		return SG_ERR_INVALID_ARGUMENT;
	case SQLITE_NOMEM:
		return SG_ERR_NOMEM;
	case SQLITE_TOOBIG:
		return SG_ERR_TOO_LARGE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
		sg_warn("store: %s: %s", what, sqlite3_errmsg(c->db));
		return SG_ERR_UNAVAILABLE;
	default:
		sg_error("store: %s: %s (%d)", what, sqlite3_errmsg(c->db), rc);
		return SG_ERR_STORE;
	}
}

static int
sq_prepare(sq_conn *c, enum sq_stmt_id id, sqlite3_stmt **out)
{
	if (c->stmt[id] == NULL) {
		int rc = sqlite3_prepare_v3(c->db, sq_stmts[id].sql, -1, SQLITE_PREPARE_PERSISTENT,
		    &c->stmt[id], NULL);
		if (rc != SQLITE_OK) {
			c->stmt[id] = NULL;
			return sq_err(c, rc, sq_stmts[id].name);
		}
	}
	*out = c->stmt[id];
	return SG_OK;
}

/* Make a cached statement ready for its next use; drops pointers to caller memory. */
static void
sq_finish(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static sq_conn *
sq_read_begin(sq_db *q)
{
	if (q->nreaders == 0) {
		pthread_mutex_lock(&q->writer_mu);
		return &q->writer;
	}
	pthread_mutex_lock(&q->pool_mu);
	while (q->nfree == 0)
		pthread_cond_wait(&q->pool_cv, &q->pool_mu);
	sq_conn *c = &q->readers[q->free_readers[--q->nfree]];
	pthread_mutex_unlock(&q->pool_mu);
	return c;
}

static void
sq_read_end(sq_db *q, sq_conn *c)
{
	if (c == NULL)
		return;
	if (q->nreaders == 0) {
		pthread_mutex_unlock(&q->writer_mu);
		return;
	}
	pthread_mutex_lock(&q->pool_mu);
	q->free_readers[q->nfree++] = (size_t)(c - q->readers);
	pthread_cond_signal(&q->pool_cv);
	pthread_mutex_unlock(&q->pool_mu);
}

static sq_conn *
sq_write_begin(sq_db *q)
{
	pthread_mutex_lock(&q->writer_mu);
	return &q->writer;
}

static void
sq_write_end(sq_db *q)
{
	pthread_mutex_unlock(&q->writer_mu);
}

/* ---- binding parameters ---- */

enum { SQ_T_NULL, SQ_T_TEXT, SQ_T_INT, SQ_T_BLOB };

typedef struct sq_arg {
	int type;
	const void *p;
	size_t n;
	int64_t i;
} sq_arg;

static sq_arg
sq_text_n(const char *s, size_t n)
{
	return (sq_arg){ .type = SQ_T_TEXT, .p = s, .n = n };
}

/* A NUL-terminated string; NULL binds SQL NULL. */
static sq_arg
sq_str(const char *s)
{
	if (s == NULL)
		return (sq_arg){ .type = SQ_T_NULL };
	return sq_text_n(s, strlen(s));
}

/* A fixed-size text field of a record, which may lack its NUL when full. */
#define SQ_FIELD(f) sq_text_n((f), strnlen((f), sizeof(f)))

static sq_arg
sq_int(int64_t v)
{
	return (sq_arg){ .type = SQ_T_INT, .i = v };
}

/* Bytes; NULL with n == 0 binds an empty blob, never SQL NULL. */
static sq_arg
sq_blob(const void *p, size_t n)
{
	return (sq_arg){ .type = SQ_T_BLOB, .p = p, .n = n };
}

/* Bytes, or SQL NULL when p is NULL. */
static sq_arg
sq_blob_or_null(const void *p, size_t n)
{
	if (p == NULL)
		return (sq_arg){ .type = SQ_T_NULL };
	return sq_blob(p, n);
}

#define SQ_NARGS(a) (sizeof(a) / sizeof((a)[0]))

/* Bind a[0..n-1] to parameters 1..n.  The memory must outlive the statement's use (SQLITE_STATIC). */
static int
sq_bind(sq_conn *c, sqlite3_stmt *st, const sq_arg *a, size_t n, const char *what)
{
	static const uint8_t empty[1];

	for (size_t k = 0; k < n; k++) {
		int idx = (int)k + 1;
		int rc;
		if (a[k].n > INT_MAX)
			return SG_ERR_TOO_LARGE;
		switch (a[k].type) {
		case SQ_T_TEXT:
			rc = sqlite3_bind_text(st, idx, a[k].p, (int)a[k].n, SQLITE_STATIC);
			break;
		case SQ_T_INT:
			rc = sqlite3_bind_int64(st, idx, a[k].i);
			break;
		case SQ_T_BLOB:
			rc = sqlite3_bind_blob(st, idx, a[k].p != NULL ? a[k].p : empty,
			    (int)a[k].n, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, idx);
			break;
		}
		if (rc != SQLITE_OK)
			return sq_err(c, rc, what);
	}
	return SG_OK;
}

/*
 * Run a statement that returns no rows on connection c (whose lock the
 * caller holds).  *changes (optional) gets the number of rows it touched.
 */
static int
sq_run(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, int *changes)
{
	sqlite3_stmt *st = NULL;
	int r = SG_ERR_INTERNAL;

	if ((r = sq_prepare(c, id, &st)) != SG_OK)
		goto out;
	if ((r = sq_bind(c, st, a, n, sq_stmts[id].name)) != SG_OK)
		goto out;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = sq_err(c, rc, sq_stmts[id].name);
		goto out;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(c->db);
	r = SG_OK;
out:
	sq_finish(st);
	return r;
}

static int
sq_tx_begin(sq_conn *c)
{
	return sq_run(c, SQ_BEGIN, NULL, 0, NULL);
}

static void
sq_tx_rollback(sq_conn *c)
{
	if (sqlite3_get_autocommit(c->db))
		return;  /* SQLite already rolled back, or nothing was begun */
	if (sq_run(c, SQ_ROLLBACK, NULL, 0, NULL) != SG_OK)
		sg_error("store: rollback failed");
}

/* Commit, or roll back if the commit fails (a failed COMMIT can leave the transaction open). */
static int
sq_tx_commit(sq_conn *c)
{
	int r = sq_run(c, SQ_COMMIT, NULL, 0, NULL);
	if (r != SG_OK)
		sq_tx_rollback(c);
	return r;
}

/* ---- reading columns ---- */

typedef struct sq_row {
	sqlite3_stmt *st;
	int idx;
	int r;  /* first error while reading the row */
} sq_row;

static void
sq_row_fail(sq_row *w, int r)
{
	if (w->r == SG_OK)
		w->r = r;
}

/* Copy text into a fixed field; text that does not fit means a damaged database. */
static void
sq_col_text(sq_row *w, char *dst, size_t size)
{
	int i = w->idx++;
	dst[0] = '\0';
	if (sqlite3_column_type(w->st, i) == SQLITE_NULL)
		return;
	const unsigned char *s = sqlite3_column_text(w->st, i);
	int n = sqlite3_column_bytes(w->st, i);
	if (s == NULL) {
		sq_row_fail(w, SG_ERR_NOMEM);
		return;
	}
	if (n < 0 || (size_t)n >= size) {
		sg_error("store: column %s is longer than its field",
		    sqlite3_column_name(w->st, i));
		sq_row_fail(w, SG_ERR_STORE);
		return;
	}
	memcpy(dst, s, (size_t)n);
	dst[n] = '\0';
}

#define SQ_COL_FIELD(w, f) sq_col_text((w), (f), sizeof(f))

/* A malloc'd copy of text; SQL NULL gives NULL. */
static char *
sq_col_strdup(sq_row *w)
{
	int i = w->idx++;
	if (sqlite3_column_type(w->st, i) == SQLITE_NULL)
		return NULL;
	const unsigned char *s = sqlite3_column_text(w->st, i);
	int n = sqlite3_column_bytes(w->st, i);
	char *p = s != NULL && n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (p == NULL) {
		sq_row_fail(w, SG_ERR_NOMEM);
		return NULL;
	}
	memcpy(p, s, (size_t)n);
	p[n] = '\0';
	return p;
}

static int64_t
sq_col_int64(sq_row *w)
{
	return sqlite3_column_int64(w->st, w->idx++);
}

static int
sq_col_int(sq_row *w)
{
	int64_t v = sq_col_int64(w);
	if (v < INT_MIN || v > INT_MAX) {
		sq_row_fail(w, SG_ERR_STORE);
		return 0;
	}
	return (int)v;
}

/*
 * Copy a blob into a fixed array of cap bytes; exact (when nonzero) demands
 * that length.  SQL NULL leaves dst alone and gives length 0.
 */
static void
sq_col_blob_fixed(sq_row *w, uint8_t *dst, size_t cap, size_t exact, size_t *len)
{
	int i = w->idx++;
	if (sqlite3_column_type(w->st, i) == SQLITE_NULL) {
		if (len != NULL)
			*len = 0;
		return;
	}
	const void *p = sqlite3_column_blob(w->st, i);
	int n = sqlite3_column_bytes(w->st, i);
	if (n < 0 || (size_t)n > cap || (exact != 0 && (size_t)n != exact)) {
		sg_error("store: column %s has a bad length", sqlite3_column_name(w->st, i));
		sq_row_fail(w, SG_ERR_STORE);
		return;
	}
	if (n > 0)
		memcpy(dst, p, (size_t)n);
	if (len != NULL)
		*len = (size_t)n;
}

/* A malloc'd copy of a blob; SQL NULL gives NULL, an empty blob a 1-byte allocation. */
static uint8_t *
sq_col_blob_dup(sq_row *w, size_t *len)
{
	int i = w->idx++;
	*len = 0;
	if (sqlite3_column_type(w->st, i) == SQLITE_NULL)
		return NULL;
	const void *p = sqlite3_column_blob(w->st, i);
	int n = sqlite3_column_bytes(w->st, i);
	uint8_t *d = n >= 0 ? malloc(n > 0 ? (size_t)n : 1) : NULL;
	if (d == NULL) {
		sq_row_fail(w, SG_ERR_NOMEM);
		return NULL;
	}
	if (n > 0)
		memcpy(d, p, (size_t)n);
	*len = (size_t)n;
	return d;
}

/* ---- one record per row; each writes *out only on success ---- */

typedef int (*sq_row_fn)(sqlite3_stmt *st, void *out);

static int
sq_row_tenant(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_tenant t;
	memset(&t, 0, sizeof(t));
	SQ_COL_FIELD(&w, t.id);
	SQ_COL_FIELD(&w, t.name);
	t.created_at = sq_col_int64(&w);
	if (w.r == SG_OK)
		*(sg_tenant *)out = t;
	return w.r;
}

static int
sq_row_principal(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_principal p;
	memset(&p, 0, sizeof(p));
	SQ_COL_FIELD(&w, p.id);
	SQ_COL_FIELD(&w, p.tenant_id);
	SQ_COL_FIELD(&w, p.name);
	p.roles = (unsigned)sq_col_int64(&w);
	p.created_at = sq_col_int64(&w);
	SQ_COL_FIELD(&w, p.default_policy);
	SQ_COL_FIELD(&w, p.email);
	if (w.r == SG_OK)
		*(sg_principal *)out = p;
	return w.r;
}

static int
sq_row_api_key(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_api_key k;
	memset(&k, 0, sizeof(k));
	SQ_COL_FIELD(&w, k.id);
	SQ_COL_FIELD(&w, k.principal_id);
	SQ_COL_FIELD(&w, k.tenant_id);
	SQ_COL_FIELD(&w, k.prefix);
	sq_col_blob_fixed(&w, k.hash, sizeof(k.hash), sizeof(k.hash), NULL);
	k.created_at = sq_col_int64(&w);
	k.revoked_at = sq_col_int64(&w);
	if (w.r == SG_OK)
		*(sg_api_key *)out = k;
	return w.r;
}

static int
sq_row_client_cert(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_client_cert c;
	memset(&c, 0, sizeof(c));
	SQ_COL_FIELD(&w, c.id);
	SQ_COL_FIELD(&w, c.principal_id);
	SQ_COL_FIELD(&w, c.tenant_id);
	sq_col_blob_fixed(&w, c.fingerprint, sizeof(c.fingerprint), sizeof(c.fingerprint), NULL);
	SQ_COL_FIELD(&w, c.subject);
	c.created_at = sq_col_int64(&w);
	if (w.r == SG_OK)
		*(sg_client_cert *)out = c;
	return w.r;
}

static int
sq_row_key(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_key k;
	char alg[64];
	memset(&k, 0, sizeof(k));
	SQ_COL_FIELD(&w, k.id);
	SQ_COL_FIELD(&w, k.tenant_id);
	SQ_COL_FIELD(&w, k.alias);
	SQ_COL_FIELD(&w, alg);
	SQ_COL_FIELD(&w, k.storage);
	SQ_COL_FIELD(&w, k.type);
	SQ_COL_FIELD(&w, k.status);
	k.current_version = sq_col_int(&w);
	k.created_at = sq_col_int64(&w);
	k.updated_at = sq_col_int64(&w);
	if (w.r == SG_OK) {
		k.alg = sg_key_alg_from_name(alg);
		if (k.alg == SG_KEY_NONE) {
			sg_error("store: key %s has unknown algorithm %s", k.id, alg);
			w.r = SG_ERR_STORE;
		}
	}
	if (w.r == SG_OK)
		*(sg_key *)out = k;
	return w.r;
}

static int
sq_row_key_version(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_key_version v;
	memset(&v, 0, sizeof(v));
	SQ_COL_FIELD(&w, v.key_id);
	v.version = sq_col_int(&w);
	SQ_COL_FIELD(&w, v.state);
	v.spki = sq_col_blob_dup(&w, &v.spki_len);
	v.handle = sq_col_blob_dup(&w, &v.handle_len);
	v.cert_chain_pem = sq_col_strdup(&w);
	v.created_at = sq_col_int64(&w);
	v.destroyed_at = sq_col_int64(&w);
	if (w.r != SG_OK) {
		sg_key_version_clear(&v);
		return w.r;
	}
	*(sg_key_version *)out = v;
	return SG_OK;
}

static int
sq_row_request(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_request q;
	memset(&q, 0, sizeof(q));
	SQ_COL_FIELD(&w, q.id);
	SQ_COL_FIELD(&w, q.tenant_id);
	SQ_COL_FIELD(&w, q.principal_id);
	SQ_COL_FIELD(&w, q.key_id);
	q.key_version = sq_col_int(&w);
	SQ_COL_FIELD(&w, q.policy);
	SQ_COL_FIELD(&w, q.hash_alg);
	SQ_COL_FIELD(&w, q.sig_scheme);
	SQ_COL_FIELD(&w, q.sig_format);
	q.pss_salt_len = sq_col_int(&w);
	sq_col_blob_fixed(&w, q.digest, sizeof(q.digest), 0, &q.digest_len);
	sq_col_blob_fixed(&w, q.context, sizeof(q.context), 0, &q.context_len);
	q.timestamp = sq_col_int(&w);
	q.metadata_json = sq_col_strdup(&w);
	SQ_COL_FIELD(&w, q.status);
	q.error = sq_col_strdup(&w);
	SQ_COL_FIELD(&w, q.signature_id);
	SQ_COL_FIELD(&w, q.original_request_id);
	SQ_COL_FIELD(&w, q.client_ip);
	SQ_COL_FIELD(&w, q.client_type);
	q.attempts = sq_col_int(&w);
	q.created_at = sq_col_int64(&w);
	q.updated_at = sq_col_int64(&w);
	SQ_COL_FIELD(&w, q.description);
	q.approvals_required = sq_col_int(&w);
	q.approval_deadline = sq_col_int64(&w);
	q.next_attempt_at = sq_col_int64(&w);
	q.lease_until = sq_col_int64(&w);
	SQ_COL_FIELD(&w, q.idempotency_key);
	sq_col_blob_fixed(&w, q.body_hash, sizeof(q.body_hash), sizeof(q.body_hash), NULL);
	if (w.r != SG_OK) {
		sg_request_clear(&q);
		return w.r;
	}
	*(sg_request *)out = q;
	return SG_OK;
}

static int
sq_row_signature(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_signature g;
	memset(&g, 0, sizeof(g));
	SQ_COL_FIELD(&w, g.id);
	SQ_COL_FIELD(&w, g.request_id);
	SQ_COL_FIELD(&w, g.tenant_id);
	SQ_COL_FIELD(&w, g.key_id);
	g.key_version = sq_col_int(&w);
	SQ_COL_FIELD(&w, g.hash_alg);
	SQ_COL_FIELD(&w, g.sig_scheme);
	SQ_COL_FIELD(&w, g.sig_format);
	sq_col_blob_fixed(&w, g.digest, sizeof(g.digest), 0, &g.digest_len);
	g.signature = sq_col_blob_dup(&w, &g.signature_len);
	g.timestamp_token = sq_col_blob_dup(&w, &g.timestamp_token_len);
	g.metadata_json = sq_col_strdup(&w);
	SQ_COL_FIELD(&w, g.created_by);
	SQ_COL_FIELD(&w, g.client_ip);
	SQ_COL_FIELD(&w, g.client_type);
	g.created_at = sq_col_int64(&w);
	if (w.r != SG_OK) {
		sg_signature_clear(&g);
		return w.r;
	}
	*(sg_signature *)out = g;
	return SG_OK;
}

static int
sq_row_policy(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_policy p;
	memset(&p, 0, sizeof(p));
	SQ_COL_FIELD(&w, p.id);
	SQ_COL_FIELD(&w, p.tenant_id);
	SQ_COL_FIELD(&w, p.project);
	SQ_COL_FIELD(&w, p.slug);
	SQ_COL_FIELD(&w, p.key_id);
	p.allowed_hash_algorithms = sq_col_strdup(&w);
	p.allowed_signature_algorithms = sq_col_strdup(&w);
	p.allow_fast = sq_col_int(&w);
	p.approvals_required = sq_col_int(&w);
	p.approvers = sq_col_strdup(&w);
	p.approval_timeout_seconds = sq_col_int64(&w);
	p.required_metadata = sq_col_strdup(&w);
	p.allow_legacy_hashes = sq_col_int(&w);
	p.timestamp = sq_col_int(&w);
	p.created_at = sq_col_int64(&w);
	if (w.r != SG_OK) {
		sg_policy_clear(&p);
		return w.r;
	}
	*(sg_policy *)out = p;
	return SG_OK;
}

static int
sq_row_approval(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_approval a;
	memset(&a, 0, sizeof(a));
	SQ_COL_FIELD(&w, a.request_id);
	SQ_COL_FIELD(&w, a.tenant_id);
	SQ_COL_FIELD(&w, a.approver_id);
	SQ_COL_FIELD(&w, a.decision);
	SQ_COL_FIELD(&w, a.comment);
	a.created_at = sq_col_int64(&w);
	if (w.r == SG_OK)
		*(sg_approval *)out = a;
	return w.r;
}

static int
sq_row_audit(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_audit_entry e;
	memset(&e, 0, sizeof(e));
	e.seq = sq_col_int64(&w);
	SQ_COL_FIELD(&w, e.tenant_id);
	e.ts = sq_col_int64(&w);
	SQ_COL_FIELD(&w, e.actor);
	SQ_COL_FIELD(&w, e.action);
	SQ_COL_FIELD(&w, e.object);
	e.details = sq_col_strdup(&w);
	sq_col_blob_fixed(&w, e.prev_hash, sizeof(e.prev_hash), sizeof(e.prev_hash), NULL);
	sq_col_blob_fixed(&w, e.hash, sizeof(e.hash), sizeof(e.hash), NULL);
	if (w.r != SG_OK) {
		sg_audit_entry_clear(&e);
		return w.r;
	}
	*(sg_audit_entry *)out = e;
	return SG_OK;
}

/* ---- generic reads ---- */

/* One row into *out via fn on connection c; SG_ERR_NOT_FOUND when there is none. */
static int
sq_one_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, sq_row_fn fn, void *out)
{
	sqlite3_stmt *st = NULL;
	int r = SG_ERR_INTERNAL;

	if ((r = sq_prepare(c, id, &st)) != SG_OK)
		goto out;
	if ((r = sq_bind(c, st, a, n, sq_stmts[id].name)) != SG_OK)
		goto out;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = SG_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_err(c, rc, sq_stmts[id].name);
		goto out;
	}
	r = fn(st, out);
out:
	sq_finish(st);
	return r;
}

/* sq_one_on on a pooled reader. */
static int
sq_get_one(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, sq_row_fn fn, void *out)
{
	sq_conn *c = sq_read_begin(q);
	int r = sq_one_on(c, id, a, n, fn, out);
	sq_read_end(q, c);
	return r;
}

static int
sq_row_int64(sqlite3_stmt *st, void *out)
{
	*(int64_t *)out = sqlite3_column_int64(st, 0);
	return SG_OK;
}

/* The first column of the first row as an integer; SG_ERR_NOT_FOUND without a row. */
static int
sq_scalar_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, int64_t *out)
{
	return sq_one_on(c, id, a, n, sq_row_int64, out);
}

/*
 * Every row into a malloc'd array of elements of `size` bytes.  No rows
 * give *out = NULL and *count = 0.  On failure the elements read so far are
 * released with clear (optional) and the outputs are untouched.
 */
static int
sq_list_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, size_t size,
    sq_row_fn fn, void (*clear)(void *), void **out, size_t *count)
{
	sqlite3_stmt *st = NULL;
	uint8_t *arr = NULL;
	size_t len = 0, cap = 0;
	int r = SG_ERR_INTERNAL;

	if ((r = sq_prepare(c, id, &st)) != SG_OK)
		goto out;
	if ((r = sq_bind(c, st, a, n, sq_stmts[id].name)) != SG_OK)
		goto out;
	for (;;) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = sq_err(c, rc, sq_stmts[id].name);
			goto out;
		}
		if (len == cap) {
			size_t ncap = cap != 0 ? 2 * cap : 16;
			if (ncap > SIZE_MAX / size) {
				r = SG_ERR_NOMEM;
				goto out;
			}
			uint8_t *p = realloc(arr, ncap * size);
			if (p == NULL) {
				r = SG_ERR_NOMEM;
				goto out;
			}
			arr = p;
			cap = ncap;
		}
		if ((r = fn(st, arr + len * size)) != SG_OK)
			goto out;
		len++;
	}
	if (len == 0) {
		free(arr);
		arr = NULL;
	}
	*out = arr;
	*count = len;
	arr = NULL;
	len = 0;
	r = SG_OK;
out:
	if (arr != NULL && clear != NULL)
		for (size_t k = 0; k < len; k++)
			clear(arr + k * size);
	free(arr);
	sq_finish(st);
	return r;
}

/* sq_list_on on a pooled reader. */
static int
sq_get_list(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, size_t size,
    sq_row_fn fn, void (*clear)(void *), void **out, size_t *count)
{
	sq_conn *c = sq_read_begin(q);
	int r = sq_list_on(c, id, a, n, size, fn, clear, out, count);
	sq_read_end(q, c);
	return r;
}

/* Run one statement on the writer outside any explicit transaction. */
static int
sq_write1(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, int *changes)
{
	sq_conn *w = sq_write_begin(q);
	int r = sq_run(w, id, a, n, changes);
	sq_write_end(q);
	return r;
}

static int
sq_bad_str(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* ---- tenants ---- */

static int
sq_tenant_create(sg_store *s, const sg_tenant *t)
{
	if (t == NULL || t->id[0] == '\0' || t->name[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(t->id), SQ_FIELD(t->name), sq_int(t->created_at) };
	return sq_write1(s->impl, SQ_TENANT_INSERT, a, SQ_NARGS(a), NULL);
}

static int
sq_tenant_get(sg_store *s, const char *id, sg_tenant *out)
{
	if (sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(id) };
	return sq_get_one(s->impl, SQ_TENANT_GET, a, SQ_NARGS(a), sq_row_tenant, out);
}

static int
sq_tenant_get_by_name(sg_store *s, const char *name, sg_tenant *out)
{
	if (sq_bad_str(name) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(name) };
	return sq_get_one(s->impl, SQ_TENANT_GET_BY_NAME, a, SQ_NARGS(a), sq_row_tenant, out);
}

/* ---- principals and credentials ---- */

static int
sq_principal_create(sg_store *s, const sg_principal *p)
{
	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0' || p->name[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(p->id), SQ_FIELD(p->tenant_id), SQ_FIELD(p->name),
	    sq_int(p->roles), sq_int(p->created_at), SQ_FIELD(p->default_policy), SQ_FIELD(p->email) };
	return sq_write1(s->impl, SQ_PRINCIPAL_INSERT, a, SQ_NARGS(a), NULL);
}

static int
sq_principal_update(sg_store *s, const sg_principal *p)
{
	int changes = 0;
	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_int(p->roles), SQ_FIELD(p->default_policy), SQ_FIELD(p->email),
	    SQ_FIELD(p->tenant_id), SQ_FIELD(p->id) };
	int r = sq_write1(s->impl, SQ_PRINCIPAL_UPDATE, a, SQ_NARGS(a), &changes);
	if (r == SG_OK && changes != 1)
		r = SG_ERR_NOT_FOUND;
	return r;
}

static int
sq_principal_get(sg_store *s, const char *tenant_id, const char *id, sg_principal *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	return sq_get_one(s->impl, SQ_PRINCIPAL_GET, a, SQ_NARGS(a), sq_row_principal, out);
}

static int
sq_principal_list(sg_store *s, const char *tenant_id, sg_principal **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_PRINCIPAL_LIST, a, SQ_NARGS(a), sizeof(sg_principal),
	    sq_row_principal, NULL, (void **)out, n);
}

static int
sq_principal_delete(sg_store *s, const char *tenant_id, const char *id)
{
	sq_db *q = s->impl;
	int changes = 0;
	int r = SG_ERR_INTERNAL;

	if (sq_bad_str(tenant_id) || sq_bad_str(id))
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg revoke[] = { sq_int(sg_now_ms()), sq_str(tenant_id), sq_str(id) };
	if ((r = sq_run(w, SQ_PRINCIPAL_REVOKE_KEYS, revoke, SQ_NARGS(revoke), NULL)) != SG_OK)
		goto out;
	sq_arg by_principal[] = { sq_str(tenant_id), sq_str(id) };
	if ((r = sq_run(w, SQ_PRINCIPAL_DELETE_CERTS, by_principal, SQ_NARGS(by_principal),
	    NULL)) != SG_OK)
		goto out;
	if ((r = sq_run(w, SQ_PRINCIPAL_DELETE, by_principal, SQ_NARGS(by_principal),
	    &changes)) != SG_OK)
		goto out;
	if (changes == 0) {
		r = SG_ERR_NOT_FOUND;
		goto out;
	}
	r = sq_tx_commit(w);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static int
sq_api_key_create(sg_store *s, const sg_api_key *k)
{
	int changes = 0;
	int r;

	if (k == NULL || k->id[0] == '\0' || k->principal_id[0] == '\0' ||
	    k->tenant_id[0] == '\0' || k->prefix[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(k->id), SQ_FIELD(k->principal_id), SQ_FIELD(k->tenant_id),
	    SQ_FIELD(k->prefix), sq_blob(k->hash, sizeof(k->hash)), sq_int(k->created_at),
	    sq_int(k->revoked_at) };
	if ((r = sq_write1(s->impl, SQ_API_KEY_INSERT, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;  /* no such principal in the tenant */
}

static int
sq_api_key_find(sg_store *s, const char *prefix, sg_api_key *out)
{
	if (sq_bad_str(prefix) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(prefix) };
	return sq_get_one(s->impl, SQ_API_KEY_FIND, a, SQ_NARGS(a), sq_row_api_key, out);
}

static int
sq_api_key_list(sg_store *s, const char *tenant_id, const char *principal_id,
    sg_api_key **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id),
	    sq_str(principal_id != NULL && principal_id[0] != '\0' ? principal_id : NULL) };
	return sq_get_list(s->impl, SQ_API_KEY_LIST, a, SQ_NARGS(a), sizeof(sg_api_key),
	    sq_row_api_key, NULL, (void **)out, n);
}

static int
sq_api_key_revoke(sg_store *s, const char *tenant_id, const char *id, int64_t when)
{
	int changes = 0;
	int r;

	if (sq_bad_str(tenant_id) || sq_bad_str(id))
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_int(when), sq_str(tenant_id), sq_str(id) };
	if ((r = sq_write1(s->impl, SQ_API_KEY_REVOKE, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

static int
sq_client_cert_add(sg_store *s, const sg_client_cert *c)
{
	int changes = 0;
	int r;

	if (c == NULL || c->id[0] == '\0' || c->principal_id[0] == '\0' ||
	    c->tenant_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(c->id), SQ_FIELD(c->principal_id), SQ_FIELD(c->tenant_id),
	    sq_blob(c->fingerprint, sizeof(c->fingerprint)), SQ_FIELD(c->subject),
	    sq_int(c->created_at) };
	if ((r = sq_write1(s->impl, SQ_CERT_INSERT, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

static int
sq_client_cert_find(sg_store *s, const uint8_t fingerprint[32], sg_client_cert *out)
{
	if (fingerprint == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_blob(fingerprint, 32) };
	return sq_get_one(s->impl, SQ_CERT_FIND, a, SQ_NARGS(a), sq_row_client_cert, out);
}

/* ---- keys ---- */

/* Insert version v of key key_id; the caller holds the writer inside a transaction. */
static int
sq_version_insert(sq_conn *w, const char *key_id, const sg_key_version *v)
{
	if (v->spki == NULL || v->spki_len == 0)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(key_id), sq_int(v->version),
	    v->state[0] != '\0' ? SQ_FIELD(v->state) : sq_str("ACTIVE"),
	    sq_blob(v->spki, v->spki_len), sq_blob_or_null(v->handle, v->handle_len),
	    sq_str(v->cert_chain_pem), sq_int(v->created_at), sq_int(v->destroyed_at) };
	return sq_run(w, SQ_VERSION_INSERT, a, SQ_NARGS(a), NULL);
}

static int
sq_key_create(sg_store *s, const sg_key *k, const sg_key_version *v1)
{
	sq_db *q = s->impl;
	int r = SG_ERR_INTERNAL;

	if (k == NULL || v1 == NULL || v1->version != 1 || k->id[0] == '\0' ||
	    k->tenant_id[0] == '\0' || k->alias[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	const char *alg = sg_key_alg_name(k->alg);
	if (alg == NULL)
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { SQ_FIELD(k->id), SQ_FIELD(k->tenant_id), SQ_FIELD(k->alias), sq_str(alg),
	    SQ_FIELD(k->storage), SQ_FIELD(k->type), SQ_FIELD(k->status), sq_int(1),
	    sq_int(k->created_at), sq_int(k->updated_at) };
	if ((r = sq_run(w, SQ_KEY_INSERT, a, SQ_NARGS(a), NULL)) != SG_OK)
		goto out;
	if ((r = sq_version_insert(w, k->id, v1)) != SG_OK)
		goto out;
	r = sq_tx_commit(w);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static int
sq_key_get(sg_store *s, const char *tenant_id, const char *id_or_alias, sg_key *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id_or_alias) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id_or_alias) };
	int r = sq_get_one(s->impl, SQ_KEY_GET, a, SQ_NARGS(a), sq_row_key, out);
	if (r == SG_ERR_NOT_FOUND)
		r = sq_get_one(s->impl, SQ_KEY_GET_ALIAS, a, SQ_NARGS(a), sq_row_key, out);
	return r;
}

static int
sq_key_list(sg_store *s, const char *tenant_id, sg_key **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_KEY_LIST, a, SQ_NARGS(a), sizeof(sg_key), sq_row_key,
	    NULL, (void **)out, n);
}

static int
sq_key_set_status(sg_store *s, const char *tenant_id, const char *key_id, const char *status,
    int64_t when)
{
	int changes = 0;
	int r;

	if (sq_bad_str(tenant_id) || sq_bad_str(key_id) || sq_bad_str(status))
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(status), sq_int(when), sq_str(tenant_id), sq_str(key_id) };
	if ((r = sq_write1(s->impl, SQ_KEY_SET_STATUS, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

static int
sq_key_add_version(sg_store *s, const char *tenant_id, const sg_key_version *v)
{
	sq_db *q = s->impl;
	sqlite3_stmt *st = NULL;
	int r = SG_ERR_INTERNAL;

	if (sq_bad_str(tenant_id) || v == NULL || v->key_id[0] == '\0' || v->version < 1)
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	/* BEGIN IMMEDIATE holds the write lock from the read of current_version to the commit. */
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	if ((r = sq_prepare(w, SQ_KEY_CURRENT, &st)) != SG_OK)
		goto out;
	sq_arg key[] = { sq_str(tenant_id), SQ_FIELD(v->key_id) };
	if ((r = sq_bind(w, st, key, SQ_NARGS(key), sq_stmts[SQ_KEY_CURRENT].name)) != SG_OK)
		goto out;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = SG_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_err(w, rc, sq_stmts[SQ_KEY_CURRENT].name);
		goto out;
	}
	int64_t current = sqlite3_column_int64(st, 0);
	sq_finish(st);
	st = NULL;
	if ((int64_t)v->version != current + 1) {
		r = SG_ERR_CONFLICT;
		goto out;
	}
	if ((r = sq_version_insert(w, v->key_id, v)) != SG_OK)
		goto out;
	sq_arg cur[] = { sq_int(v->version), sq_int(v->created_at), SQ_FIELD(v->key_id) };
	if ((r = sq_run(w, SQ_KEY_SET_CURRENT, cur, SQ_NARGS(cur), NULL)) != SG_OK)
		goto out;
	r = sq_tx_commit(w);
out:
	sq_finish(st);
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static void
sq_key_version_clear_fn(void *v)
{
	sg_key_version_clear(v);
}

static int
sq_key_version_get(sg_store *s, const char *tenant_id, const char *key_id, int version,
    sg_key_version *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(key_id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(key_id), sq_int(version), sq_str(tenant_id) };
	return sq_get_one(s->impl, SQ_VERSION_GET, a, SQ_NARGS(a), sq_row_key_version, out);
}

static int
sq_key_version_list(sg_store *s, const char *tenant_id, const char *key_id,
    sg_key_version **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(key_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(key_id), sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_VERSION_LIST, a, SQ_NARGS(a), sizeof(sg_key_version),
	    sq_row_key_version, sq_key_version_clear_fn, (void **)out, n);
}

static int
sq_version_exists(sq_conn *w, const char *tenant_id, const char *key_id, int version)
{
	int64_t one = 0;
	sq_arg a[] = { sq_str(key_id), sq_int(version), sq_str(tenant_id) };
	return sq_scalar_on(w, SQ_VERSION_EXISTS, a, SQ_NARGS(a), &one);
}

static int
sq_key_version_destroy(sg_store *s, const char *tenant_id, const char *key_id, int version,
    int64_t when)
{
	sq_db *q = s->impl;
	int changes = 0;
	int r = SG_ERR_INTERNAL;

	if (sq_bad_str(tenant_id) || sq_bad_str(key_id))
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	/* Zeros over the handle's bytes first, so its cell is not merely unlinked. */
	sq_arg wipe[] = { sq_str(key_id), sq_int(version), sq_str(tenant_id) };
	if ((r = sq_run(w, SQ_VERSION_WIPE, wipe, SQ_NARGS(wipe), NULL)) != SG_OK)
		goto out;
	sq_arg destroy[] = { sq_int(when), sq_str(key_id), sq_int(version), sq_str(tenant_id) };
	if ((r = sq_run(w, SQ_VERSION_DESTROY, destroy, SQ_NARGS(destroy), &changes)) != SG_OK)
		goto out;
	if (changes == 0 && (r = sq_version_exists(w, tenant_id, key_id, version)) != SG_OK)
		goto out;  /* already destroyed is fine; missing is not */
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	/*
	 * The old pages with the handle still sit in the WAL until a checkpoint
	 * copies the zeroed ones over them and the log restarts.  Best effort:
	 * a long reader can hold the log, and the destroy itself is committed.
	 */
	int rc = sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (rc != SQLITE_OK)
		sg_warn("store: checkpoint after destroying %s v%d: %s", key_id, version,
		    sqlite3_errmsg(w->db));
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static int
sq_key_version_set_cert(sg_store *s, const char *tenant_id, const char *key_id, int version,
    const char *pem)
{
	int changes = 0;
	int r;

	if (sq_bad_str(tenant_id) || sq_bad_str(key_id))
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(pem), sq_str(key_id), sq_int(version), sq_str(tenant_id) };
	if ((r = sq_write1(s->impl, SQ_VERSION_SET_CERT, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

/* ---- the audit chain ---- */

/* Where an appended entry landed in its chain; copied into the caller's entry after COMMIT. */
typedef struct sq_link {
	int64_t seq;
	uint8_t prev_hash[32];
	uint8_t hash[32];
} sq_link;

static void
sq_link_fill(sg_audit_entry *e, const sq_link *l)
{
	if (e == NULL)
		return;
	e->seq = l->seq;
	memcpy(e->prev_hash, l->prev_hash, sizeof(e->prev_hash));
	memcpy(e->hash, l->hash, sizeof(e->hash));
}

/* The newest (seq, hash) of tenant_id's chain: (0, zeros) while it is empty. */
static int
sq_audit_head_on(sq_conn *c, const char *tenant_id, int64_t *seq, uint8_t hash[32])
{
	sqlite3_stmt *st = NULL;
	int r = SG_ERR_INTERNAL;

	if ((r = sq_prepare(c, SQ_AUDIT_HEAD, &st)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_str(tenant_id) };
	if ((r = sq_bind(c, st, a, SQ_NARGS(a), sq_stmts[SQ_AUDIT_HEAD].name)) != SG_OK)
		goto out;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*seq = 0;
		memset(hash, 0, 32);
		r = SG_OK;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_err(c, rc, sq_stmts[SQ_AUDIT_HEAD].name);
		goto out;
	}
	sq_row w = { st, 0, SG_OK };
	int64_t s = sq_col_int64(&w);
	uint8_t h[32];
	sq_col_blob_fixed(&w, h, sizeof(h), sizeof(h), NULL);
	if ((r = w.r) != SG_OK)
		goto out;
	*seq = s;
	memcpy(hash, h, 32);
	r = SG_OK;
out:
	sq_finish(st);
	return r;
}

/*
 * Insert e into its tenant's chain as the entry after (head_seq,
 * head_hash), on the writer inside the caller's transaction.  The stored
 * chain head is not moved.  e itself is not modified; *link gets its place
 * (for sq_link_fill once the transaction is committed, and as the next head).
 */
static int
sq_audit_insert_after(sq_conn *w, const sg_audit_entry *e, int64_t head_seq,
    const uint8_t head_hash[32], sq_link *link)
{
	sg_audit_entry x = *e;  /* shallow: details stays the caller's */
	int r;

	if ((r = sg_audit_link(&x, head_seq, head_hash)) != SG_OK)
		return r;
	sq_arg a[] = { sq_int(x.seq), SQ_FIELD(x.tenant_id), sq_int(x.ts), SQ_FIELD(x.actor),
	    SQ_FIELD(x.action), SQ_FIELD(x.object), sq_str(x.details),
	    sq_blob(x.prev_hash, sizeof(x.prev_hash)), sq_blob(x.hash, sizeof(x.hash)) };
	if ((r = sq_run(w, SQ_AUDIT_INSERT, a, SQ_NARGS(a), NULL)) != SG_OK)
		return r;
	link->seq = x.seq;
	memcpy(link->prev_hash, x.prev_hash, sizeof(link->prev_hash));
	memcpy(link->hash, x.hash, sizeof(link->hash));
	return SG_OK;
}

static int
sq_audit_set_head(sq_conn *w, const char *tenant_id, int64_t seq, const uint8_t hash[32])
{
	sq_arg h[] = { sq_str(tenant_id), sq_int(seq), sq_blob(hash, 32) };
	return sq_run(w, SQ_AUDIT_SET_HEAD, h, SQ_NARGS(h), NULL);
}

/*
 * Append e to its tenant's chain on the writer, inside the caller's
 * transaction, and move the chain head.  e itself is not modified; *link
 * gets its place for sq_link_fill once the transaction is committed.
 */
static int
sq_audit_append_on(sq_conn *w, const sg_audit_entry *e, sq_link *link)
{
	int64_t head = 0;
	uint8_t head_hash[32];
	char tenant[SG_ID_MAX];
	int r;

	sg_strlcpy(tenant, e->tenant_id, sizeof(tenant));
	if ((r = sq_audit_head_on(w, tenant, &head, head_hash)) != SG_OK)
		return r;
	if ((r = sq_audit_insert_after(w, e, head, head_hash, link)) != SG_OK)
		return r;
	return sq_audit_set_head(w, tenant, link->seq, link->hash);
}

/* Append audit (optional) inside the open transaction and commit; fills audit on success. */
static int
sq_commit_with_audit(sq_conn *w, sg_audit_entry *audit)
{
	sq_link link;
	int r;

	if (audit != NULL && (r = sq_audit_append_on(w, audit, &link)) != SG_OK)
		return r;
	if ((r = sq_tx_commit(w)) != SG_OK)
		return r;
	if (audit != NULL)
		sq_link_fill(audit, &link);
	return SG_OK;
}

static int
sq_audit_append(sg_store *s, sg_audit_entry *e)
{
	sq_db *q = s->impl;
	int r = SG_ERR_INTERNAL;

	if (e == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	r = sq_commit_with_audit(w, e);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static void
sq_audit_clear_fn(void *e)
{
	sg_audit_entry_clear(e);
}

static int
sq_audit_list(sg_store *s, const char *tenant_id, int64_t after, int64_t limit,
    sg_audit_entry **out, size_t *n)
{
	if (tenant_id == NULL || limit < 1 || limit > 10000 || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_int(after), sq_int(limit) };
	return sq_get_list(s->impl, SQ_AUDIT_LIST, a, SQ_NARGS(a), sizeof(sg_audit_entry),
	    sq_row_audit, sq_audit_clear_fn, (void **)out, n);
}

static int
sq_audit_head(sg_store *s, const char *tenant_id, int64_t *seq, uint8_t hash[32])
{
	sq_db *q = s->impl;
	int64_t hs = 0;
	uint8_t hh[32];

	if (tenant_id == NULL || seq == NULL || hash == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *c = sq_read_begin(q);
	int r = sq_audit_head_on(c, tenant_id, &hs, hh);
	sq_read_end(q, c);
	if (r == SG_OK) {
		*seq = hs;
		memcpy(hash, hh, sizeof(hh));
	}
	return r;
}

/* ---- policies ---- */

static int
sq_policy_create(sg_store *s, const sg_policy *p, sg_audit_entry *audit)
{
	sq_db *q = s->impl;
	int r = SG_ERR_INTERNAL;

	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0' || p->project[0] == '\0' ||
	    p->slug[0] == '\0' || p->key_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { SQ_FIELD(p->id), SQ_FIELD(p->tenant_id), SQ_FIELD(p->project),
	    SQ_FIELD(p->slug), SQ_FIELD(p->key_id), sq_str(p->allowed_hash_algorithms),
	    sq_str(p->allowed_signature_algorithms), sq_int(p->allow_fast != 0),
	    sq_int(p->approvals_required), sq_str(p->approvers),
	    sq_int(p->approval_timeout_seconds), sq_str(p->required_metadata),
	    sq_int(p->allow_legacy_hashes != 0), sq_int(p->timestamp != 0), sq_int(p->created_at) };
	if ((r = sq_run(w, SQ_POLICY_INSERT, a, SQ_NARGS(a), NULL)) != SG_OK)
		goto out;
	r = sq_commit_with_audit(w, audit);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static int
sq_policy_get(sg_store *s, const char *tenant_id, const char *project, const char *slug,
    sg_policy *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(project) || sq_bad_str(slug) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(project), sq_str(slug) };
	return sq_get_one(s->impl, SQ_POLICY_GET, a, SQ_NARGS(a), sq_row_policy, out);
}

static void
sq_policy_clear_fn(void *p)
{
	sg_policy_clear(p);
}

static int
sq_policy_list(sg_store *s, const char *tenant_id, sg_policy **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_POLICY_LIST, a, SQ_NARGS(a), sizeof(sg_policy),
	    sq_row_policy, sq_policy_clear_fn, (void **)out, n);
}

/* ---- requests and signatures ---- */

static int
sq_request_get(sg_store *s, const char *tenant_id, const char *id, sg_request *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	return sq_get_one(s->impl, SQ_REQUEST_GET, a, SQ_NARGS(a), sq_row_request, out);
}

static int
sq_signature_get(sg_store *s, const char *tenant_id, const char *id, sg_signature *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	return sq_get_one(s->impl, SQ_SIGNATURE_GET, a, SQ_NARGS(a), sq_row_signature, out);
}

/* Insert (SQ_REQUEST_INSERT) or upsert (SQ_REQUEST_UPSERT) request q on the writer. */
static int
sq_request_write(sq_conn *w, enum sq_stmt_id id, const sg_request *q)
{
	int changes = 0;
	int r;

	if (q->id[0] == '\0' || q->tenant_id[0] == '\0' || q->status[0] == '\0' ||
	    q->digest_len > sizeof(q->digest) || q->context_len > sizeof(q->context))
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(q->id), SQ_FIELD(q->tenant_id), SQ_FIELD(q->principal_id),
	    SQ_FIELD(q->key_id), sq_int(q->key_version), SQ_FIELD(q->policy),
	    SQ_FIELD(q->hash_alg), SQ_FIELD(q->sig_scheme), SQ_FIELD(q->sig_format),
	    sq_int(q->pss_salt_len), sq_blob(q->digest, q->digest_len),
	    sq_blob(q->context, q->context_len), sq_int(q->timestamp != 0),
	    sq_str(q->metadata_json), SQ_FIELD(q->status), sq_str(q->error),
	    SQ_FIELD(q->signature_id), SQ_FIELD(q->original_request_id), SQ_FIELD(q->client_ip),
	    SQ_FIELD(q->client_type), sq_int(q->attempts), sq_int(q->created_at),
	    sq_int(q->updated_at), SQ_FIELD(q->description), sq_int(q->approvals_required),
	    sq_int(q->approval_deadline), sq_int(q->next_attempt_at), sq_int(q->lease_until),
	    q->idempotency_key[0] != '\0' ? SQ_FIELD(q->idempotency_key) : sq_str(NULL),
	    sq_blob(q->body_hash, sizeof(q->body_hash)) };
	if ((r = sq_run(w, id, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	if (changes != 1) {
		sg_warn("store: request %.40s is signed already or belongs to another tenant", q->id);
		return SG_ERR_CONFLICT;
	}
	return SG_OK;
}

static int
sq_signature_insert(sq_conn *w, const sg_signature *g)
{
	if (g->id[0] == '\0' || g->tenant_id[0] == '\0' || g->digest_len > sizeof(g->digest) ||
	    g->signature == NULL || g->signature_len == 0)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(g->id), SQ_FIELD(g->request_id), SQ_FIELD(g->tenant_id),
	    SQ_FIELD(g->key_id), sq_int(g->key_version), SQ_FIELD(g->hash_alg),
	    SQ_FIELD(g->sig_scheme), SQ_FIELD(g->sig_format), sq_blob(g->digest, g->digest_len),
	    sq_blob(g->signature, g->signature_len),
	    sq_blob_or_null(g->timestamp_token, g->timestamp_token_len),
	    sq_str(g->metadata_json), SQ_FIELD(g->created_by), SQ_FIELD(g->client_ip),
	    SQ_FIELD(g->client_type), sq_int(g->created_at) };
	return sq_run(w, SQ_SIGNATURE_INSERT, a, SQ_NARGS(a), NULL);
}

/*
 * Append e to its chain inside a batch: the head comes from heads[] (read
 * from the database the first time the batch meets its tenant) and moves
 * there, so n entries of one tenant cost one head read and one head write
 * instead of n of each.  Every entry is still its own link in the chain.
 */
static int
sq_audit_append_batched(sq_conn *w, const sg_audit_entry *e, sg_audit_head *heads, size_t *nheads,
    sq_link *link)
{
	sg_audit_head *h = sg_audit_head_find(heads, *nheads, e->tenant_id);
	int r;

	if (h == NULL) {
		h = &heads[(*nheads)++];
		sg_strlcpy(h->tenant_id, e->tenant_id, sizeof(h->tenant_id));
		if ((r = sq_audit_head_on(w, h->tenant_id, &h->seq, h->hash)) != SG_OK) {
			(*nheads)--;
			return r;
		}
	}
	if ((r = sq_audit_insert_after(w, e, h->seq, h->hash, link)) != SG_OK)
		return r;
	h->seq = link->seq;
	memcpy(h->hash, link->hash, sizeof(h->hash));
	return SG_OK;
}

static int
sq_commit_batch(sg_store *s, const sg_request *const *reqs, const sg_signature *const *sigs,
    sg_audit_entry *const *audits, size_t n)
{
	sq_db *q = s->impl;
	sq_link *links = NULL;
	sg_audit_head *heads = NULL;
	size_t nheads = 0;
	int r = SG_ERR_INTERNAL;

	if (n == 0)
		return SG_OK;
	if (reqs == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++)
		if (reqs[i] == NULL)
			return SG_ERR_INVALID_ARGUMENT;
	if (audits != NULL && ((links = calloc(n, sizeof(*links))) == NULL ||
	    (heads = calloc(n, sizeof(*heads))) == NULL)) {
		free(links);
		return SG_ERR_NOMEM;
	}
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((r = sq_request_write(w, SQ_REQUEST_UPSERT, reqs[i])) != SG_OK)
			goto out;
		if (sigs != NULL && sigs[i] != NULL &&
		    (r = sq_signature_insert(w, sigs[i])) != SG_OK)
			goto out;
		if (audits != NULL && audits[i] != NULL &&
		    (r = sq_audit_append_batched(w, audits[i], heads, &nheads, &links[i])) != SG_OK)
			goto out;
	}
	for (size_t i = 0; i < nheads; i++)
		if ((r = sq_audit_set_head(w, heads[i].tenant_id, heads[i].seq, heads[i].hash)) != SG_OK)
			goto out;
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	for (size_t i = 0; audits != NULL && i < n; i++)
		sq_link_fill(audits[i], &links[i]);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	free(links);
	free(heads);
	return r;
}

/* ---- the workflow: queue, approvals, idempotency ---- */

static void
sq_request_clear_fn(void *r)
{
	sg_request_clear(r);
}

static int
sq_request_create(sg_store *s, const sg_request *rq, sg_audit_entry *audit)
{
	sq_db *q = s->impl;
	int r = SG_ERR_INTERNAL;

	if (rq == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	if ((r = sq_request_write(w, SQ_REQUEST_INSERT, rq)) != SG_OK)
		goto out;
	r = sq_commit_with_audit(w, audit);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static int
sq_request_list(sg_store *s, const char *tenant_id, const char *status, int64_t limit,
    sg_request **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || limit < 1 || limit > 1000 || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(status != NULL && status[0] != '\0' ? status : NULL),
	    sq_int(limit) };
	return sq_get_list(s->impl, SQ_REQUEST_LIST, a, SQ_NARGS(a), sizeof(sg_request),
	    sq_row_request, sq_request_clear_fn, (void **)out, n);
}

static int
sq_request_claim(sg_store *s, int64_t now, int64_t lease_ms, size_t max, sg_request **out,
    size_t *n)
{
	sq_db *q = s->impl;
	sg_request *list = NULL;
	size_t count = 0;
	int r = SG_ERR_INTERNAL;

	if (lease_ms <= 0 || out == NULL || n == NULL || max > INT32_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	if (max == 0) {
		*out = NULL;
		*n = 0;
		return SG_OK;
	}
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_int(now), sq_int(lease_ms), sq_int((int64_t)max) };
	if ((r = sq_list_on(w, SQ_REQUEST_CLAIM, a, SQ_NARGS(a), sizeof(sg_request),
	    sq_row_request, sq_request_clear_fn, (void **)&list, &count)) != SG_OK)
		goto out;
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	if (count > 1)
		qsort(list, count, sizeof(*list), sg_request_cmp_age);
	*out = list;
	*n = count;
	list = NULL;
	count = 0;
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	sg_request_list_free(list, count);
	return r;
}

static int
sq_request_transition(sg_store *s, const char *tenant_id, const char *id, const char *from,
    const char *to, const char *error, int64_t next_attempt_at, int64_t now,
    sg_audit_entry *audit)
{
	sq_db *q = s->impl;
	int changes = 0;
	int r = SG_ERR_INTERNAL;

	if (sq_bad_str(tenant_id) || sq_bad_str(id) || sq_bad_str(from) || sq_bad_str(to))
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_str(to), sq_str(error), sq_int(next_attempt_at), sq_int(now),
	    sq_str(tenant_id), sq_str(id), sq_str(from) };
	if ((r = sq_run(w, SQ_REQUEST_TRANSITION, a, SQ_NARGS(a), &changes)) != SG_OK)
		goto out;
	if (changes == 0) {
		int64_t one = 0;
		sq_arg e[] = { sq_str(tenant_id), sq_str(id) };
		r = sq_scalar_on(w, SQ_REQUEST_EXISTS, e, SQ_NARGS(e), &one);
		if (r == SG_OK)
			r = SG_ERR_PRECONDITION;  /* it exists, in another state */
		goto out;
	}
	r = sq_commit_with_audit(w, audit);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static int
sq_request_count_by_status(sg_store *s, const char *const *statuses, size_t n, int64_t *counts)
{
	sq_db *q = s->impl;
	int64_t *tmp = NULL;
	int r = SG_ERR_INTERNAL;

	if (n == 0)
		return SG_OK;
	if (statuses == NULL || counts == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if ((tmp = calloc(n, sizeof(*tmp))) == NULL)
		return SG_ERR_NOMEM;
	sq_conn *c = sq_read_begin(q);
	for (size_t i = 0; i < n; i++) {
		if (statuses[i] == NULL) {
			r = SG_ERR_INVALID_ARGUMENT;
			goto out;
		}
		sq_arg a[] = { sq_str(statuses[i]) };
		if ((r = sq_scalar_on(c, SQ_REQUEST_COUNT, a, SQ_NARGS(a), &tmp[i])) != SG_OK)
			goto out;
	}
	memcpy(counts, tmp, n * sizeof(*tmp));
	r = SG_OK;
out:
	sq_read_end(q, c);
	free(tmp);
	return r;
}

static int
sq_request_find_idempotent(sg_store *s, const char *tenant_id, const char *principal_id,
    const char *key, sg_request *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(principal_id) || sq_bad_str(key) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(principal_id), sq_str(key), sq_str(tenant_id) };
	return sq_get_one(s->impl, SQ_REQUEST_FIND_IDEMPOTENT, a, SQ_NARGS(a), sq_row_request, out);
}

static int
sq_idempotency_purge(sg_store *s, int64_t before)
{
	sq_arg a[] = { sq_int(before) };
	return sq_write1(s->impl, SQ_IDEMPOTENCY_PURGE, a, SQ_NARGS(a), NULL);
}

static int
sq_approval_add(sg_store *s, const sg_approval *a, sg_audit_entry *audit,
    char new_status[SG_STATUS_MAX])
{
	sq_db *q = s->impl;
	sqlite3_stmt *st = NULL;
	sq_link link;
	sg_vote_outcome outcome;
	char submitter[SG_ID_MAX], status[SG_STATUS_MAX];
	int64_t required = 0, approved = 0, deadline = 0;
	int r = SG_ERR_INTERNAL;

	if ((r = sg_rule_vote_valid(a)) != SG_OK)
		return r;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;

	if ((r = sq_prepare(w, SQ_REQUEST_VOTE_INFO, &st)) != SG_OK)
		goto out;
	sq_arg key[] = { SQ_FIELD(a->tenant_id), SQ_FIELD(a->request_id) };
	if ((r = sq_bind(w, st, key, SQ_NARGS(key), sq_stmts[SQ_REQUEST_VOTE_INFO].name)) != SG_OK)
		goto out;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = SG_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_err(w, rc, sq_stmts[SQ_REQUEST_VOTE_INFO].name);
		goto out;
	}
	sq_row row = { st, 0, SG_OK };
	SQ_COL_FIELD(&row, submitter);
	SQ_COL_FIELD(&row, status);
	required = sq_col_int64(&row);
	deadline = sq_col_int64(&row);
	if ((r = row.r) != SG_OK)
		goto out;
	sq_finish(st);
	st = NULL;

	if ((r = sg_rule_vote_allowed(a, submitter, status, deadline)) != SG_OK)
		goto out;
	sq_arg vote[] = { SQ_FIELD(a->request_id), SQ_FIELD(a->tenant_id), SQ_FIELD(a->approver_id),
	    SQ_FIELD(a->decision), SQ_FIELD(a->comment), sq_int(a->created_at) };
	if ((r = sq_run(w, SQ_APPROVAL_INSERT, vote, SQ_NARGS(vote), NULL)) != SG_OK)
		goto out;  /* a second vote by the same approver is a primary-key conflict */
	if (audit != NULL && (r = sq_audit_append_on(w, audit, &link)) != SG_OK)
		goto out;

	if (sg_rule_vote_counts(a)) {
		sq_arg c[] = { SQ_FIELD(a->request_id) };
		if ((r = sq_scalar_on(w, SQ_APPROVAL_COUNT, c, SQ_NARGS(c), &approved)) != SG_OK)
			goto out;
	}
	sg_rule_vote_outcome(a, approved, required, &outcome);
	if (outcome.to != NULL) {
		sq_arg set[] = { sq_str(outcome.to), sq_int(a->created_at), sq_int(a->created_at),
		    SQ_FIELD(a->request_id) };
		if ((r = sq_run(w, SQ_REQUEST_SET_STATUS, set, SQ_NARGS(set), NULL)) != SG_OK)
			goto out;
		sq_link moved_link;
		if ((r = sq_audit_append_on(w, &outcome.audit, &moved_link)) != SG_OK)
			goto out;
		sg_strlcpy(status, outcome.to, sizeof(status));
	}
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	if (audit != NULL)
		sq_link_fill(audit, &link);
	if (new_status != NULL)
		sg_strlcpy(new_status, status, SG_STATUS_MAX);
out:
	sq_finish(st);
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static int
sq_approval_list(sg_store *s, const char *tenant_id, const char *request_id,
    sg_approval **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(request_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(request_id) };
	return sq_get_list(s->impl, SQ_APPROVAL_LIST, a, SQ_NARGS(a), sizeof(sg_approval),
	    sq_row_approval, NULL, (void **)out, n);
}

static int
sq_request_expire_approvals(sg_store *s, int64_t now, sg_request **out, size_t *n)
{
	sq_db *q = s->impl;
	sg_request *list = NULL;
	size_t count = 0;
	int r = SG_ERR_INTERNAL;

	if (n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_int(now), sq_str(SG_RULE_EXPIRED_STATUS), sq_str(SG_RULE_EXPIRED_ERROR) };
	if ((r = sq_list_on(w, SQ_REQUEST_EXPIRE, a, SQ_NARGS(a), sizeof(sg_request),
	    sq_row_request, sq_request_clear_fn, (void **)&list, &count)) != SG_OK)
		goto out;
	if (count > 1)
		qsort(list, count, sizeof(*list), sg_request_cmp_age);
	for (size_t i = 0; i < count; i++) {
		sg_audit_entry e;
		sq_link link;
		sg_rule_expiry_audit(&list[i], now, &e);
		if ((r = sq_audit_append_on(w, &e, &link)) != SG_OK)
			goto out;
	}
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	if (out != NULL) {
		*out = list;
		list = NULL;
	}
	*n = count;
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	sg_request_list_free(list, count);
	return r;
}

static int
sq_ping(sg_store *s)
{
	sq_db *q = s->impl;
	sq_conn *c = sq_read_begin(q);
	sqlite3_stmt *st = NULL;
	int r = SG_ERR_INTERNAL;

	if ((r = sq_prepare(c, SQ_PING, &st)) != SG_OK)
		goto out;
	int rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? SG_OK : sq_err(c, rc, sq_stmts[SQ_PING].name);
	if (r == SG_ERR_STORE)
		r = SG_ERR_UNAVAILABLE;
out:
	sq_finish(st);
	sq_read_end(q, c);
	return r;
}

/* ---- opening and closing ---- */

static void
sq_conn_close(sq_conn *c)
{
	for (size_t i = 0; i < SQ_STMT_COUNT; i++) {
		sqlite3_finalize(c->stmt[i]);
		c->stmt[i] = NULL;
	}
	if (c->db != NULL && sqlite3_close(c->db) != SQLITE_OK)
		sg_error("store: close: %s", sqlite3_errmsg(c->db));
	c->db = NULL;
}

static int
sq_exec(sq_conn *c, const char *sql, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return SG_OK;
	sg_error("store: %s: %s", what, msg != NULL ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? SG_ERR_UNAVAILABLE : SG_ERR_STORE;
}

static int
sq_conn_open(const char *path, int reader, sq_conn *c)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int r = SG_ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	if (!reader)
		flags |= SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		sg_error("store: open %s: %s", path,
		    c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		r = rc == SQLITE_NOMEM ? SG_ERR_NOMEM : SG_ERR_UNAVAILABLE;
		goto out;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, SQ_BUSY_TIMEOUT_MS);
	/*
	 * FULL: the WAL is synced at every commit, so a signature record is on
	 * disk before its response leaves.  secure_delete zeroes freed content.
	 */
	if ((r = sq_exec(c, "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;"
	    " PRAGMA synchronous = FULL; PRAGMA trusted_schema = OFF;", "pragmas")) != SG_OK)
		goto out;
	if (reader && (r = sq_exec(c, "PRAGMA query_only = ON;", "pragmas")) != SG_OK)
		goto out;
	r = SG_OK;
out:
	if (r != SG_OK)
		sq_conn_close(c);
	return r;
}

static int
sq_set_wal(sq_conn *c)
{
	sqlite3_stmt *st = NULL;
	int r = SG_ERR_INTERNAL;

	int rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = sq_err(c, rc, "journal_mode");
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = sq_err(c, rc, "journal_mode");
		goto out;
	}
	const unsigned char *mode = sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		sg_error("store: the database refuses WAL mode (%s)",
		    mode != NULL ? (const char *)mode : "?");
		r = SG_ERR_STORE;
		goto out;
	}
	r = SG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

static int
sq_user_version(sq_conn *c, int *out)
{
	sqlite3_stmt *st = NULL;
	int r = SG_ERR_INTERNAL;

	int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = sq_err(c, rc, "user_version");
		goto out;
	}
	*out = sqlite3_column_int(st, 0);
	r = SG_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* Bring the schema to SQ_SCHEMA_VERSION in one transaction (another process may race us). */
static int
sq_migrate(sq_conn *c)
{
	int version = 0;
	int r = SG_ERR_INTERNAL;

	if ((r = sq_tx_begin(c)) != SG_OK)
		goto out;
	if ((r = sq_user_version(c, &version)) != SG_OK)
		goto out;
	if (version > SQ_SCHEMA_VERSION) {
		sg_error("store: database schema version %d is newer than this build (%d)",
		    version, SQ_SCHEMA_VERSION);
		r = SG_ERR_STORE;
		goto out;
	}
	if (version == SQ_SCHEMA_VERSION) {
		r = sq_tx_commit(c);
		goto out;
	}
	for (int v = version; v < SQ_SCHEMA_VERSION; v++) {
		char what[32];
		snprintf(what, sizeof(what), "migration %d", v + 1);
		if ((r = sq_exec(c, sq_migrations[v], what)) != SG_OK)
			goto out;
	}
	char set[48];
	snprintf(set, sizeof(set), "PRAGMA user_version = %d", SQ_SCHEMA_VERSION);
	if ((r = sq_exec(c, set, "user_version")) != SG_OK)
		goto out;
	if ((r = sq_tx_commit(c)) != SG_OK)
		goto out;
	sg_info("store: schema migrated from version %d to %d", version, SQ_SCHEMA_VERSION);
out:
	if (r != SG_OK)
		sq_tx_rollback(c);
	return r;
}

static void
sq_close(sg_store *s)
{
	if (s == NULL)
		return;
	sq_db *q = s->impl;
	if (q != NULL) {
		for (size_t i = 0; i < q->nreaders; i++)
			sq_conn_close(&q->readers[i]);
		sq_conn_close(&q->writer);
		pthread_mutex_destroy(&q->writer_mu);
		pthread_mutex_destroy(&q->pool_mu);
		pthread_cond_destroy(&q->pool_cv);
		free(q);
	}
	free(s);
}

/* ---- notifications (issue 15): webhooks and the outbox ---- */

/*
 * The dispatcher's own bookkeeping (cursors, new deliveries, claims,
 * attempt outcomes) is written with synchronous=NORMAL: in WAL mode that
 * survives a crash of the process and skips the fsync, so these writes
 * never hold the writer lock through a disk flush that the group committer
 * (the sign path) would wait behind.  A power cut may undo the newest of
 * them, and deliveries are at-least-once anyway: an undone cursor is read
 * again (the same deliveries, by the unique key), an undone DELIVERED is
 * sent again with the same id.  Every other write keeps synchronous=FULL.
 */
static sq_conn *
sq_lazy_write_begin(sq_db *q)
{
	sq_conn *w = sq_write_begin(q);
	(void)sq_exec(w, "PRAGMA synchronous = NORMAL", "notify: synchronous");
	return w;
}

static void
sq_lazy_write_end(sq_db *q, sq_conn *w)
{
	if (sq_exec(w, "PRAGMA synchronous = FULL", "notify: synchronous") != SG_OK)
		sg_error("store: cannot restore synchronous=FULL on the writer");
	sq_write_end(q);
}

static int
sq_row_webhook(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_webhook h;
	memset(&h, 0, sizeof(h));
	SQ_COL_FIELD(&w, h.id);
	SQ_COL_FIELD(&w, h.tenant_id);
	SQ_COL_FIELD(&w, h.url);
	h.events = (unsigned)sq_col_int64(&w);
	sq_col_blob_fixed(&w, h.secret, sizeof(h.secret), 0, &h.secret_len);
	h.secret_sealed = sq_col_int(&w) != 0;
	h.created_at = sq_col_int64(&w);
	if (w.r == SG_OK)
		*(sg_webhook *)out = h;
	sg_webhook_clear(&h);
	return w.r;
}

static void
sq_webhook_clear_fn(void *w)
{
	sg_webhook_clear(w);
}

static int
sq_row_delivery(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_delivery d;
	memset(&d, 0, sizeof(d));
	SQ_COL_FIELD(&w, d.id);
	SQ_COL_FIELD(&w, d.tenant_id);
	SQ_COL_FIELD(&w, d.webhook_id);
	SQ_COL_FIELD(&w, d.recipient);
	SQ_COL_FIELD(&w, d.event);
	SQ_COL_FIELD(&w, d.request_id);
	SQ_COL_FIELD(&w, d.key_id);
	d.audit_seq = sq_col_int64(&w);
	d.body = sq_col_strdup(&w);
	SQ_COL_FIELD(&w, d.status);
	d.attempts = sq_col_int(&w);
	d.last_status = sq_col_int(&w);
	SQ_COL_FIELD(&w, d.last_error);
	d.next_attempt_at = sq_col_int64(&w);
	d.created_at = sq_col_int64(&w);
	d.updated_at = sq_col_int64(&w);
	if (w.r != SG_OK) {
		sg_delivery_clear(&d);
		return w.r;
	}
	*(sg_delivery *)out = d;
	return SG_OK;
}

static void
sq_delivery_clear_fn(void *d)
{
	sg_delivery_clear(d);
}

static int
sq_row_cursor(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_notify_cursor c;
	memset(&c, 0, sizeof(c));
	SQ_COL_FIELD(&w, c.tenant_id);
	c.seq = sq_col_int64(&w);
	c.head = sq_col_int64(&w);
	if (w.r == SG_OK)
		*(sg_notify_cursor *)out = c;
	return w.r;
}

static int
sq_webhook_create(sg_store *s, const sg_webhook *h)
{
	if (h == NULL || h->id[0] == '\0' || h->tenant_id[0] == '\0' || h->url[0] == '\0' ||
	    h->secret_len == 0 || h->secret_len > sizeof(h->secret) || !h->secret_sealed)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(h->id), SQ_FIELD(h->tenant_id), SQ_FIELD(h->url), sq_int(h->events),
	    sq_blob(h->secret, h->secret_len), sq_int(1), sq_int(h->created_at) };
	return sq_write1(s->impl, SQ_WEBHOOK_INSERT, a, SQ_NARGS(a), NULL);
}

static int
sq_webhook_list(sg_store *s, const char *tenant_id, sg_webhook **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_WEBHOOK_LIST, a, SQ_NARGS(a), sizeof(sg_webhook),
	    sq_row_webhook, sq_webhook_clear_fn, (void **)out, n);
}

static int
sq_webhook_get(sg_store *s, const char *tenant_id, const char *id, sg_webhook *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	return sq_get_one(s->impl, SQ_WEBHOOK_GET, a, SQ_NARGS(a), sq_row_webhook, out);
}

static int
sq_webhook_list_unsealed(sg_store *s, sg_webhook **out, size_t *n)
{
	if (out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return sq_get_list(s->impl, SQ_WEBHOOK_UNSEALED, NULL, 0, sizeof(sg_webhook),
	    sq_row_webhook, sq_webhook_clear_fn, (void **)out, n);
}

/*
 * The UPDATE replaces the row's cell; secure_delete (set on every
 * connection) zeroes the space the old cell leaves in its page, so the new
 * page image holds no clear secret.  Older images of that page may still
 * sit in the write-ahead log (and the database file until a checkpoint):
 * a TRUNCATE checkpoint copies the new image into the database file and
 * cuts the log to zero bytes.  It needs no reader in the way, which holds
 * at start, where this runs; a busy one is logged and left to the
 * automatic checkpoints, which overwrite those pages soon after.
 */
static int
sq_webhook_seal(sg_store *s, const char *tenant_id, const char *id, const uint8_t *blob,
    size_t blob_len)
{
	sq_db *q = s->impl;
	int changes = 0, log_frames = 0, done_frames = 0;

	if (sq_bad_str(tenant_id) || sq_bad_str(id) || blob == NULL || blob_len == 0 ||
	    blob_len > SG_WEBHOOK_SEALED_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_blob(blob, blob_len), sq_str(tenant_id), sq_str(id) };
	sq_conn *w = sq_write_begin(q);
	int r = sq_run(w, SQ_WEBHOOK_SEAL, a, SQ_NARGS(a), &changes);
	if (r == SG_OK && changes == 0)
		r = SG_ERR_NOT_FOUND;
	if (r == SG_OK) {
		int rc = sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
		    &log_frames, &done_frames);
		if (rc != SQLITE_OK)
			sg_warn("store: cannot truncate the write-ahead log after sealing webhook %s's "
			    "secret now (%s); later checkpoints overwrite it", id, sqlite3_errstr(rc));
	}
	sq_write_end(q);
	return r;
}

static int
sq_webhook_delete(sg_store *s, const char *tenant_id, const char *id)
{
	sq_db *q = s->impl;
	int changes = 0;
	int r = SG_ERR_INTERNAL;

	if (sq_bad_str(tenant_id) || sq_bad_str(id))
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	if ((r = sq_run(w, SQ_WEBHOOK_DELETE, a, SQ_NARGS(a), &changes)) != SG_OK)
		goto out;
	if (changes == 0) {
		r = SG_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = sq_run(w, SQ_WEBHOOK_DELETE_DELIVERIES, a, SQ_NARGS(a), NULL)) != SG_OK)
		goto out;
	r = sq_tx_commit(w);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

static int
sq_notify_behind(sg_store *s, sg_notify_cursor **out, size_t *n)
{
	if (out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return sq_get_list(s->impl, SQ_NOTIFY_BEHIND, NULL, 0, sizeof(sg_notify_cursor),
	    sq_row_cursor, NULL, (void **)out, n);
}

static int
sq_notify_enqueue(sg_store *s, const char *tenant_id, int64_t seq, const sg_delivery *d, size_t n)
{
	sq_db *q = s->impl;
	int r = SG_ERR_INTERNAL;

	if (sq_bad_str(tenant_id) || seq < 0 || (n > 0 && d == NULL))
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_lazy_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const sg_delivery *x = &d[i];
		if (x->id[0] == '\0' || x->body == NULL || strcmp(x->tenant_id, tenant_id) != 0) {
			r = SG_ERR_INVALID_ARGUMENT;
			goto out;
		}
		sq_arg a[] = { SQ_FIELD(x->id), SQ_FIELD(x->tenant_id), SQ_FIELD(x->webhook_id),
		    SQ_FIELD(x->recipient), SQ_FIELD(x->event), SQ_FIELD(x->request_id),
		    SQ_FIELD(x->key_id), sq_int(x->audit_seq), sq_str(x->body), SQ_FIELD(x->status),
		    sq_int(x->attempts), sq_int(x->last_status), SQ_FIELD(x->last_error),
		    sq_int(x->next_attempt_at), sq_int(x->created_at), sq_int(x->updated_at) };
		if ((r = sq_run(w, SQ_DELIVERY_INSERT, a, SQ_NARGS(a), NULL)) != SG_OK)
			goto out;
	}
	sq_arg c[] = { sq_str(tenant_id), sq_int(seq) };
	if ((r = sq_run(w, SQ_NOTIFY_SET_CURSOR, c, SQ_NARGS(c), NULL)) != SG_OK)
		goto out;
	r = sq_tx_commit(w);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_lazy_write_end(q, w);
	return r;
}

static int
sq_delivery_claim(sg_store *s, int64_t now, int64_t lease_ms, size_t max, sg_delivery **out,
    size_t *n)
{
	sq_db *q = s->impl;
	sg_delivery *list = NULL;
	size_t count = 0;
	int r = SG_ERR_INTERNAL;

	if (lease_ms <= 0 || out == NULL || n == NULL || max > INT32_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	/* Idle senders poll: look on a reader first, so they take the writer only for work. */
	int64_t due = 0;
	sq_arg d[] = { sq_int(now) };
	sq_conn *rd = sq_read_begin(q);
	r = sq_scalar_on(rd, SQ_DELIVERY_DUE, d, SQ_NARGS(d), &due);
	sq_read_end(q, rd);
	if (r != SG_OK)
		return r;
	if (due == 0) {
		*out = NULL;
		*n = 0;
		return SG_OK;
	}
	sq_conn *w = sq_lazy_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_int(now), sq_int(lease_ms), sq_int((int64_t)max) };
	if ((r = sq_list_on(w, SQ_DELIVERY_CLAIM, a, SQ_NARGS(a), sizeof(sg_delivery),
	    sq_row_delivery, sq_delivery_clear_fn, (void **)&list, &count)) != SG_OK)
		goto out;
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	*out = list;
	*n = count;
	list = NULL;
	count = 0;
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_lazy_write_end(q, w);
	sg_delivery_list_free(list, count);
	return r;
}

static int
sq_delivery_finish(sg_store *s, const sg_delivery *d, int64_t now)
{
	int changes = 0;
	if (d == NULL || d->id[0] == '\0' || d->tenant_id[0] == '\0' || d->status[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(d->status), sq_int(d->attempts), sq_int(d->last_status),
	    SQ_FIELD(d->last_error), sq_int(d->next_attempt_at), sq_int(now), SQ_FIELD(d->id),
	    SQ_FIELD(d->tenant_id) };
	sq_db *q = s->impl;
	sq_conn *w = sq_lazy_write_begin(q);
	int r = sq_run(w, SQ_DELIVERY_FINISH, a, SQ_NARGS(a), &changes);
	sq_lazy_write_end(q, w);
	if (r == SG_OK && changes == 0)
		r = SG_ERR_NOT_FOUND;
	return r;
}

static int
sq_delivery_list(sg_store *s, const char *tenant_id, const char *webhook_id, int64_t limit,
    sg_delivery **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(webhook_id) || limit < 1 || limit > 1000 ||
	    out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(webhook_id), sq_int(limit) };
	return sq_get_list(s->impl, SQ_DELIVERY_LIST, a, SQ_NARGS(a), sizeof(sg_delivery),
	    sq_row_delivery, sq_delivery_clear_fn, (void **)out, n);
}

static int
sq_row_tsa_key(sqlite3_stmt *st, void *out)
{
	sq_row w = { st, 0, SG_OK };
	sg_tsa_key_record k;
	memset(&k, 0, sizeof(k));
	SQ_COL_FIELD(&w, k.alg);
	SQ_COL_FIELD(&w, k.storage);
	k.handle = sq_col_blob_dup(&w, &k.handle_len);
	k.cert_pem = sq_col_strdup(&w);
	k.created_at = sq_col_int64(&w);
	if (w.r == SG_OK && (k.handle == NULL || k.cert_pem == NULL))
		w.r = SG_ERR_STORE;
	if (w.r == SG_OK) {
		*(sg_tsa_key_record *)out = k;
		return SG_OK;
	}
	sg_tsa_key_record_clear(&k);
	return w.r;
}

static int
sq_tsa_key_get(sg_store *s, sg_tsa_key_record *out)
{
	if (out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return sq_get_one(s->impl, SQ_TSA_KEY_GET, NULL, 0, sq_row_tsa_key, out);
}

static int
sq_tsa_key_put(sg_store *s, const sg_tsa_key_record *k)
{
	if (k == NULL || k->alg[0] == '\0' || k->storage[0] == '\0' || k->handle == NULL ||
	    k->handle_len == 0 || k->cert_pem == NULL || k->cert_pem[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(k->alg), SQ_FIELD(k->storage), sq_blob(k->handle, k->handle_len),
	    sq_str(k->cert_pem), sq_int(k->created_at) };
	return sq_write1(s->impl, SQ_TSA_KEY_INSERT, a, SQ_NARGS(a), NULL);
}

static const sg_store_ops sq_ops = {
	.name = "sqlite",
	.tenant_create = sq_tenant_create,
	.tenant_get = sq_tenant_get,
	.tenant_get_by_name = sq_tenant_get_by_name,
	.principal_create = sq_principal_create,
	.principal_get = sq_principal_get,
	.principal_list = sq_principal_list,
	.principal_update = sq_principal_update,
	.principal_delete = sq_principal_delete,
	.api_key_create = sq_api_key_create,
	.api_key_find = sq_api_key_find,
	.api_key_list = sq_api_key_list,
	.api_key_revoke = sq_api_key_revoke,
	.client_cert_add = sq_client_cert_add,
	.client_cert_find = sq_client_cert_find,
	.key_create = sq_key_create,
	.key_get = sq_key_get,
	.key_list = sq_key_list,
	.key_set_status = sq_key_set_status,
	.key_add_version = sq_key_add_version,
	.key_version_get = sq_key_version_get,
	.key_version_list = sq_key_version_list,
	.key_version_destroy = sq_key_version_destroy,
	.key_version_set_cert = sq_key_version_set_cert,
	.request_get = sq_request_get,
	.signature_get = sq_signature_get,
	.commit_batch = sq_commit_batch,
	.policy_create = sq_policy_create,
	.policy_get = sq_policy_get,
	.policy_list = sq_policy_list,
	.request_create = sq_request_create,
	.request_list = sq_request_list,
	.request_claim = sq_request_claim,
	.request_transition = sq_request_transition,
	.request_count_by_status = sq_request_count_by_status,
	.request_find_idempotent = sq_request_find_idempotent,
	.idempotency_purge = sq_idempotency_purge,
	.approval_add = sq_approval_add,
	.approval_list = sq_approval_list,
	.request_expire_approvals = sq_request_expire_approvals,
	.audit_append = sq_audit_append,
	.audit_list = sq_audit_list,
	.audit_head = sq_audit_head,
	.webhook_create = sq_webhook_create,
	.webhook_list = sq_webhook_list,
	.webhook_get = sq_webhook_get,
	.webhook_delete = sq_webhook_delete,
	.webhook_list_unsealed = sq_webhook_list_unsealed,
	.webhook_seal = sq_webhook_seal,
	.notify_behind = sq_notify_behind,
	.notify_enqueue = sq_notify_enqueue,
	.delivery_claim = sq_delivery_claim,
	.delivery_finish = sq_delivery_finish,
	.delivery_list = sq_delivery_list,
	.tsa_key_get = sq_tsa_key_get,
	.tsa_key_put = sq_tsa_key_put,
	.ping = sq_ping,
	.close = sq_close,
};

/*
 * The database holds key handles: a new file is created 0600 before SQLite
 * sees it, and SQLite gives its -wal and -shm files the same mode.
 */
static int
sq_create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		sg_error("store: create %s: %s", path, strerror(errno));
		return SG_ERR_UNAVAILABLE;
	}
	close(fd);
	return SG_OK;
}

int
sg_store_sqlite_open(const char *path, sg_store **out)
{
	sg_store *s = NULL;
	sq_db *q = NULL;
	int r = SG_ERR_INTERNAL;

	if (path == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (!sqlite3_threadsafe()) {
		sg_error("store: SQLite was built without thread support");
		return SG_ERR_STORE;
	}
	int in_memory = path[0] == '\0' || strcmp(path, ":memory:") == 0;
	if ((s = calloc(1, sizeof(*s))) == NULL || (q = calloc(1, sizeof(*q))) == NULL) {
		free(s);
		return SG_ERR_NOMEM;
	}
	s->ops = &sq_ops;
	s->impl = q;
	pthread_mutex_init(&q->writer_mu, NULL);
	pthread_mutex_init(&q->pool_mu, NULL);
	pthread_cond_init(&q->pool_cv, NULL);

	if (!in_memory && (r = sq_create_private(path)) != SG_OK)
		goto out;
	if ((r = sq_conn_open(path, 0, &q->writer)) != SG_OK)
		goto out;
	if (!in_memory && (r = sq_set_wal(&q->writer)) != SG_OK)
		goto out;
	/* After a burst, give the disk back when the log restarts. */
	if ((r = sq_exec(&q->writer, "PRAGMA journal_size_limit = 67108864;", "pragmas")) != SG_OK)
		goto out;
	if ((r = sq_migrate(&q->writer)) != SG_OK)
		goto out;
	if (!in_memory) {
		for (size_t i = 0; i < SQ_READERS; i++) {
			if ((r = sq_conn_open(path, 1, &q->readers[i])) != SG_OK)
				goto out;
			q->nreaders++;
			q->free_readers[q->nfree++] = i;
		}
	}
	sg_store *cached = NULL;
	if ((r = sg_store_cache_wrap(s, SG_STORE_CACHE_TTL_MS, &cached)) != SG_OK)
		goto out;
	*out = cached;
	s = NULL;
	r = SG_OK;
out:
	sq_close(s);
	return r;
}
