/*
 * test_cli_unit.c - the CLI's pieces that need no server: streaming file
 * hashing (correct digests across chunk boundaries, bounded memory on a file
 * far larger than the read buffer), key-algorithm detection from SPKI, PEM
 * loading, offline verification of the post-quantum keys OpenSSL 3.0 cannot
 * parse, the option parser's rules, terminal-safe output, the pieces of
 * `requests wait`, the audit export's JSON Lines, RFC 3161 queries, replies
 * and tokens against signetd's own TSA module, and certificate chain checks.
 *
 * Each check counts; any failure makes the program exit non-zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "sg_cli.h"
#include "sg_tsa.h"

static int failures, checks;

#define CHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

static char tmpdir[] = "/tmp/signet-cli-unit-XXXXXX";

static void
path_in_tmp(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void
write_bytes(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* ---- hashing ---- */

struct progress_log {
	unsigned calls;
	uint64_t last_done, total;
	uint64_t max_step;
};

static void
log_progress(uint64_t done, uint64_t total, void *arg)
{
	struct progress_log *l = arg;

	if (done - l->last_done > l->max_step)
		l->max_step = done - l->last_done;
	l->calls++;
	l->last_done = done;
	l->total = total;
}

static void
test_known_answers(void)
{
	/* SHA-256("abc"), SHA-512(""), FIPS 180-2 / well known. */
	static const uint8_t sha256_abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
		0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	static const uint8_t sha512_empty_head[8] = {
		0xcf, 0x83, 0xe1, 0x35, 0x7e, 0xef, 0xb8, 0xbd,
	};
	char path[256];
	uint8_t d[SG_MAX_DIGEST];
	size_t dlen = 0;

	path_in_tmp(path, sizeof(path), "abc");
	write_bytes(path, (const uint8_t *)"abc", 3);
	CHECK(sg_cli_hash_file(path, SG_HASH_SHA256, NULL, NULL, d, &dlen) == SG_OK);
	CHECK(dlen == 32 && memcmp(d, sha256_abc, 32) == 0);

	path_in_tmp(path, sizeof(path), "empty");
	write_bytes(path, NULL, 0);
	CHECK(sg_cli_hash_file(path, SG_HASH_SHA512, NULL, NULL, d, &dlen) == SG_OK);
	CHECK(dlen == 64 && memcmp(d, sha512_empty_head, 8) == 0);
}

/* Files around the chunk size: the streamed digest equals a one-shot digest. */
static void
test_chunk_boundaries(void)
{
	const size_t sizes[] = {
		1, SG_CLI_READ_CHUNK - 1, SG_CLI_READ_CHUNK, SG_CLI_READ_CHUNK + 1,
		3 * SG_CLI_READ_CHUNK + 17,
	};
	const sg_hash_alg hashes[] = { SG_HASH_SHA256, SG_HASH_SHA384, SG_HASH_SHA3_512 };
	char path[256];

	path_in_tmp(path, sizeof(path), "chunks");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *data = malloc(n);
		if (data == NULL || RAND_bytes(data, (int)n) != 1)
			exit(2);
		write_bytes(path, data, n);
		for (size_t j = 0; j < sizeof(hashes) / sizeof(hashes[0]); j++) {
			uint8_t want[EVP_MAX_MD_SIZE], got[SG_MAX_DIGEST];
			unsigned wlen = 0;
			size_t glen = 0;
			struct progress_log log = { 0, 0, 0, 0 };

			CHECK(EVP_Digest(data, n, want, &wlen, sg_hash_md(hashes[j]), NULL) == 1);
			CHECK(sg_cli_hash_file(path, hashes[j], log_progress, &log, got, &glen) == SG_OK);
			CHECK(glen == wlen && memcmp(got, want, wlen) == 0);
			/* One callback per chunk, never more than a chunk at a time. */
			CHECK(log.calls == (n + SG_CLI_READ_CHUNK - 1) / SG_CLI_READ_CHUNK);
			CHECK(log.last_done == n && log.total == n);
			CHECK(log.max_step <= SG_CLI_READ_CHUNK);
		}
		free(data);
	}
}

static long
max_rss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss;
}

/*
 * A 256 MiB (sparse) file hashes correctly while the peak resident size
 * grows by far less than the file: the hash streams instead of loading or
 * mapping the file.
 */
static void
test_constant_memory(void)
{
	const uint64_t size = 256ull * 1024 * 1024;
	const long allowed_growth_kib = 32 * 1024;
	char path[256];
	int fd;
	uint8_t got[SG_MAX_DIGEST], want[EVP_MAX_MD_SIZE];
	unsigned wlen = 0;
	size_t glen = 0;
	long before, after;
	struct progress_log log = { 0, 0, 0, 0 };
	uint8_t *zeros = calloc(1, SG_CLI_READ_CHUNK);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (zeros == NULL || ctx == NULL)
		exit(2);
	/* Reference digest of 256 MiB of zeros, computed without any file. */
	CHECK(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1);
	for (uint64_t done = 0; done < size; done += SG_CLI_READ_CHUNK)
		CHECK(EVP_DigestUpdate(ctx, zeros, SG_CLI_READ_CHUNK) == 1);
	CHECK(EVP_DigestFinal_ex(ctx, want, &wlen) == 1);
	EVP_MD_CTX_free(ctx);
	free(zeros);

	path_in_tmp(path, sizeof(path), "big");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0 || close(fd) != 0) {
		perror(path);
		exit(2);
	}
	before = max_rss_kib();
	CHECK(sg_cli_hash_file(path, SG_HASH_SHA256, log_progress, &log, got, &glen) == SG_OK);
	after = max_rss_kib();
	CHECK(glen == 32 && memcmp(got, want, 32) == 0);
	CHECK(log.last_done == size && log.max_step <= SG_CLI_READ_CHUNK);
	fprintf(stderr, "constant memory: peak RSS %ld KiB before, %ld KiB after hashing "
	    "%llu MiB\n", before, after, (unsigned long long)(size >> 20));
	CHECK(before > 0 && after - before < allowed_growth_kib);
	unlink(path);
}

