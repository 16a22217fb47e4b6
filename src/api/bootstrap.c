/* bootstrap.c - the first tenant and its first principal (see sg_api.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "api.h"
#include "sg_crypto.h"
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

/*
 * The bootstrap principal of t, waiting up to BOOT_WAIT_MS for another node
 * that has just created the tenant to create it too.
 */
#define BOOT_WAIT_MS 10000
static int
await_bootstrap_principal(sg_store *s, const sg_tenant *t, sg_principal *out)
{
	int64_t until = sg_now_ms() + BOOT_WAIT_MS;
	int r;
	while ((r = find_bootstrap_principal(s, t, out)) == SG_ERR_NOT_FOUND && sg_now_ms() < until)
		usleep(100 * 1000);
	return r;
}

/*
 * Is env_key registered for principal p (another node registered it
 * meanwhile)?  Same prefix, same principal and same hash (constant time).
 */
static int
env_key_registered_for(sg_store *s, const sg_principal *p, const char *env_key)
{
	sg_api_key k;
	char prefix[24];
	uint8_t h[32];
	int same;

	api_key_prefix(env_key, prefix);
	if (s->ops->api_key_find(s, prefix, &k) != SG_OK)
		return 0;
	sg_sha256(env_key, strlen(env_key), h);
	same = sg_ct_equal(h, k.hash, sizeof(h)) && strcmp(k.principal_id, p->id) == 0 &&
	    strcmp(k.tenant_id, p->tenant_id) == 0 && k.revoked_at == 0;
	sg_wipe(h, sizeof(h));
	return same;
}

/* Does tenant t have a principal with the admin role? SG_OK, SG_ERR_NOT_FOUND or an error. */
static int
tenant_has_admin(sg_store *s, const sg_tenant *t)
{
	sg_principal *list = NULL;
	size_t n = 0;
	int r = s->ops->principal_list(s, t->id, &list, &n);
	if (r != SG_OK)
		return r;
	r = SG_ERR_NOT_FOUND;
	for (size_t i = 0; i < n; i++)
		if ((list[i].roles & SG_ROLE_ADMIN) != 0 || strcmp(list[i].name, BOOT_PRINCIPAL) == 0)
			r = SG_OK;
	free(list);
	return r;
}

/* The tenant exists (made by an earlier start or another node): register env_key if needed. */
static int
bootstrap_existing(sg_store *s, const sg_tenant *t, const char *env_key)
{
	sg_principal p;
	sg_api_key k;
	char *key_text = NULL;
	char prefix[24];
	int r;

	if (env_key == NULL)
		return SG_OK;
	/* Make sure the key from the environment works, without duplicating it. */
	api_key_prefix(env_key, prefix);
	if ((r = s->ops->api_key_find(s, prefix, &k)) == SG_OK)
		return SG_OK;
	if (r != SG_ERR_NOT_FOUND)
		return r;
	if ((r = await_bootstrap_principal(s, t, &p)) != SG_OK) {
		sg_error("bootstrap: tenant '%s' has no principal '%s'", BOOT_TENANT, BOOT_PRINCIPAL);
		return r;
	}
	r = api_issue_api_key(s, &p, env_key, &k, &key_text);
	if (r == SG_ERR_CONFLICT && s->ops->api_key_find(s, prefix, &k) == SG_OK)
		r = SG_OK;  /* another node registered the same key meanwhile */
	else if (r == SG_OK)
		sg_info("bootstrap: registered SIGNET_BOOTSTRAP_API_KEY for %s", p.id);
	sg_free_secret_str(key_text);
	return r;
}

