/*
 * soft.c - the software keystore: keys made by src/crypto, kept sealed.
 *
 * Private keys never rest in clear: each is exported by src/crypto, sealed
 * by a sealer (sg_sealer.h) and the sealed blob is the handle the store
 * keeps.  The associated data binds the key version id and algorithm, so a
 * blob moved to another row or relabelled does not open.  Where the master
 * key lives is the sealer's business: a file ("SGK1", master.key) or an AES
 * key inside a PKCS#11 token ("SGK2").  One sealer seals new keys; a second
 * one may be kept to open blobs sealed before a change of master key.
 *
 * The same sealers keep secrets that are not keys but must rest sealed
 * (webhook HMAC keys: sg_keystore_seal_secret), under associated data of
 * their own so that a key and a secret can never be swapped.
 *
 * Serves storage "DISK", and (with the PKCS#11 sealer and no cache, behind
 * the routing keystore of hsm.c) the HSM storage of algorithms no token
 * holds.
 *
 * Unsealing and parsing a key costs far more than an ECDSA signature, so
 * (unless disabled) unsealed keys are kept in a cache of parsed sg_privkey
 * objects: 16 shards, each behind a reader-writer lock.  Signing holds a
 * shard's read lock only, so any number of signatures run in parallel, even
 * with the same key; the write lock is taken to insert or drop an entry.
 * Plaintext key bytes exist only between unseal and parse and are wiped at
 * once; the parsed key lives in OpenSSL's key object (freed with clearing)
 * until the version is destroyed or the keystore closed.
 */
#define _GNU_SOURCE 1 /* pthread_rwlockattr_setkind_np */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_sealer.h"
#include "sg_secret.h"
#include "sg_util.h"

#define SOFT_SHARDS 16

typedef struct cache_entry {
	struct cache_entry *next;
	char *version_id;
	sg_privkey *key;
} cache_entry;

typedef struct cache_shard {
	pthread_rwlock_t lock;
	cache_entry *head;
} cache_shard;

typedef struct soft_ks {
	sg_sealer *sealer;       /* seals new keys, opens its own blobs */
	sg_sealer *also_open;    /* opens blobs of a former master key; may be NULL */
	int cache_keys;
	cache_shard shards[SOFT_SHARDS];
} soft_ks;

