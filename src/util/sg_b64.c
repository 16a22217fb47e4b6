/* sg_b64.c - base64 (both alphabets, optional padding) and hex; see sg_b64.h. */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "sg_b64.h"

int
sg_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	int r = SG_ERR_BAD_ENCODING;
	char *norm = NULL;
	uint8_t *dec = NULL;
	int std = 0, url = 0;
	size_t pad = 0, n = inlen;

	if (inlen > SG_B64_MAX_INPUT)
		return SG_ERR_TOO_LARGE;
	while (n > 0 && in[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad > 0 && (n + pad) % 4 != 0)
		return SG_ERR_BAD_ENCODING;
	if (n % 4 == 1)
		return SG_ERR_BAD_ENCODING;
	size_t full = (n + 3) / 4 * 4;
	if ((norm = malloc(full + 1)) == NULL)
		return SG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			norm[i] = c;
		} else if (c == '+' || c == '/') {
			std = 1;
			norm[i] = c;
		} else if (c == '-' || c == '_') {
			url = 1;
			norm[i] = c == '-' ? '+' : '/';
		} else {
			goto out;
		}
	}
	if (std && url)
		goto out;
	for (size_t i = n; i < full; i++)
		norm[i] = '=';
	norm[full] = 0;
	size_t declen = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
	if ((dec = malloc(full / 4 * 3 + 1)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (full > 0 && EVP_DecodeBlock(dec, (const unsigned char *)norm, (int)full) < 0)
		goto out;
	dec[declen] = 0;
	*out = dec;
	*outlen = declen;
	dec = NULL;
	r = SG_OK;
out:
	free(norm);
	free(dec);
	return r;
}

char *
sg_b64_encode(const uint8_t *p, size_t n)
{
	if (n > (SIZE_MAX / 4) - 4 || n > 0x3fffffff)
		return NULL;
	char *s = malloc((n + 2) / 3 * 4 + 1);
	if (s == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

char *
sg_b64url_encode(const uint8_t *p, size_t n)
{
	char *s = sg_b64_encode(p, n);
	if (s == NULL)
		return NULL;
	size_t i;
	for (i = 0; s[i] != 0; i++) {
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
		else if (s[i] == '=') {
			s[i] = 0;
			break;
		}
	}
	return s;
}

int
sg_is_hex(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

void
sg_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

int
sg_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sg_hex_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	if (len % 2 != 0)
		return SG_ERR_BAD_ENCODING;
	uint8_t *p = malloc(len / 2 + 1);
	if (p == NULL)
		return SG_ERR_NOMEM;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = sg_hex_digit(s[2 * i]), lo = sg_hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(p);
			return SG_ERR_BAD_ENCODING;
		}
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	p[len / 2] = 0;
	*out = p;
	*outlen = len / 2;
	return SG_OK;
}
