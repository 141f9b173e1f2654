/*
 * ike_p2.c - what follows phase 1, all encrypted and authenticated with
 * SKEYID_a:
 *   - Xauth (draft-beaulieu-ike-xauth): server-initiated transaction
 *     exchange; the answers go through the core's auth chain
 *     (oc_host_t.auth_query), further prompts become further requests;
 *     then the session is opened (oc_host_t.session_open) and the result
 *     is sent as XAUTH_STATUS;
 *   - mode config (draft-dukes-ike-mode-cfg, Cisco Unity attributes):
 *     answers to the client's REQUEST, or a pushed SET;
 *   - quick mode (RFC 2409 5.5) as responder: ESP tunnel mode over UDP,
 *     optional PFS; the ESP SAs run in ike.c;
 *   - informational exchanges: DPD (RFC 3706) both ways, deletes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "ike.h"

/* ------------------------------------------------------------------ */
/* exchanges and messages                                              */

void exch_free(struct ike_exch *ex)
{
	if (ex->gxy) {
		memset(ex->gxy, 0, ex->gxy_len);
		free(ex->gxy);
	}
	if (ex->dh) {
		ike_dh_free(ex->dh);
		free(ex->dh);
	}
	memset(ex, 0, sizeof(*ex));
}

struct ike_exch *exch_get(struct ike_sa *sa, uint32_t msgid, uint8_t type, bool create)
{
	struct ike_exch *ex = NULL;
	uint8_t mid[4], h[IKE_MAX_MD];
	ike_iov_t v[2] = { { sa->iv, sa->block }, { mid, 4 } };
	size_t i;

	for (i = 0; i < IKE_EXCH; i++)
		if (sa->ex[i].type == type && sa->ex[i].msgid == msgid)
			return &sa->ex[i];
	if (!create || msgid == 0)
		return NULL;
	for (i = 0; i < IKE_EXCH; i++) {
		if (!sa->ex[i].type) {
			ex = &sa->ex[i];
			break;
		}
		if (!ex || sa->ex[i].used_ms < ex->used_ms)
			ex = &sa->ex[i];
	}
	exch_free(ex);
	put32(mid, msgid);
	if (ike_hash(sa->md, v, 2, h) < 0)
		return NULL;
	ex->msgid = msgid;
	ex->type = type;
	ex->used_ms = ike_now();
	memcpy(ex->iv, h, sa->block);
	return ex;
}

static uint32_t new_msgid(struct ike_sa *sa)
{
	uint32_t id = 0;

	while (id == 0)
		if (ike_rng(sa->inst, (unsigned char *)&id, sizeof(id)) != 0)
			id = (uint32_t)ike_now() | 1;
	return id;
}

/* Start a phase 2 message: header and a HASH payload to fill later.
 * Returns the offset of the HASH payload. */
static size_t p2_begin(struct ike_sa *sa, isakmp_buf_t *b, uint8_t exch, uint32_t msgid)
{
	static const uint8_t zeros[IKE_MAX_MD];

	ib_init(b, sa->inst->buf, sizeof(sa->inst->buf));
	ib_hdr(b, sa->ic, sa->rc, exch, 0, msgid);
	ib_pl(b, PL_HASH, zeros, sa->mdlen);
	return ISAKMP_HDR_LEN;
}

/* HASH = prf(SKEYID_a, M-ID | pre | payloads after HASH); encrypt. */
static int p2_finish(struct ike_sa *sa, isakmp_buf_t *b, size_t hs, const ike_iov_t *pre,
                     size_t npre, uint8_t *iv)
{
	uint8_t mid[4], h[IKE_MAX_MD];
	ike_iov_t v[4];
	size_t after = hs + 4 + sa->mdlen, i, n = 0;

	if (b->err || npre > 2)
		return OC_E_NOSPACE;
	put32(mid, get32(b->p + 20));
	v[n++] = (ike_iov_t){ mid, 4 };
	for (i = 0; i < npre; i++)
		v[n++] = pre[i];
	v[n++] = (ike_iov_t){ b->p + after, b->len - after };
	if (ike_prf(sa->md, sa->skeyid_a, sa->mdlen, v, n, h) < 0)
		return OC_E_INVAL;
	memcpy(b->p + hs + 4, h, sa->mdlen);
	return sa_encrypt(sa, b, iv);
}

/* Check the HASH payload (first) of a received phase 2 message. */
static int p2_verify(struct ike_sa *sa, const isakmp_msg_t *m, const ike_iov_t *pre,
                     size_t npre)
{
	const isakmp_pl_t *hp = &m->pl[0];
	const uint8_t *msg, *after;
	uint8_t mid[4], h[IKE_MAX_MD];
	ike_iov_t v[4];
	size_t i, n = 0;

	if (m->n == 0 || hp->type != PL_HASH || hp->len != sa->mdlen || npre > 2)
		return OC_E_PROTO;
	msg = hp->raw - ISAKMP_HDR_LEN;
	after = hp->raw + hp->raw_len;
	put32(mid, m->h.msgid);
	v[n++] = (ike_iov_t){ mid, 4 };
	for (i = 0; i < npre; i++)
		v[n++] = pre[i];
	v[n++] = (ike_iov_t){ after, (size_t)(msg + m->chain_end - after) };
	if (ike_prf(sa->md, sa->skeyid_a, sa->mdlen, v, n, h) < 0)
		return OC_E_INVAL;
	if (!ike_ct_equal(h, hp->body, sa->mdlen)) {
		sa_log(sa, OC_LOG_DEBUG1, "phase 2 message with a bad HASH dropped (exchange %u)",
		       m->h.exch);
		return OC_E_PERM;
	}
	return 0;
}

int p2_send_info(struct ike_sa *sa, uint8_t type, const uint8_t *body, size_t n)
{
	isakmp_buf_t b;
	uint32_t msgid = new_msgid(sa);
	uint8_t iv[IKE_MAX_BLOCK], mid[4], h[IKE_MAX_MD];
	ike_iov_t v[2] = { { sa->iv, sa->block }, { mid, 4 } };
	size_t hs;

	if (!sa->p1_done || !sa->flow)
		return OC_E_STATE;
	put32(mid, msgid);
	if (ike_hash(sa->md, v, 2, h) < 0)
		return OC_E_INVAL;
	memcpy(iv, h, sa->block);
	hs = p2_begin(sa, &b, EXCH_INFO, msgid);
	ib_pl(&b, type, body, n);
	if (p2_finish(sa, &b, hs, NULL, 0, iv) < 0)
		return OC_E_INVAL;
	sa_send(sa, b.p, b.len);
	return 0;
}

static void send_notify(struct ike_sa *sa, uint16_t type, const uint8_t *data, size_t n)
{
	uint8_t body[8 + 16 + 16];

	if (n > 16)
		return;
	put32(body, DOI_IPSEC);
	body[4] = PROTO_ISAKMP;
	body[5] = 16;
	put16(body + 6, type);
	memcpy(body + 8, sa->ic, 8);
	memcpy(body + 16, sa->rc, 8);
	if (n)
		memcpy(body + 24, data, n);
	(void)p2_send_info(sa, PL_N, body, 24 + n);
}

void p2_send_deletes(struct ike_sa *sa)
{
	uint8_t body[8 + 16];

	/* only the ISAKMP SA: its ESP SAs go with it (vpnc would answer an
	 * ESP delete by negotiating a new one) */
	put32(body, DOI_IPSEC);
	body[4] = PROTO_ISAKMP;
	body[5] = 16;
	put16(body + 6, 1);
	memcpy(body + 8, sa->ic, 8);
	memcpy(body + 16, sa->rc, 8);
	(void)p2_send_info(sa, PL_D, body, sizeof(body));
}

void p2_send_delete_child(struct ike_sa *sa, uint32_t spi_in)
{
	uint8_t body[12];

	put32(body, DOI_IPSEC);
	body[4] = PROTO_ESP;
	body[5] = 4;
	put16(body + 6, 1);
	put32(body + 8, spi_in);
	(void)p2_send_info(sa, PL_D, body, sizeof(body));
}

/* ------------------------------------------------------------------ */
/* Xauth                                                               */

static void on_auth_answer(void *arg, const oc_auth_answer_t *a);

