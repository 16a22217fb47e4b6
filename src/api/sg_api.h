/*
 * sg_api.h - the HTTP front of signetd.
 *
 * sg_api_start() serves the native API (/v1), operations endpoints and,
 * later, the compatible dialects, on libmicrohttpd with a pool of threads.
 * Every request is authenticated (API key or registered TLS client
 * certificate) except the health checks and the public TSA, routed through
 * one table (router.c) and answered by one file per resource.  Handlers run
 * on the HTTP threads and share an sg_service: the store, the keystores and
 * the group committer, all thread-safe, so no lock is taken around signing.
 */
#ifndef SG_API_H
#define SG_API_H

#include <stddef.h>
#include "sg_err.h"
#include "sg_keystore.h"
#include "sg_store.h"
#include "sg_signing.h"

/*
 * Largest request body accepted, in bytes; larger ones get 413.  A dialect
 * may allow more on its own paths (api_dialect.max_body).
 */
#define SG_API_MAX_BODY (1024u * 1024u)



typedef struct sg_api_config {
	const char *listen;          /* "127.0.0.1:8080", "[::1]:8443", ":8080" */
	unsigned threads;            /* HTTP worker threads */
	/* TLS: PEM texts (not paths); NULL cert means plain HTTP. */
	const char *tls_cert_pem;
	const char *tls_key_pem;
	const char *tls_client_ca_pem; /* enables client-certificate authentication */
	/* The edge (SPEC §8); 0 = the default given. */
	unsigned max_conns_per_address; /* 256 */
	unsigned header_timeout_s;   /* 30: whole header, and idle keep-alive */
	double rate_limit_principal; /* requests/s per principal: 1000 (< 0: off) */
	double rate_limit_principal_burst; /* 2 x rate */
	double rate_limit_address;   /* requests/s per source address: 5000 (< 0: off) */
	double rate_limit_address_burst;   /* 2 x rate */
	double rate_limit_auth_failures;   /* failed authentications/s per address: 1 (< 0: off) */
	double rate_limit_auth_failures_burst; /* 20 */
	unsigned auth_audit_interval_s;    /* 60: one auth.failed summary per interval */
	const char *transit_mount;   /* the Transit dialect's /v1/<mount>/: NULL = "transit" */
} sg_api_config;

typedef struct sg_api sg_api;

/* Bind and start serving.  Returns SG_ERR_IO when the address cannot be bound. */
int sg_api_start(sg_service *svc, const sg_api_config *cfg, sg_api **out) SG_WUR;

/* The port actually bound (useful with port 0). */
unsigned sg_api_port(const sg_api *api);

/* Stop accepting, finish in-flight requests, free.  NULL is fine. */
void sg_api_stop(sg_api *api);

/*
 * First start: create tenant "default" and principal "bootstrap-admin"
 * (roles operator + admin) with an API key that is SIGNET_BOOTSTRAP_API_KEY
 * when set (env_key non-NULL), else generated, printed once on stdout and
 * written to key_file with mode 0600.  Later starts change nothing, except
 * that a given env_key which is not yet registered is added to the
 * bootstrap principal.  Several nodes starting at once on one empty
 * database (PostgreSQL, SPEC §6) end with one tenant and one principal: a
 * node whose create is refused as a conflict re-reads what the winner made
 * (waiting briefly for its principal) and writes no key file; only the
 * winner's generated key exists, in the winner's key_file.  So a cluster
 * should set SIGNET_BOOTSTRAP_API_KEY on every node (docs/operations.md).
 */
int sg_api_bootstrap(sg_service *svc, const char *env_key, const char *key_file) SG_WUR;

#endif
