/*
 * test_store.c - the SQLite store and the group committer against real
 * database files in a fresh temporary directory.
 *
 * Each check states something a caller relies on: records come back as
 * written, one tenant never sees another's objects, uniqueness and rotation
 * conflicts are reported, a destroyed key version loses its handle (also
 * from the file's bytes), a batch is all or nothing, concurrent group
 * commits are all durable and really are grouped, and everything is still
 * there after the database is closed and opened again.
 *
 * The same checks are the store conformance suite: with --pg URL-FILE (CTest
 * store_pg) they run against PostgreSQL, in a database of their own created
 * for the run on the cluster whose URL the file holds.  Only what is
 * SQLite's own (file bytes and modes, PRAGMA user_version, ":memory:") is
 * checked on SQLite alone; tampering with the audit log is done with each
 * database's own client.  tests/unit/store/test_store_pg.c adds the checks
 * of several nodes at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include "sg_log.h"
#include "sg_store.h"
#include "sg_store_test.h"
#include "sg_util.h"

static int checks, failures;

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

static char dir[256];
static char db_path[300];  /* the main database: a file, or a PostgreSQL URL */

/* Set by --pg: the cluster's URL, and a name prefix for this run's databases. */
static int on_pg;
static char pg_base_url[512];
static char pg_prefix[40];

static void
new_id(char out[SG_ID_MAX])
{
	if (sg_uuid(out) != SG_OK) {
		fprintf(stderr, "sg_uuid failed\n");
		exit(1);
	}
}

/* Run sql on the database at loc with the database's own client; 0 when it succeeds. */
static int
db_exec(const char *loc, const char *sql)
{
	int ok = 0;
	if (on_pg) {
		PGconn *pc = PQconnectdb(loc);
		PGresult *res = PQstatus(pc) == CONNECTION_OK ? PQexec(pc, sql) : NULL;
		ok = res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
		    PQresultStatus(res) == PGRES_TUPLES_OK);
		PQclear(res);
		PQfinish(pc);
		return ok ? 0 : -1;
	}
	sqlite3 *db = NULL;
	ok = sqlite3_open(loc, &db) == SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok ? 0 : -1;
}

/*
 * Where this run keeps the database called name: a file in dir, or a
 * PostgreSQL database of its own, created on the cluster on first use.
 */
static void
db_location(const char *name, char *out, size_t len)
{
	if (!on_pg) {
		snprintf(out, len, "%s/%s.db", dir, name);
		return;
	}
	char create[256];
	const char *slash = strrchr(pg_base_url, '/');
	int base = slash != NULL ? (int)(slash - pg_base_url) : (int)strlen(pg_base_url);
	snprintf(out, len, "%.*s/%s_%s", base, pg_base_url, pg_prefix, name);
	/*
	 * A collation other than the cluster's C.UTF-8 where the server has ICU
	 * (Debian's has): English order puts "a" before "B", so the store's
	 * answers must not depend on the database's collation (test_byte_order).
	 */
	snprintf(create, sizeof(create), "CREATE DATABASE %s_%s TEMPLATE template0"
	    " LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'", pg_prefix, name);
	if (db_exec(pg_base_url, create) != 0) {
		snprintf(create, sizeof(create), "CREATE DATABASE %s_%s", pg_prefix, name);
		(void)db_exec(pg_base_url, create);  /* it may exist already */
	}
}

static int
open_at(const char *loc, sg_store **out)
{
	return on_pg ? sg_store_pg_open(loc, out) : sg_store_sqlite_open(loc, out);
}

static sg_store *
open_store(void)
{
	sg_store *s = NULL;
	int r = open_at(db_path, &s);
	if (r != SG_OK) {
		fprintf(stderr, "open %s: %s\n", on_pg ? "the PostgreSQL database" : db_path,
		    sg_err_str(r));
		exit(1);
	}
	return s;
}

/* Fixture ids shared by the tests and checked again after reopening. */
static sg_tenant tenant_a, tenant_b;
static sg_principal alice, bob;
static sg_key key_a;
static char sig_id_kept[SG_ID_MAX], req_id_kept[SG_ID_MAX];
/* A wrapped-key stand-in, filled at start; its middle is searched for in the files. */
static uint8_t handle_v1[1000];
#define HANDLE_PROBE (handle_v1 + 468)
#define HANDLE_PROBE_LEN 64
static const uint8_t spki_v1[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48 };
static const uint8_t spki_v2[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x49 };

static void
make_tenant(sg_tenant *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	new_id(t->id);
	sg_strlcpy(t->name, name, sizeof(t->name));
	t->created_at = 1700000000123;
}

static void
make_principal(sg_principal *p, const sg_tenant *t, const char *name, unsigned roles)
{
	memset(p, 0, sizeof(*p));
	new_id(p->id);
	sg_strlcpy(p->tenant_id, t->id, sizeof(p->tenant_id));
	sg_strlcpy(p->name, name, sizeof(p->name));
	p->roles = roles;
	p->created_at = sg_now_ms();
}

static void
test_roles(void)
{
	CHECK(sg_role_from_name("admin") == SG_ROLE_ADMIN);
	CHECK(sg_role_from_name("signer") == SG_ROLE_SIGNER);
	CHECK(sg_role_from_name("Approver") == SG_ROLE_APPROVER);
	CHECK(sg_role_from_name("auditor") == SG_ROLE_AUDITOR);
	CHECK(sg_role_from_name("operator") == SG_ROLE_OPERATOR);
	CHECK(sg_role_from_name("root") == 0);
	CHECK(sg_role_from_name(NULL) == 0);
	CHECK(strcmp(sg_role_name(SG_ROLE_SIGNER), "signer") == 0);
	CHECK(strcmp(sg_role_name(SG_ROLE_OPERATOR), "operator") == 0);
	CHECK(sg_role_name(SG_ROLE_ADMIN | SG_ROLE_SIGNER) == NULL);
	CHECK(sg_role_name(0) == NULL);
}

static void
test_tenants(sg_store *s)
{
	sg_tenant got, dup;

	make_tenant(&tenant_a, "acme");
	make_tenant(&tenant_b, "globex");
	CHECK_RC(s->ops->tenant_create(s, &tenant_a), SG_OK);
	CHECK_RC(s->ops->tenant_create(s, &tenant_b), SG_OK);

	memset(&got, 0, sizeof(got));
	CHECK_RC(s->ops->tenant_get(s, tenant_a.id, &got), SG_OK);
	CHECK(strcmp(got.name, "acme") == 0);
	CHECK(got.created_at == 1700000000123);
	CHECK_RC(s->ops->tenant_get_by_name(s, "globex", &got), SG_OK);
	CHECK(strcmp(got.id, tenant_b.id) == 0);

	make_tenant(&dup, "acme");
	CHECK_RC(s->ops->tenant_create(s, &dup), SG_ERR_CONFLICT);
	dup = tenant_b;
	sg_strlcpy(dup.name, "other", sizeof(dup.name));
	CHECK_RC(s->ops->tenant_create(s, &dup), SG_ERR_CONFLICT);

	/* Outputs stay untouched on failure. */
	memset(&got, 0x5a, sizeof(got));
	CHECK_RC(s->ops->tenant_get(s, "no-such-tenant", &got), SG_ERR_NOT_FOUND);
	CHECK(got.id[0] == 0x5a && got.created_at == (int64_t)0x5a5a5a5a5a5a5a5aLL);
	CHECK_RC(s->ops->tenant_get_by_name(s, "initech", &got), SG_ERR_NOT_FOUND);
}

static void
test_principals(sg_store *s)
{
	sg_principal got, p, dup;
	sg_principal *list = NULL;
	size_t n = 99;

	make_principal(&alice, &tenant_a, "alice", SG_ROLE_ADMIN | SG_ROLE_SIGNER);
	alice.created_at = 1000;
	make_principal(&bob, &tenant_a, "bob", SG_ROLE_APPROVER);
	bob.created_at = 2000;
	CHECK_RC(s->ops->principal_create(s, &bob), SG_OK);
	CHECK_RC(s->ops->principal_create(s, &alice), SG_OK);

	CHECK_RC(s->ops->principal_get(s, tenant_a.id, alice.id, &got), SG_OK);
	CHECK(strcmp(got.name, "alice") == 0);
	CHECK(got.roles == (SG_ROLE_ADMIN | SG_ROLE_SIGNER));
	CHECK(strcmp(got.tenant_id, tenant_a.id) == 0);
	CHECK_RC(s->ops->principal_get(s, tenant_b.id, alice.id, &got), SG_ERR_NOT_FOUND);

	/* Names are unique per tenant only. */
	make_principal(&dup, &tenant_a, "alice", SG_ROLE_SIGNER);
	CHECK_RC(s->ops->principal_create(s, &dup), SG_ERR_CONFLICT);
	make_principal(&p, &tenant_b, "alice", SG_ROLE_SIGNER);
	CHECK_RC(s->ops->principal_create(s, &p), SG_OK);

	sg_tenant ghost;
	make_tenant(&ghost, "ghost");
	make_principal(&p, &ghost, "casper", SG_ROLE_SIGNER);
	CHECK_RC(s->ops->principal_create(s, &p), SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->principal_list(s, tenant_a.id, &list, &n), SG_OK);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(strcmp(list[0].name, "alice") == 0);  /* ordered by creation */
		CHECK(strcmp(list[1].name, "bob") == 0);
	}
	free(list);

	sg_tenant empty;
	make_tenant(&empty, "empty");
	CHECK_RC(s->ops->tenant_create(s, &empty), SG_OK);
	list = (sg_principal *)&got;
	n = 7;
	CHECK_RC(s->ops->principal_list(s, empty.id, &list, &n), SG_OK);
	CHECK(n == 0 && list == NULL);

	/* Update: roles, default policy and e-mail change; name and creation stay. */
	CHECK(got.default_policy[0] == '\0' && got.email[0] == '\0');
	p = bob;
	p.roles = SG_ROLE_APPROVER | SG_ROLE_SIGNER;
	sg_strlcpy(p.name, "renamed", sizeof(p.name));
	sg_strlcpy(p.default_policy, "app/release", sizeof(p.default_policy));
	sg_strlcpy(p.email, "bob@example.org", sizeof(p.email));
	CHECK_RC(s->ops->principal_update(s, &p), SG_OK);
	CHECK_RC(s->ops->principal_get(s, tenant_a.id, bob.id, &got), SG_OK);
	CHECK(got.roles == (SG_ROLE_APPROVER | SG_ROLE_SIGNER));
	CHECK(strcmp(got.name, "bob") == 0 && got.created_at == 2000);
	CHECK(strcmp(got.default_policy, "app/release") == 0);
	CHECK(strcmp(got.email, "bob@example.org") == 0);
	sg_strlcpy(p.tenant_id, tenant_b.id, sizeof(p.tenant_id));
	CHECK_RC(s->ops->principal_update(s, &p), SG_ERR_NOT_FOUND);
	p = bob;
	CHECK_RC(s->ops->principal_update(s, &p), SG_OK);  /* back as it was */
	CHECK_RC(s->ops->principal_get(s, tenant_a.id, bob.id, &got), SG_OK);
	CHECK(got.roles == SG_ROLE_APPROVER && got.email[0] == '\0');
}

static void
make_api_key(sg_api_key *k, const sg_principal *p, const char *prefix)
{
	memset(k, 0, sizeof(*k));
	new_id(k->id);
	sg_strlcpy(k->principal_id, p->id, sizeof(k->principal_id));
	sg_strlcpy(k->tenant_id, p->tenant_id, sizeof(k->tenant_id));
	sg_strlcpy(k->prefix, prefix, sizeof(k->prefix));
	for (size_t i = 0; i < sizeof(k->hash); i++)
		k->hash[i] = (uint8_t)(prefix[0] + i);
	k->created_at = sg_now_ms();
}

static void
test_credentials(sg_store *s)
{
	sg_api_key k1, k2, k3, got;
	sg_api_key *list = NULL;
	size_t n = 0;

	make_api_key(&k1, &alice, "alice1");
	make_api_key(&k2, &alice, "alice2");
	make_api_key(&k3, &bob, "bob1");
	CHECK_RC(s->ops->api_key_create(s, &k1), SG_OK);
	CHECK_RC(s->ops->api_key_create(s, &k2), SG_OK);
	CHECK_RC(s->ops->api_key_create(s, &k3), SG_OK);

	CHECK_RC(s->ops->api_key_find(s, "alice2", &got), SG_OK);
	CHECK(strcmp(got.id, k2.id) == 0);
	CHECK(memcmp(got.hash, k2.hash, 32) == 0);
	CHECK(strcmp(got.principal_id, alice.id) == 0);
	CHECK(got.revoked_at == 0);
	CHECK_RC(s->ops->api_key_find(s, "nobody", &got), SG_ERR_NOT_FOUND);

	sg_api_key dup;
	make_api_key(&dup, &bob, "alice1");
	CHECK_RC(s->ops->api_key_create(s, &dup), SG_ERR_CONFLICT);

	/* A key for alice claiming tenant B is refused. */
	make_api_key(&dup, &alice, "forged");
	sg_strlcpy(dup.tenant_id, tenant_b.id, sizeof(dup.tenant_id));
	CHECK_RC(s->ops->api_key_create(s, &dup), SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->api_key_list(s, tenant_a.id, alice.id, &list, &n), SG_OK);
	CHECK(n == 2);
	free(list);
	CHECK_RC(s->ops->api_key_list(s, tenant_a.id, NULL, &list, &n), SG_OK);
	CHECK(n == 3);
	free(list);
	CHECK_RC(s->ops->api_key_list(s, tenant_b.id, alice.id, &list, &n), SG_OK);
	CHECK(n == 0 && list == NULL);

	CHECK_RC(s->ops->api_key_revoke(s, tenant_b.id, k1.id, 5000), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->api_key_find(s, "alice1", &got), SG_OK);
	CHECK(got.revoked_at == 0);
	CHECK_RC(s->ops->api_key_revoke(s, tenant_a.id, k1.id, 5000), SG_OK);
	CHECK_RC(s->ops->api_key_revoke(s, tenant_a.id, k1.id, 6000), SG_OK);
	CHECK_RC(s->ops->api_key_find(s, "alice1", &got), SG_OK);
	CHECK(got.revoked_at == 5000);
	CHECK_RC(s->ops->api_key_revoke(s, tenant_a.id, "no-such-key", 5000), SG_ERR_NOT_FOUND);

	sg_client_cert c, cgot;
	memset(&c, 0, sizeof(c));
	new_id(c.id);
	sg_strlcpy(c.principal_id, bob.id, sizeof(c.principal_id));
	sg_strlcpy(c.tenant_id, tenant_a.id, sizeof(c.tenant_id));
	memset(c.fingerprint, 0xb0, sizeof(c.fingerprint));
	sg_strlcpy(c.subject, "CN=bob,O=acme", sizeof(c.subject));
	c.created_at = 42;
	CHECK_RC(s->ops->client_cert_add(s, &c), SG_OK);
	CHECK_RC(s->ops->client_cert_find(s, c.fingerprint, &cgot), SG_OK);
	CHECK(strcmp(cgot.subject, "CN=bob,O=acme") == 0);
	CHECK(strcmp(cgot.principal_id, bob.id) == 0 && cgot.created_at == 42);
	sg_client_cert c2 = c;
	new_id(c2.id);
	CHECK_RC(s->ops->client_cert_add(s, &c2), SG_ERR_CONFLICT);
	uint8_t other_fp[32];
	memset(other_fp, 0xb1, sizeof(other_fp));
	CHECK_RC(s->ops->client_cert_find(s, other_fp, &cgot), SG_ERR_NOT_FOUND);
	memcpy(c2.fingerprint, other_fp, sizeof(other_fp));
	sg_strlcpy(c2.tenant_id, tenant_b.id, sizeof(c2.tenant_id));
	CHECK_RC(s->ops->client_cert_add(s, &c2), SG_ERR_NOT_FOUND);
}

