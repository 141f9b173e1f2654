/*
 * recfast.c - TLS 1.2 / DTLS 1.2 AES-GCM records with nettle, counters
 * shared with mbedTLS 2.28 (see recfast.h).
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/platform_util.h>

#include <nettle/gcm.h>
#include <nettle/memops.h>

#include "recfast.h"

#define SEQ48_MAX ((UINT64_C(1) << 48) - 1)

struct rf_dir {
	union {
		struct gcm_aes128_ctx a128;
		struct gcm_aes256_ctx a256;
	} g;
	uint8_t salt[4];
	uint64_t seq;   /* TLS: 64-bit; DTLS: 48-bit */
	uint16_t epoch; /* DTLS */
};

struct rf {
	bool dtls;
	bool aes256;
	struct rf_dir out, in;
	/* DTLS anti-replay (RFC 6347 4.1.2.6), as mbedTLS keeps it: bit 0 is
	 * win_top, bit n is win_top - n */
	uint64_t win_top, win;
};

void rf_keys_capture(rf_keys_t *k, const unsigned char *kb, size_t maclen,
                     size_t keylen, size_t ivlen)
{
	rf_keys_wipe(k);
	if (kb == NULL || maclen != 0 || (keylen != 16 && keylen != 32) || ivlen != 4)
		return;
	memcpy(k->kb, kb, 2 * keylen + 2 * ivlen);
	k->keylen = (uint8_t)keylen;
	k->ivlen = (uint8_t)ivlen;
	k->have = true;
}

void rf_keys_wipe(rf_keys_t *k)
{
	mbedtls_platform_zeroize(k, sizeof(*k));
}

