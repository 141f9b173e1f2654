/*
 * fuzz-dtls-hello.c - libFuzzer target for the DTLS ClientHello demux
 * (modules/transport/dtls/hello.c): the code main runs on every first
 * datagram of a UDP flow to find the session it belongs to.  Build and
 * run with tests/fuzz/run-fuzz.sh dtls-hello SECONDS.
 *
 * Input: byte 0 sets the capacity of the id buffer, the rest is a
 * datagram.  Properties: only 0, NOTFOUND or NOSPACE; on 0 the id is 1..32
 * bytes copied from offset 60 of the datagram, inside the record and the
 * handshake fragment, and the datagram looks like a ClientHello; NOSPACE
 * only when the capacity is below the id length (and a bigger buffer then
 * succeeds); the answer does not depend on the capacity otherwise.
 */
#include "fuzz-common.h"

#include "oc-error.h"
#include "hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *dg, *id, big[64];
	size_t cap, n = 0, nb = 0;
	int r, rb;

	if (size < 1)
		return 0;
	cap = data[0] % 40;
	data++;
	size--;
	dg = (uint8_t *)fuzz_dup(data, size);
	id = malloc(cap ? cap : 1);
	REQUIRE(id != NULL);

	r = dtls_hello_session_id(dg, size, id, cap, &n);
	rb = dtls_hello_session_id(dg, size, big, sizeof(big), &nb);
	REQUIRE(rb == 0 || rb == OC_E_NOTFOUND);
	REQUIRE(r == 0 || r == OC_E_NOTFOUND || r == OC_E_NOSPACE);
	if (rb == 0) {
		size_t rec_len = (size_t)dg[11] << 8 | dg[12];

		REQUIRE(nb >= 1 && nb <= DTLS_HELLO_SID_MAX);
		REQUIRE(nb == dg[DTLS_HELLO_SID_LEN_OFF]);
		REQUIRE(DTLS_HELLO_SID_OFF + nb <= size);
		REQUIRE(DTLS_HELLO_SID_OFF + nb <= DTLS_REC_HDR_LEN + rec_len);
		REQUIRE(memcmp(big, dg + DTLS_HELLO_SID_OFF, nb) == 0);
		REQUIRE(dtls_hello_looks_like(dg, size));
		if (nb <= cap)
			REQUIRE(r == 0 && n == nb && memcmp(id, big, nb) == 0);
		else
			REQUIRE(r == OC_E_NOSPACE && n == 0);
	} else {
		REQUIRE(r == OC_E_NOTFOUND && n == 0 && nb == 0);
	}
	(void)dtls_hello_looks_like(dg, size);
	REQUIRE(dtls_hello_session_id(NULL, size, big, sizeof(big), &nb) == OC_E_INVAL);

	free(id);
	free(dg);
	return 0;
}
