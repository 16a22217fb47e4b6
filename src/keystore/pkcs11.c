/*
 * pkcs11.c - the PKCS#11 ("HSM") keystore.
 *
 * Keys are generated inside a token reached through a PKCS#11 module loaded
 * by path, as private, sensitive, non-extractable objects tagged with 16
 * random bytes of CKA_ID; that CKA_ID (after a format-version byte) is the
 * handle the store keeps, so nothing secret ever leaves the token or reaches
 * the database.  Signing maps each SPEC scheme onto a raw mechanism over the
 * client's digest: CKM_RSA_PKCS over a DigestInfo built here, CKM_RSA_PKCS_PSS,
 * CKM_ECDSA (the token's r||s converted to DER unless P1363 is asked) and
 * CKM_EDDSA over the digest bytes.
 *
 * Concurrency: a pool of logged-in R/W sessions behind a mutex and condition
 * variable; a request borrows a session, runs its PKCS#11 calls with no lock
 * held and gives it back, so N requests sign in parallel on N sessions.
 * Private-key object handles are cached per CKA_ID (they are valid across
 * the sessions of one application) and re-found when the token says a handle
 * is stale.
 *
 * Failure: a result meaning the token or session is gone marks the pool
 * broken and fails with SG_ERR_UNAVAILABLE.  The next request, once every
 * borrowed session is back, closes the pool's sessions, finds the token by
 * label again, opens fresh sessions and logs in; until that works requests
 * fail fast with SG_ERR_UNAVAILABLE, with at most one rebuild attempt per
 * SG_P11_RETRY_NS.  A PIN the token rejects is never retried (a loop of
 * wrong PINs would lock the token).
 *
 * The module itself is shared process-wide: two keystores on one module
 * share one C_Initialize, and only the last close calls C_Finalize.
 *
 * The same pool serves the token's AES master key (pkcs11_int.h): found by
 * label or generated, and used for AES-GCM by the PKCS#11 sealer
 * (p11_sealer.c), which keeps a reference to the keystore so that it may
 * outlive the caller's handle on it.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include "sg_keystore.h"
#include "sg_log.h"
#include "pkcs11_int.h"
#include "sg_pkcs11.h"
#include "sg_sealer.h"
#include "sg_secret.h"
#include "sg_util.h"

/* PKCS#11 3.0 names the p11-kit 0.24 header does not have yet. */
#ifndef CKM_SHA3_256
#define CKM_SHA3_256 0x2b0UL
#define CKM_SHA3_384 0x2c0UL
#define CKM_SHA3_512 0x2d0UL
#endif
#ifndef CKG_MGF1_SHA3_256
#define CKG_MGF1_SHA3_256 0x7UL
#define CKG_MGF1_SHA3_384 0x8UL
#define CKG_MGF1_SHA3_512 0x9UL
#endif

#define SG_P11_HANDLE_V1 0x01
#define SG_P11_ID_LEN 16
#define SG_P11_HANDLE_LEN (1 + SG_P11_ID_LEN)
#define SG_P11_LABEL_MAX 32            /* CK_TOKEN_INFO.label */
#define SG_P11_PIN_MAX 256
#define SG_P11_RETRY_NS 1000000000ull  /* at most one rebuild attempt a second */
#define SG_P11_CACHE_BUCKETS 64
#define SG_P11_SIG_MAX 1024            /* RSA-8192; larger tokens answer BUFFER_TOO_SMALL */

/* Mechanisms the token offers, refreshed at every pool build. */
#define MECH_RSA_GEN    0x01u
#define MECH_EC_GEN     0x02u
#define MECH_ED_GEN     0x04u
#define MECH_EDDSA      0x08u
#define MECH_AES_GEN    0x10u
#define MECH_AES_GCM    0x20u

/* ---- the module, shared by every keystore that names the same path ---- */

typedef struct p11_module {
	struct p11_module *next;
	char *path;
	void *dl;
	CK_FUNCTION_LIST_PTR fn;
	unsigned refs;
	int initialised_here;   /* 0: someone else in the process initialised it */
} p11_module;

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static p11_module *modules;

static int
module_acquire(const char *path, p11_module **out)
{
	int r = SG_ERR_IO;
	p11_module *m;
	CK_C_GetFunctionList get_list;
	CK_C_INITIALIZE_ARGS init_args;
	CK_RV rv;

	pthread_mutex_lock(&modules_lock);
	for (m = modules; m != NULL; m = m->next) {
		if (strcmp(m->path, path) == 0) {
			m->refs++;
			*out = m;
			pthread_mutex_unlock(&modules_lock);
			return SG_OK;
		}
	}
	if ((m = calloc(1, sizeof(*m))) == NULL || (m->path = strdup(path)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if ((m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		sg_error("pkcs11: cannot load module %s: %s", path, dlerror());
		goto out;
	}
	*(void **)&get_list = dlsym(m->dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&m->fn) != CKR_OK || m->fn == NULL) {
		sg_error("pkcs11: %s is not a PKCS#11 module (no usable C_GetFunctionList)", path);
		goto out;
	}
	memset(&init_args, 0, sizeof(init_args));
	init_args.flags = CKF_OS_LOCKING_OK;
	rv = m->fn->C_Initialize(&init_args);
	if (rv == CKR_OK) {
		m->initialised_here = 1;
	} else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		sg_error("pkcs11: C_Initialize of %s failed (CKR 0x%lx)", path, (unsigned long)rv);
		r = SG_ERR_UNAVAILABLE;
		goto out;
	}
	m->refs = 1;
	m->next = modules;
	modules = m;
	*out = m;
	m = NULL;
	r = SG_OK;
out:
	if (m != NULL) {
		if (m->dl != NULL)
			dlclose(m->dl);
		free(m->path);
		free(m);
	}
	pthread_mutex_unlock(&modules_lock);
	return r;
}

static void
module_release(p11_module *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&modules_lock);
	if (--m->refs == 0) {
		for (p11_module **pp = &modules; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == m) {
				*pp = m->next;
				break;
			}
		}
		if (m->initialised_here)
			(void)m->fn->C_Finalize(NULL);
		dlclose(m->dl);
		free(m->path);
		free(m);
	}
	pthread_mutex_unlock(&modules_lock);
}

/*
 * Finalise and initialise the module again, which some modules (SoftHSM2
 * among them) need before they see a token that went away and came back.
 * Only when this keystore is the module's sole user in the process and
 * initialised it: C_Finalize ends every session of every user.  The caller
 * has no session of its own open.
 */
