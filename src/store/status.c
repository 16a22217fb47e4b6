/*
 * status.c - one table of native names for each status enum (sg_status.h).
 */
#include <string.h>
#include "sg_status.h"

static const char *const request_status_names[] = {
	[SG_RQ_PENDING_APPROVAL] = "PENDING_APPROVAL",
	[SG_RQ_QUEUED] = "QUEUED",
	[SG_RQ_PROCESSING] = "PROCESSING",
	[SG_RQ_SIGNED] = "SIGNED",
	[SG_RQ_FAILED] = "FAILED",
	[SG_RQ_REJECTED] = "REJECTED",
	[SG_RQ_DEAD_LETTER] = "DEAD_LETTER",
};
static const char *const key_status_names[] = {
	[SG_KEY_ONLINE] = "ONLINE",
	[SG_KEY_OFFLINE] = "OFFLINE",
	[SG_KEY_DISABLED] = "DISABLED",
};
static const char *const version_state_names[] = {
	[SG_VERSION_ACTIVE] = "ACTIVE",
	[SG_VERSION_DESTROYED] = "DESTROYED",
};

#define NAMES(t) (sizeof(t) / sizeof((t)[0]))

static const char *
name_of(const char *const *table, size_t n, int v)
{
	return v > 0 && (size_t)v < n ? table[v] : NULL;
}

static int
from_name(const char *const *table, size_t n, const char *name)
{
	for (size_t i = 1; name != NULL && i < n; i++)
		if (table[i] != NULL && strcmp(table[i], name) == 0)
			return (int)i;
	return 0;
}

const char *sg_request_status_name(sg_request_status s) { return name_of(request_status_names, NAMES(request_status_names), (int)s); }
const char *sg_key_status_name(sg_key_status s) { return name_of(key_status_names, NAMES(key_status_names), (int)s); }
const char *sg_version_state_name(sg_version_state s) { return name_of(version_state_names, NAMES(version_state_names), (int)s); }
sg_request_status sg_request_status_from_name(const char *n) { return (sg_request_status)from_name(request_status_names, NAMES(request_status_names), n); }
sg_key_status sg_key_status_from_name(const char *n) { return (sg_key_status)from_name(key_status_names, NAMES(key_status_names), n); }
sg_version_state sg_version_state_from_name(const char *n) { return (sg_version_state)from_name(version_state_names, NAMES(version_state_names), n); }
sg_request_status sg_request_status_of(const sg_request *r) { return sg_request_status_from_name(r->status); }
sg_key_status sg_key_status_of(const sg_key *k) { return sg_key_status_from_name(k->status); }
sg_version_state sg_version_state_of(const sg_key_version *v) { return sg_version_state_from_name(v->state); }

