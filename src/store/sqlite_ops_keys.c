/*
 * sqlite_ops_keys.c - the SQLite operations on keys, key versions and the
 * time-stamp authority's key.  A destroyed version's handle is overwritten
 * before it is dropped, so no private-key material lingers in the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

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

int
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

int
sq_key_get(sg_store *s, const char *tenant_id, const char *id_or_alias, sg_key *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id_or_alias) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id_or_alias) };
	int r = sq_get_one(s->impl, SQ_KEY_GET, a, SQ_NARGS(a), &sg_rec_key, out);
	if (r == SG_ERR_NOT_FOUND)
		r = sq_get_one(s->impl, SQ_KEY_GET_ALIAS, a, SQ_NARGS(a), &sg_rec_key, out);
	return r;
}

int
sq_key_list(sg_store *s, const char *tenant_id, sg_key **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_KEY_LIST, a, SQ_NARGS(a), &sg_rec_key, (void **)out, n);
}

int
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

int
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

int
sq_key_version_get(sg_store *s, const char *tenant_id, const char *key_id, int version,
    sg_key_version *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(key_id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(key_id), sq_int(version), sq_str(tenant_id) };
	return sq_get_one(s->impl, SQ_VERSION_GET, a, SQ_NARGS(a), &sg_rec_key_version, out);
}

int
sq_key_version_list(sg_store *s, const char *tenant_id, const char *key_id,
    sg_key_version **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(key_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(key_id), sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_VERSION_LIST, a, SQ_NARGS(a), &sg_rec_key_version, (void **)out, n);
}

static int
sq_version_exists(sq_conn *w, const char *tenant_id, const char *key_id, int version)
{
	int64_t one = 0;
	sq_arg a[] = { sq_str(key_id), sq_int(version), sq_str(tenant_id) };
	return sq_scalar_on(w, SQ_VERSION_EXISTS, a, SQ_NARGS(a), &one);
}

int
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

int
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

int
sq_tsa_key_get(sg_store *s, sg_tsa_key_record *out)
{
	if (out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return sq_get_one(s->impl, SQ_TSA_KEY_GET, NULL, 0, &sg_rec_tsa_key, out);
}

int
sq_tsa_key_put(sg_store *s, const sg_tsa_key_record *k)
{
	if (k == NULL || k->alg[0] == '\0' || k->storage[0] == '\0' || k->handle == NULL ||
	    k->handle_len == 0 || k->cert_pem == NULL || k->cert_pem[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(k->alg), SQ_FIELD(k->storage), sq_blob(k->handle, k->handle_len),
	    sq_str(k->cert_pem), sq_int(k->created_at) };
	return sq_write1(s->impl, SQ_TSA_KEY_INSERT, a, SQ_NARGS(a), NULL);
}