static int
module_reinit(p11_module *m)
{
	int r = SG_ERR_UNAVAILABLE;
	CK_C_INITIALIZE_ARGS init_args;
	CK_RV rv;

	pthread_mutex_lock(&modules_lock);
	if (m->refs == 1 && m->initialised_here) {
		(void)m->fn->C_Finalize(NULL);
		memset(&init_args, 0, sizeof(init_args));
		init_args.flags = CKF_OS_LOCKING_OK;
		rv = m->fn->C_Initialize(&init_args);
		if (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
			r = SG_OK;
		else
			sg_warn("pkcs11: C_Initialize of %s failed (CKR 0x%lx)", m->path,
			    (unsigned long)rv);
	}
	pthread_mutex_unlock(&modules_lock);
	return r;
}

/* ---- the keystore ---- */

typedef struct obj_entry {
	struct obj_entry *next;
	uint8_t id[SG_P11_ID_LEN];
	CK_OBJECT_HANDLE obj;
} obj_entry;

/* AES master keys by CKA_ID (any length up to SG_P11_SECRET_ID_MAX). */
typedef struct secret_entry {
	struct secret_entry *next;
	uint8_t id[SG_P11_SECRET_ID_MAX];
	size_t id_len;
	CK_OBJECT_HANDLE obj;
} secret_entry;

typedef struct p11_ks {
	unsigned refs;              /* sg_p11_retain; the last release frees */
	p11_module *mod;
	CK_FUNCTION_LIST_PTR fn;
	char label[SG_P11_LABEL_MAX + 1];
	uint8_t *pin;
	size_t pin_len;
	int pin_rejected;           /* the token refused the PIN: never try it again */

	/* The pool.  slot and mechs change only during a build, which runs
	 * with no session borrowed and every other borrower waiting. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	CK_SESSION_HANDLE *idle;
	size_t n_idle, size, n_out;
	int broken, rebuilding;
	unsigned builds;            /* finished build attempts, to wake waiters once */
	uint64_t last_failed_build; /* sg_mono_ns of the last failed attempt, 0 if none */
	CK_SLOT_ID slot;
	unsigned mechs;

	/* Object handles by CKA_ID: private keys, and AES master keys (secrets). */
	pthread_mutex_t cache_lock;
	obj_entry *cache[SG_P11_CACHE_BUCKETS];
	secret_entry *secrets;      /* a handful at most: a plain list */
	uint64_t cache_epoch;       /* bumped by destroy: a find in flight must not insert */
} p11_ks;

/* Results that mean the token, slot or session is gone rather than the request being bad. */
static int
rv_token_gone(CK_RV rv)
{
	switch (rv) {
	case CKR_DEVICE_REMOVED:
	case CKR_DEVICE_ERROR:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_SLOT_ID_INVALID:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		return 1;
	default:
		return 0;
	}
}

/* Map a PKCS#11 result onto Signet's errors; callers refine where context matters. */
static int
rv_to_err(CK_RV rv)
{
	if (rv == CKR_OK)
		return SG_OK;
	if (rv_token_gone(rv))
		return SG_ERR_UNAVAILABLE;
	switch (rv) {
	case CKR_HOST_MEMORY:
		return SG_ERR_NOMEM;
	case CKR_DEVICE_MEMORY:
		return SG_ERR_UNAVAILABLE;  /* token full: an operator matter, not the client's */
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_EXPIRED:
	case CKR_PIN_LOCKED:
		return SG_ERR_UNAUTHENTICATED;
	case CKR_MECHANISM_INVALID:
	case CKR_KEY_TYPE_INCONSISTENT:
	case CKR_KEY_SIZE_RANGE:
	case CKR_DOMAIN_PARAMS_INVALID:
	case CKR_CURVE_NOT_SUPPORTED:
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	case CKR_OBJECT_HANDLE_INVALID:
	case CKR_KEY_HANDLE_INVALID:
		return SG_ERR_KEY_NOT_ACTIVE;
	case CKR_DATA_LEN_RANGE:
		return SG_ERR_DIGEST_LENGTH;
	default:
		return SG_ERR_CRYPTO;
	}
}

/* ---- object-handle cache ---- */

static unsigned
bucket_of(const uint8_t id[SG_P11_ID_LEN])
{
	/* The id is random already; its first byte spreads well enough. */
	return id[0] % SG_P11_CACHE_BUCKETS;
}

static int
cache_get(p11_ks *k, const uint8_t id[SG_P11_ID_LEN], CK_OBJECT_HANDLE *obj, uint64_t *epoch)
{
	int found = 0;
	pthread_mutex_lock(&k->cache_lock);
	for (obj_entry *e = k->cache[bucket_of(id)]; e != NULL; e = e->next) {
		if (memcmp(e->id, id, SG_P11_ID_LEN) == 0) {
			*obj = e->obj;
			found = 1;
			break;
		}
	}
	*epoch = k->cache_epoch;
	pthread_mutex_unlock(&k->cache_lock);
	return found;
}

/* Insert unless a destroy or rebuild happened since the lookup that saw epoch. */
static void
cache_put(p11_ks *k, const uint8_t id[SG_P11_ID_LEN], CK_OBJECT_HANDLE obj, uint64_t epoch)
{
	obj_entry *ne = calloc(1, sizeof(*ne));
	if (ne == NULL)
		return;  /* only a cache: the next signature finds the object again */
	memcpy(ne->id, id, SG_P11_ID_LEN);
	ne->obj = obj;
	pthread_mutex_lock(&k->cache_lock);
	if (k->cache_epoch == epoch) {
		obj_entry **head = &k->cache[bucket_of(id)];
		for (obj_entry *e = *head; e != NULL; e = e->next) {
			if (memcmp(e->id, id, SG_P11_ID_LEN) == 0) {
				e->obj = obj;
				goto done;
			}
		}
		ne->next = *head;
		*head = ne;
		ne = NULL;
	}
done:
	pthread_mutex_unlock(&k->cache_lock);
	free(ne);
}

/* Drop one id (id != NULL) or everything; either way in-flight finds must not insert. */
static void
cache_drop(p11_ks *k, const uint8_t *id)
{
	pthread_mutex_lock(&k->cache_lock);
	k->cache_epoch++;
	for (unsigned b = 0; b < SG_P11_CACHE_BUCKETS; b++) {
		if (id != NULL && b != bucket_of(id))
			continue;
		for (obj_entry **pp = &k->cache[b]; *pp != NULL;) {
			obj_entry *e = *pp;
			if (id == NULL || memcmp(e->id, id, SG_P11_ID_LEN) == 0) {
				*pp = e->next;
				free(e);
			} else {
				pp = &e->next;
			}
		}
	}
	if (id == NULL) {
		while (k->secrets != NULL) {
			secret_entry *e = k->secrets;
			k->secrets = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&k->cache_lock);
}

static int
secret_get(p11_ks *k, const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *obj, uint64_t *epoch)
{
	int found = 0;
	pthread_mutex_lock(&k->cache_lock);
	for (secret_entry *e = k->secrets; e != NULL; e = e->next) {
		if (e->id_len == id_len && memcmp(e->id, id, id_len) == 0) {
			*obj = e->obj;
			found = 1;
			break;
		}
	}
	*epoch = k->cache_epoch;
	pthread_mutex_unlock(&k->cache_lock);
	return found;
}

/* As cache_put, for secret keys; id_len <= SG_P11_SECRET_ID_MAX. */
static void
secret_put(p11_ks *k, const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE obj, uint64_t epoch)
{
	secret_entry *ne = calloc(1, sizeof(*ne));
	if (ne == NULL)
		return;
	memcpy(ne->id, id, id_len);
	ne->id_len = id_len;
	ne->obj = obj;
	pthread_mutex_lock(&k->cache_lock);
	if (k->cache_epoch == epoch) {
		for (secret_entry *e = k->secrets; e != NULL; e = e->next) {
			if (e->id_len == id_len && memcmp(e->id, id, id_len) == 0) {
				e->obj = obj;
				goto done;
			}
		}
		ne->next = k->secrets;
		k->secrets = ne;
		ne = NULL;
	}
done:
	pthread_mutex_unlock(&k->cache_lock);
	free(ne);
}

/* Forget one secret key's object handle (found stale). */
static void
secret_drop(p11_ks *k, const uint8_t *id, size_t id_len)
{
	pthread_mutex_lock(&k->cache_lock);
	k->cache_epoch++;
	for (secret_entry **pp = &k->secrets; *pp != NULL; pp = &(*pp)->next) {
		secret_entry *e = *pp;
		if (e->id_len == id_len && memcmp(e->id, id, id_len) == 0) {
			*pp = e->next;
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&k->cache_lock);
}

/* ---- slot, login and the session pool ---- */

static void
label_trim(const CK_UTF8CHAR *padded, char out[SG_P11_LABEL_MAX + 1])
{
	size_t n = SG_P11_LABEL_MAX;
	memcpy(out, padded, n);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		n--;
	out[n] = '\0';
}

static int
find_slot(p11_ks *k, CK_SLOT_ID *out)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	CK_RV rv;
	int r = SG_ERR_UNAVAILABLE, matches = 0;

	/* The list can grow between the two calls when a token appears. */
	for (int tries = 0; tries < 3; tries++) {
		if ((rv = k->fn->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK)
			goto fail;
		free(slots);
		if ((slots = calloc(n + 1, sizeof(*slots))) == NULL)
			return SG_ERR_NOMEM;
		rv = k->fn->C_GetSlotList(CK_TRUE, slots, &n);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK)
		goto fail;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		char label[SG_P11_LABEL_MAX + 1];
		if (k->fn->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		label_trim(ti.label, label);
		if (strcmp(label, k->label) == 0) {
			if (matches++ == 0)
				*out = slots[i];
		}
	}
	if (matches == 0) {
		sg_warn("pkcs11: no present token labelled \"%s\"", k->label);
	} else {
		if (matches > 1)
			sg_warn("pkcs11: %d tokens are labelled \"%s\"; using the first", matches,
			    k->label);
		r = SG_OK;
	}
	free(slots);
	return r;
fail:
	sg_warn("pkcs11: C_GetSlotList failed (CKR 0x%lx)", (unsigned long)rv);
	free(slots);
	return SG_ERR_UNAVAILABLE;
}

static unsigned
probe_mechanisms(p11_ks *k, CK_SLOT_ID slot)
{
	CK_MECHANISM_TYPE *list = NULL;
	CK_ULONG n = 0;
	unsigned m = 0;

	if (k->fn->C_GetMechanismList(slot, NULL, &n) != CKR_OK || n == 0 ||
	    (list = calloc(n, sizeof(*list))) == NULL ||
	    k->fn->C_GetMechanismList(slot, list, &n) != CKR_OK) {
		/* Unknown: let the token say no at generation rather than refuse all. */
		sg_warn("pkcs11: cannot list the mechanisms of token \"%s\"", k->label);
		free(list);
		return ~0u;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		switch (list[i]) {
		case CKM_RSA_PKCS_KEY_PAIR_GEN: m |= MECH_RSA_GEN; break;
		case CKM_EC_KEY_PAIR_GEN: m |= MECH_EC_GEN; break;
		case CKM_EC_EDWARDS_KEY_PAIR_GEN: m |= MECH_ED_GEN; break;
		case CKM_EDDSA: m |= MECH_EDDSA; break;
		case CKM_AES_KEY_GEN: m |= MECH_AES_GEN; break;
		case CKM_AES_GCM: m |= MECH_AES_GCM; break;
		default: break;
		}
	}
	free(list);
	return m;
}

/*
 * Log the application in through session s.  Login state is per application
 * and token, so one login serves every session; "already logged in" is fine.
 */
static int
login(p11_ks *k, CK_SESSION_HANDLE s)
{
	CK_RV rv;

	if (k->pin_rejected)
		return SG_ERR_UNAUTHENTICATED;
	rv = k->fn->C_Login(s, CKU_USER, k->pin, (CK_ULONG)k->pin_len);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return SG_OK;
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_EXPIRED:
	case CKR_PIN_LOCKED:
		k->pin_rejected = 1;
		sg_error("pkcs11: token \"%s\" refused the user PIN (CKR 0x%lx%s); not retrying "
		    "until restart", k->label, (unsigned long)rv,
		    rv == CKR_PIN_LOCKED ? ", PIN locked" : "");
		return SG_ERR_UNAUTHENTICATED;
	default:
		sg_warn("pkcs11: C_Login on token \"%s\" failed (CKR 0x%lx)", k->label,
		    (unsigned long)rv);
		return rv_to_err(rv) == SG_ERR_UNAVAILABLE ? SG_ERR_UNAVAILABLE : SG_ERR_CRYPTO;
	}
}

/* Log in unless session s already has the user logged in. */
static int
ensure_login(p11_ks *k, CK_SESSION_HANDLE s, CK_RV *rvp)
{
	CK_SESSION_INFO si;
	CK_RV rv = k->fn->C_GetSessionInfo(s, &si);
	*rvp = rv;
	if (rv != CKR_OK)
		return rv_to_err(rv);
	if (si.state == CKS_RW_USER_FUNCTIONS || si.state == CKS_RO_USER_FUNCTIONS)
		return SG_OK;
	return login(k, s);
}

/* Find the token, open k->size sessions on it and log in. */
static int
pool_open(p11_ks *k)
{
	int r;
	CK_SLOT_ID slot;
	CK_RV rv;

	if ((r = find_slot(k, &slot)) != SG_OK)
		return r;
	while (k->n_idle < k->size) {
		CK_SESSION_HANDLE s;
		rv = k->fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
		if (rv != CKR_OK) {
			sg_warn("pkcs11: C_OpenSession on token \"%s\" failed (CKR 0x%lx)", k->label,
			    (unsigned long)rv);
			r = rv == CKR_HOST_MEMORY ? SG_ERR_NOMEM : SG_ERR_UNAVAILABLE;
			goto fail;
		}
		k->idle[k->n_idle++] = s;
	}
	if ((r = login(k, k->idle[0])) != SG_OK)
		goto fail;
	k->slot = slot;
	k->mechs = probe_mechanisms(k, slot);
	return SG_OK;
fail:
	for (size_t i = 0; i < k->n_idle; i++)
		(void)k->fn->C_CloseSession(k->idle[i]);
	k->n_idle = 0;
	return r;
}

/*
 * (Re)build the pool: close whatever sessions are idle (stale after a token
 * loss), then open afresh; when the token cannot be found that way and
 * may_reinit, initialise the module again and retry once.  Runs with no
 * session borrowed and every other borrower waiting, so it owns k->idle,
 * k->slot and k->mechs.
 */
static int
pool_build(p11_ks *k, int may_reinit)
{
	int r;

	for (size_t i = 0; i < k->n_idle; i++)
		(void)k->fn->C_CloseSession(k->idle[i]);
	k->n_idle = 0;
	cache_drop(k, NULL);
	if (k->pin_rejected)
		return SG_ERR_UNAVAILABLE;
	r = pool_open(k);
	if (r == SG_ERR_UNAVAILABLE && may_reinit && module_reinit(k->mod) == SG_OK)
		r = pool_open(k);
	return r;
}

/*
 * Borrow a session.  When the pool is broken, the first caller (once every
 * borrowed session is back and the retry interval has passed) rebuilds it;
 * other callers wait for that attempt and fail with SG_ERR_UNAVAILABLE if it
 * failed.
 */
static int
pool_get(p11_ks *k, CK_SESSION_HANDLE *out)
{
	int r = SG_OK;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		if (!k->broken && !k->rebuilding && k->n_idle > 0) {
			*out = k->idle[--k->n_idle];
			k->n_out++;
			break;
		}
		if (!k->broken && !k->rebuilding) {
			pthread_cond_wait(&k->cond, &k->lock);
			continue;
		}
		if (k->rebuilding) {
			unsigned seen = k->builds;
			while (k->rebuilding)
				pthread_cond_wait(&k->cond, &k->lock);
			if (k->broken && k->builds != seen) {
				r = SG_ERR_UNAVAILABLE;
				break;
			}
			continue;
		}
		if (k->last_failed_build != 0 &&
		    sg_mono_ns() - k->last_failed_build < SG_P11_RETRY_NS) {
			r = SG_ERR_UNAVAILABLE;
			break;
		}
		k->rebuilding = 1;
		while (k->n_out > 0)
			pthread_cond_wait(&k->cond, &k->lock);
		pthread_mutex_unlock(&k->lock);
		int br = pool_build(k, 1);
		pthread_mutex_lock(&k->lock);
		k->rebuilding = 0;
		k->builds++;
		if (br == SG_OK) {
			k->broken = 0;
			k->last_failed_build = 0;
			sg_info("pkcs11: token \"%s\" is back; %zu sessions open", k->label, k->size);
		} else {
			k->last_failed_build = sg_mono_ns();
		}
		pthread_cond_broadcast(&k->cond);
		if (br != SG_OK) {
			r = SG_ERR_UNAVAILABLE;
			break;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return r;
}

/*
 * After a failure that may or may not be the token's fault: is the token
 * still there?  Some modules report a vanished token only indirectly
 * (SoftHSM2: objects that are no longer found, CKR_GENERAL_ERROR), so an
 * unexplained failure is checked against the token itself before it is
 * blamed on the request.  Called with a session borrowed (k->slot stable).
 */
static int
token_present(p11_ks *k)
{
	CK_TOKEN_INFO ti;
	char label[SG_P11_LABEL_MAX + 1];

	if (k->fn->C_GetTokenInfo(k->slot, &ti) != CKR_OK || !(ti.flags & CKF_TOKEN_INITIALIZED))
		return 0;
	label_trim(ti.label, label);
	return strcmp(label, k->label) == 0;
}

/*
 * The verdict on an operation that ended with result r after PKCS#11 result
 * rv: 1 when it failed because the token or session is gone.
 */
static int
token_gone(p11_ks *k, int r, CK_RV rv)
{
	if (rv_token_gone(rv))
		return 1;
	switch (r) {
	case SG_OK:
	case SG_ERR_NOMEM:
	case SG_ERR_INVALID_ARGUMENT:
	case SG_ERR_UNSUPPORTED_ALGORITHM:
	case SG_ERR_UNSUPPORTED_HASH:
	case SG_ERR_DIGEST_LENGTH:
	case SG_ERR_UNAUTHENTICATED:
		return 0;
	default:
		return !token_present(k);
	}
}

/* Give a session back; gone: the operation found the token gone (see token_gone). */
static void
pool_put(p11_ks *k, CK_SESSION_HANDLE s, int gone)
{
	pthread_mutex_lock(&k->lock);
	k->n_out--;
	if (gone && !k->broken) {
		k->broken = 1;
		sg_warn("pkcs11: token \"%s\" is unavailable; requests fail with 503 until it "
		    "returns", k->label);
	}
	k->idle[k->n_idle++] = s;
	/* Only borrowers wait on a healthy pool, and one session serves one of them. */
	if (k->broken || k->rebuilding)
		pthread_cond_broadcast(&k->cond);
	else
		pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

/*
 * Swap a borrowed session whose state we cannot reset (an operation left
 * active) for a fresh one.  If none opens, the stale one stays and its next
 * error marks the pool broken.
 */
static void
session_replace(p11_ks *k, CK_SESSION_HANDLE *s)
{
	CK_SESSION_HANDLE fresh;
	if (k->fn->C_OpenSession(k->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	    &fresh) == CKR_OK) {
		(void)k->fn->C_CloseSession(*s);
		*s = fresh;
	}
}

/* ---- handles ---- */

static int
handle_id(const sg_key_ref *ref, const uint8_t **id)
{
	if (ref == NULL || ref->handle == NULL || ref->handle_len != SG_P11_HANDLE_LEN ||
	    ref->handle[0] != SG_P11_HANDLE_V1) {
		sg_error("pkcs11: key version %s has no PKCS#11 handle",
		    ref != NULL && ref->version_id != NULL ? ref->version_id : "?");
		return SG_ERR_KEY_NOT_ACTIVE;
	}
	*id = ref->handle + 1;
	return SG_OK;
}

/* Find objects of class cls with CKA_ID id: up to cap handles into objs. */
static CK_RV
find_objects(p11_ks *k, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const uint8_t *id,
    CK_OBJECT_HANDLE *objs, CK_ULONG cap, CK_ULONG *n)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, SG_P11_ID_LEN },
	};
	CK_RV rv, rv2;

	*n = 0;
	if ((rv = k->fn->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK)
		return rv;
	rv = k->fn->C_FindObjects(s, objs, cap, n);
	rv2 = k->fn->C_FindObjectsFinal(s);
	return rv != CKR_OK ? rv : rv2;
}

static CK_KEY_TYPE
key_type_of(sg_key_alg alg)
{
	switch (alg) {
	case SG_KEY_RSA_2048:
	case SG_KEY_RSA_3072:
	case SG_KEY_RSA_4096:
		return CKK_RSA;
	case SG_KEY_EC_P256:
	case SG_KEY_EC_P384:
	case SG_KEY_EC_P521:
		return CKK_EC;
	case SG_KEY_ED25519:
		return CKK_EC_EDWARDS;
	default:
		return (CK_KEY_TYPE)-1;
	}
}

/*
 * The private key object for id, from the cache or the token.  A key that
 * is not visible is looked for again after making sure we are logged in:
 * private objects are invisible to a session that is not.
 */
static int
find_private(p11_ks *k, CK_SESSION_HANDLE s, const uint8_t *id, sg_key_alg alg,
    CK_OBJECT_HANDLE *obj, CK_RV *rvp)
{
	CK_OBJECT_HANDLE objs[2];
	CK_ULONG n = 0;
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE attr = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	uint64_t epoch;
	CK_RV rv;
	int r;

	if (cache_get(k, id, obj, &epoch))
		return SG_OK;
	for (int pass = 0; pass < 2; pass++) {
		if ((rv = find_objects(k, s, CKO_PRIVATE_KEY, id, objs, 2, &n)) != CKR_OK) {
			*rvp = rv;
			return rv_to_err(rv);
		}
		if (n > 0 || pass == 1)
			break;
		if ((r = ensure_login(k, s, rvp)) != SG_OK)
			return r;
	}
	if (n == 0)
		return SG_ERR_KEY_NOT_ACTIVE;
	if (n > 1) {
		sg_error("pkcs11: token \"%s\" holds several private keys with one CKA_ID", k->label);
		return SG_ERR_INTERNAL;
	}
	if ((rv = k->fn->C_GetAttributeValue(s, objs[0], &attr, 1)) != CKR_OK) {
		*rvp = rv;
		return rv_to_err(rv);
	}
	if (kt != key_type_of(alg)) {
		sg_error("pkcs11: the token's key for a %s version has key type 0x%lx",
		    sg_key_alg_name(alg), (unsigned long)kt);
		return SG_ERR_INTERNAL;
	}
	cache_put(k, id, objs[0], epoch);
	*obj = objs[0];
	return SG_OK;
}

/* ---- key generation ---- */

/* DER OIDs for CKA_EC_PARAMS. */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };

/*
 * CKA_EC_POINT is a DER OCTET STRING around the point, though some tokens
 * return the bare point; want is the length of the bare point.
 */
static int
ec_point_unwrap(const uint8_t *v, size_t len, size_t want, const uint8_t **pt)
{
	size_t hdr, body;

	if (len >= 2 && v[0] == 0x04) {
		if (v[1] < 0x80) {
			hdr = 2;
			body = v[1];
		} else if (v[1] == 0x81 && len >= 3) {
			hdr = 3;
			body = v[2];
		} else {
			hdr = 0;
			body = 0;
		}
		if (hdr != 0 && hdr + body == len && body == want) {
			*pt = v + hdr;
			return SG_OK;
		}
	}
	if (len == want) {
		*pt = v;
		return SG_OK;
	}
	return SG_ERR_BAD_ENCODING;
}

/* SubjectPublicKeyInfo DER from an OpenSSL parameter set. */
static int
spki_from_params(const char *type, OSSL_PARAM_BLD *bld, uint8_t **out, size_t *outlen)
{
	int r = SG_ERR_CRYPTO, n;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	unsigned char *der = NULL, *p;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    (n = i2d_PUBKEY(pkey, NULL)) <= 0)
		goto out;
	if ((der = malloc((size_t)n)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	p = der;
	if (i2d_PUBKEY(pkey, &p) != n)
		goto out;
	*out = der;
	*outlen = (size_t)n;
	der = NULL;
	r = SG_OK;
out:
	free(der);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	if (r != SG_OK)
		ERR_clear_error();
	return r;
}

/* Read an attribute of unknown length into a malloc'd buffer. */
static CK_RV
get_attr(p11_ks *k, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
    uint8_t **out, size_t *outlen)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	if ((rv = k->fn->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen == 0 ||
	    a.ulValueLen > 16384)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if ((a.pValue = malloc(a.ulValueLen)) == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = k->fn->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*out = a.pValue;
	*outlen = a.ulValueLen;
	return CKR_OK;
}

/* Read the public half of a generated key back and encode it as SPKI. */
static int
public_spki(p11_ks *k, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, sg_key_alg alg,
    uint8_t **spki, size_t *spki_len, CK_RV *rvp)
{
	int r = SG_ERR_CRYPTO;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	const uint8_t *pt;
	CK_RV rv;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return SG_ERR_NOMEM;
	if (key_type_of(alg) == CKK_RSA) {
		if ((rv = get_attr(k, s, pub, CKA_MODULUS, &a, &alen)) != CKR_OK ||
		    (rv = get_attr(k, s, pub, CKA_PUBLIC_EXPONENT, &b, &blen)) != CKR_OK) {
			*rvp = rv;
			r = rv_to_err(rv);
			goto out;
		}
		if ((n = BN_bin2bn(a, (int)alen, NULL)) == NULL ||
		    (e = BN_bin2bn(b, (int)blen, NULL)) == NULL)
			goto out;
		if (BN_num_bits(n) != sg_key_alg_bits(alg)) {
			sg_error("pkcs11: token made a %d-bit modulus for %s", BN_num_bits(n),
			    sg_key_alg_name(alg));
			goto out;
		}
		if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
			goto out;
		r = spki_from_params("RSA", bld, spki, spki_len);
		goto out;
	}
	if ((rv = get_attr(k, s, pub, CKA_EC_POINT, &a, &alen)) != CKR_OK) {
		*rvp = rv;
		r = rv_to_err(rv);
		goto out;
	}
	if (alg == SG_KEY_ED25519) {
		if ((r = ec_point_unwrap(a, alen, 32, &pt)) != SG_OK)
			goto out;
		if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 32) != 1) {
			r = SG_ERR_CRYPTO;
			goto out;
		}
		r = spki_from_params("ED25519", bld, spki, spki_len);
		goto out;
	}
	size_t field = sg_key_alg_ec_field_len(alg);
	const char *group = alg == SG_KEY_EC_P256 ? "prime256v1" :
	    alg == SG_KEY_EC_P384 ? "secp384r1" : "secp521r1";
	if ((r = ec_point_unwrap(a, alen, 1 + 2 * field, &pt)) != SG_OK)
		goto out;
	if (pt[0] != 0x04 ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * field) != 1) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	r = spki_from_params("EC", bld, spki, spki_len);
out:
	if (r == SG_ERR_BAD_ENCODING || r == SG_ERR_CRYPTO)
		sg_error("pkcs11: cannot read the public key of a new %s key from token \"%s\"",
		    sg_key_alg_name(alg), k->label);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(a);
	free(b);
	return r;
}

