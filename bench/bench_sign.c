/*
 * bench_sign.c - throughput and latency of POST /v1/sign against a running
 * signetd, printed beside the raw OpenSSL sign rate on the same machine.
 *
 * N threads each keep one keep-alive libcurl handle and post sign requests
 * with fresh random SHA-256 digests for a fixed time (and at most a fixed
 * number of requests).  Every answer is checked: 200 with a "signature"
 * (202 with a "request_id" under --async); anything else is counted as a
 * failure and the first such body is printed, because a benchmark that
 * measures errors is worthless.  The first signature of every thread is then
 * verified with OpenSSL against the public key from
 * GET /v1/keys/{alias}/public-key, never by the server under test.
 *
 * Afterwards the same algorithm is signed in-process with OpenSSL the way the
 * server does it (shared read-only EVP_PKEY, fresh EVP_PKEY_CTX per
 * signature, output malloc'd), on 1 thread and on N threads, so the table
 * shows what the HTTP, JSON, authentication, SQLite reads and the durable
 * record cost on top of the signature itself.  The raw figure is also taken
 * as the signing thread's CPU time, and divided by signetd's CPU time per
 * answer (from /proc) it gives the efficiency, which unlike the rates holds
 * up on a shared machine.  --rate paces the load (latency at half load),
 * --rss-mark samples signetd's RSS, and --fsync-probe times write +
 * fdatasync on a disk instead.  bench/run-sign-bench.sh runs this against a
 * fresh signetd; docs/performance.md reads the figures.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <curl/curl.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#define BENCH_MAX_THREADS 256
#define BENCH_MAX_RATE 10000000   /* --rate bound, requests/s */
#define BENCH_MAX_SECONDS 3600
#define BENCH_DEFAULT_MAX_REQUESTS 10000000L
/* Latency samples kept per thread; beyond this, reservoir sampling keeps a fair sample. */
#define BENCH_LAT_CAP (256u * 1024u)
/* Largest answer we keep: an ML-DSA-87 signature in base64 is about 6.2 KB. */
#define BENCH_BODY_MAX (64u * 1024u)
#define BENCH_SIG_MAX (16u * 1024u)
#define BENCH_DIGEST_LEN 32
#define BENCH_ERR_SHOWN 1024
/* After this many failed answers the run stops: the figures would measure errors. */
#define BENCH_MAX_FAILURES 100

/* What we know about an algorithm: how to make a local key and how the server signs. */
typedef enum { ALG_EC, ALG_ED25519, ALG_RSA, ALG_OTHER } alg_family;

typedef struct alg_info {
	const char *name;      /* as the API spells it */
	alg_family family;
	const char *curve;     /* EC group */
	unsigned bits;         /* RSA modulus */
} alg_info;

static const alg_info algs[] = {
	{ "EC-P256", ALG_EC, "P-256", 0 },
	{ "EC-P384", ALG_EC, "P-384", 0 },
	{ "EC-P521", ALG_EC, "P-521", 0 },
	{ "Ed25519", ALG_ED25519, NULL, 0 },
	{ "RSA-2048", ALG_RSA, NULL, 2048 },
	{ "RSA-3072", ALG_RSA, NULL, 3072 },
	{ "RSA-4096", ALG_RSA, NULL, 4096 },
};

typedef struct options {
	const char *url;
	const char *api_key;
	const char *key_alias;
	const char *algorithm;
	const alg_info *alg;   /* NULL: no OpenSSL equivalent (ML-DSA, composite) */
	int threads;
	int seconds;
	double raw_seconds;
	long max_requests;
	int async;
	long server_pid;       /* 0: not given */
	int drain_seconds;
	double rate;           /* requests/s over all threads; 0: as fast as answers come */
	double raw_us;         /* --raw-us: CPU per raw signature measured elsewhere (ML-DSA) */
	long rss_mark;         /* server RSS is also sampled when this many answers are in */
	const char *fsync_probe;  /* directory: measure write + fdatasync latency instead */
} options;

/* One response kept for verification after the run. */
typedef struct kept_answer {
	int have;
	uint8_t digest[BENCH_DIGEST_LEN];
	char text[BENCH_SIG_MAX];   /* signature (sync) or request id (async) */
} kept_answer;

typedef struct worker {
	int index;
	const options *opt;
	char url[1024];
	struct curl_slist *headers;
	/* Results, owned by the thread until it is joined. */
	uint64_t ok, fail_transport, fail_http, fail_body;
	uint64_t connects;
	uint32_t *lat_us;      /* preallocated, BENCH_LAT_CAP entries */
	size_t lat_n;          /* samples held */
	uint64_t lat_seen;     /* samples offered */
	uint32_t lat_max;
	uint64_t rng;
	kept_answer first;     /* first good answer of this thread */
	char last_request_id[64];  /* async: newest accepted request */
	char body[BENCH_BODY_MAX + 1];
	size_t body_len;
	int body_truncated;
} worker;

static atomic_long requests_started;
static atomic_long answers_good;
static atomic_int first_error_taken;
static atomic_long failures;
static uint64_t deadline_ns;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_sign: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
xorshift64(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static long
parse_long(const char *flag, const char *v, long lo, long hi)
{
	char *end = NULL;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != 0 || n < lo || n > hi)
		die("%s wants an integer from %ld to %ld, not '%s'", flag, lo, hi, v);
	return n;
}

static double
parse_seconds(const char *flag, const char *v)
{
	char *end = NULL;
	errno = 0;
	double d = strtod(v, &end);
	if (errno != 0 || end == v || *end != 0 || !(d >= 0.0) || d > BENCH_MAX_SECONDS)
		die("%s wants seconds from 0 to %d, not '%s'", flag, BENCH_MAX_SECONDS, v);
	return d;
}

