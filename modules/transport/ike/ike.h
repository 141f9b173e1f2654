/*
 * ike.h - internals of transport "ike" (IKEv1 remote access, userspace
 * ESP-in-UDP), shared by ike.c (module, flows, dispatch, ESP data path,
 * timers), ike_p1.c (main and aggressive mode) and ike_p2.c (Xauth, mode
 * config, quick mode, informational exchanges).
 */
#ifndef OCMOD_IKE_IKE_H
#define OCMOD_IKE_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "oc-module.h"

#include "esp.h"
#include "ikecrypto.h"
#include "isakmp.h"

#define IKE_VERSION "0.1.0"

#define IKE_BUF 16384         /* largest IKE message we build or reassemble */
#define IKE_NONCE_LEN 32
#define IKE_MAX_NONCE 256
#define IKE_MAX_ID 1024
#define IKE_MAX_SAI 4096      /* initiator's SA payload we keep for the hashes */
#define IKE_EXCH 4            /* concurrent phase 2 exchanges per IKE SA */
#define IKE_MAX_CHILDREN 4    /* ESP SA pairs per IKE SA (rekeying overlap) */
#define IKE_RETX_MS 2000
#define IKE_RETX_MAX 5
#define IKE_REKEY_TRIES 3   /* server rekeys of one ESP SA, the first included */
#define IKE_P1_TIMEOUT_MS 30000
#define IKE_DPD_RETRY_MS 5000
#define IKE_DPD_MAX 5
#define IKE_FRAG_MAX 32       /* fragments per message */
#define IKE_FRAG_TIMEOUT_MS 10000
#define IKE_CHILD_GRACE_MS 60000
#define QM_INITIATED 10
#define IKE_MAX_TS 64          /* traffic selector (ID payload body) we keep */

/* ------------------------------------------------------------------ */
/* configuration                                                       */

struct ike_conf {
	int64_t port;
	int64_t natt_port;
	char *listen_host;
	char *psk;
	char *group_id;
	char *server_cert;
	char *server_key;
	bool hybrid;
	bool aggressive_mode;
	bool main_mode;
	oc_strlist_t dh_groups;
	int64_t ike_lifetime;   /* ms */
	int64_t ipsec_lifetime; /* ms */
	int64_t dpd;            /* ms; 0: the session's dpd */
	int64_t esp_frag;       /* bytes; 0: off */
	int64_t ike_frag_size;  /* bytes */
	int64_t mss_clamp;      /* bytes; 0: off */
	bool mode_config_push;
	bool pfs;
	int64_t auth_timeout;   /* ms */
	int64_t max_halfopen;
};

/* ------------------------------------------------------------------ */
/* state                                                               */

struct ike_inst;
struct ike_sa;

/** A UDP socket connected to one peer address (see oc-transport.h). */
struct ike_flow {
	struct ike_inst *inst;
	int fd;
	struct event *ev;
	oc_sockaddr_t peer, local;
	bool natt;              /* arrived on the NAT-T port: markers, ESP */
	unsigned refs;          /* IKE SAs pointing here */
	bool dead;
	struct ike_flow *next, *prev;
};

/** One phase 2 exchange (quick mode or transaction) in progress. */
struct ike_exch {
	uint32_t msgid;
	uint8_t type;           /* EXCH_QUICK / EXCH_TRANS; 0: free */
	uint8_t iv[IKE_MAX_BLOCK];
	uint64_t used_ms;
	/* quick mode */
	int qm_stage;           /* responder: 1 answered, waiting for HASH(3);
	                           initiator (rekey): QM_INITIATED, waiting for QM2 */
	uint8_t ni[IKE_MAX_NONCE], nr[IKE_MAX_NONCE];
	size_t ni_len, nr_len;
	uint8_t *gxy;           /* PFS shared secret (malloc) */
	ike_dh_t *dh;           /* our DH while we wait for the answer (rekey) */
	size_t gxy_len;
	uint32_t spi_in, spi_out;
	int enc;                /* CIPH_* */
	size_t enc_keylen;
	mbedtls_md_type_t amd;
	size_t icv_len;
	uint32_t life_s;
	char desc[64];
	/* negotiated transform (copied into the child) */
	uint8_t trans_id;
	uint16_t keybits, auth_alg, group;
	uint32_t encap;
	uint8_t ts_i[IKE_MAX_TS], ts_r[IKE_MAX_TS];
	size_t ts_i_len, ts_r_len;
};

