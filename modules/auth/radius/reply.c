/*
 * reply.c - Access-Accept attributes to groups and per-user settings.
 *
 * Follows what ocserv's radius module (src/auth/radius.c and
 * src/sup-config/radius.c) takes from a reply, with ocserv's per-user
 * configuration key names:
 *
 *   Class (25)                    groups: "OU=g1;g2" or one plain name
 *   Framed-IP-Address (8)         explicit-ipv4 (not 255.255.255.254/255,
 *                                 which mean "from the pool")
 *   Framed-IP-Netmask (9)         ipv4-netmask
 *   Framed-IPv6-Address (168)     explicit-ipv6, ipv6-subnet-prefix = 64
 *   Delegated-IPv6-Prefix (123)   explicit-ipv6, ipv6-subnet-prefix = length
 *   Framed-IPv6-Prefix (97)       route "addr/len" (as ocserv)
 *   Framed-Route (22)             route, first token ("net/mask")
 *   Framed-IPv6-Route (99)        route, first token
 *   MS-Primary/Secondary-DNS-Server (311:28/29), DNS-Server-IPv6-Address (169)
 *                                 dns (IPv4 ones first, as ocserv)
 *   Session-Timeout (27)          session-timeout (seconds)
 *   Idle-Timeout (28)             idle-timeout (seconds)
 *   Acct-Interim-Interval (85)    interim-update-secs
 *   RP-Upstream/Downstream-Speed-Limit (10055:1/2, kbit/s)
 *                                 rx-data-per-sec / tx-data-per-sec (bytes/s)
 *   Service-Type (6)              must be Framed-User or Authenticate-Only
 *
 * Vendor attributes are only decoded by radcli when its dictionary has
 * them (the Microsoft and Roaring Penguin ones are $INCLUDEd there).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "reply.h"

#define VENDOR_MICROSOFT_PEC 311
#define VENDOR_RP_PEC 10055

void rad_strv_free(struct rad_strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void rad_reply_free(struct rad_reply *r)
{
	rad_strv_free(&r->groups);
	rad_strv_free(&r->keys);
	rad_strv_free(&r->vals);
	r->ignored = 0;
	r->refused[0] = '\0';
}

/* Append a copy of @p len bytes at @p s. */
static int strv_push(struct rad_strv *sv, const char *s, size_t len)
{
	char *c;

	if (sv->n + 1 >= sv->cap) {
		size_t ncap = sv->cap ? sv->cap * 2 : 8;
		char **nv = realloc(sv->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return OC_E_NOMEM;
		sv->v = nv;
		sv->cap = ncap;
	}
	c = malloc(len + 1);
	if (c == NULL)
		return OC_E_NOMEM;
	memcpy(c, s, len);
	c[len] = '\0';
	sv->v[sv->n++] = c;
	sv->v[sv->n] = NULL;
	return 0;
}

static int kv_push(struct rad_reply *r, const char *key, const char *val)
{
	int ret;

	if (r->keys.n >= RAD_MAX_ATTRS) {
		r->ignored++;
		return 0;
	}
	ret = strv_push(&r->keys, key, strlen(key));
	if (ret < 0)
		return ret;
	ret = strv_push(&r->vals, val, strlen(val));
	if (ret < 0) {
		free(r->keys.v[--r->keys.n]);
		r->keys.v[r->keys.n] = NULL;
	}
	return ret;
}

/* Replace the value of a single-valued key, or add it. */
static int kv_set(struct rad_reply *r, const char *key, const char *val)
{
	size_t i;
	char *c;

	for (i = 0; i < r->keys.n; i++) {
		if (strcmp(r->keys.v[i], key) != 0)
			continue;
		c = strdup(val);
		if (c == NULL)
			return OC_E_NOMEM;
		free(r->vals.v[i]);
		r->vals.v[i] = c;
		return 0;
	}
	return kv_push(r, key, val);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Add one group name (trimmed), unless empty or already there. */
static int group_add(struct rad_strv *groups, const char *s, size_t len)
{
	size_t i;

	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (len == 0)
		return 0;
	for (i = 0; i < groups->n; i++)
		if (strlen(groups->v[i]) == len && memcmp(groups->v[i], s, len) == 0)
			return 0;
	if (groups->n >= RAD_MAX_GROUPS)
		return 0;
	return strv_push(groups, s, len);
}

int rad_class_groups(struct rad_strv *groups, const char *val, size_t len,
                     char sep)
{
	const char *p = val;
	const char *end = val + len;
	size_t i;
	int ret;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)val[i];

		/* binary Class values (opaque server state) are no groups */
		if (c < 0x20 || c == 0x7f)
			return 1;
	}
	if (len >= 3 && memcmp(val, "OU=", 3) == 0) {
		p = val + 3;
		for (;;) {
			const char *q = memchr(p, sep, (size_t)(end - p));
			const char *stop = q != NULL ? q : end;

			ret = group_add(groups, p, (size_t)(stop - p));
			if (ret < 0)
				return ret;
			if (q == NULL)
				break;
			p = q + 1;
		}
		return 0;
	}
	ret = group_add(groups, val, len);
	if (ret < 0)
		return ret;
	return groups->n == 0 ? 1 : 0;
}

