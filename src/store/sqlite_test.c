/*
 * sqlite_test.c - the SQLite back-end's test-only operations
 * (sg_store_test.h), in library sg_store_test.
 */
#include "sg_store_test.h"
#include "sqlite_int.h"

int
sq_test_request_create(sg_store *s, const sg_request *rq, sg_audit_entry *audit)
{
	sq_db *q = s->impl;
	int r = SG_ERR_INTERNAL;

	if (rq == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	sq_conn *w = sq_write_begin(q);
	if ((r = sq_tx_begin(w)) != SG_OK)
		goto out;
	if ((r = sq_request_write(w, SQ_REQUEST_INSERT, rq)) != SG_OK)
		goto out;
	r = sq_commit_with_audit(w, audit);
out:
	if (r != SG_OK)
		sq_tx_rollback(w);
	sq_write_end(q);
	return r;
}
