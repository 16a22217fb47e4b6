/* openapi.c - GET /v1/openapi.json: docs/openapi.json, compiled in at build time. */
#include <stddef.h>
#include "api.h"

extern const unsigned char sg_openapi_json[];
extern const size_t sg_openapi_json_len;

void
api_openapi(api_req *req, api_resp *resp)
{
	(void)req;
	api_text(resp, 200, "application/json", (const char *)sg_openapi_json);
}
