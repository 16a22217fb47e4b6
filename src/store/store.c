/*
 * store.c - the back-end independent part of sg_store.h: closing a store
 * through its table of functions, releasing the heap fields of records, and
 * the role names.  Every back-end fills records the same way (heap fields
 * malloc'd, key handles secret), so freeing them lives here once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sg_secret.h"
#include "sg_store.h"

void
sg_store_close(sg_store *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s);
}

void
sg_key_version_clear(sg_key_version *v)
{
	if (v == NULL)
		return;
	free(v->spki);
	/* The handle may be a wrapped private key: never leave it in freed memory. */
	sg_free_secret(v->handle, v->handle_len);
	free(v->cert_chain_pem);
	v->spki = NULL;
	v->spki_len = 0;
	v->handle = NULL;
	v->handle_len = 0;
	v->cert_chain_pem = NULL;
}

void
sg_request_clear(sg_request *r)
{
	if (r == NULL)
		return;
	free(r->metadata_json);
	free(r->error);
	r->metadata_json = NULL;
	r->error = NULL;
}

void
sg_signature_clear(sg_signature *sig)
{
	if (sig == NULL)
		return;
	free(sig->signature);
	free(sig->timestamp_token);
	free(sig->metadata_json);
	sig->signature = NULL;
	sig->signature_len = 0;
	sig->timestamp_token = NULL;
	sig->timestamp_token_len = 0;
	sig->metadata_json = NULL;
}

void
sg_key_version_list_free(sg_key_version *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sg_key_version_clear(&v[i]);
	free(v);
}

static const struct {
	unsigned bit;
	const char *name;
} sg_roles[] = {
	{ SG_ROLE_ADMIN, "admin" },
	{ SG_ROLE_SIGNER, "signer" },
	{ SG_ROLE_APPROVER, "approver" },
	{ SG_ROLE_AUDITOR, "auditor" },
	{ SG_ROLE_OPERATOR, "operator" },
};

unsigned
sg_role_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(sg_roles) / sizeof(sg_roles[0]); i++)
		if (strcasecmp(name, sg_roles[i].name) == 0)
			return sg_roles[i].bit;
	return 0;
}

const char *
sg_role_name(unsigned role_bit)
{
	for (size_t i = 0; i < sizeof(sg_roles) / sizeof(sg_roles[0]); i++)
		if (sg_roles[i].bit == role_bit)
			return sg_roles[i].name;
	return NULL;
}
