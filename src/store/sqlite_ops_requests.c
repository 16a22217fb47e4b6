/*
 * sqlite_ops_requests.c - the SQLite operations on policies, requests and
 * signature records: the group committer's batch, the queue (claims,
 * transitions), idempotency, votes and the approval-expiry sweep.  The
 * rules of votes and expiry are sg_store_rules.h's, applied here inside
 * the writer's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

/* ---- policies ---- */

int
sq_policy_create(sg_store *s, const sg_policy *p, sg_audit_entry *audit)
{
	sq_db *q = s->impl;
	int r = SG_ERR_INTERNAL;

	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0' || p->project[0] == '\0' ||
	    p->slug[0] == '\0' || p->key_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { SQ_FIELD(p->id), SQ_FIELD(p->tenant_id), SQ_FIELD(p->project),
	    SQ_FIELD(p->slug), SQ_FIELD(p->key_id), sq_str(p->allowed_hash_algorithms),
	    sq_str(p->allowed_signature_algorithms), sq_int(p->allow_fast != 0),
	    sq_int(p->approvals_required), sq_str(p->approvers),
	    sq_int(p->approval_timeout_seconds), sq_str(p->required_metadata),
	    sq_int(p->allow_legacy_hashes != 0), sq_int(p->timestamp != 0), sq_int(p->created_at) };
	if ((r = sq_run(w, SQ_POLICY_INSERT, a, SQ_NARGS(a), NULL)) != SG_OK)
		goto out;
	r = sq_commit_with_audit(w, audit);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

int
sq_policy_get(sg_store *s, const char *tenant_id, const char *project, const char *slug,
    sg_policy *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(project) || sq_bad_str(slug) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(project), sq_str(slug) };
	return sq_get_one(s->impl, SQ_POLICY_GET, a, SQ_NARGS(a), &sg_rec_policy, out);
}

int
sq_policy_list(sg_store *s, const char *tenant_id, sg_policy **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_POLICY_LIST, a, SQ_NARGS(a), &sg_rec_policy, (void **)out, n);
}

/* ---- requests and signatures ---- */

int
sq_request_get(sg_store *s, const char *tenant_id, const char *id, sg_request *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	return sq_get_one(s->impl, SQ_REQUEST_GET, a, SQ_NARGS(a), &sg_rec_request, out);
}

int
sq_signature_get(sg_store *s, const char *tenant_id, const char *id, sg_signature *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	return sq_get_one(s->impl, SQ_SIGNATURE_GET, a, SQ_NARGS(a), &sg_rec_signature, out);
}

