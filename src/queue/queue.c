/* queue.c - worker pool over the store's request queue (see sg_queue.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sg_log.h"
#include "sg_queue.h"
#include "sg_util.h"

struct sg_queue {
	sg_service *svc;
	sg_queue_config cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned pending_wakeups;
	unsigned active;          /* workers claiming or signing, not waiting; under mu */
	uint64_t notified;        /* sg_queue_notify calls so far; under mu */
	int stopping;
	pthread_t *threads;
	unsigned nthreads;
	atomic_uint_fast64_t busy, signed_total, retries, failed, dead_letters, expired;
	atomic_int_fast64_t last_sweep_ms;
};

static void
audit_for(const sg_request *rq, sg_audit_entry *e, const char *action, const char *detail)
{
	memset(e, 0, sizeof(*e));
	sg_strlcpy(e->tenant_id, rq->tenant_id, sizeof(e->tenant_id));
	sg_strlcpy(e->actor, "", sizeof(e->actor));
	sg_strlcpy(e->action, action, sizeof(e->action));
	sg_strlcpy(e->object, rq->id, sizeof(e->object));
	e->ts = sg_now_ms();
	e->details = (char *)detail;  /* borrowed; the store only reads it */
}

static int64_t
backoff_ms(const sg_queue *q, int attempts)
{
	int64_t d = q->cfg.backoff_base_ms;
	for (int i = 1; i < attempts && d < q->cfg.backoff_max_ms; i++)
		d *= 2;
	return d < q->cfg.backoff_max_ms ? d : q->cfg.backoff_max_ms;
}

/*
 * Sign one claimed request.  On success *sig and *audit are ready for the
 * committer and 1 is returned; a failure is recorded here (retry, dead
 * letter or failed) and 0 returned.
 */
static int
sign_job(sg_queue *q, sg_request *rq, sg_signature *sig, sg_audit_entry *audit)
{
	sg_store *s = q->svc->store;
	const char *errmsg = NULL;
	char detail[256];

	memset(sig, 0, sizeof(*sig));
	int r = sg_signing_execute(q->svc, rq, sig, &errmsg);
	int64_t now = sg_now_ms();
	if (r == SG_OK) {
		sg_strlcpy(rq->status, "SIGNED", sizeof(rq->status));
		sg_strlcpy(rq->signature_id, sig->id, sizeof(rq->signature_id));
		rq->key_version = sig->key_version;
		free(rq->error);
		rq->error = NULL;
		rq->updated_at = now;
		rq->lease_until = 0;
		audit_for(rq, audit, "request.signed", NULL);
		return 1;
	}
	if (sg_signing_transient(r) && rq->attempts < q->cfg.max_attempts) {
		snprintf(detail, sizeof(detail), "{\"attempt\":%d,\"error\":\"%s\"}", rq->attempts, errmsg);
		audit_for(rq, audit, "request.retry", detail);
		r = s->ops->request_transition(s, rq->tenant_id, rq->id, "PROCESSING", "QUEUED",
		    rq->attempts, errmsg, now + backoff_ms(q, rq->attempts), now, audit);
		if (r == SG_OK)
			atomic_fetch_add(&q->retries, 1);
		else
			sg_warn("queue: request %s not re-queued (%s): %s", rq->id, sg_err_str(r),
			    r == SG_ERR_PRECONDITION ? "its lease ran out and another worker has it" :
			    "the lease runs out and it is claimed again");
	} else {
		const char *to = sg_signing_transient(r) ? "DEAD_LETTER" : "FAILED";
		snprintf(detail, sizeof(detail), "{\"attempts\":%d,\"error\":\"%s\"}", rq->attempts, errmsg);
		audit_for(rq, audit, strcmp(to, "FAILED") == 0 ? "request.failed" : "request.dead_letter", detail);
		r = s->ops->request_transition(s, rq->tenant_id, rq->id, "PROCESSING", to, rq->attempts,
		    errmsg, 0, now, audit);
		if (r == SG_OK) {
			atomic_fetch_add(strcmp(to, "FAILED") == 0 ? &q->failed : &q->dead_letters, 1);
			sg_info("queue: request %s %s after %d attempt(s): %s", rq->id, to, rq->attempts,
			    errmsg);
		} else {
			sg_warn("queue: request %s not marked %s (%s)%s", rq->id, to, sg_err_str(r),
			    r == SG_ERR_PRECONDITION ? ": its lease ran out and another worker has it" : "");
		}
	}
	return 0;
}

