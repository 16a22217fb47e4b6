/*
 * sg_multipart.h - a small, bounded multipart/form-data parser (RFC 7578
 * over RFC 2046), for the dialects whose clients post forms (the
 * hash-signing-data API's `curl -F`).
 *
 * The whole body is in memory already (bounded by SG_API_MAX_BODY), so the
 * parser works in place: each part's data points into the body, nothing is
 * copied but the few header values.  Everything is bounded by the named
 * limits below, and anything that is not a well-formed form is refused with
 * a message fit for the client: a missing or malformed boundary, a body
 * that does not start with it or ends before the closing delimiter
 * (truncated), a part without `Content-Disposition: form-data; name=...`,
 * a header block or part over its limit, too many parts, or two parts of
 * the same name.  Line breaks are CRLF, as the RFCs and every real client
 * send them.  The parser has no state besides its output and depends only
 * on the C library (fuzz/fuzz_multipart.c runs it alone).
 */
#ifndef SG_MULTIPART_H
#define SG_MULTIPART_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"

#define SG_MP_MAX_PARTS 16                /* parts in one form */
#define SG_MP_MAX_HEADER 2048             /* bytes of one part's header block */
#define SG_MP_MAX_PART (512u * 1024u)     /* bytes of one part's data */
#define SG_MP_MAX_BOUNDARY 70             /* RFC 2046 §5.1.1 */
#define SG_MP_NAME_MAX 64                 /* a field name, with its NUL */
#define SG_MP_FILENAME_MAX 256            /* a file name, with its NUL */
#define SG_MP_TYPE_MAX 128                /* a part's Content-Type, with its NUL */

typedef struct sg_mp_part {
	char name[SG_MP_NAME_MAX];          /* the form field's name; never empty */
	char filename[SG_MP_FILENAME_MAX];  /* "" when the part is not a file */
	char content_type[SG_MP_TYPE_MAX];  /* "" when the part has none */
	const uint8_t *data;                /* into the parsed body; not NUL-terminated */
	size_t len;
} sg_mp_part;

typedef struct sg_mp_form {
	sg_mp_part parts[SG_MP_MAX_PARTS];
	size_t n;
} sg_mp_form;

/*
 * The boundary parameter of a Content-Type header value such as
 * `multipart/form-data; boundary=----abc` (quoted or not).  Returns SG_OK
 * and the boundary in out (1..70 characters), or SG_ERR_INVALID_ARGUMENT
 * with *why saying what is wrong (NULL content_type, another media type, no
 * or a bad boundary); out is untouched then.
 */
int sg_mp_boundary(const char *content_type, char out[SG_MP_MAX_BOUNDARY + 1], const char **why) SG_WUR;

/*
 * Parse body (len bytes, need not be NUL-terminated) as a form with the
 * given boundary.  On SG_OK, *out holds the parts in their order, their
 * data pointing into body (which must outlive *out).  On failure returns
 * SG_ERR_INVALID_ARGUMENT (a malformed form and one over a limit alike: the
 * client gets a 400 saying which), *why is a static message for the client,
 * and *out holds nothing usable.
 */
int sg_mp_parse(const uint8_t *body, size_t len, const char *boundary, sg_mp_form *out,
    const char **why) SG_WUR;

/* The part named name, or NULL. */
const sg_mp_part *sg_mp_get(const sg_mp_form *f, const char *name);

#endif
