/*
 * multipart.c - the bounded multipart/form-data parser of sg_multipart.h.
 *
 * One pass over a body already in memory: find the first delimiter
 * ("--" boundary, at the start or after a preamble), then for each part
 * read its header block (CRLF lines up to an empty line, at most
 * SG_MP_MAX_HEADER bytes), take Content-Disposition and Content-Type, and
 * find the next "CRLF--boundary"; the bytes between are the part's data.
 * The closing delimiter ("--boundary--") must come; what follows it (the
 * epilogue) is ignored, as RFC 2046 says.  Every loop is bounded by the
 * body's length and every copy by its destination.
 */
#include <string.h>
#include <strings.h>
#include "sg_multipart.h"

#define CRLF "\r\n"

static int
fail(const char **why, const char *msg)
{
	*why = msg;
	return SG_ERR_INVALID_ARGUMENT;
}

/* First occurrence of needle (nlen >= 1) in hay, or NULL. */
static const uint8_t *
find(const uint8_t *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0 || hlen < nlen)
		return NULL;
	const uint8_t *end = hay + (hlen - nlen) + 1;
	const uint8_t *p = hay;
	while (p < end) {
		const uint8_t *c = memchr(p, (unsigned char)needle[0], (size_t)(end - p));
		if (c == NULL)
			return NULL;
		if (memcmp(c, needle, nlen) == 0)
			return c;
		p = c + 1;
	}
	return NULL;
}

static int
is_bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    strchr("'()+_,-./:=? ", c) != NULL;
}