static int
p11_generate(sg_keystore *ks, const char *version_id, sg_key_alg alg,
    uint8_t **handle, size_t *handle_len, uint8_t **spki, size_t *spki_len)
{
	p11_ks *k = ks->impl;
	int r;
	CK_RV rv = CKR_OK;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = 0;
	CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM mech = { 0, NULL, 0 };
	const uint8_t *ec_params = NULL;
	size_t ec_params_len = 0;
	uint8_t h[SG_P11_HANDLE_LEN], *hout = NULL, *pub_der = NULL;
	size_t pub_der_len = 0;
	unsigned need;
	int gone;

	if (version_id == NULL || handle == NULL || handle_len == NULL || spki == NULL ||
	    spki_len == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	switch (alg) {
	case SG_KEY_RSA_2048:
	case SG_KEY_RSA_3072:
	case SG_KEY_RSA_4096:
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		bits = (CK_ULONG)sg_key_alg_bits(alg);
		need = MECH_RSA_GEN;
		break;
	case SG_KEY_EC_P256:
		ec_params = oid_p256;
		ec_params_len = sizeof(oid_p256);
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		need = MECH_EC_GEN;
		break;
	case SG_KEY_EC_P384:
		ec_params = oid_p384;
		ec_params_len = sizeof(oid_p384);
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		need = MECH_EC_GEN;
		break;
	case SG_KEY_EC_P521:
		ec_params = oid_p521;
		ec_params_len = sizeof(oid_p521);
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		need = MECH_EC_GEN;
		break;
	case SG_KEY_ED25519:
		ec_params = oid_ed25519;
		ec_params_len = sizeof(oid_ed25519);
		mech.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
		need = MECH_ED_GEN | MECH_EDDSA;
		break;
	default:
		/* ML-DSA and the composite: no token speaks them yet (see docs/hsm.md). */
		sg_warn("pkcs11: %s keys cannot be kept in a PKCS#11 token",
		    sg_key_alg_name(alg) != NULL ? sg_key_alg_name(alg) : "unknown");
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	}

	size_t label_len = strlen(version_id);
	h[0] = SG_P11_HANDLE_V1;
	if (RAND_bytes(h + 1, SG_P11_ID_LEN) != 1)
		return SG_ERR_CRYPTO;
	CK_ATTRIBUTE pub_tmpl[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_ENCRYPT, &no, sizeof(no) },
		{ CKA_WRAP, &no, sizeof(no) },
		{ CKA_ID, h + 1, SG_P11_ID_LEN },
		{ CKA_LABEL, (void *)version_id, label_len },
		/* the last one or two depend on the family */
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent) },
	};
	CK_ULONG pub_n = sizeof(pub_tmpl) / sizeof(pub_tmpl[0]);
	if (ec_params != NULL) {
		pub_tmpl[pub_n - 2].type = CKA_EC_PARAMS;
		pub_tmpl[pub_n - 2].pValue = (void *)ec_params;
		pub_tmpl[pub_n - 2].ulValueLen = ec_params_len;
		pub_n--;
	}
	CK_ATTRIBUTE priv_tmpl[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		{ CKA_DERIVE, &no, sizeof(no) },
		{ CKA_ID, h + 1, SG_P11_ID_LEN },
		{ CKA_LABEL, (void *)version_id, label_len },
	};
	CK_ULONG priv_n = sizeof(priv_tmpl) / sizeof(priv_tmpl[0]);

	if ((r = pool_get(k, &s)) != SG_OK)
		return r;
	if ((k->mechs & need) != need) {
		sg_warn("pkcs11: token \"%s\" does not offer %s key generation and signing",
		    k->label, sg_key_alg_name(alg));
		r = SG_ERR_UNSUPPORTED_ALGORITHM;
		goto out;
	}
	for (int relogged = 0;; relogged = 1) {
		rv = k->fn->C_GenerateKeyPair(s, &mech, pub_tmpl, pub_n, priv_tmpl, priv_n,
		    &pub, &priv);
		if (rv == CKR_USER_NOT_LOGGED_IN && !relogged && login(k, s) == SG_OK)
			continue;
		break;
	}
	if (rv != CKR_OK) {
		sg_warn("pkcs11: C_GenerateKeyPair for %s on token \"%s\" failed (CKR 0x%lx)",
		    sg_key_alg_name(alg), k->label, (unsigned long)rv);
		r = rv_to_err(rv);
		goto out;
	}
	if ((r = public_spki(k, s, pub, alg, &pub_der, &pub_der_len, &rv)) != SG_OK)
		goto out;
	if ((hout = malloc(sizeof(h))) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	memcpy(hout, h, sizeof(h));
	*handle = hout;
	*handle_len = sizeof(h);
	*spki = pub_der;
	*spki_len = pub_der_len;
	hout = pub_der = NULL;
	r = SG_OK;
out:
	if (r != SG_OK) {
		/* A key nobody can name is worse than none. */
		if (priv != CK_INVALID_HANDLE)
			(void)k->fn->C_DestroyObject(s, priv);
		if (pub != CK_INVALID_HANDLE)
			(void)k->fn->C_DestroyObject(s, pub);
	}
	gone = token_gone(k, r, rv);
	if (gone)
		r = SG_ERR_UNAVAILABLE;
	pool_put(k, s, gone);
	free(pub_der);
	return r;
}

