/*
 * cache.c - a read cache in front of a store (sg_store_cache_wrap in sg_store.h).
 *
 * Every API call reads the same few rows: the API key by prefix, its
 * principal and tenant, the key by alias and its current version.  They
 * change rarely, but reading them costs a pooled connection and a read
 * transaction each, which on the sign path was as much CPU as the
 * signature.  This wrapper keeps copies of those records in memory.
 *
 * Correctness rests on two rules.  In this process, every store operation
 * that changes a cached record (revoke, principal update or delete, key status,
 * rotation, version destroy or certificate, key creation) goes through the
 * wrapper, which bumps a generation number after the inner store has
 * committed; an entry is used only while its generation is current, and an
 * entry is tagged with the generation read *before* its row was loaded, so
 * a row read before a change can never be served after it.  Changes made by
 * another process sharing the database are seen once an entry's time to live
 * has run out (SG_STORE_CACHE_TTL_MS, under the SPEC's one second for a
 * revocation to reach every node).  Only found records are cached; a miss is
 * always asked of the database, so a new key or credential works at once.
 *
 * The wrapper is a copy of the inner table of functions with the cached and
 * the invalidating operations replaced; every other operation is the inner
 * one, called with the wrapper's sg_store, whose impl is the inner impl.
 * A back-end operation added later is therefore forwarded as it is, and one
 * that changes a cached record must be added to sc_invalidating below.
 *
 * The cache is bounded (SC_SHARD_MAX entries per shard; a full shard is
 * emptied), sharded by hash with a mutex per shard, and key-version handles
 * in it are wiped when their entry goes, as everywhere else.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_b64.h"
#include "sg_secret.h"
#include "sg_store.h"
#include "sg_util.h"

#define SC_SHARDS 16
#define SC_BUCKETS 64          /* per shard */
#define SC_SHARD_MAX 256       /* entries per shard before it is emptied */
#define SC_KEY_MAX (3 * SG_NAME_MAX + 8)

enum sc_kind {
	SC_API_KEY = 1,
	SC_PRINCIPAL,
	SC_TENANT,
	SC_KEY,
	SC_VERSION,
	SC_POLICY,
	SC_CERT,
};

typedef struct sc_entry {
	struct sc_entry *next;
	uint64_t hash;
	uint64_t gen;
	uint64_t expires_ns;       /* sg_mono_ns() */
	enum sc_kind kind;
	size_t keylen;
	char key[SC_KEY_MAX];
	union {
		sg_api_key api_key;
		sg_principal principal;
		sg_tenant tenant;
		sg_key key;
		sg_key_version version;
		sg_policy policy;
		sg_client_cert cert;
	} rec;
} sc_entry;

typedef struct sc_shard {
	pthread_mutex_t mu;
	sc_entry *bucket[SC_BUCKETS];
	size_t count;
} sc_shard;

typedef struct sc_store {
	sg_store pub;              /* first: the wrapper's sg_store is this */
	sg_store_ops ops;
	sg_store *inner;
	uint64_t ttl_ns;
	atomic_uint_fast64_t gen;
	atomic_uint_fast64_t hits, misses;
	sc_shard shard[SC_SHARDS];
} sc_store;

static sc_store *
sc_of(sg_store *s)
{
	return (sc_store *)s;
}

/* ---- records: deep copies and release ---- */

static char *
sc_strdup(const char *s, int *ok)
{
	if (s == NULL)
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*ok = 0;
	return d;
}

static uint8_t *
sc_memdup(const uint8_t *p, size_t n, int *ok)
{
	if (p == NULL)
		return NULL;
	uint8_t *d = malloc(n > 0 ? n : 1);
	if (d == NULL) {
		*ok = 0;
		return NULL;
	}
	if (n > 0)
		memcpy(d, p, n);
	return d;
}

