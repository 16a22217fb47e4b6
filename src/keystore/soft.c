/*
 * soft.c - the software ("DISK") keystore.
 *
 * Private keys never rest in clear: each is exported by src/crypto, sealed
 * with AES-256-GCM under the 32-byte master key, and the sealed blob is the
 * handle the store keeps.  Blob layout: "SGK1" | nonce(12) | ciphertext |
 * tag(16); the associated data binds the key version id and algorithm, so a
 * blob moved to another row or relabelled does not open.
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
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_util.h"

#define SOFT_MAGIC "SGK1"
#define SOFT_NONCE 12
#define SOFT_TAG 16
#define SOFT_SHARDS 16
#define SOFT_MAX_PLAIN (64u * 1024u)

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
	uint8_t master[32];
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
	int r = SG_ERR_CRYPTO, n = 0;
	char aad[256];
	size_t aad_len;
	EVP_CIPHER_CTX *c = NULL;
	size_t total = 4 + SOFT_NONCE + plain_len + SOFT_TAG;
	uint8_t *blob = NULL;

	if ((r = make_aad(version_id, alg, aad, sizeof(aad), &aad_len)) != SG_OK)
		return r;
	r = SG_ERR_CRYPTO;
	if ((blob = malloc(total)) == NULL)
		return SG_ERR_NOMEM;
	memcpy(blob, SOFT_MAGIC, 4);
	uint8_t *nonce = blob + 4, *ct = nonce + SOFT_NONCE, *tag = ct + plain_len;
	if (RAND_bytes(nonce, SOFT_NONCE) != 1)
		goto out;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, s->master, nonce) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)aad_len) != 1 ||
	    EVP_EncryptUpdate(c, ct, &n, plain, (int)plain_len) != 1 ||
	    EVP_EncryptFinal_ex(c, ct + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SOFT_TAG, tag) != 1)
		goto out;
	*out = blob;
	*outlen = total;
	blob = NULL;
	r = SG_OK;
out:
	EVP_CIPHER_CTX_free(c);
	free(blob);
	return r;
}

/* Unseal into a freshly parsed key; the plaintext is wiped before returning. */
static int
unseal(const soft_ks *s, const sg_key_ref *ref, sg_privkey **out)
{
	int r = SG_ERR_CRYPTO, n = 0, n2 = 0;
	char aad[256];
	size_t aad_len;
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *plain = NULL;
	size_t plain_len;

	if (ref->handle == NULL || ref->handle_len < 4 + SOFT_NONCE + SOFT_TAG ||
	    memcmp(ref->handle, SOFT_MAGIC, 4) != 0)
		return SG_ERR_KEY_NOT_ACTIVE;
	plain_len = ref->handle_len - 4 - SOFT_NONCE - SOFT_TAG;
	if (plain_len > SOFT_MAX_PLAIN)
		return SG_ERR_INVALID_ARGUMENT;
	if ((r = make_aad(ref->version_id, ref->alg, aad, sizeof(aad), &aad_len)) != SG_OK)
		return r;
	r = SG_ERR_CRYPTO;
	const uint8_t *nonce = ref->handle + 4, *ct = nonce + SOFT_NONCE, *tag = ct + plain_len;
	if ((plain = malloc(plain_len + 1)) == NULL)
		return SG_ERR_NOMEM;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, s->master, nonce) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(c, plain, &n, ct, (int)plain_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SOFT_TAG, (void *)tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(c, plain + n, &n2) != 1) {
		sg_error("keystore: sealed key for %s does not open (wrong master key or tampered blob)",
		    ref->version_id);
		goto out;
	}
	r = sg_privkey_import(ref->alg, plain, plain_len, out);
out:
	EVP_CIPHER_CTX_free(c);
	sg_free_secret(plain, plain_len + 1);
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

static int
soft_load(sg_keystore *ks, const sg_key_ref *ref, sg_privkey **out)
{
	return unseal(ks->impl, ref, out);
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
	sg_wipe(s->master, sizeof(s->master));
	free(s);
	free(ks);
}

static const sg_keystore_ops soft_ops = {
	.storage = "DISK",
	.generate = soft_generate,
	.sign = soft_sign,
	.load = soft_load,
	.destroy = soft_destroy,
	.close = soft_close,
};

/* Read the master key, or create it (0600) when the file does not exist. */
static int
load_master(const char *path, uint8_t master[32])
{
	struct stat st;
	uint8_t *p = NULL;
	size_t n = 0;
	int r;

	if (stat(path, &st) == 0) {
		if ((st.st_mode & 077) != 0) {
			sg_error("keystore: master key %s is readable by others (mode %03o); "
			    "run chmod 600 on it", path, (unsigned)(st.st_mode & 0777));
			return SG_ERR_PERMISSION_DENIED;
		}
		if ((r = sg_read_file(path, 64, &p, &n)) != SG_OK)
			return r;
		if (n != 32) {
			sg_free_secret(p, n);
			sg_error("keystore: master key %s is not 32 bytes", path);
			return SG_ERR_INVALID_ARGUMENT;
		}
		memcpy(master, p, 32);
		sg_free_secret(p, n);
		return SG_OK;
	}
	if (errno != ENOENT)
		return SG_ERR_IO;
	uint8_t fresh[32];
	if (RAND_bytes(fresh, sizeof(fresh)) != 1)
		return SG_ERR_CRYPTO;
	r = sg_write_file(path, fresh, sizeof(fresh), 0600);
	if (r == SG_OK) {
		memcpy(master, fresh, 32);
		sg_info("keystore: generated a new master key at %s", path);
	}
	sg_wipe(fresh, sizeof(fresh));
	return r;
}

int
sg_keystore_soft_open(const char *master_key_path, int cache_keys, sg_keystore **out)
{
	int r;
	sg_keystore *ks = calloc(1, sizeof(*ks));
	soft_ks *s = calloc(1, sizeof(*s));
	if (ks == NULL || s == NULL) {
		free(ks);
		free(s);
		return SG_ERR_NOMEM;
	}
	if ((r = load_master(master_key_path, s->master)) != SG_OK) {
		sg_wipe(s->master, sizeof(s->master));
		free(s);
		free(ks);
		return r;
	}
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
