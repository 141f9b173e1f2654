/*
 * keycli.c - oc_host_t.key_open / key_sign / key_close (oc-key.h).
 *
 * In a worker the key lives in sec-mod: requests go over the worker's key
 * channel and the worker waits for the answer (bounded).  In `ocmod -t`
 * (and sec-mod) the key is loaded in the process itself, which is how a
 * check validates it.  Main never opens private keys: its memory is what
 * every worker starts from.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "host.h"
#include "ipc.h"
#include "keys.h"
#include "log.h"
#include "options.h"
#include "procs.h"

#define KEY_CALL_TIMEOUT_MS 10000

struct oc_key {
	uint32_t id;            /* sec-mod's key, or 0 for a local one */
	oc_key_info_t info;
	struct key *local;
	struct key_rng *rng;
};

static int key_fd = -1;
static uint32_t key_seq;
static struct {
	uint64_t n, total_us, max_us;
} stats;

void keycli_set_channel(int fd)
{
	key_fd = fd;
}

int keycli_fd(void)
{
	return key_fd;
}

void keycli_stats(uint64_t *n, uint64_t *total_us, uint64_t *max_us)
{
	*n = stats.n;
	*total_us = stats.total_us;
	*max_us = stats.max_us;
}

/* Send @p m (already begun with a fresh seq) and wait for the answer of
 * type @p want with the same seq.  Stale answers (of a request that timed
 * out earlier) are skipped. */
static int call(struct ipc_out *m, uint32_t seq, uint16_t want, struct ipc_in *in)
{
	uint64_t deadline = now_ms() + KEY_CALL_TIMEOUT_MS;

	if (ipc_send(key_fd, m, -1) < 0)
		return OC_E_IO;
	for (;;) {
		struct pollfd p = { .fd = key_fd, .events = POLLIN };
		uint64_t t = now_ms();
		int r;

		if (t >= deadline)
			return OC_E_TIMEOUT;
		r = poll(&p, 1, (int)(deadline - t));
		if (r < 0 && errno != EINTR)
			return OC_E_IO;
		if (r <= 0)
			continue;
		r = ipc_recv(key_fd, in);
		if (r == OC_E_AGAIN)
			continue;
		if (r < 0)
			return OC_E_CLOSED;
		if (in->fd >= 0) {
			close(in->fd);
			in->fd = -1;
		}
		if (!ipc_permitted(IPC_PEER_KEYSERVER, in->type))
			return OC_E_PROTO;
		if (in->type == want && in->seq == seq)
			return 0;
	}
}

int host_key_open(oc_instance_t *self, const char *option, oc_key_t **key_r,
                  oc_key_info_t *info, oc_error_t *err)
{
	const oc_host_t *h = host_table();
	const oc_option_t *o;
	const char *path = NULL;
	oc_key_t *k = NULL;
	char e[512];
	int r;

	if (key_r)
		*key_r = NULL;
	if (!self || !option || !key_r || !info || info->size < sizeof(*info)) {
		h->error_set(err, OC_E_INVAL, "key_open: bad arguments");
		return OC_E_INVAL;
	}
	o = opt_find(self->desc->options, option);
	if (!o || o->type != OC_OPT_PATH || !(o->flags & OC_OPTF_PRIVATE_KEY)) {
		h->error_set(err, OC_E_INVAL, "option '%s' is not a private key option of this module",
			     option);
		return OC_E_INVAL;
	}
	memcpy(&path, (const char *)self->conf.conf + o->offset, sizeof(path));
	if (!path || !path[0]) {
		h->error_set(err, OC_E_NOTFOUND, "option '%s' is not set", option);
		return OC_E_NOTFOUND;
	}
	if (h->role & OC_ROLE_MAIN) {
		h->error_set(err, OC_E_STATE, "private keys are not opened in main");
		return OC_E_STATE;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		h->error_set(err, OC_E_NOMEM, "out of memory");
		return OC_E_NOMEM;
	}
	k->info.size = sizeof(k->info);
	if (h->role & OC_ROLE_WORKER) {
		static struct ipc_out m;
		static struct ipc_in in;
		uint32_t st = (uint32_t)OC_E_IO, seq = ++key_seq;

		if (key_fd < 0) {
			h->error_set(err, OC_E_STATE, "no key channel to sec-mod");
			free(k);
			return OC_E_STATE;
		}
		ipc_begin(&m, IPC_KEY_OPEN, seq);
		ipc_put_str(&m, T_CFG_PATH, path);
		r = call(&m, seq, IPC_KEY_INFO, &in);
		if (r == 0 && (!ipc_get_u32(&in, T_STATUS, &st) || st != 0))
			r = st ? (int)(int32_t)st : OC_E_PROTO;
		if (r == 0 && (!ipc_get_u32(&in, T_KEY_ID, &k->id) ||
			       !ipc_get_u32(&in, T_KEY_TYPE, &k->info.type) ||
			       !ipc_get_u32(&in, T_BITS, &k->info.bits) ||
			       !ipc_get_u32(&in, T_SIG_LEN, &k->info.sig_len) ||
			       k->info.sig_len == 0 || k->info.sig_len > 1024))
			r = OC_E_PROTO;
		if (r < 0) {
			const char *msg = r == (int)(int32_t)st ? ipc_get_str(&in, T_MESSAGE) : NULL;

			h->error_set(err, r, "private key %s: sec-mod: %s", path,
				     msg ? msg : oc_strerror(r));
			free(k);
			return r;
		}
	} else {
		r = key_load(path, 1, &k->local, e, sizeof(e));
		if (r == 0 && !(k->rng = key_rng_new()))
			r = OC_E_IO;
		if (r < 0) {
			h->error_set(err, r, "%s", e);
			key_free(k->local);
			free(k);
			return r;
		}
		key_info(k->local, &k->info);
	}
	info->type = k->info.type;
	info->bits = k->info.bits;
	info->sig_len = k->info.sig_len;
	*key_r = k;
	return 0;
}

