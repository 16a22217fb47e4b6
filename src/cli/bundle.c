/*
 * bundle.c - reading the JSON bundle that sign-file writes next to a
 * signature (format "signet-bundle-v1", described in docs/cli.md).
 *
 * A bundle is input from wherever the artifact came from, so it is read with
 * a size limit, duplicate keys are refused (two "digest" fields would let
 * two readers disagree), and every known field must have its documented
 * type before any of it is used.
 */
#include <stdlib.h>
#include <string.h>
#include "sg_cli.h"
#include "sg_util.h"

const char *
sg_cli_json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	return s[0] != '\0' ? s : NULL;
}

int64_t
sg_cli_json_int(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return 0;
	return (int64_t)json_integer_value(v);
}

int64_t
sg_cli_json_uint(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	return (int64_t)json_integer_value(v);
}

static const char *const sg_cli_bundle_strings[] = {
	"file", "key_id", "key_alias", "key_algorithm", "signature_algorithm",
	"hash_algorithm", "signature_format", "digest", "signature", "context",
	"public_key_pem", "certificate_chain_pem", "timestamp_token", "signature_id",
	"request_id", "created_at", "tsa_certificate_pem", "policy",
};

int
sg_cli_bundle_load(const char *path, json_t **out)
{
	int r = SG_ERR_INTERNAL;
	uint8_t *text = NULL;
	size_t len = 0;
	json_t *root = NULL, *v;
	json_error_t jerr;
	const char *format;

	if ((r = sg_read_file(path, SG_CLI_MAX_BUNDLE, &text, &len)) != SG_OK) {
		sg_cli_err("cannot read bundle %s: %s", path, sg_err_str(r));
		goto out;
	}
	root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		sg_cli_err("bundle %s is not a JSON object%s%s", path,
		    root == NULL ? ": " : "", root == NULL ? jerr.text : "");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	format = sg_cli_json_str(root, "format");
	if (format == NULL || strcmp(format, SG_CLI_BUNDLE_FORMAT) != 0) {
		sg_cli_err("%s is not a %s bundle", path, SG_CLI_BUNDLE_FORMAT);
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	for (size_t i = 0; i < sizeof(sg_cli_bundle_strings) / sizeof(sg_cli_bundle_strings[0]);
	    i++) {
		v = json_object_get(root, sg_cli_bundle_strings[i]);
		if (v != NULL && !json_is_string(v) && !json_is_null(v)) {
			sg_cli_err("bundle %s: field \"%s\" must be a string", path,
			    sg_cli_bundle_strings[i]);
			r = SG_ERR_BAD_ENCODING;
			goto out;
		}
	}
	v = json_object_get(root, "key_version");
	if (v != NULL && !json_is_null(v) &&
	    (!json_is_integer(v) || json_integer_value(v) < 1)) {
		sg_cli_err("bundle %s: field \"key_version\" must be a positive integer", path);
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	v = json_object_get(root, "pss_salt_length");
	if (v != NULL && !json_is_null(v) &&
	    (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4096)) {
		sg_cli_err("bundle %s: field \"pss_salt_length\" must be an integer from 0 to 4096",
		    path);
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	*out = root;
	root = NULL;
	r = SG_OK;
out:
	json_decref(root);
	free(text);
	return r;
}
