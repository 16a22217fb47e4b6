/*
 * certs.c - X.509 for keys: a CSR signed by the key, a self-signed
 * certificate for TEST keys, and uploading an issued certificate chain.
 *
 * The private key never leaves custody for this either: every key, DISK or
 * HSM, signs the to-be-signed bytes through sg_keystore_sign, as for any
 * other signature.  OpenSSL 3.0 has no setter for a certificate's signature
 * algorithm, so the structure is first signed with a throwaway key of the
 * same family (which fills in the algorithm identifiers), then its
 * re-encoded TBS is signed by the keystore and that signature replaces the
 * throwaway one: hashed first for RSA and ECDSA, given whole as the message
 * for Ed25519 (EdDSA signs the TBS itself, not a digest of it). An uploaded chain is accepted only
 * if its first certificate carries this key version's public key and every
 * certificate is issued (and signed) by the next one.  OpenSSL 3.0 cannot
 * put ML-DSA or composite keys in X.509 structures, so those are refused
 * with a clear message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "api.h"
#include "sg_log.h"

#define CHAIN_MAX_CERTS 10

/* Parse "CN=a,O=b" or "/CN=a/O=b" into an X509_NAME; NULL when malformed. */
static X509_NAME *
parse_subject(const char *text)
{
	char buf[1024], *save = NULL;
	if (sg_strlcpy(buf, text, sizeof(buf)) >= sizeof(buf))
		return NULL;
	char sep = buf[0] == '/' ? '/' : ',';
	X509_NAME *name = X509_NAME_new();
	int n = 0;
	char seps[2] = { sep, 0 };
	for (char *rdn = strtok_r(buf[0] == '/' ? buf + 1 : buf, seps, &save); rdn != NULL;
	    rdn = strtok_r(NULL, seps, &save)) {
		while (isspace((unsigned char)*rdn))
			rdn++;
		char *eq = strchr(rdn, '=');
		if (eq == NULL || eq == rdn || eq[1] == 0)
			goto bad;
		*eq = 0;
		if (!X509_NAME_add_entry_by_txt(name, rdn, MBSTRING_UTF8, (const unsigned char *)eq + 1, -1, -1, 0))
			goto bad;
		n++;
	}
	if (n > 0)
		return name;
bad:
	X509_NAME_free(name);
	return NULL;
}

static const EVP_MD *
x509_md(sg_key_alg a)
{
	switch (a) {
	case SG_KEY_EC_P384: return EVP_sha384();
	case SG_KEY_EC_P521: return EVP_sha512();
	case SG_KEY_ED25519: return NULL;   /* pure EdDSA */
	default: return EVP_sha256();
	}
}

/* What signs an X.509 structure: the keystore, by reference to the key version. */
typedef struct x509_signer {
	sg_keystore *ks;
	char vid[SG_KEY_VERSION_ID_MAX];
	sg_key_ref ref;
	EVP_PKEY *throwaway;      /* same family, for the algorithm identifiers */
} x509_signer;

static void
x509_signer_free(x509_signer *sg)
{
	EVP_PKEY_free(sg->throwaway);
	memset(sg, 0, sizeof(*sg));
}

/*
 * Have the keystore sign tbs: hashed with md for RSA and ECDSA; for Ed25519
 * (md NULL) the TBS itself is the message.  *out is a fresh bit string.
 */
