/* tsa_key.c - the key of signetd's time-stamp authority (see tsa_key.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sg_log.h"
#include "sg_util.h"
#include "tsa_key.h"

static int
exists_in(const char *dir, const char *name)
{
	char path[1200];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/*
 * Make the TSA key in the keystore of cfg->tsa_storage and record it.  When
 * another node recorded one first, ours is destroyed and theirs read back.
 */
static int
create_key(const sg_config *cfg, const sg_service *svc, sg_tsa_key_record *out)
{
	sg_store *s = svc->store;
	sg_keystore *ks = sg_service_keystore(svc, cfg->tsa_storage);
	sg_key_alg alg = sg_key_alg_from_name(cfg->tsa_key_type);
	sg_tsa_key_record rec;
	int r;

	if (ks == NULL) {
		sg_error("tsa: tsa_storage = %s, but that keystore is not configured (an HSM "
		    "needs pkcs11_module, pkcs11_token and pkcs11_pin_file; see docs/hsm.md)",
		    cfg->tsa_storage);
		return SG_ERR_INVALID_ARGUMENT;
	}
	memset(&rec, 0, sizeof(rec));
	r = sg_tsa_create_key(ks, alg == SG_KEY_RSA_3072 ? SG_TSA_KEY_RSA_3072 : SG_TSA_KEY_EC_P256,
	    &rec.handle, &rec.handle_len, &rec.cert_pem);
	if (r != SG_OK)
		return r;
	sg_strlcpy(rec.alg, sg_key_alg_name(alg == SG_KEY_RSA_3072 ? alg : SG_KEY_EC_P256),
	    sizeof(rec.alg));
	sg_strlcpy(rec.storage, ks->ops->storage, sizeof(rec.storage));
	rec.created_at = sg_now_ms();
	r = s->ops->tsa_key_put(s, &rec);
	if (r == SG_OK) {
		sg_info("tsa: created the TSA key (%s, storage %s) and its self-signed certificate",
		    rec.alg, rec.storage);
		*out = rec;
		return SG_OK;
	}
	sg_key_ref ref = { SG_TSA_KEY_VERSION_ID, sg_key_alg_from_name(rec.alg), rec.handle,
		rec.handle_len };
	if (sg_keystore_destroy(ks, &ref) != SG_OK)
		sg_warn("tsa: could not destroy the unrecorded TSA key");
	sg_tsa_key_record_clear(&rec);
	if (r == SG_ERR_CONFLICT) {
		sg_info("tsa: another node recorded the TSA key first; using that one");
		return s->ops->tsa_key_get(s, out);
	}
	sg_error("tsa: cannot record the TSA key in the store: %s", sg_err_str(r));
	return r;
}

/* sg_tsa_config.serial_next from the store's sequence (PostgreSQL: shared by every node). */
static int
store_serial(void *arg, uint64_t *out)
{
	sg_store *s = arg;
	return s->ops->tsa_serial_next(s, out);
}

