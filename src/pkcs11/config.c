/*
 * config.c - the module's configuration (contract in sg_p11.h).
 *
 * A PKCS#11 module is loaded by programs that know nothing about Signet, so
 * it cannot take flags: it reads the environment, and for settings that
 * should not live in a shell (an API key for a service account) a small
 * KEY=VALUE file named by SIGNET_PKCS11_CONFIG with the same keys.  Values
 * are copied, so the caller's environment may change afterwards; the API
 * key copy is wiped when the module is finalized.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sg_p11.h"
#include "sg_secret.h"
#include "sg_util.h"

/* The keys this module reads; the same names in the environment and the file. */
enum {
	K_URL, K_API_KEY, K_CA_FILE, K_CLIENT_CERT, K_CLIENT_KEY, K_TOKEN_LABEL,
	K_ALIASES, K_KEY_TYPES, K_REQUIRE_CERT, K_TIMEOUT, K_DEBUG, K_COUNT
};

static const char *const sg_p11_keys[K_COUNT] = {
	"SIGNET_URL", "SIGNET_API_KEY", "SIGNET_CA_FILE", "SIGNET_CLIENT_CERT",
	"SIGNET_CLIENT_KEY", "SIGNET_PKCS11_TOKEN_LABEL", "SIGNET_PKCS11_ALIASES",
	"SIGNET_PKCS11_KEY_TYPES", "SIGNET_PKCS11_REQUIRE_CERT", "SIGNET_PKCS11_TIMEOUT",
	"SIGNET_PKCS11_DEBUG",
};

