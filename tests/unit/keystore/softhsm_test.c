/*
 * softhsm_test.c - what the keystore tests share: the check counters, files
 * and child processes in a temporary directory, a SoftHSM2 token made there
 * for the test, and a PKCS#11 session of the test's own to look at it.
 * See softhsm_test.h.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "softhsm_test.h"

int checks, failures;
char tmpdir[] = "/tmp/sg-p11-test-XXXXXX";
char tokendir[512];

/* ---- files and processes ---- */

void
tmp_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

int
write_tmp(const char *name, const void *p, size_t n)
{
	char path[600];
	FILE *f;
	tmp_path(path, sizeof(path), name);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	size_t w = fwrite(p, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Whole file as a NUL-terminated string (malloc'd), NULL on error. */
char *
read_tmp(const char *name)
{
	char path[600];
	FILE *f;
	char *buf = NULL;
	long n;
	tmp_path(path, sizeof(path), name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* Run argv in tmpdir; stdout to tmpdir/out_name (or /dev/null), stderr to /dev/null. */
int
run(const char *const argv[], const char *out_name)
{
	pid_t pid;
	int status;
	char out_path[600];

	if (out_name != NULL)
		tmp_path(out_path, sizeof(out_path), out_name);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		int out = out_name != NULL ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600) :
		    devnull;
		if (devnull < 0 || out < 0 || chdir(tmpdir) != 0)
			_exit(126);
		dup2(out, 1);
		dup2(devnull, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
rm_rf(const char *path)
{
	const char *argv[] = { "/bin/rm", "-rf", path, NULL };
	return run(argv, NULL);
}

/* ---- the token ---- */

int
setup_token(void)
{
	char conf[600], text[700];

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	tmp_path(tokendir, sizeof(tokendir), "tokens");
	if (mkdir(tokendir, 0700) != 0)
		return -1;
	snprintf(text, sizeof(text), "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\n", tokendir);
	if (write_tmp("softhsm2.conf", text, strlen(text)) != 0)
		return -1;
	tmp_path(conf, sizeof(conf), "softhsm2.conf");
	setenv("SOFTHSM2_CONF", conf, 1);
	const char *argv[] = { SG_SOFTHSM2_UTIL, "--init-token", "--free", "--label", LABEL,
	    "--pin", PIN, "--so-pin", SO_PIN, NULL };
	return run(argv, NULL) == 0 ? 0 : -1;
}

/* The token's own directory inside tokendir (SoftHSM names it by a UUID). */
int
token_subdir(char *out, size_t cap)
{
	DIR *d = opendir(tokendir);
	struct dirent *e;
	int found = -1;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(out, cap, "%s/%s", tokendir, e->d_name) >= cap)
			continue;
		found = 0;
		break;
	}
	closedir(d);
	return found;
}

/* ---- our own PKCS#11 view of the token, to inspect objects ---- */

CK_FUNCTION_LIST_PTR p11;
CK_SESSION_HANDLE p11s = CK_INVALID_HANDLE;
void *p11dl;

/*
 * Attach to the module the keystore already initialised (same process, so
 * the same library instance and the same login state: a private object the
 * keystore can use, this session can see).
 */
int
p11_attach(void)
{
	CK_C_GetFunctionList get_list;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	CK_RV rv;

	if ((p11dl = dlopen(SG_SOFTHSM2_MODULE, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -1;
	*(void **)&get_list = dlsym(p11dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&p11) != CKR_OK)
		return -1;
	rv = p11->C_Initialize(NULL);
	CHECK_CTX(rv == CKR_CRYPTOKI_ALREADY_INITIALIZED, "C_Initialize: 0x%lx", (unsigned long)rv);
	if (p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (p11->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    memcmp(ti.label, LABEL, strlen(LABEL)) == 0 && ti.label[strlen(LABEL)] == ' ')
			return p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
			    NULL, &p11s) == CKR_OK ? 0 : -1;
	}
	return -1;
}

void
p11_detach(void)
{
	if (p11s != CK_INVALID_HANDLE)
		(void)p11->C_CloseSession(p11s);
	p11s = CK_INVALID_HANDLE;
}
