/*
 * libFuzzer harness for the multipart/form-data parser (src/api/multipart.c),
 * which reads the hash-signing-data API's forms straight off the network.
 * The input's first line is the Content-Type header value, the rest is the
 * body.  Besides "no crash" (the body sits in an exactly sized heap block,
 * so ASan sees any read past it), it checks properties: every part lies
 * inside the body and within the limits, names are non-empty and unique,
 * and a form that parses, written out again with the same boundary,
 * parses to the same parts.  Built without libFuzzer (gcc, or SIGNET_FUZZ
 * off) it is linked with fuzz_replay.c, which replays the files named on
 * the command line.
 */
#include <stdlib.h>
#include <string.h>

#include "sg_multipart.h"

/* Append a quoted-string with \ escapes; 0 when it does not fit. */
static int put_quoted(char *out, size_t cap, size_t *n, const char *s)
{
  if (*n + 1 >= cap)
    return 0;
  out[(*n)++] = '"';
  for (; *s; s++) {
    if (*n + 3 >= cap)
      return 0;
    if (*s == '"' || *s == '\\')
      out[(*n)++] = '\\';
    out[(*n)++] = *s;
  }
  out[(*n)++] = '"';
  return 1;
}

static int put(char *out, size_t cap, size_t *n, const void *p, size_t len)
{
  if (*n + len > cap)
    return 0;
  memcpy(out + *n, p, len);
  *n += len;
  return 1;
}

/* Serialise form again; returns its length, 0 when it did not fit. */
static size_t rewrite(const sg_mp_form *f, const char *boundary, char *out, size_t cap)
{
  size_t n = 0;
  for (size_t i = 0; i < f->n; i++) {
    const sg_mp_part *p = &f->parts[i];
    if (!put(out, cap, &n, "--", 2) || !put(out, cap, &n, boundary, strlen(boundary)) ||
        !put(out, cap, &n, "\r\nContent-Disposition: form-data; name=", 39) ||
        !put_quoted(out, cap, &n, p->name))
      return 0;
    if (p->filename[0] && (!put(out, cap, &n, "; filename=", 11) ||
        !put_quoted(out, cap, &n, p->filename)))
      return 0;
    if (p->content_type[0] && (!put(out, cap, &n, "\r\nContent-Type: ", 16) ||
        !put(out, cap, &n, p->content_type, strlen(p->content_type))))
      return 0;
    if (!put(out, cap, &n, "\r\n\r\n", 4) || !put(out, cap, &n, p->data, p->len) ||
        !put(out, cap, &n, "\r\n", 2))
      return 0;
  }
  if (!put(out, cap, &n, "--", 2) || !put(out, cap, &n, boundary, strlen(boundary)) ||
      !put(out, cap, &n, "--\r\n", 4))
    return 0;
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static sg_mp_form form, again;
  char ctype[512], boundary[SG_MP_MAX_BOUNDARY + 1];
  const char *why = NULL;
  const uint8_t *nl = memchr(data, '\n', size < sizeof(ctype) ? size : sizeof(ctype));
  if (nl == NULL || memchr(data, 0, (size_t)(nl - data)) != NULL)
    return 0;
  memcpy(ctype, data, (size_t)(nl - data));
  ctype[nl - data] = 0;
  size_t blen = size - (size_t)(nl - data) - 1;
  uint8_t *body = malloc(blen ? blen : 1);
  if (body == NULL)
    return 0;
  memcpy(body, nl + 1, blen);

  if (sg_mp_boundary(ctype, boundary, &why) != SG_OK) {
    if (why == NULL)
      abort();
    goto out;
  }
  if (strlen(boundary) == 0 || strlen(boundary) > SG_MP_MAX_BOUNDARY)
    abort();
  if (sg_mp_parse(body, blen, boundary, &form, &why) != SG_OK) {
    if (why == NULL)
      abort();
    goto out;
  }
  if (form.n == 0 || form.n > SG_MP_MAX_PARTS)
    abort();
  for (size_t i = 0; i < form.n; i++) {
    const sg_mp_part *p = &form.parts[i];
    if (p->name[0] == 0 || p->len > SG_MP_MAX_PART || p->data < body || p->data + p->len > body + blen)
      abort();
    if (strnlen(p->filename, sizeof(p->filename)) == sizeof(p->filename) ||
        strnlen(p->content_type, sizeof(p->content_type)) == sizeof(p->content_type))
      abort();
    for (size_t j = 0; j < i; j++)
      if (strcmp(form.parts[j].name, p->name) == 0)
        abort();
    if (sg_mp_get(&form, p->name) != p)
      abort();
  }
  /* Written out again, the form must parse to the same parts. */
  size_t cap = blen + 1024 + form.n * 1024;
  char *copy = malloc(cap);
  if (copy == NULL)
    goto out;
  size_t clen = rewrite(&form, boundary, copy, cap);
  if (clen > 0) {
    if (sg_mp_parse((const uint8_t *)copy, clen, boundary, &again, &why) != SG_OK || again.n != form.n)
      abort();
    for (size_t i = 0; i < form.n; i++) {
      const sg_mp_part *a = &form.parts[i], *b = &again.parts[i];
      if (strcmp(a->name, b->name) != 0 || strcmp(a->filename, b->filename) != 0 ||
          strcmp(a->content_type, b->content_type) != 0 || a->len != b->len ||
          (a->len && memcmp(a->data, b->data, a->len) != 0))
        abort();
    }
  }
  free(copy);
out:
  free(body);
  return 0;
}
