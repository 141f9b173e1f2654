/*
 * ipc.c - message encoding, fd passing and the permit table.
 */
#define _GNU_SOURCE
#include "config.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "oc-error.h"
#include "ipc.h"

#define HDR 8

void ipc_begin(struct ipc_out *m, uint16_t type, uint32_t seq)
{
	m->buf[0] = type >> 8;
	m->buf[1] = type & 0xff;
	m->buf[2] = m->buf[3] = 0;
	m->buf[4] = seq >> 24;
	m->buf[5] = seq >> 16;
	m->buf[6] = seq >> 8;
	m->buf[7] = seq;
	m->len = HDR;
	m->overflow = false;
}

void ipc_put(struct ipc_out *m, uint16_t tag, const void *p, size_t n)
{
	if (n > 0xffff || m->len + 4 + n > sizeof(m->buf)) {
		m->overflow = true;
		return;
	}
	m->buf[m->len++] = tag >> 8;
	m->buf[m->len++] = tag & 0xff;
	m->buf[m->len++] = n >> 8;
	m->buf[m->len++] = n & 0xff;
	if (n)
		memcpy(m->buf + m->len, p, n);
	m->len += n;
}

void ipc_put_str(struct ipc_out *m, uint16_t tag, const char *s)
{
	if (s)
		ipc_put(m, tag, s, strlen(s) + 1);
}

void ipc_put_u32(struct ipc_out *m, uint16_t tag, uint32_t v)
{
	ipc_put(m, tag, &v, sizeof(v));
}

void ipc_put_u64(struct ipc_out *m, uint16_t tag, uint64_t v)
{
	ipc_put(m, tag, &v, sizeof(v));
}

int ipc_send(int sock, const struct ipc_out *m, int fd)
{
	struct iovec iov = { (void *)m->buf, m->len };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = { 0 };
	ssize_t n;
	int tries = 0;

	if (m->overflow)
		return OC_E_NOSPACE;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	/* The peers are our own processes: a full socket buffer is brief.
	 * Retry a bounded number of times rather than queueing. */
	for (;;) {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) && tries++ < 2000) {
			usleep(500);
			continue;
		}
		return OC_E_IO;
	}
}

int ipc_recv(int sock, struct ipc_in *in)
{
	struct iovec iov = { in->buf, sizeof(in->buf) };
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	ssize_t n;
	int nfds = 0;
	size_t off;

	in->fd = -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.b;
	mh.msg_controllen = sizeof(cbuf.b);
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? OC_E_AGAIN : OC_E_CLOSED;
	if (n == 0)
		return OC_E_CLOSED;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k, cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (k = 0; k < cnt; k++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				if (nfds++ == 0)
					in->fd = f;
				else
					close(f);
			}
		}
	}
	if (nfds > 1 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n < HDR) {
		if (in->fd >= 0)
			close(in->fd);
		in->fd = -1;
		return OC_E_PROTO;
	}
	in->type = (uint16_t)(in->buf[0] << 8 | in->buf[1]);
	in->seq = (uint32_t)in->buf[4] << 24 | (uint32_t)in->buf[5] << 16 |
		  (uint32_t)in->buf[6] << 8 | in->buf[7];
	memmove(in->buf, in->buf + HDR, (size_t)n - HDR);
	in->len = (size_t)n - HDR;
	/* validate the TLV structure once, so getters can trust it */
	for (off = 0; off < in->len;) {
		size_t l;

		if (in->len - off < 4)
			goto bad;
		l = (size_t)in->buf[off + 2] << 8 | in->buf[off + 3];
		if (in->len - off - 4 < l)
			goto bad;
		off += 4 + l;
	}
	return 0;
bad:
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	return OC_E_PROTO;
}

bool ipc_next(const struct ipc_in *in, size_t *off, uint16_t *tag,
              const uint8_t **val, size_t *len)
{
	size_t o = *off;

	if (o + 4 > in->len)
		return false;
	*tag = (uint16_t)(in->buf[o] << 8 | in->buf[o + 1]);
	*len = (size_t)in->buf[o + 2] << 8 | in->buf[o + 3];
	*val = in->buf + o + 4;
	*off = o + 4 + *len;
	return true;
}

