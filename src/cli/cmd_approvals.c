/*
 * cmd_approvals.c - `signet approvals`: what waits for a decision, what it
 * would sign, and the vote itself.
 *
 * An approver decides on what `approvals show` prints, so it prints what the
 * decision rests on - the digest, the policy and key, who submitted it, its
 * metadata and the votes so far - and prints text a submitter chose
 * (metadata, comments) JSON-escaped, so it can neither fake lines of the
 * display nor send escape sequences to the approver's terminal.  A
 * rejection needs a comment saying why; the CLI refuses one without before
 * asking the service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_b64.h"
#include "sg_cli.h"

static const char sg_cli_usage_approvals[] =
    "usage: signet approvals COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  list [--json]                 requests waiting for approval, newest first\n"
    "  show ID [--json]              what request ID would sign: digest, policy, key,\n"
    "                                submitter, metadata, and the votes so far\n"
    "  approve ID [--comment TEXT]   vote to approve request ID\n"
    "  reject ID --comment TEXT      vote to reject it (a comment saying why is required)\n"
    "\n"
    "Only members of the policy's approver group may vote, never the submitter; each\n"
    "approver votes once.  N approvals queue the request for signing; one rejection\n"
    "ends it.\n";

/* One "label  value" line of `show`, with the value made printable. */
static void
sg_cli_show_line(const char *label, const char *value)
{
	char v[1100];

	sg_cli_plain(v, sizeof(v), value != NULL ? value : "-");
	printf("%-14s%s\n", label, v);
}

/* One line whose value a stranger chose: JSON-escaped. */
static int
sg_cli_show_safe(const char *label, const json_t *value)
{
	char *text = sg_cli_safe_text(value);

	if (text == NULL) {
		sg_cli_err("out of memory");
		return SG_ERR_NOMEM;
	}
	printf("%-14s%s\n", label, text);
	free(text);
	return SG_OK;
}

static int
sg_cli_approvals_print(const json_t *v)
{
	char line[256], approver[64], decision[16], when[32];
	json_t *votes = json_object_get(v, "votes"), *vote, *meta;
	int64_t version = sg_cli_json_int(v, "key_version");
	size_t i;

	sg_cli_show_line("request", sg_cli_json_str(v, "id"));
	sg_cli_show_line("status", sg_cli_json_str(v, "status"));
	sg_cli_show_line("policy", sg_cli_json_str(v, "policy"));
	sg_cli_show_line("submitted by", sg_cli_json_str(v, "submitted_by"));
	sg_cli_show_line("created", sg_cli_json_str(v, "created_at"));
	if (sg_cli_json_str(v, "approval_deadline") != NULL)
		sg_cli_show_line("deadline", sg_cli_json_str(v, "approval_deadline"));
	if (version > 0)
		snprintf(line, sizeof(line), "%.64s version %lld",
		    sg_cli_json_str(v, "key_id") != NULL ? sg_cli_json_str(v, "key_id") : "-",
		    (long long)version);
	else
		snprintf(line, sizeof(line), "%.64s (its current version when signed)",
		    sg_cli_json_str(v, "key_id") != NULL ? sg_cli_json_str(v, "key_id") : "-");
	sg_cli_show_line("key", line);
	sg_cli_show_line("scheme", sg_cli_json_str(v, "signature_algorithm"));
	snprintf(line, sizeof(line), "%.16s %.200s",
	    sg_cli_json_str(v, "hash_algorithm") != NULL ? sg_cli_json_str(v, "hash_algorithm") :
	    "?", sg_cli_json_str(v, "digest") != NULL ? sg_cli_json_str(v, "digest") : "-");
	sg_cli_show_line("digest", line);
	if (sg_cli_json_str(v, "digest") != NULL) {
		/* Hex too: what sha256sum and friends print, to compare by eye. */
		uint8_t *d = NULL;
		size_t dlen = 0, o = 0;
		if (sg_b64_decode(sg_cli_json_str(v, "digest"), strlen(sg_cli_json_str(v, "digest")),
		    &d, &dlen) == SG_OK && dlen <= SG_MAX_DIGEST) {
			for (size_t k = 0; k < dlen && o + 3 < sizeof(line); k++)
				o += (size_t)snprintf(line + o, sizeof(line) - o, "%02x", d[k]);
			sg_cli_show_line("digest (hex)", line);
		}
		free(d);
	}
	if (sg_cli_json_str(v, "original_request_id") != NULL)
		sg_cli_show_line("resubmits", sg_cli_json_str(v, "original_request_id"));
	if (json_object_get(v, "description") != NULL &&
	    sg_cli_show_safe("description", json_object_get(v, "description")) != SG_OK)
		return SG_ERR_NOMEM;
	meta = json_object_get(v, "metadata");
	if (sg_cli_show_safe("metadata", meta != NULL ? meta : json_null()) != SG_OK)
		return SG_ERR_NOMEM;
	snprintf(line, sizeof(line), "%lld/%lld",
	    (long long)(sg_cli_json_uint(v, "approvals") < 0 ? 0 :
	    sg_cli_json_uint(v, "approvals")), (long long)sg_cli_json_int(v, "approvals_required"));
	sg_cli_show_line("approvals", line);
	printf("votes%s\n", json_array_size(votes) == 0 ? "         (none yet)" : "");
	json_array_foreach(votes, i, vote) {
		json_t *cj = json_object_get(vote, "comment");
		char *comment = cj != NULL ? sg_cli_safe_text(cj) : NULL;
		sg_cli_plain(decision, sizeof(decision), sg_cli_json_str(vote, "decision"));
		sg_cli_plain(approver, sizeof(approver), sg_cli_json_str(vote, "approver"));
		sg_cli_plain(when, sizeof(when), sg_cli_json_str(vote, "created_at"));
		printf("  %-9s %-36s  %s  %s\n", decision, approver, when,
		    comment != NULL ? comment : "\"\"");
		free(comment);
	}
	return SG_OK;
}

