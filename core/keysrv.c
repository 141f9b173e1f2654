/*
 * keysrv.c - sec-mod's key service: the private keys of the current
 * configuration (every OC_OPTF_PRIVATE_KEY file), and the signatures
 * workers ask for over their key channels.
 *
 * The loop thread reads requests and answers KEY_OPEN itself; signatures
 * are made on a few threads (one private copy of each key per thread, so
 * they sign in parallel), which send the answer on the worker's channel
 * directly.  A worker waits for its answer, so each channel has at most
 * one signature in flight; a second request meanwhile is a protocol
 * violation and closes the channel.  Only signatures: no decryption.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "gen.h"
#include "ipc.h"
#include "keys.h"
#include "log.h"

#define MAX_THREADS 8

struct kchan {
	int fd;
	struct event *ev;
	int refs;
	bool busy;
};

struct skey {
	struct key *k;
	char *path;
	uint32_t id;
	int refs;
	struct skey *next;
};

struct job {
	struct kchan *ch;
	struct skey *sk;
	uint32_t seq, alg;
	uint8_t hash[64];
	size_t hlen;
	struct job *next;
};

static struct {
	struct event_base *base;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	pthread_t threads[MAX_THREADS];
	size_t n_threads;
	struct skey *cur, *staged;
	uint32_t next_id;
	size_t n_chans;
} K = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* ---------------- reference counting (under K.mu) ---------------- */

static void skey_unref_locked(struct skey *sk)
{
	if (--sk->refs > 0)
		return;
	key_free(sk->k);
	free(sk->path);
	free(sk);
}

static void chan_unref_locked(struct kchan *ch)
{
	if (--ch->refs > 0)
		return;
	close(ch->fd);
	free(ch);
	K.n_chans--;
}

static void list_release(struct skey *l)
{
	struct skey *next;

	pthread_mutex_lock(&K.mu);
	for (; l; l = next) {
		next = l->next;
		skey_unref_locked(l);
	}
	pthread_mutex_unlock(&K.mu);
}

/* ---------------- signing threads ---------------- */

static void *sign_thread(void *arg)
{
	size_t slot = (size_t)(uintptr_t)arg;
	struct ipc_out *m = malloc(sizeof(*m));
	struct key_rng *rng = key_rng_new();
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (!m || !rng) {
		log_err("key thread %zu: cannot start (no memory or randomness)", slot);
		free(m);
		key_rng_free(rng);
		return NULL;
	}
	pthread_mutex_lock(&K.mu);
	for (;;) {
		struct job *j;
		uint8_t sig[1024];
		size_t len = 0;
		int r;

		while (!K.head)
			pthread_cond_wait(&K.cv, &K.mu);
		j = K.head;
		K.head = j->next;
		if (!K.head)
			K.tail = NULL;
		pthread_mutex_unlock(&K.mu);

		r = key_sign(j->sk->k, slot, rng, j->alg, j->hash, j->hlen, sig,
			     sizeof(sig), &len);
		ipc_begin(m, IPC_KEY_SIG, j->seq);
		ipc_put_u32(m, T_STATUS, (uint32_t)r);
		if (r == 0)
			ipc_put(m, T_SIG, sig, len);
		explicit_bzero(j->hash, sizeof(j->hash));

		/* not busy before the answer leaves: the worker may ask again
		 * as soon as it has it */
		pthread_mutex_lock(&K.mu);
		j->ch->busy = false;
		pthread_mutex_unlock(&K.mu);
		/* the worker may be gone: then this send fails, harmlessly
		 * (the descriptor stays ours until our reference goes) */
		if (ipc_send(j->ch->fd, m, -1) < 0)
			log_debug("key service: cannot answer a worker: %s", strerror(errno));
		pthread_mutex_lock(&K.mu);
		skey_unref_locked(j->sk);
		chan_unref_locked(j->ch);
		free(j);
	}
	return NULL;
}

