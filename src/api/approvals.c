/*
 * approvals.c - quorum approvals (SPEC §1): list pending requests, show one
 * with its votes, approve or reject.
 *
 * Who may vote is the request's policy's approver group: a role ({"role":
 * "approver"}) or a list of principals.  The store enforces the rest in one
 * transaction: the request must be PENDING_APPROVAL, the submitter never
 * votes on its own request, each approver counts once, N approvals queue it,
 * one rejection ends it.  Another tenant's request is NOT_FOUND.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_log.h"
#include "sg_queue.h"

static json_t *
votes_json(api_req *req, const char *request_id, int *napproved)
{
	sg_store *s = req->svc->store;
	sg_approval *list = NULL;
	size_t n = 0;
	json_t *a = json_array();
	*napproved = 0;
	if (s->ops->approval_list(s, req->tenant.id, request_id, &list, &n) != SG_OK)
		return a;
	for (size_t i = 0; i < n; i++) {
		char ts[32];
		sg_time_format(list[i].created_at, ts);
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "approver", list[i].approver_id,
		    "decision", list[i].decision, "comment", list[i].comment, "created_at", ts));
		if (strcmp(list[i].decision, "APPROVED") == 0)
			(*napproved)++;
	}
	free(list);
	return a;
}

static json_t *
approval_view(api_req *req, const sg_request *rq)
{
	int approved = 0;
	json_t *j = api_request_json(rq, NULL);
	json_object_set_new(j, "votes", votes_json(req, rq->id, &approved));
	json_object_set_new(j, "approvals", json_integer(approved));
	json_object_set_new(j, "approvals_required", json_integer(rq->approvals_required));
	if (rq->approval_deadline) {
		char ts[32];
		sg_time_format(rq->approval_deadline, ts);
		json_object_set_new(j, "approval_deadline", json_string(ts));
	}
	if (rq->description[0])
		json_object_set_new(j, "description", json_string(rq->description));
	return j;
}

void
api_approvals_list(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	const char *status = api_query(req, "status");
	sg_request *list = NULL;
	size_t n = 0;
	if (status != NULL && strcmp(status, "PENDING") != 0 && strcmp(status, "PENDING_APPROVAL") != 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "status must be PENDING");
		return;
	}
	int r = s->ops->request_list(s, req->tenant.id, "PENDING_APPROVAL", 1000, &list, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot list approvals");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, approval_view(req, &list[i]));
	sg_request_list_free(list, n);
	api_json(resp, 200, json_pack("{s:o}", "approvals", a));
}

void
api_approvals_get(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_request rq;
	int r = s->ops->request_get(s, req->tenant.id, req->params[0], &rq);
	if (r != SG_OK) {
		api_error(req, resp, r, "no such request");
		return;
	}
	api_json(resp, 200, approval_view(req, &rq));
	sg_request_clear(&rq);
}

/* May this principal vote on requests under policy `policy` ("project/slug")? */
static int
eligible(api_req *req, const char *policy)
{
	sg_store *s = req->svc->store;
	sg_policy p;
	char project[SG_NAME_MAX + 1];
	const char *slash = strchr(policy, '/');
	int ok = 0;
	if (slash == NULL || (size_t)(slash - policy) >= sizeof(project))
		return api_has_role(req, SG_ROLE_APPROVER);
	memcpy(project, policy, (size_t)(slash - policy));
	project[slash - policy] = 0;
	if (s->ops->policy_get(s, req->tenant.id, project, slash + 1, &p) != SG_OK)
		return 0;
	json_t *ap = p.approvers ? json_loads(p.approvers, 0, NULL) : NULL;
	json_t *role = json_object_get(ap, "role"), *list = json_object_get(ap, "principals");
	if (json_is_string(role)) {
		ok = api_has_role(req, sg_role_from_name(json_string_value(role)));
	} else if (json_is_array(list)) {
		size_t i;
		json_t *v;
		json_array_foreach(list, i, v) {
			if (json_is_string(v) && strcmp(json_string_value(v), req->principal.id) == 0)
				ok = 1;
		}
	} else {
		ok = api_has_role(req, SG_ROLE_APPROVER);
	}
	json_decref(ap);
	sg_policy_clear(&p);
	return ok;
}

