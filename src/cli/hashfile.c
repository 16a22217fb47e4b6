/*
 * hashfile.c - hashing an artifact of any size in constant memory.
 *
 * Release artifacts can be many gigabytes; the CLI never holds more than one
 * SG_CLI_READ_CHUNK of the file, feeding it to EVP_DigestUpdate chunk by
 * chunk with plain read(2) (no mmap, which would count the whole file
 * against the process).  Large files get a progress bar when a person is
 * watching (stderr is a terminal).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include "sg_cli.h"

int
sg_cli_hash_file(const char *path, sg_hash_alg h, sg_cli_progress_fn progress,
    void *progress_arg, uint8_t digest[SG_MAX_DIGEST], size_t *digest_len)
{
	int r = SG_ERR_INTERNAL;
	int fd = -1;
	uint8_t *chunk = NULL;
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md = sg_hash_md(h);
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int outlen = 0;
	uint64_t done = 0, total = 0;
	struct stat st;

	if (md == NULL) {
		sg_cli_err("unsupported hash algorithm");
		return SG_ERR_UNSUPPORTED_HASH;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		sg_cli_err("cannot open %s: %s", path, strerror(errno));
		r = SG_ERR_IO;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		sg_cli_err("cannot stat %s: %s", path, strerror(errno));
		r = SG_ERR_IO;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		sg_cli_err("%s is a directory", path);
		r = SG_ERR_IO;
		goto out;
	}
	if (S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;
	if ((chunk = malloc(SG_CLI_READ_CHUNK)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		sg_cli_err("out of memory");
		r = SG_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		sg_cli_err("cannot start %s: %s", sg_hash_name(h), "the crypto library refused");
		r = SG_ERR_CRYPTO;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, SG_CLI_READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sg_cli_err("cannot read %s: %s", path, strerror(errno));
			r = SG_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1) {
			sg_cli_err("hashing %s failed in the crypto library", path);
			r = SG_ERR_CRYPTO;
			goto out;
		}
		done += (uint64_t)n;
		if (progress != NULL)
			progress(done, total, progress_arg);
	}
	if (EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != sg_hash_len(h)) {
		sg_cli_err("hashing %s failed in the crypto library", path);
		r = SG_ERR_CRYPTO;
		goto out;
	}
	memcpy(digest, out, outlen);
	*digest_len = outlen;
	r = SG_OK;
out:
	if (r != SG_OK)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(chunk);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Redraw state of the terminal progress bar. */
struct sg_cli_bar {
	int last_permille;
	int drawn;
};

void
sg_cli_progress_draw(FILE *f, uint64_t done, uint64_t total)
{
	enum { WIDTH = 30 };
	char bar[WIDTH + 1];
	int gib = total >= (1ull << 30);
	double unit = gib ? 1024.0 * 1024.0 * 1024.0 : 1024.0 * 1024.0;
	unsigned filled = total > 0 ? (unsigned)((double)done / (double)total * WIDTH) : 0;

	if (filled > WIDTH)
		filled = WIDTH;
	memset(bar, '#', filled);
	memset(bar + filled, ' ', WIDTH - filled);
	bar[WIDTH] = '\0';
	fprintf(f, "\rhashing [%s] %3u%%  %.1f/%.1f %s", bar,
	    total > 0 ? (unsigned)(done * 100 / total) : 0u, (double)done / unit,
	    (double)total / unit, gib ? "GiB" : "MiB");
	fflush(f);
}

static void
sg_cli_bar_update(uint64_t done, uint64_t total, void *arg)
{
	struct sg_cli_bar *b = arg;
	int permille = total > 0 ? (int)(done * 1000 / total) : 0;

	/* Redraw only when the shown value changes: a terminal is slow. */
	if (b->drawn && permille / 10 == b->last_permille / 10 && done < total)
		return;
	sg_cli_progress_draw(stderr, done, total);
	b->last_permille = permille;
	b->drawn = 1;
}

int
sg_cli_hash_file_ui(const char *path, sg_hash_alg h, uint8_t digest[SG_MAX_DIGEST],
    size_t *digest_len)
{
	struct sg_cli_bar bar = { 0, 0 };
	struct stat st;
	int show = 0, r;

	if (isatty(STDERR_FILENO) && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > SG_CLI_PROGRESS_MIN)
		show = 1;
	r = sg_cli_hash_file(path, h, show ? sg_cli_bar_update : NULL, &bar, digest, digest_len);
	if (bar.drawn)
		fputc('\n', stderr);
	return r;
}
