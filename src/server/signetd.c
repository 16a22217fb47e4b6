/*
 * signetd.c - the Signet server.
 *
 * Start-up: read configuration (defaults < file < environment < flags),
 * make the data directory (0700), open the store (open_store: SQLite in
 * the data directory, or PostgreSQL when a store URL is given by --store,
 * SIGNET_STORE_URL or the config file's store, in that order), the keystores
 * (open_keystores: the software keystore, sealed by the master key file -
 * master_key_file, by default master.key in the data directory - or by an
 * AES key in the HSM, and with a PKCS#11 module the HSM keystore), start the group committer, open the time-stamp authority (its
 * key is a keystore key made on first start and recorded in the store:
 * tsa_key.h),
 * create the bootstrap principal on first start, start the signing
 * workers, then serve HTTP until SIGTERM or SIGINT, and shut down in
 * reverse order so that every signature already answered is on disk.
 *
 * Secrets given in the environment (SIGNET_PKCS11_PIN,
 * SIGNET_BOOTSTRAP_API_KEY, SIGNET_STORE_URL with its password) are copied and then overwritten in place and
 * unset before anything else runs, so /proc/<pid>/environ does not show
 * them for the life of the process.  The --store argument is copied and
 * overwritten in argv the same way (ps, /proc/<pid>/cmdline).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "config.h"
#include "sg_api.h"
#include "sg_keystore.h"
#include "sg_pkcs11.h"
#include "sg_log.h"
#include "sg_notify.h"
#include "sg_queue.h"
#include "sg_tsa.h"
#include "sg_secret.h"
#include "sg_store.h"
#include "sg_util.h"
#include "tsa_key.h"

#define PEM_MAX (1024u * 1024u)

/* The environment variables that hold secrets; each is taken by take_env_secret. */
static const char *const secret_env[] = { "SIGNET_PKCS11_PIN", "SIGNET_BOOTSTRAP_API_KEY",
	"SIGNET_STORE_URL" };
#define N_SECRET_ENV (sizeof(secret_env) / sizeof(secret_env[0]))

/*
 * Copy an environment variable's value, then overwrite the value's bytes
 * where the environment keeps them and unset it.  NULL when unset or empty
 * (or out of memory); free the copy with sg_free_secret_str.
 */
static char *
take_env_secret(const char *name)
{
	char *v = getenv(name);
	char *copy = NULL;
	if (v == NULL)
		return NULL;
	if (*v != 0)
		copy = strdup(v);
	sg_wipe(v, strlen(v));
	unsetenv(name);
	return copy;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: signetd [--listen ADDR:PORT] [--data-dir DIR] [--config FILE]\n"
	    "               [--store postgresql://USER:PASSWORD@HOST:PORT/DB] [--version]\n"
	    "\n"
	    "Starts the Signet signing service. With an empty data directory it starts on\n"
	    "embedded defaults: SQLite, software key store, plain HTTP on 127.0.0.1:8080 and a\n"
	    "bootstrap admin whose API key is SIGNET_BOOTSTRAP_API_KEY or is generated, printed once\n"
	    "to a terminal and written to DIR/bootstrap-admin.key. --store (or SIGNET_STORE_URL,\n"
	    "or store in the config file) puts the data in PostgreSQL, shared by several nodes.\n"
	    "See docs/operations.md.\n");
}

static int
read_pem(const char *path, char **out)
{
	uint8_t *p = NULL;
	size_t n = 0;
	int r = sg_read_file(path, PEM_MAX, &p, &n);
	if (r != SG_OK) {
		sg_error("cannot read %s: %s", path, sg_err_str(r));
		return r;
	}
	*out = (char *)p;
	return SG_OK;
}

