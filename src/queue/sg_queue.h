/*
 * sg_queue.h - asynchronous signing: a pool of worker threads.
 *
 * Requests become QUEUED in the store (async submissions, and requests
 * whose approvals reached quorum).  Workers claim due requests from the
 * store under a lease (request_claim), sign them with sg_signing_execute and
 * commit the records of a whole claim together with SIGNED through the group
 * committer (sg_commit_signatures), so they share fsyncs.  A
 * transient failure (HSM away, key OFFLINE) goes back to QUEUED with
 * exponential backoff until max_attempts, then DEAD_LETTER with the last
 * error; a permanent one (key deleted, version destroyed) is FAILED.
 *
 * The store is the queue: nothing lives only in memory.  A worker killed
 * mid-job leaves its request PROCESSING with a lease that runs out, and the
 * next claim takes it again; the signature record and the SIGNED status are
 * written in one transaction, so a request is signed at most once on record.
 * A worker claims again at once for as long as its claims find work, so
 * what arrives while it signs is its next batch; sg_queue_notify() wakes a
 * sleeping worker only when none is working, and a full claim wakes one
 * more.  Sleeping workers also wake by themselves every poll interval (for
 * leases, backoff, and other nodes).
 * The same sweep expires approval windows.
 */
#ifndef SG_QUEUE_H
#define SG_QUEUE_H

#include <stdint.h>
#include "sg_err.h"
#include "sg_signing.h"

typedef struct sg_queue_config {
	unsigned workers;          /* threads; default 4 */
	int64_t lease_ms;          /* claim lease; default 30000 */
	int max_attempts;          /* then DEAD_LETTER; default 5 */
	int64_t backoff_base_ms;   /* first retry delay, doubled each attempt; default 500 */
	int64_t backoff_max_ms;    /* default 60000 */
	int64_t poll_ms;           /* idle wake-up; default 1000 */
	unsigned claim_batch;      /* requests per claim; default 16 */
} sg_queue_config;

typedef struct sg_queue sg_queue;

typedef struct sg_queue_stats {
	uint64_t busy;             /* workers signing right now */
	uint64_t signed_total;
	uint64_t retries;
	uint64_t failed;
	uint64_t dead_letters;
	uint64_t expired_approvals;
} sg_queue_stats;

/* Start the workers.  cfg fields left 0 take the defaults. */
int sg_queue_start(sg_service *svc, const sg_queue_config *cfg, sg_queue **out) SG_WUR;

/*
 * A request has just become QUEUED (and is committed): wake a worker if
 * none is working; a working one is sure to claim again before it sleeps.
 * NULL is fine.
 */
void sg_queue_notify(sg_queue *q);

void sg_queue_stats_get(sg_queue *q, sg_queue_stats *out);

/* Stop claiming, let running jobs finish, join.  NULL is fine. */
void sg_queue_stop(sg_queue *q);

#endif
