/*
 * output.c - what the commands share around their requests: printing JSON,
 * making a stranger's text safe for a terminal, writing results to a file
 * or stdout, building object paths, and the front of the command groups
 * (`signet keys ...`, `signet requests ...`) with their help handling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_cli.h"
#include "sg_util.h"

int
sg_cli_print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF) {
		sg_cli_err("cannot write to stdout");
		return SG_ERR_IO;
	}
	return SG_OK;
}

char *
sg_cli_safe_text(const json_t *v)
{
	/* ENSURE_ASCII escapes C1 controls (U+0080..U+009F) too; terminals act on some. */
	return json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
}

void
sg_cli_plain(char *dst, size_t n, const char *src)
{
	size_t o = 0;

	if (n == 0)
		return;
	for (; src != NULL && *src != '\0' && o + 1 < n; src++) {
		unsigned char ch = (unsigned char)*src;
		dst[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[o] = '\0';
}

int
sg_cli_write_output(const char *path, const void *p, size_t n)
{
	int r;

	if (path != NULL) {
		if ((r = sg_write_file(path, p, n, 0644)) != SG_OK)
			sg_cli_err("cannot write %s: %s", path, sg_err_str(r));
		return r;
	}
	if ((n > 0 && fwrite(p, 1, n, stdout) != n) || fflush(stdout) != 0) {
		sg_cli_err("cannot write to stdout");
		return SG_ERR_IO;
	}
	return SG_OK;
}

int
sg_cli_id_path(char *buf, size_t n, const char *prefix, const char *id, const char *suffix)
{
	char *esc = sg_cli_path_escape(id);
	int len;

	if (esc == NULL) {
		sg_cli_err("'%.64s' is too long for an id", id);
		return SG_ERR_INVALID_ARGUMENT;
	}
	len = snprintf(buf, n, "/v1/%s/%s%s", prefix, esc, suffix);
	free(esc);
	if (len < 0 || (size_t)len >= n) {
		sg_cli_err("'%.64s' is too long for an id", id);
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

int
sg_cli_parse_num(const char *s, const char *what, int64_t min, int64_t max, int64_t *out)
{
	if (sg_parse_int64(s, min, max, out) != SG_OK) {
		sg_cli_err("%s must be a whole number from %lld to %lld, not '%s'", what,
		    (long long)min, (long long)max, s);
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

void
sg_cli_print_usage(const char *usage)
{
	fputs(usage, stdout);
	fputs(sg_cli_usage_conn, stdout);
}

/*
 * The part of a group's usage about one command: its entry in the
 * "commands:" list (with continuation lines) and the notes after the list,
 * so `signet keys create --help` is about create alone.  The whole usage
 * when the entry is not found.
 */
static void
sg_cli_print_sub_usage(const char *usage, const char *group, const char *name)
{
	size_t nlen = strlen(name);
	const char *list = strstr(usage, "\ncommands:\n"), *entry = NULL, *end, *notes, *l;

	for (l = list != NULL ? list + sizeof("\ncommands:\n") - 1 : NULL; l != NULL && *l != '\n' &&
	    *l != 0; l = strchr(l, '\n') != NULL ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, "  ", 2) == 0 && strncmp(l + 2, name, nlen) == 0 &&
		    (l[2 + nlen] == ' ' || l[2 + nlen] == '\n')) {
			entry = l;
			break;
		}
	}
	if (entry == NULL || (end = strchr(entry, '\n')) == NULL) {
		sg_cli_print_usage(usage);
		return;
	}
	for (end++; strncmp(end, "   ", 3) == 0 && strchr(end, '\n') != NULL; end = strchr(end, '\n') + 1)
		;
	notes = strstr(end - 1, "\n\n");
	printf("usage: signet %s ", group);
	fwrite(entry + 2, 1, (size_t)(end - entry - 2), stdout);
	if (notes != NULL)
		fputs(notes + 1, stdout);
	fputs(sg_cli_usage_conn, stdout);
}

int
sg_cli_group(int argc, char **argv, const char *group, const char *usage,
    const char *const *names, int *rc)
{
	char list[256] = "";

	for (size_t i = 0; names[i] != NULL; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", i > 0 ? ", " : "", names[i]);
	}
	*rc = SG_CLI_EXIT_ERROR;
	if (argc < 1) {
		sg_cli_err("missing command (%s)", list);
		sg_cli_err_usage(group);
		return -1;
	}
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
	    strcmp(argv[0], "help") == 0) {
		sg_cli_print_usage(usage);
		*rc = SG_CLI_EXIT_OK;
		return -1;
	}
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(argv[0], names[i]) != 0)
			continue;
		if (sg_cli_wants_help(argc - 1, argv + 1)) {
			sg_cli_print_sub_usage(usage, group, names[i]);
			*rc = SG_CLI_EXIT_OK;
			return -1;
		}
		return i;
	}
	sg_cli_err("unknown %s command '%s' (%s)", group, argv[0], list);
	sg_cli_err_usage(group);
	return -1;
}

int
sg_cli_sub_parse(int argc, char **argv, const sg_cli_opt *opts, const char **pos,
    size_t npos, const char *posname)
{
	sg_cli_opt common[6];
	size_t got = 0;

	sg_cli_conn_opts(&sg_cli_flags, common);
	if (sg_cli_parse(argc, argv, opts, common, pos, npos, &got) != SG_OK)
		return SG_ERR_INVALID_ARGUMENT;
	if (got != npos) {
		sg_cli_err("missing %s", posname);
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}
