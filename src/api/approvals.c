/*
 * approvals.c - quorum approvals (SPEC §1): list pending requests, show one
 * with its votes, approve or reject.
 *
 * The rules (who may vote, the window, one vote each, never the submitter,
 * N approvals queue, one rejection ends) are the service's (sg_svc_vote);
 * this file renders the native view of a request and its votes.  Another
 * tenant's request is NOT_FOUND.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_log.h"
#include "sg_queue.h"

static json_t *
votes_json(api_req *req, const char *request_id, int *napproved)
{
	sg_approval *list = NULL;
	size_t n = 0;
	sg_problem problem;
	sg_caller caller;
	json_t *a = json_array();
	*napproved = 0;
	if (sg_svc_votes(req->svc, api_caller(req, &caller), request_id, &list, &n, napproved,
	    &problem) != SG_OK)
		return a;
	for (size_t i = 0; i < n; i++) {
		char ts[32];
		sg_time_format(list[i].created_at, ts);
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "approver", list[i].approver_id,
		    "decision", list[i].decision, "comment", list[i].comment, "created_at", ts));
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

int
api_vote(api_req *req, api_resp *resp, int approve, sg_request *after)
{
	static const char *const known[] = { "comment", NULL };
	const char *comment = NULL;
	sg_problem problem;
	sg_caller caller;
	json_t *body = NULL;
	int r = -1;

	if (req->body_len > 0) {
		if ((body = api_body_object(req, resp)) == NULL)
			return -1;
		if (api_fields_known(req, resp, body, known) ||
		    api_field_str(req, resp, body, "comment", 0, 1000, &comment))
			goto out;
	}
	if (sg_svc_vote(req->svc, api_caller(req, &caller), req->params[0], approve, comment, after,
	    &problem) != SG_OK) {
		api_problem(req, resp, &problem);
		goto out;
	}
	r = 0;
out:
	json_decref(body);
	return r;
}

static void
decide(api_req *req, api_resp *resp, int approve)
{
	sg_request after;
	if (api_vote(req, resp, approve, &after) != 0)
		return;
	api_json(resp, 200, approval_view(req, &after));
	sg_request_clear(&after);
}

void
api_approvals_approve(api_req *req, api_resp *resp)
{
	decide(req, resp, 1);
}

void
api_approvals_reject(api_req *req, api_resp *resp)
{
	decide(req, resp, 0);
}
