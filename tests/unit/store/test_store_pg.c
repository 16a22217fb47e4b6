/*
 * test_store_pg.c - several signetd nodes on one PostgreSQL database, as the
 * store sees them: two store handles (two "nodes", each with its own pool
 * of connections) and several threads each, racing on the same rows.
 *
 * What a user would notice if it broke: a queued request claimed by two
 * workers, a request with two signatures, an approver counted twice or a
 * request moved twice, two requests for one Idempotency-Key, a broken or
 * forked audit chain, a TSA serial handed out twice or out of order, nodes
 * that cannot start together on an empty database, and a store that hangs
 * or stays down after the database went away and came back.
 *
 * usage: test_store_pg URL-FILE CLUSTER-SCRIPT WORK-DIR
 * URL-FILE holds the URL of the fixture's cluster (each run makes its own
 * databases there); the outage check starts a cluster of its own in
 * WORK-DIR with CLUSTER-SCRIPT (tests/tools/pg-cluster.sh), since it stops it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "sg_log.h"
#include "sg_store.h"
#include "sg_util.h"

static atomic_int checks, failures;

#define CHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_RC(expr, want) do { \
	int rc_ = (expr); \
	checks++; \
	if (rc_ != (want)) { \
		failures++; \
		fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %s\n", __FILE__, __LINE__, \
		    #expr, rc_, sg_err_str(rc_), #want); \
	} \
} while (0)

static char base_url[512];
static char prefix[40];

static void
new_id(char out[SG_ID_MAX])
{
	if (sg_uuid(out) != SG_OK) {
		fprintf(stderr, "sg_uuid failed\n");
		exit(1);
	}
}

/* Run sql with libpq on the database at url; the first column of the first row in out. */
static int
sql_at(const char *url, const char *sql, char *out, size_t len)
{
	PGconn *pc = PQconnectdb(url);
	PGresult *res = PQstatus(pc) == CONNECTION_OK ? PQexec(pc, sql) : NULL;
	int ok = res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK);
	if (ok && out != NULL)
		sg_strlcpy(out, PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "", len);
	PQclear(res);
	PQfinish(pc);
	return ok ? 0 : -1;
}

/* A new empty database of this run on the cluster; its URL in out. */
static void
new_database(const char *name, char *out, size_t len)
{
	char sql[128];
	const char *slash = strrchr(base_url, '/');
	int base = slash != NULL ? (int)(slash - base_url) : (int)strlen(base_url);
	snprintf(out, len, "%.*s/%s_%s", base, base_url, prefix, name);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s_%s", prefix, name);
	if (sql_at(base_url, sql, NULL, 0) != 0) {
		fprintf(stderr, "cannot create database %s_%s\n", prefix, name);
		exit(1);
	}
}

static sg_store *
open_node(const char *url)
{
	sg_store *s = NULL;
	int r = sg_store_pg_open(url, &s);
	if (r != SG_OK) {
		fprintf(stderr, "sg_store_pg_open: %s\n", sg_err_str(r));
		exit(1);
	}
	return s;
}

/* ---- several nodes start at once on an empty database ---- */

struct start_arg {
	const char *url;
	int rc;
	sg_store *s;
};

static void *
start_thread(void *p)
{
	struct start_arg *a = p;
	a->rc = sg_store_pg_open(a->url, &a->s);
	return NULL;
}

static void
test_parallel_start(void)
{
	char url[600];
	struct start_arg args[6];
	pthread_t th[6];

	new_database("start", url, sizeof(url));
	for (int i = 0; i < 6; i++) {
		args[i] = (struct start_arg){ .url = url };
		pthread_create(&th[i], NULL, start_thread, &args[i]);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 6; i++) {
		CHECK_RC(args[i].rc, SG_OK);
		sg_store_close(args[i].s);
	}
	char v[32] = "";
	CHECK(sql_at(url, "SELECT version FROM schema_version", v, sizeof(v)) == 0 &&
	    strcmp(v, "2") == 0);
	CHECK(sql_at(url, "SELECT count(*) FROM schema_version", v, sizeof(v)) == 0 &&
	    strcmp(v, "1") == 0);
}

/*
 * ---- a migration waits for another's, however long ----
 * Another session holds the migration's advisory lock for 8 s, longer than
 * any statement may otherwise take (statement_timeout 5 s, deadline 6 s):
 * the store still opens, once the lock is free.
 */
