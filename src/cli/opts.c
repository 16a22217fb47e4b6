/*
 * opts.c - long-option parsing and the one-message error record of the CLI.
 *
 * getopt_long permutes argv differently depending on POSIXLY_CORRECT and has
 * no notion of "given twice"; the commands here have a handful of long
 * options each, so a small table-driven parser with exact, predictable rules
 * is simpler to reason about and to test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "sg_cli.h"

static char sg_cli_errbuf[1024];
static int sg_cli_errset;

void
sg_cli_err(const char *fmt, ...)
{
	va_list ap;

	if (sg_cli_errset)
		return;
	va_start(ap, fmt);
	vsnprintf(sg_cli_errbuf, sizeof(sg_cli_errbuf), fmt, ap);
	va_end(ap);
	/*
	 * The contract is one line on stderr: fold any newline the server sent,
	 * and neutralise other control characters (a message may quote text
	 * a stranger chose, and escape sequences would reach the terminal).
	 */
	for (char *p = sg_cli_errbuf; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '\n' || ch == '\r' || ch == '\t') {
			*p = ' ';
		} else if (ch < 0x20 || ch == 0x7f) {
			*p = '?';
		} else if (ch == 0xc2 && (unsigned char)p[1] >= 0x80 &&
		    (unsigned char)p[1] <= 0x9f) {
			/* U+0080..U+009F in UTF-8: the C1 controls, CSI among them. */
			p[0] = '?';
			p[1] = '?';
			p++;
		}
	}
	sg_cli_errset = 1;
}

const char *
sg_cli_errmsg(void)
{
	return sg_cli_errset ? sg_cli_errbuf : NULL;
}

void
sg_cli_err_clear(void)
{
	sg_cli_errset = 0;
	sg_cli_errbuf[0] = '\0';
}

void
sg_cli_err_usage(const char *cmd)
{
	size_t n = strlen(sg_cli_errbuf);

	if (sg_cli_errset && n < sizeof(sg_cli_errbuf))
		snprintf(sg_cli_errbuf + n, sizeof(sg_cli_errbuf) - n,
		    " (see 'signet %s%s--help')", cmd, cmd[0] != '\0' ? " " : "");
}

int
sg_cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

/* The entry of opts or common named name (namelen chars), or NULL. */
static const sg_cli_opt *
sg_cli_find_opt(const sg_cli_opt *opts, const sg_cli_opt *common, const char *name,
    size_t namelen)
{
	const sg_cli_opt *tables[2] = { opts, common };

	for (size_t t = 0; t < 2; t++) {
		for (const sg_cli_opt *o = tables[t]; o != NULL && o->name != NULL; o++) {
			if (strlen(o->name) == namelen && strncmp(o->name, name, namelen) == 0)
				return o;
		}
	}
	return NULL;
}

int
sg_cli_parse(int argc, char **argv, const sg_cli_opt *opts, const sg_cli_opt *common,
    const char **pos, size_t maxpos, size_t *npos)
{
	size_t n = 0;
	int only_positional = 0;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (!only_positional && strcmp(arg, "--") == 0) {
			only_positional = 1;
			continue;
		}
		if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (n >= maxpos) {
				sg_cli_err("unexpected argument '%s'", arg);
				return SG_ERR_INVALID_ARGUMENT;
			}
			pos[n++] = arg;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0) {
			sg_cli_err("unknown option '%s'", arg);
			return SG_ERR_INVALID_ARGUMENT;
		}
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		const sg_cli_opt *o = sg_cli_find_opt(opts, common, name, namelen);
		if (o == NULL) {
			sg_cli_err("unknown option '--%.*s'", (int)namelen, name);
			return SG_ERR_INVALID_ARGUMENT;
		}
		const char **slot = o->value;
		if (o->takes_value == SG_CLI_OPT_LIST) {
			size_t k = 0;
			while (k < SG_CLI_MAX_LIST && o->value[k] != NULL)
				k++;
			if (k == SG_CLI_MAX_LIST) {
				sg_cli_err("option '--%s' given more than %d times", o->name,
				    SG_CLI_MAX_LIST);
				return SG_ERR_INVALID_ARGUMENT;
			}
			slot = &o->value[k];
		} else if (*o->value != NULL) {
			sg_cli_err("option '--%s' given twice", o->name);
			return SG_ERR_INVALID_ARGUMENT;
		}
		if (!o->takes_value) {
			if (eq != NULL) {
				sg_cli_err("option '--%s' takes no value", o->name);
				return SG_ERR_INVALID_ARGUMENT;
			}
			*o->value = "1";
			continue;
		}
		if (eq != NULL) {
			*slot = eq + 1;
		} else {
			if (i + 1 >= argc) {
				sg_cli_err("option '--%s' needs a value", o->name);
				return SG_ERR_INVALID_ARGUMENT;
			}
			*slot = argv[++i];
		}
		if ((*slot)[0] == '\0') {
			sg_cli_err("option '--%s' needs a non-empty value", o->name);
			return SG_ERR_INVALID_ARGUMENT;
		}
	}
	*npos = n;
	return SG_OK;
}