static void
test_principal_delete(sg_store *s)
{
	sg_principal carol, got;
	sg_api_key k1, k2, kgot;
	sg_client_cert c, cgot;

	make_principal(&carol, &tenant_a, "carol", SG_ROLE_SIGNER);
	CHECK_RC(s->ops->principal_create(s, &carol), SG_OK);
	make_api_key(&k1, &carol, "carol1");
	make_api_key(&k2, &carol, "carol2");
	CHECK_RC(s->ops->api_key_create(s, &k1), SG_OK);
	CHECK_RC(s->ops->api_key_create(s, &k2), SG_OK);
	memset(&c, 0, sizeof(c));
	new_id(c.id);
	sg_strlcpy(c.principal_id, carol.id, sizeof(c.principal_id));
	sg_strlcpy(c.tenant_id, tenant_a.id, sizeof(c.tenant_id));
	memset(c.fingerprint, 0xca, sizeof(c.fingerprint));
	CHECK_RC(s->ops->client_cert_add(s, &c), SG_OK);

	/* Another tenant cannot delete carol, and trying changes nothing. */
	CHECK_RC(s->ops->principal_delete(s, tenant_b.id, carol.id), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->principal_get(s, tenant_a.id, carol.id, &got), SG_OK);
	CHECK_RC(s->ops->api_key_find(s, "carol1", &kgot), SG_OK);
	CHECK(kgot.revoked_at == 0);
	CHECK_RC(s->ops->client_cert_find(s, c.fingerprint, &cgot), SG_OK);

	CHECK_RC(s->ops->principal_delete(s, tenant_a.id, carol.id), SG_OK);
	CHECK_RC(s->ops->principal_get(s, tenant_a.id, carol.id, &got), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->api_key_find(s, "carol1", &kgot), SG_OK);
	CHECK(kgot.revoked_at != 0);
	CHECK_RC(s->ops->api_key_find(s, "carol2", &kgot), SG_OK);
	CHECK(kgot.revoked_at != 0);
	CHECK_RC(s->ops->client_cert_find(s, c.fingerprint, &cgot), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->principal_delete(s, tenant_a.id, carol.id), SG_ERR_NOT_FOUND);
	/* Other principals' keys are untouched. */
	CHECK_RC(s->ops->api_key_find(s, "alice2", &kgot), SG_OK);
	CHECK(kgot.revoked_at == 0);
}

static void
make_key(sg_key *k, sg_key_version *v, const sg_tenant *t, const char *alias,
    const uint8_t *spki, size_t spki_len, const uint8_t *handle, size_t handle_len)
{
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	new_id(k->id);
	sg_strlcpy(k->tenant_id, t->id, sizeof(k->tenant_id));
	sg_strlcpy(k->alias, alias, sizeof(k->alias));
	k->alg = SG_KEY_EC_P256;
	sg_strlcpy(k->storage, "DISK", sizeof(k->storage));
	sg_strlcpy(k->type, "TEST", sizeof(k->type));
	sg_strlcpy(k->status, "ONLINE", sizeof(k->status));
	k->current_version = 1;
	k->created_at = k->updated_at = sg_now_ms();
	sg_strlcpy(v->key_id, k->id, sizeof(v->key_id));
	v->version = 1;
	sg_strlcpy(v->state, "ACTIVE", sizeof(v->state));
	v->spki = (uint8_t *)spki;
	v->spki_len = spki_len;
	v->handle = (uint8_t *)handle;
	v->handle_len = handle_len;
	v->created_at = k->created_at;
}

/* 1 when the file at path contains the n bytes at needle. */
static int
file_contains(const char *path, const uint8_t *needle, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			uint8_t *p = realloc(buf, cap);
			if (p == NULL) {
				fprintf(stderr, "out of memory\n");
				exit(1);
			}
			buf = p;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	fclose(f);
	int found = 0;
	for (size_t i = 0; !found && i + n <= len; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

static void
test_keys(sg_store *s)
{
	sg_key k, got, other;
	sg_key_version v, vgot;
	sg_key *list = NULL;
	size_t n = 0;

	make_key(&key_a, &v, &tenant_a, "release", spki_v1, sizeof(spki_v1), handle_v1,
	    sizeof(handle_v1));
	key_a.alg = SG_KEY_MLDSA_65;
	CHECK_RC(s->ops->key_create(s, &key_a, &v), SG_OK);

	CHECK_RC(s->ops->key_get(s, tenant_a.id, key_a.id, &got), SG_OK);
	CHECK(strcmp(got.alias, "release") == 0);
	CHECK(got.alg == SG_KEY_MLDSA_65);
	CHECK(strcmp(got.storage, "DISK") == 0 && strcmp(got.type, "TEST") == 0);
	CHECK(strcmp(got.status, "ONLINE") == 0 && got.current_version == 1);
	CHECK_RC(s->ops->key_get(s, tenant_a.id, "release", &got), SG_OK);
	CHECK(strcmp(got.id, key_a.id) == 0);
	CHECK_RC(s->ops->key_get(s, tenant_b.id, key_a.id, &got), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->key_get(s, tenant_b.id, "release", &got), SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 1, &vgot), SG_OK);
	CHECK(vgot.spki_len == sizeof(spki_v1) && memcmp(vgot.spki, spki_v1, sizeof(spki_v1)) == 0);
	CHECK(vgot.handle_len == sizeof(handle_v1) &&
	    memcmp(vgot.handle, handle_v1, sizeof(handle_v1)) == 0);
	CHECK(vgot.cert_chain_pem == NULL);
	CHECK(strcmp(vgot.state, "ACTIVE") == 0 && vgot.destroyed_at == 0);
	sg_key_version_clear(&vgot);
	CHECK(vgot.handle == NULL && vgot.spki == NULL);
	/* Another tenant does not find the version by the key's id, as for a missing key. */
	memset(&vgot, 0x5a, sizeof(vgot));
	CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key_a.id, 1, &vgot), SG_ERR_NOT_FOUND);
	CHECK(vgot.version == 0x5a5a5a5a);  /* outputs only on success */
	CHECK_RC(s->ops->key_version_get(s, tenant_b.id, "no-such-key", 1, &vgot), SG_ERR_NOT_FOUND);

	/* The same alias in another tenant is another key. */
	make_key(&other, &v, &tenant_b, "release", spki_v2, sizeof(spki_v2), NULL, 0);
	CHECK_RC(s->ops->key_create(s, &other, &v), SG_OK);
	CHECK_RC(s->ops->key_get(s, tenant_b.id, "release", &got), SG_OK);
	CHECK(strcmp(got.id, other.id) == 0 && got.alg == SG_KEY_EC_P256);
	CHECK_RC(s->ops->key_version_get(s, tenant_b.id, other.id, 1, &vgot), SG_OK);
	CHECK(vgot.handle == NULL && vgot.handle_len == 0);
	sg_key_version_clear(&vgot);

	/* A second "release" in tenant A is refused, and its version with it. */
	make_key(&k, &v, &tenant_a, "release", spki_v2, sizeof(spki_v2), NULL, 0);
	CHECK_RC(s->ops->key_create(s, &k, &v), SG_ERR_CONFLICT);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, k.id, 1, &vgot), SG_ERR_NOT_FOUND);

	make_key(&k, &v, &tenant_a, "nightly", spki_v2, sizeof(spki_v2), NULL, 0);
	k.created_at = key_a.created_at + 1;
	CHECK_RC(s->ops->key_create(s, &k, &v), SG_OK);
	CHECK_RC(s->ops->key_list(s, tenant_a.id, &list, &n), SG_OK);
	CHECK(n == 2);
	if (n == 2)
		CHECK(strcmp(list[0].alias, "release") == 0 && strcmp(list[1].alias, "nightly") == 0);
	free(list);

	CHECK_RC(s->ops->key_set_status(s, tenant_b.id, k.id, "DISABLED", 9), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->key_set_status(s, tenant_a.id, k.id, "OFFLINE", 9), SG_OK);
	CHECK_RC(s->ops->key_get(s, tenant_a.id, "nightly", &got), SG_OK);
	CHECK(strcmp(got.status, "OFFLINE") == 0 && got.updated_at == 9);
}

static void
test_rotation_and_destroy(sg_store *s)
{
	sg_key_version v2, vgot;
	sg_key_version *list = NULL;
	sg_key got;
	size_t n = 0;
	static const uint8_t handle_v2[] = "HANDLE-v2";

	memset(&v2, 0, sizeof(v2));
	sg_strlcpy(v2.key_id, key_a.id, sizeof(v2.key_id));
	v2.version = 2;
	v2.spki = (uint8_t *)spki_v2;
	v2.spki_len = sizeof(spki_v2);
	v2.handle = (uint8_t *)handle_v2;
	v2.handle_len = sizeof(handle_v2);
	v2.created_at = 777;

	CHECK_RC(s->ops->key_add_version(s, tenant_b.id, &v2), SG_ERR_NOT_FOUND);
	v2.version = 3;
	CHECK_RC(s->ops->key_add_version(s, tenant_a.id, &v2), SG_ERR_CONFLICT);
	v2.version = 1;
	CHECK_RC(s->ops->key_add_version(s, tenant_a.id, &v2), SG_ERR_CONFLICT);
	v2.version = 2;
	CHECK_RC(s->ops->key_add_version(s, tenant_a.id, &v2), SG_OK);
	CHECK_RC(s->ops->key_add_version(s, tenant_a.id, &v2), SG_ERR_CONFLICT);
	CHECK_RC(s->ops->key_get(s, tenant_a.id, key_a.id, &got), SG_OK);
	CHECK(got.current_version == 2 && got.updated_at == 777);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 3, &vgot), SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->key_version_list(s, tenant_a.id, key_a.id, &list, &n), SG_OK);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(list[0].version == 1 && list[1].version == 2);
		CHECK(list[1].handle_len == sizeof(handle_v2));
	}
	sg_key_version_list_free(list, n);
	/* Another tenant lists no versions of the key, as for a missing key. */
	list = NULL;
	n = 99;
	CHECK_RC(s->ops->key_version_list(s, tenant_b.id, key_a.id, &list, &n), SG_OK);
	CHECK(n == 0 && list == NULL);
	n = 99;
	CHECK_RC(s->ops->key_version_list(s, tenant_a.id, "no-such-key", &list, &n), SG_OK);
	CHECK(n == 0 && list == NULL);

	/* Another tenant cannot put a certificate on the version: NOT_FOUND, nothing stored. */
	CHECK_RC(s->ops->key_version_set_cert(s, tenant_b.id, key_a.id, 2, "-----BEGIN EVIL-----\n"),
	    SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 2, &vgot), SG_OK);
	CHECK(vgot.cert_chain_pem == NULL);
	sg_key_version_clear(&vgot);

	CHECK_RC(s->ops->key_version_set_cert(s, tenant_a.id, key_a.id, 2, "-----BEGIN CERTIFICATE-----\n"),
	    SG_OK);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 2, &vgot), SG_OK);
	CHECK(vgot.cert_chain_pem != NULL &&
	    strcmp(vgot.cert_chain_pem, "-----BEGIN CERTIFICATE-----\n") == 0);
	sg_key_version_clear(&vgot);
	/* ... nor remove one that is there. */
	CHECK_RC(s->ops->key_version_set_cert(s, tenant_b.id, key_a.id, 2, NULL), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 2, &vgot), SG_OK);
	CHECK(vgot.cert_chain_pem != NULL &&
	    strcmp(vgot.cert_chain_pem, "-----BEGIN CERTIFICATE-----\n") == 0);
	sg_key_version_clear(&vgot);
	CHECK_RC(s->ops->key_version_set_cert(s, tenant_a.id, key_a.id, 2, NULL), SG_OK);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 2, &vgot), SG_OK);
	CHECK(vgot.cert_chain_pem == NULL);
	sg_key_version_clear(&vgot);
	CHECK_RC(s->ops->key_version_set_cert(s, tenant_a.id, key_a.id, 9, "x"), SG_ERR_NOT_FOUND);

	/* Before destruction the handle's bytes are in the database files (SQLite's). */
	char wal[320];
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	CHECK(on_pg || file_contains(db_path, HANDLE_PROBE, HANDLE_PROBE_LEN) ||
	    file_contains(wal, HANDLE_PROBE, HANDLE_PROBE_LEN));

	/* Another tenant cannot destroy the version: NOT_FOUND, handle and state as they were. */
	CHECK_RC(s->ops->key_version_destroy(s, tenant_b.id, key_a.id, 1, 4000), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 1, &vgot), SG_OK);
	CHECK(strcmp(vgot.state, "ACTIVE") == 0 && vgot.destroyed_at == 0);
	CHECK(vgot.handle_len == sizeof(handle_v1) &&
	    memcmp(vgot.handle, handle_v1, sizeof(handle_v1)) == 0);
	sg_key_version_clear(&vgot);
	CHECK(on_pg || file_contains(db_path, HANDLE_PROBE, HANDLE_PROBE_LEN) ||
	    file_contains(wal, HANDLE_PROBE, HANDLE_PROBE_LEN));

	CHECK_RC(s->ops->key_version_destroy(s, tenant_a.id, key_a.id, 1, 4242), SG_OK);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 1, &vgot), SG_OK);
	CHECK(strcmp(vgot.state, "DESTROYED") == 0);
	CHECK(vgot.handle == NULL && vgot.handle_len == 0);
	CHECK(vgot.destroyed_at == 4242);
	CHECK(vgot.spki_len == sizeof(spki_v1) && memcmp(vgot.spki, spki_v1, sizeof(spki_v1)) == 0);
	sg_key_version_clear(&vgot);
	CHECK_RC(s->ops->key_version_destroy(s, tenant_a.id, key_a.id, 1, 5000), SG_OK);
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 1, &vgot), SG_OK);
	CHECK(vgot.destroyed_at == 4242);
	sg_key_version_clear(&vgot);
	CHECK_RC(s->ops->key_version_destroy(s, tenant_a.id, key_a.id, 7, 5000), SG_ERR_NOT_FOUND);
	/* Version 2 keeps its handle. */
	CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key_a.id, 2, &vgot), SG_OK);
	CHECK(vgot.handle != NULL && strcmp(vgot.state, "ACTIVE") == 0);
	sg_key_version_clear(&vgot);

	/* ... and afterwards they are gone from the files, not just unlinked. */
	CHECK(on_pg || !file_contains(db_path, HANDLE_PROBE, HANDLE_PROBE_LEN));
	CHECK(on_pg || !file_contains(wal, HANDLE_PROBE, HANDLE_PROBE_LEN));
}

