/*
 * cmd_sign.c - `signet sign-file`: hash locally, sign remotely, write the
 * signature and its bundle.
 *
 * Only the digest leaves the machine (POST /v1/sign, naming a key or a
 * signing policy).  A signature made in the call (200) is used at once; a
 * request that is queued or needs approvals (202) is followed until it is
 * SIGNED (wait.c), unless --no-wait hands its id back, and --request picks
 * such a request up again later.  The answer is then completed with the
 * key's alias, algorithm, public key and certificate chain and, when the
 * signature carries a time stamp, the TSA's certificate; the signature and
 * the time stamp are checked locally - a signature that does not verify is
 * never written - and saved as the raw signature (what `openssl dgst
 * -verify` and most tools expect) plus the JSON bundle that verify-file
 * reads (docs/cli.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_b64.h"
#include "sg_cli.h"
#include "sg_util.h"

static const char sg_cli_usage_sign[] =
    "usage: signet sign-file FILE (--key KEY | --policy PROJECT/SLUG) [options]\n"
    "       signet sign-file FILE --request ID [options]\n"
    "\n"
    "Hash FILE locally (streaming, constant memory), have signetd sign the digest,\n"
    "check the signature against the key's public key, and write:\n"
    "  SIG               the raw signature bytes (default FILE.sig)\n"
    "  SIG.bundle.json   a JSON bundle: key, algorithms, digest, signature, public key,\n"
    "                    certificate chain, time stamp (see docs/cli.md)\n"
    "A request that is queued or needs approvals is waited for, with its progress on\n"
    "stderr; exit 1 if it is rejected or fails.\n"
    "\n"
    "options:\n"
    "  --key KEY                   key id or alias\n"
    "  --policy PROJECT/SLUG       sign under this signing policy (it names the key)\n"
    "  --request ID                finish an earlier request (e.g. after --no-wait): wait\n"
    "                              for it, check it signed FILE's digest, write the files\n"
    "  --key-version N             sign with this key version (default: current)\n"
    "  --hash-algorithm ALG        SHA-256 (default), SHA-384, SHA-512, SHA3-256,\n"
    "                              SHA3-384, SHA3-512\n"
    "  --signature-algorithm ALG   RSA-PKCS1, RSA-PSS, ECDSA, Ed25519, HashML-DSA-65,\n"
    "                              ML-DSA-65, MLDSA65-ECDSA-P256 (default: the key's)\n"
    "  --signature-format FMT      DER (default) or P1363, for ECDSA\n"
    "  --pss-salt-length N         RSA-PSS salt length in bytes (default: hash length)\n"
    "  --context B64               ML-DSA context, base64 (0..255 bytes)\n"
    "  --metadata JSON             a JSON object kept with the request and signature;\n"
    "                              merged over {\"file\": \"<FILE's name>\"}\n"
    "  --timestamp                 have the signature time-stamped (RFC 3161)\n"
    "  --async                     queue the request instead of signing in the call\n"
    "  --no-wait                   when the request is queued or needs approvals, print\n"
    "                              its id and exit 0 without writing files\n"
    "  --wait-timeout SECONDS      give up waiting after this long (default 600, 0: never)\n"
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

/* Everything sign-file accepts. */
struct sg_cli_sign_flags {
	const char *key, *policy, *request, *version, *hash, *scheme, *format, *context;
	const char *out, *bundle, *metadata, *timestamp, *async, *pss, *wait_timeout, *no_wait;
};

/* What the service says it signed: a 200 answer of /v1/sign, or a SIGNED request. */
struct sg_cli_signed {
	const char *request_id, *key_id, *sig_b64, *hash, *scheme, *format, *token;
	const char *signature_id, *created_at, *policy, *digest_b64;
	int64_t version;
};

