/*
 * test_tsa.c - unit tests of src/crypto/tsa, the RFC 3161 time-stamp
 * authority.
 *
 * Every reply and token is checked by an independent verifier, the openssl
 * command line: `openssl x509 -text` for the generated certificate,
 * `openssl ts -query` to make queries, `openssl ts -reply -text` to read
 * replies (status, policy, nonce, accuracy, failure info) and
 * `openssl ts -verify` against the TSA or CA certificate, with a wrong file
 * that must fail.  Malformed queries must earn a readable rejection and
 * never a crash (the suite also runs under ASan/UBSan); serial numbers are
 * read back from tokens and must be unique and increasing across threads and
 * reopenings.  The TSA key is a keystore key of the software keystore
 * (sealed under a master.key in the temporary directory), as in signetd:
 * no file the TSA writes may hold a private key, the handle must be bound
 * to its key version id, and a certificate that is not the key's is
 * refused.  The clear tsa.key of older versions and issued certificates
 * with PEM keys are tested too.  Everything happens in a fresh temporary
 * directory.  Exit status 0 only when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_tsa.h"
#include "sg_util.h"

#ifndef SG_OPENSSL_CLI
#error "SG_OPENSSL_CLI must name the openssl command line tool"
#endif

static int checks, failures;
static char tmpdir[64];

/* The software keystore and the EC TSA key made in it for the "gen" directory. */
static sg_keystore *soft;
static uint8_t *gen_handle;
static size_t gen_handle_len;
static char *gen_cert;

#define CHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_RC(expr, want) do { \
	int rc_ = (expr); \
	checks++; \
	if (rc_ != (want)) { \
		failures++; \
		fprintf(stderr, "%s:%d: FAIL: %s = %d (%s), want %d (%s)\n", __FILE__, \
		    __LINE__, #expr, rc_, sg_err_str(rc_), (int)(want), sg_err_str(want)); \
	} \
} while (0)

/* Check that a text file holds a string; show the file when it does not. */
#define CHECK_HAS(file, needle) check_has(__FILE__, __LINE__, file, needle, 1)
#define CHECK_HASNT(file, needle) check_has(__FILE__, __LINE__, file, needle, 0)

/* ---- files and the openssl command line ---- */

static void
path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static int
write_bytes(const char *name, const void *p, size_t n)
{
	char path[256];
	FILE *f;
	int ok;

	path_of(path, sizeof(path), name);
	if ((f = fopen(path, "wb")) == NULL)
		return 0;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

/* The whole file, malloc'd and NUL-terminated; NULL when unreadable. */
static uint8_t *
read_all(const char *name, size_t *n)
{
	char path[256];
	uint8_t *p = NULL;
	size_t len = 0;

	path_of(path, sizeof(path), name);
	if (sg_read_file(path, 16u << 20, &p, &len) != SG_OK)
		return NULL;
	if (n != NULL)
		*n = len;
	return p;
}

static void
check_has(const char *file, int line, const char *name, const char *needle, int want)
{
	char *text = (char *)read_all(name, NULL);
	int has = text != NULL && strstr(text, needle) != NULL;

	checks++;
	if (has != want) {
		failures++;
		fprintf(stderr, "%s:%d: FAIL: %s %s \"%s\"; it reads:\n%s\n", file, line, name,
		    want ? "lacks" : "has", needle, text != NULL ? text : "(unreadable)");
	}
	free(text);
}

/*
 * Run the openssl CLI in tmpdir with args (NULL-terminated), stdout and
 * stderr into the file `out` there (or /dev/null); its exit status, or -1.
 */
static int
run_openssl(const char *out, const char *const *args)
{
	const char *argv[40];
	size_t n = 0;
	pid_t pid;
	int status;

	argv[n++] = SG_OPENSSL_CLI;
	for (size_t i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (chdir(tmpdir) != 0)
			_exit(126);
		int fd = open(out != NULL ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(SG_OPENSSL_CLI, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define OSSL(out, ...) run_openssl(out, (const char *const[]){ __VA_ARGS__, NULL })

/* The text after "key: " on the first line of file `name` that has it. */
static int
field_of(const char *name, const char *key, char *val, size_t size)
{
	char *text = (char *)read_all(name, NULL);
	char *p = text != NULL ? strstr(text, key) : NULL;
	size_t n;

	if (p == NULL) {
		free(text);
		return 0;
	}
	p += strlen(key);
	n = strcspn(p, "\n");
	snprintf(val, size, "%.*s", (int)n, p);
	free(text);
	return 1;
}

static int
count_of(const char *haystack, const char *needle)
{
	int n = 0;
	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static sg_tsa_config
config_in(const char *dir)
{
	static char paths[8][256];
	static int next;
	sg_tsa_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	next = (next + 1) % 8;
	path_of(paths[next], sizeof(paths[next]), dir);
	cfg.data_dir = paths[next];
	return cfg;
}

/* config_in(dir) with a keystore key. */
static sg_tsa_config
keystore_config_in(const char *dir, sg_key_alg alg, const uint8_t *handle, size_t handle_len,
    const char *cert_pem)
{
	sg_tsa_config cfg = config_in(dir);
	cfg.keystore = soft;
	cfg.keystore_key.alg = alg;
	cfg.keystore_key.handle = handle;
	cfg.keystore_key.handle_len = handle_len;
	cfg.keystore_cert_pem = cert_pem;
	return cfg;
}

/* The TSA of the "gen" directory: the EC key in the software keystore. */
static sg_tsa_config
gen_config(void)
{
	return keystore_config_in("gen", SG_KEY_EC_P256, gen_handle, gen_handle_len, gen_cert);
}

/* 1 when some file directly in tmpdir/dir holds needle (binary-safe). */
static int
dir_has(const char *dir, const char *needle)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "grep -rqa -- '%s' '%s/%s'", needle, tmpdir, dir);
	return system(cmd) == 0;
}

static int
has_bytes(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++) {
		if (memcmp(p + i, needle, k) == 0)
			return 1;
	}
	return 0;
}

/* Respond to the query file `q` and write the reply to `r`; SG_OK or the error. */
static int
respond_file(sg_tsa *t, const char *q, const char *r)
{
	size_t qlen = 0, rlen = 0;
	uint8_t *query = read_all(q, &qlen), *reply = NULL;
	int rc;

	if (query == NULL)
		return SG_ERR_IO;
	rc = sg_tsa_respond(t, query, qlen, &reply, &rlen);
	if (rc == SG_OK && !write_bytes(r, reply, rlen))
		rc = SG_ERR_IO;
	free(query);
	free(reply);
	return rc;
}

/* The serial number of a DER token, read with OpenSSL's own parser. */
static uint64_t
token_serial(const uint8_t *der, size_t n)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)n);
	TS_TST_INFO *tst = p7 != NULL ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	uint64_t s = 0;

	if (tst == NULL || ASN1_INTEGER_get_uint64(&s, TS_TST_INFO_get_serial(tst)) != 1)
		s = 0;
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	return s;
}