/* The progress line a person sees on a terminal. */
static void
test_progress_line(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		exit(2);
	sg_cli_progress_draw(f, 0, 0);
	sg_cli_progress_draw(f, 100ull << 20, 400ull << 20);
	sg_cli_progress_draw(f, 3ull << 30, 3ull << 30);
	fclose(f);
	CHECK(strstr(text, "\rhashing [       ") != NULL);
	CHECK(strstr(text, "[#######                       ]  25%  100.0/400.0 MiB") != NULL);
	CHECK(strstr(text, "[##############################] 100%  3.0/3.0 GiB") != NULL);
	CHECK(strchr(text, '\n') == NULL);
	free(text);
}

static void
test_hash_errors(void)
{
	char path[256];
	uint8_t d[SG_MAX_DIGEST];
	size_t dlen = 12345;

	path_in_tmp(path, sizeof(path), "does-not-exist");
	sg_cli_err_clear();
	CHECK(sg_cli_hash_file(path, SG_HASH_SHA256, NULL, NULL, d, &dlen) == SG_ERR_IO);
	CHECK(dlen == 12345);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "cannot open") != NULL);
	sg_cli_err_clear();
	CHECK(sg_cli_hash_file(tmpdir, SG_HASH_SHA256, NULL, NULL, d, &dlen) == SG_ERR_IO);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "directory") != NULL);
	sg_cli_err_clear();
	CHECK(sg_cli_hash_file(path, SG_HASH_NONE, NULL, NULL, d, &dlen) ==
	    SG_ERR_UNSUPPORTED_HASH);
	sg_cli_err_clear();
}

/* ---- public keys ---- */

static EVP_PKEY *
gen_key(const char *type, const char *param, int bits)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1)
		exit(2);
	if (param != NULL && EVP_PKEY_CTX_set_group_name(ctx, param) != 1)
		exit(2);
	if (bits > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) != 1)
		exit(2);
	if (EVP_PKEY_keygen(ctx, &pkey) != 1)
		exit(2);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* SPKI DER of pkey into a malloc'd buffer. */
static uint8_t *
spki_of(EVP_PKEY *pkey, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pkey, &der);
	uint8_t *copy;

	if (n <= 0 || (copy = malloc((size_t)n)) == NULL)
		exit(2);
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return copy;
}

static void
test_key_algorithms(void)
{
	struct {
		const char *type, *group;
		int bits;
		sg_key_alg want;
	} cases[] = {
		{ "RSA", NULL, 2048, SG_KEY_RSA_2048 },
		{ "RSA", NULL, 1024, SG_KEY_NONE },  /* not a Signet key size */
		{ "EC", "P-256", 0, SG_KEY_EC_P256 },
		{ "EC", "P-384", 0, SG_KEY_EC_P384 },
		{ "EC", "P-521", 0, SG_KEY_EC_P521 },
		{ "EC", "secp256k1", 0, SG_KEY_NONE },
		{ "ED25519", NULL, 0, SG_KEY_ED25519 },
	};
	/* SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.3.18 }, BIT STRING {00 + 4 bytes} }. */
	uint8_t mldsa[] = {
		0x30, 0x14, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
		0x04, 0x03, 0x12, 0x03, 0x05, 0x00, 0xde, 0xad, 0xbe, 0xef,
	};
	uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *pkey = gen_key(cases[i].type, cases[i].group, cases[i].bits);
		size_t len = 0;
		uint8_t *spki = spki_of(pkey, &len);
		sg_key_alg got = sg_cli_spki_key_alg(spki, len);
		if (got != cases[i].want)
			fprintf(stderr, "case %zu: got %d want %d\n", i, (int)got, (int)cases[i].want);
		CHECK(got == cases[i].want);
		/* Trailing bytes after the SPKI are refused, not ignored. */
		uint8_t *longer = malloc(len + 1);
		if (longer == NULL)
			exit(2);
		memcpy(longer, spki, len);
		longer[len] = 0;
		CHECK(sg_cli_spki_key_alg(longer, len + 1) == SG_KEY_NONE);
		free(longer);
		free(spki);
		EVP_PKEY_free(pkey);
	}
	CHECK(sg_cli_spki_key_alg(mldsa, sizeof(mldsa)) == SG_KEY_MLDSA_65);
	mldsa[14] = 0x13;
	CHECK(sg_cli_spki_key_alg(mldsa, sizeof(mldsa)) == SG_KEY_MLDSA_87);
	mldsa[14] = 0x11;
	CHECK(sg_cli_spki_key_alg(mldsa, sizeof(mldsa)) == SG_KEY_MLDSA_44);
	mldsa[14] = 0x7f;
	CHECK(sg_cli_spki_key_alg(mldsa, sizeof(mldsa)) == SG_KEY_NONE);
	CHECK(sg_cli_spki_key_alg(junk, sizeof(junk)) == SG_KEY_NONE);
	CHECK(sg_cli_spki_key_alg(NULL, 0) == SG_KEY_NONE);
}

