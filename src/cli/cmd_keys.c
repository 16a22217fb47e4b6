/*
 * cmd_keys.c - `signet keys`: create, list, show, rotate a key, change its
 * status, destroy a version, fetch a version's public key, and give a
 * version an X.509 identity (CSR, self-signed test certificate, or an
 * issued chain).
 *
 * Thin wrappers over /v1/keys (SPEC §3).  Key objects are printed as the
 * service returns them (pretty JSON), so scripts can read ids and versions
 * with any JSON tool; `keys list` prints a table unless --json is given.
 * PEM results (public key, CSR, certificate) go to --out or stdout as-is.
 * A key may be named by id or alias everywhere: when a path under
 * /v1/keys/{KEY}/... answers 404, the alias is resolved through
 * GET /v1/keys/{KEY} and the call repeated with the id.
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
    "         [--status ONLINE|OFFLINE|DISABLED]\n"
    "                       create a key (omitted: the service's defaults); prints it as JSON\n"
    "  list [--json]        list the keys of the tenant\n"
    "  show KEY             print a key (id or alias) as JSON\n"
    "  rotate KEY           add a new version; prints the key as JSON\n"
    "  status KEY ONLINE|OFFLINE|DISABLED\n"
    "                       change the key's status; prints the key as JSON\n"
    "  destroy-version KEY N\n"
    "                       wipe version N's private part for good (its public key and\n"
    "                       signatures stay); prints the version as JSON\n"
    "  public-key KEY [--version N] [--out FILE]\n"
    "                       write the PEM public key (default: current version, stdout)\n"
    "  csr KEY --subject S [--version N] [--out FILE]\n"
    "                       a PKCS#10 request signed by the key, PEM, to send to a CA\n"
    "  self-signed KEY --subject S [--days N] [--version N] [--out FILE]\n"
    "                       make and attach a self-signed code-signing certificate\n"
    "                       (TEST keys only; N days, default 365); writes it as PEM\n"
    "  import-cert KEY --version N --chain FILE\n"
    "                       attach an issued PEM chain (leaf first, then each issuer)\n"
    "\n"
    "ALG: RSA-2048, RSA-3072, RSA-4096, EC-P256, EC-P384, EC-P521, Ed25519, ML-DSA-44,\n"
    "ML-DSA-65, ML-DSA-87, MLDSA65-ECDSA-P256.  Status: ONLINE signs; OFFLINE does not\n"
    "sign; DISABLED does not sign and cannot be rotated.  S: \"CN=name,O=org\" or\n"
    "\"/CN=name/O=org\".  PEM output goes to stdout unless --out is given.\n";

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

/*
 * METHOD on a key's sub-path with an optional raw body, retrying with the
 * resolved id when KEY was an alias the path did not know.
 */
static int
sg_cli_key_call_raw(const sg_cli_conn *c, const char *method, const char *key,
    const char *suffix, const void *body, size_t body_len, const char *ctype, json_t **out)
{
	char *path = NULL;
	int r;

	if ((r = sg_cli_key_path(c, key, 0, suffix, &path)) != SG_OK)
		return r;
	r = sg_cli_call_raw(c, method, path, body, body_len, ctype, NULL, out);
	free(path);
	path = NULL;
	/* GET /v1/keys/{KEY} itself is what resolves aliases: no second try there. */
	if (r != SG_ERR_NOT_FOUND || (suffix[0] == '\0' && strcmp(method, "GET") == 0))
		return r;
	sg_cli_err_clear();
	if ((r = sg_cli_key_path(c, key, 1, suffix, &path)) != SG_OK)
		return r;
	r = sg_cli_call_raw(c, method, path, body, body_len, ctype, NULL, out);
	free(path);
	return r;
}

/* sg_cli_key_call_raw with a JSON body (or none). */
static int
sg_cli_key_call(const sg_cli_conn *c, const char *method, const char *key,
    const char *suffix, const json_t *body, json_t **out)
{
	char *json = NULL;
	int r;

	if (body != NULL && (json = json_dumps(body, JSON_COMPACT)) == NULL) {
		sg_cli_err("out of memory");
		return SG_ERR_NOMEM;
	}
	r = sg_cli_key_call_raw(c, method, key, suffix, json, json != NULL ? strlen(json) : 0,
	    json != NULL ? "application/json" : NULL, out);
	free(json);
	return r;
}

/* Write the PEM string field `field` of obj to out_path or stdout. */
static int
sg_cli_write_pem_field(const json_t *obj, const char *field, const char *out_path)
{
	const char *pem = sg_cli_json_str(obj, field);

	if (pem == NULL || strstr(pem, "-----BEGIN ") == NULL) {
		sg_cli_err("service answer has no PEM \"%s\"", field);
		return SG_ERR_BAD_ENCODING;
	}
	return sg_cli_write_output(out_path, pem, strlen(pem));
}

