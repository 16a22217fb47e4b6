/*
 * sg_store_rules.h - the business rules every store back-end applies, written
 * once.
 *
 * The rules of a vote (who may vote, what the vote does to the request),
 * the approval-expiry sweep's record, and the audit chain's link belong to
 * Signet, not to SQLite or PostgreSQL.  They must nevertheless be applied
 * inside the back-end's transaction, with the rows it read under that
 * transaction's locks: two votes arriving at two nodes at once must each
 * see the other's effect, which only the database can serialise.  So the
 * rules are pure functions over records, with no I/O and no state, and a
 * back-end calls them between its reads and its writes:
 *
 *   approval_add:   sg_rule_vote_valid (before anything), read the request
 *                   (locked), sg_rule_vote_allowed, insert the vote (a second
 *                   vote by the same approver: the uniqueness constraint,
 *                   SG_ERR_CONFLICT), count APPROVED votes when
 *                   sg_rule_vote_counts, sg_rule_vote_outcome, write the
 *                   status and the outcome's audit entry, commit.
 *   request_expire_approvals: select and move the requests with
 *                   SG_RULE_EXPIRED_STATUS / SG_RULE_EXPIRED_ERROR, then
 *                   append sg_rule_expiry_audit for each, commit.
 *   every audit append: read the tenant's chain head (locked), then
 *                   sg_audit_link to number, chain and hash the entry, insert
 *                   it and move the head.
 *   commit_batch:   sg_rule_batch_valid (before anything); then keeps one
 *                   sg_audit_head per tenant of the batch (sg_audit_head_find;
 *                   read the head the first time a tenant appears), links
 *                   each entry after it, and writes the heads before commit.
 *
 * src/store/rules.c.
 */
#ifndef SG_STORE_RULES_H
#define SG_STORE_RULES_H

#include <stdint.h>
#include "sg_store.h"

/*
 * Whether a is a well-formed vote at all: request, tenant and approver set,
 * decision "APPROVED" or "REJECTED".  SG_OK or SG_ERR_INVALID_ARGUMENT
 * (a NULL a included).  Call it before opening a transaction.
 */
int sg_rule_vote_valid(const sg_approval *a) SG_WUR;

/*
 * Whether a may be recorded on the request as the back-end read it in the
 * vote's transaction: submitter_id (the request's principal_id), status and
 * approval_deadline (ms, 0 = no window).  SG_OK, or
 * SG_ERR_PRECONDITION when the request is not PENDING_APPROVAL or its window
 * ran out before a->created_at (whether or not the expiry sweep has run),
 * or SG_ERR_PERMISSION_DENIED when the approver is the submitter (the
 * submitter never votes on their own request).
 */
int sg_rule_vote_allowed(const sg_approval *a, const char *submitter_id, const char *status,
    int64_t approval_deadline) SG_WUR;

/* Nonzero when sg_rule_vote_outcome needs the APPROVED count (a is an approval). */
int sg_rule_vote_counts(const sg_approval *a);

/*
 * What a recorded vote does to its request.  approved is the number of
 * APPROVED votes on the request including a (read in the same transaction;
 * ignored for a REJECTED vote), required its approvals_required.
 */
typedef struct sg_vote_outcome {
	/*
	 * The request's new status, "REJECTED" or "QUEUED" (due at
	 * a->created_at), or NULL when it stays PENDING_APPROVAL.
	 */
	const char *to;
	/*
	 * When to is set: the entry for the status change, to append after the
	 * vote's own entry: actor the approver, object the request, action
	 * "request.rejected" or "request.queued" (details: approvals and
	 * required).  Its details point into details[] below, so the struct
	 * must stay where sg_rule_vote_outcome wrote it.
	 */
	sg_audit_entry audit;
	char details[64];
} sg_vote_outcome;

void sg_rule_vote_outcome(const sg_approval *a, int64_t approved, int64_t required,
    sg_vote_outcome *out);

/* What the approval-expiry sweep writes on each request it closes. */
#define SG_RULE_EXPIRED_STATUS "REJECTED"
#define SG_RULE_EXPIRED_ERROR "approval window expired"

/*
 * The audit entry for request r closed by the expiry sweep at now: actor
 * "", action "request.expired", object r->id, static details (the entry
 * owns no heap memory).
 */
void sg_rule_expiry_audit(const sg_request *r, int64_t now, sg_audit_entry *out);

/*
 * Make *e the link after (head_seq, head_hash) of its tenant's chain: seq =
 * head_seq + 1, prev_hash = head_hash, hash = sg_audit_entry_hash.  The
 * head must be read inside the transaction that inserts e, under a lock
 * that keeps any other writer of the tenant's chain out until commit.
 * SG_ERR_INVALID_ARGUMENT (e untouched) when e has no action.
 */
int sg_audit_link(sg_audit_entry *e, int64_t head_seq, const uint8_t head_hash[32]) SG_WUR;

/*
 * Whether a request or a signature record is well-formed enough to be
 * written (ids, tenant and status present, blobs within their fields, a
 * signature present); every back-end checks before it binds.  1 or 0.
 */
int sg_rule_request_valid(const sg_request *q);
int sg_rule_signature_valid(const sg_signature *g);

/*
 * Whether commit_batch's arguments are well-formed, before a transaction is
 * opened: reqs non-NULL with no NULL element (n > 0), and each signature
 * sigs[i] given belonging to its request: request_id reqs[i]->id and
 * tenant_id reqs[i]->tenant_id (the store's tenant check on the request
 * then covers the signature too).  SG_OK or SG_ERR_INVALID_ARGUMENT.
 */
int sg_rule_batch_valid(const sg_request *const *reqs, const sg_signature *const *sigs,
    size_t n) SG_WUR;

/*
 * A chain head as a batch of appends moves it (commit_batch): read once per
 * tenant the first time the batch meets the tenant, advanced by each
 * sg_audit_link, written once before commit.
 */
typedef struct sg_audit_head {
	char tenant_id[SG_ID_MAX];
	int64_t seq;
	uint8_t hash[32];
} sg_audit_head;

/* The entry of heads[0..n) for tenant_id, or NULL. */
sg_audit_head *sg_audit_head_find(sg_audit_head *heads, size_t n, const char *tenant_id);

/* Oldest first (created_at, then id): the order claims and sweeps return requests in. */
int sg_request_cmp_age(const void *a, const void *b);

#endif