/* ---- signing ---- */

/*
 * DigestInfo prefixes (RFC 8017 §9.2 note 1; the SHA-3 ones from the NIST
 * OIDs 2.16.840.1.101.3.4.2.8-10, with NULL parameters as OpenSSL writes
 * them): the DER up to and including the OCTET STRING header of the digest.
 */
static const uint8_t di_md5[] = { 0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48,
	0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10 };
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03,
	0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
#define DI_NIST(total, last, len) { 0x30, total, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, \
	0x01, 0x65, 0x03, 0x04, 0x02, last, 0x05, 0x00, 0x04, len }
static const uint8_t di_sha256[] = DI_NIST(0x31, 0x01, 0x20);
static const uint8_t di_sha384[] = DI_NIST(0x41, 0x02, 0x30);
static const uint8_t di_sha512[] = DI_NIST(0x51, 0x03, 0x40);
static const uint8_t di_sha3_256[] = DI_NIST(0x31, 0x08, 0x20);
static const uint8_t di_sha3_384[] = DI_NIST(0x41, 0x09, 0x30);
static const uint8_t di_sha3_512[] = DI_NIST(0x51, 0x0a, 0x40);

static int
digest_info_prefix(sg_hash_alg h, const uint8_t **p, size_t *n)
{
	switch (h) {
	case SG_HASH_MD5: *p = di_md5; *n = sizeof(di_md5); break;
	case SG_HASH_SHA1: *p = di_sha1; *n = sizeof(di_sha1); break;
	case SG_HASH_SHA256: *p = di_sha256; *n = sizeof(di_sha256); break;
	case SG_HASH_SHA384: *p = di_sha384; *n = sizeof(di_sha384); break;
	case SG_HASH_SHA512: *p = di_sha512; *n = sizeof(di_sha512); break;
	case SG_HASH_SHA3_256: *p = di_sha3_256; *n = sizeof(di_sha3_256); break;
	case SG_HASH_SHA3_384: *p = di_sha3_384; *n = sizeof(di_sha3_384); break;
	case SG_HASH_SHA3_512: *p = di_sha3_512; *n = sizeof(di_sha3_512); break;
	default: return SG_ERR_UNSUPPORTED_HASH;
	}
	return SG_OK;
}

