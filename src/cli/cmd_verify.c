/*
 * cmd_verify.c - `signet verify-file`: is this signature valid for this file?
 *
 * The file is hashed locally, compared with the bundle's digest when there
 * is a bundle, and the signature is then checked either offline (src/crypto
 * with a public key from --public-key or the bundle) or online
 * (POST /v1/verify).  The answer is the exit status: 0 valid, 1 invalid,
 * 2 when the question could not be answered.  Flags and bundle fields
 * describe the same signature; when both are given they must agree, since a
 * silent override would verify something other than what the user thinks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_b64.h"
#include "sg_cli.h"
#include "sg_util.h"

static const char sg_cli_usage_verify[] =
    "usage: signet verify-file FILE --signature SIG (--public-key PEM | --bundle JSON |\n"
    "                          --online) [options]\n"
    "\n"
    "Hash FILE and check SIG (raw signature bytes, as written by sign-file).\n"
    "Prints \"signature valid\" and exits 0, or \"signature INVALID: reason\" on stderr\n"
    "and exits 1; exits 2 when the signature cannot be checked at all.\n"
    "\n"
    "options:\n"
    "  --signature SIG             raw signature file (default: the bundle's signature)\n"
    "  --public-key PEM            verify offline with this PEM public key or certificate\n"
    "  --bundle JSON               sign-file's bundle: algorithms, digest, public key; the\n"
    "                              file must match its digest\n"
    "  --online                    ask signetd (POST /v1/verify) instead of verifying here\n"
    "  --key KEY                   key id or alias, for --online (default: the bundle's)\n"
    "  --key-version N             key version, for --online (default: the bundle's)\n"
    "  --hash-algorithm ALG        default: the bundle's, else SHA-256\n"
    "  --signature-algorithm ALG   default: the bundle's, else the key's default\n"
    "  --signature-format FMT      DER or P1363 (ECDSA; default: the bundle's, else DER)\n"
    "  --context B64               ML-DSA context (default: the bundle's)\n"
    "\n"
    "A bundle's own public key proves the file is unchanged since signing, not who\n"
    "signed it: pass a --public-key you trust, or use --online, for that.\n";

/* Record that flag value f disagrees with the bundle's b. */
static int
sg_cli_conflict(const char *flag, const char *f, const char *b)
{
	sg_cli_err("--%s %s disagrees with the bundle (%s)", flag, f, b);
	return SG_ERR_INVALID_ARGUMENT;
}

/* The flags a bundle may also answer. */
struct sg_cli_vflags {
	const char *sig, *pubkey, *bundle, *online, *key, *version, *hash, *scheme, *format,
	    *context;
};

/*
 * Merge flags and bundle into one description of the signature: a flag
 * fills in what the bundle lacks; both present must mean the same thing.
 */
static int
sg_cli_merge(struct sg_cli_vflags *f, const json_t *b)
{
	const char *bv;

	if (b == NULL)
		return SG_OK;
	if ((bv = sg_cli_json_str(b, "hash_algorithm")) != NULL) {
		if (f->hash != NULL && sg_hash_from_name(f->hash) != sg_hash_from_name(bv))
			return sg_cli_conflict("hash-algorithm", f->hash, bv);
		f->hash = bv;
	}
	if ((bv = sg_cli_json_str(b, "signature_algorithm")) != NULL) {
		if (f->scheme != NULL && sg_scheme_from_name(f->scheme) != sg_scheme_from_name(bv))
			return sg_cli_conflict("signature-algorithm", f->scheme, bv);
		f->scheme = bv;
	}
	if ((bv = sg_cli_json_str(b, "signature_format")) != NULL) {
		if (f->format != NULL && sg_format_from_name(f->format) != sg_format_from_name(bv))
			return sg_cli_conflict("signature-format", f->format, bv);
		f->format = bv;
	}
	if ((bv = sg_cli_json_str(b, "context")) != NULL) {
		if (f->context != NULL && strcmp(f->context, bv) != 0)
			return sg_cli_conflict("context", f->context, bv);
		f->context = bv;
	}
	if ((bv = sg_cli_json_str(b, "key_id")) != NULL) {
		const char *alias = sg_cli_json_str(b, "key_alias");
		if (f->key != NULL && strcmp(f->key, bv) != 0 &&
		    (alias == NULL || strcmp(f->key, alias) != 0))
			return sg_cli_conflict("key", f->key, bv);
		if (f->key == NULL)
			f->key = bv;
	}
	return SG_OK;
}

