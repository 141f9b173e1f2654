/*
 * tun.c - tun devices for sessions (Linux).  See tun.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "oc-error.h"
#include "tun.h"

#define TUN_DEV "/dev/net/tun"
#define TUN_MTU_MIN 68
#define TUN_MTU_MAX 65535

/* struct in6_ifreq from <linux/ipv6.h>, which clashes with <netinet/in.h>. */
struct oc_in6_ifreq {
	struct in6_addr ifr6_addr;
	uint32_t ifr6_prefixlen;
	int ifr6_ifindex;
};

static void tun_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void tun_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int errno_code(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return OC_E_PERM;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return OC_E_NOTFOUND;
	case ENOMEM:
	case ENOBUFS:
		return OC_E_NOMEM;
	case EEXIST:
		return OC_E_EXIST;
	case EINVAL:
		return OC_E_INVAL;
	default:
		return OC_E_IO;
	}
}

static int prefix_ok(const char *prefix)
{
	size_t n = strlen(prefix), i;

	/* room for at least "NNNN" and the NUL */
	if (n == 0 || n > IFNAMSIZ - 5)
		return 0;
	for (i = 0; i < n; i++) {
		char c = prefix[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

static void ifr_init(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
}

static void sin_set(struct sockaddr *sa, uint32_t host_order)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(host_order);
	memcpy(sa, &sin, sizeof(sin));
}

static const char *ip4_str(uint32_t a, char *buf, size_t len)
{
	struct in_addr in;

	in.s_addr = htonl(a);
	if (inet_ntop(AF_INET, &in, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

static const char *ip6_str(const uint8_t *a, char *buf, size_t len)
{
	if (inet_ntop(AF_INET6, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

static int set_mtu_sock(int s, const char *name, unsigned mtu)
{
	struct ifreq ifr;

	ifr_init(&ifr, name);
	ifr.ifr_mtu = (int)mtu;
	return ioctl(s, SIOCSIFMTU, &ifr);
}

int tun_set_mtu(const char *name, unsigned mtu)
{
	int s = -1, ret;

	if (name == NULL || name[0] == '\0' || strlen(name) >= IFNAMSIZ ||
	    mtu < TUN_MTU_MIN || mtu > TUN_MTU_MAX) {
		ret = OC_E_INVAL;
		goto out;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ret = errno_code(errno);
		goto out;
	}
	if (set_mtu_sock(s, name, mtu) < 0) {
		ret = errno_code(errno);
		goto out;
	}
	ret = 0;
out:
	if (s >= 0)
		close(s);
	return ret;
}

int tun_create(const char *prefix, uint32_t local, uint32_t peer,
               const uint8_t *local6, const uint8_t *peer6, unsigned mtu,
               char *name, char *err, size_t errlen)
{
	char dev[IFNAMSIZ];
	char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN];
	struct ifreq ifr;
	int fd = -1, s4 = -1, s6 = -1, ret, e;
	bool v4 = local != 0 || peer != 0;

	if (name != NULL)
		name[0] = '\0';
	if (prefix == NULL || name == NULL || !prefix_ok(prefix)) {
		ret = OC_E_INVAL;
		tun_err(err, errlen,
		        "tun: invalid device name prefix '%s' (1..%d characters of [A-Za-z0-9._-])",
		        prefix != NULL ? prefix : "(null)", IFNAMSIZ - 5);
		goto out;
	}
	if (mtu != 0 && (mtu < TUN_MTU_MIN || mtu > TUN_MTU_MAX)) {
		ret = OC_E_INVAL;
		tun_err(err, errlen, "tun: MTU %u is out of range (%d..%d)", mtu,
		        TUN_MTU_MIN, TUN_MTU_MAX);
		goto out;
	}
	if (v4 && (local == 0 || peer == 0)) {
		ret = OC_E_INVAL;
		tun_err(err, errlen,
		        "tun: both the local and the peer IPv4 address are needed");
		goto out;
	}
	if ((local6 == NULL) != (peer6 == NULL)) {
		ret = OC_E_INVAL;
		tun_err(err, errlen,
		        "tun: both the local and the peer IPv6 address are needed");
		goto out;
	}

	fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		ret = errno_code(e);
		tun_err(err, errlen, "tun: cannot open %s: %s", TUN_DEV,
		        strerror(e));
		goto out;
	}

	/* The kernel replaces "%d" with the first free number. */
	snprintf(dev, sizeof(dev), "%s%%d", prefix);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, dev, strlen(dev) + 1);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		ret = errno_code(e);
		tun_err(err, errlen, "tun: cannot create device %s (TUNSETIFF): %s",
		        dev, strerror(e));
		goto out;
	}
	memcpy(dev, ifr.ifr_name, IFNAMSIZ);
	dev[IFNAMSIZ - 1] = '\0';

	s4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s4 < 0) {
		e = errno;
		ret = errno_code(e);
		tun_err(err, errlen, "tun: %s: cannot create AF_INET socket: %s",
		        dev, strerror(e));
		goto out;
	}

	if (v4) {
		ifr_init(&ifr, dev);
		sin_set(&ifr.ifr_addr, local);
		if (ioctl(s4, SIOCSIFADDR, &ifr) < 0) {
			e = errno;
			ret = errno_code(e);
			tun_err(err, errlen,
			        "tun: %s: cannot set IPv4 address %s (SIOCSIFADDR): %s",
			        dev, ip4_str(local, a1, sizeof(a1)), strerror(e));
			goto out;
		}
		ifr_init(&ifr, dev);
		sin_set(&ifr.ifr_dstaddr, peer);
		if (ioctl(s4, SIOCSIFDSTADDR, &ifr) < 0) {
			e = errno;
			ret = errno_code(e);
			tun_err(err, errlen,
			        "tun: %s: cannot set IPv4 peer address %s (SIOCSIFDSTADDR): %s",
			        dev, ip4_str(peer, a2, sizeof(a2)), strerror(e));
			goto out;
		}
		ifr_init(&ifr, dev);
		sin_set(&ifr.ifr_netmask, 0xffffffffu);
		if (ioctl(s4, SIOCSIFNETMASK, &ifr) < 0) {
			e = errno;
			ret = errno_code(e);
			tun_err(err, errlen,
			        "tun: %s: cannot set netmask 255.255.255.255 (SIOCSIFNETMASK): %s",
			        dev, strerror(e));
			goto out;
		}
	}

	if (mtu != 0 && set_mtu_sock(s4, dev, mtu) < 0) {
		e = errno;
		ret = errno_code(e);
		tun_err(err, errlen, "tun: %s: cannot set MTU %u (SIOCSIFMTU): %s",
		        dev, mtu, strerror(e));
		goto out;
	}

	ifr_init(&ifr, dev);
	if (ioctl(s4, SIOCGIFFLAGS, &ifr) < 0) {
		e = errno;
		ret = errno_code(e);
		tun_err(err, errlen, "tun: %s: cannot read flags (SIOCGIFFLAGS): %s",
		        dev, strerror(e));
		goto out;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING | IFF_POINTOPOINT;
	if (ioctl(s4, SIOCSIFFLAGS, &ifr) < 0) {
		e = errno;
		ret = errno_code(e);
		tun_err(err, errlen, "tun: %s: cannot bring the link up (SIOCSIFFLAGS): %s",
		        dev, strerror(e));
		goto out;
	}

	if (local6 != NULL) {
		struct oc_in6_ifreq ifr6;
		struct in6_rtmsg rt;
		unsigned idx = if_nametoindex(dev);

		if (idx == 0) {
			e = errno;
			ret = errno_code(e);
			tun_err(err, errlen, "tun: %s: cannot get interface index: %s",
			        dev, strerror(e));
			goto out;
		}
		s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s6 < 0) {
			e = errno;
			ret = errno_code(e);
			tun_err(err, errlen,
			        "tun: %s: cannot create AF_INET6 socket (is IPv6 disabled?): %s",
			        dev, strerror(e));
			goto out;
		}
		memset(&ifr6, 0, sizeof(ifr6));
		memcpy(&ifr6.ifr6_addr, local6, 16);
		ifr6.ifr6_prefixlen = 128;
		ifr6.ifr6_ifindex = (int)idx;
		if (ioctl(s6, SIOCSIFADDR, &ifr6) < 0) {
			e = errno;
			ret = errno_code(e);
			tun_err(err, errlen,
			        "tun: %s: cannot set IPv6 address %s/128 (SIOCSIFADDR): %s",
			        dev, ip6_str(local6, a1, sizeof(a1)), strerror(e));
			goto out;
		}
		memset(&rt, 0, sizeof(rt));
		memcpy(&rt.rtmsg_dst, peer6, 16);
		rt.rtmsg_dst_len = 128;
		rt.rtmsg_metric = 1;
		rt.rtmsg_flags = RTF_UP | RTF_HOST;
		rt.rtmsg_ifindex = (int)idx;
		if (ioctl(s6, SIOCADDRT, &rt) < 0 && errno != EEXIST) {
			e = errno;
			ret = errno_code(e);
			tun_err(err, errlen,
			        "tun: %s: cannot add IPv6 route to peer %s/128 (SIOCADDRT): %s",
			        dev, ip6_str(peer6, a2, sizeof(a2)), strerror(e));
			goto out;
		}
	}

	memcpy(name, dev, IFNAMSIZ);
	ret = fd;
	fd = -1;
out:
	if (s6 >= 0)
		close(s6);
	if (s4 >= 0)
		close(s4);
	if (fd >= 0)
		close(fd); /* a non-persistent tun device disappears with it */
	return ret;
}

int tun_route_parse(const char *route, int *family, uint8_t addr[16], unsigned *plen)
{
	char buf[INET6_ADDRSTRLEN + 64], *slash, *end;
	struct in_addr m;
	unsigned i, n;
	long l;

	if (route == NULL || strlen(route) >= sizeof(buf))
		return OC_E_INVAL;
	memcpy(buf, route, strlen(route) + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		n = 32;
		if (slash && strchr(slash, '.')) {
			uint32_t mh;

			if (inet_pton(AF_INET, slash, &m) != 1)
				return OC_E_INVAL;
			mh = ntohl(m.s_addr);
			for (n = 0; n < 32 && (mh & (0x80000000u >> n)); n++)
				;
			if (n < 32 && (mh << n) != 0)
				return OC_E_INVAL; /* not contiguous */
		} else if (slash) {
			l = strtol(slash, &end, 10);
			if (*slash < '0' || *slash > '9' || *end || l < 0 || l > 32)
				return OC_E_INVAL;
			n = (unsigned)l;
		}
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		n = 128;
		if (slash) {
			l = strtol(slash, &end, 10);
			if (*slash < '0' || *slash > '9' || *end || l < 0 || l > 128)
				return OC_E_INVAL;
			n = (unsigned)l;
		}
	} else {
		return OC_E_INVAL;
	}
	/* clear the host bits */
	for (i = n; i < (*family == AF_INET ? 32u : 128u); i++)
		addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	*plen = n;
	return 0;
}

int tun_route(const char *dev, const char *route, bool add, char *err, size_t errlen)
{
	uint8_t a[16];
	unsigned plen;
	int family, s = -1, ret, e;
	char txt[INET6_ADDRSTRLEN];

	if (dev == NULL || dev[0] == '\0' || strlen(dev) >= IFNAMSIZ ||
	    tun_route_parse(route, &family, a, &plen) < 0) {
		tun_err(err, errlen, "tun: '%s' is not a route", route ? route : "(null)");
		return OC_E_INVAL;
	}
	inet_ntop(family, a, txt, sizeof(txt));
	s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		e = errno;
		tun_err(err, errlen, "tun: cannot create a socket for route %s/%u: %s",
		        txt, plen, strerror(e));
		return errno_code(e);
	}
	if (family == AF_INET) {
		struct rtentry rt;
		char devbuf[IFNAMSIZ];
		uint32_t mask = plen ? 0xffffffffu << (32 - plen) : 0;
		uint32_t net;

		memcpy(&net, a, 4);
		memset(&rt, 0, sizeof(rt));
		sin_set(&rt.rt_dst, ntohl(net));
		sin_set(&rt.rt_genmask, mask);
		rt.rt_flags = RTF_UP | (plen == 32 ? RTF_HOST : 0);
		memcpy(devbuf, dev, strlen(dev) + 1);
		rt.rt_dev = devbuf;
		ret = ioctl(s, add ? SIOCADDRT : SIOCDELRT, &rt);
	} else {
		struct in6_rtmsg rt;
		unsigned idx = if_nametoindex(dev);

		if (idx == 0) {
			e = errno;
			close(s);
			if (!add)
				return 0; /* the device is gone, and its routes with it */
			tun_err(err, errlen, "tun: no device %s: %s", dev, strerror(e));
			return errno_code(e);
		}
		memset(&rt, 0, sizeof(rt));
		memcpy(&rt.rtmsg_dst, a, 16);
		rt.rtmsg_dst_len = (unsigned short)plen;
		rt.rtmsg_metric = 1;
		rt.rtmsg_flags = RTF_UP | (plen == 128 ? RTF_HOST : 0);
		rt.rtmsg_ifindex = (int)idx;
		ret = ioctl(s, add ? SIOCADDRT : SIOCDELRT, &rt);
	}
	e = errno;
	close(s);
	if (ret == 0)
		return 0;
	if (!add && (e == ESRCH || e == ENODEV || e == ENXIO))
		return 0;
	tun_err(err, errlen, "tun: cannot %s route %s/%u via %s: %s",
	        add ? "add" : "delete", txt, plen, dev, strerror(e));
	return errno_code(e);
}

/* ---------------- batch deletion (rtnetlink) ---------------- */

#define NL_BATCH 65536

static void nl_attr_u32(uint8_t *p, size_t *len, unsigned short type, uint32_t v)
{
	struct rtattr *a = (struct rtattr *)(void *)(p + *len);

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(a), &v, sizeof(v));
	*len += RTA_ALIGN(a->rta_len);
}

/* Append a link message (index @p ifindex, IFLA_GROUP @p group) to @p buf. */
static void nl_link_msg(uint8_t *buf, size_t *off, uint16_t type, uint16_t flags,
			uint32_t seq, int ifindex, uint32_t group)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)(buf + *off);
	struct ifinfomsg *ifi;
	size_t len = NLMSG_LENGTH(sizeof(*ifi));

	memset(h, 0, NLMSG_SPACE(sizeof(*ifi)) + RTA_SPACE(sizeof(uint32_t)));
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	ifi = NLMSG_DATA(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	len = NLMSG_ALIGN(len);
	nl_attr_u32((uint8_t *)h, &len, IFLA_GROUP, group);
	h->nlmsg_len = (uint32_t)len;
	*off += NLMSG_ALIGN(len);
}