static int
keystore_sign_tbs(x509_signer *sg, sg_key_alg alg, const EVP_MD *md, const uint8_t *tbs, size_t len,
    ASN1_BIT_STRING **out)
{
	uint8_t digest[EVP_MAX_MD_SIZE], *sig = NULL;
	const uint8_t *input = digest;
	size_t input_len;
	unsigned dlen = 0;
	size_t siglen = 0;
	int r;
	sg_sign_params p = { .pss_salt_len = -1 };
	if (alg == SG_KEY_ED25519) {
		/* hash only satisfies sg_sign_params_check; with message set it is not used. */
		p.hash = SG_HASH_SHA512;
		p.scheme = SG_SCHEME_ED25519;
		p.message = 1;
		input = tbs;
		input_len = len;
	} else {
		p.hash = sg_hash_from_name(EVP_MD_get0_name(md));
		p.scheme = alg <= SG_KEY_RSA_4096 ? SG_SCHEME_RSA_PKCS1 : SG_SCHEME_ECDSA;
		p.format = alg <= SG_KEY_RSA_4096 ? SG_FORMAT_DEFAULT : SG_FORMAT_DER;
		if (EVP_Digest(tbs, len, digest, &dlen, md, NULL) != 1)
			return SG_ERR_CRYPTO;
		input_len = dlen;
	}
	if ((r = sg_sign_params_check(alg, &p)) != SG_OK ||
	    (r = sg_keystore_sign(sg->ks, &sg->ref, &p, input, input_len, &sig, &siglen)) != SG_OK)
		return r;
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
	if (bs == NULL || !ASN1_BIT_STRING_set(bs, sig, (int)siglen)) {
		ASN1_BIT_STRING_free(bs);
		free(sig);
		return SG_ERR_NOMEM;
	}
	bs->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bs->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	free(sig);
	*out = bs;
	return SG_OK;
}

static int
sign_req(x509_signer *sg, sg_key_alg alg, X509_REQ *csr)
{
	const EVP_MD *md = x509_md(alg);
	unsigned char *tbs = NULL;
	ASN1_BIT_STRING *bs = NULL;
	int len, r;
	if (X509_REQ_sign(csr, sg->throwaway, md) <= 0 || (len = i2d_re_X509_REQ_tbs(csr, &tbs)) <= 0)
		return SG_ERR_CRYPTO;
	r = keystore_sign_tbs(sg, alg, md, tbs, (size_t)len, &bs);
	OPENSSL_free(tbs);
	if (r == SG_OK)
		X509_REQ_set0_signature(csr, bs);
	return r;
}

static int
sign_cert(x509_signer *sg, sg_key_alg alg, X509 *x)
{
	const EVP_MD *md = x509_md(alg);
	unsigned char *tbs = NULL;
	ASN1_BIT_STRING *bs = NULL;
	const ASN1_BIT_STRING *cur = NULL;
	int len, r;
	if (X509_sign(x, sg->throwaway, md) <= 0 || (len = i2d_re_X509_tbs(x, &tbs)) <= 0)
		return SG_ERR_CRYPTO;
	r = keystore_sign_tbs(sg, alg, md, tbs, (size_t)len, &bs);
	OPENSSL_free(tbs);
	if (r != SG_OK)
		return r;
	/* The signature lives inside x; OpenSSL 3.0 only hands out a const pointer to it. */
	X509_get0_signature(&cur, NULL, x);
	r = ASN1_STRING_set((ASN1_BIT_STRING *)cur, bs->data, bs->length) ? SG_OK : SG_ERR_NOMEM;
	((ASN1_BIT_STRING *)cur)->flags = bs->flags;
	ASN1_BIT_STRING_free(bs);
	return r;
}

