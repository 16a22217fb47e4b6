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

/* One waiting triple; lives on the waiting thread's stack. */
typedef struct sg_commit_item {
	const sg_request *req;
	const sg_signature *sig;
	sg_audit_entry *audit;
	int done;
	int lead;       /* this thread writes the next batch */
	int result;
	pthread_cond_t cv;
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
 * Write the batch.  If the shared transaction fails, retry each triple alone
 * so that one bad triple (say, a duplicate id) fails only its own caller.
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
	if (r == SG_OK || n == 1) {
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
 * Lead one batch: the caller holds mu and its own item is at the head of
 * the list.  Returns with mu held, every item of the batch done, and the
 * lead passed on (or dropped when nothing is waiting).
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
		c->batch[i]->done = 1;
		if (i > 0)  /* batch[0] is the leader itself */
			pthread_cond_signal(&c->batch[i]->cv);
	}
	if (c->head != NULL) {
		c->head->lead = 1;
		pthread_cond_signal(&c->head->cv);
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
sg_commit_signature(sg_committer *c, const sg_request *req, const sg_signature *sig,
    sg_audit_entry *audit)
{
	sg_commit_item it = { .req = req, .sig = sig, .audit = audit };
	int r = SG_ERR_INTERNAL;

	if (c == NULL || req == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	pthread_cond_init(&it.cv, NULL);
	pthread_mutex_lock(&c->mu);
	c->waiters++;
	if (c->stopping) {
		r = SG_ERR_UNAVAILABLE;
		goto out;
	}
	if (c->tail != NULL)
		c->tail->next = &it;
	else
		c->head = &it;
	c->tail = &it;
	c->queued++;
	if (!c->leading) {
		/* Nobody is writing, so the list held nothing: this item is its head. */
		c->leading = 1;
		it.lead = 1;
	}
	while (!it.done) {
		if (it.lead) {
			sg_committer_lead(c);
			break;
		}
		pthread_cond_wait(&it.cv, &c->mu);
	}
	r = it.result;
out:
	if (--c->waiters == 0)
		pthread_cond_signal(&c->idle_cv);
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&it.cv);
	return r;
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
