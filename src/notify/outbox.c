/*
 * outbox.c - turning audit entries into deliveries (the outbox).
 *
 * The audit log already records, in the transaction of each change, every
 * event a notification reports.  This file reads one tenant's entries past
 * the dispatcher's cursor, decides which are events (request.submitted of
 * a request that needs approvals is approval.requested; request.rejected
 * and request.expired are request.rejected; request.dead_letter is
 * request.dead_lettered; ...), and writes one delivery per subscribed
 * webhook and, for approval.requested with mail configured, one per
 * eligible approver with an address, together with the cursor's new place.
 * Bodies are built here, once: every attempt sends the same bytes, only the
 * signature header is new.  A webhook hears only of entries written after
 * it was created.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "notify_int.h"
#include "sg_b64.h"
#include "sg_buf.h"
#include "sg_log.h"
#include "sg_util.h"

#define OUTBOX_BATCH 256              /* audit entries per transaction */
#define OUTBOX_MAIL_METADATA_MAX 16384 /* metadata text in a mail body */

/* The event an audit entry reports, or 0. */
static unsigned
event_of(const sg_audit_entry *e)
{
	static const struct {
		const char *action;
		unsigned event;
	} map[] = {
		{ "request.submitted", SG_EVENT_APPROVAL_REQUESTED },  /* if it waits for approval */
		{ "request.signed", SG_EVENT_REQUEST_SIGNED },
		{ "request.failed", SG_EVENT_REQUEST_FAILED },
		{ "request.rejected", SG_EVENT_REQUEST_REJECTED },
		{ "request.expired", SG_EVENT_REQUEST_REJECTED },
		{ "request.dead_letter", SG_EVENT_REQUEST_DEAD_LETTERED },
		{ "key.rotated", SG_EVENT_KEY_ROTATED },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(e->action, map[i].action) == 0)
			return map[i].event;
	return 0;
}

/* The request status an event stands for (the row may have moved on since). */
static const char *
status_of(unsigned event)
{
	switch (event) {
	case SG_EVENT_APPROVAL_REQUESTED: return "PENDING_APPROVAL";
	case SG_EVENT_REQUEST_SIGNED: return "SIGNED";
	case SG_EVENT_REQUEST_FAILED: return "FAILED";
	case SG_EVENT_REQUEST_REJECTED: return "REJECTED";
	case SG_EVENT_REQUEST_DEAD_LETTERED: return "DEAD_LETTER";
	default: return "";
	}
}

static json_t *
metadata_of(const sg_request *rq)
{
	json_t *m = rq->metadata_json ? json_loads(rq->metadata_json, 0, NULL) : NULL;
	if (!json_is_object(m)) {
		json_decref(m);
		m = json_object();
	}
	return m;
}

/* The request as a webhook body shows it. */
static json_t *
request_json(const sg_request *rq, unsigned event)
{
	char ts[32];
	sg_time_format(rq->created_at, ts);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "id", rq->id,
	    "status", status_of(event), "key_id", rq->key_id, "hash_algorithm", rq->hash_alg,
	    "signature_algorithm", rq->sig_scheme, "submitted_by", rq->principal_id,
	    "metadata", metadata_of(rq), "created_at", ts);
	char *digest = sg_b64_encode(rq->digest, rq->digest_len);
	if (digest != NULL)
		json_object_set_new(j, "digest", json_string(digest));
	free(digest);
	if (rq->policy[0])
		json_object_set_new(j, "policy", json_string(rq->policy));
	if (rq->key_version > 0)
		json_object_set_new(j, "key_version", json_integer(rq->key_version));
	if (rq->approvals_required > 0)
		json_object_set_new(j, "approvals_required", json_integer(rq->approvals_required));
	if (event == SG_EVENT_REQUEST_SIGNED && rq->signature_id[0])
		json_object_set_new(j, "signature_id", json_string(rq->signature_id));
	if (event != SG_EVENT_REQUEST_SIGNED && event != SG_EVENT_APPROVAL_REQUESTED && rq->error)
		json_object_set_new(j, "error", json_string(rq->error));
	if (rq->description[0])
		json_object_set_new(j, "description", json_string(rq->description));
	return j;
}

