/* keystore.c - dispatch through a keystore's table of functions (see sg_keystore.h). */
#include <stdio.h>
#include <string.h>
#include "sg_keystore.h"

void
sg_key_version_id(const char *key_id, int version, char out[SG_KEY_VERSION_ID_MAX])
{
	snprintf(out, SG_KEY_VERSION_ID_MAX, "%s/%d", key_id, version);
}

int
sg_keystore_generate(sg_keystore *ks, const char *version_id, sg_key_alg alg,
    uint8_t **handle, size_t *handle_len, uint8_t **spki, size_t *spki_len)
{
	return ks->ops->generate(ks, version_id, alg, handle, handle_len, spki, spki_len);
}

int
sg_keystore_sign(sg_keystore *ks, const sg_key_ref *ref, const sg_sign_params *params,
    const uint8_t *digest, size_t digest_len, uint8_t **sig, size_t *siglen)
{
	return ks->ops->sign(ks, ref, params, digest, digest_len, sig, siglen);
}

int
sg_keystore_destroy(sg_keystore *ks, const sg_key_ref *ref)
{
	return ks->ops->destroy(ks, ref);
}

void
sg_keystore_close(sg_keystore *ks)
{
	if (ks != NULL)
		ks->ops->close(ks);
}

static int
secret_args_ok(sg_keystore *ks, const char *aad, const uint8_t *in, size_t in_len)
{
	if (ks == NULL || aad == NULL || in == NULL || in_len == 0)
		return 0;
	size_t n = strnlen(aad, SG_SECRET_AAD_MAX + 1);
	return n > 0 && n <= SG_SECRET_AAD_MAX;
}

int
sg_keystore_seal_secret(sg_keystore *ks, const char *aad, const uint8_t *plain,
    size_t plain_len, uint8_t **blob, size_t *blob_len)
{
	if (!secret_args_ok(ks, aad, plain, plain_len) || blob == NULL || blob_len == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (ks->ops->seal_secret == NULL)
		return SG_ERR_PRECONDITION;
	return ks->ops->seal_secret(ks, aad, plain, plain_len, blob, blob_len);
}

int
sg_keystore_open_secret(sg_keystore *ks, const char *aad, const uint8_t *blob,
    size_t blob_len, uint8_t **plain, size_t *plain_len)
{
	if (!secret_args_ok(ks, aad, blob, blob_len) || plain == NULL || plain_len == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (ks->ops->open_secret == NULL)
		return SG_ERR_PRECONDITION;
	return ks->ops->open_secret(ks, aad, blob, blob_len, plain, plain_len);
}
