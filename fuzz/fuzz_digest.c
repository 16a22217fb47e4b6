/*
 * fuzz_digest.c - digest decoding (sg_digest_decode), the first thing done
 * to every signing and verify request's "digest" field.  Byte 0 picks the
 * hash algorithm; the rest, as a NUL-terminated string, is the client's
 * text.  Checks: success gives exactly the hash's length, failure gives a
 * message, and a decoded digest re-encoded as standard base64 decodes to
 * the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_b64.h"
#include "sg_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[SG_MAX_DIGEST], again[SG_MAX_DIGEST];
	size_t outlen = 0, againlen = 0;
	const char *msg = NULL;
	if (size < 1 || size > 4096)
		return 0;
	sg_hash_alg h = (sg_hash_alg)(data[0] % (SG_HASH_SHA3_512 + 1));
	char *text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	int r = sg_digest_decode(text, h, out, &outlen, &msg);
	if (r != SG_OK) {
		if (msg == NULL || msg[0] == 0) {
			fprintf(stderr, "digest refused without a message\n");
			abort();
		}
	} else {
		if (outlen != sg_hash_len(h) || outlen == 0) {
			fprintf(stderr, "digest of %zu bytes accepted for a %zu-byte hash\n", outlen, sg_hash_len(h));
			abort();
		}
		char *b64 = sg_b64_encode(out, outlen);
		if (b64 == NULL || sg_digest_decode(b64, h, again, &againlen, &msg) != SG_OK ||
		    againlen != outlen || memcmp(again, out, outlen) != 0) {
			fprintf(stderr, "decoded digest does not round-trip\n");
			abort();
		}
		free(b64);
	}
	free(text);
	return 0;
}