static int
stamp_sha256(sg_tsa *t, const void *data, size_t n, uint8_t **tok, size_t *toklen)
{
	uint8_t h[32];
	unsigned int hl = 0;

	if (EVP_Digest(data, n, h, &hl, EVP_sha256(), NULL) != 1)
		return SG_ERR_CRYPTO;
	return sg_tsa_stamp(t, EVP_sha256(), h, hl, tok, toklen);
}

/* ---- the generated key and certificate ---- */

static void
test_generated_files(sg_tsa *t)
{
	struct stat st;
	char path[256], vid[SG_KEY_VERSION_ID_MAX];
	char *crt;

	/* The key is in the keystore: nothing in the data directory holds it. */
	path_of(path, sizeof(path), "gen/tsa.key");
	CHECK(stat(path, &st) != 0);
	path_of(path, sizeof(path), "gen/tsa.crt");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	CHECK(!dir_has("gen", "PRIVATE KEY"));
	CHECK(dir_has("gen", "BEGIN CERTIFICATE"));   /* the control: dir_has finds things */
	/* The handle is a sealed blob, not a key in any clear encoding. */
	CHECK(gen_handle_len > 0 && !has_bytes(gen_handle, gen_handle_len, "PRIVATE"));
	CHECK(gen_handle_len > 4 && memcmp(gen_handle, "SGK", 3) == 0);
	sg_key_version_id(SG_TSA_KEY_ID, SG_TSA_KEY_VERSION, vid);
	CHECK(strcmp(vid, SG_TSA_KEY_VERSION_ID) == 0);
	/* The keystore's signature on the self-signed certificate is right. */
	CHECK(OSSL("ss.txt", "verify", "-check_ss_sig", "-CAfile", "gen/tsa.crt",
	    "gen/tsa.crt") == 0);
	CHECK_HAS("ss.txt", "gen/tsa.crt: OK");

	CHECK(OSSL("x509.txt", "x509", "-in", "gen/tsa.crt", "-noout", "-text") == 0);
	CHECK_HAS("x509.txt", "X509v3 Extended Key Usage: critical\n                Time Stamping\n");
	CHECK_HAS("x509.txt", "X509v3 Key Usage: critical\n                Digital Signature\n");
	CHECK_HAS("x509.txt", "CA:FALSE");
	CHECK_HAS("x509.txt", "Subject: CN = Signet TSA");
	CHECK_HAS("x509.txt", "Issuer: CN = Signet TSA");
	CHECK_HAS("x509.txt", "Public-Key: (256 bit)");
	/* Valid for 10 years: still valid in 9.9, no longer in 10.1. */
	CHECK(OSSL(NULL, "x509", "-in", "gen/tsa.crt", "-noout", "-checkend", "312206400") == 0);
	CHECK(OSSL(NULL, "x509", "-in", "gen/tsa.crt", "-noout", "-checkend", "318513600") == 1);

	crt = (char *)read_all("gen/tsa.crt", NULL);
	CHECK(crt != NULL && strcmp(crt, sg_tsa_cert_chain_pem(t)) == 0);
	free(crt);
	CHECK(strcmp(sg_tsa_policy(t), SG_TSA_DEFAULT_POLICY) == 0);
}

/* ---- granted replies, read and verified by openssl ts ---- */

/*
 * One query made by `openssl ts -query` with the given digest and options,
 * answered, and checked: granted, our policy, the nonce echoed, accuracy
 * stated, certificate included iff asked, ESSCertIDv2, and the reply verifies
 * against ca (a CA or the TSA certificate) while a different file does not.
 */
static void
check_granted(sg_tsa *t, const char *digest, int cert_req, int nonce, const char *ca,
    const char *untrusted, const char *subject)
{
	const char *q[12];
	size_t n = 0;
	char want[128], qnonce[128], rnonce[128];

	q[n++] = "ts";
	q[n++] = "-query";
	q[n++] = "-data";
	q[n++] = "data.txt";
	q[n++] = digest;
	if (cert_req)
		q[n++] = "-cert";
	if (!nonce)
		q[n++] = "-no_nonce";
	q[n++] = "-out";
	q[n++] = "q.tsq";
	q[n] = NULL;
	CHECK(run_openssl(NULL, q) == 0);
	CHECK_RC(respond_file(t, "q.tsq", "r.tsr"), SG_OK);

	CHECK(OSSL("reply.txt", "ts", "-reply", "-in", "r.tsr", "-text") == 0);
	CHECK_HAS("reply.txt", "Status: Granted.");
	snprintf(want, sizeof(want), "Policy OID: %s\n", sg_tsa_policy(t));
	CHECK_HAS("reply.txt", want);
	snprintf(want, sizeof(want), "Hash Algorithm: %s\n", digest + 1);
	CHECK_HAS("reply.txt", want);
	CHECK_HAS("reply.txt", "Accuracy: 0x01 seconds");
	CHECK(OSSL("query.txt", "ts", "-query", "-in", "q.tsq", "-text") == 0);
	CHECK(field_of("query.txt", "Nonce: ", qnonce, sizeof(qnonce)));
	CHECK(field_of("reply.txt", "Nonce: ", rnonce, sizeof(rnonce)));
	CHECK(strcmp(qnonce, rnonce) == 0);
	if (!nonce)
		CHECK(strcmp(rnonce, "unspecified") == 0);
	else
		CHECK(strncmp(rnonce, "0x", 2) == 0);

	CHECK(OSSL(NULL, "ts", "-reply", "-in", "r.tsr", "-token_out", "-out", "tok.der") == 0);
	CHECK(OSSL("certs.txt", "pkcs7", "-inform", "DER", "-in", "tok.der", "-print_certs") == 0);
	snprintf(want, sizeof(want), "subject=%s", subject);
	if (cert_req)
		CHECK_HAS("certs.txt", want);
	else
		CHECK_HASNT("certs.txt", "subject=");
	CHECK(OSSL("asn1.txt", "asn1parse", "-inform", "DER", "-in", "tok.der") == 0);
	CHECK_HAS("asn1.txt", ":id-smime-aa-signingCertificateV2");

	if (untrusted != NULL)
		CHECK(OSSL("verify.txt", "ts", "-verify", "-in", "r.tsr", "-queryfile", "q.tsq",
		    "-CAfile", ca, "-untrusted", untrusted) == 0);
	else
		CHECK(OSSL("verify.txt", "ts", "-verify", "-in", "r.tsr", "-queryfile", "q.tsq",
		    "-CAfile", ca) == 0);
	CHECK_HAS("verify.txt", "Verification: OK");
	CHECK(OSSL("verify.txt", "ts", "-verify", "-in", "r.tsr", "-data", "other.txt",
	    "-CAfile", ca, "-untrusted", untrusted != NULL ? untrusted : ca) != 0);
	CHECK_HASNT("verify.txt", "Verification: OK");
}