static void run_query(struct ike_sa *sa, const oc_kv_t *fields, size_t n)
{
	oc_auth_query_t q;
	int r;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	if (sa->auth_ctx_len) {
		q.context.data = sa->auth_ctx;
		q.context.len = sa->auth_ctx_len;
	}
	q.fields = n ? fields : NULL;
	q.n_fields = n;
	q.user_agent = sa->v_unity ? "Cisco Unity (IKEv1)" : "IKEv1";
	r = sa->inst->host->auth_query(sa->conn, &q, on_auth_answer, sa);
	if (r < 0)
		sa_fail(sa, OC_CLOSE_ERROR, "cannot reach the authentication service");
}

void xauth_start(struct ike_sa *sa)
{
	sa->state = S_XAUTH_START;
	sa->auth_ctx_len = 0;
	run_query(sa, NULL, 0);
}

static void send_xauth_status(struct ike_sa *sa, bool ok)
{
	isakmp_buf_t b;
	struct ike_exch *ex;
	uint32_t msgid = new_msgid(sa);
	uint16_t id;
	size_t hs, s;

	ex = exch_get(sa, msgid, EXCH_TRANS, true);
	if (!ex) {
		sa_fail(sa, OC_CLOSE_ERROR, "cannot start a transaction");
		return;
	}
	ike_rng(sa->inst, (unsigned char *)&id, sizeof(id));
	hs = p2_begin(sa, &b, EXCH_TRANS, msgid);
	s = ib_pl_begin(&b, PL_ATTR);
	ib_u8(&b, CFG_SET);
	ib_u8(&b, 0);
	ib_u16(&b, id);
	/* vpnc accepts exactly one attribute here */
	ib_attr_tv(&b, CA_XAUTH_STATUS, ok ? 1 : 0);
	ib_pl_end(&b, s);
	if (p2_finish(sa, &b, hs, NULL, 0, ex->iv) < 0) {
		sa_fail(sa, OC_CLOSE_ERROR, "cannot build the Xauth status");
		return;
	}
	sa->state = ok ? S_XAUTH_SET : S_FAILING;
	sa_send_req(sa, b.p, b.len, msgid);
}

/* Map the auth chain's prompts to Xauth attributes. */
static int map_prompts(struct ike_sa *sa, const oc_auth_answer_t *a)
{
	bool used_pw = false, used_pc = false, used_name = false, used_ans = false;
	size_t i;

	sa->n_prompts = 0;
	for (i = 0; i < a->n_prompts && i < OC_AUTH_MAX_PROMPTS; i++) {
		const oc_auth_prompt_t *p = &a->prompts[i];
		uint16_t attr = 0;

		if (p->type == OC_PROMPT_HIDDEN) {
			attr = 0; /* sent back as is */
		} else if (p->type == OC_PROMPT_TEXT && strcmp(p->name, "username") == 0 && !used_name) {
			attr = CA_XAUTH_USER_NAME;
			used_name = true;
		} else if (p->type == OC_PROMPT_PASSWORD && !used_pw) {
			attr = CA_XAUTH_USER_PASSWORD;
			used_pw = true;
		} else if (p->type == OC_PROMPT_PASSWORD && !used_pc) {
			attr = CA_XAUTH_PASSCODE;
			used_pc = true;
		} else if (!used_ans) {
			attr = CA_XAUTH_ANSWER;
			used_ans = true;
		} else {
			return OC_E_UNSUPPORTED;
		}
		sa->prompts[sa->n_prompts] = *p;
		sa->prompt_attr[sa->n_prompts] = attr;
		sa->n_prompts++;
	}
	return sa->n_prompts ? 0 : OC_E_UNSUPPORTED;
}

static void send_xauth_request(struct ike_sa *sa, const char *message)
{
	isakmp_buf_t b;
	struct ike_exch *ex;
	uint32_t msgid = new_msgid(sa);
	size_t hs, s, i, ml = message ? strlen(message) : 0;

	ex = exch_get(sa, msgid, EXCH_TRANS, true);
	if (!ex) {
		sa_fail(sa, OC_CLOSE_ERROR, "cannot start a transaction");
		return;
	}
	ike_rng(sa->inst, (unsigned char *)&sa->xauth_id, sizeof(sa->xauth_id));
	hs = p2_begin(sa, &b, EXCH_TRANS, msgid);
	s = ib_pl_begin(&b, PL_ATTR);
	ib_u8(&b, CFG_REQUEST);
	ib_u8(&b, 0);
	ib_u16(&b, sa->xauth_id);
	for (i = 0; i < sa->n_prompts; i++)
		if (sa->prompt_attr[i])
			ib_attr_tlv(&b, sa->prompt_attr[i], NULL, 0);
	if (ml)
		ib_attr_tlv(&b, CA_XAUTH_MESSAGE, message, ml > 1024 ? 1024 : ml);
	ib_pl_end(&b, s);
	if (p2_finish(sa, &b, hs, NULL, 0, ex->iv) < 0) {
		sa_fail(sa, OC_CLOSE_ERROR, "cannot build an Xauth request");
		return;
	}
	sa->state = S_XAUTH_REQ;
	sa_send_req(sa, b.p, b.len, msgid);
}

static void on_session(void *arg, int status, const oc_session_params_t *p, const char *reason)
{
	struct ike_sa *sa = arg;
	struct in_addr a;

	if (sa->closed || sa->state != S_SESSION)
		return;
	if (status != 0 || !p || !p->ipv4 || inet_pton(AF_INET, p->ipv4, &a) != 1) {
		sa_log(sa, OC_LOG_INFO, "no session: %s",
		       status == 0 ? "no IPv4 address for the client" :
		       reason ? reason : "refused");
		send_xauth_status(sa, false);
		return;
	}
	sa->params = p;
	sa->ip4 = ntohl(a.s_addr);
	sa->dpd_ms = sa->inst->conf->dpd ? (unsigned)sa->inst->conf->dpd : p->dpd * 1000u;
	sa_log(sa, OC_LOG_INFO, "Xauth login of %s accepted; address %s", p->username ?
	       p->username : sa->username, p->ipv4);
	send_xauth_status(sa, true);
}

/*
 * Re-authentication.  strongSwan renews an IKEv1 SA by logging in again:
 * a new main mode and Xauth from the same client while its session lives,
 * then a delete of the old ISAKMP SA, while the ESP SAs stay in use and the
 * client asks for the address it has.  When the same user logs in again
 * from the same address and port, the session (address, tun, ESP SAs) stays
 * and only its ISAKMP SA is new: @p n's ISAKMP SA moves to the SA that holds
 * the session, and @p n, left with the old ISAKMP SA, closes without
 * deleting anything.  A second device behind the same NAT comes from
 * another port and gets a session of its own.  Returns true when adopted.
 */
static bool reauth_adopt(struct ike_sa *n)
{
	struct ike_sa *o;
	size_t i;
	bool rekey_lost = false;

	if (!n->username[0])
		return false;
	/* the name as typed, by the same client: the auth chain mapped it to
	 * the session's user the first time */
	for (o = n->inst->sas; o; o = o->next)
		if (o != n && o->state == S_READY && sa_has_session(o) &&
		    strcmp(o->username, n->username) == 0 && sa_same_peer(o, n))
			break;
	if (!o)
		return false;
	/* a rekey of ours in flight goes with the old ISAKMP SA */
	for (i = 0; i < IKE_EXCH; i++)
		if (o->ex[i].type == EXCH_QUICK && o->ex[i].qm_stage == QM_INITIATED)
			rekey_lost = true;
	sa_swap_isakmp(o, n);
	if (rekey_lost && o->cur) {
		o->cur->rekeyed = false;
		o->cur->rekey_tries = 0;
	}
	o->last_rx_ms = ike_now();
	o->dpd_out = 0;
	sa_log(o, OC_LOG_INFO, "re-authenticated on a new ISAKMP SA: the session (address %s) "
	       "and its ESP SAs go on", o->params->ipv4);
	send_xauth_status(o, true);
	sa_fail(n, OC_CLOSE_REPLACED, "the ISAKMP SA was replaced by a re-authentication");
	return true;
}