/*
 * Sign every claimed request, then record all the signatures with one call
 * to the group committer: they share transactions (and fsyncs) with each
 * other and with the sync path, instead of one commit per request.
 */
static void
run_jobs(sg_queue *q, sg_request *jobs, size_t n)
{
	sg_signature *sigs = calloc(n, sizeof(*sigs));
	sg_audit_entry *audits = calloc(n, sizeof(*audits));
	const sg_request **reqs = calloc(n, sizeof(*reqs));
	const sg_signature **sigp = calloc(n, sizeof(*sigp));
	sg_audit_entry **auditp = calloc(n, sizeof(*auditp));
	int *results = calloc(n, sizeof(*results));
	size_t *which = calloc(n, sizeof(*which));
	size_t k = 0;

	if (sigs == NULL || audits == NULL || reqs == NULL || sigp == NULL || auditp == NULL ||
	    results == NULL || which == NULL) {
		/* Nothing was signed: the leases run out and the requests are claimed again. */
		sg_warn("queue: out of memory for %zu claimed request(s); they will be retried", n);
		goto out;
	}
	/* busy counts workers at work (signet_workers_busy), not requests. */
	atomic_fetch_add(&q->busy, 1);
	for (size_t i = 0; i < n; i++) {
		/*
		 * Jobs are signed one after another: one whose lease has run out
		 * (a slow batch or HSM) may be another worker's by now, so it is
		 * not signed; its new worker, or the next claim, signs it.  One
		 * whose lease runs out while it is signed is fenced out by the
		 * store when it is recorded (its attempts count has moved on).
		 */
		if (sg_now_ms() >= jobs[i].lease_until) {
			sg_warn("queue: request %s dropped: its lease ran out before it was signed",
			    jobs[i].id);
			continue;
		}
		if (!sign_job(q, &jobs[i], &sigs[i], &audits[i]))
			continue;
		reqs[k] = &jobs[i];
		sigp[k] = &sigs[i];
		auditp[k] = &audits[i];
		which[k++] = i;
	}
	if (k > 0 && sg_commit_signatures(q->svc->committer, k, reqs, sigp, auditp, results) ==
	    SG_ERR_NOMEM) {
		for (size_t j = 0; j < k; j++)
			results[j] = SG_ERR_NOMEM;
	}
	for (size_t j = 0; j < k; j++) {
		if (results[j] == SG_OK) {
			atomic_fetch_add(&q->signed_total, 1);
		} else if (results[j] == SG_ERR_CONFLICT) {
			/* Fenced out: its lease ran out and another worker claimed or finished it. */
			sg_warn("queue: request %s signed but dropped: its lease ran out and another "
			    "worker has it (%s)", jobs[which[j]].id, sg_err_str(results[j]));
		} else {
			/* Not on record, so not signed: the lease runs out and it is claimed again. */
			sg_warn("queue: request %s signed but not recorded (%s); it will be retried",
			    jobs[which[j]].id, sg_err_str(results[j]));
		}
	}
	atomic_fetch_sub(&q->busy, 1);
out:
	for (size_t i = 0; sigs != NULL && i < n; i++) {
		sigs[i].metadata_json = NULL;  /* borrowed from the request */
		sg_signature_clear(&sigs[i]);
	}
	free(sigs);
	free(audits);
	free(reqs);
	free(sigp);
	free(auditp);
	free(results);
	free(which);
}

/* Once per poll interval, one worker expires approval windows. */
static void
sweep(sg_queue *q)
{
	int64_t now = sg_now_ms(), last = atomic_load(&q->last_sweep_ms);
	if (now - last < q->cfg.poll_ms ||
	    !atomic_compare_exchange_strong(&q->last_sweep_ms, &last, now))
		return;
	size_t n = 0;
	sg_store *s = q->svc->store;
	if (s->ops->request_expire_approvals(s, now, NULL, &n) == SG_OK && n > 0) {
		atomic_fetch_add(&q->expired, n);
		sg_info("queue: %zu request(s) rejected: approval window expired", n);
	}
	if (q->svc->idempotency_ttl_ms > 0)
		(void)s->ops->idempotency_purge(s, now - q->svc->idempotency_ttl_ms);
}

/*
 * Sleep until woken or the poll interval ends, unless a notification came
 * since `seen` (read before the last claim): then that claim may have
 * missed the request, and the caller claims again at once.
 */
