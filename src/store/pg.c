/*
 * pg.c - the PostgreSQL back-end of sg_store (sg_store_pg_open).
 *
 * Several signetd nodes share one database (SPEC §6), so everything the
 * SQLite store gets from its single writer is obtained here from
 * PostgreSQL itself, in READ COMMITTED transactions:
 *   - queue claims take due rows with FOR UPDATE SKIP LOCKED and give them a
 *     lease; a PROCESSING row whose lease ran out is claimable again;
 *   - a request is signed at most once: the request upsert leaves a SIGNED
 *     row alone (reported as a conflict) and signatures.request_id is UNIQUE;
 *   - a tenant's audit chain is appended under a lock on its chain_heads row
 *     (created on first use by an upsert that also locks it), so appends from
 *     all nodes form one chain; batches lock their tenants' heads in sorted
 *     order, after their request rows, like every other writer;
 *   - votes lock the request row (FOR UPDATE) and the rules of
 *     sg_store_rules.h run under that lock; one vote per approver is the
 *     primary key; idempotency keys are a unique index;
 *   - TSA serials are nextval of a sequence with CACHE 1.
 * Serialization failures and deadlocks re-run the transaction (pg_tx).
 * Connections, statements and errors: pg_conn.c; the SQL: pg_stmts.c; the
 * schema: pg_schema.c.
 * A destroyed key version's handle is set to NULL; PostgreSQL keeps the old
 * row version until VACUUM reclaims it, so overwriting it first (as the
 * SQLite store does) would not help: the handle is a sealed blob or an HSM
 * id, never a clear key, either way.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg_int.h"
#include "sg_log.h"
#include "sg_store_records.h"
#include "sg_store_rules.h"
#include "sg_util.h"

static int
pg_bad_str(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/*
 * One record per row, read by the column tables of sg_store_records.h (the
 * PG_*_COLS lists above are in their order); each writes *out only on success.
 */
static int
pg_row_tenant(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_tenant, out);
}

static int
pg_row_principal(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_principal, out);
}

static int
pg_row_api_key(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_api_key, out);
}

static int
pg_row_client_cert(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_client_cert, out);
}

static int
pg_row_key(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_key, out);
}

static int
pg_row_key_version(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_key_version, out);
}

static int
pg_row_request(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_request, out);
}

static int
pg_row_signature(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_signature, out);
}

static int
pg_row_policy(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_policy, out);
}

static int
pg_row_approval(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_approval, out);
}

static int
pg_row_audit(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_audit, out);
}

static int
pg_row_webhook(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_webhook, out);
}

static int
pg_row_delivery(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_delivery, out);
}

static int
pg_row_cursor(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_notify_cursor, out);
}

static int
pg_row_tsa_key(pg_row *w, void *out)
{
	return pg_read_record(w, &sg_rec_tsa_key, out);
}

static int
pg_row_int64(pg_row *w, void *out)
{
	int64_t v = pg_col_int64(w);
	if (w->r == SG_OK)
		*(int64_t *)out = v;
	return w->r;
}

static void
pg_request_clear_fn(void *r)
{
	sg_request_clear(r);
}

static void
pg_key_version_clear_fn(void *v)
{
	sg_key_version_clear(v);
}

static void
pg_policy_clear_fn(void *p)
{
	sg_policy_clear(p);
}

static void
pg_audit_clear_fn(void *e)
{
	sg_audit_entry_clear(e);
}

static void
pg_webhook_clear_fn(void *w)
{
	sg_webhook_clear(w);
}

static void
pg_delivery_clear_fn(void *d)
{
	sg_delivery_clear(d);
}

/* Inside a transaction: the statement's first row into out (SG_ERR_NOT_FOUND without one). */
static int
pg_one_on(pg_conn *c, int id, const pg_arg *a, size_t n, pg_row_fn fn, void *out)
{
	PGresult *res = NULL;
	int r = pg_exec(c, id, a, n, &res, NULL);
	if (r == SG_OK)
		r = pg_res_one(res, fn, out);
	PQclear(res);
	return r;
}

static int
pg_list_on(pg_conn *c, int id, const pg_arg *a, size_t n, size_t size, pg_row_fn fn,
    void (*clear)(void *), void **out, size_t *count)
{
	PGresult *res = NULL;
	int r = pg_exec(c, id, a, n, &res, NULL);
	if (r == SG_OK)
		r = pg_res_list(res, size, fn, clear, out, count);
	PQclear(res);
	return r;
}

/* ---- the audit chain ---- */

static const uint8_t pg_zero_hash[32];

/* Lock tenant_id's chain head until commit (creating it) and read it. */
static int
pg_audit_lock_head(pg_conn *c, const char *tenant_id, int64_t *seq, uint8_t hash[32])
{
	PGresult *res = NULL;
	pg_arg a[] = { pg_str(tenant_id), pg_blob(pg_zero_hash, sizeof(pg_zero_hash)) };
	int r = pg_exec(c, PG_AUDIT_LOCK_HEAD, a, PG_NARGS(a), &res, NULL);
	if (r == SG_OK) {
		if (PQntuples(res) != 1) {
			r = SG_ERR_STORE;
		} else {
			pg_row w = { res, 0, 0, SG_OK };
			int64_t s = pg_col_int64(&w);
			uint8_t h[32];
			pg_col_blob_fixed(&w, h, sizeof(h), sizeof(h), NULL);
			if ((r = w.r) == SG_OK) {
				*seq = s;
				memcpy(hash, h, 32);
			}
		}
	}
	PQclear(res);
	return r;
}

/* Insert x, already linked (sg_audit_link), into the log. */
static int
pg_audit_insert(pg_conn *c, const sg_audit_entry *x)
{
	pg_arg a[] = { pg_int(x->seq), PG_FIELD(x->tenant_id), pg_int(x->ts), PG_FIELD(x->actor),
	    PG_FIELD(x->action), PG_FIELD(x->object), pg_str(x->details),
	    pg_blob(x->prev_hash, sizeof(x->prev_hash)), pg_blob(x->hash, sizeof(x->hash)) };
	return pg_exec(c, PG_AUDIT_INSERT, a, PG_NARGS(a), NULL, NULL);
}

static int
pg_audit_set_head(pg_conn *c, const char *tenant_id, int64_t seq, const uint8_t hash[32])
{
	pg_arg a[] = { pg_str(tenant_id), pg_int(seq), pg_blob(hash, 32) };
	return pg_exec(c, PG_AUDIT_SET_HEAD, a, PG_NARGS(a), NULL, NULL);
}

/*
 * Append e to its tenant's chain inside the caller's transaction; *x gets
 * the linked copy (shallow: details stays e's), for the caller to copy into
 * e once committed.
 */
