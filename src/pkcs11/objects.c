/*
 * objects.c - the token's objects, built from GET /v1/keys (contract in
 * sg_p11.h).
 *
 * Each object is a class and a flat list of attributes whose values are
 * computed once, when the list of keys is read: C_GetAttributeValue and
 * C_FindObjects then only copy and compare bytes.  Public parts come from
 * the version's SubjectPublicKeyInfo, certificates from its PEM chain; both
 * are parsed by OpenSSL.  The pairing of objects follows what the tools
 * expect (SPEC §5): the private key, the public key and the leaf
 * certificate share CKA_LABEL (the alias) and CKA_ID (the UUID's 16 bytes);
 * a CA certificate appears once however many keys it issued, with a label
 * from its subject and the SHA-1 of its DER as id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include "sg_p11.h"
#include "sg_b64.h"

/* Attributes per object, at most; the lists below stay well under it. */
#define SG_P11_MAX_ATTRS 48

static int
sg_p11_attr_add(sg_p11_object *o, CK_ATTRIBUTE_TYPE type, const void *value, size_t len)
{
	void *copy = NULL;

	if (o->attrs == NULL && (o->attrs = calloc(SG_P11_MAX_ATTRS, sizeof(*o->attrs))) == NULL)
		return SG_ERR_NOMEM;
	if (o->n_attrs == SG_P11_MAX_ATTRS)
		return SG_ERR_INTERNAL;
	if (len > 0) {
		if ((copy = malloc(len)) == NULL)
			return SG_ERR_NOMEM;
		memcpy(copy, value, len);
	}
	o->attrs[o->n_attrs].type = type;
	o->attrs[o->n_attrs].value = copy;
	o->attrs[o->n_attrs].len = (CK_ULONG)len;
	o->n_attrs++;
	return SG_OK;
}

static int
sg_p11_attr_bool(sg_p11_object *o, CK_ATTRIBUTE_TYPE type, int v)
{
	CK_BBOOL b = v ? CK_TRUE : CK_FALSE;

	return sg_p11_attr_add(o, type, &b, sizeof(b));
}

static int
sg_p11_attr_ulong(sg_p11_object *o, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	return sg_p11_attr_add(o, type, &v, sizeof(v));
}

const sg_p11_attr *
sg_p11_object_attr(const sg_p11_object *o, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < o->n_attrs; i++) {
		if (o->attrs[i].type == type)
			return &o->attrs[i];
	}
	return NULL;
}

int
sg_p11_object_matches(const sg_p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++) {
		const sg_p11_attr *a = sg_p11_object_attr(o, tmpl[i].type);
		if (a == NULL || a->len != tmpl[i].ulValueLen ||
		    (a->len > 0 && (tmpl[i].pValue == NULL ||
		    memcmp(a->value, tmpl[i].pValue, a->len) != 0)))
			return 0;
	}
	return 1;
}

static void
sg_p11_object_clear(sg_p11_object *o)
{
	for (size_t i = 0; i < o->n_attrs; i++)
		free(o->attrs[i].value);
	free(o->attrs);
	memset(o, 0, sizeof(*o));
}

void
sg_p11_objects_free(sg_p11_objects *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n_objs; i++)
		sg_p11_object_clear(&o->objs[i]);
	free(o->objs);
	free(o->keys);
	memset(o, 0, sizeof(*o));
}

/* A new, empty object at the end of the list; NULL when out of memory. */
static sg_p11_object *
sg_p11_object_new(sg_p11_objects *o, CK_OBJECT_CLASS cls, size_t key)
{
	sg_p11_object *grown = realloc(o->objs, (o->n_objs + 1) * sizeof(*o->objs));

	if (grown == NULL)
		return NULL;
	o->objs = grown;
	memset(&o->objs[o->n_objs], 0, sizeof(o->objs[0]));
	o->objs[o->n_objs].cls = cls;
	o->objs[o->n_objs].key = key;
	return &o->objs[o->n_objs++];
}

/* DER OCTET STRING around n bytes (n < 65536) into out[n + 4]; its length. */
static size_t
sg_p11_der_octets(const uint8_t *p, size_t n, uint8_t *out)
{
	size_t h = 0;

	out[h++] = 0x04;
	if (n < 0x80) {
		out[h++] = (uint8_t)n;
	} else if (n < 0x100) {
		out[h++] = 0x81;
		out[h++] = (uint8_t)n;
	} else {
		out[h++] = 0x82;
		out[h++] = (uint8_t)(n >> 8);
		out[h++] = (uint8_t)n;
	}
	memcpy(out + h, p, n);
	return h + n;
}

