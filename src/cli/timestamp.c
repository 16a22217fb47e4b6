/*
 * timestamp.c - the CLI's side of RFC 3161: asking a time-stamp authority
 * for a token (`signet tsa stamp`) and checking a signature's token offline
 * (`signet verify-file`).
 *
 * A query carries a fresh random nonce and certReq, and a reply is only
 * accepted when it grants a token that answers this very query (same nonce,
 * same message imprint), so a replayed or misdirected reply is refused.
 * Checking a token's signature and certificate is src/crypto/tsa's
 * sg_tsa_verify_token; this file adds what a person reads: when, and by
 * whom.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include "sg_cli.h"
#include "sg_tsa_verify.h"
#include "sg_util.h"

int
sg_cli_tsq_build(sg_hash_alg h, const uint8_t *digest, size_t digest_len, uint64_t nonce,
    uint8_t **der, size_t *der_len)
{
	const EVP_MD *md = sg_hash_md(h);
	TS_REQ *req = NULL;
	TS_MSG_IMPRINT *imprint = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_INTEGER *n = NULL;
	unsigned char *out = NULL;
	uint8_t *copy;
	int len, r = SG_ERR_CRYPTO;

	if (md == NULL || digest_len != (size_t)EVP_MD_get_size(md)) {
		sg_cli_err("a time-stamp query needs a %s digest of %zu bytes",
		    sg_hash_name(h) != NULL ? sg_hash_name(h) : "known", sg_hash_len(h));
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((req = TS_REQ_new()) == NULL || (imprint = TS_MSG_IMPRINT_new()) == NULL ||
	    (alg = X509_ALGOR_new()) == NULL || (n = ASN1_INTEGER_new()) == NULL)
		goto out;
	/* AlgorithmIdentifier with NULL parameters, as `openssl ts -query` writes it. */
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL) != 1 ||
	    TS_MSG_IMPRINT_set_algo(imprint, alg) != 1 ||
	    TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)digest, (int)digest_len) != 1 ||
	    TS_REQ_set_version(req, 1) != 1 || TS_REQ_set_msg_imprint(req, imprint) != 1 ||
	    ASN1_INTEGER_set_uint64(n, nonce) != 1 || TS_REQ_set_nonce(req, n) != 1 ||
	    TS_REQ_set_cert_req(req, 1) != 1)
		goto out;
	if ((len = i2d_TS_REQ(req, &out)) <= 0)
		goto out;
	if ((copy = malloc((size_t)len)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, out, (size_t)len);
	*der = copy;
	*der_len = (size_t)len;
	r = SG_OK;
out:
	if (r == SG_ERR_NOMEM)
		sg_cli_err("out of memory");
	else if (r != SG_OK)
		sg_cli_err("cannot build the time-stamp query");
	OPENSSL_free(out);
	ASN1_INTEGER_free(n);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(imprint);
	TS_REQ_free(req);
	ERR_clear_error();
	return r;
}

/* genTime "YYYYMMDDHHMMSS[.fff]Z" as ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff]Z". */
static void
sg_cli_gen_time(const ASN1_GENERALIZEDTIME *t, char *out, size_t n)
{
	const char *s = t != NULL ? (const char *)ASN1_STRING_get0_data(t) : NULL;
	int len = t != NULL ? ASN1_STRING_length(t) : 0, ok = len >= 15 && s[len - 1] == 'Z';

	for (int i = 0; ok && i < 14; i++)
		ok = s[i] >= '0' && s[i] <= '9';
	for (int i = 14; ok && i < len - 1; i++)
		ok = (i == 14 && s[i] == '.') || (i > 14 && s[i] >= '0' && s[i] <= '9');
	if (!ok) {
		snprintf(out, n, "(unreadable genTime)");
		return;
	}
	snprintf(out, n, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s%.*sZ", s, s + 4, s + 6, s + 8, s + 10,
	    s + 12, len - 15, s + 14);
}