/* PEM public keys and certificates give the same SPKI. */
static void
test_pem_loading(void)
{
	EVP_PKEY *pkey = gen_key("EC", "P-256", 0);
	X509 *cert = X509_new();
	BIO *bio = BIO_new(BIO_s_mem());
	size_t want_len = 0, got_len = 0;
	uint8_t *want = spki_of(pkey, &want_len), *got = NULL;
	char *text = NULL;
	long n;

	if (cert == NULL || bio == NULL)
		exit(2);
	/* A minimal self-signed certificate over the key. */
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
	    (const unsigned char *)"signet test", -1, -1, 0);
	X509_set_issuer_name(cert, X509_get_subject_name(cert));
	X509_set_pubkey(cert, pkey);
	if (X509_sign(cert, pkey, EVP_sha256()) <= 0)
		exit(2);

	/* Junk before the block, a certificate first: its key is taken. */
	BIO_puts(bio, "some text that is not PEM\n");
	PEM_write_bio_X509(bio, cert);
	n = BIO_get_mem_data(bio, &text);
	CHECK(sg_cli_spki_from_pem(text, (size_t)n, &got, &got_len) == SG_OK);
	CHECK(got_len == want_len && memcmp(got, want, want_len) == 0);
	free(got);
	got = NULL;

	(void)BIO_reset(bio);
	PEM_write_bio_PUBKEY(bio, pkey);
	n = BIO_get_mem_data(bio, &text);
	CHECK(sg_cli_spki_from_pem(text, (size_t)n, &got, &got_len) == SG_OK);
	CHECK(got_len == want_len && memcmp(got, want, want_len) == 0);
	free(got);
	got = NULL;

	sg_cli_err_clear();
	CHECK(sg_cli_spki_from_pem("no pem here", 11, &got, &got_len) == SG_ERR_BAD_ENCODING);
	CHECK(got == NULL && sg_cli_errmsg() != NULL);
	sg_cli_err_clear();

	free(want);
	BIO_free(bio);
	X509_free(cert);
	EVP_PKEY_free(pkey);
}

/*
 * ML-DSA and the composite cannot be parsed by OpenSSL 3.0: the CLI must
 * still take their PEM, tell the algorithm from the OID and verify through
 * src/crypto, with and without a bundle's key_algorithm claim.
 */
static void
test_pq_offline_verify(void)
{
	const struct {
		sg_key_alg alg;
		sg_hash_alg hash;
		const char *scheme;
	} cases[] = {
		{ SG_KEY_MLDSA_65, SG_HASH_SHA256, NULL },
		{ SG_KEY_MLDSA_65, SG_HASH_SHA512, "ML-DSA-65" },
		{ SG_KEY_MLDSA_87, SG_HASH_SHA384, NULL },
		{ SG_KEY_MLDSA65_ECDSA_P256, SG_HASH_SHA512, NULL },
	};
	static const uint8_t context[] = { 'r', 'e', 'l', 'e', 'a', 's', 'e' };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sg_privkey *k = NULL;
		int r;
		uint8_t *spki = NULL, *pem_spki = NULL, *sig = NULL;
		size_t spki_len = 0, pem_spki_len = 0, sig_len = 0;
		char *pem = NULL;
		uint8_t digest[SG_MAX_DIGEST];
		size_t dlen = sg_hash_len(cases[i].hash);
		sg_sign_params p = { cases[i].hash, SG_SCHEME_NONE, SG_FORMAT_DEFAULT, -1,
		    context, sizeof(context), 0 };

		if (cases[i].scheme != NULL)
			p.scheme = sg_scheme_from_name(cases[i].scheme);
		if (cases[i].alg == SG_KEY_MLDSA65_ECDSA_P256)
			p.context_len = 0;
		if (RAND_bytes(digest, (int)dlen) != 1)
			exit(2);
		r = sg_privkey_generate(cases[i].alg, &k);
		CHECK(r == SG_OK);
		CHECK(k != NULL && sg_privkey_public_spki(k, &spki, &spki_len) == SG_OK);
		CHECK(spki != NULL && sg_spki_to_pem(spki, spki_len, &pem) == SG_OK);
		CHECK(pem != NULL && sg_sign_params_check(cases[i].alg, &p) == SG_OK);
		CHECK(sg_sign_digest(k, &p, digest, dlen, &sig, &sig_len) == SG_OK);
		if (pem == NULL || sig == NULL) {
			sg_privkey_free(k);
			free(spki);
			free(pem);
			free(sig);
			continue;
		}
		CHECK(sg_cli_spki_from_pem(pem, strlen(pem), &pem_spki, &pem_spki_len) == SG_OK);
		CHECK(pem_spki_len == spki_len && memcmp(pem_spki, spki, spki_len) == 0);
		CHECK(sg_cli_spki_key_alg(pem_spki, pem_spki_len) == cases[i].alg);

		sg_cli_verify_in in = {
			.key_algorithm = NULL,
			.signature_algorithm = cases[i].scheme,
			.context = p.context,
			.context_len = p.context_len,
			.hash = cases[i].hash,
			.digest = digest,
			.digest_len = dlen,
			.sig = sig,
			.sig_len = sig_len,
		};
		sg_cli_err_clear();
		CHECK(sg_cli_verify_spki(pem_spki, pem_spki_len, &in) == SG_OK);
		in.key_algorithm = sg_key_alg_name(cases[i].alg);
		CHECK(sg_cli_verify_spki(pem_spki, pem_spki_len, &in) == SG_OK);
		/* A claim that contradicts the key's OID is an invalid signature. */
		in.key_algorithm = cases[i].alg == SG_KEY_MLDSA_65 ? "ML-DSA-87" : "ML-DSA-65";
		CHECK(sg_cli_verify_spki(pem_spki, pem_spki_len, &in) == SG_ERR_BAD_SIGNATURE);
		in.key_algorithm = NULL;
		digest[0] ^= 1;
		sg_cli_err_clear();
		CHECK(sg_cli_verify_spki(pem_spki, pem_spki_len, &in) == SG_ERR_BAD_SIGNATURE);
		CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "does not match") != NULL);
		digest[0] ^= 1;
		if (p.context_len > 0) {
			in.context_len--;
			CHECK(sg_cli_verify_spki(pem_spki, pem_spki_len, &in) == SG_ERR_BAD_SIGNATURE);
		}
		sg_cli_err_clear();
		sg_privkey_free(k);
		free(spki);
		free(pem_spki);
		free(pem);
		free(sig);
	}
}