/* The JSON body of a webhook delivery; malloc'd text or NULL. */
static char *
webhook_body(const char *delivery_id, unsigned event, const sg_audit_entry *e,
    const sg_request *rq)
{
	char ts[32];
	sg_time_format(e->ts, ts);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", delivery_id,
	    "event", sg_notify_event_name(event), "created_at", ts, "tenant", e->tenant_id,
	    "actor", e->actor);
	if (j == NULL)
		return NULL;
	if (event == SG_EVENT_KEY_ROTATED) {
		json_t *d = e->details ? json_loads(e->details, 0, NULL) : NULL;
		json_object_set_new(j, "key_id", json_string(e->object));
		if (json_is_integer(json_object_get(d, "version")))
			json_object_set(j, "key_version", json_object_get(d, "version"));
		json_decref(d);
	} else {
		json_object_set_new(j, "request_id", json_string(rq->id));
		json_object_set_new(j, "key_id", json_string(rq->key_id));
		json_object_set_new(j, "request", request_json(rq, event));
	}
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

/* May principal p vote on rq?  The same rule as the approvals API, minus the submitter. */
static int
eligible(const sg_principal *p, const sg_request *rq, json_t *approvers)
{
	json_t *role = json_object_get(approvers, "role"), *list = json_object_get(approvers, "principals");
	if (strcmp(p->id, rq->principal_id) == 0)
		return 0;  /* the submitter never votes on its own request */
	if (json_is_string(role))
		return (p->roles & sg_role_from_name(json_string_value(role))) != 0;
	if (json_is_array(list)) {
		size_t i;
		json_t *v;
		json_array_foreach(list, i, v)
			if (json_is_string(v) && strcmp(json_string_value(v), p->id) == 0)
				return 1;
		return 0;
	}
	return (p->roles & SG_ROLE_APPROVER) != 0;
}

/* The approver group of rq's policy as JSON ({"role":..} / {"principals":[..]}), or NULL for the default. */
static json_t *
approvers_of(sg_store *s, const sg_request *rq)
{
	char project[SG_NAME_MAX];
	const char *slash = strchr(rq->policy, '/');
	sg_policy pol;
	json_t *ap = NULL;
	if (slash == NULL || (size_t)(slash - rq->policy) >= sizeof(project))
		return NULL;
	memcpy(project, rq->policy, (size_t)(slash - rq->policy));
	project[slash - rq->policy] = '\0';
	memset(&pol, 0, sizeof(pol));
	if (s->ops->policy_get(s, rq->tenant_id, project, slash + 1, &pol) == SG_OK && pol.approvers)
		ap = json_loads(pol.approvers, 0, NULL);
	sg_policy_clear(&pol);
	return ap;
}

/* A mail being written: the first failure sticks and the message is dropped. */
typedef struct mailbuf {
	sg_buf b;
	int err;
} mailbuf;

static void __attribute__((format(printf, 2, 3)))
put(mailbuf *m, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (m->err != SG_OK)
		return;
	if (n < 0 || (size_t)n >= sizeof(line))
		m->err = SG_ERR_TOO_LARGE;
	else
		m->err = sg_buf_append(&m->b, line, (size_t)n);
}