/* Insert (SQ_REQUEST_INSERT) or upsert (SQ_REQUEST_UPSERT) request q on the writer. */
int
sq_request_write(sq_conn *w, enum sq_stmt_id id, const sg_request *q)
{
	int changes = 0;
	int r;

	if (!sg_rule_request_valid(q))
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(q->id), SQ_FIELD(q->tenant_id), SQ_FIELD(q->principal_id),
	    SQ_FIELD(q->key_id), sq_int(q->key_version), SQ_FIELD(q->policy),
	    SQ_FIELD(q->hash_alg), SQ_FIELD(q->sig_scheme), SQ_FIELD(q->sig_format),
	    sq_int(q->pss_salt_len), sq_blob(q->digest, q->digest_len),
	    sq_blob(q->context, q->context_len), sq_int(q->timestamp != 0),
	    sq_str(q->metadata_json), SQ_FIELD(q->status), sq_str(q->error),
	    SQ_FIELD(q->signature_id), SQ_FIELD(q->original_request_id), SQ_FIELD(q->client_ip),
	    SQ_FIELD(q->client_type), sq_int(q->attempts), sq_int(q->created_at),
	    sq_int(q->updated_at), SQ_FIELD(q->description), sq_int(q->approvals_required),
	    sq_int(q->approval_deadline), sq_int(q->next_attempt_at), sq_int(q->lease_until),
	    q->idempotency_key[0] != '\0' ? SQ_FIELD(q->idempotency_key) : sq_str(NULL),
	    sq_blob(q->body_hash, sizeof(q->body_hash)) };
	if ((r = sq_run(w, id, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	if (changes != 1) {
		sg_warn("store: request %.40s is signed already or belongs to another tenant", q->id);
		return SG_ERR_CONFLICT;
	}
	return SG_OK;
}

static int
sq_signature_insert(sq_conn *w, const sg_signature *g)
{
	if (!sg_rule_signature_valid(g))
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(g->id), SQ_FIELD(g->request_id), SQ_FIELD(g->tenant_id),
	    SQ_FIELD(g->key_id), sq_int(g->key_version), SQ_FIELD(g->hash_alg),
	    SQ_FIELD(g->sig_scheme), SQ_FIELD(g->sig_format), sq_blob(g->digest, g->digest_len),
	    sq_blob(g->signature, g->signature_len),
	    sq_blob_or_null(g->timestamp_token, g->timestamp_token_len),
	    sq_str(g->metadata_json), SQ_FIELD(g->created_by), SQ_FIELD(g->client_ip),
	    SQ_FIELD(g->client_type), sq_int(g->created_at) };
	return sq_run(w, SQ_SIGNATURE_INSERT, a, SQ_NARGS(a), NULL);
}

/*
 * Append e to its chain inside a batch: the head comes from heads[] (read
 * from the database the first time the batch meets its tenant) and moves
 * there, so n entries of one tenant cost one head read and one head write
 * instead of n of each.  Every entry is still its own link in the chain.
 */
static int
sq_audit_append_batched(sq_conn *w, const sg_audit_entry *e, sg_audit_head *heads, size_t *nheads,
    sq_link *link)
{
	sg_audit_head *h = sg_audit_head_find(heads, *nheads, e->tenant_id);
	int r;

	if (h == NULL) {
		h = &heads[(*nheads)++];
		sg_strlcpy(h->tenant_id, e->tenant_id, sizeof(h->tenant_id));
		if ((r = sq_audit_head_on(w, h->tenant_id, &h->seq, h->hash)) != SG_OK) {
			(*nheads)--;
			return r;
		}
	}
	if ((r = sq_audit_insert_after(w, e, h->seq, h->hash, link)) != SG_OK)
		return r;
	h->seq = link->seq;
	memcpy(h->hash, link->hash, sizeof(h->hash));
	return SG_OK;
}

int
sq_commit_batch(sg_store *s, const sg_request *const *reqs, const sg_signature *const *sigs,
    sg_audit_entry *const *audits, size_t n)
{
	sq_db *q = s->impl;
	sq_link *links = NULL;
	sg_audit_head *heads = NULL;
	size_t nheads = 0;
	int r = SG_ERR_INTERNAL;

	if (n == 0)
		return SG_OK;
	if ((r = sg_rule_batch_valid(reqs, sigs, n)) != SG_OK)
		return r;
	if (audits != NULL && ((links = calloc(n, sizeof(*links))) == NULL ||
	    (heads = calloc(n, sizeof(*heads))) == NULL)) {
		free(links);
		return SG_ERR_NOMEM;
	}
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((r = sq_request_write(w, SQ_REQUEST_UPSERT, reqs[i])) != SG_OK)
			goto out;
		if (sigs != NULL && sigs[i] != NULL &&
		    (r = sq_signature_insert(w, sigs[i])) != SG_OK)
			goto out;
		if (audits != NULL && audits[i] != NULL &&
		    (r = sq_audit_append_batched(w, audits[i], heads, &nheads, &links[i])) != SG_OK)
			goto out;
	}
	for (size_t i = 0; i < nheads; i++)
		if ((r = sq_audit_set_head(w, heads[i].tenant_id, heads[i].seq, heads[i].hash)) != SG_OK)
			goto out;
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	for (size_t i = 0; audits != NULL && i < n; i++)
		sq_link_fill(audits[i], &links[i]);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	free(links);
	free(heads);
	return r;
}

/* ---- the workflow: queue, approvals, idempotency ---- */

int
sq_request_list(sg_store *s, const char *tenant_id, const char *status, int64_t limit,
    sg_request **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || limit < 1 || limit > 1000 || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(status != NULL && status[0] != '\0' ? status : NULL),
	    sq_int(limit) };
	return sq_get_list(s->impl, SQ_REQUEST_LIST, a, SQ_NARGS(a), &sg_rec_request, (void **)out, n);
}

