/*
 * ikecrypto.c - IKEv1 / ESP cryptography on mbedTLS 2.28.
 */
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/platform_util.h>

#include "ikecrypto.h"

#include "oc-error.h"

#define E_INVAL OC_E_INVAL
#define E_NOMEM OC_E_NOMEM

int ike_cipher_setup(ike_cipher_t *c, int alg, const uint8_t *key, size_t keylen,
                     bool encrypt)
{
	int r;

	memset(c, 0, sizeof(*c));
	switch (alg) {
	case CIPH_AES:
		if (keylen != 16 && keylen != 24 && keylen != 32)
			return E_INVAL;
		mbedtls_aes_init(&c->u.aes);
		r = encrypt ? mbedtls_aes_setkey_enc(&c->u.aes, key, (unsigned)keylen * 8)
			    : mbedtls_aes_setkey_dec(&c->u.aes, key, (unsigned)keylen * 8);
		c->block = 16;
		break;
	case CIPH_3DES:
		if (keylen != 24)
			return E_INVAL;
		mbedtls_des3_init(&c->u.des3);
		r = encrypt ? mbedtls_des3_set3key_enc(&c->u.des3, key)
			    : mbedtls_des3_set3key_dec(&c->u.des3, key);
		c->block = 8;
		break;
	default:
		return E_INVAL;
	}
	c->alg = alg;
	c->ready = true;
	if (r != 0) {
		ike_cipher_free(c);
		return E_INVAL;
	}
	return 0;
}

int ike_cipher_cbc(ike_cipher_t *c, bool encrypt, uint8_t *iv, const uint8_t *in,
                   uint8_t *out, size_t len)
{
	int mode = encrypt ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT;

	if (!c->ready || c->block == 0 || len % c->block != 0)
		return E_INVAL;
	if (len == 0)
		return 0;
	if (c->alg == CIPH_AES)
		return mbedtls_aes_crypt_cbc(&c->u.aes, mode, len, iv, in, out) ? E_INVAL : 0;
	return mbedtls_des3_crypt_cbc(&c->u.des3, encrypt ? MBEDTLS_DES_ENCRYPT :
				      MBEDTLS_DES_DECRYPT, len, iv, in, out) ? E_INVAL : 0;
}

void ike_cipher_free(ike_cipher_t *c)
{
	if (!c->ready)
		return;
	if (c->alg == CIPH_AES)
		mbedtls_aes_free(&c->u.aes);
	else if (c->alg == CIPH_3DES)
		mbedtls_des3_free(&c->u.des3);
	c->ready = false;
}

void ike_cipher_swap(ike_cipher_t *a, ike_cipher_t *b)
{
	ike_cipher_t t;
	ptrdiff_t ra = 0, rb = 0;

	/* mbedtls 2.28's AES context points into itself (rk -> buf): keep
	 * each schedule's offset and point it into its new home */
	if (a->alg == CIPH_AES && a->u.aes.rk)
		ra = a->u.aes.rk - a->u.aes.buf;
	if (b->alg == CIPH_AES && b->u.aes.rk)
		rb = b->u.aes.rk - b->u.aes.buf;
	t = *a;
	*a = *b;
	*b = t;
	if (a->alg == CIPH_AES && a->u.aes.rk)
		a->u.aes.rk = a->u.aes.buf + rb;
	if (b->alg == CIPH_AES && b->u.aes.rk)
		b->u.aes.rk = b->u.aes.buf + ra;
	mbedtls_platform_zeroize(&t, sizeof(t));
}

/* ------------------------------------------------------------------ */

size_t ike_md_len(mbedtls_md_type_t md)
{
	const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);

	return mi ? mbedtls_md_get_size(mi) : 0;
}

static int md_run(mbedtls_md_type_t md, const uint8_t *key, size_t klen, bool hmac,
                  const ike_iov_t *v, size_t nv, uint8_t *out)
{
	const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
	mbedtls_md_context_t ctx;
	size_t i;
	int r;

	if (!mi)
		return E_INVAL;
	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, mi, hmac ? 1 : 0);
	if (r == 0)
		r = hmac ? mbedtls_md_hmac_starts(&ctx, key, klen) : mbedtls_md_starts(&ctx);
	for (i = 0; r == 0 && i < nv; i++)
		if (v[i].n)
			r = hmac ? mbedtls_md_hmac_update(&ctx, v[i].p, v[i].n)
				 : mbedtls_md_update(&ctx, v[i].p, v[i].n);
	if (r == 0)
		r = hmac ? mbedtls_md_hmac_finish(&ctx, out) : mbedtls_md_finish(&ctx, out);
	mbedtls_md_free(&ctx);
	return r == 0 ? 0 : (r == MBEDTLS_ERR_MD_ALLOC_FAILED ? E_NOMEM : E_INVAL);
}

int ike_prf(mbedtls_md_type_t md, const uint8_t *key, size_t klen,
            const ike_iov_t *v, size_t nv, uint8_t *out)
{
	return md_run(md, key, klen, true, v, nv, out);
}

int ike_hash(mbedtls_md_type_t md, const ike_iov_t *v, size_t nv, uint8_t *out)
{
	return md_run(md, NULL, 0, false, v, nv, out);
}

#define MAX_SEED 8

