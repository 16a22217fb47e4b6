/*
 * sqlite_ops_principals.c - the SQLite operations on tenants, principals
 * and their credentials (API keys, client certificates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_int.h"

/* ---- tenants ---- */

int
sq_tenant_create(sg_store *s, const sg_tenant *t)
{
	if (t == NULL || t->id[0] == '\0' || t->name[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(t->id), SQ_FIELD(t->name), sq_int(t->created_at) };
	return sq_write1(s->impl, SQ_TENANT_INSERT, a, SQ_NARGS(a), NULL);
}

int
sq_tenant_get(sg_store *s, const char *id, sg_tenant *out)
{
	if (sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(id) };
	return sq_get_one(s->impl, SQ_TENANT_GET, a, SQ_NARGS(a), &sg_rec_tenant, out);
}

int
sq_tenant_get_by_name(sg_store *s, const char *name, sg_tenant *out)
{
	if (sq_bad_str(name) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(name) };
	return sq_get_one(s->impl, SQ_TENANT_GET_BY_NAME, a, SQ_NARGS(a), &sg_rec_tenant, out);
}

/* ---- principals and credentials ---- */

int
sq_principal_create(sg_store *s, const sg_principal *p)
{
	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0' || p->name[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(p->id), SQ_FIELD(p->tenant_id), SQ_FIELD(p->name),
	    sq_int(p->roles), sq_int(p->created_at), SQ_FIELD(p->default_policy), SQ_FIELD(p->email) };
	return sq_write1(s->impl, SQ_PRINCIPAL_INSERT, a, SQ_NARGS(a), NULL);
}

int
sq_principal_update(sg_store *s, const sg_principal *p)
{
	int changes = 0;
	if (p == NULL || p->id[0] == '\0' || p->tenant_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_int(p->roles), SQ_FIELD(p->default_policy), SQ_FIELD(p->email),
	    SQ_FIELD(p->tenant_id), SQ_FIELD(p->id) };
	int r = sq_write1(s->impl, SQ_PRINCIPAL_UPDATE, a, SQ_NARGS(a), &changes);
	if (r == SG_OK && changes != 1)
		r = SG_ERR_NOT_FOUND;
	return r;
}

int
sq_principal_get(sg_store *s, const char *tenant_id, const char *id, sg_principal *out)
{
	if (sq_bad_str(tenant_id) || sq_bad_str(id) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id), sq_str(id) };
	return sq_get_one(s->impl, SQ_PRINCIPAL_GET, a, SQ_NARGS(a), &sg_rec_principal, out);
}

int
sq_principal_list(sg_store *s, const char *tenant_id, sg_principal **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id) };
	return sq_get_list(s->impl, SQ_PRINCIPAL_LIST, a, SQ_NARGS(a), &sg_rec_principal, (void **)out, n);
}

int
sq_principal_delete(sg_store *s, const char *tenant_id, const char *id)
{
	sq_db *q = s->impl;
	int changes = 0;
	int r = SG_ERR_INTERNAL;

	if (sq_bad_str(tenant_id) || sq_bad_str(id))
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	sq_arg revoke[] = { sq_int(sg_now_ms()), sq_str(tenant_id), sq_str(id) };
	if ((r = sq_run(w, SQ_PRINCIPAL_REVOKE_KEYS, revoke, SQ_NARGS(revoke), NULL)) != SG_OK)
		goto out;
	sq_arg by_principal[] = { sq_str(tenant_id), sq_str(id) };
	if ((r = sq_run(w, SQ_PRINCIPAL_DELETE_CERTS, by_principal, SQ_NARGS(by_principal),
	    NULL)) != SG_OK)
		goto out;
	if ((r = sq_run(w, SQ_PRINCIPAL_DELETE, by_principal, SQ_NARGS(by_principal),
	    &changes)) != SG_OK)
		goto out;
	if (changes == 0) {
		r = SG_ERR_NOT_FOUND;
		goto out;
	}
	r = sq_tx_commit(w);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}

int
sq_api_key_create(sg_store *s, const sg_api_key *k)
{
	int changes = 0;
	int r;

	if (k == NULL || k->id[0] == '\0' || k->principal_id[0] == '\0' ||
	    k->tenant_id[0] == '\0' || k->prefix[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(k->id), SQ_FIELD(k->principal_id), SQ_FIELD(k->tenant_id),
	    SQ_FIELD(k->prefix), sq_blob(k->hash, sizeof(k->hash)), sq_int(k->created_at),
	    sq_int(k->revoked_at) };
	if ((r = sq_write1(s->impl, SQ_API_KEY_INSERT, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;  /* no such principal in the tenant */
}

int
sq_api_key_find(sg_store *s, const char *prefix, sg_api_key *out)
{
	if (sq_bad_str(prefix) || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(prefix) };
	return sq_get_one(s->impl, SQ_API_KEY_FIND, a, SQ_NARGS(a), &sg_rec_api_key, out);
}

int
sq_api_key_list(sg_store *s, const char *tenant_id, const char *principal_id,
    sg_api_key **out, size_t *n)
{
	if (sq_bad_str(tenant_id) || out == NULL || n == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_str(tenant_id),
	    sq_str(principal_id != NULL && principal_id[0] != '\0' ? principal_id : NULL) };
	return sq_get_list(s->impl, SQ_API_KEY_LIST, a, SQ_NARGS(a), &sg_rec_api_key, (void **)out, n);
}

int
sq_api_key_revoke(sg_store *s, const char *tenant_id, const char *id, int64_t when)
{
	int changes = 0;
	int r;

	if (sq_bad_str(tenant_id) || sq_bad_str(id))
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_int(when), sq_str(tenant_id), sq_str(id) };
	if ((r = sq_write1(s->impl, SQ_API_KEY_REVOKE, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

int
sq_client_cert_add(sg_store *s, const sg_client_cert *c)
{
	int changes = 0;
	int r;

	if (c == NULL || c->id[0] == '\0' || c->principal_id[0] == '\0' ||
	    c->tenant_id[0] == '\0')
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { SQ_FIELD(c->id), SQ_FIELD(c->principal_id), SQ_FIELD(c->tenant_id),
	    sq_blob(c->fingerprint, sizeof(c->fingerprint)), SQ_FIELD(c->subject),
	    sq_int(c->created_at) };
	if ((r = sq_write1(s->impl, SQ_CERT_INSERT, a, SQ_NARGS(a), &changes)) != SG_OK)
		return r;
	return changes == 1 ? SG_OK : SG_ERR_NOT_FOUND;
}

int
sq_client_cert_find(sg_store *s, const uint8_t fingerprint[32], sg_client_cert *out)
{
	if (fingerprint == NULL || out == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_arg a[] = { sq_blob(fingerprint, 32) };
	return sq_get_one(s->impl, SQ_CERT_FIND, a, SQ_NARGS(a), &sg_rec_client_cert, out);
}
