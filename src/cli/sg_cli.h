/*
 * sg_cli.h - the pieces of the `signet` command-line client.
 *
 * The CLI hashes artifacts locally, talks to signetd's native JSON API
 * (SPEC §3) over libcurl, and verifies signatures offline with src/crypto.
 * main.c dispatches to one function per command (cmd_*.c); those share an
 * option parser (opts.c), the connection to the service (http.c, over the
 * shared client library src/client), streaming file hashing
 * (hashfile.c), public-key loading (pubkey.c) and the bundle format
 * (bundle.c).  Everything here except main() lives in the sg_cli library so
 * the unit tests in tests/unit/cli can link it.
 *
 * Error reporting: a failing function records one human sentence with
 * sg_cli_err() (the first one recorded wins, since it names the root cause)
 * and returns a negative SG_ERR_*; main() prints it as the single line on
 * stderr.  Exit statuses are SG_CLI_EXIT_*.
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "sg_buf.h"
#include "sg_client.h"
#include "sg_crypto.h"
#include "sg_err.h"

#define SG_CLI_VERSION "0.1.0"
#define SG_CLI_USER_AGENT "signet-cli/0.1"

/* Exit statuses: the contract scripts rely on. */
#define SG_CLI_EXIT_OK 0       /* done; signature valid */
#define SG_CLI_EXIT_INVALID 1  /* signature invalid; request rejected or failed; audit broken */
#define SG_CLI_EXIT_ERROR 2    /* usage, I/O or service error */

/* Size limits on what the CLI reads from outside. */
#define SG_CLI_MAX_RESPONSE SG_CLIENT_MAX_RESPONSE   /* one HTTP response body */
#define SG_CLI_MAX_BUNDLE (4u * 1024u * 1024u)     /* a bundle JSON file */
#define SG_CLI_MAX_PEM (1u * 1024u * 1024u)        /* a public key / cert file */
#define SG_CLI_MAX_SIGNATURE (64u * 1024u)         /* a raw signature file */

/* Streaming hash: read size, and the file size from which a progress bar shows. */
#define SG_CLI_READ_CHUNK (64u * 1024u)
#define SG_CLI_PROGRESS_MIN (64ull * 1024u * 1024u)

/* ---- error message ---- */

/* Record the human message for the current failure unless one is already recorded. */
void sg_cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The recorded message, or NULL. */
const char *sg_cli_errmsg(void);

/* Forget the recorded message (after a failure the caller chose to survive). */
void sg_cli_err_clear(void);

/* Add " (see 'signet CMD --help')" to the recorded message: for usage errors. */
void sg_cli_err_usage(const char *cmd);

/* ---- options ---- */

/* takes_value of an option that may be given several times. */
#define SG_CLI_OPT_LIST 2

/* Most values one list option collects (the service's limit for policy lists). */
#define SG_CLI_MAX_LIST 64

/*
 * One long option.  `value` receives a pointer into argv (options that take
 * a value) or the string "1" (flags).  For SG_CLI_OPT_LIST, `value` is the
 * first of SG_CLI_MAX_LIST + 1 slots (all NULL before parsing) that receive
 * the values in order, NULL-terminated.  Options are spelled "--name VALUE"
 * or "--name=VALUE"; "--" ends the options.
 */
typedef struct sg_cli_opt {
	const char *name;       /* without the leading "--" */
	int takes_value;        /* 0 flag, 1 value, SG_CLI_OPT_LIST repeatable value */
	const char **value;
} sg_cli_opt;

/*
 * Parse argv[0..argc) against the NULL-name-terminated tables `opts` and
 * `common` (either may be NULL), collecting up to maxpos positional
 * arguments into pos[] and their count into *npos.  An unknown option, a
 * missing value, a non-list option given twice, a list option given more
 * than SG_CLI_MAX_LIST times or too many positionals is a usage error:
 * SG_ERR_INVALID_ARGUMENT with the message recorded.
 */