/* Copy rec of kind into dst, heap fields duplicated; SG_ERR_NOMEM leaves dst empty. */
static int
sc_copy(enum sc_kind kind, void *dst, const void *src)
{
	int ok = 1;

	switch (kind) {
	case SC_VERSION: {
		const sg_key_version *v = src;
		sg_key_version c = *v;
		c.spki = sc_memdup(v->spki, v->spki_len, &ok);
		c.handle = sc_memdup(v->handle, v->handle_len, &ok);
		c.cert_chain_pem = sc_strdup(v->cert_chain_pem, &ok);
		if (!ok) {
			sg_key_version_clear(&c);
			return SG_ERR_NOMEM;
		}
		*(sg_key_version *)dst = c;
		return SG_OK;
	}
	case SC_POLICY: {
		const sg_policy *p = src;
		sg_policy c = *p;
		c.allowed_hash_algorithms = sc_strdup(p->allowed_hash_algorithms, &ok);
		c.allowed_signature_algorithms = sc_strdup(p->allowed_signature_algorithms, &ok);
		c.approvers = sc_strdup(p->approvers, &ok);
		c.required_metadata = sc_strdup(p->required_metadata, &ok);
		if (!ok) {
			sg_policy_clear(&c);
			return SG_ERR_NOMEM;
		}
		*(sg_policy *)dst = c;
		return SG_OK;
	}
	case SC_API_KEY:
		*(sg_api_key *)dst = *(const sg_api_key *)src;
		return SG_OK;
	case SC_PRINCIPAL:
		*(sg_principal *)dst = *(const sg_principal *)src;
		return SG_OK;
	case SC_TENANT:
		*(sg_tenant *)dst = *(const sg_tenant *)src;
		return SG_OK;
	case SC_KEY:
		*(sg_key *)dst = *(const sg_key *)src;
		return SG_OK;
	case SC_CERT:
		*(sg_client_cert *)dst = *(const sg_client_cert *)src;
		return SG_OK;
	}
	return SG_ERR_INTERNAL;
}

static void
sc_entry_free(sc_entry *e)
{
	if (e == NULL)
		return;
	if (e->kind == SC_VERSION)
		sg_key_version_clear(&e->rec.version);
	else if (e->kind == SC_POLICY)
		sg_policy_clear(&e->rec.policy);
	/* API key hashes and the rest: nothing secret, but nothing worth leaving either. */
	sg_wipe(e, sizeof(*e));
	free(e);
}

/* ---- the table ---- */

/* Build the lookup key: kind, then each part and a 0x1f separator.  0 if it does not fit. */
static size_t
sc_key(char out[SC_KEY_MAX], enum sc_kind kind, const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t n = 0;
	out[n++] = (char)kind;
	for (size_t i = 0; i < 3 && parts[i] != NULL; i++) {
		size_t len = strlen(parts[i]);
		if (n + len + 1 > SC_KEY_MAX)
			return 0;
		memcpy(out + n, parts[i], len);
		n += len;
		out[n++] = 0x1f;
	}
	return n;
}

static uint64_t
sc_hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603u;  /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)k[i];
		h *= 1099511628211u;
	}
	return h;
}

static sc_shard *
sc_shard_of(sc_store *c, uint64_t h)
{
	return &c->shard[(h >> 56) % SC_SHARDS];
}

/* Copy the live entry for key into out; 1 on a hit, 0 on a miss (or no memory). */
static int
sc_lookup(sc_store *c, enum sc_kind kind, const char *key, size_t keylen, void *out)
{
	uint64_t h = sc_hash(key, keylen);
	sc_shard *sh = sc_shard_of(c, h);
	uint64_t gen = atomic_load(&c->gen), now = sg_mono_ns();
	int hit = 0;

	pthread_mutex_lock(&sh->mu);
	for (sc_entry **pp = &sh->bucket[h % SC_BUCKETS]; *pp != NULL; pp = &(*pp)->next) {
		sc_entry *e = *pp;
		if (e->hash != h || e->keylen != keylen || memcmp(e->key, key, keylen) != 0)
			continue;
		if (e->gen != gen || now >= e->expires_ns) {
			*pp = e->next;
			sh->count--;
			sc_entry_free(e);
			break;
		}
		hit = sc_copy(kind, out, &e->rec) == SG_OK;
		break;
	}
	pthread_mutex_unlock(&sh->mu);
	atomic_fetch_add(hit ? &c->hits : &c->misses, 1);
	return hit;
}

