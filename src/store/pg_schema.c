/*
 * pg_schema.c - the PostgreSQL store's schema and its migrations.
 *
 * The schema is versioned in the one-row table schema_version.  Migration i
 * brings it from version i to i + 1; append only, a shipped migration is
 * never edited.  signetd migrates at start, in one transaction that first
 * takes a transaction-scoped advisory lock, so several nodes starting at
 * once on an empty database queue behind each other: the first creates
 * everything, the others find the version current.
 *
 * Types: TEXT for names and ids, BYTEA for blobs, BIGINT for every number
 * (times are ms since the epoch).  The tables operators query (SPEC §6):
 * requests (id, status in the API's words), signatures (request_id, one row
 * per signature, UNIQUE: a request is signed at most once on record), and
 * audit_log (tenant_id, prev_hash, hash), which refuses UPDATE, DELETE and
 * TRUNCATE by trigger.  TSA serial numbers come from the sequence
 * tsa_serial without per-session caching.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg_int.h"
#include "sg_log.h"

/* pg_advisory_xact_lock key of the migration: "Signet" in ASCII. */
#define PG_MIGRATION_LOCK "91712171959668"

static const char *const pg_migrations[] = {
	"CREATE TABLE tenants ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE principals ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" name TEXT NOT NULL,"
	" roles BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" default_policy TEXT NOT NULL DEFAULT '',"
	" email TEXT NOT NULL DEFAULT '',"
	" UNIQUE (tenant_id, name));"
	/* No foreign key to principals: a deleted principal's revoked keys stay. */
	"CREATE TABLE api_keys ("
	" id TEXT PRIMARY KEY,"
	" principal_id TEXT NOT NULL,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" prefix TEXT NOT NULL UNIQUE,"
	" hash BYTEA NOT NULL CHECK (length(hash) = 32),"
	" created_at BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX api_keys_principal ON api_keys (tenant_id, principal_id);"
	"CREATE TABLE client_certs ("
	" id TEXT PRIMARY KEY,"
	" principal_id TEXT NOT NULL REFERENCES principals(id),"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" fingerprint BYTEA NOT NULL UNIQUE CHECK (length(fingerprint) = 32),"
	" subject TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE INDEX client_certs_principal ON client_certs (principal_id);"
	"CREATE TABLE keys ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" alias TEXT NOT NULL,"
	" alg TEXT NOT NULL,"
	" storage TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" current_version BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" UNIQUE (tenant_id, alias));"
	"CREATE TABLE key_versions ("
	" key_id TEXT NOT NULL REFERENCES keys(id),"
	" version BIGINT NOT NULL CHECK (version >= 1),"
	" state TEXT NOT NULL,"
	" spki BYTEA NOT NULL,"
	" handle BYTEA,"
	" cert_chain_pem TEXT,"
	" created_at BIGINT NOT NULL,"
	" destroyed_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (key_id, version));"
	"CREATE TABLE requests ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" principal_id TEXT NOT NULL,"
	" key_id TEXT NOT NULL,"
	" key_version BIGINT NOT NULL,"
	" policy TEXT NOT NULL,"
	" hash_alg TEXT NOT NULL,"
	" sig_scheme TEXT NOT NULL,"
	" sig_format TEXT NOT NULL,"
	" pss_salt_len BIGINT NOT NULL,"
	" digest BYTEA NOT NULL,"
	" context BYTEA NOT NULL,"
	" timestamp BIGINT NOT NULL,"
	" metadata_json TEXT,"
	" status TEXT NOT NULL,"
	" error TEXT,"
	" signature_id TEXT NOT NULL,"
	" original_request_id TEXT NOT NULL,"
	" client_ip TEXT NOT NULL,"
	" client_type TEXT NOT NULL,"
	" attempts BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" approvals_required BIGINT NOT NULL DEFAULT 0,"
	" approval_deadline BIGINT NOT NULL DEFAULT 0,"
	" next_attempt_at BIGINT NOT NULL DEFAULT 0,"
	" lease_until BIGINT NOT NULL DEFAULT 0,"
	" idempotency_key TEXT,"
	" body_hash BYTEA);"
	"CREATE INDEX requests_tenant ON requests (tenant_id, created_at);"
	"CREATE INDEX requests_status ON requests (status);"
	/* The workers' queue and the expiry sweep read only these few rows. */
	"CREATE INDEX requests_queue ON requests (created_at, id)"
	" WHERE status IN ('QUEUED', 'PROCESSING');"
	"CREATE INDEX requests_pending ON requests (approval_deadline)"
	" WHERE status = 'PENDING_APPROVAL';"
	/* A purged or absent idempotency key is NULL, so only live keys bind. */
	"CREATE UNIQUE INDEX requests_idempotency ON requests (principal_id, idempotency_key)"
	" WHERE idempotency_key IS NOT NULL;"
	"CREATE TABLE signatures ("
	" id TEXT PRIMARY KEY,"
	" request_id TEXT NOT NULL UNIQUE REFERENCES requests(id),"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" key_id TEXT NOT NULL,"
	" key_version BIGINT NOT NULL,"
	" hash_alg TEXT NOT NULL,"
	" sig_scheme TEXT NOT NULL,"
	" sig_format TEXT NOT NULL,"
	" digest BYTEA NOT NULL,"
	" signature BYTEA NOT NULL,"
	" timestamp_token BYTEA,"
	" metadata_json TEXT,"
	" created_by TEXT NOT NULL,"
	" client_ip TEXT NOT NULL,"
	" client_type TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE policies ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" project TEXT NOT NULL,"
	" slug TEXT NOT NULL,"
	" key_id TEXT NOT NULL REFERENCES keys(id),"
	" allowed_hash_algorithms TEXT,"
	" allowed_signature_algorithms TEXT,"
	" allow_fast BIGINT NOT NULL,"
	" approvals_required BIGINT NOT NULL,"
	" approvers TEXT,"
	" approval_timeout_seconds BIGINT NOT NULL,"
	" required_metadata TEXT,"
	" allow_legacy_hashes BIGINT NOT NULL,"
	" timestamp BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" UNIQUE (tenant_id, project, slug));"
	"CREATE TABLE approvals ("
	" request_id TEXT NOT NULL REFERENCES requests(id),"
	" tenant_id TEXT NOT NULL,"
	" approver_id TEXT NOT NULL,"
	" decision TEXT NOT NULL CHECK (decision IN ('APPROVED', 'REJECTED')),"
	" comment TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" PRIMARY KEY (request_id, approver_id));"
	/* The service's own chain has tenant_id '', hence no foreign key. */
	"CREATE TABLE audit_log ("
	" tenant_id TEXT NOT NULL,"
	" seq BIGINT NOT NULL CHECK (seq >= 1),"
	" ts BIGINT NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" details TEXT,"
	" prev_hash BYTEA NOT NULL CHECK (length(prev_hash) = 32),"
	" hash BYTEA NOT NULL CHECK (length(hash) = 32),"
	" PRIMARY KEY (tenant_id, seq));"
	"CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS"
	" $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;"
	"CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log"
	" FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();"
	"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
	" FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();"
	/*
	 * Each chain's newest (seq, hash); its row is also the lock that orders
	 * appends (chain_heads since migration 2).
	 */
	"CREATE TABLE audit_heads ("
	" tenant_id TEXT PRIMARY KEY,"
	" seq BIGINT NOT NULL,"
	" hash BYTEA NOT NULL CHECK (length(hash) = 32));"
	"CREATE TABLE webhooks ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" url TEXT NOT NULL,"
	" events BIGINT NOT NULL,"
	" secret BYTEA NOT NULL,"
	" sealed BIGINT NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1)),"
	" created_at BIGINT NOT NULL);"
	"CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at);"
	"CREATE TABLE notify_cursors ("
	" tenant_id TEXT PRIMARY KEY,"
	" seq BIGINT NOT NULL);"
	"CREATE TABLE deliveries ("
	" id TEXT PRIMARY KEY,"
	" tenant_id TEXT NOT NULL,"
	" webhook_id TEXT NOT NULL,"
	" recipient TEXT NOT NULL,"
	" event TEXT NOT NULL,"
	" request_id TEXT NOT NULL,"
	" key_id TEXT NOT NULL,"
	" audit_seq BIGINT NOT NULL,"
	" body TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),"
	" attempts BIGINT NOT NULL,"
	" last_status BIGINT NOT NULL,"
	" last_error TEXT NOT NULL,"
	" next_attempt_at BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" UNIQUE (tenant_id, audit_seq, webhook_id, recipient));"
	"CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING';"
	"CREATE INDEX deliveries_webhook ON deliveries (webhook_id, created_at);"
	/* The TSA key: one row at most, never replaced, a keystore handle (no clear key). */
	"CREATE TABLE tsa_key ("
	" id BIGINT PRIMARY KEY CHECK (id = 1),"
	" alg TEXT NOT NULL,"
	" storage TEXT NOT NULL CHECK (storage IN ('DISK', 'HSM')),"
	" handle BYTEA NOT NULL,"
	" cert_pem TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE SEQUENCE tsa_serial AS BIGINT START 1 CACHE 1;",
	/*
	 * 2: audit_heads becomes chain_heads, so that audit_log is the one
	 * table named like %audit% (SPEC §6: operators find it by that name,
	 * and audit_heads, sorting first, has no previous-hash column).
	 */
	"ALTER TABLE audit_heads RENAME TO chain_heads;"
	"ALTER INDEX audit_heads_pkey RENAME TO chain_heads_pkey;"
	"ALTER TABLE chain_heads RENAME CONSTRAINT audit_heads_hash_check TO chain_heads_hash_check;",
};

