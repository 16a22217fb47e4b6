/*
 * sg_tsa_verify.h - offline verification of RFC 3161 time-stamp tokens.
 *
 * The client half of the time stamping: the CLI (and any other client of
 * signetd) checks a TimeStampToken against the data it stamps and a pinned
 * TSA certificate or CA chain.  It is its own library, sg_tsa_verify, so a
 * client links this and OpenSSL only, not the time-stamp authority of
 * sg_tsa.h (which includes this header, for the server and its tests).
 * Thread-safe: no state is kept between calls.
 */
#ifndef SG_TSA_VERIFY_H
#define SG_TSA_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include "sg_err.h"

/* Tokens and certificate chains longer than this are refused by the verifier. */
#define SG_TSA_MAX_TOKEN (256u * 1024u)

/*
 * Check offline that token (DER TimeStampToken, len bytes) stamps data
 * (dlen bytes, hashed with the token's own algorithm) and is signed by a
 * TSA certificate that chains to one of the PEM certificates in
 * tsa_chain_pem (NUL-terminated).  Every certificate in tsa_chain_pem is
 * trusted, so pass only what you trust: the TSA certificate itself (pinned)
 * or its CA chain; they also serve to find the signer when the token
 * carries no certificate.  The certificate must be valid now and have the
 * critical timeStamping EKU; the ESS signing-certificate attribute must
 * name it.  Returns SG_OK, SG_ERR_BAD_ENCODING for a token or PEM that does
 * not parse, SG_ERR_BAD_SIGNATURE when the token does not verify or does not
 * match the data, SG_ERR_INVALID_ARGUMENT, SG_ERR_TOO_LARGE, SG_ERR_NOMEM.
 * When err is not NULL, a one-line English reason is written there on
 * failure (truncated to errlen) and "" on success.
 */
int sg_tsa_verify_token(const uint8_t *token, size_t len, const uint8_t *data,
    size_t dlen, const char *tsa_chain_pem, char *err, size_t errlen) SG_WUR;

#endif