static void
sc_shard_empty(sc_shard *sh)
{
	for (size_t b = 0; b < SC_BUCKETS; b++) {
		while (sh->bucket[b] != NULL) {
			sc_entry *e = sh->bucket[b];
			sh->bucket[b] = e->next;
			sc_entry_free(e);
		}
	}
	sh->count = 0;
}

/*
 * Remember rec under key, tagged with gen: the generation read before rec
 * was loaded.  If the generation has moved on since, rec may predate a
 * change and is not kept.  Failure to keep it only costs a later read.
 */
static void
sc_insert(sc_store *c, enum sc_kind kind, const char *key, size_t keylen, uint64_t gen,
    const void *rec)
{
	sc_entry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return;
	e->hash = sc_hash(key, keylen);
	e->gen = gen;
	e->expires_ns = sg_mono_ns() + c->ttl_ns;
	e->kind = kind;
	e->keylen = keylen;
	memcpy(e->key, key, keylen);
	if (sc_copy(kind, &e->rec, rec) != SG_OK) {
		free(e);
		return;
	}
	sc_shard *sh = sc_shard_of(c, e->hash);
	pthread_mutex_lock(&sh->mu);
	if (gen != atomic_load(&c->gen)) {
		pthread_mutex_unlock(&sh->mu);
		sc_entry_free(e);
		return;
	}
	sc_entry **pp = &sh->bucket[e->hash % SC_BUCKETS];
	for (; *pp != NULL; pp = &(*pp)->next) {
		sc_entry *o = *pp;
		if (o->hash == e->hash && o->keylen == keylen && memcmp(o->key, key, keylen) == 0) {
			*pp = o->next;
			sh->count--;
			sc_entry_free(o);
			break;
		}
	}
	if (sh->count >= SC_SHARD_MAX)
		sc_shard_empty(sh);
	pp = &sh->bucket[e->hash % SC_BUCKETS];
	e->next = *pp;
	*pp = e;
	sh->count++;
	pthread_mutex_unlock(&sh->mu);
}

/* Every entry is stale from now on (called after a change has committed). */
static void
sc_invalidate(sc_store *c)
{
	atomic_fetch_add(&c->gen, 1);
}

/*
 * The cached read: a hit is copied out; a miss asks the inner store and,
 * when it found the record, remembers it.  out is written only on success.
 */
#define SC_READ(c, kind, keyargs, rectype, call) do { \
	char k_[SC_KEY_MAX]; \
	size_t kl_ = sc_key keyargs; \
	if (kl_ != 0 && out != NULL && sc_lookup((c), (kind), k_, kl_, out)) \
		return SG_OK; \
	uint64_t g_ = atomic_load(&(c)->gen); \
	rectype got_; \
	int r_ = (call); \
	if (r_ == SG_OK && kl_ != 0) \
		sc_insert((c), (kind), k_, kl_, g_, &got_); \
	if (r_ == SG_OK) \
		*out = got_; \
	return r_; \
} while (0)

/* ---- cached reads ---- */

static int
sc_tenant_get(sg_store *s, const char *id, sg_tenant *out)
{
	sc_store *c = sc_of(s);
	if (id == NULL || out == NULL)
		return c->inner->ops->tenant_get(c->inner, id, out);
	SC_READ(c, SC_TENANT, (k_, SC_TENANT, id, NULL, NULL), sg_tenant,
	    c->inner->ops->tenant_get(c->inner, id, &got_));
}

static int
sc_principal_get(sg_store *s, const char *tenant_id, const char *id, sg_principal *out)
{
	sc_store *c = sc_of(s);
	if (tenant_id == NULL || id == NULL || out == NULL)
		return c->inner->ops->principal_get(c->inner, tenant_id, id, out);
	SC_READ(c, SC_PRINCIPAL, (k_, SC_PRINCIPAL, tenant_id, id, NULL), sg_principal,
	    c->inner->ops->principal_get(c->inner, tenant_id, id, &got_));
}

static int
sc_api_key_find(sg_store *s, const char *prefix, sg_api_key *out)
{
	sc_store *c = sc_of(s);
	if (prefix == NULL || out == NULL)
		return c->inner->ops->api_key_find(c->inner, prefix, out);
	SC_READ(c, SC_API_KEY, (k_, SC_API_KEY, prefix, NULL, NULL), sg_api_key,
	    c->inner->ops->api_key_find(c->inner, prefix, &got_));
}

