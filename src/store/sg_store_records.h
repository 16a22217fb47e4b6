/*
 * sg_store_records.h - how each record of sg_store.h is laid out as a
 * database row, once for every back-end.
 *
 * A record type is described by a table of columns, in the order of the
 * back-end's column lists (SQ_*_COLS in sqlite_int.h), each naming the
 * field it fills (offset, size) and how (kind).  A back-end reads a row
 * with one generic loop over the table (sq_read_record for SQLite) instead
 * of one hand-written function per type; a new column is one line here.
 * The PostgreSQL store can walk the same tables over a PGresult (by
 * position, or by name with PQfnumber).
 */
#ifndef SG_STORE_RECORDS_H
#define SG_STORE_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include "sg_store.h"

enum sg_col_kind {
	SG_COL_TEXT,        /* char[size], NUL-terminated; longer text is a damaged row; NULL -> "" */
	SG_COL_TEXT_DUP,    /* char *, malloc'd; SQL NULL -> NULL */
	SG_COL_I64,         /* int64_t; SQL NULL -> 0 */
	SG_COL_INT,         /* int; a value out of int's range is a damaged row */
	SG_COL_UINT,        /* unsigned (bit sets: roles, events) */
	SG_COL_BOOL,        /* int, 0 or 1 */
	SG_COL_BLOB,        /* uint8_t[size]; length into the size_t at len_off; NULL -> length 0 */
	SG_COL_BLOB_EXACT,  /* uint8_t[size], exactly size bytes (hashes); NULL leaves zeros */
	SG_COL_BLOB_DUP,    /* uint8_t *, malloc'd (1 byte for an empty blob), length at len_off */
	SG_COL_KEY_ALG,     /* sg_key_alg from its name (sg_key_alg_from_name); unknown: damaged */
};

/* A column SQL NULL must not hold (a damaged row otherwise). */
#define SG_COL_REQUIRED 1u

typedef struct sg_col {
	const char *name;   /* the column's name in the schema */
	uint8_t kind;       /* enum sg_col_kind */
	uint8_t flags;      /* SG_COL_REQUIRED */
	size_t off;         /* of the field in the record */
	size_t size;        /* of the field */
	size_t len_off;     /* SG_COL_BLOB, SG_COL_BLOB_DUP: of the size_t length field */
} sg_col;

typedef struct sg_record_desc {
	const char *name;           /* "request", for the log */
	size_t size;                /* sizeof the record */
	const sg_col *cols;
	size_t ncols;
	void (*clear)(void *rec);   /* releases heap fields (and wipes secrets); NULL: none */
	int secret;                 /* holds a secret: a reader wipes its scratch copies */
} sg_record_desc;

extern const sg_record_desc sg_rec_tenant, sg_rec_principal, sg_rec_api_key,
    sg_rec_client_cert, sg_rec_key, sg_rec_key_version, sg_rec_request, sg_rec_signature,
    sg_rec_policy, sg_rec_approval, sg_rec_audit, sg_rec_webhook, sg_rec_delivery,
    sg_rec_notify_cursor, sg_rec_tsa_key;

/* The largest record size above: a reader's scratch record can be this big. */
#define SG_RECORD_MAX_SIZE sizeof(sg_webhook)

#endif
