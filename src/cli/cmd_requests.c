/*
 * cmd_requests.c - `signet requests`: list and show signing requests, and
 * wait for one to finish.
 *
 * `wait` is what a pipeline runs after an asynchronous or approval-gated
 * sign: it follows GET /v1/requests/{id} (wait.c) and turns the outcome into
 * the exit status - 0 SIGNED, 1 FAILED, REJECTED or DEAD_LETTER, 2 when the
 * wait itself failed (timeout, service error) and the outcome is unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sg_cli.h"

static const char sg_cli_usage_requests[] =
    "usage: signet requests COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  list [--status STATUS] [--limit N] [--json]\n"
    "                       the tenant's signing requests, newest first (N: 1-1000,\n"
    "                       default 100)\n"
    "  show ID              print one request as JSON (with its signature once SIGNED)\n"
    "  wait ID [--timeout SECONDS] [--json]\n"
    "                       poll until the request is final, with progress on stderr\n"
    "                       (default timeout 600 s, 0: no limit); prints the outcome,\n"
    "                       or the request as JSON with --json\n"
    "\n"
    "STATUS: PENDING_APPROVAL, QUEUED, PROCESSING, SIGNED, FAILED, REJECTED, DEAD_LETTER.\n"
    "`wait` exits 0 when SIGNED, 1 when FAILED, REJECTED or DEAD_LETTER (the reason on\n"
    "stderr), 2 on timeout or service error.\n";

static const char *const sg_cli_statuses[] = { "PENDING_APPROVAL", "QUEUED", "PROCESSING",
    "SIGNED", "FAILED", "REJECTED", "DEAD_LETTER", NULL };

/* The canonical spelling of a request status, or NULL (message recorded). */
static const char *
sg_cli_pick_status(const char *s)
{
	for (size_t i = 0; sg_cli_statuses[i] != NULL; i++) {
		if (strcasecmp(s, sg_cli_statuses[i]) == 0)
			return sg_cli_statuses[i];
	}
	sg_cli_err("--status must be one of PENDING_APPROVAL, QUEUED, PROCESSING, SIGNED, "
	    "FAILED, REJECTED, DEAD_LETTER, not '%s'", s);
	return NULL;
}