/* The public parts of a key: what both key objects carry. */
typedef struct sg_p11_pub {
	uint8_t *spki;
	size_t spki_len;
	uint8_t modulus[512], exponent[16];
	size_t modulus_len, exponent_len;
	uint8_t params[16];
	size_t params_len;
	uint8_t point[160];
	size_t point_len;
} sg_p11_pub;

/* Read a BIGNUM parameter of pk big-endian into out (at most cap bytes). */
static int
sg_p11_bn_param(EVP_PKEY *pk, const char *name, uint8_t *out, size_t cap, size_t *len)
{
	BIGNUM *bn = NULL;
	int r = SG_ERR_CRYPTO;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) == 1 && (size_t)BN_num_bytes(bn) <= cap) {
		*len = (size_t)BN_bn2bin(bn, out);
		r = SG_OK;
	}
	BN_free(bn);
	return r;
}

static int
sg_p11_pub_parse(const char *pem, CK_KEY_TYPE kt, sg_p11_pub *pub)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = NULL;
	uint8_t *der = NULL;
	int r = SG_ERR_CRYPTO, n;

	memset(pub, 0, sizeof(*pub));
	if (bio == NULL || (pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((n = i2d_PUBKEY(pk, &der)) <= 0)
		goto out;
	if (kt == CKK_RSA) {
		if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
		    sg_p11_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, pub->modulus, sizeof(pub->modulus),
		    &pub->modulus_len) != SG_OK ||
		    sg_p11_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, pub->exponent,
		    sizeof(pub->exponent), &pub->exponent_len) != SG_OK)
			goto out;
	} else if (kt == CKK_EC) {
		char group[64];
		uint8_t point[140];
		size_t plen = 0;
		int nid;
		unsigned char *pp = pub->params;
		if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
		    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), NULL) != 1 ||
		    (nid = OBJ_sn2nid(group)) == NID_undef ||
		    i2d_ASN1_OBJECT(OBJ_nid2obj(nid), NULL) > (int)sizeof(pub->params) ||
		    EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
		    sizeof(point), &plen) != 1)
			goto out;
		pub->params_len = (size_t)i2d_ASN1_OBJECT(OBJ_nid2obj(nid), &pp);
		pub->point_len = sg_p11_der_octets(point, plen, pub->point);
	} else {
		/* CKA_EC_PARAMS of an Edwards key: the OID id-Ed25519 (RFC 8410). */
		static const uint8_t ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
		uint8_t raw[32];
		size_t rlen = sizeof(raw);
		if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519 ||
		    EVP_PKEY_get_raw_public_key(pk, raw, &rlen) != 1 || rlen != 32)
			goto out;
		memcpy(pub->params, ed25519_oid, sizeof(ed25519_oid));
		pub->params_len = sizeof(ed25519_oid);
		pub->point_len = sg_p11_der_octets(raw, rlen, pub->point);
	}
	pub->spki = der;
	pub->spki_len = (size_t)n;
	der = NULL;
	r = SG_OK;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

/* The 16 bytes of a textual UUID. */
static int
sg_p11_uuid_bytes(const char *s, uint8_t out[16])
{
	size_t o = 0;

	for (const char *p = s; *p != '\0'; p++) {
		int hi, lo;
		if (*p == '-')
			continue;
		if (o == 16 || p[1] == '\0')
			return SG_ERR_BAD_ENCODING;
		hi = OPENSSL_hexchar2int((unsigned char)p[0]);
		lo = OPENSSL_hexchar2int((unsigned char)p[1]);
		if (hi < 0 || lo < 0)
			return SG_ERR_BAD_ENCODING;
		out[o++] = (uint8_t)(hi << 4 | lo);
		p++;
	}
	return o == 16 ? SG_OK : SG_ERR_BAD_ENCODING;
}