static void on_auth_answer(void *arg, const oc_auth_answer_t *a)
{
	struct ike_sa *sa = arg;

	if (sa->closed || (sa->state != S_XAUTH_START && sa->state != S_XAUTH_CHECK))
		return;
	if (a->context.len && a->context.len <= sizeof(sa->auth_ctx)) {
		memcpy(sa->auth_ctx, a->context.data, a->context.len);
		sa->auth_ctx_len = a->context.len;
	}
	switch (a->status) {
	case OC_AUTH_CHALLENGE:
		if (map_prompts(sa, a) < 0) {
			sa_log(sa, OC_LOG_WARN, "the login asks for input Xauth cannot express");
			send_xauth_status(sa, false);
			return;
		}
		send_xauth_request(sa, a->message);
		return;
	case OC_AUTH_OK: {
		oc_session_request_t req;
		int r;

		sa->auth_ok = true;
		if (sa->inst->n_halfopen)
			sa->inst->n_halfopen--;
		if (reauth_adopt(sa))
			return;
		memset(&req, 0, sizeof(req));
		req.size = sizeof(req);
		req.cookie = a->cookie;
		req.user_agent = sa->v_unity ? "Cisco Unity (IKEv1)" : "IKEv1";
		req.flags = OC_SESS_F_WANT_IPV4;
		/* IP + UDP + SPI/seq + IV + padding + pad length/next header + ICV */
		req.overhead = (sa->peer.ss.ss_family == AF_INET6 ? 40 : 20) + 8 + 8 + 16 + 15 + 2 + 32;
		sa->state = S_SESSION;
		r = sa->inst->host->session_open(sa->conn, &req, on_session, sa);
		if (r < 0) {
			sa->state = S_FAILING;
			send_xauth_status(sa, false);
		}
		return;
	}
	default:
		sa_log(sa, OC_LOG_INFO, "Xauth login%s%s refused", sa->username[0] ? " of " : "",
		       sa->username);
		send_xauth_status(sa, false);
		return;
	}
}

/* A bounded copy of an attribute value as a string (no NUL inside). */
static bool attr_str(const isakmp_attr_t *a, char *out, size_t cap)
{
	if (a->tv || a->len >= cap || memchr(a->data, 0, a->len))
		return false;
	memcpy(out, a->data, a->len);
	out[a->len] = 0;
	return true;
}

static int xauth_reply(struct ike_sa *sa, const isakmp_pl_t *ap)
{
	char vals[OC_AUTH_MAX_PROMPTS][128];
	oc_kv_t f[OC_AUTH_MAX_PROMPTS];
	const uint8_t *p = ap->body + 4, *end = ap->body + ap->len;
	isakmp_attr_t a;
	size_t i, n = 0;
	int r;

	memset(vals, 0, sizeof(vals));
	for (i = 0; i < sa->n_prompts; i++)
		if (!sa->prompt_attr[i])
			snprintf(vals[i], sizeof(vals[i]), "%s", sa->prompts[i].value);
	while ((r = isakmp_attr_next(&p, end, &a)) == 1) {
		for (i = 0; i < sa->n_prompts; i++) {
			if (!sa->prompt_attr[i] || sa->prompt_attr[i] != a.type)
				continue;
			if (!attr_str(&a, vals[i], sizeof(vals[i]))) {
				r = OC_E_PROTO;
				goto out;
			}
			if (a.type == CA_XAUTH_USER_NAME)
				snprintf(sa->username, sizeof(sa->username), "%s", vals[i]);
		}
	}
	if (r < 0)
		goto out;
	for (i = 0; i < sa->n_prompts; i++) {
		f[n].name = sa->prompts[i].name;
		f[n].value = vals[i];
		n++;
	}
	sa->state = S_XAUTH_CHECK;
	run_query(sa, f, n);
	r = 0;
out:
	sa->inst->host->memzero(vals, sizeof(vals));
	return r;
}

/* ------------------------------------------------------------------ */
/* mode config                                                         */

static bool want(const uint16_t *req, size_t nreq, uint16_t t)
{
	size_t i;

	if (!req)
		return true;
	for (i = 0; i < nreq; i++)
		if (req[i] == t)
			return true;
	return false;
}

static bool parse_route4(const char *r, uint32_t *net, uint32_t *mask)
{
	char buf[64], *slash;
	struct in_addr a, m;

	if (!r || strlen(r) >= sizeof(buf) || strchr(r, ':'))
		return false;
	snprintf(buf, sizeof(buf), "%s", r);
	slash = strchr(buf, '/');
	if (!slash)
		return false;
	*slash++ = 0;
	if (inet_pton(AF_INET, buf, &a) != 1 || inet_pton(AF_INET, slash, &m) != 1)
		return false;
	*mask = ntohl(m.s_addr);
	*net = ntohl(a.s_addr) & *mask;
	return *mask != 0;
}

static void put_ip4_attr(isakmp_buf_t *b, uint16_t type, const char *s)
{
	struct in_addr a;

	if (s && inet_pton(AF_INET, s, &a) == 1)
		ib_attr_tlv(b, type, &a, 4);
}

static void put_split(isakmp_buf_t *b, uint16_t type, const char *const *v, size_t n,
                      uint32_t extra_net, uint32_t extra_mask)
{
	uint8_t rec[64 * 14 + 14];
	size_t i, k = 0;
	uint32_t net, mask;
	bool have_extra = false;

	for (i = 0; i < n && k < 64; i++) {
		if (!parse_route4(v[i], &net, &mask))
			continue;
		if (extra_mask && net == extra_net && mask == extra_mask)
			have_extra = true;
		memset(rec + k * 14, 0, 14);
		put32(rec + k * 14, net);
		put32(rec + k * 14 + 4, mask);
		k++;
	}
	if (k && extra_mask && !have_extra) {
		memset(rec + k * 14, 0, 14);
		put32(rec + k * 14, extra_net);
		put32(rec + k * 14 + 4, extra_mask);
		k++;
	}
	if (k)
		ib_attr_tlv(b, type, rec, k * 14);
}

/* The attributes of the session (all, or those in @p req). */
static void put_cfg(struct ike_sa *sa, isakmp_buf_t *b, const uint16_t *req, size_t nreq)
{
	const oc_session_params_t *p = sa->params;
	size_t i;

	put_ip4_attr(b, CA_IP4_ADDRESS, p->ipv4);
	if (want(req, nreq, CA_IP4_NETMASK))
		put_ip4_attr(b, CA_IP4_NETMASK, p->ipv4_netmask);
	if (want(req, nreq, CA_IP4_DNS))
		for (i = 0; i < p->n_dns; i++)
			put_ip4_attr(b, CA_IP4_DNS, p->dns[i]);
	if (want(req, nreq, CA_IP4_NBNS))
		for (i = 0; i < p->n_nbns; i++)
			put_ip4_attr(b, CA_IP4_NBNS, p->nbns[i]);
	if (want(req, nreq, CA_UNITY_DEF_DOMAIN) && p->default_domain && p->default_domain[0])
		ib_attr_tlv(b, CA_UNITY_DEF_DOMAIN, p->default_domain, strlen(p->default_domain));
	if (want(req, nreq, CA_UNITY_BANNER) && p->banner && p->banner[0])
		ib_attr_tlv(b, CA_UNITY_BANNER, p->banner,
			    strlen(p->banner) > 2048 ? 2048 : strlen(p->banner));
	if (want(req, nreq, CA_UNITY_SPLIT_INCLUDE) && p->n_routes) {
		uint32_t pool_net = 0, pool_mask = 0;
		struct in_addr a, m;

		/* the VPN's own network goes with the split routes: the
		 * server's tunnel address lives there */
		if (p->ipv4_netmask && inet_pton(AF_INET, p->ipv4, &a) == 1 &&
		    inet_pton(AF_INET, p->ipv4_netmask, &m) == 1) {
			pool_mask = ntohl(m.s_addr);
			pool_net = ntohl(a.s_addr) & pool_mask;
		}
		for (i = 0; i < p->n_routes; i++)
			if (strcmp(p->routes[i], "default") == 0 || strcmp(p->routes[i], "0.0.0.0/0.0.0.0") == 0)
				break;
		if (i == p->n_routes)
			put_split(b, CA_UNITY_SPLIT_INCLUDE, p->routes, p->n_routes, pool_net, pool_mask);
	}
	if (want(req, nreq, CA_UNITY_LOCAL_LAN) && p->n_no_routes)
		put_split(b, CA_UNITY_LOCAL_LAN, p->no_routes, p->n_no_routes, 0, 0);
	if (want(req, nreq, CA_UNITY_SPLITDNS_NAME) && p->n_split_dns) {
		char s[1024] = "";
		size_t used = 0;

		for (i = 0; i < p->n_split_dns; i++) {
			int w = snprintf(s + used, sizeof(s) - used, "%s%s", used ? "," : "",
					 p->split_dns[i]);

			if (w < 0 || (size_t)w >= sizeof(s) - used)
				break;
			used += (size_t)w;
		}
		if (used)
			ib_attr_tlv(b, CA_UNITY_SPLITDNS_NAME, s, used);
	}
	if (req && want(req, nreq, CA_UNITY_SAVE_PASSWD))
		ib_attr_tv(b, CA_UNITY_SAVE_PASSWD, 0);
	if (want(req, nreq, CA_UNITY_PFS))
		ib_attr_tv(b, CA_UNITY_PFS, sa->inst->conf->pfs ? 1 : 0);
	if (req && want(req, nreq, CA_APP_VERSION))
		ib_attr_tlv(b, CA_APP_VERSION, "ocmod " IKE_VERSION, strlen("ocmod " IKE_VERSION));
}

