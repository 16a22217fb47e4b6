/* sg_err.c - text for the error codes of sg_err.h. */
#include "sg_err.h"

const char *
sg_err_str(int err)
{
	switch ((sg_err)err) {
	case SG_OK: return "success";
	case SG_ERR_INTERNAL: return "internal error";
	case SG_ERR_NOMEM: return "out of memory";
	case SG_ERR_INVALID_ARGUMENT: return "invalid argument";
	case SG_ERR_UNSUPPORTED_HASH: return "unsupported hash algorithm";
	case SG_ERR_DIGEST_LENGTH: return "digest length does not match the hash algorithm";
	case SG_ERR_UNAUTHENTICATED: return "authentication required";
	case SG_ERR_PERMISSION_DENIED: return "permission denied";
	case SG_ERR_NOT_FOUND: return "not found";
	case SG_ERR_KEY_NOT_ACTIVE: return "key is not active";
	case SG_ERR_ALGORITHM_MISMATCH: return "algorithm does not fit the key";
	case SG_ERR_CONFLICT: return "conflict";
	case SG_ERR_RATE_LIMITED: return "rate limited";
	case SG_ERR_TOO_LARGE: return "input too large";
	case SG_ERR_UNAVAILABLE: return "service unavailable";
	case SG_ERR_CRYPTO: return "cryptographic operation failed";
	case SG_ERR_IO: return "I/O error";
	case SG_ERR_STORE: return "storage error";
	case SG_ERR_UNSUPPORTED_ALGORITHM: return "unsupported algorithm";
	case SG_ERR_BAD_SIGNATURE: return "signature does not verify";
	case SG_ERR_BAD_ENCODING: return "malformed encoding";
	case SG_ERR_PRECONDITION: return "precondition failed";
	}
	return "unknown error";
}
