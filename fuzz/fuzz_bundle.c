/*
 * fuzz_bundle.c - the CLI's bundle file reader (sg_cli_bundle_load): a
 * signature bundle is a file a user may have been handed by anyone.  The
 * input is written to a file in a private temporary directory and loaded;
 * an accepted bundle must be a JSON object whose "format" is
 * SG_CLI_BUNDLE_FORMAT, and its fields are read with the CLI's getters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "sg_cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128];

static void
remove_files(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (path[0] == 0) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/signet-fuzz-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		if (snprintf(path, sizeof(path), "%s/bundle.json", dir) >= (int)sizeof(path))
			abort();
		atexit(remove_files);
	}
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	json_t *b = NULL;
	if (sg_cli_bundle_load(path, &b) == SG_OK) {
		const char *fmt = sg_cli_json_str(b, "format");
		if (!json_is_object(b) || fmt == NULL || strcmp(fmt, SG_CLI_BUNDLE_FORMAT) != 0) {
			fprintf(stderr, "bundle accepted without its format\n");
			abort();
		}
		const char *k;
		json_t *v;
		json_object_foreach(b, k, v) {
			(void)sg_cli_json_str(b, k);
			(void)sg_cli_json_int(b, k);
			(void)sg_cli_json_uint(b, k);
		}
		json_decref(b);
	}
	return 0;
}
