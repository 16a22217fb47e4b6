/*
 * verify.c - offline checking of RFC 3161 time-stamp tokens (contract in
 * sg_tsa_verify.h).
 *
 * Kept apart from the time-stamp authority (tsa.c) so that clients - the CLI,
 * the PKCS#11 module - link only the verifier and none of the TSA's key and
 * serial-number handling.  OpenSSL's TS_VERIFY_CTX does the ASN.1 and the
 * signature; this file chooses what is trusted and turns failures into one
 * English reason for the caller.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include "sg_tsa_verify.h"

/* Write "prefix: reason" from the first OpenSSL error into err; clear the queue. */
static void
set_err(char *err, size_t errlen, const char *prefix)
{
	const char *data = NULL;
	int flags = 0;
	unsigned long e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (err != NULL && errlen > 0) {
		if (reason == NULL)
			snprintf(err, errlen, "%s", prefix);
		else if (data != NULL && (flags & ERR_TXT_STRING) && *data != 0)
			snprintf(err, errlen, "%s: %s (%s)", prefix, reason, data);
		else
			snprintf(err, errlen, "%s: %s", prefix, reason);
	}
	ERR_clear_error();
}

int
sg_tsa_verify_token(const uint8_t *token, size_t len, const uint8_t *data, size_t dlen,
    const char *tsa_chain_pem, char *err, size_t errlen)
{
	PKCS7 *p7 = NULL;
	BIO *pem = NULL, *databio = NULL;
	STACK_OF(X509) *certs = NULL, *untrusted = NULL;
	X509_STORE *store = NULL;
	TS_VERIFY_CTX *vctx = NULL;
	X509 *x = NULL;
	const unsigned char *p = token;
	size_t pemlen;
	int r = SG_ERR_NOMEM;

	ERR_clear_error();
	if (err != NULL && errlen > 0)
		err[0] = 0;
	if (token == NULL || len == 0 || tsa_chain_pem == NULL || (data == NULL && dlen > 0)) {
		set_err(err, errlen, "missing token, data or TSA certificate");
		return SG_ERR_INVALID_ARGUMENT;
	}
	pemlen = strlen(tsa_chain_pem);
	if (len > SG_TSA_MAX_TOKEN || pemlen > SG_TSA_MAX_TOKEN || dlen > (size_t)INT32_MAX) {
		set_err(err, errlen, "token, data or TSA certificate too large");
		return SG_ERR_TOO_LARGE;
	}
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL || p != token + len) {
		set_err(err, errlen, "the token is not one DER TimeStampToken");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL ||
	    (pem = BIO_new_mem_buf(tsa_chain_pem, (int)pemlen)) == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(pem, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(certs, x))
			goto out;
		x = NULL;
	}
	ERR_clear_error();
	if (sk_X509_num(certs) == 0) {
		set_err(err, errlen, "no PEM certificate given for the TSA");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL)
		goto out;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		if (X509_STORE_add_cert(store, sk_X509_value(certs, i)) != 1)
			goto out;
	}
	/* A pinned TSA or intermediate certificate is a trust anchor of its own. */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if ((untrusted = X509_chain_up_ref(certs)) == NULL ||
	    (databio = BIO_new_mem_buf(data != NULL ? (const void *)data : "", (int)dlen)) == NULL ||
	    (vctx = TS_VERIFY_CTX_new()) == NULL)
		goto out;
	TS_VERIFY_CTX_set_flags(vctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_SIGNER |
	    TS_VFY_DATA);
	/* The context owns what is set on it from here on. */
	TS_VERIFY_CTX_set_data(vctx, databio);
	databio = NULL;
	TS_VERIFY_CTX_set_store(vctx, store);
	store = NULL;
	TS_VERIFY_CTX_set_certs(vctx, untrusted);
	untrusted = NULL;
	if (TS_RESP_verify_token(vctx, p7) != 1) {
		set_err(err, errlen, "the time-stamp token does not verify");
		r = SG_ERR_BAD_SIGNATURE;
		goto out;
	}
	r = SG_OK;
out:
	if (r == SG_ERR_NOMEM)
		set_err(err, errlen, "out of memory");
	ERR_clear_error();
	TS_VERIFY_CTX_free(vctx);
	BIO_free(databio);
	X509_STORE_free(store);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(x);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(pem);
	PKCS7_free(p7);
	return r;
}
