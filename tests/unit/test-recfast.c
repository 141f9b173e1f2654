/*
 * test-recfast.c - the record fast path (modules/transport/common/recfast.c)
 * against mbedTLS itself: a real TLS 1.2 and DTLS 1.2 handshake between an
 * mbedTLS client and an mbedTLS server in memory, then records sealed by
 * the fast path must be opened by mbedTLS and records written by mbedTLS
 * must be opened by the fast path, with mbedTLS and the fast path taking
 * turns on the same connection (counters handed over with rf_push/rf_pull).
 * Also: tampered records, alerts, DTLS replay and epochs, suites the fast
 * path does not carry. With -v it prints AEAD speed, nettle vs mbedTLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/timing.h>

#include "recfast.h"

#include "../lib/unitcheck.h"

static int verbose;

/* ------------------------------------------------------------------ */
/* in-memory transport: a byte stream (TLS) or datagrams (DTLS)        */

#define PIPE_CAP (1 << 20)
#define MAX_DGRAMS 256

struct pipe {
	uint8_t buf[PIPE_CAP];
	size_t len;
	size_t dlen[MAX_DGRAMS]; /* datagram mode: lengths of queued datagrams */
	size_t nd;
	int dgram;
};

static struct pipe c2s, s2c;

static int pipe_put(struct pipe *p, const unsigned char *b, size_t n)
{
	if (p->len + n > PIPE_CAP || (p->dgram && p->nd >= MAX_DGRAMS))
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	memcpy(p->buf + p->len, b, n);
	p->len += n;
	if (p->dgram)
		p->dlen[p->nd++] = n;
	return (int)n;
}