/* ---- option parsing ---- */

static int
parse(int argc, char **argv, const char **a, const char **b, const char **flag,
    const char **pos, size_t *npos)
{
	sg_cli_opt opts[] = {
		{ "alpha", 1, a }, { "beta", 1, b }, { "flag", 0, flag }, { NULL, 0, NULL },
	};
	*a = *b = *flag = NULL;
	sg_cli_err_clear();
	return sg_cli_parse(argc, argv, opts, NULL, pos, 2, npos);
}

static void
test_options(void)
{
	const char *a, *b, *flag, *pos[2];
	size_t npos = 0;
	char *ok[] = { "file", "--alpha", "1", "--beta=x=y", "--flag", "--", "--alpha" };
	char *twice[] = { "--alpha", "1", "--alpha=2" };
	char *unknown[] = { "--gamma", "1" };
	char *novalue[] = { "--alpha" };
	char *empty[] = { "--alpha=" };
	char *flagval[] = { "--flag=1" };
	char *shortopt[] = { "-a" };
	char *toomany[] = { "x", "y", "z" };

	CHECK(parse(7, ok, &a, &b, &flag, pos, &npos) == SG_OK);
	CHECK(npos == 2 && strcmp(pos[0], "file") == 0 && strcmp(pos[1], "--alpha") == 0);
	CHECK(a != NULL && strcmp(a, "1") == 0 && b != NULL && strcmp(b, "x=y") == 0);
	CHECK(flag != NULL);

	CHECK(parse(3, twice, &a, &b, &flag, pos, &npos) == SG_ERR_INVALID_ARGUMENT);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "twice") != NULL);
	CHECK(parse(2, unknown, &a, &b, &flag, pos, &npos) == SG_ERR_INVALID_ARGUMENT);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "--gamma") != NULL);
	CHECK(parse(1, novalue, &a, &b, &flag, pos, &npos) == SG_ERR_INVALID_ARGUMENT);
	CHECK(parse(1, empty, &a, &b, &flag, pos, &npos) == SG_ERR_INVALID_ARGUMENT);
	CHECK(parse(1, flagval, &a, &b, &flag, pos, &npos) == SG_ERR_INVALID_ARGUMENT);
	CHECK(parse(1, shortopt, &a, &b, &flag, pos, &npos) == SG_ERR_INVALID_ARGUMENT);
	CHECK(parse(3, toomany, &a, &b, &flag, pos, &npos) == SG_ERR_INVALID_ARGUMENT);

	/* The first message recorded is the one kept: it names the root cause. */
	sg_cli_err_clear();
	sg_cli_err("first %d", 1);
	sg_cli_err("second");
	CHECK(strcmp(sg_cli_errmsg(), "first 1") == 0);
	sg_cli_err_usage("keys list");
	CHECK(strcmp(sg_cli_errmsg(), "first 1 (see 'signet keys list --help')") == 0);
	sg_cli_err_clear();
	sg_cli_err("two\nlines");
	CHECK(strchr(sg_cli_errmsg(), '\n') == NULL);
	sg_cli_err_clear();

	char *esc = sg_cli_path_escape("my key/../x?y");
	CHECK(esc != NULL && strcmp(esc, "my%20key%2F..%2Fx%3Fy") == 0);
	free(esc);
}

/* ---- list options and messages ---- */