int ike_keymat(mbedtls_md_type_t md, const uint8_t *key, size_t klen,
               const ike_iov_t *seed, size_t nseed, uint8_t *out, size_t n)
{
	size_t ml = ike_md_len(md), done = 0, i;
	uint8_t k[IKE_MAX_MD];
	ike_iov_t v[MAX_SEED + 1];
	int r = 0;

	if (ml == 0 || nseed > MAX_SEED)
		return E_INVAL;
	for (i = 0; i < nseed; i++)
		v[i + 1] = seed[i];
	while (done < n) {
		size_t take = n - done < ml ? n - done : ml;

		v[0].p = k;
		v[0].n = done ? ml : 0;
		r = ike_prf(md, key, klen, v, nseed + 1, k);
		if (r < 0)
			break;
		memcpy(out + done, k, take);
		done += take;
	}
	memset(k, 0, sizeof(k));
	return r;
}

int ike_p1_key(mbedtls_md_type_t md, const uint8_t *skeyid_e, uint8_t *out, size_t n)
{
	size_t ml = ike_md_len(md), done = 0;
	uint8_t k[IKE_MAX_MD];
	static const uint8_t zero = 0;
	int r = 0;

	if (ml == 0)
		return E_INVAL;
	if (n <= ml) {
		memcpy(out, skeyid_e, n);
		return 0;
	}
	while (done < n) {
		size_t take = n - done < ml ? n - done : ml;
		ike_iov_t v = { done ? (const void *)k : (const void *)&zero, done ? ml : 1 };

		r = ike_prf(md, skeyid_e, ml, &v, 1, k);
		if (r < 0)
			break;
		memcpy(out + done, k, take);
		done += take;
	}
	memset(k, 0, sizeof(k));
	return r;
}

/* ------------------------------------------------------------------ */
/* MODP groups: 2 (RFC 2409 6.2, 1024 bit) and 5 (RFC 3526 2, 1536 bit)
 * as hex; 14, 15, 16 (RFC 3526) from mbedTLS's own constants. The prime
 * is 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + k), generator 2. */

static const char modp1024[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";
static const char modp1536[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
	"9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF";
static const uint8_t modp2048[] = MBEDTLS_DHM_RFC3526_MODP_2048_P_BIN;
static const uint8_t modp3072[] = MBEDTLS_DHM_RFC3526_MODP_3072_P_BIN;
static const uint8_t modp4096[] = MBEDTLS_DHM_RFC3526_MODP_4096_P_BIN;

size_t ike_dh_len(int id)
{
	switch (id) {
	case 2: return 128;
	case 5: return 192;
	case 14: return sizeof(modp2048);
	case 15: return sizeof(modp3072);
	case 16: return sizeof(modp4096);
	default: return 0;
	}
}

/* private exponent size: 2x the group's strength, at least 256 bits */
static int exp_bytes(int id)
{
	switch (id) {
	case 15: return 48;
	case 16: return 64;
	default: return 32;
	}
}

int ike_dh_start(ike_dh_t *dh, int group, uint8_t *pub, ike_rng_fn rng, void *rng_ctx)
{
	mbedtls_mpi P, G;
	size_t len = ike_dh_len(group);
	int r;

	memset(dh, 0, sizeof(*dh));
	if (len == 0)
		return E_INVAL;
	mbedtls_dhm_init(&dh->ctx);
	dh->ready = true;
	mbedtls_mpi_init(&P);
	mbedtls_mpi_init(&G);
	switch (group) {
	case 2: r = mbedtls_mpi_read_string(&P, 16, modp1024); break;
	case 5: r = mbedtls_mpi_read_string(&P, 16, modp1536); break;
	case 14: r = mbedtls_mpi_read_binary(&P, modp2048, sizeof(modp2048)); break;
	case 15: r = mbedtls_mpi_read_binary(&P, modp3072, sizeof(modp3072)); break;
	default: r = mbedtls_mpi_read_binary(&P, modp4096, sizeof(modp4096)); break;
	}
	if (r == 0)
		r = mbedtls_mpi_lset(&G, 2);
	if (r == 0)
		r = mbedtls_dhm_set_group(&dh->ctx, &P, &G);
	mbedtls_mpi_free(&P);
	mbedtls_mpi_free(&G);
	if (r == 0)
		r = mbedtls_dhm_make_public(&dh->ctx, exp_bytes(group), pub, len, rng, rng_ctx);
	if (r != 0) {
		ike_dh_free(dh);
		return E_INVAL;
	}
	dh->group = group;
	dh->len = len;
	return 0;
}

int ike_dh_shared(ike_dh_t *dh, const uint8_t *peer, size_t n, uint8_t *out,
                  ike_rng_fn rng, void *rng_ctx)
{
	uint8_t buf[IKE_MAX_DH];
	size_t olen = 0;
	int r;

	if (!dh->ready || n != dh->len || dh->len > sizeof(buf))
		return E_INVAL;
	r = mbedtls_dhm_read_public(&dh->ctx, peer, n); /* checks 2 <= y <= p-2 */
	if (r == 0)
		r = mbedtls_dhm_calc_secret(&dh->ctx, buf, sizeof(buf), &olen, rng, rng_ctx);
	if (r != 0 || olen > dh->len) {
		memset(buf, 0, sizeof(buf));
		return E_INVAL;
	}
	/* g^xy as a fixed-length string (leading zero bytes kept) */
	memset(out, 0, dh->len - olen);
	memcpy(out + dh->len - olen, buf, olen);
	memset(buf, 0, sizeof(buf));
	return 0;
}

void ike_dh_free(ike_dh_t *dh)
{
	if (dh->ready)
		mbedtls_dhm_free(&dh->ctx);
	dh->ready = false;
}

bool ike_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}