static int nl_send(int fd, const uint8_t *buf, size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	return sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len ? 0 : -1;
}

/* Read until the answer to @p seq: 0 (ACK), or -errno. Errors of the
 * unacknowledged group moves before it (other sequence numbers: devices
 * gone meanwhile) are counted in @p failed. */
static int nl_wait_ack(int fd, uint32_t seq, uint8_t *buf, size_t cap, size_t *failed)
{
	int rounds;

	for (rounds = 0; rounds < 100000; rounds++) {
		ssize_t n = recv(fd, buf, cap, 0);
		struct nlmsghdr *h;

		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		for (h = (struct nlmsghdr *)(void *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_seq == seq)
					return e->error;
				if (e->error)
					(*failed)++;
			}
		}
	}
	return -ETIMEDOUT;
}

int tun_delete_many(const int *ifindex, size_t n, char *err, size_t errlen)
{
	struct timeval tv = { 5, 0 };
	uint32_t group = 0x6f630000u | ((uint32_t)getpid() & 0xffffu), seq = 1;
	uint8_t *buf = NULL;
	size_t off = 0, i, moved = 0, failed = 0;
	int fd = -1, ret, rcvbuf = 1 << 20;

	if (n == 0)
		return 0;
	buf = malloc(NL_BATCH);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (!buf || fd < 0) {
		tun_err(err, errlen, "netlink: %s", strerror(errno));
		ret = OC_E_IO;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	for (i = 0; i < n; i++) {
		int idx = ifindex[i];

		if (idx <= 0)
			continue;
		if (off + 128 > NL_BATCH) {
			if (nl_send(fd, buf, off) < 0)
				break;
			off = 0;
		}
		nl_link_msg(buf, &off, RTM_NEWLINK, NLM_F_REQUEST, ++seq, idx, group);
		moved++;
	}
	if (off && nl_send(fd, buf, off) < 0) {
		tun_err(err, errlen, "netlink: %s", strerror(errno));
		ret = OC_E_IO;
		goto out;
	}
	if (moved == 0) {
		ret = 0;
		goto out;
	}
	off = 0;
	nl_link_msg(buf, &off, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, ++seq, 0, group);
	ret = nl_send(fd, buf, off) < 0 ? -errno : nl_wait_ack(fd, seq, buf, NL_BATCH, &failed);
	if (ret == -ENODEV) {
		ret = 0; /* all gone meanwhile */
		goto out;
	}
	if (ret != 0) {
		tun_err(err, errlen, "deleting %zu tun devices: %s", moved, strerror(-ret));
		ret = OC_E_IO;
		goto out;
	}
	ret = (int)(moved - (failed < moved ? failed : moved));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}
