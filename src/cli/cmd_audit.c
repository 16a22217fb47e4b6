/*
 * cmd_audit.c - `signet audit`: check the audit log's hash chain and export
 * its entries.
 *
 * `verify` asks the service to recompute the chain (GET /v1/audit/verify)
 * and makes the verdict the exit status.  `export` pages through
 * GET /v1/audit and writes one JSON object per line (JSON Lines), the shape
 * log pipelines and `jq -c` consume; each entry keeps its prev_hash and
 * hash, so an exported file can be re-checked elsewhere.  Pages must move
 * strictly forward, so a confused server cannot make the export loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sg_cli.h"

/* Entries asked for per page. */
#define SG_CLI_AUDIT_PAGE 1000

static const char sg_cli_usage_audit[] =
    "usage: signet audit COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  verify [--scope tenant|service]\n"
    "                       recompute the audit log's hash chain; exit 0 when intact,\n"
    "                       1 when broken (the first bad entry and why on stderr)\n"
    "  export [--out FILE] [--after SEQ] [--scope tenant|service]\n"
    "                       write the entries after SEQ (default 0: all) as JSON Lines,\n"
    "                       one object per line, to FILE or stdout\n"
    "\n"
    "--scope service reads the service chain (failed logins nobody owns); it needs the\n"
    "operator role as well.\n";

