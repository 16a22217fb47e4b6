/*
 * pg_conn.c - connections, statements and transactions of the PostgreSQL store.
 *
 * A pool of d->pool connections (SIGNET_STORE_POOL, default PG_POOL_DEFAULT,
 * at most PG_POOL_MAX), opened lazily: a thread takes
 * one for one statement or one transaction and gives it back, so there is
 * no lock around a whole operation, only around the pool's free list.  A
 * connection is checked before each use (pending input consumed, status
 * read): one the server closed (restart, crash, network) is dropped and
 * opened again, so the store recovers by itself when the database
 * returns.  While it is away every call fails promptly with
 * SG_ERR_UNAVAILABLE: connect_timeout bounds an attempt, an attempt that
 * found no server (refused, unreachable, timed out; not a live server's
 * refusal such as too many clients or a wrong password) makes the next
 * PG_RETRY_AFTER_MS of calls fail without trying,
 * statement_timeout bounds a statement on the server, and every statement
 * also has a deadline here (PG_DEADLINE_MS): a server that stopped
 * answering (frozen, or its host gone) cannot hold a thread longer than
 * that, and its connection is dropped.
 * The URL (which may hold a password) is never logged.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pg_int.h"
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_util.h"

/* Internal: a serialization failure or deadlock; pg_tx runs the transaction again. */
#define PG_ERR_RETRY (-1000)
/* Internal: a connection attempt a live server refused (pg_conn_open). */
#define PG_ERR_REFUSED (-1001)
#define PG_TX_ATTEMPTS 6

/* Binary result type OIDs (src/include/catalog/pg_type.dat). */
#define PG_OID_BOOL 16
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23

/* ---- parameters ---- */

pg_arg
pg_text_n(const char *s, size_t n)
{
	return (pg_arg){ .type = PG_T_TEXT, .p = s, .n = n };
}

pg_arg
pg_str(const char *s)
{
	if (s == NULL)
		return (pg_arg){ .type = PG_T_NULL };
	return pg_text_n(s, strlen(s));
}

pg_arg
pg_int(int64_t v)
{
	return (pg_arg){ .type = PG_T_INT, .i = v };
}

pg_arg
pg_blob(const void *p, size_t n)
{
	return (pg_arg){ .type = PG_T_BLOB, .p = p, .n = n };
}

pg_arg
pg_blob_or_null(const void *p, size_t n)
{
	if (p == NULL)
		return (pg_arg){ .type = PG_T_NULL };
	return pg_blob(p, n);
}

/* ---- errors ---- */

static int
pg_sqlstate_class(const char *st, const char *cls)
{
	return st != NULL && strncmp(st, cls, 2) == 0;
}

/*
 * Map a failed result to an sg_err.  A connection-level failure (no
 * result, class 08, the server shutting down) marks c broken so that the
 * pool opens a new connection next time.
 */
static int
pg_err(pg_conn *c, const PGresult *res, const char *what)
{
	const char *st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (c->timed_out) {
		sg_warn("store: %s: no answer from the database within %lld ms", what,
		    (long long)(c->deadline_ms > 0 ? c->deadline_ms : PG_DEADLINE_MS));
		return SG_ERR_UNAVAILABLE;
	}
	if (msg == NULL)
		msg = PQerrorMessage(c->pc);
	if (st == NULL || PQstatus(c->pc) != CONNECTION_OK || pg_sqlstate_class(st, "08") ||
	    strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0) {
		c->broken = 1;
		sg_warn("store: %s: the database is not reachable: %s", what,
		    msg != NULL ? msg : "connection lost");
		return SG_ERR_UNAVAILABLE;
	}
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) {
		sg_debug("store: %s: %s (retrying)", what, msg);
		return PG_ERR_RETRY;
	}
	if (strcmp(st, "23505") == 0) {
		sg_debug("store: %s: %s", what, msg);
		return SG_ERR_CONFLICT;
	}
	if (strcmp(st, "23503") == 0) {
		/* The tenant, principal, key or request referred to does not exist. */
		sg_debug("store: %s: %s", what, msg);
		return SG_ERR_NOT_FOUND;
	}
	if (pg_sqlstate_class(st, "23") || pg_sqlstate_class(st, "22")) {
		sg_debug("store: %s: %s (%s)", what, msg, st);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (strcmp(st, "54000") == 0)
		return SG_ERR_TOO_LARGE;
	if (pg_sqlstate_class(st, "53") || strcmp(st, "57014") == 0 || strcmp(st, "55P03") == 0) {
		/* Out of connections or resources, or a statement ran out of time. */
		sg_warn("store: %s: %s (%s)", what, msg, st);
		return SG_ERR_UNAVAILABLE;
	}
	sg_error("store: %s: %s (%s)", what, msg, st);
	return SG_ERR_STORE;
}

