/*
 * sqlite_row.c - from result rows to records: reading typed columns, one
 * reader per record type (each writes its record only when the whole row
 * read cleanly), and the generic "one row", "a scalar" and "a list" reads
 * every operation is built on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

static void
sq_row_fail(sq_row *w, int r)
{
	if (w->r == SG_OK)
		w->r = r;
}

/* Copy text into a fixed field; text that does not fit means a damaged database. */
void
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

int64_t
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
void
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

int
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

int
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

int
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

int
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

int
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

int
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

int
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

int
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

int
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

int
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

int
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
int
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
int
sq_scalar_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, int64_t *out)
{
	return sq_one_on(c, id, a, n, sq_row_int64, out);
}

/*
 * Every row into a malloc'd array of elements of `size` bytes.  No rows
 * give *out = NULL and *count = 0.  On failure the elements read so far are
 * released with clear (optional) and the outputs are untouched.
 */
int
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
int
sq_get_list(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, size_t size,
    sq_row_fn fn, void (*clear)(void *), void **out, size_t *count)
{
	sq_conn *c = sq_read_begin(q);
	int r = sq_list_on(c, id, a, n, size, fn, clear, out, count);
	sq_read_end(q, c);
	return r;
}

/* Run one statement on the writer outside any explicit transaction. */
int
sq_write1(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, int *changes)
{
	sq_conn *w = sq_write_begin(q);
	int r = sq_run(w, id, a, n, changes);
	sq_write_end(q);
	return r;
}

int
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

int
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

int
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

int
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
