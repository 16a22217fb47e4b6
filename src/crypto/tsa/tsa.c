/*
 * tsa.c - the RFC 3161 time-stamp authority (contract in sg_tsa.h).
 *
 * OpenSSL does the ASN.1: a TS_RESP_CTX is built per call (it keeps the
 * request being answered, so one cannot be shared between threads; building
 * it is cheap next to the signature), with our key, certificate, policy,
 * accepted hashes and accuracy, and a serial callback into the only shared
 * mutable state, the serial counter behind a mutex.
 *
 * A keystore key (the default in signetd) never reaches this process.
 * TS_RESP_CTX wants an EVP_PKEY and a certificate that matches it, so it
 * gets a stand-in made once at open: a throw-away key of the same family
 * and a copy of our certificate carrying the throw-away public key (same
 * subject, issuer and serial, so the TSA name and the SignerInfo's
 * issuerAndSerialNumber come out as ours).  Once OpenSSL has built the
 * token, the three things that depend on the stand-in are put right: the
 * stand-in certificate in the token is replaced by ours, the
 * ESSCertIDv2 attribute is made again over our certificate, and the DER of
 * the signed attributes (what PKCS7_SIGNER_INFO_sign signs) is signed
 * through the keystore, replacing the throw-away signature.  The
 * self-signed certificate of a keystore key is made the way
 * src/api/certs.c makes key certificates.
 *
 * Everything else here is the life cycle of the key and certificate and
 * the checks that keep a misconfigured TSA from starting at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "sg_keystore.h"
#include "sg_log.h"
#include "sg_secret.h"
#include "sg_tsa.h"
#include "sg_util.h"

/* Serial numbers reserved on disk per write of the serial file. */
#define SERIAL_BLOCK 1024u
/* Upper bound for key, certificate and chain files. */
#define MAX_PEM_FILE (1024u * 1024u)
/* 10 years, leap days included. */
#define SELF_SIGNED_DAYS 3653
/* Back-date the self-signed certificate a little for clients with slow clocks. */
#define SELF_SIGNED_BACKDATE_SECONDS 300

struct sg_tsa {
	EVP_PKEY *key;             /* ours, or a throw-away one beside a keystore key */
	sg_keystore *ks;           /* NULL unless the key is a keystore key */
	X509 *stand_in;            /* with ks: cert with key's public key, for TS_RESP_CTX */
	sg_key_ref ref;            /* the keystore key; its strings point into t */
	char ref_vid[SG_KEY_VERSION_ID_MAX];
	uint8_t *ref_handle;
	X509 *cert;
	STACK_OF(X509) *chain;     /* CA certificates after ours; may be empty */
	const EVP_MD *sign_md;     /* digest of the CMS signature */
	ASN1_OBJECT *policy;
	char *policy_txt;
	char *chain_pem;
	unsigned accuracy_ms;
	char *serial_path;
	int lock_fd;
	pthread_mutex_t serial_mu;
	uint64_t next_serial;      /* next number to hand out */
	uint64_t serial_limit;     /* first number not covered by the serial file */
	int (*serial_ext)(void *arg, uint64_t *out);  /* sg_tsa_config.serial_next */
	void *serial_ext_arg;
};

/* The message-imprint hashes we stamp; weaker ones are refused with badAlg. */
static const int accepted_hash_nids[] = {
	NID_sha256, NID_sha384, NID_sha512, NID_sha3_256, NID_sha3_384, NID_sha3_512,
};
#define N_ACCEPTED (sizeof(accepted_hash_nids) / sizeof(accepted_hash_nids[0]))

/* State of one TS_RESP_CTX use, shared with the serial callback. */
struct tsa_call {
	sg_tsa *tsa;
	int err;   /* set when the serial callback failed */
};

/* ---- errors ---- */

/* Log (as errors) and clear this thread's OpenSSL error queue. */
static void
log_openssl(const char *what)
{
	unsigned long e;
	char buf[256];
	int any = 0;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		sg_error("tsa: %s: %s", what, buf);
		any = 1;
	}
	if (!any)
		sg_error("tsa: %s", what);
}

/* ---- files ---- */

static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Make a rename in the directory holding path durable. */
static int
fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int fd, r = SG_OK;

	if (slash == NULL)
		sg_strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		sg_strlcpy(dir, "/", sizeof(dir));
	else if ((size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = 0;
	} else
		return SG_ERR_INVALID_ARGUMENT;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return SG_ERR_IO;
	if (fsync(fd) != 0)
		r = SG_ERR_IO;
	close(fd);
	return r;
}

static int
file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Refuse to prompt for a passphrase: keys must be stored unencrypted. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * Read an unencrypted PEM private key.  A key readable by group or others is
 * refused when strict (the one we generated, like master.key) and only
 * warned about otherwise (an operator's file may be shared with a group).
 */
static int
load_key(const char *path, int strict, EVP_PKEY **out)
{
	uint8_t *pem = NULL;
	size_t n = 0;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	struct stat st;
	int r;

	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
		if (strict) {
			sg_error("tsa: key file %s is accessible to group or others (mode %03o); "
			    "refusing to use it (chmod 600 it)", path, (unsigned)(st.st_mode & 0777));
			return SG_ERR_PERMISSION_DENIED;
		}
		sg_warn("tsa: key file %s is accessible to group or others (mode %03o); "
		    "it should be 0600", path, (unsigned)(st.st_mode & 0777));
	}
	if ((r = sg_read_file(path, MAX_PEM_FILE, &pem, &n)) != SG_OK) {
		sg_error("tsa: cannot read key %s: %s", path, sg_err_str(r));
		return r;
	}
	r = SG_ERR_CRYPTO;
	if (n > (size_t)INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)n)) == NULL)
		goto out;
	if ((key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL) {
		ERR_clear_error();
		sg_error("tsa: %s holds no unencrypted PEM private key", path);
		r = SG_ERR_INVALID_ARGUMENT;
		goto out;
	}
	*out = key;
	r = SG_OK;
out:
	BIO_free(bio);
	sg_free_secret(pem, n);
	return r;
}