/* A request rate: more than zero, at most BENCH_MAX_RATE requests/s. */
static double
parse_rate(const char *flag, const char *v)
{
	char *end = NULL;
	errno = 0;
	double d = strtod(v, &end);
	if (errno != 0 || end == v || *end != 0 || !(d > 0.0) || d > BENCH_MAX_RATE)
		die("%s wants requests/s from 1 to %d, not '%s'", flag, BENCH_MAX_RATE, v);
	return d;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_sign --url URL --api-key KEY --key ALIAS --algorithm ALG\n"
	    "                  [--threads N] [--seconds S] [--async] [--max-requests N]\n"
	    "                  [--raw-seconds S] [--server-pid PID] [--drain-seconds S]\n"
	    "                  [--rate R] [--raw-us US] [--rss-mark N]\n"
	    "       bench_sign --fsync-probe DIR [--seconds S]\n"
	    "  ALG: EC-P256 EC-P384 EC-P521 Ed25519 RSA-2048 RSA-3072 RSA-4096 (others: no raw column)\n"
	    "  --threads 16, --seconds 10, --max-requests 10000000, --raw-seconds 3 (0: skip raw),\n"
	    "  --server-pid: report signetd's CPU time per request from /proc,\n"
	    "  --drain-seconds 120: with --async, how long to wait for the workers to sign.\n"
	    "  --rate: pace the threads to R requests/s in all (latency at a given load),\n"
	    "  --raw-us: CPU us per raw signature for an algorithm OpenSSL lacks (from bench_mldsa),\n"
	    "  --rss-mark 100000: also sample signetd's RSS when this many answers are in,\n"
	    "  --fsync-probe: time 4 KiB writes + fdatasync in DIR for S seconds (default 3).\n"
	    "  The API key must belong to a principal with the signer role.\n");
	exit(2);
}

static void
parse_args(int argc, char **argv, options *o)
{
	memset(o, 0, sizeof(*o));
	o->threads = 16;
	o->seconds = 10;
	o->raw_seconds = 3.0;
	o->max_requests = BENCH_DEFAULT_MAX_REQUESTS;
	o->drain_seconds = 120;
	o->rss_mark = 100000;
	int seconds_given = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--async") == 0) {
			o->async = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			usage();
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--url") == 0)
			o->url = v;
		else if (strcmp(a, "--api-key") == 0)
			o->api_key = v;
		else if (strcmp(a, "--key") == 0)
			o->key_alias = v;
		else if (strcmp(a, "--algorithm") == 0)
			o->algorithm = v;
		else if (strcmp(a, "--threads") == 0)
			o->threads = (int)parse_long(a, v, 1, BENCH_MAX_THREADS);
		else if (strcmp(a, "--seconds") == 0) {
			o->seconds = (int)parse_long(a, v, 1, BENCH_MAX_SECONDS);
			seconds_given = 1;
		}
		else if (strcmp(a, "--max-requests") == 0)
			o->max_requests = parse_long(a, v, 1, BENCH_DEFAULT_MAX_REQUESTS);
		else if (strcmp(a, "--raw-seconds") == 0)
			o->raw_seconds = parse_seconds(a, v);
		else if (strcmp(a, "--server-pid") == 0)
			o->server_pid = parse_long(a, v, 1, 4194304);
		else if (strcmp(a, "--drain-seconds") == 0)
			o->drain_seconds = (int)parse_long(a, v, 1, BENCH_MAX_SECONDS);
		else if (strcmp(a, "--rate") == 0)
			o->rate = parse_rate(a, v);
		else if (strcmp(a, "--raw-us") == 0)
			o->raw_us = parse_seconds(a, v);
		else if (strcmp(a, "--rss-mark") == 0)
			o->rss_mark = parse_long(a, v, 1, BENCH_DEFAULT_MAX_REQUESTS);
		else if (strcmp(a, "--fsync-probe") == 0)
			o->fsync_probe = v;
		else
			usage();
	}
	if (o->fsync_probe != NULL) {
		if (!seconds_given)
			o->seconds = 3;
		return;
	}
	if (o->url == NULL || o->api_key == NULL || o->key_alias == NULL || o->algorithm == NULL)
		usage();
	if (strlen(o->url) > 512 || strlen(o->key_alias) > 128 || strlen(o->api_key) > 512)
		die("--url, --key or --api-key is too long");
	for (const char *p = o->key_alias; *p; p++)
		if (*p == '"' || *p == '\\' || *p == '/' || *p == '?' || (unsigned char)*p < 0x20)
			die("--key '%s' is not a key alias", o->key_alias);
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcasecmp(algs[i].name, o->algorithm) == 0)
			o->alg = &algs[i];
}

/* ---------------------------------------------------------------- HTTP */

typedef struct sink {
	char *buf;
	size_t cap, len;
	int truncated;
} sink;

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	sink *s = arg;
	size_t len = size * n, room = s->cap - s->len;
	if (len > room) {
		s->truncated = 1;
		len = room;
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = 0;
	return size * n;  /* keep reading: the connection must stay usable */
}

static struct curl_slist *
make_headers(const options *o, const char *accept)
{
	char auth[600];
	struct curl_slist *h = NULL, *t;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->api_key);
	if ((t = curl_slist_append(h, auth)) == NULL)
		die("out of memory");
	h = t;
	if ((t = curl_slist_append(h, "Content-Type: application/json")) == NULL)
		die("out of memory");
	h = t;
	if ((t = curl_slist_append(h, "User-Agent: signet-bench_sign")) == NULL)
		die("out of memory");
	h = t;
	if (accept != NULL) {
		if ((t = curl_slist_append(h, accept)) == NULL)
			die("out of memory");
		h = t;
	}
	OPENSSL_cleanse(auth, sizeof(auth));
	return h;
}

