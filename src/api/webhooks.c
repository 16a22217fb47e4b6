/*
 * webhooks.c - POST/GET/DELETE /v1/webhooks and the deliveries log (SPEC §7).
 *
 * A webhook belongs to the caller's tenant and is managed by its admins;
 * another tenant's webhook is NOT_FOUND.  The secret (an HMAC key for the
 * Signet-Signature header) is taken once, sealed under the server's master
 * key custody before it is stored (src/notify/secrets.c), and never shown or
 * logged again.
 * Sending is not done here: src/notify's dispatcher turns audit entries
 * into deliveries and sends them, off the signing path.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_log.h"
#include "sg_notify.h"
#include "sg_secret.h"

#define WEBHOOK_SECRET_MIN 16

static json_t *
events_json(unsigned events)
{
	json_t *a = json_array();
	for (unsigned bit = 1; bit <= SG_EVENT_ALL; bit <<= 1)
		if (events & bit)
			json_array_append_new(a, json_string(sg_notify_event_name(bit)));
	return a;
}

/* A webhook as the API shows it: never the secret. */
static json_t *
webhook_json(const sg_webhook *w)
{
	char ts[32];
	sg_time_format(w->created_at, ts);
	return json_pack("{s:s,s:s,s:o,s:s}", "id", w->id, "url", w->url,
	    "events", events_json(w->events), "created_at", ts);
}

/* Parse a non-empty array of event names; answers 400 and returns non-zero when invalid. */
static int
parse_events(api_req *req, api_resp *resp, json_t *arr, unsigned *out)
{
	size_t i;
	json_t *v;
	unsigned events = 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field 'events' must be a non-empty array of event names");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		unsigned bit = json_is_string(v) ? sg_notify_event_from_name(json_string_value(v)) : 0;
		if (bit == 0) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
			    "unknown event in 'events' (known: approval.requested, request.signed, request.failed, "
			    "request.rejected, request.dead_lettered, key.rotated)");
			return -1;
		}
		events |= bit;
	}
	*out = events;
	return 0;
}

void
api_webhooks_create(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "url", "events", "secret", NULL };
	sg_store *s = req->svc->store;
	const char *url = NULL, *secret = NULL;
	sg_webhook w;
	int r;
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	memset(&w, 0, sizeof(w));
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "url", 1, SG_WEBHOOK_URL_MAX - 1, &url) ||
	    api_field_str(req, resp, body, "secret", 1, SG_WEBHOOK_SECRET_MAX, &secret) ||
	    parse_events(req, resp, json_object_get(body, "events"), &w.events))
		goto out;
	if (!sg_notify_url_ok(url)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "field 'url' must be an absolute http:// or https:// URL with a host");
		goto out;
	}
	if (strlen(secret) < WEBHOOK_SECRET_MIN) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "field 'secret' must be %d to %d characters", WEBHOOK_SECRET_MIN, SG_WEBHOOK_SECRET_MAX);
		goto out;
	}
	if (sg_uuid(w.id) != SG_OK) {
		api_error(req, resp, SG_ERR_INTERNAL, "uuid");
		goto out;
	}
	sg_strlcpy(w.tenant_id, req->tenant.id, sizeof(w.tenant_id));
	sg_strlcpy(w.url, url, sizeof(w.url));
	/* Only the sealed blob reaches the store; a server that cannot seal stores nothing. */
	r = sg_notify_seal_secret(req->svc->soft, &w, (const uint8_t *)secret, strlen(secret));
	if (r != SG_OK) {
		sg_error("webhook: cannot seal the secret of a new webhook: %s", sg_err_str(r));
		api_error(req, resp, r == SG_ERR_PRECONDITION ? SG_ERR_UNAVAILABLE : r,
		    "cannot seal the webhook secret under the server's master key");
		goto out;
	}
	w.created_at = sg_now_ms();
	if ((r = s->ops->webhook_create(s, &w)) != SG_OK) {
		api_error(req, resp, r, "cannot create webhook");
		goto out;
	}
	sg_info("webhook %s created by %s", w.id, req->principal.id);
	api_audit(req, "webhook.created", w.id, json_pack("{s:s,s:o}", "url", w.url,
	    "events", events_json(w.events)));
	api_json(resp, 201, webhook_json(&w));
out:
	sg_webhook_clear(&w);
	/* The body held the secret too: wipe its text before it is freed. */
	if (secret != NULL)
		sg_wipe((char *)secret, strlen(secret));
	json_decref(body);
}

void
api_webhooks_list(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_webhook *list = NULL;
	size_t n = 0;
	int r = s->ops->webhook_list(s, req->tenant.id, &list, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot list webhooks");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, webhook_json(&list[i]));
	sg_webhook_list_free(list, n);
	api_json(resp, 200, json_pack("{s:o}", "webhooks", a));
}

void
api_webhooks_get(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_webhook w;
	int r = s->ops->webhook_get(s, req->tenant.id, req->params[0], &w);
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such webhook" : "cannot read webhook");
		return;
	}
	api_json(resp, 200, webhook_json(&w));
	sg_webhook_clear(&w);
}

void
api_webhooks_delete(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	int r = s->ops->webhook_delete(s, req->tenant.id, req->params[0]);
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such webhook" : "cannot delete webhook");
		return;
	}
	sg_info("webhook %s deleted by %s", req->params[0], req->principal.id);
	api_audit(req, "webhook.deleted", req->params[0], NULL);
	api_text(resp, 204, "application/json", "");
}

void
api_webhooks_deliveries(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_webhook w;
	sg_delivery *list = NULL;
	size_t n = 0;
	int64_t limit = 100;
	const char *q = api_query(req, "limit");
	if (q != NULL && sg_parse_int64(q, 1, 1000, &limit) != SG_OK) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "limit must be 1-1000");
		return;
	}
	int r = s->ops->webhook_get(s, req->tenant.id, req->params[0], &w);
	sg_webhook_clear(&w);
	if (r == SG_OK)
		r = s->ops->delivery_list(s, req->tenant.id, req->params[0], limit, &list, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such webhook" : "cannot list deliveries");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const sg_delivery *d = &list[i];
		char cts[32], uts[32];
		sg_time_format(d->created_at, cts);
		sg_time_format(d->updated_at, uts);
		json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "id", d->id, "event", d->event,
		    "status", d->status, "attempts", d->attempts, "created_at", cts, "updated_at", uts);
		json_object_set_new(j, "request_id", d->request_id[0] ? json_string(d->request_id) : json_null());
		if (d->key_id[0])
			json_object_set_new(j, "key_id", json_string(d->key_id));
		json_object_set_new(j, "last_http_status",
		    d->last_status ? json_integer(d->last_status) : json_null());
		if (d->last_error[0])
			json_object_set_new(j, "last_error", json_string(d->last_error));
		if (strcmp(d->status, "PENDING") == 0 && d->next_attempt_at > 0) {
			sg_time_format(d->next_attempt_at, cts);
			json_object_set_new(j, "next_attempt_at", json_string(cts));
		}
		json_array_append_new(a, j);
	}
	sg_delivery_list_free(list, n);
	api_json(resp, 200, json_pack("{s:o}", "deliveries", a));
}
