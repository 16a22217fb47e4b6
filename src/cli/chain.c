/*
 * chain.c - checking the certificate chain a bundle carries.
 *
 * A bundle's chain claims "this public key belongs to this subject, as
 * vouched for by these issuers".  verify-file checks what can be checked
 * offline: the leaf holds the key that signed, each certificate is issued
 * and signed by the next one (the order the service keeps: leaf first), and
 * with --ca the whole chain leads to a root the user trusts.  Without --ca
 * the chain proves nothing about the signer, only that it is well-formed.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include "sg_cli.h"

/* A chain longer than this is not one a CA issued. */
#define SG_CLI_MAX_CHAIN 16

/* Subject of x in RFC 2253 form, every non-ASCII byte escaped, into out. */
static void
sg_cli_name(const X509 *x, char *out, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long len;

	snprintf(out, n, "(no subject)");
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_UTF8_CONVERT) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0)
		snprintf(out, n, "%.*s", (int)len, p);
	BIO_free(b);
}

/* 1 when the certificate's SubjectPublicKeyInfo is exactly spki. */
static int
sg_cli_cert_has_spki(X509 *x, const uint8_t *spki, size_t spki_len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der), same;

	same = n > 0 && (size_t)n == spki_len && memcmp(der, spki, spki_len) == 0;
	OPENSSL_free(der);
	return same;
}

int
sg_cli_check_chain(const char *chain_pem, const uint8_t *spki, size_t spki_len,
    const char *ca_path, char *summary, size_t summary_len)
{
	STACK_OF(X509) *certs = NULL, *untrusted = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	BIO *bio = NULL;
	X509 *x;
	char a[256], b[256], root[256] = "";
	int n, r = SG_ERR_NOMEM;

	if ((certs = sk_X509_new_null()) == NULL ||
	    (bio = BIO_new_mem_buf(chain_pem, (int)strlen(chain_pem))) == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(certs) >= SG_CLI_MAX_CHAIN || !sk_X509_push(certs, x)) {
			X509_free(x);
			sg_cli_err("the certificate chain has more than %d certificates",
			    SG_CLI_MAX_CHAIN);
			r = SG_ERR_BAD_SIGNATURE;
			goto out;
		}
	}
	if ((n = sk_X509_num(certs)) == 0) {
		sg_cli_err("the certificate chain holds no PEM certificate");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	if (spki != NULL && !sg_cli_cert_has_spki(sk_X509_value(certs, 0), spki, spki_len)) {
		sg_cli_name(sk_X509_value(certs, 0), a, sizeof(a));
		sg_cli_err("the chain's first certificate (%s) does not carry the signing public key",
		    a);
		r = SG_ERR_BAD_SIGNATURE;
		goto out;
	}
	for (int i = 0; i + 1 < n; i++) {
		X509 *cur = sk_X509_value(certs, i), *issuer = sk_X509_value(certs, i + 1);
		EVP_PKEY *pk = X509_get0_pubkey(issuer);
		if (X509_check_issued(issuer, cur) != X509_V_OK || pk == NULL ||
		    X509_verify(cur, pk) != 1) {
			sg_cli_name(cur, a, sizeof(a));
			sg_cli_name(issuer, b, sizeof(b));
			sg_cli_err("certificate %d (%s) is not issued by certificate %d (%s)", i + 1, a,
			    i + 2, b);
			r = SG_ERR_BAD_SIGNATURE;
			goto out;
		}
	}
	if (ca_path != NULL) {
		if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL ||
		    (untrusted = sk_X509_new_null()) == NULL)
			goto out;
		if (X509_STORE_load_file(store, ca_path) != 1) {
			sg_cli_err("cannot read trusted certificates from %s", ca_path);
			r = SG_ERR_IO;
			goto out;
		}
		for (int i = 1; i < n; i++) {
			if (!sk_X509_push(untrusted, sk_X509_value(certs, i)))
				goto out;
		}
		if (X509_STORE_CTX_init(ctx, store, sk_X509_value(certs, 0), untrusted) != 1)
			goto out;
		if (X509_verify_cert(ctx) != 1) {
			sg_cli_err("the certificate chain does not lead to a root in %s: %s", ca_path,
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
			r = SG_ERR_BAD_SIGNATURE;
			goto out;
		}
		STACK_OF(X509) *verified = X509_STORE_CTX_get0_chain(ctx);
		snprintf(root, sizeof(root), "a trusted root");
		if (verified != NULL && sk_X509_num(verified) > 0)
			sg_cli_name(sk_X509_value(verified, sk_X509_num(verified) - 1), root,
			    sizeof(root));
	}
	if (summary != NULL) {
		sg_cli_name(sk_X509_value(certs, 0), a, sizeof(a));
		snprintf(summary, summary_len, "%s, %d certificate%s%s%s", a, n, n == 1 ? "" : "s",
		    root[0] != '\0' ? ", verified to " : ", not checked against a trusted root",
		    root);
	}
	r = SG_OK;
out:
	if (r == SG_ERR_NOMEM)
		sg_cli_err("out of memory");
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);  /* borrowed from certs */
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}
