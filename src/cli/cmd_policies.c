/*
 * cmd_policies.c - `signet policies`: create, list and show signing
 * policies (POST/GET /v1/policies).
 *
 * A policy is mostly lists and switches; the flags map one to one onto the
 * fields of docs/api.md, and only what was given is sent, so the service's
 * defaults (anything the key supports, fast signing without approvals, the
 * "approver" role) stay decided in one place.  Names the CLI can check -
 * hash and signature algorithms, roles, numbers in range - are checked
 * before anything is sent, so a typo is a usage error rather than a policy
 * that refuses every request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sg_cli.h"

static const char sg_cli_usage_policies[] =
    "usage: signet policies COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  create --project P --slug S --key KEY [options]\n"
    "                       create policy P/S signing with KEY; prints it as JSON\n"
    "  list [--json]        the tenant's policies\n"
    "  show P/S             print one policy (with its key's public key and chain) as JSON\n"
    "\n"
    "create options (omitted: the service's defaults, see docs/api.md):\n"
    "  --approvals N                    approvals a request needs (0-16, default 0)\n"
    "  --approver-role ROLE             who may approve: holders of ROLE (default approver)\n"
    "  --approver ID                    ... or these principals (repeat the option)\n"
    "  --approval-timeout SECONDS       reject requests not approved in time (0: never)\n"
    "  --allow-hash ALG                 allowed hash algorithms (repeat, or ALG,ALG)\n"
    "  --allow-signature-algorithm ALG  allowed signature schemes (repeat, or ALG,ALG)\n"
    "  --require-metadata FIELD         metadata field every request must carry (repeat)\n"
    "  --no-fast                        never sign in the HTTP call: always queue (202)\n"
    "  --allow-legacy-hashes            allow MD5 and SHA-1\n"
    "  --timestamp                      add an RFC 3161 time stamp to every signature\n"
    "\n"
    "ROLE: admin, signer, approver, auditor, operator.\n";

/* Append the comma-separated names of each value to arr; check them with `check`. */
static int
sg_cli_list_values(const char *const *values, int split, const char *flag,
    int (*check)(const char *name, const char **canon), json_t *arr)
{
	char item[160];

	for (size_t i = 0; values[i] != NULL; i++) {
		const char *p = values[i];
		while (*p != '\0') {
			size_t n = split ? strcspn(p, ",") : strlen(p);
			const char *canon = NULL;
			if (n == 0 || n >= sizeof(item)) {
				sg_cli_err("--%s needs names of 1 to %zu characters", flag,
				    sizeof(item) - 1);
				return SG_ERR_INVALID_ARGUMENT;
			}
			memcpy(item, p, n);
			item[n] = '\0';
			if (check != NULL && check(item, &canon) != SG_OK)
				return SG_ERR_INVALID_ARGUMENT;
			if (json_array_append_new(arr, json_string(canon != NULL ? canon : item)) != 0) {
				sg_cli_err("out of memory");
				return SG_ERR_NOMEM;
			}
			p += n;
			if (*p == ',')
				p++;
		}
	}
	return SG_OK;
}

static int
sg_cli_check_hash_name(const char *name, const char **canon)
{
	sg_hash_alg h = sg_hash_from_name(name);

	if (h == SG_HASH_NONE) {
		sg_cli_err("unknown hash algorithm '%s' in --allow-hash", name);
		return SG_ERR_INVALID_ARGUMENT;
	}
	/* The service matches the canonical spelling only: send that. */
	*canon = sg_hash_name(h);
	return SG_OK;
}