static int
pss_params(sg_hash_alg h, int salt_len, CK_RSA_PKCS_PSS_PARAMS *pp)
{
	switch (h) {
	case SG_HASH_SHA1: pp->hashAlg = CKM_SHA_1; pp->mgf = CKG_MGF1_SHA1; break;
	case SG_HASH_SHA256: pp->hashAlg = CKM_SHA256; pp->mgf = CKG_MGF1_SHA256; break;
	case SG_HASH_SHA384: pp->hashAlg = CKM_SHA384; pp->mgf = CKG_MGF1_SHA384; break;
	case SG_HASH_SHA512: pp->hashAlg = CKM_SHA512; pp->mgf = CKG_MGF1_SHA512; break;
	case SG_HASH_SHA3_256: pp->hashAlg = CKM_SHA3_256; pp->mgf = CKG_MGF1_SHA3_256; break;
	case SG_HASH_SHA3_384: pp->hashAlg = CKM_SHA3_384; pp->mgf = CKG_MGF1_SHA3_384; break;
	case SG_HASH_SHA3_512: pp->hashAlg = CKM_SHA3_512; pp->mgf = CKG_MGF1_SHA3_512; break;
	default: return SG_ERR_UNSUPPORTED_HASH;   /* PKCS#11 has no MGF1 over MD5 */
	}
	pp->sLen = salt_len < 0 ? (CK_ULONG)sg_hash_len(h) : (CK_ULONG)salt_len;
	return SG_OK;
}