static void
make_request(sg_request *q, const sg_tenant *t, const sg_principal *p, const sg_key *k)
{
	memset(q, 0, sizeof(*q));
	new_id(q->id);
	sg_strlcpy(q->tenant_id, t->id, sizeof(q->tenant_id));
	sg_strlcpy(q->principal_id, p->id, sizeof(q->principal_id));
	sg_strlcpy(q->key_id, k->id, sizeof(q->key_id));
	q->key_version = 2;
	sg_strlcpy(q->policy, "myapp/release-signing", sizeof(q->policy));
	sg_strlcpy(q->hash_alg, "SHA-256", sizeof(q->hash_alg));
	sg_strlcpy(q->sig_scheme, "ECDSA", sizeof(q->sig_scheme));
	sg_strlcpy(q->sig_format, "DER", sizeof(q->sig_format));
	q->pss_salt_len = -1;
	for (size_t i = 0; i < 32; i++)
		q->digest[i] = (uint8_t)(i * 7);
	q->digest_len = 32;
	q->timestamp = 1;
	sg_strlcpy(q->status, "SIGNED", sizeof(q->status));
	sg_strlcpy(q->client_ip, "192.0.2.7", sizeof(q->client_ip));
	sg_strlcpy(q->client_type, "signet-cli/0.1", sizeof(q->client_type));
	q->attempts = 1;
	q->created_at = q->updated_at = sg_now_ms();
}

static uint8_t sig_bytes[] = { 0x30, 0x44, 0x02, 0x20, 0x11, 0x22 };
static uint8_t tst_bytes[] = { 0x30, 0x82, 0x01, 0x00 };

static void
make_signature(sg_signature *g, const sg_request *q)
{
	memset(g, 0, sizeof(*g));
	new_id(g->id);
	sg_strlcpy(g->request_id, q->id, sizeof(g->request_id));
	sg_strlcpy(g->tenant_id, q->tenant_id, sizeof(g->tenant_id));
	sg_strlcpy(g->key_id, q->key_id, sizeof(g->key_id));
	g->key_version = q->key_version;
	sg_strlcpy(g->hash_alg, q->hash_alg, sizeof(g->hash_alg));
	sg_strlcpy(g->sig_scheme, q->sig_scheme, sizeof(g->sig_scheme));
	sg_strlcpy(g->sig_format, q->sig_format, sizeof(g->sig_format));
	memcpy(g->digest, q->digest, q->digest_len);
	g->digest_len = q->digest_len;
	g->signature = sig_bytes;
	g->signature_len = sizeof(sig_bytes);
	sg_strlcpy(g->created_by, q->principal_id, sizeof(g->created_by));
	sg_strlcpy(g->client_ip, q->client_ip, sizeof(g->client_ip));
	sg_strlcpy(g->client_type, q->client_type, sizeof(g->client_type));
	g->created_at = q->created_at;
}

static void
make_audit(sg_audit_entry *e, const char *tenant_id, const char *actor, const char *action,
    const char *object, const char *details)
{
	memset(e, 0, sizeof(*e));
	sg_strlcpy(e->tenant_id, tenant_id, sizeof(e->tenant_id));
	sg_strlcpy(e->actor, actor, sizeof(e->actor));
	sg_strlcpy(e->action, action, sizeof(e->action));
	sg_strlcpy(e->object, object, sizeof(e->object));
	e->ts = sg_now_ms();
	e->details = (char *)details;
}

static int64_t
audit_seq(sg_store *s, const char *tenant_id)
{
	int64_t seq = -1;
	uint8_t hash[32];
	if (s->ops->audit_head(s, tenant_id, &seq, hash) != SG_OK)
		return -1;
	return seq;
}

static void
test_requests_and_signatures(sg_store *s)
{
	sg_request q1, q2, qgot;
	sg_signature g1, ggot;

	make_request(&q1, &tenant_a, &alice, &key_a);
	q1.metadata_json = "{\"build\":\"42\"}";
	q1.context_len = 3;
	memcpy(q1.context, "ctx", 3);
	sg_strlcpy(q1.signature_id, "", sizeof(q1.signature_id));
	make_signature(&g1, &q1);
	sg_strlcpy(q1.signature_id, g1.id, sizeof(q1.signature_id));
	g1.timestamp_token = tst_bytes;
	g1.timestamp_token_len = sizeof(tst_bytes);
	g1.metadata_json = q1.metadata_json;

	make_request(&q2, &tenant_a, &alice, &key_a);
	sg_strlcpy(q2.status, "PENDING_APPROVAL", sizeof(q2.status));

	sg_audit_entry au;
	int64_t seq0 = audit_seq(s, tenant_a.id);
	make_audit(&au, tenant_a.id, alice.id, "request.signed", q1.id, NULL);
	const sg_request *reqs[] = { &q1, &q2 };
	const sg_signature *sigs[] = { &g1, NULL };
	sg_audit_entry *audits[] = { &au, NULL };
	CHECK_RC(s->ops->commit_batch(s, reqs, sigs, audits, 2), SG_OK);
	/* The entry was chained in the same transaction, and the caller learns where. */
	CHECK(seq0 >= 0 && au.seq == seq0 + 1 && audit_seq(s, tenant_a.id) == au.seq);

	CHECK_RC(s->ops->request_get(s, tenant_a.id, q1.id, &qgot), SG_OK);
	CHECK(strcmp(qgot.status, "SIGNED") == 0 && strcmp(qgot.signature_id, g1.id) == 0);
	CHECK(qgot.digest_len == 32 && memcmp(qgot.digest, q1.digest, 32) == 0);
	CHECK(qgot.context_len == 3 && memcmp(qgot.context, "ctx", 3) == 0);
	CHECK(qgot.metadata_json != NULL && strcmp(qgot.metadata_json, q1.metadata_json) == 0);
	CHECK(qgot.error == NULL);
	CHECK(qgot.pss_salt_len == -1 && qgot.timestamp == 1 && qgot.key_version == 2);
	CHECK(strcmp(qgot.policy, "myapp/release-signing") == 0);
	CHECK(strcmp(qgot.client_type, "signet-cli/0.1") == 0);
	sg_request_clear(&qgot);
	CHECK(qgot.metadata_json == NULL);

	CHECK_RC(s->ops->signature_get(s, tenant_a.id, g1.id, &ggot), SG_OK);
	CHECK(ggot.signature_len == sizeof(sig_bytes) &&
	    memcmp(ggot.signature, sig_bytes, sizeof(sig_bytes)) == 0);
	CHECK(ggot.timestamp_token_len == sizeof(tst_bytes) &&
	    memcmp(ggot.timestamp_token, tst_bytes, sizeof(tst_bytes)) == 0);
	CHECK(strcmp(ggot.request_id, q1.id) == 0 && strcmp(ggot.created_by, alice.id) == 0);
	CHECK(ggot.digest_len == 32 && ggot.key_version == 2);
	sg_signature_clear(&ggot);
	CHECK(ggot.signature == NULL && ggot.timestamp_token == NULL);

	CHECK_RC(s->ops->request_get(s, tenant_b.id, q1.id, &qgot), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->signature_get(s, tenant_b.id, g1.id, &ggot), SG_ERR_NOT_FOUND);

	/* The pending request moves on: same id, new state, creation time kept. */
	int64_t created = q2.created_at;
	sg_request q2b = q2;
	sg_strlcpy(q2b.status, "FAILED", sizeof(q2b.status));
	q2b.error = "key offline";
	q2b.attempts = 3;
	q2b.created_at = created + 99999;
	const sg_request *reqs2[] = { &q2b };
	CHECK_RC(s->ops->commit_batch(s, reqs2, NULL, NULL, 1), SG_OK);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, q2.id, &qgot), SG_OK);
	CHECK(strcmp(qgot.status, "FAILED") == 0 && qgot.attempts == 3);
	CHECK(qgot.error != NULL && strcmp(qgot.error, "key offline") == 0);
	CHECK(qgot.created_at == created);
	sg_request_clear(&qgot);

	/* Tenant B cannot overwrite tenant A's request by reusing its id. */
	sg_request hijack = q2b;
	sg_strlcpy(hijack.tenant_id, tenant_b.id, sizeof(hijack.tenant_id));
	sg_strlcpy(hijack.status, "SIGNED", sizeof(hijack.status));
	const sg_request *reqs3[] = { &hijack };
	CHECK_RC(s->ops->commit_batch(s, reqs3, NULL, NULL, 1), SG_ERR_CONFLICT);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, q2.id, &qgot), SG_OK);
	CHECK(strcmp(qgot.status, "FAILED") == 0);
	sg_request_clear(&qgot);

	/* A SIGNED request is never signed again on record. */
	sg_signature again;
	make_signature(&again, &q1);
	const sg_request *reqs4[] = { &q1 };
	const sg_signature *sigs4[] = { &again };
	CHECK_RC(s->ops->commit_batch(s, reqs4, sigs4, NULL, 1), SG_ERR_CONFLICT);
	CHECK_RC(s->ops->signature_get(s, tenant_a.id, again.id, &ggot), SG_ERR_NOT_FOUND);

	sg_strlcpy(sig_id_kept, g1.id, sizeof(sig_id_kept));
	sg_strlcpy(req_id_kept, q1.id, sizeof(req_id_kept));
}

static void
test_batch_atomicity(sg_store *s)
{
	sg_request q[3], qgot;
	sg_signature g[3], ggot;

	for (int i = 0; i < 3; i++) {
		make_request(&q[i], &tenant_a, &alice, &key_a);
		make_signature(&g[i], &q[i]);
	}
	/* The second signature reuses an id that is already stored. */
	sg_strlcpy(g[1].id, sig_id_kept, sizeof(g[1].id));
	const sg_request *reqs[] = { &q[0], &q[1], &q[2] };
	const sg_signature *sigs[] = { &g[0], &g[1], &g[2] };
	sg_audit_entry au[3];
	sg_audit_entry *audits[] = { &au[0], &au[1], &au[2] };
	for (int i = 0; i < 3; i++)
		make_audit(&au[i], tenant_a.id, alice.id, "request.signed", q[i].id, NULL);
	int64_t seq0 = audit_seq(s, tenant_a.id);
	CHECK_RC(s->ops->commit_batch(s, reqs, sigs, audits, 3), SG_ERR_CONFLICT);
	CHECK(audit_seq(s, tenant_a.id) == seq0);  /* no entry of the batch survived */
	CHECK(au[0].seq == 0);                     /* and the caller's entries are untouched */
	for (int i = 0; i < 3; i++)
		CHECK_RC(s->ops->request_get(s, tenant_a.id, q[i].id, &qgot), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->signature_get(s, tenant_a.id, g[0].id, &ggot), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->signature_get(s, tenant_a.id, g[2].id, &ggot), SG_ERR_NOT_FOUND);
	/* The signature that owned the id is unchanged. */
	CHECK_RC(s->ops->signature_get(s, tenant_a.id, sig_id_kept, &ggot), SG_OK);
	CHECK(strcmp(ggot.request_id, req_id_kept) == 0);
	sg_signature_clear(&ggot);

	/* A batch naming a tenant that does not exist is refused as a whole too. */
	sg_strlcpy(g[1].id, "fresh-signature-id", sizeof(g[1].id));
	sg_strlcpy(q[2].tenant_id, "no-such-tenant", sizeof(q[2].tenant_id));
	sg_strlcpy(g[2].tenant_id, "no-such-tenant", sizeof(g[2].tenant_id));
	CHECK(s->ops->commit_batch(s, reqs, sigs, audits, 3) != SG_OK);
	CHECK(audit_seq(s, tenant_a.id) == seq0);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, q[0].id, &qgot), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->signature_get(s, tenant_a.id, g[1].id, &ggot), SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->commit_batch(s, reqs, sigs, audits, 2), SG_OK);
	CHECK(audit_seq(s, tenant_a.id) == seq0 + 2 && au[1].seq == seq0 + 2);
	CHECK_RC(s->ops->signature_get(s, tenant_a.id, g[1].id, &ggot), SG_OK);
	sg_signature_clear(&ggot);
}

/* ---- group commit under concurrency ---- */

#define COMMIT_THREADS 8
#define COMMITS_PER_THREAD 200

struct committer_arg {
	sg_committer *committer;
	int failures;
	char sig_ids[COMMITS_PER_THREAD][SG_ID_MAX];
};

static void *
committer_thread(void *p)
{
	struct committer_arg *a = p;
	for (int i = 0; i < COMMITS_PER_THREAD; i++) {
		sg_request q;
		sg_signature g;
		make_request(&q, &tenant_a, &alice, &key_a);
		make_signature(&g, &q);
		sg_strlcpy(q.signature_id, g.id, sizeof(q.signature_id));
		sg_audit_entry au;
		make_audit(&au, tenant_a.id, alice.id, "request.signed", q.id, NULL);
		if (sg_commit_signature(a->committer, &q, &g, &au) != SG_OK || au.seq <= 0)
			a->failures++;
		sg_strlcpy(a->sig_ids[i], g.id, sizeof(a->sig_ids[i]));
	}
	return NULL;
}

struct reader_arg {
	sg_store *store;
	atomic_int *stop;
	int failures;
	long reads;
};

/* Reads on the pool while the committer writes: the sign path's lookups. */
static void *
reader_thread(void *p)
{
	struct reader_arg *a = p;
	while (!atomic_load(a->stop)) {
		sg_key k;
		sg_principal pr;
		sg_key_version v;
		if (a->store->ops->key_get(a->store, tenant_a.id, "release", &k) != SG_OK)
			a->failures++;
		if (a->store->ops->principal_get(a->store, tenant_a.id, alice.id, &pr) != SG_OK)
			a->failures++;
		if (a->store->ops->key_version_get(a->store, tenant_a.id, key_a.id, 2, &v) != SG_OK)
			a->failures++;
		else
			sg_key_version_clear(&v);
		a->reads++;
	}
	return NULL;
}

