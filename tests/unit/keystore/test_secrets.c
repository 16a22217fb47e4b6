/*
 * test_secrets.c - secrets that are not keys, sealed under the master key
 * custody (sg_keystore_seal_secret: webhook HMAC keys).
 *
 * For both places the master key can live - master.key ("SGK1", the
 * software keystore in this process) and an AES key inside a real SoftHSM2
 * token ("SGK2", through sg_custody_open as signetd opens it):
 *  - a sealed secret does not contain its bytes and opens to them again,
 *    also in another keystore instance over the same master key (a restart);
 *  - it opens only with the associated data it was sealed with (another
 *    webhook id, another tenant: SG_ERR_CRYPTO) and only untampered (any
 *    byte flipped past the magic, truncated: refused, nothing returned);
 *  - a secret is no key handle and no key handle is a secret;
 *  - another master key does not open it;
 *  - a secret sealed by master.key still opens after the master key moved
 *    into the HSM, while master.key exists.
 * The PKCS#11 keystore and the HSM router have no master key of their own
 * for secrets: SG_ERR_PRECONDITION, never a clear copy.
 * Exit status 0 only when every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sg_crypto.h"
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_pkcs11.h"
#include "sg_sealer.h"
#include "sg_secret.h"
#include "softhsm_test.h"

static const char SECRET[] = "whsec-unit-test-0123456789-abcdef";
#define AAD "webhook:tenant-1/hook-1"

static sg_keystore *
open_p11(void)
{
	sg_pkcs11_config cfg = {
		.module = SG_SOFTHSM2_MODULE, .token_label = LABEL, .pin = PIN, .pool_size = 2,
	};
	sg_keystore *ks = NULL;
	int r = sg_keystore_pkcs11_open(&cfg, &ks);
	CHECK_RC(r, SG_OK);
	return r == SG_OK ? ks : NULL;
}

/* Open blob with aad: want, and on success the secret's exact bytes. */
static void
open_check(sg_keystore *ks, const char *aad, const uint8_t *blob, size_t blob_len, int want)
{
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	int r = sg_keystore_open_secret(ks, aad, blob, blob_len, &plain, &plain_len);
	CHECK_RC(r, want);
	if (r == SG_OK)
		CHECK(plain_len == strlen(SECRET) && memcmp(plain, SECRET, plain_len) == 0);
	else
		CHECK(plain == NULL && plain_len == 0);
	sg_free_secret(plain, plain_len);
}

static int
contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/*
 * Seal SECRET with ks and check what every sealed secret must do; again
 * (may be NULL) is another keystore over the same master key.  The blob
 * is returned in *out (malloc'd) for later checks, or NULL.
 */
