/*
 * softhsm_test.h - helpers shared by the keystore tests that run against a
 * real SoftHSM2 token (test_pkcs11.c, test_sealed.c).
 *
 * setup_token makes a temporary directory (tmpdir), a SoftHSM2
 * configuration and token directory in it (SOFTHSM2_CONF is set for this
 * process and its children) and initialises one token labelled LABEL with
 * user PIN PIN.  The CHECK macros count checks and failures; a test exits 0
 * only when failures stays 0.  The build names the tools (see
 * CMakeLists.txt): the openssl and pkcs11-tool command lines are the
 * independent witnesses the tests trust.
 */
#ifndef SOFTHSM_TEST_H
#define SOFTHSM_TEST_H

#include <stddef.h>
#include <stdio.h>
#include <p11-kit/pkcs11.h>
#include "sg_err.h"

#if !defined(SG_OPENSSL_CLI) || !defined(SG_SOFTHSM2_UTIL) || !defined(SG_PKCS11_TOOL) || \
    !defined(SG_SOFTHSM2_MODULE)
#error "the build must name openssl, softhsm2-util, pkcs11-tool and libsofthsm2.so"
#endif

#define LABEL "signet-test"
#define PIN "314159"
#define SO_PIN "271828"

extern int checks, failures;
extern char tmpdir[];          /* the test's directory, after setup_token */
extern char tokendir[512];     /* SoftHSM2's token directory inside it */

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

/* tmpdir/name into out. */
void tmp_path(char *out, size_t cap, const char *name);
/* Write n bytes to tmpdir/name: 0 or -1. */
int write_tmp(const char *name, const void *p, size_t n);
/* Whole file tmpdir/name as a NUL-terminated string (malloc'd), NULL on error. */
char *read_tmp(const char *name);
/* Run argv in tmpdir; stdout to tmpdir/out_name (or /dev/null), stderr to /dev/null.
 * The exit status, or -1. */
int run(const char *const argv[], const char *out_name);
int rm_rf(const char *path);

/* Make tmpdir and a token labelled LABEL in it: 0 or -1. */
int setup_token(void);
/* The token's own directory inside tokendir (SoftHSM2 names it by a UUID): 0 or -1. */
int token_subdir(char *out, size_t cap);

/*
 * The test's own read/write session (p11s) on the token, through the module
 * the keystore already initialised (same process, so the same library
 * instance and login state: a private object the keystore can use, this
 * session can see).  p11dl keeps the module mapped until exit, so that
 * LeakSanitizer can name it (lsan.supp).
 */
extern CK_FUNCTION_LIST_PTR p11;
extern CK_SESSION_HANDLE p11s;
extern void *p11dl;
int p11_attach(void);
void p11_detach(void);

#endif
