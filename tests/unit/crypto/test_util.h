/*
 * test_util.h - the little the crypto tests share: counting checks, a
 * scratch directory, and running an independent tool (openssl, node) on
 * files written there.
 */
#ifndef SG_TEST_UTIL_H
#define SG_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sg_err.h"

extern int checks, failures;
extern char tmpdir[64];

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

#define CHECK_CTX(cond, ...) do { \
	checks++; \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

/* Create / empty and remove the scratch directory tmpdir.  0 on success. */
int test_tmpdir_make(void);
void test_tmpdir_remove(void);

/* Write or read a whole file in tmpdir.  1 on success. */
int test_write(const char *name, const void *p, size_t n);
int test_read(const char *name, uint8_t *buf, size_t cap, size_t *n);

/*
 * Run prog with args (NULL-terminated, without argv[0]) in tmpdir, output
 * discarded.  Its exit status, or -1 when it could not run or was killed.
 */
int test_run(const char *prog, const char *const *args);

/* Hex text into at most cap bytes; the byte count, or 0 on bad input. */
size_t test_unhex(const char *hex, uint8_t *out, size_t cap);

/* The ML-DSA part (test_pq.c), given the shared vectors directory. */
void test_pq(const char *vectors_dir);

#endif
