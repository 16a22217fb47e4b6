/*
 * sqlite.c - the SQLite back-end of sg_store (sg_store_sqlite_open).
 *
 * One database file in WAL mode with synchronous=FULL, so a commit is on
 * disk when COMMIT returns.  Connections are used by one thread at a time
 * (SQLITE_OPEN_NOMUTEX) and guarded here: every write goes through the one
 * writer connection under writer_mu (SQLite admits one writer anyway), while
 * reads take any free connection from a small pool and run concurrently,
 * each on its own WAL snapshot.  Each connection caches its prepared
 * statements, prepared on first use, so the sign path never re-parses SQL.
 * The schema is versioned with PRAGMA user_version and brought up to date
 * by the migrations below, in order, inside one transaction.  Freed pages
 * are zeroed (secure_delete) and a destroyed key handle is overwritten
 * before it is dropped, so private-key material does not linger in the file.
 * Webhook secrets arrive sealed (src/notify/secrets.c); one an earlier
 * version stored in clear is replaced by its sealed blob at start, with a
 * checkpoint that truncates the write-ahead log (sq_webhook_seal).
 *
 * This file opens and closes the store and holds its table of functions;
 * the rest of the back-end is sqlite_schema.c (migrations), sqlite_stmts.c
 * (the SQL), sqlite_conn.c (connections, pool, statement cache,
 * transactions), sqlite_row.c (rows to records) and sqlite_ops_*.c (the
 * operations), joined by the private sqlite_int.h.  The business rules they
 * apply (votes, expiry, the audit link) are sg_store_rules.h's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_store.h"
#include "sg_util.h"
#include "sqlite_int.h"

static int
sq_ping(sg_store *s)
{
	sq_db *q = s->impl;
	sq_conn *c = sq_read_begin(q);
	sqlite3_stmt *st = NULL;
	int r = SG_ERR_INTERNAL;

	if ((r = sq_prepare(c, SQ_PING, &st)) != SG_OK)
		goto out;
	int rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? SG_OK : sq_err(c, rc, sq_stmts[SQ_PING].name);
	if (r == SG_ERR_STORE)
		r = SG_ERR_UNAVAILABLE;
out:
	sq_finish(st);
	sq_read_end(q, c);
	return r;
}

static void
sq_close(sg_store *s)
{
	if (s == NULL)
		return;
	sq_db *q = s->impl;
	if (q != NULL) {
		for (size_t i = 0; i < q->nreaders; i++)
			sq_conn_close(&q->readers[i]);
		sq_conn_close(&q->writer);
		pthread_mutex_destroy(&q->writer_mu);
		pthread_mutex_destroy(&q->pool_mu);
		pthread_cond_destroy(&q->pool_cv);
		free(q);
	}
	free(s);
}

static const sg_store_ops sq_ops = {
	.name = "sqlite",
	.tenant_create = sq_tenant_create,
	.tenant_get = sq_tenant_get,
	.tenant_get_by_name = sq_tenant_get_by_name,
	.principal_create = sq_principal_create,
	.principal_get = sq_principal_get,
	.principal_list = sq_principal_list,
	.principal_update = sq_principal_update,
	.principal_delete = sq_principal_delete,
	.api_key_create = sq_api_key_create,
	.api_key_find = sq_api_key_find,
	.api_key_list = sq_api_key_list,
	.api_key_revoke = sq_api_key_revoke,
	.client_cert_add = sq_client_cert_add,
	.client_cert_find = sq_client_cert_find,
	.key_create = sq_key_create,
	.key_get = sq_key_get,
	.key_list = sq_key_list,
	.key_set_status = sq_key_set_status,
	.key_add_version = sq_key_add_version,
	.key_version_get = sq_key_version_get,
	.key_version_list = sq_key_version_list,
	.key_version_destroy = sq_key_version_destroy,
	.key_version_set_cert = sq_key_version_set_cert,
	.request_get = sq_request_get,
	.signature_get = sq_signature_get,
	.commit_batch = sq_commit_batch,
	.policy_create = sq_policy_create,
	.policy_get = sq_policy_get,
	.policy_list = sq_policy_list,
	.request_list = sq_request_list,
	.request_claim = sq_request_claim,
	.request_transition = sq_request_transition,
	.request_count_by_status = sq_request_count_by_status,
	.request_find_idempotent = sq_request_find_idempotent,
	.idempotency_purge = sq_idempotency_purge,
	.approval_add = sq_approval_add,
	.approval_list = sq_approval_list,
	.request_expire_approvals = sq_request_expire_approvals,
	.audit_append = sq_audit_append,
	.audit_list = sq_audit_list,
	.audit_head = sq_audit_head,
	.webhook_create = sq_webhook_create,
	.webhook_list = sq_webhook_list,
	.webhook_get = sq_webhook_get,
	.webhook_delete = sq_webhook_delete,
	.webhook_list_unsealed = sq_webhook_list_unsealed,
	.webhook_seal = sq_webhook_seal,
	.notify_behind = sq_notify_behind,
	.notify_enqueue = sq_notify_enqueue,
	.delivery_claim = sq_delivery_claim,
	.delivery_finish = sq_delivery_finish,
	.delivery_list = sq_delivery_list,
	.tsa_key_get = sq_tsa_key_get,
	.tsa_key_put = sq_tsa_key_put,
	.ping = sq_ping,
	.close = sq_close,
};

/*
 * The database holds key handles: a new file is created 0600 before SQLite
 * sees it, and SQLite gives its -wal and -shm files the same mode.
 */
