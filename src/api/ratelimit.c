/*
 * ratelimit.c - token buckets per address and per principal, and the
 * limiting and audit summary of failed authentications (see ratelimit.h).
 *
 * One mutex per limiter guards its slot table; a take is a hash, a copy
 * and a little arithmetic, so the lock is held for well under a
 * microsecond.  Time is the monotonic clock for buckets and the wall clock
 * for audit intervals.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ratelimit.h"
#include "sg_log.h"

#define RL_SLOTS 4096
#define RL_KEY_MAX 64

typedef struct rl_slot {
	char key[RL_KEY_MAX];
	double tokens;
	uint64_t last_ns;
} rl_slot;

typedef struct rl_limiter {
	pthread_mutex_t mu;
	double rate, burst;       /* rate 0: off */
	rl_slot *slots;
} rl_limiter;

/* Failed authentications of one address, tenant and reason in the current interval. */
typedef struct fail_slot {
	char ip[RL_KEY_MAX];
	char tenant_id[SG_ID_MAX];
	int64_t window_start_ms;  /* 0: slot unused */
	uint64_t unreported;      /* failures not yet in an audit entry */
	uint64_t total;           /* failures in this interval */
	char reason[64];
	char path[128];
} fail_slot;

static rl_limiter by_address = { PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL };
static rl_limiter by_principal = { PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL };
static rl_limiter auth_fail = { PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL };

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static fail_slot *fails;
static sg_service *audit_svc;
static int64_t interval_ms = 60000;

static uint64_t
hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;     /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static void
limiter_set(rl_limiter *l, double rate, double burst)
{
	pthread_mutex_lock(&l->mu);
	free(l->slots);
	l->slots = NULL;
	l->rate = rate > 0 ? rate : 0;
	l->burst = burst > 0 ? burst : 2 * l->rate;
	if (l->burst < 1)
		l->burst = 1;
	if (l->rate > 0 && (l->slots = calloc(RL_SLOTS, sizeof(rl_slot))) == NULL) {
		sg_error("rate limits: out of memory, limiter disabled");
		l->rate = 0;
	}
	pthread_mutex_unlock(&l->mu);
}

/*
 * Take one token from key's bucket (take 0: only look).  Returns 0 when a
 * token was there, else the whole seconds until one will be (at least 1).
 */
static unsigned
limiter_take(rl_limiter *l, const char *key, int take)
{
	unsigned wait = 0;
	pthread_mutex_lock(&l->mu);
	if (l->rate <= 0 || l->slots == NULL)
		goto out;
	uint64_t now = sg_mono_ns();
	rl_slot *s = &l->slots[hash_key(key) % RL_SLOTS];
	if (strncmp(s->key, key, sizeof(s->key)) != 0) {
		sg_strlcpy(s->key, key, sizeof(s->key));
		s->tokens = l->burst;
		s->last_ns = now;
	}
	s->tokens += (double)(now - s->last_ns) / 1e9 * l->rate;
	if (s->tokens > l->burst)
		s->tokens = l->burst;
	s->last_ns = now;
	if (s->tokens >= 1) {
		if (take)
			s->tokens -= 1;
	} else {
		double secs = (1 - s->tokens) / l->rate;
		wait = secs >= 3600 ? 3600 : (unsigned)secs;
		if ((double)wait < secs)
			wait++;          /* round up, without libm */
		if (wait < 1)
			wait = 1;
	}
out:
	pthread_mutex_unlock(&l->mu);
	return wait;
}

void
api_rl_configure(sg_service *svc, const api_rl_config *cfg)
{
	limiter_set(&by_address, cfg->address_rate, cfg->address_burst);
	limiter_set(&by_principal, cfg->principal_rate, cfg->principal_burst);
	limiter_set(&auth_fail, cfg->auth_fail_rate, cfg->auth_fail_burst);
	pthread_mutex_lock(&fail_mu);
	audit_svc = svc;
	interval_ms = (int64_t)(cfg->auth_audit_interval_s ? cfg->auth_audit_interval_s : 60) * 1000;
	if (fails == NULL && (fails = calloc(RL_SLOTS, sizeof(fail_slot))) == NULL)
		sg_error("rate limits: out of memory, failed authentications audited one by one");
	pthread_mutex_unlock(&fail_mu);
}

static int
refuse(api_req *req, api_resp *resp, unsigned wait, const char *what)
{
	api_error(req, resp, SG_ERR_RATE_LIMITED, "too many %s; retry after %u s", what, wait);
	resp->retry_after = wait;
	return -1;
}

int
api_rl_address(api_req *req, api_resp *resp)
{
	unsigned wait = limiter_take(&by_address, req->client_ip, 1);
	return wait ? refuse(req, resp, wait, "requests from this address") : 0;
}

int
api_rl_principal(api_req *req, api_resp *resp)
{
	unsigned wait = limiter_take(&by_principal, req->principal.id, 1);
	return wait ? refuse(req, resp, wait, "requests by this principal") : 0;
}

