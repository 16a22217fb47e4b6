/*
 * cmd_verify.c - `signet verify-file`: is this signature valid for this file?
 *
 * The file is hashed locally, compared with the bundle's digest when there
 * is a bundle, and the signature is then checked either offline (src/crypto
 * with a public key from --public-key or the bundle) or online
 * (POST /v1/verify).  A bundle's certificate chain and time stamp are
 * checked too, offline: the chain must belong to the signing key and hang
 * together (and lead to a root with --ca), the time stamp must stamp this
 * signature and verify against the TSA's certificate.  The answer is the
 * exit status: 0 valid, 1 invalid, 2 when the question could not be
 * answered.  Flags and bundle fields describe the same signature; when both
 * are given they must agree, since a silent override would verify something
 * other than what the user thinks.
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
    "  --pss-salt-length N         RSA-PSS salt length (default: the bundle's, else the\n"
    "                              hash length)\n"
    "  --ca FILE                   PEM root certificate(s): the bundle's certificate\n"
    "                              chain must verify to one of them\n"
    "  --tsa-cert FILE             PEM certificate(s) of the time-stamp authority to check\n"
    "                              the bundle's time stamp against (default: the bundle's\n"
    "                              tsa_certificate_pem); requires a time stamp\n"
    "\n"
    "With a bundle, its certificate chain (leaf carries the signing key, each\n"
    "certificate issued by the next) and its time stamp (it stamps this signature, the\n"
    "TSA certificate vouches for it) are checked as well, and reported on stdout.\n"
    "A bundle's own public key, chain and TSA certificate prove the file is unchanged\n"
    "since signing, not who signed it or when: pass a --public-key, --ca and --tsa-cert\n"
    "you trust, or use --online, for that.\n";

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
	    *context, *pss, *ca, *tsa_cert;
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
    int64_t pss, sg_hash_alg h, const uint8_t *digest, size_t digest_len, const uint8_t *sig,
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
	    (pss >= 0 && json_object_set_new(req, "pss_salt_length", json_integer(pss)) != 0) ||
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

/*
 * Offline: the PEM from --public-key, else the bundle's key or certificate.
 * *used (malloc'd, for the chain check) receives the SPKI verified with.
 */
static int
sg_cli_verify_offline(const struct sg_cli_vflags *f, const json_t *bundle, sg_hash_alg h,
    int64_t pss, const uint8_t *context, size_t context_len, const uint8_t *digest,
    size_t digest_len, const uint8_t *sig, size_t sig_len, uint8_t **used, size_t *used_len)
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
			.has_pss_salt_len = pss >= 0,
			.pss_salt_len = (int)pss,
		};
		r = sg_cli_verify_spki(spki, spki_len, &in);
		*used = spki;
		*used_len = spki_len;
		spki = NULL;
	}
	free(spki);
	free(pem_file);
	return r;
}

/*
 * The bundle's certificate chain: SG_OK with the line to print in line[n]
 * ("" without a chain), SG_ERR_BAD_SIGNATURE with the reason recorded
 * (status 1), another error when it cannot be checked.  `spki` is the key
 * the signature was checked with (NULL: the bundle's).
 */
static int
sg_cli_verify_chain(const struct sg_cli_vflags *f, const json_t *bundle, const uint8_t *spki,
    size_t spki_len, char *line, size_t n)
{
	const char *chain = sg_cli_json_str(bundle, "certificate_chain_pem");
	const char *bundle_pem = sg_cli_json_str(bundle, "public_key_pem");
	uint8_t *own = NULL;
	size_t own_len = 0;
	char summary[800];
	int r;

	if (chain == NULL) {
		if (f->ca == NULL)
			return SG_OK;
		sg_cli_err("the bundle has no certificate chain to check against %s", f->ca);
		return SG_ERR_BAD_SIGNATURE;
	}
	if (spki == NULL && bundle_pem != NULL &&
	    (r = sg_cli_spki_from_pem(bundle_pem, strlen(bundle_pem), &own, &own_len)) != SG_OK)
		return r;
	r = sg_cli_check_chain(chain, spki != NULL ? spki : own, spki != NULL ? spki_len : own_len,
	    f->ca, summary, sizeof(summary));
	free(own);
	if (r == SG_OK)
		snprintf(line, n, "certificate: %s\n", summary);
	return r;
}

/*
 * The bundle's time stamp over the signature bytes: SG_OK with the line to
 * print in line[n] ("" without a time stamp), SG_ERR_BAD_SIGNATURE with the
 * reason recorded (status 1), another error when it cannot be checked.
 */