int sg_cli_parse(int argc, char **argv, const sg_cli_opt *opts, const sg_cli_opt *common,
    const char **pos, size_t maxpos, size_t *npos) SG_WUR;

/* 1 when argv (before a "--") holds "--help" or "-h". */
int sg_cli_wants_help(int argc, char **argv);

/* ---- connection to signetd ---- */

/* Where and how to reach the service; filled from flags, then the environment. */
typedef struct sg_cli_conn {
	const char *url;        /* base URL, e.g. http://127.0.0.1:8443 */
	char *api_key;          /* owned, wiped by sg_cli_conn_clear; may be NULL with mTLS */
	const char *cacert;     /* CA bundle to trust (PEM) */
	const char *cert;       /* client certificate for mTLS (PEM) */
	const char *cert_key;   /* its private key (PEM) */
} sg_cli_conn;

/* The raw connection flags every networked command accepts. */
typedef struct sg_cli_conn_flags {
	const char *url, *api_key, *cacert, *cert, *cert_key;
} sg_cli_conn_flags;

/* Option table for sg_cli_conn_flags; `f` must outlive the table. */
void sg_cli_conn_opts(sg_cli_conn_flags *f, sg_cli_opt out[6]);

/* The connection flags of this run: given before the command or after it. */
extern sg_cli_conn_flags sg_cli_flags;

/*
 * Resolve flags over SIGNET_URL / SIGNET_API_KEY into *c.  The API key is
 * copied and, when it came from argv, overwritten there so it does not stay
 * visible in the process list.  Fails (message recorded) without a URL, or
 * without any credential (API key or client certificate).
 */
int sg_cli_conn_init(sg_cli_conn *c, sg_cli_conn_flags *f) SG_WUR;

/*
 * For the public endpoints (the time-stamp authority): only the URL, the CA
 * bundle and a TLS client certificate if one was given; no API key is sent.
 * Fails (message recorded) without a URL.
 */
int sg_cli_conn_public(sg_cli_conn *c, const sg_cli_conn_flags *f) SG_WUR;

/* Wipe the API key and reset.  NULL is fine. */
void sg_cli_conn_clear(sg_cli_conn *c);

/* One HTTP exchange (the client library's, see sg_client.h). */
typedef sg_client_resp sg_cli_resp;

void sg_cli_resp_free(sg_cli_resp *r);

/*
 * Perform METHOD url+path with an optional JSON body and Accept header
 * (NULL: application/json).  On SG_OK *resp holds the status and body,
 * whatever the status; the caller frees it.  Transport failures return
 * SG_ERR_UNAVAILABLE with the message recorded.
 */
int sg_cli_http(const sg_cli_conn *c, const char *method, const char *path,
    const json_t *body, const char *accept, sg_cli_resp *resp) SG_WUR;

/*
 * sg_cli_http with a raw body of body_len bytes sent as content_type (body
 * NULL: no body).  The body must stay valid during the call.
 */
int sg_cli_http_raw(const sg_cli_conn *c, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, const char *accept,
    sg_cli_resp *resp) SG_WUR;

/*
 * sg_cli_http plus the error convention: a 2xx answer with a JSON body is
 * parsed into *out (caller json_decref's) and its status stored in
 * *status (optional).  Any other answer records "service error: HTTP <n>
 * <CODE>: <message> (request <id>)" and returns the matching SG_ERR_*
 * (SG_ERR_NOT_FOUND for 404, ...).
 */
int sg_cli_call(const sg_cli_conn *c, const char *method, const char *path,
    const json_t *body, long *status, json_t **out) SG_WUR;

/* sg_cli_call with a raw body (see sg_cli_http_raw). */
int sg_cli_call_raw(const sg_cli_conn *c, const char *method, const char *path,
    const void *body, size_t body_len, const char *content_type, long *status,
    json_t **out) SG_WUR;