static int
pg_audit_append_on(pg_conn *c, const sg_audit_entry *e, sg_audit_entry *x)
{
	char tenant[SG_ID_MAX];
	int64_t seq = 0;
	uint8_t hash[32];
	int r;

	if (e->action[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sg_strlcpy(tenant, e->tenant_id, sizeof(tenant));
	if ((r = pg_audit_lock_head(c, tenant, &seq, hash)) != SG_OK)
		return r;
	*x = *e;
	if ((r = sg_audit_link(x, seq, hash)) != SG_OK)
		return r;
	if ((r = pg_audit_insert(c, x)) != SG_OK)
		return r;
	return pg_audit_set_head(c, tenant, x->seq, x->hash);
}

/* Copy the place a committed entry took into the caller's entry. */
static void
pg_link_fill(sg_audit_entry *e, const sg_audit_entry *x)
{
	if (e == NULL)
		return;
	e->seq = x->seq;
	memcpy(e->prev_hash, x->prev_hash, sizeof(e->prev_hash));
	memcpy(e->hash, x->hash, sizeof(e->hash));
}

/*
 * The common shape of a write: one statement (optional; changes must be 1
 * when require_one, else SG_ERR_NOT_FOUND) and its audit entry (optional),
 * in one transaction.
 */
typedef struct pg_write_ctx {
	int id;
	const pg_arg *a;
	size_t n;
	int require_one;
	sg_audit_entry *audit;
	sg_audit_entry linked;
} pg_write_ctx;

static int
pg_write_on(pg_conn *c, void *ctx)
{
	pg_write_ctx *x = ctx;
	int changes = 0;
	int r;

	if (x->id >= 0) {
		if ((r = pg_exec(c, x->id, x->a, x->n, NULL, &changes)) != SG_OK)
			return r;
		if (x->require_one && changes != 1)
			return SG_ERR_NOT_FOUND;
	}
	if (x->audit != NULL)
		return pg_audit_append_on(c, x->audit, &x->linked);
	return SG_OK;
}

static int
pg_write_with_audit(pg_db *d, int id, const pg_arg *a, size_t n, sg_audit_entry *audit)
{
	pg_write_ctx x = { .id = id, .a = a, .n = n, .audit = audit };
	int r = pg_tx(d, pg_write_on, &x);
	if (r == SG_OK)
		pg_link_fill(audit, &x.linked);
	return r;
}

/* ---- tenants ---- */

static int
pg_tenant_create(sg_store *s, const sg_tenant *t)
{
	if (t == NULL || t->id[0] == '\0' || t->name[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(t->id), PG_FIELD(t->name), pg_int(t->created_at) };
	return pg_write1(s->impl, PG_TENANT_INSERT, a, PG_NARGS(a), NULL);
}

static int
pg_tenant_get(sg_store *s, const char *id, sg_tenant *out)
{
	if (pg_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(id) };
	return pg_get_one(s->impl, PG_TENANT_GET, a, PG_NARGS(a), pg_row_tenant, out);
}

static int
pg_tenant_get_by_name(sg_store *s, const char *name, sg_tenant *out)
{
	if (pg_bad_str(name) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(name) };
	return pg_get_one(s->impl, PG_TENANT_GET_BY_NAME, a, PG_NARGS(a), pg_row_tenant, out);
}

/* ---- principals and credentials ---- */

static int
pg_principal_create(sg_store *s, const sg_principal *p)
{
	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0' || p->name[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(p->id), PG_FIELD(p->tenant_id), PG_FIELD(p->name),
	    pg_int(p->roles), pg_int(p->created_at), PG_FIELD(p->default_policy), PG_FIELD(p->email) };
	return pg_write1(s->impl, PG_PRINCIPAL_INSERT, a, PG_NARGS(a), NULL);
}

static int
pg_principal_update(sg_store *s, const sg_principal *p)
{
	int changes = 0;
	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_int(p->roles), PG_FIELD(p->default_policy), PG_FIELD(p->email),
	    PG_FIELD(p->tenant_id), PG_FIELD(p->id) };
	int r = pg_write1(s->impl, PG_PRINCIPAL_UPDATE, a, PG_NARGS(a), &changes);
	if (r == SG_OK && changes != 1)
		r = SG_ERR_NOT_FOUND;
	return r;
}

static int
pg_principal_get(sg_store *s, const char *tenant_id, const char *id, sg_principal *out)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(id) };
	return pg_get_one(s->impl, PG_PRINCIPAL_GET, a, PG_NARGS(a), pg_row_principal, out);
}

static int
pg_principal_list(sg_store *s, const char *tenant_id, sg_principal **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id) };
	return pg_get_list(s->impl, PG_PRINCIPAL_LIST, a, PG_NARGS(a), sizeof(sg_principal),
	    pg_row_principal, NULL, (void **)out, n);
}

typedef struct pg_principal_delete_ctx {
	const char *tenant_id;
	const char *id;
	int64_t now;
} pg_principal_delete_ctx;

static int
pg_principal_delete_on(pg_conn *c, void *ctx)
{
	pg_principal_delete_ctx *x = ctx;
	int changes = 0;
	int r;

	pg_arg revoke[] = { pg_int(x->now), pg_str(x->tenant_id), pg_str(x->id) };
	if ((r = pg_exec(c, PG_PRINCIPAL_REVOKE_KEYS, revoke, PG_NARGS(revoke), NULL, NULL)) != SG_OK)
		return r;
	pg_arg by[] = { pg_str(x->tenant_id), pg_str(x->id) };
	if ((r = pg_exec(c, PG_PRINCIPAL_DELETE_CERTS, by, PG_NARGS(by), NULL, NULL)) != SG_OK)
		return r;
	if ((r = pg_exec(c, PG_PRINCIPAL_DELETE, by, PG_NARGS(by), NULL, &changes)) != SG_OK)
		return r;
	return changes == 0 ? SG_ERR_NOT_FOUND : SG_OK;
}

static int
pg_principal_delete(sg_store *s, const char *tenant_id, const char *id)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(id))
		return SG_ERR_INVALID_ARGUMENT;
	pg_principal_delete_ctx x = { tenant_id, id, sg_now_ms() };
	return pg_tx(s->impl, pg_principal_delete_on, &x);
}

