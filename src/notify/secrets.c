/*
 * secrets.c - webhook secrets sealed at rest.
 *
 * A webhook's secret is the HMAC key of its Signet-Signature header, so the
 * dispatcher needs it in clear for every delivery; it must still never rest
 * in clear in a file.  It is sealed by the DISK keystore (svc->soft), whose
 * sealer follows the operator's master key custody (master.key, or an AES
 * key inside the HSM: custody.c), under the associated data
 * "webhook:<tenant id>/<webhook id>": a blob copied to another webhook or
 * tenant does not open.  The API seals a new secret before the store sees
 * it; the dispatcher opens it just before computing a signature and wipes
 * it right after; at start, secrets stored in clear by an earlier version
 * are sealed row by row (each row in its own transaction, so a crash
 * halfway leaves every secret either still clear or sealed, never lost;
 * a repeat finds nothing left to do).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "notify_int.h"
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_util.h"

static int
secret_aad(const char *tenant_id, const char *webhook_id, char out[SG_SECRET_AAD_MAX + 1])
{
	size_t n = (size_t)snprintf(out, SG_SECRET_AAD_MAX + 1, "webhook:%s/%s", tenant_id,
	    webhook_id);
	return n <= SG_SECRET_AAD_MAX ? SG_OK : SG_ERR_INVALID_ARGUMENT;
}

int
sg_notify_seal_secret(sg_keystore *ks, sg_webhook *w, const uint8_t *secret, size_t secret_len)
{
	char aad[SG_SECRET_AAD_MAX + 1];
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	int r;

	if (ks == NULL || w == NULL || w->id[0] == '\0' || w->tenant_id[0] == '\0' ||
	    secret == NULL || secret_len == 0 || secret_len > SG_WEBHOOK_SECRET_MAX)
		return SG_ERR_INVALID_ARGUMENT;
	if ((r = secret_aad(w->tenant_id, w->id, aad)) != SG_OK ||
	    (r = sg_keystore_seal_secret(ks, aad, secret, secret_len, &blob, &blob_len)) != SG_OK)
		goto out;
	if (blob_len > sizeof(w->secret)) {
		r = SG_ERR_INTERNAL;
		goto out;
	}
	sg_wipe(w->secret, sizeof(w->secret));
	memcpy(w->secret, blob, blob_len);
	w->secret_len = blob_len;
	w->secret_sealed = 1;
	r = SG_OK;
out:
	free(blob);
	return r;
}

int
sg_notify_open_secret(sg_keystore *ks, const sg_webhook *w, uint8_t **secret,
    size_t *secret_len)
{
	char aad[SG_SECRET_AAD_MAX + 1];
	int r;

	if (ks == NULL || w == NULL || secret == NULL || secret_len == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (!w->secret_sealed) {
		sg_error("notify: webhook %s's secret is not sealed yet (it is sealed at start)",
		    w->id);
		return SG_ERR_PRECONDITION;
	}
	if ((r = secret_aad(w->tenant_id, w->id, aad)) != SG_OK)
		return r;
	return sg_keystore_open_secret(ks, aad, w->secret, w->secret_len, secret, secret_len);
}

int
sg_notify_seal_stored_secrets(const sg_service *svc)
{
	sg_store *s;
	sg_webhook *list = NULL;
	size_t n = 0, sealed = 0;
	int r;

	if (svc == NULL || svc->store == NULL || svc->soft == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	s = svc->store;
	if ((r = s->ops->webhook_list_unsealed(s, &list, &n)) != SG_OK) {
		sg_error("notify: cannot list webhook secrets still in clear: %s", sg_err_str(r));
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		sg_webhook *w = &list[i];
		sg_webhook blob;
		memset(&blob, 0, sizeof(blob));
		sg_strlcpy(blob.id, w->id, sizeof(blob.id));
		sg_strlcpy(blob.tenant_id, w->tenant_id, sizeof(blob.tenant_id));
		r = sg_notify_seal_secret(svc->soft, &blob, w->secret, w->secret_len);
		sg_webhook_clear(w);
		if (r == SG_OK)
			r = s->ops->webhook_seal(s, blob.tenant_id, blob.id, blob.secret, blob.secret_len);
		sg_webhook_clear(&blob);
		if (r == SG_ERR_NOT_FOUND) {
			r = SG_OK;   /* deleted or sealed by another process meanwhile */
			continue;
		}
		if (r != SG_OK) {
			sg_error("notify: cannot seal webhook %s's secret: %s", list[i].id,
			    sg_err_str(r));
			goto out;
		}
		sealed++;
	}
	if (sealed > 0)
		sg_info("notify: sealed %zu webhook secret(s) stored in clear by an earlier version",
		    sealed);
	r = SG_OK;
out:
	sg_webhook_list_free(list, n);
	return r;
}
