/*
 * module.c - the Cryptoki entry points of libsignet-pkcs11.so (SPEC §5).
 *
 * One slot (id 0) with one token whose objects are the Signet keys the
 * configured principal can read (objects.c) and whose only operation is
 * signing: C_SignInit checks the mechanism against the key, C_Sign /
 * C_SignUpdate / C_SignFinal produce a digest here (mech.c; the
 * hash-and-sign mechanisms hash locally, in constant memory) and one
 * POST /v1/sign turns it into the signature.  Everything the service is
 * asked goes through sg_client with this module's User-Agent, so every
 * signature lands as a native record whose client_type names the module.
 *
 * Threads: the Cryptoki library state (configuration, login, object list,
 * session table) sits behind one mutex (CKF_OS_LOCKING_OK: only OS locks
 * are used).  The lock is held while the object list is (re)read, which is
 * bounded by the configured timeout, but not during a signature, so sessions
 * sign in parallel.  A session's own operation state is touched only by the
 * thread that uses the session, as PKCS#11 requires of applications.
 * Failures are described per call (sg_client_err on the stack) and printed
 * on stderr only with SIGNET_PKCS11_DEBUG; there is no global error buffer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include "sg_p11.h"
#include "sg_b64.h"
#include "sg_client.h"
#include "sg_secret.h"

#define SG_P11_SLOT_ID 0
#define SG_P11_MAX_SESSIONS 1024
/* Most input a raw (digest-taking) mechanism collects through C_SignUpdate. */
#define SG_P11_MAX_RAW_INPUT 512
/* An API key given to C_Login is at most this long (the service's own limit). */
#define SG_P11_MAX_PIN 512
#define SG_P11_CONNECT_TIMEOUT_MS 15000L

#ifndef SIGNET_VERSION
#error "SIGNET_VERSION must be defined by the build"
#endif

typedef struct sg_p11_session {
	CK_SESSION_HANDLE handle;
	CK_FLAGS flags;
	/* C_FindObjects */
	int finding;
	CK_OBJECT_HANDLE *found;
	size_t n_found, pos;
	/* C_Sign* */
	int signing;
	const sg_p11_mech *mech;
	sg_p11_key key;
	sg_hash_alg pss_hash;
	CK_ULONG salt;
	EVP_MD_CTX *md;           /* hash-and-sign mechanisms */
	uint8_t raw[SG_P11_MAX_RAW_INPUT];
	size_t raw_len;
	int updated;              /* C_SignUpdate was called: only C_SignFinal may follow */
} sg_p11_session;