static void
test_granted(sg_tsa *t)
{
	CHECK(write_bytes("data.txt", "release-1.2.3.tar.gz\n", 21));
	CHECK(write_bytes("other.txt", "release-1.2.4.tar.gz\n", 21));
	check_granted(t, "-sha256", 1, 1, "gen/tsa.crt", NULL, "CN = Signet TSA");
	check_granted(t, "-sha256", 1, 0, "gen/tsa.crt", NULL, "CN = Signet TSA");
	check_granted(t, "-sha256", 0, 1, "gen/tsa.crt", "gen/tsa.crt", "CN = Signet TSA");
	check_granted(t, "-sha384", 1, 1, "gen/tsa.crt", NULL, "CN = Signet TSA");
	check_granted(t, "-sha512", 1, 1, "gen/tsa.crt", NULL, "CN = Signet TSA");
	check_granted(t, "-sha512", 1, 0, "gen/tsa.crt", NULL, "CN = Signet TSA");
	check_granted(t, "-sha3-256", 1, 1, "gen/tsa.crt", NULL, "CN = Signet TSA");

	/* Our own policy may be asked for by name. */
	CHECK(OSSL(NULL, "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-tspolicy",
	    sg_tsa_policy(t), "-out", "qp.tsq") == 0);
	CHECK_RC(respond_file(t, "qp.tsq", "rp.tsr"), SG_OK);
	CHECK(OSSL("reply.txt", "ts", "-reply", "-in", "rp.tsr", "-text") == 0);
	CHECK_HAS("reply.txt", "Status: Granted.");
	CHECK(OSSL("verify.txt", "ts", "-verify", "-in", "rp.tsr", "-queryfile", "qp.tsq",
	    "-CAfile", "gen/tsa.crt") == 0);
}

/* ---- rejections ---- */

/* Answer raw query bytes; the reply must be a rejection with failure text `why`. */
static void
check_rejected_bytes(sg_tsa *t, const uint8_t *query, size_t qlen, const char *why)
{
	uint8_t *reply = NULL;
	size_t rlen = 0;

	CHECK_RC(sg_tsa_respond(t, query, qlen, &reply, &rlen), SG_OK);
	CHECK(reply != NULL && write_bytes("rej.tsr", reply, rlen));
	free(reply);
	CHECK(OSSL("rej.txt", "ts", "-reply", "-in", "rej.tsr", "-text") == 0);
	CHECK_HAS("rej.txt", "Status: Rejected.");
	CHECK_HAS("rej.txt", why);
	CHECK_HAS("rej.txt", "TST info:\nNot included.");
}

static void
check_rejected_file(sg_tsa *t, const char *q, const char *why)
{
	size_t n = 0;
	uint8_t *query = read_all(q, &n);

	CHECK(query != NULL);
	if (query != NULL)
		check_rejected_bytes(t, query, n, why);
	free(query);
}

/* DER of a TimeStampReq built field by field, to make ones openssl ts will not. */
static size_t
custom_query(uint8_t *out, size_t cap, int version, const EVP_MD *md, size_t imprint_len,
    int with_extension)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	uint8_t imprint[128];
	unsigned char *p = out;
	int n = 0;

	memset(imprint, 0x5a, sizeof(imprint));
	if (req != NULL && mi != NULL && alg != NULL &&
	    X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL) == 1 &&
	    TS_MSG_IMPRINT_set_algo(mi, alg) == 1 &&
	    TS_MSG_IMPRINT_set_msg(mi, imprint, (int)imprint_len) == 1 &&
	    TS_REQ_set_version(req, version) == 1 && TS_REQ_set_msg_imprint(req, mi) == 1) {
		if (with_extension) {
			X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, NULL,
			    NID_basic_constraints, "CA:FALSE");
			if (ext == NULL || TS_REQ_add_ext(req, ext, -1) != 1)
				n = -1;
			X509_EXTENSION_free(ext);
		}
		if (n == 0 && (size_t)i2d_TS_REQ(req, NULL) <= cap)
			n = i2d_TS_REQ(req, &p);
	}
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	return n > 0 ? (size_t)n : 0;
}

static void
test_rejected(sg_tsa *t)
{
	static const char bad_format[] = "the data submitted has the wrong format";
	static const char bad_alg[] = "unrecognized or unsupported algorithm identifier";
	uint8_t garbage[300], buf[4096];
	size_t n = 0, qlen = 0;
	uint8_t *q;

	CHECK(RAND_bytes(garbage, sizeof(garbage)) == 1);
	garbage[0] = 0x30;   /* looks like a SEQUENCE, is not one */
	check_rejected_bytes(t, garbage, sizeof(garbage), bad_format);
	check_rejected_bytes(t, (const uint8_t *)"hello", 5, bad_format);
	check_rejected_bytes(t, NULL, 0, bad_format);
	check_rejected_bytes(t, (const uint8_t *)"", 0, bad_format);

	CHECK(OSSL(NULL, "ts", "-query", "-data", "data.txt", "-sha256", "-cert",
	    "-out", "good.tsq") == 0);
	q = read_all("good.tsq", &qlen);
	CHECK(q != NULL && qlen > 10 && qlen + 8 <= sizeof(buf));
	if (q != NULL && qlen > 10 && qlen + 8 <= sizeof(buf)) {
		check_rejected_bytes(t, q, qlen - 1, bad_format);        /* truncated */
		check_rejected_bytes(t, q, qlen / 2, bad_format);
		memcpy(buf, q, qlen);
		memcpy(buf + qlen, "\x05\x00", 2);                        /* trailing NULL */
		check_rejected_bytes(t, buf, qlen + 2, bad_format);
		memcpy(buf, q, qlen);
		buf[1] = (uint8_t)(buf[1] + 1);                          /* length too long */
		check_rejected_bytes(t, buf, qlen, bad_format);
	}
	free(q);
	/* Well-formed DER, but a certificate and not a query. */
	CHECK(OSSL(NULL, "x509", "-in", "gen/tsa.crt", "-outform", "DER", "-out", "crt.der") == 0);
	check_rejected_file(t, "crt.der", bad_format);
	/* An oversized query is not parsed at all. */
	{
		uint8_t *big = calloc(1, SG_TSA_MAX_QUERY + 1);
		CHECK(big != NULL);
		if (big != NULL) {
			big[0] = 0x30;
			check_rejected_bytes(t, big, SG_TSA_MAX_QUERY + 1, bad_format);
		}
		free(big);
	}

	/* Hashes too weak to stamp. */
	CHECK(OSSL(NULL, "ts", "-query", "-data", "data.txt", "-sha1", "-out", "sha1.tsq") == 0);
	check_rejected_file(t, "sha1.tsq", bad_alg);
	CHECK(OSSL(NULL, "ts", "-query", "-data", "data.txt", "-md5", "-out", "md5.tsq") == 0);
	check_rejected_file(t, "md5.tsq", bad_alg);
	/* A policy we do not stamp under. */
	CHECK(OSSL(NULL, "ts", "-query", "-data", "data.txt", "-sha256", "-tspolicy",
	    "1.2.3.4.5", "-out", "pol.tsq") == 0);
	check_rejected_file(t, "pol.tsq", "the requested TSA policy is not supported by the TSA");

	/* Digest of the wrong length, version 2, an extension. */
	n = custom_query(buf, sizeof(buf), 1, EVP_sha256(), 20, 0);
	CHECK(n > 0);
	check_rejected_bytes(t, buf, n, bad_format);
	n = custom_query(buf, sizeof(buf), 2, EVP_sha256(), 32, 0);
	CHECK(n > 0);
	check_rejected_bytes(t, buf, n, "transaction not permitted or supported");
	n = custom_query(buf, sizeof(buf), 1, EVP_sha256(), 32, 1);
	CHECK(n > 0);
	check_rejected_bytes(t, buf, n, "the requested extension is not supported by the TSA");
	/* The control: the same builder makes a query that is granted. */
	n = custom_query(buf, sizeof(buf), 1, EVP_sha256(), 32, 0);
	CHECK(n > 0 && write_bytes("custom.tsq", buf, n));
	CHECK_RC(respond_file(t, "custom.tsq", "custom.tsr"), SG_OK);
	CHECK(OSSL("custom.txt", "ts", "-reply", "-in", "custom.tsr", "-text") == 0);
	CHECK_HAS("custom.txt", "Status: Granted.");
}