static int
pg_api_key_create(sg_store *s, const sg_api_key *k)
{
	int changes = 0;
	int r;

	if (k == NULL || k->id[0] == '\0' || k->principal_id[0] == '\0' ||
	    k->tenant_id[0] == '\0' || k->prefix[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(k->id), PG_FIELD(k->principal_id), PG_FIELD(k->tenant_id),
	    PG_FIELD(k->prefix), pg_blob(k->hash, sizeof(k->hash)), pg_int(k->created_at),
	    pg_int(k->revoked_at) };
	if ((r = pg_write1(s->impl, PG_API_KEY_INSERT, a, PG_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;  /* no such principal in the tenant */
}

static int
pg_api_key_find(sg_store *s, const char *prefix, sg_api_key *out)
{
	if (pg_bad_str(prefix) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(prefix) };
	return pg_get_one(s->impl, PG_API_KEY_FIND, a, PG_NARGS(a), pg_row_api_key, out);
}

static int
pg_api_key_list(sg_store *s, const char *tenant_id, const char *principal_id,
    sg_api_key **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id),
	    pg_str(principal_id != NULL && principal_id[0] != '\0' ? principal_id : NULL) };
	return pg_get_list(s->impl, PG_API_KEY_LIST, a, PG_NARGS(a), sizeof(sg_api_key),
	    pg_row_api_key, NULL, (void **)out, n);
}

static int
pg_api_key_revoke(sg_store *s, const char *tenant_id, const char *id, int64_t when)
{
	int changes = 0;
	int r;

	if (pg_bad_str(tenant_id) || pg_bad_str(id))
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_int(when), pg_str(tenant_id), pg_str(id) };
	if ((r = pg_write1(s->impl, PG_API_KEY_REVOKE, a, PG_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

static int
pg_client_cert_add(sg_store *s, const sg_client_cert *c)
{
	int changes = 0;
	int r;

	if (c == NULL || c->id[0] == '\0' || c->principal_id[0] == '\0' || c->tenant_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(c->id), PG_FIELD(c->principal_id), PG_FIELD(c->tenant_id),
	    pg_blob(c->fingerprint, sizeof(c->fingerprint)), PG_FIELD(c->subject),
	    pg_int(c->created_at) };
	if ((r = pg_write1(s->impl, PG_CERT_INSERT, a, PG_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

static int
pg_client_cert_find(sg_store *s, const uint8_t fingerprint[32], sg_client_cert *out)
{
	if (fingerprint == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_blob(fingerprint, 32) };
	return pg_get_one(s->impl, PG_CERT_FIND, a, PG_NARGS(a), pg_row_client_cert, out);
}

/* ---- keys ---- */

static int
pg_version_insert(pg_conn *c, const char *key_id, const sg_key_version *v)
{
	if (v->spki == NULL || v->spki_len == 0)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(key_id), pg_int(v->version),
	    v->state[0] != '\0' ? PG_FIELD(v->state) : pg_str("ACTIVE"),
	    pg_blob(v->spki, v->spki_len), pg_blob_or_null(v->handle, v->handle_len),
	    pg_str(v->cert_chain_pem), pg_int(v->created_at), pg_int(v->destroyed_at) };
	return pg_exec(c, PG_VERSION_INSERT, a, PG_NARGS(a), NULL, NULL);
}

typedef struct pg_key_create_ctx {
	const sg_key *k;
	const sg_key_version *v1;
	const char *alg;
} pg_key_create_ctx;

static int
pg_key_create_on(pg_conn *c, void *ctx)
{
	pg_key_create_ctx *x = ctx;
	const sg_key *k = x->k;
	int r;

	pg_arg a[] = { PG_FIELD(k->id), PG_FIELD(k->tenant_id), PG_FIELD(k->alias), pg_str(x->alg),
	    PG_FIELD(k->storage), PG_FIELD(k->type), PG_FIELD(k->status), pg_int(1),
	    pg_int(k->created_at), pg_int(k->updated_at) };
	if ((r = pg_exec(c, PG_KEY_INSERT, a, PG_NARGS(a), NULL, NULL)) != SG_OK)
		return r;
	return pg_version_insert(c, k->id, x->v1);
}

static int
pg_key_create(sg_store *s, const sg_key *k, const sg_key_version *v1)
{
	if (k == NULL || v1 == NULL || v1->version != 1 || k->id[0] == '\0' ||
	    k->tenant_id[0] == '\0' || k->alias[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	const char *alg = sg_key_alg_name(k->alg);
	if (alg == NULL)
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	if (v1->spki == NULL || v1->spki_len == 0)
		return SG_ERR_INVALID_ARGUMENT;
	pg_key_create_ctx x = { k, v1, alg };
	return pg_tx(s->impl, pg_key_create_on, &x);
}

static int
pg_key_get(sg_store *s, const char *tenant_id, const char *id_or_alias, sg_key *out)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(id_or_alias) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(id_or_alias) };
	int r = pg_get_one(s->impl, PG_KEY_GET, a, PG_NARGS(a), pg_row_key, out);
	if (r == SG_ERR_NOT_FOUND)
		r = pg_get_one(s->impl, PG_KEY_GET_ALIAS, a, PG_NARGS(a), pg_row_key, out);
	return r;
}

static int
pg_key_list(sg_store *s, const char *tenant_id, sg_key **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id) };
	return pg_get_list(s->impl, PG_KEY_LIST, a, PG_NARGS(a), sizeof(sg_key), pg_row_key,
	    NULL, (void **)out, n);
}

static int
pg_key_set_status(sg_store *s, const char *tenant_id, const char *key_id, const char *status,
    int64_t when)
{
	int changes = 0;
	int r;

	if (pg_bad_str(tenant_id) || pg_bad_str(key_id) || pg_bad_str(status))
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(status), pg_int(when), pg_str(tenant_id), pg_str(key_id) };
	if ((r = pg_write1(s->impl, PG_KEY_SET_STATUS, a, PG_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

typedef struct pg_add_version_ctx {
	const char *tenant_id;
	const sg_key_version *v;
} pg_add_version_ctx;

static int
pg_key_add_version_on(pg_conn *c, void *ctx)
{
	pg_add_version_ctx *x = ctx;
	int64_t current = 0;
	int r;

	pg_arg key[] = { pg_str(x->tenant_id), PG_FIELD(x->v->key_id) };
	if ((r = pg_one_on(c, PG_KEY_CURRENT, key, PG_NARGS(key), pg_row_int64, &current)) != SG_OK)
		return r;
	if ((int64_t)x->v->version != current + 1)
		return SG_ERR_CONFLICT;
	if ((r = pg_version_insert(c, x->v->key_id, x->v)) != SG_OK)
		return r;
	pg_arg cur[] = { pg_int(x->v->version), pg_int(x->v->created_at), PG_FIELD(x->v->key_id) };
	return pg_exec(c, PG_KEY_SET_CURRENT, cur, PG_NARGS(cur), NULL, NULL);
}

static int
pg_key_add_version(sg_store *s, const char *tenant_id, const sg_key_version *v)
{
	if (pg_bad_str(tenant_id) || v == NULL || v->key_id[0] == '\0' || v->version < 1)
		return SG_ERR_INVALID_ARGUMENT;
	pg_add_version_ctx x = { tenant_id, v };
	return pg_tx(s->impl, pg_key_add_version_on, &x);
}

static int
pg_key_version_get(sg_store *s, const char *tenant_id, const char *key_id, int version,
    sg_key_version *out)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(key_id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(key_id), pg_int(version), pg_str(tenant_id) };
	return pg_get_one(s->impl, PG_VERSION_GET, a, PG_NARGS(a), pg_row_key_version, out);
}

static int
pg_key_version_list(sg_store *s, const char *tenant_id, const char *key_id,
    sg_key_version **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(key_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(key_id), pg_str(tenant_id) };
	return pg_get_list(s->impl, PG_VERSION_LIST, a, PG_NARGS(a), sizeof(sg_key_version),
	    pg_row_key_version, pg_key_version_clear_fn, (void **)out, n);
}

typedef struct pg_destroy_ctx {
	const char *tenant_id;
	const char *key_id;
	int version;
	int64_t when;
} pg_destroy_ctx;

static int
pg_key_version_destroy_on(pg_conn *c, void *ctx)
{
	pg_destroy_ctx *x = ctx;
	int changes = 0;
	int64_t one = 0;
	int r;

	pg_arg a[] = { pg_int(x->when), pg_str(x->key_id), pg_int(x->version), pg_str(x->tenant_id) };
	if ((r = pg_exec(c, PG_VERSION_DESTROY, a, PG_NARGS(a), NULL, &changes)) != SG_OK)
		return r;
	if (changes > 0)
		return SG_OK;
	/* Already destroyed is fine; missing is not. */
	pg_arg e[] = { pg_str(x->key_id), pg_int(x->version), pg_str(x->tenant_id) };
	return pg_one_on(c, PG_VERSION_EXISTS, e, PG_NARGS(e), pg_row_int64, &one);
}

static int
pg_key_version_destroy(sg_store *s, const char *tenant_id, const char *key_id, int version,
    int64_t when)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(key_id))
		return SG_ERR_INVALID_ARGUMENT;
	pg_destroy_ctx x = { tenant_id, key_id, version, when };
	return pg_tx(s->impl, pg_key_version_destroy_on, &x);
}

static int
pg_key_version_set_cert(sg_store *s, const char *tenant_id, const char *key_id, int version,
    const char *pem)
{
	int changes = 0;
	int r;

	if (pg_bad_str(tenant_id) || pg_bad_str(key_id))
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(pem), pg_str(key_id), pg_int(version), pg_str(tenant_id) };
	if ((r = pg_write1(s->impl, PG_VERSION_SET_CERT, a, PG_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

/* ---- audit ---- */

static int
pg_audit_append(sg_store *s, sg_audit_entry *e)
{
	if (e == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (e->action[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	return pg_write_with_audit(s->impl, -1, NULL, 0, e);
}

static int
pg_audit_list(sg_store *s, const char *tenant_id, int64_t after, int64_t limit,
    sg_audit_entry **out, size_t *n)
{
	if (tenant_id == NULL || limit < 1 || limit > 10000 || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_int(after), pg_int(limit) };
	return pg_get_list(s->impl, PG_AUDIT_LIST, a, PG_NARGS(a), sizeof(sg_audit_entry),
	    pg_row_audit, pg_audit_clear_fn, (void **)out, n);
}

typedef struct pg_head {
	int64_t seq;
	uint8_t hash[32];
} pg_head;

static int
pg_row_head(pg_row *w, void *out)
{
	pg_head h;
	h.seq = pg_col_int64(w);
	pg_col_blob_fixed(w, h.hash, sizeof(h.hash), sizeof(h.hash), NULL);
	if (w->r == SG_OK)
		*(pg_head *)out = h;
	return w->r;
}

static int
pg_audit_head(sg_store *s, const char *tenant_id, int64_t *seq, uint8_t hash[32])
{
	pg_head h;
	if (tenant_id == NULL || seq == NULL || hash == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id) };
	int r = pg_get_one(s->impl, PG_AUDIT_HEAD, a, PG_NARGS(a), pg_row_head, &h);
	if (r == SG_ERR_NOT_FOUND) {
		h.seq = 0;
		memset(h.hash, 0, sizeof(h.hash));
		r = SG_OK;
	}
	if (r == SG_OK) {
		*seq = h.seq;
		memcpy(hash, h.hash, sizeof(h.hash));
	}
	return r;
}

/* ---- policies ---- */

static int
pg_policy_create(sg_store *s, const sg_policy *p, sg_audit_entry *audit)
{
	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0' || p->project[0] == '\0' ||
	    p->slug[0] == '\0' || p->key_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(p->id), PG_FIELD(p->tenant_id), PG_FIELD(p->project),
	    PG_FIELD(p->slug), PG_FIELD(p->key_id), pg_str(p->allowed_hash_algorithms),
	    pg_str(p->allowed_signature_algorithms), pg_int(p->allow_fast != 0),
	    pg_int(p->approvals_required), pg_str(p->approvers),
	    pg_int(p->approval_timeout_seconds), pg_str(p->required_metadata),
	    pg_int(p->allow_legacy_hashes != 0), pg_int(p->timestamp != 0), pg_int(p->created_at) };
	return pg_write_with_audit(s->impl, PG_POLICY_INSERT, a, PG_NARGS(a), audit);
}

static int
pg_policy_get(sg_store *s, const char *tenant_id, const char *project, const char *slug,
    sg_policy *out)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(project) || pg_bad_str(slug) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(project), pg_str(slug) };
	return pg_get_one(s->impl, PG_POLICY_GET, a, PG_NARGS(a), pg_row_policy, out);
}

static int
pg_policy_list(sg_store *s, const char *tenant_id, sg_policy **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id) };
	return pg_get_list(s->impl, PG_POLICY_LIST, a, PG_NARGS(a), sizeof(sg_policy),
	    pg_row_policy, pg_policy_clear_fn, (void **)out, n);
}

/* ---- requests and signatures ---- */

static int
pg_request_get(sg_store *s, const char *tenant_id, const char *id, sg_request *out)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(id) };
	return pg_get_one(s->impl, PG_REQUEST_GET, a, PG_NARGS(a), pg_row_request, out);
}

static int
pg_signature_get(sg_store *s, const char *tenant_id, const char *id, sg_signature *out)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(id) };
	return pg_get_one(s->impl, PG_SIGNATURE_GET, a, PG_NARGS(a), pg_row_signature, out);
}

/* Insert (PG_REQUEST_INSERT) or upsert (PG_REQUEST_UPSERT) request q. */
static int
pg_request_write(pg_conn *c, int id, const sg_request *q)
{
	int changes = 0;
	int r;

	if (!sg_rule_request_valid(q))
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(q->id), PG_FIELD(q->tenant_id), PG_FIELD(q->principal_id),
	    PG_FIELD(q->key_id), pg_int(q->key_version), PG_FIELD(q->policy),
	    PG_FIELD(q->hash_alg), PG_FIELD(q->sig_scheme), PG_FIELD(q->sig_format),
	    pg_int(q->pss_salt_len), pg_blob(q->digest, q->digest_len),
	    pg_blob(q->context, q->context_len), pg_int(q->timestamp != 0),
	    pg_str(q->metadata_json), PG_FIELD(q->status), pg_str(q->error),
	    PG_FIELD(q->signature_id), PG_FIELD(q->original_request_id), PG_FIELD(q->client_ip),
	    PG_FIELD(q->client_type), pg_int(q->attempts), pg_int(q->created_at),
	    pg_int(q->updated_at), PG_FIELD(q->description), pg_int(q->approvals_required),
	    pg_int(q->approval_deadline), pg_int(q->next_attempt_at), pg_int(q->lease_until),
	    q->idempotency_key[0] != '\0' ? PG_FIELD(q->idempotency_key) : pg_str(NULL),
	    pg_blob(q->body_hash, sizeof(q->body_hash)) };
	if ((r = pg_exec(c, id, a, PG_NARGS(a), NULL, &changes)) != SG_OK)
		return r;
	if (changes != 1) {
		sg_warn("store: request %.40s is signed already or belongs to another tenant", q->id);
		return SG_ERR_CONFLICT;
	}
	return SG_OK;
}

static int
pg_signature_insert(pg_conn *c, const sg_signature *g)
{
	if (!sg_rule_signature_valid(g))
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(g->id), PG_FIELD(g->request_id), PG_FIELD(g->tenant_id),
	    PG_FIELD(g->key_id), pg_int(g->key_version), PG_FIELD(g->hash_alg),
	    PG_FIELD(g->sig_scheme), PG_FIELD(g->sig_format), pg_blob(g->digest, g->digest_len),
	    pg_blob(g->signature, g->signature_len),
	    pg_blob_or_null(g->timestamp_token, g->timestamp_token_len),
	    pg_str(g->metadata_json), PG_FIELD(g->created_by), PG_FIELD(g->client_ip),
	    PG_FIELD(g->client_type), pg_int(g->created_at) };
	return pg_exec(c, PG_SIGNATURE_INSERT, a, PG_NARGS(a), NULL, NULL);
}

