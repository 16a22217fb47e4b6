/*
 * cmd_keys.c - `signet keys`: create, list, show, rotate a key, and fetch a
 * version's public key as PEM.
 *
 * Thin wrappers over /v1/keys (SPEC §3).  Key objects are printed as the
 * service returns them (pretty JSON), so scripts can read ids and versions
 * with any JSON tool; `keys list` prints a table unless --json is given.
 * A key may be named by id or alias everywhere: paths other than
 * GET /v1/keys/{id-or-alias} need the id, so an alias is resolved first
 * when the service does not know it there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sg_cli.h"
#include "sg_util.h"

static const char sg_cli_usage_keys[] =
    "usage: signet keys COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  create --alias A --algorithm ALG [--storage DISK|HSM] [--type TEST|PRODUCTION]\n"
    "         [--status ONLINE|OFFLINE]\n"
    "                       create a key (omitted: the service's defaults); prints it as JSON\n"
    "  list [--json]        list the keys of the tenant\n"
    "  show KEY             print a key (id or alias) as JSON\n"
    "  rotate KEY           add a new version; prints the key as JSON\n"
    "  public-key KEY [--version N] [--out FILE]\n"
    "                       write the PEM public key (default: current version, stdout)\n"
    "\n"
    "ALG: RSA-2048, RSA-3072, RSA-4096, EC-P256, EC-P384, EC-P521, Ed25519, ML-DSA-65,\n"
    "MLDSA65-ECDSA-P256.\n";

/* Print a JSON value, indented, on stdout. */
static int
sg_cli_print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF) {
		sg_cli_err("cannot write to stdout");
		return SG_ERR_IO;
	}
	return SG_OK;
}

/* Upper-case copy of one of the allowed words, or NULL with a message. */
static const char *
sg_cli_pick_word(const char *value, const char *flag, const char *const *words)
{
	for (size_t i = 0; words[i] != NULL; i++) {
		if (strcasecmp(value, words[i]) == 0)
			return words[i];
	}
	sg_cli_err("--%s must be one of %s%s%s%s%s, not '%s'", flag, words[0],
	    words[1] != NULL ? ", " : "", words[1] != NULL ? words[1] : "",
	    words[1] != NULL && words[2] != NULL ? ", " : "",
	    words[1] != NULL && words[2] != NULL ? words[2] : "", value);
	return NULL;
}

/*
 * Path "/v1/keys/<id>" + suffix for the key named KEY (id or alias).  The
 * caller frees *path.  Resolves through GET /v1/keys/{KEY} only when
 * `resolve` is set (after a 404 on the direct path).
 */
static int
sg_cli_key_path(const sg_cli_conn *c, const char *key, int resolve, const char *suffix,
    char **path)
{
	int r;
	json_t *obj = NULL;
	char *esc = NULL, *out;
	size_t n;
	const char *id = key;

	if (resolve) {
		if ((esc = sg_cli_path_escape(key)) == NULL)
			goto nomem;
		n = strlen(esc) + sizeof("/v1/keys/");
		if ((out = malloc(n)) == NULL)
			goto nomem;
		snprintf(out, n, "/v1/keys/%s", esc);
		r = sg_cli_call(c, "GET", out, NULL, NULL, &obj);
		free(out);
		free(esc);
		esc = NULL;
		if (r != SG_OK)
			return r;
		if ((id = sg_cli_json_str(obj, "id")) == NULL) {
			json_decref(obj);
			sg_cli_err("service answer for key %s has no id", key);
			return SG_ERR_BAD_ENCODING;
		}
	}
	esc = sg_cli_path_escape(id);
	json_decref(obj);
	if (esc == NULL)
		goto nomem;
	n = strlen(esc) + strlen(suffix) + sizeof("/v1/keys/");
	if ((out = malloc(n)) == NULL)
		goto nomem;
	snprintf(out, n, "/v1/keys/%s%s", esc, suffix);
	free(esc);
	*path = out;
	return SG_OK;
nomem:
	free(esc);
	sg_cli_err("out of memory");
	return SG_ERR_NOMEM;
}

/* METHOD on a key's sub-path, retrying with the resolved id when KEY was an alias. */
static int
sg_cli_key_call(const sg_cli_conn *c, const char *method, const char *key,
    const char *suffix, json_t **out)
{
	char *path = NULL;
	int r;

	if ((r = sg_cli_key_path(c, key, 0, suffix, &path)) != SG_OK)
		return r;
	r = sg_cli_call(c, method, path, NULL, NULL, out);
	free(path);
	path = NULL;
	if (r != SG_ERR_NOT_FOUND || suffix[0] == '\0')
		return r;
	sg_cli_err_clear();
	if ((r = sg_cli_key_path(c, key, 1, suffix, &path)) != SG_OK)
		return r;
	r = sg_cli_call(c, method, path, NULL, NULL, out);
	free(path);
	return r;
}