/*
 * Mutated queries (bytes flipped, cut, inserted) must each get a reply that
 * parses as a TimeStampResp, granted or rejected, and nothing else: the
 * sanitizer build turns any memory error into a failure.
 */
static void
test_mutated(sg_tsa *t)
{
	size_t qlen = 0, n;
	uint8_t *q = read_all("good.tsq", &qlen);
	uint8_t buf[1024], rnd[4];
	int granted = 0, rejected = 0, bad = 0;

	CHECK(q != NULL && qlen < sizeof(buf) - 8);
	if (q == NULL || qlen >= sizeof(buf) - 8) {
		free(q);
		return;
	}
	for (int i = 0; i < 1500; i++) {
		uint8_t *reply = NULL;
		size_t rlen = 0;

		memcpy(buf, q, qlen);
		n = qlen;
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			break;
		switch (rnd[0] % 3) {
		case 0:
			buf[rnd[1] % n] ^= (uint8_t)(1u << (rnd[2] % 8));
			break;
		case 1:
			n = rnd[1] % n;
			break;
		default:
			memmove(buf + (rnd[1] % n) + 1, buf + (rnd[1] % n), n - (rnd[1] % n));
			buf[rnd[1] % n] = rnd[2];
			n++;
			break;
		}
		if (sg_tsa_respond(t, buf, n, &reply, &rlen) != SG_OK) {
			bad++;
			continue;
		}
		const unsigned char *p = reply;
		TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)rlen);
		long status = resp != NULL ?
		    ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp))) : -1;
		if (resp == NULL || p != reply + rlen)
			bad++;
		else if (status == TS_STATUS_GRANTED && TS_RESP_get_token(resp) != NULL)
			granted++;
		else if (status == TS_STATUS_REJECTION && TS_RESP_get_token(resp) == NULL)
			rejected++;
		else
			bad++;
		TS_RESP_free(resp);
		free(reply);
	}
	CHECK(bad == 0);
	CHECK(rejected > 500);
	CHECK(granted + rejected == 1500);
	free(q);
}

/* ---- serial numbers ---- */

struct stamper {
	sg_tsa *tsa;
	uint64_t serials[25];
	int failed;
};