/* All certificates of a PEM file, in order; at least one. */
static int
load_certs(const char *path, STACK_OF(X509) **out)
{
	uint8_t *pem = NULL;
	size_t n = 0;
	BIO *bio = NULL;
	STACK_OF(X509) *certs = NULL;
	X509 *x = NULL;
	int r;

	if ((r = sg_read_file(path, MAX_PEM_FILE, &pem, &n)) != SG_OK) {
		sg_error("tsa: cannot read certificate file %s: %s", path, sg_err_str(r));
		return r;
	}
	r = SG_ERR_NOMEM;
	if ((certs = sk_X509_new_null()) == NULL ||
	    (bio = BIO_new_mem_buf(pem, (int)n)) == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(certs, x))
			goto out;
		x = NULL;
	}
	ERR_clear_error();   /* the end of the file reads as "no start line" */
	if (sk_X509_num(certs) == 0) {
		sg_error("tsa: %s holds no PEM certificate", path);
		r = SG_ERR_INVALID_ARGUMENT;
		goto out;
	}
	*out = certs;
	certs = NULL;
	r = SG_OK;
out:
	X509_free(x);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	free(pem);
	return r;
}

/* PEM of x and then of every certificate of chain, NUL-terminated, malloc'd. */
static char *
chain_to_pem(X509 *x, STACK_OF(X509) *chain)
{
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem = NULL;
	char *s = NULL;
	int ok;

	if (bio == NULL)
		return NULL;
	ok = PEM_write_bio_X509(bio, x);
	for (int i = 0; ok && i < sk_X509_num(chain); i++)
		ok = PEM_write_bio_X509(bio, sk_X509_value(chain, i));
	if (ok && BIO_get_mem_ptr(bio, &mem) == 1 && (s = malloc(mem->length + 1)) != NULL) {
		memcpy(s, mem->data, mem->length);
		s[mem->length] = 0;
	}
	BIO_free(bio);
	return s;
}

/* ---- signatures through a keystore ---- */

static sg_hash_alg
hash_of_md(const EVP_MD *md)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha256: return SG_HASH_SHA256;
	case NID_sha384: return SG_HASH_SHA384;
	case NID_sha512: return SG_HASH_SHA512;
	default: return SG_HASH_NONE;
	}
}

static int
is_rsa(sg_key_alg alg)
{
	return alg == SG_KEY_RSA_2048 || alg == SG_KEY_RSA_3072 || alg == SG_KEY_RSA_4096;
}

static int
is_ec(sg_key_alg alg)
{
	return alg == SG_KEY_EC_P256 || alg == SG_KEY_EC_P384 || alg == SG_KEY_EC_P521;
}

/* The digest of the CMS signature for a key: as strong as the curve, SHA-256 for RSA. */
static const EVP_MD *
sign_md_for(int base_id, int bits)
{
	if (base_id == EVP_PKEY_EC && bits > 384)
		return EVP_sha512();
	if (base_id == EVP_PKEY_EC && bits > 256)
		return EVP_sha384();
	return EVP_sha256();
}

/*
 * Have the keystore sign data hashed with md: RSA PKCS#1 v1.5, or ECDSA
 * with a DER signature, as X.509 and CMS want them.  *sig is malloc'd.
 */
static int
keystore_sign_data(sg_keystore *ks, const sg_key_ref *ref, const EVP_MD *md,
    const uint8_t *data, size_t len, uint8_t **sig, size_t *siglen)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	sg_sign_params p = { .pss_salt_len = -1 };
	int r;

	p.hash = hash_of_md(md);
	p.scheme = is_rsa(ref->alg) ? SG_SCHEME_RSA_PKCS1 : SG_SCHEME_ECDSA;
	p.format = is_rsa(ref->alg) ? SG_FORMAT_DEFAULT : SG_FORMAT_DER;
	if (p.hash == SG_HASH_NONE || EVP_Digest(data, len, digest, &dlen, md, NULL) != 1)
		return SG_ERR_CRYPTO;
	if ((r = sg_sign_params_check(ref->alg, &p)) != SG_OK)
		return r;
	return sg_keystore_sign(ks, ref, &p, digest, dlen, sig, siglen);
}

/* A throw-away key of alg's family: it only fills in algorithm identifiers. */
static EVP_PKEY *
throwaway_key(sg_key_alg alg)
{
	if (is_rsa(alg))
		return EVP_RSA_gen(2048);
	if (alg == SG_KEY_EC_P384)
		return EVP_EC_gen("P-384");
	if (alg == SG_KEY_EC_P521)
		return EVP_EC_gen("P-521");
	return EVP_EC_gen("P-256");
}

/*
 * The ESSCertIDv2 attribute over our certificate, replacing the one
 * TS_RESP_CTX made over the stand-in: SHA-256, no issuerSerial, as
 * TS_RESP_CTX_set_ess_cert_id_digest(EVP_sha256()) makes it.
 */
static int
put_ess_cert_id(sg_tsa *t, PKCS7_SIGNER_INFO *si)
{
	ESS_SIGNING_CERT_V2 *sc = NULL;
	ASN1_STRING *seq = NULL;
	unsigned char *der = NULL;
	int len, r = SG_ERR_CRYPTO;

	if (PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificateV2) == NULL) {
		sg_error("tsa: the token has no ESSCertIDv2 attribute to put right");
		return SG_ERR_INTERNAL;
	}
	if ((sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), t->cert, NULL, 0)) == NULL ||
	    (len = i2d_ESS_SIGNING_CERT_V2(sc, &der)) <= 0 ||
	    (seq = ASN1_STRING_new()) == NULL || ASN1_STRING_set(seq, der, len) != 1)
		goto out;
	/* Replaces the attribute of the same type; owns seq on success. */
	if (PKCS7_add_signed_attribute(si, NID_id_smime_aa_signingCertificateV2,
	    V_ASN1_SEQUENCE, seq) != 1)
		goto out;
	seq = NULL;
	r = SG_OK;
out:
	ASN1_STRING_free(seq);
	OPENSSL_free(der);
	ESS_SIGNING_CERT_V2_free(sc);
	return r;
}