int
sg_cli_audit_write_page(FILE *f, const json_t *page, int64_t after, int64_t *next,
    size_t *count)
{
	json_t *entries = json_object_get(page, "entries"), *e;
	int64_t last = after, seq;
	size_t i;

	if (!json_is_array(entries)) {
		sg_cli_err("service answer to GET /v1/audit has no \"entries\" list");
		return SG_ERR_BAD_ENCODING;
	}
	json_array_foreach(entries, i, e) {
		if (!json_is_object(e) || (seq = sg_cli_json_int(e, "seq")) <= last) {
			sg_cli_err("audit entry %zu after seq %lld is out of order", i + 1,
			    (long long)last);
			return SG_ERR_BAD_ENCODING;
		}
		if (json_dumpf(e, f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
		    fputc('\n', f) == EOF) {
			sg_cli_err("cannot write the audit export: %s", strerror(errno));
			return SG_ERR_IO;
		}
		last = seq;
	}
	*next = json_array_size(entries) > 0 ? last : 0;
	*count += json_array_size(entries);
	return SG_OK;
}

/* The "scope" query parameter, checked; NULL for the default. */
static int
sg_cli_audit_scope(const char *scope, const char **param)
{
	*param = "";
	if (scope == NULL || strcmp(scope, "tenant") == 0)
		return SG_OK;
	if (strcmp(scope, "service") == 0) {
		*param = "scope=service";
		return SG_OK;
	}
	sg_cli_err("--scope must be tenant or service, not '%s'", scope);
	return SG_ERR_INVALID_ARGUMENT;
}

/* Returns an exit status; the verdict or error recorded when not 0. */
static int
sg_cli_audit_verify(const sg_cli_conn *c, const char *scope_param)
{
	char path[64], reason[600];
	json_t *resp = NULL, *valid;
	int rc = SG_CLI_EXIT_ERROR;

	snprintf(path, sizeof(path), "/v1/audit/verify%s%s", scope_param[0] != '\0' ? "?" : "",
	    scope_param);
	if (sg_cli_call(c, "GET", path, NULL, NULL, &resp) != SG_OK)
		return SG_CLI_EXIT_ERROR;
	valid = json_object_get(resp, "valid");
	if (!json_is_boolean(valid)) {
		sg_cli_err("service answer to GET /v1/audit/verify lacks \"valid\"");
	} else if (json_is_true(valid)) {
		printf("audit log intact: %lld entries\n",
		    (long long)(sg_cli_json_uint(resp, "checked") < 0 ? 0 :
		    sg_cli_json_uint(resp, "checked")));
		rc = SG_CLI_EXIT_OK;
	} else {
		sg_cli_plain(reason, sizeof(reason), sg_cli_json_str(resp, "reason") != NULL ?
		    sg_cli_json_str(resp, "reason") : "no reason given");
		sg_cli_err("audit log BROKEN at entry %lld: %s (%lld entries checked)",
		    (long long)sg_cli_json_uint(resp, "first_bad_seq"), reason,
		    (long long)(sg_cli_json_uint(resp, "checked") < 0 ? 0 :
		    sg_cli_json_uint(resp, "checked")));
		rc = SG_CLI_EXIT_INVALID;
	}
	json_decref(resp);
	return rc;
}

static int
sg_cli_audit_export(const sg_cli_conn *c, const char *scope_param, int64_t after,
    const char *out_path)
{
	char path[160], *tmp = NULL;
	json_t *page = NULL;
	FILE *f = stdout;
	size_t count = 0;
	int64_t first = after;
	int fd = -1, r;

	if (out_path != NULL) {
		/* Into a temporary file beside the target, renamed when complete. */
		size_t n = strlen(out_path) + sizeof(".XXXXXX");
		if ((tmp = malloc(n)) == NULL) {
			sg_cli_err("out of memory");
			return SG_ERR_NOMEM;
		}
		snprintf(tmp, n, "%s.XXXXXX", out_path);
		if ((fd = mkstemp(tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
			sg_cli_err("cannot create %s: %s", tmp, strerror(errno));
			r = SG_ERR_IO;
			goto out;
		}
		fd = -1;
	}
	for (;;) {
		int64_t next = 0;
		snprintf(path, sizeof(path), "/v1/audit?after=%lld&limit=%d%s%s", (long long)after,
		    SG_CLI_AUDIT_PAGE, scope_param[0] != '\0' ? "&" : "", scope_param);
		if ((r = sg_cli_call(c, "GET", path, NULL, NULL, &page)) != SG_OK)
			goto out;
		if ((r = sg_cli_audit_write_page(f, page, after, &next, &count)) != SG_OK)
			goto out;
		json_decref(page);
		page = NULL;
		if (next == 0)
			break;
		after = next;
	}
	if (fflush(f) != 0 || (out_path != NULL && fsync(fileno(f)) != 0)) {
		sg_cli_err("cannot write the audit export: %s", strerror(errno));
		r = SG_ERR_IO;
		goto out;
	}
	if (out_path != NULL) {
		FILE *done = f;
		f = stdout;
		if (fclose(done) != 0 || rename(tmp, out_path) != 0) {
			sg_cli_err("cannot write %s: %s", out_path, strerror(errno));
			r = SG_ERR_IO;
			goto out;
		}
		free(tmp);
		tmp = NULL;
		printf("exported %zu audit entries after seq %lld to %s\n", count, (long long)first,
		    out_path);
	}
	r = SG_OK;
out:
	json_decref(page);
	if (f != stdout)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	return r;
}

int
sg_cli_cmd_audit(int argc, char **argv)
{
	static const char *const names[] = { "verify", "export", NULL };
	const char *scope = NULL, *out_path = NULL, *after_s = NULL, *scope_param = "";
	const char *pos[1] = { NULL };
	sg_cli_opt verify_opts[] = { { "scope", 1, &scope }, { NULL, 0, NULL } };
	sg_cli_opt export_opts[] = {
		{ "scope", 1, &scope },
		{ "out", 1, &out_path },
		{ "after", 1, &after_s },
		{ NULL, 0, NULL },
	};
	char cmdname[32];
	sg_cli_conn conn;
	int64_t after = 0;
	int rc, sub;

	memset(&conn, 0, sizeof(conn));
	if ((sub = sg_cli_group(argc, argv, "audit", sg_cli_usage_audit, names, &rc)) < 0)
		return rc;
	rc = SG_CLI_EXIT_ERROR;
	snprintf(cmdname, sizeof(cmdname), "audit %s", names[sub]);
	if (sg_cli_sub_parse(argc - 1, argv + 1, sub == 0 ? verify_opts : export_opts, pos, 0,
	    "") != SG_OK ||
	    sg_cli_audit_scope(scope, &scope_param) != SG_OK ||
	    (after_s != NULL &&
	    sg_cli_parse_num(after_s, "--after", 0, INT64_MAX / 2, &after) != SG_OK) ||
	    sg_cli_conn_init(&conn, &sg_cli_flags) != SG_OK) {
		sg_cli_err_usage(cmdname);
		goto out;
	}
	if (sub == 0)
		rc = sg_cli_audit_verify(&conn, scope_param);
	else if (sg_cli_audit_export(&conn, scope_param, after, out_path) == SG_OK)
		rc = SG_CLI_EXIT_OK;
out:
	sg_cli_conn_clear(&conn);
	return rc;
}