/** An ESP SA pair. */
struct ike_child {
	struct ike_sa *sa;
	esp_sa_t in, out;
	bool out_ready;         /* outbound usable (HASH(3) or first ESP in) */
	uint64_t created_ms, expire_ms;
	uint64_t rekey_ms;      /* when the server starts a quick mode to replace it */
	bool rekeyed;           /* that quick mode was started (or the client rekeyed) */
	uint8_t rekey_tries;    /* server rekeys started for it (retried unanswered) */
	char desc[64];
	struct ike_child *hnext; /* instance SPI hash */
	/* what was negotiated, for the server's own rekey */
	uint8_t trans_id;
	uint16_t keybits, auth_alg, group;
	uint32_t encap, life_s;
	uint8_t ts_i[IKE_MAX_TS], ts_r[IKE_MAX_TS]; /* the client's IDci, IDcr */
	size_t ts_i_len, ts_r_len;
};

enum ike_state {
	S_MM_SA = 1,      /* main mode: answered MM1 */
	S_MM_KE,          /* main mode: answered MM3 */
	S_AM,             /* aggressive mode: answered AM1 */
	S_XAUTH_START,    /* phase 1 done; first auth_query pending */
	S_XAUTH_REQ,      /* Xauth REQUEST sent, waiting for REPLY */
	S_XAUTH_CHECK,    /* auth_query with the answers pending */
	S_SESSION,        /* session_open pending */
	S_XAUTH_SET,      /* SET(STATUS) sent, waiting for ACK */
	S_CFG_PUSH,       /* mode config SET sent, waiting for ACK */
	S_READY,          /* authenticated, session up */
	S_FAILING,        /* SET(STATUS=0) sent: close after the ACK */
	S_DEAD
};

struct ike_frag {
	uint16_t id;
	uint8_t last;           /* number of the last fragment, 0: unknown */
	uint64_t started_ms;
	size_t bytes;
	uint16_t len[IKE_FRAG_MAX + 1];
	uint8_t *data[IKE_FRAG_MAX + 1];
};

struct ike_sa {
	struct ike_inst *inst;
	oc_conn_t *conn;
	int state;
	bool closed;            /* conn_close called (or scheduled) */
	int close_reason;
	struct event *ev_timer, *ev_defer;
	struct ike_sa *hnext;   /* instance cookie hash */
	struct ike_sa *next, *prev;
	uint64_t created_ms;

	/* ---- the ISAKMP SA: every field from ic to auth_deadline_ms.  A
	 * re-authentication swaps this range between two SAs (sa_swap_isakmp),
	 * so it holds nothing that belongs to the session. ---- */
	uint8_t ic[8], rc[8];
	struct ike_flow *flow;  /* where IKE and ESP go */
	oc_sockaddr_t peer;     /* the peer of @flow */

	/* peer capabilities (vendor IDs) */
	bool v_xauth, v_unity, v_dpd, v_frag, v_natt_rfc, v_natt_draft;
	bool peer_natted;       /* its NAT-D did not match */