/*
 * Make the token p7, built by OpenSSL with the stand-in, ours: our
 * certificate in place of the stand-in's (when certReq put it there), the
 * ESSCertIDv2 over it, and the keystore's signature over the signed
 * attributes, whose DER as a SET is exactly what OpenSSL's
 * PKCS7_SIGNER_INFO_sign hands to EVP_DigestSign.
 */
static int
keystore_resign_token(sg_tsa *t, PKCS7 *p7)
{
	STACK_OF(PKCS7_SIGNER_INFO) *infos = PKCS7_get_signer_info(p7);
	PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_num(infos) == 1 ?
	    sk_PKCS7_SIGNER_INFO_value(infos, 0) : NULL;
	STACK_OF(X509) *certs = PKCS7_type_is_signed(p7) ? p7->d.sign->cert : NULL;
	unsigned char *attrs = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int alen, r;

	if (si == NULL || si->auth_attr == NULL || si->enc_digest == NULL) {
		sg_error("tsa: the token has no signer with signed attributes");
		return SG_ERR_INTERNAL;
	}
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		if (X509_cmp(c, t->stand_in) != 0)
			continue;
		if (X509_up_ref(t->cert) != 1)
			return SG_ERR_CRYPTO;
		(void)sk_X509_set(certs, i, t->cert);
		X509_free(c);
	}
	if ((r = put_ess_cert_id(t, si)) != SG_OK)
		return r;
	alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &attrs, ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
	if (alen <= 0)
		return SG_ERR_CRYPTO;
	r = keystore_sign_data(t->ks, &t->ref, t->sign_md, attrs, (size_t)alen, &sig, &siglen);
	OPENSSL_free(attrs);
	if (r != SG_OK) {
		sg_error("tsa: the keystore could not sign the token: %s", sg_err_str(r));
		return r;
	}
	if (siglen > INT32_MAX || ASN1_STRING_set(si->enc_digest, sig, (int)siglen) != 1)
		r = SG_ERR_NOMEM;
	free(sig);
	return r;
}

/* ---- the self-signed certificate ---- */

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* Replace the signature of x (signed by a throw-away key) by the keystore's over the TBS. */
static int
keystore_sign_cert(X509 *x, sg_keystore *ks, const sg_key_ref *ref)
{
	unsigned char *tbs = NULL;
	const ASN1_BIT_STRING *cur = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int len, r;

	if ((len = i2d_re_X509_tbs(x, &tbs)) <= 0)
		return SG_ERR_CRYPTO;
	r = keystore_sign_data(ks, ref, EVP_sha256(), tbs, (size_t)len, &sig, &siglen);
	OPENSSL_free(tbs);
	if (r != SG_OK) {
		sg_error("tsa: the keystore could not sign the TSA certificate: %s", sg_err_str(r));
		return r;
	}
	/* OpenSSL 3.0 hands out only a const pointer to the signature inside x. */
	X509_get0_signature(&cur, NULL, x);
	r = siglen <= INT32_MAX && ASN1_STRING_set((ASN1_BIT_STRING *)cur, sig, (int)siglen) ?
	    SG_OK : SG_ERR_NOMEM;
	((ASN1_BIT_STRING *)cur)->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	((ASN1_BIT_STRING *)cur)->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	free(sig);
	return r;
}

/*
 * The self-signed TSA certificate for the public key pub.  It is signed by
 * signer, or, with ks set, signed by signer first (for the algorithm
 * identifiers) and then by the keystore key ref, whose signature replaces
 * signer's.
 */
static int
self_signed_cert(EVP_PKEY *pub, EVP_PKEY *signer, sg_keystore *ks, const sg_key_ref *ref,
    X509 **out)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *serial = BN_new();
	uint8_t rnd[16];
	int r = SG_ERR_CRYPTO;

	if (x == NULL || name == NULL || serial == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	/* A random positive 127-bit serial, as CAs are told to use (CA/B BR 7.1). */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	rnd[0] = (uint8_t)((rnd[0] & 0x7f) | 0x40);
	if (BN_bin2bn(rnd, sizeof(rnd), serial) == NULL ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -SELF_SIGNED_BACKDATE_SECONDS) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), SELF_SIGNED_DAYS, 0, NULL) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)"Signet TSA", -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, pub) != 1)
		goto out;
	/* RFC 3161 2.3: the only EKU is timeStamping and it is critical. */
	if (!add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, NID_ext_key_usage, "critical,timeStamping") ||
	    !add_ext(x, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, NID_authority_key_identifier, "keyid:always"))
		goto out;
	if (X509_sign(x, signer, EVP_sha256()) <= 0)
		goto out;
	if (ks != NULL && (r = keystore_sign_cert(x, ks, ref)) != SG_OK)
		goto out;
	*out = x;
	x = NULL;
	r = SG_OK;
out:
	if (r == SG_ERR_CRYPTO)
		log_openssl("cannot build the self-signed TSA certificate");
	X509_free(x);
	X509_NAME_free(name);
	BN_free(serial);
	return r;
}

static int
write_cert(const char *path, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem = NULL;
	int r = SG_ERR_CRYPTO;

	if (bio != NULL && PEM_write_bio_X509(bio, x) == 1 &&
	    BIO_get_mem_ptr(bio, &mem) == 1)
		r = sg_write_file(path, mem->data, mem->length, 0644);
	BIO_free(bio);
	return r;
}

/* ---- checks of a TSA certificate ---- */

/*
 * Everything a relying party's verifier will demand of the certificate
 * (RFC 3161 2.3 and OpenSSL's timestamp-signing purpose), checked before the
 * first token rather than discovered by clients; each failure says why.
 */