typedef struct pg_batch_ctx {
	const sg_request *const *reqs;
	const sg_signature *const *sigs;
	sg_audit_entry *const *audits;
	size_t n;
	sg_audit_entry *linked;   /* [n] */
	sg_audit_head *heads;     /* [n] */
	size_t nheads;
} pg_batch_ctx;

static int
pg_head_cmp(const void *a, const void *b)
{
	const sg_audit_head *x = a, *y = b;
	return strncmp(x->tenant_id, y->tenant_id, sizeof(x->tenant_id));
}

/*
 * Requests and signatures first, then the chain heads of the batch's
 * tenants, locked in sorted order (every writer takes request rows before
 * heads, so batches from two nodes cannot wait on each other in a cycle),
 * then the entries, then the heads written once each.
 */
static int
pg_commit_batch_on(pg_conn *c, void *ctx)
{
	pg_batch_ctx *x = ctx;
	int r;

	x->nheads = 0;
	for (size_t i = 0; i < x->n; i++) {
		if ((r = pg_request_write(c, PG_REQUEST_UPSERT, x->reqs[i])) != SG_OK)
			return r;
		if (x->sigs != NULL && x->sigs[i] != NULL &&
		    (r = pg_signature_insert(c, x->sigs[i])) != SG_OK)
			return r;
	}
	if (x->audits == NULL)
		return SG_OK;
	for (size_t i = 0; i < x->n; i++) {
		const sg_audit_entry *e = x->audits[i];
		if (e == NULL || sg_audit_head_find(x->heads, x->nheads, e->tenant_id) != NULL)
			continue;
		sg_strlcpy(x->heads[x->nheads].tenant_id, e->tenant_id, SG_ID_MAX);
		x->nheads++;
	}
	qsort(x->heads, x->nheads, sizeof(*x->heads), pg_head_cmp);
	for (size_t i = 0; i < x->nheads; i++)
		if ((r = pg_audit_lock_head(c, x->heads[i].tenant_id, &x->heads[i].seq,
		    x->heads[i].hash)) != SG_OK)
			return r;
	for (size_t i = 0; i < x->n; i++) {
		const sg_audit_entry *e = x->audits[i];
		if (e == NULL)
			continue;
		sg_audit_head *h = sg_audit_head_find(x->heads, x->nheads, e->tenant_id);
		if (h == NULL)
			return SG_ERR_INTERNAL;
		x->linked[i] = *e;
		if ((r = sg_audit_link(&x->linked[i], h->seq, h->hash)) != SG_OK)
			return r;
		if ((r = pg_audit_insert(c, &x->linked[i])) != SG_OK)
			return r;
		h->seq = x->linked[i].seq;
		memcpy(h->hash, x->linked[i].hash, sizeof(h->hash));
	}
	for (size_t i = 0; i < x->nheads; i++)
		if ((r = pg_audit_set_head(c, x->heads[i].tenant_id, x->heads[i].seq,
		    x->heads[i].hash)) != SG_OK)
			return r;
	return SG_OK;
}

