/*
 * store_test.c - the test-only store operations of sg_store_test.h,
 * dispatched to the back-end by its name.  The cache wrapper keeps the
 * back-end's name and hands the back-end's impl to every operation, so
 * s->impl is the back-end's own state whether or not s is wrapped.
 */
#include <string.h>
#include "sg_store_test.h"

/* One row per back-end (sqlite_test.c, ...). */
static const struct {
	const char *name;
	int (*request_create)(sg_store *s, const sg_request *r, sg_audit_entry *audit);
} sg_store_test_backends[] = {
	{ "sqlite", sq_test_request_create },
	{ "postgresql", pg_test_request_create },
};

int
sg_store_test_request_create(sg_store *s, const sg_request *r, sg_audit_entry *audit)
{
	if (s == NULL || s->ops == NULL || s->ops->name == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < sizeof(sg_store_test_backends) / sizeof(sg_store_test_backends[0]);
	    i++)
		if (strcmp(s->ops->name, sg_store_test_backends[i].name) == 0)
			return sg_store_test_backends[i].request_create(s, r, audit);
	return SG_ERR_INVALID_ARGUMENT;
}