/* Attributes every object of this token has. */
static int
sg_p11_common(sg_p11_object *o, int is_private, const char *label)
{
	int r;

	o->is_private = is_private;
	if ((r = sg_p11_attr_ulong(o, CKA_CLASS, o->cls)) != SG_OK ||
	    (r = sg_p11_attr_bool(o, CKA_TOKEN, 1)) != SG_OK ||
	    (r = sg_p11_attr_bool(o, CKA_PRIVATE, is_private)) != SG_OK ||
	    (r = sg_p11_attr_bool(o, CKA_MODIFIABLE, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(o, CKA_COPYABLE, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(o, CKA_DESTROYABLE, 0)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_LABEL, label, strlen(label))) != SG_OK)
		return r;
	return SG_OK;
}

/* The key attributes both key objects share. */
static int
sg_p11_key_attrs(sg_p11_object *o, CK_KEY_TYPE kt, const uint8_t id[16],
    const sg_p11_pub *pub, const uint8_t *subject, size_t subject_len)
{
	int r;

	if ((r = sg_p11_attr_ulong(o, CKA_KEY_TYPE, kt)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_ID, id, 16)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_SUBJECT, subject, subject_len)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_START_DATE, NULL, 0)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_END_DATE, NULL, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(o, CKA_DERIVE, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(o, CKA_LOCAL, 1)) != SG_OK ||
	    (r = sg_p11_attr_ulong(o, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_PUBLIC_KEY_INFO, pub->spki, pub->spki_len)) != SG_OK)
		return r;
	if (kt == CKK_RSA) {
		if ((r = sg_p11_attr_add(o, CKA_MODULUS, pub->modulus, pub->modulus_len)) != SG_OK ||
		    (r = sg_p11_attr_add(o, CKA_PUBLIC_EXPONENT, pub->exponent,
		    pub->exponent_len)) != SG_OK ||
		    (r = sg_p11_attr_ulong(o, CKA_MODULUS_BITS, pub->modulus_len * 8)) != SG_OK)
			return r;
	} else {
		if ((r = sg_p11_attr_add(o, CKA_EC_PARAMS, pub->params, pub->params_len)) != SG_OK ||
		    (r = sg_p11_attr_add(o, CKA_EC_POINT, pub->point, pub->point_len)) != SG_OK)
			return r;
	}
	return SG_OK;
}

/* X.509 attributes of a certificate object. */
static int
sg_p11_cert_attrs(sg_p11_object *o, X509 *x, const uint8_t *id, size_t id_len, int authority)
{
	uint8_t *subj = NULL, *iss = NULL, *ser = NULL, *der = NULL;
	int ns, ni, nr, nd, r = SG_ERR_CRYPTO;

	if ((ns = i2d_X509_NAME(X509_get_subject_name(x), &subj)) <= 0 ||
	    (ni = i2d_X509_NAME(X509_get_issuer_name(x), &iss)) <= 0 ||
	    (nr = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &ser)) <= 0 ||
	    (nd = i2d_X509(x, &der)) <= 0)
		goto out;
	if ((r = sg_p11_attr_ulong(o, CKA_CERTIFICATE_TYPE, CKC_X_509)) != SG_OK ||
	    (r = sg_p11_attr_bool(o, CKA_TRUSTED, 0)) != SG_OK ||
	    (r = sg_p11_attr_ulong(o, CKA_CERTIFICATE_CATEGORY, authority ? 2 : 1)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_ID, id, id_len)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_SUBJECT, subj, (size_t)ns)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_ISSUER, iss, (size_t)ni)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_SERIAL_NUMBER, ser, (size_t)nr)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_VALUE, der, (size_t)nd)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_START_DATE, NULL, 0)) != SG_OK ||
	    (r = sg_p11_attr_add(o, CKA_END_DATE, NULL, 0)) != SG_OK)
		goto out;
	r = SG_OK;
out:
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	OPENSSL_free(der);
	return r;
}

/* Add a CA certificate unless an equal one is already there. */
static int
sg_p11_add_ca(sg_p11_objects *o, X509 *x)
{
	uint8_t *der = NULL, id[SHA_DIGEST_LENGTH];
	char label[160], cn[128];
	sg_p11_object *obj;
	int n, r = SG_ERR_CRYPTO;

	if ((n = i2d_X509(x, &der)) <= 0)
		return SG_ERR_CRYPTO;
	for (size_t i = 0; i < o->n_objs; i++) {
		const sg_p11_attr *v;
		if (o->objs[i].cls != CKO_CERTIFICATE ||
		    (v = sg_p11_object_attr(&o->objs[i], CKA_VALUE)) == NULL)
			continue;
		if (v->len == (CK_ULONG)n && memcmp(v->value, der, (size_t)n) == 0) {
			r = SG_OK;
			goto out;
		}
	}
	SHA1(der, (size_t)n, id);
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
	    sizeof(cn)) > 0) {
		snprintf(label, sizeof(label), "%s", cn);
	} else {
		char hex[2 * SHA_DIGEST_LENGTH + 1];
		sg_hex_encode(id, 4, hex);
		snprintf(label, sizeof(label), "CA %s", hex);
	}
	r = SG_ERR_NOMEM;
	if ((obj = sg_p11_object_new(o, CKO_CERTIFICATE, (size_t)-1)) == NULL)
		goto out;
	if ((r = sg_p11_common(obj, 0, label)) != SG_OK ||
	    (r = sg_p11_cert_attrs(obj, x, id, sizeof(id), 1)) != SG_OK)
		goto out;
	r = SG_OK;
