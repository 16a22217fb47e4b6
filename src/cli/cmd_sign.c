/*
 * cmd_sign.c - `signet sign-file`: hash locally, sign remotely, write the
 * signature and its bundle.
 *
 * Only the digest leaves the machine (POST /v1/sign).  The answer is then
 * completed with the key's alias, algorithm, public key and certificate
 * chain, checked locally against that public key — a signature that does not
 * verify is never written — and saved as the raw signature (what
 * `openssl dgst -verify` and most tools expect) plus the JSON bundle that
 * verify-file reads (docs/cli.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_b64.h"
#include "sg_cli.h"
#include "sg_util.h"

static const char sg_cli_usage_sign[] =
    "usage: signet sign-file FILE --key KEY [options]\n"
    "\n"
    "Hash FILE locally (streaming, constant memory), have signetd sign the digest,\n"
    "check the signature against the key's public key, and write:\n"
    "  SIG               the raw signature bytes (default FILE.sig)\n"
    "  SIG.bundle.json   a JSON bundle: key, algorithms, digest, signature, public key,\n"
    "                    certificate chain, timestamp token (see docs/cli.md)\n"
    "\n"
    "options:\n"
    "  --key KEY                   key id or alias (required)\n"
    "  --key-version N             sign with this key version (default: current)\n"
    "  --hash-algorithm ALG        SHA-256 (default), SHA-384, SHA-512, SHA3-256,\n"
    "                              SHA3-384, SHA3-512\n"
    "  --signature-algorithm ALG   RSA-PKCS1, RSA-PSS, ECDSA, Ed25519, HashML-DSA-65,\n"
    "                              ML-DSA-65, MLDSA65-ECDSA-P256 (default: the key's)\n"
    "  --signature-format FMT      DER (default) or P1363, for ECDSA\n"
    "  --context B64               ML-DSA context, base64 (0..255 bytes)\n"
    "  --out SIG                   where to write the signature (default FILE.sig)\n"
    "  --bundle PATH               where to write the bundle (default SIG.bundle.json)\n";

/* What the key object says about the version that signed. */
struct sg_cli_keyinfo {
	json_t *key;                 /* GET /v1/keys/{id}, or NULL */
	json_t *pub;                 /* GET /v1/keys/{id}/public-key, or NULL */
	const char *alias;
	const char *algorithm;
	const char *public_key_pem;
	const char *certificate_chain_pem;
};

static void
sg_cli_keyinfo_free(struct sg_cli_keyinfo *k)
{
	json_decref(k->key);
	json_decref(k->pub);
	memset(k, 0, sizeof(*k));
}

/* "a" + "b" into a malloc'd string, NULL on failure. */
static char *
sg_cli_concat(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s", a, b);
	return s;
}

/*
 * Find the alias, algorithm, public key and certificate chain of key_id at
 * version.  The key object is readable by admins; a signer may only be
 * allowed the public-key endpoint, so that is the fallback.  Missing pieces
 * stay NULL; the caller decides what it can live without.
 */
static void
sg_cli_fetch_keyinfo(const sg_cli_conn *c, const char *key_id, int64_t version,
    struct sg_cli_keyinfo *k)
{
	char path[512];
	char *id = sg_cli_path_escape(key_id);
	json_t *versions, *v;
	size_t i;

	memset(k, 0, sizeof(*k));
	if (id == NULL)
		return;
	snprintf(path, sizeof(path), "/v1/keys/%s", id);
	if (sg_cli_call(c, "GET", path, NULL, NULL, &k->key) == SG_OK) {
		k->alias = sg_cli_json_str(k->key, "alias");
		k->algorithm = sg_cli_json_str(k->key, "algorithm");
		versions = json_object_get(k->key, "versions");
		json_array_foreach(versions, i, v) {
			if (sg_cli_json_int(v, "version") == version) {
				k->public_key_pem = sg_cli_json_str(v, "public_key_pem");
				k->certificate_chain_pem = sg_cli_json_str(v, "certificate_chain_pem");
			}
		}
	}
	sg_cli_err_clear();
	if (k->public_key_pem == NULL) {
		snprintf(path, sizeof(path), "/v1/keys/%s/public-key?version=%lld", id,
		    (long long)version);
		if (sg_cli_call(c, "GET", path, NULL, NULL, &k->pub) == SG_OK) {
			k->public_key_pem = sg_cli_json_str(k->pub, "public_key_pem");
			if (k->algorithm == NULL)
				k->algorithm = sg_cli_json_str(k->pub, "algorithm");
		}
		sg_cli_err_clear();
	}
	free(id);
}

