/*
 * committer.c - group commit of signature records (sg_committer_* in sg_store.h).
 *
 * A signature may leave the service only once its record is durable, and
 * with synchronous=FULL each transaction costs an fsync.  Signing threads
 * therefore share transactions: each queues its (request, signature, audit)
 * triple and the first of them to find nobody committing becomes the
 * leader.  The leader takes everything pending (up to max_batch, its own
 * triple first), writes it with a single commit_batch, wakes each follower
 * with its outcome, and hands the lead to the oldest triple that arrived
 * meanwhile, then returns with its own outcome.  While one batch is being
 * synced the next one gathers, so under load the fsync cost is shared, and
 * no thread is woken only to pass work on: a lone request commits on its
 * own thread with no hand-off at all (a dedicated committer thread cost two
 * context switches per batch, the largest single cost on a paravirtualised
 * machine).  The triples are not copied: each waiter's structs stay valid
 * while it sleeps.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "sg_log.h"
#include "sg_store.h"

#define SG_COMMITTER_DEFAULT_BATCH 64

/* A caller waiting for its triples; lives on its stack. */
typedef struct sg_commit_waiter {
	pthread_cond_t cv;
	size_t pending;   /* its triples not yet written */
	int lead;         /* this thread writes the next batch */
} sg_commit_waiter;

/* One queued triple, owned by its waiter. */
typedef struct sg_commit_item {
	const sg_request *req;
	const sg_signature *sig;
	sg_audit_entry *audit;
	int result;
	sg_commit_waiter *w;
	struct sg_commit_item *next;
} sg_commit_item;

struct sg_committer {
	sg_store *store;
	size_t max_batch;
	pthread_mutex_t mu;
	pthread_cond_t idle_cv;   /* signalled when the last waiter leaves */
	sg_commit_item *head, *tail;
	size_t queued;            /* items on the list */
	size_t waiters;           /* callers inside sg_commit_signature */
	int leading;              /* a leader is writing, or has been chosen */
	int stopping;
	/* Scratch for one batch; used only by the current leader. */
	sg_commit_item **batch;
	const sg_request **reqs;
	const sg_signature **sigs;
	sg_audit_entry **audits;
	uint64_t batches;   /* commit_batch calls, under mu */
	uint64_t items;     /* triples written or refused, under mu */
};

/*
 * Errors a store reports only when the database answered that the
 * transaction failed (a duplicate id, a SIGNED request, a bad argument, a
 * refused statement): it was rolled back, so the triples may be written
 * again one by one.  Any other
 * error (SG_ERR_UNAVAILABLE above all: the connection broke, perhaps
 * during COMMIT) leaves the outcome unknown: the batch may be on record,
 * and writing it again would record an async submission twice or refuse a
 * recorded signature as a conflict.
 */
static int
sg_committer_retryable(int r)
{
	return r == SG_ERR_CONFLICT || r == SG_ERR_INVALID_ARGUMENT || r == SG_ERR_NOT_FOUND ||
	    r == SG_ERR_PRECONDITION || r == SG_ERR_TOO_LARGE || r == SG_ERR_STORE;
}

/*
 * Write the batch.  If the shared transaction fails with an error known to
 * come before the commit, retry each triple alone so that one bad triple
 * (say, a duplicate id) fails only its own caller; any other error is
 * every triple's (the client may retry with its Idempotency-Key).
 */
static size_t
sg_committer_write(sg_committer *c, size_t n)
{
	size_t calls = 1;
	for (size_t i = 0; i < n; i++) {
		c->reqs[i] = c->batch[i]->req;
		c->sigs[i] = c->batch[i]->sig;
		c->audits[i] = c->batch[i]->audit;
	}
	int r = c->store->ops->commit_batch(c->store, c->reqs, c->sigs, c->audits, n);
	if (r == SG_OK || n == 1 || !sg_committer_retryable(r)) {
		for (size_t i = 0; i < n; i++)
			c->batch[i]->result = r;
		return calls;
	}
	sg_warn("store: group commit of %zu records failed (%s); retrying one by one", n,
	    sg_err_str(r));
	for (size_t i = 0; i < n; i++) {
		c->batch[i]->result = c->store->ops->commit_batch(c->store, &c->reqs[i],
		    &c->sigs[i], &c->audits[i], 1);
		calls++;
	}
	return calls;
}

/*
 * Lead one batch: the caller holds mu and one of its own items is at the
 * head of the list.  Returns with mu held, every item of the batch done,
 * and the lead passed on to the waiter of the new head (possibly the
 * caller again) or dropped when nothing is waiting.
 */