/* Store URL from `source` (precedence: applied in order file, environment, flag). */
static int
set_store(sg_config *cfg, const char *url, const char *source)
{
	if (url == NULL)
		return SG_OK;
	if (sg_config_set(cfg, "store", url) != SG_OK) {
		sg_error("config: %s: %s", source, SG_CONFIG_STORE_HINT);
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

/*
 * Does libpq parse url?  Checked before connecting: libpq's parse errors
 * quote the URL's text, password included, and must not reach the log.
 */
static int
store_url_parses(const char *url)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &err);
	if (opts == NULL) {
		if (err != NULL) {
			sg_wipe(err, strlen(err));
			PQfreemem(err);
		}
		return 0;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (o->val != NULL)
			sg_wipe(o->val, strlen(o->val));
	PQconninfoFree(opts);
	return 1;
}

/*
 * The store cfg->store names: SQLite in the data directory when empty, else
 * PostgreSQL.  The URL's password is never logged.
 */
static int
open_store(const sg_config *cfg, sg_store **out)
{
	char path[1200];
	int r;

	switch (sg_config_store_kind(cfg->store)) {
	case SG_STORE_KIND_SQLITE:
		snprintf(path, sizeof(path), "%s/signet.db", cfg->data_dir);
		if ((r = sg_store_sqlite_open(path, out)) != SG_OK)
			sg_error("cannot open database %s", path);
		return r;
	case SG_STORE_KIND_POSTGRESQL: {
		sg_config_redact_url(cfg->store, path, sizeof(path));
		if (!store_url_parses(cfg->store)) {
			sg_error("the store URL %s is not a libpq URI that parses (libpq's message is not "
			    "shown: it may quote the password); percent-encode '/', '@', ':', '?' and "
			    "'#' in the user name and password (%%2F, %%40, %%3A, %%3F, %%23)", path);
			return SG_ERR_INVALID_ARGUMENT;
		}
		/*
		 * A database still starting (nodes and database booted together):
		 * retry an unreachable one with backoff for store_open_timeout_seconds.
		 */
		int64_t until = sg_now_ms() + cfg->store_open_timeout_seconds * 1000;
		unsigned delay_ms = 250;
		int stopped = 0;
		sigset_t stop;  /* blocked by main: a stop signal ends the wait at once */
		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		while ((r = sg_store_pg_open(cfg->store, out)) == SG_ERR_UNAVAILABLE) {
			int64_t left = until - sg_now_ms();
			if (left <= 0)
				break;
			if (delay_ms > left)
				delay_ms = (unsigned)left;
			sg_warn("store: PostgreSQL %s is unavailable; retrying in %u ms (for %lld s "
			    "more: store_open_timeout_seconds)", path, delay_ms, (long long)(left / 1000));
			struct timespec ts = { (time_t)(delay_ms / 1000), (long)(delay_ms % 1000) * 1000000L };
			if (sigtimedwait(&stop, NULL, &ts) > 0) {
				stopped = 1;
				break;
			}
			delay_ms = delay_ms * 2 > 5000 ? 5000 : delay_ms * 2;
		}
		if (stopped)
			sg_info("signetd: stop signal while waiting for the PostgreSQL store");
		else if (r == SG_ERR_UNAVAILABLE)
			sg_error("cannot open the PostgreSQL store %s: %s (gave up after "
			    "store_open_timeout_seconds = %lld)", path, sg_err_str(r),
			    (long long)cfg->store_open_timeout_seconds);
		else if (r != SG_OK)
			sg_error("cannot open the PostgreSQL store %s: %s", path, sg_err_str(r));
		else
			sg_info("store: PostgreSQL %s", path);
		return r;
	}
	case SG_STORE_KIND_INVALID:
		break;
	}
	sg_error("%s", SG_CONFIG_STORE_HINT);
	return SG_ERR_INVALID_ARGUMENT;
}

static int
ensure_dir(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? SG_OK : SG_ERR_IO;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		sg_error("cannot create data directory %s", dir);
		return SG_ERR_IO;
	}
	return SG_OK;
}

