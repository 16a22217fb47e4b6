/*
 * auth.c - who is calling.
 *
 * Two credentials: a TLS client certificate that chains to the configured
 * client CA *and* is registered to a principal (by SHA-256 fingerprint), or
 * an API key in "Authorization: Bearer", "x-api-key" or "X-Vault-Token"
 * (the Transit dialect's header).  A presented certificate that is
 * untrusted or unregistered is refused outright, even with a valid API key
 * beside it: a wrong certificate is a wrong credential.
 *
 * API keys look like "sg_<12 hex>_<43 base64url>".  The middle part is a
 * public lookup prefix; only SHA-256 of the whole key is stored, and the
 * presented key's hash is compared in constant time.  (The key is 256 random
 * bits, so a fast hash is enough: there is nothing to brute-force.)  A key
 * of another shape (SIGNET_BOOTSTRAP_API_KEY may be anything) is found by a
 * prefix derived from its hash instead.
 *
 * Limits (ratelimit.h): an address that has failed too often is refused
 * with 429 before its credential is looked at, and an authenticated
 * principal takes a token from its own bucket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "api.h"
#include "ratelimit.h"
#include "sg_b64.h"
#include "sg_log.h"
#include "sg_secret.h"

#define KEY_PREFIX_CHARS 12

void
api_key_prefix(const char *key, char out[24])
{
	size_t len = strlen(key);
	if (len > 3 + KEY_PREFIX_CHARS + 1 && strncmp(key, "sg_", 3) == 0 &&
	    key[3 + KEY_PREFIX_CHARS] == '_' && sg_is_hex(key + 3, KEY_PREFIX_CHARS)) {
		memcpy(out, key + 3, KEY_PREFIX_CHARS);
		out[KEY_PREFIX_CHARS] = 0;
		return;
	}
	uint8_t h[32];
	char hex[65];
	sg_sha256(key, len, h);
	sg_hex_encode(h, 8, hex);
	out[0] = 'h';
	memcpy(out + 1, hex, 16);
	out[17] = 0;
}

int
api_issue_api_key(sg_store *store, const sg_principal *p, const char *fixed_key,
    sg_api_key *rec, char **key_text)
{
	int r;
	char *text = NULL;
	sg_api_key k;

	memset(&k, 0, sizeof(k));
	if (fixed_key != NULL) {
		if ((text = strdup(fixed_key)) == NULL)
			return SG_ERR_NOMEM;
	} else {
		uint8_t pre[KEY_PREFIX_CHARS / 2], secret[32];
		char prehex[KEY_PREFIX_CHARS + 1];
		if (RAND_bytes(pre, sizeof(pre)) != 1 || RAND_bytes(secret, sizeof(secret)) != 1)
			return SG_ERR_CRYPTO;
		sg_hex_encode(pre, sizeof(pre), prehex);
		char *s = sg_b64url_encode(secret, sizeof(secret));
		sg_wipe(secret, sizeof(secret));
		if (s == NULL)
			return SG_ERR_NOMEM;
		size_t n = 3 + KEY_PREFIX_CHARS + 1 + strlen(s) + 1;
		if ((text = malloc(n)) != NULL)
			snprintf(text, n, "sg_%s_%s", prehex, s);
		sg_free_secret_str(s);
		if (text == NULL)
			return SG_ERR_NOMEM;
	}
	if ((r = sg_uuid(k.id)) != SG_OK)
		goto out;
	sg_strlcpy(k.principal_id, p->id, sizeof(k.principal_id));
	sg_strlcpy(k.tenant_id, p->tenant_id, sizeof(k.tenant_id));
	api_key_prefix(text, k.prefix);
	sg_sha256(text, strlen(text), k.hash);
	k.created_at = sg_now_ms();
	if ((r = store->ops->api_key_create(store, &k)) != SG_OK)
		goto out;
	*rec = k;
	*key_text = text;
	text = NULL;
out:
	sg_free_secret_str(text);
	return r;
}

/*
 * Refuse, log and audit.  The entry goes to the tenant the credential
 * belongs to when that is known (a revoked or mistyped key with a real
 * prefix), else to the service chain; repeated failures from one address
 * are counted and summarised rather than written one by one, and use up
 * the address's allowance of failures (ratelimit.h).
 */