int
sq_request_claim(sg_store *s, int64_t now, int64_t lease_ms, size_t max, sg_request **out,
    size_t *n)
{
	sq_db *q = s->impl;
	sg_request *list = NULL;
	size_t count = 0;
	int r = SG_ERR_INTERNAL;

	if (lease_ms <= 0 || out == NULL || n == NULL || max > INT32_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	if (max == 0) {
		*out = NULL;
		*n = 0;
		return SG_OK;
	}
	/*
	 * The claim is committed without an fsync (synchronous=NORMAL, as the
	 * notification bookkeeping is): a claim undone by a power cut only
	 * returns its requests to QUEUED (the worker that held it died with
	 * the machine), and in WAL mode the next synchronous=FULL commit (the
	 * signature record of this very claim) makes these frames durable too.
	 * So a SIGNED status is still visible only after a durable record.
	 */
	sq_conn *w = sq_lazy_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_int(now), sq_int(lease_ms), sq_int((int64_t)max) };
	if ((r = sq_list_on(w, SQ_REQUEST_CLAIM, a, SQ_NARGS(a), &sg_rec_request,
	    (void **)&list, &count)) != SG_OK)
		goto out;
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	if (count > 1)
		qsort(list, count, sizeof(*list), sg_request_cmp_age);
	*out = list;
	*n = count;
	list = NULL;
	count = 0;
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_lazy_write_end(q, w);
	sg_request_list_free(list, count);
	return r;
}

int
sq_request_transition(sg_store *s, const char *tenant_id, const char *id, const char *from,
    const char *to, int attempts, const char *error, int64_t next_attempt_at, int64_t now,
    sg_audit_entry *audit)
{
	sq_db *q = s->impl;
	int changes = 0;
	int r = SG_ERR_INTERNAL;

	if (sq_bad_str(tenant_id) || sq_bad_str(id) || sq_bad_str(from) || sq_bad_str(to))
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_str(to), sq_str(error), sq_int(next_attempt_at), sq_int(now),
	    sq_str(tenant_id), sq_str(id), sq_str(from), sq_int(attempts) };
	if ((r = sq_run(w, SQ_REQUEST_TRANSITION, a, SQ_NARGS(a), &changes)) != SG_OK)
		goto out;
	if (changes == 0) {
		int64_t one = 0;
		sq_arg e[] = { sq_str(tenant_id), sq_str(id) };
		r = sq_scalar_on(w, SQ_REQUEST_EXISTS, e, SQ_NARGS(e), &one);
		if (r == SG_OK)
			r = SG_ERR_PRECONDITION;  /* it exists, in another state */
		goto out;
	}
	r = sq_commit_with_audit(w, audit);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

int
sq_request_count_by_status(sg_store *s, const char *const *statuses, size_t n, int64_t *counts)
{
	sq_db *q = s->impl;
	int64_t *tmp = NULL;
	int r = SG_ERR_INTERNAL;

	if (n == 0)
		return SG_OK;
	if (statuses == NULL || counts == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if ((tmp = calloc(n, sizeof(*tmp))) == NULL)
		return SG_ERR_NOMEM;
	sq_conn *c = sq_read_begin(q);
	for (size_t i = 0; i < n; i++) {
		if (statuses[i] == NULL) {
			r = SG_ERR_INVALID_ARGUMENT;
			goto out;
		}
		sq_arg a[] = { sq_str(statuses[i]) };
		if ((r = sq_scalar_on(c, SQ_REQUEST_COUNT, a, SQ_NARGS(a), &tmp[i])) != SG_OK)
			goto out;
	}
	memcpy(counts, tmp, n * sizeof(*tmp));
	r = SG_OK;
out:
	sq_read_end(q, c);
	free(tmp);
	return r;
}

int
sq_request_find_idempotent(sg_store *s, const char *tenant_id, const char *principal_id,
    const char *key, sg_request *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(principal_id) || sq_bad_str(key) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(principal_id), sq_str(key), sq_str(tenant_id) };
	return sq_get_one(s->impl, SQ_REQUEST_FIND_IDEMPOTENT, a, SQ_NARGS(a), &sg_rec_request, out);
}

int
sq_idempotency_purge(sg_store *s, int64_t before)
{
	sq_arg a[] = { sq_int(before) };
	return sq_write1(s->impl, SQ_IDEMPOTENCY_PURGE, a, SQ_NARGS(a), NULL);
}

/* What a vote needs to know of its request (SQ_REQUEST_VOTE_INFO), read in its transaction. */
typedef struct sq_vote_info {
	char submitter[SG_ID_MAX];
	char status[SG_STATUS_MAX];
	int64_t required;
	int64_t deadline;
} sq_vote_info;

static const sg_col sq_vote_info_cols[] = {
	{ "principal_id", SG_COL_TEXT, 0, offsetof(sq_vote_info, submitter), SG_ID_MAX, 0 },
	{ "status", SG_COL_TEXT, 0, offsetof(sq_vote_info, status), SG_STATUS_MAX, 0 },
	{ "approvals_required", SG_COL_I64, 0, offsetof(sq_vote_info, required), sizeof(int64_t), 0 },
	{ "approval_deadline", SG_COL_I64, 0, offsetof(sq_vote_info, deadline), sizeof(int64_t), 0 },
};
static const sg_record_desc sq_rec_vote_info = { "vote info", sizeof(sq_vote_info),
    sq_vote_info_cols, sizeof(sq_vote_info_cols) / sizeof(sq_vote_info_cols[0]), NULL, 0 };