static int
is_tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *
skip_ows(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/*
 * Read a parameter value at *sp (a token or a quoted-string with \
 * escapes) into out (cap bytes with the NUL); advances *sp.  0 or -1.
 */
static int
param_value(const char **sp, const char *end, char *out, size_t cap)
{
	const char *s = *sp;
	size_t n = 0;
	if (s < end && *s == '"') {
		for (s++;; s++) {
			if (s >= end)
				return -1;
			char c = *s;
			if (c == '"')
				break;
			if (c == '\\') {
				if (++s >= end)
					return -1;
				c = *s;
			}
			if ((unsigned char)c < 0x20 && c != '\t')
				return -1;
			if (c == 0x7f || n + 1 >= cap)
				return -1;
			out[n++] = c;
		}
		s++;
	} else {
		while (s < end && is_tchar(*s)) {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *s++;
		}
		if (n == 0)
			return -1;
	}
	out[n] = 0;
	*sp = s;
	return 0;
}

int
sg_mp_boundary(const char *content_type, char out[SG_MP_MAX_BOUNDARY + 1], const char **why)
{
	static const char type[] = "multipart/form-data";
	char value[SG_MP_MAX_BOUNDARY + 2];
	int found = 0;

	if (content_type == NULL)
		return fail(why, "Content-Type must be multipart/form-data; it is missing");
	const char *s = content_type, *end = s + strlen(s);
	s = skip_ows(s, end);
	if ((size_t)(end - s) < sizeof(type) - 1 || strncasecmp(s, type, sizeof(type) - 1) != 0)
		return fail(why, "Content-Type must be multipart/form-data");
	s = skip_ows(s + sizeof(type) - 1, end);
	while (s < end) {
		char name[32];
		size_t n = 0;
		if (*s != ';')
			return fail(why, "malformed Content-Type parameters");
		s = skip_ows(s + 1, end);
		if (s == end)
			break;
		while (s < end && is_tchar(*s) && n + 1 < sizeof(name))
			name[n++] = *s++;
		name[n] = 0;
		s = skip_ows(s, end);
		if (n == 0 || s >= end || *s != '=')
			return fail(why, "malformed Content-Type parameters");
		s = skip_ows(s + 1, end);
		if (strcasecmp(name, "boundary") == 0) {
			if (found || param_value(&s, end, value, sizeof(value)) != 0)
				return fail(why, "the multipart boundary is missing, repeated or longer than 70 characters");
			found = 1;
		} else {
			char skip[256];
			if (param_value(&s, end, skip, sizeof(skip)) != 0)
				return fail(why, "malformed Content-Type parameters");
		}
		s = skip_ows(s, end);
	}
	size_t blen = found ? strlen(value) : 0;
	if (blen == 0 || blen > SG_MP_MAX_BOUNDARY || value[blen - 1] == ' ')
		return fail(why, "the multipart boundary is missing, repeated or longer than 70 characters");
	for (size_t i = 0; i < blen; i++)
		if (!is_bchar(value[i]))
			return fail(why, "the multipart boundary has a character RFC 2046 does not allow");
	memcpy(out, value, blen + 1);
	return SG_OK;
}

/* Content-Disposition: form-data; name="..."[; filename="..."] into p. */
static int
disposition(const char *s, const char *end, sg_mp_part *p, const char **why)
{
	static const char fd[] = "form-data";
	int have_name = 0, have_file = 0;
	s = skip_ows(s, end);
	if ((size_t)(end - s) < sizeof(fd) - 1 || strncasecmp(s, fd, sizeof(fd) - 1) != 0)
		return fail(why, "a part's Content-Disposition is not form-data");
	s = skip_ows(s + sizeof(fd) - 1, end);
	while (s < end) {
		char name[32];
		size_t n = 0;
		if (*s != ';')
			return fail(why, "malformed Content-Disposition");
		s = skip_ows(s + 1, end);
		while (s < end && is_tchar(*s) && n + 1 < sizeof(name))
			name[n++] = *s++;
		name[n] = 0;
		s = skip_ows(s, end);
		if (n == 0 || s >= end || *s != '=')
			return fail(why, "malformed Content-Disposition");
		s = skip_ows(s + 1, end);
		if (strcasecmp(name, "name") == 0) {
			if (have_name || param_value(&s, end, p->name, sizeof(p->name)) != 0 || p->name[0] == 0)
				return fail(why, "a part's name is missing, repeated, or longer than 63 characters");
			have_name = 1;
		} else if (strcasecmp(name, "filename") == 0) {
			if (have_file || param_value(&s, end, p->filename, sizeof(p->filename)) != 0)
				return fail(why, "a part's filename is repeated or longer than 255 characters");
			have_file = 1;
		} else {
			char skip[SG_MP_FILENAME_MAX];
			if (param_value(&s, end, skip, sizeof(skip)) != 0)
				return fail(why, "malformed Content-Disposition");
		}
		s = skip_ows(s, end);
	}
	if (!have_name)
		return fail(why, "a part's Content-Disposition has no name");
	return SG_OK;
}

/* The header block of one part, [s, end) without its final empty line. */
static int
part_headers(const char *s, const char *end, sg_mp_part *p, const char **why)
{
	int have_cd = 0, have_ct = 0;
	while (s < end) {
		const char *eol = (const char *)find((const uint8_t *)s, (size_t)(end - s), CRLF, 2);
		const char *le = eol ? eol : end;
		const char *colon = memchr(s, ':', (size_t)(le - s));
		if (*s == ' ' || *s == '\t')
			return fail(why, "folded part headers are not accepted");
		if (colon == NULL || colon == s)
			return fail(why, "a part header line has no name");
		for (const char *c = s; c < le; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
				return fail(why, "a part header has a control character");
		size_t nlen = (size_t)(colon - s);
		if (nlen == 19 && strncasecmp(s, "Content-Disposition", nlen) == 0) {
			if (have_cd)
				return fail(why, "a part has two Content-Disposition headers");
			have_cd = 1;
			int r = disposition(colon + 1, le, p, why);
			if (r != SG_OK)
				return r;
		} else if (nlen == 12 && strncasecmp(s, "Content-Type", nlen) == 0) {
			const char *v = skip_ows(colon + 1, le), *ve = le;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (have_ct || (size_t)(ve - v) >= sizeof(p->content_type))
				return fail(why, "a part's Content-Type is repeated or too long");
			have_ct = 1;
			memcpy(p->content_type, v, (size_t)(ve - v));
			p->content_type[ve - v] = 0;
		}
		s = eol ? eol + 2 : end;
	}
	if (!have_cd)
		return fail(why, "a part has no Content-Disposition header");
	return SG_OK;
}

int
sg_mp_parse(const uint8_t *body, size_t len, const char *boundary, sg_mp_form *out, const char **why)
{
	char delim[2 + SG_MP_MAX_BOUNDARY + 1];   /* "--" boundary */
	char next[2 + sizeof(delim)];             /* CRLF "--" boundary */
	size_t blen = boundary ? strlen(boundary) : 0;
	const uint8_t *end = body + len, *p;

	if (blen == 0 || blen > SG_MP_MAX_BOUNDARY)
		return fail(why, "the multipart boundary is missing or longer than 70 characters");
	memcpy(delim, "--", 2);
	memcpy(delim + 2, boundary, blen + 1);
	memcpy(next, CRLF, 2);
	memcpy(next + 2, delim, blen + 3);
	size_t dlen = blen + 2, nlen = blen + 4;
	memset(out, 0, sizeof(*out));

	if (len >= dlen && memcmp(body, delim, dlen) == 0) {
		p = body + dlen;
	} else {
		const uint8_t *d = find(body, len, next, nlen);
		if (d == NULL)
			return fail(why, "the body is not a multipart form with the declared boundary");
		p = d + nlen;
	}
	for (;;) {
		/* After a delimiter: "--" closes the form, else padding and CRLF open a part. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2)
			return fail(why, "the multipart body is truncated (no closing boundary)");
		if (p[0] != '\r' || p[1] != '\n')
			return fail(why, "a multipart boundary line is malformed");
		p += 2;
		if (out->n == SG_MP_MAX_PARTS)
			return fail(why, "the form has more than 16 parts");
		sg_mp_part *part = &out->parts[out->n];
		/* The header block ends at the first empty line. */
		const uint8_t *hend;
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			hend = p;
		} else {
			size_t window = (size_t)(end - p);
			if (window > SG_MP_MAX_HEADER + 4)
				window = SG_MP_MAX_HEADER + 4;
			const uint8_t *e = find(p, window, CRLF CRLF, 4);
			if (e == NULL)
				return fail(why, window == (size_t)(end - p) ?
				    "the multipart body is truncated (a part's headers do not end)" :
				    "a part's headers are longer than 2048 bytes");
			hend = e + 2;
		}
		if ((size_t)(hend - p) > SG_MP_MAX_HEADER)
			return fail(why, "a part's headers are longer than 2048 bytes");
		int r = part_headers((const char *)p, (const char *)(hend == p ? p : hend - 2), part, why);
		if (r != SG_OK)
			return r;
		const uint8_t *data = hend + 2;
		const uint8_t *d = find(data, (size_t)(end - data), next, nlen);
		if (d == NULL)
			return fail(why, "the multipart body is truncated (no closing boundary)");
		if ((size_t)(d - data) > SG_MP_MAX_PART)
			return fail(why, "a part is larger than 512 KiB");
		for (size_t i = 0; i < out->n; i++)
			if (strcmp(out->parts[i].name, part->name) == 0)
				return fail(why, "the form has two parts of the same name");
		part->data = data;
		part->len = (size_t)(d - data);
		out->n++;
		p = d + nlen;
	}
	if (out->n == 0)
		return fail(why, "the form has no parts");
	return SG_OK;
}

const sg_mp_part *
sg_mp_get(const sg_mp_form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->parts[i].name, name) == 0)
			return &f->parts[i];
	return NULL;
}
