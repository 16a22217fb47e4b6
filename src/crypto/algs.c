/*
 * algs.c - key algorithms, signature schemes and formats: names and fit.
 *
 * SPEC §2 pairs each key algorithm with the schemes that may sign with it.
 * This file holds that pairing as tables, parses the spellings clients and
 * the compatible dialects send, and decides once, in sg_sign_params_check,
 * whether a request's hash, scheme, format, salt length and context fit the
 * key, so that the signing code can trust what it is given.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include "sg_crypto.h"
#include "sg_crypto_int.h"

#define SG_NAME_ALIASES 4

typedef enum sg_key_family {
	SG_FAMILY_NONE = 0,
	SG_FAMILY_RSA,
	SG_FAMILY_EC,
	SG_FAMILY_ED25519,
	SG_FAMILY_MLDSA,
	SG_FAMILY_COMPOSITE,
} sg_key_family;

struct sg_key_info {
	sg_key_alg id;
	const char *name;
	const char *aliases[SG_NAME_ALIASES];
	int bits;
	sg_key_family family;
	size_t ec_field_len;
};

static const struct sg_key_info sg_keys[] = {
	{ SG_KEY_RSA_2048, "RSA-2048", { "RSA2048", NULL, NULL, NULL }, 2048, SG_FAMILY_RSA, 0 },
	{ SG_KEY_RSA_3072, "RSA-3072", { "RSA3072", NULL, NULL, NULL }, 3072, SG_FAMILY_RSA, 0 },
	{ SG_KEY_RSA_4096, "RSA-4096", { "RSA4096", NULL, NULL, NULL }, 4096, SG_FAMILY_RSA, 0 },
	{ SG_KEY_EC_P256, "EC-P256", { "EC-P-256", "ECDSA-P256", "P-256", NULL }, 256,
	    SG_FAMILY_EC, 32 },
	{ SG_KEY_EC_P384, "EC-P384", { "EC-P-384", "ECDSA-P384", "P-384", NULL }, 384,
	    SG_FAMILY_EC, 48 },
	{ SG_KEY_EC_P521, "EC-P521", { "EC-P-521", "ECDSA-P521", "P-521", NULL }, 521,
	    SG_FAMILY_EC, 66 },
	{ SG_KEY_ED25519, "Ed25519", { NULL, NULL, NULL, NULL }, 255, SG_FAMILY_ED25519, 0 },
	{ SG_KEY_MLDSA_44, "ML-DSA-44", { "MLDSA44", NULL, NULL, NULL }, 0, SG_FAMILY_MLDSA, 0 },
	{ SG_KEY_MLDSA_65, "ML-DSA-65", { "MLDSA65", "Dilithium3", NULL, NULL }, 0,
	    SG_FAMILY_MLDSA, 0 },
	{ SG_KEY_MLDSA_87, "ML-DSA-87", { "MLDSA87", NULL, NULL, NULL }, 0, SG_FAMILY_MLDSA, 0 },
	{ SG_KEY_MLDSA65_ECDSA_P256, "MLDSA65-ECDSA-P256",
	    { "MLDSA65-ECDSA-P256-SHA512", "id-MLDSA65-ECDSA-P256-SHA512", "Composite-ML-DSA",
	    NULL }, 0, SG_FAMILY_COMPOSITE, 0 },
};

#define SG_NKEYS (sizeof(sg_keys) / sizeof(sg_keys[0]))

/*
 * Scheme spellings.  The ML-DSA names carry the parameter set, which the
 * scheme enum does not: `key` records it for sg_scheme_name_key_alg.
 */
struct sg_scheme_info {
	const char *name;
	sg_sig_scheme scheme;
	sg_key_alg key;
};

static const struct sg_scheme_info sg_scheme_names[] = {
	{ "RSA-PKCS1", SG_SCHEME_RSA_PKCS1, SG_KEY_NONE },
	{ "RSASSA-PKCS1-v1_5", SG_SCHEME_RSA_PKCS1, SG_KEY_NONE },
	{ "RsaPkcs1", SG_SCHEME_RSA_PKCS1, SG_KEY_NONE },
	{ "RSA-PSS", SG_SCHEME_RSA_PSS, SG_KEY_NONE },
	{ "RSASSA-PSS", SG_SCHEME_RSA_PSS, SG_KEY_NONE },
	{ "RsaPss", SG_SCHEME_RSA_PSS, SG_KEY_NONE },
	{ "ECDSA", SG_SCHEME_ECDSA, SG_KEY_NONE },
	{ "Ed25519", SG_SCHEME_ED25519, SG_KEY_ED25519 },
	{ "HashML-DSA-44", SG_SCHEME_HASH_MLDSA, SG_KEY_MLDSA_44 },
	{ "HashML-DSA-65", SG_SCHEME_HASH_MLDSA, SG_KEY_MLDSA_65 },
	{ "HashML-DSA-87", SG_SCHEME_HASH_MLDSA, SG_KEY_MLDSA_87 },
	{ "ML-DSA-44", SG_SCHEME_MLDSA, SG_KEY_MLDSA_44 },
	{ "ML-DSA-65", SG_SCHEME_MLDSA, SG_KEY_MLDSA_65 },
	{ "ML-DSA-87", SG_SCHEME_MLDSA, SG_KEY_MLDSA_87 },
	{ "Dilithium3", SG_SCHEME_MLDSA, SG_KEY_MLDSA_65 },
	{ "MLDSA65-ECDSA-P256", SG_SCHEME_COMPOSITE, SG_KEY_MLDSA65_ECDSA_P256 },
	{ "MLDSA65-ECDSA-P256-SHA512", SG_SCHEME_COMPOSITE, SG_KEY_MLDSA65_ECDSA_P256 },
	{ "Composite-ML-DSA", SG_SCHEME_COMPOSITE, SG_KEY_MLDSA65_ECDSA_P256 },
};

