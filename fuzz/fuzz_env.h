/*
 * fuzz_env.h - an in-process Signet service for the fuzz harnesses.
 *
 * fz_env_get builds, once per process, what signetd builds at start but
 * without HTTP: an in-memory SQLite store, the software keystore (master
 * key in a fresh temporary directory), the group committer, the
 * time-stamp authority, the bootstrap admin, a principal holding every
 * role and one ECDSA P-256 key of type TEST with a self-signed
 * certificate.  fz_request then runs one request through
 * the real router (api_route: authentication, roles, handler) with the
 * given method, path, headers and body, as http.c would after reading it.
 * Any failure while building the environment aborts: a harness that
 * silently tests nothing must not pass.
 */
#ifndef SG_FUZZ_ENV_H
#define SG_FUZZ_ENV_H

#include <stddef.h>
#include <stdint.h>
#include "api.h"

typedef struct fz_env {
	sg_service svc;
	char dir[64];                 /* temporary data directory */
	char auth[160];               /* "Bearer <key of the all-roles principal>" */
	char key_id[SG_ID_MAX];       /* the P-256 key (type TEST) */
	char *leaf_pem;               /* its self-signed certificate, version 1 */
} fz_env;

/* The process-wide environment, built on first use. */
fz_env *fz_env_get(void);

/*
 * Run one request as the all-roles principal (or with the headers given,
 * a NULL-terminated name, value list that replaces the default
 * Authorization).  resp is filled as by api_route; free resp->body.
 */
void fz_request(fz_env *e, const char *method, const char *path, const char *const *headers,
    const uint8_t *body, size_t len, api_resp *resp);

#endif
