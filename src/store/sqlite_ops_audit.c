/*
 * sqlite_ops_audit.c - the SQLite audit log: each tenant's hash chain and
 * its head, appended on the writer inside the caller's transaction
 * (sg_audit_link makes the link, sg_store_rules.h), and read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

void
sq_link_fill(sg_audit_entry *e, const sq_link *l)
{
	if (e == NULL)
		return;
	e->seq = l->seq;
	memcpy(e->prev_hash, l->prev_hash, sizeof(e->prev_hash));
	memcpy(e->hash, l->hash, sizeof(e->hash));
}

/* A chain head row (SQ_AUDIT_HEAD). */
typedef struct sq_head_row {
	int64_t seq;
	uint8_t hash[32];
} sq_head_row;

static const sg_col sq_head_cols[] = {
	{ "seq", SG_COL_I64, 0, offsetof(sq_head_row, seq), sizeof(int64_t), 0 },
	{ "hash", SG_COL_BLOB_EXACT, 0, offsetof(sq_head_row, hash), 32, 0 },
};
static const sg_record_desc sq_rec_head = { "audit head", sizeof(sq_head_row), sq_head_cols,
    sizeof(sq_head_cols) / sizeof(sq_head_cols[0]), NULL, 0 };

/* The newest (seq, hash) of tenant_id's chain: (0, zeros) while it is empty. */
int
sq_audit_head_on(sq_conn *c, const char *tenant_id, int64_t *seq, uint8_t hash[32])
{
	sq_head_row h;
	sq_arg a[] = { sq_str(tenant_id) };
	int r = sq_one_on(c, SQ_AUDIT_HEAD, a, SQ_NARGS(a), &sq_rec_head, &h);

	if (r == SG_ERR_NOT_FOUND) {
		memset(&h, 0, sizeof(h));
		r = SG_OK;
	}
	if (r != SG_OK)
		return r;
	*seq = h.seq;
	memcpy(hash, h.hash, sizeof(h.hash));
	return SG_OK;
}

/*
 * Insert e into its tenant's chain as the entry after (head_seq,
 * head_hash), on the writer inside the caller's transaction.  The stored
 * chain head is not moved.  e itself is not modified; *link gets its place
 * (for sq_link_fill once the transaction is committed, and as the next head).
 */
int
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

int
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
int
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
int
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

int
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

int
sq_audit_list(sg_store *s, const char *tenant_id, int64_t after, int64_t limit,
    sg_audit_entry **out, size_t *n)
{
	if (tenant_id == NULL || limit < 1 || limit > 10000 || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_int(after), sq_int(limit) };
	return sq_get_list(s->impl, SQ_AUDIT_LIST, a, SQ_NARGS(a), &sg_rec_audit, (void **)out, n);
}

int
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
