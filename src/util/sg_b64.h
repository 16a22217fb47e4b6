/*
 * sg_b64.h - base64 and hex as clients send them.
 *
 * Clients send digests and contexts in either base64 alphabet (standard
 * "+/" or URL-safe "-_"), with or without "=" padding.  Decoding normalises to
 * the standard padded form and lets OpenSSL do the work; anything outside the
 * alphabet, a mix of both alphabets, or an impossible length is refused.
 */
#ifndef SG_B64_H
#define SG_B64_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"

/* Largest input sg_b64_decode accepts, in characters. */
#define SG_B64_MAX_INPUT (16u * 1024u * 1024u)

/*
 * Decode `in` (inlen characters, standard or URL-safe, padding optional).
 * On success *out is a malloc'd buffer (caller frees; one spare NUL byte) of
 * *outlen bytes.  Returns SG_ERR_BAD_ENCODING for anything that is not
 * base64, SG_ERR_TOO_LARGE over SG_B64_MAX_INPUT; outputs untouched on error.
 * An empty input decodes to an empty (non-NULL) buffer.
 */
int sg_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen) SG_WUR;

/* Encode with the standard alphabet and padding; malloc'd NUL-terminated string or NULL. */
char *sg_b64_encode(const uint8_t *p, size_t n);

/* Encode with the URL-safe alphabet and no padding; malloc'd string or NULL. */
char *sg_b64url_encode(const uint8_t *p, size_t n);

/* True when s (len chars) is non-empty and consists only of hex digits. */
int sg_is_hex(const char *s, size_t len);

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void sg_hex_encode(const uint8_t *p, size_t n, char *out);

/* The value of one hex digit (either case), -1 for any other character. */
int sg_hex_digit(char c);

/* Decode 2n hex chars into n bytes; SG_ERR_BAD_ENCODING on odd length or bad digit. */
int sg_hex_decode(const char *s, size_t len, uint8_t **out, size_t *outlen) SG_WUR;

#endif
