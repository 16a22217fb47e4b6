/*
 * resp.c - building responses and reading request bodies.
 *
 * The error mapping lives here: every sg_err becomes one HTTP status and one
 * stable code string (SPEC §3); a store error while the database does not
 * answer is SG_ERR_UNAVAILABLE (503) in every dialect.  Messages are written by handlers for the
 * client; internal error text (database, OpenSSL) is logged, never sent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "api.h"
#include "sg_b64.h"
#include "sg_log.h"

void
api_err_map(int err, unsigned *status, const char **code)
{
	switch ((sg_err)err) {
	case SG_OK: *status = 200; *code = "OK"; return;
	case SG_ERR_INVALID_ARGUMENT:
	case SG_ERR_BAD_ENCODING: *status = 400; *code = "INVALID_ARGUMENT"; return;
	case SG_ERR_UNSUPPORTED_HASH: *status = 400; *code = "UNSUPPORTED_HASH_ALGORITHM"; return;
	case SG_ERR_DIGEST_LENGTH: *status = 400; *code = "DIGEST_LENGTH_MISMATCH"; return;
	case SG_ERR_UNSUPPORTED_ALGORITHM: *status = 400; *code = "UNSUPPORTED_ALGORITHM"; return;
	case SG_ERR_ALGORITHM_MISMATCH: *status = 400; *code = "ALGORITHM_MISMATCH"; return;
	case SG_ERR_BAD_SIGNATURE: *status = 400; *code = "INVALID_SIGNATURE"; return;
	case SG_ERR_UNAUTHENTICATED: *status = 401; *code = "UNAUTHENTICATED"; return;
	case SG_ERR_PERMISSION_DENIED: *status = 403; *code = "PERMISSION_DENIED"; return;
	case SG_ERR_NOT_FOUND: *status = 404; *code = "NOT_FOUND"; return;
	case SG_ERR_KEY_NOT_ACTIVE: *status = 409; *code = "KEY_NOT_ACTIVE"; return;
	case SG_ERR_CONFLICT: *status = 409; *code = "CONFLICT"; return;
	case SG_ERR_PRECONDITION: *status = 409; *code = "FAILED_PRECONDITION"; return;
	case SG_ERR_TOO_LARGE: *status = 413; *code = "PAYLOAD_TOO_LARGE"; return;
	case SG_ERR_RATE_LIMITED: *status = 429; *code = "RATE_LIMITED"; return;
	case SG_ERR_UNAVAILABLE: *status = 503; *code = "UNAVAILABLE"; return;
	case SG_ERR_INTERNAL:
	case SG_ERR_NOMEM:
	case SG_ERR_CRYPTO:
	case SG_ERR_IO:
	case SG_ERR_STORE:
		break;
	}
	*status = 500;
	*code = "INTERNAL";
}

void
api_json(api_resp *resp, unsigned status, json_t *j)
{
	free(resp->body);
	resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (resp->body == NULL) {
		resp->body = strdup("{\"error\":{\"code\":\"INTERNAL\",\"message\":\"out of memory\"}}");
		status = 500;
	}
	resp->body_len = resp->body ? strlen(resp->body) : 0;
	resp->status = status;
	resp->content_type = "application/json";
}

void
api_text(api_resp *resp, unsigned status, const char *content_type, const char *text)
{
	free(resp->body);
	resp->body = strdup(text);
	resp->body_len = resp->body ? strlen(resp->body) : 0;
	resp->status = status;
	resp->content_type = content_type;
}

static void error_v(api_req *req, api_resp *resp, unsigned status, const char *code, int err,
    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static void
error_v(api_req *req, api_resp *resp, unsigned status, const char *code, int err, const char *fmt,
    va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (req->dialect == NULL)
		req->dialect = api_dialect_owner(req->path ? req->path : "/");
	sg_strlcpy(resp->error_code, code, sizeof(resp->error_code));
	req->dialect->render_error(req, resp, status, code, err, msg);
	if (resp->error_code[0] == 0)
		sg_strlcpy(resp->error_code, code, sizeof(resp->error_code));
}

void
api_error(api_req *req, api_resp *resp, int err, const char *fmt, ...)
{
	unsigned status;
	const char *code;
	api_err_map(err, &status, &code);
	/*
	 * A database error while the database is away is its absence, not a
	 * fault of ours: 503, as SPEC §6 pins, whatever error the store chose.
	 * Only failing requests pay for the ping.
	 */
	if (status == 500 && (err == SG_ERR_STORE || err == SG_ERR_IO || err == SG_ERR_INTERNAL) &&
	    req->svc != NULL && req->svc->store != NULL && req->svc->store->ops->ping != NULL &&
	    req->svc->store->ops->ping(req->svc->store) != SG_OK) {
		err = SG_ERR_UNAVAILABLE;
		api_err_map(err, &status, &code);
		sg_warn("request %s: the database is unavailable", req->request_id);
	}
	va_list ap;
	va_start(ap, fmt);
	if (status == 500) {
		/* Whatever the handler knows stays in the log, tied to the request id. */
		char detail[512];
		vsnprintf(detail, sizeof(detail), fmt, ap);
		sg_error("request %s: %s (%s)", req->request_id, detail, sg_err_str(err));
		va_end(ap);
		va_start(ap, fmt);
		error_v(req, resp, status, code, err, "internal error; see the server log for this request id", ap);
	} else {
		error_v(req, resp, status, code, err, fmt, ap);
	}
	va_end(ap);
}

