/*
 * fuzz-cstp-frame.c - libFuzzer target for the CSTP deframer and framer
 * (modules/transport/cstp/frame.c).  Build and run with
 * tests/fuzz/run-fuzz.sh cstp-frame SECONDS.
 *
 * Input: byte 0 sets the payload cap (as the transport passes the MTU),
 * the rest is a client byte stream.  Walking it frame by frame like the
 * transport does, each answer must be consistent with every shorter prefix
 * of the same bytes: a prefix of a frame needs more (0), never a frame and
 * never an error; a prefix that already shows a bad header byte is refused
 * however much follows.  Each frame parsed is rebuilt with
 * cstp_frame_header() to the same bytes.
 */
#include "fuzz-common.h"

#include "oc-error.h"
#include "frame.h"

static int parse_copy(const uint8_t *p, size_t n, size_t cap, cstp_frame_t *f)
{
	uint8_t *c = (uint8_t *)fuzz_dup(p, n);
	int r = cstp_frame_parse(n ? c : NULL, n, cap, f);

	if (r > 0 && f != NULL)
		f->payload = p + (f->payload - c); /* point into the original */
	free(c);
	return r;
}

/* Prefix lengths to try up to @p last: each of the header's, then a few
 * (half way, the last). */
static size_t next_len(size_t k, size_t last)
{
	if (k < CSTP_HDR_LEN + 1)
		return k + 1;
	if (k < last / 2)
		return last / 2;
	return k < last ? last : last + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap, eff, off = 0;
	int frames = 0;

	if (size < 1)
		return 0;
	cap = (size_t)data[0] * 97; /* 0 (= max) .. 24735 (> max) */
	eff = (cap == 0 || cap > CSTP_MAX_PAYLOAD) ? CSTP_MAX_PAYLOAD : cap;
	data++;
	size--;
	while (off < size && frames < 64) {
		cstp_frame_t f;
		size_t k;
		int r = parse_copy(data + off, size - off, cap, &f);

		REQUIRE(r == 0 || r == OC_E_PROTO || r >= CSTP_HDR_LEN);
		if (r == 0) {
			/* need more: only ever for less than a whole frame */
			REQUIRE(size - off < CSTP_HDR_LEN + eff);
			for (k = 0; k <= size - off; k = next_len(k, size - off))
				REQUIRE(parse_copy(data + off, k, cap, NULL) == 0);
			break;
		}
		if (r < 0) {
			/* refused: so is every longer prefix; shorter ones that
			 * do not reach the bad byte need more */
			int seen_err = 0;

			for (k = 0; k <= size - off && k <= CSTP_HDR_LEN; k++) {
				int rk = parse_copy(data + off, k, cap, NULL);

				REQUIRE(rk == 0 || rk == OC_E_PROTO);
				if (seen_err)
					REQUIRE(rk == OC_E_PROTO);
				if (rk < 0)
					seen_err = 1;
			}
			REQUIRE(seen_err);
			break;
		}
		/* a frame */
		REQUIRE((size_t)r == CSTP_HDR_LEN + f.len && (size_t)r <= size - off);
		REQUIRE(f.len <= eff);
		REQUIRE(cstp_type_from_client(f.type));
		REQUIRE(f.payload == data + off + CSTP_HDR_LEN);
		for (k = 0; k < (size_t)r; k = next_len(k, (size_t)r - 1))
			REQUIRE(parse_copy(data + off, k, cap, NULL) == 0);
		{
			uint8_t hdr[CSTP_HDR_LEN];

			REQUIRE(cstp_frame_header(hdr, f.type, f.len) == 0);
			REQUIRE(memcmp(hdr, data + off, CSTP_HDR_LEN) == 0);
		}
		off += (size_t)r;
		frames++;
	}
	{
		uint8_t hdr[CSTP_HDR_LEN];

		REQUIRE(cstp_frame_header(hdr, 0, CSTP_MAX_PAYLOAD + 1) == OC_E_INVAL);
		REQUIRE(cstp_frame_header(hdr, 256, 0) == OC_E_INVAL);
	}
	return 0;
}
