/*
 * sg_notify.h - notifications: webhooks and approval e-mail, off the signing path.
 *
 * Every event a notification reports is already an entry in its tenant's
 * audit log, written in the same transaction as the change (a request
 * signed, failed, dead-lettered, rejected, submitted for approval; a key
 * rotated).  The dispatcher never touches the sign path: a scanner thread
 * tails each tenant's audit log past a durable cursor, turns matching
 * entries into delivery rows (the outbox, in the store) and moves the
 * cursor in the same transaction; sender threads claim due deliveries
 * under a lease and send them with libcurl (HTTP POST for webhooks, SMTP
 * for mail), recording each attempt and retrying with exponential backoff.
 * A restart resumes from the cursor and the pending rows, so nothing is
 * lost; a sender that dies mid-attempt leaves a claim that runs out, so a
 * delivery may (rarely) arrive twice but is never dropped: receivers
 * deduplicate by the delivery id.
 *
 * Webhook deliveries carry Signet-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, t "." body)>, computed afresh for every attempt.  The
 * secret rests only sealed under the master key custody (secrets.c) and is
 * in clear only while a signature is computed.
 */
#ifndef SG_NOTIFY_H
#define SG_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"
#include "sg_signing.h"

/* Events (SPEC §7), as bits of sg_webhook.events. */
enum {
	SG_EVENT_APPROVAL_REQUESTED = 1u << 0,
	SG_EVENT_REQUEST_SIGNED = 1u << 1,
	SG_EVENT_REQUEST_FAILED = 1u << 2,
	SG_EVENT_REQUEST_REJECTED = 1u << 3,
	SG_EVENT_REQUEST_DEAD_LETTERED = 1u << 4,
	SG_EVENT_KEY_ROTATED = 1u << 5,
};
#define SG_EVENT_ALL 0x3fu

/* "approval.requested" ... -> bit; 0 when unknown (exact, case-sensitive). */
unsigned sg_notify_event_from_name(const char *name);
/* bit -> name; NULL unless exactly one known bit. */
const char *sg_notify_event_name(unsigned bit);

#define SG_NOTIFY_SIGNATURE_MAX 96   /* "t=" + 20 digits + ",v1=" + 64 hex + NUL fits */

/*
 * The Signet-Signature header value for body (body_len bytes) sent at unix
 * time t: "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>." || body)>".  out must
 * hold SG_NOTIFY_SIGNATURE_MAX bytes.  Returns SG_OK, SG_ERR_INVALID_ARGUMENT
 * (empty secret) or SG_ERR_CRYPTO; out is written only on success.
 */
int sg_notify_sign(const uint8_t *secret, size_t secret_len, int64_t t, const char *body,
    size_t body_len, char out[SG_NOTIFY_SIGNATURE_MAX]) SG_WUR;

/*
 * 1 when url is an absolute http:// or https:// URL with a host, at most
 * SG_WEBHOOK_URL_MAX - 1 characters, without spaces or control characters.
 */
int sg_notify_url_ok(const char *url);

/*
 * Seal a webhook's secret (secret_len bytes, 1..SG_WEBHOOK_SECRET_MAX) with
 * ks (the DISK keystore: the server's master key custody) for webhook w,
 * whose id and tenant_id must be set: they are bound into the seal as
 * "webhook:<tenant id>/<webhook id>".  On success w->secret holds the
 * sealed blob and w->secret_sealed is 1; the caller still owns, and
 * wipes, its clear copy.  SG_ERR_PRECONDITION when ks cannot seal secrets
 * (then nothing is to be stored), SG_ERR_UNAVAILABLE when its token is
 * away; w is changed only on success.
 */
int sg_notify_seal_secret(sg_keystore *ks, sg_webhook *w, const uint8_t *secret,
    size_t secret_len) SG_WUR;

/*
 * Open w's sealed secret with ks.  On success *secret (malloc'd, secret)
 * is the HMAC key: wipe and free it with sg_free_secret(*secret,
 * *secret_len) right after use.  SG_ERR_PRECONDITION for a secret still
 * in clear (not sealed at start yet), SG_ERR_CRYPTO when the blob does not
 * open for this webhook (tampered, copied from another row, other master
 * key); nothing secret is left behind on failure.
 */
int sg_notify_open_secret(sg_keystore *ks, const sg_webhook *w, uint8_t **secret,
    size_t *secret_len) SG_WUR;

/*
 * Seal the secrets of svc's webhooks that an earlier version stored in
 * clear, with svc->soft, one webhook per transaction (a crash halfway
 * loses none; a repeat does nothing), leaving no clear copy in the
 * database files.  sg_notify_start calls it before its threads start.
 */
int sg_notify_seal_stored_secrets(const sg_service *svc) SG_WUR;

typedef struct sg_notify_config {
	int64_t retry_base_ms;      /* first retry delay, doubled each attempt; default 1000, >= 100 */
	int64_t retry_max_ms;       /* cap of the delay; default 60000 */
	int max_attempts;           /* then FAILED; default 50 */
	int64_t connect_timeout_ms; /* per attempt; default 3000 */
	int64_t timeout_ms;         /* whole attempt; default 10000 */
	int64_t poll_ms;            /* idle wake-up of scanner and senders; default 200 */
	unsigned senders;           /* sender threads; default 4 */
	const char *smtp_url;       /* "smtp://host:port"; NULL or "" = no e-mail */
	const char *smtp_from;      /* sender address; required with smtp_url */
	const char *public_url;     /* base of the portal link in mail, e.g. "https://signet.example" */
} sg_notify_config;

typedef struct sg_notify sg_notify;

/*
 * Start the scanner and the senders over svc->store, after sealing any
 * webhook secret still stored in clear (sg_notify_seal_stored_secrets;
 * its failure is returned and nothing starts).  Webhook secrets are opened
 * with svc->soft.  cfg fields left 0 or NULL take the defaults; the
 * strings are copied.  SG_ERR_INVALID_ARGUMENT for smtp_url without
 * smtp_from.
 */
int sg_notify_start(const sg_service *svc, const sg_notify_config *cfg, sg_notify **out) SG_WUR;

/* Stop scanning and sending (an attempt in flight ends within its timeout), join, free.  NULL is fine. */
void sg_notify_stop(sg_notify *n);

#endif
