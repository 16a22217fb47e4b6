/*
 * sg_util.h - small helpers with no better home: identifiers, clocks,
 * bounded string copies and number parsing without atoi/strtok.
 */
#ifndef SG_UTIL_H
#define SG_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"

#define SG_UUID_LEN 36  /* characters, without the NUL */

/*
 * A fresh UUID (RFC 9562 version 7: millisecond time, then 74 random bits),
 * lower-case, into out[SG_UUID_LEN + 1].  Time order keeps the rows written
 * in one batch on neighbouring index pages; the creation time it reveals is
 * shown beside every object anyway.
 */
int sg_uuid(char out[SG_UUID_LEN + 1]) SG_WUR;

/* Milliseconds since the Unix epoch (wall clock). */
int64_t sg_now_ms(void);

/* Monotonic nanoseconds, for durations. */
uint64_t sg_mono_ns(void);

/* RFC 3339 UTC time with milliseconds, e.g. 2026-11-22T18:47:38.123Z, into out[32]. */
void sg_time_format(int64_t ms, char out[32]);

/* Copy at most dstsize-1 bytes and NUL-terminate; returns strlen(src). */
size_t sg_strlcpy(char *dst, const char *src, size_t dstsize);

/* Parse a whole decimal integer in [min, max]; SG_ERR_INVALID_ARGUMENT otherwise. */
int sg_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out) SG_WUR;

/* Read a whole file (at most max bytes) into a malloc'd NUL-terminated buffer. */
int sg_read_file(const char *path, size_t max, uint8_t **out, size_t *outlen) SG_WUR;

/*
 * Write a file atomically (temp file + rename) with the given mode; the
 * mode is applied at creation, so a secret is never readable by others.
 */
int sg_write_file(const char *path, const void *p, size_t n, unsigned mode) SG_WUR;

#endif
