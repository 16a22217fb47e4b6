/*
 * sqlite_row.c - from result rows to records: reading typed columns, one
 * generic reader driven by a record's column table (sg_store_records.h;
 * it writes the record only when the whole row read cleanly), and the
 * generic "one row", "a scalar" and "a list" reads every operation is
 * built on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

/* A row being read: the next column, and the first error met. */
typedef struct sq_row {
	sqlite3_stmt *st;
	int idx;
	int r;
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

/*
 * Read the current row into *out as record type d, column i into d->cols[i].
 * The row is read into a scratch record first, so *out is written only when
 * the whole row read cleanly; on failure what was allocated is released (and
 * a record holding a secret is wiped from the scratch either way).
 */
int
sq_read_record(sqlite3_stmt *st, const sg_record_desc *d, void *out)
{
	union {
		max_align_t align;
		uint8_t bytes[SG_RECORD_MAX_SIZE];
	} scratch;
	uint8_t *rec = scratch.bytes;
	sq_row w = { st, 0, SG_OK };

	if (d->size > sizeof(scratch.bytes) || sqlite3_column_count(st) < (int)d->ncols)
		return SG_ERR_INTERNAL;
	memset(rec, 0, d->size);
	for (size_t i = 0; i < d->ncols && w.r == SG_OK; i++) {
		const sg_col *c = &d->cols[i];
		uint8_t *f = rec + c->off;
		if ((c->flags & SG_COL_REQUIRED) &&
		    sqlite3_column_type(st, w.idx) == SQLITE_NULL) {
			sg_error("store: %s column %s is NULL", d->name, c->name);
			sq_row_fail(&w, SG_ERR_STORE);
			break;
		}
		switch (c->kind) {
		case SG_COL_TEXT:
			sq_col_text(&w, (char *)f, c->size);
			break;
		case SG_COL_TEXT_DUP:
			*(char **)f = sq_col_strdup(&w);
			break;
		case SG_COL_I64:
			*(int64_t *)f = sq_col_int64(&w);
			break;
		case SG_COL_INT:
			*(int *)f = sq_col_int(&w);
			break;
		case SG_COL_UINT:
			*(unsigned *)f = (unsigned)sq_col_int64(&w);
			break;
		case SG_COL_BOOL:
			*(int *)f = sq_col_int64(&w) != 0;
			break;
		case SG_COL_BLOB:
			sq_col_blob_fixed(&w, f, c->size, 0, (size_t *)(rec + c->len_off));
			break;
		case SG_COL_BLOB_EXACT:
			sq_col_blob_fixed(&w, f, c->size, c->size, NULL);
			break;
		case SG_COL_BLOB_DUP:
			*(uint8_t **)f = sq_col_blob_dup(&w, (size_t *)(rec + c->len_off));
			break;
		case SG_COL_KEY_ALG: {
			char name[64];
			sq_col_text(&w, name, sizeof(name));
			if (w.r != SG_OK)
				break;
			*(sg_key_alg *)f = sg_key_alg_from_name(name);
			if (*(sg_key_alg *)f == SG_KEY_NONE) {
				sg_error("store: a %s has unknown algorithm %s", d->name, name);
				sq_row_fail(&w, SG_ERR_STORE);
			}
			break;
		}
		default:
			sq_row_fail(&w, SG_ERR_INTERNAL);
			break;
		}
	}
	if (w.r == SG_OK)
		memcpy(out, rec, d->size);
	else if (d->clear != NULL)
		d->clear(rec);
	if (d->secret)
		sg_wipe(rec, d->size);
	return w.r;
}

/* ---- generic reads ---- */

/* One row into *out as record type d on connection c; SG_ERR_NOT_FOUND when there is none. */
int
sq_one_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, const sg_record_desc *d,
    void *out)
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
	r = sq_read_record(st, d, out);
out:
	sq_finish(st);
	return r;
}

/* sq_one_on on a pooled reader. */
int
sq_get_one(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, const sg_record_desc *d,
    void *out)
{
	sq_conn *c = sq_read_begin(q);
	int r = sq_one_on(c, id, a, n, d, out);
	sq_read_end(q, c);
	return r;
}

/* A "record" of one int64_t: the first column of a scalar query. */
static const sg_col sq_scalar_col = { "value", SG_COL_I64, 0, 0, sizeof(int64_t), 0 };
static const sg_record_desc sq_rec_scalar = { "scalar", sizeof(int64_t), &sq_scalar_col, 1,
    NULL, 0 };

/* The first column of the first row as an integer; SG_ERR_NOT_FOUND without a row. */
int
sq_scalar_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, int64_t *out)
{
	return sq_one_on(c, id, a, n, &sq_rec_scalar, out);
}

/*
 * Every row into a malloc'd array of records of type d.  No rows give *out
 * = NULL and *count = 0.  On failure the records read so far are released
 * (d->clear) and the outputs are untouched.
 */
int
sq_list_on(sq_conn *c, enum sq_stmt_id id, const sq_arg *a, size_t n, const sg_record_desc *d,
    void **out, size_t *count)
{
	const size_t size = d->size;
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
		if ((r = sq_read_record(st, d, arr + len * size)) != SG_OK)
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
	if (arr != NULL && d->clear != NULL)
		for (size_t k = 0; k < len; k++)
			d->clear(arr + k * size);
	free(arr);
	sq_finish(st);
	return r;
}

/* sq_list_on on a pooled reader. */
int
sq_get_list(sq_db *q, enum sq_stmt_id id, const sq_arg *a, size_t n, const sg_record_desc *d,
    void **out, size_t *count)
{
	sq_conn *c = sq_read_begin(q);
	int r = sq_list_on(c, id, a, n, d, out, count);
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

