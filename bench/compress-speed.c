/*
 * compress-speed.c - throughput of the compress modules on tunnel-sized
 * packets, through their public ops (the way the transports call them).
 *
 *   cc -O2 -I include/ocmod bench/compress-speed.c -ldl -o bench/compress-speed
 *   bench/compress-speed modules/.libs [SECONDS]
 *
 * For each module (compress_lz4.so, compress_lzs.so) and each packet kind
 * (1400-byte text-like, IP+TCP header + text, all zero, random) it prints
 * compression and decompression throughput in MB/s of input packets and
 * the compressed size as a percentage (random packets are "not smaller":
 * the module answers OC_E_NOSPACE and the packet goes uncompressed).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ocmod.h"

#define PKT 1400
#define NPKT 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_packets(const char *kind, uint8_t pk[NPKT][PKT])
{
	static const char text[] =
		"GET /index.html HTTP/1.1\r\nHost: intranet.example\r\nUser-Agent: "
		"Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,application/xhtml+xml\r\n"
		"<html><body><p>Quarterly report: revenue, costs and the usual tables.</p>";
	unsigned seed = 12345;
	size_t i, j;

	for (i = 0; i < NPKT; i++) {
		for (j = 0; j < PKT; j++) {
			seed = seed * 1103515245u + 12345u;
			if (!strcmp(kind, "zero"))
				pk[i][j] = 0;
			else if (!strcmp(kind, "random"))
				pk[i][j] = (uint8_t)(seed >> 16);
			else
				pk[i][j] = (uint8_t)text[(j + i * 7) % (sizeof(text) - 1)];
		}
		if (!strcmp(kind, "ip+text")) {
			/* an IPv4 + TCP header in front, with varying fields */
			memset(pk[i], 0, 40);
			pk[i][0] = 0x45;
			pk[i][2] = PKT >> 8;
			pk[i][3] = PKT & 0xff;
			pk[i][4] = (uint8_t)i;
			pk[i][8] = 64;
			pk[i][9] = 6;
			memcpy(pk[i] + 12, "\xc0\xa8\x57\x32\x0a\x4d\x00\x01", 8);
			pk[i][24] = (uint8_t)(seed >> 8);
		}
	}
}

int main(int argc, char **argv)
{
	static const char *const mods[] = { "compress_lz4.so", "compress_lzs.so" };
	static const char *const kinds[] = { "text", "ip+text", "zero", "random" };
	static uint8_t pk[NPKT][PKT], comp[NPKT][2 * PKT + 64], out[2 * PKT];
	const char *dir = argc > 1 ? argv[1] : "modules/.libs";
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	size_t m, k;

	printf("| compressor | packets | compress MB/s | decompress MB/s | size after |\n");
	printf("|---|---|---|---|---|\n");
	for (m = 0; m < 2; m++) {
		char path[4096];
		void *h;
		const oc_module_descriptor_t *d;
		const oc_compress_ops_t *ops;

		snprintf(path, sizeof(path), "%s/%s", dir, mods[m]);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h || !(d = dlsym(h, "oc_module_descriptor"))) {
			fprintf(stderr, "compress-speed: cannot load %s: %s\n", path, dlerror());
			return 1;
		}
		ops = d->ops;
		for (k = 0; k < 4; k++) {
			size_t clen[NPKT], i, total_in = 0, total_out = 0, n_plain = 0;
			double t0, tc, td;
			unsigned long rounds;

			make_packets(kinds[k], pk);
			for (i = 0; i < NPKT; i++) {
				if (ops->compress(NULL, pk[i], PKT, comp[i], sizeof(comp[i]), &clen[i]) != 0) {
					clen[i] = 0; /* not smaller: sent as is */
					n_plain++;
				}
				total_out += clen[i] ? clen[i] : PKT;
			}
			/* compression */
			t0 = now_s();
			for (rounds = 0; now_s() - t0 < secs; rounds++)
				for (i = 0; i < NPKT; i++) {
					size_t o;

					(void)ops->compress(NULL, pk[i], PKT, comp[i], sizeof(comp[i]), &o);
				}
			tc = now_s() - t0;
			total_in = (size_t)rounds * NPKT * PKT;
			printf("| %s | %s | %.0f |", ops->wire_name, kinds[k], total_in / tc / 1e6);
			/* decompression (of the packets that were compressed) */
			if (n_plain == NPKT) {
				printf(" - | 100%% (sent uncompressed) |\n");
				continue;
			}
			t0 = now_s();
			for (rounds = 0; now_s() - t0 < secs; rounds++)
				for (i = 0; i < NPKT; i++) {
					size_t o;

					if (clen[i] && (ops->decompress(NULL, comp[i], clen[i], out, sizeof(out), &o) != 0 ||
					                o != PKT || memcmp(out, pk[i], PKT) != 0)) {
						fprintf(stderr, "compress-speed: %s round trip failed\n", ops->wire_name);
						return 1;
					}
				}
			td = now_s() - t0;
			printf(" %.0f | %.1f%% |\n", (double)rounds * (NPKT - n_plain) * PKT / td / 1e6,
			       100.0 * (double)total_out / (NPKT * PKT));
		}
		dlclose(h);
	}
	return 0;
}