static int
sg_cli_approvals_list(const sg_cli_conn *c, int as_json)
{
	char id[40], policy[48], votes[48], submitter[40], created[32];
	json_t *resp = NULL, *list, *v;
	size_t i;
	int r;

	if ((r = sg_cli_call(c, "GET", "/v1/approvals", NULL, NULL, &resp)) != SG_OK)
		return r;
	list = json_object_get(resp, "approvals");
	if (!json_is_array(list)) {
		sg_cli_err("service answer to GET /v1/approvals has no \"approvals\" list");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (as_json) {
		r = sg_cli_print_json(resp);
		goto out;
	}
	printf("%-36s  %-32s  %-9s  %-36s  %s\n", "ID", "POLICY", "APPROVALS", "SUBMITTED_BY",
	    "CREATED");
	json_array_foreach(list, i, v) {
		int64_t got = sg_cli_json_uint(v, "approvals");
		sg_cli_plain(id, sizeof(id), sg_cli_json_str(v, "id"));
		sg_cli_plain(policy, sizeof(policy), sg_cli_json_str(v, "policy"));
		sg_cli_plain(submitter, sizeof(submitter), sg_cli_json_str(v, "submitted_by"));
		sg_cli_plain(created, sizeof(created), sg_cli_json_str(v, "created_at"));
		snprintf(votes, sizeof(votes), "%lld/%lld", (long long)(got < 0 ? 0 : got),
		    (long long)sg_cli_json_int(v, "approvals_required"));
		printf("%-36s  %-32s  %-9s  %-36s  %s\n", id, policy, votes, submitter, created);
	}
	r = SG_OK;
out:
	json_decref(resp);
	return r;
}

static int
sg_cli_approvals_show(const sg_cli_conn *c, const char *id, int as_json)
{
	char path[512];
	json_t *resp = NULL;
	int r;

	if ((r = sg_cli_id_path(path, sizeof(path), "approvals", id, "")) != SG_OK ||
	    (r = sg_cli_call(c, "GET", path, NULL, NULL, &resp)) != SG_OK)
		return r;
	r = as_json ? sg_cli_print_json(resp) : sg_cli_approvals_print(resp);
	json_decref(resp);
	return r;
}

static int
sg_cli_approvals_vote(const sg_cli_conn *c, const char *id, int approve, const char *comment)
{
	char path[512], status[40];
	json_t *req = NULL, *resp = NULL;
	int r;

	if ((r = sg_cli_id_path(path, sizeof(path), "approvals", id,
	    approve ? "/approve" : "/reject")) != SG_OK)
		return r;
	if ((req = json_object()) == NULL ||
	    (comment != NULL && json_object_set_new(req, "comment", json_string(comment)) != 0)) {
		json_decref(req);
		sg_cli_err("out of memory");
		return SG_ERR_NOMEM;
	}
	if ((r = sg_cli_call(c, "POST", path, req, NULL, &resp)) == SG_OK) {
		sg_cli_plain(status, sizeof(status), sg_cli_json_str(resp, "status"));
		printf("%s request %s: approvals %lld/%lld, status %s\n",
		    approve ? "approved" : "rejected", id,
		    (long long)(sg_cli_json_uint(resp, "approvals") < 0 ? 0 :
		    sg_cli_json_uint(resp, "approvals")),
		    (long long)sg_cli_json_int(resp, "approvals_required"), status);
	}
	json_decref(req);
	json_decref(resp);
	return r;
}

int
sg_cli_cmd_approvals(int argc, char **argv)
{
	static const char *const names[] = { "list", "show", "approve", "reject", NULL };
	const char *json_flag = NULL, *comment = NULL;
	const char *pos[1] = { NULL };
	sg_cli_opt json_opts[] = { { "json", 0, &json_flag }, { NULL, 0, NULL } };
	sg_cli_opt vote_opts[] = { { "comment", 1, &comment }, { NULL, 0, NULL } };
	const sg_cli_opt *const tables[] = { json_opts, json_opts, vote_opts, vote_opts };
	char cmdname[32];
	sg_cli_conn conn;
	int rc, sub, r;

	memset(&conn, 0, sizeof(conn));
	if ((sub = sg_cli_group(argc, argv, "approvals", sg_cli_usage_approvals, names, &rc)) < 0)
		return rc;
	rc = SG_CLI_EXIT_ERROR;
	snprintf(cmdname, sizeof(cmdname), "approvals %s", names[sub]);
	if (sg_cli_sub_parse(argc - 1, argv + 1, tables[sub], pos, sub == 0 ? 0 : 1, "ID") !=
	    SG_OK)
		goto usage;
	if (sub == 3 && comment == NULL) {
		sg_cli_err("a rejection needs --comment saying why");
		goto usage;
	}
	if (sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK)
		goto usage;
	switch (sub) {
	case 0:
		r = sg_cli_approvals_list(&conn, json_flag != NULL);
		break;
	case 1:
		r = sg_cli_approvals_show(&conn, pos[0], json_flag != NULL);
		break;
	default:
		r = sg_cli_approvals_vote(&conn, pos[0], sub == 2, comment);
		break;
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