static struct {
	pthread_mutex_t lock;
	int initialized;
	sg_p11_config cfg;
	char user_agent[160];
	char *login_key;          /* API key given to C_Login; wiped on logout */
	int logged_in;
	sg_p11_objects objs;
	int objs_loaded;
	sg_p11_session *sessions[SG_P11_MAX_SESSIONS];
	size_t n_sessions;
	CK_SESSION_HANDLE next_handle;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- helpers ---- */

static void
sg_p11_debug(const sg_client_err *e, const char *what)
{
	if (g.cfg.debug)
		fprintf(stderr, "signet-pkcs11: %s: %s\n", what,
		    e != NULL && e->msg[0] != '\0' ? e->msg : "failed");
}

/* Copy s into a blank-padded, unterminated field of n bytes. */
static void
sg_p11_pad(CK_UTF8CHAR *field, size_t n, const char *s)
{
	size_t len = strlen(s);

	memset(field, ' ', n);
	memcpy(field, s, len < n ? len : n);
}

/* Credentials in the configuration: then no login is needed (SPEC §5). */
static int
sg_p11_configured(void)
{
	return g.cfg.api_key != NULL || g.cfg.cert != NULL;
}

/* Objects are visible with configured credentials or after C_Login. */
static int
sg_p11_authenticated(void)
{
	return sg_p11_configured() || g.logged_in;
}

/*
 * The client configuration for a call; *key_copy receives a copy of the API
 * key in use (the caller wipes it), so a concurrent C_Logout cannot pull it
 * away mid-call.  Called with the lock held.
 */
static CK_RV
sg_p11_client(sg_client_config *cc, char **key_copy)
{
	const char *key = g.login_key != NULL ? g.login_key : g.cfg.api_key;

	memset(cc, 0, sizeof(*cc));
	*key_copy = NULL;
	if (key != NULL && (*key_copy = strdup(key)) == NULL)
		return CKR_HOST_MEMORY;
	cc->url = g.cfg.url;
	cc->api_key = *key_copy;
	cc->ca_file = g.cfg.ca_file;
	cc->cert = g.cfg.cert;
	cc->cert_key = g.cfg.cert_key;
	cc->user_agent = g.user_agent;
	cc->timeout_ms = g.cfg.timeout_ms;
	cc->connect_timeout_ms = g.cfg.timeout_ms < SG_P11_CONNECT_TIMEOUT_MS ?
	    g.cfg.timeout_ms : SG_P11_CONNECT_TIMEOUT_MS;
	return CKR_OK;
}

/* The PKCS#11 answer to a failed exchange with the service. */
static CK_RV
sg_p11_rv(int r, const sg_client_err *e)
{
	if (e->status == 0)
		return r == SG_ERR_NOMEM ? CKR_HOST_MEMORY : CKR_DEVICE_ERROR;
	if (strcmp(e->code, "KEY_NOT_ACTIVE") == 0 || e->status == 403)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (e->status == 401)
		return CKR_USER_NOT_LOGGED_IN;
	if (e->status == 404)
		return CKR_KEY_HANDLE_INVALID;
	if (strcmp(e->code, "UNSUPPORTED_HASH_ALGORITHM") == 0 ||
	    strcmp(e->code, "DIGEST_LENGTH_MISMATCH") == 0)
		return CKR_DATA_INVALID;
	if (strcmp(e->code, "ALGORITHM_MISMATCH") == 0 ||
	    strcmp(e->code, "UNSUPPORTED_ALGORITHM") == 0)
		return CKR_MECHANISM_INVALID;
	if (e->status >= 500)
		return CKR_DEVICE_ERROR;
	return CKR_FUNCTION_FAILED;
}

/* GET /v1/keys with the given client configuration. */
static CK_RV
sg_p11_fetch_keys(const sg_client_config *cc, json_t **answer)
{
	sg_client_err e = { 0 };
	int r = sg_client_call(cc, "GET", "/v1/keys", NULL, 0, NULL, NULL, answer, &e);

	if (r != SG_OK) {
		sg_p11_debug(&e, "GET /v1/keys");
		return sg_p11_rv(r, &e);
	}
	return CKR_OK;
}

static void
sg_p11_objects_reset(void)
{
	sg_p11_objects_free(&g.objs);
	g.objs_loaded = 0;
}

/* Replace the object list with the keys of a GET /v1/keys answer.  Lock held. */
static CK_RV
sg_p11_objects_take(const json_t *answer)
{
	sg_p11_objects fresh;

	if (sg_p11_objects_build(answer, &g.cfg, !sg_p11_configured(), &fresh) != SG_OK)
		return CKR_DEVICE_ERROR;
	sg_p11_objects_free(&g.objs);
	g.objs = fresh;
	g.objs_loaded = 1;
	return CKR_OK;
}

/* Read the object list unless it is current.  Lock held. */
static CK_RV
sg_p11_objects_ensure(void)
{
	sg_client_config cc;
	char *key = NULL;
	json_t *answer = NULL;
	CK_RV rv;

	if (g.objs_loaded)
		return CKR_OK;
	if (!sg_p11_authenticated()) {
		/* Nothing is found before C_Login, without asking the service. */
		sg_p11_objects_reset();
		g.objs_loaded = 1;
		return CKR_OK;
	}
	if ((rv = sg_p11_client(&cc, &key)) == CKR_OK &&
	    (rv = sg_p11_fetch_keys(&cc, &answer)) == CKR_OK)
		rv = sg_p11_objects_take(answer);
	json_decref(answer);
	sg_free_secret_str(key);
	return rv;
}

/* The session behind a handle, or NULL.  Lock held. */
static sg_p11_session *
sg_p11_session_get(CK_SESSION_HANDLE h)
{
	for (size_t i = 0; i < g.n_sessions; i++) {
		if (g.sessions[i]->handle == h)
			return g.sessions[i];
	}
	return NULL;
}

static void
sg_p11_sign_end(sg_p11_session *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	sg_wipe(s->raw, sizeof(s->raw));
	s->raw_len = 0;
	s->signing = 0;
	s->updated = 0;
	s->mech = NULL;
}

static void
sg_p11_find_end(sg_p11_session *s)
{
	free(s->found);
	s->found = NULL;
	s->n_found = s->pos = 0;
	s->finding = 0;
}

static void
sg_p11_session_free(sg_p11_session *s)
{
	if (s == NULL)
		return;
	sg_p11_sign_end(s);
	sg_p11_find_end(s);
	free(s);
}

/* Lock and check the library is initialised; the caller unlocks on CKR_OK. */
static CK_RV
sg_p11_enter(void)
{
	pthread_mutex_lock(&g.lock);
	if (!g.initialized) {
		pthread_mutex_unlock(&g.lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	return CKR_OK;
}

/* sg_p11_enter and look up a session; the caller unlocks on CKR_OK. */
static CK_RV
sg_p11_enter_session(CK_SESSION_HANDLE h, sg_p11_session **s)
{
	CK_RV rv = sg_p11_enter();

	if (rv != CKR_OK)
		return rv;
	if ((*s = sg_p11_session_get(h)) == NULL) {
		pthread_mutex_unlock(&g.lock);
		return CKR_SESSION_HANDLE_INVALID;
	}
	return CKR_OK;
}

/* The object behind a handle, if visible.  Lock held. */
static const sg_p11_object *
sg_p11_object_get(CK_OBJECT_HANDLE h)
{
	if (!g.objs_loaded || h == 0 || h > g.objs.n_objs)
		return NULL;
	return &g.objs.objs[h - 1];
}

/* ---- general purpose ---- */

CK_RV
C_Initialize(CK_VOID_PTR pInitArgs)
{
	CK_C_INITIALIZE_ARGS *args = pInitArgs;
	sg_p11_config cfg;
	struct utsname u;
	char err[512];
	CK_RV rv = CKR_OK;

	if (args != NULL) {
		if (args->pReserved != NULL)
			return CKR_ARGUMENTS_BAD;
		int any = args->CreateMutex != NULL || args->DestroyMutex != NULL ||
		    args->LockMutex != NULL || args->UnlockMutex != NULL;
		int all = args->CreateMutex != NULL && args->DestroyMutex != NULL &&
		    args->LockMutex != NULL && args->UnlockMutex != NULL;
		if (any && !all)
			return CKR_ARGUMENTS_BAD;
		/* Only the OS's own locks are used; the application's cannot be. */
		if (any && !(args->flags & CKF_OS_LOCKING_OK))
			return CKR_CANT_LOCK;
	}
	pthread_mutex_lock(&g.lock);
	if (g.initialized) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	if (sg_p11_config_load(&cfg, err, sizeof(err)) != SG_OK) {
		/* The host program has no other way to learn why the token is missing. */
		fprintf(stderr, "signet-pkcs11: %s\n", err);
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	if (sg_client_global_init() != SG_OK) {
		sg_p11_config_free(&cfg);
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	g.cfg = cfg;
	if (uname(&u) == 0)
		snprintf(g.user_agent, sizeof(g.user_agent), "signet-pkcs11/%s (%s; %s)",
		    SIGNET_VERSION, u.sysname, u.machine);
	else
		snprintf(g.user_agent, sizeof(g.user_agent), "signet-pkcs11/%s (unknown; unknown)",
		    SIGNET_VERSION);
	g.next_handle = 1;
	g.initialized = 1;
out:
	pthread_mutex_unlock(&g.lock);
	return rv;
}

CK_RV
C_Finalize(CK_VOID_PTR pReserved)
{
	CK_RV rv;

	if (pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = sg_p11_enter()) != CKR_OK)
		return rv;
	for (size_t i = 0; i < g.n_sessions; i++)
		sg_p11_session_free(g.sessions[i]);
	g.n_sessions = 0;
	sg_p11_objects_reset();
	sg_free_secret_str(g.login_key);
	g.login_key = NULL;
	g.logged_in = 0;
	sg_p11_config_free(&g.cfg);
	g.initialized = 0;
	pthread_mutex_unlock(&g.lock);
	return CKR_OK;
}

CK_RV
C_GetInfo(CK_INFO_PTR pInfo)
{
	CK_RV rv;

	if ((rv = sg_p11_enter()) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&g.lock);
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->cryptokiVersion.major = 2;
	pInfo->cryptokiVersion.minor = 40;
	sg_p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "Signet");
	sg_p11_pad(pInfo->libraryDescription, sizeof(pInfo->libraryDescription),
	    "Signet remote signing");
	pInfo->libraryVersion.major = SIGNET_VERSION_MAJOR;
	pInfo->libraryVersion.minor = SIGNET_VERSION_MINOR;
	return CKR_OK;
}

/* ---- slot and token ---- */

CK_RV
C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	CK_RV rv;

	(void)tokenPresent;
	if ((rv = sg_p11_enter()) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&g.lock);
	if (pulCount == NULL)
		return CKR_ARGUMENTS_BAD;
	if (pSlotList != NULL) {
		if (*pulCount < 1) {
			*pulCount = 1;
			return CKR_BUFFER_TOO_SMALL;
		}
		pSlotList[0] = SG_P11_SLOT_ID;
	}
	*pulCount = 1;
	return CKR_OK;
}

CK_RV
C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	CK_RV rv;

	if ((rv = sg_p11_enter()) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&g.lock);
	if (slotID != SG_P11_SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(pInfo, 0, sizeof(*pInfo));
	sg_p11_pad(pInfo->slotDescription, sizeof(pInfo->slotDescription),
	    "Signet remote signing service");
	sg_p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "Signet");
	pInfo->flags = CKF_TOKEN_PRESENT;
	pInfo->hardwareVersion.major = SIGNET_VERSION_MAJOR;
	pInfo->hardwareVersion.minor = SIGNET_VERSION_MINOR;
	pInfo->firmwareVersion = pInfo->hardwareVersion;
	return CKR_OK;
}

CK_RV
C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	char serial[2 * SHA256_DIGEST_LENGTH + 1];
	CK_RV rv;

