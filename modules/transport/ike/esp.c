/*
 * esp.c - userspace ESP: encapsulation, decapsulation, anti-replay.
 */
#include <string.h>

#include <mbedtls/platform_util.h>
#include <nettle/cbc.h>
#include <nettle/version.h>

#include "oc-error.h"

#include "esp.h"
#include "isakmp.h"

/* nettle 3.8 has CBC-AES encryption in one call (AES-NI assembly in the
 * fat library) */
#if NETTLE_VERSION_MAJOR > 3 || (NETTLE_VERSION_MAJOR == 3 && NETTLE_VERSION_MINOR >= 8)
#define HAVE_NETTLE_CBC_AES 1
#endif

static enum esp_mac_alg mac_alg_of(mbedtls_md_type_t md, size_t *digest_len)
{
	switch (md) {
	case MBEDTLS_MD_SHA1: *digest_len = SHA1_DIGEST_SIZE; return ESP_MAC_SHA1;
	case MBEDTLS_MD_SHA256: *digest_len = SHA256_DIGEST_SIZE; return ESP_MAC_SHA256;
	case MBEDTLS_MD_SHA384: *digest_len = SHA384_DIGEST_SIZE; return ESP_MAC_SHA384;
	case MBEDTLS_MD_SHA512: *digest_len = SHA512_DIGEST_SIZE; return ESP_MAC_SHA512;
	default: *digest_len = 0; return ESP_MAC_NONE;
	}
}

static int cbc_key_setup(esp_sa_t *sa, int cipher, const uint8_t *key, size_t keylen)
{
	switch (cipher) {
	case CIPH_AES:
		switch (keylen) {
		case AES128_KEY_SIZE:
			sa->cbc_alg = ESP_CBC_AES128;
			if (sa->inbound)
				aes128_set_decrypt_key(&sa->cbc_key.aes128, key);
			else
				aes128_set_encrypt_key(&sa->cbc_key.aes128, key);
			break;
		case AES192_KEY_SIZE:
			sa->cbc_alg = ESP_CBC_AES192;
			if (sa->inbound)
				aes192_set_decrypt_key(&sa->cbc_key.aes192, key);
			else
				aes192_set_encrypt_key(&sa->cbc_key.aes192, key);
			break;
		case AES256_KEY_SIZE:
			sa->cbc_alg = ESP_CBC_AES256;
			if (sa->inbound)
				aes256_set_decrypt_key(&sa->cbc_key.aes256, key);
			else
				aes256_set_encrypt_key(&sa->cbc_key.aes256, key);
			break;
		default:
			return OC_E_INVAL;
		}
		sa->block = AES_BLOCK_SIZE;
		break;
	case CIPH_3DES:
		if (keylen != DES3_KEY_SIZE)
			return OC_E_INVAL;
		sa->cbc_alg = ESP_CBC_3DES;
		/* nettle reports weak DES keys but schedules them all the same;
		 * mbedTLS did not check either, so the result is not used */
		(void)des3_set_key(&sa->cbc_key.des3, key);
		sa->block = DES3_BLOCK_SIZE;
		break;
	default:
		return OC_E_INVAL;
	}
	sa->cipher_alg = cipher;
	return 0;
}

static void hmac_key_setup(esp_sa_t *sa, const uint8_t *key, size_t keylen)
{
	switch (sa->mac_alg) {
	case ESP_MAC_SHA1:
		hmac_sha1_set_key(&sa->hmac_key.sha1, keylen, key);
		break;
	case ESP_MAC_SHA256:
		hmac_sha256_set_key(&sa->hmac_key.sha256, keylen, key);
		break;
	case ESP_MAC_SHA384:
		hmac_sha384_set_key(&sa->hmac_key.sha512, keylen, key);
		break;
	case ESP_MAC_SHA512:
		hmac_sha512_set_key(&sa->hmac_key.sha512, keylen, key);
		break;
	case ESP_MAC_NONE:
		break;
	}
}

int esp_sa_setup(esp_sa_t *sa, bool inbound, uint32_t spi, int cipher,
                 const uint8_t *ekey, size_t eklen, mbedtls_md_type_t md,
                 size_t icv_len, const uint8_t *akey, size_t aklen,
                 const uint8_t *ivkey)
{
	size_t digest_len;
	int r;

	memset(sa, 0, sizeof(*sa));
	sa->spi = spi;
	sa->inbound = inbound;
	sa->mac_alg = mac_alg_of(md, &digest_len);
	if (sa->mac_alg == ESP_MAC_NONE || icv_len == 0 || icv_len > ESP_MAX_ICV ||
	    icv_len > digest_len)
		return OC_E_INVAL;
	r = cbc_key_setup(sa, cipher, ekey, eklen);
	if (r < 0) {
		esp_sa_free(sa);
		return r;
	}
	hmac_key_setup(sa, akey, aklen);
	sa->keys_ready = true;
	sa->icv_len = icv_len;
	if (!inbound) {
		aes128_set_encrypt_key(&sa->ivgen, ivkey);
		sa->ivgen_ready = true;
	}
	return 0;
}

