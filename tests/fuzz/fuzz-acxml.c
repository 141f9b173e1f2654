/*
 * fuzz-acxml.c - libFuzzer target for the AnyConnect XML / form parsing and
 * text helpers of the CSTP front (modules/transport/cstp/acxml.c).  Build
 * and run with tests/fuzz/run-fuzz.sh acxml SECONDS.
 *
 * Each input is used as:
 *  1. a <config-auth> document (acxml_parse): on success at most 16 fields,
 *     non-empty names of at most 64 bytes, values of at most 4096, no NUL
 *     inside; every value, XML-escaped (acbuf_xml) into a new auth-reply,
 *     parses back to itself minus the control characters escaping drops
 *     (what the server writes back into its XML pages cannot break out);
 *  2. an urlencoded form (acxml_parse_form), with the same limits;
 *  3. base64 (acxml_b64_decode): what decodes re-encodes and decodes to the
 *     same bytes; the output never passes the capacity given;
 *  4. a header value (acbuf_hdrval): no control character survives.
 */
#include "fuzz-common.h"

#include "oc-error.h"
#include "acxml.h"

static void check_req(const acxml_req_t *r)
{
	size_t i;

	REQUIRE(r->n_fields <= ACXML_MAX_FIELDS);
	for (i = 0; i < r->n_fields; i++) {
		REQUIRE(r->names[i] != NULL && r->values[i] != NULL);
		REQUIRE(r->fields[i].name == r->names[i]);
		REQUIRE(r->fields[i].value == r->values[i]);
		REQUIRE(r->names[i][0] != '\0');
		REQUIRE(strlen(r->names[i]) <= ACXML_MAX_NAME);
		REQUIRE(strlen(r->values[i]) <= ACXML_MAX_VALUE);
	}
	if (r->group != NULL)
		REQUIRE(strlen(r->group) <= ACXML_MAX_VALUE);
}

/* The value as acbuf_xml leaves it after a parse: minus the control
 * characters XML 1.0 does not allow. */
static char *xml_clean(const char *s)
{
	char *d = malloc(strlen(s) + 1), *o = d;

	REQUIRE(d != NULL);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			continue;
		*o++ = *s;
	}
	*o = '\0';
	return d;
}

static void round_trip(const acxml_req_t *r)
{
	acxml_req_t back;
	acbuf_t b;
	size_t i;
	int ret;

	if (r->n_fields == 0)
		return;
	acbuf_init(&b, 0);
	acbuf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	               "<config-auth client=\"vpn\" type=\"auth-reply\"><auth>");
	for (i = 0; i < r->n_fields; i++) {
		acbuf_printf(&b, "<%s>", r->names[i]);
		acbuf_xml(&b, r->values[i]);
		acbuf_printf(&b, "</%s>", r->names[i]);
	}
	acbuf_puts(&b, "</auth></config-auth>");
	REQUIRE(!b.err);
	ret = acxml_parse(b.p, b.len, &back);
	REQUIRE(ret == 0);
	REQUIRE(back.type == ACXML_T_AUTH_REPLY);
	REQUIRE(back.n_fields == r->n_fields);
	for (i = 0; i < r->n_fields; i++) {
		char *want = xml_clean(r->values[i]);

		REQUIRE(strcmp(back.names[i], r->names[i]) == 0);
		REQUIRE(strcmp(back.values[i], want) == 0);
		free(want);
	}
	acxml_req_free(&back);
	acbuf_free(&b);
}

static void fuzz_b64(const uint8_t *data, size_t size)
{
	char *in = fuzz_dup(data, size);
	size_t cap = size > 0 ? data[0] % 64 : 0, n = 0, n2 = 0;
	uint8_t *out = malloc(cap ? cap : 1), *out2;
	char *enc;
	int ret;

	REQUIRE(out != NULL);
	ret = acxml_b64_decode(in, size, out, cap, &n);
	REQUIRE(ret == 0 || ret == OC_E_INVAL || ret == OC_E_NOSPACE);
	if (ret == 0) {
		REQUIRE(n <= cap);
		enc = malloc(acxml_b64_len(n) + 1);
		REQUIRE(enc != NULL);
		REQUIRE(acxml_b64_encode(out, n, enc, acxml_b64_len(n) + 1) == 0);
		REQUIRE(strlen(enc) == acxml_b64_len(n));
		out2 = malloc(n ? n : 1);
		REQUIRE(out2 != NULL);
		REQUIRE(acxml_b64_decode(enc, strlen(enc), out2, n, &n2) == 0);
		REQUIRE(n2 == n && memcmp(out, out2, n) == 0);
		free(out2);
		free(enc);
	}
	free(out);
	free(in);
}

static void fuzz_hdrval(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	acbuf_t b;
	size_t i;

	acbuf_init(&b, 0);
	acbuf_hdrval(&b, s);
	REQUIRE(!b.err);
	REQUIRE(b.len == strlen(s));
	for (i = 0; i < b.len; i++)
		REQUIRE((unsigned char)b.p[i] >= 0x20 && b.p[i] != 0x7f);
	acbuf_free(&b);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	acxml_req_t r;
	char *doc = fuzz_dup(data, size);
	int ret;

	ret = acxml_parse(doc, size, &r);
	REQUIRE(ret == 0 || ret == OC_E_PROTO || ret == OC_E_NOMEM);
	if (ret == 0) {
		check_req(&r);
		REQUIRE(r.type >= ACXML_T_NONE && r.type <= ACXML_T_LOGOUT);
		round_trip(&r);
	} else {
		REQUIRE(r.n_fields == 0 && r.group == NULL);
	}
	acxml_req_free(&r);

	ret = acxml_parse_form(doc, size, &r);
	REQUIRE(ret == 0 || ret == OC_E_PROTO || ret == OC_E_NOMEM);
	if (ret == 0) {
		check_req(&r);
		REQUIRE(r.type == ACXML_T_AUTH_REPLY);
	}
	acxml_req_free(&r);
	free(doc);

	fuzz_b64(data, size);
	fuzz_hdrval(data, size);
	return 0;
}
