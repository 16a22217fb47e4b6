/*
 * cmd_principals.c - `signet principals`: create a principal and hand its
 * API key over as a ready shell line, and list the tenant's principals.
 *
 * The service shows a new principal's API key once (SPEC §1).  Rather than
 * make the user copy it out of JSON, `principals create` prints a comment
 * naming the principal and then `export SIGNET_API_KEY='...'`, so
 * `eval "$(signet principals create --name ci --role signer)"` switches the
 * shell to the new identity; `--json` prints the service's answer instead.
 * The key goes to stdout only, never to stderr or a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_cli.h"

static const char sg_cli_usage_principals[] =
    "usage: signet principals COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  create --name NAME --role ROLE [--role ROLE...] [--tenant ID] [--email ADDR]\n"
    "         [--default-policy P/S] [--json]\n"
    "                       create a principal; prints  export SIGNET_API_KEY='...'\n"
    "                       (its API key, shown this once) or, with --json, the answer\n"
    "  list [--json]        the principals of your tenant (admin)\n"
    "\n"
    "ROLE: admin, signer, approver, auditor, operator; give --role once per role or\n"
    "comma-separated (--role signer,approver).  --tenant needs the operator role.\n"
    "Switch the shell to the new principal with\n"
    "  eval \"$(signet principals create --name ci --role signer)\"\n";

/* Roles from repeated and comma-separated --role values, as a JSON array. */
static json_t *
sg_cli_roles_json(const char *const *values)
{
	json_t *roles = json_array();

	for (size_t i = 0; roles != NULL && values[i] != NULL; i++) {
		const char *p = values[i];
		while (*p != 0) {
			size_t n = strcspn(p, ",");
			if (n > 0 && json_array_append_new(roles, json_stringn(p, n)) != 0) {
				json_decref(roles);
				return NULL;
			}
			p += n;
			if (*p == ',')
				p++;
		}
	}
	return roles;
}