static unsigned
shard_of(const char *version_id)
{
	uint32_t h = 2166136261u;
	for (const char *p = version_id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % SOFT_SHARDS;
}

static int
make_aad(const char *version_id, sg_key_alg alg, char *aad, size_t cap, size_t *len)
{
	const char *name = sg_key_alg_name(alg);
	if (name == NULL)
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	size_t n = (size_t)snprintf(aad, cap, "signet-key|%s|%s", version_id, name);
	if (n >= cap)
		return SG_ERR_INVALID_ARGUMENT;
	*len = n;
	return SG_OK;
}

static int
seal(const soft_ks *s, const char *version_id, sg_key_alg alg,
    const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *outlen)
{
	char aad[256];
	size_t aad_len;
	int r;

	if ((r = make_aad(version_id, alg, aad, sizeof(aad), &aad_len)) != SG_OK)
		return r;
	return sg_sealer_seal(s->sealer, (const uint8_t *)aad, aad_len, plain, plain_len, out,
	    outlen);
}

/*
 * The sealer for a blob (of the thing named what, for the log).  A blob in
 * a format of ours whose sealer this server does not have (master.key
 * gone, no token configured) is an operator's matter, not the request's:
 * SG_ERR_UNAVAILABLE, logged.
 */
static int
sealer_for(const soft_ks *s, const char *what, const uint8_t *blob, size_t blob_len,
    sg_sealer **out)
{
	if (sg_sealer_owns(s->sealer, blob, blob_len)) {
		*out = s->sealer;
		return SG_OK;
	}
	if (sg_sealer_owns(s->also_open, blob, blob_len)) {
		*out = s->also_open;
		return SG_OK;
	}
	if (blob != NULL && blob_len >= 4 && memcmp(blob, "SGK", 3) == 0) {
		sg_error("keystore: %s is sealed by a master key this server does not have (%s)",
		    what,
		    blob[3] == '1' ? "SGK1: master.key is missing" :
		    blob[3] == '2' ? "SGK2: no PKCS#11 token is configured" :
		    "a format this version does not know");
		return SG_ERR_UNAVAILABLE;
	}
	return SG_ERR_KEY_NOT_ACTIVE;
}

/* Unseal into a freshly parsed key; the plaintext is wiped before returning. */
static int
unseal(const soft_ks *s, const sg_key_ref *ref, sg_privkey **out)
{
	int r;
	char aad[256];
	size_t aad_len, plain_len = 0;
	uint8_t *plain = NULL;
	sg_sealer *sl;

	char what[SG_KEY_VERSION_ID_MAX + 16];
	snprintf(what, sizeof(what), "key version %s", ref->version_id);
	if ((r = sealer_for(s, what, ref->handle, ref->handle_len, &sl)) != SG_OK)
		return r;
	if ((r = make_aad(ref->version_id, ref->alg, aad, sizeof(aad), &aad_len)) != SG_OK)
		return r;
	r = sg_sealer_open(sl, (const uint8_t *)aad, aad_len, ref->handle, ref->handle_len,
	    &plain, &plain_len);
	if (r == SG_ERR_CRYPTO)
		sg_error("keystore: sealed key for %s does not open (wrong master key or tampered "
		    "blob)", ref->version_id);
	if (r != SG_OK)
		return r;
	r = sg_privkey_import(ref->alg, plain, plain_len, out);
	sg_free_secret(plain, plain_len);
	return r;
}

static int
soft_generate(sg_keystore *ks, const char *version_id, sg_key_alg alg,
    uint8_t **handle, size_t *handle_len, uint8_t **spki, size_t *spki_len)
{
	soft_ks *s = ks->impl;
	int r;
	sg_privkey *k = NULL;
	uint8_t *plain = NULL, *blob = NULL, *pub = NULL;
	size_t plain_len = 0, blob_len = 0, pub_len = 0;

	if ((r = sg_privkey_generate(alg, &k)) != SG_OK ||
	    (r = sg_privkey_export(k, &plain, &plain_len)) != SG_OK ||
	    (r = sg_privkey_public_spki(k, &pub, &pub_len)) != SG_OK ||
	    (r = seal(s, version_id, alg, plain, plain_len, &blob, &blob_len)) != SG_OK)
		goto out;
	*handle = blob;
	*handle_len = blob_len;
	*spki = pub;
	*spki_len = pub_len;
	blob = pub = NULL;
out:
	sg_free_secret(plain, plain_len);
	sg_privkey_free(k);
	free(blob);
	free(pub);
	return r;
}

static cache_entry *
shard_find(cache_shard *sh, const char *version_id)
{
	for (cache_entry *e = sh->head; e != NULL; e = e->next)
		if (strcmp(e->version_id, version_id) == 0)
			return e;
	return NULL;
}

static int
soft_sign(sg_keystore *ks, const sg_key_ref *ref, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen)
{
	soft_ks *s = ks->impl;
	int r;
	sg_privkey *k = NULL;

	if (!s->cache_keys) {
		if ((r = unseal(s, ref, &k)) != SG_OK)
			return r;
		r = sg_sign_digest(k, params, digest, digest_len, sig, siglen);
		sg_privkey_free(k);
		return r;
	}
	cache_shard *sh = &s->shards[shard_of(ref->version_id)];
	for (;;) {
		pthread_rwlock_rdlock(&sh->lock);
		cache_entry *e = shard_find(sh, ref->version_id);
		if (e != NULL) {
			r = sg_sign_digest(e->key, params, digest, digest_len, sig, siglen);
			pthread_rwlock_unlock(&sh->lock);
			return r;
		}
		pthread_rwlock_unlock(&sh->lock);

		/* Miss: unseal outside any lock, then insert unless another thread won. */
		if ((r = unseal(s, ref, &k)) != SG_OK)
			return r;
		cache_entry *ne = calloc(1, sizeof(*ne));
		char *id = strdup(ref->version_id);
		if (ne == NULL || id == NULL) {
			free(ne);
			free(id);
			sg_privkey_free(k);
			return SG_ERR_NOMEM;
		}
		ne->version_id = id;
		ne->key = k;
		k = NULL;
		pthread_rwlock_wrlock(&sh->lock);
		if (shard_find(sh, ref->version_id) == NULL) {
			ne->next = sh->head;
			sh->head = ne;
			ne = NULL;
		}
		pthread_rwlock_unlock(&sh->lock);
		if (ne != NULL) {
			sg_privkey_free(ne->key);
			free(ne->version_id);
			free(ne);
		}
	}
}

static void
cache_drop(soft_ks *s, const char *version_id)
{
	cache_shard *sh = &s->shards[shard_of(version_id)];
	pthread_rwlock_wrlock(&sh->lock);
	for (cache_entry **pp = &sh->head; *pp != NULL; pp = &(*pp)->next) {
		cache_entry *e = *pp;
		if (strcmp(e->version_id, version_id) == 0) {
			*pp = e->next;
			sg_privkey_free(e->key);
			free(e->version_id);
			free(e);
			break;
		}
	}
	pthread_rwlock_unlock(&sh->lock);
}

static int
soft_destroy(sg_keystore *ks, const sg_key_ref *ref)
{
	/* The sealed blob itself is wiped by the store; here only the cached copy. */
	cache_drop(ks->impl, ref->version_id);
	return SG_OK;
}

static void
soft_close(sg_keystore *ks)
{
	soft_ks *s = ks->impl;
	for (int i = 0; i < SOFT_SHARDS; i++) {
		cache_entry *e = s->shards[i].head;
		while (e != NULL) {
			cache_entry *next = e->next;
			sg_privkey_free(e->key);
			free(e->version_id);
			free(e);
			e = next;
		}
		pthread_rwlock_destroy(&s->shards[i].lock);
	}
	sg_sealer_free(s->sealer);
	sg_sealer_free(s->also_open);
	free(s);
	free(ks);
}

/*
 * Secrets that are not keys (sg_keystore_seal_secret): the caller's aad
 * behind a prefix of their own, so that no key handle opens as a secret
 * and no sealed secret as a key ("signet-key|..." above).
 */
static int
make_secret_aad(const char *aad, char *out, size_t cap, size_t *len)
{
	size_t n = (size_t)snprintf(out, cap, "signet-secret|%s", aad);
	if (n >= cap)
		return SG_ERR_INVALID_ARGUMENT;
	*len = n;
	return SG_OK;
}

static int
soft_seal_secret(sg_keystore *ks, const char *aad, const uint8_t *plain, size_t plain_len,
    uint8_t **blob, size_t *blob_len)
{
	soft_ks *s = ks->impl;
	char full[SG_SECRET_AAD_MAX + 32];
	size_t full_len;
	int r;

	if ((r = make_secret_aad(aad, full, sizeof(full), &full_len)) != SG_OK)
		return r;
	return sg_sealer_seal(s->sealer, (const uint8_t *)full, full_len, plain, plain_len, blob,
	    blob_len);
}

static int
soft_open_secret(sg_keystore *ks, const char *aad, const uint8_t *blob, size_t blob_len,
    uint8_t **plain, size_t *plain_len)
{
	soft_ks *s = ks->impl;
	char full[SG_SECRET_AAD_MAX + 32], what[SG_SECRET_AAD_MAX + 16];
	size_t full_len;
	sg_sealer *sl;
	int r;

	if ((r = make_secret_aad(aad, full, sizeof(full), &full_len)) != SG_OK)
		return r;
	snprintf(what, sizeof(what), "secret %s", aad);
	if ((r = sealer_for(s, what, blob, blob_len, &sl)) != SG_OK)
		return r;
	r = sg_sealer_open(sl, (const uint8_t *)full, full_len, blob, blob_len, plain, plain_len);
	if (r == SG_ERR_CRYPTO)
		sg_error("keystore: sealed secret %s does not open (wrong master key, tampered blob "
		    "or a blob of another row)", aad);
	return r;
}

static const sg_keystore_ops soft_ops = {
	.storage = "DISK",
	.generate = soft_generate,
	.sign = soft_sign,
	.destroy = soft_destroy,
	.close = soft_close,
	.seal_secret = soft_seal_secret,
	.open_secret = soft_open_secret,
};

int
sg_keystore_soft_open_sealed(sg_sealer *sealer, sg_sealer *also_open, int cache_keys,
    sg_keystore **out)
{
	if (sealer == NULL || out == NULL || also_open == sealer)
		return SG_ERR_INVALID_ARGUMENT;
	sg_keystore *ks = calloc(1, sizeof(*ks));
	soft_ks *s = calloc(1, sizeof(*s));
	if (ks == NULL || s == NULL) {
		free(ks);
		free(s);
		return SG_ERR_NOMEM;
	}
	s->sealer = sealer;
	s->also_open = also_open;
	s->cache_keys = cache_keys;
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	/* Writers (cache fills) must not starve behind a stream of signers. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	for (int i = 0; i < SOFT_SHARDS; i++)
		pthread_rwlock_init(&s->shards[i].lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	ks->ops = &soft_ops;
	ks->impl = s;
	*out = ks;
	return SG_OK;
}

int
sg_keystore_soft_open(const char *master_key_path, int cache_keys, sg_keystore **out)
{
	sg_sealer *sl = NULL;
	int r;

	if (out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if ((r = sg_sealer_file_open(master_key_path, 1, &sl)) != SG_OK)
		return r;
	if ((r = sg_keystore_soft_open_sealed(sl, NULL, cache_keys, out)) != SG_OK)
		sg_sealer_free(sl);
	return r;
}
