/*
 * mech.c - the token's mechanisms and what each makes of its input
 * (contract in sg_p11.h).
 *
 * Every signature ends as one digest sent to POST /v1/sign, so a mechanism
 * is reduced to three things: which hash the digest was made with, which
 * Signet scheme signs it, and (for PSS) the salt length.  The hash-and-sign
 * mechanisms hash in module.c; the raw ones arrive here with the digest, or
 * for CKM_RSA_PKCS with a DigestInfo whose OID names the hash.
 */
#include <string.h>
#include "sg_p11.h"

static const sg_p11_mech sg_p11_mechs[] = {
	{ CKM_RSA_PKCS, CKK_RSA, SG_HASH_NONE, 0, 2048, 4096 },
	{ CKM_RSA_PKCS_PSS, CKK_RSA, SG_HASH_NONE, 1, 2048, 4096 },
	{ CKM_SHA256_RSA_PKCS, CKK_RSA, SG_HASH_SHA256, 0, 2048, 4096 },
	{ CKM_SHA384_RSA_PKCS, CKK_RSA, SG_HASH_SHA384, 0, 2048, 4096 },
	{ CKM_SHA512_RSA_PKCS, CKK_RSA, SG_HASH_SHA512, 0, 2048, 4096 },
	{ CKM_SHA256_RSA_PKCS_PSS, CKK_RSA, SG_HASH_SHA256, 1, 2048, 4096 },
	{ CKM_SHA384_RSA_PKCS_PSS, CKK_RSA, SG_HASH_SHA384, 1, 2048, 4096 },
	{ CKM_SHA512_RSA_PKCS_PSS, CKK_RSA, SG_HASH_SHA512, 1, 2048, 4096 },
	{ CKM_ECDSA, CKK_EC, SG_HASH_NONE, 0, 256, 521 },
	{ CKM_ECDSA_SHA256, CKK_EC, SG_HASH_SHA256, 0, 256, 521 },
	{ CKM_ECDSA_SHA384, CKK_EC, SG_HASH_SHA384, 0, 256, 521 },
	{ CKM_ECDSA_SHA512, CKK_EC, SG_HASH_SHA512, 0, 256, 521 },
	{ CKM_EDDSA, CKK_EC_EDWARDS, SG_HASH_NONE, 0, 255, 255 },
};

#define SG_P11_N_MECHS (sizeof(sg_p11_mechs) / sizeof(sg_p11_mechs[0]))

const sg_p11_mech *
sg_p11_mech_find(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < SG_P11_N_MECHS; i++) {
		if (sg_p11_mechs[i].type == type)
			return &sg_p11_mechs[i];
	}
	return NULL;
}

const sg_p11_mech *
sg_p11_mech_all(size_t *n)
{
	*n = SG_P11_N_MECHS;
	return sg_p11_mechs;
}

const char *
sg_p11_mech_scheme(const sg_p11_mech *m)
{
	switch (m->key_type) {
	case CKK_RSA: return m->pss ? "RSA-PSS" : "RSA-PKCS1";
	case CKK_EC: return "ECDSA";
	default: return "Ed25519";
	}
}

/* The hash a PKCS#11 digest mechanism / MGF1 names; SG_HASH_NONE for others. */
static sg_hash_alg
sg_p11_hash_of_mech(CK_MECHANISM_TYPE t)
{
	switch (t) {
	case CKM_SHA256: return SG_HASH_SHA256;
	case CKM_SHA384: return SG_HASH_SHA384;
	case CKM_SHA512: return SG_HASH_SHA512;
	default: return SG_HASH_NONE;
	}
}

static sg_hash_alg
sg_p11_hash_of_mgf(CK_RSA_PKCS_MGF_TYPE mgf)
{
	switch (mgf) {
	case CKG_MGF1_SHA256: return SG_HASH_SHA256;
	case CKG_MGF1_SHA384: return SG_HASH_SHA384;
	case CKG_MGF1_SHA512: return SG_HASH_SHA512;
	default: return SG_HASH_NONE;
	}
}