static void
seal_checks(sg_keystore *ks, sg_keystore *again, const char *magic, uint8_t **out,
    size_t *out_len)
{
	uint8_t *blob = NULL, *blob2 = NULL;
	size_t blob_len = 0, blob2_len = 0;
	int r;

	*out = NULL;
	*out_len = 0;
	r = sg_keystore_seal_secret(ks, AAD, (const uint8_t *)SECRET, strlen(SECRET), &blob,
	    &blob_len);
	CHECK_RC(r, SG_OK);
	if (r != SG_OK)
		return;
	CHECK(blob_len > strlen(SECRET) + 16 && memcmp(blob, magic, 4) == 0);
	CHECK(!contains(blob, blob_len, SECRET) && !contains(blob, blob_len, "whsec"));
	open_check(ks, AAD, blob, blob_len, SG_OK);
	if (again != NULL)
		open_check(again, AAD, blob, blob_len, SG_OK);

	/* Bound to its row: another webhook, another tenant, or none of the prefix. */
	open_check(ks, "webhook:tenant-1/hook-2", blob, blob_len, SG_ERR_CRYPTO);
	open_check(ks, "webhook:tenant-2/hook-1", blob, blob_len, SG_ERR_CRYPTO);
	open_check(ks, "webhook:tenant-1/hook-1 ", blob, blob_len, SG_ERR_CRYPTO);

	/* Every byte past the magic is authenticated. */
	int all_refused = 1;
	for (size_t i = 4; i < blob_len; i++) {
		uint8_t *plain = NULL;
		size_t plain_len = 0;
		blob[i] ^= 0x01;
		r = sg_keystore_open_secret(ks, AAD, blob, blob_len, &plain, &plain_len);
		blob[i] ^= 0x01;
		if (r == SG_OK || plain != NULL) {
			fprintf(stderr, "byte %zu flipped: still opens\n", i);
			all_refused = 0;
		}
		sg_free_secret(plain, plain_len);
	}
	CHECK(all_refused);
	open_check(ks, AAD, blob, blob_len - 1, SG_ERR_CRYPTO);
	open_check(ks, AAD, blob, 4, SG_ERR_KEY_NOT_ACTIVE);
	blob[0] ^= 0x20;   /* "sGK.": no format of ours */
	open_check(ks, AAD, blob, blob_len, SG_ERR_KEY_NOT_ACTIVE);
	blob[0] ^= 0x20;
	open_check(ks, AAD, blob, blob_len, SG_OK);

	/* A fresh nonce every time: the same secret never seals to the same blob. */
	CHECK_RC(sg_keystore_seal_secret(ks, AAD, (const uint8_t *)SECRET, strlen(SECRET), &blob2,
	    &blob2_len), SG_OK);
	CHECK(blob2 != NULL && (blob2_len != blob_len || memcmp(blob, blob2, blob_len) != 0));
	free(blob2);

	/* A secret is no key: signing with it as a handle fails, and the reverse. */
	sg_key_ref ref = { .version_id = AAD, .alg = SG_KEY_EC_P256, .handle = blob,
		.handle_len = blob_len };
	sg_sign_params params;
	memset(&params, 0, sizeof(params));
	params.hash = SG_HASH_SHA256;
	params.scheme = SG_SCHEME_ECDSA;
	params.format = SG_FORMAT_DER;
	uint8_t digest[32] = { 1 }, *sig = NULL, *handle = NULL, *spki = NULL;
	size_t siglen = 0, handle_len = 0, spki_len = 0;
	CHECK(sg_keystore_sign(ks, &ref, &params, digest, sizeof(digest), &sig, &siglen) != SG_OK);
	free(sig);
	if (sg_keystore_generate(ks, AAD, SG_KEY_EC_P256, &handle, &handle_len, &spki,
	    &spki_len) == SG_OK) {
		uint8_t *plain = NULL;
		size_t plain_len = 0;
		CHECK_RC(sg_keystore_open_secret(ks, AAD, handle, handle_len, &plain, &plain_len),
		    SG_ERR_CRYPTO);
		CHECK(plain == NULL);
		CHECK_RC(sg_keystore_open_secret(ks, AAD "|EC-P256", handle, handle_len, &plain,
		    &plain_len), SG_ERR_CRYPTO);
		CHECK(plain == NULL);
	} else {
		CHECK(!"generate an EC-P256 key");
	}
	free(handle);
	free(spki);
	*out = blob;
	*out_len = blob_len;
}

static void
bad_arguments(sg_keystore *ks)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	char long_aad[SG_SECRET_AAD_MAX + 2];
	memset(long_aad, 'a', sizeof(long_aad) - 1);
	long_aad[sizeof(long_aad) - 1] = '\0';
	const uint8_t *p = (const uint8_t *)SECRET;
	CHECK_RC(sg_keystore_seal_secret(ks, "", p, strlen(SECRET), &blob, &blob_len),
	    SG_ERR_INVALID_ARGUMENT);
	CHECK_RC(sg_keystore_seal_secret(ks, NULL, p, strlen(SECRET), &blob, &blob_len),
	    SG_ERR_INVALID_ARGUMENT);
	CHECK_RC(sg_keystore_seal_secret(ks, long_aad, p, strlen(SECRET), &blob, &blob_len),
	    SG_ERR_INVALID_ARGUMENT);
	long_aad[SG_SECRET_AAD_MAX] = '\0';   /* the longest one taken */
	CHECK_RC(sg_keystore_seal_secret(ks, long_aad, p, strlen(SECRET), &blob, &blob_len),
	    SG_OK);
	if (blob != NULL)
		open_check(ks, long_aad, blob, blob_len, SG_OK);
	free(blob);
	blob = NULL;
	CHECK_RC(sg_keystore_seal_secret(ks, AAD, p, 0, &blob, &blob_len), SG_ERR_INVALID_ARGUMENT);
	CHECK(blob == NULL);
}

static void
test_file_master_key(uint8_t **sgk1, size_t *sgk1_len)
{
	sg_keystore *ks = NULL, *again = NULL, *other = NULL;
	char path[600], other_path[600];

	tmp_path(path, sizeof(path), "file-master.key");
	tmp_path(other_path, sizeof(other_path), "other-master.key");
	CHECK_RC(sg_keystore_soft_open(path, 1, &ks), SG_OK);
	CHECK_RC(sg_keystore_soft_open(path, 0, &again), SG_OK);
	CHECK_RC(sg_keystore_soft_open(other_path, 0, &other), SG_OK);
	if (ks == NULL || again == NULL || other == NULL)
		goto out;
	seal_checks(ks, again, "SGK1", sgk1, sgk1_len);
	if (*sgk1 != NULL)
		open_check(other, AAD, *sgk1, *sgk1_len, SG_ERR_CRYPTO);
	bad_arguments(ks);
out:
	sg_keystore_close(ks);
	sg_keystore_close(again);
	sg_keystore_close(other);
}

