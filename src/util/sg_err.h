/*
 * sg_err.h - the one error enum of Signet.
 *
 * Every fallible function in the project returns SG_OK (0) or one of these
 * negative codes.  The HTTP layer (src/api/sg_http_err.c) maps each code to a
 * status and a stable JSON code string; internal text never reaches a client.
 * Codes are grouped by the condition they describe, not by module, because the
 * same condition (say, a missing object) arises in several modules and must
 * reach the client the same way.
 */
#ifndef SG_ERR_H
#define SG_ERR_H

#define SG_WUR __attribute__((warn_unused_result))

typedef enum sg_err {
	SG_OK = 0,
	SG_ERR_INTERNAL = -1,           /* a bug or an impossible state */
	SG_ERR_NOMEM = -2,              /* allocation failed */
	SG_ERR_INVALID_ARGUMENT = -3,   /* malformed or missing input */
	SG_ERR_UNSUPPORTED_HASH = -4,   /* hash algorithm unknown or not allowed */
	SG_ERR_DIGEST_LENGTH = -5,      /* digest length does not match its hash */
	SG_ERR_UNAUTHENTICATED = -6,    /* no or bad credentials */
	SG_ERR_PERMISSION_DENIED = -7,  /* authenticated, but the role is missing */
	SG_ERR_NOT_FOUND = -8,          /* no such object (or another tenant's) */
	SG_ERR_KEY_NOT_ACTIVE = -9,     /* key OFFLINE/DISABLED or version destroyed */
	SG_ERR_ALGORITHM_MISMATCH = -10,/* scheme or format does not fit the key */
	SG_ERR_CONFLICT = -11,          /* uniqueness or state conflict */
	SG_ERR_RATE_LIMITED = -12,
	SG_ERR_TOO_LARGE = -13,         /* input over a named size limit */
	SG_ERR_UNAVAILABLE = -14,       /* a back-end (HSM, database) is not reachable */
	SG_ERR_CRYPTO = -15,            /* the crypto library refused an operation */
	SG_ERR_IO = -16,                /* file or socket I/O failed */
	SG_ERR_STORE = -17,             /* the database refused an operation */
	SG_ERR_UNSUPPORTED_ALGORITHM = -18, /* key or signature algorithm unknown */
	SG_ERR_BAD_SIGNATURE = -19,     /* a signature failed to verify */
	SG_ERR_BAD_ENCODING = -20,      /* base64/PEM/DER that does not decode */
	SG_ERR_PRECONDITION = -21,      /* request in a state that forbids the action */
} sg_err;

/* Human-readable English text for an error code; never NULL. */
const char *sg_err_str(int err);

#endif
