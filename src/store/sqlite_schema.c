/*
 * sqlite_schema.c - the SQLite back-end's schema: the migrations, in order,
 * and bringing a database up to date with them (PRAGMA user_version) in one
 * transaction.  Part of the back-end of sqlite.c; sqlite_int.h joins the
 * pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

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
	 * audit log refuses UPDATE and DELETE; audit_heads (chain_heads since 8) keeps each chain's
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
	/*
	 * 8: audit_heads becomes chain_heads, so that audit_log is the one
	 * table named like %audit% (as on PostgreSQL, SPEC §6).
	 */
	"ALTER TABLE audit_heads RENAME TO chain_heads;",
};

#define SQ_SCHEMA_VERSION ((int)(sizeof(sq_migrations) / sizeof(sq_migrations[0])))

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
int
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