static void
test_group_commit(sg_store *s)
{
	static struct committer_arg args[COMMIT_THREADS];
	struct reader_arg readers[2];
	pthread_t th[COMMIT_THREADS], rth[2];
	atomic_int stop = 0;
	sg_committer *c = NULL;

	int64_t seq_before = audit_seq(s, tenant_a.id);
	CHECK_RC(sg_committer_start(s, 32, &c), SG_OK);
	if (c == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		readers[i] = (struct reader_arg){ .store = s, .stop = &stop };
		pthread_create(&rth[i], NULL, reader_thread, &readers[i]);
	}
	for (int i = 0; i < COMMIT_THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].committer = c;
		pthread_create(&th[i], NULL, committer_thread, &args[i]);
	}
	for (int i = 0; i < COMMIT_THREADS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(rth[i], NULL);

	uint64_t batches = 0, items = 0;
	sg_committer_stats(c, &batches, &items, NULL);
	sg_committer_stop(c);
	printf("group commit: %d records in %llu transactions; %ld concurrent reads\n",
	    COMMIT_THREADS * COMMITS_PER_THREAD, (unsigned long long)batches,
	    readers[0].reads + readers[1].reads);

	int failed = 0;
	for (int i = 0; i < COMMIT_THREADS; i++)
		failed += args[i].failures;
	CHECK(failed == 0);
	CHECK(readers[0].failures == 0 && readers[1].failures == 0);
	CHECK(items == COMMIT_THREADS * COMMITS_PER_THREAD);
	/* Batching happened: clearly fewer transactions than records. */
	CHECK(batches > 0 && batches < items / 2);

	int missing = 0;
	for (int i = 0; i < COMMIT_THREADS; i++) {
		for (int j = 0; j < COMMITS_PER_THREAD; j++) {
			sg_signature g;
			sg_request q;
			if (s->ops->signature_get(s, tenant_a.id, args[i].sig_ids[j], &g) != SG_OK) {
				missing++;
				continue;
			}
			if (s->ops->request_get(s, tenant_a.id, g.request_id, &q) != SG_OK ||
			    strcmp(q.signature_id, g.id) != 0)
				missing++;
			else
				sg_request_clear(&q);
			sg_signature_clear(&g);
		}
	}
	CHECK(missing == 0);

	/* Every commit chained its audit entry, and the chain is whole. */
	int64_t checked = 0, bad = -1;
	char why[128] = "x";
	CHECK(audit_seq(s, tenant_a.id) == seq_before + COMMIT_THREADS * COMMITS_PER_THREAD);
	CHECK_RC(sg_audit_verify(s, tenant_a.id, &checked, &bad, why, sizeof(why)), SG_OK);
	CHECK(checked == audit_seq(s, tenant_a.id) && bad == 0 && why[0] == '\0');

	/* An idle committer (default batch size) stops at once. */
	CHECK_RC(sg_committer_start(s, 0, &c), SG_OK);
	sg_committer_stop(c);
}

/*
 * A fake back-end: the first commit_batch waits until several callers are
 * queued, then every batch containing a request whose status is "BAD" fails
 * as a whole.  Only the bad caller may see the failure.
 */
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cv = PTHREAD_COND_INITIALIZER;
static int fake_entered, fake_release, fake_calls;
static size_t fake_largest;

static int
fake_commit_batch(sg_store *s, const sg_request *const *reqs, const sg_signature *const *sigs,
    sg_audit_entry *const *audits, size_t n)
{
	(void)s;
	(void)sigs;
	(void)audits;
	pthread_mutex_lock(&fake_mu);
	if (fake_entered++ == 0) {
		pthread_cond_broadcast(&fake_cv);
		while (!fake_release)
			pthread_cond_wait(&fake_cv, &fake_mu);
	}
	if (n > fake_largest)
		fake_largest = n;
	pthread_mutex_unlock(&fake_mu);
	fake_calls++;
	for (size_t i = 0; i < n; i++)
		if (strcmp(reqs[i]->status, "GONE") == 0)
			return SG_ERR_UNAVAILABLE;  /* say, the connection broke during COMMIT */
	for (size_t i = 0; i < n; i++)
		if (strcmp(reqs[i]->status, "BAD") == 0)
			return SG_ERR_CONFLICT;
	return SG_OK;
}

static void *
fake_releaser(void *p)
{
	(void)p;
	usleep(200 * 1000);
	pthread_mutex_lock(&fake_mu);
	fake_release = 1;
	pthread_cond_broadcast(&fake_cv);
	pthread_mutex_unlock(&fake_mu);
	return NULL;
}

struct fake_arg {
	sg_committer *c;
	sg_request q;
	int result;
};

static void *
fake_thread(void *p)
{
	struct fake_arg *a = p;
	a->result = sg_commit_signature(a->c, &a->q, NULL, NULL);
	return NULL;
}

/* A queue worker's view: four triples in one call, the third of them bad. */
struct fake_many {
	sg_committer *c;
	sg_request q[4];
	int results[4];
	int result;
};

static void *
fake_many_thread(void *p)
{
	struct fake_many *a = p;
	const sg_request *reqs[4] = { &a->q[0], &a->q[1], &a->q[2], &a->q[3] };
	for (int i = 0; i < 4; i++)
		a->results[i] = -12345;
	a->result = sg_commit_signatures(a->c, 4, reqs, NULL, NULL, a->results);
	return NULL;
}

static void
test_committer_isolates_failures(void)
{
	static const sg_store_ops fake_ops = { .name = "fake", .commit_batch = fake_commit_batch };
	sg_store fake = { .ops = &fake_ops, .impl = NULL };
	struct fake_arg first, others[6];
	struct fake_many many;
	pthread_t t0, th[6], tm;
	sg_committer *c = NULL;

	CHECK_RC(sg_committer_start(&fake, 16, &c), SG_OK);
	if (c == NULL)
		return;
	memset(&first, 0, sizeof(first));
	first.c = c;
	sg_strlcpy(first.q.status, "SIGNED", sizeof(first.q.status));
	pthread_create(&t0, NULL, fake_thread, &first);
	pthread_mutex_lock(&fake_mu);
	while (fake_entered == 0)
		pthread_cond_wait(&fake_cv, &fake_mu);
	pthread_mutex_unlock(&fake_mu);
	/* The committer is stuck in the first batch: these six queue up together. */
	for (int i = 0; i < 6; i++) {
		memset(&others[i], 0, sizeof(others[i]));
		others[i].c = c;
		sg_strlcpy(others[i].q.status, i == 3 ? "BAD" : "SIGNED", sizeof(others[i].q.status));
		pthread_create(&th[i], NULL, fake_thread, &others[i]);
	}
	memset(&many, 0, sizeof(many));
	many.c = c;
	for (int i = 0; i < 4; i++)
		sg_strlcpy(many.q[i].status, i == 2 ? "BAD" : "SIGNED", sizeof(many.q[i].status));
	pthread_create(&tm, NULL, fake_many_thread, &many);
	/* Stop while all of them wait: stop must still write every one and wake them. */
	uint64_t queued = 0;
	for (int tries = 0; tries < 5000 && queued < 10; tries++) {
		usleep(1000);
		sg_committer_stats(c, NULL, NULL, &queued);
	}
	CHECK(queued == 10);
	pthread_t releaser;
	pthread_create(&releaser, NULL, fake_releaser, NULL);
	sg_committer_stop(c);
	pthread_join(releaser, NULL);
	pthread_join(t0, NULL);
	for (int i = 0; i < 6; i++)
		pthread_join(th[i], NULL);
	pthread_join(tm, NULL);

	CHECK(first.result == SG_OK);
	for (int i = 0; i < 6; i++)
		CHECK(others[i].result == (i == 3 ? SG_ERR_CONFLICT : SG_OK));
	CHECK(many.result == SG_ERR_CONFLICT);
	for (int i = 0; i < 4; i++)
		CHECK(many.results[i] == (i == 2 ? SG_ERR_CONFLICT : SG_OK));
	/* The ten queued triples were written in one batch (then retried one by one). */
	CHECK(fake_largest == 10);
	printf("fake committer: largest batch %zu\n", fake_largest);
}

/*
 * A batch whose outcome is unknown (SG_ERR_UNAVAILABLE: it may be on
 * record) is not written again one by one: every triple gets the error.
 */
static void
test_committer_unknown_outcome(void)
{
	static const sg_store_ops fake_ops = { .name = "fake", .commit_batch = fake_commit_batch };
	sg_store fake = { .ops = &fake_ops, .impl = NULL };
	sg_committer *c = NULL;
	sg_request q[3];
	int results[3] = { -12345, -12345, -12345 };

	pthread_mutex_lock(&fake_mu);
	fake_entered = 1;  /* no blocking in the fake */
	fake_calls = 0;
	pthread_mutex_unlock(&fake_mu);
	CHECK_RC(sg_committer_start(&fake, 16, &c), SG_OK);
	if (c == NULL)
		return;
	memset(q, 0, sizeof(q));
	for (int i = 0; i < 3; i++)
		sg_strlcpy(q[i].status, i == 1 ? "GONE" : "SIGNED", sizeof(q[i].status));
	const sg_request *reqs[3] = { &q[0], &q[1], &q[2] };
	CHECK_RC(sg_commit_signatures(c, 3, reqs, NULL, NULL, results), SG_ERR_UNAVAILABLE);
	for (int i = 0; i < 3; i++)
		CHECK(results[i] == SG_ERR_UNAVAILABLE);
	sg_committer_stop(c);
	CHECK(fake_calls == 1);
}


/* ---- the workflow: policies, the queue, approvals, idempotency ---- */

static void
test_policies(sg_store *s)
{
	sg_policy p, got;
	sg_policy *list = NULL;
	size_t n = 0;
	sg_audit_entry au;

	memset(&p, 0, sizeof(p));
	new_id(p.id);
	sg_strlcpy(p.tenant_id, tenant_a.id, sizeof(p.tenant_id));
	sg_strlcpy(p.project, "myapp", sizeof(p.project));
	sg_strlcpy(p.slug, "release-signing", sizeof(p.slug));
	sg_strlcpy(p.key_id, key_a.id, sizeof(p.key_id));
	p.allowed_hash_algorithms = "[\"SHA-256\",\"SHA-512\"]";
	p.approvals_required = 2;
	p.approvers = "{\"role\":\"approver\"}";
	p.approval_timeout_seconds = 3600;
	p.required_metadata = "[\"build\"]";
	p.timestamp = 1;
	p.created_at = 31;
	make_audit(&au, tenant_a.id, alice.id, "policy.created", p.id, NULL);
	int64_t seq0 = audit_seq(s, tenant_a.id);
	CHECK_RC(s->ops->policy_create(s, &p, &au), SG_OK);
	CHECK(au.seq == seq0 + 1);

	CHECK_RC(s->ops->policy_get(s, tenant_a.id, "myapp", "release-signing", &got), SG_OK);
	CHECK(strcmp(got.id, p.id) == 0 && strcmp(got.key_id, key_a.id) == 0);
	CHECK(got.allowed_hash_algorithms != NULL &&
	    strcmp(got.allowed_hash_algorithms, p.allowed_hash_algorithms) == 0);
	CHECK(got.allowed_signature_algorithms == NULL);
	CHECK(got.approvers != NULL && strcmp(got.approvers, p.approvers) == 0);
	CHECK(got.required_metadata != NULL && strcmp(got.required_metadata, "[\"build\"]") == 0);
	CHECK(got.approvals_required == 2 && got.approval_timeout_seconds == 3600);
	CHECK(got.timestamp == 1 && got.allow_fast == 0 && got.created_at == 31);
	sg_policy_clear(&got);
	CHECK(got.approvers == NULL);
	CHECK_RC(s->ops->policy_get(s, tenant_b.id, "myapp", "release-signing", &got),
	    SG_ERR_NOT_FOUND);

	/* Unique per (tenant, project, slug); the refused one leaves no audit entry. */
	sg_policy dup = p;
	new_id(dup.id);
	make_audit(&au, tenant_a.id, alice.id, "policy.created", dup.id, NULL);
	CHECK_RC(s->ops->policy_create(s, &dup, &au), SG_ERR_CONFLICT);
	CHECK(audit_seq(s, tenant_a.id) == seq0 + 1);
	sg_strlcpy(dup.slug, "test-signing", sizeof(dup.slug));
	dup.allow_fast = 1;
	CHECK_RC(s->ops->policy_create(s, &dup, NULL), SG_OK);
	sg_policy ghost = dup;
	new_id(ghost.id);
	sg_strlcpy(ghost.slug, "ghost", sizeof(ghost.slug));
	sg_strlcpy(ghost.key_id, "no-such-key", sizeof(ghost.key_id));
	CHECK_RC(s->ops->policy_create(s, &ghost, NULL), SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->policy_list(s, tenant_a.id, &list, &n), SG_OK);
	CHECK(n == 2);
	if (n == 2)
		CHECK(strcmp(list[0].slug, "release-signing") == 0 &&
		    strcmp(list[1].slug, "test-signing") == 0 && list[1].allow_fast == 1);
	sg_policy_list_free(list, n);
	CHECK_RC(s->ops->policy_list(s, tenant_b.id, &list, &n), SG_OK);
	CHECK(n == 0 && list == NULL);
}

/*
 * Text that is not UTF-8 (PostgreSQL refuses to store it) matches nothing:
 * lookups answer NOT_FOUND or an empty list on every store, as for any
 * other name that is not there (GET /v1/keys/%C3 is a 404 everywhere).
 */
static void
test_not_utf8(sg_store *s)
{
	static const char *bad[] = { "\xc3", "k\xc3(", "\xed\xa0\x80", "\xc0\xaf", "\xff" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sg_tenant t;
		sg_principal p;
		sg_api_key ak;
		sg_key k;
		sg_request rq;
		sg_policy pol;
		sg_key *keys = NULL;
		sg_principal *ps = NULL;
		size_t n = 99;
		CHECK_RC(s->ops->tenant_get(s, bad[i], &t), SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->tenant_get_by_name(s, bad[i], &t), SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->principal_get(s, tenant_a.id, bad[i], &p), SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->api_key_find(s, bad[i], &ak), SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->key_get(s, tenant_a.id, bad[i], &k), SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->request_get(s, tenant_a.id, bad[i], &rq), SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->request_find_idempotent(s, tenant_a.id, bob.id, bad[i], &rq),
		    SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->policy_get(s, tenant_a.id, bad[i], "x", &pol), SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->key_list(s, bad[i], &keys, &n), SG_OK);
		CHECK(n == 0 && keys == NULL);
		n = 99;
		CHECK_RC(s->ops->principal_list(s, bad[i], &ps, &n), SG_OK);
		CHECK(n == 0 && ps == NULL);
	}
}