static int
pg_commit_batch(sg_store *s, const sg_request *const *reqs, const sg_signature *const *sigs,
    sg_audit_entry *const *audits, size_t n)
{
	pg_batch_ctx x = { reqs, sigs, audits, n, NULL, NULL, 0 };
	int r = SG_ERR_INTERNAL;

	if (n == 0)
		return SG_OK;
	if ((r = sg_rule_batch_valid(reqs, sigs, n)) != SG_OK)
		return r;
	if (audits != NULL) {
		for (size_t i = 0; i < n; i++)
			if (audits[i] != NULL && audits[i]->action[0] == '\0')
				return SG_ERR_INVALID_ARGUMENT;
		if ((x.linked = calloc(n, sizeof(*x.linked))) == NULL ||
		    (x.heads = calloc(n, sizeof(*x.heads))) == NULL) {
			free(x.linked);
			return SG_ERR_NOMEM;
		}
	}
	r = pg_tx(s->impl, pg_commit_batch_on, &x);
	for (size_t i = 0; r == SG_OK && audits != NULL && i < n; i++)
		if (audits[i] != NULL)
			pg_link_fill(audits[i], &x.linked[i]);
	free(x.linked);
	free(x.heads);
	return r;
}

/* ---- the workflow: queue, approvals, idempotency ---- */

typedef struct pg_create_ctx {
	const sg_request *rq;
	sg_audit_entry *audit;
	sg_audit_entry linked;
} pg_create_ctx;

static int
pg_request_create_on(pg_conn *c, void *ctx)
{
	pg_create_ctx *x = ctx;
	int r;
	if ((r = pg_request_write(c, PG_REQUEST_INSERT, x->rq)) != SG_OK)
		return r;
	if (x->audit != NULL)
		return pg_audit_append_on(c, x->audit, &x->linked);
	return SG_OK;
}

/* For sg_store_test_request_create (pg_test.c): tests only, not in sg_store_ops. */
int
pg_request_create(sg_store *s, const sg_request *rq, sg_audit_entry *audit)
{
	if (rq == NULL || !sg_rule_request_valid(rq))
		return SG_ERR_INVALID_ARGUMENT;
	pg_create_ctx x = { rq, audit, { 0 } };
	int r = pg_tx(s->impl, pg_request_create_on, &x);
	if (r == SG_OK)
		pg_link_fill(audit, &x.linked);
	return r;
}

static int
pg_request_list(sg_store *s, const char *tenant_id, const char *status, int64_t limit,
    sg_request **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || limit < 1 || limit > 1000 || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(status != NULL && status[0] != '\0' ? status : NULL),
	    pg_int(limit) };
	return pg_get_list(s->impl, PG_REQUEST_LIST, a, PG_NARGS(a), sizeof(sg_request),
	    pg_row_request, pg_request_clear_fn, (void **)out, n);
}

/*
 * One statement, atomic by itself: rows come back claimed (or not at all).
 * A claim whose answer is lost with the connection is not lost work: its
 * lease runs out and the rows are claimed again.
 */
static int
pg_request_claim(sg_store *s, int64_t now, int64_t lease_ms, size_t max, sg_request **out,
    size_t *n)
{
	sg_request *list = NULL;
	size_t count = 0;

	if (lease_ms <= 0 || out == NULL || n == NULL || max > INT32_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	if (max == 0) {
		*out = NULL;
		*n = 0;
		return SG_OK;
	}
	pg_arg a[] = { pg_int(now), pg_int(lease_ms), pg_int((int64_t)max) };
	int r = pg_claim_list(s->impl, PG_REQUEST_CLAIM, a, PG_NARGS(a), sizeof(sg_request),
	    pg_row_request, pg_request_clear_fn, (void **)&list, &count);
	if (r != SG_OK)
		return r;
	if (count > 1)
		qsort(list, count, sizeof(*list), sg_request_cmp_age);
	*out = list;
	*n = count;
	return SG_OK;
}

typedef struct pg_transition_ctx {
	const char *tenant_id, *id, *from, *to, *error;
	int64_t next_attempt_at, now;
	int attempts;
	sg_audit_entry *audit;
	sg_audit_entry linked;
} pg_transition_ctx;

static int
pg_request_transition_on(pg_conn *c, void *ctx)
{
	pg_transition_ctx *x = ctx;
	int changes = 0;
	int r;

	pg_arg a[] = { pg_str(x->to), pg_str(x->error), pg_int(x->next_attempt_at), pg_int(x->now),
	    pg_str(x->tenant_id), pg_str(x->id), pg_str(x->from), pg_int(x->attempts) };
	if ((r = pg_exec(c, PG_REQUEST_TRANSITION, a, PG_NARGS(a), NULL, &changes)) != SG_OK)
		return r;
	if (changes == 0) {
		int64_t one = 0;
		pg_arg e[] = { pg_str(x->tenant_id), pg_str(x->id) };
		r = pg_one_on(c, PG_REQUEST_EXISTS, e, PG_NARGS(e), pg_row_int64, &one);
		return r == SG_OK ? SG_ERR_PRECONDITION : r;  /* it exists, in another state */
	}
	if (x->audit != NULL)
		return pg_audit_append_on(c, x->audit, &x->linked);
	return SG_OK;
}

static int
pg_request_transition(sg_store *s, const char *tenant_id, const char *id, const char *from,
    const char *to, int attempts, const char *error, int64_t next_attempt_at, int64_t now,
    sg_audit_entry *audit)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(id) || pg_bad_str(from) || pg_bad_str(to))
		return SG_ERR_INVALID_ARGUMENT;
	pg_transition_ctx x = { tenant_id, id, from, to, error, next_attempt_at, now, attempts,
	    audit, { 0 } };
	int r = pg_tx(s->impl, pg_request_transition_on, &x);
	if (r == SG_OK)
		pg_link_fill(audit, &x.linked);
	return r;
}

