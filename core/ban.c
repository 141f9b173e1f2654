/*
 * ban.c - ban points per client address (see ban.h).
 */
#include "config.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oc-error.h"
#include "ban.h"

#define BAN_BUCKETS 4096
#define BAN_MAX_ENTRIES 200000

struct ban_entry {
	struct ban_addr a;
	unsigned score;
	uint64_t last_ms;          /* last points added */
	uint64_t until_ms;         /* banned until, 0 = not banned */
	struct ban_entry *next;
};

static struct ban_entry *buckets[BAN_BUCKETS];
static size_t n_entries;
static struct { struct ban_addr net; unsigned prefix; bool set; } exempt[2];

int ban_addr_from_text(const char *text, struct ban_addr *a)
{
	struct in_addr v4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, &v4) == 1) {
		a->b[10] = a->b[11] = 0xff;
		memcpy(&a->b[12], &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, a->b) == 1)
		return 0;
	return OC_E_INVAL;
}

int ban_addr_from_sockaddr(const struct sockaddr *sa, struct ban_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->b[10] = a->b[11] = 0xff;
		memcpy(&a->b[12], &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(a->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return OC_E_INVAL;
}

static bool is_v4(const struct ban_addr *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a->b, pfx, 12) == 0;
}

void ban_addr_text(const struct ban_addr *a, char *buf, size_t n)
{
	if (is_v4(a))
		inet_ntop(AF_INET, &a->b[12], buf, (socklen_t)n);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)n);
}

static bool in_net(const struct ban_addr *a, const struct ban_addr *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a->b, net->b, full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		return (a->b[full] & m) == (net->b[full] & m);
	}
	return true;
}

static void set_exempt(int i, const char *net, const char *mask, bool v6)
{
	char buf[128], *slash;
	struct ban_addr m;
	unsigned prefix = 0, k;

	exempt[i].set = false;
	if (!net || strlen(net) >= sizeof(buf))
		return;
	snprintf(buf, sizeof(buf), "%s", net);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (ban_addr_from_text(buf, &exempt[i].net) < 0)
		return;
	if (slash && !strchr(slash, '.')) {
		prefix = (unsigned)atoi(slash);
	} else if (!v6 && (slash || mask) && ban_addr_from_text(slash ? slash : mask, &m) == 0) {
		for (k = 12; k < 16; k++) {
			uint8_t x = m.b[k];

			while (x & 0x80) {
				prefix++;
				x = (uint8_t)(x << 1);
			}
			if (m.b[k] != 0xff)
				break;
		}
	} else {
		return;
	}
	exempt[i].prefix = v6 ? prefix : 96 + prefix;
	exempt[i].set = exempt[i].prefix <= 128;
}

void ban_set_exempt(const struct core_conf *cc)
{
	set_exempt(0, cc->ipv4_network, cc->ipv4_netmask, false);
	set_exempt(1, cc->ipv6_network, NULL, true);
}

static bool is_exempt(const struct ban_addr *a)
{
	int i;

	for (i = 0; i < 2; i++)
		if (exempt[i].set && in_net(a, &exempt[i].net, exempt[i].prefix))
			return true;
	return false;
}

static unsigned hash(const struct ban_addr *a)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ a->b[i]) * 16777619u;
	return h % BAN_BUCKETS;
}

static struct ban_entry *find(const struct ban_addr *a, struct ban_entry ***pp_r)
{
	struct ban_entry **pp, *e;

	for (pp = &buckets[hash(a)]; (e = *pp); pp = &e->next) {
		if (memcmp(e->a.b, a->b, 16) == 0) {
			if (pp_r)
				*pp_r = pp;
			return e;
		}
	}
	return NULL;
}

/* Apply expiry to @p e; true if it is now empty. */
static bool refresh(const struct core_conf *cc, struct ban_entry *e, uint64_t now)
{
	if (e->until_ms && now >= e->until_ms) {
		e->until_ms = 0;
		e->score = 0;
	}
	if (!e->until_ms && e->score &&
	    now - e->last_ms >= (uint64_t)cc->ban_reset_time * 1000)
		e->score = 0;
	return !e->until_ms && !e->score;
}

bool ban_is_banned(const struct core_conf *cc, const struct ban_addr *a, uint64_t now)
{
	struct ban_entry *e;

	if (cc->max_ban_score <= 0)
		return false;
	e = find(a, NULL);
	if (!e)
		return false;
	refresh(cc, e, now);
	return e->until_ms != 0;
}

bool ban_add_points(const struct core_conf *cc, const struct ban_addr *a,
                    unsigned points, uint64_t now)
{
	struct ban_entry *e;

	if (cc->max_ban_score <= 0 || points == 0 || is_exempt(a))
		return false;
	e = find(a, NULL);
	if (!e) {
		if (n_entries >= BAN_MAX_ENTRIES)
			ban_sweep(cc, now);
		if (n_entries >= BAN_MAX_ENTRIES || !(e = calloc(1, sizeof(*e))))
			return false; /* table full: fail open, as a cache would */
		e->a = *a;
		e->next = buckets[hash(a)];
		buckets[hash(a)] = e;
		n_entries++;
	}
	refresh(cc, e, now);
	if (e->until_ms)
		return false;
	e->score = e->score + points > 1000000 ? 1000000 : e->score + points;
	e->last_ms = now;
	if (e->score >= (unsigned)cc->max_ban_score) {
		e->until_ms = now + (uint64_t)cc->ban_time * 1000;
		return true;
	}
	return false;
}

bool ban_remove(const struct ban_addr *a)
{
	struct ban_entry **pp, *e = find(a, &pp);

	if (!e)
		return false;
	*pp = e->next;
	free(e);
	n_entries--;
	return true;
}

void ban_sweep(const struct core_conf *cc, uint64_t now)
{
	size_t b;

	for (b = 0; b < BAN_BUCKETS; b++) {
		struct ban_entry **pp = &buckets[b], *e;

		while ((e = *pp)) {
			if (refresh(cc, e, now)) {
				*pp = e->next;
				free(e);
				n_entries--;
			} else {
				pp = &e->next;
			}
		}
	}
}

void ban_foreach(const struct core_conf *cc, uint64_t now, bool banned_only,
                 void (*cb)(void *arg, const struct ban_addr *a, unsigned score,
                            uint64_t banned_until_ms),
                 void *arg)
{
	size_t b;
	struct ban_entry *e;

	for (b = 0; b < BAN_BUCKETS; b++)
		for (e = buckets[b]; e; e = e->next) {
			refresh(cc, e, now);
			if ((banned_only && !e->until_ms) || (!e->until_ms && !e->score))
				continue;
			cb(arg, &e->a, e->score, e->until_ms);
		}
}
