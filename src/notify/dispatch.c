/*
 * dispatch.c - the dispatcher's threads: one scanner, a few senders.
 *
 * The scanner wakes every poll interval, asks the store which tenants'
 * audit logs have entries past the dispatcher's cursor, and has outbox.c
 * turn them into deliveries.  Senders claim due deliveries under a lease
 * (longer than an attempt can take), send them with libcurl and record
 * the outcome: DELIVERED on a 2xx (webhook) or an accepted message (SMTP);
 * otherwise the attempt count grows and the delivery waits base * 2^(n-1)
 * ms (capped) before the next try, until max_attempts make it FAILED.
 * Every attempt has bounded connect and total timeouts, so a hung receiver
 * holds one sender for at most timeout_ms and never anything on the
 * signing path, which knows nothing of this module.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include "notify_int.h"
#include "sg_b64.h"
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_util.h"

#define NOTIFY_MAX_SENDERS 32
#define NOTIFY_CLAIM_MARGIN_MS 30000   /* a claim outlives an attempt by this much */

static const char *const event_names[] = {
	"approval.requested", "request.signed", "request.failed", "request.rejected",
	"request.dead_lettered", "key.rotated",
};

unsigned
sg_notify_event_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (strcmp(name, event_names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *
sg_notify_event_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (bit == 1u << i)
			return event_names[i];
	return NULL;
}

int
sg_notify_sign(const uint8_t *secret, size_t secret_len, int64_t t, const char *body,
    size_t body_len, char out[SG_NOTIFY_SIGNATURE_MAX])
{
	char ts[24];
	uint8_t mac[32];
	size_t maclen = 0;
	char hex[2 * 32 + 1];
	int r = SG_ERR_CRYPTO;
	EVP_MAC *hmac = NULL;
	EVP_MAC_CTX *h = NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (secret == NULL || secret_len == 0 || (body == NULL && body_len))
		return SG_ERR_INVALID_ARGUMENT;
	int tl = snprintf(ts, sizeof(ts), "%lld.", (long long)t);
	if (tl <= 0 || (size_t)tl >= sizeof(ts))
		return SG_ERR_INVALID_ARGUMENT;
	/* Fed in two pieces, "<t>." then the body, so the body is never copied. */
	if ((hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL || (h = EVP_MAC_CTX_new(hmac)) == NULL ||
	    EVP_MAC_init(h, secret, secret_len, params) != 1 ||
	    EVP_MAC_update(h, (const unsigned char *)ts, (size_t)tl) != 1 ||
	    (body_len > 0 && EVP_MAC_update(h, (const unsigned char *)body, body_len) != 1) ||
	    EVP_MAC_final(h, mac, &maclen, sizeof(mac)) != 1 || maclen != sizeof(mac))
		goto out;
	sg_hex_encode(mac, sizeof(mac), hex);
	snprintf(out, SG_NOTIFY_SIGNATURE_MAX, "t=%lld,v1=%s", (long long)t, hex);
	r = SG_OK;
out:
	EVP_MAC_CTX_free(h);
	EVP_MAC_free(hmac);
	sg_wipe(mac, sizeof(mac));
	return r;
}

int
sg_notify_url_ok(const char *url)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL;
	int ok = 0;
	size_t n = url ? strlen(url) : 0;
	if (n == 0 || n >= SG_WEBHOOK_URL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return 0;
	if ((u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0' &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0))
		ok = 1;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

struct sg_notify {
	const sg_service *svc;
	sg_notify_config cfg;
	char smtp_url[1024];
	char smtp_from[SG_EMAIL_MAX];
	char public_url[1024];
	pthread_t scanner;
	pthread_t senders[NOTIFY_MAX_SENDERS];
	unsigned nsenders;
	int scanner_started;
	int curl_ready;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
	unsigned pending;   /* wake-ups for senders: deliveries were just queued */
};

static int
is_stopping(sg_notify *n)
{
	pthread_mutex_lock(&n->mu);
	int s = n->stopping;
	pthread_mutex_unlock(&n->mu);
	return s;
}

/* Sleep up to poll_ms, less when woken (wakeups != NULL: consume one pending wake-up). */
static void
nap(sg_notify *n, int take_wakeup)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ns = (int64_t)ts.tv_nsec + (n->cfg.poll_ms % 1000) * 1000000;
	ts.tv_sec += (time_t)(n->cfg.poll_ms / 1000 + ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	pthread_mutex_lock(&n->mu);
	while (!n->stopping && (!take_wakeup || n->pending == 0)) {
		if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) != 0)
			break;
	}
	if (take_wakeup && n->pending > 0)
		n->pending--;
	pthread_mutex_unlock(&n->mu);
}

static void *
scanner_main(void *arg)
{
	sg_notify *n = arg;
	sg_store *s = n->svc->store;
	sg_outbox_ctx ctx = { .store = s, .mail = n->smtp_url[0] != '\0', .smtp_from = n->smtp_from,
	    .public_url = n->public_url };

	while (!is_stopping(n)) {
		sg_notify_cursor *behind = NULL;
		size_t nb = 0, total = 0;
		if (s->ops->notify_behind(s, &behind, &nb) != SG_OK)
			nb = 0;
		for (size_t i = 0; i < nb && !is_stopping(n); i++) {
			sg_notify_cursor c = behind[i];
			int more = 1;
			while (more && !is_stopping(n)) {
				size_t queued = 0;
				if (sg_outbox_scan(&ctx, &c, &queued, &more) != SG_OK) {
					sg_warn("notify: cannot read tenant %s's audit log past %lld; will retry",
					    c.tenant_id, (long long)c.seq);
					break;
				}
				total += queued;
			}
		}
		free(behind);
		if (total > 0) {
			pthread_mutex_lock(&n->mu);
			n->pending += (unsigned)(total < n->nsenders ? total : n->nsenders);
			pthread_cond_broadcast(&n->cv);
			pthread_mutex_unlock(&n->mu);
			sg_debug("notify: %zu deliveries queued", total);
		}
		nap(n, 0);
	}
	return NULL;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

typedef struct upload {
	const char *p;
	size_t left;
} upload;

static size_t
read_upload(char *dst, size_t size, size_t nmemb, void *arg)
{
	upload *u = arg;
	size_t n = size * nmemb < u->left ? size * nmemb : u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* libcurl's progress callback: a non-zero answer ends the transfer, so a stop need not wait for a hung receiver. */
static int
abort_on_stop(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return is_stopping(arg);
}

static void
common_opts(sg_notify *n, CURL *c, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)n->cfg.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)n->cfg.timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
}

/* One webhook attempt: *status = HTTP status (0 when none); SG_OK only for 2xx. */
static int
send_webhook(sg_notify *n, const sg_delivery *d, int *status, char *err, size_t errlen)
{
	sg_store *s = n->svc->store;
	sg_webhook w;
	char sig[SG_NOTIFY_SIGNATURE_MAX], hdr[sizeof(sig) + 32], evh[64], idh[64];
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURL *c = NULL;
	long code = 0;
	int r;

	*status = 0;
	if ((r = s->ops->webhook_get(s, d->tenant_id, d->webhook_id, &w)) != SG_OK) {
		snprintf(err, errlen, "webhook deleted");
		return r;
	}
	size_t blen = strlen(d->body);
	/* The HMAC key is in clear only from here to the signature. */
	uint8_t *key = NULL;
	size_t key_len = 0;
	r = sg_notify_open_secret(n->svc->soft, &w, &key, &key_len);
	if (r != SG_OK) {
		snprintf(err, errlen, "cannot open the webhook's sealed secret");
		goto out;
	}
	r = sg_notify_sign(key, key_len, (int64_t)time(NULL), d->body, blen, sig);
	sg_free_secret(key, key_len);
	if (r != SG_OK) {
		snprintf(err, errlen, "cannot sign the delivery");
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "Signet-Signature: %s", sig);
	snprintf(evh, sizeof(evh), "Signet-Event: %s", d->event);
	snprintf(idh, sizeof(idh), "Signet-Delivery: %s", d->id);
	struct curl_slist *t;
	const char *lines[] = { "Content-Type: application/json", hdr, evh, idh, "Expect:" };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if ((t = curl_slist_append(headers, lines[i])) == NULL) {
			r = SG_ERR_NOMEM;
			goto out;
		}
		headers = t;
	}
	if ((c = curl_easy_init()) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	common_opts(n, c, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, w.url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "signetd-webhook/1");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	*status = (int)code;
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		r = SG_ERR_IO;
	} else if (code < 200 || code > 299) {
		snprintf(err, errlen, "HTTP %ld", code);
		r = SG_ERR_IO;
	} else {
		r = SG_OK;
	}
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	sg_wipe(hdr, sizeof(hdr));
	sg_wipe(sig, sizeof(sig));
	sg_webhook_clear(&w);
	return r;
}

/* One mail attempt through smtp_url: *status = the last SMTP reply code. */
static int
send_mail(sg_notify *n, const sg_delivery *d, int *status, char *err, size_t errlen)
{
	char from[SG_EMAIL_MAX + 2], to[SG_EMAIL_MAX + 2];
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpt = NULL;
	upload u = { d->body, strlen(d->body) };
	long code = 0;
	int r = SG_ERR_NOMEM;
	CURL *c = NULL;

	*status = 0;
	snprintf(from, sizeof(from), "<%s>", n->smtp_from);
	snprintf(to, sizeof(to), "<%s>", d->recipient);
	if ((rcpt = curl_slist_append(NULL, to)) == NULL || (c = curl_easy_init()) == NULL)
		goto out;
	common_opts(n, c, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, n->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	*status = (int)code;
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		r = SG_ERR_IO;
	} else {
		r = SG_OK;
	}
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	return r;
}

static int64_t
backoff_ms(const sg_notify *n, int attempts)
{
	int64_t d = n->cfg.retry_base_ms;
	for (int i = 1; i < attempts && d < n->cfg.retry_max_ms; i++)
		d *= 2;
	return d < n->cfg.retry_max_ms ? d : n->cfg.retry_max_ms;
}

static void
attempt(sg_notify *n, sg_delivery *d)
{
	sg_store *s = n->svc->store;
	char err[sizeof(d->last_error)] = "";
	int status = 0, r;

	if (d->webhook_id[0] != '\0')
		r = send_webhook(n, d, &status, err, sizeof(err));
	else if (n->smtp_url[0] != '\0')
		r = send_mail(n, d, &status, err, sizeof(err));
	else {
		r = SG_ERR_UNAVAILABLE;
		snprintf(err, sizeof(err), "no smtp_url configured");
	}
	if (r == SG_ERR_NOT_FOUND)
		return;  /* the webhook was deleted, and its deliveries with it */
	int64_t now = sg_now_ms();
	if (r != SG_OK && is_stopping(n)) {
		/* Cut short by a stop: not the receiver's fault, due again at the next start. */
		d->next_attempt_at = now;
		if (s->ops->delivery_finish(s, d, now) != SG_OK)
			sg_debug("notify: delivery %s stays claimed until its lease ends", d->id);
		return;
	}
	d->attempts++;
	d->last_status = status;
	sg_strlcpy(d->last_error, err, sizeof(d->last_error));
	if (r == SG_OK) {
		sg_strlcpy(d->status, "DELIVERED", sizeof(d->status));
		d->next_attempt_at = 0;
	} else if (d->attempts >= n->cfg.max_attempts) {
		sg_strlcpy(d->status, "FAILED", sizeof(d->status));
		d->next_attempt_at = 0;
		sg_warn("notify: delivery %s (%s, %s) failed for good after %d attempts: %s", d->id,
		    d->event, d->webhook_id[0] ? "webhook" : "mail", d->attempts, err);
	} else {
		d->next_attempt_at = now + backoff_ms(n, d->attempts);
	}
	sg_debug("notify: delivery %s %s attempt %d: %s %d %s", d->id, d->event, d->attempts,
	    r == SG_OK ? "delivered" : "failed", status, err);
	int fr = s->ops->delivery_finish(s, d, now);
	if (fr != SG_OK && fr != SG_ERR_NOT_FOUND)
		sg_warn("notify: cannot record delivery %s: %s", d->id, sg_err_str(fr));
}

static void *
sender_main(void *arg)
{
	sg_notify *n = arg;
	sg_store *s = n->svc->store;
	int64_t lease = n->cfg.timeout_ms + n->cfg.connect_timeout_ms + NOTIFY_CLAIM_MARGIN_MS;

	while (!is_stopping(n)) {
		sg_delivery *d = NULL;
		size_t cnt = 0;
		if (s->ops->delivery_claim(s, sg_now_ms(), lease, 1, &d, &cnt) != SG_OK || cnt == 0) {
			sg_delivery_list_free(d, cnt);
			nap(n, 1);
			continue;
		}
		attempt(n, &d[0]);
		sg_delivery_list_free(d, cnt);
	}
	return NULL;
}

int
sg_notify_start(const sg_service *svc, const sg_notify_config *cfg, sg_notify **out)
{
	sg_notify *n = NULL;
	int r = SG_ERR_INVALID_ARGUMENT;

	if (svc == NULL || svc->store == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return SG_ERR_NOMEM;
	n->svc = svc;
	if (cfg != NULL)
		n->cfg = *cfg;
	if (n->cfg.retry_base_ms <= 0)
		n->cfg.retry_base_ms = 1000;
	if (n->cfg.retry_base_ms < 100)
		n->cfg.retry_base_ms = 100;  /* N4: retries at least 100 ms apart */
	if (n->cfg.retry_max_ms <= 0)
		n->cfg.retry_max_ms = 60000;
	if (n->cfg.retry_max_ms < n->cfg.retry_base_ms)
		n->cfg.retry_max_ms = n->cfg.retry_base_ms;
	if (n->cfg.max_attempts <= 0)
		n->cfg.max_attempts = 50;
	if (n->cfg.connect_timeout_ms <= 0)
		n->cfg.connect_timeout_ms = 3000;
	if (n->cfg.timeout_ms <= 0)
		n->cfg.timeout_ms = 10000;
	if (n->cfg.poll_ms <= 0)
		n->cfg.poll_ms = 200;
	if (n->cfg.senders == 0)
		n->cfg.senders = 4;
	if (n->cfg.senders > NOTIFY_MAX_SENDERS)
		n->cfg.senders = NOTIFY_MAX_SENDERS;
	if (cfg != NULL && cfg->smtp_url != NULL && cfg->smtp_url[0] != '\0') {
		if (cfg->smtp_from == NULL || cfg->smtp_from[0] == '\0' ||
		    sg_strlcpy(n->smtp_url, cfg->smtp_url, sizeof(n->smtp_url)) >= sizeof(n->smtp_url) ||
		    sg_strlcpy(n->smtp_from, cfg->smtp_from, sizeof(n->smtp_from)) >= sizeof(n->smtp_from)) {
			sg_error("notify: smtp_url needs smtp_from (an address of at most 254 characters)");
			free(n);
			return SG_ERR_INVALID_ARGUMENT;
		}
	}
	if (cfg != NULL && cfg->public_url != NULL)
		sg_strlcpy(n->public_url, cfg->public_url, sizeof(n->public_url));
	size_t pl = strlen(n->public_url);
	while (pl > 0 && n->public_url[pl - 1] == '/')
		n->public_url[--pl] = '\0';
	n->cfg.smtp_url = n->cfg.smtp_from = n->cfg.public_url = NULL;  /* the copies above are used */
	if ((r = sg_notify_seal_stored_secrets(svc)) != SG_OK) {
		free(n);
		return r;
	}
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	/* Before any thread uses libcurl (signetd calls this from main, before the senders). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		pthread_cond_destroy(&n->cv);
		pthread_mutex_destroy(&n->mu);
		free(n);
		return SG_ERR_INTERNAL;
	}
	n->curl_ready = 1;
	if (pthread_create(&n->scanner, NULL, scanner_main, n) != 0) {
		r = SG_ERR_INTERNAL;
		goto fail;
	}
	n->scanner_started = 1;
	for (unsigned i = 0; i < n->cfg.senders; i++) {
		if (pthread_create(&n->senders[i], NULL, sender_main, n) != 0) {
			r = SG_ERR_INTERNAL;
			goto fail;
		}
		n->nsenders++;
	}
	sg_info("notify: dispatcher started (%u senders, retry base %lld ms, cap %lld ms, %d attempts%s)",
	    n->nsenders, (long long)n->cfg.retry_base_ms, (long long)n->cfg.retry_max_ms,
	    n->cfg.max_attempts, n->smtp_url[0] ? ", e-mail on" : "");
	*out = n;
	return SG_OK;
fail:
	sg_notify_stop(n);
	return r;
}

void
sg_notify_stop(sg_notify *n)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	n->stopping = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	if (n->scanner_started)
		pthread_join(n->scanner, NULL);
	for (unsigned i = 0; i < n->nsenders; i++)
		pthread_join(n->senders[i], NULL);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	if (n->curl_ready)
		curl_global_cleanup();
	free(n);
}