static void
test_slow_migration(void)
{
	char url[600];
	sg_store *s = NULL;

	new_database("slowmig", url, sizeof(url));
	CHECK_RC(sg_store_pg_open(url, &s), SG_OK);  /* the schema exists: only the lock is waited for */
	sg_store_close(s);
	s = NULL;
	PGconn *holder = PQconnectdb(url);
	PGresult *res = PQstatus(holder) == CONNECTION_OK ?
	    PQexec(holder, "SELECT pg_advisory_lock(91712171959668)") : NULL;
	CHECK(res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
	/* The holder lets go after 8 s, by itself, while the store waits. */
	CHECK(PQsendQuery(holder, "SELECT pg_sleep(8), pg_advisory_unlock(91712171959668)") == 1);
	int64_t t0 = sg_now_ms();
	CHECK_RC(sg_store_pg_open(url, &s), SG_OK);
	int64_t waited = sg_now_ms() - t0;
	CHECK(waited >= 6000);
	printf("slow migration: opened after %lld ms\n", (long long)waited);
	sg_store_close(s);
	while ((res = PQgetResult(holder)) != NULL)
		PQclear(res);
	PQfinish(holder);
}

/*
 * ---- a live server's refusal does not make the node fail fast ----
 * Only a connection attempt that finds no server puts the store into its
 * 1 s fail-fast; a server that answers with a refusal (here: no such
 * database, as for too many clients or a bad password) fails that call
 * alone, and the next call tries again at once.
 */
static void
test_refusal_not_outage(void)
{
	char url[600], sql[160];
	sg_store *s = NULL;

	new_database("refused", url, sizeof(url));
	CHECK_RC(sg_store_pg_open(url, &s), SG_OK);
	if (s == NULL)
		return;
	CHECK_RC(s->ops->ping(s), SG_OK);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s_refused WITH (FORCE)", prefix);
	CHECK(sql_at(base_url, sql, NULL, 0) == 0);
	CHECK_RC(s->ops->ping(s), SG_ERR_UNAVAILABLE);  /* refused: no such database */
	int64_t t0 = sg_now_ms();
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s_refused", prefix);
	CHECK(sql_at(base_url, sql, NULL, 0) == 0);
	int rc = s->ops->ping(s);
	int64_t took = sg_now_ms() - t0;
	if (took < 900)  /* otherwise a fail-fast window would have ended anyway */
		CHECK_RC(rc, SG_OK);
	printf("refusal: ping %lld ms after the refusal: %s\n", (long long)took, sg_err_str(rc));
	sg_store_close(s);
}

/* ---- SIGNET_STORE_POOL sizes the pool ---- */

static void *
ping_thread(void *p)
{
	sg_store *s = p;
	for (int i = 0; i < 50; i++)
		if (s->ops->ping(s) != SG_OK)
			return (void *)1;
	return NULL;
}

static void
test_pool_size(void)
{
	char url[600], sql[256], v[32] = "";
	sg_store *s = NULL;
	static const char *bad[] = { "0", "129", "x", "4x", "-1" };

	new_database("pool", url, sizeof(url));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SIGNET_STORE_POOL", bad[i], 1);
		s = NULL;
		CHECK_RC(sg_store_pg_open(url, &s), SG_ERR_INVALID_ARGUMENT);
		CHECK(s == NULL);
	}
	/* One connection: four threads share it, and the node holds no more. */
	setenv("SIGNET_STORE_POOL", "1", 1);
	CHECK_RC(sg_store_pg_open(url, &s), SG_OK);
	unsetenv("SIGNET_STORE_POOL");
	if (s == NULL)
		return;
	pthread_t th[4];
	void *rv[4] = { 0 };
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, ping_thread, s);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], &rv[i]);
		CHECK(rv[i] == NULL);
	}
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s_pool'"
	    " AND application_name = 'signetd'", prefix);
	CHECK(sql_at(base_url, sql, v, sizeof(v)) == 0 && strcmp(v, "1") == 0);
	sg_store_close(s);
}

/* ---- fixtures ---- */

static char main_url[600];
static sg_store *node[2];
static sg_tenant tenant;
static sg_principal submitter, approver[3];

static void
make_principal(sg_principal *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	new_id(p->id);
	sg_strlcpy(p->tenant_id, tenant.id, sizeof(p->tenant_id));
	sg_strlcpy(p->name, name, sizeof(p->name));
	p->roles = SG_ROLE_SIGNER | SG_ROLE_APPROVER;
	p->created_at = sg_now_ms();
}

static void
make_request(sg_request *q, const char *status, int64_t created_at)
{
	memset(q, 0, sizeof(*q));
	new_id(q->id);
	sg_strlcpy(q->tenant_id, tenant.id, sizeof(q->tenant_id));
	sg_strlcpy(q->principal_id, submitter.id, sizeof(q->principal_id));
	new_id(q->key_id);
	q->key_version = 1;
	sg_strlcpy(q->hash_alg, "SHA-256", sizeof(q->hash_alg));
	sg_strlcpy(q->sig_scheme, "ECDSA", sizeof(q->sig_scheme));
	sg_strlcpy(q->sig_format, "DER", sizeof(q->sig_format));
	q->pss_salt_len = -1;
	q->digest_len = 32;
	memset(q->digest, 0x5a, 32);
	sg_strlcpy(q->status, status, sizeof(q->status));
	q->created_at = q->updated_at = created_at;
}