static void
wait_for_work(sg_queue *q, uint64_t seen)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ns = (int64_t)ts.tv_nsec + (q->cfg.poll_ms % 1000) * 1000000;
	ts.tv_sec += (time_t)(q->cfg.poll_ms / 1000 + ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	pthread_mutex_lock(&q->mu);
	if (q->notified != seen) {
		pthread_mutex_unlock(&q->mu);
		return;
	}
	q->active--;
	while (!q->stopping && q->pending_wakeups == 0) {
		if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) != 0)
			break;
	}
	if (q->pending_wakeups > 0)
		q->pending_wakeups--;
	q->active++;
	pthread_mutex_unlock(&q->mu);
}

static uint64_t
notifications(sg_queue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t n = q->notified;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* Wake one more worker (a full claim: more work than one worker keeps up with). */
static void
wake_helper(sg_queue *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->active < q->nthreads && q->pending_wakeups < q->nthreads) {
		q->pending_wakeups++;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
}

static int
stopping(sg_queue *q)
{
	pthread_mutex_lock(&q->mu);
	int st = q->stopping;
	pthread_mutex_unlock(&q->mu);
	return st;
}

/*
 * A worker claims, signs and commits, and claims again at once for as long
 * as a claim finds work: what arrived while one claim was being signed is
 * the next batch, the way the group committer gathers records.  A full
 * claim wakes a helper.  So under a steady stream few workers run and
 * each claim and commit carries many requests, instead of every
 * submission waking a worker for a claim of one.
 */
static void *
worker(void *arg)
{
	sg_queue *q = arg;
	sg_store *s = q->svc->store;
	pthread_mutex_lock(&q->mu);
	q->active++;
	pthread_mutex_unlock(&q->mu);
	while (!stopping(q)) {
		sweep(q);
		uint64_t seen = notifications(q);
		sg_request *jobs = NULL;
		size_t n = 0;
		int r = s->ops->request_claim(s, sg_now_ms(), q->cfg.lease_ms, q->cfg.claim_batch, &jobs, &n);
		if (r != SG_OK)
			sg_warn("queue: claim failed: %s", sg_err_str(r));
		if (r == SG_OK && n == q->cfg.claim_batch)
			wake_helper(q);
		if (n > 0)
			run_jobs(q, jobs, n);
		sg_request_list_free(jobs, n);
		if (r == SG_OK && n > 0)
			continue;  /* more may have arrived meanwhile */
		wait_for_work(q, seen);
	}
	return NULL;
}

int
sg_queue_start(sg_service *svc, const sg_queue_config *cfg, sg_queue **out)
{
	sg_queue *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return SG_ERR_NOMEM;
	q->svc = svc;
	q->cfg = *cfg;
	if (q->cfg.workers == 0) q->cfg.workers = 4;
	if (q->cfg.lease_ms <= 0) q->cfg.lease_ms = 30000;
	if (q->cfg.max_attempts <= 0) q->cfg.max_attempts = 5;
	if (q->cfg.backoff_base_ms <= 0) q->cfg.backoff_base_ms = 500;
	if (q->cfg.backoff_max_ms <= 0) q->cfg.backoff_max_ms = 60000;
	if (q->cfg.poll_ms <= 0) q->cfg.poll_ms = 1000;
	if (q->cfg.claim_batch == 0) q->cfg.claim_batch = 16;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if ((q->threads = calloc(q->cfg.workers, sizeof(pthread_t))) == NULL) {
		sg_queue_stop(q);
		return SG_ERR_NOMEM;
	}
	for (unsigned i = 0; i < q->cfg.workers; i++) {
		if (pthread_create(&q->threads[i], NULL, worker, q) != 0) {
			sg_queue_stop(q);
			return SG_ERR_INTERNAL;
		}
		q->nthreads++;
	}
	*out = q;
	return SG_OK;
}

void
sg_queue_notify(sg_queue *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->notified++;
	/* A running worker claims again before it sleeps; only an idle pool needs waking. */
	if (q->active == 0 && q->pending_wakeups < q->nthreads) {
		q->pending_wakeups++;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
}

void
sg_queue_stats_get(sg_queue *q, sg_queue_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (q == NULL)
		return;
	out->busy = atomic_load(&q->busy);
	out->signed_total = atomic_load(&q->signed_total);
	out->retries = atomic_load(&q->retries);
	out->failed = atomic_load(&q->failed);
	out->dead_letters = atomic_load(&q->dead_letters);
	out->expired_approvals = atomic_load(&q->expired);
}

void
sg_queue_stop(sg_queue *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (unsigned i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	free(q->threads);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