static int
sg_cli_keys_csr(const sg_cli_conn *c, const char *key, const char *subject, int64_t version,
    const char *out_path)
{
	json_t *req = json_object(), *resp = NULL;
	int r = SG_ERR_NOMEM;

	if (req == NULL || json_object_set_new(req, "subject", json_string(subject)) != 0 ||
	    (version > 0 && json_object_set_new(req, "version", json_integer(version)) != 0)) {
		sg_cli_err("out of memory");
		goto out;
	}
	if ((r = sg_cli_key_call(c, "POST", key, "/csr", req, &resp)) == SG_OK)
		r = sg_cli_write_pem_field(resp, "csr_pem", out_path);
out:
	json_decref(req);
	json_decref(resp);
	return r;
}

/* The key's current version (GET /v1/keys/{KEY}). */
static int
sg_cli_current_version(const sg_cli_conn *c, const char *key, int64_t *version)
{
	json_t *obj = NULL;
	int r;

	if ((r = sg_cli_key_call(c, "GET", key, "", NULL, &obj)) != SG_OK)
		return r;
	if ((*version = sg_cli_json_int(obj, "current_version")) == 0) {
		sg_cli_err("service answer for key %s has no current_version", key);
		r = SG_ERR_BAD_ENCODING;
	}
	json_decref(obj);
	return r;
}

static int
sg_cli_keys_self_signed(const sg_cli_conn *c, const char *key, const char *subject,
    int64_t days, int64_t version, const char *out_path)
{
	json_t *req = NULL, *resp = NULL;
	char suffix[64];
	int r;

	if (version == 0 && (r = sg_cli_current_version(c, key, &version)) != SG_OK)
		return r;
	snprintf(suffix, sizeof(suffix), "/versions/%lld/self-signed", (long long)version);
	if ((req = json_object()) == NULL ||
	    json_object_set_new(req, "subject", json_string(subject)) != 0 ||
	    (days > 0 && json_object_set_new(req, "days", json_integer(days)) != 0)) {
		sg_cli_err("out of memory");
		r = SG_ERR_NOMEM;
		goto out;
	}
	if ((r = sg_cli_key_call(c, "POST", key, suffix, req, &resp)) == SG_OK)
		r = sg_cli_write_pem_field(resp, "certificate_pem", out_path);
out:
	json_decref(req);
	json_decref(resp);
	return r;
}

