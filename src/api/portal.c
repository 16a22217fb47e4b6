/*
 * portal.c - GET /portal/: the approvers' portal (SPEC §7), a small web
 * application that signetd serves from bytes compiled into the binary.
 *
 * The portal is static HTML, CSS and JavaScript (src/portal/assets, embedded
 * by cmake/embed_portal.cmake); everything it shows comes from the native
 * API, which the browser calls with the approver's API key as a Bearer
 * header.  The files are public: they hold no data, and the key is asked for
 * on the page.  Every answer here carries a strict Content-Security-Policy:
 * scripts, styles, images and API calls only from signetd's own origin, no
 * inline script or style, no framing, no plug-ins.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "sg_portal_assets.h"

/* What the portal's pages may load: their own origin's files and API only. */
#define PORTAL_CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const sg_portal_asset *
find_asset(const char *name)
{
	for (const sg_portal_asset *a = sg_portal_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

void
api_portal(api_req *req, api_resp *resp)
{
	const char *name = req->path + strlen("/portal");
	const sg_portal_asset *a;

	resp->csp = PORTAL_CSP;
	if (name[0] == 0) {
		/* Relative asset links need the trailing slash. */
		sg_strlcpy(resp->location, "/portal/", sizeof(resp->location));
		api_text(resp, 301, "text/plain; charset=utf-8", "moved to /portal/\n");
		return;
	}
	name++;  /* past the '/' */
	if (name[0] == 0)
		name = "index.html";
	if ((a = find_asset(name)) == NULL) {
		api_error(req, resp, SG_ERR_NOT_FOUND, "no such portal file");
		return;
	}
	free(resp->body);
	if ((resp->body = malloc(a->len + 1)) == NULL) {
		api_error(req, resp, SG_ERR_NOMEM, "out of memory");
		return;
	}
	memcpy(resp->body, a->data, a->len + 1);
	resp->body_len = a->len;
	resp->status = 200;
	resp->content_type = a->content_type;
}
