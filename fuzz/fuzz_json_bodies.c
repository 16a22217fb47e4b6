/*
 * fuzz_json_bodies.c - the JSON readers of the API's endpoints.  Byte 0
 * picks an endpoint that takes a JSON body; the rest is the body, run as the
 * all-roles principal through the real router and handler against the
 * in-memory service of fuzz_env.h (so bodies that parse go on to create,
 * sign, verify and store).  Besides "no crash" it checks that every answer
 * has a status and that every 4xx/5xx answer is the SPEC §3 error shape
 * {"error":{"code","message","request_id"}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* %K is replaced by the environment's key id. */
static const struct { const char *method, *path; } targets[] = {
	{ "POST", "/v1/sign" },
	{ "POST", "/v1/verify" },
	{ "POST", "/v1/keys" },
	{ "POST", "/v1/policies" },
	{ "POST", "/v1/principals" },
	{ "POST", "/v1/tenants" },
	{ "POST", "/v1/keys/%K/csr" },
	{ "POST", "/v1/keys/%K/versions/1/self-signed" },
	{ "PUT", "/v1/keys/%K/versions/1/certificate" },
	{ "POST", "/v1/requests/00000000-0000-4000-8000-000000000000/resubmit" },
	{ "POST", "/v1/approvals/00000000-0000-4000-8000-000000000000/approve" },
	{ "POST", "/v1/approvals/00000000-0000-4000-8000-000000000000/reject" },
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static void
check_error_shape(const api_resp *resp)
{
	json_t *j = json_loadb(resp->body, resp->body_len, 0, NULL);
	json_t *err = json_object_get(j, "error");
	if (!json_is_string(json_object_get(err, "code")) ||
	    !json_is_string(json_object_get(err, "message")) ||
	    !json_is_string(json_object_get(err, "request_id"))) {
		fprintf(stderr, "error answer %u not in the SPEC shape: %.*s\n", resp->status,
		    (int)resp->body_len, resp->body ? resp->body : "");
		abort();
	}
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[160];
	if (size < 1 || size > 64 * 1024)
		return 0;
	fz_env *e = fz_env_get();
	const char *pattern = targets[data[0] % NTARGETS].path;
	const char *k = strstr(pattern, "%K");
	if (k != NULL)
		snprintf(path, sizeof(path), "%.*s%s%s", (int)(k - pattern), pattern, e->key_id, k + 2);
	else
		snprintf(path, sizeof(path), "%s", pattern);
	api_resp resp;
	fz_request(e, targets[data[0] % NTARGETS].method, path, NULL, data + 1, size - 1, &resp);
	if (resp.status < 200 || resp.status > 599) {
		fprintf(stderr, "%s answered status %u\n", path, resp.status);
		abort();
	}
	if (resp.status >= 400)
		check_error_shape(&resp);
	free(resp.body);
	return 0;
}
