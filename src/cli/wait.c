/*
 * wait.c - following a signing request until it is SIGNED or has failed.
 *
 * A request that needs approvals or runs on the queue answers 202 and is
 * then polled at GET /v1/requests/{id}: quickly at first (a worker usually
 * signs within moments), backing off to one poll every two seconds (an
 * approval can take hours), and quickly again whenever the status moves.
 * The person waiting sees the status and the votes so far on stderr; stdout
 * stays free for the result.  `requests wait` and `sign-file` share this.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sg_cli.h"
#include "sg_util.h"

/* Consecutive transport or 503 failures survived while waiting. */
#define SG_CLI_WAIT_RETRIES 5

unsigned
sg_cli_backoff_next(unsigned ms)
{
	if (ms < SG_CLI_POLL_MIN_MS)
		return SG_CLI_POLL_MIN_MS;
	if (ms >= SG_CLI_POLL_MAX_MS / 2)
		return SG_CLI_POLL_MAX_MS;
	return ms * 2;
}

int
sg_cli_status_final(const char *status)
{
	static const char *const finals[] = { "SIGNED", "FAILED", "REJECTED", "DEAD_LETTER",
	    NULL };

	for (size_t i = 0; status != NULL && finals[i] != NULL; i++) {
		if (strcmp(status, finals[i]) == 0)
			return 1;
	}
	return 0;
}

void
sg_cli_wait_line(char *buf, size_t n, const char *id, const json_t *request,
    int64_t approvals, int64_t elapsed_s)
{
	char status[40], err[200], sid[80], extra[96] = "", errpart[240] = "";
	int64_t required = sg_cli_json_int(request, "approvals_required");

	sg_cli_plain(sid, sizeof(sid), id);
	sg_cli_plain(status, sizeof(status), sg_cli_json_str(request, "status") != NULL ?
	    sg_cli_json_str(request, "status") : "UNKNOWN");
	if (strcmp(status, "PENDING_APPROVAL") == 0 && required > 0) {
		if (approvals >= 0)
			snprintf(extra, sizeof(extra), ", approvals %lld/%lld", (long long)approvals,
			    (long long)required);
		else
			snprintf(extra, sizeof(extra), ", %lld approval%s required",
			    (long long)required, required == 1 ? "" : "s");
	}
	/* A waiting request's error is the last transient failure: worth seeing. */
	if (!sg_cli_status_final(status) && sg_cli_json_str(request, "error") != NULL) {
		sg_cli_plain(err, sizeof(err), sg_cli_json_str(request, "error"));
		snprintf(errpart, sizeof(errpart), " (last error: %s)", err);
	}
	snprintf(buf, n, "request %s: %s%s%s, %llds", sid, status, extra, errpart,
	    (long long)elapsed_s);
}

int
sg_cli_request_outcome(const json_t *request)
{
	const char *status = sg_cli_json_str(request, "status");
	const char *id = sg_cli_json_str(request, "id");
	const char *error = sg_cli_json_str(request, "error");

	if (status != NULL && strcmp(status, "SIGNED") == 0)
		return SG_CLI_EXIT_OK;
	if (error == NULL && status != NULL && strcmp(status, "REJECTED") == 0) {
		/* The votes are for approvers, admins and auditors to read. */
		sg_cli_err("request %s is REJECTED by an approver (an approver, admin or auditor "
		    "sees why with 'signet approvals show %s')", id != NULL ? id : "?",
		    id != NULL ? id : "ID");
		return SG_CLI_EXIT_INVALID;
	}
	sg_cli_err("request %s is %s: %s", id != NULL ? id : "?",
	    status != NULL ? status : "in an unknown state",
	    error != NULL ? error : "the service gave no reason");
	return SG_CLI_EXIT_INVALID;
}

/* Sleep ms milliseconds, through signal interruptions. */
static void
sg_cli_sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * The votes of a request, when this principal may read them: the count of
 * APPROVED votes, or -1.  *denied is set when the roles do not allow it, so
 * the caller stops asking.  For a REJECTED request, reason (optional)
 * receives "rejected by APPROVER: COMMENT".
 */
