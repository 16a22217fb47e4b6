/*
 * records.c - the column tables of sg_store_records.h: one line per column,
 * in the order of the back-ends' column lists.
 */
#include "sg_store_records.h"

/* One column of record type REC (defined before each table). */
#define COL(kind, field) COLN(kind, field, #field)
#define COLN(kind, field, name) { name, SG_COL_##kind, 0, offsetof(REC, field), \
	sizeof(((REC *)0)->field), 0 }
/* A blob with its length in field_len. */
#define COLL(kind, field) { #field, SG_COL_##kind, 0, offsetof(REC, field), \
	sizeof(((REC *)0)->field), offsetof(REC, field##_len) }
/* Columns that must not be NULL: with and without a length field. */
#define COLLR(kind, field) { #field, SG_COL_##kind, SG_COL_REQUIRED, offsetof(REC, field), \
	sizeof(((REC *)0)->field), offsetof(REC, field##_len) }
#define COLR(kind, field) { #field, SG_COL_##kind, SG_COL_REQUIRED, offsetof(REC, field), \
	sizeof(((REC *)0)->field), 0 }
#define TABLE(var, label, cols, clear_fn, is_secret) \
	const sg_record_desc var = { label, sizeof(REC), cols, sizeof(cols) / sizeof(cols[0]), \
	    clear_fn, is_secret }

static void
rec_audit_entry_clear(void *r)
{
	sg_audit_entry_clear((sg_audit_entry *)r);
}

static void
rec_delivery_clear(void *r)
{
	sg_delivery_clear((sg_delivery *)r);
}

static void
rec_key_version_clear(void *r)
{
	sg_key_version_clear((sg_key_version *)r);
}

static void
rec_policy_clear(void *r)
{
	sg_policy_clear((sg_policy *)r);
}

static void
rec_request_clear(void *r)
{
	sg_request_clear((sg_request *)r);
}

static void
rec_signature_clear(void *r)
{
	sg_signature_clear((sg_signature *)r);
}

static void
rec_tsa_key_record_clear(void *r)
{
	sg_tsa_key_record_clear((sg_tsa_key_record *)r);
}

static void
rec_webhook_clear(void *r)
{
	sg_webhook_clear((sg_webhook *)r);
}

#define REC sg_tenant
static const sg_col tenant_cols[] = {
	COL(TEXT, id),
	COL(TEXT, name),
	COL(I64, created_at),
};
TABLE(sg_rec_tenant, "tenant", tenant_cols, NULL, 0);
#undef REC

#define REC sg_principal
static const sg_col principal_cols[] = {
	COL(TEXT, id),
	COL(TEXT, tenant_id),
	COL(TEXT, name),
	COL(UINT, roles),
	COL(I64, created_at),
	COL(TEXT, default_policy),
	COL(TEXT, email),
};
TABLE(sg_rec_principal, "principal", principal_cols, NULL, 0);
#undef REC

#define REC sg_api_key
static const sg_col api_key_cols[] = {
	COL(TEXT, id),
	COL(TEXT, principal_id),
	COL(TEXT, tenant_id),
	COL(TEXT, prefix),
	COL(BLOB_EXACT, hash),
	COL(I64, created_at),
	COL(I64, revoked_at),
};
TABLE(sg_rec_api_key, "api key", api_key_cols, NULL, 0);
#undef REC

#define REC sg_client_cert
static const sg_col client_cert_cols[] = {
	COL(TEXT, id),
	COL(TEXT, principal_id),
	COL(TEXT, tenant_id),
	COL(BLOB_EXACT, fingerprint),
	COL(TEXT, subject),
	COL(I64, created_at),
};
TABLE(sg_rec_client_cert, "client cert", client_cert_cols, NULL, 0);
#undef REC

#define REC sg_key
static const sg_col key_cols[] = {
	COL(TEXT, id),
	COL(TEXT, tenant_id),
	COL(TEXT, alias),
	COL(KEY_ALG, alg),
	COL(TEXT, storage),
	COL(TEXT, type),
	COL(TEXT, status),
	COL(INT, current_version),
	COL(I64, created_at),
	COL(I64, updated_at),
};
TABLE(sg_rec_key, "key", key_cols, NULL, 0);
#undef REC

#define REC sg_key_version
static const sg_col key_version_cols[] = {
	COL(TEXT, key_id),
	COL(INT, version),
	COL(TEXT, state),
	COLL(BLOB_DUP, spki),
	COLL(BLOB_DUP, handle),
	COL(TEXT_DUP, cert_chain_pem),
	COL(I64, created_at),
	COL(I64, destroyed_at),
};
TABLE(sg_rec_key_version, "key version", key_version_cols, rec_key_version_clear, 0);
#undef REC

#define REC sg_request
static const sg_col request_cols[] = {
	COL(TEXT, id),
	COL(TEXT, tenant_id),
	COL(TEXT, principal_id),
	COL(TEXT, key_id),
	COL(INT, key_version),
	COL(TEXT, policy),
	COL(TEXT, hash_alg),
	COL(TEXT, sig_scheme),
	COL(TEXT, sig_format),
	COL(INT, pss_salt_len),
	COLL(BLOB, digest),
	COLL(BLOB, context),
	COL(INT, timestamp),
	COL(TEXT_DUP, metadata_json),
	COL(TEXT, status),
	COL(TEXT_DUP, error),
	COL(TEXT, signature_id),
	COL(TEXT, original_request_id),
	COL(TEXT, client_ip),
	COL(TEXT, client_type),
	COL(INT, attempts),
	COL(I64, created_at),
	COL(I64, updated_at),
	COL(TEXT, description),
	COL(INT, approvals_required),
	COL(I64, approval_deadline),
	COL(I64, next_attempt_at),
	COL(I64, lease_until),
	COL(TEXT, idempotency_key),
	COL(BLOB_EXACT, body_hash),
};
TABLE(sg_rec_request, "request", request_cols, rec_request_clear, 0);
#undef REC

#define REC sg_signature
static const sg_col signature_cols[] = {
	COL(TEXT, id),
	COL(TEXT, request_id),
	COL(TEXT, tenant_id),
	COL(TEXT, key_id),
	COL(INT, key_version),
	COL(TEXT, hash_alg),
	COL(TEXT, sig_scheme),
	COL(TEXT, sig_format),
	COLL(BLOB, digest),
	COLL(BLOB_DUP, signature),
	COLL(BLOB_DUP, timestamp_token),
	COL(TEXT_DUP, metadata_json),
	COL(TEXT, created_by),
	COL(TEXT, client_ip),
	COL(TEXT, client_type),
	COL(I64, created_at),
};
TABLE(sg_rec_signature, "signature", signature_cols, rec_signature_clear, 0);
#undef REC

#define REC sg_policy
static const sg_col policy_cols[] = {
	COL(TEXT, id),
	COL(TEXT, tenant_id),
	COL(TEXT, project),
	COL(TEXT, slug),
	COL(TEXT, key_id),
	COL(TEXT_DUP, allowed_hash_algorithms),
	COL(TEXT_DUP, allowed_signature_algorithms),
	COL(INT, allow_fast),
	COL(INT, approvals_required),
	COL(TEXT_DUP, approvers),
	COL(I64, approval_timeout_seconds),
	COL(TEXT_DUP, required_metadata),
	COL(INT, allow_legacy_hashes),
	COL(INT, timestamp),
	COL(I64, created_at),
};
TABLE(sg_rec_policy, "policy", policy_cols, rec_policy_clear, 0);
#undef REC

#define REC sg_approval
static const sg_col approval_cols[] = {
	COL(TEXT, request_id),
	COL(TEXT, tenant_id),
	COL(TEXT, approver_id),
	COL(TEXT, decision),
	COL(TEXT, comment),
	COL(I64, created_at),
};
TABLE(sg_rec_approval, "approval", approval_cols, NULL, 0);
#undef REC

#define REC sg_audit_entry
static const sg_col audit_cols[] = {
	COL(I64, seq),
	COL(TEXT, tenant_id),
	COL(I64, ts),
	COL(TEXT, actor),
	COL(TEXT, action),
	COL(TEXT, object),
	COL(TEXT_DUP, details),
	COL(BLOB_EXACT, prev_hash),
	COL(BLOB_EXACT, hash),
};
TABLE(sg_rec_audit, "audit", audit_cols, rec_audit_entry_clear, 0);
#undef REC

#define REC sg_webhook
static const sg_col webhook_cols[] = {
	COL(TEXT, id),
	COL(TEXT, tenant_id),
	COL(TEXT, url),
	COL(UINT, events),
	COLL(BLOB, secret),
	COLN(BOOL, secret_sealed, "sealed"),
	COL(I64, created_at),
};
TABLE(sg_rec_webhook, "webhook", webhook_cols, rec_webhook_clear, 1);
#undef REC

#define REC sg_delivery
static const sg_col delivery_cols[] = {
	COL(TEXT, id),
	COL(TEXT, tenant_id),
	COL(TEXT, webhook_id),
	COL(TEXT, recipient),
	COL(TEXT, event),
	COL(TEXT, request_id),
	COL(TEXT, key_id),
	COL(I64, audit_seq),
	COL(TEXT_DUP, body),
	COL(TEXT, status),
	COL(INT, attempts),
	COL(INT, last_status),
	COL(TEXT, last_error),
	COL(I64, next_attempt_at),
	COL(I64, created_at),
	COL(I64, updated_at),
};
TABLE(sg_rec_delivery, "delivery", delivery_cols, rec_delivery_clear, 0);
#undef REC

#define REC sg_notify_cursor
static const sg_col notify_cursor_cols[] = {
	COL(TEXT, tenant_id),
	COL(I64, seq),
	COL(I64, head),
};
TABLE(sg_rec_notify_cursor, "notify cursor", notify_cursor_cols, NULL, 0);
#undef REC

#define REC sg_tsa_key_record
static const sg_col tsa_key_cols[] = {
	COL(TEXT, alg),
	COL(TEXT, storage),
	COLLR(BLOB_DUP, handle),
	COLR(TEXT_DUP, cert_pem),
	COL(I64, created_at),
};
TABLE(sg_rec_tsa_key, "tsa key", tsa_key_cols, rec_tsa_key_record_clear, 0);
#undef REC