/*
 * GET path with the given Accept header and expect a 200 text answer (PEM):
 * *text is the malloc'd, NUL-terminated body of *len bytes.  Another status
 * is recorded as by sg_cli_resp_error; an empty or binary body is
 * SG_ERR_BAD_ENCODING.
 */
int sg_cli_get_text(const sg_cli_conn *c, const char *path, const char *accept, char **text,
    size_t *len) SG_WUR;

/*
 * Record a non-2xx answer as "service error: HTTP <n> <CODE>: <message>
 * (request <id>)" and return the SG_ERR_* that fits its status.
 */
int sg_cli_resp_error(const sg_cli_resp *resp);

/* Percent-encode one path segment (an id or alias); malloc'd, NULL on failure. */
char *sg_cli_path_escape(const char *segment);

/* ---- hashing files ---- */

/*
 * Progress callback for sg_cli_hash_file: done and total bytes.  Called
 * after each chunk; `arg` is passed through.
 */
typedef void (*sg_cli_progress_fn)(uint64_t done, uint64_t total, void *arg);

/*
 * Hash the file at `path` with h, reading SG_CLI_READ_CHUNK bytes at a time
 * through EVP_DigestUpdate, so memory use does not depend on the file size.
 * `progress` (optional) is called after each chunk.  On success digest
 * holds *digest_len = sg_hash_len(h) bytes; on failure the message is
 * recorded and the outputs are untouched.
 */
int sg_cli_hash_file(const char *path, sg_hash_alg h, sg_cli_progress_fn progress,
    void *progress_arg, uint8_t digest[SG_MAX_DIGEST], size_t *digest_len) SG_WUR;

/*
 * sg_cli_hash_file with a progress bar on stderr when stderr is a terminal
 * and the file is larger than SG_CLI_PROGRESS_MIN.
 */
int sg_cli_hash_file_ui(const char *path, sg_hash_alg h, uint8_t digest[SG_MAX_DIGEST],
    size_t *digest_len) SG_WUR;

/* Draw one progress-bar line ("\rhashing [####    ]  42%  1.2/3.0 GiB", MiB below 1 GiB) on f. */
void sg_cli_progress_draw(FILE *f, uint64_t done, uint64_t total);

/* ---- public keys ---- */

/*
 * Extract the SubjectPublicKeyInfo DER from PEM text holding a "PUBLIC KEY"
 * or a "CERTIFICATE" (the first block of that kind; a chain gives its leaf).
 * Works for key types OpenSSL cannot use (ML-DSA under OpenSSL 3.0), since
 * the SPKI is taken as bytes.  *spki is malloc'd.  SG_ERR_BAD_ENCODING when
 * no usable block is found (message recorded).
 */
int sg_cli_spki_from_pem(const char *pem, size_t pem_len, uint8_t **spki,
    size_t *spki_len) SG_WUR;

/*
 * The key algorithm of an SPKI: RSA by modulus size, EC by curve, Ed25519,
 * ML-DSA-44/65/87 and MLDSA65-ECDSA-P256 by OID.  SG_KEY_NONE when it cannot
 * be told (an RSA size or curve Signet does not use, garbage).
 */
sg_key_alg sg_cli_spki_key_alg(const uint8_t *spki, size_t spki_len);

/* ---- bundles ---- */

#define SG_CLI_BUNDLE_FORMAT "signet-bundle-v1"

/*
 * Read and parse a bundle file: JSON object with "format" equal to
 * SG_CLI_BUNDLE_FORMAT, no duplicate keys, every known field of the right
 * type.  *out is the parsed object (caller json_decref's).
 */
int sg_cli_bundle_load(const char *path, json_t **out) SG_WUR;

/* String field of a JSON object, or NULL when absent / not a string / empty. */
const char *sg_cli_json_str(const json_t *obj, const char *key);

