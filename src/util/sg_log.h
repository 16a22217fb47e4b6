/*
 * sg_log.h - the service log.
 *
 * One line per event on stderr: time, level, message; or, with
 * SG_LOG_JSON, one JSON object per line ({"ts","level","msg"}) for log
 * shippers.  Messages often carry text a client sent (paths, names), so
 * every line is made safe here whatever the caller passes: in text lines
 * each byte below 0x20, 0x7F, every byte from 0x80 and the backslash are
 * written as \xNN, so no CR, LF or ESC from a request reaches the log and
 * no line starts with anything but the timestamp; JSON lines escape the
 * same bytes as \u00NN.  Callers pass only identifiers and outcomes, never
 * secrets: no key bytes, PINs or API keys (the API-key prefix shown to
 * users is not secret and may be logged).
 */
#ifndef SG_LOG_H
#define SG_LOG_H

typedef enum { SG_LOG_DEBUG = 0, SG_LOG_INFO, SG_LOG_WARN, SG_LOG_ERROR } sg_log_level;
typedef enum { SG_LOG_TEXT = 0, SG_LOG_JSON } sg_log_format;

/* Set the lowest level that is written (default SG_LOG_INFO). */
void sg_log_set_level(sg_log_level level);

/* Parse "debug|info|warn|error"; returns -1 when unknown. */
int sg_log_level_from_name(const char *name);

/* Text lines (the default) or JSON lines. */
void sg_log_set_format(sg_log_format format);

void sg_log(sg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Escape s for one text log line into out (cap bytes, always
 * NUL-terminated, cut short when too small): as sg_log does, and usable
 * by callers that write elsewhere.
 */
void sg_log_escape(const char *s, char *out, size_t cap);

#define sg_debug(...) sg_log(SG_LOG_DEBUG, __VA_ARGS__)
#define sg_info(...) sg_log(SG_LOG_INFO, __VA_ARGS__)
#define sg_warn(...) sg_log(SG_LOG_WARN, __VA_ARGS__)
#define sg_error(...) sg_log(SG_LOG_ERROR, __VA_ARGS__)

#endif
