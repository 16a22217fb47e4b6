/*
 * config.h - signetd configuration: defaults, then the config file, then
 * environment variables, then command-line flags, each overriding the last.
 *
 * The file is lines of "key = value" ('#' starts a comment).  Keys and their
 * environment names:
 *   listen          SIGNET_LISTEN          127.0.0.1:8080
 *   data_dir        SIGNET_DATA_DIR        ./signet-data
 *   threads         SIGNET_THREADS         16
 *   log_level       SIGNET_LOG_LEVEL       info
 *   tls_cert        SIGNET_TLS_CERT        (none: plain HTTP)
 *   tls_key         SIGNET_TLS_KEY
 *   tls_client_ca   SIGNET_TLS_CLIENT_CA   (none: no client certificates)
 *   key_cache       SIGNET_KEY_CACHE       true
 *   commit_batch    SIGNET_COMMIT_BATCH    256
 *   workers         SIGNET_WORKERS         4       async signing threads
 *   lease_seconds   SIGNET_LEASE_SECONDS   30      a claimed job's lease
 *   max_attempts    SIGNET_MAX_ATTEMPTS    5       then DEAD_LETTER
 *   retry_base_ms   SIGNET_RETRY_BASE_MS   500     first retry delay (doubles)
 *   idempotency_ttl_seconds  SIGNET_IDEMPOTENCY_TTL_SECONDS  86400
 *   tsa_cert        SIGNET_TSA_CERT        (none: a keystore key, docs/tsa.md) issued
 *                                          TSA certificate, PEM
 *   tsa_key         SIGNET_TSA_KEY         its private key (PEM file); with tsa_cert
 *   tsa_storage     SIGNET_TSA_STORAGE     DISK    where the generated TSA key lives:
 *                                                  DISK (sealed by the master key, in
 *                                                  the store) or HSM (in the token)
 *   tsa_key_type    SIGNET_TSA_KEY_TYPE    EC-P256 or RSA-3072, of a generated TSA key
 *   tsa_chain       SIGNET_TSA_CHAIN       (none) issuing CA chain of tsa_cert
 *   tsa_policy      SIGNET_TSA_POLICY      sg_tsa.h's placeholder OID
 *   tsa_accuracy_ms SIGNET_TSA_ACCURACY_MS 1000
 *   pkcs11_module   SIGNET_PKCS11_MODULE   (none: no HSM) path of the PKCS#11 library
 *   pkcs11_token    SIGNET_PKCS11_TOKEN    token label
 *   pkcs11_pin      SIGNET_PKCS11_PIN      user PIN (prefer the file)
 *   pkcs11_pin_file SIGNET_PKCS11_PIN_FILE file holding the PIN (mode 0600 advised)
 *   pkcs11_sessions SIGNET_PKCS11_SESSIONS 8       session pool size
 *   master_key      SIGNET_MASTER_KEY      file    what seals DISK keys: "file"
 *                                                  (data_dir/master.key) or "hsm"
 *                                                  (an AES key in the PKCS#11 token)
 *   master_key_file SIGNET_MASTER_KEY_FILE data_dir/master.key  path of the master key
 *                                          file (mode 0600; created when missing); with
 *                                          several nodes on one database, the same file
 *   store           SIGNET_STORE_URL       (none: SQLite, data_dir/signet.db) a libpq URI
 *                                          postgresql://user:password@host:port/db
 *                                          (also postgres://); flag --store beats both
 *   store_open_timeout_seconds SIGNET_STORE_OPEN_TIMEOUT 60  how long a start keeps
 *                                          retrying a PostgreSQL store it cannot reach
 *                                          (0: one attempt)
 *   master_key_label SIGNET_MASTER_KEY_LABEL signet-master-key  CKA_LABEL of that
 *                                                  AES key (also seals ML-DSA keys
 *                                                  of storage HSM)
 *   log_format      SIGNET_LOG_FORMAT      text    "text" lines or "json" lines
 *   rate_limit_principal        SIGNET_RATE_LIMIT_PRINCIPAL        1000 requests/s
 *   rate_limit_principal_burst  SIGNET_RATE_LIMIT_PRINCIPAL_BURST  2 x rate
 *   rate_limit_address          SIGNET_RATE_LIMIT_ADDRESS          5000 requests/s
 *   rate_limit_address_burst    SIGNET_RATE_LIMIT_ADDRESS_BURST    2 x rate
 *   rate_limit_auth_failures    SIGNET_RATE_LIMIT_AUTH_FAILURES    1    per address/s
 *   rate_limit_auth_failures_burst SIGNET_RATE_LIMIT_AUTH_FAILURES_BURST 20
 *   auth_audit_interval_seconds SIGNET_AUTH_AUDIT_INTERVAL_SECONDS 60
 *   max_connections_per_address SIGNET_MAX_CONNECTIONS_PER_ADDRESS 256
 *   header_timeout_seconds      SIGNET_HEADER_TIMEOUT_SECONDS      30
 * A rate of 0 turns that limit off.
 * Notifications (docs/notifications.md):
 *   webhook_retry_base_ms SIGNET_WEBHOOK_RETRY_BASE_MS 1000  first retry delay (doubles; >= 100)
 *   webhook_retry_max_ms  SIGNET_WEBHOOK_RETRY_MAX_MS  60000 cap of the delay
 *   webhook_max_attempts  SIGNET_WEBHOOK_MAX_ATTEMPTS  50    then FAILED
 *   webhook_timeout_ms    SIGNET_WEBHOOK_TIMEOUT_MS    10000 one attempt, all in (connect: 3000 at most)
 *   smtp_url        SIGNET_SMTP_URL        (none: no e-mail) smtp://host:port
 *   smtp_from       SIGNET_SMTP_FROM       sender address; required with smtp_url
 *   public_url      SIGNET_PUBLIC_URL      (http://<listen>) base of the portal link in mail
 *   transit_mount   SIGNET_TRANSIT_MOUNT   transit  the Transit dialect's mount (/v1/<mount>/)
 * The bootstrap API key is taken only from SIGNET_BOOTSTRAP_API_KEY, never
 * from the file, so it cannot end up in a checked-in config.
 */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include "sg_err.h"