static void
test_list_options(void)
{
	const char *one = NULL, *many[SG_CLI_MAX_LIST + 1] = { NULL }, *pos[1];
	sg_cli_opt opts[] = {
		{ "one", 1, &one }, { "many", SG_CLI_OPT_LIST, many }, { NULL, 0, NULL },
	};
	char *ok[] = { "--many", "a", "--one", "x", "--many=b,c", "--many", "d" };
	char *too_many[2 * SG_CLI_MAX_LIST + 2];
	char *empty[] = { "--many=" };
	size_t npos = 0;

	sg_cli_err_clear();
	CHECK(sg_cli_parse(7, ok, opts, NULL, pos, 0, &npos) == SG_OK);
	CHECK(many[0] != NULL && strcmp(many[0], "a") == 0);
	CHECK(many[1] != NULL && strcmp(many[1], "b,c") == 0);
	CHECK(many[2] != NULL && strcmp(many[2], "d") == 0 && many[3] == NULL);
	CHECK(one != NULL && strcmp(one, "x") == 0);

	/* 64 values are fine; the 65th is a usage error naming the limit. */
	memset(many, 0, sizeof(many));
	for (int i = 0; i <= SG_CLI_MAX_LIST; i++) {
		too_many[2 * i] = "--many";
		too_many[2 * i + 1] = "v";
	}
	CHECK(sg_cli_parse(2 * SG_CLI_MAX_LIST, too_many, opts, NULL, pos, 0, &npos) == SG_OK);
	CHECK(many[SG_CLI_MAX_LIST - 1] != NULL && many[SG_CLI_MAX_LIST] == NULL);
	memset(many, 0, sizeof(many));
	CHECK(sg_cli_parse(2 * SG_CLI_MAX_LIST + 2, too_many, opts, NULL, pos, 0, &npos) ==
	    SG_ERR_INVALID_ARGUMENT);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "more than 64") != NULL);
	CHECK(many[SG_CLI_MAX_LIST] == NULL);
	sg_cli_err_clear();
	memset(many, 0, sizeof(many));
	CHECK(sg_cli_parse(1, empty, opts, NULL, pos, 0, &npos) == SG_ERR_INVALID_ARGUMENT);
	sg_cli_err_clear();
}

/* Text from the service never reaches the terminal as escape sequences. */
static void
test_terminal_safety(void)
{
	json_t *s = json_string("ok\x1b[31mred\xc2\x9b" "2J");
	char *text = sg_cli_safe_text(s), buf[64];

	CHECK(text != NULL && strchr(text, 0x1b) == NULL && strstr(text, "\\u001B") != NULL);
	CHECK(text != NULL && strstr(text, "\\u009B") != NULL && text[0] == '"');
	free(text);
	json_decref(s);

	sg_cli_err_clear();
	sg_cli_err("server says %s", "a\x1b[2Jb\xc2\x9b" "c\td");
	CHECK(sg_cli_errmsg() != NULL && strchr(sg_cli_errmsg(), 0x1b) == NULL);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "\xc2\x9b") == NULL);
	CHECK(sg_cli_errmsg() != NULL && strcmp(sg_cli_errmsg(), "server says a?[2Jb??c d") == 0);
	sg_cli_err_clear();

	sg_cli_plain(buf, sizeof(buf), "id\x07\xff-1");
	CHECK(strcmp(buf, "id?" "?-1") == 0);
	sg_cli_plain(buf, 4, "abcdef");
	CHECK(strcmp(buf, "abc") == 0);
}

/* ---- waiting for requests ---- */

static void
test_wait_pieces(void)
{
	unsigned ms = 0, seen[8];
	char line[256];
	json_t *rq;

	for (int i = 0; i < 8; i++)
		seen[i] = ms = sg_cli_backoff_next(ms);
	CHECK(seen[0] == 200 && seen[1] == 400 && seen[2] == 800 && seen[3] == 1600);
	CHECK(seen[4] == 2000 && seen[7] == 2000);

	CHECK(sg_cli_status_final("SIGNED") && sg_cli_status_final("FAILED"));
	CHECK(sg_cli_status_final("REJECTED") && sg_cli_status_final("DEAD_LETTER"));
	CHECK(!sg_cli_status_final("QUEUED") && !sg_cli_status_final("PENDING_APPROVAL"));
	CHECK(!sg_cli_status_final("PROCESSING") && !sg_cli_status_final(NULL));

	rq = json_pack("{s:s,s:i}", "status", "PENDING_APPROVAL", "approvals_required", 2);
	sg_cli_wait_line(line, sizeof(line), "r-1", rq, 1, 12);
	CHECK(strcmp(line, "request r-1: PENDING_APPROVAL, approvals 1/2, 12s") == 0);
	sg_cli_wait_line(line, sizeof(line), "r-1", rq, -1, 0);
	CHECK(strcmp(line, "request r-1: PENDING_APPROVAL, 2 approvals required, 0s") == 0);
	json_decref(rq);
	/* A queued request's error is the last retry's; a final one's is the outcome. */
	rq = json_pack("{s:s,s:s}", "status", "QUEUED", "error", "the key is not\x1b ONLINE");
	sg_cli_wait_line(line, sizeof(line), "r-2", rq, -1, 3);
	CHECK(strcmp(line, "request r-2: QUEUED (last error: the key is not? ONLINE), 3s") == 0);
	json_decref(rq);
	rq = json_pack("{s:s,s:s}", "status", "FAILED", "error", "boom");
	sg_cli_wait_line(line, sizeof(line), "r-3", rq, -1, 3);
	CHECK(strcmp(line, "request r-3: FAILED, 3s") == 0);

	sg_cli_err_clear();
	CHECK(sg_cli_request_outcome(rq) == SG_CLI_EXIT_INVALID);
	json_decref(rq);
	rq = json_pack("{s:s,s:s}", "id", "r-3", "status", "FAILED");
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "is FAILED: boom") != NULL);
	sg_cli_err_clear();
	json_decref(rq);
	rq = json_pack("{s:s,s:s}", "id", "r-4", "status", "REJECTED");
	CHECK(sg_cli_request_outcome(rq) == SG_CLI_EXIT_INVALID);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "approvals show r-4") != NULL);
	sg_cli_err_clear();
	json_decref(rq);
	rq = json_pack("{s:s,s:s}", "id", "r-5", "status", "SIGNED");
	CHECK(sg_cli_request_outcome(rq) == SG_CLI_EXIT_OK && sg_cli_errmsg() == NULL);
	json_decref(rq);
}

