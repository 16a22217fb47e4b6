/* config.c - defaults, file, environment (see config.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "sg_crypto.h"
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_util.h"

void
sg_config_defaults(sg_config *c)
{
	memset(c, 0, sizeof(*c));
	sg_strlcpy(c->listen, "127.0.0.1:8080", sizeof(c->listen));
	sg_strlcpy(c->data_dir, "./signet-data", sizeof(c->data_dir));
	c->threads = 16;
	sg_strlcpy(c->log_level, "info", sizeof(c->log_level));
	c->key_cache = 1;
	c->commit_batch = 256;
	c->workers = 4;
	c->lease_seconds = 30;
	c->store_open_timeout_seconds = 60;
	c->max_attempts = 5;
	c->retry_base_ms = 500;
	c->idempotency_ttl_seconds = 86400;
	c->pkcs11_sessions = 8;
	sg_strlcpy(c->master_key, "file", sizeof(c->master_key));
	sg_strlcpy(c->tsa_storage, "DISK", sizeof(c->tsa_storage));
	sg_strlcpy(c->tsa_key_type, "EC-P256", sizeof(c->tsa_key_type));
	sg_strlcpy(c->master_key_label, "signet-master-key", sizeof(c->master_key_label));
	sg_strlcpy(c->log_format, "text", sizeof(c->log_format));
	sg_strlcpy(c->transit_mount, "transit", sizeof(c->transit_mount));
	c->rate_limit_principal = 1000;
	c->rate_limit_address = 5000;
	c->rate_limit_auth_failures = 1;
	c->rate_limit_auth_failures_burst = 20;
	c->auth_audit_interval_seconds = 60;
	c->max_connections_per_address = 256;
	c->header_timeout_seconds = 30;
	c->webhook_retry_base_ms = 1000;
	c->webhook_retry_max_ms = 60000;
	c->webhook_max_attempts = 50;
	c->webhook_timeout_ms = 10000;
}

void
sg_config_wipe(sg_config *c)
{
	sg_wipe(c->pkcs11_pin, sizeof(c->pkcs11_pin));
	sg_wipe(c->store, sizeof(c->store));
}

sg_store_kind
sg_config_store_kind(const char *url)
{
	if (url == NULL || url[0] == 0)
		return SG_STORE_KIND_SQLITE;
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
		return SG_STORE_KIND_POSTGRESQL;
	return SG_STORE_KIND_INVALID;
}

void
sg_config_redact_url(const char *url, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = url, *scheme = strstr(url, "://");
	const char *auth_end = NULL, *colon = NULL;

	if (cap == 0)
		return;
#define PUT(ch) do { if (o + 1 < cap) out[o++] = (ch); } while (0)
	if (scheme != NULL) {
		const char *host = scheme + 3;
		/*
		 * userinfo ends at the last '@' before the path.  Not at the first
		 * '?' or '#': libpq takes those as part of a password, so
		 * postgresql://u:pa?ss@db/x has the password "pa?ss".
		 */
		size_t hostpart = strcspn(host, "/");
		for (const char *q = host; q < host + hostpart; q++)
			if (*q == '@')
				auth_end = q;
		/*
		 * A '/' in an unencoded password hides its '@' from that search:
		 * mask up to the last '@' anywhere then (masking too much is harmless).
		 */
		if (auth_end == NULL)
			auth_end = strrchr(host, '@');
		if (auth_end != NULL) {
			colon = memchr(host, ':', (size_t)(auth_end - host));
		}
	}
	while (*p != 0) {
		if (colon != NULL && p == colon) {
			PUT(':'); PUT('*'); PUT('*'); PUT('*');
			p = auth_end;
			colon = NULL;
			continue;
		}
		/* password=... in the query string */
		if ((p == url || p[-1] == '?' || p[-1] == '&') && strncmp(p, "password=", 9) == 0) {
			for (const char *k = "password=***"; *k; k++)
				PUT(*k);
			p += 9;
			while (*p != 0 && *p != '&' && *p != '#')
				p++;
			continue;
		}
		PUT(*p);
		p++;
	}
