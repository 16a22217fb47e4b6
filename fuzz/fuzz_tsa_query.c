/*
 * fuzz_tsa_query.c - the public, unauthenticated POST /tsa: a DER
 * TimeStampReq from anyone on the network.  The input is the request body,
 * run through the real router and handler (fuzz_env.h).  Besides "no
 * crash" it checks the handler's promise (SPEC §3, RFC 3161 §2.4.2): every
 * answer is 200 with a DER TimeStampResp that OpenSSL parses, granted or
 * rejected, never an HTTP error for bad query content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ts.h>
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hdrs[] = { "Content-Type", "application/timestamp-query", NULL };
	fz_env *e = fz_env_get();
	api_resp resp;
	if (size > SG_API_MAX_BODY)
		return 0;
	fz_request(e, "POST", "/tsa", hdrs, data, size, &resp);
	if (resp.status != 200) {
		fprintf(stderr, "POST /tsa answered %u\n", resp.status);
		abort();
	}
	const unsigned char *p = (const unsigned char *)resp.body;
	TS_RESP *r = d2i_TS_RESP(NULL, &p, (long)resp.body_len);
	if (r == NULL || p != (const unsigned char *)resp.body + resp.body_len) {
		fprintf(stderr, "POST /tsa answered something that is not one DER TimeStampResp\n");
		abort();
	}
	TS_RESP_free(r);
	free(resp.body);
	return 0;
}