static int
sg_cli_check_scheme_name(const char *name, const char **canon)
{
	(void)canon;
	if (sg_scheme_from_name(name) == SG_SCHEME_NONE) {
		sg_cli_err("unknown signature algorithm '%s' in --allow-signature-algorithm", name);
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

/* Everything `policies create` accepts. */
struct sg_cli_policy_flags {
	const char *project, *slug, *key, *approvals, *approver_role, *timeout, *no_fast;
	const char *legacy, *timestamp;
	const char *approvers[SG_CLI_MAX_LIST + 1];
	const char *hashes[SG_CLI_MAX_LIST + 1];
	const char *schemes[SG_CLI_MAX_LIST + 1];
	const char *metadata[SG_CLI_MAX_LIST + 1];
};

/* The POST /v1/policies body for the flags, or a usage error (message recorded). */
static int
sg_cli_policy_body(const struct sg_cli_policy_flags *f, json_t **out)
{
	static const char *const roles[] = { "admin", "signer", "approver", "auditor",
	    "operator", NULL };
	json_t *body = json_object(), *arr = NULL;
	int64_t approvals = 0, timeout = 0;
	const char *role = NULL;
	int r = SG_ERR_INVALID_ARGUMENT;

	if (body == NULL)
		goto nomem;
	if (f->project == NULL || f->slug == NULL || f->key == NULL) {
		sg_cli_err("missing %s", f->project == NULL ? "--project" :
		    f->slug == NULL ? "--slug" : "--key");
		goto out;
	}
	if ((f->approvals != NULL &&
	    sg_cli_parse_num(f->approvals, "--approvals", 0, 16, &approvals) != SG_OK) ||
	    (f->timeout != NULL &&
	    sg_cli_parse_num(f->timeout, "--approval-timeout", 0, 2592000, &timeout) != SG_OK))
		goto out;
	if (f->approver_role != NULL && f->approvers[0] != NULL) {
		sg_cli_err("give either --approver-role or --approver, not both");
		goto out;
	}
	if (f->approver_role != NULL) {
		for (size_t i = 0; roles[i] != NULL; i++) {
			if (strcasecmp(f->approver_role, roles[i]) == 0)
				role = roles[i];
		}
		if (role == NULL) {
			sg_cli_err("--approver-role must be one of admin, signer, approver, auditor, "
			    "operator, not '%s'", f->approver_role);
			goto out;
		}
	}
	if (json_object_set_new(body, "project", json_string(f->project)) != 0 ||
	    json_object_set_new(body, "slug", json_string(f->slug)) != 0 ||
	    json_object_set_new(body, "key", json_string(f->key)) != 0 ||
	    (f->approvals != NULL &&
	    json_object_set_new(body, "approvals_required", json_integer(approvals)) != 0) ||
	    (f->timeout != NULL &&
	    json_object_set_new(body, "approval_timeout_seconds", json_integer(timeout)) != 0) ||
	    (f->no_fast != NULL && json_object_set_new(body, "allow_fast", json_false()) != 0) ||
	    (f->legacy != NULL &&
	    json_object_set_new(body, "allow_legacy_hashes", json_true()) != 0) ||
	    (f->timestamp != NULL && json_object_set_new(body, "timestamp", json_true()) != 0) ||
	    (role != NULL &&
	    json_object_set_new(body, "approvers", json_pack("{s:s}", "role", role)) != 0))
		goto nomem;
	if (f->approvers[0] != NULL) {
		if ((arr = json_array()) == NULL)
			goto nomem;
		if ((r = sg_cli_list_values(f->approvers, 0, "approver", NULL, arr)) != SG_OK)
			goto out;
		if (json_object_set_new(body, "approvers", json_pack("{s:o}", "principals", arr)) != 0) {
			arr = NULL;
			goto nomem;
		}
		arr = NULL;
	}
	const struct {
		const char *const *values;
		int split;
		const char *flag, *field;
		int (*check)(const char *, const char **);
	} lists[] = {
		{ f->hashes, 1, "allow-hash", "allowed_hash_algorithms", sg_cli_check_hash_name },
		{ f->schemes, 1, "allow-signature-algorithm", "allowed_signature_algorithms",
		  sg_cli_check_scheme_name },
		{ f->metadata, 0, "require-metadata", "required_metadata", NULL },
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (lists[i].values[0] == NULL)
			continue;
		if ((arr = json_array()) == NULL)
			goto nomem;
		r = sg_cli_list_values(lists[i].values, lists[i].split, lists[i].flag,
		    lists[i].check, arr);
		if (r != SG_OK)
			goto out;
		if (json_object_set_new(body, lists[i].field, arr) != 0) {
			arr = NULL;
			goto nomem;
		}
		arr = NULL;
	}
	*out = body;
	body = NULL;
	r = SG_OK;
	goto out;
nomem:
	sg_cli_err("out of memory");
	r = SG_ERR_NOMEM;
out:
	json_decref(arr);
	json_decref(body);
	return r;
}

static int
sg_cli_policies_list(const sg_cli_conn *c, int as_json)
{
	char name[260], key[40], fast[8], ts[8], created[32];
	json_t *resp = NULL, *list, *p;
	size_t i;
	int r;

	if ((r = sg_cli_call(c, "GET", "/v1/policies", NULL, NULL, &resp)) != SG_OK)
		return r;
	list = json_object_get(resp, "policies");
	if (!json_is_array(list)) {
		sg_cli_err("service answer to GET /v1/policies has no \"policies\" list");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (as_json) {
		r = sg_cli_print_json(resp);
		goto out;
	}
	printf("%-40s  %-36s  %-9s  %-4s  %-9s  %s\n", "POLICY", "KEY", "APPROVALS", "FAST",
	    "TIMESTAMP", "CREATED");
	json_array_foreach(list, i, p) {
		char both[300];
		snprintf(both, sizeof(both), "%.128s/%.128s",
		    sg_cli_json_str(p, "project") != NULL ? sg_cli_json_str(p, "project") : "?",
		    sg_cli_json_str(p, "slug") != NULL ? sg_cli_json_str(p, "slug") : "?");
		sg_cli_plain(name, sizeof(name), both);
		sg_cli_plain(key, sizeof(key), sg_cli_json_str(p, "key"));
		sg_cli_plain(created, sizeof(created), sg_cli_json_str(p, "created_at"));
		snprintf(fast, sizeof(fast), "%s", json_is_true(json_object_get(p, "allow_fast")) ?
		    "yes" : "no");
		snprintf(ts, sizeof(ts), "%s", json_is_true(json_object_get(p, "timestamp")) ?
		    "yes" : "no");
		printf("%-40s  %-36s  %-9lld  %-4s  %-9s  %s\n", name, key,
		    (long long)(sg_cli_json_uint(p, "approvals_required") < 0 ? 0 :
		    sg_cli_json_uint(p, "approvals_required")), fast, ts, created);
	}
	r = SG_OK;
out:
	json_decref(resp);
	return r;
}

static int
sg_cli_policies_show(const sg_cli_conn *c, const char *name)
{
	const char *slash = strchr(name, '/');
	char path[1100], *project = NULL, *pesc = NULL, *sesc = NULL;
	json_t *resp = NULL;
	int r = SG_ERR_INVALID_ARGUMENT;

	if (slash == NULL || slash == name || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
		sg_cli_err("a policy is named PROJECT/SLUG, not '%s'", name);
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((project = strndup(name, (size_t)(slash - name))) == NULL ||
	    (pesc = sg_cli_path_escape(project)) == NULL ||
	    (sesc = sg_cli_path_escape(slash + 1)) == NULL ||
	    (size_t)snprintf(path, sizeof(path), "/v1/policies/%s/%s", pesc, sesc) >=
	    sizeof(path)) {
		sg_cli_err("policy name '%.64s...' is too long", name);
		goto out;
	}
	if ((r = sg_cli_call(c, "GET", path, NULL, NULL, &resp)) == SG_OK)
		r = sg_cli_print_json(resp);
out:
	json_decref(resp);
	free(project);
	free(pesc);
	free(sesc);
	return r;
}

int
sg_cli_cmd_policies(int argc, char **argv)
{
	static const char *const names[] = { "create", "list", "show", NULL };
	struct sg_cli_policy_flags f;
	const char *json_flag = NULL;
	const char *pos[1] = { NULL };
	sg_cli_opt create_opts[] = {
		{ "project", 1, &f.project },
		{ "slug", 1, &f.slug },
		{ "key", 1, &f.key },
		{ "approvals", 1, &f.approvals },
		{ "approver-role", 1, &f.approver_role },
		{ "approver", SG_CLI_OPT_LIST, f.approvers },
		{ "approval-timeout", 1, &f.timeout },
		{ "allow-hash", SG_CLI_OPT_LIST, f.hashes },
		{ "allow-signature-algorithm", SG_CLI_OPT_LIST, f.schemes },
		{ "require-metadata", SG_CLI_OPT_LIST, f.metadata },
		{ "no-fast", 0, &f.no_fast },
		{ "allow-legacy-hashes", 0, &f.legacy },
		{ "timestamp", 0, &f.timestamp },
		{ NULL, 0, NULL },
	};
	sg_cli_opt list_opts[] = { { "json", 0, &json_flag }, { NULL, 0, NULL } };
	sg_cli_opt show_opts[] = { { NULL, 0, NULL } };
	const sg_cli_opt *const tables[] = { create_opts, list_opts, show_opts };
	char cmdname[32];
	sg_cli_conn conn;
	json_t *body = NULL, *resp = NULL;
	int rc, sub, r = SG_ERR_INTERNAL;

	memset(&f, 0, sizeof(f));
	memset(&conn, 0, sizeof(conn));
	if ((sub = sg_cli_group(argc, argv, "policies", sg_cli_usage_policies, names, &rc)) < 0)
		return rc;
	rc = SG_CLI_EXIT_ERROR;
	snprintf(cmdname, sizeof(cmdname), "policies %s", names[sub]);
	if (sg_cli_sub_parse(argc - 1, argv + 1, tables[sub], pos, sub == 2 ? 1 : 0,
	    "PROJECT/SLUG") != SG_OK)
		goto usage;
	if (sub == 0 && sg_cli_policy_body(&f, &body) != SG_OK)
		goto usage;
	if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
		goto usage;
	switch (sub) {
	case 0:
		if ((r = sg_cli_call(&conn, "POST", "/v1/policies", body, NULL, &resp)) == SG_OK)
			r = sg_cli_print_json(resp);
		break;
	case 1:
		r = sg_cli_policies_list(&conn, json_flag != NULL);
		break;
	default:
		r = sg_cli_policies_show(&conn, pos[0]);
		break;
	}
	if (r == SG_OK)
		rc = SG_CLI_EXIT_OK;
	goto out;
usage:
	sg_cli_err_usage(cmdname);
out:
	json_decref(body);
	json_decref(resp);
	sg_cli_conn_clear(&conn);
	return rc;
}