static int
sc_client_cert_find(sg_store *s, const uint8_t fingerprint[32], sg_client_cert *out)
{
	sc_store *c = sc_of(s);
	char hex[65];
	if (fingerprint == NULL || out == NULL)
		return c->inner->ops->client_cert_find(c->inner, fingerprint, out);
	sg_hex_encode(fingerprint, 32, hex);
	SC_READ(c, SC_CERT, (k_, SC_CERT, hex, NULL, NULL), sg_client_cert,
	    c->inner->ops->client_cert_find(c->inner, fingerprint, &got_));
}

static int
sc_key_get(sg_store *s, const char *tenant_id, const char *id_or_alias, sg_key *out)
{
	sc_store *c = sc_of(s);
	if (tenant_id == NULL || id_or_alias == NULL || out == NULL)
		return c->inner->ops->key_get(c->inner, tenant_id, id_or_alias, out);
	SC_READ(c, SC_KEY, (k_, SC_KEY, tenant_id, id_or_alias, NULL), sg_key,
	    c->inner->ops->key_get(c->inner, tenant_id, id_or_alias, &got_));
}

static int
sc_key_version_get(sg_store *s, const char *tenant_id, const char *key_id, int version,
    sg_key_version *out)
{
	sc_store *c = sc_of(s);
	char vtext[16];
	char k[SC_KEY_MAX];

	if (tenant_id == NULL || key_id == NULL || out == NULL)
		return c->inner->ops->key_version_get(c->inner, tenant_id, key_id, version, out);
	snprintf(vtext, sizeof(vtext), "%d", version);
	/* The tenant is part of the entry's key: another tenant's lookup misses and asks the store. */
	size_t kl = sc_key(k, SC_VERSION, tenant_id, key_id, vtext);
	if (kl != 0 && sc_lookup(c, SC_VERSION, k, kl, out))
		return SG_OK;
	uint64_t g = atomic_load(&c->gen);
	sg_key_version got;
	int r = c->inner->ops->key_version_get(c->inner, tenant_id, key_id, version, &got);
	if (r != SG_OK)
		return r;
	if (kl != 0)
		sc_insert(c, SC_VERSION, k, kl, g, &got);
	*out = got;  /* ownership of the heap fields moves to the caller */
	return SG_OK;
}

static int
sc_policy_get(sg_store *s, const char *tenant_id, const char *project, const char *slug,
    sg_policy *out)
{
	sc_store *c = sc_of(s);
	char k[SC_KEY_MAX];

	if (tenant_id == NULL || project == NULL || slug == NULL || out == NULL)
		return c->inner->ops->policy_get(c->inner, tenant_id, project, slug, out);
	size_t kl = sc_key(k, SC_POLICY, tenant_id, project, slug);
	if (kl != 0 && sc_lookup(c, SC_POLICY, k, kl, out))
		return SG_OK;
	uint64_t g = atomic_load(&c->gen);
	sg_policy got;
	int r = c->inner->ops->policy_get(c->inner, tenant_id, project, slug, &got);
	if (r != SG_OK)
		return r;
	if (kl != 0)
		sc_insert(c, SC_POLICY, k, kl, g, &got);
	*out = got;
	return SG_OK;
}

/* ---- changes: the inner operation, then every entry goes stale ---- */

static int
sc_principal_delete(sg_store *s, const char *tenant_id, const char *id)
{
	sc_store *c = sc_of(s);
	int r = c->inner->ops->principal_delete(c->inner, tenant_id, id);
	sc_invalidate(c);
	return r;
}

static int
sc_principal_update(sg_store *s, const sg_principal *p)
{
	sc_store *c = sc_of(s);
	/* Roles and the default policy decide what a cached principal may do. */
	int r = c->inner->ops->principal_update(c->inner, p);
	sc_invalidate(c);
	return r;
}

static int
sc_api_key_revoke(sg_store *s, const char *tenant_id, const char *id, int64_t when)
{
	sc_store *c = sc_of(s);
	int r = c->inner->ops->api_key_revoke(c->inner, tenant_id, id, when);
	sc_invalidate(c);
	return r;
}