/* Set key to a string, or JSON null when s is NULL. */
static int
sg_cli_set_str(json_t *obj, const char *key, const char *s)
{
	return json_object_set_new(obj, key, s != NULL ? json_string(s) : json_null());
}

/* Write a NUL-terminated text to path, recording a message on failure. */
static int
sg_cli_write_out(const char *path, const void *p, size_t n)
{
	int r = sg_write_file(path, p, n, 0644);

	if (r != SG_OK)
		sg_cli_err("cannot write %s: %s", path, sg_err_str(r));
	return r;
}

int
sg_cli_cmd_sign_file(int argc, char **argv)
{
	int rc = SG_CLI_EXIT_ERROR, r;
	const char *key = NULL, *version_s = NULL, *hash_s = NULL, *scheme_s = NULL;
	const char *format_s = NULL, *context_s = NULL, *out_s = NULL, *bundle_s = NULL;
	const char *pos[1];
	size_t npos = 0;
	sg_cli_opt common[6];
	sg_cli_opt opts[] = {
		{ "key", 1, &key },
		{ "key-version", 1, &version_s },
		{ "hash-algorithm", 1, &hash_s },
		{ "signature-algorithm", 1, &scheme_s },
		{ "signature-format", 1, &format_s },
		{ "context", 1, &context_s },
		{ "out", 1, &out_s },
		{ "bundle", 1, &bundle_s },
		{ NULL, 0, NULL },
	};
	sg_cli_conn conn;
	sg_hash_alg hash = SG_HASH_NONE;
	int64_t version = 0, signed_version;
	uint8_t *context = NULL, *sig = NULL, *spki = NULL;
	size_t context_len = 0, sig_len = 0, spki_len = 0, digest_len = 0;
	uint8_t digest[SG_MAX_DIGEST];
	char *sig_path = NULL, *bundle_path = NULL, *digest_b64 = NULL, *context_b64 = NULL;
	char *bundle_text = NULL;
	json_t *req = NULL, *resp = NULL, *meta = NULL, *bundle = NULL;
	long status = 0;
	struct sg_cli_keyinfo ki;
	const char *file, *key_id, *sig_b64, *resp_hash, *resp_format;

	memset(&conn, 0, sizeof(conn));
	memset(&ki, 0, sizeof(ki));
	if (sg_cli_wants_help(argc, argv)) {
		fputs(sg_cli_usage_sign, stdout);
		fputs(sg_cli_usage_conn, stdout);
		return SG_CLI_EXIT_OK;
	}
	sg_cli_conn_opts(&sg_cli_flags, common);
	if (sg_cli_parse(argc, argv, opts, common, pos, 1, &npos) != SG_OK)
		goto usage;
	if (npos != 1) {
		sg_cli_err("missing FILE");
		goto usage;
	}
	file = pos[0];
	if (key == NULL) {
		sg_cli_err("missing --key");
		goto usage;
	}
	if (sg_cli_parse_hash(hash_s, &hash) != SG_OK ||
	    sg_cli_check_scheme(scheme_s) != SG_OK || sg_cli_check_format(format_s) != SG_OK ||
	    (version_s != NULL && sg_cli_parse_version(version_s, "--key-version", &version) !=
	    SG_OK) ||
	    (context_s != NULL && sg_cli_parse_context(context_s, &context, &context_len) !=
	    SG_OK))
		goto usage;
	if ((sig_path = out_s != NULL ? strdup(out_s) : sg_cli_concat(file, ".sig")) == NULL ||
	    (bundle_path = bundle_s != NULL ? strdup(bundle_s) :
	    sg_cli_concat(sig_path, ".bundle.json")) == NULL)
		goto nomem;
	if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
		goto usage;

	if (sg_cli_hash_file_ui(file, hash, digest, &digest_len) != SG_OK)
		goto out;
	if ((digest_b64 = sg_b64_encode(digest, digest_len)) == NULL ||
	    (context != NULL && (context_b64 = sg_b64_encode(context, context_len)) == NULL))
		goto nomem;

	/* The request: only what the user chose; the service fills in the key's defaults. */
	if ((req = json_object()) == NULL || (meta = json_object()) == NULL)
		goto nomem;
	if (json_object_set_new(req, "key", json_string(key)) != 0 ||
	    (version > 0 && json_object_set_new(req, "key_version", json_integer(version)) != 0) ||
	    json_object_set_new(req, "digest", json_string(digest_b64)) != 0 ||
	    json_object_set_new(req, "hash_algorithm", json_string(sg_hash_name(hash))) != 0 ||
	    (scheme_s != NULL &&
	    json_object_set_new(req, "signature_algorithm", json_string(scheme_s)) != 0) ||
	    (format_s != NULL && json_object_set_new(req, "signature_format",
	    json_string(sg_format_name((sg_sig_format)sg_format_from_name(format_s)))) != 0) ||
	    (context_b64 != NULL &&
	    json_object_set_new(req, "context", json_string(context_b64)) != 0) ||
	    json_object_set_new(meta, "file", json_string(sg_cli_basename(file))) != 0 ||
	    json_object_set(req, "metadata", meta) != 0)
		goto nomem;
	if (sg_cli_call(&conn, "POST", "/v1/sign", req, &status, &resp) != SG_OK)
		goto out;
	if (status != 200) {
		sg_cli_err("signing request %s is %s: it needs approval or runs asynchronously; "
		    "sign-file only handles immediate signing",
		    sg_cli_json_str(resp, "request_id") != NULL ?
		    sg_cli_json_str(resp, "request_id") : "(no id)",
		    sg_cli_json_str(resp, "status") != NULL ?
		    sg_cli_json_str(resp, "status") : "not signed");
		goto out;
	}

	/* What came back, checked before anything is trusted or written. */
	key_id = sg_cli_json_str(resp, "key_id");
	sig_b64 = sg_cli_json_str(resp, "signature");
	signed_version = sg_cli_json_int(resp, "key_version");
	resp_hash = sg_cli_json_str(resp, "hash_algorithm");
	resp_format = sg_cli_json_str(resp, "signature_format");
	if (key_id == NULL || sig_b64 == NULL || signed_version == 0) {
		sg_cli_err("service answer lacks key_id, key_version or signature");
		goto out;
	}
	if (resp_hash != NULL && sg_hash_from_name(resp_hash) != hash) {
		sg_cli_err("service signed a %s digest, not the %s one sent", resp_hash,
		    sg_hash_name(hash));
		goto out;
	}
	if (sg_b64_decode(sig_b64, strlen(sig_b64), &sig, &sig_len) != SG_OK || sig_len == 0) {
		sg_cli_err("service answered with a signature that is not base64");
		goto out;
	}
	if (resp_format == NULL && format_s != NULL)
		resp_format = sg_format_name((sg_sig_format)sg_format_from_name(format_s));

	sg_cli_fetch_keyinfo(&conn, key_id, signed_version, &ki);
	if (ki.public_key_pem == NULL) {
		fprintf(stderr, "signet: warning: cannot read the public key of %s version %lld; "
		    "the signature is not checked and the bundle has no public key\n", key_id,
		    (long long)signed_version);
	} else {
		sg_cli_verify_in vin = {
			.key_algorithm = ki.algorithm,
			.signature_algorithm = sg_cli_json_str(resp, "signature_algorithm"),
			.signature_format = resp_format,
			.context = context,
			.context_len = context_len,
			.hash = hash,
			.digest = digest,
			.digest_len = digest_len,
			.sig = sig,
			.sig_len = sig_len,
		};
		if (sg_cli_spki_from_pem(ki.public_key_pem, strlen(ki.public_key_pem), &spki,
		    &spki_len) != SG_OK) {
			sg_cli_err_clear();
			sg_cli_err("the public key of %s version %lld is not a PEM public key",
			    key_id, (long long)signed_version);
			goto out;
		}
		r = sg_cli_verify_spki(spki, spki_len, &vin);
		if (r == SG_ERR_BAD_SIGNATURE) {
			char reason[512];
			sg_strlcpy(reason, sg_cli_errmsg() != NULL ? sg_cli_errmsg() : "", sizeof(reason));
			sg_cli_err_clear();
			sg_cli_err("the service returned a signature that does not verify with "
			    "key %s version %lld (%s); nothing written", key_id,
			    (long long)signed_version, reason);
			goto out;
		}
		if (r != SG_OK) {
			fprintf(stderr, "signet: warning: signature not checked locally: %s\n",
			    sg_cli_errmsg() != NULL ? sg_cli_errmsg() : sg_err_str(r));
			sg_cli_err_clear();
		}
	}

	if ((bundle = json_object()) == NULL ||
	    json_object_set_new(bundle, "format", json_string(SG_CLI_BUNDLE_FORMAT)) != 0 ||
	    sg_cli_set_str(bundle, "file", sg_cli_basename(file)) != 0 ||
	    sg_cli_set_str(bundle, "key_id", key_id) != 0 ||
	    sg_cli_set_str(bundle, "key_alias", ki.alias) != 0 ||
	    json_object_set_new(bundle, "key_version", json_integer(signed_version)) != 0 ||
	    sg_cli_set_str(bundle, "key_algorithm", ki.algorithm) != 0 ||
	    sg_cli_set_str(bundle, "signature_algorithm",
	    sg_cli_json_str(resp, "signature_algorithm")) != 0 ||
	    sg_cli_set_str(bundle, "hash_algorithm", sg_hash_name(hash)) != 0 ||
	    (resp_format != NULL && sg_cli_set_str(bundle, "signature_format", resp_format) != 0) ||
	    sg_cli_set_str(bundle, "digest", digest_b64) != 0 ||
	    sg_cli_set_str(bundle, "signature", sig_b64) != 0 ||
	    (context_b64 != NULL && sg_cli_set_str(bundle, "context", context_b64) != 0) ||
	    sg_cli_set_str(bundle, "public_key_pem", ki.public_key_pem) != 0 ||
	    (ki.certificate_chain_pem != NULL && sg_cli_set_str(bundle, "certificate_chain_pem",
	    ki.certificate_chain_pem) != 0) ||
	    (sg_cli_json_str(resp, "timestamp_token") != NULL && sg_cli_set_str(bundle,
	    "timestamp_token", sg_cli_json_str(resp, "timestamp_token")) != 0) ||
	    sg_cli_set_str(bundle, "signature_id", sg_cli_json_str(resp, "signature_id")) != 0 ||
	    sg_cli_set_str(bundle, "request_id", sg_cli_json_str(resp, "request_id")) != 0 ||
	    sg_cli_set_str(bundle, "created_at", sg_cli_json_str(resp, "created_at")) != 0)
		goto nomem;
	if ((bundle_text = json_dumps(bundle, JSON_INDENT(2))) == NULL)
		goto nomem;
	/* The bundle last: its presence says the signature next to it is complete. */
	if (sg_cli_write_out(sig_path, sig, sig_len) != SG_OK)
		goto out;
	{
		size_t n = strlen(bundle_text);
		char *text = realloc(bundle_text, n + 2);
		if (text == NULL)
			goto nomem;
		bundle_text = text;
		bundle_text[n] = '\n';
		bundle_text[n + 1] = '\0';
		if (sg_cli_write_out(bundle_path, bundle_text, n + 1) != SG_OK)
			goto out;
	}
	printf("signed %s with key %s version %lld: %s, %s\n", file,
	    ki.alias != NULL ? ki.alias : key_id, (long long)signed_version, sig_path, bundle_path);
	rc = SG_CLI_EXIT_OK;
	goto out;
usage:
	sg_cli_err_usage("sign-file");
	goto out;
nomem:
	sg_cli_err("out of memory");
out:
	sg_cli_conn_clear(&conn);
	sg_cli_keyinfo_free(&ki);
	json_decref(req);
	json_decref(meta);
	json_decref(resp);
	json_decref(bundle);
	free(bundle_text);
	free(digest_b64);
	free(context_b64);
	free(context);
	free(sig);
	free(spki);
	free(sig_path);
	free(bundle_path);
	return rc;
}