int keysrv_start(struct event_base *base, size_t threads)
{
	size_t i;

	K.base = base;
	if (threads < 1)
		threads = 1;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	for (i = 0; i < threads; i++) {
		if (pthread_create(&K.threads[i], NULL, sign_thread, (void *)(uintptr_t)i) != 0)
			break;
		K.n_threads++;
	}
	return K.n_threads ? 0 : OC_E_IO;
}

/* ---------------- key sets ---------------- */

int keysrv_stage(struct generation *g, char *err, size_t errlen)
{
	struct skey *list = NULL, *sk;
	size_t i, j;
	int r;

	keysrv_abort();
	for (i = 0; i < g->n_insts; i++) {
		const struct oc_instance *in = g->insts[i];
		const oc_option_t *opts = in->desc->options;

		for (j = 0; opts && opts[j].name; j++) {
			const char *path;

			if (!(opts[j].flags & OC_OPTF_PRIVATE_KEY) ||
			    opts[j].type != OC_OPT_PATH)
				continue;
			memcpy(&path, (const char *)in->conf.conf + opts[j].offset, sizeof(path));
			if (!path || !path[0])
				continue;
			for (sk = list; sk; sk = sk->next)
				if (strcmp(sk->path, path) == 0)
					break;
			if (sk)
				continue; /* two instances, one key */
			sk = calloc(1, sizeof(*sk));
			if (!sk || !(sk->path = strdup(path))) {
				free(sk);
				snprintf(err, errlen, "%s: out of memory", in->where);
				r = OC_E_NOMEM;
				goto fail;
			}
			r = key_load(path, K.n_threads ? K.n_threads : 1, &sk->k, err, errlen);
			if (r < 0) {
				char why[512];

				snprintf(why, sizeof(why), "%s", err);
				snprintf(err, errlen, "%s: %s%s: %s", in->where,
					 in->log_prefix, opts[j].name, why);
				free(sk->path);
				free(sk);
				goto fail;
			}
			sk->id = ++K.next_id;
			sk->refs = 1;
			sk->next = list;
			list = sk;
			{
				oc_key_info_t info;

				key_info(sk->k, &info);
				log_debug("sec-mod holds the private key %s (%s, %u bits) of %s",
					  path, info.type == OC_KEY_RSA ? "RSA" : "ECDSA",
					  info.bits, in->log_prefix);
			}
		}
	}
	K.staged = list;
	return 0;
fail:
	list_release(list);
	return r;
}

void keysrv_commit(void)
{
	struct skey *old = K.cur;

	if (!K.staged)
		return;
	K.cur = K.staged;
	K.staged = NULL;
	list_release(old);
}

void keysrv_abort(void)
{
	struct skey *s = K.staged;

	K.staged = NULL;
	list_release(s);
}

size_t keysrv_count(void)
{
	size_t n = 0;
	struct skey *s;

	for (s = K.cur; s; s = s->next)
		n++;
	return n;
}

static struct skey *find_path(const char *path)
{
	struct skey *s;

	for (s = K.staged; s; s = s->next)
		if (strcmp(s->path, path) == 0)
			return s;
	for (s = K.cur; s; s = s->next)
		if (strcmp(s->path, path) == 0)
			return s;
	return NULL;
}

static struct skey *find_id(uint32_t id)
{
	struct skey *s;