static void
sg_cli_signed_from(const json_t *obj, int is_request, struct sg_cli_signed *s)
{
	memset(s, 0, sizeof(*s));
	s->request_id = sg_cli_json_str(obj, is_request ? "id" : "request_id");
	s->key_id = sg_cli_json_str(obj, "key_id");
	s->version = sg_cli_json_int(obj, "key_version");
	s->sig_b64 = sg_cli_json_str(obj, "signature");
	s->hash = sg_cli_json_str(obj, "hash_algorithm");
	s->scheme = sg_cli_json_str(obj, "signature_algorithm");
	s->format = sg_cli_json_str(obj, "signature_format");
	s->token = sg_cli_json_str(obj, "timestamp_token");
	s->signature_id = sg_cli_json_str(obj, "signature_id");
	/* A request's own times are not the signature's; the record is read later. */
	s->created_at = sg_cli_json_str(obj, is_request ? "updated_at" : "created_at");
	s->policy = sg_cli_json_str(obj, "policy");
	s->digest_b64 = sg_cli_json_str(obj, "digest");
}

/* The metadata to send: {"file": basename} with the --metadata object over it. */
static int
sg_cli_sign_metadata(const char *file, const char *text, json_t **out)
{
	json_t *meta = json_object(), *given = NULL;
	json_error_t jerr;

	if (meta == NULL || json_object_set_new(meta, "file",
	    json_string(sg_cli_basename(file))) != 0) {
		json_decref(meta);
		sg_cli_err("out of memory");
		return SG_ERR_NOMEM;
	}
	if (text != NULL) {
		given = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
		if (given == NULL || !json_is_object(given)) {
			sg_cli_err("--metadata must be a JSON object%s%s", given == NULL ? ": " : "",
			    given == NULL ? jerr.text : "");
			json_decref(given);
			json_decref(meta);
			return SG_ERR_INVALID_ARGUMENT;
		}
		if (json_object_update(meta, given) != 0) {
			json_decref(given);
			json_decref(meta);
			sg_cli_err("out of memory");
			return SG_ERR_NOMEM;
		}
		json_decref(given);
	}
	*out = meta;
	return SG_OK;
}

