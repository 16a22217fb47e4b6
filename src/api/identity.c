/*
 * identity.c - tenants, principals, API keys and client certificates.
 *
 * Operators create tenants and may create principals in any tenant (that is
 * how a new tenant gets its first admin); admins manage their own tenant's
 * principals.  A new API key is in the response exactly once and never
 * stored or logged in clear.  A principal may carry a default policy (what
 * the compatible dialects sign with when no key is named) and an e-mail
 * address (where approval notifications go); both are checked here.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "api.h"
#include "sg_b64.h"
#include "sg_log.h"
#include "sg_secret.h"

int
api_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static json_t *
tenant_json(const sg_tenant *t)
{
	char ts[32];
	sg_time_format(t->created_at, ts);
	return json_pack("{s:s,s:s,s:s}", "id", t->id, "name", t->name, "created_at", ts);
}

void
api_tenants_create(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "name", NULL };
	sg_store *s = req->svc->store;
	const char *name = NULL;
	sg_tenant t;
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "name", 1, 128, &name))
		goto out;
	if (!api_valid_name(name)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "tenant name must be 1-128 characters of letters, digits, '.', '_' or '-'");
		goto out;
	}
	memset(&t, 0, sizeof(t));
	if (sg_uuid(t.id) != SG_OK) {
		api_error(req, resp, SG_ERR_INTERNAL, "uuid");
		goto out;
	}
	sg_strlcpy(t.name, name, sizeof(t.name));
	t.created_at = sg_now_ms();
	int r = s->ops->tenant_create(s, &t);
	if (r == SG_ERR_CONFLICT) {
		api_error(req, resp, r, "a tenant named '%s' already exists", name);
		goto out;
	}
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot create tenant");
		goto out;
	}
	sg_info("tenant %s (%s) created by %s", t.id, t.name, req->principal.id);
	api_audit(req, "tenant.created", t.id, json_pack("{s:s}", "name", t.name));
	api_json(resp, 201, tenant_json(&t));
out:
	json_decref(body);
}

static json_t *
principal_json(const sg_principal *p, const char *tenant_name)
{
	char ts[32];
	sg_time_format(p->created_at, ts);
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s}", "id", p->id, "name", p->name,
	    "tenant", p->tenant_id, "tenant_name", tenant_name, "roles", api_roles_json(p->roles),
	    "default_policy", p->default_policy[0] ? json_string(p->default_policy) : json_null(),
	    "email", p->email[0] ? json_string(p->email) : json_null(), "created_at", ts);
}

/*
 * A plausible mail address: local@domain, 3-254 printable ASCII characters,
 * nothing that could end a header or an SMTP command (CR, LF, spaces, angle
 * brackets, quotes, commas, semicolons, colons, backslashes, parentheses).
 */
static int
valid_email(const char *s)
{
	size_t n = strlen(s), at = 0, ats = 0;
	if (n < 3 || n > SG_EMAIL_MAX - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"", c) != NULL)
			return 0;
		if (c == '@') {
			at = i;
			ats++;
		}
	}
	return ats == 1 && at > 0 && at + 1 < n && s[at + 1] != '.' && s[n - 1] != '.';
}

/*
 * Apply the optional fields default_policy and email of body to p (JSON null
 * or "" clears a field).  The default policy must name an existing policy of
 * p's tenant, so that a typo shows now rather than at the first signature.
 * Answers 400 and returns non-zero when a field is invalid.
 */