/* One GET with a throwaway handle (set-up and verification only); returns the status or 0. */
static long
http_get(const options *o, const char *path, const char *accept, char *out, size_t cap)
{
	char url[1024];
	sink s = { out, cap - 1, 0, 0 };
	long status = 0;
	CURL *c = curl_easy_init();
	struct curl_slist *h = make_headers(o, accept);
	out[0] = 0;
	snprintf(url, sizeof(url), "%s%s", o->url, path);
	if (c == NULL)
		die("curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr, "bench_sign: GET %s: %s\n", url, curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return s.truncated ? 0 : status;
}

/*
 * The string value of "name" in a flat JSON answer, unescaping only what a
 * base64 value or an id can hold ("\/").  Returns 0 when found and it fits.
 */
static int
json_string(const char *json, const char *name, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", name);
	const char *p = strstr(json, pat);
	if (p == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p++ != '"')
		return -1;
	size_t n = 0;
	for (; *p && *p != '"'; p++) {
		char ch = *p;
		if (ch == '\\') {
			if (p[1] != '/')
				return -1;
			ch = '/';
			p++;
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = ch;
	}
	if (*p != '"' || n == 0)
		return -1;
	out[n] = 0;
	return 0;
}

static void
digest_b64(const uint8_t d[BENCH_DIGEST_LEN], char out[64])
{
	EVP_EncodeBlock((unsigned char *)out, d, BENCH_DIGEST_LEN);
}

/* ---------------------------------------------------------------- the load */

static void
record_latency(worker *w, uint64_t ns)
{
	uint64_t us64 = ns / 1000u;
	uint32_t us = us64 > UINT32_MAX ? UINT32_MAX : (uint32_t)us64;
	if (us > w->lat_max)
		w->lat_max = us;
	w->lat_seen++;
	if (w->lat_n < BENCH_LAT_CAP) {
		w->lat_us[w->lat_n++] = us;
		return;
	}
	/* Reservoir sampling: each of the lat_seen samples stays with equal probability. */
	uint64_t j = xorshift64(&w->rng) % w->lat_seen;
	if (j < BENCH_LAT_CAP)
		w->lat_us[j] = us;
}

/* Count a failed answer; the first one of the run is printed with its body. */
static void
note_failure(const worker *w, const char *what)
{
	int expected = 0;
	atomic_fetch_add(&failures, 1);
	if (!atomic_compare_exchange_strong(&first_error_taken, &expected, 1))
		return;
	fprintf(stderr, "bench_sign: thread %d: first failure: %s\n", w->index, what);
	if (w->body_len > 0)
		fprintf(stderr, "bench_sign:   body: %.*s%s\n", BENCH_ERR_SHOWN, w->body,
		    w->body_len > BENCH_ERR_SHOWN ? "..." : "");
}

static void *
worker_main(void *arg)
{
	worker *w = arg;
	const options *o = w->opt;
	char post[512], b64[64], err[256], field[BENCH_SIG_MAX];
	uint8_t digest[BENCH_DIGEST_LEN];
	sink s = { w->body, BENCH_BODY_MAX, 0, 0 };
	CURL *c = curl_easy_init();

	if (c == NULL)
		die("curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, w->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	/* --rate: this thread's share, sent on a fixed schedule (a late answer is not made up for). */
	uint64_t interval = o->rate > 0 ? (uint64_t)((double)o->threads / o->rate * 1e9) : 0;
	uint64_t next_send = now_ns() + (interval ? (uint64_t)w->index * interval / (uint64_t)o->threads : 0);

	while (now_ns() < deadline_ns && atomic_load(&failures) < BENCH_MAX_FAILURES &&
	    atomic_fetch_add(&requests_started, 1) < o->max_requests) {
		/* A real SHA-256 digest of something no other request digests. */
		uint64_t seed[2] = { xorshift64(&w->rng), (uint64_t)w->index };
		SHA256((const unsigned char *)seed, sizeof(seed), digest);
		digest_b64(digest, b64);
		int n = snprintf(post, sizeof(post),
		    "{\"key\":\"%s\",\"digest\":\"%s\",\"hash_algorithm\":\"SHA-256\"%s}",
		    o->key_alias, b64, o->async ? ",\"async\":true" : "");
		if (n < 0 || (size_t)n >= sizeof(post))
			die("request body does not fit");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
		s.len = 0;
		s.truncated = 0;
		w->body[0] = 0;
		if (interval) {
			uint64_t t = now_ns();
			if (t < next_send) {
				struct timespec d = { (time_t)((next_send - t) / 1000000000u),
					(long)((next_send - t) % 1000000000u) };
				nanosleep(&d, NULL);
			}
			next_send = (t > next_send + interval ? t : next_send) + interval;
		}

		uint64_t t0 = now_ns();
		CURLcode rc = curl_easy_perform(c);
		uint64_t t1 = now_ns();
		long conns = 0;
		if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0)
			w->connects += (uint64_t)conns;
		w->body_len = s.len;
		if (rc != CURLE_OK) {
			w->fail_transport++;
			snprintf(err, sizeof(err), "transport error: %s", curl_easy_strerror(rc));
			note_failure(w, err);
			continue;
		}
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		long want = o->async ? 202 : 200;
		if (status != want) {
			w->fail_http++;
			snprintf(err, sizeof(err), "HTTP %ld (expected %ld)", status, want);
			note_failure(w, err);
			continue;
		}
		const char *name = o->async ? "request_id" : "signature";
		if (s.truncated || json_string(w->body, name, field, sizeof(field)) != 0) {
			w->fail_body++;
			snprintf(err, sizeof(err), "HTTP %ld without a \"%s\"", status, name);
			note_failure(w, err);
			continue;
		}
		w->ok++;
		atomic_fetch_add(&answers_good, 1);
		record_latency(w, t1 - t0);
		if (!w->first.have) {
			w->first.have = 1;
			memcpy(w->first.digest, digest, sizeof(digest));
			snprintf(w->first.text, sizeof(w->first.text), "%s", field);
		}
		if (o->async && strlen(field) < sizeof(w->last_request_id))
			memcpy(w->last_request_id, field, strlen(field) + 1);
	}
	curl_easy_cleanup(c);
	return NULL;
}

/* ---------------------------------------------------------------- verification */

/* Standard base64 (with padding) to bytes; returns the length or -1. */
static int
b64_decode(const char *in, uint8_t *out, size_t cap)
{
	size_t len = strlen(in);
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
		return -1;
	int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0)
		return -1;
	if (in[len - 1] == '=')
		n--;
	if (in[len - 2] == '=')
		n--;
	return n;
}

/* The key from the server must be the algorithm we were told, or the figures lie. */
static int
key_is(EVP_PKEY *pk, const alg_info *a)
{
	char group[64];
	size_t glen = 0;
	switch (a->family) {
	case ALG_EC:
		if (!EVP_PKEY_is_a(pk, "EC") ||
		    EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) != 1)
			return 0;
		return OBJ_txt2nid(group) == EC_curve_nist2nid(a->curve);
	case ALG_ED25519:
		return EVP_PKEY_is_a(pk, "ED25519");
	case ALG_RSA:
		return EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) == (int)a->bits;
	case ALG_OTHER:
		break;
	}
	return 0;
}

