/*
 * service.c - submission, verification, approvals and lookups (sg_svc.h).
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
	if (for_signing && sg_key_status_of(&out->key) != SG_KEY_ONLINE)
		return say(p, SG_ERR_KEY_NOT_ACTIVE, "key '%s' is %s", out->key.alias, out->key.status);
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
	if ((r = s->ops->key_version_get(s, out->key.id, version, &out->version)) != SG_OK)
		return say(p, r, "key '%s' has no version %d", out->key.alias, version);
	if (for_signing && sg_version_state_of(&out->version) != SG_VERSION_ACTIVE) {
		r = say(p, SG_ERR_KEY_NOT_ACTIVE, "version %d of key '%s' is %s", out->version.version,
		    out->key.alias, out->version.state);
		goto fail;
	}
	/* SPEC §1: the newest version signs; older ones remain for verification only. */
	if (for_signing && out->version.version != out->key.current_version) {
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
	if (s->ops->request_find_idempotent(s, c->principal->id, in->idempotency_key, &prior) != SG_OK)
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
	if (in->policy != NULL) {
		if ((r = sg_svc_policy_get(svc, c, in->policy, &pol, p)) != SG_OK)
			return r;
		has_policy = 1;
		key = pol.key_id;
		timestamp = timestamp || pol.timestamp;
	}
	resolve_in ri = { key, in->key_version, in->hash, in->digest_len, in->scheme, in->scheme_key_alg,
		in->format, in->pss_salt_len, in->context, in->context_len };
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
	sg_strlcpy(rq.sig_format, format_name ? format_name : "", sizeof(rq.sig_format));
	rq.pss_salt_len = rs.params.pss_salt_len;
	memcpy(rq.digest, in->digest, in->digest_len);
	rq.digest_len = in->digest_len;
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

	if ((r = sg_signing_execute(svc, &rq, &rs.key, &rs.version, &sig, &errmsg)) != SG_OK) {
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
	resolve_in ri = { in->key, in->key_version, in->hash, in->digest_len, in->scheme, in->scheme_key_alg,
		in->format, in->pss_salt_len, in->context, in->context_len };
	int r = resolve(svc, c, &ri, 0, 1, &rs, p);
	if (r != SG_OK)
		return r;
	r = sg_verify_digest(rs.key.alg, rs.version.spki, rs.version.spki_len, &rs.params, in->digest,
	    in->digest_len, in->signature, in->signature_len);
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
	int r = s->ops->key_version_get(s, key->id, v, out);
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