static int
read_profile(api_req *req, api_resp *resp, json_t *body, sg_principal *p)
{
	sg_store *s = req->svc->store;
	const char *policy = NULL, *email = NULL;
	if (api_field_str(req, resp, body, "default_policy", 0, SG_POLICY_REF_MAX - 1, &policy) ||
	    api_field_str(req, resp, body, "email", 0, SG_EMAIL_MAX - 1, &email))
		return -1;
	if (json_object_get(body, "default_policy") != NULL) {
		p->default_policy[0] = '\0';
		if (policy != NULL && policy[0] != '\0') {
			char project[SG_NAME_MAX];
			const char *slash = strchr(policy, '/');
			size_t plen = slash ? (size_t)(slash - policy) : 0;
			sg_policy pol;
			if (slash == NULL || plen >= sizeof(project)) {
				api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
				    "field 'default_policy' must be 'project/slug'");
				return -1;
			}
			memcpy(project, policy, plen);
			project[plen] = '\0';
			if (!api_valid_name(project) || !api_valid_name(slash + 1)) {
				api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
				    "field 'default_policy' must be 'project/slug'");
				return -1;
			}
			memset(&pol, 0, sizeof(pol));
			int r = s->ops->policy_get(s, p->tenant_id, project, slash + 1, &pol);
			sg_policy_clear(&pol);
			if (r == SG_ERR_NOT_FOUND) {
				api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
				    "field 'default_policy': no policy '%s' in this tenant", policy);
				return -1;
			}
			if (r != SG_OK) {
				api_error(req, resp, r, "cannot look up policy '%s'", policy);
				return -1;
			}
			sg_strlcpy(p->default_policy, policy, sizeof(p->default_policy));
		}
	}
	if (json_object_get(body, "email") != NULL) {
		p->email[0] = '\0';
		if (email != NULL && email[0] != '\0') {
			if (!valid_email(email)) {
				api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
				    "field 'email' must be a mail address (local@domain, at most 254 characters)");
				return -1;
			}
			sg_strlcpy(p->email, email, sizeof(p->email));
		}
	}
	return 0;
}

/* Parse a roles array; answers 400 and returns non-zero when invalid. */
static int
parse_roles(api_req *req, api_resp *resp, json_t *arr, unsigned *out)
{
	size_t i;
	json_t *v;
	unsigned roles = 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "field 'roles' must be a non-empty array of role names");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		const char *name = json_is_string(v) ? json_string_value(v) : "";
		unsigned bit = sg_role_from_name(name);
		/* SPEC §4 D2: the key-pair dialect's role names mean signer. */
		if (strcmp(name, "SSM_SIGNER") == 0 || strcmp(name, "SSM_BUILD_ENGINEER") == 0)
			bit = SG_ROLE_SIGNER;
		if (bit == 0) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
			    "unknown role in 'roles' (known: admin, signer, approver, auditor, operator, "
			    "SSM_SIGNER, SSM_BUILD_ENGINEER)");
			return -1;
		}
		roles |= bit;
	}
	*out = roles;
	return 0;
}

void
api_principals_create(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "name", "roles", "tenant", "default_policy", "email", NULL };
	sg_store *s = req->svc->store;
	const char *name = NULL, *tenant = NULL;
	char *key_text = NULL;
	unsigned roles = 0;
	sg_principal p;
	sg_tenant t;
	sg_api_key k;
	int r;
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "name", 1, 128, &name) ||
	    api_field_str(req, resp, body, "tenant", 0, 128, &tenant) ||
	    parse_roles(req, resp, json_object_get(body, "roles"), &roles))
		goto out;
	if (!api_valid_name(name)) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "principal name must be 1-128 characters of letters, digits, '.', '_' or '-'");
		goto out;
	}
	t = req->tenant;
	if (tenant != NULL && strcmp(tenant, req->tenant.id) != 0 && strcmp(tenant, req->tenant.name) != 0) {
		if (!api_has_role(req, SG_ROLE_OPERATOR)) {
			api_error(req, resp, SG_ERR_PERMISSION_DENIED,
			    "creating a principal in another tenant needs the operator role");
			goto out;
		}
		r = s->ops->tenant_get(s, tenant, &t);
		if (r == SG_ERR_NOT_FOUND)
			r = s->ops->tenant_get_by_name(s, tenant, &t);
		if (r != SG_OK) {
			api_error(req, resp, r, "no tenant '%s'", tenant);
			goto out;
		}
	} else if (!api_has_role(req, SG_ROLE_ADMIN)) {
		api_error(req, resp, SG_ERR_PERMISSION_DENIED, "creating principals needs the admin role");
		goto out;
	}
	/* Only an operator hands out the operator role. */
	if ((roles & SG_ROLE_OPERATOR) && !api_has_role(req, SG_ROLE_OPERATOR)) {
		api_error(req, resp, SG_ERR_PERMISSION_DENIED, "granting the operator role needs the operator role");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	if (sg_uuid(p.id) != SG_OK) {
		api_error(req, resp, SG_ERR_INTERNAL, "uuid");
		goto out;
	}
	sg_strlcpy(p.tenant_id, t.id, sizeof(p.tenant_id));
	sg_strlcpy(p.name, name, sizeof(p.name));
	p.roles = roles;
	p.created_at = sg_now_ms();
	if (read_profile(req, resp, body, &p))
		goto out;
	if ((r = s->ops->principal_create(s, &p)) != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_CONFLICT ? "a principal named '%s' already exists" :
		    "cannot create principal '%s'", name);
		goto out;
	}
	if ((r = api_issue_api_key(s, &p, NULL, &k, &key_text)) != SG_OK) {
		api_error(req, resp, r, "cannot issue API key");
		goto out;
	}
	sg_info("principal %s (%s) created in tenant %s by %s", p.id, p.name, t.id, req->principal.id);
	{
		/* Recorded in the new principal's tenant, which may not be the caller's. */
		sg_tenant mine = req->tenant;
		req->tenant = t;
		api_audit(req, "principal.created", p.id, json_pack("{s:s,s:o,s:s}", "name", p.name,
		    "roles", api_roles_json(p.roles), "api_key_id", k.id));
		req->tenant = mine;
	}
	json_t *j = principal_json(&p, t.name);
	json_object_set_new(j, "api_key", json_string(key_text));
	json_object_set_new(j, "api_key_id", json_string(k.id));
	api_json(resp, 201, j);