/* The text of an approval mail (headers and body, CRLF lines); malloc'd or NULL. */
static char *
mail_message(const sg_outbox_ctx *ctx, const char *delivery_id, const char *to,
    const sg_request *rq, const sg_principal *submitter, const sg_key *key)
{
	mailbuf m = { .err = SG_OK };
	char date[64], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	char *digest = sg_b64_encode(rq->digest, rq->digest_len);
	json_t *meta = metadata_of(rq);
	char *text = NULL;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	sg_time_format(rq->created_at, ts);
	sg_buf_init(&m.b, 1024 * 1024);
	put(&m,
	    "From: Signet <%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: Signet: signing request %s waits for your approval\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s@signet>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "Signing request %s waits for your approval.\r\n"
	    "\r\n"
	    "Request:     %s\r\n"
	    "Submitted by: %s (%s)\r\n"
	    "Submitted at: %s\r\n",
	    ctx->smtp_from, to, rq->id, date, delivery_id, rq->id, rq->id,
	    submitter ? submitter->name : "(deleted principal)", rq->principal_id, ts);
	if (rq->policy[0])
		put(&m, "Policy:      %s\r\n", rq->policy);
	put(&m, "Key:         %s (%s)\r\n", key ? key->alias : "?", rq->key_id);
	put(&m, "Hash:        %s\r\nAlgorithm:   %s\r\nDigest:      %s\r\n", rq->hash_alg,
	    rq->sig_scheme, digest ? digest : "");
	put(&m, "Approvals:   %d required\r\n", rq->approvals_required);
	if (rq->description[0]) {
		/* Free text from the client: shown as a JSON string so it cannot add lines. */
		json_t *d = json_string(rq->description);
		char *dt = d ? json_dumps(d, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
		put(&m, "Description: %s\r\n", dt ? dt : "");
		free(dt);
		json_decref(d);
	}
	put(&m, "Metadata:\r\n");
	const char *k;
	json_t *v;
	size_t shown = 0;
	json_object_foreach(meta, k, v) {
		json_t *kj = json_string(k);
		char *ks = kj ? json_dumps(kj, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
		char *vs = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_COMPACT);
		if (ks && vs && strlen(ks) + strlen(vs) < 4000 &&
		    shown + strlen(ks) + strlen(vs) < OUTBOX_MAIL_METADATA_MAX) {
			put(&m, "  %s: %s\r\n", ks, vs);
			shown += strlen(ks) + strlen(vs);
		} else if (ks && strlen(ks) < 4000) {
			put(&m, "  %s: (too long for mail; see the portal)\r\n", ks);
		}
		free(ks);
		free(vs);
		json_decref(kj);
	}
	if (json_object_size(meta) == 0)
		put(&m, "  (none)\r\n");
	put(&m,
	    "\r\n"
	    "Review it and approve or reject in the approver portal:\r\n"
	    "%s/portal/\r\n"
	    "\r\n"
	    "You get this message because you may approve requests under this policy.\r\n",
	    ctx->public_url);
	if (m.err == SG_OK)
		text = (char *)sg_buf_steal(&m.b, NULL);  /* sg_buf keeps a NUL after the bytes */
	sg_buf_free(&m.b);
	json_decref(meta);
	free(digest);
	return text;
}

/*
 * A delivery's id: derived from what it is (tenant, audit entry, webhook or
 * recipient), so reading an entry again after a power cut undid the cursor
 * yields the same id, and receivers that deduplicate by id see a repeat as
 * a repeat.  SHA-256 over the length-prefixed fields, shaped as a UUID
 * (version 8, RFC 9562).
 */
static void
delivery_id(const sg_audit_entry *e, const char *webhook_id, const char *recipient,
    char out[SG_ID_MAX])
{
	char seq[24];
	const char *parts[] = { e->tenant_id, seq, webhook_id, recipient };
	uint8_t h[32];
	char hex[65];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned len = 0;

	snprintf(seq, sizeof(seq), "%lld", (long long)e->seq);
	memset(h, 0, sizeof(h));
	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			uint8_t n[4];
			size_t l = strlen(parts[i]);
			n[0] = (uint8_t)(l >> 24);
			n[1] = (uint8_t)(l >> 16);
			n[2] = (uint8_t)(l >> 8);
			n[3] = (uint8_t)l;
			EVP_DigestUpdate(md, n, 4);
			EVP_DigestUpdate(md, parts[i], l);
		}
		EVP_DigestFinal_ex(md, h, &len);
	}
	EVP_MD_CTX_free(md);
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x80);  /* version 8 */
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);  /* variant 10 */
	sg_hex_encode(h, 16, hex);
	snprintf(out, SG_ID_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

typedef struct outbox {
	sg_delivery *d;
	size_t n, cap;
} outbox;

/* Append a delivery (takes body); non-zero on allocation failure. */
static int
outbox_add(outbox *o, const sg_audit_entry *e, unsigned event, const char *webhook_id,
    const char *recipient, const sg_request *rq, const char *key_id, const char *id, char *body)
{
	if (body == NULL)
		return -1;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		sg_delivery *d = realloc(o->d, cap * sizeof(*d));
		if (d == NULL) {
			free(body);
			return -1;
		}
		o->d = d;
		o->cap = cap;
	}
	sg_delivery *x = &o->d[o->n++];
	memset(x, 0, sizeof(*x));
	sg_strlcpy(x->id, id, sizeof(x->id));
	sg_strlcpy(x->tenant_id, e->tenant_id, sizeof(x->tenant_id));
	sg_strlcpy(x->webhook_id, webhook_id, sizeof(x->webhook_id));
	sg_strlcpy(x->recipient, recipient, sizeof(x->recipient));
	sg_strlcpy(x->event, sg_notify_event_name(event), sizeof(x->event));
	if (rq != NULL)
		sg_strlcpy(x->request_id, rq->id, sizeof(x->request_id));
	sg_strlcpy(x->key_id, key_id, sizeof(x->key_id));
	x->audit_seq = e->seq;
	x->body = body;
	sg_strlcpy(x->status, "PENDING", sizeof(x->status));
	x->created_at = x->updated_at = x->next_attempt_at = sg_now_ms();
	return 0;
}