/* Load key and version, and prepare a signer; answers 4xx and returns non-zero. */
static int
load_signing(api_req *req, api_resp *resp, const char *version_text, sg_key *k, sg_key_version *v,
    x509_signer *sg)
{
	sg_store *s = req->svc->store;
	int64_t version;
	int r = s->ops->key_get(s, req->tenant.id, req->params[0], k);
	if (r != SG_OK) {
		api_error(req, resp, r, "no key '%.128s'", req->params[0]);
		return -1;
	}
	version = k->current_version;
	if (version_text != NULL && sg_parse_int64(version_text, 1, 1000000, &version) != SG_OK) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "version must be a positive integer");
		return -1;
	}
	if ((r = s->ops->key_version_get(s, req->tenant.id, k->id, (int)version, v)) != SG_OK) {
		api_error(req, resp, r, "key '%s' has no version %lld", k->alias, (long long)version);
		return -1;
	}
	if (sg == NULL)
		return 0;
	if (k->alg >= SG_KEY_MLDSA_44) {
		api_error(req, resp, SG_ERR_UNSUPPORTED_ALGORITHM,
		    "X.509 certificates for %s keys are not supported (OpenSSL 3.0 has no ML-DSA)",
		    sg_key_alg_name(k->alg));
		return -1;
	}
	if (sg_key_status_of(k) == SG_KEY_DISABLED || sg_version_state_of(v) != SG_VERSION_ACTIVE) {
		api_error(req, resp, SG_ERR_KEY_NOT_ACTIVE, "key '%s' version %d cannot sign (%s, %s)",
		    k->alias, v->version, k->status, v->state);
		return -1;
	}
	memset(sg, 0, sizeof(*sg));
	if ((sg->ks = sg_service_keystore(req->svc, k->storage)) == NULL) {
		api_error(req, resp, SG_ERR_UNAVAILABLE, "storage %s is not available", k->storage);
		return -1;
	}
	sg_key_version_id(k->id, v->version, sg->vid);
	sg_key_ref ref = { sg->vid, k->alg, v->handle, v->handle_len };
	sg->ref = ref;
	sg->throwaway = k->alg <= SG_KEY_RSA_4096 ? EVP_RSA_gen(2048) :
	    k->alg == SG_KEY_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") : EVP_EC_gen("P-256");
	if (sg->throwaway == NULL) {
		api_error(req, resp, SG_ERR_CRYPTO, "cannot prepare the certificate");
		return -1;
	}
	return 0;
}

static char *
pem_of(int (*write)(BIO *, void *), void *obj)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL, *p;
	if (b != NULL && write(b, obj)) {
		long n = BIO_get_mem_data(b, &p);
		if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
			memcpy(out, p, (size_t)n);
			out[n] = 0;
		}
	}
	BIO_free(b);
	return out;
}
static int write_req(BIO *b, void *o) { return PEM_write_bio_X509_REQ(b, o); }
static int write_x509(BIO *b, void *o) { return PEM_write_bio_X509(b, o); }

void
api_keys_csr(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "subject", "version", NULL };
	const char *subject = NULL;
	int64_t version = 0;
	sg_key k;
	sg_key_version v;
	x509_signer sg;
	X509_REQ *csr = NULL;
	EVP_PKEY *pub = NULL;
	X509_NAME *name = NULL;
	char *pem = NULL, vtext[24];

	memset(&v, 0, sizeof(v));
	memset(&sg, 0, sizeof(sg));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "subject", 1, 1000, &subject) ||
	    api_field_int(req, resp, body, "version", 0, 1, 1000000, &version))
		goto out;
	if ((name = parse_subject(subject)) == NULL) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "subject must look like 'CN=name,O=org'");
		goto out;
	}
	snprintf(vtext, sizeof(vtext), "%lld", (long long)version);
	if (load_signing(req, resp, version ? vtext : NULL, &k, &v, &sg))
		goto out;
	const unsigned char *sp = v.spki;
	int sr = SG_ERR_CRYPTO;
	if ((pub = d2i_PUBKEY(NULL, &sp, (long)v.spki_len)) == NULL || (csr = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(csr, 0) || !X509_REQ_set_subject_name(csr, name) ||
	    !X509_REQ_set_pubkey(csr, pub) || (sr = sign_req(&sg, k.alg, csr)) != SG_OK ||
	    (pem = pem_of(write_req, csr)) == NULL) {
		if (sr == SG_ERR_UNAVAILABLE || sr == SG_ERR_KEY_NOT_ACTIVE) {
			api_error(req, resp, sr, "the key's storage could not sign the CSR");
			goto out;
		}
		api_error(req, resp, SG_ERR_CRYPTO, "cannot build the CSR");
		goto out;
	}
	api_audit(req, "key.csr_created", k.id, json_pack("{s:i,s:s}", "version", v.version, "subject", subject));
	api_json(resp, 200, json_pack("{s:s,s:i,s:s}", "key_id", k.id, "version", v.version, "csr_pem", pem));
out:
	free(pem);
	X509_REQ_free(csr);
	EVP_PKEY_free(pub);
	X509_NAME_free(name);
	x509_signer_free(&sg);
	sg_key_version_clear(&v);
	json_decref(body);
}