static int
sq_create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		sg_error("store: create %s: %s", path, strerror(errno));
		return SG_ERR_UNAVAILABLE;
	}
	close(fd);
	return SG_OK;
}

int
sg_store_sqlite_open(const char *path, sg_store **out)
{
	sg_store *s = NULL;
	sq_db *q = NULL;
	int r = SG_ERR_INTERNAL;

	if (path == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (!sqlite3_threadsafe()) {
		sg_error("store: SQLite was built without thread support");
		return SG_ERR_STORE;
	}
	int in_memory = path[0] == '\0' || strcmp(path, ":memory:") == 0;
	if ((s = calloc(1, sizeof(*s))) == NULL || (q = calloc(1, sizeof(*q))) == NULL) {
		free(s);
		return SG_ERR_NOMEM;
	}
	s->ops = &sq_ops;
	s->impl = q;
	pthread_mutex_init(&q->writer_mu, NULL);
	pthread_mutex_init(&q->pool_mu, NULL);
	pthread_cond_init(&q->pool_cv, NULL);

	if (!in_memory && (r = sq_create_private(path)) != SG_OK)
		goto out;
	if ((r = sq_conn_open(path, 0, &q->writer)) != SG_OK)
		goto out;
	if (!in_memory && (r = sq_set_wal(&q->writer)) != SG_OK)
		goto out;
	/* After a burst, give the disk back when the log restarts. */
	if ((r = sq_exec(&q->writer, "PRAGMA journal_size_limit = 67108864;", "pragmas")) != SG_OK)
		goto out;
	if ((r = sq_migrate(&q->writer)) != SG_OK)
		goto out;
	if (!in_memory) {
		for (size_t i = 0; i < SQ_READERS; i++) {
			if ((r = sq_conn_open(path, 1, &q->readers[i])) != SG_OK)
				goto out;
			q->nreaders++;
			q->free_readers[q->nfree++] = i;
		}
	}
	sg_store *cached = NULL;
	if ((r = sg_store_cache_wrap(s, SG_STORE_CACHE_TTL_MS, &cached)) != SG_OK)
		goto out;
	*out = cached;
	s = NULL;
	r = SG_OK;
out:
	sq_close(s);
	return r;
}
