/*
 * pg_int.h - private to the PostgreSQL back-end of sg_store (src/store/pg*.c).
 *
 * pg_conn.c owns the connections (a small pool, each connection used by one
 * thread at a time, re-established when the server went away), the
 * statement cache (each statement prepared once per connection on first
 * use), parameters, SQLSTATE mapping, transactions with retries, and the
 * readers of binary result columns.  pg_schema.c creates and migrates the
 * schema.  pg.c holds the statements and the operations of sg_store_ops.
 */
#ifndef SG_PG_INT_H
#define SG_PG_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "sg_store.h"
#include "sg_store_records.h"

/*
 * Connections per process: enough for the HTTP threads and workers in use
 * at once (PG_POOL_DEFAULT); SIGNET_STORE_POOL sets 1..PG_POOL_MAX.
 */
#define PG_POOL_DEFAULT 24
#define PG_POOL_MAX 128
/* After a failed connection attempt, calls fail at once for this long (ms). */
#define PG_RETRY_AFTER_MS 1000
/* A statement's answer is waited for this long (ms); the server's statement_timeout is shorter. */
#define PG_DEADLINE_MS 6000
/* ... except during the schema migration (it may wait for another node's, or be slow). */
#define PG_MIGRATION_DEADLINE_MS 120000

/* One statement: a name for the log and its SQL ($1, $2, ... parameters). */
typedef struct pg_stmt {
	const char *name;
	const char *sql;
} pg_stmt;

/* Every statement of the store (pg_stmts.c), by id. */
enum pg_stmt_id {
	PG_PING,
	PG_TENANT_INSERT,
	PG_TENANT_GET,
	PG_TENANT_GET_BY_NAME,
	PG_PRINCIPAL_INSERT,
	PG_PRINCIPAL_GET,
	PG_PRINCIPAL_LIST,
	PG_PRINCIPAL_REVOKE_KEYS,
	PG_PRINCIPAL_DELETE_CERTS,
	PG_PRINCIPAL_DELETE,
	PG_PRINCIPAL_UPDATE,
	PG_API_KEY_INSERT,
	PG_API_KEY_FIND,
	PG_API_KEY_LIST,
	PG_API_KEY_REVOKE,
	PG_CERT_INSERT,
	PG_CERT_FIND,
	PG_KEY_INSERT,
	PG_KEY_GET,
	PG_KEY_GET_ALIAS,
	PG_KEY_LIST,
	PG_KEY_SET_STATUS,
	PG_KEY_CURRENT,
	PG_KEY_SET_CURRENT,
	PG_VERSION_INSERT,
	PG_VERSION_GET,
	PG_VERSION_LIST,
	PG_VERSION_DESTROY,
	PG_VERSION_EXISTS,
	PG_VERSION_SET_CERT,
	PG_REQUEST_UPSERT,
	PG_REQUEST_GET,
	PG_SIGNATURE_INSERT,
	PG_SIGNATURE_GET,
	PG_REQUEST_INSERT,
	PG_REQUEST_EXISTS,
	PG_REQUEST_LIST,
	PG_REQUEST_CLAIM,
	PG_REQUEST_TRANSITION,
	PG_REQUEST_COUNT,
	PG_REQUEST_FIND_IDEMPOTENT,
	PG_IDEMPOTENCY_PURGE,
	PG_REQUEST_VOTE_INFO,
	PG_REQUEST_SET_STATUS,
	PG_REQUEST_EXPIRE,
	PG_POLICY_INSERT,
	PG_POLICY_GET,
	PG_POLICY_LIST,
	PG_APPROVAL_INSERT,
	PG_APPROVAL_COUNT,
	PG_APPROVAL_LIST,
	PG_AUDIT_HEAD,
	PG_AUDIT_LOCK_HEAD,
	PG_AUDIT_INSERT,
	PG_AUDIT_SET_HEAD,
	PG_AUDIT_LIST,
	PG_WEBHOOK_INSERT,
	PG_WEBHOOK_LIST,
	PG_WEBHOOK_GET,
	PG_WEBHOOK_DELETE,
	PG_WEBHOOK_DELETE_DELIVERIES,
	PG_WEBHOOK_UNSEALED,
	PG_WEBHOOK_SEAL,
	PG_NOTIFY_BEHIND,
	PG_NOTIFY_SET_CURSOR,
	PG_DELIVERY_INSERT,
	PG_DELIVERY_CLAIM,
	PG_DELIVERY_FINISH,
	PG_DELIVERY_LIST,
	PG_TSA_KEY_GET,
	PG_TSA_KEY_INSERT,
	PG_TSA_SERIAL_NEXT,
	PG_STMT_COUNT
};

extern const pg_stmt pg_stmts[];
extern const size_t pg_nstmts;

typedef struct pg_conn {
	PGconn *pc;
	uint8_t prepared[PG_STMT_COUNT];
	int broken;  /* drop and reconnect before the next use */
	int timed_out;  /* the server did not answer in time */
	int unsent;     /* the last statement could not be sent at all */
	unsigned gen;   /* the pool's generation when opened */
	int64_t deadline_ms;  /* how long a statement's answer is waited for; 0: PG_DEADLINE_MS */
} pg_conn;

typedef struct pg_db {
	char *url;
	pg_conn conns[PG_POOL_MAX];
	size_t free_conns[PG_POOL_MAX];  /* stack of indices into conns */
	size_t nfree;
	size_t pool;         /* connections in use at most (SIGNET_STORE_POOL) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t down_until;  /* ms; guarded by mu */
	unsigned gen;        /* bumped when a statement times out: older connections are dropped */
} pg_db;