static int
check_tsa_cert(X509 *cert, EVP_PKEY *key, const char *path)
{
	int crit = -1, r = SG_ERR_INVALID_ARGUMENT;
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	int base = EVP_PKEY_get_base_id(key);

	if (eku == NULL) {
		sg_error("tsa: certificate %s has no extendedKeyUsage; a TSA certificate "
		    "needs a critical extendedKeyUsage of timeStamping (RFC 3161 2.3)", path);
		goto out;
	}
	if (crit != 1) {
		sg_error("tsa: the extendedKeyUsage of certificate %s is not critical; "
		    "RFC 3161 2.3 requires it to be", path);
		goto out;
	}
	if (sk_ASN1_OBJECT_num(eku) != 1 ||
	    OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) != NID_time_stamp) {
		sg_error("tsa: the extendedKeyUsage of certificate %s must be timeStamping "
		    "and nothing else (RFC 3161 2.3)", path);
		goto out;
	}
	if (X509_check_purpose(cert, X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
		sg_error("tsa: certificate %s is not fit for time stamping: its keyUsage "
		    "must allow digitalSignature or nonRepudiation and nothing else", path);
		goto out;
	}
	if (X509_check_private_key(cert, key) != 1) {
		sg_error("tsa: certificate %s does not belong to the configured key", path);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		sg_error("tsa: certificate %s has expired; install a new one (docs/tsa.md "
		    "says how to replace a generated one)", path);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
		sg_error("tsa: certificate %s is not valid yet", path);
		goto out;
	}
	if (base != EVP_PKEY_EC && base != EVP_PKEY_RSA) {
		sg_error("tsa: the key of %s is neither RSA nor EC; tokens need one of them", path);
		r = SG_ERR_UNSUPPORTED_ALGORITHM;
		goto out;
	}
	if (base == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) < 2048) {
		sg_error("tsa: the RSA key of %s has %d bits; at least 2048 are required",
		    path, EVP_PKEY_get_bits(key));
		goto out;
	}
	r = SG_OK;
out:
	EXTENDED_KEY_USAGE_free(eku);
	ERR_clear_error();
	return r;
}

/* ---- serial numbers ---- */

/* With serial_mu held: reserve the next block on disk before using it. */
static int
serial_reserve_locked(sg_tsa *t)
{
	uint64_t limit;
	char text[32];
	int n, r;

	if (t->next_serial > (uint64_t)INT64_MAX - SERIAL_BLOCK) {
		sg_error("tsa: serial numbers exhausted in %s", t->serial_path);
		return SG_ERR_INTERNAL;
	}
	limit = t->next_serial + SERIAL_BLOCK;
	n = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)limit);
	if ((r = sg_write_file(t->serial_path, text, (size_t)n, 0600)) != SG_OK ||
	    (r = fsync_parent(t->serial_path)) != SG_OK) {
		sg_error("tsa: cannot reserve serial numbers in %s: %s (%s)", t->serial_path,
		    sg_err_str(r), strerror(errno));
		return r;
	}
	t->serial_limit = limit;
	return SG_OK;
}

static int
serial_next(sg_tsa *t, uint64_t *out)
{
	int r = SG_OK;

	if (t->serial_ext != NULL) {
		uint64_t v = 0;
		if ((r = t->serial_ext(t->serial_ext_arg, &v)) == SG_OK && v == 0)
			r = SG_ERR_INTERNAL;
		if (r == SG_OK)
			*out = v;
		return r;
	}
	pthread_mutex_lock(&t->serial_mu);
	if (t->next_serial >= t->serial_limit)
		r = serial_reserve_locked(t);
	if (r == SG_OK)
		*out = t->next_serial++;
	pthread_mutex_unlock(&t->serial_mu);
	return r;
}

/* Take the lock, read the stored bound, and reserve the first block. */
static int
serial_open(sg_tsa *t)
{
	char *lock_path = NULL;
	uint8_t *text = NULL;
	size_t n = 0;
	int64_t stored = 0;
	uint64_t now_us;
	int r;

	if ((lock_path = malloc(strlen(t->serial_path) + sizeof(".lock"))) == NULL)
		return SG_ERR_NOMEM;
	snprintf(lock_path, strlen(t->serial_path) + sizeof(".lock"), "%s.lock", t->serial_path);
	t->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (t->lock_fd < 0) {
		sg_error("tsa: cannot open %s: %s", lock_path, strerror(errno));
		r = SG_ERR_IO;
		goto out;
	}
	if (flock(t->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? SG_ERR_CONFLICT : SG_ERR_IO;
		sg_error("tsa: serial file %s is in use by another time-stamp authority "
		    "(lock %s is held)", t->serial_path, lock_path);
		goto out;
	}

	r = sg_read_file(t->serial_path, 64, &text, &n);
	if (r == SG_ERR_NOT_FOUND) {
		stored = 0;
	} else if (r != SG_OK) {
		sg_error("tsa: cannot read serial file %s: %s", t->serial_path, sg_err_str(r));
		goto out;
	} else {
		if (n > 0 && text[n - 1] == '\n')
			text[n - 1] = 0;
		if (sg_parse_int64((const char *)text, 1, INT64_MAX, &stored) != SG_OK) {
			sg_error("tsa: serial file %s is corrupt; refusing to start rather than "
			    "risk repeating serial numbers (restore it, or remove it to "
			    "continue from the current time)", t->serial_path);
			r = SG_ERR_INVALID_ARGUMENT;
			goto out;
		}
	}
	now_us = (uint64_t)sg_now_ms() * 1000u;
	t->next_serial = (uint64_t)stored > now_us ? (uint64_t)stored : now_us;
	if (t->next_serial == 0)
		t->next_serial = 1;
	t->serial_limit = t->next_serial;
	pthread_mutex_lock(&t->serial_mu);
	r = serial_reserve_locked(t);
	pthread_mutex_unlock(&t->serial_mu);
out:
	free(text);
	free(lock_path);
	return r;
}

static ASN1_INTEGER *
serial_cb(TS_RESP_CTX *ctx, void *data)
{
	struct tsa_call *call = data;
	ASN1_INTEGER *serial = NULL;
	uint64_t s = 0;
	int r = serial_next(call->tsa, &s);

	if (r == SG_OK && ((serial = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(serial, s) != 1)) {
		ASN1_INTEGER_free(serial);
		serial = NULL;
		r = SG_ERR_NOMEM;
	}
	if (serial == NULL) {
		call->err = r;
		TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION,
		    "Error during serial number generation.");
		TS_RESP_CTX_add_failure_info(ctx, TS_INFO_SYSTEM_FAILURE);
	}
	return serial;
}

/* ---- responses ---- */

static int
hash_accepted(const EVP_MD *md)
{
	for (size_t i = 0; md != NULL && i < N_ACCEPTED; i++) {
		if (EVP_MD_get_type(md) == accepted_hash_nids[i])
			return 1;
	}
	return 0;
}

static int
new_resp_ctx(sg_tsa *t, struct tsa_call *call, TS_RESP_CTX **out)
{
	TS_RESP_CTX *ctx = TS_RESP_CTX_new();
	int ok;

	if (ctx == NULL)
		return SG_ERR_NOMEM;
	ok = TS_RESP_CTX_set_signer_cert(ctx, t->ks != NULL ? t->stand_in : t->cert) &&
	    TS_RESP_CTX_set_signer_key(ctx, t->key) &&
	    TS_RESP_CTX_set_signer_digest(ctx, t->sign_md) &&
	    TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()) &&
	    TS_RESP_CTX_set_def_policy(ctx, t->policy) &&
	    TS_RESP_CTX_set_accuracy(ctx, (int)(t->accuracy_ms / 1000),
		(int)(t->accuracy_ms % 1000), 0) &&
	    (sk_X509_num(t->chain) == 0 || TS_RESP_CTX_set_certs(ctx, t->chain));
	/* Sub-second accuracy is only meaningful with a sub-second genTime. */
	if (ok && t->accuracy_ms % 1000 != 0)
		ok = TS_RESP_CTX_set_clock_precision_digits(ctx, 3);
	for (size_t i = 0; ok && i < N_ACCEPTED; i++)
		ok = TS_RESP_CTX_add_md(ctx, EVP_get_digestbynid(accepted_hash_nids[i]));
	if (!ok) {
		log_openssl("cannot set up the response context");
		TS_RESP_CTX_free(ctx);
		return SG_ERR_CRYPTO;
	}
	TS_RESP_CTX_add_flags(ctx, TS_TSA_NAME);
	TS_RESP_CTX_set_serial_cb(ctx, serial_cb, call);
	*out = ctx;
	return SG_OK;
}

