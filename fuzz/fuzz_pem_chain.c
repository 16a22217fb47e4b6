/*
 * fuzz_pem_chain.c - the certificate chain upload parser
 * (PUT /v1/keys/{id}/versions/{v}/certificate with a PEM body).  Byte 0
 * bit 0 chooses whether the key's own self-signed certificate is put in
 * front of the fuzzed text, so that besides the PEM/DER parsing the
 * issuer checks over the fuzzed certificates are reached too; the rest is
 * the body.  Run through the real router and handler (fuzz_env.h).  The
 * answer must be 200 or a 400 in the SPEC error shape: nothing a client
 * uploads is a server error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *hdrs[] = { "Authorization", NULL, "Content-Type", "application/x-pem-file", NULL };
	char path[160];
	if (size < 1 || size > 256 * 1024)
		return 0;
	fz_env *e = fz_env_get();
	hdrs[1] = e->auth;
	size_t lead = (data[0] & 1) ? strlen(e->leaf_pem) : 0;
	uint8_t *body = malloc(lead + size - 1 + 1);
	if (body == NULL)
		return 0;
	memcpy(body, e->leaf_pem, lead);
	memcpy(body + lead, data + 1, size - 1);
	snprintf(path, sizeof(path), "/v1/keys/%s/versions/1/certificate", e->key_id);
	api_resp resp;
	fz_request(e, "PUT", path, hdrs, body, lead + size - 1, &resp);
	if (resp.status != 200 && resp.status != 400) {
		fprintf(stderr, "chain upload answered %u: %.*s\n", resp.status, (int)resp.body_len,
		    resp.body ? resp.body : "");
		abort();
	}
	free(resp.body);
	free(body);
	return 0;
}