#define SG_NSCHEME_NAMES (sizeof(sg_scheme_names) / sizeof(sg_scheme_names[0]))

static const struct sg_key_info *
sg_key_info(sg_key_alg a)
{
	for (size_t i = 0; i < SG_NKEYS; i++) {
		if (sg_keys[i].id == a)
			return &sg_keys[i];
	}
	return NULL;
}

static sg_key_family
sg_key_family_of(sg_key_alg a)
{
	const struct sg_key_info *ki = sg_key_info(a);
	return ki != NULL ? ki->family : SG_FAMILY_NONE;
}

sg_key_alg
sg_key_alg_from_name(const char *name)
{
	if (name == NULL)
		return SG_KEY_NONE;
	for (size_t i = 0; i < SG_NKEYS; i++) {
		if (strcasecmp(name, sg_keys[i].name) == 0)
			return sg_keys[i].id;
		for (size_t j = 0; j < SG_NAME_ALIASES && sg_keys[i].aliases[j] != NULL; j++) {
			if (strcasecmp(name, sg_keys[i].aliases[j]) == 0)
				return sg_keys[i].id;
		}
	}
	return SG_KEY_NONE;
}

const char *
sg_key_alg_name(sg_key_alg a)
{
	const struct sg_key_info *ki = sg_key_info(a);
	return ki != NULL ? ki->name : NULL;
}

int
sg_key_alg_bits(sg_key_alg a)
{
	const struct sg_key_info *ki = sg_key_info(a);
	return ki != NULL ? ki->bits : 0;
}

size_t
sg_key_alg_ec_field_len(sg_key_alg a)
{
	const struct sg_key_info *ki = sg_key_info(a);
	return ki != NULL ? ki->ec_field_len : 0;
}

int
sg_key_alg_is_classical(sg_key_alg a)
{
	sg_key_family f = sg_key_family_of(a);
	return f == SG_FAMILY_RSA || f == SG_FAMILY_EC || f == SG_FAMILY_ED25519;
}

int
sg_key_alg_is_mldsa(sg_key_alg a)
{
	return sg_key_family_of(a) == SG_FAMILY_MLDSA;
}

int
sg_key_alg_is_pq(sg_key_alg a)
{
	sg_key_family f = sg_key_family_of(a);
	return f == SG_FAMILY_MLDSA || f == SG_FAMILY_COMPOSITE;
}

sg_sig_scheme
sg_scheme_from_name(const char *name)
{
	if (name == NULL)
		return SG_SCHEME_NONE;
	for (size_t i = 0; i < SG_NSCHEME_NAMES; i++) {
		if (strcasecmp(name, sg_scheme_names[i].name) == 0)
			return sg_scheme_names[i].scheme;
	}
	return SG_SCHEME_NONE;
}

sg_key_alg
sg_scheme_name_key_alg(const char *name)
{
	if (name == NULL)
		return SG_KEY_NONE;
	for (size_t i = 0; i < SG_NSCHEME_NAMES; i++) {
		if (strcasecmp(name, sg_scheme_names[i].name) == 0)
			return sg_scheme_names[i].key;
	}
	return SG_KEY_NONE;
}

const char *
sg_scheme_name(sg_sig_scheme s, sg_key_alg a)
{
	switch (s) {
	case SG_SCHEME_RSA_PKCS1:
		return "RSA-PKCS1";
	case SG_SCHEME_RSA_PSS:
		return "RSA-PSS";
	case SG_SCHEME_ECDSA:
		return "ECDSA";
	case SG_SCHEME_ED25519:
		return "Ed25519";
	case SG_SCHEME_HASH_MLDSA:
		switch (a) {
		case SG_KEY_MLDSA_44: return "HashML-DSA-44";
		case SG_KEY_MLDSA_65: return "HashML-DSA-65";
		case SG_KEY_MLDSA_87: return "HashML-DSA-87";
		default: return NULL;
		}
	case SG_SCHEME_MLDSA:
		switch (a) {
		case SG_KEY_MLDSA_44: return "ML-DSA-44";
		case SG_KEY_MLDSA_65: return "ML-DSA-65";
		case SG_KEY_MLDSA_87: return "ML-DSA-87";
		default: return NULL;
		}
	case SG_SCHEME_COMPOSITE:
		return "MLDSA65-ECDSA-P256";
	case SG_SCHEME_NONE:
		break;
	}
	return NULL;
}

