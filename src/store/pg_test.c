/*
 * pg_test.c - the PostgreSQL back-end's test-only operations
 * (sg_store_test.h), in library sg_store_test.
 */
#include "pg_int.h"
#include "sg_store_test.h"

int
pg_test_request_create(sg_store *s, const sg_request *r, sg_audit_entry *audit)
{
	return pg_request_create(s, r, audit);
}