/* Open the PKCS#11 keystore; the PIN comes from pkcs11_pin or pkcs11_pin_file and is wiped. */
static int
open_hsm(sg_config *cfg, sg_keystore **out)
{
	uint8_t *filepin = NULL;
	size_t n = 0;
	int r;
	const char *pin = cfg->pkcs11_pin;

	if (!cfg->pkcs11_token[0]) {
		sg_error("pkcs11_module is set but pkcs11_token (the token label) is not");
		return SG_ERR_INVALID_ARGUMENT;
	}
	if (cfg->pkcs11_pin_file[0]) {
		if ((r = sg_read_file(cfg->pkcs11_pin_file, 1024, &filepin, &n)) != SG_OK) {
			sg_error("cannot read the PKCS#11 PIN file %s", cfg->pkcs11_pin_file);
			return r;
		}
		while (n > 0 && (filepin[n - 1] == '\n' || filepin[n - 1] == '\r'))
			filepin[--n] = 0;
		pin = (const char *)filepin;
	} else if (!pin[0]) {
		sg_error("the HSM needs a PIN: set SIGNET_PKCS11_PIN_FILE (or SIGNET_PKCS11_PIN)");
		return SG_ERR_INVALID_ARGUMENT;
	}
	sg_pkcs11_config pc = { .module = cfg->pkcs11_module, .token_label = cfg->pkcs11_token,
		.pin = pin, .pin_len = strlen(pin), .pool_size = (unsigned)cfg->pkcs11_sessions };
	r = sg_keystore_pkcs11_open(&pc, out);
	sg_free_secret(filepin, n + 1);
	sg_wipe(cfg->pkcs11_pin, sizeof(cfg->pkcs11_pin));
	if (r != SG_OK)
		sg_error("cannot open the HSM (module %s, token '%s'): %s", cfg->pkcs11_module,
		    cfg->pkcs11_token, sg_err_str(r));
	else
		sg_info("HSM: token '%s' via %s", cfg->pkcs11_token, cfg->pkcs11_module);
	return r;
}

