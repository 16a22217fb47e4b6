/*
 * metrics.c - GET /metrics in the Prometheus text format.
 *
 * Counters are plain atomics updated by the router after each request (no
 * lock on the request path): requests by route and status code, and a
 * latency histogram of POST /v1/sign.  Queue depth by status and pending
 * approvals are read from the store at scrape time, so they are right even
 * with several nodes; worker figures come from the local queue.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_buf.h"
#include "sg_queue.h"

#define MAX_ROUTES 64
static const unsigned codes[] = { 200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 429, 500, 503 };
#define NCODES (sizeof(codes) / sizeof(codes[0]))
/* Sign latency buckets, seconds. */
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static atomic_uint_fast64_t req_count[MAX_ROUTES + 1][NCODES + 1];
static atomic_uint_fast64_t sign_hist[NBUCKETS + 1];
static atomic_uint_fast64_t sign_sum_us, sign_count;

void
api_metrics_observe(int route, unsigned status, int is_sign, uint64_t ns)
{
	size_t r = route >= 0 && route < MAX_ROUTES ? (size_t)route : MAX_ROUTES, c = NCODES;
	for (size_t i = 0; i < NCODES; i++)
		if (codes[i] == status)
			c = i;
	atomic_fetch_add(&req_count[r][c], 1);
	if (!is_sign)
		return;
	double secs = (double)ns / 1e9;
	size_t b = NBUCKETS;
	for (size_t i = 0; i < NBUCKETS; i++) {
		if (secs <= buckets[i]) {
			b = i;
			break;
		}
	}
	atomic_fetch_add(&sign_hist[b], 1);
	atomic_fetch_add(&sign_sum_us, ns / 1000);
	atomic_fetch_add(&sign_count, 1);
}

static int
add(sg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
add(sg_buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return SG_ERR_INTERNAL;
	return sg_buf_append(b, line, (size_t)n);
}

void
api_metrics(api_req *req, api_resp *resp)
{
	const char *statuses[SG_RQ_COUNT - 1];
	int64_t counts[SG_RQ_COUNT - 1];
	sg_buf b;
	sg_store *s = req->svc->store;
	sg_queue_stats qs;
	int r = SG_OK;

	for (int i = 1; i < SG_RQ_COUNT; i++)
		statuses[i - 1] = sg_request_status_name((sg_request_status)i);
	sg_buf_init(&b, 4u * 1024 * 1024);
	r |= add(&b, "# HELP signet_http_requests_total HTTP requests by route and status code.\n"
	    "# TYPE signet_http_requests_total counter\n");
	for (int i = 0; i <= MAX_ROUTES; i++) {
		const char *name = i < MAX_ROUTES ? api_route_name(i) : "other";
		if (name == NULL)
			continue;
		for (size_t c = 0; c <= NCODES; c++) {
			uint64_t v = atomic_load(&req_count[i][c]);
			if (v == 0)
				continue;
			if (c < NCODES)
				r |= add(&b, "signet_http_requests_total{route=\"%s\",code=\"%u\"} %llu\n", name,
				    codes[c], (unsigned long long)v);
			else
				r |= add(&b, "signet_http_requests_total{route=\"%s\",code=\"other\"} %llu\n", name,
				    (unsigned long long)v);
		}
	}
	r |= add(&b, "# HELP signet_sign_duration_seconds Latency of POST /v1/sign.\n"
	    "# TYPE signet_sign_duration_seconds histogram\n");
	uint64_t cum = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += atomic_load(&sign_hist[i]);
		r |= add(&b, "signet_sign_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i],
		    (unsigned long long)cum);
	}
	cum += atomic_load(&sign_hist[NBUCKETS]);
	r |= add(&b, "signet_sign_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	r |= add(&b, "signet_sign_duration_seconds_sum %.6f\nsignet_sign_duration_seconds_count %llu\n",
	    (double)atomic_load(&sign_sum_us) / 1e6, (unsigned long long)atomic_load(&sign_count));

	if (s->ops->request_count_by_status(s, statuses, SG_RQ_COUNT - 1, counts) == SG_OK) {
		r |= add(&b, "# HELP signet_requests Signing requests by status (all tenants).\n"
		    "# TYPE signet_requests gauge\n");
		for (size_t i = 0; i < SG_RQ_COUNT - 1; i++)
			r |= add(&b, "signet_requests{status=\"%s\"} %lld\n", statuses[i], (long long)counts[i]);
		r |= add(&b, "# HELP signet_queue_depth Requests waiting for a worker (QUEUED).\n"
		    "# TYPE signet_queue_depth gauge\nsignet_queue_depth %lld\n", (long long)counts[SG_RQ_QUEUED - 1]);
		r |= add(&b, "# HELP signet_pending_approvals Requests waiting for approvals.\n"
		    "# TYPE signet_pending_approvals gauge\nsignet_pending_approvals %lld\n", (long long)counts[SG_RQ_PENDING_APPROVAL - 1]);
	}
	sg_queue_stats_get(req->svc->queue, &qs);
	r |= add(&b, "# HELP signet_workers_busy Queue workers signing right now.\n"
	    "# TYPE signet_workers_busy gauge\nsignet_workers_busy %llu\n", (unsigned long long)qs.busy);
	r |= add(&b, "# HELP signet_queue_signed_total Requests signed by queue workers.\n"
	    "# TYPE signet_queue_signed_total counter\nsignet_queue_signed_total %llu\n",
	    (unsigned long long)qs.signed_total);
	r |= add(&b, "# HELP signet_queue_retries_total Transient failures put back on the queue.\n"
	    "# TYPE signet_queue_retries_total counter\nsignet_queue_retries_total %llu\n",
	    (unsigned long long)qs.retries);
	r |= add(&b, "# HELP signet_queue_dead_letters_total Requests that ran out of attempts.\n"
	    "# TYPE signet_queue_dead_letters_total counter\nsignet_queue_dead_letters_total %llu\n",
	    (unsigned long long)qs.dead_letters);
	r |= add(&b, "# HELP signet_queue_failed_total Requests that failed permanently.\n"
	    "# TYPE signet_queue_failed_total counter\nsignet_queue_failed_total %llu\n",
	    (unsigned long long)qs.failed);
	r |= add(&b, "# HELP signet_approvals_expired_total Requests rejected when their approval window ran out.\n"
	    "# TYPE signet_approvals_expired_total counter\nsignet_approvals_expired_total %llu\n",
	    (unsigned long long)qs.expired_approvals);
	if (r != SG_OK) {
		sg_buf_free(&b);
		api_error(req, resp, SG_ERR_INTERNAL, "metrics");
		return;
	}
	free(resp->body);
	resp->body_len = b.len;
	resp->body = (char *)sg_buf_steal(&b, NULL);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4";
}
