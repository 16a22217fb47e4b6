/*
 * sealer_file.c - the sealer dispatch (sg_sealer.h) and the file master key.
 *
 * The file sealer is the software keystore's original format, unchanged so
 * that every blob sealed since the first release still opens: "SGK1" |
 * nonce(12) | ciphertext | tag(16), AES-256-GCM with OpenSSL under the 32
 * bytes of master.key, the associated data given by the keystore.  The key
 * is read once and kept in memory (wiped at free).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "sg_b64.h"
#include "sg_log.h"
#include "sg_sealer.h"
#include "sg_secret.h"
#include "sg_util.h"

#define FILE_NONCE 12
#define FILE_TAG 16
#define FILE_OVERHEAD (SG_SEALER_MAGIC_LEN + FILE_NONCE + FILE_TAG)

/* ---- dispatch ---- */

int
sg_sealer_seal(sg_sealer *s, const uint8_t *aad, size_t aad_len,
    const uint8_t *plain, size_t plain_len, uint8_t **blob, size_t *blob_len)
{
	if (s == NULL || (aad == NULL && aad_len > 0) || plain == NULL || plain_len == 0 ||
	    plain_len > SG_SEALER_MAX_PLAIN || aad_len > INT32_MAX || blob == NULL ||
	    blob_len == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	return s->ops->seal(s, aad, aad_len, plain, plain_len, blob, blob_len);
}

int
sg_sealer_open(sg_sealer *s, const uint8_t *aad, size_t aad_len,
    const uint8_t *blob, size_t blob_len, uint8_t **plain, size_t *plain_len)
{
	if (s == NULL || (aad == NULL && aad_len > 0) || aad_len > INT32_MAX || plain == NULL ||
	    plain_len == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (!sg_sealer_owns(s, blob, blob_len))
		return SG_ERR_KEY_NOT_ACTIVE;
	return s->ops->open(s, aad, aad_len, blob, blob_len, plain, plain_len);
}

int
sg_sealer_owns(const sg_sealer *s, const uint8_t *blob, size_t blob_len)
{
	return s != NULL && blob != NULL && blob_len >= SG_SEALER_MAGIC_LEN &&
	    memcmp(blob, s->ops->magic, SG_SEALER_MAGIC_LEN) == 0;
}

void
sg_sealer_free(sg_sealer *s)
{
	if (s != NULL)
		s->ops->free(s);
}

/* ---- the file master key ---- */

typedef struct file_sealer {
	uint8_t master[32];
} file_sealer;

static int
file_seal(sg_sealer *sl, const uint8_t *aad, size_t aad_len,
    const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *outlen)
{
	const file_sealer *f = sl->impl;
	int r = SG_ERR_CRYPTO, n = 0;
	EVP_CIPHER_CTX *c = NULL;
	size_t total = FILE_OVERHEAD + plain_len;
	uint8_t *blob;

	if ((blob = malloc(total)) == NULL)
		return SG_ERR_NOMEM;
	memcpy(blob, sl->ops->magic, SG_SEALER_MAGIC_LEN);
	uint8_t *nonce = blob + SG_SEALER_MAGIC_LEN, *ct = nonce + FILE_NONCE,
	    *tag = ct + plain_len;
	if (RAND_bytes(nonce, FILE_NONCE) != 1)
		goto out;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, f->master, nonce) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_EncryptUpdate(c, ct, &n, plain, (int)plain_len) != 1 ||
	    EVP_EncryptFinal_ex(c, ct + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, FILE_TAG, tag) != 1)
		goto out;
	*out = blob;
	*outlen = total;
	blob = NULL;
	r = SG_OK;
out:
	EVP_CIPHER_CTX_free(c);
	free(blob);
	return r;
}

static int
file_open(sg_sealer *sl, const uint8_t *aad, size_t aad_len,
    const uint8_t *blob, size_t blob_len, uint8_t **out, size_t *outlen)
{
	const file_sealer *f = sl->impl;
	int r = SG_ERR_CRYPTO, n = 0, n2 = 0;
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *plain = NULL;
	size_t plain_len;

	if (blob_len < FILE_OVERHEAD + 1)
		return SG_ERR_KEY_NOT_ACTIVE;
	plain_len = blob_len - FILE_OVERHEAD;
	if (plain_len > SG_SEALER_MAX_PLAIN)
		return SG_ERR_INVALID_ARGUMENT;
	const uint8_t *nonce = blob + SG_SEALER_MAGIC_LEN, *ct = nonce + FILE_NONCE,
	    *tag = ct + plain_len;
	/* One spare byte: EVP_DecryptFinal_ex writes nothing for GCM, but may be given room. */
	if ((plain = malloc(plain_len + 1)) == NULL)
		return SG_ERR_NOMEM;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, f->master, nonce) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(c, plain, &n, ct, (int)plain_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, FILE_TAG, (void *)tag) != 1 ||
	    EVP_DecryptFinal_ex(c, plain + n, &n2) != 1)
		goto out;
	*out = plain;
	*outlen = plain_len;
	plain = NULL;
	r = SG_OK;