static int
sg_cli_requests_list(const sg_cli_conn *c, const char *status, int64_t limit, int as_json)
{
	char path[128], id[40], st[20], policy[48], scheme[24], created[32];
	json_t *resp = NULL, *list, *rq;
	size_t i;
	int r;

	snprintf(path, sizeof(path), "/v1/requests?limit=%lld%s%s", (long long)limit,
	    status != NULL ? "&status=" : "", status != NULL ? status : "");
	if ((r = sg_cli_call(c, "GET", path, NULL, NULL, &resp)) != SG_OK)
		return r;
	list = json_object_get(resp, "requests");
	if (!json_is_array(list)) {
		sg_cli_err("service answer to GET /v1/requests has no \"requests\" list");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (as_json) {
		r = sg_cli_print_json(resp);
		goto out;
	}
	printf("%-36s  %-16s  %-32s  %-18s  %s\n", "ID", "STATUS", "POLICY", "SCHEME", "CREATED");
	json_array_foreach(list, i, rq) {
		sg_cli_plain(id, sizeof(id), sg_cli_json_str(rq, "id"));
		sg_cli_plain(st, sizeof(st), sg_cli_json_str(rq, "status"));
		sg_cli_plain(policy, sizeof(policy), sg_cli_json_str(rq, "policy") != NULL ?
		    sg_cli_json_str(rq, "policy") : "-");
		sg_cli_plain(scheme, sizeof(scheme), sg_cli_json_str(rq, "signature_algorithm"));
		sg_cli_plain(created, sizeof(created), sg_cli_json_str(rq, "created_at"));
		printf("%-36s  %-16s  %-32s  %-18s  %s\n", id, st, policy, scheme, created);
	}
	r = SG_OK;
out:
	json_decref(resp);
	return r;
}

static int
sg_cli_requests_show(const sg_cli_conn *c, const char *id)
{
	char path[512];
	json_t *resp = NULL;
	int r;

	if ((r = sg_cli_id_path(path, sizeof(path), "requests", id, "")) != SG_OK ||
	    (r = sg_cli_call(c, "GET", path, NULL, NULL, &resp)) != SG_OK)
		return r;
	r = sg_cli_print_json(resp);
	json_decref(resp);
	return r;
}

/* Wait; returns an exit status (the outcome), the message recorded when not 0. */
static int
sg_cli_requests_wait(const sg_cli_conn *c, const char *id, int64_t timeout_s, int as_json)
{
	json_t *final = NULL;
	int rc;

	if (sg_cli_wait_request(c, id, timeout_s, &final) != SG_OK)
		return SG_CLI_EXIT_ERROR;
	rc = sg_cli_request_outcome(final);
	if (as_json) {
		if (sg_cli_print_json(final) != SG_OK)
			rc = SG_CLI_EXIT_ERROR;
	} else if (rc == SG_CLI_EXIT_OK) {
		char sid[80];
		sg_cli_plain(sid, sizeof(sid), sg_cli_json_str(final, "signature_id") != NULL ?
		    sg_cli_json_str(final, "signature_id") : "-");
		printf("request %s SIGNED (signature %s)\n", id, sid);
	}
	json_decref(final);
	return rc;
}

int
sg_cli_cmd_requests(int argc, char **argv)
{
	static const char *const names[] = { "list", "show", "wait", NULL };
	const char *status = NULL, *limit_s = NULL, *json_flag = NULL, *timeout_s = NULL;
	const char *pos[1] = { NULL };
	sg_cli_opt list_opts[] = {
		{ "status", 1, &status },
		{ "limit", 1, &limit_s },
		{ "json", 0, &json_flag },
		{ NULL, 0, NULL },
	};
	sg_cli_opt show_opts[] = { { NULL, 0, NULL } };
	sg_cli_opt wait_opts[] = {
		{ "timeout", 1, &timeout_s },
		{ "json", 0, &json_flag },
		{ NULL, 0, NULL },
	};
	const sg_cli_opt *const tables[] = { list_opts, show_opts, wait_opts };
	char cmdname[32];
	sg_cli_conn conn;
	int64_t limit = 100, timeout = SG_CLI_WAIT_DEFAULT_S;
	int rc, sub, r;

	memset(&conn, 0, sizeof(conn));
	if ((sub = sg_cli_group(argc, argv, "requests", sg_cli_usage_requests, names, &rc)) < 0)
		return rc;
	rc = SG_CLI_EXIT_ERROR;
	snprintf(cmdname, sizeof(cmdname), "requests %s", names[sub]);
	if (sg_cli_sub_parse(argc - 1, argv + 1, tables[sub], pos, sub == 0 ? 0 : 1, "ID") !=
	    SG_OK)
		goto usage;
	if ((status != NULL && (status = sg_cli_pick_status(status)) == NULL) ||
	    (limit_s != NULL && sg_cli_parse_num(limit_s, "--limit", 1, 1000, &limit) != SG_OK) ||
	    (timeout_s != NULL &&
	    sg_cli_parse_num(timeout_s, "--timeout", 0, 31536000, &timeout) != SG_OK))
		goto usage;
	if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
		goto usage;
	switch (sub) {
	case 0:
		r = sg_cli_requests_list(&conn, status, limit, json_flag != NULL);
		rc = r == SG_OK ? SG_CLI_EXIT_OK : SG_CLI_EXIT_ERROR;
		break;
	case 1:
		r = sg_cli_requests_show(&conn, pos[0]);
		rc = r == SG_OK ? SG_CLI_EXIT_OK : SG_CLI_EXIT_ERROR;
		break;
	default:
		rc = sg_cli_requests_wait(&conn, pos[0], timeout, json_flag != NULL);
		break;
	}
	goto out;
usage:
	sg_cli_err_usage(cmdname);
out:
	sg_cli_conn_clear(&conn);
	return rc;
}