	for (s = K.cur; s; s = s->next)
		if (s->id == id)
			return s;
	for (s = K.staged; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

/* ---------------- channels ---------------- */

static void chan_close(struct kchan *ch)
{
	event_free(ch->ev);
	ch->ev = NULL;
	pthread_mutex_lock(&K.mu);
	chan_unref_locked(ch);
	pthread_mutex_unlock(&K.mu);
}

static void on_open(struct kchan *ch, const struct ipc_in *in)
{
	static struct ipc_out m;
	const char *path = ipc_get_str(in, T_CFG_PATH);
	struct skey *sk = path ? find_path(path) : NULL;

	ipc_begin(&m, IPC_KEY_INFO, in->seq);
	if (!sk) {
		ipc_put_u32(&m, T_STATUS, (uint32_t)OC_E_NOTFOUND);
		ipc_put_str(&m, T_MESSAGE, "sec-mod holds no private key of that name");
	} else {
		oc_key_info_t info;

		key_info(sk->k, &info);
		ipc_put_u32(&m, T_STATUS, 0);
		ipc_put_u32(&m, T_KEY_ID, sk->id);
		ipc_put_u32(&m, T_KEY_TYPE, info.type);
		ipc_put_u32(&m, T_BITS, info.bits);
		ipc_put_u32(&m, T_SIG_LEN, info.sig_len);
	}
	ipc_send(ch->fd, &m, -1);
}

/* false: the channel was closed */
static bool on_sign(struct kchan *ch, const struct ipc_in *in)
{
	static struct ipc_out m;
	uint32_t id = 0, alg = 0;
	const uint8_t *h = NULL;
	struct skey *sk;
	struct job *j;
	size_t hl = 0;

	ipc_get_u32(in, T_KEY_ID, &id);
	ipc_get_u32(in, T_HASH_ALG, &alg);
	ipc_get(in, T_HASH, &h, &hl);
	pthread_mutex_lock(&K.mu);
	if (ch->busy) {
		pthread_mutex_unlock(&K.mu);
		log_warn("a worker asked for a second signature before the first was made; closing its key channel");
		chan_close(ch);
		return false;
	}
	sk = find_id(id);
	if (!sk || !h || !key_hash_ok(alg, hl) || !(j = calloc(1, sizeof(*j)))) {
		pthread_mutex_unlock(&K.mu);
		ipc_begin(&m, IPC_KEY_SIG, in->seq);
		ipc_put_u32(&m, T_STATUS, (uint32_t)(sk ? OC_E_INVAL : OC_E_NOTFOUND));
		ipc_send(ch->fd, &m, -1);
		return true;
	}
	j->ch = ch;
	j->sk = sk;
	j->seq = in->seq;
	j->alg = alg;
	memcpy(j->hash, h, hl);
	j->hlen = hl;
	ch->refs++;
	sk->refs++;
	ch->busy = true;
	if (K.tail)
		K.tail->next = j;
	else
		K.head = j;
	K.tail = j;
	pthread_cond_signal(&K.cv);
	pthread_mutex_unlock(&K.mu);
	return true;
}

static void chan_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct ipc_in in;
	struct kchan *ch = arg;
	int r, budget = 16;

	while (budget-- > 0) {
		r = ipc_recv(fd, &in);
		if (r == OC_E_AGAIN)
			return;
		if (r < 0) {
			chan_close(ch);
			return;
		}
		if (in.fd >= 0) {
			close(in.fd);
			in.fd = -1;
		}
		if (!ipc_permitted(IPC_PEER_KEYCLIENT, in.type)) {
			log_warn("a worker sent message type %u on its key channel; closing it", in.type);
			chan_close(ch);
			return;
		}
		if (in.type == IPC_KEY_OPEN)
			on_open(ch, &in);
		else if (!on_sign(ch, &in))
			return;
	}
}

int keysrv_add_channel(int fd)
{
	struct kchan *ch = calloc(1, sizeof(*ch));

	if (!ch) {
		close(fd);
		return OC_E_NOMEM;
	}
	ch->fd = fd;
	ch->refs = 1;
	ch->ev = event_new(K.base, fd, EV_READ | EV_PERSIST, chan_cb, ch);
	if (!ch->ev || event_add(ch->ev, NULL) < 0) {
		if (ch->ev)
			event_free(ch->ev);
		close(fd);
		free(ch);
		return OC_E_NOMEM;
	}
	K.n_chans++;
	return 0;
}