static int
failure_info_set(const TS_STATUS_INFO *si)
{
	const ASN1_BIT_STRING *fi = TS_STATUS_INFO_get0_failure_info(si);
	for (int bit = 0; fi != NULL && bit <= TS_INFO_SYSTEM_FAILURE; bit++) {
		if (ASN1_BIT_STRING_get_bit(fi, bit))
			return 1;
	}
	return 0;
}

/*
 * Answer query with a TS_RESP: granted, or a rejection that blames the
 * query.  A rejection without failInfo is OpenSSL failing on our side
 * (signing, allocation), which the caller hears as an error.
 */
static int
create_response(sg_tsa *t, const uint8_t *query, size_t qlen, TS_RESP **out)
{
	struct tsa_call call = { t, SG_OK };
	TS_RESP_CTX *ctx = NULL;
	TS_RESP *resp = NULL;
	BIO *in = NULL;
	int well_formed = 0, r;

	/*
	 * d2i_TS_REQ_bio would ignore bytes after the first DER object; a query
	 * with trailing bytes is not one TimeStampReq, so it goes to OpenSSL as
	 * an empty query, which earns the same badDataFormat rejection as any
	 * other malformed one.
	 */
	if (query != NULL && qlen > 0 && qlen <= SG_TSA_MAX_QUERY) {
		const unsigned char *p = query;
		TS_REQ *req = d2i_TS_REQ(NULL, &p, (long)qlen);
		well_formed = req != NULL && p == query + qlen;
		TS_REQ_free(req);
	}
	ERR_clear_error();
	if ((r = new_resp_ctx(t, &call, &ctx)) != SG_OK)
		return r;
	in = well_formed ? BIO_new_mem_buf(query, (int)qlen) : BIO_new_mem_buf("", 0);
	if (in == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	resp = TS_RESP_create_response(ctx, in);
	if (call.err != SG_OK) {
		r = call.err;
		goto out;
	}
	if (resp == NULL) {
		log_openssl("cannot create a time-stamp response");
		r = SG_ERR_CRYPTO;
		goto out;
	}
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if (status != TS_STATUS_GRANTED && !failure_info_set(si)) {
		log_openssl("time-stamp response generation failed");
		r = SG_ERR_CRYPTO;
		goto out;
	}
	if (status == TS_STATUS_GRANTED && t->ks != NULL &&
	    (r = keystore_resign_token(t, TS_RESP_get_token(resp))) != SG_OK)
		goto out;
	if (status != TS_STATUS_GRANTED) {
		const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
		const ASN1_UTF8STRING *first = sk_ASN1_UTF8STRING_value(text, 0);
		sg_debug("tsa: rejected a query: %.*s", first ? ASN1_STRING_length(first) : 0,
		    first ? (const char *)ASN1_STRING_get0_data(first) : "");
	}
	*out = resp;
	resp = NULL;
	r = SG_OK;
out:
	ERR_clear_error();
	TS_RESP_free(resp);
	BIO_free(in);
	TS_RESP_CTX_free(ctx);
	return r;
}

int
sg_tsa_respond(sg_tsa *t, const uint8_t *query, size_t qlen, uint8_t **reply, size_t *rlen)
{
	TS_RESP *resp = NULL;
	uint8_t *der = NULL, *p;
	int n, r;

	if (t == NULL || reply == NULL || rlen == NULL || (query == NULL && qlen > 0))
		return SG_ERR_INVALID_ARGUMENT;
	if ((r = create_response(t, query, qlen, &resp)) != SG_OK)
		return r;
	r = SG_ERR_CRYPTO;
	if ((n = i2d_TS_RESP(resp, NULL)) <= 0)
		goto out;
	if ((der = malloc((size_t)n)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	p = der;
	if (i2d_TS_RESP(resp, &p) != n)
		goto out;
	*reply = der;
	*rlen = (size_t)n;
	der = NULL;
	r = SG_OK;
out:
	ERR_clear_error();
	free(der);
	TS_RESP_free(resp);
	return r;
}

/* DER TimeStampReq v1 for imprint under md, certReq set, with nonce. */
static int
build_query(const EVP_MD *md, const uint8_t *imprint, size_t len,
    const ASN1_INTEGER *nonce, uint8_t **out, size_t *outlen)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	int nid = EVP_MD_get_type(md), n;
	/* SHA-2 identifiers carry NULL parameters by custom, SHA-3 none (RFC 5754, NIST). */
	int ptype = nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512 ?
	    V_ASN1_NULL : V_ASN1_UNDEF;
	uint8_t *der = NULL, *p;
	int r = SG_ERR_NOMEM;

	if (req == NULL || mi == NULL || alg == NULL)
		goto out;
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, NULL) != 1 ||
	    TS_MSG_IMPRINT_set_algo(mi, alg) != 1 ||
	    TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)imprint, (int)len) != 1 ||
	    TS_REQ_set_version(req, 1) != 1 ||
	    TS_REQ_set_msg_imprint(req, mi) != 1 ||
	    TS_REQ_set_nonce(req, nonce) != 1 ||
	    TS_REQ_set_cert_req(req, 1) != 1 ||
	    (n = i2d_TS_REQ(req, NULL)) <= 0 ||
	    (der = malloc((size_t)n)) == NULL)
		goto out;
	p = der;
	if (i2d_TS_REQ(req, &p) != n) {
		r = SG_ERR_CRYPTO;
		goto out;
	}
	*out = der;
	*outlen = (size_t)n;
	der = NULL;
	r = SG_OK;