/* ---- audit export ---- */

static void
test_audit_page(void)
{
	char path[256], text[1024];
	json_t *page;
	int64_t next = -1;
	size_t count = 0, n;
	FILE *f;

	path_in_tmp(path, sizeof(path), "audit.jsonl");
	if ((f = fopen(path, "w+")) == NULL)
		exit(2);
	page = json_loads("{\"entries\":[{\"seq\":3,\"action\":\"key.created\",\"details\":{\"b\":1,\"a\":2}},"
	    "{\"seq\":4,\"action\":\"key.rotated\",\"details\":{}}],\"next_after\":4}",
	    JSON_PRESERVE_ORDER, NULL);
	CHECK(sg_cli_audit_write_page(f, page, 2, &next, &count) == SG_OK);
	CHECK(next == 4 && count == 2);
	json_decref(page);
	/* The last page is empty: next 0 ends the export. */
	page = json_loads("{\"entries\":[]}", 0, NULL);
	CHECK(sg_cli_audit_write_page(f, page, 4, &next, &count) == SG_OK);
	CHECK(next == 0 && count == 2);
	json_decref(page);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	CHECK(strcmp(text, "{\"seq\":3,\"action\":\"key.created\",\"details\":{\"b\":1,\"a\":2}}\n"
	    "{\"seq\":4,\"action\":\"key.rotated\",\"details\":{}}\n") == 0);

	/* Pages must move forward: a repeat or a step back would loop or duplicate. */
	page = json_loads("{\"entries\":[{\"seq\":4}]}", 0, NULL);
	CHECK(sg_cli_audit_write_page(f, page, 4, &next, &count) == SG_ERR_BAD_ENCODING);
	sg_cli_err_clear();
	json_decref(page);
	page = json_loads("{\"entries\":[{\"seq\":6},{\"seq\":5}]}", 0, NULL);
	CHECK(sg_cli_audit_write_page(f, page, 4, &next, &count) == SG_ERR_BAD_ENCODING);
	sg_cli_err_clear();
	json_decref(page);
	page = json_loads("{\"items\":[]}", 0, NULL);
	CHECK(sg_cli_audit_write_page(f, page, 0, &next, &count) == SG_ERR_BAD_ENCODING);
	sg_cli_err_clear();
	json_decref(page);
	fclose(f);
}

/* ---- time stamps ---- */

/* PEM text of a certificate, malloc'd. */
static char *
cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long n;

	if (b == NULL || PEM_write_bio_X509(b, x) != 1 || (n = BIO_get_mem_data(b, &p)) <= 0 ||
	    (out = strndup(p, (size_t)n)) == NULL)
		exit(2);
	BIO_free(b);
	return out;
}

/* A TSA in dir whose key is a keystore key of ks, made as signetd makes one. */
static int
open_keystore_tsa(sg_keystore *ks, const char *dir, sg_tsa **out)
{
	uint8_t *handle = NULL;
	size_t handle_len = 0;
	char *pem = NULL;
	sg_tsa_config cfg;
	int r;

	if ((r = sg_tsa_create_key(ks, SG_TSA_KEY_EC_P256, &handle, &handle_len, &pem)) != SG_OK)
		return r;
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.keystore = ks;
	cfg.keystore_key.alg = SG_KEY_EC_P256;
	cfg.keystore_key.handle = handle;
	cfg.keystore_key.handle_len = handle_len;
	cfg.keystore_cert_pem = pem;
	r = sg_tsa_open(&cfg, out);
	free(handle);
	free(pem);
	return r;
}

