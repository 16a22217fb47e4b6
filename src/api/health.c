/* health.c - liveness and readiness (no credentials, nothing secret). */
#include "api.h"

void
api_health(api_req *req, api_resp *resp)
{
	(void)req;
	api_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

void
api_ready(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	int r = s->ops->ping(s);
	if (r != SG_OK) {
		api_json(resp, 503, json_pack("{s:s,s:s}", "status", "unavailable", "database", "down"));
		return;
	}
	api_json(resp, 200, json_pack("{s:s,s:s,s:s}", "status", "ready", "database", s->ops->name,
	    "hsm", req->svc->hsm ? "configured" : "not configured"));
}