int host_key_sign(oc_key_t *k, uint32_t hash_alg, const uint8_t *hash, size_t hash_len,
                  uint8_t *sig, size_t cap, size_t *sig_len_r)
{
	static struct ipc_out m;
	static struct ipc_in in;
	uint32_t st = (uint32_t)OC_E_IO, seq;
	const uint8_t *v;
	uint64_t t0, dt;
	size_t n;
	int r;

	if (sig_len_r)
		*sig_len_r = 0;
	if (!k || !hash || !sig || !sig_len_r || !key_hash_ok(hash_alg, hash_len))
		return OC_E_INVAL;
	if (cap < k->info.sig_len)
		return OC_E_NOSPACE;
	if (k->local)
		return key_sign(k->local, 0, k->rng, hash_alg, hash, hash_len, sig,
				cap, sig_len_r);
	t0 = now_us();
	seq = ++key_seq;
	ipc_begin(&m, IPC_KEY_SIGN, seq);
	ipc_put_u32(&m, T_KEY_ID, k->id);
	ipc_put_u32(&m, T_HASH_ALG, hash_alg);
	ipc_put(&m, T_HASH, hash, hash_len);
	r = call(&m, seq, IPC_KEY_SIG, &in);
	if (r == 0 && (!ipc_get_u32(&in, T_STATUS, &st) || st != 0))
		r = st ? (int)(int32_t)st : OC_E_PROTO;
	if (r == 0 && (!ipc_get(&in, T_SIG, &v, &n) || n != k->info.sig_len))
		r = OC_E_PROTO;
	if (r < 0) {
		log_warn("signature by sec-mod failed: %s", oc_strerror(r));
		return r;
	}
	memcpy(sig, v, n);
	*sig_len_r = n;
	dt = now_us() - t0;
	stats.n++;
	stats.total_us += dt;
	if (dt > stats.max_us)
		stats.max_us = dt;
	{
		uint64_t p = 1;

		while (p < stats.n && p <= UINT64_MAX / 10)
			p *= 10;
		if (p == stats.n) /* 1, 10, 100, ... */
			log_debug("%llu signatures made by sec-mod for this worker: %.2f ms on average, %.2f ms at most, this one %.2f ms (the event loop waits meanwhile)",
				  (unsigned long long)stats.n,
				  (double)stats.total_us / (double)stats.n / 1000.0,
				  (double)stats.max_us / 1000.0, (double)dt / 1000.0);
	}
	return 0;
}

void host_key_close(oc_key_t *k)
{
	if (!k)
		return;
	key_free(k->local);
	key_rng_free(k->rng);
	free(k);
}