/* ---- connections ---- */

/*
 * The pool size: SIGNET_STORE_POOL (1..PG_POOL_MAX) or PG_POOL_DEFAULT.  The
 * server's max_connections must cover every node's pool plus a margin.
 */
static int
pg_pool_size(size_t *out)
{
	const char *v = getenv("SIGNET_STORE_POOL");
	*out = PG_POOL_DEFAULT;
	if (v == NULL || v[0] == '\0')
		return SG_OK;
	char *end = NULL;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > PG_POOL_MAX) {
		sg_error("store: SIGNET_STORE_POOL must be a number of connections from 1 to %d",
		    PG_POOL_MAX);
		return SG_ERR_INVALID_ARGUMENT;
	}
	*out = (size_t)n;
	return SG_OK;
}

int
pg_db_init(pg_db *d, const char *url)
{
	size_t pool;
	int r;
	memset(d, 0, sizeof(*d));
	if ((r = pg_pool_size(&pool)) != SG_OK)
		return r;
	if ((d->url = strdup(url)) == NULL)
		return SG_ERR_NOMEM;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->pool = pool;
	for (size_t i = 0; i < pool; i++)
		d->free_conns[d->nfree++] = pool - 1 - i;
	return SG_OK;
}

static void
pg_conn_drop(pg_conn *c)
{
	if (c->pc != NULL)
		PQfinish(c->pc);
	c->pc = NULL;
	c->broken = 0;
	c->timed_out = 0;
	c->unsent = 0;
	memset(c->prepared, 0, sizeof(c->prepared));
}

void
pg_db_free(pg_db *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->pool; i++)
		pg_conn_drop(&d->conns[i]);
	sg_free_secret_str(d->url);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	memset(d, 0, sizeof(*d));
}

