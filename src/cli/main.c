/*
 * main.c - entry point of `signet`, the command-line client of signetd.
 *
 * Reads the connection flags that may precede the command, dispatches to one
 * cmd_* function, and turns its outcome into the exit-status contract:
 * 0 ok / signature valid, 1 signature invalid or a negative outcome (a
 * request rejected or failed, a broken audit chain), 2 usage or service
 * error — each failure with exactly one human line on stderr.
 */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "sg_cli.h"

const char sg_cli_usage_main[] =
    "usage: signet [connection options] COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  sign-file FILE (--key KEY | --policy P/S)\n"
    "                                 sign a file; writes FILE.sig and FILE.sig.bundle.json\n"
    "  verify-file FILE --signature SIG (--public-key PEM | --bundle JSON | --online)\n"
    "                                 check a signature (exit 0 valid, 1 invalid)\n"
    "  keys create|list|show|rotate|status|destroy-version|public-key|csr|self-signed|\n"
    "       import-cert               manage signing keys and their certificates\n"
    "  policies create|list|show      signing policies\n"
    "  principals create|list         identities and their API keys (prints an export line)\n"
    "  requests list|show|wait        signing requests; wait for one to finish\n"
    "  approvals list|show|approve|reject\n"
    "                                 decide on requests that need approval\n"
    "  audit verify|export            check the audit log's hash chain; export it\n"
    "  tsa stamp|certificate          RFC 3161 time stamps from signetd\n"
    "\n"
    "`signet COMMAND --help` describes each command.  Exit status: 0 ok or valid,\n"
    "1 invalid signature or negative outcome (request rejected or failed, audit log\n"
    "broken), 2 usage or service error.\n";

/* Handle the options before the command; returns the index of the command or -1/-2. */
static int
sg_cli_global_opts(int argc, char **argv)
{
	sg_cli_opt common[6];
	const char *pos[1];
	size_t npos = 0;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(sg_cli_usage_main, stdout);
			fputs(sg_cli_usage_conn, stdout);
			return -1;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("signet %s\n", SG_CLI_VERSION);
			return -1;
		}
		/* Every connection option takes a value: "--opt=v" or "--opt v". */
		i += strchr(argv[i], '=') != NULL ? 1 : 2;
	}
	if (i > argc)
		i = argc;
	sg_cli_conn_opts(&sg_cli_flags, common);
	if (sg_cli_parse(i - 1, argv + 1, NULL, common, pos, 0, &npos) != SG_OK) {
		sg_cli_err_usage("");
		return -2;
	}
	if (i >= argc) {
		sg_cli_err("missing command (see 'signet --help')");
		return -2;
	}
	return i;
}

int
main(int argc, char **argv)
{
	int rc = SG_CLI_EXIT_ERROR, cmd;
	const char *msg;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "signet: cannot initialise libcurl\n");
		return SG_CLI_EXIT_ERROR;
	}
	cmd = sg_cli_global_opts(argc, argv);
	if (cmd == -1) {
		rc = SG_CLI_EXIT_OK;
	} else if (cmd > 0) {
		const char *name = argv[cmd];
		int sub_argc = argc - cmd - 1;
		char **sub_argv = argv + cmd + 1;

		if (strcmp(name, "sign-file") == 0) {
			rc = sg_cli_cmd_sign_file(sub_argc, sub_argv);
		} else if (strcmp(name, "verify-file") == 0) {
			rc = sg_cli_cmd_verify_file(sub_argc, sub_argv);
		} else if (strcmp(name, "keys") == 0) {
			rc = sg_cli_cmd_keys(sub_argc, sub_argv);
		} else if (strcmp(name, "policies") == 0) {
			rc = sg_cli_cmd_policies(sub_argc, sub_argv);
		} else if (strcmp(name, "principals") == 0) {
			rc = sg_cli_cmd_principals(sub_argc, sub_argv);
		} else if (strcmp(name, "requests") == 0) {
			rc = sg_cli_cmd_requests(sub_argc, sub_argv);
		} else if (strcmp(name, "approvals") == 0) {
			rc = sg_cli_cmd_approvals(sub_argc, sub_argv);
		} else if (strcmp(name, "audit") == 0) {
			rc = sg_cli_cmd_audit(sub_argc, sub_argv);
		} else if (strcmp(name, "tsa") == 0) {
			rc = sg_cli_cmd_tsa(sub_argc, sub_argv);
		} else if (strcmp(name, "help") == 0) {
			fputs(sg_cli_usage_main, stdout);
			fputs(sg_cli_usage_conn, stdout);
			rc = SG_CLI_EXIT_OK;
		} else {
			sg_cli_err("unknown command '%s' (see 'signet --help')", name);
		}
	}
	if (fflush(stdout) != 0 && rc == SG_CLI_EXIT_OK) {
		sg_cli_err("cannot write to stdout");
		rc = SG_CLI_EXIT_ERROR;
	}
	if (rc != SG_CLI_EXIT_OK) {
		msg = sg_cli_errmsg();
		if (rc == SG_CLI_EXIT_INVALID)
			fprintf(stderr, "%s\n", msg != NULL ? msg : "INVALID");
		else
			fprintf(stderr, "signet: %s\n", msg != NULL ? msg : "failed");
	}
	curl_global_cleanup();
	return rc;
}