	if ((rv = sg_p11_enter()) != CKR_OK)
		return rv;
	if (slotID != SG_P11_SLOT_ID || pInfo == NULL) {
		pthread_mutex_unlock(&g.lock);
		return slotID != SG_P11_SLOT_ID ? CKR_SLOT_ID_INVALID : CKR_ARGUMENTS_BAD;
	}
	memset(pInfo, 0, sizeof(*pInfo));
	sg_p11_pad(pInfo->label, sizeof(pInfo->label), g.cfg.token_label);
	sg_p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "Signet");
	sg_p11_pad(pInfo->model, sizeof(pInfo->model), "remote signing");
	/* A stable serial per service URL, so tools can tell two services apart. */
	SHA256((const unsigned char *)g.cfg.url, strlen(g.cfg.url), h);
	sg_hex_encode(h, 8, serial);
	sg_p11_pad(pInfo->serialNumber, sizeof(pInfo->serialNumber), serial);
	pInfo->flags = CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED;
	if (!sg_p11_configured())
		pInfo->flags |= CKF_LOGIN_REQUIRED;
	pInfo->ulMaxSessionCount = SG_P11_MAX_SESSIONS;
	pInfo->ulSessionCount = g.n_sessions;
	pInfo->ulMaxRwSessionCount = SG_P11_MAX_SESSIONS;
	pInfo->ulRwSessionCount = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulMaxPinLen = SG_P11_MAX_PIN;
	pInfo->ulMinPinLen = 1;
	pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->hardwareVersion.major = SIGNET_VERSION_MAJOR;
	pInfo->hardwareVersion.minor = SIGNET_VERSION_MINOR;
	pInfo->firmwareVersion = pInfo->hardwareVersion;
	memset(pInfo->utcTime, ' ', sizeof(pInfo->utcTime));
	pthread_mutex_unlock(&g.lock);
	return CKR_OK;
}