/* Server notices (a shutdown announced, ...) go to the log at debug level, not to stderr. */
static void
pg_notice(void *arg, const char *message)
{
	(void)arg;
	sg_debug("store: PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

/*
 * Open c.  Our defaults come before the URL in the keyword list, so a
 * setting the URL gives (connect_timeout=..., options=...) wins.
 */
/*
 * Did a connection attempt fail for want of a server (nothing listening, no
 * route, no answer in time), as opposed to a server that answered with a
 * refusal (too many clients, a wrong password, no such database)?  Only
 * the first makes every thread fail fast for a while: the others are the
 * answer of a live server, and the next attempt may well succeed.  libpq's
 * own messages (signetd keeps the C locale).
 */
static int
pg_connect_failure_is_network(const char *msg)
{
	static const char *const network[] = { "Connection refused", "timeout expired",
	    "timed out", "No route to host", "Network is unreachable",
	    "could not translate host name", "server closed the connection unexpectedly",
	    "No such file or directory", "Connection reset", "could not receive data",
	    "could not send data", "the database system is starting up",
	    "the database system is shutting down", "the database system is in recovery mode" };
	for (size_t i = 0; i < sizeof(network) / sizeof(network[0]); i++)
		if (strstr(msg, network[i]) != NULL)
			return 1;
	return 0;
}

static int
pg_conn_open(pg_db *d, pg_conn *c)
{
	static const char *const kw[] = { "connect_timeout", "keepalives", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "tcp_user_timeout", "options",
	    "application_name", "client_encoding", "dbname", NULL };
	const char *val[] = { "3", "1", "5", "2", "2", "9000",
	    "-c statement_timeout=5000 -c idle_in_transaction_session_timeout=60000"
	    " -c client_min_messages=warning",
	    "signetd", "UTF8", d->url, NULL };

	pg_conn_drop(c);
	c->pc = PQconnectdbParams(kw, val, 1);
	if (c->pc == NULL)
		return SG_ERR_NOMEM;
	PQsetNoticeProcessor(c->pc, pg_notice, NULL);
	if (PQstatus(c->pc) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password. */
		char msg[256];
		sg_strlcpy(msg, PQerrorMessage(c->pc), sizeof(msg));
		msg[strcspn(msg, "\n")] = '\0';
		sg_warn("store: cannot connect to PostgreSQL: %s", msg);
		int network = pg_connect_failure_is_network(PQerrorMessage(c->pc));
		pg_conn_drop(c);
		return network ? SG_ERR_UNAVAILABLE : PG_ERR_REFUSED;
	}
	return SG_OK;
}

/* Is c's connection still usable?  Reads what the server sent meanwhile (e.g. a shutdown). */
static int
pg_conn_alive(pg_conn *c)
{
	if (c->pc == NULL || c->broken || PQstatus(c->pc) != CONNECTION_OK)
		return 0;
	if (!PQconsumeInput(c->pc) || PQstatus(c->pc) != CONNECTION_OK)
		return 0;
	return PQtransactionStatus(c->pc) == PQTRANS_IDLE && !PQisBusy(c->pc);
}

int
pg_acquire(pg_db *d, pg_conn **out)
{
	/* All connections busy: wait for one, but no longer than a statement may take. */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PG_DEADLINE_MS / 1000;
	pthread_mutex_lock(&d->mu);
	while (d->nfree == 0) {
		if (pthread_cond_timedwait(&d->cv, &d->mu, &until) == ETIMEDOUT && d->nfree == 0) {
			pthread_mutex_unlock(&d->mu);
			sg_warn("store: no PostgreSQL connection free within %d ms", PG_DEADLINE_MS);
			return SG_ERR_UNAVAILABLE;
		}
	}
	pg_conn *c = &d->conns[d->free_conns[--d->nfree]];
	pthread_mutex_unlock(&d->mu);

	int64_t now = sg_now_ms();
	pthread_mutex_lock(&d->mu);
	int wait = now < d->down_until;
	unsigned gen = d->gen;
	pthread_mutex_unlock(&d->mu);
	if (c->gen == gen && pg_conn_alive(c)) {
		*out = c;
		return SG_OK;
	}
	/* Dead, or opened before a statement timed out: the server may be frozen for all. */
	pg_conn_drop(c);
	c->gen = gen;
	int r = wait ? SG_ERR_UNAVAILABLE : pg_conn_open(d, c);
	if (r != SG_OK) {
		if (r == SG_ERR_UNAVAILABLE && !wait) {
			/* No server: every thread fails fast for a while instead of waiting too. */
			pthread_mutex_lock(&d->mu);
			d->down_until = sg_now_ms() + PG_RETRY_AFTER_MS;
			pthread_mutex_unlock(&d->mu);
		}
		if (r == PG_ERR_REFUSED)
			r = SG_ERR_UNAVAILABLE;  /* a live server refused: only this call fails */
		pg_release(d, c);
		return r;
	}
	*out = c;
	return SG_OK;
}

void
pg_release(pg_db *d, pg_conn *c)
{
	if (c == NULL)
		return;
	int timed_out = c->timed_out;
	if (c->broken)
		pg_conn_drop(c);
	pthread_mutex_lock(&d->mu);
	if (timed_out) {
		d->down_until = sg_now_ms() + PG_RETRY_AFTER_MS;
		d->gen++;
	}
	d->free_conns[d->nfree++] = (size_t)(c - d->conns);
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* ---- statements ---- */

/*
 * The result of what was just sent on c, waiting at most PG_DEADLINE_MS.
 * Of several results (a multi-statement string) the first error wins,
 * else the last.  NULL when the connection failed or the deadline passed
 * (then c is marked broken and timed out: nobody knows what the server
 * did, and the connection cannot be used again).
 */
static PGresult *
pg_wait(pg_conn *c)
{
	int64_t deadline = sg_now_ms() + (c->deadline_ms > 0 ? c->deadline_ms : PG_DEADLINE_MS);
	PGresult *kept = NULL;

	for (;;) {
		while (PQisBusy(c->pc)) {
			int64_t left = deadline - sg_now_ms();
			if (left <= 0) {
				c->broken = 1;
				c->timed_out = 1;
				PQclear(kept);
				return NULL;
			}
			struct pollfd pfd = { .fd = PQsocket(c->pc), .events = POLLIN };
			int n = poll(&pfd, 1, (int)left);
			if (n < 0 && errno != EINTR) {
				c->broken = 1;
				PQclear(kept);
				return NULL;
			}
			if (n > 0 && !PQconsumeInput(c->pc)) {
				c->broken = 1;
				PQclear(kept);
				return NULL;
			}
		}
		PGresult *res = PQgetResult(c->pc);
		if (res == NULL)
			break;
		ExecStatusType es = PQresultStatus(res);
		int is_error = es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK;
		int kept_error = kept != NULL && PQresultStatus(kept) != PGRES_COMMAND_OK &&
		    PQresultStatus(kept) != PGRES_TUPLES_OK;
		if (kept_error) {
			PQclear(res);
		} else {
			PQclear(kept);
			kept = res;
		}
		(void)is_error;
	}
	return kept;
}

static int
pg_prepare(pg_conn *c, int id)
{
	char name[16];

	if (id < 0 || (size_t)id >= pg_nstmts)
		return SG_ERR_INTERNAL;
	if (c->prepared[id])
		return SG_OK;
	snprintf(name, sizeof(name), "s%d", id);
	PGresult *res = NULL;
	if (PQsendPrepare(c->pc, name, pg_stmts[id].sql, 0, NULL))
		res = pg_wait(c);
	else
		c->unsent = 1;
	int r = SG_OK;
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pg_err(c, res, pg_stmts[id].name);
	else
		c->prepared[id] = 1;
	PQclear(res);
	return r;
}

int
pg_exec(pg_conn *c, int id, const pg_arg *a, size_t n, PGresult **out, int *changes)
{
	const char *values[40];
	int lengths[40], formats[40];
	char ints[40][24];
	char *texts = NULL;
	size_t textlen = 0, used = 0;
	char name[16];
	int r = SG_ERR_INTERNAL;

	if (n > 40)
		return SG_ERR_INTERNAL;
	c->unsent = 0;
	if ((r = pg_prepare(c, id)) != SG_OK)
		return r;
	/* Text parameters go NUL-terminated: record fields may fill their arrays. */
	for (size_t k = 0; k < n; k++)
		if (a[k].type == PG_T_TEXT)
			textlen += a[k].n + 1;
	if (textlen > 0 && (texts = malloc(textlen)) == NULL)
		return SG_ERR_NOMEM;
	for (size_t k = 0; k < n; k++) {
		static const char empty[1];
		lengths[k] = 0;
		formats[k] = 0;
		switch (a[k].type) {
		case PG_T_TEXT:
			memcpy(texts + used, a[k].p, a[k].n);
			texts[used + a[k].n] = '\0';
			values[k] = texts + used;
			used += a[k].n + 1;
			break;
		case PG_T_INT:
			snprintf(ints[k], sizeof(ints[k]), "%lld", (long long)a[k].i);
			values[k] = ints[k];
			break;
		case PG_T_BLOB:
			if (a[k].n > INT_MAX) {
				free(texts);
				return SG_ERR_TOO_LARGE;
			}
			values[k] = a[k].p != NULL ? a[k].p : empty;
			lengths[k] = (int)a[k].n;
			formats[k] = 1;
			break;
		default:
			values[k] = NULL;
			break;
		}
	}
	snprintf(name, sizeof(name), "s%d", id);
	PGresult *res = NULL;
	if (PQsendQueryPrepared(c->pc, name, (int)n, values, lengths, formats, 1))
		res = pg_wait(c);
	else
		c->unsent = 1;  /* it never reached the server */
	free(texts);
	ExecStatusType es = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		r = pg_err(c, res, pg_stmts[id].name);
		PQclear(res);
		return r;
	}
	if (changes != NULL) {
		const char *t = PQcmdTuples(res);
		*changes = t != NULL && t[0] != '\0' ? (int)strtol(t, NULL, 10) : PQntuples(res);
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return SG_OK;
}

int
pg_query_sql(pg_conn *c, const char *sql, const char *what, PGresult **out)
{
	PGresult *res = PQsendQuery(c->pc, sql) ? pg_wait(c) : NULL;
	ExecStatusType es = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int r = SG_OK;
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK)
		r = pg_err(c, res, what);
	if (r == SG_OK && out != NULL) {
		*out = res;
		res = NULL;
	}
	PQclear(res);
	return r;
}

int
pg_exec_sql(pg_conn *c, const char *sql, const char *what)
{
	return pg_query_sql(c, sql, what, NULL);
}

/* A short random pause before running a transaction again, so racing nodes part ways. */
static void
pg_backoff(int attempt)
{
	uint32_t jitter = (uint32_t)(sg_mono_ns() / 1000u);
	long us = (long)(1000u << (attempt < 6 ? attempt : 6)) + (long)(jitter % 2000u);
	struct timespec ts = { 0, us * 1000L };
	nanosleep(&ts, NULL);
}

int
pg_tx(pg_db *d, pg_tx_fn fn, void *ctx)
{
	int r = SG_ERR_INTERNAL;

	for (int attempt = 0; attempt < PG_TX_ATTEMPTS; attempt++) {
		pg_conn *c = NULL;
		if ((r = pg_acquire(d, &c)) != SG_OK)
			return r;
		r = pg_exec_sql(c, "BEGIN", "begin");
		if (r != SG_OK) {
			int again = c->broken && attempt == 0;
			pg_release(d, c);
			if (again)
				continue;  /* the connection died while idle: nothing was done */
			return r == PG_ERR_RETRY ? SG_ERR_UNAVAILABLE : r;
		}
		r = fn(c, ctx);
		if (r == SG_OK)
			r = pg_exec_sql(c, "COMMIT", "commit");
		else if (!c->broken && pg_exec_sql(c, "ROLLBACK", "rollback") != SG_OK)
			c->broken = 1;
		if (r != SG_OK && !c->broken && PQtransactionStatus(c->pc) != PQTRANS_IDLE)
			c->broken = 1;  /* never hand out a connection inside a transaction */
		pg_release(d, c);
		if (r != PG_ERR_RETRY)
			return r;
		pg_backoff(attempt);
	}
	sg_warn("store: a transaction kept conflicting with others; giving up");
	return SG_ERR_UNAVAILABLE;
}

/* ---- reading binary result columns ---- */

static void
pg_row_fail(pg_row *w, int r)
{
	if (w->r == SG_OK)
		w->r = r;
}

void
pg_col_text(pg_row *w, char *dst, size_t size)
{
	int i = w->col++;
	dst[0] = '\0';
	if (PQgetisnull(w->res, w->row, i))
		return;
	int n = PQgetlength(w->res, w->row, i);
	if (n < 0 || (size_t)n >= size) {
		sg_error("store: column %s is longer than its field", PQfname(w->res, i));
		pg_row_fail(w, SG_ERR_STORE);
		return;
	}
	memcpy(dst, PQgetvalue(w->res, w->row, i), (size_t)n);
	dst[n] = '\0';
}

char *
pg_col_strdup(pg_row *w)
{
	int i = w->col++;
	if (PQgetisnull(w->res, w->row, i))
		return NULL;
	int n = PQgetlength(w->res, w->row, i);
	char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (p == NULL) {
		pg_row_fail(w, SG_ERR_NOMEM);
		return NULL;
	}
	memcpy(p, PQgetvalue(w->res, w->row, i), (size_t)n);
	p[n] = '\0';
	return p;
}

int64_t
pg_col_int64(pg_row *w)
{
	int i = w->col++;
	if (PQgetisnull(w->res, w->row, i))
		return 0;
	const unsigned char *p = (const unsigned char *)PQgetvalue(w->res, w->row, i);
	int n = PQgetlength(w->res, w->row, i);
	Oid t = PQftype(w->res, i);
	uint64_t u = 0;
	if ((t == PG_OID_INT8 && n == 8) || (t == PG_OID_INT4 && n == 4) ||
	    (t == PG_OID_INT2 && n == 2) || (t == PG_OID_BOOL && n == 1)) {
		for (int k = 0; k < n; k++)
			u = (u << 8) | p[k];
		/* Sign-extend the narrower types. */
		if (n < 8 && t != PG_OID_BOOL && (p[0] & 0x80))
			u |= ~(uint64_t)0 << (8 * n);
		return (int64_t)u;
	}
	sg_error("store: column %s is not an integer", PQfname(w->res, i));
	pg_row_fail(w, SG_ERR_STORE);
	return 0;
}

int
pg_col_int(pg_row *w)
{
	int64_t v = pg_col_int64(w);
	if (v < INT_MIN || v > INT_MAX) {
		pg_row_fail(w, SG_ERR_STORE);
		return 0;
	}
	return (int)v;
}

void
pg_col_blob_fixed(pg_row *w, uint8_t *dst, size_t cap, size_t exact, size_t *len)
{
	int i = w->col++;
	if (PQgetisnull(w->res, w->row, i)) {
		if (len != NULL)
			*len = 0;
		return;
	}
	int n = PQgetlength(w->res, w->row, i);
	if (n < 0 || (size_t)n > cap || (exact != 0 && (size_t)n != exact)) {
		sg_error("store: column %s has a bad length", PQfname(w->res, i));
		pg_row_fail(w, SG_ERR_STORE);
		return;
	}
	if (n > 0)
		memcpy(dst, PQgetvalue(w->res, w->row, i), (size_t)n);
	if (len != NULL)
		*len = (size_t)n;
}

uint8_t *
pg_col_blob_dup(pg_row *w, size_t *len)
{
	int i = w->col++;
	*len = 0;
	if (PQgetisnull(w->res, w->row, i))
		return NULL;
	int n = PQgetlength(w->res, w->row, i);
	uint8_t *p = n >= 0 ? malloc(n > 0 ? (size_t)n : 1) : NULL;
	if (p == NULL) {
		pg_row_fail(w, SG_ERR_NOMEM);
		return NULL;
	}
	if (n > 0)
		memcpy(p, PQgetvalue(w->res, w->row, i), (size_t)n);
	*len = (size_t)n;
	return p;
}

/*
 * Read row w into *out as record type d, column i into d->cols[i] (by
 * position).  Read into a scratch record first, so *out is written only
 * when the whole row read cleanly; what was allocated is released on
 * failure, and a record holding a secret is wiped from the scratch.
 */
int
pg_read_record(pg_row *w, const sg_record_desc *d, void *out)
{
	union {
		max_align_t align;
		uint8_t bytes[SG_RECORD_MAX_SIZE];
	} scratch;
	uint8_t *rec = scratch.bytes;

	if (d->size > sizeof(scratch.bytes) || PQnfields(w->res) < w->col + (int)d->ncols)
		return SG_ERR_INTERNAL;
	memset(rec, 0, d->size);
	for (size_t i = 0; i < d->ncols && w->r == SG_OK; i++) {
		const sg_col *c = &d->cols[i];
		uint8_t *f = rec + c->off;
		if ((c->flags & SG_COL_REQUIRED) && PQgetisnull(w->res, w->row, w->col)) {
			sg_error("store: %s column %s is NULL", d->name, c->name);
			pg_row_fail(w, SG_ERR_STORE);
			break;
		}
		switch (c->kind) {
		case SG_COL_TEXT:
			pg_col_text(w, (char *)f, c->size);
			break;
		case SG_COL_TEXT_DUP:
			*(char **)f = pg_col_strdup(w);
			break;
		case SG_COL_I64:
			*(int64_t *)f = pg_col_int64(w);
			break;
		case SG_COL_INT:
			*(int *)f = pg_col_int(w);
			break;
		case SG_COL_UINT:
			*(unsigned *)f = (unsigned)pg_col_int64(w);
			break;
		case SG_COL_BOOL:
			*(int *)f = pg_col_int64(w) != 0;
			break;
		case SG_COL_BLOB:
			pg_col_blob_fixed(w, f, c->size, 0, (size_t *)(rec + c->len_off));
			break;
		case SG_COL_BLOB_EXACT:
			pg_col_blob_fixed(w, f, c->size, c->size, NULL);
			break;
		case SG_COL_BLOB_DUP:
			*(uint8_t **)f = pg_col_blob_dup(w, (size_t *)(rec + c->len_off));
			break;
		case SG_COL_KEY_ALG: {
			char name[64];
			pg_col_text(w, name, sizeof(name));
			if (w->r != SG_OK)
				break;
			*(sg_key_alg *)f = sg_key_alg_from_name(name);
			if (*(sg_key_alg *)f == SG_KEY_NONE) {
				sg_error("store: a %s has unknown algorithm %s", d->name, name);
				pg_row_fail(w, SG_ERR_STORE);
			}
			break;
		}
		default:
			pg_row_fail(w, SG_ERR_INTERNAL);
			break;
		}
	}
	int r = w->r;
	if (r == SG_OK)
		memcpy(out, rec, d->size);
	else if (d->clear != NULL)
		d->clear(rec);
	if (d->secret)
		sg_wipe(rec, d->size);
	return r;
}

int
pg_res_one(const PGresult *res, pg_row_fn fn, void *out)
{
	if (PQntuples(res) < 1)
		return SG_ERR_NOT_FOUND;
	pg_row w = { res, 0, 0, SG_OK };
	return fn(&w, out);
}

int
pg_res_list(const PGresult *res, size_t size, pg_row_fn fn, void (*clear)(void *), void **out,
    size_t *count)
{
	int n = PQntuples(res);
	if (n <= 0) {
		*out = NULL;
		*count = 0;
		return SG_OK;
	}
	uint8_t *arr = calloc((size_t)n, size);
	if (arr == NULL)
		return SG_ERR_NOMEM;
	for (int i = 0; i < n; i++) {
		pg_row w = { res, i, 0, SG_OK };
		int r = fn(&w, arr + (size_t)i * size);
		if (r != SG_OK) {
			for (int k = 0; clear != NULL && k < i; k++)
				clear(arr + (size_t)k * size);
			free(arr);
			return r;
		}
	}
	*out = arr;
	*count = (size_t)n;
	return SG_OK;
}

/* Run one statement in autocommit; reads (retry_broken) are run again once on a fresh connection. */
static int
pg_once(pg_db *d, int id, const pg_arg *a, size_t n, int retry_broken, PGresult **res,
    int *changes)
{
	int r = SG_ERR_INTERNAL;
	for (int attempt = 0; attempt < PG_TX_ATTEMPTS; attempt++) {
		pg_conn *c = NULL;
		if ((r = pg_acquire(d, &c)) != SG_OK)
			return r;
		r = pg_exec(c, id, a, n, res, changes);
		int broken = c->broken, unsent = c->unsent;
		pg_release(d, c);
		/* A write is run again only if it never left: it may have been done otherwise. */
		if (r == SG_ERR_UNAVAILABLE && broken && (retry_broken || unsent) && attempt == 0)
			continue;
		if (r != PG_ERR_RETRY)
			return r;
		pg_backoff(attempt);
	}
	return SG_ERR_UNAVAILABLE;
}

/*
 * Is [p, p+n) valid UTF-8 as PostgreSQL takes it (no NUL, no overlong
 * forms, no surrogates, nothing above U+10FFFF)?
 */
static int
pg_utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t len;
		unsigned min, cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4, min = 0x10000, cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* Can every text argument be stored at all?  If not, a lookup matches nothing. */
static int
pg_args_storable(const pg_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].type == PG_T_TEXT && !pg_utf8_valid(a[i].p, a[i].n))
			return 0;
	return 1;
}