/* Is @p s (NUL-terminated) an IPv4 netmask in dotted form? */
static bool dotted_mask_ok(const char *s)
{
	struct in_addr a;
	uint32_t m;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	m = ~ntohl(a.s_addr);
	/* contiguous ones from the top: the inverse is 2^k - 1 */
	return (m & (m + 1)) == 0;
}

bool rad_route_token(const char *val, size_t len, char *out, size_t outlen)
{
	char buf[128];
	char *slash = NULL;
	char *end = NULL;
	size_t n = 0;
	unsigned long plen;
	bool v6;
	unsigned char addr[16];

	while (n < len && val[n] != '\0' && !is_blank(val[n]))
		n++;
	if (n == 0 || n >= sizeof(buf) || n >= outlen)
		return false;
	memcpy(buf, val, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash == NULL || slash == buf || slash[1] == '\0')
		return false;
	*slash = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		v6 = false;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		v6 = true;
	else
		return false;
	if (slash[1] >= '0' && slash[1] <= '9' && strchr(slash + 1, '.') == NULL) {
		plen = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || plen > (v6 ? 128u : 32u) || end - (slash + 1) > 3)
			return false;
	} else if (v6 || !dotted_mask_ok(slash + 1)) {
		return false;
	}
	*slash = '/';
	memcpy(out, buf, n + 1);
	return true;
}