/* Another node won the race to create tenant or principal: use what it made. */
static int
bootstrap_lost_race(sg_store *s, const char *env_key)
{
	sg_tenant t;
	sg_principal p;
	int r = s->ops->tenant_get_by_name(s, BOOT_TENANT, &t);
	if (r == SG_OK)
		r = await_bootstrap_principal(s, &t, &p);
	if (r != SG_OK) {
		sg_error("bootstrap: another node is creating tenant '%s', but its principal '%s' "
		    "did not appear: %s", BOOT_TENANT, BOOT_PRINCIPAL, sg_err_str(r));
		return r;
	}
	sg_info("bootstrap: another node created tenant '%s' and principal '%s' at the same "
	    "time; using those%s", BOOT_TENANT, BOOT_PRINCIPAL, env_key != NULL ? "" :
	    " (the generated API key is in that node's data directory)");
	return bootstrap_existing(s, &t, env_key);
}

/*
 * Create the bootstrap principal of tenant t and its first API key (env_key,
 * or a generated one written to key_file).  tenant_made: this node has just
 * created t; otherwise t is a tenant left without an admin by a start that
 * stopped half-way, repaired here.
 */
static int
bootstrap_principal(sg_store *s, const sg_tenant *t, const char *env_key, const char *key_file)
{
	sg_principal p;
	sg_api_key k;
	char *key_text = NULL;
	int r;

	memset(&p, 0, sizeof(p));
	if ((r = sg_uuid(p.id)) != SG_OK)
		return r;
	sg_strlcpy(p.tenant_id, t->id, sizeof(p.tenant_id));
	sg_strlcpy(p.name, BOOT_PRINCIPAL, sizeof(p.name));
	p.roles = SG_ROLE_OPERATOR | SG_ROLE_ADMIN;
	p.created_at = sg_now_ms();
	r = s->ops->principal_create(s, &p);
	if (r == SG_ERR_CONFLICT)
		return bootstrap_lost_race(s, env_key);
	if (r == SG_OK)
		r = api_issue_api_key(s, &p, env_key, &k, &key_text);
	/*
	 * SIGNET_BOOTSTRAP_API_KEY on every node: a node that lost the race for
	 * the tenant may register the key for our principal before we do.
	 */
	if (r == SG_ERR_CONFLICT && env_key != NULL && env_key_registered_for(s, &p, env_key)) {
		sg_info("bootstrap: tenant '%s' and principal '%s' created; another node registered "
		    "SIGNET_BOOTSTRAP_API_KEY for it meanwhile", BOOT_TENANT, BOOT_PRINCIPAL);
		return SG_OK;
	}
	if (r != SG_OK) {
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

int
sg_api_bootstrap(sg_service *svc, const char *env_key, const char *key_file)
{
	sg_store *s = svc->store;
	sg_tenant t;
	int r = s->ops->tenant_get_by_name(s, BOOT_TENANT, &t);

	if (r == SG_OK) {
		if ((r = tenant_has_admin(s, &t)) == SG_OK)
			return bootstrap_existing(s, &t, env_key);
		if (r != SG_ERR_NOT_FOUND)
			return r;
		/*
		 * Tenant, principal and key are separate commits: a start that
		 * stopped between them (crash, database gone) left the tenant
		 * without an admin.  Finish it as a first start would.
		 */
		sg_warn("bootstrap: tenant '%s' has no admin principal (an earlier start stopped "
		    "half-way); creating principal '%s'", BOOT_TENANT, BOOT_PRINCIPAL);
		return bootstrap_principal(s, &t, env_key, key_file);
	}
	if (r != SG_ERR_NOT_FOUND)
		return r;

	memset(&t, 0, sizeof(t));
	if ((r = sg_uuid(t.id)) != SG_OK)
		return r;
	sg_strlcpy(t.name, BOOT_TENANT, sizeof(t.name));
	t.created_at = sg_now_ms();
	r = s->ops->tenant_create(s, &t);
	if (r == SG_ERR_CONFLICT)
		return bootstrap_lost_race(s, env_key);
	if (r != SG_OK) {
		sg_error("bootstrap: cannot create tenant '%s': %s", BOOT_TENANT, sg_err_str(r));
		return r;
	}
	return bootstrap_principal(s, &t, env_key, key_file);
}