typedef struct sg_config {
	char listen[128];
	char data_dir[1024];
	unsigned threads;
	char log_level[16];
	char tls_cert[1024];
	char tls_key[1024];
	char tls_client_ca[1024];
	int key_cache;
	unsigned commit_batch;
	unsigned workers;
	int64_t lease_seconds;
	int64_t store_open_timeout_seconds;
	int64_t max_attempts;
	int64_t retry_base_ms;
	int64_t idempotency_ttl_seconds;
	char tsa_cert[1024];
	char tsa_key[1024];
	char tsa_chain[1024];
	char tsa_policy[128];
	int64_t tsa_accuracy_ms;
	char tsa_storage[8];         /* "DISK" or "HSM" */
	char tsa_key_type[16];       /* "EC-P256" or "RSA-3072" */
	char pkcs11_module[1024];
	char pkcs11_token[128];
	char pkcs11_pin[256];        /* secret: wiped by sg_config_wipe */
	char pkcs11_pin_file[1024];
	int64_t pkcs11_sessions;
	char master_key[8];          /* "file" or "hsm" */
	char master_key_label[65];   /* SG_PKCS11_KEY_LABEL_MAX bytes */
	char master_key_file[1024];  /* "" = data_dir/master.key */
	char store[1024];            /* "" = SQLite; secret (may hold a password): wiped */
	char log_format[8];          /* "text" or "json" */
	double rate_limit_principal, rate_limit_principal_burst;
	double rate_limit_address, rate_limit_address_burst;
	double rate_limit_auth_failures, rate_limit_auth_failures_burst;
	int64_t auth_audit_interval_seconds;
	int64_t max_connections_per_address;
	int64_t header_timeout_seconds;
	/* notifications (issue 15) */
	int64_t webhook_retry_base_ms;
	int64_t webhook_retry_max_ms;
	int64_t webhook_max_attempts;
	int64_t webhook_timeout_ms;
	char smtp_url[1024];
	char smtp_from[255];
	char public_url[1024];
	char transit_mount[64];      /* one path segment of [A-Za-z0-9._-] */
} sg_config;

/* Wipe the secrets a config may hold (the PKCS#11 PIN, the store URL's password). */
void sg_config_wipe(sg_config *c);

void sg_config_defaults(sg_config *c);
/* Apply a config file; errors name the file and line. */
int sg_config_load_file(sg_config *c, const char *path) SG_WUR;
/* Apply SIGNET_* environment variables. */
int sg_config_load_env(sg_config *c) SG_WUR;
/* Set one key (as in the file); SG_ERR_INVALID_ARGUMENT for unknown keys or bad values. */
int sg_config_set(sg_config *c, const char *key, const char *value) SG_WUR;

/* The startup error for a store URL that is not one (names no value: it may hold a password). */
#define SG_CONFIG_STORE_HINT "the store must be a PostgreSQL URL " \
	"(postgresql://user:password@host:port/db or postgres://...); leave it unset for " \
	"SQLite in the data directory"

/* The kind of store a URL names (sg_config.store). */
typedef enum sg_store_kind {
	SG_STORE_KIND_SQLITE = 0,    /* "": the embedded default */
	SG_STORE_KIND_POSTGRESQL,    /* postgresql:// or postgres:// */
	SG_STORE_KIND_INVALID,       /* anything else: a startup error */
} sg_store_kind;
sg_store_kind sg_config_store_kind(const char *url);

/*
 * Copy url into out (cap bytes) with the password of its userinfo, and any
 * password=... query parameter, replaced by "***", so it can be logged.
 */
void sg_config_redact_url(const char *url, char *out, size_t cap);

#endif