static int
p11_sign(sg_keystore *ks, const sg_key_ref *ref, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen)
{
	p11_ks *k = ks->impl;
	int r;
	const uint8_t *id, *prefix = NULL;
	size_t prefix_len = 0;
	uint8_t data[32 + SG_MAX_DIGEST];
	CK_ULONG data_len;
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
	CK_RV rv = CKR_OK;
	uint8_t buf[SG_P11_SIG_MAX], *big = NULL, *out = NULL;
	CK_ULONG out_len = sizeof(buf);
	size_t field;

	if (params == NULL || digest == NULL || sig == NULL || siglen == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if ((r = handle_id(ref, &id)) != SG_OK)
		return r;
	/* A message (Ed25519 only, see sg_sign_params) goes to the token as it is. */
	if (params->message ? params->scheme != SG_SCHEME_ED25519 || digest_len > SG_MAX_MESSAGE :
	    digest_len != sg_hash_len(params->hash) || digest_len > SG_MAX_DIGEST)
		return params->message ? SG_ERR_UNSUPPORTED_ALGORITHM : SG_ERR_DIGEST_LENGTH;
	switch (params->scheme) {
	case SG_SCHEME_RSA_PKCS1:
		if ((r = digest_info_prefix(params->hash, &prefix, &prefix_len)) != SG_OK)
			return r;
		mech.mechanism = CKM_RSA_PKCS;
		break;
	case SG_SCHEME_RSA_PSS:
		if ((r = pss_params(params->hash, params->pss_salt_len, &pss)) != SG_OK)
			return r;
		mech.mechanism = CKM_RSA_PKCS_PSS;
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
		break;
	case SG_SCHEME_ECDSA:
		mech.mechanism = CKM_ECDSA;
		break;
	case SG_SCHEME_ED25519:
		mech.mechanism = CKM_EDDSA;
		break;
	default:
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	}
	if (key_type_of(ref->alg) == (CK_KEY_TYPE)-1)
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	const uint8_t *input = data;
	if (params->message) {
		input = digest;
		data_len = (CK_ULONG)digest_len;
	} else {
		if (prefix_len > 0)
			memcpy(data, prefix, prefix_len);
		memcpy(data + prefix_len, digest, digest_len);
		data_len = (CK_ULONG)(prefix_len + digest_len);
	}

	if ((r = pool_get(k, &s)) != SG_OK)
		return r;
	int relogged = 0, refound = 0, gone;
	for (;;) {
		rv = CKR_OK;
		if ((r = find_private(k, s, id, ref->alg, &obj, &rv)) != SG_OK)
			goto out;
		rv = k->fn->C_SignInit(s, &mech, obj);
		if (rv == CKR_USER_NOT_LOGGED_IN && !relogged) {
			relogged = 1;
			if ((r = login(k, s)) != SG_OK)
				goto out;
			continue;
		}
		if ((rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID) && !refound) {
			refound = 1;
			cache_drop(k, id);
			continue;
		}
		break;
	}
	if (rv == CKR_OK) {
		rv = k->fn->C_Sign(s, (CK_BYTE_PTR)input, data_len, buf, &out_len);
		if (rv == CKR_BUFFER_TOO_SMALL && out_len > sizeof(buf) && out_len <= 65536 &&
		    (big = malloc(out_len)) != NULL)
			rv = k->fn->C_Sign(s, (CK_BYTE_PTR)input, data_len, big, &out_len);
		/* Still too small: the operation stays active and would block the session. */
		if (rv == CKR_BUFFER_TOO_SMALL)
			session_replace(k, &s);
	}
	if (rv != CKR_OK) {
		r = rv_to_err(rv);
		if (params->scheme == SG_SCHEME_RSA_PSS &&
		    (rv == CKR_MECHANISM_PARAM_INVALID || rv == CKR_ARGUMENTS_BAD))
			r = SG_ERR_UNSUPPORTED_HASH;  /* the token has no MGF1 for this hash */
		if (!rv_token_gone(rv))
			sg_warn("pkcs11: signing with %s on token \"%s\" failed (CKR 0x%lx)",
			    ref->version_id, k->label, (unsigned long)rv);
		goto out;
	}
	const uint8_t *res = big != NULL ? big : buf;
	if (params->scheme == SG_SCHEME_ECDSA) {
		/* CKM_ECDSA gives r||s, each as wide as the field. */
		field = sg_key_alg_ec_field_len(ref->alg);
		if (out_len != 2 * field) {
			sg_error("pkcs11: token \"%s\" returned a %lu-byte ECDSA signature for %s",
			    k->label, (unsigned long)out_len, sg_key_alg_name(ref->alg));
			r = SG_ERR_CRYPTO;
			goto out;
		}
		if (params->format != SG_FORMAT_P1363) {
			r = sg_ecdsa_p1363_to_der(res, out_len, sig, siglen);
			goto out;
		}
	}
	if ((out = malloc(out_len)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	memcpy(out, res, out_len);
	*sig = out;
	*siglen = out_len;
	r = SG_OK;
out:
	gone = token_gone(k, r, rv);
	if (gone)
		r = SG_ERR_UNAVAILABLE;
	pool_put(k, s, gone);
	free(big);
	return r;
}

/* ---- destroy and close ---- */

static int
p11_destroy(sg_keystore *ks, const sg_key_ref *ref)
{
	p11_ks *k = ks->impl;
	static const CK_OBJECT_CLASS classes[] = { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY };
	const uint8_t *id;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE objs[8];
	CK_ULONG n;
	CK_RV rv = CKR_OK;
	int r, gone;
	size_t destroyed = 0;

	if ((r = handle_id(ref, &id)) != SG_OK)
		return r;
	cache_drop(k, id);
	if ((r = pool_get(k, &s)) != SG_OK)
		return r;
	/* Private objects are invisible unless logged in: "none found" must mean none. */
	if ((r = ensure_login(k, s, &rv)) != SG_OK)
		goto out;
	for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
		int rounds = 0;
		do {
			if ((rv = find_objects(k, s, classes[c], id, objs, 8, &n)) != CKR_OK) {
				r = rv_to_err(rv);
				goto out;
			}
			for (CK_ULONG i = 0; i < n; i++) {
				rv = k->fn->C_DestroyObject(s, objs[i]);
				if (rv != CKR_OK && rv != CKR_OBJECT_HANDLE_INVALID) {
					sg_warn("pkcs11: C_DestroyObject for %s on token \"%s\" "
					    "failed (CKR 0x%lx)", ref->version_id, k->label,
					    (unsigned long)rv);
					r = rv_to_err(rv);
					goto out;
				}
				destroyed++;
			}
		} while (n == 8 && ++rounds < 64);  /* bounded even if a token misbehaves */
	}
	rv = CKR_OK;
	cache_drop(k, id);
	r = SG_OK;
out:
	/* Nothing to destroy is success only if the token is really there to ask. */
	gone = token_gone(k, r == SG_OK && destroyed == 0 ? SG_ERR_KEY_NOT_ACTIVE : r, rv);
	if (gone)
		r = SG_ERR_UNAVAILABLE;
	pool_put(k, s, gone);
	return r;
}

static void
p11_free(p11_ks *k)
{
	if (k == NULL)
		return;
	if (k->fn != NULL) {
		for (size_t i = 0; i < k->n_idle; i++)
			(void)k->fn->C_CloseSession(k->idle[i]);
	}
	cache_drop(k, NULL);
	module_release(k->mod);
	sg_free_secret(k->pin, k->pin_len + 1);
	free(k->idle);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->cache_lock);
	free(k);
}

/*
 * Drop the caller's reference.  With the last one (sealers hold their own)
 * every operation must have returned; sessions close and the module is
 * released.
 */
static void
p11_close(sg_keystore *ks)
{
	sg_p11_release(ks);
}

static const sg_keystore_ops p11_ops = {
	.storage = "HSM",
	.generate = p11_generate,
	.sign = p11_sign,
	.destroy = p11_destroy,
	.close = p11_close,
};

int
sg_keystore_pkcs11_open(const sg_pkcs11_config *cfg, sg_keystore **out)
{
	int r;
	p11_ks *k = NULL;
	sg_keystore *ks = NULL;
	size_t pin_len;

	if (cfg == NULL || out == NULL || cfg->module == NULL || cfg->module[0] == '\0' ||
	    cfg->token_label == NULL || cfg->token_label[0] == '\0' || cfg->pin == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pin_len = cfg->pin_len != 0 ? cfg->pin_len : strlen(cfg->pin);
	if (pin_len == 0 || pin_len > SG_P11_PIN_MAX) {
		sg_error("pkcs11: the PIN is empty or longer than %d bytes", SG_P11_PIN_MAX);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (strlen(cfg->token_label) > SG_P11_LABEL_MAX) {
		sg_error("pkcs11: token label \"%s\" is longer than %d bytes", cfg->token_label,
		    SG_P11_LABEL_MAX);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (cfg->pool_size > SG_PKCS11_POOL_MAX) {
		sg_error("pkcs11: pool size %u is over %d", cfg->pool_size, SG_PKCS11_POOL_MAX);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL || (ks = calloc(1, sizeof(*ks))) == NULL) {
		free(k);
		return SG_ERR_NOMEM;
	}
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
	pthread_mutex_init(&k->cache_lock, NULL);
	sg_strlcpy(k->label, cfg->token_label, sizeof(k->label));
	k->refs = 1;
	k->size = cfg->pool_size != 0 ? cfg->pool_size : SG_PKCS11_POOL_DEFAULT;
	if ((k->pin = malloc(pin_len + 1)) == NULL ||
	    (k->idle = calloc(k->size, sizeof(*k->idle))) == NULL) {
		r = SG_ERR_NOMEM;
		goto fail;
	}
	memcpy(k->pin, cfg->pin, pin_len);
	k->pin[pin_len] = '\0';
	k->pin_len = pin_len;
	if ((r = module_acquire(cfg->module, &k->mod)) != SG_OK)
		goto fail;
	k->fn = k->mod->fn;
	if ((r = pool_build(k, 0)) != SG_OK) {
		sg_error("pkcs11: cannot open token \"%s\" in %s: %s", k->label, cfg->module,
		    sg_err_str(r));
		goto fail;
	}
	sg_info("pkcs11: token \"%s\" open in %s with %zu sessions%s", k->label, cfg->module,
	    k->size, (k->mechs & (MECH_ED_GEN | MECH_EDDSA)) == (MECH_ED_GEN | MECH_EDDSA) ?
	    "" : " (no Ed25519)");
	ks->ops = &p11_ops;
	ks->impl = k;
	*out = ks;
	return SG_OK;
fail:
	p11_free(k);
	free(ks);
	return r;
}

/* ---- the AES master key and AES-GCM for the sealer (pkcs11_int.h) ---- */

int
sg_p11_is_pkcs11(const sg_keystore *ks)
{
	return ks != NULL && ks->ops == &p11_ops;
}

void
sg_p11_retain(sg_keystore *ks)
{
	p11_ks *k = ks->impl;
	__atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
}

void
sg_p11_release(sg_keystore *ks)
{
	if (ks == NULL)
		return;
	p11_ks *k = ks->impl;
	if (__atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	p11_free(k);
	free(ks);
}

const char *
sg_p11_token_label(const sg_keystore *ks)
{
	const p11_ks *k = ks->impl;
	return k->label;
}

/* Results of an AES-GCM call that mean "does not decrypt / bad input", not a missing key. */
static int
gcm_rv_to_err(CK_RV rv)
{
	switch (rv) {
	case CKR_ENCRYPTED_DATA_INVALID:
	case CKR_ENCRYPTED_DATA_LEN_RANGE:
	case CKR_DATA_LEN_RANGE:
	case CKR_DATA_INVALID:
	case CKR_GENERAL_ERROR:    /* SoftHSM2's answer to a tag that does not verify */
	case CKR_FUNCTION_FAILED:
		return SG_ERR_CRYPTO;
	default:
		return rv_to_err(rv);
	}
}

/* The AES secret key whose CKA_ID is id, from the cache or the token (as find_private). */
static int
find_secret(p11_ks *k, CK_SESSION_HANDLE s, const uint8_t *id, size_t id_len,
    CK_OBJECT_HANDLE *obj, CK_RV *rvp)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_ID, (void *)id, (CK_ULONG)id_len },
	};
	CK_OBJECT_HANDLE objs[2];
	CK_ULONG n = 0;
	uint64_t epoch;
	CK_RV rv, rv2;
	int r;

	if (secret_get(k, id, id_len, obj, &epoch))
		return SG_OK;
	for (int pass = 0; pass < 2; pass++) {
		if ((rv = k->fn->C_FindObjectsInit(s, tmpl, 3)) == CKR_OK) {
			rv = k->fn->C_FindObjects(s, objs, 2, &n);
			rv2 = k->fn->C_FindObjectsFinal(s);
			if (rv == CKR_OK)
				rv = rv2;
		}
		if (rv != CKR_OK) {
			*rvp = rv;
			return rv_to_err(rv);
		}
		if (n > 0 || pass == 1)
			break;
		if ((r = ensure_login(k, s, rvp)) != SG_OK)
			return r;
	}
	if (n == 0)
		return SG_ERR_KEY_NOT_ACTIVE;
	if (n > 1) {
		sg_error("pkcs11: token \"%s\" holds several AES keys with one CKA_ID", k->label);
		return SG_ERR_INTERNAL;
	}
	secret_put(k, id, id_len, objs[0], epoch);
	*obj = objs[0];
	return SG_OK;
}

/* Up to cap AES secret keys labelled label. */
static CK_RV
find_labelled(p11_ks *k, CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *objs,
    CK_ULONG cap, CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) },
	};
	CK_RV rv, rv2;

	*n = 0;
	if ((rv = k->fn->C_FindObjectsInit(s, tmpl, 3)) != CKR_OK)
		return rv;
	rv = k->fn->C_FindObjects(s, objs, cap, n);
	rv2 = k->fn->C_FindObjectsFinal(s);
	return rv != CKR_OK ? rv : rv2;
}

