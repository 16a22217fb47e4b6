/*
 * fuzz_env.c - the in-process service behind the API fuzz harnesses
 * (see fuzz_env.h).  Built once, kept for the life of the fuzzing process.
 */
#define _XOPEN_SOURCE 700  /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "fuzz_env.h"
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_tsa.h"

static fz_env env;
static int env_ready;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_env: %s\n", what);
	abort();
}

void
fz_request(fz_env *e, const char *method, const char *path, const char *const *headers,
    const uint8_t *body, size_t len, api_resp *resp)
{
	const char *const deflt[] = { "Authorization", e->auth, "Content-Type", "application/json", NULL };
	api_req req;
	/* http.c hands handlers a NUL-terminated body; so does this. */
	uint8_t *copy = malloc(len + 1);
	if (copy == NULL)
		die("out of memory");
	if (len > 0)
		memcpy(copy, body, len);
	copy[len] = 0;
	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	req.svc = &e->svc;
	req.method = method;
	req.path = path;
	req.body = copy;
	req.body_len = len;
	req.headers = headers ? headers : deflt;
	sg_strlcpy(req.request_id, "00000000-0000-4000-8000-00000000f022", sizeof(req.request_id));
	sg_strlcpy(req.client_ip, "127.0.0.1", sizeof(req.client_ip));
	api_route(&req, resp);
	free(copy);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The temporary directory goes when the process ends normally. */
static void
remove_dir(void)
{
	if (env.dir[0])
		nftw(env.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A request during set-up that must answer want; returns the parsed body. */
static json_t *
setup_call(fz_env *e, const char *method, const char *path, const char *auth, const char *body,
    unsigned want)
{
	const char *const hdrs[] = { "Authorization", auth, "Content-Type", "application/json", NULL };
	api_resp resp;
	fz_request(e, method, path, hdrs, (const uint8_t *)body, strlen(body), &resp);
	if (resp.status != want) {
		fprintf(stderr, "fuzz_env: %s %s answered %u: %.*s\n", method, path, resp.status,
		    (int)resp.body_len, resp.body ? resp.body : "");
		die("set-up request failed");
	}
	json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
	free(resp.body);
	if (j == NULL)
		die("set-up answer is not JSON");
	return j;
}

fz_env *
fz_env_get(void)
{
	char path[256];
	if (env_ready)
		return &env;
	fz_env *e = &env;
	memset(e, 0, sizeof(*e));
	sg_log_set_level(SG_LOG_ERROR);
	const char *tmp = getenv("TMPDIR");
	snprintf(e->dir, sizeof(e->dir), "%s/signet-fuzz-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(e->dir) == NULL)
		die("cannot make a temporary directory");
	atexit(remove_dir);
	if (snprintf(path, sizeof(path), "%s/master.key", e->dir) >= (int)sizeof(path))
		die("temporary directory name too long");
	if (sg_store_sqlite_open(":memory:", &e->svc.store) != SG_OK ||
	    sg_keystore_soft_open(path, 1, &e->svc.soft) != SG_OK ||
	    sg_committer_start(e->svc.store, 64, &e->svc.committer) != SG_OK)
		die("cannot open the store, keystore or committer");
	/* The TSA key is a keystore key, as signetd makes it on first start. */
	uint8_t *tsa_handle = NULL;
	size_t tsa_handle_len = 0;
	char *tsa_cert = NULL;
	if (sg_tsa_create_key(e->svc.soft, SG_TSA_KEY_EC_P256, &tsa_handle, &tsa_handle_len,
	    &tsa_cert) != SG_OK)
		die("cannot make the time-stamp authority's key");
	sg_tsa_config tc = { .data_dir = e->dir, .keystore = e->svc.soft,
		.keystore_key = { .alg = SG_KEY_EC_P256, .handle = tsa_handle,
		    .handle_len = tsa_handle_len },
		.keystore_cert_pem = tsa_cert };
	int tsa_r = sg_tsa_open(&tc, &e->svc.tsa);
	free(tsa_handle);
	free(tsa_cert);
	if (tsa_r != SG_OK)
		die("cannot open the time-stamp authority");
	e->svc.started_at = sg_now_ms();
	e->svc.idempotency_ttl_ms = 86400000;
	api_routes_init();
	if (snprintf(path, sizeof(path), "%s/bootstrap-admin.key", e->dir) >= (int)sizeof(path))
		die("temporary directory name too long");
	if (sg_api_bootstrap(&e->svc, "fuzz-bootstrap-admin-key", path) != SG_OK)
		die("cannot create the bootstrap admin");

	json_t *j = setup_call(e, "POST", "/v1/principals", "Bearer fuzz-bootstrap-admin-key",
	    "{\"name\":\"fuzzer\",\"roles\":[\"admin\",\"signer\",\"auditor\",\"approver\",\"operator\"]}", 201);
	const char *key = json_string_value(json_object_get(j, "api_key"));
	if (key == NULL)
		die("no api_key in the principal's answer");
	snprintf(e->auth, sizeof(e->auth), "Bearer %s", key);
	json_decref(j);
	j = setup_call(e, "POST", "/v1/keys", e->auth, "{\"alias\":\"fz\",\"algorithm\":\"EC-P256\",\"type\":\"TEST\"}", 201);
	const char *id = json_string_value(json_object_get(j, "id"));
	if (id == NULL)
		die("no id in the key's answer");
	sg_strlcpy(e->key_id, id, sizeof(e->key_id));
	json_decref(j);
	if (snprintf(path, sizeof(path), "/v1/keys/%s/versions/1/self-signed", e->key_id) >= (int)sizeof(path))
		die("key id too long");
	j = setup_call(e, "POST", path, e->auth, "{\"subject\":\"CN=fuzz\"}", 201);
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		if (json_is_string(v) && strstr(json_string_value(v), "BEGIN CERTIFICATE") != NULL)
			e->leaf_pem = strdup(json_string_value(v));
	}
	json_decref(j);
	if (e->leaf_pem == NULL)
		die("no certificate in the self-signed answer");
	env_ready = 1;
	return e;
}