void
api_keys_self_signed(api_req *req, api_resp *resp)
{
	static const char *const known[] = { "subject", "days", NULL };
	sg_store *s = req->svc->store;
	const char *subject = NULL;
	int64_t days = 365;
	sg_key k;
	sg_key_version v;
	x509_signer sg;
	X509 *x = NULL;
	EVP_PKEY *pub = NULL;
	X509_NAME *name = NULL;
	char *pem = NULL;
	uint8_t serial[16];
	X509V3_CTX ctx;
	int r;

	memset(&v, 0, sizeof(v));
	memset(&sg, 0, sizeof(sg));
	json_t *body = api_body_object(req, resp);
	if (body == NULL)
		return;
	if (api_fields_known(req, resp, body, known) ||
	    api_field_str(req, resp, body, "subject", 1, 1000, &subject) ||
	    api_field_int(req, resp, body, "days", 0, 1, 3650, &days))
		goto out;
	if ((name = parse_subject(subject)) == NULL) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "subject must look like 'CN=name,O=org'");
		goto out;
	}
	if (load_signing(req, resp, req->params[1], &k, &v, &sg))
		goto out;
	if (strcmp(k.type, "TEST") != 0) {
		api_error(req, resp, SG_ERR_PRECONDITION,
		    "self-signed certificates are for TEST keys; '%s' is %s (upload an issued chain instead)",
		    k.alias, k.type);
		goto out;
	}
	const unsigned char *sp = v.spki;
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	int ok = (pub = d2i_PUBKEY(NULL, &sp, (long)v.spki_len)) != NULL &&
	    RAND_bytes(serial, sizeof(serial)) == 1;
	serial[0] &= 0x7f;
	ok = ok && (x = X509_new()) != NULL && X509_set_version(x, 2) &&
	    (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL &&
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) != NULL && X509_set_serialNumber(x, sn) &&
	    X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)(days * 86400)) && X509_set_pubkey(x, pub);
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	if (ok) {
		static const struct { int nid; const char *value; } exts[] = {
			{ NID_basic_constraints, "critical,CA:FALSE" },
			{ NID_key_usage, "critical,digitalSignature" },
			{ NID_ext_key_usage, "codeSigning" },
			{ NID_subject_key_identifier, "hash" },
		};
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		for (size_t i = 0; ok && i < sizeof(exts) / sizeof(exts[0]); i++) {
			X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].value);
			ok = e != NULL && X509_add_ext(x, e, -1);
			X509_EXTENSION_free(e);
		}
	}
	if (!ok || sign_cert(&sg, k.alg, x) != SG_OK || (pem = pem_of(write_x509, x)) == NULL) {
		api_error(req, resp, SG_ERR_CRYPTO, "cannot build the certificate");
		goto out;
	}
	if ((r = s->ops->key_version_set_cert(s, req->tenant.id, k.id, v.version, pem)) != SG_OK) {
		api_error(req, resp, r, "cannot store the certificate");
		goto out;
	}
	api_audit(req, "key.certificate_self_signed", k.id, json_pack("{s:i,s:s,s:I}", "version", v.version,
	    "subject", subject, "days", (json_int_t)days));
	api_json(resp, 201, json_pack("{s:s,s:i,s:s}", "key_id", k.id, "version", v.version,
	    "certificate_pem", pem));
out:
	free(pem);
	X509_free(x);
	EVP_PKEY_free(pub);
	X509_NAME_free(name);
	x509_signer_free(&sg);
	sg_key_version_clear(&v);
	json_decref(body);
}

/*
 * Check an uploaded chain: 1..CHAIN_MAX_CERTS PEM certificates, the first
 * holding exactly this SPKI, each signed by the next.  Returns the chain
 * re-encoded as clean PEM (malloc'd) or answers 400 and returns NULL.
 */