static int cfg_request(struct ike_sa *sa, struct ike_exch *ex, const isakmp_pl_t *ap)
{
	uint16_t req[64];
	size_t nreq = 0, hs, s;
	const uint8_t *p = ap->body + 4, *end = ap->body + ap->len;
	isakmp_attr_t a;
	isakmp_buf_t b;
	int r;

	while ((r = isakmp_attr_next(&p, end, &a)) == 1)
		if (nreq < 64)
			req[nreq++] = a.type;
	if (r < 0)
		return OC_E_PROTO;
	memcpy(ex->iv, sa->inst->rx_iv, sa->block);
	hs = p2_begin(sa, &b, EXCH_TRANS, ex->msgid);
	s = ib_pl_begin(&b, PL_ATTR);
	ib_u8(&b, CFG_REPLY);
	ib_u8(&b, 0);
	ib_u16(&b, get16(ap->body + 2));
	put_cfg(sa, &b, req, nreq);
	ib_pl_end(&b, s);
	if (p2_finish(sa, &b, hs, NULL, 0, ex->iv) < 0)
		return OC_E_NOSPACE;
	sa_log(sa, OC_LOG_DEBUG1, "mode config: %zu attributes requested, answered", nreq);
	sa_reply(sa, b.p, b.len);
	return 0;
}

static void cfg_push(struct ike_sa *sa)
{
	isakmp_buf_t b;
	struct ike_exch *ex;
	uint32_t msgid = new_msgid(sa);
	uint16_t id;
	size_t hs, s;

	ex = exch_get(sa, msgid, EXCH_TRANS, true);
	if (!ex) {
		sa->state = S_READY;
		return;
	}
	ike_rng(sa->inst, (unsigned char *)&id, sizeof(id));
	hs = p2_begin(sa, &b, EXCH_TRANS, msgid);
	s = ib_pl_begin(&b, PL_ATTR);
	ib_u8(&b, CFG_SET);
	ib_u8(&b, 0);
	ib_u16(&b, id);
	put_cfg(sa, &b, NULL, 0);
	ib_pl_end(&b, s);
	if (p2_finish(sa, &b, hs, NULL, 0, ex->iv) < 0) {
		sa->state = S_READY;
		return;
	}
	sa->state = S_CFG_PUSH;
	sa_send_req(sa, b.p, b.len, msgid);
}

static int trans_input(struct ike_sa *sa, const isakmp_msg_t *m, struct ike_exch *ex)
{
	const isakmp_pl_t *ap;
	uint8_t type;
	int r;

	if (p2_verify(sa, m, NULL, 0) < 0)
		return OC_E_PERM;
	ap = m->n >= 2 ? &m->pl[1] : NULL;
	if (!ap || ap->type != PL_ATTR || ap->len < 4)
		return OC_E_PROTO;
	type = ap->body[0];
	ex->used_ms = ike_now();
	if (type == CFG_REPLY && sa->state == S_XAUTH_REQ && m->h.msgid == sa->req_msgid) {
		memcpy(ex->iv, sa->inst->rx_iv, sa->block);
		sa_req_done(sa);
		r = xauth_reply(sa, ap);
		if (r < 0) {
			send_xauth_status(sa, false);
			return 0;
		}
		return 0;
	}
	if (type == CFG_ACK && m->h.msgid == sa->req_msgid &&
	    (sa->state == S_XAUTH_SET || sa->state == S_FAILING || sa->state == S_CFG_PUSH)) {
		memcpy(ex->iv, sa->inst->rx_iv, sa->block);
		sa_req_done(sa);
		if (sa->state == S_FAILING) {
			sa_fail(sa, OC_CLOSE_AUTH_FAILED, NULL);
			return 0;
		}
		if (sa->state == S_XAUTH_SET && sa->inst->conf->mode_config_push) {
			cfg_push(sa);
			return 0;
		}
		sa->state = S_READY;
		sa_log(sa, OC_LOG_DEBUG1, "authenticated; waiting for mode config and quick mode");
		return 0;
	}
	if (type == CFG_REQUEST && (sa->state == S_READY || sa->state == S_CFG_PUSH ||
				    sa->state == S_XAUTH_SET)) {
		if (sa->state == S_XAUTH_SET) {
			/* the ACK got lost: the request shows it was received */
			sa_req_done(sa);
			sa->state = S_READY;
		}
		return cfg_request(sa, ex, ap);
	}
	return OC_E_STATE;
}

/* ------------------------------------------------------------------ */
/* quick mode                                                          */

struct qm_choice {
	isakmp_prop_t prop;
	isakmp_trans_t trans;
	int enc;
	size_t keylen;
	mbedtls_md_type_t amd;
	size_t icv;
	int group;
	uint32_t life_s;
	uint32_t auth_alg, encap, keybits;
};

static bool qm_acceptable(struct ike_sa *sa, const isakmp_trans_t *t, bool pfs,
                          struct qm_choice *c)
{
	const uint8_t *p = t->attrs, *end = t->attrs + t->attrs_len;
	uint32_t auth = 0, encap = 0, group = 0, keybits = 0, life_type = 0;
	isakmp_attr_t a;
	int r;

	c->life_s = 0;
	while ((r = isakmp_attr_next(&p, end, &a)) == 1) {
		uint32_t v = 0;

		if (a.type != P2_LIFE_DUR && isakmp_attr_u32(&a, &v) < 0)
			return false;
		switch (a.type) {
		case P2_LIFE_TYPE: life_type = v; break;
		case P2_LIFE_DUR:
			if (isakmp_attr_u32(&a, &v) < 0)
				v = 0xffffffffu;
			if (life_type == LIFE_SECONDS)
				c->life_s = v;
			break;
		case P2_GROUP: group = v; break;
		case P2_ENCAP: encap = v; break;
		case P2_AUTH: auth = v; break;
		case P2_KEYLEN: keybits = v; break;
		default: return false;
		}
	}
	if (r < 0)
		return false;
	if (t->id == ESP_AES) {
		if (keybits == 0)
			keybits = 128;
		if (keybits != 128 && keybits != 192 && keybits != 256)
			return false;
		c->enc = CIPH_AES;
		c->keylen = keybits / 8;
	} else if (t->id == ESP_3DES && keybits == 0) {
		c->enc = CIPH_3DES;
		c->keylen = 24;
	} else {
		return false;
	}
	switch (auth) {
	case P2_AUTH_SHA1: c->amd = MBEDTLS_MD_SHA1; c->icv = 12; break;
	case P2_AUTH_SHA256: c->amd = MBEDTLS_MD_SHA256; c->icv = 16; break;
	case P2_AUTH_SHA384: c->amd = MBEDTLS_MD_SHA384; c->icv = 24; break;
	case P2_AUTH_SHA512: c->amd = MBEDTLS_MD_SHA512; c->icv = 32; break;
	default: return false;
	}
	/* ESP in UDP only: there is no kernel ESP to hand plain ESP to */
	if (encap != ENCAP_UDP_TUNNEL && encap != ENCAP_UDP_TUNNEL_DRAFT)
		return false;
	if (pfs != (group != 0))
		return false;
	if (group && (group > 16 || !sa->inst->groups[group] || !ike_dh_len((int)group)))
		return false;
	c->group = (int)group;
	c->auth_alg = auth;
	c->encap = encap;
	c->keybits = t->id == ESP_AES ? keybits : 0;
	return true;
}

