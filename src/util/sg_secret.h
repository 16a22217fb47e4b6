/*
 * sg_secret.h - handling of secrets: wiping and constant-time comparison.
 *
 * Key bytes, PINs and API keys go through these and nothing else: wiping
 * uses OPENSSL_cleanse (not optimised away), comparison CRYPTO_memcmp.
 */
#ifndef SG_SECRET_H
#define SG_SECRET_H

#include <stddef.h>

/* Overwrite n bytes at p with zeros in a way the compiler keeps.  NULL is fine. */
void sg_wipe(void *p, size_t n);

/* Wipe a NUL-terminated string in place and free it.  NULL is fine. */
void sg_free_secret_str(char *s);

/* Wipe n bytes and free.  NULL is fine. */
void sg_free_secret(void *p, size_t n);

/* 1 when the n bytes at a and b are equal; time depends only on n. */
int sg_ct_equal(const void *a, const void *b, size_t n);

#endif
