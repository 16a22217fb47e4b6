/*
 * store.c - the back-end independent part of sg_store.h: closing a store
 * through its table of functions, releasing the heap fields of records, the
 * role names, and the audit chain's hash and its verification.  Every
 * back-end fills records the same way (heap fields malloc'd, key handles
 * secret) and must chain audit entries identically, so that code lives here
 * once and a chain written by one back-end verifies under another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include "sg_secret.h"
#include "sg_store.h"
#include "sg_util.h"

void
sg_store_close(sg_store *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s);
}

void
sg_key_version_clear(sg_key_version *v)
{
	if (v == NULL)
		return;
	free(v->spki);
	/* The handle may be a wrapped private key: never leave it in freed memory. */
	sg_free_secret(v->handle, v->handle_len);
	free(v->cert_chain_pem);
	v->spki = NULL;
	v->spki_len = 0;
	v->handle = NULL;
	v->handle_len = 0;
	v->cert_chain_pem = NULL;
}

void
sg_request_clear(sg_request *r)
{
	if (r == NULL)
		return;
	free(r->metadata_json);
	free(r->error);
	r->metadata_json = NULL;
	r->error = NULL;
}

void
sg_signature_clear(sg_signature *sig)
{
	if (sig == NULL)
		return;
	free(sig->signature);
	free(sig->timestamp_token);
	free(sig->metadata_json);
	sig->signature = NULL;
	sig->signature_len = 0;
	sig->timestamp_token = NULL;
	sig->timestamp_token_len = 0;
	sig->metadata_json = NULL;
}

void
sg_policy_clear(sg_policy *p)
{
	if (p == NULL)
		return;
	free(p->allowed_hash_algorithms);
	free(p->allowed_signature_algorithms);
	free(p->approvers);
	free(p->required_metadata);
	p->allowed_hash_algorithms = NULL;
	p->allowed_signature_algorithms = NULL;
	p->approvers = NULL;
	p->required_metadata = NULL;
}

void
sg_audit_entry_clear(sg_audit_entry *e)
{
	if (e == NULL)
		return;
	free(e->details);
	e->details = NULL;
}

void
sg_request_list_free(sg_request *r, size_t n)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sg_request_clear(&r[i]);
	free(r);
}

void
sg_policy_list_free(sg_policy *p, size_t n)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sg_policy_clear(&p[i]);
	free(p);
}

void
sg_audit_list_free(sg_audit_entry *e, size_t n)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sg_audit_entry_clear(&e[i]);
	free(e);
}

void
sg_key_version_list_free(sg_key_version *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sg_key_version_clear(&v[i]);
	free(v);
}

static const struct {
	unsigned bit;
	const char *name;
} sg_roles[] = {
	{ SG_ROLE_ADMIN, "admin" },
	{ SG_ROLE_SIGNER, "signer" },
	{ SG_ROLE_APPROVER, "approver" },
	{ SG_ROLE_AUDITOR, "auditor" },
	{ SG_ROLE_OPERATOR, "operator" },
};

unsigned
sg_role_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(sg_roles) / sizeof(sg_roles[0]); i++)
		if (strcasecmp(name, sg_roles[i].name) == 0)
			return sg_roles[i].bit;
	return 0;
}

const char *
sg_role_name(unsigned role_bit)
{
	for (size_t i = 0; i < sizeof(sg_roles) / sizeof(sg_roles[0]); i++)
		if (sg_roles[i].bit == role_bit)
			return sg_roles[i].name;
	return NULL;
}

/* ---- the audit chain ---- */

static void
sg_audit_hash_field(EVP_MD_CTX *ctx, const void *p, size_t n)
{
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	EVP_DigestUpdate(ctx, len, sizeof(len));
	if (n > 0)
		EVP_DigestUpdate(ctx, p, n);
}

static void
sg_audit_hash_text(EVP_MD_CTX *ctx, const char *s, size_t max)
{
	sg_audit_hash_field(ctx, s, strnlen(s, max));
}

static void
sg_audit_hash_int(EVP_MD_CTX *ctx, int64_t v)
{
	char dec[24];
	int n = snprintf(dec, sizeof(dec), "%lld", (long long)v);
	sg_audit_hash_field(ctx, dec, n > 0 ? (size_t)n : 0);
}

void
sg_audit_entry_hash(const sg_audit_entry *e, const uint8_t prev_hash[32], uint8_t out[32])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

	if (ok) {
		EVP_DigestUpdate(ctx, prev_hash, 32);
		sg_audit_hash_int(ctx, e->seq);
		sg_audit_hash_text(ctx, e->tenant_id, sizeof(e->tenant_id));
		sg_audit_hash_int(ctx, e->ts);
		sg_audit_hash_text(ctx, e->actor, sizeof(e->actor));
		sg_audit_hash_text(ctx, e->action, sizeof(e->action));
		sg_audit_hash_text(ctx, e->object, sizeof(e->object));
		sg_audit_hash_text(ctx, e->details != NULL ? e->details : "", SIZE_MAX);
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	}
	EVP_MD_CTX_free(ctx);
	/*
	 * No way to fail here: OpenSSL out of memory yields an all-0xff hash,
	 * which matches no real chain, so the entry reads as tampered rather
	 * than silently accepted.
	 */
	if (ok)
		memcpy(out, md, 32);
	else
		memset(out, 0xff, 32);
}