static int pipe_get(struct pipe *p, unsigned char *b, size_t n)
{
	size_t take;

	if (p->len == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (p->dgram) {
		take = p->dlen[0];
		if (take > n)
			take = n; /* truncated, like recv() */
		memcpy(b, p->buf, take);
		memmove(p->buf, p->buf + p->dlen[0], p->len - p->dlen[0]);
		p->len -= p->dlen[0];
		memmove(p->dlen, p->dlen + 1, (p->nd - 1) * sizeof(p->dlen[0]));
		p->nd--;
		return (int)take;
	}
	take = n < p->len ? n : p->len;
	memcpy(b, p->buf, take);
	memmove(p->buf, p->buf + take, p->len - take);
	p->len -= take;
	return (int)take;
}

static int cli_send(void *ctx, const unsigned char *b, size_t n) { (void)ctx; return pipe_put(&c2s, b, n); }
static int cli_recv(void *ctx, unsigned char *b, size_t n) { (void)ctx; return pipe_get(&s2c, b, n); }
static int srv_send(void *ctx, const unsigned char *b, size_t n) { (void)ctx; return pipe_put(&s2c, b, n); }
static int srv_recv(void *ctx, unsigned char *b, size_t n) { (void)ctx; return pipe_get(&c2s, b, n); }

/* take one datagram (or all stream bytes) the client sent, raw */
static size_t raw_from_client(uint8_t *b, size_t cap)
{
	int n = pipe_get(&c2s, b, cap);

	return n > 0 ? (size_t)n : 0;
}

/* ------------------------------------------------------------------ */
/* two endpoints                                                       */

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static rf_keys_t srv_keys, cli_keys;

struct side {
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_timing_delay_context timer;
	int suites[2];
};

static struct side srv, cli;
static const unsigned char psk[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char psk_id[] = "psk";

static int keys_cb(void *p, const unsigned char *ms, const unsigned char *kb,
                   size_t maclen, size_t keylen, size_t ivlen,
                   const unsigned char cr[32], const unsigned char sr[32],
                   mbedtls_tls_prf_types prf)
{
	(void)ms; (void)cr; (void)sr; (void)prf;
	rf_keys_capture(p, kb, maclen, keylen, ivlen);
	return 0;
}

static int side_init(struct side *s, int endpoint, int transport, int suite)
{
	int ret;

	mbedtls_ssl_config_init(&s->conf);
	mbedtls_ssl_init(&s->ssl);
	ret = mbedtls_ssl_config_defaults(&s->conf, endpoint, transport, MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret != 0)
		return ret;
	mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_min_version(&s->conf, 3, 3);
	mbedtls_ssl_conf_max_version(&s->conf, 3, 3);
	s->suites[0] = suite;
	s->suites[1] = 0;
	mbedtls_ssl_conf_ciphersuites(&s->conf, s->suites);
	ret = mbedtls_ssl_conf_psk(&s->conf, psk, sizeof(psk), psk_id, sizeof(psk_id) - 1);
	if (ret != 0)
		return ret;
	mbedtls_ssl_conf_export_keys_ext_cb(&s->conf, keys_cb,
	                                    endpoint == MBEDTLS_SSL_IS_SERVER ? &srv_keys : &cli_keys);
	if (transport == MBEDTLS_SSL_TRANSPORT_DATAGRAM && endpoint == MBEDTLS_SSL_IS_SERVER)
		mbedtls_ssl_conf_dtls_cookies(&s->conf, NULL, NULL, NULL);
	ret = mbedtls_ssl_setup(&s->ssl, &s->conf);
	if (ret != 0)
		return ret;
	if (endpoint == MBEDTLS_SSL_IS_SERVER)
		mbedtls_ssl_set_bio(&s->ssl, NULL, srv_send, srv_recv, NULL);
	else
		mbedtls_ssl_set_bio(&s->ssl, NULL, cli_send, cli_recv, NULL);
	if (transport == MBEDTLS_SSL_TRANSPORT_DATAGRAM) {
		mbedtls_ssl_set_timer_cb(&s->ssl, &s->timer, mbedtls_timing_set_delay,
		                         mbedtls_timing_get_delay);
		if (endpoint == MBEDTLS_SSL_IS_SERVER)
			mbedtls_ssl_set_client_transport_id(&s->ssl, (const unsigned char *)"x", 1);
	}
	return 0;
}

static void side_free(struct side *s)
{
	mbedtls_ssl_free(&s->ssl);
	mbedtls_ssl_config_free(&s->conf);
}

static int connect_pair(int transport, int suite)
{
	int i, rs = 1, rc = 1;

	memset(&c2s, 0, sizeof(c2s));
	memset(&s2c, 0, sizeof(s2c));
	c2s.dgram = s2c.dgram = transport == MBEDTLS_SSL_TRANSPORT_DATAGRAM;
	rf_keys_wipe(&srv_keys);
	rf_keys_wipe(&cli_keys);
	if (side_init(&srv, MBEDTLS_SSL_IS_SERVER, transport, suite) != 0 ||
	    side_init(&cli, MBEDTLS_SSL_IS_CLIENT, transport, suite) != 0)
		return -1;
	for (i = 0; i < 100 && (rs != 0 || rc != 0); i++) {
		if (rc != 0) {
			rc = mbedtls_ssl_handshake(&cli.ssl);
			if (rc != 0 && rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
				return rc;
		}
		if (rs != 0) {
			rs = mbedtls_ssl_handshake(&srv.ssl);
			if (rs != 0 && rs != MBEDTLS_ERR_SSL_WANT_READ && rs != MBEDTLS_ERR_SSL_WANT_WRITE)
				return rs;
		}
	}
	return rs == 0 && rc == 0 ? 0 : -2;
}

/* ------------------------------------------------------------------ */

static uint8_t payload[RF_MAX_PLAIN + 64]; /* tests read payload + i, i < 64 */
static uint8_t rec[RF_MAX_PLAIN + 64], got[RF_MAX_PLAIN + 64], raw[PIPE_CAP];

static const size_t sizes[] = { 0, 1, 7, 8, 9, 15, 16, 17, 31, 100, 1399, 1400,
                                1500, 4096, RF_MAX_PLAIN - 8 };
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

/* client reads exactly @p n bytes with mbedTLS */
static int cli_read_exact(uint8_t *b, size_t n)
{
	size_t have = 0;
	int i, r;

	for (i = 0; i < 64 && have < n; i++) {
		r = mbedtls_ssl_read(&cli.ssl, b + have, n - have);
		if (r > 0)
			have += (size_t)r;
		else if (r != MBEDTLS_ERR_SSL_WANT_READ)
			return r;
		else
			break;
	}
	return (int)have;
}

/* server seals hdr||payload records; the client's mbedTLS must read them */
static void fast_to_mbedtls(rf_t *rf, int dtls)
{
	size_t i;
	uint8_t hdr[8] = { 'S', 'T', 'F', 1, 0, 0, 0, 0 };

	for (i = 0; i < N_SIZES; i++) {
		size_t l2 = sizes[i], l1 = (i % 3 == 0) ? 0 : (dtls ? 1 : 8), n;

		if (dtls && l2 + l1 > 1400)
			continue; /* one record per datagram within mbedTLS's MTU */
		n = rf_seal(rf, RF_TYPE_APPDATA, hdr, l1, payload + i, l2, rec);
		CHECK(n == rf_overhead(rf) + l1 + l2);
		CHECK(pipe_put(&s2c, rec, n) == (int)n);
		if (l1 + l2 == 0) {
			/* mbedTLS reads an empty record as nothing */
			CHECK(mbedtls_ssl_read(&cli.ssl, got, sizeof(got)) == MBEDTLS_ERR_SSL_WANT_READ);
			continue;
		}
		CHECK(cli_read_exact(got, l1 + l2) == (int)(l1 + l2));
		CHECK(memcmp(got, hdr, l1) == 0);
		CHECK(memcmp(got + l1, payload + i, l2) == 0);
	}
}

/* the client's mbedTLS writes; the server's fast path opens */
static void mbedtls_to_fast(rf_t *rf, int dtls)
{
	size_t i;

	for (i = 0; i < N_SIZES; i++) {
		size_t l = sizes[i], n;
		uint8_t type = 0;
		long rl;
		int r;

		if (l == 0 || (dtls && l > 1400))
			continue;
		CHECK(mbedtls_ssl_write(&cli.ssl, payload + i, l) == (int)l);
		n = raw_from_client(raw, sizeof(raw));
		CHECK(n == l + rf_overhead(rf));
		rl = dtls ? rf_dtls_record_len(raw, n) : rf_tls_record_len(raw, n);
		CHECK(rl == (long)n);
		/* in place, like the dtls transport; into another buffer, like cstp */
		if (dtls) {
			r = rf_open(rf, raw, n, raw + RF_DTLS_HDR + RF_EXPLICIT, &type);
			CHECK(r == (int)l && type == RF_TYPE_APPDATA);
			CHECK(r == (int)l && memcmp(raw + RF_DTLS_HDR + RF_EXPLICIT, payload + i, l) == 0);
		} else {
			r = rf_open(rf, raw, n, got, &type);
			CHECK(r == (int)l && type == RF_TYPE_APPDATA);
			CHECK(r == (int)l && memcmp(got, payload + i, l) == 0);
		}
	}
}

/* mbedTLS and the fast path take turns on the server */
static void take_turns(rf_t *rf, int dtls)
{
	static const uint8_t a[] = "written by mbedTLS after the fast path";
	uint8_t type;
	size_t n;
	int r;

	/* server writes with mbedTLS, client reads */
	rf_push(rf, &srv.ssl);
	CHECK(mbedtls_ssl_write(&srv.ssl, a, sizeof(a)) == (int)sizeof(a));
	CHECK(cli_read_exact(got, sizeof(a)) == (int)sizeof(a) && memcmp(got, a, sizeof(a)) == 0);
	/* client writes, server reads with mbedTLS */
	CHECK(mbedtls_ssl_write(&cli.ssl, a, sizeof(a)) == (int)sizeof(a));
	r = mbedtls_ssl_read(&srv.ssl, got, sizeof(got));
	CHECK(r == (int)sizeof(a) && memcmp(got, a, sizeof(a)) == 0);
	rf_pull(rf, &srv.ssl);
	/* and the fast path again, both ways */
	fast_to_mbedtls(rf, dtls);
	mbedtls_to_fast(rf, dtls);
	/* tampering is caught */
	CHECK(mbedtls_ssl_write(&cli.ssl, payload, 100) == 100);
	n = raw_from_client(raw, sizeof(raw));
	raw[n - 20] ^= 1;
	CHECK(rf_open(rf, raw, n, got, &type) == RF_E_AUTH);
	raw[n - 20] ^= 1;
	if (!dtls) {
		/* TLS: the counter did not move on failure; the record opens */
		CHECK(rf_open(rf, raw, n, got, &type) == 100);
	}
}

static void test_tls(int suite, const char *name, int fast)
{
	rf_t *rf;
	uint8_t type = 0;
	size_t n;
	int r;

	r = connect_pair(MBEDTLS_SSL_TRANSPORT_STREAM, suite);
	CHECK(r == 0);
	if (r != 0) {
		fprintf(stderr, "TLS handshake (%s) failed: -0x%04x\n", name, -r);
		goto out;
	}
	rf = rf_new(&srv.ssl, &srv_keys);
	CHECK(srv_keys.have == false); /* consumed */
	if (!fast) {
		CHECK(rf == NULL);
		goto out;
	}
	CHECK(rf != NULL);
	if (rf == NULL)
		goto out;
	CHECK(rf_overhead(rf) == 29);
	/* a few records through mbedTLS first: counters not at zero */
	CHECK(mbedtls_ssl_write(&srv.ssl, payload, 10) == 10);
	CHECK(cli_read_exact(got, 10) == 10);
	CHECK(mbedtls_ssl_write(&cli.ssl, payload, 10) == 10);
	CHECK(mbedtls_ssl_read(&srv.ssl, got, sizeof(got)) == 10);
	CHECK(rf_ssl_idle(&srv.ssl));
	/* a record read in part: mbedTLS still holds the rest */
	CHECK(mbedtls_ssl_write(&cli.ssl, payload, 10) == 10);
	CHECK(mbedtls_ssl_read(&srv.ssl, got, 4) == 4);
	CHECK(!rf_ssl_idle(&srv.ssl));
	CHECK(mbedtls_ssl_read(&srv.ssl, got, sizeof(got)) == 6);
	CHECK(rf_ssl_idle(&srv.ssl));
	/* a record that arrived in part: mbedTLS holds its start */
	CHECK(mbedtls_ssl_write(&cli.ssl, payload, 10) == 10);
	{
		size_t full = c2s.len;

		c2s.len = 7;
		CHECK(mbedtls_ssl_read(&srv.ssl, got, sizeof(got)) == MBEDTLS_ERR_SSL_WANT_READ);
		CHECK(!rf_ssl_idle(&srv.ssl));
		c2s.len = full - 7;
		memmove(c2s.buf, c2s.buf + 7, c2s.len);
		/* (the bytes already taken stay in mbedTLS) */
	}
	CHECK(mbedtls_ssl_read(&srv.ssl, got, sizeof(got)) == 10);
	CHECK(rf_ssl_idle(&srv.ssl));
	rf_pull(rf, &srv.ssl);
	fast_to_mbedtls(rf, 0);
	mbedtls_to_fast(rf, 0);
	take_turns(rf, 0);
	/* several records in one read, split anywhere: lengths from headers */
	{
		size_t off = 0, k;
		long rl;

		for (k = 0; k < 5; k++)
			CHECK(mbedtls_ssl_write(&cli.ssl, payload + k, 1000 + k) == (int)(1000 + k));
		n = raw_from_client(raw, sizeof(raw));
		CHECK(rf_tls_record_len(raw, 4) == 0);
		for (k = 0; k < 5; k++) {
			rl = rf_tls_record_len(raw + off, n - off);
			CHECK(rl == (long)(1000 + k + 29));
			if (rl <= 0)
				break;
			CHECK(rf_open(rf, raw + off, (size_t)rl, got, &type) == (int)(1000 + k));
			CHECK(memcmp(got, payload + k, 1000 + k) == 0);
			off += (size_t)rl;
		}
		CHECK(off == n);
	}
	/* a bad header is refused */
	raw[0] = 23; raw[1] = 3; raw[2] = 1; raw[3] = 0; raw[4] = 40;
	CHECK(rf_tls_record_len(raw, 5) == RF_E_BAD);
	raw[2] = 3; raw[3] = 0x48; raw[4] = 0x19; /* 16384 + 24 + 1 */
	CHECK(rf_tls_record_len(raw, 5) == RF_E_BAD);
	/* the client's close_notify is an alert the fast path opens */
	CHECK(mbedtls_ssl_close_notify(&cli.ssl) == 0);
	n = raw_from_client(raw, sizeof(raw));
	r = rf_open(rf, raw, n, got, &type);
	CHECK(r == 2 && type == RF_TYPE_ALERT && got[0] == 1 && got[1] == 0);
	/* and the server's close_notify after the fast path reaches the client */
	rf_push(rf, &srv.ssl);
	CHECK(mbedtls_ssl_close_notify(&srv.ssl) == 0);
	CHECK(mbedtls_ssl_read(&cli.ssl, got, sizeof(got)) == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
	rf_free(rf);
out:
	side_free(&srv);
	side_free(&cli);
}

static void test_dtls(int suite, const char *name)
{
	static uint8_t d1[2048], d2[2048], d3[2048];
	rf_t *rf;
	uint8_t type = 0;
	size_t n1, n2, n3 = 0, k;
	int r;

	r = connect_pair(MBEDTLS_SSL_TRANSPORT_DATAGRAM, suite);
	CHECK(r == 0);
	if (r != 0) {
		fprintf(stderr, "DTLS handshake (%s) failed: -0x%04x\n", name, -r);
		goto out;
	}
	/* mbedTLS keeps its last flight until the first record arrives */
	CHECK(!rf_ssl_idle(&srv.ssl));
	/* like the dtls transport: mbedTLS reads the first record */
	CHECK(mbedtls_ssl_write(&cli.ssl, payload, 10) == 10);
	CHECK(mbedtls_ssl_read(&srv.ssl, got, sizeof(got)) == 10);
	CHECK(rf_ssl_idle(&srv.ssl));
	rf = rf_new(&srv.ssl, &srv_keys);
	CHECK(rf != NULL);
	if (rf == NULL)
		goto out;
	CHECK(rf_overhead(rf) == 37);
	fast_to_mbedtls(rf, 1);
	mbedtls_to_fast(rf, 1);
	take_turns(rf, 1);

	/* replay: a datagram opened twice is refused the second time */
	CHECK(mbedtls_ssl_write(&cli.ssl, payload, 50) == 50);
	n1 = raw_from_client(d1, sizeof(d1));
	memcpy(d2, d1, n1);
	CHECK(rf_open(rf, d1, n1, got, &type) == 50);
	CHECK(rf_open(rf, d2, n1, got, &type) == RF_E_REPLAY);
	/* ... and so does mbedTLS once it has the window */
	rf_push(rf, &srv.ssl);
	CHECK(pipe_put(&c2s, d2, n1) == (int)n1);
	CHECK(mbedtls_ssl_read(&srv.ssl, got, sizeof(got)) == MBEDTLS_ERR_SSL_WANT_READ);
	rf_pull(rf, &srv.ssl);
	/* reordering within the window is fine; older than 64 is not */
	CHECK(mbedtls_ssl_write(&cli.ssl, payload, 60) == 60);
	n1 = raw_from_client(d1, sizeof(d1));
	for (k = 0; k < 70; k++) {
		CHECK(mbedtls_ssl_write(&cli.ssl, payload, 61) == 61);
		if (k == 3) {
			n3 = raw_from_client(d3, sizeof(d3)); /* held back */
			continue;
		}
		n2 = raw_from_client(d2, sizeof(d2));
		CHECK(rf_open(rf, d2, n2, got, &type) == 61);
		if (k == 5)
			CHECK(rf_open(rf, d1, n1, got, &type) == 60); /* late, accepted */
	}
	CHECK(rf_open(rf, d3, n3, got, &type) == RF_E_REPLAY); /* 66 behind */
	CHECK(rf_open(rf, d1, n1, got, &type) == RF_E_REPLAY); /* seen */
	/* not application data of the current epoch: for mbedTLS */
	d1[0] = RF_TYPE_HANDSHAKE;
	CHECK(rf_open(rf, d1, n1, got, &type) == RF_E_OTHER);
	d1[0] = RF_TYPE_APPDATA;
	d1[4] ^= 1; /* epoch */
	CHECK(rf_open(rf, d1, n1, got, &type) == RF_E_OTHER);
	/* a record whose length runs past the datagram */
	CHECK(rf_dtls_record_len(d1, 12) == RF_E_BAD);
	CHECK(rf_dtls_record_len(d1, n1 - 1) == RF_E_BAD);
	rf_free(rf);
out:
	side_free(&srv);
	side_free(&cli);
}

/* -v: AEAD speed of one record size (CPU time), the fast path vs mbedTLS */
static void speed(int suite, const char *name)
{
	const size_t len = 1400, total = (size_t)64 << 20;
	struct timespec t0, t1;
	double tf, tm;
	rf_t *rf;
	size_t done;

	if (connect_pair(MBEDTLS_SSL_TRANSPORT_STREAM, suite) != 0)
		goto out;
	rf = rf_new(&srv.ssl, &srv_keys);
	if (rf == NULL)
		goto out;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (done = 0; done < total; done += len)
		(void)rf_seal(rf, RF_TYPE_APPDATA, payload, 8, payload + 8, len - 8, rec);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	tf = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (done = 0; done < total; done += len) {
		if (mbedtls_ssl_write(&srv.ssl, payload, len) != (int)len)
			break;
		s2c.len = 0;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	tm = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%s, %zu-byte records: fast path %.0f MB/s, mbedTLS %.0f MB/s (%.1fx)\n",
	       name, len, (double)total / tf / 1e6, (double)total / tm / 1e6, tm / tf);
	rf_free(rf);
out:
	side_free(&srv);
	side_free(&cli);
}

int main(int argc, char **argv)
{
	size_t i;

	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 131 + 7);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
	                          (const unsigned char *)"recfast", 7) != 0) {
		fprintf(stderr, "no DRBG\n");
		return 1;
	}

	test_tls(MBEDTLS_TLS_PSK_WITH_AES_256_GCM_SHA384, "AES-256-GCM", 1);
	test_tls(MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256, "AES-128-GCM", 1);
	test_tls(MBEDTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256, "ChaCha20-Poly1305", 0);
	test_dtls(MBEDTLS_TLS_PSK_WITH_AES_256_GCM_SHA384, "AES-256-GCM");
	test_dtls(MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256, "AES-128-GCM");
	if (verbose) {
		speed(MBEDTLS_TLS_PSK_WITH_AES_256_GCM_SHA384, "AES-256-GCM");
		speed(MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256, "AES-128-GCM");
	}

	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	printf("%d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