/* Verify one signature over a digest the way each default scheme signs (docs/api.md). */
static int
verify_one(EVP_PKEY *pk, const alg_info *a, const uint8_t *digest, const char *sig_b64)
{
	uint8_t sig[BENCH_SIG_MAX];
	int siglen = b64_decode(sig_b64, sig, sizeof(sig));
	int ok = 0;
	if (siglen <= 0)
		return 0;
	if (a->family == ALG_ED25519) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		ok = m != NULL && EVP_DigestVerifyInit(m, NULL, NULL, NULL, pk) == 1 &&
		    EVP_DigestVerify(m, sig, (size_t)siglen, digest, BENCH_DIGEST_LEN) == 1;
		EVP_MD_CTX_free(m);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
		ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1;
		if (ok && a->family == ALG_RSA)
			ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
			    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0;
		ok = ok && EVP_PKEY_verify(ctx, sig, (size_t)siglen, digest, BENCH_DIGEST_LEN) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	ERR_clear_error();
	return ok;
}

static EVP_PKEY *
fetch_public_key(const options *o)
{
	char path[256], pem[16384];
	snprintf(path, sizeof(path), "/v1/keys/%s/public-key", o->key_alias);
	long st = http_get(o, path, "Accept: application/x-pem-file", pem, sizeof(pem));
	if (st != 200) {
		fprintf(stderr, "bench_sign: GET %s answered %ld: %.500s\n", path, st, pem);
		return NULL;
	}
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (pk == NULL)
		fprintf(stderr, "bench_sign: GET %s is not a PEM public key\n", path);
	return pk;
}

/*
 * Async: the signature of a request id, waiting up to the deadline for a
 * worker to sign it.  Returns 1 signed (sig filled), 0 failed for good, -1
 * still waiting at the deadline.
 */
static int
request_outcome(const options *o, const char *request_id, uint64_t until_ns, char *sig, size_t cap,
    char *status_out, size_t status_cap)
{
	char path[256], body[BENCH_BODY_MAX], status[32];
	snprintf(path, sizeof(path), "/v1/requests/%s", request_id);
	snprintf(status_out, status_cap, "?");
	for (;;) {
		long st = http_get(o, path, NULL, body, sizeof(body));
		if (st == 200 && json_string(body, "status", status, sizeof(status)) == 0) {
			snprintf(status_out, status_cap, "%s", status);
			if (strcmp(status, "SIGNED") == 0)
				return json_string(body, "signature", sig, cap) == 0 ? 1 : 0;
			if (strcmp(status, "FAILED") == 0 || strcmp(status, "DEAD_LETTER") == 0 ||
			    strcmp(status, "REJECTED") == 0)
				return 0;
		} else if (st != 200) {
			fprintf(stderr, "bench_sign: GET %s answered %ld: %.300s\n", path, st, body);
			return 0;
		}
		if (now_ns() >= until_ns)
			return -1;
		usleep(20000);
	}
}

/* ---------------------------------------------------------------- raw OpenSSL */

typedef struct raw_worker {
	EVP_PKEY *pkey;
	const alg_info *alg;
	uint64_t until_ns;
	uint64_t ops;
	uint64_t rng;
	int failed;
	double cpu_s;          /* this thread's CPU time while signing */
} raw_worker;