/* Positive integer field of a JSON object, or 0 when absent or not one. */
int64_t sg_cli_json_int(const json_t *obj, const char *key);

/* Integer field >= 0 of a JSON object, or -1 when absent or not one. */
int64_t sg_cli_json_uint(const json_t *obj, const char *key);

/* ---- output ---- */

/* Print a JSON value, indented, on stdout; SG_ERR_IO (message recorded) on failure. */
int sg_cli_print_json(const json_t *v) SG_WUR;

/*
 * Text a stranger chose (metadata, comments), made safe for a terminal:
 * JSON-quoted with every non-ASCII and control character escaped, so no
 * escape sequence reaches the screen.  Malloc'd; NULL on failure.  A
 * non-string value is dumped as compact JSON, equally escaped.
 */
char *sg_cli_safe_text(const json_t *v);

/*
 * Copy src (NULL: "") into dst[n] as one line of printable ASCII: any other
 * byte becomes '?'.  For table cells and progress lines.
 */
void sg_cli_plain(char *dst, size_t n, const char *src);

/*
 * Write n bytes to path (atomically, mode 0644), or to stdout when path is
 * NULL.  The message is recorded on failure.
 */
int sg_cli_write_output(const char *path, const void *p, size_t n) SG_WUR;

/* Fill a path "/v1/PREFIX/<escaped id>SUFFIX" into buf; usage error when it does not fit. */
int sg_cli_id_path(char *buf, size_t n, const char *prefix, const char *id,
    const char *suffix) SG_WUR;

/* Parse a whole number in [min, max] given for option `what`; usage error otherwise. */
int sg_cli_parse_num(const char *s, const char *what, int64_t min, int64_t max,
    int64_t *out) SG_WUR;

/* ---- waiting for a signing request ---- */

/* Poll delays: the first, and the most the delay grows to. */
#define SG_CLI_POLL_MIN_MS 200u
#define SG_CLI_POLL_MAX_MS 2000u

/* Default of `requests wait --timeout` and `sign-file --wait-timeout`, seconds. */
#define SG_CLI_WAIT_DEFAULT_S 600

/* The delay after one of `ms`: doubled, within SG_CLI_POLL_MIN_MS..SG_CLI_POLL_MAX_MS. */
unsigned sg_cli_backoff_next(unsigned ms);

/* 1 for the statuses a request never leaves: SIGNED, FAILED, REJECTED, DEAD_LETTER. */
int sg_cli_status_final(const char *status);

/*
 * The progress line of a waiting request, without a newline:
 * "request ID: STATUS[, approvals X/N][ (last error: E)], Ns".  approvals
 * < 0 means unknown (shown as "N approvals required" when N is known).
 * Text from the service is made terminal-safe.
 */
void sg_cli_wait_line(char *buf, size_t n, const char *id, const json_t *request,
    int64_t approvals, int64_t elapsed_s);

/*
 * Poll GET /v1/requests/{id} with backoff (SG_CLI_POLL_MIN_MS doubling to
 * SG_CLI_POLL_MAX_MS, back to the minimum when the status changes) until the
 * status is final or timeout_s seconds passed (0: no limit).  Progress goes
 * to stderr: redrawn in place when stderr is a terminal, else one line per
 * change.  While PENDING_APPROVAL the votes are read from
 * GET /v1/approvals/{id} when the caller's roles allow it.  For a REJECTED
 * request without an `error`, the rejecting vote's comment is put there.
 * A few consecutive transport or 503 failures are survived.
 *
 * On SG_OK *final is the request object in its final status (the caller
 * json_decref's); on timeout SG_ERR_UNAVAILABLE with a message naming the
 * last status; other errors as sg_cli_call.
 */
int sg_cli_wait_request(const sg_cli_conn *c, const char *id, int64_t timeout_s,
    json_t **final) SG_WUR;