int
api_rl_auth_blocked(api_req *req, api_resp *resp)
{
	unsigned wait = limiter_take(&auth_fail, req->client_ip, 0);
	if (wait == 0)
		return 0;
	api_rl_auth_failed(req, "too many failed authentications", NULL);
	return refuse(req, resp, wait, "failed authentications from this address");
}

/* One auth.failed entry in the service chain. */
static void
audit_failures(sg_service *svc, const fail_slot *f, uint64_t count, int64_t now_ms)
{
	sg_audit_entry e;
	memset(&e, 0, sizeof(e));
	sg_strlcpy(e.tenant_id, f->tenant_id, sizeof(e.tenant_id));
	sg_strlcpy(e.action, "auth.failed", sizeof(e.action));
	e.ts = now_ms;
	json_t *d = json_pack("{s:s,s:I,s:I,s:s,s:s}", "client_ip", f->ip, "count", (json_int_t)count,
	    "interval_seconds", (json_int_t)(interval_ms / 1000), "reason", f->reason, "path", f->path);
	e.details = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	int r = svc->store->ops->audit_append(svc->store, &e);
	if (r != SG_OK)
		sg_error("audit: cannot append auth.failed for %s: %s", f->ip, sg_err_str(r));
	free(e.details);
}

static int
same_source(const fail_slot *f, const api_req *req, const char *tenant_id, const char *reason)
{
	return strcmp(f->ip, req->client_ip) == 0 && strcmp(f->tenant_id, tenant_id) == 0 &&
	    strncmp(f->reason, reason, sizeof(f->reason) - 1) == 0;
}

void
api_rl_auth_failed(api_req *req, const char *reason, const char *tenant_id)
{
	char key[RL_KEY_MAX + SG_ID_MAX + 64];
	int64_t now = sg_now_ms();
	fail_slot done, first;
	uint64_t done_count = 0;
	int write_first = 0;

	if (tenant_id == NULL)
		tenant_id = "";
	limiter_take(&auth_fail, req->client_ip, 1);
	snprintf(key, sizeof(key), "%s|%s|%s", req->client_ip, tenant_id, reason);
	pthread_mutex_lock(&fail_mu);
	sg_service *svc = audit_svc ? audit_svc : req->svc;
	if (fails == NULL) {
		/* Not configured (in-process harnesses) or out of memory: one entry each. */
		memset(&first, 0, sizeof(first));
		sg_strlcpy(first.ip, req->client_ip, sizeof(first.ip));
		sg_strlcpy(first.tenant_id, tenant_id, sizeof(first.tenant_id));
		sg_strlcpy(first.reason, reason, sizeof(first.reason));
		sg_strlcpy(first.path, req->path, sizeof(first.path));
		pthread_mutex_unlock(&fail_mu);
		audit_failures(svc, &first, 1, now);
		return;
	}
	fail_slot *f = &fails[hash_key(key) % RL_SLOTS];
	if (f->window_start_ms != 0 &&
	    (!same_source(f, req, tenant_id, reason) || now - f->window_start_ms >= interval_ms)) {
		/* Another address takes the slot, or the interval is over: report what is left. */
		done = *f;
		done_count = f->unreported;
		f->window_start_ms = 0;
	}
	if (f->window_start_ms == 0) {
		memset(f, 0, sizeof(*f));
		sg_strlcpy(f->ip, req->client_ip, sizeof(f->ip));
		sg_strlcpy(f->tenant_id, tenant_id, sizeof(f->tenant_id));
		sg_strlcpy(f->reason, reason, sizeof(f->reason));
		f->window_start_ms = now;
		write_first = 1;
	} else {
		f->unreported++;
	}
	f->total++;
	sg_strlcpy(f->path, req->path, sizeof(f->path));
	first = *f;
	pthread_mutex_unlock(&fail_mu);
	if (done_count > 0)
		audit_failures(svc, &done, done_count, now);
	if (write_first)
		audit_failures(svc, &first, 1, now);
}

void
api_rl_flush(int64_t now_ms)
{
	fail_slot due[32];
	size_t n;
	/* A few at a time, so the lock is never held across a store write. */
	do {
		n = 0;
		pthread_mutex_lock(&fail_mu);
		sg_service *svc = audit_svc;
		for (size_t i = 0; fails != NULL && i < RL_SLOTS && n < 32; i++) {
			fail_slot *f = &fails[i];
			if (f->window_start_ms == 0 || now_ms - f->window_start_ms < interval_ms)
				continue;
			if (f->unreported > 0)
				due[n++] = *f;
			f->window_start_ms = 0;
		}
		pthread_mutex_unlock(&fail_mu);
		for (size_t i = 0; i < n && svc != NULL; i++)
			audit_failures(svc, &due[i], due[i].unreported, sg_now_ms());
	} while (n == 32);
}

void
api_rl_shutdown(void)
{
	api_rl_flush(INT64_MAX);
	limiter_set(&by_address, 0, 0);
	limiter_set(&by_principal, 0, 0);
	limiter_set(&auth_fail, 0, 0);
	pthread_mutex_lock(&fail_mu);
	free(fails);
	fails = NULL;
	audit_svc = NULL;
	pthread_mutex_unlock(&fail_mu);
}