/* sg_custody_open as signetd does it, in directory tmpdir/name with master.key there. */
static int
custody(const char *name, int in_hsm, const char *master_src, sg_keystore **disk,
    sg_keystore **hsm)
{
	char dir[600], master[700];
	sg_keystore *token;
	tmp_path(dir, sizeof(dir), name);
	if (mkdir(dir, 0700) != 0)
		return -1;
	snprintf(master, sizeof(master), "%s/master.key", dir);
	if (master_src != NULL) {
		char cmd[1500];
		snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", master_src, master);
		if (system(cmd) != 0)
			return -1;
	}
	sg_custody_config cc = { .master_key_path = master, .master_key_in_hsm = in_hsm };
	if ((token = open_p11()) == NULL)
		return -1;
	int r = sg_custody_open(&cc, token, disk, hsm);
	CHECK_RC(r, SG_OK);
	if (r != SG_OK) {
		sg_keystore_close(token);
		return -1;
	}
	return 0;
}

static void
test_hsm_master_key(const uint8_t *sgk1, size_t sgk1_len)
{
	sg_keystore *disk = NULL, *hsm = NULL, *disk2 = NULL, *hsm2 = NULL;
	uint8_t *sgk2 = NULL, *blob = NULL;
	size_t sgk2_len = 0, blob_len = 0;
	char file_master[600];

	tmp_path(file_master, sizeof(file_master), "file-master.key");
	if (custody("hsm-1", 1, file_master, &disk, &hsm) != 0)
		return;
	if (custody("hsm-2", 1, NULL, &disk2, &hsm2) != 0)
		goto out;
	seal_checks(disk, disk2, "SGK2", &sgk2, &sgk2_len);
	/* Sealed by master.key before the master key moved: opens while the file is there. */
	if (sgk1 != NULL) {
		open_check(disk, AAD, sgk1, sgk1_len, SG_OK);
		open_check(disk2, AAD, sgk1, sgk1_len, SG_ERR_UNAVAILABLE);
	}
	/* The HSM keystore and the PKCS#11 one underneath: no master key of their own. */
	CHECK_RC(sg_keystore_seal_secret(hsm, AAD, (const uint8_t *)SECRET, strlen(SECRET), &blob,
	    &blob_len), SG_ERR_PRECONDITION);
	CHECK(blob == NULL);
	if (sgk2 != NULL) {
		uint8_t *plain = NULL;
		size_t plain_len = 0;
		CHECK_RC(sg_keystore_open_secret(hsm, AAD, sgk2, sgk2_len, &plain, &plain_len),
		    SG_ERR_PRECONDITION);
		CHECK(plain == NULL);
	}
	sg_keystore *token = open_p11();
	if (token != NULL) {
		CHECK_RC(sg_keystore_seal_secret(token, AAD, (const uint8_t *)SECRET, strlen(SECRET),
		    &blob, &blob_len), SG_ERR_PRECONDITION);
		CHECK(blob == NULL);
		sg_keystore_close(token);
	}
out:
	free(sgk2);
	sg_keystore_close(disk);
	sg_keystore_close(hsm);
	sg_keystore_close(disk2);
	sg_keystore_close(hsm2);
}

int
main(void)
{
	uint8_t *sgk1 = NULL;
	size_t sgk1_len = 0;

	/* The expected failures would be noise; SG_TEST_LOG=1 shows the log. */
	if (getenv("SG_TEST_LOG") == NULL)
		sg_log_set_level((sg_log_level)(SG_LOG_ERROR + 1));
	if (setup_token() != 0) {
		fprintf(stderr, "cannot set up a SoftHSM2 token in %s\n", tmpdir);
		return 1;
	}
	test_file_master_key(&sgk1, &sgk1_len);
	test_hsm_master_key(sgk1, sgk1_len);
	free(sgk1);

	if (failures == 0)
		rm_rf(tmpdir);
	printf("keystore_secrets: %d checks, %d failures%s%s\n", checks, failures,
	    failures ? "; token left in " : "", failures ? tmpdir : "");
	return failures == 0 ? 0 : 1;
}
