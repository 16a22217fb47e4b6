/*
 * test_notify.c - the pure parts of src/notify: the Signet-Signature value
 * (known answers computed with Python's hmac module and the openssl command
 * line, not with this code), webhook URL checks and event names.  The
 * dispatcher itself is tested end to end in tests/e2e/notify.
 */
#include <stdio.h>
#include <string.h>
#include "sg_notify.h"

static int checks, failures;

#define CHECK(cond) do { \
	checks++; \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

static void
test_sign(void)
{
	static const char secret[] = "whsec-test-key-0123";
	static const char body[] = "{\"event\":\"request.signed\",\"request_id\":\"abc\"}";
	char out[SG_NOTIFY_SIGNATURE_MAX];

	/* printf '%s' '1700000000.<body>' | openssl dgst -sha256 -mac HMAC -macopt key:whsec-test-key-0123 */
	CHECK(sg_notify_sign((const uint8_t *)secret, strlen(secret), 1700000000, body, strlen(body),
	    out) == SG_OK);
	CHECK(strcmp(out, "t=1700000000,v1=a202cac7a0fd2e68af61a7af82c264b4a0198f097e7eb0f0624f61ee56d4d8ca") == 0);

	/* Empty body: HMAC-SHA256("k", "0.") */
	CHECK(sg_notify_sign((const uint8_t *)"k", 1, 0, NULL, 0, out) == SG_OK);
	CHECK(strcmp(out, "t=0,v1=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7") == 0);

	/* Another time gives another signature over the same body. */
	char later[SG_NOTIFY_SIGNATURE_MAX];
	CHECK(sg_notify_sign((const uint8_t *)secret, strlen(secret), 1700000001, body, strlen(body),
	    later) == SG_OK);
	CHECK(strncmp(later, "t=1700000001,v1=", 16) == 0 && strcmp(later + 16, out + 7) != 0);

	/* No secret: refused, output untouched. */
	memcpy(out, "unchanged", 10);
	CHECK(sg_notify_sign((const uint8_t *)secret, 0, 1, body, strlen(body), out) ==
	    SG_ERR_INVALID_ARGUMENT);
	CHECK(sg_notify_sign(NULL, 5, 1, body, strlen(body), out) == SG_ERR_INVALID_ARGUMENT);
	CHECK(strcmp(out, "unchanged") == 0);
}

static void
test_urls(void)
{
	CHECK(sg_notify_url_ok("http://127.0.0.1:8080/hook"));
	CHECK(sg_notify_url_ok("https://ci.example.com/signet?x=1"));
	CHECK(sg_notify_url_ok("http://[::1]:9/x"));
	CHECK(!sg_notify_url_ok(""));
	CHECK(!sg_notify_url_ok(NULL));
	CHECK(!sg_notify_url_ok("ftp://example.com/x"));
	CHECK(!sg_notify_url_ok("file:///etc/passwd"));
	CHECK(!sg_notify_url_ok("gopher://example.com/"));
	CHECK(!sg_notify_url_ok("example.com/hook"));
	CHECK(!sg_notify_url_ok("http://exa mple.com/"));
	CHECK(!sg_notify_url_ok("http://example.com/\r\nX: y"));
	CHECK(!sg_notify_url_ok("http://:80/x"));
	char longurl[SG_WEBHOOK_URL_MAX + 8];
	memcpy(longurl, "http://example.com/", 19);
	memset(longurl + 19, 'a', sizeof(longurl) - 20);
	longurl[sizeof(longurl) - 1] = '\0';
	CHECK(!sg_notify_url_ok(longurl));
}

static void
test_events(void)
{
	static const char *const names[] = { "approval.requested", "request.signed",
		"request.failed", "request.rejected", "request.dead_lettered", "key.rotated" };
	unsigned all = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unsigned bit = sg_notify_event_from_name(names[i]);
		CHECK(bit != 0 && (bit & (bit - 1)) == 0 && (all & bit) == 0);
		CHECK(sg_notify_event_name(bit) != NULL && strcmp(sg_notify_event_name(bit), names[i]) == 0);
		all |= bit;
	}
	CHECK(all == SG_EVENT_ALL);
	CHECK(sg_notify_event_from_name("request.dead_letter") == 0);  /* the audit action, not the event */
	CHECK(sg_notify_event_from_name("Request.Signed") == 0);
	CHECK(sg_notify_event_from_name(NULL) == 0);
	CHECK(sg_notify_event_name(0) == NULL);
	CHECK(sg_notify_event_name(3) == NULL);
}

int
main(void)
{
	test_sign();
	test_urls();
	test_events();
	printf("%d checks, %d failures\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