static int
unauthenticated(api_req *req, api_resp *resp, const char *why, const char *logwhy,
    const char *tenant_id)
{
	sg_warn("auth: refused request %s from %s: %s", req->request_id, req->client_ip, logwhy);
	api_error(req, resp, SG_ERR_UNAUTHENTICATED, "%s", why);
	memset(&req->principal, 0, sizeof(req->principal));
	memset(&req->tenant, 0, sizeof(req->tenant));
	api_rl_auth_failed(req, logwhy, tenant_id);
	return -1;
}

static int
load_principal(api_req *req, api_resp *resp, const char *tenant_id, const char *principal_id)
{
	sg_store *s = req->svc->store;
	int r = s->ops->principal_get(s, tenant_id, principal_id, &req->principal);
	if (r == SG_OK)
		r = s->ops->tenant_get(s, tenant_id, &req->tenant);
	if (r == SG_ERR_NOT_FOUND)
		return unauthenticated(req, resp, "invalid credentials", "principal no longer exists", tenant_id);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot load principal");
		return -1;
	}
	return 0;
}

static int
auth_cert(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_client_cert c;
	uint8_t fp[32];

	if (!req->peer_cert_verified)
		return unauthenticated(req, resp, "client certificate is not trusted",
		    "client certificate does not chain to the client CA", NULL);
	sg_sha256(req->peer_cert_der, req->peer_cert_len, fp);
	int r = s->ops->client_cert_find(s, fp, &c);
	if (r == SG_ERR_NOT_FOUND)
		return unauthenticated(req, resp, "client certificate is not registered",
		    "client certificate is not registered to any principal", NULL);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot look up client certificate");
		return -1;
	}
	return load_principal(req, resp, c.tenant_id, c.principal_id);
}

int
api_authenticate(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	const char *key = NULL;
	sg_api_key rec;
	uint8_t h[32];
	char prefix[24];

	if (api_rl_auth_blocked(req, resp))
		return -1;
	if (req->peer_cert_der != NULL)
		return auth_cert(req, resp) || api_rl_principal(req, resp);
	const char *authz = api_header(req, "Authorization");
	if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0)
		key = authz + 7;
	else if ((key = api_header(req, "x-api-key")) == NULL &&
	    (key = api_header(req, "X-Vault-Token")) == NULL)
		return unauthenticated(req, resp,
		    "credentials required: send 'Authorization: Bearer <api-key>' or 'x-api-key'",
		    "no credentials", NULL);
	while (*key == ' ')
		key++;
	if (*key == 0 || strlen(key) > 512)
		return unauthenticated(req, resp, "invalid API key", "malformed API key", NULL);
	api_key_prefix(key, prefix);
	sg_sha256(key, strlen(key), h);
	int r = s->ops->api_key_find(s, prefix, &rec);
	if (r == SG_ERR_NOT_FOUND)
		return unauthenticated(req, resp, "invalid API key", "unknown API key prefix", NULL);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot look up API key");
		return -1;
	}
	/* Compare first, then look at revocation: the timing says nothing either way. */
	int match = sg_ct_equal(h, rec.hash, sizeof(h));
	sg_wipe(h, sizeof(h));
	if (!match)
		return unauthenticated(req, resp, "invalid API key", "API key does not match", rec.tenant_id);
	if (rec.revoked_at != 0)
		return unauthenticated(req, resp, "invalid API key", "API key revoked", rec.tenant_id);
	if (load_principal(req, resp, rec.tenant_id, rec.principal_id))
		return -1;
	return api_rl_principal(req, resp);
}