int
sg_server_tsa_open(const sg_config *cfg, const sg_service *svc, sg_tsa **out)
{
	sg_store *s = svc->store;
	sg_tsa_key_record rec;
	sg_tsa_config tcfg = { .data_dir = cfg->data_dir,
		.chain_path = cfg->tsa_chain[0] ? cfg->tsa_chain : NULL,
		.policy_oid = cfg->tsa_policy[0] ? cfg->tsa_policy : NULL,
		.accuracy_ms = (unsigned)cfg->tsa_accuracy_ms };
	int r;

	if (s->ops->tsa_serial_next != NULL) {
		/* No serial file: several nodes stamp with one sequence (SPEC §6). */
		tcfg.serial_next = store_serial;
		tcfg.serial_arg = s;
	}
	if (cfg->tsa_cert[0] || cfg->tsa_key[0]) {
		tcfg.cert_path = cfg->tsa_cert[0] ? cfg->tsa_cert : NULL;
		tcfg.key_path = cfg->tsa_key[0] ? cfg->tsa_key : NULL;
		return sg_tsa_open(&tcfg, out);
	}
	memset(&rec, 0, sizeof(rec));
	r = s->ops->tsa_key_get(s, &rec);
	if (r == SG_ERR_NOT_FOUND && exists_in(cfg->data_dir, SG_TSA_KEY_FILE)) {
		/* An older version's clear key: keep it, never change the certificate unasked. */
		sg_warn("tsa: the TSA key is the clear file %s/%s made by an older signetd; to "
		    "move to a key kept by the keystore (tsa_storage = %s), stop signetd, "
		    "delete %s and %s there and start again: relying parties then need the new "
		    "TSA certificate (docs/tsa.md)", cfg->data_dir, SG_TSA_KEY_FILE,
		    cfg->tsa_storage, SG_TSA_KEY_FILE, SG_TSA_CERT_FILE);
		return sg_tsa_open(&tcfg, out);
	}
	if (r == SG_ERR_NOT_FOUND) {
		if (exists_in(cfg->data_dir, SG_TSA_CERT_FILE)) {
			sg_error("tsa: %s/%s exists but the store has no TSA key (is this the "
			    "database of another install?); restore that database, or delete %s to "
			    "create a new TSA key and certificate", cfg->data_dir, SG_TSA_CERT_FILE,
			    SG_TSA_CERT_FILE);
			return SG_ERR_INVALID_ARGUMENT;
		}
		if ((r = create_key(cfg, svc, &rec)) != SG_OK)
			return r;
	} else if (r != SG_OK) {
		sg_error("tsa: cannot read the TSA key from the store: %s", sg_err_str(r));
		return r;
	}
	if (exists_in(cfg->data_dir, SG_TSA_KEY_FILE))
		sg_warn("tsa: %s/%s is not used (the TSA key is in the store); it holds a private "
		    "key in clear: delete it", cfg->data_dir, SG_TSA_KEY_FILE);
	if (strcmp(rec.storage, cfg->tsa_storage) != 0)
		sg_warn("tsa: tsa_storage = %s, but the TSA key was created in storage %s and "
		    "stays there (the certificate would change otherwise; see docs/tsa.md)",
		    cfg->tsa_storage, rec.storage);
	tcfg.keystore = sg_service_keystore(svc, rec.storage);
	if (tcfg.keystore == NULL) {
		sg_error("tsa: the TSA key is in storage %s, which is not configured", rec.storage);
		sg_tsa_key_record_clear(&rec);
		return SG_ERR_UNAVAILABLE;
	}
	tcfg.keystore_key.version_id = SG_TSA_KEY_VERSION_ID;
	tcfg.keystore_key.alg = sg_key_alg_from_name(rec.alg);
	tcfg.keystore_key.handle = rec.handle;
	tcfg.keystore_key.handle_len = rec.handle_len;
	tcfg.keystore_cert_pem = rec.cert_pem;
	r = sg_tsa_open(&tcfg, out);
	sg_tsa_key_record_clear(&rec);
	/*
	 * sg_tsa_open signs once with the key: a sealed key that does not
	 * authenticate (SG_ERR_CRYPTO) means another master key sealed the
	 * store's keys.  Every DISK key of the store would fail the same way
	 * at sign time, so the start stops here, saying why.
	 */
	if (r == SG_ERR_CRYPTO && tcfg.keystore == svc->soft)
		sg_error("tsa: cannot unseal the TSA key kept in the store: this node's master key "
		    "(%s) is not the one that sealed the database's keys: give every node the same "
		    "SIGNET_MASTER_KEY_FILE (master_key_file), or the same HSM key with "
		    "master_key = hsm (docs/operations.md)", strcmp(cfg->master_key, "hsm") == 0 ?
		    "the HSM's AES key" : cfg->master_key_file[0] ? cfg->master_key_file :
		    "master.key in the data directory");
	return r;
}