/*
 * Lists sorted by a name sort in byte order on every store, whatever the
 * database's collation ("B" before "a", "a-b" before "ab").
 */
static void
test_byte_order(sg_store *s)
{
	static const char *names[] = { "ab", "a", "B", "a-b" };
	static const char *sorted[] = { "B", "a", "a-b", "ab" };
	sg_tenant t;
	sg_principal p[4];
	sg_key k[4];
	sg_key_version v[4];
	make_tenant(&t, "byte-order");
	CHECK_RC(s->ops->tenant_create(s, &t), SG_OK);
	for (int i = 0; i < 4; i++) {
		make_principal(&p[i], &t, names[i], SG_ROLE_ADMIN);
		p[i].created_at = 1700000000000;
		CHECK_RC(s->ops->principal_create(s, &p[i]), SG_OK);
		make_key(&k[i], &v[i], &t, names[i], spki_v1, sizeof(spki_v1), handle_v1,
		    sizeof(handle_v1));
		k[i].created_at = k[i].updated_at = v[i].created_at = 1700000000000;
		CHECK_RC(s->ops->key_create(s, &k[i], &v[i]), SG_OK);
	}
	sg_principal *ps = NULL;
	size_t n = 0;
	CHECK_RC(s->ops->principal_list(s, t.id, &ps, &n), SG_OK);
	CHECK(n == 4);
	for (size_t i = 0; i < n && i < 4; i++)
		CHECK(strcmp(ps[i].name, sorted[i]) == 0);
	free(ps);
	sg_key *ks = NULL;
	CHECK_RC(s->ops->key_list(s, t.id, &ks, &n), SG_OK);
	CHECK(n == 4);
	for (size_t i = 0; i < n && i < 4; i++)
		CHECK(strcmp(ks[i].alias, sorted[i]) == 0);
	free(ks);
}

static void
make_queued(sg_request *q, const char *status, int64_t created_at)
{
	make_request(q, &tenant_a, &bob, &key_a);
	sg_strlcpy(q->status, status, sizeof(q->status));
	q->attempts = 0;
	q->created_at = q->updated_at = created_at;
}

static void
test_queue(sg_store *s)
{
	sg_request q[3], got;
	sg_request *list = NULL;
	size_t n = 0;
	const int64_t t0 = 1900000000000;

	/* Two due now (the older first), one due later. */
	make_queued(&q[0], "QUEUED", t0 + 2);
	make_queued(&q[1], "QUEUED", t0 + 1);
	make_queued(&q[2], "QUEUED", t0 + 3);
	q[2].next_attempt_at = t0 + 60000;
	sg_strlcpy(q[1].description, "resubmitted for the release", sizeof(q[1].description));
	for (int i = 0; i < 3; i++)
		CHECK_RC(sg_store_test_request_create(s, &q[i], NULL), SG_OK);
	CHECK_RC(sg_store_test_request_create(s, &q[0], NULL), SG_ERR_CONFLICT);

	CHECK_RC(s->ops->request_claim(s, t0 + 10, 30000, 10, &list, &n), SG_OK);
	CHECK(n == 2);
	if (n == 2) {
		CHECK(strcmp(list[0].id, q[1].id) == 0 && strcmp(list[1].id, q[0].id) == 0);
		CHECK(strcmp(list[0].status, "PROCESSING") == 0 && list[0].attempts == 1);
		CHECK(list[0].lease_until == t0 + 10 + 30000);
		CHECK(strcmp(list[0].description, "resubmitted for the release") == 0);
	}
	sg_request_list_free(list, n);

	/* Nothing else is due: the leases hold and q[2] waits. */
	list = (sg_request *)&got;
	CHECK_RC(s->ops->request_claim(s, t0 + 20, 30000, 10, &list, &n), SG_OK);
	CHECK(n == 0 && list == NULL);

	/* A worker that dies loses its claim when the lease runs out. */
	CHECK_RC(s->ops->request_claim(s, t0 + 10 + 30000, 30000, 1, &list, &n), SG_OK);
	CHECK(n == 1 && list != NULL && strcmp(list[0].id, q[1].id) == 0 && list[0].attempts == 2);
	sg_request_list_free(list, n);

	/*
	 * Lease fencing: the worker of the first claim (attempts 1), whose lease
	 * ran out, neither records a signature nor moves the request.
	 */
	sg_request late = q[1];
	sg_signature late_sig;
	sg_strlcpy(late.status, "SIGNED", sizeof(late.status));
	late.attempts = 1;
	make_signature(&late_sig, &late);
	sg_strlcpy(late.signature_id, late_sig.id, sizeof(late.signature_id));
	const sg_request *late_rq[] = { &late };
	const sg_signature *late_sg[] = { &late_sig };
	CHECK_RC(s->ops->commit_batch(s, late_rq, late_sg, NULL, 1), SG_ERR_CONFLICT);
	CHECK_RC(s->ops->request_transition(s, tenant_a.id, q[1].id, "PROCESSING", "QUEUED", 1, "x",
	    t0 + 50000, t0 + 40000, NULL), SG_ERR_PRECONDITION);
	CHECK_RC(s->ops->request_transition(s, tenant_a.id, q[1].id, "PROCESSING", "FAILED", 1, "x",
	    0, t0 + 40000, NULL), SG_ERR_PRECONDITION);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, q[1].id, &got), SG_OK);
	CHECK(strcmp(got.status, "PROCESSING") == 0 && got.attempts == 2 && got.signature_id[0] == '\0');
	sg_request_clear(&got);

	/* Compare-and-set of the status. */
	CHECK_RC(s->ops->request_transition(s, tenant_a.id, q[1].id, "QUEUED", "FAILED", 0, "x", 0,
	    t0 + 40000, NULL), SG_ERR_PRECONDITION);
	CHECK_RC(s->ops->request_transition(s, tenant_b.id, q[1].id, "PROCESSING", "FAILED", 0, "x", 0,
	    t0 + 40000, NULL), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->request_transition(s, tenant_a.id, "no-such-request", "PROCESSING", "FAILED",
	    0, "x", 0, t0 + 40000, NULL), SG_ERR_NOT_FOUND);
	sg_audit_entry au;
	make_audit(&au, tenant_a.id, "", "request.retry", q[1].id, "{\"attempt\":2}");
	int64_t seq0 = audit_seq(s, tenant_a.id);
	CHECK_RC(s->ops->request_transition(s, tenant_a.id, q[1].id, "PROCESSING", "QUEUED", 2,
	    "HSM unavailable", t0 + 50000, t0 + 40000, &au), SG_OK);
	CHECK(au.seq == seq0 + 1);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, q[1].id, &got), SG_OK);
	CHECK(strcmp(got.status, "QUEUED") == 0 && got.next_attempt_at == t0 + 50000);
	CHECK(got.error != NULL && strcmp(got.error, "HSM unavailable") == 0);
	CHECK(got.lease_until == 0 && got.updated_at == t0 + 40000);
	sg_request_clear(&got);
	/* A request no longer PROCESSING does not become SIGNED, even by its last worker. */
	late.attempts = 2;
	CHECK_RC(s->ops->commit_batch(s, late_rq, late_sg, NULL, 1), SG_ERR_CONFLICT);

	int64_t counts[4] = { -1, -1, -1, -1 };
	const char *statuses[] = { "QUEUED", "PROCESSING", "PENDING_APPROVAL", "DEAD_LETTER" };
	CHECK_RC(s->ops->request_count_by_status(s, statuses, 4, counts), SG_OK);
	CHECK(counts[0] == 2 && counts[1] == 1 && counts[3] == 0);

	/* Newest first, by status, tenant by tenant, bounded. */
	CHECK_RC(s->ops->request_list(s, tenant_a.id, "QUEUED", 10, &list, &n), SG_OK);
	CHECK(n == 2);
	if (n == 2)
		CHECK(strcmp(list[0].id, q[2].id) == 0 && strcmp(list[1].id, q[1].id) == 0);
	sg_request_list_free(list, n);
	CHECK_RC(s->ops->request_list(s, tenant_a.id, NULL, 1, &list, &n), SG_OK);
	CHECK(n == 1);
	sg_request_list_free(list, n);
	CHECK_RC(s->ops->request_list(s, tenant_b.id, NULL, 10, &list, &n), SG_OK);
	CHECK(n == 0);
	CHECK_RC(s->ops->request_list(s, tenant_a.id, NULL, 0, &list, &n), SG_ERR_INVALID_ARGUMENT);
	CHECK_RC(s->ops->request_list(s, tenant_a.id, NULL, 1001, &list, &n),
	    SG_ERR_INVALID_ARGUMENT);
}

static void
test_idempotency(sg_store *s)
{
	sg_request q1, q2, got;

	make_queued(&q1, "QUEUED", 1000);
	sg_strlcpy(q1.idempotency_key, "build-42", sizeof(q1.idempotency_key));
	memset(q1.body_hash, 0xab, sizeof(q1.body_hash));
	CHECK_RC(sg_store_test_request_create(s, &q1, NULL), SG_OK);
	CHECK_RC(s->ops->request_find_idempotent(s, tenant_a.id, bob.id, "build-42", &got), SG_OK);
	CHECK(strcmp(got.id, q1.id) == 0 && got.body_hash[31] == 0xab);
	CHECK(strcmp(got.idempotency_key, "build-42") == 0);
	sg_request_clear(&got);
	/* Another tenant does not find it, as for a key never used. */
	CHECK_RC(s->ops->request_find_idempotent(s, tenant_b.id, bob.id, "build-42", &got),
	    SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->request_find_idempotent(s, tenant_a.id, alice.id, "build-42", &got), SG_ERR_NOT_FOUND);

	/* The same key again from the same principal is refused, from another accepted. */
	make_queued(&q2, "QUEUED", 2000);
	sg_strlcpy(q2.idempotency_key, "build-42", sizeof(q2.idempotency_key));
	CHECK_RC(sg_store_test_request_create(s, &q2, NULL), SG_ERR_CONFLICT);
	const sg_request *reqs[] = { &q2 };
	CHECK_RC(s->ops->commit_batch(s, reqs, NULL, NULL, 1), SG_ERR_CONFLICT);
	sg_strlcpy(q2.principal_id, alice.id, sizeof(q2.principal_id));
	CHECK_RC(sg_store_test_request_create(s, &q2, NULL), SG_OK);

	/* Requests without a key never collide. */
	sg_request a, b;
	make_queued(&a, "QUEUED", 3000);
	make_queued(&b, "QUEUED", 3000);
	CHECK_RC(sg_store_test_request_create(s, &a, NULL), SG_OK);
	CHECK_RC(sg_store_test_request_create(s, &b, NULL), SG_OK);

	/* Once purged the key is free again; the request itself stays. */
	CHECK_RC(s->ops->idempotency_purge(s, 1500), SG_OK);
	CHECK_RC(s->ops->request_find_idempotent(s, tenant_a.id, bob.id, "build-42", &got), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->request_find_idempotent(s, tenant_a.id, alice.id, "build-42", &got), SG_OK);
	sg_request_clear(&got);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, q1.id, &got), SG_OK);
	CHECK(got.idempotency_key[0] == '\0');
	sg_request_clear(&got);
	sg_strlcpy(q2.principal_id, bob.id, sizeof(q2.principal_id));
	new_id(q2.id);
	CHECK_RC(sg_store_test_request_create(s, &q2, NULL), SG_OK);
}

/* 1 when tenant_id's chain holds an entry with this action and object. */
static int
audit_has(sg_store *s, const char *tenant_id, const char *action, const char *object)
{
	sg_audit_entry *list = NULL;
	size_t n = 0;
	int found = 0;
	int64_t after = 0;
	while (!found && s->ops->audit_list(s, tenant_id, after, 500, &list, &n) == SG_OK && n > 0) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(list[i].action, action) == 0 && strcmp(list[i].object, object) == 0)
				found = 1;
		after = list[n - 1].seq;
		sg_audit_list_free(list, n);
	}
	return found;
}

/* The seq of the tenant's entry with this action and object, 0 if none. */
static int64_t
audit_seq_of(sg_store *s, const char *tenant_id, const char *action, const char *object)
{
	sg_audit_entry *list = NULL;
	size_t n = 0;
	int64_t after = 0, seq = 0;
	while (seq == 0 && s->ops->audit_list(s, tenant_id, after, 500, &list, &n) == SG_OK && n > 0) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(list[i].action, action) == 0 && strcmp(list[i].object, object) == 0)
				seq = list[i].seq;
		after = list[n - 1].seq;
		sg_audit_list_free(list, n);
	}
	return seq;
}

static void
make_vote(sg_approval *v, const sg_request *q, const sg_principal *who, const char *decision)
{
	memset(v, 0, sizeof(*v));
	sg_strlcpy(v->request_id, q->id, sizeof(v->request_id));
	sg_strlcpy(v->tenant_id, q->tenant_id, sizeof(v->tenant_id));
	sg_strlcpy(v->approver_id, who->id, sizeof(v->approver_id));
	sg_strlcpy(v->decision, decision, sizeof(v->decision));
	v->created_at = sg_now_ms();
}