static int
sg_cli_keys_create(const sg_cli_conn *c, const char *alias, const char *algorithm,
    const char *storage, const char *type, const char *status)
{
	json_t *req = json_object(), *resp = NULL;
	int r = SG_ERR_NOMEM;

	/* Omitted fields take the service's defaults: one place decides them. */
	if (req == NULL || json_object_set_new(req, "alias", json_string(alias)) != 0 ||
	    json_object_set_new(req, "algorithm", json_string(algorithm)) != 0 ||
	    (storage != NULL && json_object_set_new(req, "storage", json_string(storage)) != 0) ||
	    (type != NULL && json_object_set_new(req, "type", json_string(type)) != 0) ||
	    (status != NULL && json_object_set_new(req, "status", json_string(status)) != 0)) {
		sg_cli_err("out of memory");
		goto out;
	}
	if ((r = sg_cli_call(c, "POST", "/v1/keys", req, NULL, &resp)) != SG_OK)
		goto out;
	r = sg_cli_print_json(resp);
out:
	json_decref(req);
	json_decref(resp);
	return r;
}

static int
sg_cli_keys_list(const sg_cli_conn *c, int as_json)
{
	json_t *resp = NULL, *keys, *k;
	size_t i;
	int r;

	if ((r = sg_cli_call(c, "GET", "/v1/keys", NULL, NULL, &resp)) != SG_OK)
		return r;
	keys = json_object_get(resp, "keys");
	if (!json_is_array(keys)) {
		sg_cli_err("service answer to GET /v1/keys has no \"keys\" list");
		json_decref(resp);
		return SG_ERR_BAD_ENCODING;
	}
	if (as_json) {
		r = sg_cli_print_json(resp);
		json_decref(resp);
		return r;
	}
	printf("%-36s  %-24s  %-18s  %-7s  %-10s  %-8s  %s\n", "ID", "ALIAS", "ALGORITHM",
	    "STORAGE", "TYPE", "STATUS", "VERSION");
	json_array_foreach(keys, i, k) {
		const char *id = sg_cli_json_str(k, "id"), *alias = sg_cli_json_str(k, "alias");
		const char *alg = sg_cli_json_str(k, "algorithm");
		const char *storage = sg_cli_json_str(k, "storage");
		const char *type = sg_cli_json_str(k, "type");
		const char *status = sg_cli_json_str(k, "status");
		printf("%-36s  %-24s  %-18s  %-7s  %-10s  %-8s  %lld\n", id ? id : "-",
		    alias ? alias : "-", alg ? alg : "-", storage ? storage : "-",
		    type ? type : "-", status ? status : "-",
		    (long long)sg_cli_json_int(k, "current_version"));
	}
	json_decref(resp);
	if (fflush(stdout) != 0) {
		sg_cli_err("cannot write to stdout");
		return SG_ERR_IO;
	}
	return SG_OK;
}