static int
sg_cli_verify_timestamp(const struct sg_cli_vflags *f, const json_t *bundle,
    const uint8_t *sig, size_t sig_len, char *line, size_t n)
{
	const char *token_b64 = sg_cli_json_str(bundle, "timestamp_token");
	const char *tsa_pem = sg_cli_json_str(bundle, "tsa_certificate_pem");
	uint8_t *token = NULL, *pem_file = NULL;
	size_t token_len = 0, pem_len = 0;
	char gen_time[64], subject[256];
	int r;

	if (token_b64 == NULL) {
		if (f->tsa_cert == NULL)
			return SG_OK;
		sg_cli_err("the bundle has no time stamp to check against %s", f->tsa_cert);
		return SG_ERR_BAD_SIGNATURE;
	}
	if (f->tsa_cert != NULL) {
		if ((r = sg_read_file(f->tsa_cert, SG_CLI_MAX_PEM, &pem_file, &pem_len)) != SG_OK) {
			sg_cli_err("cannot read TSA certificate %s: %s", f->tsa_cert, sg_err_str(r));
			return r;
		}
		tsa_pem = (const char *)pem_file;
	} else if (tsa_pem == NULL) {
		sg_cli_err("the bundle's time stamp cannot be checked without the TSA's "
		    "certificate: pass --tsa-cert FILE ('signet tsa certificate' fetches it)");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (strstr(tsa_pem, "-----BEGIN CERTIFICATE-----") == NULL) {
		sg_cli_err("no PEM certificate in %s", f->tsa_cert != NULL ? f->tsa_cert :
		    "the bundle's tsa_certificate_pem");
		r = f->tsa_cert != NULL ? SG_ERR_INVALID_ARGUMENT : SG_ERR_BAD_SIGNATURE;
		goto out;
	}
	if (sg_b64_decode(token_b64, strlen(token_b64), &token, &token_len) != SG_OK ||
	    token_len == 0) {
		sg_cli_err("the bundle's timestamp_token is not base64");
		r = SG_ERR_BAD_SIGNATURE;
		goto out;
	}
	r = sg_cli_timestamp_verify(token, token_len, sig, sig_len, tsa_pem, gen_time,
	    sizeof(gen_time), subject, sizeof(subject));
	/* A token that does not even parse is as bad as one that does not verify. */
	if (r == SG_ERR_BAD_ENCODING)
		r = SG_ERR_BAD_SIGNATURE;
	if (r == SG_OK)
		snprintf(line, n, "timestamp: %s by %s\n", gen_time, subject);
out:
	free(token);
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
		{ "pss-salt-length", 1, &f.pss },
		{ "ca", 1, &f.ca },
		{ "tsa-cert", 1, &f.tsa_cert },
		{ NULL, 0, NULL },
	};
	json_t *bundle = NULL;
	sg_cli_conn conn;
	sg_hash_alg h = SG_HASH_NONE;
	int64_t version = 0, bundle_version, pss = -1, bundle_pss;
	uint8_t *sig = NULL, *context = NULL, *used_spki = NULL;
	size_t sig_len = 0, context_len = 0, digest_len = 0, used_spki_len = 0;
	uint8_t digest[SG_MAX_DIGEST];
	const char *file, *what = "signature";
	char chain_line[900] = "", ts_line[400] = "";

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
	if ((f.ca != NULL || f.tsa_cert != NULL) && f.bundle == NULL) {
		sg_cli_err("%s checks a bundle's %s: pass --bundle", f.ca != NULL ? "--ca" :
		    "--tsa-cert", f.ca != NULL ? "certificate chain" : "time stamp");
		goto usage;
	}
	if (sg_cli_parse_hash(f.hash, &h) != SG_OK || sg_cli_check_scheme(f.scheme) != SG_OK ||
	    sg_cli_check_format(f.format) != SG_OK ||
	    (f.version != NULL &&
	    sg_cli_parse_version(f.version, "--key-version", &version) != SG_OK) ||
	    (f.pss != NULL &&
	    sg_cli_parse_num(f.pss, "--pss-salt-length", 0, 4096, &pss) != SG_OK))
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
		bundle_pss = sg_cli_json_uint(bundle, "pss_salt_length");
		if (pss >= 0 && bundle_pss >= 0 && pss != bundle_pss) {
			sg_cli_err("--pss-salt-length %lld disagrees with the bundle (%lld)",
			    (long long)pss, (long long)bundle_pss);
			goto usage;
		}
		if (pss < 0)
			pss = bundle_pss;
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
			r = sg_cli_verify_online(&conn, &f, version, pss, h, digest, digest_len, sig,
			    sig_len);
		else
			r = sg_cli_verify_offline(&f, bundle, h, pss, context, context_len, digest,
			    digest_len, sig, sig_len, &used_spki, &used_spki_len);
	}
	/* All verdicts first: "valid" is printed only when everything is. */
	if (r == SG_OK && bundle != NULL &&
	    (r = sg_cli_verify_chain(&f, bundle, used_spki, used_spki_len, chain_line,
	    sizeof(chain_line))) != SG_OK)
		what = "certificate chain";
	if (r == SG_OK && bundle != NULL &&
	    (r = sg_cli_verify_timestamp(&f, bundle, sig, sig_len, ts_line, sizeof(ts_line))) !=
	    SG_OK)
		what = "timestamp";
	if (r == SG_OK) {
		printf("signature valid\n%s%s", chain_line, ts_line);
		rc = SG_CLI_EXIT_OK;
	} else if (r == SG_ERR_BAD_SIGNATURE) {
		char reason[768];
		sg_strlcpy(reason, sg_cli_errmsg() != NULL ? sg_cli_errmsg() : "", sizeof(reason));
		sg_cli_err_clear();
		sg_cli_err("%s INVALID: %s", what, reason);
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
	free(used_spki);
	return rc;
}