void
api_error_code(api_req *req, api_resp *resp, unsigned status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_v(req, resp, status, code, SG_ERR_INVALID_ARGUMENT, fmt, ap);
	va_end(ap);
}

void
api_problem(api_req *req, api_resp *resp, const sg_problem *p)
{
	api_error(req, resp, p->err, "%s", p->message);
}

const sg_caller *
api_caller(const api_req *req, sg_caller *c)
{
	c->tenant = &req->tenant;
	c->principal = &req->principal;
	c->client_ip = req->client_ip;
	c->client_type = req->user_agent;
	c->request_id = req->request_id;
	return c;
}

json_t *
api_body_object(api_req *req, api_resp *resp)
{
	json_error_t e;
	if (req->body_len == 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "request body must be a JSON object");
		return NULL;
	}
	json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		/* Our words, not the parser's: its texts name its own flags and internals. */
		const char *why;
		switch (json_error_code(&e)) {
		case json_error_invalid_utf8: why = "text that is not valid UTF-8"; break;
		case json_error_null_character: why = "a \\u0000 character, which is not accepted"; break;
		case json_error_null_byte_in_key: why = "a \\u0000 character in a field name"; break;
		case json_error_duplicate_key: why = "a field given twice"; break;
		case json_error_premature_end_of_input: why = "an unexpected end of the body"; break;
		case json_error_end_of_input_expected: why = "text after the end of the JSON value"; break;
		case json_error_numeric_overflow: why = "a number too large"; break;
		case json_error_stack_overflow: why = "nesting too deep"; break;
		case json_error_out_of_memory: why = "a body too large to parse"; break;
		default: why = "invalid JSON syntax"; break;
		}
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "malformed JSON at line %d column %d: %s",
		    e.line, e.column, why);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "request body must be a JSON object");
		return NULL;
	}
	return j;
}

int
api_field_str(api_req *req, api_resp *resp, json_t *obj, const char *name, int required,
    size_t maxlen, const char **out)
{
	json_t *v = json_object_get(obj, name);
	if (v == NULL || json_is_null(v)) {
		if (required) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' is required", name);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' must be a string", name);
		return -1;
	}
	size_t len = json_string_length(v);
	if (len > maxlen) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' is longer than %zu characters",
		    name, maxlen);
		return -1;
	}
	if (strlen(json_string_value(v)) != len) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' contains a NUL character", name);
		return -1;
	}
	if (required && len == 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' must not be empty", name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
api_field_int(api_req *req, api_resp *resp, json_t *obj, const char *name, int required,
    int64_t min, int64_t max, int64_t *out)
{
	json_t *v = json_object_get(obj, name);
	if (v == NULL || json_is_null(v)) {
		if (required) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' is required", name);
			return -1;
		}
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "field '%s' must be an integer from %lld to %lld", name, (long long)min, (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int
api_field_bool(api_req *req, api_resp *resp, json_t *obj, const char *name, int *out)
{
	json_t *v = json_object_get(obj, name);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field '%s' must be true or false", name);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int
api_fields_known(api_req *req, api_resp *resp, json_t *obj, const char *const *known)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		int ok = 0;
		for (size_t i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], k) == 0)
				ok = 1;
		if (!ok) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "unknown field '%.64s'", k);
			return -1;
		}
	}
	return 0;
}

int
api_has_role(const api_req *req, unsigned roles)
{
	return (req->principal.roles & roles) != 0;
}

void
api_b64_set(json_t *obj, const char *name, const uint8_t *p, size_t n)
{
	char *s = sg_b64_encode(p, n);
	if (s != NULL)
		json_object_set_new(obj, name, json_string(s));
	free(s);
}

json_t *
api_roles_json(unsigned roles)
{
	json_t *a = json_array();
	for (unsigned bit = 1; bit <= SG_ROLE_OPERATOR; bit <<= 1)
		if (roles & bit)
			json_array_append_new(a, json_string(sg_role_name(bit)));
	return a;
}