static int
pg_request_count_by_status(sg_store *s, const char *const *statuses, size_t n, int64_t *counts)
{
	int64_t *tmp = NULL;
	int r = SG_ERR_INTERNAL;

	if (n == 0)
		return SG_OK;
	if (statuses == NULL || counts == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++)
		if (statuses[i] == NULL)
			return SG_ERR_INVALID_ARGUMENT;
	if ((tmp = calloc(n, sizeof(*tmp))) == NULL)
		return SG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		pg_arg a[] = { pg_str(statuses[i]) };
		if ((r = pg_get_one(s->impl, PG_REQUEST_COUNT, a, PG_NARGS(a), pg_row_int64,
		    &tmp[i])) != SG_OK)
			goto out;
	}
	memcpy(counts, tmp, n * sizeof(*tmp));
	r = SG_OK;
out:
	free(tmp);
	return r;
}

static int
pg_request_find_idempotent(sg_store *s, const char *tenant_id, const char *principal_id,
    const char *key, sg_request *out)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(principal_id) || pg_bad_str(key) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(principal_id), pg_str(key), pg_str(tenant_id) };
	return pg_get_one(s->impl, PG_REQUEST_FIND_IDEMPOTENT, a, PG_NARGS(a), pg_row_request, out);
}

static int
pg_idempotency_purge(sg_store *s, int64_t before)
{
	pg_arg a[] = { pg_int(before) };
	return pg_write1(s->impl, PG_IDEMPOTENCY_PURGE, a, PG_NARGS(a), NULL);
}

typedef struct pg_vote_info {
	char submitter[SG_ID_MAX];
	char status[SG_STATUS_MAX];
	int64_t required;
	int64_t deadline;
} pg_vote_info;

static int
pg_row_vote_info(pg_row *w, void *out)
{
	pg_vote_info v;
	memset(&v, 0, sizeof(v));
	PG_COL_FIELD(w, v.submitter);
	PG_COL_FIELD(w, v.status);
	v.required = pg_col_int64(w);
	v.deadline = pg_col_int64(w);
	if (w->r == SG_OK)
		*(pg_vote_info *)out = v;
	return w->r;
}

typedef struct pg_vote_ctx {
	const sg_approval *a;
	sg_audit_entry *audit;
	sg_audit_entry linked;
	char status[SG_STATUS_MAX];
} pg_vote_ctx;

/* The rules of sg_store_rules.h, applied under the request row's lock. */
static int
pg_approval_add_on(pg_conn *c, void *ctx)
{
	pg_vote_ctx *x = ctx;
	const sg_approval *a = x->a;
	pg_vote_info info;
	int64_t approved = 0;
	int r;

	pg_arg key[] = { PG_FIELD(a->tenant_id), PG_FIELD(a->request_id) };
	if ((r = pg_one_on(c, PG_REQUEST_VOTE_INFO, key, PG_NARGS(key), pg_row_vote_info,
	    &info)) != SG_OK)
		return r;
	if ((r = sg_rule_vote_allowed(a, info.submitter, info.status, info.deadline)) != SG_OK)
		return r;
	pg_arg vote[] = { PG_FIELD(a->request_id), PG_FIELD(a->tenant_id), PG_FIELD(a->approver_id),
	    PG_FIELD(a->decision), PG_FIELD(a->comment), pg_int(a->created_at) };
	if ((r = pg_exec(c, PG_APPROVAL_INSERT, vote, PG_NARGS(vote), NULL, NULL)) != SG_OK)
		return r;  /* a second vote by the same approver is a primary-key conflict */
	if (x->audit != NULL && (r = pg_audit_append_on(c, x->audit, &x->linked)) != SG_OK)
		return r;
	if (sg_rule_vote_counts(a)) {
		pg_arg cnt[] = { PG_FIELD(a->request_id) };
		if ((r = pg_one_on(c, PG_APPROVAL_COUNT, cnt, PG_NARGS(cnt), pg_row_int64,
		    &approved)) != SG_OK)
			return r;
	}
	sg_vote_outcome o;
	sg_rule_vote_outcome(a, approved, info.required, &o);
	sg_strlcpy(x->status, info.status, sizeof(x->status));
	if (o.to != NULL) {
		sg_audit_entry moved;
		pg_arg set[] = { pg_str(o.to), pg_int(a->created_at), pg_int(a->created_at),
		    PG_FIELD(a->request_id) };
		if ((r = pg_exec(c, PG_REQUEST_SET_STATUS, set, PG_NARGS(set), NULL, NULL)) != SG_OK)
			return r;
		if ((r = pg_audit_append_on(c, &o.audit, &moved)) != SG_OK)
			return r;
		sg_strlcpy(x->status, o.to, sizeof(x->status));
	}
	return SG_OK;
}

static int
pg_approval_add(sg_store *s, const sg_approval *a, sg_audit_entry *audit,
    char new_status[SG_STATUS_MAX])
{
	int r;
	if ((r = sg_rule_vote_valid(a)) != SG_OK)
		return r;
	pg_vote_ctx x = { a, audit, { 0 }, "" };
	if ((r = pg_tx(s->impl, pg_approval_add_on, &x)) != SG_OK)
		return r;
	pg_link_fill(audit, &x.linked);
	if (new_status != NULL)
		sg_strlcpy(new_status, x.status, SG_STATUS_MAX);
	return SG_OK;
}

static int
pg_approval_list(sg_store *s, const char *tenant_id, const char *request_id,
    sg_approval **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(request_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(request_id) };
	return pg_get_list(s->impl, PG_APPROVAL_LIST, a, PG_NARGS(a), sizeof(sg_approval),
	    pg_row_approval, NULL, (void **)out, n);
}

typedef struct pg_expire_ctx {
	int64_t now;
	sg_request *list;
	size_t count;
} pg_expire_ctx;

/* By tenant (the order pg_head_cmp locks chain heads in), then oldest first. */
static int
pg_request_cmp_tenant_age(const void *a, const void *b)
{
	const sg_request *x = a, *y = b;
	int t = strncmp(x->tenant_id, y->tenant_id, sizeof(x->tenant_id));
	return t != 0 ? t : sg_request_cmp_age(a, b);
}

/*
 * The expired requests' entries are appended tenant by tenant in sorted
 * order, oldest first within a tenant: chain heads are then locked in the
 * order pg_commit_batch_on locks them, so a sweep and a batch on another
 * node cannot wait on each other in a cycle (a deadlock, found after
 * deadlock_timeout and run again: a stall).
 */
