/*
 * sg_buf.h - a length-carrying byte buffer with a hard maximum.
 *
 * Everything Signet accumulates from the outside (request bodies, HTTP
 * responses in the CLI, encodings) goes through an sg_buf so that no input
 * can make a buffer grow without bound: an append past `max` fails with
 * SG_ERR_TOO_LARGE and leaves the buffer as it was.  The data is always kept
 * NUL-terminated (one byte beyond len) so text can be handed to parsers.
 */
#ifndef SG_BUF_H
#define SG_BUF_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"

typedef struct sg_buf {
	uint8_t *data;  /* NULL until the first append; NUL-terminated after */
	size_t len;
	size_t cap;
	size_t max;     /* hard limit on len */
} sg_buf;

/* Prepare an empty buffer that may hold at most `max` bytes. */
void sg_buf_init(sg_buf *b, size_t max);

/* Append n bytes.  SG_ERR_TOO_LARGE past max, SG_ERR_NOMEM; b unchanged on error. */
int sg_buf_append(sg_buf *b, const void *p, size_t n) SG_WUR;

/* Append a NUL-terminated string (without its NUL). */
int sg_buf_append_str(sg_buf *b, const char *s) SG_WUR;

/* Release the memory; the buffer is empty afterwards.  NULL is fine. */
void sg_buf_free(sg_buf *b);

/* Like sg_buf_free but wipes the bytes first: for anything secret. */
void sg_buf_free_secret(sg_buf *b);

/* Hand the bytes to the caller (who frees them); the buffer becomes empty. */
uint8_t *sg_buf_steal(sg_buf *b, size_t *len);

#endif
