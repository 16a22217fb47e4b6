/*
 * verify.c - offline signature verification and the argument checks that
 * sign-file and verify-file share.
 *
 * Verification trusts the public key, not labels: the key algorithm comes
 * from the SPKI (key type and size, or the OID for the post-quantum keys
 * OpenSSL 3.0 cannot parse), so a bundle cannot talk the CLI into checking a
 * key as something else.  Only when the SPKI does not say does the claimed
 * algorithm decide, and src/crypto then checks the SPKI against it.
 */
#include <stdlib.h>
#include <string.h>
#include "sg_b64.h"
#include "sg_cli.h"
#include "sg_util.h"

int
sg_cli_parse_hash(const char *name, sg_hash_alg *h)
{
	sg_hash_alg a = sg_hash_from_name(name != NULL ? name : "SHA-256");

	if (a == SG_HASH_NONE) {
		sg_cli_err("unknown hash algorithm '%s' (SHA-256, SHA-384, SHA-512, SHA3-256, "
		    "SHA3-384, SHA3-512)", name);
		return SG_ERR_INVALID_ARGUMENT;
	}
	*h = a;
	return SG_OK;
}

int
sg_cli_parse_context(const char *b64, uint8_t **ctx, size_t *ctx_len)
{
	uint8_t *bytes = NULL;
	size_t len = 0;

	if (sg_b64_decode(b64, strlen(b64), &bytes, &len) != SG_OK) {
		sg_cli_err("--context must be base64");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (len > 255) {
		free(bytes);
		sg_cli_err("--context is %zu bytes; at most 255 are allowed", len);
		return SG_ERR_INVALID_ARGUMENT;
	}
	*ctx = bytes;
	*ctx_len = len;
	return SG_OK;
}

int
sg_cli_check_scheme(const char *name)
{
	if (name != NULL && sg_scheme_from_name(name) == SG_SCHEME_NONE) {
		sg_cli_err("unknown signature algorithm '%s' (RSA-PKCS1, RSA-PSS, ECDSA, Ed25519, "
		    "HashML-DSA-65, ML-DSA-65, MLDSA65-ECDSA-P256)", name);
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

int
sg_cli_check_format(const char *name)
{
	if (name != NULL && sg_format_from_name(name) < 0) {
		sg_cli_err("unknown signature format '%s' (DER or P1363)", name);
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

int
sg_cli_parse_version(const char *s, const char *what, int64_t *out)
{
	if (sg_parse_int64(s, 1, INT32_MAX, out) != SG_OK) {
		sg_cli_err("%s must be a positive integer, not '%s'", what, s);
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

const char *
sg_cli_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

int
sg_cli_verify_spki(const uint8_t *spki, size_t spki_len, const sg_cli_verify_in *in)
{
	sg_key_alg derived = sg_cli_spki_key_alg(spki, spki_len);
	sg_key_alg claimed = SG_KEY_NONE, alg;
	sg_sign_params p;
	int fmt, r;

	if (in->key_algorithm != NULL &&
	    (claimed = sg_key_alg_from_name(in->key_algorithm)) == SG_KEY_NONE) {
		sg_cli_err("unknown key algorithm '%s'", in->key_algorithm);
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	}
	if (derived != SG_KEY_NONE && claimed != SG_KEY_NONE && derived != claimed) {
		sg_cli_err("the public key is %s, not %s", sg_key_alg_name(derived),
		    sg_key_alg_name(claimed));
		return SG_ERR_BAD_SIGNATURE;
	}
	if ((alg = derived != SG_KEY_NONE ? derived : claimed) == SG_KEY_NONE) {
		sg_cli_err("cannot tell the algorithm of the public key "
		    "(use a bundle that names its key_algorithm)");
		return SG_ERR_UNSUPPORTED_ALGORITHM;
	}
	if (sg_cli_check_scheme(in->signature_algorithm) != SG_OK ||
	    sg_cli_check_format(in->signature_format) != SG_OK)
		return SG_ERR_INVALID_ARGUMENT;
	fmt = sg_format_from_name(in->signature_format);
	memset(&p, 0, sizeof(p));
	p.hash = in->hash;
	p.scheme = in->signature_algorithm != NULL ?
	    sg_scheme_from_name(in->signature_algorithm) : SG_SCHEME_NONE;
	p.format = (sg_sig_format)fmt;
	p.pss_salt_len = in->has_pss_salt_len ? in->pss_salt_len : -1;
	p.context = in->context;
	p.context_len = in->context_len;
	if ((r = sg_sign_params_check(alg, &p)) != SG_OK) {
		sg_cli_err("%s over %s%s%s does not fit key type %s: %s",
		    in->signature_algorithm != NULL ? in->signature_algorithm : "the default scheme",
		    sg_hash_name(in->hash), in->signature_format != NULL ? " in " : "",
		    in->signature_format != NULL ? in->signature_format : "",
		    sg_key_alg_name(alg), sg_err_str(r));
		return r;
	}
	r = sg_verify_digest(alg, spki, spki_len, &p, in->digest, in->digest_len, in->sig,
	    in->sig_len);
	if (r == SG_ERR_BAD_SIGNATURE) {
		sg_cli_err("%s signature does not match the %s digest under this %s public key",
		    sg_scheme_name(p.scheme, alg), sg_hash_name(in->hash), sg_key_alg_name(alg));
	} else if (r != SG_OK) {
		sg_cli_err("cannot verify with this %s public key: %s", sg_key_alg_name(alg),
		    sg_err_str(r));
	}
	return r;
}