out:
	sg_free_secret_str(key_text);
	json_decref(body);
}

void
api_principals_patch(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "roles", "default_policy", "email", NULL };
	sg_store *s = req->svc->store;
	sg_principal p;
	unsigned roles = 0;
	int r;
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known))
		goto out;
	if (json_object_size(body) == 0) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "nothing to change: give 'roles', 'default_policy' or 'email'");
		goto out;
	}
	if ((r = s->ops->principal_get(s, req->tenant.id, req->params[0], &p)) != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such principal" : "cannot read principal");
		goto out;
	}
	if (json_object_get(body, "roles") != NULL) {
		if (parse_roles(req, resp, json_object_get(body, "roles"), &roles))
			goto out;
		/* Only an operator hands out or takes away the operator role. */
		if (((roles ^ p.roles) & SG_ROLE_OPERATOR) && !api_has_role(req, SG_ROLE_OPERATOR)) {
			api_error(req, resp, SG_ERR_PERMISSION_DENIED,
			    "granting or removing the operator role needs the operator role");
			goto out;
		}
		p.roles = roles;
	}
	if (read_profile(req, resp, body, &p))
		goto out;
	if ((r = s->ops->principal_update(s, &p)) != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such principal" : "cannot update principal");
		goto out;
	}
	sg_info("principal %s updated by %s", p.id, req->principal.id);
	api_audit(req, "principal.updated", p.id, json_pack("{s:o,s:s,s:b}", "roles", api_roles_json(p.roles),
	    "default_policy", p.default_policy, "email", p.email[0] != '\0'));
	api_json(resp, 200, principal_json(&p, req->tenant.name));
out:
	json_decref(body);
}

void
api_principals_list(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_principal *list = NULL;
	size_t n = 0;
	int r = s->ops->principal_list(s, req->tenant.id, &list, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, "cannot list principals");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, principal_json(&list[i], req->tenant.name));
	free(list);
	api_json(resp, 200, json_pack("{s:o}", "principals", a));
}

void
api_principals_delete(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	int r = s->ops->principal_delete(s, req->tenant.id, req->params[0]);
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such principal" : "cannot delete principal");
		return;
	}
	sg_info("principal %s deleted by %s", req->params[0], req->principal.id);
	api_audit(req, "principal.deleted", req->params[0], NULL);
	api_text(resp, 204, "application/json", "");
}

static json_t *
api_key_meta_json(const sg_api_key *k)
{
	char ts[32], rv[32];
	sg_time_format(k->created_at, ts);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "id", k->id, "principal_id", k->principal_id,
	    "prefix", k->prefix, "created_at", ts);
	if (k->revoked_at) {
		sg_time_format(k->revoked_at, rv);
		json_object_set_new(j, "revoked_at", json_string(rv));
	}
	return j;
}

