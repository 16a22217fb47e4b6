/* sg_secret.c - wiping and constant-time comparison (see sg_secret.h). */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "sg_secret.h"

void
sg_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
sg_free_secret_str(char *s)
{
	if (s == NULL)
		return;
	sg_wipe(s, strlen(s));
	free(s);
}

void
sg_free_secret(void *p, size_t n)
{
	sg_wipe(p, n);
	free(p);
}

int
sg_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