/* Write the PEM public key of KEY (version 0: current) to out_path or stdout. */
static int
sg_cli_keys_public_key(const sg_cli_conn *c, const char *key, int64_t version,
    const char *out_path)
{
	char suffix[64] = "/public-key";
	char *path = NULL;
	sg_cli_resp resp;
	json_t *obj = NULL;
	const char *pem;
	size_t pem_len;
	int r, resolved = 0;

	memset(&resp, 0, sizeof(resp));
	if (version > 0)
		snprintf(suffix, sizeof(suffix), "/public-key?version=%lld", (long long)version);
	for (;;) {
		if ((r = sg_cli_key_path(c, key, resolved, suffix, &path)) != SG_OK)
			return r;
		r = sg_cli_http(c, "GET", path, NULL, "application/x-pem-file", &resp);
		free(path);
		path = NULL;
		if (r != SG_OK)
			return r;
		if (resp.status != 404 || resolved)
			break;
		/* Maybe an alias: resolve it to an id and ask again. */
		sg_cli_resp_free(&resp);
		resolved = 1;
	}
	if (resp.status != 200) {
		r = sg_cli_resp_error(&resp);
		goto out;
	}
	pem = (const char *)resp.body.data;
	pem_len = resp.body.len;
	/* A service that ignores Accept answers JSON: take the PEM out of it. */
	if (strncasecmp(resp.content_type, "application/json", 16) == 0) {
		obj = json_loadb(pem != NULL ? pem : "", pem_len, 0, NULL);
		pem = sg_cli_json_str(obj, "public_key_pem");
		pem_len = pem != NULL ? strlen(pem) : 0;
	}
	if (pem == NULL || pem_len == 0 || strstr(pem, "-----BEGIN ") == NULL) {
		sg_cli_err("service answer is not a PEM public key");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (out_path != NULL) {
		if ((r = sg_write_file(out_path, pem, pem_len, 0644)) != SG_OK)
			sg_cli_err("cannot write %s: %s", out_path, sg_err_str(r));
	} else if (fwrite(pem, 1, pem_len, stdout) != pem_len || fflush(stdout) != 0) {
		sg_cli_err("cannot write to stdout");
		r = SG_ERR_IO;
	}
out:
	json_decref(obj);
	sg_cli_resp_free(&resp);
	return r;
}

int
sg_cli_cmd_keys(int argc, char **argv)
{
	static const char *const storages[] = { "DISK", "HSM", NULL };
	static const char *const types[] = { "TEST", "PRODUCTION", NULL };
	static const char *const statuses[] = { "ONLINE", "OFFLINE", NULL };
	const char *alias = NULL, *algorithm = NULL, *storage = NULL, *type = NULL;
	const char *status = NULL, *json_flag = NULL, *version_s = NULL, *out_path = NULL;
	const char *pos[1];
	size_t npos = 0;
	sg_cli_opt common[6];
	sg_cli_opt create_opts[] = {
		{ "alias", 1, &alias },
		{ "algorithm", 1, &algorithm },
		{ "storage", 1, &storage },
		{ "type", 1, &type },
		{ "status", 1, &status },
		{ NULL, 0, NULL },
	};
	sg_cli_opt list_opts[] = { { "json", 0, &json_flag }, { NULL, 0, NULL } };
	sg_cli_opt none_opts[] = { { NULL, 0, NULL } };
	sg_cli_opt pub_opts[] = {
		{ "version", 1, &version_s },
		{ "out", 1, &out_path },
		{ NULL, 0, NULL },
	};
	const sg_cli_opt *opts;
	size_t want_pos;
	char cmdname[32];
	sg_cli_conn conn;
	int64_t version = 0;
	int r, rc = SG_CLI_EXIT_ERROR;
	const char *sub;
	sg_key_alg alg = SG_KEY_NONE;

	memset(&conn, 0, sizeof(conn));
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
	    strcmp(argv[0], "help") == 0) {
		if (argc < 1) {
			sg_cli_err("missing command (create, list, show, rotate, public-key)");
			sg_cli_err_usage("keys");
			return SG_CLI_EXIT_ERROR;
		}
		fputs(sg_cli_usage_keys, stdout);
		fputs(sg_cli_usage_conn, stdout);
		return SG_CLI_EXIT_OK;
	}
	sub = argv[0];
	snprintf(cmdname, sizeof(cmdname), "keys %s", sub);
	if (strcmp(sub, "create") == 0) {
		opts = create_opts;
		want_pos = 0;
	} else if (strcmp(sub, "list") == 0) {
		opts = list_opts;
		want_pos = 0;
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "rotate") == 0) {
		opts = none_opts;
		want_pos = 1;
	} else if (strcmp(sub, "public-key") == 0) {
		opts = pub_opts;
		want_pos = 1;
	} else {
		sg_cli_err("unknown keys command '%s'", sub);
		sg_cli_err_usage("keys");
		return SG_CLI_EXIT_ERROR;
	}
	if (sg_cli_wants_help(argc - 1, argv + 1)) {
		fputs(sg_cli_usage_keys, stdout);
		fputs(sg_cli_usage_conn, stdout);
		return SG_CLI_EXIT_OK;
	}
	sg_cli_conn_opts(&sg_cli_flags, common);
	if (sg_cli_parse(argc - 1, argv + 1, opts, common, pos, want_pos, &npos) != SG_OK)
		goto usage;
	if (npos != want_pos) {
		sg_cli_err("missing KEY");
		goto usage;
	}
	if (strcmp(sub, "create") == 0) {
		if (alias == NULL || algorithm == NULL) {
			sg_cli_err("missing %s", alias == NULL ? "--alias" : "--algorithm");
			goto usage;
		}
		if ((alg = sg_key_alg_from_name(algorithm)) == SG_KEY_NONE) {
			sg_cli_err("unknown key algorithm '%s'", algorithm);
			goto usage;
		}
		if ((storage != NULL &&
		    (storage = sg_cli_pick_word(storage, "storage", storages)) == NULL) ||
		    (type != NULL && (type = sg_cli_pick_word(type, "type", types)) == NULL) ||
		    (status != NULL && (status = sg_cli_pick_word(status, "status", statuses)) == NULL))
			goto usage;
	}
	if (version_s != NULL && sg_cli_parse_version(version_s, "--version", &version) != SG_OK)
		goto usage;
	if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
		goto usage;

	if (strcmp(sub, "create") == 0) {
		r = sg_cli_keys_create(&conn, alias, sg_key_alg_name(alg), storage, type, status);
	} else if (strcmp(sub, "list") == 0) {
		r = sg_cli_keys_list(&conn, json_flag != NULL);
	} else if (strcmp(sub, "public-key") == 0) {
		r = sg_cli_keys_public_key(&conn, pos[0], version, out_path);
	} else {
		json_t *obj = NULL;
		r = sg_cli_key_call(&conn, strcmp(sub, "show") == 0 ? "GET" : "POST", pos[0],
		    strcmp(sub, "show") == 0 ? "" : "/rotate", &obj);
		if (r == SG_OK)
			r = sg_cli_print_json(obj);
		json_decref(obj);
	}
	if (r == SG_OK)
		rc = SG_CLI_EXIT_OK;
	goto out;
usage:
	sg_cli_err_usage(cmdname);
out:
	sg_cli_conn_clear(&conn);
	return rc;
}