#undef PUT
	out[o] = 0;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		*out = 0;
	else
		return SG_ERR_INVALID_ARGUMENT;
	return SG_OK;
}

/* A rate or burst: a decimal number from 0 to 1,000,000 (0: off / 2 x rate). */
static int
parse_rate(const char *v, double *out)
{
	char *end = NULL;
	if (v[0] < '0' || v[0] > '9')
		return SG_ERR_INVALID_ARGUMENT;
	double d = strtod(v, &end);
	if (end == v || *end != 0 || !(d >= 0 && d <= 1e6))
		return SG_ERR_INVALID_ARGUMENT;
	*out = d;
	return SG_OK;
}

static int
set_str(char *dst, size_t cap, const char *v)
{
	return sg_strlcpy(dst, v, cap) < cap ? SG_OK : SG_ERR_INVALID_ARGUMENT;
}

int
sg_config_set(sg_config *c, const char *key, const char *v)
{
	int64_t n;
	if (strcmp(key, "listen") == 0)
		return set_str(c->listen, sizeof(c->listen), v);
	if (strcmp(key, "data_dir") == 0)
		return set_str(c->data_dir, sizeof(c->data_dir), v);
	if (strcmp(key, "threads") == 0) {
		if (sg_parse_int64(v, 1, 1024, &n) != SG_OK)
			return SG_ERR_INVALID_ARGUMENT;
		c->threads = (unsigned)n;
		return SG_OK;
	}
	if (strcmp(key, "commit_batch") == 0) {
		if (sg_parse_int64(v, 1, 100000, &n) != SG_OK)
			return SG_ERR_INVALID_ARGUMENT;
		c->commit_batch = (unsigned)n;
		return SG_OK;
	}
	if (strcmp(key, "workers") == 0) {
		if (sg_parse_int64(v, 1, 256, &n) != SG_OK)
			return SG_ERR_INVALID_ARGUMENT;
		c->workers = (unsigned)n;
		return SG_OK;
	}
	if (strcmp(key, "lease_seconds") == 0)
		return sg_parse_int64(v, 1, 3600, &c->lease_seconds);
	if (strcmp(key, "store_open_timeout_seconds") == 0)
		return sg_parse_int64(v, 0, 3600, &c->store_open_timeout_seconds);
	if (strcmp(key, "max_attempts") == 0)
		return sg_parse_int64(v, 1, 100, &c->max_attempts);
	if (strcmp(key, "retry_base_ms") == 0)
		return sg_parse_int64(v, 1, 3600000, &c->retry_base_ms);
	if (strcmp(key, "idempotency_ttl_seconds") == 0)
		return sg_parse_int64(v, 60, 30LL * 86400, &c->idempotency_ttl_seconds);
	if (strcmp(key, "tsa_cert") == 0)
		return set_str(c->tsa_cert, sizeof(c->tsa_cert), v);
	if (strcmp(key, "tsa_key") == 0)
		return set_str(c->tsa_key, sizeof(c->tsa_key), v);
	if (strcmp(key, "tsa_chain") == 0)
		return set_str(c->tsa_chain, sizeof(c->tsa_chain), v);
	if (strcmp(key, "tsa_policy") == 0)
		return set_str(c->tsa_policy, sizeof(c->tsa_policy), v);
	if (strcmp(key, "tsa_accuracy_ms") == 0)
		return sg_parse_int64(v, 1, 60000, &c->tsa_accuracy_ms);
	if (strcmp(key, "tsa_storage") == 0) {
		if (strcasecmp(v, "DISK") == 0)
			return set_str(c->tsa_storage, sizeof(c->tsa_storage), "DISK");
		if (strcasecmp(v, "HSM") == 0)
			return set_str(c->tsa_storage, sizeof(c->tsa_storage), "HSM");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (strcmp(key, "tsa_key_type") == 0) {
		sg_key_alg a = sg_key_alg_from_name(v);
		if (a != SG_KEY_EC_P256 && a != SG_KEY_RSA_3072)
			return SG_ERR_INVALID_ARGUMENT;
		return set_str(c->tsa_key_type, sizeof(c->tsa_key_type), sg_key_alg_name(a));
	}
	if (strcmp(key, "pkcs11_module") == 0)
		return set_str(c->pkcs11_module, sizeof(c->pkcs11_module), v);
	if (strcmp(key, "pkcs11_token") == 0)
		return set_str(c->pkcs11_token, sizeof(c->pkcs11_token), v);
	if (strcmp(key, "pkcs11_pin") == 0)
		return set_str(c->pkcs11_pin, sizeof(c->pkcs11_pin), v);
	if (strcmp(key, "pkcs11_pin_file") == 0)
		return set_str(c->pkcs11_pin_file, sizeof(c->pkcs11_pin_file), v);
	if (strcmp(key, "pkcs11_sessions") == 0)
		return sg_parse_int64(v, 1, 256, &c->pkcs11_sessions);
	if (strcmp(key, "master_key") == 0) {
		if (strcmp(v, "file") != 0 && strcmp(v, "hsm") != 0)
			return SG_ERR_INVALID_ARGUMENT;
		return set_str(c->master_key, sizeof(c->master_key), v);
	}
	if (strcmp(key, "master_key_file") == 0)
		return set_str(c->master_key_file, sizeof(c->master_key_file), v);
	if (strcmp(key, "store") == 0) {
		if (sg_config_store_kind(v) == SG_STORE_KIND_INVALID)
			return SG_ERR_INVALID_ARGUMENT;
		return set_str(c->store, sizeof(c->store), v);
	}
	if (strcmp(key, "master_key_label") == 0)
		return v[0] != '\0' ? set_str(c->master_key_label, sizeof(c->master_key_label), v) :
		    SG_ERR_INVALID_ARGUMENT;
	if (strcmp(key, "log_level") == 0) {
		if (sg_log_level_from_name(v) < 0)
			return SG_ERR_INVALID_ARGUMENT;
		return set_str(c->log_level, sizeof(c->log_level), v);
	}
	if (strcmp(key, "tls_cert") == 0)
		return set_str(c->tls_cert, sizeof(c->tls_cert), v);
	if (strcmp(key, "tls_key") == 0)
		return set_str(c->tls_key, sizeof(c->tls_key), v);
	if (strcmp(key, "tls_client_ca") == 0)
		return set_str(c->tls_client_ca, sizeof(c->tls_client_ca), v);
	if (strcmp(key, "key_cache") == 0)
		return parse_bool(v, &c->key_cache);
	if (strcmp(key, "log_format") == 0) {
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return SG_ERR_INVALID_ARGUMENT;
		return set_str(c->log_format, sizeof(c->log_format), v);
	}
	if (strcmp(key, "rate_limit_principal") == 0)
		return parse_rate(v, &c->rate_limit_principal);
	if (strcmp(key, "rate_limit_principal_burst") == 0)
		return parse_rate(v, &c->rate_limit_principal_burst);
	if (strcmp(key, "rate_limit_address") == 0)
		return parse_rate(v, &c->rate_limit_address);
	if (strcmp(key, "rate_limit_address_burst") == 0)
		return parse_rate(v, &c->rate_limit_address_burst);
	if (strcmp(key, "rate_limit_auth_failures") == 0)
		return parse_rate(v, &c->rate_limit_auth_failures);
	if (strcmp(key, "rate_limit_auth_failures_burst") == 0)
		return parse_rate(v, &c->rate_limit_auth_failures_burst);
	if (strcmp(key, "auth_audit_interval_seconds") == 0)
		return sg_parse_int64(v, 1, 86400, &c->auth_audit_interval_seconds);
	if (strcmp(key, "max_connections_per_address") == 0)
		return sg_parse_int64(v, 1, 1024, &c->max_connections_per_address);
	if (strcmp(key, "header_timeout_seconds") == 0)
		return sg_parse_int64(v, 1, 60, &c->header_timeout_seconds);
	/* notifications (issue 15) */
	if (strcmp(key, "webhook_retry_base_ms") == 0)
		return sg_parse_int64(v, 100, 3600000, &c->webhook_retry_base_ms);
	if (strcmp(key, "webhook_retry_max_ms") == 0)
		return sg_parse_int64(v, 100, 86400000, &c->webhook_retry_max_ms);
	if (strcmp(key, "webhook_max_attempts") == 0)
		return sg_parse_int64(v, 1, 1000, &c->webhook_max_attempts);
	if (strcmp(key, "webhook_timeout_ms") == 0)
		return sg_parse_int64(v, 100, 600000, &c->webhook_timeout_ms);
	if (strcmp(key, "smtp_url") == 0) {
		if (v[0] != '\0' && strncmp(v, "smtp://", 7) != 0 && strncmp(v, "smtps://", 8) != 0)
			return SG_ERR_INVALID_ARGUMENT;
		return set_str(c->smtp_url, sizeof(c->smtp_url), v);
	}
	if (strcmp(key, "smtp_from") == 0) {
		if (strchr(v, '@') == NULL || strpbrk(v, "<>\r\n \t") != NULL)
			return SG_ERR_INVALID_ARGUMENT;
		return set_str(c->smtp_from, sizeof(c->smtp_from), v);
	}
	if (strcmp(key, "public_url") == 0)
		return set_str(c->public_url, sizeof(c->public_url), v);
	if (strcmp(key, "transit_mount") == 0) {
		if (*v == 0 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
		    strlen(v) || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
			return SG_ERR_INVALID_ARGUMENT;
		return set_str(c->transit_mount, sizeof(c->transit_mount), v);
	}
	return SG_ERR_INVALID_ARGUMENT;
}

static char *
trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

int
sg_config_load_file(sg_config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	/* stdio's buffer and line hold the file's secrets (store's password): both wiped. */
	char buf[4096];
	int lineno = 0, r = SG_OK;
	if (f == NULL) {
		sg_error("config: cannot open %s", path);
		return SG_ERR_IO;
	}
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	while (sg_wipe(line, sizeof(line)), fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = 0;
		char *s = trim(line);
		if (*s == 0)
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			sg_error("config: %s:%d: expected 'key = value'", path, lineno);
			r = SG_ERR_INVALID_ARGUMENT;
			break;
		}
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		if (sg_config_set(c, key, val) != SG_OK) {
			if (strcmp(key, "store") == 0)
				sg_error("config: %s:%d: %s", path, lineno, SG_CONFIG_STORE_HINT);
			else
				sg_error("config: %s:%d: unknown key or bad value for '%s'", path, lineno, key);
			r = SG_ERR_INVALID_ARGUMENT;
			break;
		}
	}
	fclose(f);
	sg_wipe(line, sizeof(line));
	sg_wipe(buf, sizeof(buf));
	return r;
}

int
sg_config_load_env(sg_config *c)
{
	static const struct { const char *env, *key; } map[] = {
		{ "SIGNET_LISTEN", "listen" }, { "SIGNET_DATA_DIR", "data_dir" },
		{ "SIGNET_THREADS", "threads" }, { "SIGNET_LOG_LEVEL", "log_level" },
		{ "SIGNET_TLS_CERT", "tls_cert" }, { "SIGNET_TLS_KEY", "tls_key" },
		{ "SIGNET_TLS_CLIENT_CA", "tls_client_ca" }, { "SIGNET_KEY_CACHE", "key_cache" },
		{ "SIGNET_COMMIT_BATCH", "commit_batch" }, { "SIGNET_WORKERS", "workers" },
		{ "SIGNET_LEASE_SECONDS", "lease_seconds" }, { "SIGNET_MAX_ATTEMPTS", "max_attempts" },
		{ "SIGNET_RETRY_BASE_MS", "retry_base_ms" },
		{ "SIGNET_STORE_OPEN_TIMEOUT", "store_open_timeout_seconds" },
		{ "SIGNET_IDEMPOTENCY_TTL_SECONDS", "idempotency_ttl_seconds" },
		{ "SIGNET_TSA_CERT", "tsa_cert" }, { "SIGNET_TSA_KEY", "tsa_key" },
		{ "SIGNET_TSA_CHAIN", "tsa_chain" }, { "SIGNET_TSA_POLICY", "tsa_policy" },
		{ "SIGNET_TSA_ACCURACY_MS", "tsa_accuracy_ms" },
		{ "SIGNET_TSA_STORAGE", "tsa_storage" }, { "SIGNET_TSA_KEY_TYPE", "tsa_key_type" },
		{ "SIGNET_PKCS11_MODULE", "pkcs11_module" }, { "SIGNET_PKCS11_TOKEN", "pkcs11_token" },
		{ "SIGNET_PKCS11_PIN", "pkcs11_pin" }, { "SIGNET_PKCS11_PIN_FILE", "pkcs11_pin_file" },
		{ "SIGNET_PKCS11_SESSIONS", "pkcs11_sessions" },
		{ "SIGNET_MASTER_KEY", "master_key" },
		{ "SIGNET_MASTER_KEY_LABEL", "master_key_label" },
		{ "SIGNET_MASTER_KEY_FILE", "master_key_file" },
		{ "SIGNET_STORE_URL", "store" },
		{ "SIGNET_LOG_FORMAT", "log_format" },
		{ "SIGNET_RATE_LIMIT_PRINCIPAL", "rate_limit_principal" },
		{ "SIGNET_RATE_LIMIT_PRINCIPAL_BURST", "rate_limit_principal_burst" },
		{ "SIGNET_RATE_LIMIT_ADDRESS", "rate_limit_address" },
		{ "SIGNET_RATE_LIMIT_ADDRESS_BURST", "rate_limit_address_burst" },
		{ "SIGNET_RATE_LIMIT_AUTH_FAILURES", "rate_limit_auth_failures" },
		{ "SIGNET_RATE_LIMIT_AUTH_FAILURES_BURST", "rate_limit_auth_failures_burst" },
		{ "SIGNET_AUTH_AUDIT_INTERVAL_SECONDS", "auth_audit_interval_seconds" },
		{ "SIGNET_MAX_CONNECTIONS_PER_ADDRESS", "max_connections_per_address" },
		{ "SIGNET_HEADER_TIMEOUT_SECONDS", "header_timeout_seconds" },
		{ "SIGNET_WEBHOOK_RETRY_BASE_MS", "webhook_retry_base_ms" },
		{ "SIGNET_WEBHOOK_RETRY_MAX_MS", "webhook_retry_max_ms" },
		{ "SIGNET_WEBHOOK_MAX_ATTEMPTS", "webhook_max_attempts" },
		{ "SIGNET_WEBHOOK_TIMEOUT_MS", "webhook_timeout_ms" },
		{ "SIGNET_SMTP_URL", "smtp_url" }, { "SIGNET_SMTP_FROM", "smtp_from" },
		{ "SIGNET_PUBLIC_URL", "public_url" },
		{ "SIGNET_TRANSIT_MOUNT", "transit_mount" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = getenv(map[i].env);
		if (v == NULL || *v == 0)
			continue;
		if (sg_config_set(c, map[i].key, v) != SG_OK) {
			if (strcmp(map[i].key, "store") == 0)
				sg_error("config: SIGNET_STORE_URL: %s", SG_CONFIG_STORE_HINT);
			else
				sg_error("config: bad value in %s", map[i].env);
			return SG_ERR_INVALID_ARGUMENT;
		}
	}
	return SG_OK;
}
