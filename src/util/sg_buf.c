/* sg_buf.c - bounded growable buffer (see sg_buf.h). */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "sg_buf.h"

void
sg_buf_init(sg_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int
sg_buf_append(sg_buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return SG_ERR_TOO_LARGE;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if (ncap > b->max + 1)
			ncap = b->max + 1;
		uint8_t *nd = realloc(b->data, ncap);
		if (nd == NULL)
			return SG_ERR_NOMEM;
		b->data = nd;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return SG_OK;
}

int
sg_buf_append_str(sg_buf *b, const char *s)
{
	return sg_buf_append(b, s, strlen(s));
}

void
sg_buf_free(sg_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
sg_buf_free_secret(sg_buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	sg_buf_free(b);
}

uint8_t *
sg_buf_steal(sg_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
