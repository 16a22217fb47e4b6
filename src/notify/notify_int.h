/*
 * notify_int.h - what the two halves of the dispatcher share: outbox.c turns
 * audit entries into delivery rows, dispatch.c runs the threads and sends.
 */
#ifndef SG_NOTIFY_INT_H
#define SG_NOTIFY_INT_H

#include "sg_notify.h"
#include "sg_store.h"

/* What outbox.c needs to know to write deliveries. */
typedef struct sg_outbox_ctx {
	sg_store *store;
	int mail;                   /* e-mail configured */
	const char *smtp_from;
	const char *public_url;     /* no trailing slash */
} sg_outbox_ctx;

/*
 * Turn the entries of one tenant's audit log past cursor c->seq (at most
 * one batch) into deliveries and move the cursor past them, in one store
 * transaction; on success c->seq follows.  *queued gets the number of
 * deliveries written (0 is normal: most entries notify nobody).  *more is
 * 1 when entries remain.
 */
int sg_outbox_scan(const sg_outbox_ctx *ctx, sg_notify_cursor *c, size_t *queued,
    int *more) SG_WUR;

#endif
