/* keystore.c - dispatch through a keystore's table of functions (see sg_keystore.h). */
#include <stdio.h>
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