	/* phase 1 */
	bool aggressive;
	int auth;               /* AUTH_* chosen */
	int enc;                /* CIPH_* */
	size_t keylen;          /* bytes */
	mbedtls_md_type_t md;
	size_t mdlen;
	int group;
	uint32_t life_s;
	uint8_t *sai_b;         /* initiator's SA payload body */
	size_t sai_len;
	uint8_t *idi_b, *idr_b; /* ID payload bodies */
	size_t idi_len, idr_len;
	uint8_t ni[IKE_MAX_NONCE], nr[IKE_NONCE_LEN];
	size_t ni_len, nr_len;
	ike_dh_t dh;
	uint8_t gxi[IKE_MAX_DH], gxr[IKE_MAX_DH];
	size_t glen;
	uint8_t skeyid[IKE_MAX_MD], skeyid_d[IKE_MAX_MD], skeyid_a[IKE_MAX_MD];
	ike_cipher_t cenc, cdec;
	size_t block;
	uint8_t iv[IKE_MAX_BLOCK];   /* phase 1 IV chain; after phase 1: its last block */
	bool p1_done;
	uint64_t p1_deadline_ms;
	char cipher_desc[96];

	/* duplicates and retransmission */
	uint8_t rx_digest[20];
	bool rx_digest_set;
	uint8_t *resp;          /* our last answer (to a retransmitted request) */
	size_t resp_len;
	uint8_t *req;           /* our outstanding request (Xauth, SET) */
	size_t req_len;
	int req_left;
	uint64_t req_at_ms;
	uint32_t req_msgid;

	struct ike_exch ex[IKE_EXCH];
	struct ike_frag frag;

	/* Xauth */
	uint8_t auth_ctx[512];
	size_t auth_ctx_len;
	oc_auth_prompt_t prompts[OC_AUTH_MAX_PROMPTS];
	uint16_t prompt_attr[OC_AUTH_MAX_PROMPTS];
	size_t n_prompts;
	uint16_t xauth_id;      /* identifier of our REQUEST */
	uint64_t auth_deadline_ms;
	/* ---- end of the ISAKMP SA ---- */
	char username[128];
	bool auth_ok;

	/* session */
	const oc_session_params_t *params;
	uint32_t ip4;           /* assigned address (host order), 0: none */

	/* ESP */
	struct ike_child *children[IKE_MAX_CHILDREN];
	struct ike_child *cur;  /* outbound */

	/* liveness */
	uint64_t last_rx_ms;
	uint32_t dpd_seq;
	int dpd_out;            /* unanswered R-U-THEREs */
	uint64_t dpd_sent_ms;
	unsigned dpd_ms;
};

struct ike_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	const struct ike_conf *conf;
	struct event_base *base;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	bool drbg_ready;
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;     /* only with a host older than key_open */
	oc_key_t *hkey;             /* the server key, held by sec-mod */
	oc_key_info_t hkey_info;
	bool have_cert;         /* hybrid possible (RSA key + cert) */
	bool groups[17];        /* DH groups allowed */
	struct ike_flow *flows;
	struct ike_sa *sas;
	size_t n_sas, n_halfopen;
	uint64_t flood_logged_ms;
	struct ike_sa *by_cookie[4096];
	struct ike_child *by_spi[4096];
	uint8_t vid_xauth[8], vid_unity[16], vid_natt_rfc[16], vid_natt_03[16],
		vid_natt_02[16], vid_natt_02n[16], vid_frag[16], vid_dpd[16];
	uint8_t rx_iv[IKE_MAX_BLOCK];    /* IV after the message being handled */
	struct ike_flow *rx_flow;        /* where it came from (answers go there) */
	uint8_t buf[IKE_BUF + 64];       /* messages we build */
	uint8_t rbuf[IKE_BUF + 64];      /* datagrams we receive */
	uint8_t xbuf[IKE_BUF + 64];      /* reassembly, decryption */
};

/* ---- ike.c ---- */
uint64_t ike_now(void);

/* Milliseconds from t to now; 0 when t is later (a time taken after now
 * was read, e.g. by an exchange the same timer run created). */
static inline uint64_t ike_elapsed(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}
int ike_rng(void *inst, unsigned char *buf, size_t n);

/* The SA carries a session (address, tun): ESP may flow, also while a
 * re-authentication runs its Xauth and mode config on a new ISAKMP SA. */
static inline bool sa_has_session(const struct ike_sa *sa)
{
	return sa->params && sa->ip4 && !sa->closed;
}
void sa_log(struct ike_sa *sa, int level, const char *fmt, ...) OC_PRINTF(3, 4);
/** A new IKE SA (and its core connection) for a first message on @p f;
 *  NULL when refused (limits, draining worker). */