out:
	EVP_CIPHER_CTX_free(c);
	sg_free_secret(plain, plain_len + 1);
	return r;
}

static void
file_free(sg_sealer *sl)
{
	file_sealer *f = sl->impl;
	sg_wipe(f->master, sizeof(f->master));
	free(f);
	free(sl);
}

static const sg_sealer_ops file_ops = {
	.kind = "file",
	.magic = { 'S', 'G', 'K', '1' },
	.seal = file_seal,
	.open = file_open,
	.free = file_free,
};

/* Read the master key file at path (32 bytes, not readable by group or others). */
static int
read_master(const char *path, uint8_t master[32])
{
	struct stat st;
	uint8_t *p = NULL;
	size_t n = 0;
	int r;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO;
	if ((st.st_mode & 077) != 0) {
		sg_error("keystore: master key %s is readable by others (mode %03o); "
		    "run chmod 600 on it", path, (unsigned)(st.st_mode & 0777));
		return SG_ERR_PERMISSION_DENIED;
	}
	if ((r = sg_read_file(path, 64, &p, &n)) != SG_OK)
		return r;
	if (n != 32) {
		sg_free_secret(p, n);
		sg_error("keystore: master key %s is not 32 bytes", path);
		return SG_ERR_INVALID_ARGUMENT;
	}
	memcpy(master, p, 32);
	sg_free_secret(p, n);
	return SG_OK;
}

/*
 * Create the master key file at path, never replacing one: the key is
 * written whole to a file of our own, which is then link()ed to path.  Two
 * nodes starting at once on one shared path: one link wins, the other gets
 * SG_ERR_CONFLICT and reads the winner's key (a rename would let the last
 * one win, after the first had sealed with its own key).
 */
static int
create_master(const char *path, uint8_t master[32])
{
	uint8_t fresh[32], nonce[8];
	char tmp[1300], hex[17];
	int fd, r = SG_ERR_IO;
	size_t done = 0;

	if (RAND_bytes(fresh, sizeof(fresh)) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1)
		return SG_ERR_CRYPTO;
	sg_hex_encode(nonce, sizeof(nonce), hex);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new.%ld.%s", path, (long)getpid(), hex) >= sizeof(tmp)) {
		sg_wipe(fresh, sizeof(fresh));
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		sg_wipe(fresh, sizeof(fresh));
		return SG_ERR_IO;
	}
	while (done < sizeof(fresh)) {
		ssize_t w = write(fd, fresh + done, sizeof(fresh) - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done == sizeof(fresh) && fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (link(tmp, path) == 0)
			r = SG_OK;
		else if (errno == EEXIST)
			r = SG_ERR_CONFLICT;
	}
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	if (r == SG_OK) {
		memcpy(master, fresh, 32);
		sg_info("keystore: generated a new master key at %s", path);
	}
	sg_wipe(fresh, sizeof(fresh));
	return r;
}

/* Read the master key, or create it (0600) when the file does not exist and create is set. */
static int
load_master(const char *path, int create, uint8_t master[32])
{
	int r = read_master(path, master);
	if (r != SG_ERR_NOT_FOUND || !create)
		return r;
	if ((r = create_master(path, master)) == SG_ERR_CONFLICT) {
		sg_info("keystore: another process created the master key %s first; using it", path);
		r = read_master(path, master);
	}
	return r;
}

int
sg_sealer_file_open(const char *path, int create, sg_sealer **out)
{
	int r;
	sg_sealer *sl;
	file_sealer *f;

	if (path == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sl = calloc(1, sizeof(*sl));
	f = calloc(1, sizeof(*f));
	if (sl == NULL || f == NULL) {
		free(sl);
		free(f);
		return SG_ERR_NOMEM;
	}
	if ((r = load_master(path, create, f->master)) != SG_OK) {
		sg_wipe(f->master, sizeof(f->master));
		free(f);
		free(sl);
		return r;
	}
	sl->ops = &file_ops;
	sl->impl = f;
	*out = sl;
	return SG_OK;
}