int
pg_get_one(pg_db *d, int id, const pg_arg *a, size_t n, pg_row_fn fn, void *out)
{
	PGresult *res = NULL;
	if (!pg_args_storable(a, n))
		return SG_ERR_NOT_FOUND;
	int r = pg_once(d, id, a, n, 1, &res, NULL);
	if (r == SG_OK)
		r = pg_res_one(res, fn, out);
	PQclear(res);
	return r;
}

int
pg_get_list(pg_db *d, int id, const pg_arg *a, size_t n, size_t size, pg_row_fn fn,
    void (*clear)(void *), void **out, size_t *count)
{
	PGresult *res = NULL;
	if (!pg_args_storable(a, n)) {
		*out = NULL;
		*count = 0;
		return SG_OK;
	}
	int r = pg_once(d, id, a, n, 1, &res, NULL);
	if (r == SG_OK)
		r = pg_res_list(res, size, fn, clear, out, count);
	PQclear(res);
	return r;
}

int
pg_claim_list(pg_db *d, int id, const pg_arg *a, size_t n, size_t size, pg_row_fn fn,
    void (*clear)(void *), void **out, size_t *count)
{
	PGresult *res = NULL;
	int r = pg_once(d, id, a, n, 0, &res, NULL);
	if (r == SG_OK)
		r = pg_res_list(res, size, fn, clear, out, count);
	PQclear(res);
	return r;
}

int
pg_write1(pg_db *d, int id, const pg_arg *a, size_t n, int *changes)
{
	return pg_once(d, id, a, n, 0, NULL, changes);
}