/* The keystores for storage DISK and (with a PKCS#11 module) HSM: sg_custody_open. */
static int
open_keystores(sg_config *cfg, sg_service *svc)
{
	sg_keystore *p11 = NULL;
	char path[1200];
	int r;
	sg_custody_config cc = { .master_key_path = path,
		.master_key_in_hsm = strcmp(cfg->master_key, "hsm") == 0,
		.master_key_label = cfg->master_key_label, .cache_keys = cfg->key_cache };

	if (cfg->pkcs11_module[0] && (r = open_hsm(cfg, &p11)) != SG_OK)
		return r;
	if (cfg->master_key_file[0])
		sg_strlcpy(path, cfg->master_key_file, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/master.key", cfg->data_dir);
	if ((r = sg_custody_open(&cc, p11, &svc->soft, &svc->hsm)) != SG_OK) {
		sg_error("cannot open the key stores (master key %s)",
		    cc.master_key_in_hsm ? "in the HSM" : path);
		sg_keystore_close(p11);
	}
	return r;
}

/* Webhooks and approval mail (src/notify); the portal link defaults to this server's address. */
static int
start_notify(const sg_config *cfg, const sg_service *svc, int tls, unsigned port, sg_notify **out)
{
	char url[1200];
	const char *colon = strrchr(cfg->listen, ':');
	int hostlen = colon ? (int)(colon - cfg->listen) : (int)strlen(cfg->listen);
	snprintf(url, sizeof(url), "%s://%.*s:%u", tls ? "https" : "http", hostlen, cfg->listen, port);
	sg_notify_config ncfg = { .retry_base_ms = cfg->webhook_retry_base_ms,
		.retry_max_ms = cfg->webhook_retry_max_ms, .max_attempts = (int)cfg->webhook_max_attempts,
		.timeout_ms = cfg->webhook_timeout_ms,
		.connect_timeout_ms = cfg->webhook_timeout_ms < 3000 ? cfg->webhook_timeout_ms : 3000,
		.smtp_url = cfg->smtp_url, .smtp_from = cfg->smtp_from,
		.public_url = cfg->public_url[0] ? cfg->public_url : url };
	if (sg_notify_start(svc, &ncfg, out) != SG_OK) {
		sg_error("cannot start the notification dispatcher (see above)");
		return SG_ERR_INVALID_ARGUMENT;
	}
	return SG_OK;
}

int
main(int argc, char **argv)
{
	sg_config cfg;
	const char *config_path = getenv("SIGNET_CONFIG");
	const char *flag_listen = NULL, *flag_data = NULL;
	char *flag_store = NULL;  /* a copy: the argument itself is wiped (ps, /proc/<pid>/cmdline) */
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *secrets[N_SECRET_ENV];
	int c, status = 1;
	char path[1200];
	char *tls_cert = NULL, *tls_key = NULL, *tls_ca = NULL;
	sg_service svc;
	sg_api *api = NULL;
	sg_notify *notify = NULL;

	memset(&svc, 0, sizeof(svc));
	sg_config_defaults(&cfg);
	for (size_t k = 0; k < N_SECRET_ENV; k++)
		secrets[k] = take_env_secret(secret_env[k]);
	while ((c = getopt_long(argc, argv, "l:d:c:s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'l': flag_listen = optarg; break;
		case 'd': flag_data = optarg; break;
		case 'c': config_path = optarg; break;
		case 's':
			sg_free_secret_str(flag_store);
			if ((flag_store = strdup(optarg)) == NULL) {
				status = 1;
				goto out;
			}
			sg_wipe(optarg, strlen(optarg));
			break;
		case 'h': usage(stdout); status = 0; goto out;
		case 'V': printf("signetd %s\n", SIGNET_VERSION); status = 0; goto out;
		default: usage(stderr); status = 2; goto out;
		}
	}
	if (optind != argc) {
		usage(stderr);
		status = 2;
		goto out;
	}
	if ((config_path != NULL && sg_config_load_file(&cfg, config_path) != SG_OK) ||
	    sg_config_load_env(&cfg) != SG_OK ||
	    (secrets[0] != NULL && sg_config_set(&cfg, "pkcs11_pin", secrets[0]) != SG_OK) ||
	    set_store(&cfg, secrets[2], "SIGNET_STORE_URL") != SG_OK ||
	    set_store(&cfg, flag_store, "--store") != SG_OK ||
	    (flag_listen != NULL && sg_config_set(&cfg, "listen", flag_listen) != SG_OK) ||
	    (flag_data != NULL && sg_config_set(&cfg, "data_dir", flag_data) != SG_OK)) {
		if (secrets[0] != NULL && strlen(secrets[0]) >= sizeof(cfg.pkcs11_pin))
			sg_error("config: SIGNET_PKCS11_PIN is too long");
		status = 2;
		goto out;
	}
	sg_free_secret_str(secrets[0]);
	secrets[0] = NULL;
	sg_free_secret_str(secrets[2]);
	secrets[2] = NULL;
	sg_free_secret_str(flag_store);
	flag_store = NULL;
	sg_log_set_level((sg_log_level)sg_log_level_from_name(cfg.log_level));
	sg_log_set_format(strcmp(cfg.log_format, "json") == 0 ? SG_LOG_JSON : SG_LOG_TEXT);
	if (strcmp(cfg.master_key, "hsm") == 0 && !cfg.pkcs11_module[0]) {
		sg_error("master_key = hsm needs the HSM: set pkcs11_module, pkcs11_token and "
		    "pkcs11_pin_file (see docs/hsm.md)");
		status = 2;
		goto out;
	}

	if (strcmp(cfg.tsa_storage, "HSM") == 0 && !cfg.pkcs11_module[0] && !cfg.tsa_cert[0]) {
		sg_error("tsa_storage = HSM needs the HSM: set pkcs11_module, pkcs11_token and "
		    "pkcs11_pin_file (see docs/hsm.md)");
		status = 2;
		goto out;
	}

	if (cfg.smtp_url[0] && !cfg.smtp_from[0]) {
		sg_error("smtp_url needs smtp_from, the sender address of approval mail");
		return 2;
	}

	/* Block the stop signals in every thread; main waits for them with sigwait. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	if (ensure_dir(cfg.data_dir) != SG_OK)
		goto out;
	if (open_store(&cfg, &svc.store) != SG_OK)
		goto out;
	if (open_keystores(&cfg, &svc) != SG_OK)
		goto out;
	sg_config_wipe(&cfg);
	if (sg_committer_start(svc.store, cfg.commit_batch, &svc.committer) != SG_OK) {
		sg_error("cannot start the committer");
		goto out;
	}
	if (sg_server_tsa_open(&cfg, &svc, &svc.tsa) != SG_OK) {
		sg_error("cannot open the time-stamp authority (see above)");
		goto out;
	}
	svc.started_at = sg_now_ms();
	svc.idempotency_ttl_ms = cfg.idempotency_ttl_seconds * 1000;
	snprintf(path, sizeof(path), "%s/bootstrap-admin.key", cfg.data_dir);
	if (sg_api_bootstrap(&svc, secrets[1], path) != SG_OK)
		goto out;
	sg_free_secret_str(secrets[1]);
	secrets[1] = NULL;

	/* In the config a rate of 0 means no limit; in sg_api_config that is < 0. */
	sg_api_config acfg = { .listen = cfg.listen, .threads = cfg.threads,
		.max_conns_per_address = (unsigned)cfg.max_connections_per_address,
		.header_timeout_s = (unsigned)cfg.header_timeout_seconds,
		.rate_limit_principal = cfg.rate_limit_principal > 0 ? cfg.rate_limit_principal : -1,
		.rate_limit_principal_burst = cfg.rate_limit_principal_burst,
		.rate_limit_address = cfg.rate_limit_address > 0 ? cfg.rate_limit_address : -1,
		.rate_limit_address_burst = cfg.rate_limit_address_burst,
		.rate_limit_auth_failures = cfg.rate_limit_auth_failures > 0 ?
		    cfg.rate_limit_auth_failures : -1,
		.rate_limit_auth_failures_burst = cfg.rate_limit_auth_failures_burst,
		.auth_audit_interval_s = (unsigned)cfg.auth_audit_interval_seconds,
		.transit_mount = cfg.transit_mount };
	if (cfg.tls_cert[0]) {
		if (!cfg.tls_key[0]) {
			sg_error("tls_cert is set but tls_key is not");
			goto out;
		}
		if (read_pem(cfg.tls_cert, &tls_cert) != SG_OK || read_pem(cfg.tls_key, &tls_key) != SG_OK)
			goto out;
		acfg.tls_cert_pem = tls_cert;
		acfg.tls_key_pem = tls_key;
		if (cfg.tls_client_ca[0]) {
			if (read_pem(cfg.tls_client_ca, &tls_ca) != SG_OK)
				goto out;
			acfg.tls_client_ca_pem = tls_ca;
		}
	} else if (cfg.tls_client_ca[0]) {
		sg_error("tls_client_ca needs tls_cert and tls_key");
		goto out;
	}
	sg_queue_config qcfg = { .workers = cfg.workers, .lease_ms = cfg.lease_seconds * 1000,
		.max_attempts = (int)cfg.max_attempts, .backoff_base_ms = cfg.retry_base_ms };
	if (sg_queue_start(&svc, &qcfg, &svc.queue) != SG_OK) {
		sg_error("cannot start the signing workers");
		goto out;
	}
	if (sg_api_start(&svc, &acfg, &api) != SG_OK)
		goto out;
	if (start_notify(&cfg, &svc, tls_cert != NULL, sg_api_port(api), &notify) != SG_OK)
		goto out;
	sg_info("signetd listening on %s://%s (port %u), data in %s", tls_cert ? "https" : "http",
	    cfg.listen, sg_api_port(api), cfg.data_dir);

	int sig = 0;
	sigwait(&stop, &sig);
	sg_info("signetd: signal %d, shutting down", sig);
	status = 0;
out:
	sg_api_stop(api);
	sg_notify_stop(notify);
	sg_queue_stop(svc.queue);
	if (svc.committer != NULL)
		sg_committer_stop(svc.committer);
	sg_tsa_close(svc.tsa);
	sg_keystore_close(svc.hsm);
	sg_keystore_close(svc.soft);
	sg_store_close(svc.store);
	free(tls_cert);
	sg_free_secret_str(tls_key);
	free(tls_ca);
	for (size_t k = 0; k < N_SECRET_ENV; k++)
		sg_free_secret_str(secrets[k]);
	sg_free_secret_str(flag_store);
	sg_config_wipe(&cfg);
	if (status == 0 && api != NULL)
		sg_info("signetd: stopped");
	return status;
}