int
sq_approval_add(sg_store *s, const sg_approval *a, sg_audit_entry *audit,
    char new_status[SG_STATUS_MAX])
{
	sq_db *q = s->impl;
	sq_link link;
	sg_vote_outcome outcome;
	sq_vote_info info;
	int64_t approved = 0;
	int r = SG_ERR_INTERNAL;

	if ((r = sg_rule_vote_valid(a)) != SG_OK)
		return r;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;

	sq_arg key[] = { SQ_FIELD(a->tenant_id), SQ_FIELD(a->request_id) };
	if ((r = sq_one_on(w, SQ_REQUEST_VOTE_INFO, key, SQ_NARGS(key), &sq_rec_vote_info,
	    &info)) != SG_OK)
		goto out;

	if ((r = sg_rule_vote_allowed(a, info.submitter, info.status, info.deadline)) != SG_OK)
		goto out;
	sq_arg vote[] = { SQ_FIELD(a->request_id), SQ_FIELD(a->tenant_id), SQ_FIELD(a->approver_id),
	    SQ_FIELD(a->decision), SQ_FIELD(a->comment), sq_int(a->created_at) };
	if ((r = sq_run(w, SQ_APPROVAL_INSERT, vote, SQ_NARGS(vote), NULL)) != SG_OK)
		goto out;  /* a second vote by the same approver is a primary-key conflict */
	if (audit != NULL && (r = sq_audit_append_on(w, audit, &link)) != SG_OK)
		goto out;

	if (sg_rule_vote_counts(a)) {
		sq_arg c[] = { SQ_FIELD(a->request_id) };
		if ((r = sq_scalar_on(w, SQ_APPROVAL_COUNT, c, SQ_NARGS(c), &approved)) != SG_OK)
			goto out;
	}
	sg_rule_vote_outcome(a, approved, info.required, &outcome);
	if (outcome.to != NULL) {
		sq_arg set[] = { sq_str(outcome.to), sq_int(a->created_at), sq_int(a->created_at),
		    SQ_FIELD(a->request_id) };
		if ((r = sq_run(w, SQ_REQUEST_SET_STATUS, set, SQ_NARGS(set), NULL)) != SG_OK)
			goto out;
		sq_link moved_link;
		if ((r = sq_audit_append_on(w, &outcome.audit, &moved_link)) != SG_OK)
			goto out;
		sg_strlcpy(info.status, outcome.to, sizeof(info.status));
	}
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	if (audit != NULL)
		sq_link_fill(audit, &link);
	if (new_status != NULL)
		sg_strlcpy(new_status, info.status, SG_STATUS_MAX);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

int
sq_approval_list(sg_store *s, const char *tenant_id, const char *request_id,
    sg_approval **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(request_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(request_id) };
	return sq_get_list(s->impl, SQ_APPROVAL_LIST, a, SQ_NARGS(a), &sg_rec_approval, (void **)out, n);
}

int
sq_request_expire_approvals(sg_store *s, int64_t now, sg_request **out, size_t *n)
{
	sq_db *q = s->impl;
	sg_request *list = NULL;
	size_t count = 0;
	int r = SG_ERR_INTERNAL;

	if (n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg a[] = { sq_int(now), sq_str(SG_RULE_EXPIRED_STATUS), sq_str(SG_RULE_EXPIRED_ERROR) };
	if ((r = sq_list_on(w, SQ_REQUEST_EXPIRE, a, SQ_NARGS(a), &sg_rec_request,
	    (void **)&list, &count)) != SG_OK)
		goto out;
	if (count > 1)
		qsort(list, count, sizeof(*list), sg_request_cmp_age);
	for (size_t i = 0; i < count; i++) {
		sg_audit_entry e;
		sq_link link;
		sg_rule_expiry_audit(&list[i], now, &e);
		if ((r = sq_audit_append_on(w, &e, &link)) != SG_OK)
			goto out;
	}
	if ((r = sq_tx_commit(w)) != SG_OK)
		goto out;
	if (out != NULL) {
		*out = list;
		list = NULL;
	}
	*n = count;
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	sg_request_list_free(list, count);
	return r;
}
