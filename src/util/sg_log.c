/* sg_log.c - line-oriented log on stderr, text or JSON (see sg_log.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "sg_log.h"
#include "sg_util.h"

static volatile int min_level = SG_LOG_INFO;
static volatile int log_format = SG_LOG_TEXT;

void
sg_log_set_level(sg_log_level level)
{
	min_level = level;
}

void
sg_log_set_format(sg_log_format format)
{
	log_format = format;
}

int
sg_log_level_from_name(const char *name)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

/* Escape into out: json selects JSON string escapes, else \xNN. */
static void
escape(const char *s, char *out, size_t cap, int json)
{
	static const char hex[] = "0123456789abcdef";
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned c = *p;
		char tmp[7];
		size_t n;
		if (c < 0x20 || c >= 0x7F || c == '\\' || (json && c == '"')) {
			if (json && (c == '"' || c == '\\')) {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				n = 2;
			} else if (json) {
				memcpy(tmp, "\\u00", 4);
				tmp[4] = hex[c >> 4];
				tmp[5] = hex[c & 15];
				n = 6;
			} else {
				tmp[0] = '\\';
				tmp[1] = 'x';
				tmp[2] = hex[c >> 4];
				tmp[3] = hex[c & 15];
				n = 4;
			}
		} else {
			tmp[0] = (char)c;
			n = 1;
		}
		if (w + n + 1 > cap)
			break;
		memcpy(out + w, tmp, n);
		w += n;
	}
	if (cap > 0)
		out[w] = 0;
}

void
sg_log_escape(const char *s, char *out, size_t cap)
{
	escape(s, out, cap, 0);
}

void
sg_log(sg_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "DEBUG", "INFO", "WARN", "ERROR" };
	if ((int)level < min_level)
		return;
	char ts[32], msg[1024], safe[6 * 1024 + 8];
	sg_time_format(sg_now_ms(), ts);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One fprintf call per line keeps lines from different threads whole. */
	if (log_format == SG_LOG_JSON) {
		escape(msg, safe, sizeof(safe), 1);
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}\n", ts, names[level], safe);
	} else {
		escape(msg, safe, sizeof(safe), 0);
		fprintf(stderr, "%s %s %s\n", ts, names[level], safe);
	}
}