static uint64_t be_load(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void be_store(uint8_t *p, size_t n, uint64_t v)
{
	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

void rf_pull(rf_t *rf, const mbedtls_ssl_context *ssl)
{
	if (rf->dtls) {
		rf->out.epoch = (uint16_t)be_load(ssl->cur_out_ctr, 2);
		rf->out.seq = be_load(ssl->cur_out_ctr + 2, 6);
		rf->in.epoch = ssl->in_epoch;
#if defined(MBEDTLS_SSL_DTLS_ANTI_REPLAY)
		rf->win_top = ssl->in_window_top;
		rf->win = ssl->in_window;
#endif
	} else {
		rf->out.seq = be_load(ssl->cur_out_ctr, 8);
		rf->in.seq = be_load(ssl->in_ctr, 8);
	}
}

void rf_push(const rf_t *rf, mbedtls_ssl_context *ssl)
{
	if (rf->dtls) {
		be_store(ssl->cur_out_ctr, 2, rf->out.epoch);
		be_store(ssl->cur_out_ctr + 2, 6, rf->out.seq);
#if defined(MBEDTLS_SSL_DTLS_ANTI_REPLAY)
		ssl->in_window_top = rf->win_top;
		ssl->in_window = rf->win;
#endif
	} else {
		be_store(ssl->cur_out_ctr, 8, rf->out.seq);
		be_store(ssl->in_ctr, 8, rf->in.seq);
	}
}

bool rf_ssl_idle(const mbedtls_ssl_context *ssl)
{
	if (ssl->out_left != 0 || ssl->in_msglen != 0 || ssl->in_offt != NULL ||
	    ssl->handshake != NULL || ssl->state != MBEDTLS_SSL_HANDSHAKE_OVER)
		return false;
	if (ssl->conf->transport == MBEDTLS_SSL_TRANSPORT_DATAGRAM)
		return ssl->in_left == ssl->next_record_offset;
	return ssl->in_left == 0;
}

static void dir_key(rf_t *rf, struct rf_dir *d, const uint8_t *key, const uint8_t *salt)
{
	if (rf->aes256)
		gcm_aes256_set_key(&d->g.a256, key);
	else
		gcm_aes128_set_key(&d->g.a128, key);
	memcpy(d->salt, salt, 4);
}

rf_t *rf_new(const mbedtls_ssl_context *ssl, rf_keys_t *k)
{
	const mbedtls_ssl_ciphersuite_t *cs;
	const mbedtls_ssl_transform *tr;
	const uint8_t *ck, *sk, *civ, *siv;
	bool server, dtls;
	rf_t *rf = NULL;
	size_t kl;

	if (ssl == NULL || k == NULL || !k->have || ssl->session == NULL ||
	    ssl->transform_in == NULL || ssl->transform_out == NULL ||
	    ssl->transform_in != ssl->transform_out || ssl->conf == NULL ||
	    ssl->minor_ver != MBEDTLS_SSL_MINOR_VERSION_3)
		goto out;
	cs = mbedtls_ssl_ciphersuite_from_id(ssl->session->ciphersuite);
	if (cs == NULL || (cs->flags & MBEDTLS_CIPHERSUITE_SHORT_TAG))
		goto out;
	if (cs->cipher == MBEDTLS_CIPHER_AES_128_GCM)
		kl = 16;
	else if (cs->cipher == MBEDTLS_CIPHER_AES_256_GCM)
		kl = 32;
	else
		goto out;
	tr = ssl->transform_out;
	if (k->keylen != kl || k->ivlen != 4 || tr->ivlen != 12 || tr->fixed_ivlen != 4 ||
	    tr->taglen != RF_TAG || tr->maclen != 0)
		goto out;
#if defined(MBEDTLS_SSL_DTLS_CONNECTION_ID)
	if (tr->in_cid_len != 0 || tr->out_cid_len != 0)
		goto out;
#endif
	server = ssl->conf->endpoint == MBEDTLS_SSL_IS_SERVER;
	dtls = ssl->conf->transport == MBEDTLS_SSL_TRANSPORT_DATAGRAM;
	/* key block: client key, server key, client salt, server salt */
	ck = k->kb;
	sk = k->kb + kl;
	civ = k->kb + 2 * kl;
	siv = civ + 4;
	/* the keys must be this session's: the salts are in the transform */
	if (memcmp(tr->iv_enc, server ? siv : civ, 4) != 0 ||
	    memcmp(tr->iv_dec, server ? civ : siv, 4) != 0)
		goto out;
	rf = calloc(1, sizeof(*rf));
	if (rf == NULL)
		goto out;
	rf->dtls = dtls;
	rf->aes256 = kl == 32;
	dir_key(rf, &rf->out, server ? sk : ck, server ? siv : civ);
	dir_key(rf, &rf->in, server ? ck : sk, server ? civ : siv);
	rf_pull(rf, ssl);
out:
	if (k != NULL)
		rf_keys_wipe(k);
	return rf;
}

void rf_free(rf_t *rf)
{
	if (rf == NULL)
		return;
	mbedtls_platform_zeroize(rf, sizeof(*rf));
	free(rf);
}

size_t rf_hdr_len(const rf_t *rf)
{
	return rf->dtls ? RF_DTLS_HDR : RF_TLS_HDR;
}

size_t rf_overhead(const rf_t *rf)
{
	return rf_hdr_len(rf) + RF_EXPLICIT + RF_TAG;
}

/* nonce = salt || explicit nonce, aad = counter || type || version || length */
static void gcm_start(const rf_t *rf, struct rf_dir *d, const uint8_t explicit[8],
                      const uint8_t ctr[8], uint8_t type, const uint8_t ver[2],
                      size_t plen)
{
	uint8_t nonce[12], aad[13];

	memcpy(nonce, d->salt, 4);
	memcpy(nonce + 4, explicit, 8);
	memcpy(aad, ctr, 8);
	aad[8] = type;
	aad[9] = ver[0];
	aad[10] = ver[1];
	aad[11] = (uint8_t)(plen >> 8);
	aad[12] = (uint8_t)plen;
	if (rf->aes256) {
		gcm_aes256_set_iv(&d->g.a256, sizeof(nonce), nonce);
		gcm_aes256_update(&d->g.a256, sizeof(aad), aad);
	} else {
		gcm_aes128_set_iv(&d->g.a128, sizeof(nonce), nonce);
		gcm_aes128_update(&d->g.a128, sizeof(aad), aad);
	}
}

static void gcm_enc(const rf_t *rf, struct rf_dir *d, size_t n, uint8_t *dst, const uint8_t *src)
{
	if (rf->aes256)
		gcm_aes256_encrypt(&d->g.a256, n, dst, src);
	else
		gcm_aes128_encrypt(&d->g.a128, n, dst, src);
}

static void gcm_dec(const rf_t *rf, struct rf_dir *d, size_t n, uint8_t *dst, const uint8_t *src)
{
	if (rf->aes256)
		gcm_aes256_decrypt(&d->g.a256, n, dst, src);
	else
		gcm_aes128_decrypt(&d->g.a128, n, dst, src);
}

static void gcm_tag(const rf_t *rf, struct rf_dir *d, uint8_t *tag)
{
	if (rf->aes256)
		gcm_aes256_digest(&d->g.a256, RF_TAG, tag);
	else
		gcm_aes128_digest(&d->g.a128, RF_TAG, tag);
}

static const uint8_t ver_tls[2] = { 3, 3 };
static const uint8_t ver_dtls[2] = { 0xfe, 0xfd };

size_t rf_seal(rf_t *rf, uint8_t type, const uint8_t *p1, size_t l1,
               const uint8_t *p2, size_t l2, uint8_t *out)
{
	const uint8_t *ver = rf->dtls ? ver_dtls : ver_tls;
	size_t hl = rf_hdr_len(rf), plen = l1 + l2, first;
	uint8_t ctr[8], blk[16], *ct;

	if (l1 > sizeof(blk) || plen > RF_MAX_PLAIN)
		return 0;
	if (rf->dtls) {
		if (rf->out.seq > SEQ48_MAX)
			return 0;
		be_store(ctr, 2, rf->out.epoch);
		be_store(ctr + 2, 6, rf->out.seq);
	} else {
		if (rf->out.seq == UINT64_MAX)
			return 0;
		be_store(ctr, 8, rf->out.seq);
	}
	rf->out.seq++;

	out[0] = type;
	out[1] = ver[0];
	out[2] = ver[1];
	if (rf->dtls)
		memcpy(out + 3, ctr, 8);
	be_store(out + hl - 2, 2, plen + RF_EXPLICIT + RF_TAG);
	memcpy(out + hl, ctr, RF_EXPLICIT);
	ct = out + hl + RF_EXPLICIT;

	/* mbedTLS sends the record counter as the explicit nonce: so do we */
	gcm_start(rf, &rf->out, ctr, ctr, type, ver, plen);
	/*
	 * nettle wants whole blocks in every call but the last: the header
	 * and the start of the payload make the first block.
	 */
	first = 0;
	if (l1 > 0) {
		first = sizeof(blk) - l1;
		if (first > l2)
			first = l2;
		memcpy(blk, p1, l1);
		if (first > 0)
			memcpy(blk + l1, p2, first);
		gcm_enc(rf, &rf->out, l1 + first, ct, blk);
		ct += l1 + first;
		mbedtls_platform_zeroize(blk, sizeof(blk));
	}
	if (l2 > first)
		gcm_enc(rf, &rf->out, l2 - first, ct, p2 + first);
	ct += l2 - first;
	gcm_tag(rf, &rf->out, ct);
	return hl + RF_EXPLICIT + plen + RF_TAG;
}

long rf_tls_record_len(const uint8_t *buf, size_t len)
{
	size_t n;

	if (len < RF_TLS_HDR)
		return 0;
	if (buf[1] != 3 || buf[2] != 3)
		return RF_E_BAD;
	n = (size_t)buf[3] << 8 | buf[4];
	if (n < RF_EXPLICIT + RF_TAG || n > RF_MAX_PLAIN + RF_EXPLICIT + RF_TAG)
		return RF_E_BAD;
	return (long)(RF_TLS_HDR + n);
}

long rf_dtls_record_len(const uint8_t *buf, size_t len)
{
	size_t n;

	if (len < RF_DTLS_HDR)
		return RF_E_BAD;
	n = (size_t)buf[11] << 8 | buf[12];
	if (n > len - RF_DTLS_HDR)
		return RF_E_BAD;
	return (long)(RF_DTLS_HDR + n);
}

/* DTLS anti-replay: mbedtls_ssl_dtls_replay_check / _update */
static bool replay_seen(const rf_t *rf, uint64_t seq)
{
	uint64_t bit;

	if (seq > rf->win_top)
		return false;
	bit = rf->win_top - seq;
	if (bit >= 64)
		return true;
	return (rf->win & (UINT64_C(1) << bit)) != 0;
}

static void replay_update(rf_t *rf, uint64_t seq)
{
	if (seq > rf->win_top) {
		uint64_t shift = seq - rf->win_top;

		if (shift >= 64)
			rf->win = 1;
		else
			rf->win = rf->win << shift | 1;
		rf->win_top = seq;
	} else {
		uint64_t bit = rf->win_top - seq;

		if (bit < 64)
			rf->win |= UINT64_C(1) << bit;
	}
}

int rf_open(rf_t *rf, const uint8_t *rec, size_t reclen, uint8_t *dst,
            uint8_t *type_r)
{
	const uint8_t *ver = rf->dtls ? ver_dtls : ver_tls;
	size_t hl = rf_hdr_len(rf), clen, plen;
	uint8_t ctr[8], tag[RF_TAG];
	uint64_t seq = 0;

	if (reclen < hl + RF_EXPLICIT + RF_TAG ||
	    ((size_t)rec[hl - 2] << 8 | rec[hl - 1]) != reclen - hl)
		return RF_E_BAD;
	clen = reclen - hl - RF_EXPLICIT;
	plen = clen - RF_TAG;
	if (plen > RF_MAX_PLAIN)
		return RF_E_BAD;
	if (rf->dtls) {
		if (rec[0] != RF_TYPE_APPDATA || rec[1] != ver[0] || rec[2] != ver[1] ||
		    be_load(rec + 3, 2) != rf->in.epoch)
			return RF_E_OTHER;
		seq = be_load(rec + 5, 6);
		if (replay_seen(rf, seq))
			return RF_E_REPLAY;
		memcpy(ctr, rec + 3, 8);
	} else {
		if (rec[1] != ver[0] || rec[2] != ver[1])
			return RF_E_BAD;
		if (rf->in.seq == UINT64_MAX)
			return RF_E_WRAP;
		be_store(ctr, 8, rf->in.seq);
	}
	/* the explicit nonce is the peer's choice (RFC 5288 3) */
	gcm_start(rf, &rf->in, rec + hl, ctr, rec[0], ver, plen);
	gcm_dec(rf, &rf->in, plen, dst, rec + hl + RF_EXPLICIT);
	gcm_tag(rf, &rf->in, tag);
	if (!memeql_sec(tag, rec + hl + RF_EXPLICIT + plen, RF_TAG))
		return RF_E_AUTH;
	if (rf->dtls)
		replay_update(rf, seq);
	else
		rf->in.seq++;
	*type_r = rec[0];
	return (int)plen;
}