CK_RV
C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
    CK_ULONG_PTR pulCount)
{
	const sg_p11_mech *all;
	size_t n;
	CK_RV rv;

	if ((rv = sg_p11_enter()) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&g.lock);
	if (slotID != SG_P11_SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	if (pulCount == NULL)
		return CKR_ARGUMENTS_BAD;
	all = sg_p11_mech_all(&n);
	if (pMechanismList != NULL) {
		if (*pulCount < n) {
			*pulCount = n;
			return CKR_BUFFER_TOO_SMALL;
		}
		for (size_t i = 0; i < n; i++)
			pMechanismList[i] = all[i].type;
	}
	*pulCount = n;
	return CKR_OK;
}

CK_RV
C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	const sg_p11_mech *m;
	CK_RV rv;

	if ((rv = sg_p11_enter()) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&g.lock);
	if (slotID != SG_P11_SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((m = sg_p11_mech_find(type)) == NULL)
		return CKR_MECHANISM_INVALID;
	pInfo->ulMinKeySize = m->min_bits;
	pInfo->ulMaxKeySize = m->max_bits;
	pInfo->flags = CKF_SIGN;
	if (m->key_type == CKK_EC)
		pInfo->flags |= CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	return CKR_OK;
}

/* ---- sessions and login ---- */

CK_RV
C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
    CK_SESSION_HANDLE_PTR phSession)
{
	sg_p11_session *s;
	CK_RV rv;

	(void)pApplication;
	(void)Notify;
	if ((rv = sg_p11_enter()) != CKR_OK)
		return rv;
	if (slotID != SG_P11_SLOT_ID)
		rv = CKR_SLOT_ID_INVALID;
	else if (phSession == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if (!(flags & CKF_SERIAL_SESSION))
		rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	else if (g.n_sessions == SG_P11_MAX_SESSIONS)
		rv = CKR_SESSION_COUNT;
	else if ((s = calloc(1, sizeof(*s))) == NULL)
		rv = CKR_HOST_MEMORY;
	if (rv != CKR_OK)
		goto out;
	/* The first session of a run reads the keys afresh: new keys and chains show up. */
	if (g.n_sessions == 0)
		sg_p11_objects_reset();
	s->handle = g.next_handle++;
	s->flags = flags;
	g.sessions[g.n_sessions++] = s;
	*phSession = s->handle;
out:
	pthread_mutex_unlock(&g.lock);
	return rv;
}

CK_RV
C_CloseSession(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = sg_p11_enter();

	if (rv != CKR_OK)
		return rv;
	rv = CKR_SESSION_HANDLE_INVALID;
	for (size_t i = 0; i < g.n_sessions; i++) {
		if (g.sessions[i]->handle != hSession)
			continue;
		sg_p11_session_free(g.sessions[i]);
		g.sessions[i] = g.sessions[--g.n_sessions];
		rv = CKR_OK;
		break;
	}
	pthread_mutex_unlock(&g.lock);
	return rv;
}

CK_RV
C_CloseAllSessions(CK_SLOT_ID slotID)
{
	CK_RV rv = sg_p11_enter();

	if (rv != CKR_OK)
		return rv;
	if (slotID == SG_P11_SLOT_ID) {
		for (size_t i = 0; i < g.n_sessions; i++)
			sg_p11_session_free(g.sessions[i]);
		g.n_sessions = 0;
	} else {
		rv = CKR_SLOT_ID_INVALID;
	}
	pthread_mutex_unlock(&g.lock);
	return rv;
}

CK_RV
C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	sg_p11_session *s;
	CK_RV rv = sg_p11_enter_session(hSession, &s);
	int rw;

	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL) {
		pthread_mutex_unlock(&g.lock);
		return CKR_ARGUMENTS_BAD;
	}
	rw = (s->flags & CKF_RW_SESSION) != 0;
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->slotID = SG_P11_SLOT_ID;
	pInfo->flags = s->flags;
	if (sg_p11_authenticated())
		pInfo->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
	else
		pInfo->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
	pthread_mutex_unlock(&g.lock);
	return CKR_OK;
}

