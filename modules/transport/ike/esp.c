/*
 * esp.c - userspace ESP: encapsulation, decapsulation, anti-replay.
 */
#include <string.h>

#include "oc-error.h"

#include "esp.h"
#include "isakmp.h"

int esp_sa_setup(esp_sa_t *sa, bool inbound, uint32_t spi, int cipher,
                 const uint8_t *ekey, size_t eklen, mbedtls_md_type_t md,
                 size_t icv_len, const uint8_t *akey, size_t aklen,
                 const uint8_t *ivkey)
{
	const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
	int r;

	memset(sa, 0, sizeof(*sa));
	sa->spi = spi;
	sa->inbound = inbound;
	if (!mi || icv_len == 0 || icv_len > ESP_MAX_ICV || icv_len > mbedtls_md_get_size(mi))
		return OC_E_INVAL;
	r = ike_cipher_setup(&sa->ciph, cipher, ekey, eklen, !inbound);
	if (r < 0)
		return r;
	sa->block = sa->ciph.block;
	mbedtls_md_init(&sa->hmac);
	sa->hmac_ready = true;
	if (mbedtls_md_setup(&sa->hmac, mi, 1) != 0 ||
	    mbedtls_md_hmac_starts(&sa->hmac, akey, aklen) != 0) {
		esp_sa_free(sa);
		return OC_E_NOMEM;
	}
	sa->icv_len = icv_len;
	if (!inbound) {
		mbedtls_aes_init(&sa->ivgen);
		sa->ivgen_ready = true;
		if (mbedtls_aes_setkey_enc(&sa->ivgen, ivkey, 128) != 0) {
			esp_sa_free(sa);
			return OC_E_INVAL;
		}
	}
	return 0;
}

void esp_sa_free(esp_sa_t *sa)
{
	ike_cipher_free(&sa->ciph);
	if (sa->hmac_ready)
		mbedtls_md_free(&sa->hmac);
	if (sa->ivgen_ready)
		mbedtls_aes_free(&sa->ivgen);
	sa->hmac_ready = sa->ivgen_ready = false;
}

static size_t pad_len(const esp_sa_t *sa, size_t len)
{
	size_t b = sa->block < 4 ? 4 : sa->block;

	return (b - (len + 2) % b) % b;
}

size_t esp_overhead(const esp_sa_t *sa, size_t len)
{
	return ESP_HDR_LEN + sa->block + pad_len(sa, len) + 2 + sa->icv_len;
}

static int icv(esp_sa_t *sa, const uint8_t *p, size_t n, uint8_t *out)
{
	uint8_t full[IKE_MAX_MD];

	if (mbedtls_md_hmac_reset(&sa->hmac) != 0 ||
	    mbedtls_md_hmac_update(&sa->hmac, p, n) != 0 ||
	    mbedtls_md_hmac_finish(&sa->hmac, full) != 0)
		return OC_E_INVAL;
	memcpy(out, full, sa->icv_len);
	return 0;
}

int esp_encap(esp_sa_t *sa, const uint8_t *pkt, size_t len, uint8_t nh,
              uint8_t *out, size_t cap, size_t *out_len)
{
	size_t pad = pad_len(sa, len), body = len + pad + 2, total, i;
	uint8_t ctr[16], iv[IKE_MAX_BLOCK], *b;

	if (sa->inbound || !sa->ivgen_ready)
		return OC_E_STATE;
	total = ESP_HDR_LEN + sa->block + body + sa->icv_len;
	if (total > cap)
		return OC_E_NOSPACE;
	if (sa->seq >= 0xffffffffu)
		return OC_E_STATE;
	sa->seq++;
	put32(out, sa->spi);
	put32(out + 4, (uint32_t)sa->seq);
	/* unpredictable IV: the encrypted sequence number */
	memset(ctr, 0, sizeof(ctr));
	put32(ctr + 12, (uint32_t)sa->seq);
	if (mbedtls_aes_crypt_ecb(&sa->ivgen, MBEDTLS_AES_ENCRYPT, ctr, ctr) != 0)
		return OC_E_INVAL;
	memcpy(out + ESP_HDR_LEN, ctr, sa->block);
	memcpy(iv, ctr, sa->block);
	b = out + ESP_HDR_LEN + sa->block;
	memmove(b, pkt, len);
	for (i = 0; i < pad; i++)
		b[len + i] = (uint8_t)(i + 1);
	b[len + pad] = (uint8_t)pad;
	b[len + pad + 1] = nh;
	if (ike_cipher_cbc(&sa->ciph, true, iv, b, b, body) < 0)
		return OC_E_INVAL;
	if (icv(sa, out, ESP_HDR_LEN + sa->block + body, b + body) < 0)
		return OC_E_INVAL;
	sa->bytes += len;
	sa->packets++;
	*out_len = total;
	return 0;
}

bool esp_replay_check(const esp_sa_t *sa, uint32_t seq)
{
	uint32_t diff;

	if (seq == 0)
		return false;
	if (seq > sa->replay_top)
		return true;
	diff = sa->replay_top - seq;
	if (diff >= ESP_REPLAY_WINDOW)
		return false;
	return !(sa->replay_bits & ((uint64_t)1 << diff));
}

void esp_replay_update(esp_sa_t *sa, uint32_t seq)
{
	if (seq > sa->replay_top) {
		uint32_t shift = seq - sa->replay_top;

		sa->replay_bits = shift < ESP_REPLAY_WINDOW ? (sa->replay_bits << shift) | 1 : 1;
		sa->replay_top = seq;
	} else {
		sa->replay_bits |= (uint64_t)1 << (sa->replay_top - seq);
	}
}

int esp_decap(esp_sa_t *sa, uint8_t *p, size_t len, uint8_t **inner,
              size_t *inner_len, uint8_t *nh)
{
	uint8_t mac[ESP_MAX_ICV], iv[IKE_MAX_BLOCK], *body;
	size_t blen, pad, i;
	uint32_t seq;

	if (!sa->inbound || sa->block == 0)
		return OC_E_STATE;
	if (len < ESP_HDR_LEN + sa->block + sa->icv_len + sa->block)
		return OC_E_PROTO;
	blen = len - ESP_HDR_LEN - sa->block - sa->icv_len;
	if (blen % sa->block != 0)
		return OC_E_PROTO;
	seq = get32(p + 4);
	if (!esp_replay_check(sa, seq))
		return OC_E_EXIST;
	if (icv(sa, p, len - sa->icv_len, mac) < 0)
		return OC_E_INVAL;
	if (!ike_ct_equal(mac, p + len - sa->icv_len, sa->icv_len))
		return OC_E_PERM;
	esp_replay_update(sa, seq);
	memcpy(iv, p + ESP_HDR_LEN, sa->block);
	body = p + ESP_HDR_LEN + sa->block;
	if (ike_cipher_cbc(&sa->ciph, false, iv, body, body, blen) < 0)
		return OC_E_INVAL;
	pad = body[blen - 2];
	if (pad + 2 > blen)
		return OC_E_PROTO;
	for (i = 0; i < pad; i++)
		if (body[blen - 2 - pad + i] != (uint8_t)(i + 1))
			return OC_E_PROTO;
	*nh = body[blen - 1];
	*inner = body;
	*inner_len = blen - 2 - pad;
	sa->bytes += *inner_len;
	sa->packets++;
	return 0;
}
