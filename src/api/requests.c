/*
 * requests.c - GET /v1/requests?status= and POST /v1/requests/{id}/resubmit.
 *
 * A resubmit is a new request for the same digest, hash and metadata as a
 * SIGNED original, evaluated under another policy (say, a test-signing
 * request resubmitted under release-signing with two approvals).  It goes
 * through the same service submission (sg_svc_resubmit) as POST /v1/sign.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_b64.h"

int
api_valid_status(const char *s)
{
	return sg_request_status_from_name(s) != SG_RQ_NONE;
}

void
api_requests_list(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	const char *status = api_query(req, "status"), *lim = api_query(req, "limit");
	int64_t limit = 100;
	sg_request *list = NULL;
	size_t n = 0;
	if (status != NULL && !api_valid_status(status)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "status must be one of PENDING_APPROVAL, "
		    "QUEUED, PROCESSING, SIGNED, FAILED, REJECTED, DEAD_LETTER");
		return;
	}
	if (lim != NULL && sg_parse_int64(lim, 1, 1000, &limit) != SG_OK) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "limit must be 1 to 1000");
		return;
	}
	int r = s->ops->request_list(s, req->tenant.id, status, limit, &list, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot list requests");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, api_request_json(&list[i], NULL));
	sg_request_list_free(list, n);
	api_json(resp, 200, json_pack("{s:o}", "requests", a));
}

void
api_requests_resubmit(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "policy", "description", NULL };
	const char *policy = NULL, *description = NULL;
	sg_outcome out;
	sg_problem problem;
	sg_caller caller;

	memset(&out, 0, sizeof(out));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "policy", 1, 2 * SG_NAME_MAX, &policy) ||
	    api_field_str(req, resp, body, "description", 0, 500, &description))
		goto out;
	if (sg_svc_resubmit(req->svc, api_caller(req, &caller), req->params[0], policy, description, &out,
	    &problem) != SG_OK)
		api_problem(req, resp, &problem);
	else
		api_render_outcome(req, resp, &out);
	sg_outcome_clear(&out);
out:
	json_decref(body);
}
