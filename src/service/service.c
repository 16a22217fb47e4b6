/*
 * service.c - submission, verification, key lifecycle, approvals and lookups
 * (sg_svc.h).
 *
 * This is the one home of Signet's rules on the way to a signature: which
 * key and version may sign, what a policy allows, when a request is signed
 * now, queued or held for approval, who may vote, idempotent repeats.  The
 * dialects in src/api call it and render the results; nothing here knows
 * about HTTP or how an answer is written.  Stored policy lists and request
 * metadata are JSON text, read here with jansson as data.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "sg_svc.h"
#include "sg_log.h"
#include "sg_queue.h"
#include "sg_secret.h"
#include "sg_util.h"

/* ---- problems ---- */

static int say(sg_problem *p, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fill *p and return err, so that callers can write `return say(...)`. */
static int
say(sg_problem *p, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	p->err = err;
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	return err;
}

static void
audit_init(const sg_caller *c, sg_audit_entry *e, const char *action, const char *object)
{
	memset(e, 0, sizeof(*e));
	sg_strlcpy(e->tenant_id, c->tenant->id, sizeof(e->tenant_id));
	sg_strlcpy(e->actor, c->principal->id, sizeof(e->actor));
	sg_strlcpy(e->action, action, sizeof(e->action));
	sg_strlcpy(e->object, object ? object : "", sizeof(e->object));
	e->ts = sg_now_ms();
}

/* Split "project/slug" into project (bounded) and a pointer to slug. */
static int
split_policy(const char *ps, char project[SG_NAME_MAX + 1], const char **slug)
{
	const char *slash = ps ? strchr(ps, '/') : NULL;
	if (slash == NULL || slash == ps || slash[1] == 0 || (size_t)(slash - ps) > SG_NAME_MAX ||
	    strchr(slash + 1, '/') != NULL)
		return SG_ERR_INVALID_ARGUMENT;
	memcpy(project, ps, (size_t)(slash - ps));
	project[slash - ps] = 0;
	*slug = slash + 1;
	return SG_OK;
}

int
sg_svc_policy_get(sg_service *svc, const sg_caller *c, const char *project_slug, sg_policy *out,
    sg_problem *p)
{
	char project[SG_NAME_MAX + 1];
	const char *slug;
	sg_store *s = svc->store;
	if (split_policy(project_slug, project, &slug) != SG_OK)
		return say(p, SG_ERR_INVALID_ARGUMENT, "policy must be 'project/slug'");
	int r = s->ops->policy_get(s, c->tenant->id, project, slug, out);
	if (r != SG_OK)
		return say(p, r, r == SG_ERR_NOT_FOUND ? "no policy %.200s" : "cannot load policy %.200s",
		    project_slug);
	return SG_OK;
}

int
sg_svc_key_get(sg_service *svc, const sg_caller *c, const char *id_or_alias, sg_key *out, sg_problem *p)
{
	sg_store *s = svc->store;
	int r = s->ops->key_get(s, c->tenant->id, id_or_alias, out);
	if (r != SG_OK)
		return say(p, r, r == SG_ERR_NOT_FOUND ? "no key '%.128s'" : "cannot load key '%.128s'",
		    id_or_alias);
	return SG_OK;
}

int
sg_svc_key_for_alg(sg_service *svc, const sg_caller *c, sg_key_alg alg, sg_key *out,
    char policy[SG_POLICY_REF_MAX], sg_problem *p)
{
	sg_store *s = svc->store;
	sg_key *list = NULL;
	size_t n = 0, found = 0, at = 0;
	const char *dp = c->principal->default_policy;
	int r;

	if (dp[0] != 0) {
		sg_policy pol;
		sg_key k;
		sg_problem ignored;
		if (sg_svc_policy_get(svc, c, dp, &pol, &ignored) == SG_OK) {
			r = s->ops->key_get(s, c->tenant->id, pol.key_id, &k);
			sg_policy_clear(&pol);
			if (r == SG_OK && k.alg == alg) {
				*out = k;
				sg_strlcpy(policy, dp, SG_POLICY_REF_MAX);
				return SG_OK;
			}
		}
	}
	if ((r = s->ops->key_list(s, c->tenant->id, &list, &n)) != SG_OK)
		return say(p, r, "cannot list the keys");
	for (size_t i = 0; i < n; i++) {
		if (list[i].alg == alg) {
			found++;
			at = i;
		}
	}
	if (found == 0)
		r = say(p, SG_ERR_NOT_FOUND, "this tenant has no %s key", sg_key_alg_name(alg));
	else if (found > 1)
		r = say(p, SG_ERR_INVALID_ARGUMENT, "this tenant has %zu %s keys and the principal's default "
		    "policy names none of them; set its default_policy to choose one", found,
		    sg_key_alg_name(alg));
	else {
		*out = list[at];
		policy[0] = 0;
		r = SG_OK;
	}
	free(list);
	return r;
}

/* ---- key lifecycle ---- */

/* Generate version `version` of key k in its keystore. */
static int
generate_version(sg_service *svc, const sg_key *k, int version, sg_key_version *v)
{
	sg_keystore *ks = sg_service_keystore(svc, k->storage);
	char vid[SG_KEY_VERSION_ID_MAX];
	if (ks == NULL)
		return SG_ERR_UNAVAILABLE;
	memset(v, 0, sizeof(*v));
	sg_key_version_id(k->id, version, vid);
	int r = sg_keystore_generate(ks, vid, k->alg, &v->handle, &v->handle_len, &v->spki, &v->spki_len);
	if (r != SG_OK)
		return r;
	sg_strlcpy(v->key_id, k->id, sizeof(v->key_id));
	v->version = version;
	sg_strlcpy(v->state, sg_version_state_name(SG_VERSION_ACTIVE), sizeof(v->state));
	v->created_at = sg_now_ms();
	return SG_OK;
}

/* The private part of a version the store refused must not outlive it. */
static void
drop_unstored_version(sg_service *svc, const sg_key *k, const sg_key_version *v)
{
	char vid[SG_KEY_VERSION_ID_MAX];
	sg_key_version_id(k->id, v->version, vid);
	sg_key_ref ref = { vid, k->alg, v->handle, v->handle_len };
	sg_keystore *ks = sg_service_keystore(svc, k->storage);
	if (ks == NULL || sg_keystore_destroy(ks, &ref) != SG_OK)
		sg_warn("key %s: could not destroy the private part of unstored version %d", k->id, v->version);
}

/* Append an audit entry for a change already stored; a failure is logged, not reported. */
static void
audit_stored(sg_service *svc, const sg_caller *c, const char *action, const char *object, json_t *details)
{
	sg_store *s = svc->store;
	sg_audit_entry e;
	audit_init(c, &e, action, object);
	if (details != NULL) {
		json_object_set_new(details, "request_id", json_string(c->request_id ? c->request_id : ""));
		e.details = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(details);
	}
	if (s->ops->audit_append(s, &e) != SG_OK)
		sg_error("audit: cannot append %s for %s", action, object);
	free(e.details);
}

int
sg_svc_key_rotate(sg_service *svc, const sg_caller *c, const char *id_or_alias, sg_key *out, sg_problem *p)
{
	sg_store *s = svc->store;
	sg_key k;
	sg_key_version v;
	int r;

	memset(&v, 0, sizeof(v));
	if ((r = sg_svc_key_get(svc, c, id_or_alias, &k, p)) != SG_OK)
		return r;
	if (sg_key_status_of(&k) == SG_KEY_DISABLED)
		return say(p, SG_ERR_KEY_NOT_ACTIVE, "key '%s' is DISABLED", k.alias);
	if ((r = generate_version(svc, &k, k.current_version + 1, &v)) != SG_OK)
		return say(p, r, "cannot generate a new version");
	if ((r = s->ops->key_add_version(s, c->tenant->id, &v)) != SG_OK) {
		drop_unstored_version(svc, &k, &v);
		r = say(p, r, r == SG_ERR_CONFLICT ? "the key was rotated concurrently; retry" :
		    "cannot store the new version");
		goto out;
	}
	if ((r = s->ops->key_get(s, c->tenant->id, k.id, &k)) != SG_OK) {
		r = say(p, r, "cannot reload key");
		goto out;
	}
	sg_info("key %s rotated to version %d by %s", k.id, k.current_version, c->principal->id);
	audit_stored(svc, c, "key.rotated", k.id, json_pack("{s:i}", "version", k.current_version));
	*out = k;
out:
	sg_key_version_clear(&v);
	return r;
}

int
sg_svc_key_create(sg_service *svc, const sg_caller *c, const sg_key_create *in, sg_key *out, sg_problem *p)
{
	sg_store *s = svc->store;
	sg_key k, existing;
	sg_key_version v;
	const char *status = sg_key_status_name(in->status);
	int r;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	if (sg_key_alg_name(in->alg) == NULL)
		return say(p, SG_ERR_UNSUPPORTED_ALGORITHM, "unknown key algorithm");
	if (status == NULL || in->alias == NULL || in->storage == NULL || in->type == NULL)
		return say(p, SG_ERR_INVALID_ARGUMENT, "alias, storage, type and status are required");
	if (sg_service_keystore(svc, in->storage) == NULL)
		return say(p, SG_ERR_INVALID_ARGUMENT, "storage %.8s is not configured on this server", in->storage);
	/* A clear 409 before spending time on key generation. */
	if (s->ops->key_get(s, c->tenant->id, in->alias, &existing) == SG_OK)
		return say(p, SG_ERR_CONFLICT, "a key with alias '%.128s' already exists", in->alias);
	if (sg_uuid(k.id) != SG_OK)
		return say(p, SG_ERR_INTERNAL, "cannot make a key id");
	k.alg = in->alg;
	sg_strlcpy(k.tenant_id, c->tenant->id, sizeof(k.tenant_id));
	sg_strlcpy(k.alias, in->alias, sizeof(k.alias));
	sg_strlcpy(k.storage, in->storage, sizeof(k.storage));
	sg_strlcpy(k.type, in->type, sizeof(k.type));
	sg_strlcpy(k.status, status, sizeof(k.status));
	k.current_version = 1;
	k.created_at = k.updated_at = sg_now_ms();
	if ((r = generate_version(svc, &k, 1, &v)) != SG_OK)
		return say(p, r, "cannot generate a %s key", sg_key_alg_name(k.alg));
	if ((r = s->ops->key_create(s, &k, &v)) != SG_OK) {
		drop_unstored_version(svc, &k, &v);
		r = say(p, r, r == SG_ERR_CONFLICT ? "a key with alias '%.128s' already exists" :
		    "cannot store key '%.128s'", in->alias);
		goto out;
	}
	sg_info("key %s (%s, %s, %s) created by %s", k.id, k.alias, sg_key_alg_name(k.alg), k.storage,
	    c->principal->id);
	audit_stored(svc, c, "key.created", k.id, json_pack("{s:s,s:s,s:s,s:s}", "alias", k.alias,
	    "algorithm", sg_key_alg_name(k.alg), "storage", k.storage, "type", k.type));
	*out = k;
	r = SG_OK;
out:
	sg_key_version_clear(&v);
	return r;
}

int
sg_svc_key_set_status(sg_service *svc, const sg_caller *c, const char *id_or_alias, sg_key_status status,
    sg_key *out, sg_problem *p)
{
	sg_store *s = svc->store;
	const char *name = sg_key_status_name(status);
	sg_key k;
	int r;

	if (name == NULL)
		return say(p, SG_ERR_INVALID_ARGUMENT, "status must be ONLINE, OFFLINE or DISABLED");
	if ((r = sg_svc_key_get(svc, c, id_or_alias, &k, p)) != SG_OK)
		return r;
	if ((r = s->ops->key_set_status(s, c->tenant->id, k.id, name, sg_now_ms())) != SG_OK ||
	    (r = s->ops->key_get(s, c->tenant->id, k.id, &k)) != SG_OK)
		return say(p, r, "cannot change key status");
	sg_info("key %s status %s by %s", k.id, name, c->principal->id);
	audit_stored(svc, c, "key.status_changed", k.id, json_pack("{s:s}", "status", name));
	*out = k;
	return SG_OK;
}

int
sg_svc_key_destroy_version(sg_service *svc, const sg_caller *c, const char *id_or_alias, int version,
    sg_key_version *out, sg_problem *p)
{
	sg_store *s = svc->store;
	sg_key k;
	sg_key_version v;
	int r;

	memset(&v, 0, sizeof(v));
	if ((r = sg_svc_key_get(svc, c, id_or_alias, &k, p)) != SG_OK)
		return r;
	if ((r = s->ops->key_version_get(s, c->tenant->id, k.id, version, &v)) != SG_OK)
		return say(p, r, "key '%s' has no version %d", k.alias, version);
	/* Destroying a destroyed version changes nothing: no keystore call, no audit entry. */
	if (sg_version_state_of(&v) != SG_VERSION_DESTROYED) {
		char vid[SG_KEY_VERSION_ID_MAX];
		sg_key_version_id(k.id, v.version, vid);
		sg_key_ref ref = { vid, k.alg, v.handle, v.handle_len };
		sg_keystore *ks = sg_service_keystore(svc, k.storage);
		if (ks == NULL) {
			r = say(p, SG_ERR_UNAVAILABLE, "storage %s is not available", k.storage);
			goto out;
		}
		if ((r = sg_keystore_destroy(ks, &ref)) != SG_OK ||
		    (r = s->ops->key_version_destroy(s, c->tenant->id, k.id, v.version, sg_now_ms())) != SG_OK) {
			r = say(p, r, "cannot destroy version");
			goto out;
		}
		sg_info("key %s version %d destroyed by %s", k.id, v.version, c->principal->id);
		audit_stored(svc, c, "key.version_destroyed", k.id, json_pack("{s:i}", "version", v.version));
	}
	sg_key_version_clear(&v);
	if ((r = s->ops->key_version_get(s, c->tenant->id, k.id, version, &v)) != SG_OK) {
		r = say(p, r, "cannot reload version");
		goto out;
	}
	*out = v;
	return SG_OK;
out:
	sg_key_version_clear(&v);
	return r;
}

int
sg_svc_key_list(sg_service *svc, const sg_caller *c, sg_key **out, size_t *n, sg_problem *p)
{
	sg_store *s = svc->store;
	int r = s->ops->key_list(s, c->tenant->id, out, n);
	if (r != SG_OK)
		return say(p, r, "cannot list keys");
	return SG_OK;
}

/* ---- resolving a key, version and parameters ---- */

/* Everything a sign or verify call resolves to. */
typedef struct resolved {
	sg_key key;
	sg_key_version version;
	sg_sign_params params;
} resolved;

typedef struct resolve_in {
	const char *key;
	int key_version;
	sg_hash_alg hash;
	size_t digest_len;
	sg_sig_scheme scheme;
	sg_key_alg scheme_key_alg;
	sg_sig_format format;
	int pss_salt_len;
	const uint8_t *context;
	size_t context_len;
	int message;      /* digest is SHA-512 of a message (see sg_submit) */
} resolve_in;

/*
 * Load the key and version and check the parameters against them.  With
 * for_signing the key must be ONLINE and the version the current, active
 * one, and legacy hashes need allow_legacy; for verification any version
 * that ever existed will do.
 */
static int
resolve(sg_service *svc, const sg_caller *c, const resolve_in *in, int for_signing, int allow_legacy,
    resolved *out, sg_problem *p)
{
	sg_store *s = svc->store;
	int r;

	memset(out, 0, sizeof(*out));
	if (in->hash == SG_HASH_NONE)
		return say(p, SG_ERR_UNSUPPORTED_HASH, "unknown hash algorithm (SHA-256, SHA-384, SHA-512, "
		    "SHA3-256, SHA3-384, SHA3-512)");
	if (for_signing && !allow_legacy && sg_hash_is_legacy(in->hash))
		return say(p, SG_ERR_UNSUPPORTED_HASH, "%s is refused: legacy hashes need a signing policy "
		    "that allows them", sg_hash_name(in->hash));
	if (in->digest_len != sg_hash_len(in->hash))
		return say(p, SG_ERR_DIGEST_LENGTH, "digest is %zu bytes, %s needs %zu", in->digest_len,
		    sg_hash_name(in->hash), sg_hash_len(in->hash));
	if (in->context_len > 255)
		return say(p, SG_ERR_INVALID_ARGUMENT, "context must be at most 255 bytes");
	out->params.hash = in->hash;
	out->params.scheme = in->scheme;
	out->params.format = in->format;
	out->params.pss_salt_len = in->pss_salt_len;
	out->params.context = in->context_len ? in->context : NULL;
	out->params.context_len = in->context_len;
	if ((r = sg_svc_key_get(svc, c, in->key, &out->key, p)) != SG_OK)
		return r;
	/* Which key version may sign is sg_signing_obstacles' to say; the words are ours. */
	if (for_signing && (sg_signing_obstacles(&out->key, NULL) & SG_SIGNING_KEY_NOT_ONLINE))
		return say(p, SG_ERR_KEY_NOT_ACTIVE, "key '%s' is %s", out->key.alias, out->key.status);
	if (in->message) {
		/* A message: pure ML-DSA by default; the composite signs its SHA-512 pre-hash. */
		sg_sig_scheme sch = in->scheme != SG_SCHEME_NONE ? in->scheme : sg_scheme_default(out->key.alg);
		if (in->scheme == SG_SCHEME_NONE && sch == SG_SCHEME_HASH_MLDSA)
			sch = SG_SCHEME_MLDSA;
		if (sch != SG_SCHEME_MLDSA && sch != SG_SCHEME_ED25519 && sch != SG_SCHEME_COMPOSITE)
			return say(p, SG_ERR_ALGORITHM_MISMATCH, "a message is signed only by pure ML-DSA, "
			    "Ed25519 or the composite; key '%s' (%s) with %s signs digests: send 'digest'",
			    out->key.alias, sg_key_alg_name(out->key.alg), sg_scheme_name(sch, out->key.alg));
		out->params.scheme = sch;
		out->params.message = sch != SG_SCHEME_COMPOSITE;
	}
	if (in->scheme_key_alg != SG_KEY_NONE && in->scheme_key_alg != out->key.alg)
		r = SG_ERR_ALGORITHM_MISMATCH;
	else
		r = sg_sign_params_check(out->key.alg, &out->params);
	if (r != SG_OK)
		return say(p, r, "%s does not fit key '%s' (%s); it signs with %s",
		    in->scheme != SG_SCHEME_NONE ? sg_scheme_name(in->scheme, out->key.alg) : "the request",
		    out->key.alias, sg_key_alg_name(out->key.alg),
		    sg_scheme_name(sg_scheme_default(out->key.alg), out->key.alg));
	int version = in->key_version > 0 ? in->key_version : out->key.current_version;
	if ((r = s->ops->key_version_get(s, c->tenant->id, out->key.id, version, &out->version)) != SG_OK)
		return say(p, r, "key '%s' has no version %d", out->key.alias, version);
	unsigned obstacles = for_signing ? sg_signing_obstacles(&out->key, &out->version) : 0;
	if (obstacles & SG_SIGNING_VERSION_DESTROYED) {
		r = say(p, SG_ERR_KEY_NOT_ACTIVE, "version %d of key '%s' is %s", out->version.version,
		    out->key.alias, out->version.state);
		goto fail;
	}
	/* SPEC §1: the newest version signs; older ones remain for verification only. */
	if (obstacles & SG_SIGNING_VERSION_NOT_CURRENT) {
		r = say(p, SG_ERR_KEY_NOT_ACTIVE, "version %d of key '%s' is not the current version (%d); "
		    "older versions only verify", out->version.version, out->key.alias,
		    out->key.current_version);
		goto fail;
	}
	return SG_OK;
fail:
	sg_key_version_clear(&out->version);
	return r;
}

/* ---- policy constraints ---- */

/* Is name in the JSON array text list (NULL list = anything)? Case-insensitive. */
static int
listed(const char *list, const char *name)
{
	if (list == NULL)
		return 1;
	json_t *a = json_loads(list, 0, NULL);
	size_t i;
	json_t *v;
	int found = 0;
	json_array_foreach(a, i, v) {
		if (json_is_string(v) && strcasecmp(json_string_value(v), name) == 0)
			found = 1;
	}
	json_decref(a);
	return found;
}

static int
policy_check(const sg_policy *pol, const char *hash_name, const char *scheme_name,
    const char *metadata_json, sg_problem *p)
{
	int r = SG_OK;
	if (!listed(pol->allowed_hash_algorithms, hash_name))
		return say(p, SG_ERR_UNSUPPORTED_HASH, "policy %s/%s does not allow %s", pol->project,
		    pol->slug, hash_name);
	if (!listed(pol->allowed_signature_algorithms, scheme_name))
		return say(p, SG_ERR_ALGORITHM_MISMATCH, "policy %s/%s does not allow %s", pol->project,
		    pol->slug, scheme_name);
	if (pol->required_metadata == NULL)
		return SG_OK;
	json_t *need = json_loads(pol->required_metadata, 0, NULL);
	json_t *have = metadata_json ? json_loads(metadata_json, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(need, i, v) {
		const char *field = json_string_value(v);
		if (field != NULL && json_object_get(have, field) == NULL) {
			r = say(p, SG_ERR_INVALID_ARGUMENT, "policy %s/%s requires metadata field '%s'",
			    pol->project, pol->slug, field);
			break;
		}
	}
	json_decref(need);
	json_decref(have);
	return r;
}

/* ---- submission ---- */

/* SHA-512 of a message (the digest its request and record keep); the size limit of SPEC §3. */
static int
message_hash(const uint8_t *message, size_t message_len, size_t digest_len, uint8_t out[SG_MAX_DIGEST],
    sg_problem *p)
{
	unsigned int n = 0;
	if (digest_len != 0)
		return say(p, SG_ERR_INVALID_ARGUMENT, "give either 'digest' or 'message', not both");
	if (message_len > SG_MAX_MESSAGE)
		return say(p, SG_ERR_TOO_LARGE, "message is %zu bytes; at most %d are signed", message_len,
		    SG_MAX_MESSAGE);
	if (EVP_Digest(message, message_len, out, &n, EVP_sha512(), NULL) != 1 || n != 64)
		return say(p, SG_ERR_CRYPTO, "cannot hash the message");
	return SG_OK;
}

void
sg_outcome_clear(sg_outcome *o)
{
	if (o == NULL)
		return;
	sg_request_clear(&o->request);
	sg_signature_clear(&o->signature);
	memset(o, 0, sizeof(*o));
}

/* A prior request's state as a replay outcome (with its signature when SIGNED). */
static int
replay(sg_service *svc, sg_request *prior, sg_outcome *out)
{
	sg_store *s = svc->store;
	memset(out, 0, sizeof(*out));
	out->kind = SG_OUTCOME_REPLAY;
	if (sg_request_status_of(prior) == SG_RQ_SIGNED &&
	    s->ops->signature_get(s, prior->tenant_id, prior->signature_id, &out->signature) == SG_OK)
		out->has_signature = 1;
	(void)s->ops->key_get(s, prior->tenant_id, prior->key_id, &out->key);
	out->request = *prior;
	memset(prior, 0, sizeof(*prior));  /* ownership moved */
	return SG_OK;
}

/* The idempotent repeat: 1 when answered (*out or *p filled, *rc set), 0 when not a repeat. */
static int
idempotent_repeat(sg_service *svc, const sg_caller *c, const sg_submit *in, sg_outcome *out,
    sg_problem *p, int *rc)
{
	sg_store *s = svc->store;
	sg_request prior;
	if (in->idempotency_key == NULL)
		return 0;
	if (s->ops->request_find_idempotent(s, c->tenant->id, c->principal->id, in->idempotency_key,
	    &prior) != SG_OK)
		return 0;
	if (!sg_ct_equal(prior.body_hash, in->body_hash, sizeof(prior.body_hash)))
		*rc = say(p, SG_ERR_CONFLICT, "Idempotency-Key was already used with a different request body");
	else
		*rc = replay(svc, &prior, out);
	sg_request_clear(&prior);
	return 1;
}

int
sg_svc_submit(sg_service *svc, const sg_caller *c, const sg_submit *in, sg_outcome *out, sg_problem *p)
{
	sg_policy pol;
	int has_policy = 0, r = SG_ERR_INTERNAL, timestamp = in->timestamp;
	resolved rs;
	sg_request rq;
	sg_signature sig;
	sg_audit_entry audit;
	const char *errmsg = NULL, *key = in->key;

	memset(&pol, 0, sizeof(pol));
	memset(&rs, 0, sizeof(rs));
	memset(&rq, 0, sizeof(rq));
	memset(&sig, 0, sizeof(sig));
	if (idempotent_repeat(svc, c, in, out, p, &r))
		return r;
	if ((in->key == NULL) == (in->policy == NULL))
		return say(p, SG_ERR_INVALID_ARGUMENT, "give exactly one of 'key' and 'policy'");
	sg_hash_alg hash = in->hash;
	const uint8_t *digest = in->digest;
	size_t digest_len = in->digest_len;
	uint8_t message_digest[SG_MAX_DIGEST];
	if (in->message != NULL && (r = message_hash(in->message, in->message_len, in->digest_len,
	    message_digest, p)) != SG_OK)
		return r;
	if (in->message != NULL) {
		hash = SG_HASH_SHA512;
		digest = message_digest;
		digest_len = 64;
	}
	if (in->policy != NULL) {
		if ((r = sg_svc_policy_get(svc, c, in->policy, &pol, p)) != SG_OK)
			return r;
		has_policy = 1;
		key = pol.key_id;
		timestamp = timestamp || pol.timestamp;
	}
	resolve_in ri = { key, in->key_version, hash, digest_len, in->scheme, in->scheme_key_alg,
		in->format, in->pss_salt_len, in->context, in->context_len, in->message != NULL };
	if ((r = resolve(svc, c, &ri, 1, has_policy && pol.allow_legacy_hashes, &rs, p)) != SG_OK)
		goto out;
	const char *hash_name = sg_hash_name(rs.params.hash);
	const char *scheme_name = sg_scheme_name(rs.params.scheme, rs.key.alg);
	if (has_policy && (r = policy_check(&pol, hash_name, scheme_name, in->metadata_json, p)) != SG_OK)
		goto out;
	if (timestamp && svc->tsa == NULL) {
		r = say(p, SG_ERR_UNAVAILABLE, "the time-stamp authority is not available");
		goto out;
	}

	int64_t now = sg_now_ms();
	if ((r = sg_uuid(rq.id)) != SG_OK) {
		r = say(p, SG_ERR_INTERNAL, "cannot make a request id");
		goto out;
	}
	const char *format_name = sg_format_name(rs.params.format);
	sg_strlcpy(rq.tenant_id, c->tenant->id, sizeof(rq.tenant_id));
	sg_strlcpy(rq.principal_id, c->principal->id, sizeof(rq.principal_id));
	sg_strlcpy(rq.key_id, rs.key.id, sizeof(rq.key_id));
	/* An explicit version is kept; otherwise the current one when the request is signed. */
	rq.key_version = in->key_version > 0 ? rs.version.version : 0;
	if (has_policy)
		snprintf(rq.policy, sizeof(rq.policy), "%s/%s", pol.project, pol.slug);
	sg_strlcpy(rq.hash_alg, hash_name, sizeof(rq.hash_alg));
	sg_strlcpy(rq.sig_scheme, scheme_name, sizeof(rq.sig_scheme));
	sg_strlcpy(rq.sig_format, rs.params.message ? SG_SIGNING_MESSAGE_FORMAT : format_name ? format_name : "",
	    sizeof(rq.sig_format));
	rq.pss_salt_len = rs.params.pss_salt_len;
	memcpy(rq.digest, digest, digest_len);
	rq.digest_len = digest_len;
	if (in->context_len)
		memcpy(rq.context, in->context, in->context_len);
	rq.context_len = in->context_len;
	rq.timestamp = timestamp;
	if (in->metadata_json != NULL && (rq.metadata_json = strdup(in->metadata_json)) == NULL) {
		r = say(p, SG_ERR_NOMEM, "out of memory");
		goto out;
	}
	sg_strlcpy(rq.client_ip, c->client_ip ? c->client_ip : "", sizeof(rq.client_ip));
	sg_strlcpy(rq.client_type, c->client_type ? c->client_type : "", sizeof(rq.client_type));
	if (in->original_request_id)
		sg_strlcpy(rq.original_request_id, in->original_request_id, sizeof(rq.original_request_id));
	if (in->description)
		sg_strlcpy(rq.description, in->description, sizeof(rq.description));
	if (in->idempotency_key)
		sg_strlcpy(rq.idempotency_key, in->idempotency_key, sizeof(rq.idempotency_key));
	memcpy(rq.body_hash, in->body_hash, sizeof(rq.body_hash));
	rq.created_at = rq.updated_at = now;
	rq.approvals_required = has_policy ? pol.approvals_required : 0;
	if (in->require_approval && rq.approvals_required < 1)
		rq.approvals_required = 1;

	int fast = !in->async && rq.approvals_required == 0 && (!has_policy || pol.allow_fast);
	if (!fast && rs.params.message) {
		/* The message is not stored, so nothing could sign it later. */
		r = say(p, SG_ERR_INVALID_ARGUMENT, "a message is signed only in the call (it is not stored), "
		    "but this request %s; send the message's digest instead", in->async ? "is async" :
		    rq.approvals_required > 0 ? "needs approval" : "is queued by its policy");
		goto out;
	}
	if (!fast) {
		sg_request_status st = rq.approvals_required > 0 ? SG_RQ_PENDING_APPROVAL : SG_RQ_QUEUED;
		sg_strlcpy(rq.status, sg_request_status_name(st), sizeof(rq.status));
		if (st == SG_RQ_PENDING_APPROVAL && has_policy && pol.approval_timeout_seconds > 0)
			rq.approval_deadline = now + pol.approval_timeout_seconds * 1000;
		if (st == SG_RQ_QUEUED)
			rq.next_attempt_at = now;
		audit_init(c, &audit, "request.submitted", rq.id);
		/* Through the group committer too: async submissions share fsyncs like signatures. */
		r = sg_commit_signature(svc->committer, &rq, NULL, &audit);
		if (r == SG_ERR_CONFLICT && in->idempotency_key && idempotent_repeat(svc, c, in, out, p, &r))
			goto out;
		if (r != SG_OK) {
			r = say(p, r, "cannot store the request");
			goto out;
		}
		if (st == SG_RQ_QUEUED)
			sg_queue_notify(svc->queue);
		memset(out, 0, sizeof(*out));
		out->kind = st == SG_RQ_QUEUED ? SG_OUTCOME_QUEUED : SG_OUTCOME_PENDING_APPROVAL;
		out->request = rq;
		out->key = rs.key;
		memset(&rq, 0, sizeof(rq));
		goto out;
	}

	/* Key, version and parameters were checked by resolve: signing does not look again. */
	r = sg_signing_sign(svc, &rq, &rs.key, &rs.version, &rs.params, rs.params.message ? in->message : NULL,
	    in->message_len, &sig, &errmsg);
	if (r != SG_OK) {
		r = say(p, r, "%s", errmsg ? errmsg : "signing failed");
		goto out;
	}
	sg_strlcpy(rq.status, sg_request_status_name(SG_RQ_SIGNED), sizeof(rq.status));
	sg_strlcpy(rq.signature_id, sig.id, sizeof(rq.signature_id));
	rq.key_version = sig.key_version;
	rq.attempts = 1;
	audit_init(c, &audit, "request.signed", rq.id);
	/* Durable before the client hears of it: a signature without a record must not exist. */
	r = sg_commit_signature(svc->committer, &rq, &sig, &audit);
	if (r == SG_ERR_CONFLICT && in->idempotency_key && idempotent_repeat(svc, c, in, out, p, &r))
		goto out;  /* a concurrent twin won; this signature is dropped unrecorded */
	if (r != SG_OK) {
		r = say(p, r, "cannot record the signature");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->kind = SG_OUTCOME_SIGNED;
	out->key = rs.key;
	out->signature = sig;
	out->has_signature = 1;
	memset(&sig, 0, sizeof(sig));
	/* The record shares rq's metadata text; give the outcome its own copy. */
	if (out->signature.metadata_json == rq.metadata_json)
		out->signature.metadata_json = rq.metadata_json ? strdup(rq.metadata_json) : NULL;
	out->request = rq;
	memset(&rq, 0, sizeof(rq));
out:
	if (sig.metadata_json == rq.metadata_json)
		sig.metadata_json = NULL;  /* borrowed from rq */
	sg_signature_clear(&sig);
	sg_request_clear(&rq);
	sg_key_version_clear(&rs.version);
	sg_policy_clear(&pol);
	return r;
}

/* Resubmit; keep_scheme also carries the original's scheme, format, salt and context. */
static int
resubmit(sg_service *svc, const sg_caller *c, const char *original_id, const char *policy,
    const char *description, int keep_scheme, sg_outcome *out, sg_problem *p)
{
	sg_store *s = svc->store;
	sg_request orig;
	int r = s->ops->request_get(s, c->tenant->id, original_id, &orig);
	if (r != SG_OK)
		return say(p, r, r == SG_ERR_NOT_FOUND ? "no such request" : "cannot load the request");
	if (sg_request_status_of(&orig) != SG_RQ_SIGNED) {
		r = say(p, SG_ERR_PRECONDITION, "only a SIGNED request can be resubmitted; this one is %s",
		    orig.status);
		goto out;
	}
	if (strcmp(orig.sig_format, SG_SIGNING_MESSAGE_FORMAT) == 0) {
		r = say(p, SG_ERR_PRECONDITION, "a message signature cannot be resubmitted: the message is "
		    "not kept");
		goto out;
	}
	sg_submit in;
	memset(&in, 0, sizeof(in));
	in.policy = policy;
	in.hash = sg_hash_from_name(orig.hash_alg);
	in.digest = orig.digest;
	in.digest_len = orig.digest_len;
	in.pss_salt_len = -1;
	in.metadata_json = orig.metadata_json;
	in.original_request_id = orig.id;
	in.description = description;
	if (keep_scheme) {
		int fmt = orig.sig_format[0] ? sg_format_from_name(orig.sig_format) : SG_FORMAT_DEFAULT;
		in.scheme = sg_scheme_from_name(orig.sig_scheme);
		in.scheme_key_alg = sg_scheme_name_key_alg(orig.sig_scheme);
		in.format = fmt < 0 ? SG_FORMAT_DEFAULT : (sg_sig_format)fmt;
		in.pss_salt_len = orig.pss_salt_len;
		in.context = orig.context_len ? orig.context : NULL;
		in.context_len = orig.context_len;
	}
	r = sg_svc_submit(svc, c, &in, out, p);
out:
	sg_request_clear(&orig);
	return r;
}

int
sg_svc_resubmit(sg_service *svc, const sg_caller *c, const char *original_id, const char *policy,
    const char *description, sg_outcome *out, sg_problem *p)
{
	return resubmit(svc, c, original_id, policy, description, 0, out, p);
}

int
sg_svc_resubmit_keep(sg_service *svc, const sg_caller *c, const char *original_id, const char *policy,
    const char *description, sg_outcome *out, sg_problem *p)
{
	return resubmit(svc, c, original_id, policy, description, 1, out, p);
}

/* ---- verification ---- */

int
sg_svc_verify(sg_service *svc, const sg_caller *c, const sg_verify *in, sg_verify_result *out,
    sg_problem *p)
{
	resolved rs;
	uint8_t message_digest[SG_MAX_DIGEST];
	int r;
	if (in->message != NULL && (r = message_hash(in->message, in->message_len, in->digest_len,
	    message_digest, p)) != SG_OK)
		return r;
	resolve_in ri = { in->key, in->key_version, in->message ? SG_HASH_SHA512 : in->hash,
		in->message ? 64 : in->digest_len, in->scheme, in->scheme_key_alg, in->format,
		in->pss_salt_len, in->context, in->context_len, in->message != NULL };
	if ((r = resolve(svc, c, &ri, 0, 1, &rs, p)) != SG_OK)
		return r;
	/* ML-DSA and Ed25519 check the message itself, the composite its SHA-512 pre-hash. */
	const uint8_t *input = in->message == NULL ? in->digest : rs.params.message ? in->message : message_digest;
	size_t input_len = in->message == NULL ? in->digest_len : rs.params.message ? in->message_len : 64;
	r = sg_verify_digest(rs.key.alg, rs.version.spki, rs.version.spki_len, &rs.params, input,
	    input_len, in->signature, in->signature_len);
	if (r != SG_OK && r != SG_ERR_BAD_SIGNATURE && r != SG_ERR_BAD_ENCODING && r != SG_ERR_CRYPTO) {
		r = say(p, r, "cannot verify");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->valid = r == SG_OK;
	out->key = rs.key;
	out->key_version = rs.version.version;
	out->scheme = rs.params.scheme;
	r = SG_OK;
out:
	sg_key_version_clear(&rs.version);
	return r;
}

/* ---- lookups ---- */

int
sg_svc_request_get(sg_service *svc, const sg_caller *c, const char *id, sg_request *out, sg_signature *sig,
    int *has_signature, sg_problem *p)
{
	sg_store *s = svc->store;
	int r = s->ops->request_get(s, c->tenant->id, id, out);
	if (r != SG_OK)
		return say(p, r, r == SG_ERR_NOT_FOUND ? "no such request" : "cannot load the request");
	*has_signature = 0;
	if (sig != NULL && sg_request_status_of(out) == SG_RQ_SIGNED &&
	    s->ops->signature_get(s, c->tenant->id, out->signature_id, sig) == SG_OK)
		*has_signature = 1;
	return SG_OK;
}

int
sg_svc_signature_get(sg_service *svc, const sg_caller *c, const char *id, sg_signature *out, sg_problem *p)
{
	sg_store *s = svc->store;
	int r = s->ops->signature_get(s, c->tenant->id, id, out);
	if (r != SG_OK)
		return say(p, r, r == SG_ERR_NOT_FOUND ? "no such signature" : "cannot load the signature");
	return SG_OK;
}

int
sg_svc_policies_for_submitter(sg_service *svc, const sg_caller *c, sg_policy **out, size_t *n,
    sg_problem *p)
{
	sg_store *s = svc->store;
	*out = NULL;
	*n = 0;
	if ((c->principal->roles & SG_ROLE_SIGNER) == 0)
		return SG_OK;
	int r = s->ops->policy_list(s, c->tenant->id, out, n);
	if (r != SG_OK)
		return say(p, r, "cannot list the policies");
	return SG_OK;
}

int
sg_svc_key_version_get(sg_service *svc, const sg_caller *c, const sg_key *key, int version,
    sg_key_version *out, sg_problem *p)
{
	sg_store *s = svc->store;
	if (strcmp(key->tenant_id, c->tenant->id) != 0)
		return say(p, SG_ERR_NOT_FOUND, "no key '%.128s'", key->alias);
	int v = version > 0 ? version : key->current_version;
	int r = s->ops->key_version_get(s, c->tenant->id, key->id, v, out);
	if (r != SG_OK)
		return say(p, r, "key '%s' has no version %d", key->alias, v);
	return SG_OK;
}

/* ---- approvals ---- */

int
sg_svc_may_vote(sg_service *svc, const sg_caller *c, const sg_request *rq)
{
	sg_store *s = svc->store;
	sg_policy pol;
	char project[SG_NAME_MAX + 1];
	const char *slug;
	unsigned roles = c->principal->roles;
	int ok = 0;
	if (split_policy(rq->policy, project, &slug) != SG_OK)
		return (roles & SG_ROLE_APPROVER) != 0;
	if (s->ops->policy_get(s, c->tenant->id, project, slug, &pol) != SG_OK)
		return 0;
	json_t *ap = pol.approvers ? json_loads(pol.approvers, 0, NULL) : NULL;
	json_t *role = json_object_get(ap, "role"), *list = json_object_get(ap, "principals");
	if (json_is_string(role)) {
		ok = (roles & sg_role_from_name(json_string_value(role))) != 0;
	} else if (json_is_array(list)) {
		size_t i;
		json_t *v;
		json_array_foreach(list, i, v) {
			if (json_is_string(v) && strcmp(json_string_value(v), c->principal->id) == 0)
				ok = 1;
		}
	} else {
		ok = (roles & SG_ROLE_APPROVER) != 0;
	}
	json_decref(ap);
	sg_policy_clear(&pol);
	return ok;
}

int
sg_svc_vote(sg_service *svc, const sg_caller *c, const char *id, int approve, const char *comment,
    sg_request *after, sg_problem *p)
{
	sg_store *s = svc->store;
	sg_request rq;
	sg_approval a;
	sg_audit_entry audit;
	char status[SG_STATUS_MAX];
	int r;

	if (!approve && (comment == NULL || comment[0] == 0))
		return say(p, SG_ERR_INVALID_ARGUMENT, "a rejection needs a 'comment' saying why");
	if ((r = s->ops->request_get(s, c->tenant->id, id, &rq)) != SG_OK)
		return say(p, r, r == SG_ERR_NOT_FOUND ? "no such request" : "cannot load the request");
	int64_t now = sg_now_ms();
	if (rq.approval_deadline > 0 && now > rq.approval_deadline &&
	    sg_request_status_of(&rq) == SG_RQ_PENDING_APPROVAL) {
		/* Close it now rather than at the next sweep, so the answer is the final state. */
		size_t expired = 0;
		(void)s->ops->request_expire_approvals(s, now, NULL, &expired);
		r = say(p, SG_ERR_PRECONDITION, "the approval window of this request has expired");
		goto out;
	}
	if (!sg_svc_may_vote(svc, c, &rq)) {
		r = say(p, SG_ERR_PERMISSION_DENIED, rq.policy[0] ?
		    "this principal is not in the approver group of policy %s" :
		    "this principal is not an approver%s", rq.policy);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	sg_strlcpy(a.request_id, rq.id, sizeof(a.request_id));
	sg_strlcpy(a.tenant_id, c->tenant->id, sizeof(a.tenant_id));
	sg_strlcpy(a.approver_id, c->principal->id, sizeof(a.approver_id));
	sg_strlcpy(a.decision, approve ? "APPROVED" : "REJECTED", sizeof(a.decision));
	sg_strlcpy(a.comment, comment ? comment : "", sizeof(a.comment));
	a.created_at = now;
	audit_init(c, &audit, approve ? "approval.approved" : "approval.rejected", rq.id);
	if ((r = s->ops->approval_add(s, &a, &audit, status)) != SG_OK) {
		r = say(p, r, "%s", r == SG_ERR_PERMISSION_DENIED ? "the submitter cannot approve its own request" :
		    r == SG_ERR_CONFLICT ? "this approver has already voted on this request" :
		    r == SG_ERR_PRECONDITION ? "the request is not waiting for approval" :
		    "cannot record the vote");
		goto out;
	}
	sg_info("request %s %s by %s; now %s", rq.id, a.decision, c->principal->id, status);
	if (sg_request_status_from_name(status) == SG_RQ_QUEUED)
		sg_queue_notify(svc->queue);
	sg_request_clear(&rq);
	if ((r = s->ops->request_get(s, c->tenant->id, id, &rq)) != SG_OK) {
		r = say(p, r, "cannot reload the request");
		goto out;
	}
	*after = rq;
	return SG_OK;
out:
	sg_request_clear(&rq);
	return r;
}

int
sg_svc_votes(sg_service *svc, const sg_caller *c, const char *id, sg_approval **out, size_t *n,
    int *approved, sg_problem *p)
{
	sg_store *s = svc->store;
	sg_approval *list = NULL;
	size_t count = 0;
	int r = s->ops->approval_list(s, c->tenant->id, id, &list, &count);
	if (r != SG_OK)
		return say(p, r, "cannot list the votes");
	*approved = 0;
	for (size_t i = 0; i < count; i++)
		if (strcmp(list[i].decision, "APPROVED") == 0)
			(*approved)++;
	*out = list;
	*n = count;
	return SG_OK;
}