static void
test_timestamps(void)
{
	char dir1[256], dir2[256], mk[256], gen_time[64], subject[256];
	sg_keystore *ks = NULL;
	sg_tsa *tsa = NULL, *other = NULL;
	uint8_t sig[100], digest[32], *query = NULL, *reply = NULL, *token = NULL;
	size_t qlen = 0, rlen = 0, toklen = 0;
	const unsigned char *p;
	TS_REQ *parsed;

	RAND_bytes(sig, sizeof(sig));
	SHA256(sig, sizeof(sig), digest);
	path_in_tmp(dir1, sizeof(dir1), "tsa1");
	path_in_tmp(dir2, sizeof(dir2), "tsa2");
	path_in_tmp(mk, sizeof(mk), "master.key");
	/* No key cache: both TSA keys have the version id "tsa/1" in this one keystore. */
	if (sg_keystore_soft_open(mk, 0, &ks) != SG_OK || open_keystore_tsa(ks, dir1, &tsa) != SG_OK ||
	    open_keystore_tsa(ks, dir2, &other) != SG_OK)
		exit(2);

	/* The query: version 1, the digest, certReq, the nonce - as OpenSSL reads it. */
	CHECK(sg_cli_tsq_build(SG_HASH_SHA256, digest, 32, 0x0123456789abcdefull, &query,
	    &qlen) == SG_OK);
	p = query;
	parsed = d2i_TS_REQ(NULL, &p, (long)qlen);
	CHECK(parsed != NULL && p == query + qlen);
	if (parsed != NULL) {
		ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(parsed));
		uint64_t nonce = 0;
		CHECK(TS_REQ_get_version(parsed) == 1 && TS_REQ_get_cert_req(parsed) == 1);
		CHECK(ASN1_INTEGER_get_uint64(&nonce, TS_REQ_get_nonce(parsed)) == 1 &&
		    nonce == 0x0123456789abcdefull);
		CHECK(ASN1_STRING_length(msg) == 32 &&
		    memcmp(ASN1_STRING_get0_data(msg), digest, 32) == 0);
		TS_REQ_free(parsed);
	}
	CHECK(sg_cli_tsq_build(SG_HASH_SHA512, digest, 32, 1, &reply, &rlen) ==
	    SG_ERR_INVALID_ARGUMENT);
	sg_cli_err_clear();

	/* signetd's answer is accepted for this query, and only for it. */
	if (sg_tsa_respond(tsa, query, qlen, &reply, &rlen) != SG_OK)
		exit(2);
	CHECK(sg_cli_tsr_check(reply, rlen, SG_HASH_SHA256, digest, 32, 0x0123456789abcdefull,
	    gen_time, sizeof(gen_time)) == SG_OK);
	CHECK(strlen(gen_time) >= 20 && gen_time[4] == '-' && gen_time[10] == 'T' &&
	    gen_time[strlen(gen_time) - 1] == 'Z');
	CHECK(sg_cli_tsr_check(reply, rlen, SG_HASH_SHA256, digest, 32, 42, gen_time,
	    sizeof(gen_time)) == SG_ERR_BAD_SIGNATURE);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "nonce") != NULL);
	sg_cli_err_clear();
	digest[0] ^= 1;
	CHECK(sg_cli_tsr_check(reply, rlen, SG_HASH_SHA256, digest, 32, 0x0123456789abcdefull,
	    gen_time, sizeof(gen_time)) == SG_ERR_BAD_SIGNATURE);
	digest[0] ^= 1;
	sg_cli_err_clear();
	CHECK(sg_cli_tsr_check(reply, rlen - 1, SG_HASH_SHA256, digest, 32,
	    0x0123456789abcdefull, gen_time, sizeof(gen_time)) == SG_ERR_BAD_ENCODING);
	sg_cli_err_clear();
	free(reply);
	reply = NULL;
	/* A refusal is reported with its failInfo. */
	if (sg_tsa_respond(tsa, (const uint8_t *)"junk", 4, &reply, &rlen) != SG_OK)
		exit(2);
	CHECK(sg_cli_tsr_check(reply, rlen, SG_HASH_SHA256, digest, 32, 1, gen_time,
	    sizeof(gen_time)) == SG_ERR_BAD_SIGNATURE);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "badDataFormat") != NULL);
	sg_cli_err_clear();
	free(reply);

	/* A signature's token (timestamp: true) verifies offline over the signature bytes. */
	if (sg_tsa_stamp(tsa, EVP_sha256(), digest, 32, &token, &toklen) != SG_OK)
		exit(2);
	CHECK(sg_cli_timestamp_verify(token, toklen, sig, sizeof(sig),
	    sg_tsa_cert_chain_pem(tsa), gen_time, sizeof(gen_time), subject,
	    sizeof(subject)) == SG_OK);
	CHECK(strcmp(subject, "CN=Signet TSA") == 0 && gen_time[10] == 'T');
	sig[0] ^= 1;
	CHECK(sg_cli_timestamp_verify(token, toklen, sig, sizeof(sig),
	    sg_tsa_cert_chain_pem(tsa), gen_time, sizeof(gen_time), subject,
	    sizeof(subject)) == SG_ERR_BAD_SIGNATURE);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "other data") != NULL);
	sg_cli_err_clear();
	sig[0] ^= 1;
	/* Another TSA's certificate does not vouch for it. */
	CHECK(sg_cli_timestamp_verify(token, toklen, sig, sizeof(sig),
	    sg_tsa_cert_chain_pem(other), gen_time, sizeof(gen_time), subject,
	    sizeof(subject)) == SG_ERR_BAD_SIGNATURE);
	sg_cli_err_clear();
	token[toklen / 3] ^= 0x80;
	CHECK(sg_cli_timestamp_verify(token, toklen, sig, sizeof(sig),
	    sg_tsa_cert_chain_pem(tsa), gen_time, sizeof(gen_time), subject,
	    sizeof(subject)) != SG_OK);
	sg_cli_err_clear();

	free(token);
	free(query);
	sg_tsa_close(tsa);
	sg_tsa_close(other);
	sg_keystore_close(ks);
}

/* ---- certificate chains ---- */

/* A certificate for pkey named cn, signed by issuer_key (issuer NULL: self-signed). */
static X509 *
make_cert(const char *cn, EVP_PKEY *pkey, X509 *issuer, EVP_PKEY *issuer_key, int ca)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	if (x == NULL)
		exit(2);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0xffffff) + 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x));
	X509_set_pubkey(x, pkey);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
		exit(2);
	X509_EXTENSION_free(ext);
	if (ca) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign");
		if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
			exit(2);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
		exit(2);
	return x;
}