static char *
check_chain(api_req *req, api_resp *resp, const char *pem, const uint8_t *spki, size_t spki_len)
{
	BIO *in = BIO_new_mem_buf(pem, -1), *out = BIO_new(BIO_s_mem());
	X509 *chain[CHAIN_MAX_CERTS];
	size_t n = 0;
	char *result = NULL;
	X509 *x;
	while (in != NULL && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if (n == CHAIN_MAX_CERTS) {
			X509_free(x);
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "a chain has at most %d certificates", CHAIN_MAX_CERTS);
			goto out;
		}
		chain[n++] = x;
	}
	ERR_clear_error();
	if (n == 0) {
		api_error(req, resp, SG_ERR_BAD_ENCODING, "no PEM certificate found");
		goto out;
	}
	unsigned char *leafkey = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(chain[0]), &leafkey);
	int match = len > 0 && (size_t)len == spki_len && memcmp(leafkey, spki, spki_len) == 0;
	OPENSSL_free(leafkey);
	if (!match) {
		api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
		    "the first certificate does not carry this key version's public key");
		goto out;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		EVP_PKEY *issuer_key = X509_get0_pubkey(chain[i + 1]);
		if (X509_check_issued(chain[i + 1], chain[i]) != X509_V_OK || issuer_key == NULL ||
		    X509_verify(chain[i], issuer_key) != 1) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT,
			    "certificate %zu is not issued by certificate %zu: give the chain leaf first, then each issuer",
			    i + 1, i + 2);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		PEM_write_bio_X509(out, chain[i]);
	char *p;
	long plen = BIO_get_mem_data(out, &p);
	if (plen > 0 && (result = malloc((size_t)plen + 1)) != NULL) {
		memcpy(result, p, (size_t)plen);
		result[plen] = 0;
	}
out:
	for (size_t i = 0; i < n; i++)
		X509_free(chain[i]);
	BIO_free(in);
	BIO_free(out);
	return result;
}

void
api_keys_upload_cert(api_req *req, api_resp *resp)
{
	sg_store *s = req->svc->store;
	sg_key k;
	sg_key_version v;
	const char *pem = NULL;
	char *clean = NULL;
	json_t *body = NULL;
	int r;

	memset(&v, 0, sizeof(v));
	const char *ctype = api_header(req, "Content-Type");
	if (ctype != NULL && strncmp(ctype, "application/json", 16) == 0) {
		static const char *const known[] = { "certificate_chain_pem", NULL };
		if ((body = api_body_object(req, resp)) == NULL)
			return;
		if (api_fields_known(req, resp, body, known) ||
		    api_field_str(req, resp, body, "certificate_chain_pem", 1, SG_API_MAX_BODY, &pem))
			goto out;
	} else {
		pem = (const char *)req->body;
		if (req->body_len == 0 || strlen(pem) != req->body_len) {
			api_error(req, resp, SG_ERR_INVALID_ARGUMENT, "send the PEM chain as the body "
			    "(Content-Type: application/x-pem-file) or as JSON {\"certificate_chain_pem\": ...}");
			goto out;
		}
	}
	if (load_signing(req, resp, req->params[1], &k, &v, NULL))
		goto out;
	if ((clean = check_chain(req, resp, pem, v.spki, v.spki_len)) == NULL)
		goto out;
	if ((r = s->ops->key_version_set_cert(s, req->tenant.id, k.id, v.version, clean)) != SG_OK) {
		api_error(req, resp, r, "cannot store the certificate chain");
		goto out;
	}
	api_audit(req, "key.certificate_uploaded", k.id, json_pack("{s:i}", "version", v.version));
	api_json(resp, 200, json_pack("{s:s,s:i,s:s}", "key_id", k.id, "version", v.version,
	    "certificate_chain_pem", clean));
out:
	free(clean);
	sg_key_version_clear(&v);
	json_decref(body);
}
