/*
 * sg_log.h - the service log.
 *
 * One line per event on stderr: time, level, message.  Callers pass only
 * identifiers and outcomes, never secrets: no key bytes, PINs or API keys
 * (the API-key prefix shown to users is not secret and may be logged).
 */
#ifndef SG_LOG_H
#define SG_LOG_H

typedef enum { SG_LOG_DEBUG = 0, SG_LOG_INFO, SG_LOG_WARN, SG_LOG_ERROR } sg_log_level;

/* Set the lowest level that is written (default SG_LOG_INFO). */
void sg_log_set_level(sg_log_level level);

/* Parse "debug|info|warn|error"; returns -1 when unknown. */
int sg_log_level_from_name(const char *name);

void sg_log(sg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sg_debug(...) sg_log(SG_LOG_DEBUG, __VA_ARGS__)
#define sg_info(...) sg_log(SG_LOG_INFO, __VA_ARGS__)
#define sg_warn(...) sg_log(SG_LOG_WARN, __VA_ARGS__)
#define sg_error(...) sg_log(SG_LOG_ERROR, __VA_ARGS__)

#endif