#define PG_SCHEMA_VERSION ((long)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

static int
pg_migrate_steps(pg_conn *c, long *from)
{
	long version = 0;
	int r;

	/*
	 * Waiting for another node's migration, or a slow one, is no outage:
	 * neither the server's statement_timeout nor the usual deadline applies.
	 */
	if ((r = pg_exec_sql(c, "SET LOCAL statement_timeout = 0", "migration timeout")) != SG_OK)
		return r;
	if ((r = pg_exec_sql(c, "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK ")",
	    "migration lock")) != SG_OK)
		return r;
	if ((r = pg_exec_sql(c, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version BIGINT NOT NULL)", "schema_version")) != SG_OK)
		return r;
	PGresult *res = NULL;
	if ((r = pg_query_sql(c, "SELECT version FROM schema_version", "schema_version",
	    &res)) != SG_OK)
		return r;
	int rows = PQntuples(res);
	if (rows > 0)
		version = strtol(PQgetvalue(res, 0, 0), NULL, 10);  /* text: a simple query */
	PQclear(res);
	if (rows == 0 && (r = pg_exec_sql(c, "INSERT INTO schema_version (version) VALUES (0)",
	    "schema_version")) != SG_OK)
		return r;
	*from = version;
	if (version > PG_SCHEMA_VERSION) {
		sg_error("store: database schema version %ld is newer than this build (%ld)",
		    version, PG_SCHEMA_VERSION);
		return SG_ERR_STORE;
	}
	for (long v = version; v < PG_SCHEMA_VERSION; v++) {
		char what[32];
		snprintf(what, sizeof(what), "migration %ld", v + 1);
		if ((r = pg_exec_sql(c, pg_migrations[v], what)) != SG_OK)
			return r;
	}
	char set[64];
	snprintf(set, sizeof(set), "UPDATE schema_version SET version = %ld", PG_SCHEMA_VERSION);
	return pg_exec_sql(c, set, "schema_version");
}

static int
pg_migrate_on(pg_conn *c, void *ctx)
{
	c->deadline_ms = PG_MIGRATION_DEADLINE_MS;
	int r = pg_migrate_steps(c, ctx);
	c->deadline_ms = 0;
	return r;
}

int
pg_migrate(pg_db *d)
{
	long from = 0;
	int r = pg_tx(d, pg_migrate_on, &from);
	if (r == SG_OK && from != PG_SCHEMA_VERSION)
		sg_info("store: PostgreSQL schema migrated from version %ld to %ld", from,
		    PG_SCHEMA_VERSION);
	return r;
}