CK_RV
C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
    CK_ULONG ulPinLen)
{
	sg_p11_session *s;
	sg_client_config cc;
	char *pin = NULL, *unused = NULL;
	json_t *answer = NULL;
	CK_RV rv = sg_p11_enter_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (userType == CKU_SO) {
		rv = CKR_USER_TYPE_INVALID;
		goto out;
	}
	if (userType != CKU_USER) {
		rv = userType == CKU_CONTEXT_SPECIFIC ? CKR_OPERATION_NOT_INITIALIZED :
		    CKR_USER_TYPE_INVALID;
		goto out;
	}
	if (g.logged_in) {
		rv = CKR_USER_ALREADY_LOGGED_IN;
		goto out;
	}
	if (pPin == NULL || ulPinLen == 0) {
		/* Tools log in out of habit; configured credentials need no PIN. */
		if (sg_p11_configured())
			g.logged_in = 1;
		else
			rv = CKR_PIN_INCORRECT;
		goto out;
	}
	if (ulPinLen > SG_P11_MAX_PIN) {
		rv = CKR_PIN_LEN_RANGE;
		goto out;
	}
	if ((pin = malloc(ulPinLen + 1)) == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	memcpy(pin, pPin, ulPinLen);
	pin[ulPinLen] = '\0';
	if (memchr(pin, '\0', ulPinLen) != NULL) {
		rv = CKR_PIN_INCORRECT;
		goto out;
	}
	/* The PIN is an API key: it is right when the service accepts it. */
	if ((rv = sg_p11_client(&cc, &unused)) != CKR_OK)
		goto out;
	cc.api_key = pin;
	if ((rv = sg_p11_fetch_keys(&cc, &answer)) != CKR_OK) {
		if (rv == CKR_USER_NOT_LOGGED_IN)
			rv = CKR_PIN_INCORRECT;
		goto out;
	}
	g.login_key = pin;
	pin = NULL;
	g.logged_in = 1;
	rv = sg_p11_objects_take(answer);
out:
	json_decref(answer);
	sg_free_secret_str(pin);
	sg_free_secret_str(unused);
	pthread_mutex_unlock(&g.lock);
	return rv;
}

CK_RV
C_Logout(CK_SESSION_HANDLE hSession)
{
	sg_p11_session *s;
	CK_RV rv = sg_p11_enter_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!g.logged_in) {
		rv = CKR_USER_NOT_LOGGED_IN;
	} else {
		sg_free_secret_str(g.login_key);
		g.login_key = NULL;
		g.logged_in = 0;
		sg_p11_objects_reset();
	}
	pthread_mutex_unlock(&g.lock);
	return rv;
}