static void note(rad_note_fn fn, void *arg, struct rad_reply *r,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void note(rad_note_fn fn, void *arg, struct rad_reply *r,
                 const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	r->ignored++;
	if (fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(arg, msg);
}

static void ipv4_text(uint32_t host_order, char *out, size_t len)
{
	struct in_addr a;

	a.s_addr = htonl(host_order);
	if (inet_ntop(AF_INET, &a, out, (socklen_t)len) == NULL)
		out[0] = '\0';
}

/* An ipv6prefix value: [reserved, length, prefix bytes...]. */
static bool ipv6_prefix(const VALUE_PAIR *vp, char *addr, size_t addrlen,
                        unsigned *plen_r)
{
	unsigned char a[16] = { 0 };
	size_t n = vp->lvalue;
	unsigned plen;

	if (n < 2 || n > 18)
		return false;
	plen = (unsigned char)vp->strvalue[1];
	if (plen > 128 || (n - 2) * 8 < plen)
		return false;
	memcpy(a, vp->strvalue + 2, n - 2);
	if (inet_ntop(AF_INET6, a, addr, (socklen_t)addrlen) == NULL)
		return false;
	*plen_r = plen;
	return true;
}

static int num_set(struct rad_reply *r, const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return kv_set(r, key, buf);
}

int rad_reply_parse(VALUE_PAIR *vp, char sep, struct rad_reply *r,
                    rad_note_fn fn, void *arg)
{
	char dns4[2][INET_ADDRSTRLEN] = { "", "" };
	struct rad_strv dns6 = { 0 };
	char txt[INET6_ADDRSTRLEN + 8];
	char route[160];
	unsigned plen = 0;
	size_t i;
	int ret = 0;

	for (; vp != NULL && ret == 0; vp = vp->next) {
		unsigned vendor = VENDOR(vp->attribute);
		unsigned id = ATTRID(vp->attribute);
		size_t slen = vp->type == PW_TYPE_STRING ? vp->lvalue : 0;

		if (slen > AUTH_STRING_LEN)
			slen = AUTH_STRING_LEN;
		if (vendor == VENDOR_MICROSOFT_PEC) {
			if ((id == 28 || id == 29) && vp->type == PW_TYPE_IPADDR)
				ipv4_text(vp->lvalue, dns4[id - 28], sizeof(dns4[0]));
			else
				note(fn, arg, r, "vendor 311 attribute %u (type %u) ignored", id, (unsigned)vp->type);
			continue;
		}
		if (vendor == VENDOR_RP_PEC) {
			if ((id == 1 || id == 2) && vp->type == PW_TYPE_INTEGER)
				/* kbit/s to bytes/s, as ocserv */
				ret = num_set(r, id == 1 ? "rx-data-per-sec" : "tx-data-per-sec",
				              (uint64_t)vp->lvalue * 1000 / 8);
			else
				note(fn, arg, r, "vendor 10055 attribute %u (type %u) ignored", id, (unsigned)vp->type);
			continue;
		}
		if (vendor != 0) {
			note(fn, arg, r, "vendor %u attribute %u ignored", vendor, id);
			continue;
		}
		switch (id) {
		case PW_SERVICE_TYPE:
			if (vp->type == PW_TYPE_INTEGER && vp->lvalue != PW_FRAMED &&
			    vp->lvalue != PW_AUTHENTICATE_ONLY)
				snprintf(r->refused, sizeof(r->refused),
				         "Service-Type %u in Access-Accept (only Framed-User "
				         "or Authenticate-Only are allowed)",
				         (unsigned)vp->lvalue);
			break;
		case PW_CLASS:
			if (vp->type != PW_TYPE_STRING)
				break;
			ret = rad_class_groups(&r->groups, vp->strvalue, slen, sep);
			if (ret == 1) {
				note(fn, arg, r, "Class (%u bytes) is no group name: ignored",
				     (unsigned)slen);
				ret = 0;
			}
			break;
		case PW_FRAMED_IP_ADDRESS:
			if (vp->type != PW_TYPE_IPADDR)
				break;
			/* RFC 2865: 0xFFFFFFFE = the NAS picks (pool), 0xFFFFFFFF =
			 * negotiated with the user; either way, the pool */
			if (vp->lvalue == 0xfffffffeu || vp->lvalue == 0xffffffffu ||
			    vp->lvalue == 0) {
				note(fn, arg, r, "Framed-IP-Address 0x%x: address from the pool",
				     (unsigned)vp->lvalue);
				break;
			}
			ipv4_text(vp->lvalue, txt, sizeof(txt));
			ret = kv_set(r, "explicit-ipv4", txt);
			break;
		case PW_FRAMED_IP_NETMASK:
			if (vp->type != PW_TYPE_IPADDR)
				break;
			ipv4_text(vp->lvalue, txt, sizeof(txt));
			ret = kv_set(r, "ipv4-netmask", txt);
			break;
		case PW_FRAMED_IPV6_ADDRESS:
			if (vp->type != PW_TYPE_IPV6ADDR || vp->lvalue != 16 ||
			    inet_ntop(AF_INET6, vp->strvalue, txt, sizeof(txt)) == NULL)
				break;
			ret = kv_set(r, "explicit-ipv6", txt);
			if (ret == 0)
				ret = num_set(r, "ipv6-subnet-prefix", 64);
			break;
		case PW_DELEGATED_IPV6_PREFIX:
			if (vp->type != PW_TYPE_IPV6PREFIX ||
			    !ipv6_prefix(vp, txt, sizeof(txt), &plen)) {
				note(fn, arg, r, "malformed Delegated-IPv6-Prefix ignored");
				break;
			}
			ret = kv_set(r, "explicit-ipv6", txt);
			if (ret == 0)
				ret = num_set(r, "ipv6-subnet-prefix", plen);
			break;
		case PW_FRAMED_IPV6_PREFIX:
			if (vp->type != PW_TYPE_IPV6PREFIX ||
			    !ipv6_prefix(vp, txt, sizeof(txt), &plen)) {
				note(fn, arg, r, "malformed Framed-IPv6-Prefix ignored");
				break;
			}
			snprintf(route, sizeof(route), "%s/%u", txt, plen);
			ret = kv_push(r, "route", route);
			break;
		case PW_FRAMED_ROUTE:
		case PW_FRAMED_IPV6_ROUTE:
			if (vp->type != PW_TYPE_STRING)
				break;
			if (!rad_route_token(vp->strvalue, slen, route, sizeof(route))) {
				note(fn, arg, r, "malformed route (attribute %u) ignored, "
				     "want net/mask", id);
				break;
			}
			ret = kv_push(r, "route", route);
			break;
		case PW_DNS_SERVER_IPV6_ADDRESS:
			if (vp->type != PW_TYPE_IPV6ADDR || vp->lvalue != 16 ||
			    inet_ntop(AF_INET6, vp->strvalue, txt, sizeof(txt)) == NULL)
				break;
			ret = strv_push(&dns6, txt, strlen(txt));
			break;
		case PW_SESSION_TIMEOUT:
			if (vp->type == PW_TYPE_INTEGER && vp->lvalue > 0)
				ret = num_set(r, "session-timeout", vp->lvalue);
			break;
		case PW_IDLE_TIMEOUT:
			if (vp->type == PW_TYPE_INTEGER && vp->lvalue > 0)
				ret = num_set(r, "idle-timeout", vp->lvalue);
			break;
		case PW_ACCT_INTERIM_INTERVAL:
			if (vp->type == PW_TYPE_INTEGER && vp->lvalue > 0)
				ret = num_set(r, "interim-update-secs", vp->lvalue);
			break;
		case PW_REPLY_MESSAGE:
		case PW_MESSAGE_AUTHENTICATOR:
		case PW_PROXY_STATE:
		case PW_STATE:
			break;
		default:
			note(fn, arg, r, "attribute %u (type %u) ignored", id, (unsigned)vp->type);
			break;
		}
	}
	for (i = 0; ret == 0 && i < 2; i++)
		if (dns4[i][0] != '\0')
			ret = kv_push(r, "dns", dns4[i]);
	for (i = 0; ret == 0 && i < dns6.n; i++)
		ret = kv_push(r, "dns", dns6.v[i]);
	rad_strv_free(&dns6);
	return ret;
}