out:
	OPENSSL_free(der);
	return r;
}

/* Whether the configuration lets this key through. */
static int
sg_p11_key_wanted(const sg_p11_config *cfg, const char *alias, CK_KEY_TYPE kt, int has_cert)
{
	unsigned bit = kt == CKK_RSA ? SG_P11_KT_RSA : kt == CKK_EC ? SG_P11_KT_EC :
	    SG_P11_KT_ED25519;

	if ((cfg->key_types & bit) == 0 || (cfg->require_cert && !has_cert))
		return 0;
	if (cfg->aliases == NULL)
		return 1;
	for (size_t i = 0; i < cfg->n_aliases; i++) {
		if (strcmp(cfg->aliases[i], alias) == 0)
			return 1;
	}
	return 0;
}

/* The version object of the key's current version, or NULL. */
static const json_t *
sg_p11_current_version(const json_t *key)
{
	json_int_t cur = json_integer_value(json_object_get(key, "current_version"));
	const json_t *versions = json_object_get(key, "versions"), *v;
	size_t i;

	json_array_foreach(versions, i, v) {
		if (json_integer_value(json_object_get(v, "version")) == cur)
			return v;
	}
	return NULL;
}

/* Add the objects of one key; SG_ERR_BAD_ENCODING for a key to skip. */
static int
sg_p11_add_key(sg_p11_objects *o, const json_t *key, const sg_p11_config *cfg,
    int private_keys_private)
{
	const char *id_text = json_string_value(json_object_get(key, "id"));
	const char *alias = json_string_value(json_object_get(key, "alias"));
	const char *alg_name = json_string_value(json_object_get(key, "algorithm"));
	const json_t *ver = sg_p11_current_version(key);
	const char *pem = json_string_value(json_object_get(ver, "public_key_pem"));
	const char *chain = json_string_value(json_object_get(ver, "certificate_chain_pem"));
	const char *state = json_string_value(json_object_get(ver, "state"));
	STACK_OF(X509) *certs = NULL;
	X509 *x = NULL;
	BIO *bio = NULL;
	sg_p11_pub pub;
	sg_p11_key k;
	sg_p11_object *obj;
	uint8_t id[16], *subject = NULL;
	int subject_len = 0, r = SG_ERR_BAD_ENCODING;
	size_t kidx;

	memset(&pub, 0, sizeof(pub));
	memset(&k, 0, sizeof(k));
	if (id_text == NULL || alias == NULL || alg_name == NULL || pem == NULL ||
	    state == NULL || strcmp(state, "ACTIVE") != 0 || strlen(id_text) >= sizeof(k.id) ||
	    sg_p11_uuid_bytes(id_text, id) != SG_OK)
		return SG_ERR_BAD_ENCODING;
	k.alg = sg_key_alg_from_name(alg_name);
	switch (k.alg) {
	case SG_KEY_RSA_2048: case SG_KEY_RSA_3072: case SG_KEY_RSA_4096:
		k.key_type = CKK_RSA;
		k.bits = (CK_ULONG)sg_key_alg_bits(k.alg);
		k.sig_len = k.bits / 8;
		break;
	case SG_KEY_EC_P256: case SG_KEY_EC_P384: case SG_KEY_EC_P521:
		k.key_type = CKK_EC;
		k.bits = (CK_ULONG)sg_key_alg_bits(k.alg);
		k.sig_len = 2 * ((k.bits + 7) / 8);
		break;
	case SG_KEY_ED25519:
		k.key_type = CKK_EC_EDWARDS;
		k.bits = 255;
		k.sig_len = 64;
		break;
	default:
		/* ML-DSA and the composite have no key type in PKCS#11 2.40/3.0. */
		return SG_ERR_BAD_ENCODING;
	}
	snprintf(k.id, sizeof(k.id), "%s", id_text);
	if (!sg_p11_key_wanted(cfg, alias, k.key_type, chain != NULL && chain[0] != '\0'))
		return SG_ERR_BAD_ENCODING;
	if (sg_p11_pub_parse(pem, k.key_type, &pub) != SG_OK)
		return SG_ERR_BAD_ENCODING;
	if (chain != NULL && chain[0] != '\0') {
		if ((bio = BIO_new_mem_buf(chain, -1)) == NULL || (certs = sk_X509_new_null()) == NULL) {
			r = SG_ERR_NOMEM;
			goto out;
		}
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (!sk_X509_push(certs, x)) {
				r = SG_ERR_NOMEM;
				goto out;
			}
			x = NULL;
		}
		ERR_clear_error();
		if (sk_X509_num(certs) > 0 &&
		    (subject_len = i2d_X509_NAME(X509_get_subject_name(sk_X509_value(certs, 0)),
		    &subject)) <= 0) {
			r = SG_ERR_CRYPTO;
			goto out;
		}
	}

	r = SG_ERR_NOMEM;
	{
		sg_p11_key *grown = realloc(o->keys, (o->n_keys + 1) * sizeof(*o->keys));
		if (grown == NULL)
			goto out;
		o->keys = grown;
	}
	kidx = o->n_keys;
	o->keys[o->n_keys++] = k;

	if ((obj = sg_p11_object_new(o, CKO_PRIVATE_KEY, kidx)) == NULL)
		goto out;
	if ((r = sg_p11_common(obj, private_keys_private, alias)) != SG_OK ||
	    (r = sg_p11_key_attrs(obj, k.key_type, id, &pub, subject,
	    subject_len > 0 ? (size_t)subject_len : 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_SENSITIVE, 1)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_ALWAYS_SENSITIVE, 1)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_EXTRACTABLE, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_NEVER_EXTRACTABLE, 1)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_SIGN, 1)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_SIGN_RECOVER, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_DECRYPT, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_UNWRAP, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_WRAP_WITH_TRUSTED, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_ALWAYS_AUTHENTICATE, 0)) != SG_OK)
		goto out;

	r = SG_ERR_NOMEM;
	if ((obj = sg_p11_object_new(o, CKO_PUBLIC_KEY, kidx)) == NULL)
		goto out;
	if ((r = sg_p11_common(obj, 0, alias)) != SG_OK ||
	    (r = sg_p11_key_attrs(obj, k.key_type, id, &pub, subject,
	    subject_len > 0 ? (size_t)subject_len : 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_VERIFY, 1)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_VERIFY_RECOVER, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_ENCRYPT, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_WRAP, 0)) != SG_OK ||
	    (r = sg_p11_attr_bool(obj, CKA_TRUSTED, 0)) != SG_OK)
		goto out;

	for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
		if (i == 0) {
			r = SG_ERR_NOMEM;
			if ((obj = sg_p11_object_new(o, CKO_CERTIFICATE, kidx)) == NULL)
				goto out;
			if ((r = sg_p11_common(obj, 0, alias)) != SG_OK ||
			    (r = sg_p11_cert_attrs(obj, sk_X509_value(certs, 0), id, 16, 0)) != SG_OK)
				goto out;
		} else if ((r = sg_p11_add_ca(o, sk_X509_value(certs, i))) != SG_OK) {
			goto out;
		}
	}
	r = SG_OK;
out:
	OPENSSL_free(pub.spki);
	OPENSSL_free(subject);
	X509_free(x);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	return r;
}

int
sg_p11_objects_build(const json_t *keys_answer, const sg_p11_config *cfg,
    int private_keys_private, sg_p11_objects *out)
{
	const json_t *keys = json_object_get(keys_answer, "keys"), *key;
	sg_p11_objects o;
	size_t i;
	int r;

	memset(&o, 0, sizeof(o));
	if (!json_is_array(keys))
		return SG_ERR_BAD_ENCODING;
	json_array_foreach(keys, i, key) {
		/* A failure halfway leaves a partial key: start again without it. */
		size_t n_objs = o.n_objs, n_keys = o.n_keys;
		r = sg_p11_add_key(&o, key, cfg, private_keys_private);
		if (r == SG_ERR_NOMEM) {
			sg_p11_objects_free(&o);
			return r;
		}
		if (r != SG_OK) {
			while (o.n_objs > n_objs)
				sg_p11_object_clear(&o.objs[--o.n_objs]);
			o.n_keys = n_keys;
		}
	}
	*out = o;
	return SG_OK;
}