bool ipc_get(const struct ipc_in *in, uint16_t tag, const uint8_t **val,
             size_t *len)
{
	size_t off = 0;
	uint16_t t;

	while (ipc_next(in, &off, &t, val, len))
		if (t == tag)
			return true;
	return false;
}

bool ipc_get_u32(const struct ipc_in *in, uint16_t tag, uint32_t *v)
{
	const uint8_t *p;
	size_t n;

	if (!ipc_get(in, tag, &p, &n) || n != sizeof(*v))
		return false;
	memcpy(v, p, sizeof(*v));
	return true;
}

bool ipc_get_u64(const struct ipc_in *in, uint16_t tag, uint64_t *v)
{
	const uint8_t *p;
	size_t n;

	if (!ipc_get(in, tag, &p, &n) || n != sizeof(*v))
		return false;
	memcpy(v, p, sizeof(*v));
	return true;
}

const char *ipc_val_str(const uint8_t *val, size_t len)
{
	if (len == 0 || val[len - 1] != 0 || memchr(val, 0, len - 1))
		return NULL;
	return (const char *)val;
}

const char *ipc_get_str(const struct ipc_in *in, uint16_t tag)
{
	const uint8_t *p;
	size_t n;

	if (!ipc_get(in, tag, &p, &n))
		return NULL;
	return ipc_val_str(p, n);
}

bool ipc_permitted(enum ipc_peer peer, uint16_t type)
{
	switch (peer) {
	case IPC_PEER_MAIN: /* what main may send (to sec-mod or a worker) */
		return type == IPC_CONN_NEW || type == IPC_SESSION_REPLY ||
		       type == IPC_DATAGRAM_NEW ||
		       type == IPC_SESSION_KILL || type == IPC_DRAIN ||
		       type == IPC_COOKIE_CHECK || type == IPC_COOKIE_END ||
		       type == IPC_WORKER_NEW || type == IPC_RELOAD ||
		       type == IPC_RELOAD_COMMIT || type == IPC_RELOAD_ABORT ||
		       type == IPC_SECMOD_STATUS || type == IPC_SESSION_STARTED ||
		       type == IPC_ACCT_STATS || type == IPC_WORKER_KEYS ||
		       type == IPC_STATS_QUERY ||
		       type == IPC_COOKIE_LIST || type == IPC_COOKIE_TERMINATE;
	case IPC_PEER_SECMOD:
		return type == IPC_AUTH_ANSWER || type == IPC_COOKIE_RESULT ||
		       type == IPC_COOKIE_EXPIRED || type == IPC_RELOAD_RESULT ||
		       type == IPC_SECMOD_STATUS_REPLY || type == IPC_BAN_POINTS ||
		       type == IPC_COOKIE_LIST_REPLY || type == IPC_COOKIE_TERMINATE_REPLY;
	case IPC_PEER_WORKER:
		return type == IPC_SESSION_OPEN || type == IPC_SESSION_CLOSED ||
		       type == IPC_SESSION_STATS || type == IPC_AUTH_QUERY ||
		       type == IPC_CHANNEL_KEY || type == IPC_FLOW_KEY ||
		       type == IPC_STATS_REPLY || type == IPC_SESSION_INFO;
	case IPC_PEER_KEYCLIENT: /* nothing but these on a key channel */
		return type == IPC_KEY_OPEN || type == IPC_KEY_SIGN;
	case IPC_PEER_KEYSERVER:
		return type == IPC_KEY_INFO || type == IPC_KEY_SIG;
	}
	return false;
}

/* Bytes of messages in flight per direction. A burst (thousands of
 * sessions ending at once, each a few messages) must not fill the
 * default (wmem_default, about 270 small messages) while the peer is
 * busy: ipc_send() gives up after about a second. Only what is queued
 * uses memory. Main creates every pair as root (SO_SNDBUFFORCE passes
 * net.core.wmem_max); without privileges the default stays. */
#define IPC_SNDBUF (8 * 1024 * 1024)

int ipc_pair(int sv[2])
{
	int sz = IPC_SNDBUF, i;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return OC_E_IO;
	for (i = 0; i < 2; i++)
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return 0;
}