void
api_principals_add_api_key(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_principal p;
	sg_api_key k;
	char *key_text = NULL;
	int r = s->ops->principal_get(s, req->tenant.id, req->params[0], &p);
	if (r != SG_OK) {
		api_error(req, resp, r, "no such principal");
		return;
	}
	if ((r = api_issue_api_key(s, &p, NULL, &k, &key_text)) != SG_OK) {
		api_error(req, resp, r, "cannot issue API key");
		return;
	}
	sg_info("api key %s (prefix %s) issued to %s by %s", k.id, k.prefix, p.id, req->principal.id);
	api_audit(req, "api_key.created", k.id, json_pack("{s:s,s:s}", "principal", p.id, "prefix", k.prefix));
	json_t *j = api_key_meta_json(&k);
	json_object_set_new(j, "api_key", json_string(key_text));
	sg_free_secret_str(key_text);
	api_json(resp, 201, j);
}

void
api_principals_list_api_keys(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_api_key *list = NULL;
	size_t n = 0;
	sg_principal p;
	int r = s->ops->principal_get(s, req->tenant.id, req->params[0], &p);
	if (r == SG_OK)
		r = s->ops->api_key_list(s, req->tenant.id, p.id, &list, &n);
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such principal" : "cannot list API keys");
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, api_key_meta_json(&list[i]));
	free(list);
	api_json(resp, 200, json_pack("{s:o}", "api_keys", a));
}

void
api_api_keys_revoke(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	int r = s->ops->api_key_revoke(s, req->tenant.id, req->params[0], sg_now_ms());
	if (r != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_NOT_FOUND ? "no such API key" : "cannot revoke API key");
		return;
	}
	sg_info("api key %s revoked by %s", req->params[0], req->principal.id);
	api_audit(req, "api_key.revoked", req->params[0], NULL);
	api_text(resp, 204, "application/json", "");
}

void
api_principals_add_client_cert(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "certificate_pem", NULL };
	sg_store *s = req->svc->store;
	const char *pem = NULL;
	sg_principal p;
	sg_client_cert c;
	X509 *x = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	char hex[65];
	int r, derlen;
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "certificate_pem", 1, 64 * 1024, &pem))
		goto out;
	if ((r = s->ops->principal_get(s, req->tenant.id, req->params[0], &p)) != SG_OK) {
		api_error(req, resp, r, "no such principal");
		goto out;
	}
	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL || (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    (derlen = i2d_X509(x, &der)) <= 0) {
		api_error(req, resp, SG_ERR_BAD_ENCODING, "certificate_pem is not a PEM certificate");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	if (sg_uuid(c.id) != SG_OK) {
		api_error(req, resp, SG_ERR_INTERNAL, "uuid");
		goto out;
	}
	sg_strlcpy(c.principal_id, p.id, sizeof(c.principal_id));
	sg_strlcpy(c.tenant_id, p.tenant_id, sizeof(c.tenant_id));
	sg_sha256(der, (size_t)derlen, c.fingerprint);
	X509_NAME_oneline(X509_get_subject_name(x), c.subject, sizeof(c.subject));
	c.created_at = sg_now_ms();
	if ((r = s->ops->client_cert_add(s, &c)) != SG_OK) {
		api_error(req, resp, r, r == SG_ERR_CONFLICT ? "this certificate is already registered" :
		    "cannot register certificate");
		goto out;
	}
	sg_hex_encode(c.fingerprint, 32, hex);
	sg_info("client certificate %s (%s) registered to %s by %s", hex, c.subject, p.id, req->principal.id);
	api_audit(req, "client_cert.registered", c.id, json_pack("{s:s,s:s,s:s}", "principal", p.id,
	    "fingerprint_sha256", hex, "subject", c.subject));
	api_json(resp, 201, json_pack("{s:s,s:s,s:s,s:s}", "id", c.id, "principal_id", p.id,
	    "fingerprint_sha256", hex, "subject", c.subject));
out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	json_decref(body);
}