/* A new AES-256 master key: a token object that never leaves the token. */
static CK_RV
generate_master(p11_ks *k, CK_SESSION_HANDLE s, const char *label)
{
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
	uint8_t id[SG_P11_SECRET_ID_LEN];
	CK_RV rv;

	if (RAND_bytes(id, sizeof(id)) != 1)
		return CKR_FUNCTION_FAILED;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &yes, sizeof(yes) },
		{ CKA_WRAP, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		{ CKA_SIGN, &no, sizeof(no) },
		{ CKA_VERIFY, &no, sizeof(no) },
		{ CKA_DERIVE, &no, sizeof(no) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) },
	};
	for (int relogged = 0;; relogged = 1) {
		rv = k->fn->C_GenerateKey(s, &mech, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &obj);
		if (rv == CKR_USER_NOT_LOGGED_IN && !relogged && login(k, s) == SG_OK)
			continue;
		break;
	}
	if (rv == CKR_OK)
		sg_info("pkcs11: generated the AES-256 master key \"%s\" in token \"%s\"", label,
		    k->label);
	else
		sg_warn("pkcs11: C_GenerateKey of the AES master key \"%s\" in token \"%s\" failed "
		    "(CKR 0x%lx)", label, k->label, (unsigned long)rv);
	return rv;
}