struct ike_sa *sa_new(struct ike_inst *inst, struct ike_flow *f, const uint8_t *ic);
/** Send a complete IKE message (marker and fragments added as needed). */
void sa_send(struct ike_sa *sa, const uint8_t *msg, size_t len);
/** Answer the message being handled: sent where it came from, kept for
 *  retransmissions. */
void sa_reply(struct ike_sa *sa, const uint8_t *msg, size_t len);
/** Remember the message just answered, so that a retransmission of it
 *  gets the same answer again. */
void sa_note_rx(struct ike_sa *sa, const uint8_t *msg, size_t len);
/** Remember @p msg as the answer to the message just received. */
void sa_set_resp(struct ike_sa *sa, const uint8_t *msg, size_t len);
/** Send @p msg as a request to be retransmitted until answered. */
void sa_send_req(struct ike_sa *sa, const uint8_t *msg, size_t len, uint32_t msgid);
void sa_req_done(struct ike_sa *sa);
/** Pad and encrypt the payloads of a built message with @p iv (updated). */
int sa_encrypt(struct ike_sa *sa, isakmp_buf_t *b, uint8_t *iv);
/** Schedule the end: conn_close from the loop. */
void sa_fail(struct ike_sa *sa, int reason, const char *why);
void sa_arm(struct ike_sa *sa);
/** Exchange the ISAKMP SAs (cookies, keys, exchanges, retransmission
 *  state) of @p a and @p b; sessions, ESP SAs and core connections stay. */
void sa_swap_isakmp(struct ike_sa *a, struct ike_sa *b);
void sa_set_rc_key(struct ike_sa *sa);
struct ike_child *child_by_spi(struct ike_inst *inst, uint32_t spi);
void child_add(struct ike_sa *sa, struct ike_child *c);
void child_del(struct ike_sa *sa, struct ike_child *c, bool tell);
/** Address bytes (4 or 16) of an oc_sockaddr_t and its port. */
size_t sockaddr_ip(const oc_sockaddr_t *a, uint8_t *ip, uint16_t *port);
/** Both SAs' peers are the same address and port (IPv4-mapped or not). */
bool sa_same_peer(const struct ike_sa *a, const struct ike_sa *b);

/* ---- ike_p1.c ---- */
/** A first message on a flow: creates the IKE SA (or refuses). */
void p1_first(struct ike_inst *inst, struct ike_flow *f, const uint8_t *msg,
              size_t len, const isakmp_msg_t *m);
/** A phase 1 message for an existing IKE SA. */
int p1_input(struct ike_sa *sa, uint8_t *msg, size_t len, isakmp_msg_t *m);
void p1_free(struct ike_sa *sa);

/* ---- ike_p2.c ---- */
/** An encrypted phase 2 message (already decrypted, split). */
int p2_input(struct ike_sa *sa, const uint8_t *msg, size_t len,
             const isakmp_msg_t *m, struct ike_exch *ex);
/** Phase 1 is complete: start Xauth. */
void xauth_start(struct ike_sa *sa);
/** Timer: resend outstanding requests, DPD. */
void p2_timer(struct ike_sa *sa, uint64_t now);
/** Interval between unanswered R-U-THEREs. */
uint64_t dpd_retry(const struct ike_sa *sa);
/** Tell the peer we are going away (deletes), encrypted. */
void p2_send_deletes(struct ike_sa *sa);
void p2_send_delete_child(struct ike_sa *sa, uint32_t spi_in);
/** Find or create the phase 2 exchange for @p msgid (IV from phase 1). */
struct ike_exch *exch_get(struct ike_sa *sa, uint32_t msgid, uint8_t type, bool create);
void exch_free(struct ike_exch *ex);
/** Informational message (new message id) with payloads from @p body. */
int p2_send_info(struct ike_sa *sa, uint8_t type, const uint8_t *body, size_t n);

#endif