static int
sc_key_create(sg_store *s, const sg_key *k, const sg_key_version *v1)
{
	sc_store *c = sc_of(s);
	/* A new key's id could shadow an alias that is cached: an id wins over an alias. */
	int r = c->inner->ops->key_create(c->inner, k, v1);
	sc_invalidate(c);
	return r;
}

static int
sc_key_set_status(sg_store *s, const char *tenant_id, const char *key_id, const char *status,
    int64_t when)
{
	sc_store *c = sc_of(s);
	int r = c->inner->ops->key_set_status(c->inner, tenant_id, key_id, status, when);
	sc_invalidate(c);
	return r;
}

static int
sc_key_add_version(sg_store *s, const char *tenant_id, const sg_key_version *v)
{
	sc_store *c = sc_of(s);
	int r = c->inner->ops->key_add_version(c->inner, tenant_id, v);
	sc_invalidate(c);
	return r;
}

static int
sc_key_version_destroy(sg_store *s, const char *tenant_id, const char *key_id, int version,
    int64_t when)
{
	sc_store *c = sc_of(s);
	int r = c->inner->ops->key_version_destroy(c->inner, tenant_id, key_id, version, when);
	sc_invalidate(c);
	return r;
}

static int
sc_key_version_set_cert(sg_store *s, const char *tenant_id, const char *key_id, int version,
    const char *pem)
{
	sc_store *c = sc_of(s);
	int r = c->inner->ops->key_version_set_cert(c->inner, tenant_id, key_id, version, pem);
	sc_invalidate(c);
	return r;
}

static void
sc_close(sg_store *s)
{
	sc_store *c = sc_of(s);
	if (c == NULL)
		return;
	for (size_t i = 0; i < SC_SHARDS; i++) {
		sc_shard_empty(&c->shard[i]);
		pthread_mutex_destroy(&c->shard[i].mu);
	}
	sg_store_close(c->inner);
	free(c);
}

int
sg_store_cache_wrap(sg_store *inner, int64_t ttl_ms, sg_store **out)
{
	if (inner == NULL || inner->ops == NULL || out == NULL || ttl_ms <= 0)
		return SG_ERR_INVALID_ARGUMENT;
	sc_store *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SG_ERR_NOMEM;
	c->inner = inner;
	c->ttl_ns = (uint64_t)ttl_ms * 1000000u;
	atomic_init(&c->gen, 1);
	atomic_init(&c->hits, 0);
	atomic_init(&c->misses, 0);
	for (size_t i = 0; i < SC_SHARDS; i++)
		pthread_mutex_init(&c->shard[i].mu, NULL);
	c->ops = *inner->ops;
	c->ops.tenant_get = sc_tenant_get;
	c->ops.principal_get = sc_principal_get;
	c->ops.api_key_find = sc_api_key_find;
	c->ops.client_cert_find = sc_client_cert_find;
	c->ops.key_get = sc_key_get;
	c->ops.key_version_get = sc_key_version_get;
	c->ops.policy_get = sc_policy_get;
	/* sc_invalidating: every operation that changes a record cached above. */
	c->ops.principal_delete = sc_principal_delete;
	c->ops.principal_update = sc_principal_update;
	c->ops.api_key_revoke = sc_api_key_revoke;
	c->ops.key_create = sc_key_create;
	c->ops.key_set_status = sc_key_set_status;
	c->ops.key_add_version = sc_key_add_version;
	c->ops.key_version_destroy = sc_key_version_destroy;
	c->ops.key_version_set_cert = sc_key_version_set_cert;
	c->ops.close = sc_close;
	c->pub.ops = &c->ops;
	c->pub.impl = inner->impl;
	*out = &c->pub;
	return SG_OK;
}

void
sg_store_cache_stats(sg_store *s, uint64_t *hits, uint64_t *misses)
{
	uint64_t h = 0, m = 0;
	if (s != NULL && s->ops != NULL && s->ops->close == sc_close) {
		h = atomic_load(&sc_of(s)->hits);
		m = atomic_load(&sc_of(s)->misses);
	}
	if (hits != NULL)
		*hits = h;
	if (misses != NULL)
		*misses = m;
}