static void
test_approvals(sg_store *s)
{
	sg_request q, r2, got;
	sg_approval v;
	sg_principal dave, erin;
	char status[SG_STATUS_MAX];

	make_principal(&dave, &tenant_a, "dave", SG_ROLE_APPROVER);
	make_principal(&erin, &tenant_a, "erin", SG_ROLE_APPROVER);
	CHECK_RC(s->ops->principal_create(s, &dave), SG_OK);
	CHECK_RC(s->ops->principal_create(s, &erin), SG_OK);

	make_queued(&q, "PENDING_APPROVAL", sg_now_ms());  /* submitted by bob */
	q.approvals_required = 2;
	CHECK_RC(sg_store_test_request_create(s, &q, NULL), SG_OK);

	make_vote(&v, &q, &bob, "APPROVED");
	CHECK_RC(s->ops->approval_add(s, &v, NULL, status), SG_ERR_PERMISSION_DENIED);
	make_vote(&v, &q, &dave, "MAYBE");
	CHECK_RC(s->ops->approval_add(s, &v, NULL, status), SG_ERR_INVALID_ARGUMENT);
	make_vote(&v, &q, &dave, "APPROVED");
	sg_strlcpy(v.tenant_id, tenant_b.id, sizeof(v.tenant_id));
	CHECK_RC(s->ops->approval_add(s, &v, NULL, status), SG_ERR_NOT_FOUND);

	sg_audit_entry au;
	make_vote(&v, &q, &dave, "APPROVED");
	make_audit(&au, tenant_a.id, dave.id, "request.approved", q.id, NULL);
	memset(status, 0, sizeof(status));
	CHECK_RC(s->ops->approval_add(s, &v, &au, status), SG_OK);
	CHECK(strcmp(status, "PENDING_APPROVAL") == 0 && au.seq > 0);
	CHECK_RC(s->ops->approval_add(s, &v, NULL, status), SG_ERR_CONFLICT);

	make_vote(&v, &q, &erin, "APPROVED");
	CHECK_RC(s->ops->approval_add(s, &v, NULL, status), SG_OK);
	CHECK(strcmp(status, "QUEUED") == 0);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, q.id, &got), SG_OK);
	CHECK(strcmp(got.status, "QUEUED") == 0 && got.next_attempt_at == v.created_at);
	sg_request_clear(&got);
	CHECK(audit_has(s, tenant_a.id, "request.queued", q.id));

	/* Quorum reached: further votes come too late. */
	make_vote(&v, &q, &alice, "REJECTED");
	CHECK_RC(s->ops->approval_add(s, &v, NULL, status), SG_ERR_PRECONDITION);

	sg_approval *votes = NULL;
	size_t n = 0;
	CHECK_RC(s->ops->approval_list(s, tenant_a.id, q.id, &votes, &n), SG_OK);
	CHECK(n == 2);
	free(votes);
	CHECK_RC(s->ops->approval_list(s, tenant_b.id, q.id, &votes, &n), SG_OK);
	CHECK(n == 0);

	/* One rejection ends a request. */
	make_queued(&r2, "PENDING_APPROVAL", sg_now_ms());
	r2.approvals_required = 2;
	CHECK_RC(sg_store_test_request_create(s, &r2, NULL), SG_OK);
	make_vote(&v, &r2, &erin, "REJECTED");
	sg_strlcpy(v.comment, "not this build", sizeof(v.comment));
	CHECK_RC(s->ops->approval_add(s, &v, NULL, status), SG_OK);
	CHECK(strcmp(status, "REJECTED") == 0);
	CHECK(audit_has(s, tenant_a.id, "request.rejected", r2.id));
	CHECK_RC(s->ops->approval_list(s, tenant_a.id, r2.id, &votes, &n), SG_OK);
	CHECK(n == 1 && strcmp(votes[0].comment, "not this build") == 0);
	free(votes);

	/* Approval windows run out. */
	sg_request late, fresh;
	int64_t now = sg_now_ms();
	make_queued(&late, "PENDING_APPROVAL", now - 5000);
	late.approval_deadline = now - 1;
	make_queued(&fresh, "PENDING_APPROVAL", now - 5000);
	fresh.approval_deadline = now + 3600000;
	CHECK_RC(sg_store_test_request_create(s, &late, NULL), SG_OK);
	CHECK_RC(sg_store_test_request_create(s, &fresh, NULL), SG_OK);
	sg_request *expired = NULL;
	CHECK_RC(s->ops->request_expire_approvals(s, now, &expired, &n), SG_OK);
	CHECK(n == 1 && expired != NULL && strcmp(expired[0].id, late.id) == 0);
	sg_request_list_free(expired, n);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, late.id, &got), SG_OK);
	CHECK(strcmp(got.status, "REJECTED") == 0 && got.error != NULL &&
	    strcmp(got.error, "approval window expired") == 0);
	sg_request_clear(&got);
	CHECK(audit_has(s, tenant_a.id, "request.expired", late.id));
	CHECK_RC(s->ops->request_expire_approvals(s, now, NULL, &n), SG_OK);
	CHECK(n == 0);
	CHECK_RC(s->ops->request_get(s, tenant_a.id, fresh.id, &got), SG_OK);
	CHECK(strcmp(got.status, "PENDING_APPROVAL") == 0);
	sg_request_clear(&got);

	/* Several expire at once: answered oldest first, audited oldest first. */
	sg_request older, newer;
	make_queued(&newer, "PENDING_APPROVAL", now - 3000);
	newer.approval_deadline = now - 1;
	make_queued(&older, "PENDING_APPROVAL", now - 4000);
	older.approval_deadline = now - 1;
	CHECK_RC(sg_store_test_request_create(s, &newer, NULL), SG_OK);
	CHECK_RC(sg_store_test_request_create(s, &older, NULL), SG_OK);
	CHECK_RC(s->ops->request_expire_approvals(s, now, &expired, &n), SG_OK);
	CHECK(n == 2);
	if (n == 2)
		CHECK(strcmp(expired[0].id, older.id) == 0 && strcmp(expired[1].id, newer.id) == 0);
	sg_request_list_free(expired, n);
	int64_t seq_older = audit_seq_of(s, tenant_a.id, "request.expired", older.id);
	int64_t seq_newer = audit_seq_of(s, tenant_a.id, "request.expired", newer.id);
	CHECK(seq_older > 0 && seq_newer == seq_older + 1);
}

/*
 * The audit chain in a database of its own, so that it can be tampered
 * with behind the store's back the way an attacker with the file would.
 */
static void
tamper(const char *path, const char *sql)
{
	if (db_exec(path, sql) != 0) {
		fprintf(stderr, "tamper failed: %s\n", sql);
		failures++;
	}
}

static void
test_audit_chain(void)
{
	char path[320];
	sg_store *s = NULL;
	sg_tenant t;
	sg_audit_entry e;
	int64_t checked = 0, bad = 0;
	char why[128];

	db_location("audit", path, sizeof(path));
	CHECK_RC(open_at(path, &s), SG_OK);
	if (s == NULL)
		return;
	make_tenant(&t, "audited");
	CHECK_RC(s->ops->tenant_create(s, &t), SG_OK);

	CHECK_RC(sg_audit_verify(s, t.id, &checked, &bad, why, sizeof(why)), SG_OK);
	CHECK(checked == 0);
	for (int i = 1; i <= 25; i++) {
		char obj[32];
		snprintf(obj, sizeof(obj), "object-%d", i);
		make_audit(&e, t.id, "actor", "key.created", obj, i % 2 ? "{\"n\":1}" : NULL);
		CHECK_RC(s->ops->audit_append(s, &e), SG_OK);
		CHECK(e.seq == i);
	}
	/* The service chain ("") is separate and numbered on its own. */
	make_audit(&e, "", "", "auth.failed", "", NULL);
	CHECK_RC(s->ops->audit_append(s, &e), SG_OK);
	CHECK(e.seq == 1);
	make_audit(&e, t.id, "actor", "", "x", NULL);
	CHECK_RC(s->ops->audit_append(s, &e), SG_ERR_INVALID_ARGUMENT);

	sg_audit_entry *list = NULL;
	size_t n = 0;
	CHECK_RC(s->ops->audit_list(s, t.id, 10, 5, &list, &n), SG_OK);
	CHECK(n == 5 && list[0].seq == 11 && list[4].seq == 15);
	if (n == 5) {
		uint8_t h[32];
		sg_audit_entry_hash(&list[0], list[0].prev_hash, h);
		CHECK(memcmp(h, list[0].hash, 32) == 0);
		CHECK(memcmp(list[1].prev_hash, list[0].hash, 32) == 0);
		CHECK(strcmp(list[0].object, "object-11") == 0 && list[0].details != NULL);
	}
	sg_audit_list_free(list, n);
	CHECK_RC(s->ops->audit_list(s, t.id, 0, 0, &list, &n), SG_ERR_INVALID_ARGUMENT);

	int64_t head = 0;
	uint8_t head_hash[32];
	CHECK_RC(s->ops->audit_head(s, t.id, &head, head_hash), SG_OK);
	CHECK(head == 25);
	CHECK_RC(sg_audit_verify(s, t.id, &checked, &bad, why, sizeof(why)), SG_OK);
	CHECK(checked == 25 && bad == 0);
	CHECK_RC(sg_audit_verify(s, "", &checked, &bad, why, sizeof(why)), SG_OK);
	CHECK(checked == 1);

	/*
	 * A group commit moves each chain head once for the whole batch, yet
	 * every entry is its own link: two chains interleaved in one batch.
	 */
	sg_request breqs[6];
	sg_audit_entry baudits[6];
	const sg_request *brp[6];
	sg_audit_entry *bap[6];
	for (int i = 0; i < 6; i++) {
		memset(&breqs[i], 0, sizeof(breqs[i]));
		new_id(breqs[i].id);
		sg_strlcpy(breqs[i].tenant_id, t.id, sizeof(breqs[i].tenant_id));
		sg_strlcpy(breqs[i].status, "QUEUED", sizeof(breqs[i].status));
		make_audit(&baudits[i], i % 3 == 2 ? "" : t.id, "actor", "request.submitted",
		    breqs[i].id, NULL);
		brp[i] = &breqs[i];
		bap[i] = &baudits[i];
	}
	CHECK_RC(s->ops->commit_batch(s, brp, NULL, bap, 6), SG_OK);
	CHECK(baudits[0].seq == 26 && baudits[1].seq == 27 && baudits[3].seq == 28 &&
	    baudits[4].seq == 29 && baudits[2].seq == 2 && baudits[5].seq == 3);
	CHECK(memcmp(baudits[1].prev_hash, baudits[0].hash, 32) == 0 &&
	    memcmp(baudits[3].prev_hash, baudits[1].hash, 32) == 0 &&
	    memcmp(baudits[5].prev_hash, baudits[2].hash, 32) == 0);
	CHECK_RC(s->ops->audit_head(s, t.id, &head, head_hash), SG_OK);
	CHECK(head == 29 && memcmp(head_hash, baudits[4].hash, 32) == 0);
	CHECK_RC(s->ops->audit_head(s, "", &head, head_hash), SG_OK);
	CHECK(head == 3 && memcmp(head_hash, baudits[5].hash, 32) == 0);
	CHECK_RC(sg_audit_verify(s, t.id, &checked, &bad, why, sizeof(why)), SG_OK);
	CHECK(checked == 29 && bad == 0);
	CHECK_RC(sg_audit_verify(s, "", &checked, &bad, why, sizeof(why)), SG_OK);
	CHECK(checked == 3);

	/* The database itself refuses edits of the log. */
	CHECK(db_exec(path, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 7") != 0);
	CHECK(db_exec(path, "DELETE FROM audit_log WHERE seq = 25") != 0);
	if (on_pg)
		CHECK(db_exec(path, "TRUNCATE audit_log") != 0);

	/* Whoever drops the triggers is still caught by the chain. */
	tamper(path, on_pg ? "ALTER TABLE audit_log DISABLE TRIGGER USER" :
	    "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
	tamper(path, "UPDATE audit_log SET details = '{\"n\":2}' WHERE seq = 7;");
	CHECK_RC(sg_audit_verify(s, t.id, &checked, &bad, why, sizeof(why)), SG_ERR_BAD_SIGNATURE);
	CHECK(bad == 7 && strstr(why, "modified") != NULL);
	tamper(path, "UPDATE audit_log SET details = '{\"n\":1}' WHERE seq = 7;");
	CHECK_RC(sg_audit_verify(s, t.id, &checked, &bad, why, sizeof(why)), SG_OK);

	tamper(path, "DELETE FROM audit_log WHERE seq = 12;");
	CHECK_RC(sg_audit_verify(s, t.id, &checked, &bad, why, sizeof(why)), SG_ERR_BAD_SIGNATURE);
	CHECK(bad == 12 && strstr(why, "missing") != NULL && checked == 11);

	/* Cutting off the end is visible thanks to the head. */
	sg_tenant t2;
	make_tenant(&t2, "truncated");
	CHECK_RC(s->ops->tenant_create(s, &t2), SG_OK);
	for (int i = 1; i <= 5; i++) {
		make_audit(&e, t2.id, "actor", "request.signed", "r", NULL);
		CHECK_RC(s->ops->audit_append(s, &e), SG_OK);
	}
	char sql[256];
	snprintf(sql, sizeof(sql), "DELETE FROM audit_log WHERE tenant_id = '%s' AND seq >= 4;",
	    t2.id);
	tamper(path, sql);
	CHECK_RC(sg_audit_verify(s, t2.id, &checked, &bad, why, sizeof(why)), SG_ERR_BAD_SIGNATURE);
	CHECK(bad == 4 && checked == 3 && strstr(why, "missing") != NULL);
	/* ... and so is removing the head as well. */
	snprintf(sql, sizeof(sql), "DELETE FROM chain_heads WHERE tenant_id = '%s';", t2.id);
	tamper(path, sql);
	CHECK_RC(sg_audit_verify(s, t2.id, &checked, &bad, why, sizeof(why)), SG_ERR_BAD_SIGNATURE);
	CHECK(bad == 1 && strstr(why, "head") != NULL);
	sg_store_close(s);
	if (!on_pg)
		unlink(path);
}

/* Two reads of the same record: the second must come from the cache. */
#define CHECK_CACHED(s, read) do { \
	uint64_t h0_ = 0, h1_ = 0; \
	sg_store_cache_stats((s), &h0_, NULL); \
	read; \
	sg_store_cache_stats((s), &h1_, NULL); \
	CHECK(h1_ == h0_ + 1); \
} while (0)

/*
 * The read cache (sg_store_cache_wrap): each record is first shown to be
 * served from memory, then changed through the store, and the next read must
 * see the change, which it would not if that change forgot to invalidate.
 * A second store on the same file stands in for another signetd process: it
 * sees a revocation once SG_STORE_CACHE_TTL_MS has passed.
 */
static void
test_cache(sg_store *s)
{
	sg_principal carol, dave, pgot;
	sg_api_key k1, k2, k3, kgot;
	sg_client_cert cert, cgot;
	sg_key key, got;
	sg_key_version v1, v2, vgot;
	sg_tenant tgot;
	static const uint8_t handle_v2[] = "CACHE-HANDLE-v2";

	make_principal(&carol, &tenant_b, "carol", SG_ROLE_SIGNER);
	make_principal(&dave, &tenant_b, "dave", SG_ROLE_SIGNER);
	CHECK_RC(s->ops->principal_create(s, &carol), SG_OK);
	CHECK_RC(s->ops->principal_create(s, &dave), SG_OK);
	make_api_key(&k1, &carol, "cache1");
	make_api_key(&k2, &carol, "cache2");
	make_api_key(&k3, &dave, "cache3");
	CHECK_RC(s->ops->api_key_create(s, &k1), SG_OK);
	CHECK_RC(s->ops->api_key_create(s, &k2), SG_OK);
	CHECK_RC(s->ops->api_key_create(s, &k3), SG_OK);

	/* Tenants never change; they are cached too. */
	CHECK_RC(s->ops->tenant_get(s, tenant_b.id, &tgot), SG_OK);
	CHECK_CACHED(s, CHECK_RC(s->ops->tenant_get(s, tenant_b.id, &tgot), SG_OK));
	CHECK(strcmp(tgot.name, tenant_b.name) == 0);

	/* Revoking an API key. */
	CHECK_RC(s->ops->api_key_find(s, "cache1", &kgot), SG_OK);
	CHECK_CACHED(s, CHECK_RC(s->ops->api_key_find(s, "cache1", &kgot), SG_OK));
	CHECK(kgot.revoked_at == 0 && memcmp(kgot.hash, k1.hash, 32) == 0);
	CHECK_RC(s->ops->api_key_revoke(s, tenant_b.id, k1.id, 4242), SG_OK);
	CHECK_RC(s->ops->api_key_find(s, "cache1", &kgot), SG_OK);
	CHECK(kgot.revoked_at == 4242);

	/* Deleting a principal: it, its API keys and its certificates. */
	memset(&cert, 0, sizeof(cert));
	new_id(cert.id);
	sg_strlcpy(cert.principal_id, carol.id, sizeof(cert.principal_id));
	sg_strlcpy(cert.tenant_id, tenant_b.id, sizeof(cert.tenant_id));
	memset(cert.fingerprint, 0xc4, sizeof(cert.fingerprint));
	sg_strlcpy(cert.subject, "CN=carol", sizeof(cert.subject));
	cert.created_at = sg_now_ms();
	CHECK_RC(s->ops->client_cert_add(s, &cert), SG_OK);
	CHECK_RC(s->ops->client_cert_find(s, cert.fingerprint, &cgot), SG_OK);
	CHECK_CACHED(s, CHECK_RC(s->ops->client_cert_find(s, cert.fingerprint, &cgot), SG_OK));
	CHECK(strcmp(cgot.principal_id, carol.id) == 0);
	CHECK_RC(s->ops->principal_get(s, tenant_b.id, carol.id, &pgot), SG_OK);
	CHECK_CACHED(s, CHECK_RC(s->ops->principal_get(s, tenant_b.id, carol.id, &pgot), SG_OK));
	CHECK_RC(s->ops->api_key_find(s, "cache2", &kgot), SG_OK);
	CHECK_CACHED(s, CHECK_RC(s->ops->api_key_find(s, "cache2", &kgot), SG_OK));
	CHECK(kgot.revoked_at == 0);
	/* A role change is seen at once, not after the time to live. */
	CHECK(pgot.roles == SG_ROLE_SIGNER);
	pgot.roles = SG_ROLE_APPROVER;
	CHECK_RC(s->ops->principal_update(s, &pgot), SG_OK);
	CHECK_RC(s->ops->principal_get(s, tenant_b.id, carol.id, &pgot), SG_OK);
	CHECK(pgot.roles == SG_ROLE_APPROVER);
	CHECK_RC(s->ops->principal_delete(s, tenant_b.id, carol.id), SG_OK);
	CHECK_RC(s->ops->principal_get(s, tenant_b.id, carol.id, &pgot), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->client_cert_find(s, cert.fingerprint, &cgot), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->api_key_find(s, "cache2", &kgot), SG_OK);
	CHECK(kgot.revoked_at != 0);

	/* A key: status change, rotation, destroy, certificate. */
	make_key(&key, &v1, &tenant_b, "cache-key", spki_v1, sizeof(spki_v1), handle_v1,
	    sizeof(handle_v1));
	CHECK_RC(s->ops->key_create(s, &key, &v1), SG_OK);
	CHECK_RC(s->ops->key_get(s, tenant_b.id, "cache-key", &got), SG_OK);
	CHECK_CACHED(s, CHECK_RC(s->ops->key_get(s, tenant_b.id, "cache-key", &got), SG_OK));
	CHECK_RC(s->ops->key_get(s, tenant_b.id, key.id, &got), SG_OK);
	CHECK(strcmp(got.status, "ONLINE") == 0 && got.current_version == 1);
	CHECK_RC(s->ops->key_set_status(s, tenant_b.id, key.id, "OFFLINE", 5000), SG_OK);
	CHECK_RC(s->ops->key_get(s, tenant_b.id, "cache-key", &got), SG_OK);
	CHECK(strcmp(got.status, "OFFLINE") == 0);
	CHECK_RC(s->ops->key_get(s, tenant_b.id, key.id, &got), SG_OK);
	CHECK(strcmp(got.status, "OFFLINE") == 0);
	/* Another tenant still cannot see it, cached or not. */
	CHECK_RC(s->ops->key_get(s, tenant_a.id, key.id, &got), SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 1, &vgot), SG_OK);
	sg_key_version_clear(&vgot);
	CHECK_CACHED(s, CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 1, &vgot), SG_OK));
	CHECK(strcmp(vgot.state, "ACTIVE") == 0 && vgot.handle_len == sizeof(handle_v1) &&
	    vgot.handle != NULL && memcmp(vgot.handle, handle_v1, sizeof(handle_v1)) == 0);
	/* The cached version is the tenant's: another tenant's lookup by the key id misses it. */
	{
		sg_key_version other;
		CHECK_RC(s->ops->key_version_get(s, tenant_a.id, key.id, 1, &other), SG_ERR_NOT_FOUND);
	}
	sg_key_version_clear(&vgot);

	memset(&v2, 0, sizeof(v2));
	sg_strlcpy(v2.key_id, key.id, sizeof(v2.key_id));
	v2.version = 2;
	v2.spki = (uint8_t *)spki_v1;
	v2.spki_len = sizeof(spki_v1);
	v2.handle = (uint8_t *)handle_v2;
	v2.handle_len = sizeof(handle_v2);
	v2.created_at = 6000;
	CHECK_RC(s->ops->key_add_version(s, tenant_b.id, &v2), SG_OK);
	CHECK_RC(s->ops->key_get(s, tenant_b.id, "cache-key", &got), SG_OK);
	CHECK(got.current_version == 2);

	CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 1, &vgot), SG_OK);
	sg_key_version_clear(&vgot);
	CHECK_CACHED(s, CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 1, &vgot), SG_OK));
	sg_key_version_clear(&vgot);
	CHECK_RC(s->ops->key_version_destroy(s, tenant_b.id, key.id, 1, 7000), SG_OK);
	CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 1, &vgot), SG_OK);
	CHECK(strcmp(vgot.state, "DESTROYED") == 0 && vgot.handle == NULL && vgot.destroyed_at == 7000);
	sg_key_version_clear(&vgot);

	CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 2, &vgot), SG_OK);
	sg_key_version_clear(&vgot);
	CHECK_CACHED(s, CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 2, &vgot), SG_OK));
	CHECK(vgot.cert_chain_pem == NULL);
	sg_key_version_clear(&vgot);
	CHECK_RC(s->ops->key_version_set_cert(s, tenant_b.id, key.id, 2, "-----BEGIN CERTIFICATE-----"), SG_OK);
	CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 2, &vgot), SG_OK);
	CHECK(vgot.cert_chain_pem != NULL &&
	    strcmp(vgot.cert_chain_pem, "-----BEGIN CERTIFICATE-----") == 0);
	sg_key_version_clear(&vgot);
	/* The caller's copy is its own: clearing it left the cached one intact. */
	CHECK_CACHED(s, CHECK_RC(s->ops->key_version_get(s, tenant_b.id, key.id, 2, &vgot), SG_OK));
	CHECK(vgot.handle != NULL && vgot.handle_len == sizeof(handle_v2) &&
	    memcmp(vgot.handle, handle_v2, sizeof(handle_v2)) == 0 && vgot.cert_chain_pem != NULL);
	sg_key_version_clear(&vgot);

	/* Another process: a revocation there is seen here once the time to live has run out. */
	sg_store *other = open_store();
	CHECK_RC(s->ops->api_key_find(s, "cache3", &kgot), SG_OK);
	CHECK_CACHED(s, CHECK_RC(s->ops->api_key_find(s, "cache3", &kgot), SG_OK));
	CHECK(kgot.revoked_at == 0);
	CHECK_RC(other->ops->api_key_revoke(other, tenant_b.id, k3.id, 8000), SG_OK);
	sg_store_close(other);
	usleep((SG_STORE_CACHE_TTL_MS + 100) * 1000);
	CHECK_RC(s->ops->api_key_find(s, "cache3", &kgot), SG_OK);
	CHECK(kgot.revoked_at == 8000);
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/*
 * The store's ids (sg_uuid): version 7, all different, also across a fork,
 * where the child starts with a copy of the parent's per-thread random pool.
 */