static void
test_chains(void)
{
	EVP_PKEY *root_key = gen_key("EC", "P-256", 0), *int_key = gen_key("EC", "P-256", 0);
	EVP_PKEY *leaf_key = gen_key("EC", "P-256", 0), *other_key = gen_key("EC", "P-256", 0);
	X509 *root = make_cert("Test Root", root_key, NULL, root_key, 1);
	X509 *inter = make_cert("Test Intermediate", int_key, root, root_key, 1);
	X509 *leaf = make_cert("Test Leaf", leaf_key, inter, int_key, 0);
	X509 *other_root = make_cert("Other Root", other_key, NULL, other_key, 1);
	char *root_pem = cert_pem(root), *int_pem = cert_pem(inter), *leaf_pem = cert_pem(leaf);
	char *other_pem = cert_pem(other_root), chain[8192], bad[8192], summary[512];
	char root_path[256], other_path[256];
	size_t spki_len = 0, other_len = 0;
	uint8_t *spki = spki_of(leaf_key, &spki_len), *other_spki = spki_of(other_key, &other_len);

	snprintf(chain, sizeof(chain), "%s%s", leaf_pem, int_pem);
	snprintf(bad, sizeof(bad), "%s%s", int_pem, leaf_pem);
	path_in_tmp(root_path, sizeof(root_path), "root.pem");
	path_in_tmp(other_path, sizeof(other_path), "other-root.pem");
	write_bytes(root_path, (const uint8_t *)root_pem, strlen(root_pem));
	write_bytes(other_path, (const uint8_t *)other_pem, strlen(other_pem));

	sg_cli_err_clear();
	CHECK(sg_cli_check_chain(chain, spki, spki_len, NULL, summary, sizeof(summary)) == SG_OK);
	CHECK(strcmp(summary, "CN=Test Leaf, 2 certificates, not checked against a trusted root")
	    == 0);
	CHECK(sg_cli_check_chain(chain, spki, spki_len, root_path, summary, sizeof(summary)) ==
	    SG_OK);
	CHECK(strcmp(summary, "CN=Test Leaf, 2 certificates, verified to CN=Test Root") == 0);
	CHECK(sg_cli_errmsg() == NULL);
	/* Without the root file's trust, or another root: not verified. */
	CHECK(sg_cli_check_chain(chain, spki, spki_len, other_path, summary, sizeof(summary)) ==
	    SG_ERR_BAD_SIGNATURE);
	sg_cli_err_clear();
	/* Leaf first, each issued by the next: the reverse order is refused. */
	CHECK(sg_cli_check_chain(bad, NULL, 0, NULL, summary, sizeof(summary)) ==
	    SG_ERR_BAD_SIGNATURE);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "is not issued by") != NULL);
	sg_cli_err_clear();
	/* The leaf must carry the signing key. */
	CHECK(sg_cli_check_chain(chain, other_spki, other_len, NULL, summary, sizeof(summary)) ==
	    SG_ERR_BAD_SIGNATURE);
	CHECK(sg_cli_errmsg() != NULL && strstr(sg_cli_errmsg(), "signing public key") != NULL);
	sg_cli_err_clear();
	/* An issuer name that matches but a signature that does not. */
	snprintf(bad, sizeof(bad), "%s%s", leaf_pem, root_pem);
	CHECK(sg_cli_check_chain(bad, spki, spki_len, NULL, summary, sizeof(summary)) ==
	    SG_ERR_BAD_SIGNATURE);
	sg_cli_err_clear();
	CHECK(sg_cli_check_chain("no certificates", NULL, 0, NULL, summary, sizeof(summary)) ==
	    SG_ERR_BAD_ENCODING);
	sg_cli_err_clear();
	path_in_tmp(other_path, sizeof(other_path), "missing.pem");
	CHECK(sg_cli_check_chain(chain, spki, spki_len, other_path, summary, sizeof(summary)) ==
	    SG_ERR_IO);
	sg_cli_err_clear();

	free(spki);
	free(other_spki);
	free(root_pem);
	free(int_pem);
	free(leaf_pem);
	free(other_pem);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	X509_free(other_root);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(other_key);
}

/* New bundle fields are type-checked like the old ones. */
static void
test_bundle_fields(void)
{
	static const struct {
		const char *json;
		int ok;
	} cases[] = {
		{ "{\"format\":\"signet-bundle-v1\",\"pss_salt_length\":20,\"policy\":\"a/b\","
		  "\"tsa_certificate_pem\":\"x\"}", 1 },
		{ "{\"format\":\"signet-bundle-v1\",\"pss_salt_length\":0}", 1 },
		{ "{\"format\":\"signet-bundle-v1\",\"pss_salt_length\":-1}", 0 },
		{ "{\"format\":\"signet-bundle-v1\",\"pss_salt_length\":\"20\"}", 0 },
		{ "{\"format\":\"signet-bundle-v1\",\"policy\":7}", 0 },
		{ "{\"format\":\"signet-bundle-v1\",\"tsa_certificate_pem\":[]}", 0 },
	};
	char path[256];
	json_t *b = NULL;

	path_in_tmp(path, sizeof(path), "fields.json");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_bytes(path, (const uint8_t *)cases[i].json, strlen(cases[i].json));
		b = NULL;
		CHECK((sg_cli_bundle_load(path, &b) == SG_OK) == cases[i].ok);
		json_decref(b);
		sg_cli_err_clear();
	}
}

int
main(void)
{
	char cmd[256];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_known_answers();
	test_chunk_boundaries();
	test_hash_errors();
	test_progress_line();
	test_constant_memory();
	test_key_algorithms();
	test_pem_loading();
	test_pq_offline_verify();
	test_options();
	test_list_options();
	test_terminal_safety();
	test_wait_pieces();
	test_audit_page();
	test_timestamps();
	test_chains();
	test_bundle_fields();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	fprintf(stderr, "%d checks, %d failed\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