/*
 * For a request in a final status other than SIGNED: record
 * "request ID is STATUS: ERROR" and return SG_CLI_EXIT_INVALID.  For SIGNED
 * return SG_CLI_EXIT_OK.
 */
int sg_cli_request_outcome(const json_t *request);

/* ---- RFC 3161 time stamps ---- */

/*
 * A DER TimeStampReq (version 1) for a digest of hash h, with certReq set and
 * the given 64-bit nonce.  *der is malloc'd.  On failure the message is
 * recorded and the outputs are untouched.
 */
int sg_cli_tsq_build(sg_hash_alg h, const uint8_t *digest, size_t digest_len,
    uint64_t nonce, uint8_t **der, size_t *der_len) SG_WUR;

/*
 * Check a DER TimeStampResp against the query: status granted (or granted
 * with modifications), a token whose nonce is `nonce` and whose message
 * imprint is digest under h.  gen_time (at least 40 bytes) receives the
 * token's genTime as ISO 8601.  SG_ERR_BAD_SIGNATURE with the reason
 * recorded when the reply is a refusal or does not answer this query,
 * SG_ERR_BAD_ENCODING when it does not parse.
 */
int sg_cli_tsr_check(const uint8_t *reply, size_t len, sg_hash_alg h, const uint8_t *digest,
    size_t digest_len, uint64_t nonce, char *gen_time, size_t gen_time_len) SG_WUR;

/*
 * Verify a TimeStampToken (DER) offline over `data` (the signature bytes):
 * its imprint must be the hash of data and it must be signed by a TSA
 * certificate chaining to tsa_pem (sg_tsa_verify_token).  On SG_OK,
 * gen_time receives the genTime (ISO 8601) and subject the TSA
 * certificate's subject (RFC 2253).  SG_ERR_BAD_SIGNATURE (reason recorded)
 * when the token does not verify or does not match, SG_ERR_BAD_ENCODING
 * when token or PEM do not parse.
 */
int sg_cli_timestamp_verify(const uint8_t *token, size_t len, const uint8_t *data,
    size_t dlen, const char *tsa_pem, char *gen_time, size_t gen_time_len, char *subject,
    size_t subject_len) SG_WUR;

/*
 * GET /tsa/certificate without credentials (whatever c carries): the TSA's
 * certificate chain as malloc'd PEM text.  SG_ERR_BAD_ENCODING when the
 * answer holds no PEM certificate; other errors as sg_cli_get_text.
 */
int sg_cli_fetch_tsa_cert(const sg_cli_conn *c, char **pem) SG_WUR;

/* ---- certificate chains ---- */

/*
 * Check a PEM certificate chain, leaf first: the leaf must carry the SPKI
 * spki (when not NULL) and every certificate must be issued and signed by
 * the next one.  With ca_path (a PEM file of trusted roots, or NULL) the
 * chain must also verify to one of them (X509_verify_cert, no purpose).
 * On SG_OK, summary (optional) describes the chain ("CN=leaf, 2 certificates,
 * verified to CN=root").  SG_ERR_BAD_SIGNATURE with the reason recorded when
 * a check fails; SG_ERR_BAD_ENCODING when no certificate parses; SG_ERR_IO
 * when ca_path cannot be read.
 */
int sg_cli_check_chain(const char *chain_pem, const uint8_t *spki, size_t spki_len,
    const char *ca_path, char *summary, size_t summary_len) SG_WUR;

/* ---- verification and shared argument checks ---- */

/* What a signature is checked against besides the public key. */
typedef struct sg_cli_verify_in {
	const char *key_algorithm;        /* as claimed (bundle, server); NULL: from the key */
	const char *signature_algorithm;  /* NULL: the key algorithm's default scheme */
	const char *signature_format;     /* NULL: DER for ECDSA */
	const uint8_t *context;           /* ML-DSA context, may be NULL */
	size_t context_len;
	sg_hash_alg hash;
	const uint8_t *digest;
	size_t digest_len;
	const uint8_t *sig;
	size_t sig_len;
	int has_pss_salt_len;             /* RSA-PSS salt length given (else: hash length) */
	int pss_salt_len;
} sg_cli_verify_in;