static void
test_ids(void)
{
	enum { N = 5000 };
	static char ids[N][SG_ID_MAX];
	int bad = 0;

	for (size_t i = 0; i < N; i++) {
		new_id(ids[i]);
		if (strlen(ids[i]) != 36 || ids[i][14] != '7' || strchr("89ab", ids[i][19]) == NULL)
			bad++;
	}
	CHECK(bad == 0);
	qsort(ids, N, sizeof(ids[0]), cmp_id);
	int dup = 0;
	for (size_t i = 1; i < N; i++)
		dup += strcmp(ids[i - 1], ids[i]) == 0;
	CHECK(dup == 0);

	int fds[2];
	char mine[SG_ID_MAX], theirs[SG_ID_MAX] = "";
	CHECK(pipe(fds) == 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		char id[SG_ID_MAX];
		if (sg_uuid(id) != SG_OK || write(fds[1], id, sizeof(id)) != (ssize_t)sizeof(id))
			_exit(1);
		_exit(0);
	}
	CHECK(pid > 0);
	new_id(mine);
	CHECK(read(fds[0], theirs, sizeof(theirs)) == (ssize_t)sizeof(theirs));
	theirs[SG_ID_MAX - 1] = 0;
	int status = 1;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	CHECK(strlen(theirs) == 36 && strcmp(mine, theirs) != 0);
	close(fds[0]);
	close(fds[1]);
}

/* The TSA's key: absent at first, recorded once, never replaced, kept across a reopen. */
static void
test_tsa_key(sg_store *s)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	uint8_t handle[40];
	sg_tsa_key_record k, got, other;

	memset(&got, 0, sizeof(got));
	CHECK_RC(s->ops->tsa_key_get(s, &got), SG_ERR_NOT_FOUND);
	CHECK(got.handle == NULL && got.cert_pem == NULL);
	for (size_t i = 0; i < sizeof(handle); i++)
		handle[i] = (uint8_t)(i * 7 + 1);
	memset(&k, 0, sizeof(k));
	snprintf(k.alg, sizeof(k.alg), "EC-P256");
	snprintf(k.storage, sizeof(k.storage), "DISK");
	k.handle = handle;
	k.handle_len = sizeof(handle);
	k.cert_pem = (char *)pem;
	k.created_at = 1234;
	/* Bad records change nothing. */
	other = k;
	other.handle_len = 0;
	CHECK_RC(s->ops->tsa_key_put(s, &other), SG_ERR_INVALID_ARGUMENT);
	other = k;
	snprintf(other.storage, sizeof(other.storage), "USB");
	CHECK_RC(s->ops->tsa_key_put(s, &other), SG_ERR_INVALID_ARGUMENT);
	CHECK_RC(s->ops->tsa_key_get(s, &got), SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->tsa_key_put(s, &k), SG_OK);
	/* A second key (another node's) is refused; the first stays. */
	other = k;
	snprintf(other.storage, sizeof(other.storage), "HSM");
	CHECK_RC(s->ops->tsa_key_put(s, &other), SG_ERR_CONFLICT);
	CHECK_RC(s->ops->tsa_key_get(s, &got), SG_OK);
	CHECK(strcmp(got.alg, "EC-P256") == 0 && strcmp(got.storage, "DISK") == 0);
	CHECK(got.handle_len == sizeof(handle) && got.handle != NULL &&
	    memcmp(got.handle, handle, sizeof(handle)) == 0);
	CHECK(got.cert_pem != NULL && strcmp(got.cert_pem, pem) == 0);
	CHECK(got.created_at == 1234);
	sg_tsa_key_record_clear(&got);
	CHECK(got.handle == NULL && got.cert_pem == NULL);
	sg_tsa_key_record_clear(NULL);
}

static void
test_tsa_key_reopened(void)
{
	sg_store *s = open_store();
	sg_tsa_key_record got;

	memset(&got, 0, sizeof(got));
	CHECK_RC(s->ops->tsa_key_get(s, &got), SG_OK);
	CHECK(strcmp(got.storage, "DISK") == 0 && got.handle_len == 40);
	sg_tsa_key_record_clear(&got);
	sg_store_close(s);
}

