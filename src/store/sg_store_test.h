/*
 * sg_store_test.h - store operations that only tests need, kept out of
 * sg_store_ops so that production code cannot reach them.  Library
 * sg_store_test (src/store/store_test.c and one file per back-end), linked
 * by tests only.
 */
#ifndef SG_STORE_TEST_H
#define SG_STORE_TEST_H

#include "sg_store.h"

/*
 * Insert a new request r (any status; production code writes requests
 * through commit_batch) with its audit entry (optional; filled in as by
 * audit_append), in one transaction.  SG_ERR_CONFLICT when the id, or the
 * principal's idempotency key, is taken; SG_ERR_INVALID_ARGUMENT for a
 * NULL r or a back-end without this operation.  s may be the cached store
 * sg_store_*_open returns.
 */
int sg_store_test_request_create(sg_store *s, const sg_request *r, sg_audit_entry *audit) SG_WUR;

/* Each back-end's implementation, for the dispatch in store_test.c; tests call the above. */
int sq_test_request_create(sg_store *s, const sg_request *r, sg_audit_entry *audit);
int pg_test_request_create(sg_store *s, const sg_request *r, sg_audit_entry *audit);

#endif