/* ---- objects ---- */

/* Attributes a private key never reveals. */
static int
sg_p11_sensitive(CK_ATTRIBUTE_TYPE t)
{
	return t == CKA_VALUE || t == CKA_PRIVATE_EXPONENT || t == CKA_PRIME_1 ||
	    t == CKA_PRIME_2 || t == CKA_EXPONENT_1 || t == CKA_EXPONENT_2 ||
	    t == CKA_COEFFICIENT;
}

CK_RV
C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	sg_p11_session *s;
	const sg_p11_object *o;
	CK_RV rv = sg_p11_enter_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if ((rv = sg_p11_objects_ensure()) != CKR_OK)
		goto out;
	if ((o = sg_p11_object_get(hObject)) == NULL) {
		rv = CKR_OBJECT_HANDLE_INVALID;
		goto out;
	}
	if (pTemplate == NULL && ulCount > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	for (CK_ULONG i = 0; i < ulCount; i++) {
		const sg_p11_attr *a = sg_p11_object_attr(o, pTemplate[i].type);
		if (o->cls == CKO_PRIVATE_KEY && sg_p11_sensitive(pTemplate[i].type)) {
			pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_SENSITIVE;
		} else if (a == NULL) {
			pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (pTemplate[i].pValue == NULL) {
			pTemplate[i].ulValueLen = a->len;
		} else if (pTemplate[i].ulValueLen < a->len) {
			pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
		} else {
			if (a->len > 0)
				memcpy(pTemplate[i].pValue, a->value, a->len);
			pTemplate[i].ulValueLen = a->len;
		}
	}
out:
	pthread_mutex_unlock(&g.lock);
	return rv;
}

CK_RV
C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	sg_p11_session *s;
	CK_RV rv = sg_p11_enter_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (s->finding) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if (pTemplate == NULL && ulCount > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if ((rv = sg_p11_objects_ensure()) != CKR_OK)
		goto out;
	if (g.objs.n_objs > 0 &&
	    (s->found = calloc(g.objs.n_objs, sizeof(*s->found))) == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < g.objs.n_objs; i++) {
		if (sg_p11_object_matches(&g.objs.objs[i], pTemplate, ulCount))
			s->found[s->n_found++] = i + 1;
	}
	s->pos = 0;
	s->finding = 1;
out:
	pthread_mutex_unlock(&g.lock);
	return rv;
}

CK_RV
C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	sg_p11_session *s;
	CK_RV rv = sg_p11_enter_session(hSession, &s);
	CK_ULONG n = 0;

	if (rv != CKR_OK)
		return rv;
	if (!s->finding) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else if (phObject == NULL || pulObjectCount == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		while (n < ulMaxObjectCount && s->pos < s->n_found)
			phObject[n++] = s->found[s->pos++];
		*pulObjectCount = n;
	}
	pthread_mutex_unlock(&g.lock);
	return rv;
}

