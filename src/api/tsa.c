/*
 * tsa.c - the RFC 3161 time-stamp authority over HTTP (SPEC §3).
 *
 * POST /tsa takes an application/timestamp-query and always answers an
 * application/timestamp-reply: granted, or a rejection with a failure
 * reason for malformed queries (RFC 3161 §2.4.2), never an HTTP error for
 * bad query content.  Like public TSAs it needs no credentials.
 * GET /tsa/certificate serves the TSA certificate chain as PEM, so that
 * clients can verify tokens offline.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_tsa.h"

void
api_tsa_query(api_req *req, api_resp *resp)
{
	uint8_t *reply = NULL;
	size_t rlen = 0;
	if (req->svc->tsa == NULL) {
		api_error(req, resp, SG_ERR_UNAVAILABLE, "the time-stamp authority is not configured");
		return;
	}
	const char *ctype = api_header(req, "Content-Type");
	if (ctype != NULL && strncmp(ctype, "application/timestamp-query", 27) != 0) {
		api_error_code(req, resp, 415, "UNSUPPORTED_MEDIA_TYPE",
		    "send Content-Type: application/timestamp-query");
		return;
	}
	int r = sg_tsa_respond(req->svc->tsa, req->body, req->body_len, &reply, &rlen);
	if (r != SG_OK) {
		api_error(req, resp, r, "the time-stamp authority failed");
		return;
	}
	free(resp->body);
	resp->body = (char *)reply;
	resp->body_len = rlen;
	resp->status = 200;
	resp->content_type = "application/timestamp-reply";
}

void
api_tsa_certificate(api_req *req, api_resp *resp)
{
	if (req->svc->tsa == NULL) {
		api_error(req, resp, SG_ERR_UNAVAILABLE, "the time-stamp authority is not configured");
		return;
	}
	api_text(resp, 200, "application/x-pem-file", sg_tsa_cert_chain_pem(req->svc->tsa));
}