static int64_t
sg_cli_votes(const sg_cli_conn *c, const char *id, int *denied, char *reason, size_t rlen)
{
	char path[512];
	json_t *view = NULL, *votes, *v;
	int64_t approvals = -1;
	size_t i;
	int r;

	if (sg_cli_id_path(path, sizeof(path), "approvals", id, "") != SG_OK) {
		sg_cli_err_clear();
		return -1;
	}
	r = sg_cli_call(c, "GET", path, NULL, NULL, &view);
	if (r == SG_ERR_PERMISSION_DENIED)
		*denied = 1;
	sg_cli_err_clear();
	if (r != SG_OK)
		return -1;
	approvals = sg_cli_json_uint(view, "approvals");
	votes = json_object_get(view, "votes");
	json_array_foreach(votes, i, v) {
		const char *decision = sg_cli_json_str(v, "decision");
		if (reason != NULL && decision != NULL && strcmp(decision, "REJECTED") == 0) {
			const char *who = sg_cli_json_str(v, "approver");
			const char *comment = sg_cli_json_str(v, "comment");
			snprintf(reason, rlen, "rejected by %s: %s", who != NULL ? who : "an approver",
			    comment != NULL ? comment : "(no comment)");
		}
	}
	json_decref(view);
	return approvals;
}

int
sg_cli_wait_request(const sg_cli_conn *c, const char *id, int64_t timeout_s, json_t **final)
{
	char path[512], line[512], last_status[40] = "";
	uint64_t start = sg_mono_ns();
	unsigned delay = SG_CLI_POLL_MIN_MS;
	int tty = isatty(STDERR_FILENO), drawn = 0, failures = 0, denied = 0, r;
	int64_t last_approvals = -2, elapsed_ms;
	json_t *req = NULL;

	if ((r = sg_cli_id_path(path, sizeof(path), "requests", id, "")) != SG_OK)
		return r;
	for (;;) {
		json_t *cur = NULL;
		const char *status;
		int64_t approvals = -1;

		r = sg_cli_call(c, "GET", path, NULL, NULL, &cur);
		elapsed_ms = (int64_t)((sg_mono_ns() - start) / 1000000u);
		if (r == SG_ERR_UNAVAILABLE && ++failures <= SG_CLI_WAIT_RETRIES) {
			/* A restart or a network blip should not end an hour-long wait. */
			sg_cli_err_clear();
			goto next;
		}
		if (r != SG_OK)
			goto out;
		failures = 0;
		json_decref(req);
		req = cur;
		if ((status = sg_cli_json_str(req, "status")) == NULL) {
			sg_cli_err("service answer for request %s has no status", id);
			r = SG_ERR_BAD_ENCODING;
			goto out;
		}
		if (strcmp(status, "PENDING_APPROVAL") == 0 && !denied)
			approvals = sg_cli_votes(c, id, &denied, NULL, 0);
		if (strcmp(status, "REJECTED") == 0 && sg_cli_json_str(req, "error") == NULL) {
			char reason[1200] = "";
			(void)sg_cli_votes(c, id, &denied, reason, sizeof(reason));
			if (reason[0] != '\0')
				json_object_set_new(req, "error", json_string(reason));
		}
		sg_cli_wait_line(line, sizeof(line), id, req, approvals, elapsed_ms / 1000);
		if (tty) {
			fprintf(stderr, "\r%s\033[K", line);
			drawn = 1;
		} else if (strcmp(status, last_status) != 0 || approvals != last_approvals) {
			fprintf(stderr, "%s\n", line);
		}
		fflush(stderr);
		if (strcmp(status, last_status) != 0)
			delay = SG_CLI_POLL_MIN_MS;  /* things are moving: look again soon */
		sg_strlcpy(last_status, status, sizeof(last_status));
		last_approvals = approvals;
		if (sg_cli_status_final(status)) {
			*final = req;
			req = NULL;
			r = SG_OK;
			goto out;
		}
next:
		if (timeout_s > 0 && elapsed_ms >= timeout_s * 1000) {
			sg_cli_err("timed out after %llds waiting for request %s (still %s)",
			    (long long)timeout_s, id, last_status[0] != '\0' ? last_status : "unknown");
			r = SG_ERR_UNAVAILABLE;
			goto out;
		}
		/* The last sleep ends at the deadline, for one more look. */
		if (timeout_s > 0 && (int64_t)delay > timeout_s * 1000 - elapsed_ms)
			sg_cli_sleep_ms((unsigned)(timeout_s * 1000 - elapsed_ms));
		else
			sg_cli_sleep_ms(delay);
		delay = sg_cli_backoff_next(delay);
	}
out:
	if (drawn)
		fputc('\n', stderr);
	json_decref(req);
	return r;
}
