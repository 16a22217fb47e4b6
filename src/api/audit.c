/*
 * audit.c - audit entries from the API, and the audit endpoints.
 *
 * Events with no tenant (a credential nobody owns) go to the service chain,
 * tenant id "", which operators read.
 *
 * Changes that happen in one store call carry their entry into that call's
 * transaction (sign, submit, vote).  Events that are not themselves a stored
 * change (an authentication failure) or whose change is stored by an earlier
 * call (key creation) are appended on their own with api_audit().
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_b64.h"
#include "sg_log.h"

void
api_audit_init(const api_req *req, sg_audit_entry *e, const char *action, const char *object)
{
	memset(e, 0, sizeof(*e));
	sg_strlcpy(e->tenant_id, req->tenant.id, sizeof(e->tenant_id));
	sg_strlcpy(e->actor, req->principal.id, sizeof(e->actor));
	sg_strlcpy(e->action, action, sizeof(e->action));
	sg_strlcpy(e->object, object ? object : "", sizeof(e->object));
	e->ts = sg_now_ms();
}

void
api_audit(api_req *req, const char *action, const char *object, json_t *details)
{
	sg_store *s = req->svc->store;
	sg_audit_entry e;
	api_audit_init(req, &e, action, object);
	if (details != NULL) {
		json_object_set_new(details, "request_id", json_string(req->request_id));
		e.details = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(details);
	}
	int r = s->ops->audit_append(s, &e);
	if (r != SG_OK)
		sg_error("audit: cannot append %s for %s: %s", action, object ? object : "-", sg_err_str(r));
	free(e.details);
}

/* Which chain the caller reads: its tenant's, or the service chain for an operator asking ?scope=service. */
static int
audit_scope(api_req *req, api_resp *resp, const char **tenant_id)
{
	const char *scope = api_query(req, "scope");
	*tenant_id = req->tenant.id;
	if (scope == NULL || strcmp(scope, "tenant") == 0)
		return 0;
	if (strcmp(scope, "service") != 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "scope must be tenant or service");
		return -1;
	}
	if (!api_has_role(req, SG_ROLE_OPERATOR)) {
		api_error(req, resp, SG_ERR_PERMISSION_DENIED, "the service audit chain needs the operator role");
		return -1;
	}
	*tenant_id = "";
	return 0;
}

json_t *
api_audit_entry_json(const sg_audit_entry *e)
{
	char ts[32], prev[65], hash[65];
	sg_time_format(e->ts, ts);
	sg_hex_encode(e->prev_hash, 32, prev);
	sg_hex_encode(e->hash, 32, hash);
	json_t *details = e->details ? json_loads(e->details, 0, NULL) : NULL;
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:s,s:s}", "seq", (json_int_t)e->seq, "ts", ts,
	    "actor", e->actor, "action", e->action, "object", e->object,
	    "details", details ? details : json_object(), "prev_hash", prev, "hash", hash);
}

void
api_audit_list(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	const char *tenant_id, *after_q = api_query(req, "after"), *limit_q = api_query(req, "limit");
	int64_t after = 0, limit = 100;
	sg_audit_entry *list = NULL;
	size_t n = 0;
	if (audit_scope(req, resp, &tenant_id))
		return;
	if ((after_q && sg_parse_int64(after_q, 0, INT64_MAX, &after) != SG_OK) ||
	    (limit_q && sg_parse_int64(limit_q, 1, 10000, &limit) != SG_OK)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "after must be >= 0 and limit 1 to 10000");
		return;
	}
	int r = s->ops->audit_list(s, tenant_id, after, limit, &list, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot read the audit log");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, api_audit_entry_json(&list[i]));
	json_t *j = json_pack("{s:o}", "entries", a);
	if (n > 0)
		json_object_set_new(j, "next_after", json_integer(list[n - 1].seq));
	sg_audit_list_free(list, n);
	api_json(resp, 200, j);
}

void
api_audit_verify(api_req *req, api_resp *resp)
{
	const char *tenant_id;
	int64_t checked = 0, bad = 0;
	char why[256] = "";
	if (audit_scope(req, resp, &tenant_id))
		return;
	int r = sg_audit_verify(req->svc->store, tenant_id, &checked, &bad, why, sizeof(why));
	if (r != SG_OK && r != SG_ERR_BAD_SIGNATURE) {
		api_error(req, resp, r, "cannot verify the audit log");
		return;
	}
	json_t *j = json_pack("{s:b,s:I}", "valid", r == SG_OK, "checked", (json_int_t)checked);
	if (r != SG_OK) {
		json_object_set_new(j, "first_bad_seq", json_integer(bad));
		json_object_set_new(j, "reason", json_string(why));
	}
	api_json(resp, 200, j);
}