out:
	free(der);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	return r;
}

int
sg_tsa_stamp(sg_tsa *t, const EVP_MD *md, const uint8_t *imprint, size_t len,
    uint8_t **token, size_t *toklen)
{
	ASN1_INTEGER *nonce = NULL;
	uint8_t *query = NULL, *der = NULL, *p;
	size_t qlen = 0;
	TS_RESP *resp = NULL;
	uint64_t nonce_value;
	int n, r;

	if (t == NULL || token == NULL || toklen == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (!hash_accepted(md))
		return SG_ERR_UNSUPPORTED_HASH;
	if (imprint == NULL || len != (size_t)EVP_MD_get_size(md))
		return SG_ERR_DIGEST_LENGTH;
	if (RAND_bytes((unsigned char *)&nonce_value, sizeof(nonce_value)) != 1)
		return SG_ERR_CRYPTO;
	if ((nonce = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(nonce, nonce_value >> 1) != 1) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	if ((r = build_query(md, imprint, len, nonce, &query, &qlen)) != SG_OK ||
	    (r = create_response(t, query, qlen, &resp)) != SG_OK)
		goto out;
	r = SG_ERR_INTERNAL;
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	PKCS7 *p7 = TS_RESP_get_token(resp);
	if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) != TS_STATUS_GRANTED ||
	    tst == NULL || p7 == NULL) {
		sg_error("tsa: our own query was not granted");
		goto out;
	}
	const ASN1_INTEGER *echoed = TS_TST_INFO_get_nonce(tst);
	if (echoed == NULL || ASN1_INTEGER_cmp(echoed, nonce) != 0) {
		sg_error("tsa: token does not echo our nonce");
		goto out;
	}
	r = SG_ERR_CRYPTO;
	if ((n = i2d_PKCS7(p7, NULL)) <= 0)
		goto out;
	if ((der = malloc((size_t)n)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	p = der;
	if (i2d_PKCS7(p7, &p) != n)
		goto out;
	*token = der;
	*toklen = (size_t)n;
	der = NULL;
	r = SG_OK;
out:
	ERR_clear_error();
	free(der);
	free(query);
	TS_RESP_free(resp);
	ASN1_INTEGER_free(nonce);
	return r;
}

/* ---- life cycle ---- */

/*
 * The clear key and certificate an older signetd generated in data_dir
 * (SG_TSA_KEY_FILE, SG_TSA_CERT_FILE); no key is generated here any more.
 */
static int
open_legacy(sg_tsa *t, const sg_tsa_config *cfg)
{
	char *key_path = path_join(cfg->data_dir, SG_TSA_KEY_FILE);
	char *cert_path = path_join(cfg->data_dir, SG_TSA_CERT_FILE);
	STACK_OF(X509) *certs = NULL;
	int r = SG_ERR_NOMEM;

	if (key_path == NULL || cert_path == NULL)
		goto out;
	if (!file_exists(key_path)) {
		sg_error("tsa: no TSA key: %s does not exist and no keystore key or issued "
		    "certificate is configured", key_path);
		r = SG_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = load_key(key_path, 1, &t->key)) != SG_OK)
		goto out;
	if (!file_exists(cert_path)) {
		if ((r = self_signed_cert(t->key, t->key, NULL, NULL, &t->cert)) != SG_OK)
			goto out;
		if ((r = write_cert(cert_path, t->cert)) != SG_OK ||
		    (r = fsync_parent(cert_path)) != SG_OK) {
			sg_error("tsa: cannot write %s: %s", cert_path, sg_err_str(r));
			goto out;
		}
		sg_info("tsa: created self-signed certificate %s", cert_path);
	} else {
		if ((r = load_certs(cert_path, &certs)) != SG_OK)
			goto out;
		t->cert = sk_X509_shift(certs);
	}
	r = check_tsa_cert(t->cert, t->key, cert_path);
out:
	sk_X509_pop_free(certs, X509_free);
	free(key_path);
	free(cert_path);
	return r;
}

/*
 * Prove that the keystore key is the certificate's: one signature over
 * random bytes, made by the keystore, must verify with the certificate's
 * public key.  This also finds a keystore that cannot sign (a token that is
 * away, a master key that does not open the blob) before the first query.
 */
static int
check_keystore_key(sg_tsa *t)
{
	uint8_t msg[32], *sig = NULL;
	size_t siglen = 0;
	EVP_MD_CTX *mctx = NULL;
	int r;

	if (RAND_bytes(msg, sizeof(msg)) != 1)
		return SG_ERR_CRYPTO;
	r = keystore_sign_data(t->ks, &t->ref, t->sign_md, msg, sizeof(msg), &sig, &siglen);
	if (r != SG_OK) {
		sg_error("tsa: the keystore cannot sign with the TSA key (%s): %s", t->ref_vid,
		    sg_err_str(r));
		return r;
	}
	r = SG_ERR_INVALID_ARGUMENT;
	if ((mctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(mctx, NULL, t->sign_md, NULL, X509_get0_pubkey(t->cert)) == 1 &&
	    EVP_DigestVerify(mctx, sig, siglen, msg, sizeof(msg)) == 1)
		r = SG_OK;
	else
		sg_error("tsa: the TSA certificate does not belong to the keystore key %s",
		    t->ref_vid);
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	free(sig);
	return r;
}

/* Write the certificate to data_dir for operators when it is missing or another. */
static int
publish_cert(const sg_tsa_config *cfg, X509 *cert)
{
	char *path = path_join(cfg->data_dir, SG_TSA_CERT_FILE);
	STACK_OF(X509) *certs = NULL;
	int r = SG_ERR_NOMEM, exists;

	if (path == NULL)
		return r;
	exists = file_exists(path);
	if (exists && load_certs(path, &certs) == SG_OK &&
	    X509_cmp(sk_X509_value(certs, 0), cert) == 0) {
		r = SG_OK;
		goto out;
	}
	if ((r = write_cert(path, cert)) != SG_OK || (r = fsync_parent(path)) != SG_OK) {
		sg_error("tsa: cannot write %s: %s", path, sg_err_str(r));
		goto out;
	}
	if (exists)
		sg_warn("tsa: %s held another certificate; it now holds the certificate of the "
		    "TSA key in the store", path);
out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	free(path);
	return r;
}

/* A keystore key with its certificate (cfg->keystore). */
static int
open_keystore(sg_tsa *t, const sg_tsa_config *cfg)
{
	const sg_key_ref *k = &cfg->keystore_key;
	BIO *bio = NULL;
	int r = SG_ERR_INVALID_ARGUMENT;

	if (!is_rsa(k->alg) && !is_ec(k->alg)) {
		sg_error("tsa: a TSA key must be RSA or EC, not %s", sg_key_alg_name(k->alg));
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	}
	if (k->handle == NULL || k->handle_len == 0 || cfg->keystore_cert_pem == NULL) {
		sg_error("tsa: the keystore key needs its handle and its certificate");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((t->ref_handle = malloc(k->handle_len)) == NULL)
		return SG_ERR_NOMEM;
	memcpy(t->ref_handle, k->handle, k->handle_len);
	sg_strlcpy(t->ref_vid, k->version_id != NULL ? k->version_id : SG_TSA_KEY_VERSION_ID,
	    sizeof(t->ref_vid));
	t->ref.version_id = t->ref_vid;
	t->ref.alg = k->alg;
	t->ref.handle = t->ref_handle;
	t->ref.handle_len = k->handle_len;
	t->ks = cfg->keystore;

	if ((bio = BIO_new_mem_buf(cfg->keystore_cert_pem, -1)) == NULL)
		return SG_ERR_NOMEM;
	t->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (t->cert == NULL) {
		ERR_clear_error();
		sg_error("tsa: the certificate of the TSA key is not a PEM certificate");
		return SG_ERR_INVALID_ARGUMENT;
	}
	/* The certificate's own public key stands in for the key in the checks. */
	if ((r = check_tsa_cert(t->cert, X509_get0_pubkey(t->cert), "of the TSA key")) != SG_OK)
		return r;
	t->sign_md = sign_md_for(EVP_PKEY_get_base_id(X509_get0_pubkey(t->cert)),
	    EVP_PKEY_get_bits(X509_get0_pubkey(t->cert)));
	if ((t->key = throwaway_key(k->alg)) == NULL || (t->stand_in = X509_dup(t->cert)) == NULL ||
	    X509_set_pubkey(t->stand_in, t->key) != 1 ||
	    X509_sign(t->stand_in, t->key, EVP_sha256()) <= 0) {
		log_openssl("cannot make the stand-in key and certificate");
		return SG_ERR_CRYPTO;
	}
	if ((r = check_keystore_key(t)) != SG_OK)
		return r;
	return publish_cert(cfg, t->cert);
}

int
sg_tsa_create_key(sg_keystore *ks, sg_tsa_key_type type, uint8_t **handle, size_t *handle_len,
    char **cert_pem)
{
	sg_key_ref ref = { SG_TSA_KEY_VERSION_ID, SG_KEY_NONE, NULL, 0 };
	uint8_t *h = NULL, *spki = NULL;
	size_t hlen = 0, spki_len = 0;
	const unsigned char *p;
	EVP_PKEY *pub = NULL, *throwaway = NULL;
	X509 *cert = NULL;
	char *pem = NULL;
	int r;

	if (ks == NULL || handle == NULL || handle_len == NULL || cert_pem == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (type == SG_TSA_KEY_EC_P256)
		ref.alg = SG_KEY_EC_P256;
	else if (type == SG_TSA_KEY_RSA_3072)
		ref.alg = SG_KEY_RSA_3072;
	else
		return SG_ERR_INVALID_ARGUMENT;
	if ((r = sg_keystore_generate(ks, SG_TSA_KEY_VERSION_ID, ref.alg, &h, &hlen, &spki,
	    &spki_len)) != SG_OK) {
		sg_error("tsa: the %s keystore cannot generate the TSA key: %s", ks->ops->storage,
		    sg_err_str(r));
		return r;
	}
	ref.handle = h;
	ref.handle_len = hlen;
	r = SG_ERR_CRYPTO;
	p = spki;
	if (spki_len > INT32_MAX || (pub = d2i_PUBKEY(NULL, &p, (long)spki_len)) == NULL ||
	    (throwaway = throwaway_key(ref.alg)) == NULL) {
		log_openssl("cannot read the public key of the new TSA key");
		goto out;
	}
	if ((r = self_signed_cert(pub, throwaway, ks, &ref, &cert)) != SG_OK)
		goto out;
	if ((r = check_tsa_cert(cert, pub, "of the new TSA key")) != SG_OK)
		goto out;
	if ((pem = chain_to_pem(cert, NULL)) == NULL) {
		r = SG_ERR_NOMEM;
		goto out;
	}
	*handle = h;
	*handle_len = hlen;
	*cert_pem = pem;
	h = NULL;
	r = SG_OK;
out:
	if (h != NULL && sg_keystore_destroy(ks, &ref) != SG_OK)
		sg_warn("tsa: could not destroy the unused key %s", SG_TSA_KEY_VERSION_ID);
	ERR_clear_error();
	free(h);
	free(spki);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(throwaway);
	X509_free(cert);
	return r;
}

/* An issued certificate (and possibly its chain after it) with its key. */
static int
open_issued(sg_tsa *t, const sg_tsa_config *cfg)
{
	STACK_OF(X509) *certs = NULL;
	int r;

	if ((r = load_key(cfg->key_path, 0, &t->key)) != SG_OK ||
	    (r = load_certs(cfg->cert_path, &certs)) != SG_OK)
		goto out;
	t->cert = sk_X509_shift(certs);
	/* A full-chain file: the CA certificates after ours are the chain. */
	while (sk_X509_num(certs) > 0) {
		if (!sk_X509_push(t->chain, sk_X509_value(certs, 0))) {
			r = SG_ERR_NOMEM;
			goto out;
		}
		(void)sk_X509_shift(certs);
	}
	r = check_tsa_cert(t->cert, t->key, cfg->cert_path);
out:
	sk_X509_pop_free(certs, X509_free);
	return r;
}

int
sg_tsa_open(const sg_tsa_config *cfg, sg_tsa **out)
{
	sg_tsa *t = NULL;
	STACK_OF(X509) *extra = NULL;
	const char *oid;
	int len, r = SG_ERR_INVALID_ARGUMENT;

	if (cfg == NULL || out == NULL || cfg->data_dir == NULL || *cfg->data_dir == 0) {
		sg_error("tsa: no data directory configured");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((cfg->cert_path == NULL) != (cfg->key_path == NULL)) {
		sg_error("tsa: an issued certificate needs both its certificate and its key");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (cfg->keystore != NULL && cfg->cert_path != NULL) {
		sg_error("tsa: either a keystore key or an issued certificate, not both");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SG_ERR_NOMEM;
	t->lock_fd = -1;
	pthread_mutex_init(&t->serial_mu, NULL);
	t->accuracy_ms = cfg->accuracy_ms != 0 ? cfg->accuracy_ms : SG_TSA_DEFAULT_ACCURACY_MS;

	oid = cfg->policy_oid != NULL ? cfg->policy_oid : SG_TSA_DEFAULT_POLICY;
	if ((t->policy = OBJ_txt2obj(oid, 1)) == NULL ||
	    (len = OBJ_obj2txt(NULL, 0, t->policy, 1)) <= 0) {
		ERR_clear_error();
		sg_error("tsa: policy \"%s\" is not a dotted object identifier", oid);
		r = SG_ERR_INVALID_ARGUMENT;
		goto fail;
	}
	if ((t->policy_txt = malloc((size_t)len + 1)) == NULL) {
		r = SG_ERR_NOMEM;
		goto fail;
	}
	OBJ_obj2txt(t->policy_txt, len + 1, t->policy, 1);

	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		sg_error("tsa: cannot create %s: %s", cfg->data_dir, strerror(errno));
		r = SG_ERR_IO;
		goto fail;
	}
	t->serial_path = cfg->serial_path != NULL ? strdup(cfg->serial_path) :
	    path_join(cfg->data_dir, SG_TSA_SERIAL_FILE);
	if (t->serial_path == NULL || (t->chain = sk_X509_new_null()) == NULL) {
		r = SG_ERR_NOMEM;
		goto fail;
	}
	/* The lock first: it also keeps two processes from generating keys at once. */
	t->serial_ext = cfg->serial_next;
	t->serial_ext_arg = cfg->serial_arg;
	if (t->serial_ext == NULL && (r = serial_open(t)) != SG_OK)
		goto fail;
	if (cfg->keystore != NULL)
		r = open_keystore(t, cfg);
	else if (cfg->cert_path != NULL)
		r = open_issued(t, cfg);
	else
		r = open_legacy(t, cfg);
	if (r != SG_OK)
		goto fail;
	if (cfg->chain_path != NULL) {
		if ((r = load_certs(cfg->chain_path, &extra)) != SG_OK)
			goto fail;
		while (sk_X509_num(extra) > 0) {
			if (!sk_X509_push(t->chain, sk_X509_value(extra, 0))) {
				r = SG_ERR_NOMEM;
				goto fail;
			}
			(void)sk_X509_shift(extra);
		}
		sk_X509_free(extra);
		extra = NULL;
	}
	if (t->ks == NULL)
		t->sign_md = sign_md_for(EVP_PKEY_get_base_id(t->key), EVP_PKEY_get_bits(t->key));
	if ((t->chain_pem = chain_to_pem(t->cert, t->chain)) == NULL) {
		r = SG_ERR_NOMEM;
		goto fail;
	}
	char from[48];
	if (t->serial_ext != NULL)
		sg_strlcpy(from, "the store's sequence", sizeof(from));
	else
		snprintf(from, sizeof(from), "%llu", (unsigned long long)t->next_serial);
	sg_info("tsa: ready; key %s, policy %s, accuracy %u ms, %d CA certificate(s), "
	    "serials from %s", t->ks != NULL ? t->ks->ops->storage : cfg->cert_path != NULL ?
	    "issued" : "clear file", t->policy_txt, t->accuracy_ms, sk_X509_num(t->chain), from);
	*out = t;
	return SG_OK;
fail:
	ERR_clear_error();
	sk_X509_pop_free(extra, X509_free);
	sg_tsa_close(t);
	return r;
}

const char *
sg_tsa_cert_chain_pem(const sg_tsa *t)
{
	return t->chain_pem;
}

const char *
sg_tsa_policy(const sg_tsa *t)
{
	return t->policy_txt;
}

void
sg_tsa_close(sg_tsa *t)
{
	if (t == NULL)
		return;
	EVP_PKEY_free(t->key);
	free(t->ref_handle);
	X509_free(t->stand_in);
	X509_free(t->cert);
	sk_X509_pop_free(t->chain, X509_free);
	ASN1_OBJECT_free(t->policy);
	free(t->policy_txt);
	free(t->chain_pem);
	free(t->serial_path);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	pthread_mutex_destroy(&t->serial_mu);
	sg_wipe(t, sizeof(*t));
	free(t);
}