static void *
stamper_run(void *arg)
{
	struct stamper *s = arg;
	for (size_t i = 0; i < 25; i++) {
		uint8_t *tok = NULL;
		size_t n = 0;
		if (stamp_sha256(s->tsa, &i, sizeof(i), &tok, &n) != SG_OK) {
			s->failed++;
			continue;
		}
		s->serials[i] = token_serial(tok, n);
		free(tok);
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* n sequential stamps; returns 1 when their serials strictly increase from above `after`. */
static int
stamps_increase(sg_tsa *t, int n, uint64_t after, uint64_t *last)
{
	uint64_t prev = after;
	int ok = 1;

	for (int i = 0; i < n; i++) {
		uint8_t *tok = NULL;
		size_t len = 0;
		if (stamp_sha256(t, &i, sizeof(i), &tok, &len) != SG_OK)
			return 0;
		uint64_t s = token_serial(tok, len);
		free(tok);
		if (s <= prev)
			ok = 0;
		prev = s;
	}
	*last = prev;
	return ok;
}

static void
test_serials(sg_tsa **tp)
{
	sg_tsa_config cfg = gen_config();
	struct stamper st[4];
	pthread_t th[4];
	uint64_t all[100], last = 0, last2 = 0, stored = 0;
	sg_tsa *t2 = NULL;
	int64_t v = 0;
	char *text;

	CHECK(stamps_increase(*tp, 40, 0, &last));
	for (int i = 0; i < 4; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		st[i].tsa = *tp;
		CHECK(pthread_create(&th[i], NULL, stamper_run, &st[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(st[i].failed == 0);
		memcpy(all + 25 * i, st[i].serials, sizeof(st[i].serials));
		/* Within one thread, later stamps have larger serials. */
		for (int k = 1; k < 25; k++)
			CHECK(st[i].serials[k] > st[i].serials[k - 1]);
	}
	qsort(all, 100, sizeof(all[0]), cmp_u64);
	CHECK(all[0] > last);
	for (int i = 1; i < 100; i++)
		CHECK(all[i] > all[i - 1]);

	/* Another open of the same serial file is refused while this one lives. */
	CHECK_RC(sg_tsa_open(&cfg, &t2), SG_ERR_CONFLICT);
	CHECK(t2 == NULL);

	/* Restart: the next cycle starts above everything the first handed out. */
	sg_tsa_close(*tp);
	*tp = NULL;
	text = (char *)read_all("gen/tsa.serial", NULL);
	CHECK(text != NULL);
	if (text != NULL) {
		text[strcspn(text, "\n")] = 0;
		CHECK(sg_parse_int64(text, 1, INT64_MAX, &v) == SG_OK);
	}
	stored = (uint64_t)v;
	free(text);
	CHECK(stored > all[99]);
	CHECK_RC(sg_tsa_open(&cfg, tp), SG_OK);
	if (*tp == NULL)
		return;
	CHECK(stamps_increase(*tp, 40, all[99], &last2));

	/* A serial file ahead of the clock is honoured, not overtaken. */
	{
		sg_tsa_config c2 = cfg;
		sg_tsa *t3 = NULL;
		char spath[256], ahead[32];
		uint64_t first = 0;
		uint64_t target = (uint64_t)sg_now_ms() * 1000u + 1000000000000ull;

		/* Same key and certificate, a serial file of its own: no conflict. */
		path_of(spath, sizeof(spath), "ahead.serial");
		c2.serial_path = spath;
		snprintf(ahead, sizeof(ahead), "%llu\n", (unsigned long long)target);
		CHECK(write_bytes("ahead.serial", ahead, strlen(ahead)));
		CHECK_RC(sg_tsa_open(&c2, &t3), SG_OK);
		if (t3 != NULL) {
			CHECK(stamps_increase(t3, 3, target - 1, &first));
			sg_tsa_close(t3);
		}
		/* A corrupt serial file stops the TSA rather than risk repeats. */
		CHECK(write_bytes("ahead.serial", "12x\n", 4));
		t3 = NULL;
		CHECK_RC(sg_tsa_open(&c2, &t3), SG_ERR_INVALID_ARGUMENT);
		CHECK(t3 == NULL);
	}
}

/* A stand-in for the store's sequence: counts up from 5000, or fails with `fail`. */
struct ext_serial {
	pthread_mutex_t mu;
	uint64_t next;
	int fail;
	int calls;
};

static int
ext_serial_next(void *arg, uint64_t *out)
{
	struct ext_serial *e = arg;
	int r = SG_OK;
	pthread_mutex_lock(&e->mu);
	e->calls++;
	if (e->fail != SG_OK)
		r = e->fail;
	else
		*out = e->next++;
	pthread_mutex_unlock(&e->mu);
	return r;
}

/*
 * Serials from sg_tsa_config.serial_next (the PostgreSQL sequence): every
 * token carries the callback's number, no serial file is read, written or
 * locked (so it does not conflict with the open TSA that holds the file),
 * and a failing callback fails the stamp with its error.
 */
static void
test_external_serials(void)
{
	sg_tsa_config c = gen_config();
	struct ext_serial e = { .next = 5000, .fail = SG_OK };
	sg_tsa *t = NULL;
	uint8_t *tok = NULL;
	size_t len = 0;

	pthread_mutex_init(&e.mu, NULL);
	c.serial_path = NULL;
	c.serial_next = ext_serial_next;
	c.serial_arg = &e;
	CHECK_RC(sg_tsa_open(&c, &t), SG_OK);
	if (t == NULL)
		return;
	for (int i = 0; i < 3; i++) {
		CHECK_RC(stamp_sha256(t, &i, sizeof(i), &tok, &len), SG_OK);
		CHECK(tok != NULL && token_serial(tok, len) == 5000u + (uint64_t)i);
		free(tok);
		tok = NULL;
	}
	CHECK(e.calls == 3);
	e.fail = SG_ERR_UNAVAILABLE;
	CHECK_RC(stamp_sha256(t, "x", 1, &tok, &len), SG_ERR_UNAVAILABLE);
	CHECK(tok == NULL);
	e.fail = SG_OK;
	CHECK_RC(stamp_sha256(t, "y", 1, &tok, &len), SG_OK);
	CHECK(tok != NULL && token_serial(tok, len) == 5003u);
	free(tok);
	sg_tsa_close(t);
	/*
	 * Opening with the callback succeeded while the running TSA holds the
	 * serial file's lock, so the file was not used; without it, the lock is still held.
	 */
	c.serial_next = NULL;
	t = NULL;
	CHECK_RC(sg_tsa_open(&c, &t), SG_ERR_CONFLICT);
	sg_tsa_close(t);
	pthread_mutex_destroy(&e.mu);
}

/* ---- tokens for signatures (timestamp: true) ---- */

static void
test_stamp(sg_tsa *t)
{
	uint8_t sig[96], other[96], h[64], *tok = NULL;
	size_t toklen = 0;
	char err[256];
	unsigned int hl = 0;
	const char *pem = sg_tsa_cert_chain_pem(t);

	CHECK(RAND_bytes(sig, sizeof(sig)) == 1);
	memcpy(other, sig, sizeof(other));
	other[95] ^= 1;
	CHECK(write_bytes("sig.bin", sig, sizeof(sig)));
	CHECK(write_bytes("other.bin", other, sizeof(other)));

	CHECK_RC(stamp_sha256(t, sig, sizeof(sig), &tok, &toklen), SG_OK);
	CHECK(tok != NULL && write_bytes("token.der", tok, toklen));
	CHECK(OSSL("verify.txt", "ts", "-verify", "-in", "token.der", "-token_in", "-data",
	    "sig.bin", "-CAfile", "gen/tsa.crt") == 0);
	CHECK_HAS("verify.txt", "Verification: OK");
	CHECK(OSSL("verify.txt", "ts", "-verify", "-in", "token.der", "-token_in", "-data",
	    "other.bin", "-CAfile", "gen/tsa.crt") != 0);
	CHECK(OSSL("token.txt", "ts", "-reply", "-in", "token.der", "-token_in", "-text") == 0);
	CHECK_HAS("token.txt", "Hash Algorithm: sha256");
	CHECK_HAS("token.txt", "Nonce: 0x");
	CHECK_HAS("token.txt", "Accuracy: 0x01 seconds");

	/* The token carries our certificate, not the stand-in OpenSSL signed with. */
	if (tok != NULL) {
		const unsigned char *p = tok;
		PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)toklen);
		BIO *bio = BIO_new_mem_buf(gen_cert, -1);
		X509 *ours = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		STACK_OF(X509) *in = p7 != NULL && PKCS7_type_is_signed(p7) ? p7->d.sign->cert : NULL;
		CHECK(ours != NULL && sk_X509_num(in) == 1 &&
		    X509_cmp(sk_X509_value(in, 0), ours) == 0);
		X509_free(ours);
		BIO_free(bio);
		PKCS7_free(p7);
	}
	if (tok != NULL) {
		CHECK_RC(sg_tsa_verify_token(tok, toklen, sig, sizeof(sig), pem, err, sizeof(err)),
		    SG_OK);
		CHECK(err[0] == 0);
		CHECK_RC(sg_tsa_verify_token(tok, toklen, other, sizeof(other), pem, err,
		    sizeof(err)), SG_ERR_BAD_SIGNATURE);
		CHECK(strstr(err, "imprint") != NULL);
		CHECK_RC(sg_tsa_verify_token(tok, toklen, sig, sizeof(sig), "", err, sizeof(err)),
		    SG_ERR_BAD_ENCODING);
		CHECK_RC(sg_tsa_verify_token(tok, toklen - 1, sig, sizeof(sig), pem, err,
		    sizeof(err)), SG_ERR_BAD_ENCODING);
		tok[toklen - 5] ^= 0x01;   /* inside the signature */
		CHECK(sg_tsa_verify_token(tok, toklen, sig, sizeof(sig), pem, err, sizeof(err)) !=
		    SG_OK);
		CHECK(err[0] != 0);
	}
	free(tok);
	tok = NULL;

	/* Other accepted hashes, checked by the command line too. */
	const EVP_MD *mds[] = { EVP_sha384(), EVP_sha512(), EVP_sha3_256(), EVP_sha3_512() };
	for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
		CHECK(EVP_Digest(sig, sizeof(sig), h, &hl, mds[i], NULL) == 1);
		CHECK_RC(sg_tsa_stamp(t, mds[i], h, hl, &tok, &toklen), SG_OK);
		if (tok == NULL)
			continue;
		CHECK_RC(sg_tsa_verify_token(tok, toklen, sig, sizeof(sig), pem, err,
		    sizeof(err)), SG_OK);
		CHECK(write_bytes("token2.der", tok, toklen));
		CHECK(OSSL(NULL, "ts", "-verify", "-in", "token2.der", "-token_in", "-data",
		    "sig.bin", "-CAfile", "gen/tsa.crt") == 0);
		free(tok);
		tok = NULL;
	}

	/* Refused inputs leave the outputs alone. */
	CHECK(EVP_Digest(sig, sizeof(sig), h, &hl, EVP_sha1(), NULL) == 1);
	CHECK_RC(sg_tsa_stamp(t, EVP_sha1(), h, hl, &tok, &toklen), SG_ERR_UNSUPPORTED_HASH);
	CHECK_RC(sg_tsa_stamp(t, EVP_md5(), h, 16, &tok, &toklen), SG_ERR_UNSUPPORTED_HASH);
	CHECK_RC(sg_tsa_stamp(t, EVP_sha256(), h, 31, &tok, &toklen), SG_ERR_DIGEST_LENGTH);
	CHECK_RC(sg_tsa_stamp(t, EVP_sha256(), NULL, 32, &tok, &toklen), SG_ERR_DIGEST_LENGTH);
	CHECK(tok == NULL);
}

/* ---- an issued certificate ---- */

static void
test_issued(sg_tsa *gen)
{
	static const char tsa_ext[] = "basicConstraints=CA:FALSE\n"
	    "keyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n";
	static const char noeku_ext[] = "keyUsage=critical,digitalSignature\n";
	static const char noncrit_ext[] = "extendedKeyUsage=timeStamping\n";
	static const char serverauth_ext[] = "extendedKeyUsage=critical,timeStamping,serverAuth\n";
	sg_tsa_config cfg = config_in("issued");
	char cert[256], key[256], chain[256], other[256], err[256];
	sg_tsa *t = NULL, *bad = NULL;
	uint8_t sig[48], *tok = NULL;
	size_t toklen = 0;
	char *ca_pem, *leaf_pem;

	CHECK(write_bytes("tsa.ext", tsa_ext, strlen(tsa_ext)));
	CHECK(write_bytes("noeku.ext", noeku_ext, strlen(noeku_ext)));
	CHECK(write_bytes("noncrit.ext", noncrit_ext, strlen(noncrit_ext)));
	CHECK(write_bytes("serverauth.ext", serverauth_ext, strlen(serverauth_ext)));
	CHECK(OSSL(NULL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
	    "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=Test TSA CA",
	    "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
	    "-addext", "keyUsage=critical,keyCertSign,cRLSign") == 0);
	CHECK(OSSL(NULL, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "issued.key",
	    "-out", "issued.csr", "-subj", "/CN=Issued TSA") == 0);
	CHECK(OSSL(NULL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
	    "-out", "stranger.key") == 0);
	const char *exts[] = { "tsa", "noeku", "noncrit", "serverauth" };
	for (size_t i = 0; i < 4; i++) {
		char ext[64], out[64];
		snprintf(ext, sizeof(ext), "%s.ext", exts[i]);
		snprintf(out, sizeof(out), "%s.crt", exts[i]);
		CHECK(OSSL(NULL, "x509", "-req", "-in", "issued.csr", "-CA", "ca.crt", "-CAkey",
		    "ca.key", "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", out) == 0);
	}

	path_of(cert, sizeof(cert), "tsa.crt");
	path_of(key, sizeof(key), "issued.key");
	path_of(chain, sizeof(chain), "ca.crt");
	cfg.cert_path = cert;
	cfg.key_path = key;
	cfg.chain_path = chain;
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_OK);
	if (t == NULL)
		return;
	/* Nothing is generated next to an issued certificate. */
	CHECK(access(cfg.data_dir, F_OK) == 0);
	path_of(other, sizeof(other), "issued/tsa.key");
	CHECK(access(other, F_OK) != 0);
	path_of(other, sizeof(other), "issued/tsa.crt");
	CHECK(access(other, F_OK) != 0);
	CHECK(count_of(sg_tsa_cert_chain_pem(t), "-----BEGIN CERTIFICATE-----") == 2);

	check_granted(t, "-sha256", 1, 1, "ca.crt", NULL, "CN = Issued TSA");
	CHECK(OSSL("certs.txt", "pkcs7", "-inform", "DER", "-in", "tok.der", "-print_certs") == 0);
	CHECK_HAS("certs.txt", "subject=CN = Test TSA CA");
	/* The self-signed TSA of the other instance does not vouch for this one. */
	CHECK(OSSL(NULL, "ts", "-verify", "-in", "r.tsr", "-queryfile", "q.tsq", "-CAfile",
	    "gen/tsa.crt") != 0);
	check_granted(t, "-sha512", 0, 1, "ca.crt", "tsa.crt", "CN = Issued TSA");

	CHECK(RAND_bytes(sig, sizeof(sig)) == 1);
	CHECK_RC(stamp_sha256(t, sig, sizeof(sig), &tok, &toklen), SG_OK);
	ca_pem = (char *)read_all("ca.crt", NULL);
	leaf_pem = (char *)read_all("tsa.crt", NULL);
	if (tok != NULL && ca_pem != NULL && leaf_pem != NULL) {
		CHECK_RC(sg_tsa_verify_token(tok, toklen, sig, sizeof(sig), ca_pem, err,
		    sizeof(err)), SG_OK);
		CHECK_RC(sg_tsa_verify_token(tok, toklen, sig, sizeof(sig), leaf_pem, err,
		    sizeof(err)), SG_OK);
		CHECK_RC(sg_tsa_verify_token(tok, toklen, sig, sizeof(sig), sg_tsa_cert_chain_pem(t),
		    err, sizeof(err)), SG_OK);
		CHECK_RC(sg_tsa_verify_token(tok, toklen, sig, sizeof(sig),
		    sg_tsa_cert_chain_pem(gen), err, sizeof(err)), SG_ERR_BAD_SIGNATURE);
		CHECK(err[0] != 0);
	}
	free(ca_pem);
	free(leaf_pem);
	free(tok);
	sg_tsa_close(t);

	/* Certificates a relying party would reject are refused at open. */
	const char *refused[] = { "noeku.crt", "noncrit.crt", "serverauth.crt" };
	for (size_t i = 0; i < 3; i++) {
		path_of(cert, sizeof(cert), refused[i]);
		bad = NULL;
		CHECK_RC(sg_tsa_open(&cfg, &bad), SG_ERR_INVALID_ARGUMENT);
		CHECK(bad == NULL);
		sg_tsa_close(bad);
	}
	/* A key that is not the certificate's. */
	path_of(cert, sizeof(cert), "tsa.crt");
	path_of(key, sizeof(key), "stranger.key");
	CHECK_RC(sg_tsa_open(&cfg, &bad), SG_ERR_INVALID_ARGUMENT);
	CHECK(bad == NULL);
	/* A certificate without its key. */
	cfg.key_path = NULL;
	CHECK_RC(sg_tsa_open(&cfg, &bad), SG_ERR_INVALID_ARGUMENT);
	CHECK(bad == NULL);
	/* A CA certificate (no EKU, CA:TRUE) with its own key. */
	path_of(cert, sizeof(cert), "ca.crt");
	path_of(key, sizeof(key), "ca.key");
	cfg.key_path = key;
	CHECK_RC(sg_tsa_open(&cfg, &bad), SG_ERR_INVALID_ARGUMENT);
	CHECK(bad == NULL);
}

/* ---- keystore keys: RSA, refusals ---- */

static void
test_keystore_keys(void)
{
	uint8_t *h = NULL, *h2 = NULL;
	size_t hl = 0, hl2 = 0;
	char *pem = NULL, *pem2 = NULL;
	sg_tsa_config cfg;
	sg_tsa *t = NULL;
	char *c1, *c2;

	/* RSA-3072, a policy of the operator's and sub-second accuracy. */
	CHECK_RC(sg_tsa_create_key(soft, SG_TSA_KEY_RSA_3072, &h, &hl, &pem), SG_OK);
	if (h == NULL || pem == NULL)
		return;
	cfg = keystore_config_in("rsa", SG_KEY_RSA_3072, h, hl, pem);
	cfg.policy_oid = "1.3.6.1.4.1.55555.7.1";
	cfg.accuracy_ms = 500;
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_OK);
	if (t == NULL)
		goto out;
	CHECK(OSSL("x509.txt", "x509", "-in", "rsa/tsa.crt", "-noout", "-text") == 0);
	CHECK_HAS("x509.txt", "Public-Key: (3072 bit)");
	CHECK_HAS("x509.txt", "Signature Algorithm: sha256WithRSAEncryption");
	CHECK_HAS("x509.txt", "X509v3 Extended Key Usage: critical");
	CHECK(OSSL(NULL, "verify", "-check_ss_sig", "-CAfile", "rsa/tsa.crt", "rsa/tsa.crt") == 0);
	CHECK(!dir_has("rsa", "PRIVATE KEY"));
	CHECK(OSSL(NULL, "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out",
	    "rsa.tsq") == 0);
	CHECK_RC(respond_file(t, "rsa.tsq", "rsa.tsr"), SG_OK);
	CHECK(OSSL("reply.txt", "ts", "-reply", "-in", "rsa.tsr", "-text") == 0);
	CHECK_HAS("reply.txt", "Policy OID: 1.3.6.1.4.1.55555.7.1\n");
	CHECK_HAS("reply.txt", "Accuracy: unspecified seconds, 0x01F4 millis");
	/* Sub-second accuracy comes with a genTime that has milliseconds. */
	{
		char when[96];
		CHECK(field_of("reply.txt", "Time stamp: ", when, sizeof(when)));
		CHECK(strchr(when, '.') != NULL);
	}
	CHECK(OSSL("verify.txt", "ts", "-verify", "-in", "rsa.tsr", "-queryfile", "rsa.tsq",
	    "-CAfile", "rsa/tsa.crt") == 0);
	CHECK_HAS("verify.txt", "Verification: OK");
	/* The EC TSA's certificate does not vouch for the RSA key's tokens. */
	CHECK(OSSL(NULL, "ts", "-verify", "-in", "rsa.tsr", "-queryfile", "rsa.tsq",
	    "-CAfile", "gen/tsa.crt") != 0);
	sg_tsa_close(t);
	t = NULL;

	/* Reopening keeps the certificate, and tsa.crt is rewritten when it differs. */
	c1 = (char *)read_all("rsa/tsa.crt", NULL);
	CHECK(write_bytes("rsa/tsa.crt", "stale\n", 6));
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_OK);
	c2 = (char *)read_all("rsa/tsa.crt", NULL);
	CHECK(c1 != NULL && c2 != NULL && strcmp(c1, c2) == 0 && strcmp(c1, pem) == 0);
	CHECK(t != NULL && strcmp(sg_tsa_cert_chain_pem(t), pem) == 0);
	free(c1);
	free(c2);
	sg_tsa_close(t);
	t = NULL;

	/* A second EC key: its handle does not go with the first key's certificate. */
	CHECK_RC(sg_tsa_create_key(soft, SG_TSA_KEY_EC_P256, &h2, &hl2, &pem2), SG_OK);
	CHECK(pem2 != NULL && strcmp(pem2, gen_cert) != 0);
	cfg = keystore_config_in("mix", SG_KEY_EC_P256, h2, hl2, gen_cert);
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_INVALID_ARGUMENT);
	CHECK(t == NULL);
	/* An RSA handle under the EC certificate: refused too. */
	cfg = keystore_config_in("mix", SG_KEY_RSA_3072, h, hl, gen_cert);
	CHECK(sg_tsa_open(&cfg, &t) != SG_OK);
	CHECK(t == NULL);
	/* The seal binds the handle to "tsa/1": under another version id it does not open. */
	cfg = keystore_config_in("mix", SG_KEY_EC_P256, h2, hl2, pem2);
	cfg.keystore_key.version_id = "tsa/2";
	CHECK(sg_tsa_open(&cfg, &t) != SG_OK);
	CHECK(t == NULL);
	/* A handle that is not a sealed key. */
	cfg = keystore_config_in("mix", SG_KEY_EC_P256, (const uint8_t *)"SGK1garbage", 11, pem2);
	CHECK(sg_tsa_open(&cfg, &t) != SG_OK);
	CHECK(t == NULL);
	/* The control: the right handle with its certificate opens. */
	cfg = keystore_config_in("mix", SG_KEY_EC_P256, h2, hl2, pem2);
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_OK);
	sg_tsa_close(t);
	t = NULL;
	/* Algorithms that make no RFC 3161 token here, junk certificates, mixed sources. */
	cfg.keystore_key.alg = SG_KEY_ED25519;
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_UNSUPPORTED_ALGORITHM);
	cfg.keystore_key.alg = SG_KEY_EC_P256;
	cfg.keystore_cert_pem = "not a certificate";
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_INVALID_ARGUMENT);
	cfg.keystore_cert_pem = NULL;
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_INVALID_ARGUMENT);
	cfg.keystore_cert_pem = pem2;
	cfg.cert_path = "x.crt";
	cfg.key_path = "x.key";
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_INVALID_ARGUMENT);
	CHECK(t == NULL);
	{
		uint8_t *hx = NULL;
		size_t hlx = 0;
		char *px = NULL;
		CHECK_RC(sg_tsa_create_key(soft, (sg_tsa_key_type)42, &hx, &hlx, &px),
		    SG_ERR_INVALID_ARGUMENT);
		CHECK_RC(sg_tsa_create_key(NULL, SG_TSA_KEY_EC_P256, &hx, &hlx, &px),
		    SG_ERR_INVALID_ARGUMENT);
		CHECK(hx == NULL && px == NULL);
	}
