/*
 * sg_sealer.h - sealing private keys for custody outside the process.
 *
 * A sealer turns a private key's bytes into a blob that is safe to store
 * (confidential and authenticated, bound to associated data naming the key
 * version) and back.  The software keystore (soft.c) keeps only such blobs;
 * where the master key lives is the sealer's business:
 *
 *   file     "SGK1": AES-256-GCM in this process under a 32-byte master key
 *            read from a file (master.key).  sealer_file.c.
 *   pkcs11   "SGK2": AES-256-GCM inside a PKCS#11 token under a sensitive,
 *            non-extractable AES key; the key bytes never enter the process.
 *            sg_sealer_pkcs11_open in sg_pkcs11.h, p11_sealer.c.
 *
 * Every blob starts with its sealer's 4-byte magic, so a keystore holding
 * several sealers (one that seals, others that only open older blobs) knows
 * which one a blob needs.  Sealers are thread-safe.
 */
#ifndef SG_SEALER_H
#define SG_SEALER_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"

#define SG_SEALER_MAGIC_LEN 4
#define SG_SEALER_MAX_PLAIN (64u * 1024u)   /* largest key a sealer takes */

typedef struct sg_sealer sg_sealer;

typedef struct sg_sealer_ops {
	const char *kind;                    /* "file" or "pkcs11", for logs */
	char magic[SG_SEALER_MAGIC_LEN];     /* first bytes of every blob it makes */

	/* See sg_sealer_seal / sg_sealer_open. */
	int (*seal)(sg_sealer *s, const uint8_t *aad, size_t aad_len,
	    const uint8_t *plain, size_t plain_len, uint8_t **blob, size_t *blob_len);
	int (*open)(sg_sealer *s, const uint8_t *aad, size_t aad_len,
	    const uint8_t *blob, size_t blob_len, uint8_t **plain, size_t *plain_len);
	void (*free)(sg_sealer *s);
} sg_sealer_ops;

struct sg_sealer {
	const sg_sealer_ops *ops;
	void *impl;
};

/*
 * Seal plain_len (1..SG_SEALER_MAX_PLAIN) bytes with associated data aad
 * (which is not stored: the same bytes must be given to open).  On success
 * *blob (malloc'd, not secret) starts with the sealer's magic.  Returns
 * SG_ERR_UNAVAILABLE when the sealer's token is away; outputs are written
 * only on success.
 */
int sg_sealer_seal(sg_sealer *s, const uint8_t *aad, size_t aad_len,
    const uint8_t *plain, size_t plain_len, uint8_t **blob, size_t *blob_len) SG_WUR;

/*
 * Open a blob made by this sealer (or by an earlier instance holding the
 * same master key) with the aad it was sealed with.  On success *plain is
 * malloc'd and secret: the caller wipes and frees it with
 * sg_free_secret(*plain, *plain_len).  SG_ERR_KEY_NOT_ACTIVE for a blob of
 * another format or a truncated one; SG_ERR_CRYPTO when it does not
 * authenticate (tampered, other aad, other master key); SG_ERR_UNAVAILABLE
 * when the token is away.  Nothing secret is left behind on failure.
 */
int sg_sealer_open(sg_sealer *s, const uint8_t *aad, size_t aad_len,
    const uint8_t *blob, size_t blob_len, uint8_t **plain, size_t *plain_len) SG_WUR;

/* 1 when blob (blob_len bytes, may be short or NULL) carries s's magic. */
int sg_sealer_owns(const sg_sealer *s, const uint8_t *blob, size_t blob_len);

/* Wipe the sealer's secrets and free it.  NULL is fine. */
void sg_sealer_free(sg_sealer *s);

/*
 * The file master key sealer ("SGK1" | nonce(12) | ciphertext | tag(16),
 * AES-256-GCM in this process).  The 32-byte key is read from path, which
 * must not be readable by group or others (SG_ERR_PERMISSION_DENIED).  When
 * path does not exist: with create, a fresh random key is written there
 * (mode 0600); without, SG_ERR_NOT_FOUND and nothing is written.
 * SG_ERR_INVALID_ARGUMENT when the file is not 32 bytes.
 */
int sg_sealer_file_open(const char *path, int create, sg_sealer **out) SG_WUR;

#endif
