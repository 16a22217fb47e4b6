/*
 * test_rules.c - the store's business rules (sg_store_rules.h) on their
 * own: who may vote, what a vote does, the expiry record, the audit chain
 * link, commit_batch's argument check.  Every back-end applies exactly
 * these inside its transactions; test_store.c checks that the SQLite one
 * does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sg_store.h"
#include "sg_store_rules.h"
#include "sg_util.h"

static int checks, failures;

#define CHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_RC(expr, want) do { \
	int rc_ = (expr); \
	checks++; \
	if (rc_ != (want)) { \
		failures++; \
		fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %s\n", __FILE__, __LINE__, \
		    #expr, rc_, sg_err_str(rc_), #want); \
	} \
} while (0)

static sg_approval
vote(const char *approver, const char *decision, int64_t at)
{
	sg_approval a;
	memset(&a, 0, sizeof(a));
	sg_strlcpy(a.request_id, "req-1", sizeof(a.request_id));
	sg_strlcpy(a.tenant_id, "tenant-a", sizeof(a.tenant_id));
	sg_strlcpy(a.approver_id, approver, sizeof(a.approver_id));
	sg_strlcpy(a.decision, decision, sizeof(a.decision));
	a.created_at = at;
	return a;
}

static void
test_vote_valid(void)
{
	sg_approval a = vote("bob", "APPROVED", 1000);
	CHECK_RC(sg_rule_vote_valid(&a), SG_OK);
	a = vote("bob", "REJECTED", 1000);
	CHECK_RC(sg_rule_vote_valid(&a), SG_OK);
	CHECK_RC(sg_rule_vote_valid(NULL), SG_ERR_INVALID_ARGUMENT);
	a = vote("bob", "approved", 1000);
	CHECK_RC(sg_rule_vote_valid(&a), SG_ERR_INVALID_ARGUMENT);
	a = vote("", "APPROVED", 1000);
	CHECK_RC(sg_rule_vote_valid(&a), SG_ERR_INVALID_ARGUMENT);
	a = vote("bob", "APPROVED", 1000);
	a.tenant_id[0] = '\0';
	CHECK_RC(sg_rule_vote_valid(&a), SG_ERR_INVALID_ARGUMENT);
	a = vote("bob", "APPROVED", 1000);
	a.request_id[0] = '\0';
	CHECK_RC(sg_rule_vote_valid(&a), SG_ERR_INVALID_ARGUMENT);
}

static void
test_vote_allowed(void)
{
	sg_approval a = vote("bob", "APPROVED", 1000);

	CHECK_RC(sg_rule_vote_allowed(&a, "alice", "PENDING_APPROVAL", 0), SG_OK);
	/* The window includes its last millisecond and closes after it. */
	CHECK_RC(sg_rule_vote_allowed(&a, "alice", "PENDING_APPROVAL", 1000), SG_OK);
	CHECK_RC(sg_rule_vote_allowed(&a, "alice", "PENDING_APPROVAL", 999), SG_ERR_PRECONDITION);
	CHECK_RC(sg_rule_vote_allowed(&a, "alice", "QUEUED", 0), SG_ERR_PRECONDITION);
	CHECK_RC(sg_rule_vote_allowed(&a, "alice", "REJECTED", 0), SG_ERR_PRECONDITION);
	/* The submitter never votes, whatever the decision. */
	CHECK_RC(sg_rule_vote_allowed(&a, "bob", "PENDING_APPROVAL", 0), SG_ERR_PERMISSION_DENIED);
	a = vote("bob", "REJECTED", 1000);
	CHECK_RC(sg_rule_vote_allowed(&a, "bob", "PENDING_APPROVAL", 0), SG_ERR_PERMISSION_DENIED);
	/* A closed request is closed before the submitter question is asked. */
	CHECK_RC(sg_rule_vote_allowed(&a, "bob", "SIGNED", 0), SG_ERR_PRECONDITION);
}

static void
test_vote_outcome(void)
{
	sg_vote_outcome o;
	sg_approval a = vote("bob", "APPROVED", 1234);

	CHECK(sg_rule_vote_counts(&a));
	sg_rule_vote_outcome(&a, 1, 2, &o);
	CHECK(o.to == NULL);

	sg_rule_vote_outcome(&a, 2, 2, &o);
	CHECK(o.to != NULL && strcmp(o.to, "QUEUED") == 0);
	CHECK(strcmp(o.audit.action, "request.queued") == 0);
	CHECK(strcmp(o.audit.actor, "bob") == 0);
	CHECK(strcmp(o.audit.object, "req-1") == 0);
	CHECK(strcmp(o.audit.tenant_id, "tenant-a") == 0);
	CHECK(o.audit.ts == 1234);
	CHECK(o.audit.details != NULL &&
	    strcmp(o.audit.details, "{\"approvals\":2,\"required\":2}") == 0);

	a = vote("carol", "REJECTED", 1500);
	CHECK(!sg_rule_vote_counts(&a));
	sg_rule_vote_outcome(&a, 0, 3, &o);
	CHECK(o.to != NULL && strcmp(o.to, "REJECTED") == 0);
	CHECK(strcmp(o.audit.action, "request.rejected") == 0);
	CHECK(strcmp(o.audit.actor, "carol") == 0);
	CHECK(o.audit.details == NULL);
	CHECK(o.audit.ts == 1500);
}