CK_RV
C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	sg_p11_session *s;
	CK_RV rv = sg_p11_enter_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->finding)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else
		sg_p11_find_end(s);
	pthread_mutex_unlock(&g.lock);
	return rv;
}

/* ---- signing ---- */

CK_RV
C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	sg_p11_session *s;
	const sg_p11_object *o;
	const sg_p11_mech *m;
	CK_RV rv = sg_p11_enter_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (pMechanism == NULL) {
		/* PKCS#11 3.0: a NULL mechanism cancels the active operation. */
		sg_p11_sign_end(s);
		goto out;
	}
	if (s->signing) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if ((rv = sg_p11_objects_ensure()) != CKR_OK)
		goto out;
	if ((o = sg_p11_object_get(hKey)) == NULL) {
		rv = CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	if (o->cls != CKO_PRIVATE_KEY) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto out;
	}
	if ((m = sg_p11_mech_find(pMechanism->mechanism)) == NULL) {
		rv = CKR_MECHANISM_INVALID;
		goto out;
	}
	if (m->key_type != g.objs.keys[o->key].key_type) {
		rv = CKR_KEY_TYPE_INCONSISTENT;
		goto out;
	}
	if ((rv = sg_p11_mech_check(m, pMechanism, &s->pss_hash, &s->salt)) != CKR_OK)
		goto out;
	if (m->hash != SG_HASH_NONE) {
		if ((s->md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(s->md, sg_hash_md(m->hash), NULL) != 1) {
			EVP_MD_CTX_free(s->md);
			s->md = NULL;
			rv = CKR_HOST_MEMORY;
			goto out;
		}
	}
	s->mech = m;
	s->key = g.objs.keys[o->key];
	s->raw_len = 0;
	s->updated = 0;
	s->signing = 1;
out:
	pthread_mutex_unlock(&g.lock);
	return rv;
}

/* POST /v1/sign for req with key k; the signature into out (k->sig_len bytes). */
static CK_RV
sg_p11_remote_sign(const sg_p11_key *k, const sg_p11_sign_req *req, uint8_t *out)
{
	sg_client_config cc;
	sg_client_err e = { 0 };
	char *key = NULL, *digest = NULL;
	json_t *body = NULL, *answer = NULL;
	const char *sig_b64;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	long status = 0;
	CK_RV rv;
	int r;

	pthread_mutex_lock(&g.lock);
	rv = g.initialized ? sg_p11_client(&cc, &key) : CKR_CRYPTOKI_NOT_INITIALIZED;
	pthread_mutex_unlock(&g.lock);
	if (rv != CKR_OK)
		return rv;
	rv = CKR_HOST_MEMORY;
	if ((digest = sg_b64_encode(req->digest, req->digest_len)) == NULL ||
	    (body = json_pack("{s:s, s:s, s:s, s:s}", "key", k->id, "digest", digest,
	    "hash_algorithm", sg_hash_name(req->hash), "signature_algorithm",
	    req->scheme)) == NULL)
		goto out;
	if (strcmp(req->scheme, "ECDSA") == 0 &&
	    json_object_set_new(body, "signature_format", json_string("P1363")) != 0)
		goto out;
	if (req->has_salt && json_object_set_new(body, "pss_salt_length",
	    json_integer((json_int_t)req->salt_len)) != 0)
		goto out;
	if ((r = sg_client_call_json(&cc, "POST", "/v1/sign", body, &status, &answer,
	    &e)) != SG_OK) {
		sg_p11_debug(&e, "POST /v1/sign");
		rv = sg_p11_rv(r, &e);
		goto out;
	}
	rv = CKR_FUNCTION_FAILED;
	if (status != 200 || (sig_b64 = json_string_value(json_object_get(answer,
	    "signature"))) == NULL) {
		/* A 202: the request waits for approvals, which a token cannot wait for. */
		sg_client_errf(&e, "POST /v1/sign answered HTTP %ld without a signature", status);
		sg_p11_debug(&e, "POST /v1/sign");
		goto out;
	}
	if (sg_b64_decode(sig_b64, strlen(sig_b64), &sig, &sig_len) != SG_OK ||
	    sig_len != k->sig_len) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	memcpy(out, sig, sig_len);
	rv = CKR_OK;
out:
	free(sig);
	free(digest);
	json_decref(body);
	json_decref(answer);
	sg_free_secret_str(key);
	return rv;
}

