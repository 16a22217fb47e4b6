/*
 * custody.c - the keystores a server runs, put together from the master
 * key settings (sg_custody_open in sg_pkcs11.h).
 *
 * DISK is the software keystore; what seals it is the operator's choice:
 *   file  new keys sealed by master.key (created on first start); with an
 *         HSM, "SGK2" blobs (sealed while the master key was in the HSM)
 *         still open.
 *   hsm   new keys sealed by the token's AES key (found or generated at
 *         start, so a token unfit for it stops the start); "SGK1" blobs
 *         still open while master.key exists, and no master.key is ever
 *         created.
 * HSM (with a token) is the router of hsm.c: keys inside the token, and
 * ML-DSA/composite keys sealed by the same AES key.  Every sealer over the
 * token holds its own reference to the PKCS#11 keystore, so the two
 * keystores may be closed in either order.
 */
#include <stdlib.h>
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_pkcs11.h"
#include "sg_sealer.h"

int
sg_custody_open(const sg_custody_config *cfg, sg_keystore *p11, sg_keystore **disk,
    sg_keystore **hsm)
{
	sg_keystore *soft = NULL, *router = NULL;
	sg_sealer *seal = NULL, *also = NULL, *hsm_seal = NULL;
	int r;

	if (cfg == NULL || cfg->master_key_path == NULL || disk == NULL || hsm == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (cfg->master_key_in_hsm && p11 == NULL) {
		sg_error("keystore: the master key is to be in the HSM, but no HSM is configured");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (cfg->master_key_in_hsm) {
		if ((r = sg_sealer_pkcs11_open(p11, cfg->master_key_label, 1, &seal)) != SG_OK) {
			sg_error("keystore: cannot use the token's AES key as the master key: %s",
			    sg_err_str(r));
			goto out;
		}
		r = sg_sealer_file_open(cfg->master_key_path, 0, &also);
		if (r == SG_OK) {
			sg_info("keystore: master key in the HSM; %s still opens the keys it sealed",
			    cfg->master_key_path);
		} else if (r == SG_ERR_NOT_FOUND) {
			r = SG_OK;
		} else {
			sg_error("keystore: cannot read the former master key %s: %s",
			    cfg->master_key_path, sg_err_str(r));
			goto out;
		}
	} else {
		if ((r = sg_sealer_file_open(cfg->master_key_path, 1, &seal)) != SG_OK) {
			sg_error("keystore: cannot open the master key %s: %s", cfg->master_key_path,
			    sg_err_str(r));
			goto out;
		}
		if (p11 != NULL &&
		    (r = sg_sealer_pkcs11_open(p11, cfg->master_key_label, 0, &also)) != SG_OK)
			goto out;
	}
	if ((r = sg_keystore_soft_open_sealed(seal, also, cfg->cache_keys, &soft)) != SG_OK)
		goto out;
	seal = also = NULL;
	if (p11 != NULL) {
		if ((r = sg_sealer_pkcs11_open(p11, cfg->master_key_label, 0, &hsm_seal)) != SG_OK ||
		    (r = sg_keystore_hsm_open(p11, hsm_seal, &router)) != SG_OK)
			goto out;
		hsm_seal = NULL;
	}
	*disk = soft;
	*hsm = router;
	soft = NULL;
	r = SG_OK;
out:
	sg_sealer_free(seal);
	sg_sealer_free(also);
	sg_sealer_free(hsm_seal);
	sg_keystore_close(soft);
	return r;
}
