/*
 * test_records.c - the column tables of sg_store_records.h against the
 * SQLite back-end's column lists (SQ_*_COLS, sqlite_int.h): the generic
 * row reader fills field i from column i, so a column added to one and not
 * the other, or two swapped, would put values in the wrong fields.  Also
 * checks that every field lies inside its record.
 */
#include <stdio.h>
#include <string.h>
#include "sqlite_int.h"

static int checks, failures;

#define CHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

/* Compare d's column names, in order, with the comma-separated list cols. */
static void
check_table(const sg_record_desc *d, const char *cols)
{
	const char *p = cols;
	size_t i = 0;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ",");
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 0)
			break;
		if (i >= d->ncols) {
			fprintf(stderr, "%s: column %.*s has no field\n", d->name, (int)n, p);
			CHECK(i < d->ncols);
			return;
		}
		if (strlen(d->cols[i].name) != n || strncmp(d->cols[i].name, p, n) != 0)
			fprintf(stderr, "%s: column %zu is %.*s, the table says %s\n", d->name, i,
			    (int)n, p, d->cols[i].name);
		CHECK(strlen(d->cols[i].name) == n && strncmp(d->cols[i].name, p, n) == 0);
		p += n;
		i++;
	}
	if (i != d->ncols)
		fprintf(stderr, "%s: %zu columns listed, %zu in the table\n", d->name, i, d->ncols);
	CHECK(i == d->ncols);
}

static void
check_fields(const sg_record_desc *d)
{
	CHECK(d->size <= SG_RECORD_MAX_SIZE);
	for (size_t i = 0; i < d->ncols; i++) {
		const sg_col *c = &d->cols[i];
		CHECK(c->off + c->size <= d->size);
		if (c->kind == SG_COL_BLOB || c->kind == SG_COL_BLOB_DUP)
			CHECK(c->len_off + sizeof(size_t) <= d->size && c->len_off != c->off);
	}
}

int
main(void)
{
	static const struct {
		const sg_record_desc *d;
		const char *cols;
	} t[] = {
		{ &sg_rec_tenant, SQ_TENANT_COLS },
		{ &sg_rec_principal, SQ_PRINCIPAL_COLS },
		{ &sg_rec_api_key, SQ_API_KEY_COLS },
		{ &sg_rec_client_cert, SQ_CERT_COLS },
		{ &sg_rec_key, SQ_KEY_COLS },
		{ &sg_rec_key_version, SQ_VERSION_COLS },
		{ &sg_rec_request, SQ_REQUEST_COLS },
		{ &sg_rec_signature, SQ_SIGNATURE_COLS },
		{ &sg_rec_policy, SQ_POLICY_COLS },
		{ &sg_rec_approval, SQ_APPROVAL_COLS },
		{ &sg_rec_audit, SQ_AUDIT_COLS },
		{ &sg_rec_webhook, SQ_WEBHOOK_COLS },
		{ &sg_rec_delivery, SQ_DELIVERY_COLS },
		/* These two are selected by statements without a column list macro. */
		{ &sg_rec_notify_cursor, "tenant_id, seq, head" },
		{ &sg_rec_tsa_key, "alg, storage, handle, cert_pem, created_at" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		check_table(t[i].d, t[i].cols);
		check_fields(t[i].d);
	}
	printf("%d checks, %d failures\n", checks, failures);
	return failures == 0 && checks > 0 ? 0 : 1;
}
