/*
 * sqlite_conn.c - the SQLite back-end's connections: opening one with its
 * pragmas, the one writer under writer_mu and the pool of readers, the
 * per-connection statement cache, binding parameters, running a statement,
 * transactions, and mapping SQLite's result codes to sg_err.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

/* Map an SQLite result code to an sg_err, logging what is not the caller's fault. */
int
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

int
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
void
sq_finish(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

sq_conn *
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

void
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

sq_conn *
sq_write_begin(sq_db *q)
{
	pthread_mutex_lock(&q->writer_mu);
	return &q->writer;
}

void
sq_write_end(sq_db *q)
{
	pthread_mutex_unlock(&q->writer_mu);
}

/* Bind a[0..n-1] to parameters 1..n.  The memory must outlive the statement's use (SQLITE_STATIC). */
int
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
int
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

int
sq_tx_begin(sq_conn *c)
{
	return sq_run(c, SQ_BEGIN, NULL, 0, NULL);
}

void
sq_tx_rollback(sq_conn *c)
{
	if (sqlite3_get_autocommit(c->db))
		return;  /* SQLite already rolled back, or nothing was begun */
	if (sq_run(c, SQ_ROLLBACK, NULL, 0, NULL) != SG_OK)
		sg_error("store: rollback failed");
}

/* Commit, or roll back if the commit fails (a failed COMMIT can leave the transaction open). */
int
sq_tx_commit(sq_conn *c)
{
	int r = sq_run(c, SQ_COMMIT, NULL, 0, NULL);
	if (r != SG_OK)
		sq_tx_rollback(c);
	return r;
}

/* ---- opening and closing ---- */

void
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

int
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

int
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

int
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
sq_conn *
sq_lazy_write_begin(sq_db *q)
{
	sq_conn *w = sq_write_begin(q);
	(void)sq_exec(w, "PRAGMA synchronous = NORMAL", "notify: synchronous");
	return w;
}

void
sq_lazy_write_end(sq_db *q, sq_conn *w)
{
	if (sq_exec(w, "PRAGMA synchronous = FULL", "notify: synchronous") != SG_OK)
		sg_error("store: cannot restore synchronous=FULL on the writer");
	sq_write_end(q);
}