static int
sg_cli_keys_import_cert(const sg_cli_conn *c, const char *key, int64_t version,
    const char *chain_path)
{
	uint8_t *pem = NULL;
	size_t len = 0, certs = 0;
	json_t *resp = NULL;
	char suffix[64];
	const char *p;
	int r;

	if ((r = sg_read_file(chain_path, SG_CLI_MAX_PEM, &pem, &len)) != SG_OK) {
		sg_cli_err("cannot read certificate chain %s: %s", chain_path, sg_err_str(r));
		return r;
	}
	/* sg_read_file NUL-terminates; count the certificates for the message. */
	for (p = (const char *)pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
		certs++;
	if (certs == 0) {
		sg_cli_err("%s holds no PEM certificate", chain_path);
		r = SG_ERR_INVALID_ARGUMENT;
		goto out;
	}
	snprintf(suffix, sizeof(suffix), "/versions/%lld/certificate", (long long)version);
	if ((r = sg_cli_key_call_raw(c, "PUT", key, suffix, pem, len, "application/x-pem-file",
	    &resp)) != SG_OK)
		goto out;
	printf("attached a chain of %zu certificate%s to key %s version %lld\n", certs,
	    certs == 1 ? "" : "s", key, (long long)version);
out:
	json_decref(resp);
	free(pem);
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
	enum { CREATE, LIST, SHOW, ROTATE, STATUS, DESTROY, PUBKEY, CSR, SELF_SIGNED, IMPORT };
	static const char *const names[] = { "create", "list", "show", "rotate", "status",
	    "destroy-version", "public-key", "csr", "self-signed", "import-cert", NULL };
	static const char *const storages[] = { "DISK", "HSM", NULL };
	static const char *const types[] = { "TEST", "PRODUCTION", NULL };
	static const char *const all_statuses[] = { "ONLINE", "OFFLINE", "DISABLED", NULL };
	static const char *const posnames[] = { "", "", "KEY", "KEY", "KEY and STATUS",
	    "KEY and N", "KEY", "KEY", "KEY", "KEY" };
	static const size_t npos[] = { 0, 0, 1, 1, 2, 2, 1, 1, 1, 1 };
	const char *alias = NULL, *algorithm = NULL, *storage = NULL, *type = NULL;
	const char *status = NULL, *json_flag = NULL, *version_s = NULL, *out_path = NULL;
	const char *subject = NULL, *days_s = NULL, *chain = NULL;
	const char *pos[2] = { NULL, NULL };
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
	sg_cli_opt csr_opts[] = {
		{ "subject", 1, &subject },
		{ "version", 1, &version_s },
		{ "out", 1, &out_path },
		{ NULL, 0, NULL },
	};
	sg_cli_opt self_opts[] = {
		{ "subject", 1, &subject },
		{ "days", 1, &days_s },
		{ "version", 1, &version_s },
		{ "out", 1, &out_path },
		{ NULL, 0, NULL },
	};
	sg_cli_opt import_opts[] = {
		{ "version", 1, &version_s },
		{ "chain", 1, &chain },
		{ NULL, 0, NULL },
	};
	const sg_cli_opt *const tables[] = { create_opts, list_opts, none_opts, none_opts,
	    none_opts, none_opts, pub_opts, csr_opts, self_opts, import_opts };
	char cmdname[32], suffix[64];
	sg_cli_conn conn;
	int64_t version = 0, days = 0;
	int r = SG_ERR_INTERNAL, rc, sub;
	sg_key_alg alg = SG_KEY_NONE;
	json_t *body = NULL, *obj = NULL;

	memset(&conn, 0, sizeof(conn));
	if ((sub = sg_cli_group(argc, argv, "keys", sg_cli_usage_keys, names, &rc)) < 0)
		return rc;
	rc = SG_CLI_EXIT_ERROR;
	snprintf(cmdname, sizeof(cmdname), "keys %s", names[sub]);
	if (sg_cli_sub_parse(argc - 1, argv + 1, tables[sub], pos, npos[sub], posnames[sub]) !=
	    SG_OK)
		goto usage;
	if (sub == CREATE) {
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
		    (status != NULL && (status = sg_cli_pick_word(status, "status", all_statuses)) == NULL))
			goto usage;
	}
	if (sub == STATUS && (status = sg_cli_pick_word(pos[1], "status", all_statuses)) == NULL) {
		/* The message says "--status"; here it is the second argument. */
		sg_cli_err_clear();
		sg_cli_err("STATUS must be one of ONLINE, OFFLINE, DISABLED, not '%s'", pos[1]);
		goto usage;
	}
	if (sub == DESTROY && sg_cli_parse_version(pos[1], "N", &version) != SG_OK)
		goto usage;
	if ((sub == CSR || sub == SELF_SIGNED) && subject == NULL) {
		sg_cli_err("missing --subject (e.g. \"CN=Acme Release Signing,O=Acme\")");
		goto usage;
	}
	if (sub == IMPORT && (version_s == NULL || chain == NULL)) {
		sg_cli_err("missing %s", version_s == NULL ? "--version" : "--chain");
		goto usage;
	}
	if (version_s != NULL && sg_cli_parse_version(version_s, "--version", &version) != SG_OK)
		goto usage;
	if (days_s != NULL && sg_cli_parse_num(days_s, "--days", 1, 3650, &days) != SG_OK)
		goto usage;
	if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
		goto usage;

	switch (sub) {
	case CREATE:
		r = sg_cli_keys_create(&conn, alias, sg_key_alg_name(alg), storage, type, status);
		break;
	case LIST:
		r = sg_cli_keys_list(&conn, json_flag != NULL);
		break;
	case PUBKEY:
		r = sg_cli_keys_public_key(&conn, pos[0], version, out_path);
		break;
	case CSR:
		r = sg_cli_keys_csr(&conn, pos[0], subject, version, out_path);
		break;
	case SELF_SIGNED:
		r = sg_cli_keys_self_signed(&conn, pos[0], subject, days, version, out_path);
		break;
	case IMPORT:
		r = sg_cli_keys_import_cert(&conn, pos[0], version, chain);
		break;
	case STATUS:
		if ((body = json_pack("{s:s}", "status", status)) == NULL) {
			sg_cli_err("out of memory");
			r = SG_ERR_NOMEM;
			break;
		}
		if ((r = sg_cli_key_call(&conn, "PATCH", pos[0], "", body, &obj)) == SG_OK)
			r = sg_cli_print_json(obj);
		break;
	case DESTROY:
		snprintf(suffix, sizeof(suffix), "/versions/%lld", (long long)version);
		if ((r = sg_cli_key_call(&conn, "DELETE", pos[0], suffix, NULL, &obj)) == SG_OK)
			r = sg_cli_print_json(obj);
		break;
	default:
		r = sg_cli_key_call(&conn, sub == SHOW ? "GET" : "POST", pos[0],
		    sub == SHOW ? "" : "/rotate", NULL, &obj);
		if (r == SG_OK)
			r = sg_cli_print_json(obj);
		break;
	}
	if (r == SG_OK)
		rc = SG_CLI_EXIT_OK;
	goto out;
usage:
	sg_cli_err_usage(cmdname);
out:
	json_decref(body);
	json_decref(obj);
	sg_cli_conn_clear(&conn);
	return rc;
}