/* One signature exactly as src/crypto/sign.c makes it: fresh context, sized, malloc'd. */
static int
raw_sign_once(EVP_PKEY *pk, const alg_info *a, const uint8_t *digest)
{
	uint8_t *out = NULL;
	size_t outlen = 0;
	int ok = 0;
	if (a->family == ALG_ED25519) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		ok = m != NULL && EVP_DigestSignInit(m, NULL, NULL, NULL, pk) == 1 &&
		    EVP_DigestSign(m, NULL, &outlen, digest, BENCH_DIGEST_LEN) == 1 &&
		    (out = malloc(outlen)) != NULL &&
		    EVP_DigestSign(m, out, &outlen, digest, BENCH_DIGEST_LEN) == 1;
		EVP_MD_CTX_free(m);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
		ok = ctx != NULL && EVP_PKEY_sign_init(ctx) > 0;
		if (ok && a->family == ALG_RSA)
			ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
			    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0;
		ok = ok && EVP_PKEY_sign(ctx, NULL, &outlen, digest, BENCH_DIGEST_LEN) > 0 &&
		    (out = malloc(outlen)) != NULL &&
		    EVP_PKEY_sign(ctx, out, &outlen, digest, BENCH_DIGEST_LEN) > 0;
		EVP_PKEY_CTX_free(ctx);
	}
	free(out);
	return ok;
}

static void *
raw_main(void *arg)
{
	raw_worker *w = arg;
	uint8_t digest[BENCH_DIGEST_LEN];
	for (size_t i = 0; i < sizeof(digest); i += 8) {
		uint64_t x = xorshift64(&w->rng);
		memcpy(digest + i, &x, 8);
	}
	struct timespec c0, c1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	while (now_ns() < w->until_ns) {
		uint64_t x = xorshift64(&w->rng);
		memcpy(digest, &x, sizeof(x));
		if (!raw_sign_once(w->pkey, w->alg, digest)) {
			w->failed = 1;
			break;
		}
		w->ops++;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	w->cpu_s = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	return NULL;
}

static uint64_t
seed64(void)
{
	uint64_t s = 0;
	while (s == 0)
		if (RAND_bytes((unsigned char *)&s, sizeof(s)) != 1)
			die("RAND_bytes failed");
	return s;
}

/*
 * Signatures per second of the local key on nthreads threads for the given
 * time; *cpu_us (optional) gets the CPU time per signature, which unlike the
 * rate does not depend on how busy the machine is.
 */
static double
raw_rate(EVP_PKEY *pk, const alg_info *a, int nthreads, double seconds, double *cpu_us)
{
	raw_worker *w = calloc((size_t)nthreads, sizeof(*w));
	pthread_t *t = calloc((size_t)nthreads, sizeof(*t));
	if (w == NULL || t == NULL)
		die("out of memory");
	uint64_t start = now_ns(), until = start + (uint64_t)(seconds * 1e9);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (raw_worker){ pk, a, until, 0, seed64(), 0, 0 };
		if (pthread_create(&t[i], NULL, raw_main, &w[i]) != 0)
			die("pthread_create failed");
	}
	uint64_t ops = 0;
	int failed = 0;
	double cpu = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		ops += w[i].ops;
		cpu += w[i].cpu_s;
		failed |= w[i].failed;
	}
	if (cpu_us != NULL)
		*cpu_us = ops > 0 ? cpu / (double)ops * 1e6 : 0;
	double elapsed = (double)(now_ns() - start) / 1e9;
	free(w);
	free(t);
	if (failed)
		die("raw OpenSSL signing failed: %s", ERR_error_string(ERR_get_error(), NULL));
	return (double)ops / elapsed;
}

static EVP_PKEY *
raw_keygen(const alg_info *a)
{
	switch (a->family) {
	case ALG_EC:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", a->curve);
	case ALG_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	case ALG_RSA:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)a->bits);
	case ALG_OTHER:
		break;
	}
	return NULL;
}

/* ---------------------------------------------------------------- CPU accounting */

typedef struct cpu_snap {
	double server_s;        /* utime + stime of --server-pid, -1 when unknown */
	double client_s;        /* this process */
	double machine_busy_s;  /* all CPUs, from /proc/stat */
} cpu_snap;