/*
 * Verify offline with an SPKI.  The key algorithm is read from the key
 * itself (sg_cli_spki_key_alg), falling back to in->key_algorithm when the
 * key does not say; a claim that contradicts the key makes the signature
 * invalid.  Returns SG_OK when valid, SG_ERR_BAD_SIGNATURE when
 * not (the reason recorded), another code when it cannot be checked (the
 * message recorded).
 */
int sg_cli_verify_spki(const uint8_t *spki, size_t spki_len, const sg_cli_verify_in *in) SG_WUR;

/* Parse --hash-algorithm (NULL: SHA-256) into *h; usage error when unknown. */
int sg_cli_parse_hash(const char *name, sg_hash_alg *h) SG_WUR;

/* Decode a base64 --context (0..255 bytes) into a malloc'd *ctx; usage error otherwise. */
int sg_cli_parse_context(const char *b64, uint8_t **ctx, size_t *ctx_len) SG_WUR;

/* Check --signature-algorithm / --signature-format spellings (NULL is fine). */
int sg_cli_check_scheme(const char *name) SG_WUR;
int sg_cli_check_format(const char *name) SG_WUR;

/* Parse a --key-version / --version value (1..2^31-1). */
int sg_cli_parse_version(const char *s, const char *what, int64_t *out) SG_WUR;

/* The last path component of path (a pointer into it). */
const char *sg_cli_basename(const char *path);

/* ---- commands: each returns an SG_CLI_EXIT_* status ---- */

int sg_cli_cmd_sign_file(int argc, char **argv);
int sg_cli_cmd_verify_file(int argc, char **argv);
int sg_cli_cmd_keys(int argc, char **argv);
int sg_cli_cmd_requests(int argc, char **argv);
int sg_cli_cmd_approvals(int argc, char **argv);
int sg_cli_cmd_policies(int argc, char **argv);
int sg_cli_cmd_principals(int argc, char **argv);
int sg_cli_cmd_audit(int argc, char **argv);
int sg_cli_cmd_tsa(int argc, char **argv);

/*
 * Write the entries of one GET /v1/audit page to f, one compact JSON object
 * per line, in the order given.  Each entry's seq must be above the one
 * before it, the first above `after`.  *next receives the last seq written,
 * or 0 when the page was empty (the end); *count grows by the entries
 * written.  SG_ERR_BAD_ENCODING for a malformed or out-of-order page,
 * SG_ERR_IO when f cannot be written; the message recorded.
 */
int sg_cli_audit_write_page(FILE *f, const json_t *page, int64_t after, int64_t *next,
    size_t *count) SG_WUR;

/*
 * Shared front of the command groups (keys, requests, ...): handle a
 * missing, "help" or unknown sub-command and `--help` anywhere.  Returns
 * the index of the sub-command in names[] (NULL-terminated), or -1 when
 * the caller should return *rc (help printed, or a usage error recorded).
 */
int sg_cli_group(int argc, char **argv, const char *group, const char *usage,
    const char *const *names, int *rc);

/*
 * Parse a sub-command's options (argv after the sub-command), expecting
 * exactly npos positionals named `posname` (for the message).  Usage error
 * recorded and SG_ERR_INVALID_ARGUMENT otherwise.
 */
int sg_cli_sub_parse(int argc, char **argv, const sg_cli_opt *opts, const char **pos,
    size_t npos, const char *posname) SG_WUR;

/*
 * Write the usage of one command group: usage + the connection options.
 */
void sg_cli_print_usage(const char *usage);

/* Usage texts, printed by --help and after usage errors. */
extern const char sg_cli_usage_main[];
extern const char sg_cli_usage_conn[];

#endif