#define SG_AUDIT_VERIFY_PAGE 1000

int
sg_audit_verify(sg_store *s, const char *tenant_id, int64_t *checked, int64_t *bad_seq,
    char *why, size_t whylen)
{
	sg_audit_entry *page = NULL;
	size_t n = 0;
	int64_t head_seq = 0, expect = 1, count = 0, bad = 0;
	uint8_t head_hash[32], prev[32], h[32];
	char reason[128] = "";
	int r = SG_ERR_INTERNAL;

	if (s == NULL || tenant_id == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	/*
	 * The head first: entries appended while we read lie beyond it and are
	 * left for the next run, so a busy chain does not look cut short.
	 */
	if ((r = s->ops->audit_head(s, tenant_id, &head_seq, head_hash)) != SG_OK)
		return r;
	memset(prev, 0, sizeof(prev));
	while (bad == 0 && expect <= head_seq) {
		if ((r = s->ops->audit_list(s, tenant_id, expect - 1, SG_AUDIT_VERIFY_PAGE, &page,
		    &n)) != SG_OK)
			goto out;
		if (n == 0) {
			bad = expect;
			snprintf(reason, sizeof(reason), "entries %lld to %lld are missing",
			    (long long)expect, (long long)head_seq);
			break;
		}
		for (size_t i = 0; i < n && expect <= head_seq; i++) {
			const sg_audit_entry *e = &page[i];
			if (e->seq != expect) {
				bad = expect;
				snprintf(reason, sizeof(reason), "entry %lld is missing", (long long)expect);
				break;
			}
			count++;
			sg_audit_entry_hash(e, prev, h);
			if (memcmp(e->prev_hash, prev, sizeof(prev)) != 0) {
				bad = e->seq;
				snprintf(reason, sizeof(reason),
				    "entry %lld does not follow entry %lld", (long long)e->seq,
				    (long long)(e->seq - 1));
				break;
			}
			if (memcmp(e->hash, h, sizeof(h)) != 0) {
				bad = e->seq;
				snprintf(reason, sizeof(reason), "entry %lld was modified",
				    (long long)e->seq);
				break;
			}
			memcpy(prev, e->hash, sizeof(prev));
			expect++;
		}
		sg_audit_list_free(page, n);
		page = NULL;
		n = 0;
	}
	if (bad == 0 && head_seq > 0 && memcmp(prev, head_hash, sizeof(prev)) != 0) {
		bad = head_seq;
		snprintf(reason, sizeof(reason), "the chain head does not match entry %lld",
		    (long long)head_seq);
	}
	if (bad == 0 && head_seq == 0) {
		/* No head: then there must be no entries either (a deleted head row). */
		if ((r = s->ops->audit_list(s, tenant_id, 0, 1, &page, &n)) != SG_OK)
			goto out;
		if (n > 0) {
			bad = page[0].seq;
			snprintf(reason, sizeof(reason), "the chain head is missing");
		}
		sg_audit_list_free(page, n);
		page = NULL;
		n = 0;
	}
	if (checked != NULL)
		*checked = count;
	if (bad_seq != NULL)
		*bad_seq = bad;
	if (why != NULL && whylen > 0)
		sg_strlcpy(why, reason, whylen);
	r = bad == 0 ? SG_OK : SG_ERR_BAD_SIGNATURE;
out:
	sg_audit_list_free(page, n);
	return r;
}

void
sg_webhook_clear(sg_webhook *w)
{
	if (w == NULL)
		return;
	sg_wipe(w->secret, sizeof(w->secret));
	w->secret_len = 0;
	w->secret_sealed = 0;
}

void
sg_webhook_list_free(sg_webhook *w, size_t n)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sg_webhook_clear(&w[i]);
	free(w);
}

void
sg_tsa_key_record_clear(sg_tsa_key_record *k)
{
	if (k == NULL)
		return;
	free(k->handle);
	free(k->cert_pem);
	k->handle = NULL;
	k->handle_len = 0;
	k->cert_pem = NULL;
}

void
sg_delivery_clear(sg_delivery *d)
{
	if (d == NULL)
		return;
	free(d->body);
	d->body = NULL;
}

void
sg_delivery_list_free(sg_delivery *d, size_t n)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sg_delivery_clear(&d[i]);
	free(d);
}