/* The signature bytes: the --signature file, else the bundle's base64. */
static int
sg_cli_load_sig(const char *path, const json_t *bundle, uint8_t **sig, size_t *sig_len)
{
	const char *b64 = sg_cli_json_str(bundle, "signature");
	int r;

	if (path != NULL) {
		if ((r = sg_read_file(path, SG_CLI_MAX_SIGNATURE, sig, sig_len)) != SG_OK) {
			sg_cli_err("cannot read signature %s: %s", path, sg_err_str(r));
			return r;
		}
		return SG_OK;
	}
	if (b64 == NULL) {
		sg_cli_err("no signature: pass --signature, or a bundle that holds one");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (sg_b64_decode(b64, strlen(b64), sig, sig_len) != SG_OK) {
		sg_cli_err("the bundle's signature is not base64");
		return SG_ERR_BAD_ENCODING;
	}
	return SG_OK;
}

/*
 * Does the file's digest match the bundle's?  SG_OK when it does or the
 * bundle has none, SG_ERR_BAD_SIGNATURE (reason recorded) when not.
 */
static int
sg_cli_check_bundle_digest(const json_t *bundle, const char *file, sg_hash_alg h,
    const uint8_t *digest, size_t digest_len)
{
	const char *b64 = sg_cli_json_str(bundle, "digest");
	uint8_t *want = NULL;
	size_t want_len = 0;
	int same;

	if (b64 == NULL)
		return SG_OK;
	if (sg_b64_decode(b64, strlen(b64), &want, &want_len) != SG_OK) {
		sg_cli_err("the bundle's digest is not base64");
		return SG_ERR_BAD_ENCODING;
	}
	same = want_len == digest_len && memcmp(want, digest, digest_len) == 0;
	free(want);
	if (!same) {
		sg_cli_err("%s does not match the %s digest in the bundle (file changed?)", file,
		    sg_hash_name(h));
		return SG_ERR_BAD_SIGNATURE;
	}
	return SG_OK;
}

/* POST /v1/verify: SG_OK valid, SG_ERR_BAD_SIGNATURE invalid, else an error. */
static int
sg_cli_verify_online(const sg_cli_conn *conn, const struct sg_cli_vflags *f, int64_t version,
    sg_hash_alg h, const uint8_t *digest, size_t digest_len, const uint8_t *sig,
    size_t sig_len)
{
	int r = SG_ERR_NOMEM;
	json_t *req = NULL, *resp = NULL, *valid;
	char *digest_b64 = NULL, *sig_b64 = NULL;

	if ((digest_b64 = sg_b64_encode(digest, digest_len)) == NULL ||
	    (sig_b64 = sg_b64_encode(sig, sig_len)) == NULL || (req = json_object()) == NULL)
		goto nomem;
	if (json_object_set_new(req, "key", json_string(f->key)) != 0 ||
	    (version > 0 && json_object_set_new(req, "key_version", json_integer(version)) != 0) ||
	    json_object_set_new(req, "digest", json_string(digest_b64)) != 0 ||
	    json_object_set_new(req, "hash_algorithm", json_string(sg_hash_name(h))) != 0 ||
	    (f->scheme != NULL &&
	    json_object_set_new(req, "signature_algorithm", json_string(f->scheme)) != 0) ||
	    (f->format != NULL && json_object_set_new(req, "signature_format",
	    json_string(sg_format_name((sg_sig_format)sg_format_from_name(f->format)))) != 0) ||
	    (f->context != NULL && json_object_set_new(req, "context", json_string(f->context)) != 0) ||
	    json_object_set_new(req, "signature", json_string(sig_b64)) != 0)
		goto nomem;
	if ((r = sg_cli_call(conn, "POST", "/v1/verify", req, NULL, &resp)) != SG_OK)
		goto out;
	valid = json_object_get(resp, "valid");
	if (!json_is_boolean(valid)) {
		sg_cli_err("service answer to /v1/verify lacks \"valid\"");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (json_is_true(valid)) {
		r = SG_OK;
	} else {
		sg_cli_err("signetd reports it does not verify with key %s", f->key);
		r = SG_ERR_BAD_SIGNATURE;
	}
	goto out;
nomem:
	sg_cli_err("out of memory");
out:
	json_decref(req);
	json_decref(resp);
	free(digest_b64);
	free(sig_b64);
	return r;
}

/* Offline: the PEM from --public-key, else the bundle's key or certificate. */
static int
sg_cli_verify_offline(const struct sg_cli_vflags *f, const json_t *bundle, sg_hash_alg h,
    const uint8_t *context, size_t context_len, const uint8_t *digest, size_t digest_len,
    const uint8_t *sig, size_t sig_len)
{
	int r;
	uint8_t *pem_file = NULL, *spki = NULL;
	size_t pem_len = 0, spki_len = 0;
	const char *pem = NULL;

	if (f->pubkey != NULL) {
		if ((r = sg_read_file(f->pubkey, SG_CLI_MAX_PEM, &pem_file, &pem_len)) != SG_OK) {
			sg_cli_err("cannot read public key %s: %s", f->pubkey, sg_err_str(r));
			return r;
		}
		pem = (const char *)pem_file;
	} else if ((pem = sg_cli_json_str(bundle, "public_key_pem")) == NULL &&
	    (pem = sg_cli_json_str(bundle, "certificate_chain_pem")) == NULL) {
		sg_cli_err("no public key: pass --public-key, a bundle that holds one, or --online");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (pem_file == NULL)
		pem_len = strlen(pem);
	if ((r = sg_cli_spki_from_pem(pem, pem_len, &spki, &spki_len)) == SG_OK) {
		sg_cli_verify_in in = {
			.key_algorithm = sg_cli_json_str(bundle, "key_algorithm"),
			.signature_algorithm = f->scheme,
			.signature_format = f->format,
			.context = context,
			.context_len = context_len,
			.hash = h,
			.digest = digest,
			.digest_len = digest_len,
			.sig = sig,
			.sig_len = sig_len,
		};
		r = sg_cli_verify_spki(spki, spki_len, &in);
	}
	free(spki);
	free(pem_file);
	return r;
}

int
sg_cli_cmd_verify_file(int argc, char **argv)
{
	int rc = SG_CLI_EXIT_ERROR, r;
	struct sg_cli_vflags f;
	const char *pos[1];
	size_t npos = 0;
	sg_cli_opt common[6];
	sg_cli_opt opts[] = {
		{ "signature", 1, &f.sig },
		{ "public-key", 1, &f.pubkey },
		{ "bundle", 1, &f.bundle },
		{ "online", 0, &f.online },
		{ "key", 1, &f.key },
		{ "key-version", 1, &f.version },
		{ "hash-algorithm", 1, &f.hash },
		{ "signature-algorithm", 1, &f.scheme },
		{ "signature-format", 1, &f.format },
		{ "context", 1, &f.context },
		{ NULL, 0, NULL },
	};
	json_t *bundle = NULL;
	sg_cli_conn conn;
	sg_hash_alg h = SG_HASH_NONE;
	int64_t version = 0, bundle_version;
	uint8_t *sig = NULL, *context = NULL;
	size_t sig_len = 0, context_len = 0, digest_len = 0;
	uint8_t digest[SG_MAX_DIGEST];
	const char *file;

	memset(&f, 0, sizeof(f));
	memset(&conn, 0, sizeof(conn));
	if (sg_cli_wants_help(argc, argv)) {
		fputs(sg_cli_usage_verify, stdout);
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
	if (f.pubkey == NULL && f.bundle == NULL && f.online == NULL) {
		sg_cli_err("say how to verify: --public-key PEM, --bundle JSON or --online");
		goto usage;
	}
	if (f.sig == NULL && f.bundle == NULL) {
		sg_cli_err("missing --signature");
		goto usage;
	}
	if (sg_cli_parse_hash(f.hash, &h) != SG_OK || sg_cli_check_scheme(f.scheme) != SG_OK ||
	    sg_cli_check_format(f.format) != SG_OK ||
	    (f.version != NULL &&
	    sg_cli_parse_version(f.version, "--key-version", &version) != SG_OK))
		goto usage;
	if (f.bundle != NULL) {
		if (sg_cli_bundle_load(f.bundle, &bundle) != SG_OK)
			goto out;
		if (sg_cli_merge(&f, bundle) != SG_OK)
			goto usage;
		bundle_version = sg_cli_json_int(bundle, "key_version");
		if (version > 0 && bundle_version > 0 && version != bundle_version) {
			sg_cli_err("--key-version %lld disagrees with the bundle (%lld)",
			    (long long)version, (long long)bundle_version);
			goto usage;
		}
		if (version == 0)
			version = bundle_version;
		/* The bundle's names are checked like flags: unknown ones stop here. */
		if (sg_cli_parse_hash(f.hash, &h) != SG_OK ||
		    sg_cli_check_scheme(f.scheme) != SG_OK || sg_cli_check_format(f.format) != SG_OK)
			goto out;
	}
	if (f.context != NULL && sg_cli_parse_context(f.context, &context, &context_len) != SG_OK)
		goto usage;
	if (sg_cli_load_sig(f.sig, bundle, &sig, &sig_len) != SG_OK)
		goto out;
	if (f.online != NULL) {
		if (f.key == NULL) {
			sg_cli_err("--online needs --key, or a bundle that names the key");
			goto usage;
		}
		if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
			goto usage;
	}

	if (sg_cli_hash_file_ui(file, h, digest, &digest_len) != SG_OK)
		goto out;
	r = sg_cli_check_bundle_digest(bundle, file, h, digest, digest_len);
	if (r == SG_OK) {
		if (f.online != NULL)
			r = sg_cli_verify_online(&conn, &f, version, h, digest, digest_len, sig,
			    sig_len);
		else
			r = sg_cli_verify_offline(&f, bundle, h, context, context_len, digest,
			    digest_len, sig, sig_len);
	}
	if (r == SG_OK) {
		printf("signature valid\n");
		rc = SG_CLI_EXIT_OK;
	} else if (r == SG_ERR_BAD_SIGNATURE) {
		char reason[768];
		sg_strlcpy(reason, sg_cli_errmsg() != NULL ? sg_cli_errmsg() : "", sizeof(reason));
		sg_cli_err_clear();
		sg_cli_err("signature INVALID: %s", reason);
		rc = SG_CLI_EXIT_INVALID;
	}
	goto out;
usage:
	sg_cli_err_usage("verify-file");
out:
	sg_cli_conn_clear(&conn);
	json_decref(bundle);
	free(sig);
	free(context);
	return rc;
}
