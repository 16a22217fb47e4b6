/* sg_log.c - line-oriented log on stderr (see sg_log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "sg_log.h"
#include "sg_util.h"

static volatile int min_level = SG_LOG_INFO;

void
sg_log_set_level(sg_log_level level)
{
	min_level = level;
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

void
sg_log(sg_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "DEBUG", "INFO", "WARN", "ERROR" };
	if ((int)level < min_level)
		return;
	char ts[32], msg[1024];
	sg_time_format(sg_now_ms(), ts);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One fprintf call per line keeps lines from different threads whole. */
	fprintf(stderr, "%s %s %s\n", ts, names[level], msg);
}
