/*
 * cmd_tsa.c - `signet tsa`: time-stamp a file with signetd's RFC 3161
 * authority, and fetch the authority's certificate chain.
 *
 * Like public time-stamp authorities, POST /tsa and GET /tsa/certificate
 * take no credentials, so these commands never send the API key.  The
 * query is built here (timestamp.c), the reply checked against it, and the
 * reply is written as DER exactly as received, for `openssl ts -reply` /
 * `-verify` and any other RFC 3161 tool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/rand.h>
#include "sg_cli.h"

static const char sg_cli_usage_tsa[] =
    "usage: signet tsa COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  stamp FILE [--hash ALG] [--out FILE.tsr]\n"
    "                       hash FILE, ask signetd's time-stamp authority (POST /tsa)\n"
    "                       for a token, check the reply answers this query (granted,\n"
    "                       same nonce and digest) and write it, DER (default FILE.tsr)\n"
    "  certificate [--out FILE]\n"
    "                       the authority's certificate chain, PEM (default stdout)\n"
    "\n"
    "ALG: SHA-256 (default), SHA-384, SHA-512, SHA3-256, SHA3-384, SHA3-512.\n"
    "No API key is needed or sent.  Check a reply with\n"
    "  openssl ts -verify -in FILE.tsr -data FILE -CAfile tsa.pem\n";

int
sg_cli_fetch_tsa_cert(const sg_cli_conn *c, char **pem)
{
	sg_cli_conn pub = *c;
	size_t len = 0;
	char *text = NULL;
	int r;

	pub.api_key = NULL;  /* a public endpoint: the key stays home */
	if ((r = sg_cli_get_text(&pub, "/tsa/certificate", "application/x-pem-file", &text,
	    &len)) != SG_OK)
		return r;
	if (strstr(text, "-----BEGIN CERTIFICATE-----") == NULL) {
		free(text);
		sg_cli_err("service answer to GET /tsa/certificate is not a PEM certificate");
		return SG_ERR_BAD_ENCODING;
	}
	*pem = text;
	return SG_OK;
}

static int
sg_cli_tsa_stamp(const sg_cli_conn *c, const char *file, sg_hash_alg h, const char *out_path)
{
	uint8_t digest[SG_MAX_DIGEST], *query = NULL, nonce_bytes[8];
	size_t digest_len = 0, query_len = 0;
	char gen_time[64], *path = NULL;
	uint64_t nonce = 0;
	sg_cli_resp resp;
	int r;

	memset(&resp, 0, sizeof(resp));
	if ((r = sg_cli_hash_file_ui(file, h, digest, &digest_len)) != SG_OK)
		return r;
	if (RAND_bytes(nonce_bytes, sizeof(nonce_bytes)) != 1) {
		sg_cli_err("cannot draw a random nonce");
		return SG_ERR_CRYPTO;
	}
	for (size_t i = 0; i < sizeof(nonce_bytes); i++)
		nonce = nonce << 8 | nonce_bytes[i];
	nonce |= 1;  /* never zero, so it is always encoded and echoed */
	if ((r = sg_cli_tsq_build(h, digest, digest_len, nonce, &query, &query_len)) != SG_OK)
		return r;
	r = sg_cli_http_raw(c, "POST", "/tsa", query, query_len, "application/timestamp-query",
	    "application/timestamp-reply", &resp);
	if (r != SG_OK)
		goto out;
	if (resp.status != 200) {
		r = sg_cli_resp_error(&resp);
		goto out;
	}
	if (strncasecmp(resp.content_type, "application/timestamp-reply", 27) != 0) {
		sg_cli_err("service answered POST /tsa with '%s', not application/timestamp-reply",
		    resp.content_type);
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((r = sg_cli_tsr_check(resp.body.data, resp.body.len, h, digest, digest_len, nonce,
	    gen_time, sizeof(gen_time))) != SG_OK)
		goto out;
	if (out_path == NULL) {
		size_t n = strlen(file) + sizeof(".tsr");
		if ((path = malloc(n)) == NULL) {
			sg_cli_err("out of memory");
			r = SG_ERR_NOMEM;
			goto out;
		}
		snprintf(path, n, "%s.tsr", file);
		out_path = path;
	}
	if ((r = sg_cli_write_output(out_path, resp.body.data, resp.body.len)) != SG_OK)
		goto out;
	printf("time-stamped %s (%s) at %s: %s\n", file, sg_hash_name(h), gen_time, out_path);
out:
	sg_cli_resp_free(&resp);
	free(query);
	free(path);
	return r;
}

int
sg_cli_cmd_tsa(int argc, char **argv)
{
	static const char *const names[] = { "stamp", "certificate", NULL };
	const char *hash_s = NULL, *out_path = NULL;
	const char *pos[1] = { NULL };
	sg_cli_opt stamp_opts[] = {
		{ "hash", 1, &hash_s },
		{ "out", 1, &out_path },
		{ NULL, 0, NULL },
	};
	sg_cli_opt cert_opts[] = { { "out", 1, &out_path }, { NULL, 0, NULL } };
	char cmdname[32];
	sg_cli_conn conn;
	sg_hash_alg h = SG_HASH_NONE;
	char *pem = NULL;
	int rc, sub, r;

	memset(&conn, 0, sizeof(conn));
	if ((sub = sg_cli_group(argc, argv, "tsa", sg_cli_usage_tsa, names, &rc)) < 0)
		return rc;
	rc = SG_CLI_EXIT_ERROR;
	snprintf(cmdname, sizeof(cmdname), "tsa %s", names[sub]);
	if (sg_cli_sub_parse(argc - 1, argv + 1, sub == 0 ? stamp_opts : cert_opts, pos,
	    sub == 0 ? 1 : 0, "FILE") != SG_OK ||
	    (sub == 0 && sg_cli_parse_hash(hash_s, &h) != SG_OK) ||
	    sg_cli_conn_public(&conn, &sg_cli_flags) != SG_OK) {
		sg_cli_err_usage(cmdname);
		goto out;
	}
	if (sub == 0) {
		r = sg_cli_tsa_stamp(&conn, pos[0], h, out_path);
	} else if ((r = sg_cli_fetch_tsa_cert(&conn, &pem)) == SG_OK) {
		r = sg_cli_write_output(out_path, pem, strlen(pem));
	}
	if (r == SG_OK)
		rc = SG_CLI_EXIT_OK;
out:
	free(pem);
	sg_cli_conn_clear(&conn);
	return rc;
}