/*
 * The common end of C_Sign and C_SignFinal: answer a length query or a short
 * buffer without ending the operation; otherwise produce the digest
 * (`finish`), sign and end the operation whatever the outcome.
 */
static CK_RV
sg_p11_sign_finish(sg_p11_session *s, const uint8_t *data, size_t len,
    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	sg_p11_sign_req req;
	CK_RV rv;

	if (pulSignatureLen == NULL)
		return CKR_ARGUMENTS_BAD;
	if (pSignature == NULL) {
		*pulSignatureLen = s->key.sig_len;
		return CKR_OK;
	}
	if (*pulSignatureLen < s->key.sig_len) {
		*pulSignatureLen = s->key.sig_len;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (s->md != NULL) {
		unsigned int n = 0;
		memset(&req, 0, sizeof(req));
		if ((data != NULL && EVP_DigestUpdate(s->md, data, len) != 1) ||
		    EVP_DigestFinal_ex(s->md, req.digest, &n) != 1) {
			rv = CKR_FUNCTION_FAILED;
			goto out;
		}
		req.digest_len = n;
		req.hash = s->mech->hash;
		req.scheme = sg_p11_mech_scheme(s->mech);
	} else if ((rv = sg_p11_mech_input(s->mech, s->pss_hash, data, len, &req)) != CKR_OK) {
		goto out;
	}
	if (s->mech->pss) {
		req.has_salt = 1;
		req.salt_len = s->salt;
	}
	if ((rv = sg_p11_remote_sign(&s->key, &req, pSignature)) == CKR_OK)
		*pulSignatureLen = s->key.sig_len;
out:
	sg_wipe(&req, sizeof(req));
	sg_p11_sign_end(s);
	return rv;
}

/* Look up a session with an active signing operation and leave the lock. */
static CK_RV
sg_p11_signing_session(CK_SESSION_HANDLE h, sg_p11_session **s)
{
	CK_RV rv = sg_p11_enter_session(h, s);

	if (rv != CKR_OK)
		return rv;
	pthread_mutex_unlock(&g.lock);
	return (*s)->signing ? CKR_OK : CKR_OPERATION_NOT_INITIALIZED;
}

CK_RV
C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	sg_p11_session *s;
	CK_RV rv = sg_p11_signing_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (pData == NULL && ulDataLen > 0)
		return CKR_ARGUMENTS_BAD;
	if (s->updated) {
		sg_p11_sign_end(s);
		return CKR_OPERATION_ACTIVE;
	}
	return sg_p11_sign_finish(s, pData, ulDataLen, pSignature, pulSignatureLen);
}

CK_RV
C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	sg_p11_session *s;
	CK_RV rv = sg_p11_signing_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (pPart == NULL && ulPartLen > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if (s->md != NULL && EVP_DigestUpdate(s->md, pPart, ulPartLen) != 1)
		rv = CKR_FUNCTION_FAILED;
	else if (s->md == NULL && ulPartLen > sizeof(s->raw) - s->raw_len)
		rv = CKR_DATA_LEN_RANGE;
	if (rv != CKR_OK) {
		sg_p11_sign_end(s);
		return rv;
	}
	if (s->md == NULL && ulPartLen > 0) {
		memcpy(s->raw + s->raw_len, pPart, ulPartLen);
		s->raw_len += ulPartLen;
	}
	s->updated = 1;
	return CKR_OK;
}

CK_RV
C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	sg_p11_session *s;
	CK_RV rv = sg_p11_signing_session(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (s->md != NULL)
		return sg_p11_sign_finish(s, NULL, 0, pSignature, pulSignatureLen);
	return sg_p11_sign_finish(s, s->raw, s->raw_len, pSignature, pulSignatureLen);
}

CK_RV
C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	(void)hSession;
	return CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV
C_CancelFunction(CK_SESSION_HANDLE hSession)
{
	(void)hSession;
	return CKR_FUNCTION_NOT_PARALLEL;
}