sg_sig_scheme
sg_scheme_default(sg_key_alg a)
{
	switch (sg_key_family_of(a)) {
	case SG_FAMILY_RSA: return SG_SCHEME_RSA_PKCS1;
	case SG_FAMILY_EC: return SG_SCHEME_ECDSA;
	case SG_FAMILY_ED25519: return SG_SCHEME_ED25519;
	case SG_FAMILY_MLDSA: return SG_SCHEME_HASH_MLDSA;
	case SG_FAMILY_COMPOSITE: return SG_SCHEME_COMPOSITE;
	case SG_FAMILY_NONE: break;
	}
	return SG_SCHEME_NONE;
}

int
sg_format_from_name(const char *name)
{
	if (name == NULL)
		return SG_FORMAT_DEFAULT;
	if (strcasecmp(name, "DER") == 0)
		return SG_FORMAT_DER;
	if (strcasecmp(name, "P1363") == 0 || strcasecmp(name, "IEEE-P1363") == 0)
		return SG_FORMAT_P1363;
	return -1;
}

const char *
sg_format_name(sg_sig_format f)
{
	switch (f) {
	case SG_FORMAT_DER: return "DER";
	case SG_FORMAT_P1363: return "P1363";
	case SG_FORMAT_DEFAULT: break;
	}
	return NULL;
}

static int
sg_scheme_fits_family(sg_sig_scheme s, sg_key_family f)
{
	switch (s) {
	case SG_SCHEME_RSA_PKCS1:
	case SG_SCHEME_RSA_PSS:
		return f == SG_FAMILY_RSA;
	case SG_SCHEME_ECDSA:
		return f == SG_FAMILY_EC;
	case SG_SCHEME_ED25519:
		return f == SG_FAMILY_ED25519;
	case SG_SCHEME_HASH_MLDSA:
	case SG_SCHEME_MLDSA:
		return f == SG_FAMILY_MLDSA;
	case SG_SCHEME_COMPOSITE:
		return f == SG_FAMILY_COMPOSITE;
	case SG_SCHEME_NONE:
		break;
	}
	return 0;
}

int
sg_sign_params_check(sg_key_alg a, sg_sign_params *p)
{
	const struct sg_key_info *ki = sg_key_info(a);
	sg_sign_params q;

	if (p == NULL)
		return SG_ERR_INVALID_ARGUMENT;
	if (ki == NULL)
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	q = *p;
	if (sg_hash_len(q.hash) == 0)
		return SG_ERR_UNSUPPORTED_HASH;

	if (q.scheme == SG_SCHEME_NONE)
		q.scheme = sg_scheme_default(a);
	if ((int)q.scheme < (int)SG_SCHEME_NONE || (int)q.scheme > (int)SG_SCHEME_COMPOSITE)
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	if (!sg_scheme_fits_family(q.scheme, ki->family))
		return SG_ERR_ALGORITHM_MISMATCH;

	if (q.format != SG_FORMAT_DEFAULT && q.format != SG_FORMAT_DER &&
	    q.format != SG_FORMAT_P1363)
		return SG_ERR_INVALID_ARGUMENT;
	if (q.scheme == SG_SCHEME_ECDSA) {
		if (q.format == SG_FORMAT_DEFAULT)
			q.format = SG_FORMAT_DER;
	} else if (q.format != SG_FORMAT_DEFAULT) {
		return SG_ERR_ALGORITHM_MISMATCH;
	}

	if (q.scheme == SG_SCHEME_RSA_PSS) {
		/* RFC 8017 EMSA-PSS: emLen >= hLen + sLen + 2, emLen = modulus bytes here. */
		int max_salt = ki->bits / 8 - (int)sg_hash_len(q.hash) - 2;
		if (q.pss_salt_len < -1 || q.pss_salt_len > max_salt)
			return SG_ERR_INVALID_ARGUMENT;
	} else if (q.pss_salt_len != -1) {
		return SG_ERR_INVALID_ARGUMENT;
	}

	if (q.context_len > 0) {
		if (ki->family != SG_FAMILY_MLDSA && ki->family != SG_FAMILY_COMPOSITE)
			return SG_ERR_INVALID_ARGUMENT;
		if (q.context_len > 255 || q.context == NULL)
			return SG_ERR_INVALID_ARGUMENT;
	}

	/* FIPS 204 §5.4 pre-hashes: approved hashes only, MD5 and SHA-1 have no place. */
	if (q.scheme == SG_SCHEME_HASH_MLDSA &&
	    (q.hash == SG_HASH_MD5 || q.hash == SG_HASH_SHA1))
		return SG_ERR_UNSUPPORTED_HASH;
	if (q.scheme == SG_SCHEME_COMPOSITE && q.hash != SG_HASH_SHA512)
		return SG_ERR_UNSUPPORTED_HASH;
	if (q.message && q.scheme != SG_SCHEME_MLDSA && q.scheme != SG_SCHEME_ED25519)
		return SG_ERR_ALGORITHM_MISMATCH;

	*p = q;
	return SG_OK;
}