static void
make_audit(sg_audit_entry *e, const char *tenant_id, const char *action, const char *object)
{
	memset(e, 0, sizeof(*e));
	sg_strlcpy(e->tenant_id, tenant_id, sizeof(e->tenant_id));
	e->ts = sg_now_ms();
	sg_strlcpy(e->actor, submitter.id, sizeof(e->actor));
	sg_strlcpy(e->action, action, sizeof(e->action));
	sg_strlcpy(e->object, object, sizeof(e->object));
}

static int
write_request(sg_store *s, const sg_request *q)
{
	const sg_request *rp[1] = { q };
	return s->ops->commit_batch(s, rp, NULL, NULL, 1);
}

static void
setup(void)
{
	new_database("main", main_url, sizeof(main_url));
	node[0] = open_node(main_url);
	node[1] = open_node(main_url);
	memset(&tenant, 0, sizeof(tenant));
	new_id(tenant.id);
	sg_strlcpy(tenant.name, "racing", sizeof(tenant.name));
	tenant.created_at = sg_now_ms();
	CHECK_RC(node[0]->ops->tenant_create(node[0], &tenant), SG_OK);
	/* Objects made on one node are there on the other. */
	sg_tenant got;
	CHECK_RC(node[1]->ops->tenant_get_by_name(node[1], "racing", &got), SG_OK);
	CHECK(strcmp(got.id, tenant.id) == 0);
	make_principal(&submitter, "submitter");
	CHECK_RC(node[1]->ops->principal_create(node[1], &submitter), SG_OK);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "approver-%d", i);
		make_principal(&approver[i], name);
		CHECK_RC(node[i % 2]->ops->principal_create(node[i % 2], &approver[i]), SG_OK);
	}
}

/* A start line: threads wait until all are there, so their calls really overlap. */
static pthread_barrier_t gate;

/* ---- queue claims ---- */

#define CLAIM_REQUESTS 300
#define CLAIM_THREADS 4

static pthread_mutex_t claimed_mu = PTHREAD_MUTEX_INITIALIZER;
static char claimed[CLAIM_REQUESTS * 2][SG_ID_MAX];
static int nclaimed, bad_attempts;