/* Is the labelled key fit to be the master key?  SG_OK or a logged refusal. */
static int
check_master(p11_ks *k, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, const char *label,
    CK_RV *rvp)
{
	CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, enc = CK_FALSE, dec = CK_FALSE;
	CK_ULONG len = 0;
	CK_ATTRIBUTE a[] = {
		{ CKA_SENSITIVE, &sensitive, sizeof(sensitive) },
		{ CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
		{ CKA_ENCRYPT, &enc, sizeof(enc) },
		{ CKA_DECRYPT, &dec, sizeof(dec) },
		{ CKA_VALUE_LEN, &len, sizeof(len) },
	};
	CK_RV rv = k->fn->C_GetAttributeValue(s, obj, a, sizeof(a) / sizeof(a[0]));

	if (rv != CKR_OK) {
		*rvp = rv;
		return rv_to_err(rv);
	}
	if (sensitive != CK_TRUE || extractable != CK_FALSE || enc != CK_TRUE || dec != CK_TRUE ||
	    len != 32) {
		sg_error("pkcs11: the AES key \"%s\" in token \"%s\" is not fit to be the master key "
		    "(needs sensitive, not extractable, encrypt and decrypt, 32 bytes; has "
		    "sensitive=%d extractable=%d encrypt=%d decrypt=%d %lu bytes)", label, k->label,
		    sensitive, extractable, enc, dec, (unsigned long)len);
		return SG_ERR_PERMISSION_DENIED;
	}
	return SG_OK;
}

int
sg_p11_master_key(sg_keystore *ks, const char *label, int create, uint8_t *id, size_t *id_len)
{
	p11_ks *k = ks->impl;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE objs[8], best = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	CK_RV rv = CKR_OK;
	uint8_t *cur = NULL, best_id[SG_P11_SECRET_ID_MAX];
	size_t cur_len = 0, best_len = 0;
	int r, gone;

	if (label == NULL || label[0] == '\0' || id == NULL || id_len == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if ((r = pool_get(k, &s)) != SG_OK)
		return r;
	if ((k->mechs & (MECH_AES_GEN | MECH_AES_GCM)) != (MECH_AES_GEN | MECH_AES_GCM)) {
		sg_error("pkcs11: token \"%s\" does not offer CKM_AES_KEY_GEN and CKM_AES_GCM, "
		    "which the HSM master key needs", k->label);
		r = SG_ERR_UNSUPPORTED_ALGORITHM;
		goto out;
	}
	/* Private objects are invisible unless logged in: "none found" must mean none. */
	if ((r = ensure_login(k, s, &rv)) != SG_OK)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		if ((rv = find_labelled(k, s, label, objs, 8, &n)) != CKR_OK) {
			r = rv_to_err(rv);
			goto out;
		}
		if (n > 0 || !create || pass == 1)
			break;
		/*
		 * Another process may generate at the same moment: both keys then
		 * exist, both agree below on the smaller CKA_ID for new seals, and
		 * any blob sealed under the other still opens (it names its key).
		 */
		if ((rv = generate_master(k, s, label)) != CKR_OK) {
			r = rv_to_err(rv);
			goto out;
		}
	}
	rv = CKR_OK;
	if (n == 0) {
		r = SG_ERR_NOT_FOUND;
		goto out;
	}
	if (n > 1)
		sg_warn("pkcs11: %lu AES keys in token \"%s\" are labelled \"%s\"; new keys are "
		    "sealed under the one with the smallest CKA_ID", (unsigned long)n, k->label, label);
	for (CK_ULONG i = 0; i < n; i++) {
		free(cur);
		cur = NULL;
		if ((rv = get_attr(k, s, objs[i], CKA_ID, &cur, &cur_len)) != CKR_OK) {
			if (rv == CKR_ATTRIBUTE_VALUE_INVALID)  /* empty or absurdly long */
				cur_len = 0;
			else {
				r = rv_to_err(rv);
				goto out;
			}
		}
		rv = CKR_OK;
		if (cur_len == 0 || cur_len > SG_P11_SECRET_ID_MAX) {
			sg_error("pkcs11: the AES key \"%s\" in token \"%s\" has no CKA_ID of 1 to %d "
			    "bytes; give it one or let signetd make its own key", label, k->label,
			    SG_P11_SECRET_ID_MAX);
			r = SG_ERR_PERMISSION_DENIED;
			goto out;
		}
		if (best == CK_INVALID_HANDLE || cur_len < best_len ||
		    (cur_len == best_len && memcmp(cur, best_id, cur_len) < 0)) {
			best = objs[i];
			memcpy(best_id, cur, cur_len);
			best_len = cur_len;
		}
	}
	if ((r = check_master(k, s, best, label, &rv)) != SG_OK)
		goto out;
	memcpy(id, best_id, best_len);
	*id_len = best_len;
	r = SG_OK;
out:
	free(cur);
	gone = token_gone(k, r == SG_ERR_NOT_FOUND ? SG_ERR_KEY_NOT_ACTIVE : r, rv);
	if (gone)
		r = SG_ERR_UNAVAILABLE;
	pool_put(k, s, gone);
	return r;
}

int
sg_p11_aes_gcm(sg_keystore *ks, int encrypt, const uint8_t *key_id, size_t key_id_len,
    const uint8_t iv[SG_P11_GCM_NONCE], const uint8_t *aad, size_t aad_len,
    const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	p11_ks *k = ks->impl;
	CK_GCM_PARAMS gp;
	CK_MECHANISM mech = { CKM_AES_GCM, &gp, sizeof(gp) };
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
	CK_ULONG got;
	CK_RV rv = CKR_OK;
	int r, gone, relogged = 0, refound = 0;

	if (key_id == NULL || key_id_len == 0 || key_id_len > SG_P11_SECRET_ID_MAX ||
	    iv == NULL || (aad == NULL && aad_len > 0) || in == NULL || out == NULL ||
	    out_len == NULL || in_len > SG_SEALER_MAX_PLAIN + SG_P11_GCM_TAG ||
	    (!encrypt && in_len < SG_P11_GCM_TAG) ||
	    out_cap < (encrypt ? in_len + SG_P11_GCM_TAG : in_len))
		return SG_ERR_INVALID_ARGUMENT;
	memset(&gp, 0, sizeof(gp));
	gp.pIv = (CK_BYTE_PTR)iv;
	gp.ulIvLen = SG_P11_GCM_NONCE;
	gp.ulIvBits = SG_P11_GCM_NONCE * 8;
	gp.pAAD = (CK_BYTE_PTR)aad;
	gp.ulAADLen = (CK_ULONG)aad_len;
	gp.ulTagBits = SG_P11_GCM_TAG * 8;

	if ((r = pool_get(k, &s)) != SG_OK)
		return r;
	if (!(k->mechs & MECH_AES_GCM)) {
		sg_error("pkcs11: token \"%s\" does not offer CKM_AES_GCM", k->label);
		r = SG_ERR_UNSUPPORTED_ALGORITHM;
		goto out;
	}
	for (;;) {
		rv = CKR_OK;
		if ((r = find_secret(k, s, key_id, key_id_len, &obj, &rv)) != SG_OK)
			goto out;
		rv = encrypt ? k->fn->C_EncryptInit(s, &mech, obj) :
		    k->fn->C_DecryptInit(s, &mech, obj);
		if (rv == CKR_USER_NOT_LOGGED_IN && !relogged) {
			relogged = 1;
			if ((r = login(k, s)) != SG_OK)
				goto out;
			continue;
		}
		if ((rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID) && !refound) {
			refound = 1;
			secret_drop(k, key_id, key_id_len);
			continue;
		}
		break;
	}
	if (rv == CKR_OK) {
		got = (CK_ULONG)out_cap;
		rv = encrypt ? k->fn->C_Encrypt(s, (CK_BYTE_PTR)in, (CK_ULONG)in_len, out, &got) :
		    k->fn->C_Decrypt(s, (CK_BYTE_PTR)in, (CK_ULONG)in_len, out, &got);
		/* The operation stays active after BUFFER_TOO_SMALL and would block the session. */
		if (rv == CKR_BUFFER_TOO_SMALL)
			session_replace(k, &s);
		if (rv == CKR_OK && got > out_cap)
			rv = CKR_GENERAL_ERROR;
	}
	if (rv != CKR_OK) {
		r = gcm_rv_to_err(rv);
		if (!rv_token_gone(rv) && r != SG_ERR_CRYPTO)
			sg_warn("pkcs11: AES-GCM %s on token \"%s\" failed (CKR 0x%lx)",
			    encrypt ? "encryption" : "decryption", k->label, (unsigned long)rv);
		goto out;
	}
	*out_len = got;
	r = SG_OK;
out:
	gone = token_gone(k, r, rv);
	if (gone)
		r = SG_ERR_UNAVAILABLE;
	else if (r == SG_ERR_KEY_NOT_ACTIVE)
		sg_error("pkcs11: token \"%s\" has no AES key with the CKA_ID a sealed key names",
		    k->label);
	pool_put(k, s, gone);
	return r;
}
