/*
 * ratelimit.h - token buckets for the HTTP edge (SPEC §8, E1-E3).
 *
 * Three limiters, configured once by sg_api_start (api_rl_configure) and
 * shared by every HTTP thread:
 *   - per source address, taken in http.c for every request before routing;
 *   - per principal, taken in auth.c right after a successful
 *     authentication;
 *   - authentication failures per source address: each failure takes a
 *     token, and once the address has none left every authenticated route
 *     answers 429 from that address before looking at the credential (the
 *     principal stays usable from other addresses).
 * A bucket holds `burst` tokens and refills at `rate` per second; a rate of
 * 0 disables that limiter (the fuzz harnesses never configure any).
 * Buckets live in a fixed table of slots hashed by key: a new key that
 * lands on a busy slot takes it over with a full bucket, so memory is
 * bounded whatever the number of addresses.
 *
 * Authentication failures are also summarised for the service audit chain
 * (tenant ""): the first failure from an address opens an interval and is
 * written at once (action auth.failed, count 1); later failures in the
 * interval are only counted, and api_rl_flush, called every second by
 * http.c's housekeeping thread, writes one auth.failed entry per address
 * whose interval has ended, with the count.
 */
#ifndef SG_API_RATELIMIT_H
#define SG_API_RATELIMIT_H

#include <stdint.h>
#include "api.h"

typedef struct api_rl_config {
	double principal_rate, principal_burst;   /* requests/s; burst 0 = 2 x rate */
	double address_rate, address_burst;
	double auth_fail_rate, auth_fail_burst;   /* failures/s per address */
	unsigned auth_audit_interval_s;           /* summary interval (default 60) */
} api_rl_config;

/* Set (or reset) the limiters; svc is where summaries are audited. */
void api_rl_configure(sg_service *svc, const api_rl_config *cfg);
/* Drop every bucket and write the pending summaries (at stop). */
void api_rl_shutdown(void);

/*
 * Take a token for the request's address / principal.  0 when allowed;
 * otherwise resp holds a 429 RATE_LIMITED with retry_after and -1 is
 * returned.
 */
int api_rl_address(api_req *req, api_resp *resp);
int api_rl_principal(api_req *req, api_resp *resp);
/* 429 (and -1) when the request's address has used up its failed authentications. */
int api_rl_auth_blocked(api_req *req, api_resp *resp);
/*
 * Count one failed authentication from the request's address, for the
 * audit chain of tenant_id (NULL or "": the service chain).  Summaries are
 * kept per address, tenant and reason.
 */
void api_rl_auth_failed(api_req *req, const char *reason, const char *tenant_id);
/* Audit the summaries of intervals that ended before now_ms (wall clock). */
void api_rl_flush(int64_t now_ms);

#endif