static void *
claim_thread(void *p)
{
	sg_store *s = node[(intptr_t)p % 2];
	pthread_barrier_wait(&gate);
	for (;;) {
		sg_request *list = NULL;
		size_t n = 0;
		int r = s->ops->request_claim(s, sg_now_ms(), 600000, 7, &list, &n);
		if (r != SG_OK) {
			CHECK_RC(r, SG_OK);
			break;
		}
		pthread_mutex_lock(&claimed_mu);
		for (size_t i = 0; i < n && nclaimed < CLAIM_REQUESTS * 2; i++) {
			sg_strlcpy(claimed[nclaimed++], list[i].id, SG_ID_MAX);
			if (list[i].attempts != 1 || strcmp(list[i].status, "PROCESSING") != 0)
				bad_attempts++;
		}
		pthread_mutex_unlock(&claimed_mu);
		sg_request_list_free(list, n);
		if (n == 0)
			break;
	}
	return NULL;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_claims(void)
{
	sg_request q[50];
	const sg_request *rp[50];
	pthread_t th[CLAIM_THREADS];
	int64_t t0 = sg_now_ms() - 100000;

	for (int b = 0; b < CLAIM_REQUESTS / 50; b++) {
		for (int i = 0; i < 50; i++) {
			make_request(&q[i], "QUEUED", t0 + b * 50 + i);
			rp[i] = &q[i];
		}
		CHECK_RC(node[b % 2]->ops->commit_batch(node[b % 2], rp, NULL, NULL, 50), SG_OK);
	}
	pthread_barrier_init(&gate, NULL, CLAIM_THREADS);
	for (intptr_t i = 0; i < CLAIM_THREADS; i++)
		pthread_create(&th[i], NULL, claim_thread, (void *)i);
	for (int i = 0; i < CLAIM_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&gate);

	/* Every request claimed, none twice. */
	CHECK(nclaimed == CLAIM_REQUESTS);
	CHECK(bad_attempts == 0);
	qsort(claimed, (size_t)nclaimed, SG_ID_MAX, cmp_id);
	int dup = 0;
	for (int i = 1; i < nclaimed; i++)
		if (strcmp(claimed[i - 1], claimed[i]) == 0)
			dup++;
	CHECK(dup == 0);

	/* A lease that ran out on one node is taken over by the other, never before. */
	sg_request r, *list = NULL;
	size_t n = 0;
	make_request(&r, "QUEUED", t0 - 1);
	CHECK_RC(write_request(node[0], &r), SG_OK);
	int64_t now = sg_now_ms();
	CHECK_RC(node[0]->ops->request_claim(node[0], now, 5000, 10, &list, &n), SG_OK);
	CHECK(n == 1 && strcmp(list[0].id, r.id) == 0);
	sg_request_list_free(list, n);
	CHECK_RC(node[1]->ops->request_claim(node[1], now + 4999, 5000, 10, &list, &n), SG_OK);
	CHECK(n == 0);
	sg_request_list_free(list, n);
	CHECK_RC(node[1]->ops->request_claim(node[1], now + 5000, 5000, 10, &list, &n), SG_OK);
	CHECK(n == 1 && strcmp(list[0].id, r.id) == 0 && list[0].attempts == 2);
	sg_request_list_free(list, n);
}

/* ---- one signature per request ---- */

struct sign_arg {
	sg_store *s;
	const sg_request *base;
	int rc;
	sg_audit_entry audit;
};

static uint8_t sig_bytes[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };

static void *
sign_thread(void *p)
{
	struct sign_arg *a = p;
	sg_request q = *a->base;
	sg_signature g;
	memset(&g, 0, sizeof(g));
	new_id(g.id);
	sg_strlcpy(g.request_id, q.id, sizeof(g.request_id));
	sg_strlcpy(g.tenant_id, q.tenant_id, sizeof(g.tenant_id));
	sg_strlcpy(g.key_id, q.key_id, sizeof(g.key_id));
	sg_strlcpy(g.hash_alg, q.hash_alg, sizeof(g.hash_alg));
	sg_strlcpy(g.sig_scheme, q.sig_scheme, sizeof(g.sig_scheme));
	sg_strlcpy(g.sig_format, q.sig_format, sizeof(g.sig_format));
	memcpy(g.digest, q.digest, q.digest_len);
	g.digest_len = q.digest_len;
	g.signature = sig_bytes;
	g.signature_len = sizeof(sig_bytes);
	sg_strlcpy(g.created_by, q.principal_id, sizeof(g.created_by));
	g.created_at = sg_now_ms();
	sg_strlcpy(q.status, "SIGNED", sizeof(q.status));
	sg_strlcpy(q.signature_id, g.id, sizeof(q.signature_id));
	make_audit(&a->audit, q.tenant_id, "request.signed", q.id);
	const sg_request *rp[1] = { &q };
	const sg_signature *gp[1] = { &g };
	sg_audit_entry *ap[1] = { &a->audit };
	pthread_barrier_wait(&gate);
	a->rc = a->s->ops->commit_batch(a->s, rp, gp, ap, 1);
	return NULL;
}

static void
test_one_signature(void)
{
	int rounds_ok = 0;
	for (int round = 0; round < 20; round++) {
		sg_request q;
		struct sign_arg args[2];
		pthread_t th[2];

		make_request(&q, "PROCESSING", sg_now_ms());
		CHECK_RC(write_request(node[0], &q), SG_OK);
		pthread_barrier_init(&gate, NULL, 2);
		for (int i = 0; i < 2; i++) {
			args[i] = (struct sign_arg){ .s = node[i], .base = &q };
			pthread_create(&th[i], NULL, sign_thread, &args[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&gate);
		int ok = (args[0].rc == SG_OK) + (args[1].rc == SG_OK);
		int conflict = (args[0].rc == SG_ERR_CONFLICT) + (args[1].rc == SG_ERR_CONFLICT);
		char sql[160], count[32] = "";
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM signatures WHERE request_id = '%s'",
		    q.id);
		if (ok == 1 && conflict == 1 && sql_at(main_url, sql, count, sizeof(count)) == 0 &&
		    strcmp(count, "1") == 0)
			rounds_ok++;
		else
			fprintf(stderr, "round %d: results %d %d, %s signatures\n", round, args[0].rc,
			    args[1].rc, count);
	}
	CHECK(rounds_ok == 20);
}

/* ---- votes ---- */

struct vote_arg {
	sg_store *s;
	const sg_request *q;
	const sg_principal *who;
	int rc;
	char status[SG_STATUS_MAX];
};

static void *
vote_thread(void *p)
{
	struct vote_arg *a = p;
	sg_approval v;
	sg_audit_entry e;
	memset(&v, 0, sizeof(v));
	sg_strlcpy(v.request_id, a->q->id, sizeof(v.request_id));
	sg_strlcpy(v.tenant_id, a->q->tenant_id, sizeof(v.tenant_id));
	sg_strlcpy(v.approver_id, a->who->id, sizeof(v.approver_id));
	sg_strlcpy(v.decision, "APPROVED", sizeof(v.decision));
	v.created_at = sg_now_ms();
	make_audit(&e, a->q->tenant_id, "request.approved", a->q->id);
	sg_strlcpy(e.actor, a->who->id, sizeof(e.actor));
	pthread_barrier_wait(&gate);
	a->rc = a->s->ops->approval_add(a->s, &v, &e, a->status);
	return NULL;
}

static int
count_actions(const char *action, const char *object)
{
	sg_audit_entry *list = NULL;
	size_t n = 0;
	int found = 0;
	if (node[0]->ops->audit_list(node[0], tenant.id, 0, 10000, &list, &n) != SG_OK)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].action, action) == 0 && strcmp(list[i].object, object) == 0)
			found++;
	sg_audit_list_free(list, n);
	return found;
}