CK_RV
sg_p11_mech_check(const sg_p11_mech *m, const CK_MECHANISM *mech, sg_hash_alg *pss_hash,
    CK_ULONG *salt)
{
	const CK_RSA_PKCS_PSS_PARAMS *p;
	sg_hash_alg h;

	if (!m->pss) {
		/* CKM_EDDSA's optional CK_EDDSA_PARAMS would ask for Ed25519ph or a context. */
		return mech->ulParameterLen == 0 ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
	}
	if (mech->pParameter == NULL || mech->ulParameterLen != sizeof(CK_RSA_PKCS_PSS_PARAMS))
		return CKR_MECHANISM_PARAM_INVALID;
	p = mech->pParameter;
	h = sg_p11_hash_of_mech(p->hashAlg);
	if (h == SG_HASH_NONE || (m->hash != SG_HASH_NONE && h != m->hash) ||
	    sg_p11_hash_of_mgf(p->mgf) != h)
		return CKR_MECHANISM_PARAM_INVALID;
	*pss_hash = h;
	*salt = p->sLen;
	return CKR_OK;
}

/* DigestInfo prefixes: SEQUENCE { AlgorithmIdentifier { OID, NULL }, OCTET STRING }. */
static const struct {
	sg_hash_alg hash;
	uint8_t prefix[19];
	size_t len;
} sg_p11_digest_infos[] = {
	{ SG_HASH_SHA1, { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a,
	    0x05, 0x00, 0x04, 0x14 }, 15 },
	{ SG_HASH_SHA256, { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	    0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 }, 19 },
	{ SG_HASH_SHA384, { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	    0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 }, 19 },
	{ SG_HASH_SHA512, { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	    0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 }, 19 },
	{ SG_HASH_SHA3_256, { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	    0x03, 0x04, 0x02, 0x08, 0x05, 0x00, 0x04, 0x20 }, 19 },
	{ SG_HASH_SHA3_384, { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	    0x03, 0x04, 0x02, 0x09, 0x05, 0x00, 0x04, 0x30 }, 19 },
	{ SG_HASH_SHA3_512, { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	    0x03, 0x04, 0x02, 0x0a, 0x05, 0x00, 0x04, 0x40 }, 19 },
};

/* The hash a digest of this many bytes was made with (SHA-2 family). */
static sg_hash_alg
sg_p11_hash_of_len(size_t len)
{
	switch (len) {
	case 32: return SG_HASH_SHA256;
	case 48: return SG_HASH_SHA384;
	case 64: return SG_HASH_SHA512;
	default: return SG_HASH_NONE;
	}
}

CK_RV
sg_p11_mech_input(const sg_p11_mech *m, sg_hash_alg pss_hash, const uint8_t *in, size_t len,
    sg_p11_sign_req *req)
{
	sg_hash_alg h = SG_HASH_NONE;
	const uint8_t *digest = in;

	memset(req, 0, sizeof(*req));
	if (m->type == CKM_RSA_PKCS) {
		size_t n = sizeof(sg_p11_digest_infos) / sizeof(sg_p11_digest_infos[0]);
		for (size_t i = 0; i < n; i++) {
			size_t plen = sg_p11_digest_infos[i].len;
			if (len == plen + sg_hash_len(sg_p11_digest_infos[i].hash) &&
			    memcmp(in, sg_p11_digest_infos[i].prefix, plen) == 0) {
				h = sg_p11_digest_infos[i].hash;
				digest = in + plen;
				len -= plen;
				break;
			}
		}
		if (h == SG_HASH_NONE)
			return CKR_DATA_INVALID;
	} else if (m->pss) {
		h = pss_hash;
		if (len != sg_hash_len(h))
			return CKR_DATA_LEN_RANGE;
	} else {
		if ((h = sg_p11_hash_of_len(len)) == SG_HASH_NONE)
			return CKR_DATA_LEN_RANGE;
	}
	req->hash = h;
	memcpy(req->digest, digest, len);
	req->digest_len = len;
	req->scheme = sg_p11_mech_scheme(m);
	return CKR_OK;
}
