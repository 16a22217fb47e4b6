/*
 * router.c - the list of dialects and the one place a request finds its
 * handler.
 *
 * A request is matched against the routes of each dialect in turn (the
 * native /v1 API first); the first route whose method and pattern match
 * runs, after authentication and the route's role check.  A path that
 * matches a route with another method is 405; no match at all is 404.
 * Errors raised here use the shape of the dialect that owns the path: the
 * dialect of the matching route, else the one whose prefix claims the path
 * (see api_dialect_owner).  Adding a dialect is one file (dialect_*.c) and
 * one entry in `dialects` below.
 */
#include <stdio.h>
#include <string.h>
#include "api.h"

static const api_dialect *const dialects[] = {
	&api_dialect_native,
	&api_dialect_sign_hash,
	&api_dialect_keypair,
	&api_dialect_digest,
	&api_dialect_signpath,
	&api_dialect_transit,
};

#define NDIALECTS (sizeof(dialects) / sizeof(dialects[0]))
/* Room for every route of every dialect, for the metrics labels. */
#define MAX_ROUTES 256

/* Match path against pattern, collecting "*" segments into req->params. */
static int
match(const char *pattern, const char *path, api_req *req)
{
	const char *p = pattern, *s = path;
	size_t n = 0;
	while (*p && *s) {
		if (*p == '*') {
			const char *end = strchr(s, '/');
			size_t len = end ? (size_t)(end - s) : strlen(s);
			if (len == 0 || n >= API_MAX_PARAMS)
				return 0;
			req->params[n++] = s;  /* terminated below by copying */
			s += len;
			p++;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p != 0 || (*s != 0 && strcmp(s, "/") != 0))
		return 0;
	req->nparams = n;
	return 1;
}

/* Does path start with prefix, "*" standing for one non-empty segment? */
static int
has_prefix(const char *prefix, const char *path)
{
	const char *p = prefix, *s = path;
	while (*p) {
		if (*p == '*') {
			size_t len = strcspn(s, "/");
			if (len == 0)
				return 0;
			s += len;
			p++;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return 1;
}

const api_dialect *
api_dialect_owner(const char *path)
{
	/* The native dialect claims "/", so the others are asked first. */
	for (size_t d = NDIALECTS; d-- > 0;) {
		for (const char *const *pf = dialects[d]->prefixes; pf && *pf; pf++)
			if (dialects[d] != &api_dialect_native && has_prefix(*pf, path))
				return dialects[d];
	}
	return &api_dialect_native;
}

size_t
api_max_body(const char *path)
{
	const api_dialect *d = api_dialect_owner(path ? path : "/");
	return d->max_body > 0 ? d->max_body : SG_API_MAX_BODY;
}

static char route_names[MAX_ROUTES][96];
static size_t nroute_names;

void
api_routes_init(void)
{
	size_t k = 0;
	for (size_t d = 0; d < NDIALECTS; d++)
		for (size_t i = 0; i < dialects[d]->nroutes && k < MAX_ROUTES; i++, k++)
			snprintf(route_names[k], sizeof(route_names[k]), "%s %s", dialects[d]->routes[i].method,
			    dialects[d]->routes[i].pattern);
	nroute_names = k;
}

const char *
api_route_name(int i)
{
	if (i < 0 || (size_t)i >= nroute_names)
		return NULL;
	return route_names[i];
}

static void
run(const api_route_def *rt, int index, api_req *req, api_resp *resp)
{
	uint64_t t0 = sg_mono_ns();
	rt->handler(req, resp);
	api_metrics_observe(index, resp->status, rt->handler == api_sign, sg_mono_ns() - t0);
}

/* Copy the path parameters into params so each is NUL-terminated; 0 when one is too long. */
static int
terminate_params(api_req *req, char params[API_MAX_PARAMS][256])
{
	for (size_t k = 0; k < req->nparams; k++) {
		size_t len = strcspn(req->params[k], "/");
		if (len >= sizeof(params[k]))
			return 0;
		memcpy(params[k], req->params[k], len);
		params[k][len] = 0;
		req->params[k] = params[k];
	}
	return 1;
}

void
api_route(api_req *req, api_resp *resp)
{
	const api_dialect *path_owner = NULL;
	/* NUL-terminated copies of the path parameters, alive while the handler runs. */
	char params[API_MAX_PARAMS][256];
	int index = 0;

	for (size_t d = 0; d < NDIALECTS; d++) {
		const api_dialect *dl = dialects[d];
		for (size_t i = 0; i < dl->nroutes; i++, index++) {
			const api_route_def *rt = &dl->routes[i];
			if (!match(rt->pattern, req->path, req))
				continue;
			if (path_owner == NULL)
				path_owner = dl;
			if (strcmp(rt->method, req->method) != 0)
				continue;
			req->dialect = dl;
			if (!terminate_params(req, params)) {
				api_error(req, resp, SG_ERR_NOT_FOUND, "no such resource");
				return;
			}
			if (rt->roles != API_PUBLIC) {
				if (api_authenticate(req, resp) != 0) {
					api_metrics_observe(index, resp->status, 0, 0);
					return;
				}
				if (rt->roles != API_ANY_ROLE && !api_has_role(req, rt->roles)) {
					char needed[96] = "";
					for (unsigned bit = 1; bit <= SG_ROLE_OPERATOR; bit <<= 1) {
						if ((rt->roles & bit) == 0)
							continue;
						size_t n = strlen(needed);
						snprintf(needed + n, sizeof(needed) - n, "%s%s", n ? " or " : "",
						    sg_role_name(bit));
					}
					api_error(req, resp, SG_ERR_PERMISSION_DENIED,
					    "%s %s needs the role %s, which this principal does not hold",
					    req->method, rt->pattern, needed);
					api_metrics_observe(index, resp->status, 0, 0);
					return;
				}
			}
			run(rt, index, req, resp);
			return;
		}
	}
	req->dialect = path_owner ? path_owner : api_dialect_owner(req->path);
	if (path_owner != NULL)
		api_error_code(req, resp, 405, "METHOD_NOT_ALLOWED", "%s is not allowed here", req->method);
	else
		api_error(req, resp, SG_ERR_NOT_FOUND, "no such endpoint");
	api_metrics_observe(-1, resp->status, 0, 0);
}