/* The names of the failInfo bits RFC 3161 defines, set in bits, into out. */
static void
sg_cli_fail_info(const ASN1_BIT_STRING *bits, char *out, size_t n)
{
	static const struct {
		int bit;
		const char *name;
	} names[] = {
		{ TS_INFO_BAD_ALG, "badAlg" },
		{ TS_INFO_BAD_REQUEST, "badRequest" },
		{ TS_INFO_BAD_DATA_FORMAT, "badDataFormat" },
		{ TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable" },
		{ TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy" },
		{ TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension" },
		{ TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable" },
		{ TS_INFO_SYSTEM_FAILURE, "systemFailure" },
	};

	out[0] = '\0';
	for (size_t i = 0; bits != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
		if (ASN1_BIT_STRING_get_bit(bits, names[i].bit)) {
			size_t used = strlen(out);
			snprintf(out + used, n - used, "%s%s", used > 0 ? ", " : "", names[i].name);
		}
	}
}

int
sg_cli_tsr_check(const uint8_t *reply, size_t len, sg_hash_alg h, const uint8_t *digest,
    size_t digest_len, uint64_t nonce, char *gen_time, size_t gen_time_len)
{
	const unsigned char *p = reply;
	const EVP_MD *md = sg_hash_md(h);
	TS_RESP *resp = NULL;
	TS_STATUS_INFO *si;
	TS_TST_INFO *tst;
	TS_MSG_IMPRINT *imprint;
	ASN1_OCTET_STRING *msg;
	const ASN1_INTEGER *got_nonce;
	ASN1_INTEGER *want_nonce = NULL;
	long status;
	char fail[160];
	int r = SG_ERR_BAD_SIGNATURE;

	if (reply == NULL || len == 0 || len > SG_TSA_MAX_TOKEN ||
	    (resp = d2i_TS_RESP(NULL, &p, (long)len)) == NULL || p != reply + len) {
		sg_cli_err("the time-stamp reply is not one DER TimeStampResp");
		r = SG_ERR_BAD_ENCODING;
		goto out;
	}
	si = TS_RESP_get_status_info(resp);
	status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS) {
		sg_cli_fail_info(TS_STATUS_INFO_get0_failure_info(si), fail, sizeof(fail));
		sg_cli_err("the time-stamp authority refused the query: status %ld%s%s", status,
		    fail[0] != '\0' ? ", " : "", fail);
		goto out;
	}
	if ((tst = TS_RESP_get_tst_info(resp)) == NULL) {
		sg_cli_err("the time-stamp reply grants no token");
		goto out;
	}
	if ((want_nonce = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(want_nonce, nonce) != 1) {
		sg_cli_err("out of memory");
		r = SG_ERR_NOMEM;
		goto out;
	}
	got_nonce = TS_TST_INFO_get_nonce(tst);
	if (got_nonce == NULL || ASN1_INTEGER_cmp(got_nonce, want_nonce) != 0) {
		sg_cli_err("the time-stamp reply does not carry this query's nonce");
		goto out;
	}
	imprint = TS_TST_INFO_get_msg_imprint(tst);
	msg = TS_MSG_IMPRINT_get_msg(imprint);
	if (md == NULL ||
	    OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(imprint)->algorithm) != EVP_MD_get_type(md) ||
	    msg == NULL || (size_t)ASN1_STRING_length(msg) != digest_len ||
	    memcmp(ASN1_STRING_get0_data(msg), digest, digest_len) != 0) {
		sg_cli_err("the time-stamp token stamps another digest than the one sent");
		goto out;
	}
	sg_cli_gen_time(TS_TST_INFO_get_time(tst), gen_time, gen_time_len);
	r = SG_OK;
out:
	ASN1_INTEGER_free(want_nonce);
	TS_RESP_free(resp);
	ERR_clear_error();
	return r;
}

/* Subject of x in RFC 2253 form, every non-ASCII byte escaped, into out. */
static void
sg_cli_subject(X509 *x, char *out, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long len;

	snprintf(out, n, "(unknown)");
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_UTF8_CONVERT) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0)
		snprintf(out, n, "%.*s", (int)len, p);
	BIO_free(b);
}

/*
 * 1 when the token's message imprint is the hash of data under its own
 * algorithm, 0 when it is not, -1 when the token cannot tell.
 */
static int
sg_cli_imprint_matches(const uint8_t *token, size_t len, const uint8_t *data, size_t dlen)
{
	const unsigned char *p = token;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	TS_TST_INFO *tst = p7 != NULL ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	TS_MSG_IMPRINT *imprint = tst != NULL ? TS_TST_INFO_get_msg_imprint(tst) : NULL;
	ASN1_OCTET_STRING *msg = imprint != NULL ? TS_MSG_IMPRINT_get_msg(imprint) : NULL;
	const EVP_MD *md = imprint != NULL ?
	    EVP_get_digestbyobj(TS_MSG_IMPRINT_get_algo(imprint)->algorithm) : NULL;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	int same = -1;

	if (md != NULL && msg != NULL && EVP_Digest(data, dlen, h, &hlen, md, NULL) == 1)
		same = (int)hlen == ASN1_STRING_length(msg) &&
		    memcmp(h, ASN1_STRING_get0_data(msg), hlen) == 0;
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	ERR_clear_error();
	return same;
}

int
sg_cli_timestamp_verify(const uint8_t *token, size_t len, const uint8_t *data, size_t dlen,
    const char *tsa_pem, char *gen_time, size_t gen_time_len, char *subject,
    size_t subject_len)
{
	char why[256] = "";
	const unsigned char *p = token;
	PKCS7 *p7 = NULL;
	TS_TST_INFO *tst = NULL;
	STACK_OF(X509) *certs = NULL, *signers = NULL;
	BIO *bio = NULL;
	X509 *x;
	int r;

	r = sg_tsa_verify_token(token, len, data, dlen, tsa_pem, why, sizeof(why));
	if (r == SG_ERR_BAD_SIGNATURE && sg_cli_imprint_matches(token, len, data, dlen) == 0)
		sg_cli_err("the time-stamp token stamps other data than this signature");
	if (r != SG_OK) {
		sg_cli_err("%s", why[0] != '\0' ? why : sg_err_str(r));
		return r;
	}
	/* Verified: now read when, and by whom, for the person. */
	r = SG_ERR_BAD_ENCODING;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL ||
	    (tst = PKCS7_to_TS_TST_INFO(p7)) == NULL) {
		sg_cli_err("the time-stamp token does not parse");
		goto out;
	}
	sg_cli_gen_time(TS_TST_INFO_get_time(tst), gen_time, gen_time_len);
	snprintf(subject, subject_len, "(unknown)");
	if ((certs = sk_X509_new_null()) != NULL &&
	    (bio = BIO_new_mem_buf(tsa_pem, (int)strlen(tsa_pem))) != NULL) {
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (!sk_X509_push(certs, x)) {
				X509_free(x);
				break;
			}
		}
	}
	if ((signers = PKCS7_get0_signers(p7, certs, 0)) != NULL && sk_X509_num(signers) > 0)
		sg_cli_subject(sk_X509_value(signers, 0), subject, subject_len);
	r = SG_OK;
out:
	sk_X509_free(signers);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	ERR_clear_error();
	return r;
}
