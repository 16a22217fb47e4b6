/*
 * rules.c - the business rules of sg_store_rules.h: the vote, the
 * approval-expiry record, the audit chain link.  Pure functions over
 * records; the back-ends call them inside their transactions.
 */
#include <stdio.h>
#include <string.h>
#include "sg_store_rules.h"
#include "sg_util.h"

static int
sg_rule_is_rejection(const sg_approval *a)
{
	return strcmp(a->decision, "REJECTED") == 0;
}

int
sg_rule_vote_valid(const sg_approval *a)
{
	if (a == NULL || a->request_id[0] == '\0' || a->tenant_id[0] == '\0' ||
	    a->approver_id[0] == '\0' ||
	    (strcmp(a->decision, "APPROVED") != 0 && !sg_rule_is_rejection(a)))
		return SG_ERR_INVALID_ARGUMENT;
	return SG_OK;
}

int
sg_rule_vote_allowed(const sg_approval *a, const char *submitter_id, const char *status,
    int64_t approval_deadline)
{
	if (strcmp(status, "PENDING_APPROVAL") != 0 ||
	    (approval_deadline > 0 && a->created_at > approval_deadline))
		return SG_ERR_PRECONDITION;
	if (strncmp(submitter_id, a->approver_id, sizeof(a->approver_id)) == 0)
		return SG_ERR_PERMISSION_DENIED;
	return SG_OK;
}

int
sg_rule_vote_counts(const sg_approval *a)
{
	return !sg_rule_is_rejection(a);
}

static void
sg_rule_status_audit(sg_audit_entry *e, const char *tenant_id, const char *actor,
    const char *action, const char *request_id, int64_t ts, char *details)
{
	memset(e, 0, sizeof(*e));
	sg_strlcpy(e->tenant_id, tenant_id, sizeof(e->tenant_id));
	sg_strlcpy(e->actor, actor, sizeof(e->actor));
	sg_strlcpy(e->action, action, sizeof(e->action));
	sg_strlcpy(e->object, request_id, sizeof(e->object));
	e->ts = ts;
	e->details = details;
}

void
sg_rule_vote_outcome(const sg_approval *a, int64_t approved, int64_t required,
    sg_vote_outcome *out)
{
	const char *action = NULL;

	memset(out, 0, sizeof(*out));
	if (sg_rule_is_rejection(a)) {
		out->to = "REJECTED";
		action = "request.rejected";
	} else if (approved >= required) {
		out->to = "QUEUED";
		action = "request.queued";
		snprintf(out->details, sizeof(out->details), "{\"approvals\":%lld,\"required\":%lld}",
		    (long long)approved, (long long)required);
	}
	if (out->to != NULL)
		sg_rule_status_audit(&out->audit, a->tenant_id, a->approver_id, action,
		    a->request_id, a->created_at, out->details[0] != '\0' ? out->details : NULL);
}

void
sg_rule_expiry_audit(const sg_request *r, int64_t now, sg_audit_entry *out)
{
	/* The cast is safe: an entry's details are only read (sg_audit_entry_clear is not called). */
	sg_rule_status_audit(out, r->tenant_id, "", "request.expired", r->id, now,
	    (char *)"{\"reason\":\"" SG_RULE_EXPIRED_ERROR "\"}");
}

int
sg_audit_link(sg_audit_entry *e, int64_t head_seq, const uint8_t head_hash[32])
{
	if (e->action[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	e->seq = head_seq + 1;
	memcpy(e->prev_hash, head_hash, sizeof(e->prev_hash));
	sg_audit_entry_hash(e, e->prev_hash, e->hash);
	return SG_OK;
}

int
sg_rule_request_valid(const sg_request *q)
{
	return q->id[0] != '\0' && q->tenant_id[0] != '\0' && q->status[0] != '\0' &&
	    q->digest_len <= sizeof(q->digest) && q->context_len <= sizeof(q->context);
}

int
sg_rule_signature_valid(const sg_signature *g)
{
	return g->id[0] != '\0' && g->tenant_id[0] != '\0' && g->digest_len <= sizeof(g->digest) &&
	    g->signature != NULL && g->signature_len != 0;
}

int
sg_rule_batch_valid(const sg_request *const *reqs, const sg_signature *const *sigs, size_t n)
{
	if (n > 0 && reqs == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++) {
		const sg_request *q = reqs[i];
		const sg_signature *g = sigs != NULL ? sigs[i] : NULL;
		if (q == NULL)
			return SG_ERR_INVALID_ARGUMENT;
		if (g != NULL && (strncmp(g->request_id, q->id, sizeof(q->id)) != 0 ||
		    strncmp(g->tenant_id, q->tenant_id, sizeof(q->tenant_id)) != 0))
			return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

sg_audit_head *
sg_audit_head_find(sg_audit_head *heads, size_t n, const char *tenant_id)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(heads[i].tenant_id, tenant_id, sizeof(heads[i].tenant_id)) == 0)
			return &heads[i];
	return NULL;
}

int
sg_request_cmp_age(const void *a, const void *b)
{
	const sg_request *x = a, *y = b;
	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return strcmp(x->id, y->id);
}