static int qm_choose(struct ike_sa *sa, const isakmp_pl_t *sa_pl, bool pfs, struct qm_choice *c)
{
	const uint8_t *props, *pp, *tp;
	size_t plen;
	uint32_t doi, sit;
	isakmp_prop_t pr, next;
	isakmp_trans_t t;
	int r;

	if (isakmp_sa_open(sa_pl->body, sa_pl->len, &doi, &sit, &props, &plen) < 0 ||
	    doi != DOI_IPSEC || sit != SIT_IDENTITY_ONLY)
		return OC_E_PROTO;
	pp = props;
	r = isakmp_prop_next(&pp, props + plen, &pr);
	while (r == 1) {
		int rn = isakmp_prop_next(&pp, props + plen, &next);
		bool bundle = false;

		if (rn < 0)
			return OC_E_PROTO;
		/* proposals sharing a number form a bundle (AH+ESP...): skip */
		while (rn == 1 && next.num == pr.num) {
			bundle = true;
			rn = isakmp_prop_next(&pp, props + plen, &next);
			if (rn < 0)
				return OC_E_PROTO;
		}
		if (!bundle && pr.proto == PROTO_ESP && pr.spi_size == 4 && get32(pr.spi) >= 256) {
			tp = pr.trans;
			while (isakmp_trans_next(&tp, pr.trans + pr.trans_len, &t) == 1) {
				if (qm_acceptable(sa, &t, pfs, c)) {
					uint32_t max = (uint32_t)(sa->inst->conf->ipsec_lifetime / 1000);

					c->prop = pr;
					c->trans = t;
					if (c->life_s == 0 || c->life_s > max)
						c->life_s = max;
					return 0;
				}
			}
		}
		pr = next;
		r = rn;
	}
	return r < 0 ? OC_E_PROTO : OC_E_NOTFOUND;
}

static void put_qm_sa(isakmp_buf_t *b, const struct qm_choice *c, uint32_t spi)
{
	const uint8_t *p = c->trans.attrs, *end = c->trans.attrs + c->trans.attrs_len;
	size_t s = ib_pl_begin(b, PL_SA), ps, ts;
	uint32_t life_type = 0;
	isakmp_attr_t a;
	bool have_life = false;

	ib_u32(b, DOI_IPSEC);
	ib_u32(b, SIT_IDENTITY_ONLY);
	ps = b->len;
	ib_u8(b, PL_NONE);
	ib_u8(b, 0);
	ib_u16(b, 0);
	ib_u8(b, c->prop.num);
	ib_u8(b, PROTO_ESP);
	ib_u8(b, 4);
	ib_u8(b, 1);
	ib_u32(b, spi);
	ts = b->len;
	ib_u8(b, PL_NONE);
	ib_u8(b, 0);
	ib_u16(b, 0);
	ib_u8(b, c->trans.num);
	ib_u8(b, c->trans.id);
	ib_u16(b, 0);
	while (isakmp_attr_next(&p, end, &a) == 1) {
		uint32_t v = 0;

		if (a.type == P2_LIFE_TYPE) {
			isakmp_attr_u32(&a, &life_type);
			have_life = true;
		}
		if (a.type == P2_LIFE_DUR && life_type == LIFE_SECONDS &&
		    (isakmp_attr_u32(&a, &v) < 0 || v != c->life_s)) {
			uint8_t x[4];

			put32(x, c->life_s);
			ib_attr_tlv(b, P2_LIFE_DUR, x, 4);
			continue;
		}
		ib_put(b, a.raw, a.raw_len);
	}
	if (!have_life) {
		uint8_t x[4];

		put32(x, c->life_s);
		ib_attr_tv(b, P2_LIFE_TYPE, LIFE_SECONDS);
		ib_attr_tlv(b, P2_LIFE_DUR, x, 4);
	}
	if (!b->err) {
		put16(b->p + ts + 2, (uint16_t)(b->len - ts));
		put16(b->p + ps + 2, (uint16_t)(b->len - ps));
	}
	ib_pl_end(b, s);
}

/* The client's ID must be the address it was given. */
static bool idci_ok(struct ike_sa *sa, const isakmp_pl_t *id)
{
	const uint8_t *d = id->body + 4;
	size_t n = id->len - 4;

	switch (id->body[0]) {
	case ID_IPV4_ADDR:
		return n == 4 && get32(d) == sa->ip4;
	case ID_IPV4_ADDR_SUBNET:
		return n == 8 && get32(d) == sa->ip4 && get32(d + 4) == 0xffffffffu;
	case ID_IPV4_ADDR_RANGE:
		return n == 8 && get32(d) == sa->ip4 && get32(d + 4) == sa->ip4;
	default:
		return false;
	}
}

static size_t auth_keylen(mbedtls_md_type_t md)
{
	return ike_md_len(md);
}

static int make_child_dir(struct ike_sa *sa, struct ike_exch *ex, esp_sa_t *e, bool inbound,
                          uint32_t spi)
{
	uint8_t km[IKE_MAX_KEY + IKE_MAX_MD], ivk[16], spib[4];
	static const uint8_t proto = PROTO_ESP;
	size_t ak = auth_keylen(ex->amd), nseed = 0;
	ike_iov_t seed[5];
	int r;

	put32(spib, spi);
	if (ex->gxy)
		seed[nseed++] = (ike_iov_t){ ex->gxy, ex->gxy_len };
	seed[nseed++] = (ike_iov_t){ &proto, 1 };
	seed[nseed++] = (ike_iov_t){ spib, 4 };
	seed[nseed++] = (ike_iov_t){ ex->ni, ex->ni_len };
	seed[nseed++] = (ike_iov_t){ ex->nr, ex->nr_len };
	r = ike_keymat(sa->md, sa->skeyid_d, sa->mdlen, seed, nseed, km, ex->enc_keylen + ak);
	if (r == 0 && ike_rng(sa->inst, ivk, sizeof(ivk)) != 0)
		r = OC_E_IO;
	if (r == 0)
		r = esp_sa_setup(e, inbound, spi, ex->enc, km, ex->enc_keylen, ex->amd,
				 ex->icv_len, km + ex->enc_keylen, ak, ivk);
	sa->inst->host->memzero(km, sizeof(km));
	sa->inst->host->memzero(ivk, sizeof(ivk));
	return r;
}

static uint32_t new_spi(struct ike_sa *sa)
{
	uint32_t spi = 0;
	int tries = 0;

	while (tries++ < 16) {
		if (ike_rng(sa->inst, (unsigned char *)&spi, sizeof(spi)) != 0)
			return 0;
		if (spi >= 256 && !child_by_spi(sa->inst, spi))
			return spi;
	}
	return 0;
}

/* Lifetimes and what was negotiated, from the exchange into the child. */
static void child_times(struct ike_child *c, const struct ike_exch *ex)
{
	uint64_t life = (uint64_t)ex->life_s * 1000;

	c->created_ms = ike_now();
	c->rekey_ms = c->created_ms + life * 85 / 100;
	c->expire_ms = c->created_ms + life + (life / 2 < IKE_CHILD_GRACE_MS ? life / 2 :
						     IKE_CHILD_GRACE_MS);
	snprintf(c->desc, sizeof(c->desc), "%s", ex->desc);
	c->trans_id = ex->trans_id;
	c->keybits = ex->keybits;
	c->auth_alg = ex->auth_alg;
	c->encap = ex->encap;
	c->group = ex->group;
	c->life_s = ex->life_s;
	memcpy(c->ts_i, ex->ts_i, ex->ts_i_len);
	c->ts_i_len = ex->ts_i_len;
	memcpy(c->ts_r, ex->ts_r, ex->ts_r_len);
	c->ts_r_len = ex->ts_r_len;
}