out:
	free(h);
	free(pem);
	free(h2);
	free(pem2);
}

/* ---- the clear tsa.key of older versions, and bad configurations ---- */

static void
test_legacy_and_config(void)
{
	sg_tsa_config cfg = config_in("legacy");
	sg_tsa *t = NULL;
	size_t n1 = 0, n2 = 0;
	uint8_t *k1, *k2, *c1, *c2;
	char path[256];

	/* Without any key, nothing is generated in clear. */
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_NOT_FOUND);
	CHECK(t == NULL);
	path_of(path, sizeof(path), "legacy/tsa.key");
	CHECK(access(path, F_OK) != 0);

	/* A key an older version left behind (no certificate yet) is used. */
	CHECK(OSSL(NULL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
	    "-out", "legacy/tsa.key") == 0);
	CHECK(chmod(path, 0600) == 0);
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_OK);
	if (t == NULL)
		return;
	CHECK(OSSL(NULL, "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out",
	    "legacy.tsq") == 0);
	CHECK_RC(respond_file(t, "legacy.tsq", "legacy.tsr"), SG_OK);
	CHECK(OSSL("verify.txt", "ts", "-verify", "-in", "legacy.tsr", "-queryfile", "legacy.tsq",
	    "-CAfile", "legacy/tsa.crt") == 0);
	CHECK_HAS("verify.txt", "Verification: OK");
	sg_tsa_close(t);
	t = NULL;

	/* Reopening keeps the key and certificate. */
	k1 = read_all("legacy/tsa.key", &n1);
	c1 = read_all("legacy/tsa.crt", NULL);
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_OK);
	sg_tsa_close(t);
	t = NULL;
	c2 = read_all("legacy/tsa.crt", NULL);
	CHECK(c1 != NULL && c2 != NULL && strcmp((char *)c1, (char *)c2) == 0);
	free(c2);

	/* A key others can read is refused, as master.key is. */
	CHECK(chmod(path, 0644) == 0);
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_PERMISSION_DENIED);
	CHECK(t == NULL);
	CHECK(chmod(path, 0600) == 0);

	/* A key without its certificate gets a new certificate for the same key. */
	path_of(path, sizeof(path), "legacy/tsa.crt");
	CHECK(unlink(path) == 0);
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_OK);
	sg_tsa_close(t);
	t = NULL;
	k2 = read_all("legacy/tsa.key", &n2);
	c2 = read_all("legacy/tsa.crt", NULL);
	CHECK(k1 != NULL && k2 != NULL && n1 == n2 && memcmp(k1, k2, n1) == 0);
	CHECK(c2 != NULL && c1 != NULL && strcmp((char *)c1, (char *)c2) != 0);
	CHECK(OSSL(NULL, "x509", "-in", "legacy/tsa.crt", "-noout", "-checkend", "86400") == 0);
	free(k1);
	free(k2);
	free(c1);
	free(c2);

	/* A certificate without its key is refused, and no key is made. */
	path_of(path, sizeof(path), "legacy/tsa.key");
	CHECK(unlink(path) == 0);
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_NOT_FOUND);
	CHECK(t == NULL);
	CHECK(access(path, F_OK) != 0);

	/* Bad configurations. */
	cfg = gen_config();
	cfg.policy_oid = "not-an-oid";
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_INVALID_ARGUMENT);
	cfg.policy_oid = "";
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_INVALID_ARGUMENT);
	cfg.policy_oid = NULL;
	cfg.data_dir = NULL;
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_ERR_INVALID_ARGUMENT);
	CHECK(t == NULL);
}