static void
test_votes(void)
{
	int rounds_ok = 0;
	for (int round = 0; round < 10; round++) {
		sg_request q;
		struct vote_arg args[6];
		pthread_t th[6];

		make_request(&q, "PENDING_APPROVAL", sg_now_ms());
		q.approvals_required = 2;
		CHECK_RC(write_request(node[round % 2], &q), SG_OK);
		pthread_barrier_init(&gate, NULL, 6);
		for (int i = 0; i < 6; i++) {
			args[i] = (struct vote_arg){ .s = node[i % 2], .q = &q, .who = &approver[i / 2] };
			pthread_create(&th[i], NULL, vote_thread, &args[i]);
		}
		for (int i = 0; i < 6; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&gate);

		/* Exactly N votes accepted, each approver at most once, the rest refused. */
		int ok = 0, refused = 0, queued = 0;
		for (int i = 0; i < 6; i++) {
			if (args[i].rc == SG_OK) {
				ok++;
				queued += strcmp(args[i].status, "QUEUED") == 0;
			} else if (args[i].rc == SG_ERR_CONFLICT || args[i].rc == SG_ERR_PRECONDITION) {
				refused++;
			}
		}
		int twice = 0;
		for (int a = 0; a < 3; a++)
			twice += args[2 * a].rc == SG_OK && args[2 * a + 1].rc == SG_OK;
		sg_approval *votes = NULL;
		size_t nv = 0;
		sg_request got;
		int list_ok = node[1]->ops->approval_list(node[1], tenant.id, q.id, &votes, &nv) == SG_OK;
		free(votes);
		int get_ok = node[0]->ops->request_get(node[0], tenant.id, q.id, &got) == SG_OK;
		int status_ok = get_ok && strcmp(got.status, "QUEUED") == 0;
		if (get_ok)
			sg_request_clear(&got);
		if (ok == 2 && refused == 4 && queued == 1 && twice == 0 && list_ok && nv == 2 &&
		    status_ok && count_actions("request.queued", q.id) == 1 &&
		    count_actions("request.approved", q.id) == 2)
			rounds_ok++;
		else
			fprintf(stderr, "votes round %d: %d accepted, %d refused, %d queued, %zu on "
			    "record\n", round, ok, refused, queued, nv);
	}
	CHECK(rounds_ok == 10);
}

/* ---- idempotency ---- */

struct idem_arg {
	sg_store *s;
	sg_request q;
	int rc;
};

static void *
idem_thread(void *p)
{
	struct idem_arg *a = p;
	pthread_barrier_wait(&gate);
	a->rc = write_request(a->s, &a->q);
	return NULL;
}