void esp_sa_free(esp_sa_t *sa)
{
	mbedtls_platform_zeroize(&sa->cbc_key, sizeof(sa->cbc_key));
	mbedtls_platform_zeroize(&sa->hmac_key, sizeof(sa->hmac_key));
	mbedtls_platform_zeroize(&sa->ivgen, sizeof(sa->ivgen));
	sa->keys_ready = sa->ivgen_ready = false;
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

/* The ICV (truncated HMAC) of @p n bytes at @p p into @p out. */
static void icv_compute(esp_sa_t *sa, const uint8_t *p, size_t n, uint8_t *out)
{
	switch (sa->mac_alg) {
	case ESP_MAC_SHA1:
		hmac_sha1_update(&sa->hmac_key.sha1, n, p);
		hmac_sha1_digest(&sa->hmac_key.sha1, sa->icv_len, out);
		break;
	case ESP_MAC_SHA256:
		hmac_sha256_update(&sa->hmac_key.sha256, n, p);
		hmac_sha256_digest(&sa->hmac_key.sha256, sa->icv_len, out);
		break;
	case ESP_MAC_SHA384:
		hmac_sha384_update(&sa->hmac_key.sha512, n, p);
		hmac_sha384_digest(&sa->hmac_key.sha512, sa->icv_len, out);
		break;
	case ESP_MAC_SHA512:
		hmac_sha512_update(&sa->hmac_key.sha512, n, p);
		hmac_sha512_digest(&sa->hmac_key.sha512, sa->icv_len, out);
		break;
	case ESP_MAC_NONE:
		break;
	}
}

/* CBC-encrypt @p len bytes (a multiple of the block) in place. */
static void cbc_encrypt_body(esp_sa_t *sa, uint8_t *iv, uint8_t *b, size_t len)
{
	switch (sa->cbc_alg) {
#ifdef HAVE_NETTLE_CBC_AES
	case ESP_CBC_AES128:
		cbc_aes128_encrypt(&sa->cbc_key.aes128, iv, len, b, b);
		break;
	case ESP_CBC_AES192:
		cbc_aes192_encrypt(&sa->cbc_key.aes192, iv, len, b, b);
		break;
	case ESP_CBC_AES256:
		cbc_aes256_encrypt(&sa->cbc_key.aes256, iv, len, b, b);
		break;
#else
	case ESP_CBC_AES128:
		cbc_encrypt(&sa->cbc_key.aes128, (nettle_cipher_func *)aes128_encrypt,
			    AES_BLOCK_SIZE, iv, len, b, b);
		break;
	case ESP_CBC_AES192:
		cbc_encrypt(&sa->cbc_key.aes192, (nettle_cipher_func *)aes192_encrypt,
			    AES_BLOCK_SIZE, iv, len, b, b);
		break;
	case ESP_CBC_AES256:
		cbc_encrypt(&sa->cbc_key.aes256, (nettle_cipher_func *)aes256_encrypt,
			    AES_BLOCK_SIZE, iv, len, b, b);
		break;
#endif
	case ESP_CBC_3DES:
		cbc_encrypt(&sa->cbc_key.des3, (nettle_cipher_func *)des3_encrypt,
			    DES3_BLOCK_SIZE, iv, len, b, b);
		break;
	case ESP_CBC_NONE:
		break;
	}
}

/* CBC-decrypt @p len bytes (a multiple of the block) in place. */
static void cbc_decrypt_body(esp_sa_t *sa, uint8_t *iv, uint8_t *b, size_t len)
{
	switch (sa->cbc_alg) {
	case ESP_CBC_AES128:
		cbc_decrypt(&sa->cbc_key.aes128, (nettle_cipher_func *)aes128_decrypt,
			    AES_BLOCK_SIZE, iv, len, b, b);
		break;
	case ESP_CBC_AES192:
		cbc_decrypt(&sa->cbc_key.aes192, (nettle_cipher_func *)aes192_decrypt,
			    AES_BLOCK_SIZE, iv, len, b, b);
		break;
	case ESP_CBC_AES256:
		cbc_decrypt(&sa->cbc_key.aes256, (nettle_cipher_func *)aes256_decrypt,
			    AES_BLOCK_SIZE, iv, len, b, b);
		break;
	case ESP_CBC_3DES:
		cbc_decrypt(&sa->cbc_key.des3, (nettle_cipher_func *)des3_decrypt,
			    DES3_BLOCK_SIZE, iv, len, b, b);
		break;
	case ESP_CBC_NONE:
		break;
	}
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
	aes128_encrypt(&sa->ivgen, sizeof(ctr), ctr, ctr);
	memcpy(out + ESP_HDR_LEN, ctr, sa->block);
	memcpy(iv, ctr, sa->block);
	b = out + ESP_HDR_LEN + sa->block;
	memmove(b, pkt, len);
	for (i = 0; i < pad; i++)
		b[len + i] = (uint8_t)(i + 1);
	b[len + pad] = (uint8_t)pad;
	b[len + pad + 1] = nh;
	cbc_encrypt_body(sa, iv, b, body);
	icv_compute(sa, out, ESP_HDR_LEN + sa->block + body, b + body);
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
	if (!sa->keys_ready)
		return OC_E_INVAL; /* freed */
	icv_compute(sa, p, len - sa->icv_len, mac);
	if (!ike_ct_equal(mac, p + len - sa->icv_len, sa->icv_len))
		return OC_E_PERM;
	esp_replay_update(sa, seq);
	memcpy(iv, p + ESP_HDR_LEN, sa->block);
	body = p + ESP_HDR_LEN + sa->block;
	cbc_decrypt_body(sa, iv, body, blen);
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