int
main(void)
{
	sg_tsa_config cfg;
	sg_tsa *t = NULL;
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sg-tsa-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	sg_log_set_level(SG_LOG_ERROR);
	snprintf(cmd, sizeof(cmd), "%s/master.key", tmpdir);
	/*
	 * No cache: the tests make several TSA keys under the one version id
	 * "tsa/1" in this keystore, which a server never does.
	 */
	CHECK_RC(sg_keystore_soft_open(cmd, 0, &soft), SG_OK);
	if (soft == NULL)
		return 1;
	CHECK_RC(sg_tsa_create_key(soft, SG_TSA_KEY_EC_P256, &gen_handle, &gen_handle_len,
	    &gen_cert), SG_OK);
	cfg = gen_config();
	CHECK_RC(sg_tsa_open(&cfg, &t), SG_OK);
	if (t != NULL) {
		test_generated_files(t);
		test_granted(t);
		test_rejected(t);
		test_mutated(t);
		test_stamp(t);
		test_serials(&t);
		test_external_serials();
	}
	if (t != NULL) {
		test_issued(t);
		test_keystore_keys();
		test_legacy_and_config();
	}
	sg_tsa_close(t);
	sg_keystore_close(soft);
	free(gen_handle);
	free(gen_cert);

	if (failures == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	} else {
		fprintf(stderr, "files kept in %s\n", tmpdir);
	}
	printf("tsa: %d checks, %d failures\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