static void
decide(api_req *req, api_resp *resp, const char *decision)
{
	static const char *const known[] = { "comment", NULL };
	sg_store *s = req->svc->store;
	const char *comment = NULL;
	sg_request rq;
	sg_approval a;
	sg_audit_entry audit;
	char status[SG_STATUS_MAX];
	int r, reject = strcmp(decision, "REJECTED") == 0;
	json_t *body = NULL;

	memset(&rq, 0, sizeof(rq));
	if (req->body_len > 0) {
		if ((body = api_body_object(req, resp)) == NULL)
			return;
		if (api_fields_known(req, resp, body, known) ||
		    api_field_str(req, resp, body, "comment", 0, 1000, &comment))
			goto out;
	}
	if (reject && (comment == NULL || comment[0] == 0)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "a rejection needs a 'comment' saying why");
		goto out;
	}
	if ((r = s->ops->request_get(s, req->tenant.id, req->params[0], &rq)) != SG_OK) {
		api_error(req, resp, r, "no such request");
		goto out;
	}
	if (rq.approval_deadline > 0 && sg_now_ms() > rq.approval_deadline &&
	    strcmp(rq.status, "PENDING_APPROVAL") == 0) {
		/* Close it now rather than at the next sweep, so the answer below is the final state. */
		size_t expired = 0;
		(void)s->ops->request_expire_approvals(s, sg_now_ms(), NULL, &expired);
		api_error(req, resp, SG_ERR_PRECONDITION, "the approval window of this request has expired");
		goto out;
	}
	if (!eligible(req, rq.policy)) {
		api_error(req, resp, SG_ERR_PERMISSION_DENIED,
		    "this principal is not in the approver group of policy %s", rq.policy);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	sg_strlcpy(a.request_id, rq.id, sizeof(a.request_id));
	sg_strlcpy(a.tenant_id, req->tenant.id, sizeof(a.tenant_id));
	sg_strlcpy(a.approver_id, req->principal.id, sizeof(a.approver_id));
	sg_strlcpy(a.decision, decision, sizeof(a.decision));
	sg_strlcpy(a.comment, comment ? comment : "", sizeof(a.comment));
	a.created_at = sg_now_ms();
	api_audit_init(req, &audit, reject ? "approval.rejected" : "approval.approved", rq.id);
	r = s->ops->approval_add(s, &a, &audit, status);
	if (r != SG_OK) {
		const char *why = r == SG_ERR_PERMISSION_DENIED ? "the submitter cannot approve its own request" :
		    r == SG_ERR_CONFLICT ? "this approver has already voted on this request" :
		    r == SG_ERR_PRECONDITION ? "the request is not waiting for approval" :
		    "cannot record the vote";
		api_error(req, resp, r, "%s", why);
		goto out;
	}
	sg_info("request %s %s by %s; now %s", rq.id, decision, req->principal.id, status);
	if (strcmp(status, "QUEUED") == 0)
		sg_queue_notify(req->svc->queue);
	sg_request_clear(&rq);
	if (s->ops->request_get(s, req->tenant.id, req->params[0], &rq) != SG_OK) {
		api_error(req, resp, SG_ERR_INTERNAL, "reload");
		goto out;
	}
	api_json(resp, 200, approval_view(req, &rq));
out:
	sg_request_clear(&rq);
	json_decref(body);
}

void
api_approvals_approve(api_req *req, api_resp *resp)
{
	decide(req, resp, "APPROVED");
}

void
api_approvals_reject(api_req *req, api_resp *resp)
{
	decide(req, resp, "REJECTED");
}
