/*
 * p11_drive.c - a scriptable PKCS#11 application for the module's failure
 * tests: it loads a module with dlopen, as real tools do, initialises it
 * with CKF_OS_LOCKING_OK, opens one session and then obeys one command per
 * line on stdin, answering one line on stdout, so that a test can change the
 * service between two calls of the same process (a key taken OFFLINE and
 * back ONLINE) and time each call.
 *
 *   flags              token flags in hex
 *   keys               number of private key objects found
 *   login PIN          C_Login(CKU_USER, PIN)
 *   sign LABEL DIGEST  CKM_ECDSA / CKM_RSA_PKCS... chosen by key type over a
 *                      hex input; answers "CKR_OK <hex signature>" or the rv
 *   threads N LABEL DIGEST  N threads, each with its own session, sign at once;
 *                      answers "ok <successes>"
 *
 * Return values are printed as "CKR_<name>" for the ones the tests expect
 * and as hex otherwise.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST *f;

static const char *
rvname(CK_RV rv)
{
	static char buf[32];

	switch (rv) {
	case CKR_OK: return "CKR_OK";
	case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_KEY_FUNCTION_NOT_PERMITTED: return "CKR_KEY_FUNCTION_NOT_PERMITTED";
	case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_ALREADY_LOGGED_IN: return "CKR_USER_ALREADY_LOGGED_IN";
	case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
	default:
		snprintf(buf, sizeof(buf), "0x%lx", (unsigned long)rv);
		return buf;
	}
}

static size_t
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;

	while (s[0] != '\0' && s[1] != '\0' && n < cap) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

/* The private key labelled `label` in session s, or 0. */
static CK_OBJECT_HANDLE
find_key(CK_SESSION_HANDLE s, const char *label, CK_RV *rv)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE h = 0;
	CK_ULONG n = 0;

	if ((*rv = f->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK)
		return 0;
	*rv = f->C_FindObjects(s, &h, 1, &n);
	f->C_FindObjectsFinal(s);
	return n == 1 ? h : 0;
}

/* Sign input with the key labelled label; the signature into sig. */
static CK_RV
sign(CK_SESSION_HANDLE s, const char *label, const unsigned char *in, size_t len,
    unsigned char *sig, CK_ULONG *siglen)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_RV rv;
	CK_OBJECT_HANDLE k = find_key(s, label, &rv);

	if (rv != CKR_OK)
		return rv;
	if (k == 0)
		return CKR_KEY_HANDLE_INVALID;
	if ((rv = f->C_GetAttributeValue(s, k, &a, 1)) != CKR_OK)
		return rv;
	if (kt == CKK_EC_EDWARDS)
		m.mechanism = CKM_EDDSA;
	if ((rv = f->C_SignInit(s, &m, k)) != CKR_OK)
		return rv;
	return f->C_Sign(s, (unsigned char *)in, len, sig, siglen);
}

struct job {
	const char *label;
	unsigned char in[64];
	size_t len;
	int ok;
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	CK_SESSION_HANDLE s;
	unsigned char sig[1024];

	if (f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return NULL;
	for (int i = 0; i < 4; i++) {
		CK_ULONG siglen = sizeof(sig);
		if (sign(s, j->label, j->in, j->len, sig, &siglen) == CKR_OK)
			j->ok++;
	}
	f->C_CloseSession(s);
	return NULL;
}

int
main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS init = { .flags = CKF_OS_LOCKING_OK };
	CK_RV (*get)(CK_FUNCTION_LIST **);
	CK_SESSION_HANDLE s;
	char line[2048];
	void *lib;
	CK_RV rv;

	if (argc != 2) {
		fprintf(stderr, "usage: p11_drive MODULE\n");
		return 2;
	}
	if ((lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (get = (CK_RV (*)(CK_FUNCTION_LIST **))dlsym(lib, "C_GetFunctionList")) == NULL ||
	    get(&f) != CKR_OK) {
		fprintf(stderr, "p11_drive: cannot load %s\n", argv[1]);
		return 2;
	}
	if ((rv = f->C_Initialize(&init)) != CKR_OK ||
	    (rv = f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK) {
		printf("init %s\n", rvname(rv));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char cmd[32] = "", a1[600] = "", a2[200] = "", a3[200] = "";
		int nf = sscanf(line, "%31s %599s %199s %199s", cmd, a1, a2, a3);
		if (nf < 1)
			continue;
		if (strcmp(cmd, "flags") == 0) {
			CK_TOKEN_INFO ti;
			rv = f->C_GetTokenInfo(0, &ti);
			printf("%s 0x%lx\n", rvname(rv), (unsigned long)ti.flags);
		} else if (strcmp(cmd, "keys") == 0) {
			CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
			CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
			CK_OBJECT_HANDLE h[64];
			CK_ULONG n = 0;
			if ((rv = f->C_FindObjectsInit(s, &t, 1)) == CKR_OK) {
				rv = f->C_FindObjects(s, h, 64, &n);
				f->C_FindObjectsFinal(s);
			}
			printf("%s %lu\n", rvname(rv), (unsigned long)n);
		} else if (strcmp(cmd, "login") == 0 && nf >= 2) {
			printf("%s\n", rvname(f->C_Login(s, CKU_USER, (unsigned char *)a1, strlen(a1))));
		} else if (strcmp(cmd, "sign") == 0 && nf >= 3) {
			unsigned char in[64], sig[1024];
			CK_ULONG siglen = sizeof(sig);
			size_t len = unhex(a2, in, sizeof(in));
			rv = sign(s, a1, in, len, sig, &siglen);
			printf("%s ", rvname(rv));
			for (CK_ULONG i = 0; rv == CKR_OK && i < siglen; i++)
				printf("%02x", sig[i]);
			printf("\n");
		} else if (strcmp(cmd, "threads") == 0 && nf >= 4) {
			int n = (int)strtol(a1, NULL, 10), total = 0;
			pthread_t th[32];
			struct job jobs[32];
			if (n < 1 || n > 32)
				n = 1;
			for (int i = 0; i < n; i++) {
				jobs[i].label = a2;
				jobs[i].len = unhex(a3, jobs[i].in, sizeof(jobs[i].in));
				jobs[i].ok = 0;
				pthread_create(&th[i], NULL, worker, &jobs[i]);
			}
			for (int i = 0; i < n; i++) {
				pthread_join(th[i], NULL);
				total += jobs[i].ok;
			}
			printf("ok %d\n", total);
		} else {
			printf("unknown command\n");
		}
	}
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	return 0;
}
