/* bootstrap.c - the first tenant and its first principal (see sg_api.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "api.h"
#include "sg_log.h"
#include "sg_secret.h"

#define BOOT_TENANT "default"
#define BOOT_PRINCIPAL "bootstrap-admin"

static int
find_bootstrap_principal(sg_store *s, const sg_tenant *t, sg_principal *out)
{
	sg_principal *list = NULL;
	size_t n = 0;
	int r = s->ops->principal_list(s, t->id, &list, &n);
	if (r != SG_OK)
		return r;
	r = SG_ERR_NOT_FOUND;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, BOOT_PRINCIPAL) == 0) {
			*out = list[i];
			r = SG_OK;
			break;
		}
	}
	free(list);
	return r;
}

int
sg_api_bootstrap(sg_service *svc, const char *env_key, const char *key_file)
{
	sg_store *s = svc->store;
	sg_tenant t;
	sg_principal p;
	sg_api_key k;
	char *key_text = NULL;
	int r = s->ops->tenant_get_by_name(s, BOOT_TENANT, &t);

	if (r == SG_OK) {
		if (env_key == NULL)
			return SG_OK;
		/* Make sure the key from the environment works, without duplicating it. */
		char prefix[24];
		api_key_prefix(env_key, prefix);
		if (s->ops->api_key_find(s, prefix, &k) == SG_OK)
			return SG_OK;
		if ((r = find_bootstrap_principal(s, &t, &p)) != SG_OK) {
			sg_error("bootstrap: tenant '%s' has no principal '%s'", BOOT_TENANT, BOOT_PRINCIPAL);
			return r;
		}
		if ((r = api_issue_api_key(s, &p, env_key, &k, &key_text)) == SG_OK)
			sg_info("bootstrap: registered SIGNET_BOOTSTRAP_API_KEY for %s", p.id);
		sg_free_secret_str(key_text);
		return r;
	}
	if (r != SG_ERR_NOT_FOUND)
		return r;

	memset(&t, 0, sizeof(t));
	memset(&p, 0, sizeof(p));
	if ((r = sg_uuid(t.id)) != SG_OK || (r = sg_uuid(p.id)) != SG_OK)
		return r;
	sg_strlcpy(t.name, BOOT_TENANT, sizeof(t.name));
	t.created_at = sg_now_ms();
	sg_strlcpy(p.tenant_id, t.id, sizeof(p.tenant_id));
	sg_strlcpy(p.name, BOOT_PRINCIPAL, sizeof(p.name));
	p.roles = SG_ROLE_OPERATOR | SG_ROLE_ADMIN;
	p.created_at = t.created_at;
	if ((r = s->ops->tenant_create(s, &t)) != SG_OK ||
	    (r = s->ops->principal_create(s, &p)) != SG_OK ||
	    (r = api_issue_api_key(s, &p, env_key, &k, &key_text)) != SG_OK) {
		sg_error("bootstrap: cannot create the bootstrap principal: %s", sg_err_str(r));
		goto out;
	}
	if (env_key != NULL) {
		sg_info("bootstrap: tenant '%s' and principal '%s' created with SIGNET_BOOTSTRAP_API_KEY",
		    BOOT_TENANT, BOOT_PRINCIPAL);
		goto out;
	}
	if ((r = sg_write_file(key_file, key_text, strlen(key_text), 0600)) != SG_OK) {
		sg_error("bootstrap: cannot write %s", key_file);
		goto out;
	}
	/*
	 * Printed once, on stdout (not the log), as SPEC §5 promises, and only
	 * to a terminal: stdout sent to a file or a log collector would keep it.
	 */
	if (isatty(STDOUT_FILENO)) {
		printf("Bootstrap admin API key (shown once; also in %s, mode 0600):\n%s\n", key_file, key_text);
		fflush(stdout);
	}
	sg_info("bootstrap: tenant '%s' and principal '%s' created; API key written to %s",
	    BOOT_TENANT, BOOT_PRINCIPAL, key_file);
out:
	sg_free_secret_str(key_text);
	return r;
}