static void
test_reopen(void)
{
	sg_store *s = open_store();
	sg_tenant t;
	sg_principal p;
	sg_key k;
	sg_key_version *vl = NULL;
	sg_signature g;
	size_t n = 0;

	CHECK_RC(s->ops->ping(s), SG_OK);
	CHECK_RC(s->ops->tenant_get_by_name(s, "acme", &t), SG_OK);
	CHECK(strcmp(t.id, tenant_a.id) == 0);
	CHECK_RC(s->ops->principal_get(s, tenant_a.id, bob.id, &p), SG_OK);
	CHECK(p.roles == SG_ROLE_APPROVER);
	CHECK_RC(s->ops->key_get(s, tenant_a.id, "release", &k), SG_OK);
	CHECK(k.current_version == 2 && k.alg == SG_KEY_MLDSA_65);
	CHECK_RC(s->ops->key_version_list(s, tenant_a.id, key_a.id, &vl, &n), SG_OK);
	CHECK(n == 2);
	if (n == 2)
		CHECK(strcmp(vl[0].state, "DESTROYED") == 0 && vl[0].handle == NULL &&
		    vl[1].handle != NULL);
	sg_key_version_list_free(vl, n);
	CHECK_RC(s->ops->signature_get(s, tenant_a.id, sig_id_kept, &g), SG_OK);
	sg_signature_clear(&g);
	sg_store_close(s);

	/*
	 * The last migration, on a database of the version before: audit_heads
	 * becomes chain_heads with the chains intact, and audit_log is the one
	 * table named like %audit% (SPEC §6).
	 */
	CHECK(db_exec(db_path, on_pg ? "ALTER TABLE chain_heads RENAME TO audit_heads;"
	    " ALTER INDEX chain_heads_pkey RENAME TO audit_heads_pkey;"
	    " ALTER TABLE audit_heads RENAME CONSTRAINT chain_heads_hash_check"
	    " TO audit_heads_hash_check; UPDATE schema_version SET version = 1" :
	    "ALTER TABLE chain_heads RENAME TO audit_heads; PRAGMA user_version = 7") == 0);
	s = NULL;
	CHECK_RC(on_pg ? sg_store_pg_open(db_path, &s) : sg_store_sqlite_open(db_path, &s), SG_OK);
	if (s != NULL) {
		int64_t checked = 0, bad = -1;
		char why[128] = "x";
		CHECK_RC(sg_audit_verify(s, tenant_a.id, &checked, &bad, why, sizeof(why)), SG_OK);
		CHECK(checked > 0 && bad == 0);
		sg_store_close(s);
	}
	CHECK(db_exec(db_path, on_pg ? "DO $$ BEGIN IF (SELECT count(*) FROM information_schema.tables"
	    " WHERE table_schema = current_schema() AND table_name LIKE '%audit%') <> 1"
	    " OR (SELECT version FROM schema_version) <> 2 THEN RAISE EXCEPTION 'schema'; END IF;"
	    " END $$" : "SELECT seq FROM chain_heads") == 0);

	if (on_pg) {
		/* The schema version is recorded, and a newer one is refused. */
		CHECK(db_exec(db_path, "UPDATE schema_version SET version = 99") == 0);
		s = NULL;
		CHECK_RC(sg_store_pg_open(db_path, &s), SG_ERR_STORE);
		CHECK(s == NULL);
		return;
	}
	struct stat st;
	CHECK(stat(db_path, &st) == 0 && (st.st_mode & 077) == 0);

	/* The schema version is recorded, and a newer one is refused. */
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int version = -1;
	if (sqlite3_open(db_path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	CHECK(version == 8);
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name LIKE '%audit%'", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 1);
	sqlite3_finalize(stmt);
	/* Migration 6 marks which webhook secrets are sealed; rows from before are not. */
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info('webhooks')"
	    " WHERE name = 'sealed' AND dflt_value = '0' AND \"notnull\" = 1", -1, &stmt,
	    NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_int(stmt, 0) == 1);
	sqlite3_finalize(stmt);
	/* Migration 5 dropped the signature indexes no query used. */
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	    " AND tbl_name = 'signatures' AND name NOT LIKE 'sqlite_autoindex_%'", -1, &stmt,
	    NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_int(stmt, 0) == 0);
	sqlite3_finalize(stmt);
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	s = NULL;
	CHECK_RC(sg_store_sqlite_open(db_path, &s), SG_ERR_STORE);
	CHECK(s == NULL);
}

static void
test_memory(void)
{
	sg_store *s = NULL;
	sg_tenant t, got;
	if (on_pg)
		return;
	CHECK_RC(sg_store_sqlite_open(":memory:", &s), SG_OK);
	if (s == NULL)
		return;
	make_tenant(&t, "default");
	CHECK_RC(s->ops->tenant_create(s, &t), SG_OK);
	CHECK_RC(s->ops->tenant_get(s, t.id, &got), SG_OK);
	CHECK_RC(s->ops->ping(s), SG_OK);
	sg_store_close(s);
}

static void
remove_dir(void)
{
	static const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[320];
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", db_path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* ---- notifications (issue 15): webhooks, cursors, the outbox ---- */

static void
make_webhook(sg_webhook *w, const sg_tenant *t, const char *secret)
{
	memset(w, 0, sizeof(*w));
	new_id(w->id);
	sg_strlcpy(w->tenant_id, t->id, sizeof(w->tenant_id));
	sg_strlcpy(w->url, "http://127.0.0.1:9/hook", sizeof(w->url));
	w->events = 3;
	/* The store keeps the sealed blob as bytes; these stand in for one. */
	w->secret_len = strlen(secret);
	memcpy(w->secret, secret, w->secret_len);
	w->secret_sealed = 1;
	w->created_at = sg_now_ms();
}

static void
make_delivery(sg_delivery *d, const sg_tenant *t, const sg_webhook *w, int64_t seq, char *body)
{
	memset(d, 0, sizeof(*d));
	new_id(d->id);
	sg_strlcpy(d->tenant_id, t->id, sizeof(d->tenant_id));
	sg_strlcpy(d->webhook_id, w->id, sizeof(d->webhook_id));
	sg_strlcpy(d->event, "request.signed", sizeof(d->event));
	d->audit_seq = seq;
	d->body = body;
	sg_strlcpy(d->status, "PENDING", sizeof(d->status));
	d->next_attempt_at = d->created_at = d->updated_at = 1000;
}

/* The cursor notify_behind reports for tenant t, or -1 when t is not behind. */
static int64_t
behind_of(sg_store *s, const sg_tenant *t, int64_t *head)
{
	sg_notify_cursor *c = NULL;
	size_t n = 0;
	int64_t seq = -1;
	CHECK_RC(s->ops->notify_behind(s, &c, &n), SG_OK);
	for (size_t i = 0; i < n; i++) {
		CHECK(c[i].tenant_id[0] != '\0');  /* never the service chain */
		if (strcmp(c[i].tenant_id, t->id) == 0) {
			seq = c[i].seq;
			if (head != NULL)
				*head = c[i].head;
		}
	}
	free(c);
	return seq;
}

static void
test_notify(sg_store *s)
{
	sg_webhook w1, w2, w3, got, bad, *hooks = NULL;
	sg_delivery d[2], *list = NULL;
	sg_audit_entry e;
	size_t n = 0;
	char body[] = "{\"event\":\"request.signed\"}";
	int64_t head = 0;

	make_webhook(&w1, &tenant_a, "secret-one-0123456789");
	make_webhook(&w2, &tenant_a, "secret-two-0123456789");
	make_webhook(&w3, &tenant_b, "secret-three-01234567");
	CHECK_RC(s->ops->webhook_create(s, &w1), SG_OK);
	CHECK_RC(s->ops->webhook_create(s, &w2), SG_OK);
	CHECK_RC(s->ops->webhook_create(s, &w3), SG_OK);
	make_webhook(&bad, &tenant_a, "");
	CHECK_RC(s->ops->webhook_create(s, &bad), SG_ERR_INVALID_ARGUMENT);
	sg_tenant ghost;
	make_tenant(&ghost, "ghost-hooks");
	make_webhook(&bad, &ghost, "secret-ghost-0123456");
	CHECK_RC(s->ops->webhook_create(s, &bad), SG_ERR_NOT_FOUND);
	/* A secret in clear is never written. */
	make_webhook(&bad, &tenant_a, "secret-clear-0123456");
	bad.secret_sealed = 0;
	CHECK_RC(s->ops->webhook_create(s, &bad), SG_ERR_INVALID_ARGUMENT);
	CHECK_RC(s->ops->webhook_get(s, tenant_a.id, bad.id, &got), SG_ERR_NOT_FOUND);
	/* Nothing in clear to seal; sealing a sealed secret again changes nothing. */
	CHECK_RC(s->ops->webhook_list_unsealed(s, &hooks, &n), SG_OK);
	CHECK(n == 0 && hooks == NULL);
	CHECK_RC(s->ops->webhook_seal(s, tenant_a.id, w1.id, (const uint8_t *)"SGK1-other", 10),
	    SG_ERR_NOT_FOUND);

	CHECK_RC(s->ops->webhook_list(s, tenant_a.id, &hooks, &n), SG_OK);
	CHECK(n == 2);
	for (size_t i = 0; i < n; i++) {
		const sg_webhook *want = strcmp(hooks[i].id, w1.id) == 0 ? &w1 : &w2;
		CHECK(hooks[i].secret_len == want->secret_len && hooks[i].secret_sealed &&
		    memcmp(hooks[i].secret, want->secret, want->secret_len) == 0 && hooks[i].events == 3);
	}
	sg_webhook_list_free(hooks, n);
	CHECK_RC(s->ops->webhook_get(s, tenant_a.id, w2.id, &got), SG_OK);
	CHECK(strcmp(got.url, w2.url) == 0 && got.secret_len == w2.secret_len);
	sg_webhook_clear(&got);
	CHECK(got.secret_len == 0 && got.secret[0] == 0);
	CHECK_RC(s->ops->webhook_get(s, tenant_b.id, w1.id, &got), SG_ERR_NOT_FOUND);

	/* A new entry puts tenant_a behind; enqueueing moves its cursor. */
	make_audit(&e, tenant_a.id, alice.id, "request.signed", "req-1", NULL);
	CHECK_RC(s->ops->audit_append(s, &e), SG_OK);
	CHECK(behind_of(s, &tenant_a, &head) == 0 && head == e.seq);
	make_delivery(&d[0], &tenant_a, &w1, e.seq, body);
	make_delivery(&d[1], &tenant_a, &w2, e.seq, body);
	CHECK_RC(s->ops->notify_enqueue(s, tenant_a.id, e.seq, d, 2), SG_OK);
	CHECK(behind_of(s, &tenant_a, NULL) == -1);
	/* Turning the same entry into deliveries again adds nothing; the cursor never goes back. */
	new_id(d[0].id);
	new_id(d[1].id);
	CHECK_RC(s->ops->notify_enqueue(s, tenant_a.id, 0, d, 2), SG_OK);
	CHECK(behind_of(s, &tenant_a, NULL) == -1);
	CHECK_RC(s->ops->delivery_list(s, tenant_a.id, w1.id, 100, &list, &n), SG_OK);
	CHECK(n == 1);
	sg_delivery_list_free(list, n);
	/* A delivery of another tenant in the batch fails the whole batch. */
	make_delivery(&d[0], &tenant_b, &w3, e.seq, body);
	CHECK_RC(s->ops->notify_enqueue(s, tenant_a.id, e.seq + 5, d, 1), SG_ERR_INVALID_ARGUMENT);

	/* Claims: due ones, once per lease. */
	CHECK_RC(s->ops->delivery_claim(s, 2000, 1000, 10, &list, &n), SG_OK);
	CHECK(n == 2);
	sg_delivery first;
	memset(&first, 0, sizeof(first));
	/* Both are due at the same time, in no particular order: take w1's. */
	for (size_t i = 0; i < n; i++) {
		CHECK(list[i].next_attempt_at == 3000 && strcmp(list[i].body, body) == 0);
		if (strcmp(list[i].webhook_id, w1.id) == 0) {
			first = list[i];
			first.body = NULL;
		}
	}
	sg_delivery_list_free(list, n);
	CHECK_RC(s->ops->delivery_claim(s, 2500, 1000, 10, &list, &n), SG_OK);
	CHECK(n == 0 && list == NULL);
	CHECK_RC(s->ops->delivery_claim(s, 3001, 1000, 1, &list, &n), SG_OK);
	CHECK(n == 1);
	sg_delivery_list_free(list, n);

	sg_strlcpy(first.status, "DELIVERED", sizeof(first.status));
	first.attempts = 2;
	first.last_status = 200;
	first.next_attempt_at = 0;
	/* The delivery is tenant A's: under tenant B's id it is not found and stays as it was. */
	{
		sg_delivery wrong = first;
		sg_strlcpy(wrong.tenant_id, tenant_b.id, sizeof(wrong.tenant_id));
		CHECK_RC(s->ops->delivery_finish(s, &wrong, 3500), SG_ERR_NOT_FOUND);
		CHECK_RC(s->ops->delivery_list(s, tenant_a.id, first.webhook_id, 100, &list, &n), SG_OK);
		CHECK(n == 1);
		if (n == 1)
			CHECK(strcmp(list[0].status, "PENDING") == 0 && list[0].attempts == 0 &&
			    list[0].updated_at != 3500);
		sg_delivery_list_free(list, n);
	}
	CHECK_RC(s->ops->delivery_finish(s, &first, 4000), SG_OK);
	CHECK_RC(s->ops->delivery_list(s, tenant_a.id, first.webhook_id, 100, &list, &n), SG_OK);
	CHECK(n == 1);
	if (n == 1)
		CHECK(strcmp(list[0].status, "DELIVERED") == 0 && list[0].attempts == 2 &&
		    list[0].last_status == 200 && list[0].updated_at == 4000);
	sg_delivery_list_free(list, n);
	new_id(first.id);
	CHECK_RC(s->ops->delivery_finish(s, &first, 4000), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->delivery_list(s, tenant_b.id, w1.id, 100, &list, &n), SG_OK);
	CHECK(n == 0);

	/* Deleting a webhook takes its deliveries along; another tenant cannot. */
	CHECK_RC(s->ops->webhook_delete(s, tenant_b.id, w1.id), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->webhook_delete(s, tenant_a.id, w2.id), SG_OK);
	CHECK_RC(s->ops->webhook_delete(s, tenant_a.id, w2.id), SG_ERR_NOT_FOUND);
	CHECK_RC(s->ops->delivery_list(s, tenant_a.id, w2.id, 100, &list, &n), SG_OK);
	CHECK(n == 0);
	CHECK_RC(s->ops->delivery_claim(s, 100000, 1000, 10, &list, &n), SG_OK);
	CHECK(n == 0);  /* w1's is DELIVERED, w2's went with it */
	sg_delivery_list_free(list, n);
}

/* The first line of path (a URL written by tests/tools/pg-cluster.sh start). */
static int
read_url(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL || fgets(out, (int)len, f) == NULL) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] != '\0' ? 0 : -1;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--pg") == 0) {
		if (read_url(argv[2], pg_base_url, sizeof(pg_base_url)) != 0) {
			fprintf(stderr, "no PostgreSQL URL in %s\n", argv[2]);
			return 1;
		}
		on_pg = 1;
		snprintf(pg_prefix, sizeof(pg_prefix), "t%ld_%lld", (long)getpid(),
		    (long long)(sg_now_ms() % 100000000));
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--pg URL-FILE]\n", argv[0]);
		return 2;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/sg-store-test-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	db_location("signet", db_path, sizeof(db_path));
	sg_log_set_level(SG_LOG_ERROR);
	uint32_t x = 0x9e3779b9u;
	for (size_t i = 0; i < sizeof(handle_v1); i++) {
		x = x * 1664525u + 1013904223u;
		handle_v1[i] = (uint8_t)(x >> 24);
	}

	test_roles();
	test_ids();
	sg_store *s = open_store();
	test_tenants(s);
	test_principals(s);
	test_credentials(s);
	test_principal_delete(s);
	test_keys(s);
	test_rotation_and_destroy(s);
	test_requests_and_signatures(s);
	test_batch_atomicity(s);
	test_group_commit(s);
	test_policies(s);
	test_queue(s);
	test_not_utf8(s);
	test_byte_order(s);
	test_idempotency(s);
	test_approvals(s);
	test_notify(s);
	test_tsa_key(s);
	test_cache(s);
	sg_store_close(s);
	test_audit_chain();
	test_committer_isolates_failures();
	test_committer_unknown_outcome();
	test_tsa_key_reopened();
	test_reopen();
	test_memory();
	remove_dir();

	printf("%d checks, %d failures\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