/* ---- parameters ---- */

enum { PG_T_NULL, PG_T_TEXT, PG_T_INT, PG_T_BLOB };

typedef struct pg_arg {
	int type;
	const void *p;
	size_t n;
	int64_t i;
} pg_arg;

pg_arg pg_text_n(const char *s, size_t n);
pg_arg pg_str(const char *s);         /* NULL binds SQL NULL */
pg_arg pg_int(int64_t v);
pg_arg pg_blob(const void *p, size_t n);          /* never NULL: empty when n == 0 */
pg_arg pg_blob_or_null(const void *p, size_t n);  /* SQL NULL when p is NULL */
#define PG_FIELD(f) pg_text_n((f), strnlen((f), sizeof(f)))
#define PG_NARGS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- connections and statements ---- */

int pg_db_init(pg_db *d, const char *url) SG_WUR;
void pg_db_free(pg_db *d);
/* A connection of the pool, connected; SG_ERR_UNAVAILABLE while the database is away. */
int pg_acquire(pg_db *d, pg_conn **out) SG_WUR;
void pg_release(pg_db *d, pg_conn *c);

/*
 * Run statement id with args; *res (optional) receives the result (binary
 * columns) to PQclear, *changes (optional) the rows affected or returned.
 * Errors are mapped with pg_err; a connection-level failure marks c broken.
 */
int pg_exec(pg_conn *c, int id, const pg_arg *a, size_t n, PGresult **res, int *changes) SG_WUR;
/* Plain SQL without parameters or results (BEGIN, DDL). */
int pg_exec_sql(pg_conn *c, const char *sql, const char *what) SG_WUR;
/* The same, keeping the result (text columns) in *out for the caller to PQclear. */
int pg_query_sql(pg_conn *c, const char *sql, const char *what, PGresult **out) SG_WUR;

/*
 * Run fn(c, ctx) inside BEGIN ... COMMIT on a pooled connection.
 * Serialization failures and deadlocks restart it (fn must be safe to run
 * again: it writes the caller's outputs only through ctx fields that it
 * resets first, or the caller copies them out after success).  A broken
 * connection found before anything was sent is replaced and the
 * transaction retried once.
 */
typedef int (*pg_tx_fn)(pg_conn *c, void *ctx);
int pg_tx(pg_db *d, pg_tx_fn fn, void *ctx) SG_WUR;

/* ---- reading binary result columns ---- */

typedef struct pg_row {
	const PGresult *res;
	int row;
	int col;
	int r;  /* first error while reading the row */
} pg_row;

typedef int (*pg_row_fn)(pg_row *w, void *out);

void pg_col_text(pg_row *w, char *dst, size_t size);
#define PG_COL_FIELD(w, f) pg_col_text((w), (f), sizeof(f))
char *pg_col_strdup(pg_row *w);
int64_t pg_col_int64(pg_row *w);
int pg_col_int(pg_row *w);
void pg_col_blob_fixed(pg_row *w, uint8_t *dst, size_t cap, size_t exact, size_t *len);
uint8_t *pg_col_blob_dup(pg_row *w, size_t *len);

/* The row as record type d (sg_store_records.h), its columns in the table's order. */
int pg_read_record(pg_row *w, const sg_record_desc *d, void *out) SG_WUR;

/* One row of res into *out (SG_ERR_NOT_FOUND when there is none). */
int pg_res_one(const PGresult *res, pg_row_fn fn, void *out) SG_WUR;
/*
 * Every row of res into a malloc'd array (NULL, 0 when empty); on failure
 * the elements read are released with clear and the outputs untouched.
 */
int pg_res_list(const PGresult *res, size_t size, pg_row_fn fn, void (*clear)(void *),
    void **out, size_t *count) SG_WUR;

/*
 * A read on a pooled connection outside a transaction, its row(s) into out;
 * run again once on a fresh connection if the connection broke.  A text
 * argument that is not valid UTF-8 matches nothing stored (the database
 * refuses such text): pg_get_one answers SG_ERR_NOT_FOUND and pg_get_list
 * an empty list without asking the database, as the SQLite store does.
 */
int pg_get_one(pg_db *d, int id, const pg_arg *a, size_t n, pg_row_fn fn, void *out) SG_WUR;
int pg_get_list(pg_db *d, int id, const pg_arg *a, size_t n, size_t size, pg_row_fn fn,
    void (*clear)(void *), void **out, size_t *count) SG_WUR;
/*
 * A write whose rows are returned (a queue or outbox claim: UPDATE ...
 * RETURNING), as pg_get_list, but run again only if it was never sent: if
 * its answer was lost it may have been done, and a second run would claim
 * other rows while the first ones wait out their leases.
 */
int pg_claim_list(pg_db *d, int id, const pg_arg *a, size_t n, size_t size, pg_row_fn fn,
    void (*clear)(void *), void **out, size_t *count) SG_WUR;
/* One statement in autocommit; *changes (optional) as for pg_exec. */
int pg_write1(pg_db *d, int id, const pg_arg *a, size_t n, int *changes) SG_WUR;

/* The test-only insert of a request with its audit entry (pg_test.c, sg_store_test.h). */
int pg_request_create(sg_store *s, const sg_request *rq, sg_audit_entry *audit);

/* ---- schema (pg_schema.c) ---- */

/* Bring the schema up to date, serialised across processes by an advisory lock. */
int pg_migrate(pg_db *d) SG_WUR;

#endif
