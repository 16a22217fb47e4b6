/*
 * sg_portal_assets.h - the approvers' portal's static files, compiled into
 * signetd.
 *
 * cmake/embed_portal.cmake turns every file of src/portal/assets into one
 * entry of sg_portal_assets[] at build time; src/api/portal.c serves them
 * under /portal/.  Nothing is read from disk at run time, so the portal
 * works whatever signetd's working directory is.
 */
#ifndef SG_PORTAL_ASSETS_H
#define SG_PORTAL_ASSETS_H

#include <stddef.h>

typedef struct sg_portal_asset {
	const char *name;               /* file name under /portal/, e.g. "portal.js" */
	const char *content_type;       /* full Content-Type value */
	const unsigned char *data;      /* the bytes, followed by one NUL */
	size_t len;                     /* length without that NUL */
} sg_portal_asset;

/* The files, in build order; the list ends with an entry whose name is NULL. */
extern const sg_portal_asset sg_portal_assets[];

#endif