/* Copy [p, p+n) trimmed of blanks and of one pair of surrounding quotes. */
static char *
sg_p11_trimdup(const char *p, size_t n)
{
	char *s;

	while (n > 0 && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= 2 && ((p[0] == '"' && p[n - 1] == '"') || (p[0] == '\'' && p[n - 1] == '\''))) {
		p++;
		n -= 2;
	}
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Read the file into vals[] (each malloc'd); err set on failure. */
static int
sg_p11_read_file(const char *path, char *vals[K_COUNT], char *err, size_t errlen)
{
	uint8_t *text = NULL;
	size_t len = 0, lineno = 0;
	int r;

	if ((r = sg_read_file(path, SG_P11_MAX_CONFIG_FILE, &text, &len)) != SG_OK) {
		snprintf(err, errlen, "cannot read SIGNET_PKCS11_CONFIG file '%s': %s", path,
		    sg_err_str(r));
		return r;
	}
	r = SG_OK;
	for (const char *line = (const char *)text, *end = line + len; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *stop = nl != NULL ? nl : end;
		const char *eq = memchr(line, '=', (size_t)(stop - line));
		const char *k = line;
		size_t klen;
		int i;

		lineno++;
		while (k < stop && isspace((unsigned char)*k))
			k++;
		if (k == stop || *k == '#')
			goto next;
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%zu: expected KEY=VALUE", path, lineno);
			r = SG_ERR_INVALID_ARGUMENT;
			break;
		}
		klen = (size_t)(eq - k);
		while (klen > 0 && isspace((unsigned char)k[klen - 1]))
			klen--;
		for (i = 0; i < K_COUNT; i++) {
			if (strlen(sg_p11_keys[i]) == klen && strncmp(sg_p11_keys[i], k, klen) == 0)
				break;
		}
		if (i == K_COUNT) {
			snprintf(err, errlen, "%s:%zu: unknown key '%.*s'", path, lineno, (int)klen, k);
			r = SG_ERR_INVALID_ARGUMENT;
			break;
		}
		sg_free_secret_str(vals[i]);
		if ((vals[i] = sg_p11_trimdup(eq + 1, (size_t)(stop - eq - 1))) == NULL) {
			r = SG_ERR_NOMEM;
			break;
		}
next:
		line = stop + 1;
	}
	sg_free_secret(text, len);
	return r;
}

/* Split a comma-separated list into trimmed, non-empty items. */
static int
sg_p11_split(const char *list, char ***items, size_t *n, char *err, size_t errlen)
{
	char **out = NULL;
	size_t count = 0;

	for (const char *p = list; *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char *item = sg_p11_trimdup(p, len);

		if (item == NULL)
			goto nomem;
		if (item[0] == '\0') {
			free(item);
		} else if (count == SG_P11_MAX_ALIASES) {
			free(item);
			snprintf(err, errlen, "SIGNET_PKCS11_ALIASES lists more than %d aliases",
			    SG_P11_MAX_ALIASES);
			goto fail;
		} else {
			char **grown = realloc(out, (count + 1) * sizeof(*out));
			if (grown == NULL) {
				free(item);
				goto nomem;
			}
			out = grown;
			out[count++] = item;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*items = out;
	*n = count;
	return SG_OK;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	for (size_t i = 0; i < count; i++)
		free(out[i]);
	free(out);
	return SG_ERR_INVALID_ARGUMENT;
}

static int
sg_p11_truthy(const char *v)
{
	return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0);
}

int
sg_p11_config_load(sg_p11_config *c, char *err, size_t errlen)
{
	char *vals[K_COUNT] = { 0 };
	const char *file = getenv("SIGNET_PKCS11_CONFIG");
	sg_p11_config cfg;
	char **types = NULL;
	size_t ntypes = 0;
	int r = SG_ERR_INVALID_ARGUMENT;

	memset(&cfg, 0, sizeof(cfg));
	memset(c, 0, sizeof(*c));
	if (file != NULL && file[0] != '\0' &&
	    (r = sg_p11_read_file(file, vals, err, errlen)) != SG_OK)
		goto out;
	r = SG_ERR_INVALID_ARGUMENT;
	for (int i = 0; i < K_COUNT; i++) {
		const char *v = getenv(sg_p11_keys[i]);
		if (v == NULL || v[0] == '\0')
			continue;
		sg_free_secret_str(vals[i]);
		if ((vals[i] = strdup(v)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	/* An empty value counts as unset, as in the environment. */
	for (int i = 0; i < K_COUNT; i++) {
		if (vals[i] != NULL && vals[i][0] == '\0') {
			free(vals[i]);
			vals[i] = NULL;
		}
	}
	if (vals[K_URL] == NULL) {
		snprintf(err, errlen, "no service URL: set SIGNET_URL (or SIGNET_URL= in the "
		    "file named by SIGNET_PKCS11_CONFIG)");
		goto out;
	}
	if (strncasecmp(vals[K_URL], "http://", 7) != 0 &&
	    strncasecmp(vals[K_URL], "https://", 8) != 0) {
		snprintf(err, errlen, "SIGNET_URL must start with http:// or https://");
		goto out;
	}
	if ((vals[K_CLIENT_CERT] == NULL) != (vals[K_CLIENT_KEY] == NULL)) {
		snprintf(err, errlen, "SIGNET_CLIENT_CERT and SIGNET_CLIENT_KEY go together");
		goto out;
	}
	cfg.timeout_ms = SG_P11_DEFAULT_TIMEOUT_S * 1000L;
	if (vals[K_TIMEOUT] != NULL) {
		int64_t s;
		if (sg_parse_int64(vals[K_TIMEOUT], 1, 3600, &s) != SG_OK) {
			snprintf(err, errlen, "SIGNET_PKCS11_TIMEOUT must be a whole number of "
			    "seconds from 1 to 3600");
			goto out;
		}
		cfg.timeout_ms = (long)s * 1000L;
	}
	if (vals[K_TOKEN_LABEL] != NULL && strlen(vals[K_TOKEN_LABEL]) > 32) {
		snprintf(err, errlen, "SIGNET_PKCS11_TOKEN_LABEL is longer than 32 bytes");
		goto out;
	}
	cfg.key_types = SG_P11_KT_ALL;
	if (vals[K_KEY_TYPES] != NULL) {
		if (sg_p11_split(vals[K_KEY_TYPES], &types, &ntypes, err, errlen) != SG_OK)
			goto out;
		cfg.key_types = 0;
		for (size_t i = 0; i < ntypes; i++) {
			if (strcasecmp(types[i], "rsa") == 0) {
				cfg.key_types |= SG_P11_KT_RSA;
			} else if (strcasecmp(types[i], "ec") == 0 ||
			    strcasecmp(types[i], "ecdsa") == 0) {
				cfg.key_types |= SG_P11_KT_EC;
			} else if (strcasecmp(types[i], "ed25519") == 0) {
				cfg.key_types |= SG_P11_KT_ED25519;
			} else {
				snprintf(err, errlen, "SIGNET_PKCS11_KEY_TYPES: unknown key type "
				    "'%s' (rsa, ec, ed25519)", types[i]);
				goto out;
			}
		}
	}
	if (vals[K_ALIASES] != NULL &&
	    sg_p11_split(vals[K_ALIASES], &cfg.aliases, &cfg.n_aliases, err, errlen) != SG_OK)
		goto out;
	cfg.require_cert = sg_p11_truthy(vals[K_REQUIRE_CERT]);
	cfg.debug = sg_p11_truthy(vals[K_DEBUG]);
	if (vals[K_TOKEN_LABEL] == NULL &&
	    (vals[K_TOKEN_LABEL] = strdup(SG_P11_DEFAULT_TOKEN_LABEL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	cfg.url = vals[K_URL];
	cfg.api_key = vals[K_API_KEY];
	cfg.ca_file = vals[K_CA_FILE];
	cfg.cert = vals[K_CLIENT_CERT];
	cfg.cert_key = vals[K_CLIENT_KEY];
	cfg.token_label = vals[K_TOKEN_LABEL];
	vals[K_URL] = vals[K_API_KEY] = vals[K_CA_FILE] = NULL;
	vals[K_CLIENT_CERT] = vals[K_CLIENT_KEY] = vals[K_TOKEN_LABEL] = NULL;
	*c = cfg;
	memset(&cfg, 0, sizeof(cfg));
	r = SG_OK;
out:
	for (size_t i = 0; i < ntypes; i++)
		free(types[i]);
	free(types);
	for (int i = 0; i < K_COUNT; i++)
		sg_free_secret_str(vals[i]);
	sg_p11_config_free(&cfg);
	return r;
}

void
sg_p11_config_free(sg_p11_config *c)
{
	if (c == NULL)
		return;
	free(c->url);
	sg_free_secret_str(c->api_key);
	free(c->ca_file);
	free(c->cert);
	free(c->cert_key);
	free(c->token_label);
	for (size_t i = 0; i < c->n_aliases; i++)
		free(c->aliases[i]);
	free(c->aliases);
	memset(c, 0, sizeof(*c));
}