/* Mail for an approval.requested entry: one message per eligible approver with an address. */
static int
add_mail(const sg_outbox_ctx *ctx, outbox *o, const sg_audit_entry *e, const sg_request *rq)
{
	sg_store *s = ctx->store;
	sg_principal *people = NULL, submitter;
	sg_key key;
	size_t n = 0;
	int have_sub, have_key, r = SG_OK;
	json_t *ap = approvers_of(s, rq);

	if ((r = s->ops->principal_list(s, rq->tenant_id, &people, &n)) != SG_OK)
		goto out;
	have_sub = s->ops->principal_get(s, rq->tenant_id, rq->principal_id, &submitter) == SG_OK;
	have_key = s->ops->key_get(s, rq->tenant_id, rq->key_id, &key) == SG_OK;
	for (size_t i = 0; i < n; i++) {
		char id[SG_ID_MAX];
		if (people[i].email[0] == '\0' || !eligible(&people[i], rq, ap))
			continue;
		delivery_id(e, "", people[i].email, id);
		char *msg = mail_message(ctx, id, people[i].email, rq, have_sub ? &submitter : NULL,
		    have_key ? &key : NULL);
		if (outbox_add(o, e, SG_EVENT_APPROVAL_REQUESTED, "", people[i].email, rq, rq->key_id,
		    id, msg) != 0) {
			r = SG_ERR_NOMEM;
			goto out;
		}
	}
out:
	json_decref(ap);
	free(people);
	return r;
}

/* Does anyone want to hear of this event: a subscribed webhook that existed then, or mail? */
static int
wanted(const sg_webhook *hooks, size_t nhooks, unsigned event, int64_t ts, int mail)
{
	if (event == SG_EVENT_APPROVAL_REQUESTED && mail)
		return 1;
	for (size_t h = 0; h < nhooks; h++)
		if ((hooks[h].events & event) && ts >= hooks[h].created_at)
			return 1;
	return 0;
}

int
sg_outbox_scan(const sg_outbox_ctx *ctx, sg_notify_cursor *c, size_t *queued, int *more)
{
	sg_store *s = ctx->store;
	sg_audit_entry *entries = NULL;
	sg_webhook *hooks = NULL;
	size_t nentries = 0, nhooks = 0;
	outbox o = { NULL, 0, 0 };
	int64_t last = c->seq;
	int r = SG_ERR_INTERNAL;

	if ((r = s->ops->audit_list(s, c->tenant_id, c->seq, OUTBOX_BATCH, &entries, &nentries)) != SG_OK)
		goto out;
	if ((r = s->ops->webhook_list(s, c->tenant_id, &hooks, &nhooks)) != SG_OK)
		goto out;
	for (size_t i = 0; i < nentries; i++) {
		const sg_audit_entry *e = &entries[i];
		unsigned event = event_of(e);
		sg_request rq;
		int have_rq = 0;
		last = e->seq;
		if (event == 0 || !wanted(hooks, nhooks, event, e->ts, ctx->mail))
			continue;  /* most entries: nobody to tell, so nothing more to read */
		memset(&rq, 0, sizeof(rq));
		if (event != SG_EVENT_KEY_ROTATED) {
			if (s->ops->request_get(s, e->tenant_id, e->object, &rq) != SG_OK) {
				sg_warn("notify: %s %s: request not found; nothing sent", e->action, e->object);
				continue;
			}
			have_rq = 1;
			if (event == SG_EVENT_APPROVAL_REQUESTED && rq.approvals_required <= 0) {
				sg_request_clear(&rq);
				continue;  /* queued or signed at once: nobody needs to approve */
			}
		}
		for (size_t h = 0; h < nhooks && r == SG_OK; h++) {
			char id[SG_ID_MAX];
			if (!(hooks[h].events & event) || e->ts < hooks[h].created_at)
				continue;
			delivery_id(e, hooks[h].id, "", id);
			if (outbox_add(&o, e, event, hooks[h].id, "", have_rq ? &rq : NULL,
			    have_rq ? rq.key_id : e->object, id,
			    webhook_body(id, event, e, have_rq ? &rq : NULL)) != 0)
				r = SG_ERR_NOMEM;
		}
		if (r == SG_OK && event == SG_EVENT_APPROVAL_REQUESTED && ctx->mail)
			r = add_mail(ctx, &o, e, &rq);
		sg_request_clear(&rq);
		if (r != SG_OK)
			goto out;
	}
	if (last > c->seq || o.n > 0)
		if ((r = s->ops->notify_enqueue(s, c->tenant_id, last, o.d, o.n)) != SG_OK)
			goto out;
	*queued = o.n;
	*more = nentries == OUTBOX_BATCH && last < c->head;
	c->seq = last;
	r = SG_OK;
out:
	sg_delivery_list_free(o.d, o.n);
	sg_webhook_list_free(hooks, nhooks);
	sg_audit_list_free(entries, nentries);
	return r;
}