static void
sg_committer_lead(sg_committer *c)
{
	size_t n = 0;
	while (c->head != NULL && n < c->max_batch) {
		c->batch[n++] = c->head;
		c->head = c->head->next;
	}
	c->queued -= n;
	if (c->head == NULL)
		c->tail = NULL;
	pthread_mutex_unlock(&c->mu);

	size_t calls = sg_committer_write(c, n);

	pthread_mutex_lock(&c->mu);
	c->batches += calls;
	c->items += n;
	for (size_t i = 0; i < n; i++) {
		sg_commit_waiter *w = c->batch[i]->w;
		if (--w->pending == 0)
			pthread_cond_signal(&w->cv);
	}
	if (c->head != NULL) {
		c->head->w->lead = 1;
		pthread_cond_signal(&c->head->w->cv);
	} else {
		c->leading = 0;
	}
}

int
sg_committer_start(sg_store *s, size_t max_batch, sg_committer **out)
{
	sg_committer *c = NULL;
	int r = SG_ERR_INTERNAL;

	if (s == NULL || s->ops == NULL || s->ops->commit_batch == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (max_batch == 0)
		max_batch = SG_COMMITTER_DEFAULT_BATCH;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SG_ERR_NOMEM;
	c->store = s;
	c->max_batch = max_batch;
	c->batch = calloc(max_batch, sizeof(*c->batch));
	c->reqs = calloc(max_batch, sizeof(*c->reqs));
	c->sigs = calloc(max_batch, sizeof(*c->sigs));
	c->audits = calloc(max_batch, sizeof(*c->audits));
	if (c->batch == NULL || c->reqs == NULL || c->sigs == NULL || c->audits == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->idle_cv, NULL);
	*out = c;
	c = NULL;
	r = SG_OK;
out:
	if (c != NULL) {
		free(c->batch);
		free(c->reqs);
		free(c->sigs);
		free(c->audits);
		free(c);
	}
	return r;
}

int
sg_commit_signatures(sg_committer *c, size_t n, const sg_request *const *reqs,
    const sg_signature *const *sigs, sg_audit_entry *const *audits, int *results)
{
	sg_commit_waiter w = { .pending = n };
	sg_commit_item one, *items = NULL;
	int r = SG_ERR_INTERNAL;

	if (c == NULL || reqs == NULL || results == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (n == 0)
		return SG_OK;
	for (size_t i = 0; i < n; i++)
		if (reqs[i] == NULL)
			return SG_ERR_INVALID_ARGUMENT;
	if (n == 1)
		items = &one;  /* the sign path: no allocation */
	else if ((items = calloc(n, sizeof(*items))) == NULL)
		return SG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		items[i] = (sg_commit_item){ .req = reqs[i], .sig = sigs != NULL ? sigs[i] : NULL,
			.audit = audits != NULL ? audits[i] : NULL, .result = SG_ERR_INTERNAL, .w = &w };
	pthread_cond_init(&w.cv, NULL);
	pthread_mutex_lock(&c->mu);
	c->waiters++;
	if (c->stopping) {
		for (size_t i = 0; i < n; i++)
			results[i] = SG_ERR_UNAVAILABLE;
		r = SG_ERR_UNAVAILABLE;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (c->tail != NULL)
			c->tail->next = &items[i];
		else
			c->head = &items[i];
		c->tail = &items[i];
	}
	c->queued += n;
	if (!c->leading) {
		/* Nobody is writing, so the list held nothing: our first item is its head. */
		c->leading = 1;
		w.lead = 1;
	}
	while (w.pending > 0) {
		if (w.lead) {
			w.lead = 0;
			sg_committer_lead(c);
			continue;
		}
		pthread_cond_wait(&w.cv, &c->mu);
	}
	r = SG_OK;
	for (size_t i = 0; i < n; i++) {
		results[i] = items[i].result;
		if (items[i].result != SG_OK)
			r = items[i].result;
	}
out:
	if (--c->waiters == 0)
		pthread_cond_signal(&c->idle_cv);
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&w.cv);
	if (items != &one)
		free(items);
	return r;
}

int
sg_commit_signature(sg_committer *c, const sg_request *req, const sg_signature *sig,
    sg_audit_entry *audit)
{
	int result = SG_ERR_INTERNAL;
	if (c == NULL || req == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	int r = sg_commit_signatures(c, 1, &req, &sig, &audit, &result);
	return r == SG_OK ? result : r;
}

void
sg_committer_stats(sg_committer *c, uint64_t *batches, uint64_t *items, uint64_t *queued)
{
	uint64_t b = 0, i = 0, w = 0;
	if (c != NULL) {
		pthread_mutex_lock(&c->mu);
		b = c->batches;
		i = c->items;
		w = c->queued;
		pthread_mutex_unlock(&c->mu);
	}
	if (batches != NULL)
		*batches = b;
	if (items != NULL)
		*items = i;
	if (queued != NULL)
		*queued = w;
}

void
sg_committer_stop(sg_committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	/* Whatever is queued has a leader; wait for it and every caller to leave. */
	while (c->waiters > 0)
		pthread_cond_wait(&c->idle_cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&c->idle_cv);
	pthread_mutex_destroy(&c->mu);
	free(c->batch);
	free(c->reqs);
	free(c->sigs);
	free(c->audits);
	free(c);
}
