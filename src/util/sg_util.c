/* sg_util.c - identifiers, clocks, strings, files (see sg_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "sg_util.h"

/*
 * Random bits for ids come from a small per-thread pool refilled from
 * RAND_bytes 16 ids at a time: one DRBG call (and its fork check) per 16
 * ids instead of one each, with no lock shared between threads.  The ids
 * are not secrets, but they must never repeat, so a fork (which would
 * give the child a copy of the parent's pool) empties every pool.
 */
#define SG_UUID_RANDOM 10               /* bytes 6..15 of the id; 74 bits survive */
#define SG_UUID_POOL (16 * SG_UUID_RANDOM)

static atomic_uint sg_uuid_forks;
static pthread_once_t sg_uuid_once = PTHREAD_ONCE_INIT;

static void
sg_uuid_after_fork(void)
{
	atomic_fetch_add(&sg_uuid_forks, 1);
}

static void
sg_uuid_init(void)
{
	(void)pthread_atfork(NULL, NULL, sg_uuid_after_fork);
}

static int
sg_uuid_random(uint8_t out[SG_UUID_RANDOM])
{
	static _Thread_local uint8_t pool[SG_UUID_POOL];
	static _Thread_local size_t left;
	static _Thread_local unsigned forks;

	pthread_once(&sg_uuid_once, sg_uuid_init);
	unsigned now = atomic_load(&sg_uuid_forks);
	if (forks != now) {
		left = 0;
		forks = now;
	}
	if (left < SG_UUID_RANDOM) {
		if (RAND_bytes(pool, sizeof(pool)) != 1)
			return SG_ERR_CRYPTO;
		left = sizeof(pool);
	}
	left -= SG_UUID_RANDOM;
	memcpy(out, pool + left, SG_UUID_RANDOM);
	OPENSSL_cleanse(pool + left, SG_UUID_RANDOM);
	return SG_OK;
}

int
sg_uuid(char out[SG_UUID_LEN + 1])
{
	uint8_t b[16];
	if (sg_uuid_random(b + 6) != SG_OK)
		return SG_ERR_CRYPTO;
	/* RFC 9562 version 7: 48-bit Unix milliseconds, then 74 random bits. */
	uint64_t ms = (uint64_t)sg_now_ms();
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x70);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[b[i] >> 4];
		out[o++] = digits[b[i] & 15];
	}
	out[o] = 0;
	return SG_OK;
}

int64_t
sg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
sg_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
sg_time_format(int64_t ms, char out[32])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

size_t
sg_strlcpy(char *dst, const char *src, size_t dstsize)
{
	size_t n = strlen(src);
	if (dstsize > 0) {
		size_t c = n < dstsize - 1 ? n : dstsize - 1;
		memcpy(dst, src, c);
		dst[c] = 0;
	}
	return n;
}

int
sg_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (s == NULL || *s == 0)
		return SG_ERR_INVALID_ARGUMENT;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != 0 || v < min || v > max)
		return SG_ERR_INVALID_ARGUMENT;
	*out = (int64_t)v;
	return SG_OK;
}

int
sg_read_file(const char *path, size_t max, uint8_t **out, size_t *outlen)
{
	int r = SG_ERR_IO;
	uint8_t *p = NULL;
	size_t len = 0, cap = 0;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			uint8_t *np = realloc(p, ncap);
			if (np == NULL) {
				r = SG_ERR_NOMEM;
				goto out;
			}
			p = np;
			cap = ncap;
		}
		size_t n = fread(p + len, 1, 4096, f);
		len += n;
		if (len > max) {
			r = SG_ERR_TOO_LARGE;
			goto out;
		}
		if (n < 4096) {
			if (ferror(f))
				goto out;
			break;
		}
	}
	p[len] = 0;
	*out = p;
	*outlen = len;
	p = NULL;
	r = SG_OK;
out:
	if (p != NULL) {
		OPENSSL_cleanse(p, cap);
		free(p);
	}
	fclose(f);
	return r;
}

int
sg_write_file(const char *path, const void *p, size_t n, unsigned mode)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return SG_ERR_INVALID_ARGUMENT;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return SG_ERR_IO;
	const uint8_t *b = p;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, b + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			return SG_ERR_IO;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return SG_ERR_IO;
	}
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return SG_ERR_IO;
	}
	return SG_OK;
}
