/*
 * sqlite_ops_notify.c - the SQLite operations of notifications (issue 15):
 * webhooks with their sealed secrets, the dispatcher's cursors and the
 * outbox of deliveries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

int
sq_webhook_create(sg_store *s, const sg_webhook *h)
{
	if (h == NULL || h->id[0] == '\0' || h->tenant_id[0] == '\0' || h->url[0] == '\0' ||
	    h->secret_len == 0 || h->secret_len > sizeof(h->secret) || !h->secret_sealed)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(h->id), SQ_FIELD(h->tenant_id), SQ_FIELD(h->url), sq_int(h->events),
	    sq_blob(h->secret, h->secret_len), sq_int(1), sq_int(h->created_at) };
	return sq_write1(s->impl, SQ_WEBHOOK_INSERT, a, SQ_NARGS(a), NULL);
}

int
sq_webhook_list(sg_store *s, const char *tenant_id, sg_webhook **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_WEBHOOK_LIST, a, SQ_NARGS(a), &sg_rec_webhook, (void **)out, n);
}

int
sq_webhook_get(sg_store *s, const char *tenant_id, const char *id, sg_webhook *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	return sq_get_one(s->impl, SQ_WEBHOOK_GET, a, SQ_NARGS(a), &sg_rec_webhook, out);
}

int
sq_webhook_list_unsealed(sg_store *s, sg_webhook **out, size_t *n)
{
	if (out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return sq_get_list(s->impl, SQ_WEBHOOK_UNSEALED, NULL, 0, &sg_rec_webhook, (void **)out, n);
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
int
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

int
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

int
sq_notify_behind(sg_store *s, sg_notify_cursor **out, size_t *n)
{
	if (out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return sq_get_list(s->impl, SQ_NOTIFY_BEHIND, NULL, 0, &sg_rec_notify_cursor, (void **)out, n);
}

int
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

int
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
	if ((r = sq_list_on(w, SQ_DELIVERY_CLAIM, a, SQ_NARGS(a), &sg_rec_delivery,
	    (void **)&list, &count)) != SG_OK)
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

int
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

int
sq_delivery_list(sg_store *s, const char *tenant_id, const char *webhook_id, int64_t limit,
    sg_delivery **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(webhook_id) || limit < 1 || limit > 1000 ||
	    out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(webhook_id), sq_int(limit) };
	return sq_get_list(s->impl, SQ_DELIVERY_LIST, a, SQ_NARGS(a), &sg_rec_delivery, (void **)out, n);
}
