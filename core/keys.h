/*
 * keys.h - server private keys (oc-key.h): loading and signing where the
 * key lives (sec-mod, or the scratch process of `ocmod -t`), the sec-mod
 * service workers ask over their key channel, and the worker's side of it.
 *
 * Key channel: one SOCK_SEQPACKET pair per worker, separate from the auth
 * channel so a worker can wait for one answer synchronously.  Requests
 * (worker -> sec-mod, IPC_PEER_KEYCLIENT): KEY_OPEN {path}, KEY_SIGN
 * {key id, hash algorithm, digest}; answers KEY_INFO and KEY_SIG, matched
 * by sequence number.  Nothing else is accepted on that channel.
 */
#ifndef OCMOD_KEYS_H
#define OCMOD_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "oc-key.h"

struct generation;
struct event_base;

/* ---- a loaded key ---- */

struct key;

/* Load the private key in @p path, with @p copies independent contexts
 * (one per signing thread).  0, or a negative code with "path: why" in
 * @p err. */
int key_load(const char *path, size_t copies, struct key **k_r, char *err,
             size_t errlen);
void key_free(struct key *k);
void key_info(const struct key *k, oc_key_info_t *info);
/* Sign with copy @p slot, random numbers from @p rng (a struct key_rng).
 * Only OC_HASH_* digests of exactly their length. */
struct key_rng;
struct key_rng *key_rng_new(void);
void key_rng_free(struct key_rng *r);
int key_sign(struct key *k, size_t slot, struct key_rng *rng, uint32_t hash_alg,
             const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap,
             size_t *len_r);
/* Length of the digest of OC_HASH_* @p alg, 0 if unknown. */
size_t key_hash_len(uint32_t alg);
/* Is @p len a valid digest length for OC_HASH_* @p alg (OC_HASH_RAW: 1..64)? */
bool key_hash_ok(uint32_t alg, size_t len);

/* ---- sec-mod: the key service ---- */

/* Start the signing threads (sec-mod, once). */
int keysrv_start(struct event_base *base, size_t threads);
/* Load every OC_OPTF_PRIVATE_KEY file of @p g as the staged key set. */
int keysrv_stage(struct generation *g, char *err, size_t errlen);
/* The staged set becomes the current one (the old one is released when
 * no signature is being made with it) / the staged set is dropped. */
void keysrv_commit(void);
void keysrv_abort(void);
/* A worker's key channel (sec-mod's end). */
int keysrv_add_channel(int fd);
size_t keysrv_count(void);

/* ---- a worker: the key channel and the host calls ---- */

void keycli_set_channel(int fd);
int keycli_fd(void);
/* Signatures made for this worker so far: count, total and longest wait. */
void keycli_stats(uint64_t *n, uint64_t *total_us, uint64_t *max_us);

#endif