/* Check the flags against each other; usage errors recorded. */
static int
sg_cli_sign_check_flags(const struct sg_cli_sign_flags *f)
{
	const char *slash;

	if ((f->key != NULL) + (f->policy != NULL) + (f->request != NULL) != 1) {
		sg_cli_err(f->key == NULL && f->policy == NULL && f->request == NULL ?
		    "missing --key or --policy" :
		    "give one of --key, --policy and --request");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (f->policy != NULL && ((slash = strchr(f->policy, '/')) == NULL ||
	    slash == f->policy || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)) {
		sg_cli_err("--policy must be PROJECT/SLUG, not '%s'", f->policy);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (f->request != NULL && (f->version != NULL || f->metadata != NULL ||
	    f->timestamp != NULL || f->async != NULL || f->no_wait != NULL ||
	    f->scheme != NULL)) {
		sg_cli_err("--request finishes an existing request: --key-version, "
		    "--signature-algorithm, --metadata, --timestamp, --async and --no-wait do not "
		    "apply");
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

/* The POST /v1/sign body. */
static int
sg_cli_sign_body(const struct sg_cli_sign_flags *f, int64_t version, sg_hash_alg hash,
    const char *digest_b64, const char *context_b64, int64_t pss, json_t *meta, json_t **out)
{
	json_t *req = json_object();

	if (req == NULL ||
	    (f->key != NULL && json_object_set_new(req, "key", json_string(f->key)) != 0) ||
	    (f->policy != NULL && json_object_set_new(req, "policy", json_string(f->policy)) != 0) ||
	    (version > 0 && json_object_set_new(req, "key_version", json_integer(version)) != 0) ||
	    json_object_set_new(req, "digest", json_string(digest_b64)) != 0 ||
	    json_object_set_new(req, "hash_algorithm", json_string(sg_hash_name(hash))) != 0 ||
	    (f->scheme != NULL &&
	    json_object_set_new(req, "signature_algorithm", json_string(f->scheme)) != 0) ||
	    (f->format != NULL && json_object_set_new(req, "signature_format",
	    json_string(sg_format_name((sg_sig_format)sg_format_from_name(f->format)))) != 0) ||
	    (context_b64 != NULL &&
	    json_object_set_new(req, "context", json_string(context_b64)) != 0) ||
	    (pss >= 0 && json_object_set_new(req, "pss_salt_length", json_integer(pss)) != 0) ||
	    json_object_set(req, "metadata", meta) != 0 ||
	    (f->timestamp != NULL && json_object_set_new(req, "timestamp", json_true()) != 0) ||
	    (f->async != NULL && json_object_set_new(req, "async", json_true()) != 0)) {
		json_decref(req);
		sg_cli_err("out of memory");
		return SG_ERR_NOMEM;
	}
	*out = req;
	return SG_OK;
}

/*
 * Wait for request id and return its SIGNED object in *final.  Returns an
 * exit status: SG_CLI_EXIT_INVALID when it ended otherwise, ERROR when the
 * wait failed (a timeout or an unreachable service with a hint how to
 * resume).
 */
static int
sg_cli_sign_wait(const sg_cli_conn *c, const char *file, const char *id, int64_t timeout_s,
    json_t **final)
{
	json_t *req = NULL;
	int rc, r;

	if ((r = sg_cli_wait_request(c, id, timeout_s, &req)) != SG_OK) {
		char msg[700];
		if (r != SG_ERR_UNAVAILABLE)
			return SG_CLI_EXIT_ERROR;  /* not a wait cut short: no resuming it */
		sg_strlcpy(msg, sg_cli_errmsg() != NULL ? sg_cli_errmsg() : "waiting failed",
		    sizeof(msg));
		sg_cli_err_clear();
		sg_cli_err("%s; finish later with 'signet sign-file %s --request %s'", msg, file, id);
		return SG_CLI_EXIT_ERROR;
	}
	if ((rc = sg_cli_request_outcome(req)) != SG_CLI_EXIT_OK) {
		json_decref(req);
		return rc;
	}
	*final = req;
	return SG_CLI_EXIT_OK;
}

/* The signature record's created_at, when it can be read (malloc'd), else NULL. */
static char *
sg_cli_signature_time(const sg_cli_conn *c, const char *signature_id)
{
	char path[512];
	json_t *rec = NULL;
	char *t = NULL;

	if (signature_id != NULL &&
	    sg_cli_id_path(path, sizeof(path), "signatures", signature_id, "") == SG_OK &&
	    sg_cli_call(c, "GET", path, NULL, NULL, &rec) == SG_OK &&
	    sg_cli_json_str(rec, "created_at") != NULL)
		t = strdup(sg_cli_json_str(rec, "created_at"));
	sg_cli_err_clear();
	json_decref(rec);
	return t;
}

/*
 * Check the signature's time stamp against the TSA's certificate, which is
 * fetched into *tsa_pem for the bundle.  A token that does not verify is an
 * error; a certificate that cannot be fetched only a warning (the bundle
 * then lacks it, and verify-file needs --tsa-cert).
 */
static int
sg_cli_sign_check_token(const sg_cli_conn *c, const char *token_b64, const uint8_t *sig,
    size_t sig_len, char **tsa_pem, char *gen_time, size_t gen_time_len)
{
	uint8_t *token = NULL;
	size_t token_len = 0;
	char subject[256];
	int r;

	if (sg_b64_decode(token_b64, strlen(token_b64), &token, &token_len) != SG_OK ||
	    token_len == 0) {
		free(token);
		sg_cli_err("service answered with a timestamp_token that is not base64");
		return SG_ERR_BAD_ENCODING;
	}
	if ((r = sg_cli_fetch_tsa_cert(c, tsa_pem)) != SG_OK) {
		fprintf(stderr, "signet: warning: time stamp not checked, no TSA certificate: %s\n",
		    sg_cli_errmsg() != NULL ? sg_cli_errmsg() : sg_err_str(r));
		sg_cli_err_clear();
		free(token);
		return SG_OK;
	}
	r = sg_cli_timestamp_verify(token, token_len, sig, sig_len, *tsa_pem, gen_time,
	    gen_time_len, subject, sizeof(subject));
	free(token);
	if (r != SG_OK) {
		char reason[512];
		sg_strlcpy(reason, sg_cli_errmsg() != NULL ? sg_cli_errmsg() : sg_err_str(r),
		    sizeof(reason));
		sg_cli_err_clear();
		sg_cli_err("the service's time stamp does not verify (%s); nothing written", reason);
		return SG_ERR_BAD_SIGNATURE;
	}
	return SG_OK;
}

int
sg_cli_cmd_sign_file(int argc, char **argv)
{
	int rc = SG_CLI_EXIT_ERROR, r;
	struct sg_cli_sign_flags f;
	const char *pos[1];
	size_t npos = 0;
	sg_cli_opt common[6];
	sg_cli_opt opts[] = {
		{ "key", 1, &f.key },
		{ "policy", 1, &f.policy },
		{ "request", 1, &f.request },
		{ "key-version", 1, &f.version },
		{ "hash-algorithm", 1, &f.hash },
		{ "signature-algorithm", 1, &f.scheme },
		{ "signature-format", 1, &f.format },
		{ "pss-salt-length", 1, &f.pss },
		{ "context", 1, &f.context },
		{ "metadata", 1, &f.metadata },
		{ "timestamp", 0, &f.timestamp },
		{ "async", 0, &f.async },
		{ "no-wait", 0, &f.no_wait },
		{ "wait-timeout", 1, &f.wait_timeout },
		{ "out", 1, &f.out },
		{ "bundle", 1, &f.bundle },
		{ NULL, 0, NULL },
	};
	sg_cli_conn conn;
	sg_hash_alg hash = SG_HASH_NONE;
	int64_t version = 0, pss = -1, wait_timeout = SG_CLI_WAIT_DEFAULT_S;
	uint8_t *context = NULL, *sig = NULL, *spki = NULL;
	size_t context_len = 0, sig_len = 0, spki_len = 0, digest_len = 0;
	uint8_t digest[SG_MAX_DIGEST];
	char *sig_path = NULL, *bundle_path = NULL, *digest_b64 = NULL, *context_b64 = NULL;
	char *bundle_text = NULL, *tsa_pem = NULL, *sig_time = NULL;
	char gen_time[64] = "";
	json_t *req = NULL, *answer = NULL, *meta = NULL, *bundle = NULL;
	long status = 0;
	struct sg_cli_keyinfo ki;
	struct sg_cli_signed sd;
	const char *file, *request_id;

	memset(&f, 0, sizeof(f));
	memset(&conn, 0, sizeof(conn));
	memset(&ki, 0, sizeof(ki));
	if (sg_cli_wants_help(argc, argv)) {
		sg_cli_print_usage(sg_cli_usage_sign);
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
	if (sg_cli_sign_check_flags(&f) != SG_OK)
		goto usage;
	if ((f.hash != NULL && sg_cli_parse_hash(f.hash, &hash) != SG_OK) ||
	    sg_cli_check_scheme(f.scheme) != SG_OK || sg_cli_check_format(f.format) != SG_OK ||
	    (f.version != NULL && sg_cli_parse_version(f.version, "--key-version", &version) !=
	    SG_OK) ||
	    (f.context != NULL && sg_cli_parse_context(f.context, &context, &context_len) !=
	    SG_OK) ||
	    (f.pss != NULL && sg_cli_parse_num(f.pss, "--pss-salt-length", 0, 4096, &pss) !=
	    SG_OK) ||
	    (f.wait_timeout != NULL && sg_cli_parse_num(f.wait_timeout, "--wait-timeout", 0,
	    31536000, &wait_timeout) != SG_OK))
		goto usage;
	if (f.request == NULL && sg_cli_sign_metadata(file, f.metadata, &meta) != SG_OK)
		goto usage;
	if ((sig_path = f.out != NULL ? strdup(f.out) : sg_cli_concat(file, ".sig")) == NULL ||
	    (bundle_path = f.bundle != NULL ? strdup(f.bundle) :
	    sg_cli_concat(sig_path, ".bundle.json")) == NULL)
		goto nomem;
	if (context != NULL && (context_b64 = sg_b64_encode(context, context_len)) == NULL)
		goto nomem;
	if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
		goto usage;

	if (f.request != NULL) {
		/* Resuming: the request says which hash to compute. */
		if ((rc = sg_cli_sign_wait(&conn, file, f.request, wait_timeout, &answer)) !=
		    SG_CLI_EXIT_OK)
			goto out;
		rc = SG_CLI_EXIT_ERROR;
		sg_cli_signed_from(answer, 1, &sd);
		if (sd.hash == NULL || sg_hash_from_name(sd.hash) == SG_HASH_NONE) {
			sg_cli_err("request %s names no hash algorithm this CLI knows", f.request);
			goto out;
		}
		if (f.hash != NULL && sg_hash_from_name(sd.hash) != hash) {
			sg_cli_err("--hash-algorithm %s disagrees with request %s (%s)", f.hash,
			    f.request, sd.hash);
			goto usage;
		}
		hash = sg_hash_from_name(sd.hash);
		if (sg_cli_hash_file_ui(file, hash, digest, &digest_len) != SG_OK)
			goto out;
		if ((digest_b64 = sg_b64_encode(digest, digest_len)) == NULL)
			goto nomem;
	} else {
		if (hash == SG_HASH_NONE && sg_cli_parse_hash(NULL, &hash) != SG_OK)
			goto usage;
		if (sg_cli_hash_file_ui(file, hash, digest, &digest_len) != SG_OK)
			goto out;
		if ((digest_b64 = sg_b64_encode(digest, digest_len)) == NULL)
			goto nomem;
		if (sg_cli_sign_body(&f, version, hash, digest_b64, context_b64, pss, meta, &req) !=
		    SG_OK)
			goto out;
		if (sg_cli_call(&conn, "POST", "/v1/sign", req, &status, &answer) != SG_OK)
			goto out;
		if (status != 200) {
			json_t *final = NULL;
			if ((request_id = sg_cli_json_str(answer, "request_id")) == NULL) {
				sg_cli_err("service answered HTTP %ld without a request_id", status);
				goto out;
			}
			if (f.no_wait != NULL) {
				printf("%s\n", request_id);
				rc = SG_CLI_EXIT_OK;
				goto out;
			}
			if ((rc = sg_cli_sign_wait(&conn, file, request_id, wait_timeout, &final)) !=
			    SG_CLI_EXIT_OK)
				goto out;
			rc = SG_CLI_EXIT_ERROR;
			json_decref(answer);
			answer = final;
			sg_cli_signed_from(answer, 1, &sd);
		} else {
			sg_cli_signed_from(answer, 0, &sd);
		}
	}
	if (sd.policy == NULL)
		sd.policy = f.policy;

	/* What came back, checked before anything is trusted or written. */
	if (sd.key_id == NULL || sd.sig_b64 == NULL || sd.version == 0) {
		sg_cli_err("service answer lacks key_id, key_version or signature");
		goto out;
	}
	if (sd.hash != NULL && sg_hash_from_name(sd.hash) != hash) {
		sg_cli_err("service signed a %s digest, not the %s one sent", sd.hash,
		    sg_hash_name(hash));
		goto out;
	}
	if (sd.digest_b64 != NULL) {
		uint8_t *signed_digest = NULL;
		size_t signed_len = 0;
		int same = sg_b64_decode(sd.digest_b64, strlen(sd.digest_b64), &signed_digest,
		    &signed_len) == SG_OK && signed_len == digest_len &&
		    memcmp(signed_digest, digest, digest_len) == 0;
		free(signed_digest);
		if (!same) {
			sg_cli_err("request %s signed another %s digest than %s's: not the same file?",
			    sd.request_id != NULL ? sd.request_id : "?", sg_hash_name(hash), file);
			goto out;
		}
	}
	if (sg_b64_decode(sd.sig_b64, strlen(sd.sig_b64), &sig, &sig_len) != SG_OK ||
	    sig_len == 0) {
		sg_cli_err("service answered with a signature that is not base64");
		goto out;
	}
	if (sd.format == NULL && f.format != NULL)
		sd.format = sg_format_name((sg_sig_format)sg_format_from_name(f.format));
	if (answer != NULL && sd.signature_id != NULL && sg_cli_json_str(answer, "id") != NULL &&
	    (sig_time = sg_cli_signature_time(&conn, sd.signature_id)) != NULL)
		sd.created_at = sig_time;

	sg_cli_fetch_keyinfo(&conn, sd.key_id, sd.version, &ki);
	if (ki.public_key_pem == NULL) {
		fprintf(stderr, "signet: warning: cannot read the public key of %s version %lld; "
		    "the signature is not checked and the bundle has no public key\n", sd.key_id,
		    (long long)sd.version);
	} else {
		sg_cli_verify_in vin = {
			.key_algorithm = ki.algorithm,
			.signature_algorithm = sd.scheme,
			.signature_format = sd.format,
			.context = context,
			.context_len = context_len,
			.hash = hash,
			.digest = digest,
			.digest_len = digest_len,
			.sig = sig,
			.sig_len = sig_len,
			.has_pss_salt_len = pss >= 0,
			.pss_salt_len = (int)pss,
		};
		if (sg_cli_spki_from_pem(ki.public_key_pem, strlen(ki.public_key_pem), &spki,
		    &spki_len) != SG_OK) {
			sg_cli_err_clear();
			sg_cli_err("the public key of %s version %lld is not a PEM public key",
			    sd.key_id, (long long)sd.version);
			goto out;
		}
		r = sg_cli_verify_spki(spki, spki_len, &vin);
		if (r == SG_ERR_BAD_SIGNATURE) {
			char reason[512];
			sg_strlcpy(reason, sg_cli_errmsg() != NULL ? sg_cli_errmsg() : "", sizeof(reason));
			sg_cli_err_clear();
			sg_cli_err("the service returned a signature that does not verify with "
			    "key %s version %lld (%s); nothing written", sd.key_id,
			    (long long)sd.version, reason);
			goto out;
		}
		if (r != SG_OK) {
			fprintf(stderr, "signet: warning: signature not checked locally: %s\n",
			    sg_cli_errmsg() != NULL ? sg_cli_errmsg() : sg_err_str(r));
			sg_cli_err_clear();
		}
	}
	if (sd.token != NULL && sg_cli_sign_check_token(&conn, sd.token, sig, sig_len, &tsa_pem,
	    gen_time, sizeof(gen_time)) != SG_OK)
		goto out;

	if ((bundle = json_object()) == NULL ||
	    json_object_set_new(bundle, "format", json_string(SG_CLI_BUNDLE_FORMAT)) != 0 ||
	    sg_cli_set_str(bundle, "file", sg_cli_basename(file)) != 0 ||
	    sg_cli_set_str(bundle, "key_id", sd.key_id) != 0 ||
	    sg_cli_set_str(bundle, "key_alias", ki.alias) != 0 ||
	    json_object_set_new(bundle, "key_version", json_integer(sd.version)) != 0 ||
	    sg_cli_set_str(bundle, "key_algorithm", ki.algorithm) != 0 ||
	    sg_cli_set_str(bundle, "signature_algorithm", sd.scheme) != 0 ||
	    sg_cli_set_str(bundle, "hash_algorithm", sg_hash_name(hash)) != 0 ||
	    (sd.format != NULL && sg_cli_set_str(bundle, "signature_format", sd.format) != 0) ||
	    (pss >= 0 && json_object_set_new(bundle, "pss_salt_length", json_integer(pss)) != 0) ||
	    sg_cli_set_str(bundle, "digest", digest_b64) != 0 ||
	    sg_cli_set_str(bundle, "signature", sd.sig_b64) != 0 ||
	    (context_b64 != NULL && sg_cli_set_str(bundle, "context", context_b64) != 0) ||
	    sg_cli_set_str(bundle, "public_key_pem", ki.public_key_pem) != 0 ||
	    (ki.certificate_chain_pem != NULL && sg_cli_set_str(bundle, "certificate_chain_pem",
	    ki.certificate_chain_pem) != 0) ||
	    (sd.token != NULL && sg_cli_set_str(bundle, "timestamp_token", sd.token) != 0) ||
	    (tsa_pem != NULL && sg_cli_set_str(bundle, "tsa_certificate_pem", tsa_pem) != 0) ||
	    (sd.policy != NULL && sg_cli_set_str(bundle, "policy", sd.policy) != 0) ||
	    sg_cli_set_str(bundle, "signature_id", sd.signature_id) != 0 ||
	    sg_cli_set_str(bundle, "request_id", sd.request_id) != 0 ||
	    sg_cli_set_str(bundle, "created_at", sd.created_at) != 0)
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
	printf("signed %s with key %s version %lld: %s, %s%s%s%s\n", file,
	    ki.alias != NULL ? ki.alias : sd.key_id, (long long)sd.version, sig_path, bundle_path,
	    gen_time[0] != '\0' ? " (time-stamped " : "", gen_time,
	    gen_time[0] != '\0' ? ")" : "");
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
	json_decref(answer);
	json_decref(bundle);
	free(bundle_text);
	free(digest_b64);
	free(context_b64);
	free(context);
	free(sig);
	free(spki);
	free(sig_path);
	free(bundle_path);
	free(tsa_pem);
	free(sig_time);
	return rc;
}
