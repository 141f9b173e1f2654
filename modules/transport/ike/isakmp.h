/*
 * isakmp.h - ISAKMP / IKEv1 wire format (RFC 2408, 2409, 2407): bounded
 * parsing of untrusted messages and a small message builder.  Pure code
 * (no I/O, no allocation), unit-tested and fuzzed on its own.
 */
#ifndef OCMOD_IKE_ISAKMP_H
#define OCMOD_IKE_ISAKMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISAKMP_HDR_LEN 28
#define ISAKMP_COOKIE_LEN 8
#define ISAKMP_VERSION 0x10 /* 1.0 */
#define ISAKMP_MAX_MSG 65535

/* payload types */
enum {
	PL_NONE = 0, PL_SA = 1, PL_P = 2, PL_T = 3, PL_KE = 4, PL_ID = 5,
	PL_CERT = 6, PL_CR = 7, PL_HASH = 8, PL_SIG = 9, PL_NONCE = 10,
	PL_N = 11, PL_D = 12, PL_VID = 13, PL_ATTR = 14,
	PL_NATD = 20, PL_NATOA = 21,
	PL_NATD_DRAFT = 130, PL_NATOA_DRAFT = 131, PL_FRAG = 132
};

/* exchange types */
enum {
	EXCH_MAIN = 2, EXCH_AGGR = 4, EXCH_INFO = 5, EXCH_TRANS = 6,
	EXCH_QUICK = 32
};

#define ISAKMP_FLAG_E 0x01 /* encrypted */
#define ISAKMP_FLAG_C 0x02 /* commit */
#define ISAKMP_FLAG_A 0x04 /* authentication only */

/* DOI, situation, protocols */
#define DOI_IPSEC 1
#define SIT_IDENTITY_ONLY 1
#define PROTO_ISAKMP 1
#define PROTO_ESP 3
#define KEY_IKE 1

/* phase 1 attributes and values */
enum {
	P1_ENC = 1, P1_HASH = 2, P1_AUTH = 3, P1_GROUP = 4, P1_LIFE_TYPE = 11,
	P1_LIFE_DUR = 12, P1_KEYLEN = 14
};
#define P1_ENC_3DES 5
#define P1_ENC_AES 7
#define HASH_MD5 1
#define HASH_SHA1 2
#define HASH_SHA256 4
#define HASH_SHA384 5
#define HASH_SHA512 6
#define AUTH_PSK 1
#define AUTH_RSA_SIG 3
#define AUTH_HYBRID_INIT_RSA 64221
#define AUTH_XAUTH_INIT_PSK 65001
#define LIFE_SECONDS 1
#define LIFE_KILOBYTES 2

/* phase 2 (IPsec DOI) attributes and values */
enum {
	P2_LIFE_TYPE = 1, P2_LIFE_DUR = 2, P2_GROUP = 3, P2_ENCAP = 4,
	P2_AUTH = 5, P2_KEYLEN = 6
};
#define ESP_3DES 3
#define ESP_AES 12
#define P2_AUTH_SHA1 2
#define P2_AUTH_SHA256 5
#define P2_AUTH_SHA384 6
#define P2_AUTH_SHA512 7
#define ENCAP_TUNNEL 1
#define ENCAP_UDP_TUNNEL 3
#define ENCAP_UDP_TUNNEL_DRAFT 61443

/* ID types */
enum {
	ID_IPV4_ADDR = 1, ID_FQDN = 2, ID_USER_FQDN = 3, ID_IPV4_ADDR_SUBNET = 4,
	ID_IPV6_ADDR = 5, ID_IPV6_ADDR_SUBNET = 6, ID_IPV4_ADDR_RANGE = 7,
	ID_DER_ASN1_DN = 9, ID_KEY_ID = 11
};

/* notify types */
#define N_INVALID_PAYLOAD_TYPE 1
#define N_INVALID_COOKIE 4
#define N_NO_PROPOSAL_CHOSEN 14
#define N_PAYLOAD_MALFORMED 16
#define N_INVALID_ID_INFORMATION 18
#define N_AUTHENTICATION_FAILED 24
#define N_RESPONDER_LIFETIME 24576
#define N_INITIAL_CONTACT 24578
#define N_R_U_THERE 36136
#define N_R_U_THERE_ACK 36137
#define N_CISCO_PSK_HASH 40503

/* mode config (transaction exchange) */
enum { CFG_REQUEST = 1, CFG_REPLY = 2, CFG_SET = 3, CFG_ACK = 4 };
enum {
	CA_IP4_ADDRESS = 1, CA_IP4_NETMASK = 2, CA_IP4_DNS = 3, CA_IP4_NBNS = 4,
	CA_APP_VERSION = 7,
	CA_XAUTH_TYPE = 16520, CA_XAUTH_USER_NAME = 16521,
	CA_XAUTH_USER_PASSWORD = 16522, CA_XAUTH_PASSCODE = 16523,
	CA_XAUTH_MESSAGE = 16524, CA_XAUTH_CHALLENGE = 16525,
	CA_XAUTH_DOMAIN = 16526, CA_XAUTH_STATUS = 16527,
	CA_XAUTH_NEXT_PIN = 16528, CA_XAUTH_ANSWER = 16529,
	CA_UNITY_BANNER = 28672, CA_UNITY_SAVE_PASSWD = 28673,
	CA_UNITY_DEF_DOMAIN = 28674, CA_UNITY_SPLITDNS_NAME = 28675,
	CA_UNITY_SPLIT_INCLUDE = 28676, CA_UNITY_NATT_PORT = 28677,
	CA_UNITY_LOCAL_LAN = 28678, CA_UNITY_PFS = 28679,
	CA_UNITY_FW_TYPE = 28680, CA_UNITY_BACKUP_SERVERS = 28681,
	CA_UNITY_DDNS_HOSTNAME = 28682
};