/* The key goes inside single quotes; anything that could leave them is refused. */
static int
sg_cli_shell_safe(const char *s)
{
	for (; *s != 0; s++)
		if (*s == '\'' || (unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static int
sg_cli_principals_create(const sg_cli_conn *c, json_t *req, int as_json)
{
	char name[160], id[64], roles[160] = "", tenant[64];
	json_t *resp = NULL, *v;
	const char *key;
	size_t i;
	int r;

	if ((r = sg_cli_call(c, "POST", "/v1/principals", req, NULL, &resp)) != SG_OK)
		return r;
	if (as_json) {
		r = sg_cli_print_json(resp);
		goto out;
	}
	key = sg_cli_json_str(resp, "api_key");
	if (key == NULL || key[0] == 0 || !sg_cli_shell_safe(key)) {
		sg_cli_err("service answer to POST /v1/principals has no usable api_key");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	sg_cli_plain(name, sizeof(name), sg_cli_json_str(resp, "name"));
	sg_cli_plain(id, sizeof(id), sg_cli_json_str(resp, "id"));
	sg_cli_plain(tenant, sizeof(tenant), sg_cli_json_str(resp, "tenant"));
	json_array_foreach(json_object_get(resp, "roles"), i, v) {
		size_t used = strlen(roles);
		snprintf(roles + used, sizeof(roles) - used, "%s%s", i > 0 ? "," : "",
		    json_is_string(v) ? json_string_value(v) : "?");
	}
	sg_cli_plain(roles, sizeof(roles), roles);
	printf("# principal %s (id %s, roles %s, tenant %s); its API key is shown this once\n",
	    name, id, roles, tenant);
	printf("export SIGNET_API_KEY='%s'\n", key);
	r = SG_OK;
out:
	json_decref(resp);
	return r;
}

static int
sg_cli_principals_list(const sg_cli_conn *c, int as_json)
{
	char id[64], name[136], roles[160], created[40];
	json_t *resp = NULL, *list, *v, *role;
	size_t i, k;
	int r;

	if ((r = sg_cli_call(c, "GET", "/v1/principals", NULL, NULL, &resp)) != SG_OK)
		return r;
	list = json_object_get(resp, "principals");
	if (!json_is_array(list)) {
		sg_cli_err("service answer to GET /v1/principals has no \"principals\" list");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (as_json) {
		r = sg_cli_print_json(resp);
		goto out;
	}
	printf("%-36s  %-24s  %-28s  %s\n", "ID", "NAME", "ROLES", "CREATED");
	json_array_foreach(list, i, v) {
		roles[0] = 0;
		json_array_foreach(json_object_get(v, "roles"), k, role) {
			size_t used = strlen(roles);
			snprintf(roles + used, sizeof(roles) - used, "%s%s", k > 0 ? "," : "",
			    json_is_string(role) ? json_string_value(role) : "?");
		}
		sg_cli_plain(roles, sizeof(roles), roles);
		sg_cli_plain(id, sizeof(id), sg_cli_json_str(v, "id"));
		sg_cli_plain(name, sizeof(name), sg_cli_json_str(v, "name"));
		sg_cli_plain(created, sizeof(created), sg_cli_json_str(v, "created_at"));
		printf("%-36s  %-24s  %-28s  %s\n", id, name, roles, created);
	}
	r = SG_OK;
out:
	json_decref(resp);
	return r;
}

int
sg_cli_cmd_principals(int argc, char **argv)
{
	static const char *const names[] = { "create", "list", NULL };
	const char *name = NULL, *tenant = NULL, *email = NULL, *policy = NULL, *json_flag = NULL;
	const char *roles[SG_CLI_MAX_LIST + 1] = { NULL };
	const char *pos[1] = { NULL };
	sg_cli_opt create_opts[] = {
		{ "name", 1, &name },
		{ "role", SG_CLI_OPT_LIST, roles },
		{ "tenant", 1, &tenant },
		{ "email", 1, &email },
		{ "default-policy", 1, &policy },
		{ "json", 0, &json_flag },
		{ NULL, 0, NULL },
	};
	sg_cli_opt list_opts[] = { { "json", 0, &json_flag }, { NULL, 0, NULL } };
	const sg_cli_opt *const tables[] = { create_opts, list_opts };
	char cmdname[32];
	sg_cli_conn conn;
	json_t *req = NULL, *role_list = NULL;
	int rc, sub, r;

	memset(&conn, 0, sizeof(conn));
	if ((sub = sg_cli_group(argc, argv, "principals", sg_cli_usage_principals, names, &rc)) < 0)
		return rc;
	rc = SG_CLI_EXIT_ERROR;
	snprintf(cmdname, sizeof(cmdname), "principals %s", names[sub]);
	if (sg_cli_sub_parse(argc - 1, argv + 1, tables[sub], pos, 0, "") != SG_OK)
		goto usage;
	if (sub == 0) {
		if (name == NULL || roles[0] == NULL) {
			sg_cli_err("missing %s", name == NULL ? "--name" : "--role");
			goto usage;
		}
		if ((role_list = sg_cli_roles_json(roles)) == NULL ||
		    (req = json_pack("{s:s,s:O}", "name", name, "roles", role_list)) == NULL ||
		    (tenant != NULL && json_object_set_new(req, "tenant", json_string(tenant)) != 0) ||
		    (email != NULL && json_object_set_new(req, "email", json_string(email)) != 0) ||
		    (policy != NULL &&
		    json_object_set_new(req, "default_policy", json_string(policy)) != 0)) {
			sg_cli_err("out of memory");
			goto out;
		}
	}
	if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
		goto usage;
	r = sub == 0 ? sg_cli_principals_create(&conn, req, json_flag != NULL) :
	    sg_cli_principals_list(&conn, json_flag != NULL);
	if (r == SG_OK)
		rc = SG_CLI_EXIT_OK;
	goto out;
usage:
	sg_cli_err_usage(cmdname);
out:
	json_decref(req);
	json_decref(role_list);
	sg_cli_conn_clear(&conn);
	return rc;
}