static int
pg_expire_on(pg_conn *c, void *ctx)
{
	pg_expire_ctx *x = ctx;
	int r;

	sg_request_list_free(x->list, x->count);  /* from an attempt that was rolled back */
	x->list = NULL;
	x->count = 0;
	pg_arg a[] = { pg_int(x->now), pg_str(SG_RULE_EXPIRED_STATUS), pg_str(SG_RULE_EXPIRED_ERROR) };
	if ((r = pg_list_on(c, PG_REQUEST_EXPIRE, a, PG_NARGS(a), sizeof(sg_request), pg_row_request,
	    pg_request_clear_fn, (void **)&x->list, &x->count)) != SG_OK)
		return r;
	if (x->count > 1)
		qsort(x->list, x->count, sizeof(*x->list), pg_request_cmp_tenant_age);
	for (size_t i = 0; i < x->count; i++) {
		sg_audit_entry e, linked;
		sg_rule_expiry_audit(&x->list[i], x->now, &e);
		if ((r = pg_audit_append_on(c, &e, &linked)) != SG_OK)
			return r;
	}
	if (x->count > 1)
		qsort(x->list, x->count, sizeof(*x->list), sg_request_cmp_age);  /* the answer's order */
	return SG_OK;
}

static int
pg_request_expire_approvals(sg_store *s, int64_t now, sg_request **out, size_t *n)
{
	if (n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_expire_ctx x = { now, NULL, 0 };
	int r = pg_tx(s->impl, pg_expire_on, &x);
	if (r == SG_OK) {
		*n = x.count;
		if (out != NULL) {
			*out = x.list;
			x.list = NULL;
		}
	}
	sg_request_list_free(x.list, x.count);
	return r;
}

/* ---- notifications ---- */

static int
pg_webhook_create(sg_store *s, const sg_webhook *h)
{
	if (h == NULL || h->id[0] == '\0' || h->tenant_id[0] == '\0' || h->url[0] == '\0' ||
	    h->secret_len == 0 || h->secret_len > sizeof(h->secret) || !h->secret_sealed)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(h->id), PG_FIELD(h->tenant_id), PG_FIELD(h->url), pg_int(h->events),
	    pg_blob(h->secret, h->secret_len), pg_int(1), pg_int(h->created_at) };
	return pg_write1(s->impl, PG_WEBHOOK_INSERT, a, PG_NARGS(a), NULL);
}

static int
pg_webhook_list(sg_store *s, const char *tenant_id, sg_webhook **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id) };
	return pg_get_list(s->impl, PG_WEBHOOK_LIST, a, PG_NARGS(a), sizeof(sg_webhook),
	    pg_row_webhook, pg_webhook_clear_fn, (void **)out, n);
}

static int
pg_webhook_get(sg_store *s, const char *tenant_id, const char *id, sg_webhook *out)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(id) };
	return pg_get_one(s->impl, PG_WEBHOOK_GET, a, PG_NARGS(a), pg_row_webhook, out);
}

static int
pg_webhook_list_unsealed(sg_store *s, sg_webhook **out, size_t *n)
{
	if (out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return pg_get_list(s->impl, PG_WEBHOOK_UNSEALED, NULL, 0, sizeof(sg_webhook),
	    pg_row_webhook, pg_webhook_clear_fn, (void **)out, n);
}

/*
 * PostgreSQL keeps the replaced row version until VACUUM; the secret the
 * store held in clear is there until then (a version that sealed secrets
 * from its first release never writes one: this path is for rows written
 * by hand or imported).
 */
static int
pg_webhook_seal(sg_store *s, const char *tenant_id, const char *id, const uint8_t *blob,
    size_t blob_len)
{
	int changes = 0;
	if (pg_bad_str(tenant_id) || pg_bad_str(id) || blob == NULL || blob_len == 0 ||
	    blob_len > SG_WEBHOOK_SEALED_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_blob(blob, blob_len), pg_str(tenant_id), pg_str(id) };
	int r = pg_write1(s->impl, PG_WEBHOOK_SEAL, a, PG_NARGS(a), &changes);
	if (r == SG_OK && changes == 0)
		r = SG_ERR_NOT_FOUND;
	return r;
}

typedef struct pg_pair_ctx {
	const char *tenant_id;
	const char *id;
} pg_pair_ctx;

static int
pg_webhook_delete_on(pg_conn *c, void *ctx)
{
	pg_pair_ctx *x = ctx;
	int changes = 0;
	int r;
	pg_arg a[] = { pg_str(x->tenant_id), pg_str(x->id) };
	if ((r = pg_exec(c, PG_WEBHOOK_DELETE, a, PG_NARGS(a), NULL, &changes)) != SG_OK)
		return r;
	if (changes == 0)
		return SG_ERR_NOT_FOUND;
	return pg_exec(c, PG_WEBHOOK_DELETE_DELIVERIES, a, PG_NARGS(a), NULL, NULL);
}

static int
pg_webhook_delete(sg_store *s, const char *tenant_id, const char *id)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(id))
		return SG_ERR_INVALID_ARGUMENT;
	pg_pair_ctx x = { tenant_id, id };
	return pg_tx(s->impl, pg_webhook_delete_on, &x);
}

static int
pg_notify_behind(sg_store *s, sg_notify_cursor **out, size_t *n)
{
	if (out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return pg_get_list(s->impl, PG_NOTIFY_BEHIND, NULL, 0, sizeof(sg_notify_cursor),
	    pg_row_cursor, NULL, (void **)out, n);
}

typedef struct pg_enqueue_ctx {
	const char *tenant_id;
	int64_t seq;
	const sg_delivery *d;
	size_t n;
} pg_enqueue_ctx;

static int
pg_notify_enqueue_on(pg_conn *c, void *ctx)
{
	pg_enqueue_ctx *x = ctx;
	int r;
	for (size_t i = 0; i < x->n; i++) {
		const sg_delivery *d = &x->d[i];
		pg_arg a[] = { PG_FIELD(d->id), PG_FIELD(d->tenant_id), PG_FIELD(d->webhook_id),
		    PG_FIELD(d->recipient), PG_FIELD(d->event), PG_FIELD(d->request_id),
		    PG_FIELD(d->key_id), pg_int(d->audit_seq), pg_str(d->body), PG_FIELD(d->status),
		    pg_int(d->attempts), pg_int(d->last_status), PG_FIELD(d->last_error),
		    pg_int(d->next_attempt_at), pg_int(d->created_at), pg_int(d->updated_at) };
		if ((r = pg_exec(c, PG_DELIVERY_INSERT, a, PG_NARGS(a), NULL, NULL)) != SG_OK)
			return r;
	}
	pg_arg cur[] = { pg_str(x->tenant_id), pg_int(x->seq) };
	return pg_exec(c, PG_NOTIFY_SET_CURSOR, cur, PG_NARGS(cur), NULL, NULL);
}

static int
pg_notify_enqueue(sg_store *s, const char *tenant_id, int64_t seq, const sg_delivery *d, size_t n)
{
	if (pg_bad_str(tenant_id) || seq < 0 || (n > 0 && d == NULL))
		return SG_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++)
		if (d[i].id[0] == '\0' || d[i].body == NULL ||
		    strncmp(d[i].tenant_id, tenant_id, sizeof(d[i].tenant_id)) != 0)
			return SG_ERR_INVALID_ARGUMENT;
	pg_enqueue_ctx x = { tenant_id, seq, d, n };
	return pg_tx(s->impl, pg_notify_enqueue_on, &x);
}