/** The fixed ISAKMP header. */
typedef struct isakmp_hdr {
	uint8_t icookie[ISAKMP_COOKIE_LEN];
	uint8_t rcookie[ISAKMP_COOKIE_LEN];
	uint8_t np;        /* first payload */
	uint8_t version;
	uint8_t exch;
	uint8_t flags;
	uint32_t msgid;
	uint32_t len;      /* as announced; <= the buffer */
} isakmp_hdr_t;

/** One payload of a parsed message; pointers into the message. */
typedef struct isakmp_pl {
	uint8_t type;
	const uint8_t *raw;  /* generic header included */
	size_t raw_len;
	const uint8_t *body; /* after the 4-byte generic header */
	size_t len;
} isakmp_pl_t;

#define ISAKMP_MAX_PL 48

/** A message split into payloads. */
typedef struct isakmp_msg {
	isakmp_hdr_t h;
	isakmp_pl_t pl[ISAKMP_MAX_PL];
	size_t n;
	size_t chain_end; /* offset just past the last payload */
} isakmp_msg_t;

/** One data attribute (TV or TLV). */
typedef struct isakmp_attr {
	uint16_t type;     /* without the AF bit */
	bool tv;           /* basic (16-bit value) */
	const uint8_t *data; /* value bytes (TV: the two value bytes) */
	size_t len;
	const uint8_t *raw;  /* the whole attribute */
	size_t raw_len;
} isakmp_attr_t;

/** A proposal inside an SA payload. */
typedef struct isakmp_prop {
	uint8_t num, proto, spi_size, n_trans;
	const uint8_t *spi;
	const uint8_t *trans; /* transform payloads */
	size_t trans_len;
	const uint8_t *raw;
	size_t raw_len;
} isakmp_prop_t;

/** A transform inside a proposal. */
typedef struct isakmp_trans {
	uint8_t num, id;
	const uint8_t *attrs;
	size_t attrs_len;
	const uint8_t *raw;
	size_t raw_len;
} isakmp_trans_t;

/* ---- parsing (all bounded; negative = malformed) ---- */

/** Parse the header of @p len bytes; checks version 1.x and length. */
int isakmp_hdr_parse(const uint8_t *p, size_t len, isakmp_hdr_t *h);
/** Split @p len bytes (header included, h already parsed) into payloads,
 *  starting with @p first; trailing bytes (padding) are ignored. */
int isakmp_split(const uint8_t *p, size_t len, isakmp_msg_t *m);
/** Find the first payload of @p type, or NULL. */
const isakmp_pl_t *isakmp_find(const isakmp_msg_t *m, uint8_t type);
/** Next attribute in [*p, end): 1 got one, 0 end, negative malformed. */
int isakmp_attr_next(const uint8_t **p, const uint8_t *end, isakmp_attr_t *a);
/** Value of a TV attribute or a TLV of 1..4 bytes. */
int isakmp_attr_u32(const isakmp_attr_t *a, uint32_t *v);
/** SA payload body: DOI, situation, and the proposals region. */
int isakmp_sa_open(const uint8_t *body, size_t len, uint32_t *doi,
                   uint32_t *sit, const uint8_t **props, size_t *props_len);
/** Next proposal in [*p, end): 1, 0, negative. */
int isakmp_prop_next(const uint8_t **p, const uint8_t *end, isakmp_prop_t *pr);
/** Next transform in [*p, end): 1, 0, negative. */
int isakmp_trans_next(const uint8_t **p, const uint8_t *end, isakmp_trans_t *t);

/* ---- building ---- */

/** Message builder over a caller-provided buffer; errors are sticky. */
typedef struct isakmp_buf {
	uint8_t *p;
	size_t cap, len;
	size_t np_at;    /* where the next payload type goes */
	bool err;
} isakmp_buf_t;

void ib_init(isakmp_buf_t *b, uint8_t *buf, size_t cap);
void ib_hdr(isakmp_buf_t *b, const uint8_t *icookie, const uint8_t *rcookie,
            uint8_t exch, uint8_t flags, uint32_t msgid);
/** Start a payload of @p type; returns its offset for ib_pl_end(). */
size_t ib_pl_begin(isakmp_buf_t *b, uint8_t type);
void ib_pl_end(isakmp_buf_t *b, size_t start);
/** A whole payload with this body. */
void ib_pl(isakmp_buf_t *b, uint8_t type, const void *body, size_t n);
void ib_put(isakmp_buf_t *b, const void *data, size_t n);
void ib_u8(isakmp_buf_t *b, uint8_t v);
void ib_u16(isakmp_buf_t *b, uint16_t v);
void ib_u32(isakmp_buf_t *b, uint32_t v);
void ib_attr_tv(isakmp_buf_t *b, uint16_t type, uint16_t v);
void ib_attr_tlv(isakmp_buf_t *b, uint16_t type, const void *v, size_t n);
/** Write the total length into the header. */
void ib_finish(isakmp_buf_t *b);

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ---- routing (main process) ---- */

/** Routing key of a datagram received on the IKE port (@p natt false) or
 *  the NAT-T port: 'I' + initiator cookie for IKE, 'E' + SPI for ESP.
 *  Returns 1 when the message may start a new IKE SA (responder cookie
 *  zero), 0 for other keys, negative to drop. */
int isakmp_route(const uint8_t *d, size_t n, bool natt, uint8_t *key,
                 size_t cap, size_t *len_r);

#endif