static void
test_expiry_audit(void)
{
	sg_request r;
	sg_audit_entry e;

	memset(&r, 0, sizeof(r));
	sg_strlcpy(r.id, "req-9", sizeof(r.id));
	sg_strlcpy(r.tenant_id, "tenant-b", sizeof(r.tenant_id));
	sg_strlcpy(r.principal_id, "alice", sizeof(r.principal_id));
	sg_rule_expiry_audit(&r, 777, &e);
	CHECK(strcmp(e.action, "request.expired") == 0);
	CHECK(e.actor[0] == '\0');
	CHECK(strcmp(e.object, "req-9") == 0);
	CHECK(strcmp(e.tenant_id, "tenant-b") == 0);
	CHECK(e.ts == 777);
	CHECK(e.details != NULL && strstr(e.details, SG_RULE_EXPIRED_ERROR) != NULL);
	CHECK(strcmp(SG_RULE_EXPIRED_STATUS, "REJECTED") == 0);
}

static void
test_audit_link(void)
{
	sg_audit_entry e[3], bad;
	uint8_t zero[32], h[32];
	int64_t seq = 0;
	const uint8_t *head = zero;

	memset(zero, 0, sizeof(zero));
	for (int i = 0; i < 3; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		sg_strlcpy(e[i].tenant_id, "tenant-a", sizeof(e[i].tenant_id));
		sg_strlcpy(e[i].action, "key.created", sizeof(e[i].action));
		e[i].ts = 100 + i;
		CHECK_RC(sg_audit_link(&e[i], seq, head), SG_OK);
		CHECK(e[i].seq == i + 1);
		CHECK(memcmp(e[i].prev_hash, head, 32) == 0);
		sg_audit_entry_hash(&e[i], head, h);
		CHECK(memcmp(e[i].hash, h, 32) == 0);
		seq = e[i].seq;
		head = e[i].hash;
	}
	/* Links differ, and a changed field changes the hash. */
	CHECK(memcmp(e[0].hash, e[1].hash, 32) != 0);
	e[1].ts++;
	sg_audit_entry_hash(&e[1], e[0].hash, h);
	CHECK(memcmp(e[1].hash, h, 32) != 0);

	memset(&bad, 0, sizeof(bad));
	bad.seq = 42;
	CHECK_RC(sg_audit_link(&bad, 7, zero), SG_ERR_INVALID_ARGUMENT);
	CHECK(bad.seq == 42);
}

static void
test_batch_valid(void)
{
	sg_request q1, q2;
	sg_signature g;

	memset(&q1, 0, sizeof(q1));
	memset(&q2, 0, sizeof(q2));
	memset(&g, 0, sizeof(g));
	sg_strlcpy(q1.id, "req-1", sizeof(q1.id));
	sg_strlcpy(q1.tenant_id, "tenant-a", sizeof(q1.tenant_id));
	sg_strlcpy(q2.id, "req-2", sizeof(q2.id));
	sg_strlcpy(q2.tenant_id, "tenant-a", sizeof(q2.tenant_id));
	sg_strlcpy(g.request_id, "req-2", sizeof(g.request_id));
	sg_strlcpy(g.tenant_id, "tenant-a", sizeof(g.tenant_id));

	const sg_request *reqs[] = { &q1, &q2 };
	const sg_signature *sigs[] = { NULL, &g };
	CHECK_RC(sg_rule_batch_valid(reqs, sigs, 2), SG_OK);
	CHECK_RC(sg_rule_batch_valid(reqs, NULL, 2), SG_OK);
	CHECK_RC(sg_rule_batch_valid(NULL, NULL, 0), SG_OK);
	CHECK_RC(sg_rule_batch_valid(NULL, NULL, 1), SG_ERR_INVALID_ARGUMENT);
	const sg_request *holes[] = { &q1, NULL };
	CHECK_RC(sg_rule_batch_valid(holes, NULL, 2), SG_ERR_INVALID_ARGUMENT);
	/* A signature filed under another request, or another tenant. */
	const sg_signature *misfiled[] = { &g, NULL };
	CHECK_RC(sg_rule_batch_valid(reqs, misfiled, 2), SG_ERR_INVALID_ARGUMENT);
	sg_strlcpy(g.tenant_id, "tenant-b", sizeof(g.tenant_id));
	CHECK_RC(sg_rule_batch_valid(reqs, sigs, 2), SG_ERR_INVALID_ARGUMENT);
}

static void
test_order_and_heads(void)
{
	sg_request r[3];
	sg_audit_head heads[2];

	memset(r, 0, sizeof(r));
	sg_strlcpy(r[0].id, "c", sizeof(r[0].id));
	r[0].created_at = 20;
	sg_strlcpy(r[1].id, "b", sizeof(r[1].id));
	r[1].created_at = 10;
	sg_strlcpy(r[2].id, "a", sizeof(r[2].id));
	r[2].created_at = 20;
	qsort(r, 3, sizeof(r[0]), sg_request_cmp_age);
	CHECK(strcmp(r[0].id, "b") == 0 && strcmp(r[1].id, "a") == 0 && strcmp(r[2].id, "c") == 0);

	memset(heads, 0, sizeof(heads));
	sg_strlcpy(heads[0].tenant_id, "tenant-a", sizeof(heads[0].tenant_id));
	sg_strlcpy(heads[1].tenant_id, "", sizeof(heads[1].tenant_id));
	CHECK(sg_audit_head_find(heads, 2, "tenant-a") == &heads[0]);
	CHECK(sg_audit_head_find(heads, 2, "") == &heads[1]);
	CHECK(sg_audit_head_find(heads, 1, "") == NULL);
	CHECK(sg_audit_head_find(heads, 2, "tenant-b") == NULL);
}

int
main(void)
{
	test_vote_valid();
	test_vote_allowed();
	test_vote_outcome();
	test_expiry_audit();
	test_audit_link();
	test_batch_valid();
	test_order_and_heads();
	printf("%d checks, %d failures\n", checks, failures);
	return failures == 0 && checks > 0 ? 0 : 1;
}
