/*
 * tsa_key.h - which key signetd's time-stamp authority stamps with.
 *
 * An issued certificate (tsa_cert + tsa_key) is the operator's choice and
 * wins.  Otherwise the TSA key is a keystore key recorded in the store
 * (SPEC §6): made on first start through the keystore of tsa_storage (DISK:
 * sealed under the master key; HSM: inside the token), so every node that
 * shares the store stamps with the same certificate and no private key is
 * in clear in the data directory or the database.  A data directory from
 * an older version, with its clear tsa.key and no store row, keeps that
 * key (a warning says how to move to a keystore key): the TSA certificate
 * of a running install never changes silently.  docs/tsa.md tells the
 * operator's side of this.
 */
#ifndef SG_SERVER_TSA_KEY_H
#define SG_SERVER_TSA_KEY_H

#include "config.h"
#include "sg_signing.h"
#include "sg_tsa.h"

/*
 * Open svc's time-stamp authority as cfg says (svc->store, svc->soft and
 * svc->hsm must be open), creating and recording the keystore key on first
 * start.  On SG_OK *out is the TSA for sg_tsa_close; every failure is logged
 * with what to do about it.
 */
int sg_server_tsa_open(const sg_config *cfg, const sg_service *svc, sg_tsa **out) SG_WUR;

#endif