static int
pg_delivery_claim(sg_store *s, int64_t now, int64_t lease_ms, size_t max, sg_delivery **out,
    size_t *n)
{
	if (lease_ms <= 0 || out == NULL || n == NULL || max > INT32_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	if (max == 0) {
		*out = NULL;
		*n = 0;
		return SG_OK;
	}
	pg_arg a[] = { pg_int(now), pg_int(lease_ms), pg_int((int64_t)max) };
	return pg_claim_list(s->impl, PG_DELIVERY_CLAIM, a, PG_NARGS(a), sizeof(sg_delivery),
	    pg_row_delivery, pg_delivery_clear_fn, (void **)out, n);
}

static int
pg_delivery_finish(sg_store *s, const sg_delivery *d, int64_t now)
{
	int changes = 0;
	if (d == NULL || d->id[0] == '\0' || d->tenant_id[0] == '\0' || d->status[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(d->status), pg_int(d->attempts), pg_int(d->last_status),
	    PG_FIELD(d->last_error), pg_int(d->next_attempt_at), pg_int(now), PG_FIELD(d->id),
	    PG_FIELD(d->tenant_id) };
	int r = pg_write1(s->impl, PG_DELIVERY_FINISH, a, PG_NARGS(a), &changes);
	if (r == SG_OK && changes == 0)
		r = SG_ERR_NOT_FOUND;
	return r;
}

static int
pg_delivery_list(sg_store *s, const char *tenant_id, const char *webhook_id, int64_t limit,
    sg_delivery **out, size_t *n)
{
	if (pg_bad_str(tenant_id) || pg_bad_str(webhook_id) || limit < 1 || limit > 1000 ||
	    out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { pg_str(tenant_id), pg_str(webhook_id), pg_int(limit) };
	return pg_get_list(s->impl, PG_DELIVERY_LIST, a, PG_NARGS(a), sizeof(sg_delivery),
	    pg_row_delivery, pg_delivery_clear_fn, (void **)out, n);
}

/* ---- the TSA ---- */

static int
pg_tsa_key_get(sg_store *s, sg_tsa_key_record *out)
{
	if (out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return pg_get_one(s->impl, PG_TSA_KEY_GET, NULL, 0, pg_row_tsa_key, out);
}

static int
pg_tsa_key_put(sg_store *s, const sg_tsa_key_record *k)
{
	if (k == NULL || k->alg[0] == '\0' || k->storage[0] == '\0' || k->handle == NULL ||
	    k->handle_len == 0 || k->cert_pem == NULL || k->cert_pem[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	pg_arg a[] = { PG_FIELD(k->alg), PG_FIELD(k->storage), pg_blob(k->handle, k->handle_len),
	    pg_str(k->cert_pem), pg_int(k->created_at) };
	return pg_write1(s->impl, PG_TSA_KEY_INSERT, a, PG_NARGS(a), NULL);
}

/* nextval is never rolled back and never handed out twice, on any node. */
static int
pg_tsa_serial_next(sg_store *s, uint64_t *out)
{
	int64_t v = 0;
	if (out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	int r = pg_get_one(s->impl, PG_TSA_SERIAL_NEXT, NULL, 0, pg_row_int64, &v);
	if (r == SG_OK && v <= 0)
		r = SG_ERR_STORE;
	if (r == SG_OK)
		*out = (uint64_t)v;
	return r;
}

/* ---- liveness, opening and closing ---- */

static int
pg_ping(sg_store *s)
{
	int64_t one = 0;
	int r = pg_get_one(s->impl, PG_PING, NULL, 0, pg_row_int64, &one);
	return r == SG_OK ? SG_OK : SG_ERR_UNAVAILABLE;
}

static void
pg_close(sg_store *s)
{
	if (s == NULL)
		return;
	pg_db *d = s->impl;
	if (d != NULL) {
		pg_db_free(d);
		free(d);
	}
	free(s);
}

static const sg_store_ops pg_ops = {
	.name = "postgresql",
	.tenant_create = pg_tenant_create,
	.tenant_get = pg_tenant_get,
	.tenant_get_by_name = pg_tenant_get_by_name,
	.principal_create = pg_principal_create,
	.principal_get = pg_principal_get,
	.principal_list = pg_principal_list,
	.principal_update = pg_principal_update,
	.principal_delete = pg_principal_delete,
	.api_key_create = pg_api_key_create,
	.api_key_find = pg_api_key_find,
	.api_key_list = pg_api_key_list,
	.api_key_revoke = pg_api_key_revoke,
	.client_cert_add = pg_client_cert_add,
	.client_cert_find = pg_client_cert_find,
	.key_create = pg_key_create,
	.key_get = pg_key_get,
	.key_list = pg_key_list,
	.key_set_status = pg_key_set_status,
	.key_add_version = pg_key_add_version,
	.key_version_get = pg_key_version_get,
	.key_version_list = pg_key_version_list,
	.key_version_destroy = pg_key_version_destroy,
	.key_version_set_cert = pg_key_version_set_cert,
	.request_get = pg_request_get,
	.signature_get = pg_signature_get,
	.commit_batch = pg_commit_batch,
	.policy_create = pg_policy_create,
	.policy_get = pg_policy_get,
	.policy_list = pg_policy_list,
	.request_list = pg_request_list,
	.request_claim = pg_request_claim,
	.request_transition = pg_request_transition,
	.request_count_by_status = pg_request_count_by_status,
	.request_find_idempotent = pg_request_find_idempotent,
	.idempotency_purge = pg_idempotency_purge,
	.approval_add = pg_approval_add,
	.approval_list = pg_approval_list,
	.request_expire_approvals = pg_request_expire_approvals,
	.audit_append = pg_audit_append,
	.audit_list = pg_audit_list,
	.audit_head = pg_audit_head,
	.webhook_create = pg_webhook_create,
	.webhook_list = pg_webhook_list,
	.webhook_get = pg_webhook_get,
	.webhook_delete = pg_webhook_delete,
	.webhook_list_unsealed = pg_webhook_list_unsealed,
	.webhook_seal = pg_webhook_seal,
	.notify_behind = pg_notify_behind,
	.notify_enqueue = pg_notify_enqueue,
	.delivery_claim = pg_delivery_claim,
	.delivery_finish = pg_delivery_finish,
	.delivery_list = pg_delivery_list,
	.tsa_key_get = pg_tsa_key_get,
	.tsa_key_put = pg_tsa_key_put,
	.tsa_serial_next = pg_tsa_serial_next,
	.ping = pg_ping,
	.close = pg_close,
};

int
sg_store_pg_open(const char *url, sg_store **out)
{
	sg_store *s = NULL;
	pg_db *d = NULL;
	int r = SG_ERR_INTERNAL;

	if (url == NULL || url[0] == '\0' || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (!PQisthreadsafe()) {
		sg_error("store: libpq was built without thread support");
		return SG_ERR_STORE;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || (d = calloc(1, sizeof(*d))) == NULL) {
		free(s);
		return SG_ERR_NOMEM;
	}
	s->ops = &pg_ops;
	if ((r = pg_db_init(d, url)) != SG_OK) {
		free(d);
		goto out;
	}
	s->impl = d;
	if ((r = pg_migrate(d)) != SG_OK)
		goto out;
	sg_store *cached = NULL;
	if ((r = sg_store_cache_wrap(s, SG_STORE_CACHE_TTL_MS, &cached)) != SG_OK)
		goto out;
	*out = cached;
	s = NULL;
	r = SG_OK;
out:
	pg_close(s);
	return r;
}