static double
proc_cpu_seconds(long pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields after the command name in parentheses; utime and stime are the 14th and 15th. */
	const char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	unsigned long long ut = 0, st = 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
machine_busy_seconds(void)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	if (f == NULL)
		return -1;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return -1;
	/* user nice system idle iowait irq softirq steal: busy is all but idle and iowait. */
	unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static void
cpu_take(const options *o, cpu_snap *s)
{
	struct rusage ru;
	s->server_s = o->server_pid ? proc_cpu_seconds(o->server_pid) : -1;
	getrusage(RUSAGE_SELF, &ru);
	s->client_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	s->machine_busy_s = machine_busy_seconds();
}

/* Resident set size of pid in KiB (VmRSS), -1 when unknown. */
static long
proc_rss_kb(long pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Samples signetd's RSS once --rss-mark answers are in, while the load runs. */
typedef struct rss_watch {
	const options *opt;
	atomic_int done;
	long at_mark_kb;      /* -1 until the mark is reached */
} rss_watch;

static void *
rss_main(void *arg)
{
	rss_watch *r = arg;
	struct timespec tick = { 0, 20000000 };
	while (!atomic_load(&r->done)) {
		if (r->at_mark_kb < 0 && atomic_load(&answers_good) >= r->opt->rss_mark)
			r->at_mark_kb = proc_rss_kb(r->opt->server_pid);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* ---------------------------------------------------------------- fsync probe */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * What one durable commit costs on this disk at least: 4 KiB appended and
 * fdatasync'd, in a loop, in the directory that will hold the database.
 * SQLite's WAL commit is the same pattern (frames appended, then synced).
 */
static int
fsync_probe(const options *o)
{
	char path[1024];
	static uint8_t page[4096];
	size_t cap = 1u << 16, n = 0;
	double *lat = malloc(cap * sizeof(double));
	if (lat == NULL)
		die("out of memory");
	if ((size_t)snprintf(path, sizeof(path), "%s/fsync-probe.%ld", o->fsync_probe,
	    (long)getpid()) >= sizeof(path))
		die("--fsync-probe path is too long");
	FILE *f = fopen(path, "w");
	if (f == NULL)
		die("cannot create %s: %s", path, strerror(errno));
	int fd = fileno(f);
	uint64_t until = now_ns() + (uint64_t)o->seconds * 1000000000u;
	off_t off = 0;
	while (now_ns() < until && n < cap) {
		memset(page, (int)(n & 0xff), sizeof(page));
		uint64_t t0 = now_ns();
		if (pwrite(fd, page, sizeof(page), off) != (ssize_t)sizeof(page) || fdatasync(fd) != 0)
			die("write + fdatasync on %s: %s", path, strerror(errno));
		lat[n++] = (double)(now_ns() - t0) / 1e6;
		off += (off_t)sizeof(page);
		if (off >= (off_t)(4u << 20))
			off = 0;  /* like a WAL that restarts: stay within 4 MiB */
	}
	fclose(f);
	unlink(path);
	qsort(lat, n, sizeof(double), cmp_double);
	double p50 = n ? lat[(size_t)(0.50 * (double)(n - 1) + 0.5)] : 0;
	double p90 = n ? lat[(size_t)(0.90 * (double)(n - 1) + 0.5)] : 0;
	double p99 = n ? lat[(size_t)(0.99 * (double)(n - 1) + 0.5)] : 0;
	printf("== fsync probe: 4 KiB append + fdatasync in %s, %zu times in %d s\n", o->fsync_probe,
	    n, o->seconds);
	printf("  latency     p50 %.2f ms   p90 %.2f ms   p99 %.2f ms\n", p50, p90, p99);
	printf("FSYNC n=%zu p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f\n", n, p50, p90, p99);
	free(lat);
	return n > 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- report */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static double
pct_ms(const uint32_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static void
fmt_rate(double r, char *out, size_t cap)
{
	if (r <= 0)
		snprintf(out, cap, "n/a");
	else
		snprintf(out, cap, "%.0f", r);
}

int
main(int argc, char **argv)
{
	options o;
	parse_args(argc, argv, &o);
	if (o.fsync_probe != NULL)
		return fsync_probe(&o);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("curl_global_init failed");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	const char *mode = o.async ? "async" : "sync";

	/* The key must be what the figures will be labelled with. */
	char path[256], body[16384], kalg[64];
	snprintf(path, sizeof(path), "/v1/keys/%s", o.key_alias);
	long st = http_get(&o, path, NULL, body, sizeof(body));
	if (st != 200 || json_string(body, "algorithm", kalg, sizeof(kalg)) != 0)
		die("GET %s answered %ld: %.500s", path, st, body);
	if (strcasecmp(kalg, o.algorithm) != 0)
		die("key '%s' is %s, not %s", o.key_alias, kalg, o.algorithm);

	/* The public key first: without it no answer can be checked, so nothing is measured. */
	EVP_PKEY *pub = NULL;
	if (o.alg != NULL) {
		if ((pub = fetch_public_key(&o)) == NULL)
			die("cannot fetch the public key of '%s'; is the key there and the API key a signer's?",
			    o.key_alias);
		if (!key_is(pub, o.alg))
			die("key '%s' is not %s", o.key_alias, o.alg->name);
	}

	worker *ws = calloc((size_t)o.threads, sizeof(*ws));
	pthread_t *ts = calloc((size_t)o.threads, sizeof(*ts));
	if (ws == NULL || ts == NULL)
		die("out of memory");
	for (int i = 0; i < o.threads; i++) {
		ws[i].index = i;
		ws[i].opt = &o;
		snprintf(ws[i].url, sizeof(ws[i].url), "%s/v1/sign", o.url);
		ws[i].headers = make_headers(&o, NULL);
		ws[i].rng = seed64();
		/* Touch every page now, so the first seconds do not measure page faults. */
		if ((ws[i].lat_us = calloc(BENCH_LAT_CAP, sizeof(uint32_t))) == NULL)
			die("out of memory");
		memset(ws[i].lat_us, 0xff, BENCH_LAT_CAP * sizeof(uint32_t));
	}

	printf("== signetd POST /v1/sign (%s): %s key '%s', %d threads x %d s, %s", mode,
	    o.algorithm, o.key_alias, o.threads, o.seconds, o.url);
	if (o.rate > 0)
		printf(", paced to %.0f requests/s", o.rate);
	printf("\n");
	fflush(stdout);
	rss_watch rw = { &o, 0, -1 };
	pthread_t rss_thread;
	if (o.server_pid && pthread_create(&rss_thread, NULL, rss_main, &rw) != 0)
		die("pthread_create failed");
	cpu_snap c0, c1, c2;
	cpu_take(&o, &c0);
	uint64_t start = now_ns();
	deadline_ns = start + (uint64_t)o.seconds * 1000000000u;
	for (int i = 0; i < o.threads; i++)
		if (pthread_create(&ts[i], NULL, worker_main, &ws[i]) != 0)
			die("pthread_create failed");
	for (int i = 0; i < o.threads; i++)
		pthread_join(ts[i], NULL);
	double elapsed = (double)(now_ns() - start) / 1e9;
	cpu_take(&o, &c1);
	long rss_end_kb = -1;
	if (o.server_pid) {
		atomic_store(&rw.done, 1);
		pthread_join(rss_thread, NULL);
		rss_end_kb = proc_rss_kb(o.server_pid);
	}

	uint64_t ok = 0, f_tr = 0, f_http = 0, f_body = 0, conns = 0;
	size_t nlat = 0;
	uint32_t lmax = 0;
	int sampled = 0;
	for (int i = 0; i < o.threads; i++) {
		ok += ws[i].ok;
		f_tr += ws[i].fail_transport;
		f_http += ws[i].fail_http;
		f_body += ws[i].fail_body;
		conns += ws[i].connects;
		nlat += ws[i].lat_n;
		sampled |= ws[i].lat_seen > ws[i].lat_n;
		if (ws[i].lat_max > lmax)
			lmax = ws[i].lat_max;
	}
	uint64_t failed = f_tr + f_http + f_body;
	uint32_t *lat = malloc((nlat ? nlat : 1) * sizeof(uint32_t));
	if (lat == NULL)
		die("out of memory");
	for (int i = 0, k = 0; i < o.threads; i++) {
		memcpy(lat + k, ws[i].lat_us, ws[i].lat_n * sizeof(uint32_t));
		k += (int)ws[i].lat_n;
	}
	qsort(lat, nlat, sizeof(uint32_t), cmp_u32);
	double rps = (double)ok / elapsed;
	double p50 = pct_ms(lat, nlat, 0.50), p90 = pct_ms(lat, nlat, 0.90),
	    p99 = pct_ms(lat, nlat, 0.99), pmax = (double)lmax / 1000.0;

	printf("  answers     %" PRIu64 " good, %" PRIu64 " failed (%" PRIu64 " transport, %" PRIu64
	    " wrong status, %" PRIu64 " without %s) in %.2f s over %" PRIu64 " TCP connections\n",
	    ok, failed, f_tr, f_http, f_body, o.async ? "request_id" : "signature", elapsed, conns);
	if (failed > 0)
		printf("  INVALID     %" PRIu64 " answers were failures%s: these figures measure errors, "
		    "not signing\n", failed, failed >= BENCH_MAX_FAILURES ? " (run stopped early)" : "");
	printf("  throughput  %.1f %s/s\n", rps, o.async ? "accepted requests" : "signatures");
	printf("  latency     p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   max %.2f ms%s\n", p50, p90, p99,
	    pmax, sampled ? "  (percentiles from a reservoir sample)" : "");
	double server_us = -1, client_us = -1;
	if (ok > 0) {
		client_us = (c1.client_s - c0.client_s) / (double)ok * 1e6;
		if (c0.server_s >= 0 && c1.server_s >= 0)
			server_us = (c1.server_s - c0.server_s) / (double)ok * 1e6;
	}
	double mach = -1, srv = -1, cli = (c1.client_s - c0.client_s) / elapsed;
	if (c0.machine_busy_s >= 0) {
		mach = (c1.machine_busy_s - c0.machine_busy_s) / elapsed;
		if (server_us >= 0) {
			srv = (c1.server_s - c0.server_s) / elapsed;
			printf("  CPU         %.2f of %ld cores busy: signetd %.2f, bench client %.2f, "
			    "other processes %.2f\n", mach, ncpu, srv, cli, mach - srv - cli);
		} else {
			printf("  CPU         %.2f of %ld cores busy: bench client %.2f, signetd and "
			    "others %.2f (give --server-pid to split)\n", mach, ncpu, cli, mach - cli);
		}
	}
	if (server_us >= 0)
		printf("  CPU/request signetd %.0f us, bench client %.0f us\n", server_us, client_us);

	/* Verify the first answer of every thread with OpenSSL, never with the server under test. */
	int checked = 0, valid = 0, pending = 0;
	double drain = 0;
	uint64_t drain_start = now_ns();
	if (o.async && ok > 0) {
		/* Wait for the workers: the newest request of each thread signed means the queue is drained. */
		uint64_t until = now_ns() + (uint64_t)o.drain_seconds * 1000000000u;
		char sig[BENCH_SIG_MAX], status[32];
		for (int i = 0; i < o.threads; i++) {
			if (ws[i].last_request_id[0] == 0)
				continue;
			int r = request_outcome(&o, ws[i].last_request_id, until, sig, sizeof(sig),
			    status, sizeof(status));
			if (r < 0)
				pending++;
			else if (r == 0)
				fprintf(stderr, "bench_sign: request %s ended %s\n", ws[i].last_request_id, status);
		}
		drain = (double)(now_ns() - drain_start) / 1e9;
	}
	/* Under --async the signing happens during the drain: count the server's CPU until then. */
	cpu_take(&o, &c2);
	double server_total_us = -1;
	if (ok > 0 && c0.server_s >= 0 && c2.server_s >= 0)
		server_total_us = ((o.async ? c2.server_s : c1.server_s) - c0.server_s) / (double)ok * 1e6;
	for (int i = 0; i < o.threads && ok > 0; i++) {
		if (!ws[i].first.have)
			continue;
		const char *sig_b64 = ws[i].first.text;
		char sig[BENCH_SIG_MAX], status[32];
		if (o.async) {
			int r = request_outcome(&o, ws[i].first.text, now_ns(), sig, sizeof(sig), status,
			    sizeof(status));
			if (r != 1) {
				checked++;
				fprintf(stderr, "bench_sign: request %s is %s, not SIGNED\n", ws[i].first.text,
				    status);
				continue;
			}
			sig_b64 = sig;
		}
		if (pub == NULL)
			continue;
		checked++;
		if (verify_one(pub, o.alg, ws[i].first.digest, sig_b64))
			valid++;
		else
			fprintf(stderr, "bench_sign: thread %d: signature %.100s does not verify\n", i, sig_b64);
	}
	if (pub != NULL)
		printf("  verified    first signature of each thread with OpenSSL against "
		    "GET /v1/keys/%s/public-key: %d of %d valid\n", o.key_alias, valid, checked);
	else
		printf("  verified    NOT independently: OpenSSL has no %s; answers were only checked "
		    "for status and a signature\n", o.algorithm);
	double e2e = 0;
	if (o.async) {
		e2e = ok > 0 ? (double)ok / (elapsed + drain) : 0;
		printf("  async       workers finished %.2f s after the last submission%s: "
		    "%.1f signed/s end to end\n", drain,
		    pending ? " (NOT drained: gave up waiting)" : "", e2e);
	}

	/* Raw OpenSSL, same algorithm, same machine, the way the server calls it. */
	double raw1 = 0, rawn = 0, raw_cpu_us = o.raw_us;
	if (o.alg != NULL && o.raw_seconds > 0) {
		EVP_PKEY *pk = raw_keygen(o.alg);
		if (pk == NULL)
			die("cannot generate a local %s key", o.alg->name);
		raw1 = raw_rate(pk, o.alg, 1, o.raw_seconds, &raw_cpu_us);
		rawn = raw_rate(pk, o.alg, o.threads, o.raw_seconds, NULL);
		EVP_PKEY_free(pk);
	}
	char eff[32];
	if (raw_cpu_us > 0 && server_total_us > 0)
		snprintf(eff, sizeof(eff), "%.3f", raw_cpu_us / server_total_us);
	else
		snprintf(eff, sizeof(eff), "n/a");
	char r1[32], rn[32], sv[32], ratio[32];
	fmt_rate(raw1, r1, sizeof(r1));
	fmt_rate(rawn, rn, sizeof(rn));
	fmt_rate(o.async ? e2e : rps, sv, sizeof(sv));
	if (rawn > 0 && ok > 0)
		snprintf(ratio, sizeof(ratio), "%.3f", (o.async ? e2e : rps) / rawn);
	else
		snprintf(ratio, sizeof(ratio), "n/a");
	printf("\n  | algorithm | raw OpenSSL sign/s (1 thread) | raw OpenSSL sign/s (%d threads) | "
	    "signetd %s signs/s | ratio signetd / raw (%d threads) |\n", o.threads, mode, o.threads);
	printf("  |---|---:|---:|---:|---:|\n");
	printf("  | %s | %s | %s | %s | %s |\n\n", o.algorithm, r1, rn, sv, ratio);
	if (raw1 > 0)
		printf("  raw OpenSSL: %.1f us of CPU per signature on one thread (%.0f us of wall time); "
		    "fresh EVP_PKEY_CTX per signature, as src/crypto/sign.c\n", raw_cpu_us, 1e6 / raw1);
	else if (raw_cpu_us > 0)
		printf("  raw signature: %.1f us of CPU (given with --raw-us)\n", raw_cpu_us);
	if (server_total_us > 0)
		printf("  efficiency  %s = raw CPU per signature / signetd CPU per signature (%.1f us%s)\n",
		    eff, server_total_us, o.async ? ", submission and drain" : "");
	if (rss_end_kb > 0)
		printf("  memory      signetd RSS %.1f MiB at the end%s\n", (double)rss_end_kb / 1024.0,
		    rw.at_mark_kb > 0 ? "" : " (the --rss-mark was not reached)");
	if (rw.at_mark_kb > 0)
		printf("              %.1f MiB after %ld answers\n", (double)rw.at_mark_kb / 1024.0,
		    o.rss_mark);
	printf("  beyond the raw sign, each signetd answer costs: HTTP/1.1 parse and answer "
	    "(libmicrohttpd),\n  JSON parse + canonical re-dump + SHA-256 of the body, API key "
	    "lookup and principal/tenant reads,\n  key and key-version reads (from the store's cache), "
	    "an access-log line, and a durable record\n  (request + signature + audit-chain entry, "
	    "group-committed, synchronous=FULL) before the 200.\n");
	if (o.async)
		printf("  --async: the 200 becomes a 202 after one durable QUEUED insert; the "
		    "queue workers\n  sign and commit later, so 'signs/s' is submissions until the "
		    "queue drains.\n");

	printf("RESULT algorithm=%s mode=%s threads=%d seconds=%d ok=%" PRIu64 " failed=%" PRIu64
	    " rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f raw1=%.0f rawN=%.0f "
	    "signed_per_s=%.1f ratio=%s server_cpu_us=%.0f verified=%d/%d busy_cores=%.2f "
	    "server_cores=%.2f client_cores=%.2f other_cores=%.2f raw_cpu_us=%.1f "
	    "server_total_us=%.1f efficiency=%s accepted_per_s=%.1f rss_kb=%ld rss_mark_kb=%ld "
	    "rate=%.0f\n",
	    o.algorithm, mode, o.threads, o.seconds, ok, failed, rps, p50, p90, p99, pmax, raw1, rawn,
	    o.async ? e2e : rps, ratio, server_us, valid, checked, mach, srv, cli,
	    mach >= 0 ? mach - cli - (srv >= 0 ? srv : 0) : -1, raw_cpu_us, server_total_us, eff,
	    rps, rss_end_kb, rw.at_mark_kb, o.rate);

	for (int i = 0; i < o.threads; i++) {
		curl_slist_free_all(ws[i].headers);
		free(ws[i].lat_us);
	}
	free(ws);
	free(ts);
	free(lat);
	EVP_PKEY_free(pub);
	curl_global_cleanup();
	/* Worthless unless every answer was right and the signatures checked out. */
	if (ok == 0 || failed > 0 || valid != checked || pending > 0)
		return 1;
	return 0;
}