static int qm1_input(struct ike_sa *sa, const isakmp_msg_t *m, struct ike_exch *ex)
{
	const isakmp_pl_t *sa_pl = NULL, *no = NULL, *ke = NULL, *idci = NULL, *idcr = NULL;
	struct ike_child *c = NULL;
	struct qm_choice ch;
	isakmp_buf_t b;
	ike_dh_t dh;
	uint8_t gxr[IKE_MAX_DH];
	size_t i, hs;
	int r;

	if (p2_verify(sa, m, NULL, 0) < 0)
		return OC_E_PERM;
	if (sa->state != S_READY)
		return OC_E_STATE; /* retransmitted once the session is up */
	for (i = 1; i < m->n; i++) {
		const isakmp_pl_t *pl = &m->pl[i];

		switch (pl->type) {
		case PL_SA: if (!sa_pl) sa_pl = pl; break;
		case PL_NONCE: if (!no) no = pl; break;
		case PL_KE: if (!ke) ke = pl; break;
		case PL_ID:
			if (!idci)
				idci = pl;
			else if (!idcr)
				idcr = pl;
			break;
		default: break;
		}
	}
	if (!sa_pl || !no || no->len < 8 || no->len > IKE_MAX_NONCE || (idci && !idcr) ||
	    (idci && (idci->len < 4 || idcr->len < 4)))
		return OC_E_PROTO;
	if (idci && !idci_ok(sa, idci)) {
		sa_log(sa, OC_LOG_INFO, "quick mode for an address that is not the client's: refused");
		return OC_E_PERM;
	}
	r = qm_choose(sa, sa_pl, ke != NULL, &ch);
	if (r < 0) {
		sa_log(sa, OC_LOG_INFO, "quick mode: no acceptable ESP proposal (ESP-in-UDP tunnel, AES/3DES, HMAC-SHA1/SHA2)");
		/* tell the client (RFC 2408 5.4) rather than let it retransmit
		 * into silence until it gives up */
		if (r == OC_E_NOTFOUND)
			send_notify(sa, N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return r;
	}
	if (ke && ke->len != ike_dh_len(ch.group))
		return OC_E_PROTO;
	memcpy(ex->ni, no->body, no->len);
	ex->ni_len = no->len;
	ex->nr_len = IKE_NONCE_LEN;
	if (ike_rng(sa->inst, ex->nr, ex->nr_len) != 0)
		return OC_E_IO;
	ex->enc = ch.enc;
	ex->enc_keylen = ch.keylen;
	ex->amd = ch.amd;
	ex->icv_len = ch.icv;
	ex->life_s = ch.life_s;
	ex->trans_id = ch.trans.id;
	ex->keybits = (uint16_t)ch.keybits;
	ex->auth_alg = (uint16_t)ch.auth_alg;
	ex->encap = ch.encap;
	ex->group = (uint16_t)ch.group;
	if (idci && idci->len <= IKE_MAX_TS && idcr->len <= IKE_MAX_TS) {
		memcpy(ex->ts_i, idci->body, idci->len);
		ex->ts_i_len = idci->len;
		memcpy(ex->ts_r, idcr->body, idcr->len);
		ex->ts_r_len = idcr->len;
	}
	ex->spi_out = get32(ch.prop.spi);
	ex->spi_in = new_spi(sa);
	if (!ex->spi_in)
		return OC_E_IO;
	if (ke) {
		ex->gxy_len = ike_dh_len(ch.group);
		ex->gxy = calloc(1, ex->gxy_len);
		if (!ex->gxy || ike_dh_start(&dh, ch.group, gxr, ike_rng, sa->inst) < 0)
			return OC_E_NOMEM;
		r = ike_dh_shared(&dh, ke->body, ke->len, ex->gxy, ike_rng, sa->inst);
		ike_dh_free(&dh);
		if (r < 0)
			return OC_E_PROTO;
	}
	{
		char pfs[24] = "";

		if (ke)
			snprintf(pfs, sizeof(pfs), " PFS MODP%zu", ike_dh_len(ch.group) * 8);
		snprintf(ex->desc, sizeof(ex->desc), "ESP %s-%zu/HMAC-%s-%zu%s",
			 ch.enc == CIPH_AES ? "AES-CBC" : "3DES-CBC", ch.keylen * 8,
			 ch.amd == MBEDTLS_MD_SHA1 ? "SHA1" :
			 ch.amd == MBEDTLS_MD_SHA256 ? "SHA2-256" :
			 ch.amd == MBEDTLS_MD_SHA384 ? "SHA2-384" : "SHA2-512", ch.icv * 8, pfs);
	}
	/* the SAs: inbound usable now, outbound after HASH(3) */
	c = sa->inst->host->zalloc(sizeof(*c));
	if (!c)
		return OC_E_NOMEM;
	if (make_child_dir(sa, ex, &c->in, true, ex->spi_in) < 0 ||
	    make_child_dir(sa, ex, &c->out, false, ex->spi_out) < 0) {
		esp_sa_free(&c->in);
		esp_sa_free(&c->out);
		sa->inst->host->free(c);
		return OC_E_INVAL;
	}
	child_times(c, ex);
	/* QM2: HASH(2) SA Nr [KE] [IDci IDcr] */
	memcpy(ex->iv, sa->inst->rx_iv, sa->block);
	hs = p2_begin(sa, &b, EXCH_QUICK, ex->msgid);
	put_qm_sa(&b, &ch, ex->spi_in);
	ib_pl(&b, PL_NONCE, ex->nr, ex->nr_len);
	if (ke)
		ib_pl(&b, PL_KE, gxr, ike_dh_len(ch.group));
	if (idci) {
		ib_pl(&b, PL_ID, idci->body, idci->len);
		ib_pl(&b, PL_ID, idcr->body, idcr->len);
	}
	{
		ike_iov_t pre = { ex->ni, ex->ni_len };

		if (p2_finish(sa, &b, hs, &pre, 1, ex->iv) < 0) {
			esp_sa_free(&c->in);
			esp_sa_free(&c->out);
			sa->inst->host->free(c);
			return OC_E_NOSPACE;
		}
	}
	child_add(sa, c);
	ex->qm_stage = 1;
	ex->used_ms = ike_now();
	sa_log(sa, OC_LOG_DEBUG1, "quick mode: %s, SPIs in %08x out %08x, lifetime %us",
	       ex->desc, ex->spi_in, ex->spi_out, ex->life_s);
	sa_reply(sa, b.p, b.len);
	return 0;
}

static int qm3_input(struct ike_sa *sa, const isakmp_msg_t *m, struct ike_exch *ex)
{
	struct ike_child *c;
	static const uint8_t zero = 0;
	ike_iov_t pre[2] = { { ex->ni, ex->ni_len }, { ex->nr, ex->nr_len } };
	const isakmp_pl_t *hp = m->n ? &m->pl[0] : NULL;
	uint8_t mid[4], h[IKE_MAX_MD];
	ike_iov_t v[4] = { { &zero, 1 }, { mid, 4 }, pre[0], pre[1] };

	if (!hp || hp->type != PL_HASH || hp->len != sa->mdlen)
		return OC_E_PROTO;
	put32(mid, m->h.msgid);
	if (ike_prf(sa->md, sa->skeyid_a, sa->mdlen, v, 4, h) < 0 ||
	    !ike_ct_equal(h, hp->body, sa->mdlen)) {
		sa_log(sa, OC_LOG_DEBUG1, "quick mode HASH(3) does not match");
		return OC_E_PERM;
	}
	c = child_by_spi(sa->inst, ex->spi_in);
	if (c && c->sa == sa) {
		size_t k;

		for (k = 0; k < IKE_MAX_CHILDREN; k++)
			if (sa->children[k] && sa->children[k] != c)
				sa->children[k]->rekeyed = true; /* the client rekeyed */
		c->out_ready = true;
		sa->cur = c;
		sa_log(sa, OC_LOG_INFO, "ESP SA up: %s", c->desc);
		if (sa->inst->host->conn_set_info)
			sa->inst->host->conn_set_info(sa->conn, "esp", c->desc);
	}
	ex->qm_stage = 2;
	sa->inst->host->free(sa->resp);
	sa->resp = NULL;
	sa->resp_len = 0;
	exch_free(ex);
	return 0;
}

/* The server's own rekey: a quick mode as initiator with the transform
 * and traffic selectors of @p old (vpnc switches to the new SA as soon as
 * it answers; strongSwan waits for HASH(3)). */
static void qm_initiate(struct ike_sa *sa, struct ike_child *old)
{
	struct ike_exch *ex;
	isakmp_buf_t b;
	uint8_t gxi[IKE_MAX_DH];
	size_t hs, s, ps, ts;
	uint32_t msgid = new_msgid(sa);

	old->rekeyed = true;
	old->rekey_tries++;
	ex = exch_get(sa, msgid, EXCH_QUICK, true);
	if (!ex)
		return;
	ex->qm_stage = QM_INITIATED;
	/* 20 bytes: vpnc answers by writing its 20-byte nonce over ours in a
	 * copy of our message, and uses only those 20 bytes for its keys */
	ex->ni_len = 20;
	ex->spi_in = new_spi(sa);
	if (!ex->spi_in || ike_rng(sa->inst, ex->ni, ex->ni_len) != 0) {
		exch_free(ex);
		return;
	}
	ex->enc = old->in.cipher_alg;
	ex->enc_keylen = old->keybits ? old->keybits / 8u : 24;
	ex->icv_len = old->in.icv_len;
	ex->amd = old->auth_alg == P2_AUTH_SHA1 ? MBEDTLS_MD_SHA1 :
		  old->auth_alg == P2_AUTH_SHA256 ? MBEDTLS_MD_SHA256 :
		  old->auth_alg == P2_AUTH_SHA384 ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA512;
	ex->life_s = old->life_s;
	ex->trans_id = old->trans_id;
	ex->keybits = old->keybits;
	ex->auth_alg = old->auth_alg;
	ex->encap = old->encap;
	ex->group = old->group;
	/* our selectors are the client's the other way round */
	memcpy(ex->ts_i, old->ts_r, old->ts_r_len);
	ex->ts_i_len = old->ts_r_len;
	memcpy(ex->ts_r, old->ts_i, old->ts_i_len);
	ex->ts_r_len = old->ts_i_len;
	snprintf(ex->desc, sizeof(ex->desc), "%s", old->desc);
	if (ex->group) {
		ike_dh_t *dh = calloc(1, sizeof(*dh));

		/* the DH state waits in gxy until the answer (freed with the exchange) */
		if (!dh || ike_dh_start(dh, ex->group, gxi, ike_rng, sa->inst) < 0) {
			free(dh);
			exch_free(ex);
			return;
		}
		ex->dh = dh;
	}
	hs = p2_begin(sa, &b, EXCH_QUICK, msgid);
	s = ib_pl_begin(&b, PL_SA);
	ib_u32(&b, DOI_IPSEC);
	ib_u32(&b, SIT_IDENTITY_ONLY);
	ps = b.len;
	ib_u8(&b, PL_NONE);
	ib_u8(&b, 0);
	ib_u16(&b, 0);
	ib_u8(&b, 1);
	ib_u8(&b, PROTO_ESP);
	ib_u8(&b, 4);
	ib_u8(&b, 1);
	ib_u32(&b, ex->spi_in);
	ts = b.len;
	ib_u8(&b, PL_NONE);
	ib_u8(&b, 0);
	ib_u16(&b, 0);
	ib_u8(&b, 1);
	ib_u8(&b, ex->trans_id);
	ib_u16(&b, 0);
	{
		uint8_t x[4];

		put32(x, ex->life_s);
		ib_attr_tv(&b, P2_LIFE_TYPE, LIFE_SECONDS);
		ib_attr_tlv(&b, P2_LIFE_DUR, x, 4);
	}
	if (ex->group)
		ib_attr_tv(&b, P2_GROUP, ex->group);
	ib_attr_tv(&b, P2_ENCAP, (uint16_t)ex->encap);
	ib_attr_tv(&b, P2_AUTH, ex->auth_alg);
	if (ex->keybits)
		ib_attr_tv(&b, P2_KEYLEN, ex->keybits);
	if (!b.err) {
		put16(b.p + ts + 2, (uint16_t)(b.len - ts));
		put16(b.p + ps + 2, (uint16_t)(b.len - ps));
	}
	ib_pl_end(&b, s);
	ib_pl(&b, PL_NONCE, ex->ni, ex->ni_len);
	if (ex->group)
		ib_pl(&b, PL_KE, gxi, ike_dh_len(ex->group));
	if (ex->ts_i_len && ex->ts_r_len) {
		ib_pl(&b, PL_ID, ex->ts_i, ex->ts_i_len);
		ib_pl(&b, PL_ID, ex->ts_r, ex->ts_r_len);
	}
	if (p2_finish(sa, &b, hs, NULL, 0, ex->iv) < 0) {
		exch_free(ex);
		return;
	}
	sa_log(sa, OC_LOG_DEBUG1, "rekeying ESP SA %08x (quick mode %08x as initiator)",
	       old->in.spi, msgid);
	sa_send_req(sa, b.p, b.len, msgid);
}

/* The answer to our quick mode: HASH(2) SA Nr [KE] [IDs]; then HASH(3). */
static int qm2_input(struct ike_sa *sa, const isakmp_msg_t *m, struct ike_exch *ex)
{
	const isakmp_pl_t *sa_pl = NULL, *no = NULL, *ke = NULL;
	const uint8_t *props, *pp;
	struct ike_child *c, *old = sa->cur;
	static const uint8_t zero = 0;
	isakmp_prop_t pr;
	isakmp_buf_t b;
	uint32_t doi, sit;
	uint8_t mid[4], h[IKE_MAX_MD];
	size_t plen, i, hs;
	ike_iov_t pre = { ex->ni, ex->ni_len };

	if (p2_verify(sa, m, &pre, 1) < 0)
		return OC_E_PERM;
	for (i = 1; i < m->n; i++) {
		if (m->pl[i].type == PL_SA && !sa_pl)
			sa_pl = &m->pl[i];
		else if (m->pl[i].type == PL_NONCE && !no)
			no = &m->pl[i];
		else if (m->pl[i].type == PL_KE && !ke)
			ke = &m->pl[i];
	}
	if (!sa_pl || !no || no->len < 8 || no->len > IKE_MAX_NONCE ||
	    (ex->group && (!ke || ke->len != ike_dh_len(ex->group))) ||
	    isakmp_sa_open(sa_pl->body, sa_pl->len, &doi, &sit, &props, &plen) < 0)
		return OC_E_PROTO;
	pp = props;
	if (isakmp_prop_next(&pp, props + plen, &pr) != 1 || pr.proto != PROTO_ESP ||
	    pr.spi_size != 4 || get32(pr.spi) < 256)
		return OC_E_PROTO;
	sa_req_done(sa);
	ex->spi_out = get32(pr.spi);
	memcpy(ex->nr, no->body, no->len);
	ex->nr_len = no->len;
	if (ex->group) {
		ex->gxy_len = ike_dh_len(ex->group);
		ex->gxy = calloc(1, ex->gxy_len);
		if (!ex->gxy || ike_dh_shared(ex->dh, ke->body, ke->len, ex->gxy, ike_rng,
					      sa->inst) < 0)
			return OC_E_PROTO;
	}
	c = sa->inst->host->zalloc(sizeof(*c));
	if (!c)
		return OC_E_NOMEM;
	if (make_child_dir(sa, ex, &c->in, true, ex->spi_in) < 0 ||
	    make_child_dir(sa, ex, &c->out, false, ex->spi_out) < 0) {
		esp_sa_free(&c->in);
		esp_sa_free(&c->out);
		sa->inst->host->free(c);
		return OC_E_INVAL;
	}
	child_times(c, ex);
	child_add(sa, c);
	c->out_ready = true;
	sa->cur = c;
	/* the old pair stays a little for packets in flight */
	if (old && old != c && old->expire_ms > ike_now() + 10000)
		old->expire_ms = ike_now() + 10000;
	/* HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) */
	memcpy(ex->iv, sa->inst->rx_iv, sa->block);
	hs = p2_begin(sa, &b, EXCH_QUICK, ex->msgid);
	put32(mid, ex->msgid);
	{
		ike_iov_t v[4] = { { &zero, 1 }, { mid, 4 }, { ex->ni, ex->ni_len },
				   { ex->nr, ex->nr_len } };

		if (ike_prf(sa->md, sa->skeyid_a, sa->mdlen, v, 4, h) < 0)
			return OC_E_INVAL;
	}
	memcpy(b.p + hs + 4, h, sa->mdlen);
	if (sa_encrypt(sa, &b, ex->iv) == 0)
		sa_reply(sa, b.p, b.len);
	sa_log(sa, OC_LOG_INFO, "ESP SA rekeyed: %s, SPIs in %08x out %08x", c->desc,
	       ex->spi_in, ex->spi_out);
	exch_free(ex);
	return 0;
}

/* ------------------------------------------------------------------ */
/* informational                                                       */

static int info_input(struct ike_sa *sa, const isakmp_msg_t *m)
{
	size_t i;

	if (m->n == 1 && m->pl[0].type == PL_HASH && m->pl[0].len == sa->mdlen) {
		/* vpnc's IKE keepalive: nothing after HASH = prf(SKEYID_a, 0 | M-ID) */
		static const uint8_t zero = 0;
		uint8_t mid[4], h[IKE_MAX_MD];
		ike_iov_t v[2] = { { &zero, 1 }, { mid, 4 } };

		put32(mid, m->h.msgid);
		if (ike_prf(sa->md, sa->skeyid_a, sa->mdlen, v, 2, h) == 0 &&
		    ike_ct_equal(h, m->pl[0].body, sa->mdlen))
			return 0;
	}
	if (p2_verify(sa, m, NULL, 0) < 0)
		return OC_E_PERM;
	for (i = 1; i < m->n && !sa->closed; i++) {
		const isakmp_pl_t *pl = &m->pl[i];

		if (pl->type == PL_N && pl->len >= 8) {
			uint16_t type = get16(pl->body + 6);
			size_t spi = pl->body[5];
			const uint8_t *data = pl->body + 8 + spi;

			if (8 + spi > pl->len)
				continue;
			if (type == N_R_U_THERE && pl->len - 8 - spi == 4) {
				sa_log(sa, OC_LOG_DEBUG1, "R-U-THERE from the client, acknowledged");
				send_notify(sa, N_R_U_THERE_ACK, data, 4);
			} else if (type == N_R_U_THERE_ACK && pl->len - 8 - spi == 4) {
				if (get32(data) == sa->dpd_seq) {
					sa->dpd_out = 0;
					sa_log(sa, OC_LOG_DEBUG2, "R-U-THERE-ACK from the client");
				}
			} else {
				sa_log(sa, OC_LOG_DEBUG1, "notification %u from the client", type);
			}
		} else if (pl->type == PL_D && pl->len >= 8) {
			uint8_t proto = pl->body[4], spis = pl->body[5];
			uint16_t n = get16(pl->body + 6), k;

			if ((size_t)spis * n > pl->len - 8)
				continue;
			if (proto == PROTO_ISAKMP) {
				sa_fail(sa, OC_CLOSE_USER_LOGOUT, "the client ended the session (delete)");
				return 0;
			}
			if (proto != PROTO_ESP || spis != 4)
				continue;
			for (k = 0; k < n; k++) {
				uint32_t spi = get32(pl->body + 8 + 4 * k);
				size_t j;

				for (j = 0; j < IKE_MAX_CHILDREN; j++) {
					struct ike_child *c = sa->children[j];

					if (c && (c->in.spi == spi || c->out.spi == spi)) {
						sa_log(sa, OC_LOG_DEBUG1, "the client deleted ESP SA %08x",
						       c->in.spi);
						child_del(sa, c, false);
					}
				}
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */

int p2_input(struct ike_sa *sa, const uint8_t *msg, size_t len,
             const isakmp_msg_t *m, struct ike_exch *ex)
{
	(void)msg;
	(void)len;
	switch (m->h.exch) {
	case EXCH_INFO:
		return info_input(sa, m);
	case EXCH_TRANS:
		return trans_input(sa, m, ex);
	case EXCH_QUICK:
		if (ex->qm_stage == 0) {
			int r = qm1_input(sa, m, ex);

			if (r < 0 && r != OC_E_STATE && r != OC_E_PERM)
				exch_free(ex);
			return r;
		}
		if (ex->qm_stage == 1)
			return qm3_input(sa, m, ex);
		if (ex->qm_stage == QM_INITIATED)
			return qm2_input(sa, m, ex);
		return OC_E_STATE;
	default:
		return OC_E_PROTO;
	}
}

uint64_t dpd_retry(const struct ike_sa *sa)
{
	return sa->dpd_ms && sa->dpd_ms < IKE_DPD_RETRY_MS ? sa->dpd_ms : IKE_DPD_RETRY_MS;
}

/* Our rekey got no answer (or none we could accept): try again while the
 * SA has time left, rather than letting it expire under the client. */
static void rekey_retry(struct ike_sa *sa, uint64_t now)
{
	struct ike_child *c = sa->cur;

	if (!c || !c->rekeyed || c->rekey_tries >= IKE_REKEY_TRIES ||
	    c->expire_ms <= now + IKE_RETX_MS)
		return;
	sa_log(sa, OC_LOG_INFO, "no answer to the rekey of ESP SA %08x; trying again",
	       c->in.spi);
	c->rekeyed = false;
	c->rekey_ms = now + 1;
}

void p2_timer(struct ike_sa *sa, uint64_t now)
{
	size_t i;

	if (sa->req && sa->req_at_ms && now >= sa->req_at_ms) {
		if (sa->req_left-- > 0) {
			sa_send(sa, sa->req, sa->req_len);
			sa->req_at_ms = now + IKE_RETX_MS;
		} else {
			int st = sa->state;

			sa_req_done(sa);
			if (st == S_CFG_PUSH || st == S_READY) {
				/* no answer to a pushed config or to our rekey: the
				 * session goes on (DPD and the lifetimes decide) */
				sa->state = S_READY;
				if (st == S_READY)
					rekey_retry(sa, now);
			} else {
				sa_fail(sa, st == S_FAILING || st == S_XAUTH_REQ ?
					OC_CLOSE_AUTH_FAILED : OC_CLOSE_ERROR,
					"the client stopped answering");
				return;
			}
		}
	}
	if (sa->state == S_READY && sa->dpd_ms && sa->v_dpd) {
		if (!sa->dpd_out && ike_elapsed(now, sa->last_rx_ms) >= sa->dpd_ms) {
			uint8_t seq[4];

			sa->dpd_seq++;
			put32(seq, sa->dpd_seq);
			send_notify(sa, N_R_U_THERE, seq, 4);
			sa->dpd_out = 1;
			sa->dpd_sent_ms = now;
		} else if (sa->dpd_out && ike_elapsed(now, sa->dpd_sent_ms) >= dpd_retry(sa)) {
			uint8_t seq[4];

			if (sa->dpd_out >= IKE_DPD_MAX) {
				sa_fail(sa, OC_CLOSE_DPD_TIMEOUT, "dead peer: no answer to R-U-THERE");
				return;
			}
			put32(seq, sa->dpd_seq);
			send_notify(sa, N_R_U_THERE, seq, 4);
			sa->dpd_out++;
			sa->dpd_sent_ms = now;
		}
	}
	if (sa->state == S_READY && sa->cur && sa->cur->out_ready && !sa->cur->rekeyed &&
	    sa->cur->rekey_ms && now >= sa->cur->rekey_ms && !sa->req)
		qm_initiate(sa, sa->cur);
	/* qm_initiate above stamps its exchange with a fresh ike_now(),
	 * possibly later than now: ike_elapsed keeps it from looking 2^64 ms
	 * old and being freed before the client's answer arrives */
	for (i = 0; i < IKE_EXCH; i++)
		if (sa->ex[i].type && ike_elapsed(now, sa->ex[i].used_ms) > 120000)
			exch_free(&sa->ex[i]);
}