static void
test_idempotency(void)
{
	int rounds_ok = 0;
	for (int round = 0; round < 10; round++) {
		struct idem_arg args[2];
		pthread_t th[2];
		char key[32];
		snprintf(key, sizeof(key), "idem-%d", round);
		pthread_barrier_init(&gate, NULL, 2);
		for (int i = 0; i < 2; i++) {
			args[i].s = node[i];
			make_request(&args[i].q, "QUEUED", sg_now_ms());
			args[i].q.next_attempt_at = INT64_MAX / 2;
			sg_strlcpy(args[i].q.idempotency_key, key, sizeof(args[i].q.idempotency_key));
			pthread_create(&th[i], NULL, idem_thread, &args[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&gate);
		int winner = args[0].rc == SG_OK ? 0 : 1;
		sg_request got;
		int found = node[1 - winner]->ops->request_find_idempotent(node[1 - winner], tenant.id,
		    submitter.id, key, &got) == SG_OK;
		int same = found && strcmp(got.id, args[winner].q.id) == 0;
		if (found)
			sg_request_clear(&got);
		if (args[winner].rc == SG_OK && args[1 - winner].rc == SG_ERR_CONFLICT && same)
			rounds_ok++;
	}
	CHECK(rounds_ok == 10);
}

/* ---- the audit chain ---- */

#define AUDIT_THREADS 4
#define AUDIT_PER_THREAD 50

struct audit_arg {
	sg_store *s;
	const char *tenant_a, *tenant_b;
	int failures;
	int64_t last_seq;
	int seq_went_back;
};

static void *
audit_thread(void *p)
{
	struct audit_arg *a = p;
	pthread_barrier_wait(&gate);
	for (int i = 0; i < AUDIT_PER_THREAD; i++) {
		sg_audit_entry e;
		make_audit(&e, a->tenant_a, "key.used", "k");
		if (a->s->ops->audit_append(a->s, &e) != SG_OK) {
			a->failures++;
			continue;
		}
		if (e.seq <= a->last_seq)
			a->seq_went_back++;
		a->last_seq = e.seq;
		/* A batch over two chains, in either order: heads are locked in one order. */
		sg_request q[2];
		sg_audit_entry ba[2];
		const sg_request *rp[2] = { &q[0], &q[1] };
		sg_audit_entry *ap[2] = { &ba[0], &ba[1] };
		make_request(&q[0], "FAILED", sg_now_ms());
		make_request(&q[1], "FAILED", sg_now_ms());
		make_audit(&ba[0], i % 2 ? a->tenant_a : a->tenant_b, "request.failed", q[0].id);
		make_audit(&ba[1], i % 2 ? a->tenant_b : a->tenant_a, "request.failed", q[1].id);
		if (a->s->ops->commit_batch(a->s, rp, NULL, ap, 2) != SG_OK)
			a->failures++;
	}
	return NULL;
}

static void
test_audit_chain(void)
{
	sg_tenant other;
	struct audit_arg args[AUDIT_THREADS];
	pthread_t th[AUDIT_THREADS];
	int64_t checked = 0, bad = 0;
	char why[128];

	/* A second tenant whose chain starts empty: the first appends race to create its head. */
	memset(&other, 0, sizeof(other));
	new_id(other.id);
	sg_strlcpy(other.name, "racing-too", sizeof(other.name));
	CHECK_RC(node[0]->ops->tenant_create(node[0], &other), SG_OK);
	int64_t before = 0;
	uint8_t h[32];
	CHECK_RC(node[0]->ops->audit_head(node[0], tenant.id, &before, h), SG_OK);

	pthread_barrier_init(&gate, NULL, AUDIT_THREADS);
	for (int i = 0; i < AUDIT_THREADS; i++) {
		args[i] = (struct audit_arg){ .s = node[i % 2], .tenant_a = other.id,
		    .tenant_b = tenant.id };
		pthread_create(&th[i], NULL, audit_thread, &args[i]);
	}
	for (int i = 0; i < AUDIT_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&gate);
	int failed = 0, back = 0;
	for (int i = 0; i < AUDIT_THREADS; i++) {
		failed += args[i].failures;
		back += args[i].seq_went_back;
	}
	CHECK(failed == 0 && back == 0);

	int64_t head = 0;
	CHECK_RC(node[1]->ops->audit_head(node[1], other.id, &head, h), SG_OK);
	CHECK(head == AUDIT_THREADS * AUDIT_PER_THREAD * 2);
	CHECK_RC(node[1]->ops->audit_head(node[1], tenant.id, &head, h), SG_OK);
	CHECK(head == before + AUDIT_THREADS * AUDIT_PER_THREAD);
	for (int i = 0; i < 2; i++) {
		CHECK_RC(sg_audit_verify(node[i], other.id, &checked, &bad, why, sizeof(why)), SG_OK);
		CHECK(checked == AUDIT_THREADS * AUDIT_PER_THREAD * 2);
		CHECK_RC(sg_audit_verify(node[i], tenant.id, &checked, &bad, why, sizeof(why)), SG_OK);
	}
	/* Tampering with a row behind the store's back breaks verification on every node. */
	char sql[256];
	snprintf(sql, sizeof(sql), "ALTER TABLE audit_log DISABLE TRIGGER USER;"
	    " UPDATE audit_log SET object = 'forged' WHERE tenant_id = '%s' AND seq = 17;"
	    " ALTER TABLE audit_log ENABLE TRIGGER USER;", other.id);
	CHECK(sql_at(main_url, sql, NULL, 0) == 0);
	for (int i = 0; i < 2; i++) {
		CHECK_RC(sg_audit_verify(node[i], other.id, &checked, &bad, why, sizeof(why)),
		    SG_ERR_BAD_SIGNATURE);
		CHECK(bad == 17);
	}
}

/* ---- TSA serials ---- */

#define SERIAL_THREADS 4
#define SERIALS_PER_THREAD 100

struct serial_arg {
	sg_store *s;
	uint64_t got[SERIALS_PER_THREAD];
	int failures;
};

static void *
serial_thread(void *p)
{
	struct serial_arg *a = p;
	pthread_barrier_wait(&gate);
	for (int i = 0; i < SERIALS_PER_THREAD; i++)
		if (a->s->ops->tsa_serial_next(a->s, &a->got[i]) != SG_OK)
			a->failures++;
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void
test_tsa_serials(void)
{
	static struct serial_arg args[SERIAL_THREADS];
	static uint64_t all[SERIAL_THREADS * SERIALS_PER_THREAD];
	pthread_t th[SERIAL_THREADS];

	CHECK(node[0]->ops->tsa_serial_next != NULL);
	pthread_barrier_init(&gate, NULL, SERIAL_THREADS);
	for (int i = 0; i < SERIAL_THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].s = node[i % 2];
		pthread_create(&th[i], NULL, serial_thread, &args[i]);
	}
	for (int i = 0; i < SERIAL_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&gate);
	int failed = 0, back = 0;
	for (int i = 0; i < SERIAL_THREADS; i++) {
		failed += args[i].failures;
		for (int k = 0; k < SERIALS_PER_THREAD; k++) {
			all[i * SERIALS_PER_THREAD + k] = args[i].got[k];
			if (k > 0 && args[i].got[k] <= args[i].got[k - 1])
				back++;
		}
	}
	CHECK(failed == 0 && back == 0);
	qsort(all, SERIAL_THREADS * SERIALS_PER_THREAD, sizeof(all[0]), cmp_u64);
	int dup = 0;
	for (int i = 1; i < SERIAL_THREADS * SERIALS_PER_THREAD; i++)
		dup += all[i] == all[i - 1] || all[i - 1] == 0;
	CHECK(dup == 0);
	/* The serial served after all of them is larger than every one: one sequence, no caching. */
	uint64_t next = 0;
	CHECK_RC(node[1]->ops->tsa_serial_next(node[1], &next), SG_OK);
	CHECK(next > all[SERIAL_THREADS * SERIALS_PER_THREAD - 1]);
}

/* ---- the database goes away and comes back ---- */

static void
test_outage(const char *script, const char *workdir)
{
	char cmd[1200], url[512] = "";
	snprintf(cmd, sizeof(cmd), "'%s' stop '%s/outage' >/dev/null 2>&1; rm -rf '%s/outage';"
	    " '%s' start '%s/outage' > '%s/outage.url'", script, workdir, workdir, script, workdir,
	    workdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot start the outage cluster\n");
		failures++;
		return;
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/outage.url", workdir);
	FILE *f = fopen(path, "r");
	if (f == NULL || fgets(url, sizeof(url), f) == NULL) {
		if (f != NULL)
			fclose(f);
		failures++;
		return;
	}
	fclose(f);
	url[strcspn(url, "\r\n")] = '\0';

	sg_store *s = open_node(url);
	sg_tenant t, got;
	memset(&t, 0, sizeof(t));
	new_id(t.id);
	sg_strlcpy(t.name, "outage", sizeof(t.name));
	CHECK_RC(s->ops->tenant_create(s, &t), SG_OK);
	CHECK_RC(s->ops->ping(s), SG_OK);

	/*
	 * A frozen server (every process stopped: the connections stay open and
	 * nothing answers) still gives UNAVAILABLE in bounded time, and once it
	 * thaws the same store works again.
	 */
	snprintf(cmd, sizeof(cmd), "P=$(head -1 '%s/outage/data/postmaster.pid') &&"
	    " kill -STOP $P $(ps -o pid= --ppid $P)", workdir);
	CHECK(system(cmd) == 0);
	int64_t tf = sg_now_ms();
	CHECK_RC(s->ops->ping(s), SG_ERR_UNAVAILABLE);
	CHECK(sg_now_ms() - tf < 10000);
	tf = sg_now_ms();
	CHECK_RC(s->ops->tenant_get_by_name(s, "outage-frozen", &got), SG_ERR_UNAVAILABLE);
	CHECK(sg_now_ms() - tf < 10000);
	snprintf(cmd, sizeof(cmd), "P=$(head -1 '%s/outage/data/postmaster.pid') &&"
	    " kill -CONT $P $(ps -o pid= --ppid $P)", workdir);
	CHECK(system(cmd) == 0);
	tf = sg_now_ms();
	while (s->ops->ping(s) != SG_OK && sg_now_ms() - tf < 30000)
		usleep(200 * 1000);
	CHECK_RC(s->ops->tenant_get_by_name(s, "outage", &got), SG_OK);

	snprintf(cmd, sizeof(cmd), "'%s' kill '%s/outage'", script, workdir);
	CHECK(system(cmd) == 0);
	/* Every call answers UNAVAILABLE promptly: no hang, no crash, no other error. */
	int64_t t0 = sg_now_ms();
	CHECK_RC(s->ops->ping(s), SG_ERR_UNAVAILABLE);
	CHECK_RC(s->ops->tenant_get_by_name(s, "outage", &got), SG_ERR_UNAVAILABLE);
	sg_audit_entry e;
	make_audit(&e, t.id, "key.created", "k");
	CHECK_RC(s->ops->audit_append(s, &e), SG_ERR_UNAVAILABLE);
	sg_request *list = NULL;
	size_t n = 0;
	CHECK_RC(s->ops->request_claim(s, sg_now_ms(), 1000, 5, &list, &n), SG_ERR_UNAVAILABLE);
	CHECK(sg_now_ms() - t0 < 10000);

	snprintf(cmd, sizeof(cmd), "'%s' restart '%s/outage'", script, workdir);
	CHECK(system(cmd) == 0);
	/* Back within seconds, on the same store handle. */
	int64_t t1 = sg_now_ms();
	while (s->ops->ping(s) != SG_OK && sg_now_ms() - t1 < 30000)
		usleep(200 * 1000);
	CHECK(sg_now_ms() - t1 < 30000);
	CHECK_RC(s->ops->tenant_get_by_name(s, "outage", &got), SG_OK);
	make_audit(&e, t.id, "key.created", "k");
	CHECK_RC(s->ops->audit_append(s, &e), SG_OK);
	CHECK(e.seq == 1);
	CHECK_RC(s->ops->request_claim(s, sg_now_ms(), 1000, 5, &list, &n), SG_OK);
	sg_request_list_free(list, n);
	sg_store_close(s);

	snprintf(cmd, sizeof(cmd), "'%s' stop '%s/outage'; rm -rf '%s/outage' '%s/outage.url'",
	    script, workdir, workdir, workdir);
	CHECK(system(cmd) == 0);
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s URL-FILE CLUSTER-SCRIPT WORK-DIR\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (f == NULL || fgets(base_url, sizeof(base_url), f) == NULL) {
		fprintf(stderr, "no PostgreSQL URL in %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	base_url[strcspn(base_url, "\r\n")] = '\0';
	snprintf(prefix, sizeof(prefix), "n%ld_%lld", (long)getpid(),
	    (long long)(sg_now_ms() % 100000000));
	sg_log_set_level(SG_LOG_ERROR);

	test_parallel_start();
	test_pool_size();
	test_slow_migration();
	test_refusal_not_outage();
	setup();
	test_claims();
	test_one_signature();
	test_votes();
	test_idempotency();
	test_audit_chain();
	test_tsa_serials();
	sg_store_close(node[0]);
	sg_store_close(node[1]);
	/*
	 * The outage logs warnings (connections refused, statements timed out):
	 * collect everything the store logs then, down to debug, and look for the
	 * URL's password in it.
	 */
	char logpath[600];
	snprintf(logpath, sizeof(logpath), "%s/outage.log", argv[3]);
	fflush(stderr);
	int saved = dup(2);
	FILE *logf = fopen(logpath, "w+");
	if (logf != NULL && saved >= 0 && dup2(fileno(logf), 2) >= 0) {
		sg_log_set_level(SG_LOG_DEBUG);
		test_outage(argv[2], argv[3]);
		sg_log_set_level(SG_LOG_ERROR);
		fflush(stderr);
		dup2(saved, 2);
		static char text[1 << 20];
		size_t len = fread(text, 1, sizeof(text) - 1, (rewind(logf), logf));
		text[len] = '\0';
		CHECK(len > 0 && strstr(text, "store:") != NULL);  /* the outage was logged */
		CHECK(strstr(text, ":signet@") == NULL && strstr(text, "signet:signet") == NULL);
		CHECK(strstr(text, "check failed") == NULL);
		if (strstr(text, "check failed") != NULL)
			fputs(text, stderr);
	} else {
		CHECK(!"cannot capture the log");
	}
	if (logf != NULL)
		fclose(logf);
	if (saved >= 0)
		close(saved);
	unlink(logpath);

	printf("%d checks, %d failures\n", (int)checks, (int)failures);
	return failures == 0 ? 0 : 1;
}
