/*
 * sg_status.h - the status words of requests, keys and key versions.
 *
 * Records keep their status as the native word (the API's and the
 * database's spelling); code that decides on a status compares these enums,
 * never strings.  There is one table of native names per enum (status.c),
 * and each dialect maps the enums to its own words.
 */
#ifndef SG_STATUS_H
#define SG_STATUS_H

#include "sg_store.h"

typedef enum sg_request_status {
	SG_RQ_NONE = 0,
	SG_RQ_PENDING_APPROVAL,
	SG_RQ_QUEUED,
	SG_RQ_PROCESSING,
	SG_RQ_SIGNED,
	SG_RQ_FAILED,
	SG_RQ_REJECTED,
	SG_RQ_DEAD_LETTER,
} sg_request_status;

typedef enum sg_key_status {
	SG_KEY_STATUS_NONE = 0,
	SG_KEY_ONLINE,
	SG_KEY_OFFLINE,
	SG_KEY_DISABLED,
} sg_key_status;

typedef enum sg_version_state {
	SG_VERSION_NONE = 0,
	SG_VERSION_ACTIVE,
	SG_VERSION_DESTROYED,
} sg_version_state;

/* Native names ("PENDING_APPROVAL", "ONLINE", "ACTIVE", ...); NULL for NONE. */
const char *sg_request_status_name(sg_request_status s);
const char *sg_key_status_name(sg_key_status s);
const char *sg_version_state_name(sg_version_state s);
/* Exact native names to enums; *_NONE when unknown. */
sg_request_status sg_request_status_from_name(const char *name);
sg_key_status sg_key_status_from_name(const char *name);
sg_version_state sg_version_state_from_name(const char *name);
/* The status of a stored record. */
sg_request_status sg_request_status_of(const sg_request *r);
sg_key_status sg_key_status_of(const sg_key *k);
sg_version_state sg_version_state_of(const sg_key_version *v);

/* Number of request statuses (for tables indexed by sg_request_status). */
#define SG_RQ_COUNT (SG_RQ_DEAD_LETTER + 1)

#endif
