/*
 * test-acxml.c - unit tests for the CSTP module's AnyConnect XML, form,
 * escaping and base64 helpers (modules/transport/cstp/acxml.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oc-error.h"
#include "acxml.h"

#include "../lib/unitcheck.h"

static int px(const char *s, acxml_req_t *r)
{
	return acxml_parse(s, strlen(s), r);
}

static const char *field(const acxml_req_t *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_fields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return r->fields[i].value;
	return NULL;
}

static void bad(const char *s, int line)
{
	acxml_req_t r;
	int ret = px(s, &r);

	checks++;
	if (ret != OC_E_PROTO) {
		fails++;
		fprintf(stderr, "%s:%d: FAILED: accepted malformed XML (%d)\n", __FILE__, line, ret);
	}
	/* always left free-able and empty */
	CHECK(r.n_fields == 0 && r.group == NULL);
	acxml_req_free(&r);
}
#define BAD(s) bad((s), __LINE__)

static void test_init(void)
{
	static const char init[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<config-auth client=\"vpn\" type=\"init\" aggregate-auth-version=\"2\">\n"
		"<version who=\"vpn\">v9.01-3</version>\n"
		"<device-id>linux-64</device-id>\n"
		"<group-select>Engineering &amp; Ops</group-select>\n"
		"<group-access>https://127.0.0.1:4443</group-access>\n"
		"<capabilities><auth-method>single-sign-on-v2</auth-method></capabilities>\n"
		"</config-auth>\n";
	acxml_req_t r;

	CHECK(px(init, &r) == 0);
	CHECK(r.type == ACXML_T_INIT);
	CHECK(r.group && strcmp(r.group, "Engineering & Ops") == 0);
	CHECK(r.n_fields == 0);
	acxml_req_free(&r);

	/* no group, single quotes, BOM, comments */
	CHECK(px("\xef\xbb\xbf<!-- hi --><config-auth type='init'/><!-- bye -->", &r) == 0);
	CHECK(r.type == ACXML_T_INIT && r.group == NULL);
	acxml_req_free(&r);
	/* empty group-select */
	CHECK(px("<config-auth type=\"init\"><group-select/></config-auth>", &r) == 0);
	CHECK(r.group && r.group[0] == '\0');
	acxml_req_free(&r);
}

static void test_reply(void)
{
	static const char reply[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<config-auth client=\"vpn\" type=\"auth-reply\">\n"
		"<version who=\"vpn\">v9.01-3</version>\n"
		"<device-id>linux-64</device-id>\n"
		"<session-token/><session-id/>\n"
		"<opaque is-for=\"sg\"><tunnel-group>x</tunnel-group></opaque>\n"
		"<auth><username>alice</username>"
		"<password>p&lt;a&gt;s&quot;s&apos;&#65;&#x42;&#xe9;&#x1F600;</password>"
		"<secondary_password><![CDATA[12<34>&]]></secondary_password>"
		"<empty/><nested><deep>x</deep>y</nested></auth>\n"
		"<group-select>eng</group-select>\n"
		"<client-cert-fail/>\n"
		"</config-auth>";
	acxml_req_t r;

	CHECK(px(reply, &r) == 0);
	CHECK(r.type == ACXML_T_AUTH_REPLY);
	CHECK(r.n_fields == 5);
	CHECK(strcmp(field(&r, "username"), "alice") == 0);
	CHECK(strcmp(field(&r, "password"), "p<a>s\"s'AB\xc3\xa9\xf0\x9f\x98\x80") == 0);
	CHECK(strcmp(field(&r, "secondary_password"), "12<34>&") == 0);
	CHECK(strcmp(field(&r, "empty"), "") == 0);
	CHECK(strcmp(field(&r, "nested"), "y") == 0); /* direct text only */
	CHECK(field(&r, "deep") == NULL);
	CHECK(field(&r, "device-id") == NULL);
	CHECK(r.group && strcmp(r.group, "eng") == 0);
	CHECK(r.cert_fail);
	/* the kv view matches */
	CHECK(r.fields[0].name == r.names[0] && r.fields[0].value == r.values[0]);
	acxml_req_free(&r);
	CHECK(r.n_fields == 0);
	/* free twice is fine */
	acxml_req_free(&r);
	acxml_req_free(NULL);

	CHECK(px("<config-auth type=\"logout\"></config-auth>", &r) == 0 && r.type == ACXML_T_LOGOUT);
	acxml_req_free(&r);
	CHECK(px("<config-auth type=\"other\"></config-auth>", &r) == 0 && r.type == ACXML_T_NONE);
	acxml_req_free(&r);
	CHECK(px("<config-auth></config-auth>", &r) == 0 && r.type == ACXML_T_NONE);
	acxml_req_free(&r);
	/* entities in the type attribute */
	CHECK(px("<config-auth type=\"&#105;nit\"/>", &r) == 0 && r.type == ACXML_T_INIT);
	acxml_req_free(&r);
	/* auth elements outside config-auth/auth are not fields */
	CHECK(px("<config-auth type=\"auth-reply\"><x><auth><password>p</password></auth></x></config-auth>", &r) == 0);
	CHECK(r.n_fields == 0);
	acxml_req_free(&r);
	/* two auth blocks: fields from both */
	CHECK(px("<config-auth type=\"auth-reply\"><auth><a>1</a></auth><auth><b>2</b></auth></config-auth>", &r) == 0);
	CHECK(r.n_fields == 2);
	acxml_req_free(&r);
}

static void test_malformed(void)
{
	char buf[20000];
	int i;

	BAD("");
	BAD("   ");
	BAD("hello");
	BAD("<config-auth type=\"init\">");
	BAD("<config-auth type=\"init\"></config-aut>");
	BAD("<config-auth type=\"init\"><a></b></config-auth>");
	BAD("<config-auth/><config-auth/>");
	BAD("<config-auth/>trailing");
	BAD("leading<config-auth/>");
	BAD("<other type=\"init\"/>");
	BAD("<!DOCTYPE x [<!ENTITY a \"b\">]><config-auth/>");
	BAD("<config-auth><!ENTITY a \"b\"></config-auth>");
	BAD("<config-auth type=init/>");
	BAD("<config-auth type=\"init/>");
	BAD("<config-auth type=\"a<b\"/>");
	BAD("<config-auth type/>");
	BAD("<config-auth type=\"a\"x=\"b\"/>");
	BAD("<config-auth type=\"&bogus;\"/>");
	BAD("<config-auth>&amp</config-auth>");
	BAD("<config-auth>&#0;</config-auth>");
	BAD("<config-auth>&#x;</config-auth>");
	BAD("<config-auth>&#xD800;</config-auth>");
	BAD("<config-auth>&#x110000;</config-auth>");
	BAD("<config-auth>&#1;</config-auth>");
	BAD("<config-auth>&#12a;</config-auth>");
	BAD("<config-auth>&#99999999999999999999;</config-auth>");
	BAD("<config-auth><!-- unterminated </config-auth>");
	BAD("<?xml version=\"1.0\"<config-auth/>");
	BAD("<config-auth><![CDATA[x</config-auth>");
	BAD("<![CDATA[x]]><config-auth/>");
	BAD("<1abc/>");
	BAD("<config-auth></>");
	BAD("<config-auth><auth><pass word>x</pass></auth></config-auth>");
	BAD("< config-auth/>");
	BAD("<config-auth");
	/* NUL inside */
	{
		acxml_req_t r;

		CHECK(acxml_parse("<config-auth>\0</config-auth>", 28, &r) == OC_E_PROTO);
		acxml_req_free(&r);
		CHECK(acxml_parse(NULL, 5, &r) == OC_E_PROTO);
		acxml_req_free(&r);
	}
	/* too deep (17 levels) */
	strcpy(buf, "<config-auth>");
	for (i = 0; i < 16; i++)
		strcat(buf, "<a>");
	for (i = 0; i < 16; i++)
		strcat(buf, "</a>");
	strcat(buf, "</config-auth>");
	BAD(buf);
	/* 16 levels are fine */
	{
		acxml_req_t r;

		strcpy(buf, "<config-auth>");
		for (i = 0; i < 15; i++)
			strcat(buf, "<a>");
		for (i = 0; i < 15; i++)
			strcat(buf, "</a>");
		strcat(buf, "</config-auth>");
		CHECK(px(buf, &r) == 0);
		acxml_req_free(&r);
	}
	/* too many fields: 16 ok, 17 not */
	{
		acxml_req_t r;

		strcpy(buf, "<config-auth type=\"auth-reply\"><auth>");
		for (i = 0; i < 16; i++)
			strcat(buf, "<f>v</f>");
		strcat(buf, "</auth></config-auth>");
		CHECK(px(buf, &r) == 0 && r.n_fields == 16);
		acxml_req_free(&r);
		strcpy(buf, "<config-auth type=\"auth-reply\"><auth>");
		for (i = 0; i < 17; i++)
			strcat(buf, "<f>v</f>");
		strcat(buf, "</auth></config-auth>");
		BAD(buf);
	}
	/* value of 4096 ok, 4097 too long */
	{
		acxml_req_t r;
		int n;

		n = sprintf(buf, "<config-auth type=\"auth-reply\"><auth><password>");
		memset(buf + n, 'p', 4096);
		strcpy(buf + n + 4096, "</password></auth></config-auth>");
		CHECK(px(buf, &r) == 0 && strlen(field(&r, "password")) == 4096);
		acxml_req_free(&r);
		memset(buf + n, 'p', 4097);
		strcpy(buf + n + 4097, "</password></auth></config-auth>");
		BAD(buf);
		/* and the group */
		n = sprintf(buf, "<config-auth type=\"init\"><group-select>");
		memset(buf + n, 'g', 5000);
		strcpy(buf + n + 5000, "</group-select></config-auth>");
		BAD(buf);
	}
	/* long names */
	{
		char name[80];

		memset(name, 'n', 65);
		name[65] = '\0';
		snprintf(buf, sizeof(buf), "<config-auth><%s/></config-auth>", name);
		BAD(buf);
		name[64] = '\0';
		snprintf(buf, sizeof(buf), "<config-auth><%s/></config-auth>", name);
		{
			acxml_req_t r;

			CHECK(px(buf, &r) == 0);
			acxml_req_free(&r);
		}
	}
}

static void test_form(void)
{
	acxml_req_t r;
	const char *f;

	f = "username=alice&password=p%40ss+word%21&group_list=eng";
	CHECK(acxml_parse_form(f, strlen(f), &r) == 0);
	CHECK(r.type == ACXML_T_AUTH_REPLY);
	CHECK(r.n_fields == 2);
	CHECK(strcmp(field(&r, "username"), "alice") == 0);
	CHECK(strcmp(field(&r, "password"), "p@ss word!") == 0);
	CHECK(strcmp(r.group, "eng") == 0);
	acxml_req_free(&r);

	f = "group%5flist=ops&&=x&novalue&answer=";
	CHECK(acxml_parse_form(f, strlen(f), &r) == 0);
	CHECK(strcmp(r.group, "ops") == 0);
	CHECK(r.n_fields == 2);
	CHECK(strcmp(field(&r, "novalue"), "") == 0);
	CHECK(strcmp(field(&r, "answer"), "") == 0);
	acxml_req_free(&r);

	CHECK(acxml_parse_form("", 0, &r) == 0 && r.n_fields == 0);
	acxml_req_free(&r);
	CHECK(acxml_parse_form("a=%", 3, &r) == OC_E_PROTO);
	CHECK(r.n_fields == 0);
	acxml_req_free(&r);
	CHECK(acxml_parse_form("a=%4", 4, &r) == OC_E_PROTO);
	acxml_req_free(&r);
	CHECK(acxml_parse_form("a=%zz", 5, &r) == OC_E_PROTO);
	acxml_req_free(&r);
	CHECK(acxml_parse_form("a=%00", 5, &r) == OC_E_PROTO);
	acxml_req_free(&r);
	CHECK(acxml_parse_form("%00=a", 5, &r) == OC_E_PROTO);
	acxml_req_free(&r);
	CHECK(acxml_parse_form("a=b\0c", 5, &r) == OC_E_PROTO);
	acxml_req_free(&r);
	CHECK(acxml_parse_form("ok=1&a=%G1", 10, &r) == OC_E_PROTO);
	CHECK(r.n_fields == 0); /* cleaned on error */
	acxml_req_free(&r);
	CHECK(acxml_parse_form(NULL, 3, &r) == OC_E_PROTO);
	acxml_req_free(&r);
	{
		char buf[20000];
		int i, n = 0;

		for (i = 0; i < 17; i++)
			n += sprintf(buf + n, "f%d=v&", i);
		CHECK(acxml_parse_form(buf, (size_t)n, &r) == OC_E_PROTO);
		acxml_req_free(&r);
		n = sprintf(buf, "password=");
		memset(buf + n, 'x', 4097);
		CHECK(acxml_parse_form(buf, (size_t)n + 4097, &r) == OC_E_PROTO);
		acxml_req_free(&r);
		CHECK(acxml_parse_form(buf, (size_t)n + 4096, &r) == 0);
		acxml_req_free(&r);
	}
}

static void test_acbuf(void)
{
	acbuf_t b;

	acbuf_init(&b, 0);
	acbuf_xml(&b, "a&b<c>d\"e'f\x01g\th\ni");
	CHECK(!b.err && strcmp(b.p, "a&amp;b&lt;c&gt;d&quot;e&apos;fg\th\ni") == 0);
	acbuf_free(&b);

	acbuf_init(&b, 0);
	acbuf_xml(&b, "");
	acbuf_xml(&b, NULL);
	acbuf_puts(&b, NULL);
	CHECK(b.len == 0 && !b.err);
	acbuf_hdrval(&b, "x\r\nInjected: 1\x7f\ty");
	CHECK(strcmp(b.p, "x  Injected: 1  y") == 0);
	acbuf_free(&b);

	/* the bound */
	acbuf_init(&b, 16);
	acbuf_puts(&b, "0123456789");
	CHECK(!b.err);
	acbuf_puts(&b, "012345");
	CHECK(b.err);
	acbuf_puts(&b, "x"); /* sticky */
	CHECK(b.err && b.len == 10);
	acbuf_free(&b);

	acbuf_init(&b, 4096);
	acbuf_printf(&b, "%d-%s", 42, "x");
	CHECK(strcmp(b.p, "42-x") == 0);
	{
		char big[1500];

		memset(big, 'z', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		acbuf_printf(&b, "[%s]", big);
		CHECK(!b.err && b.len == 4 + 1501);
		acbuf_printf(&b, "%s%s%s", big, big, big);
		CHECK(b.err);
	}
	acbuf_free(&b);
	acbuf_free(NULL);
}

static void test_b64(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" }
	};
	char enc[64];
	uint8_t dec[64], cookie[32];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK(acxml_b64_len(strlen(v[i].in)) == strlen(v[i].out));
		CHECK(acxml_b64_encode((const uint8_t *)v[i].in, strlen(v[i].in), enc, sizeof(enc)) == 0);
		CHECK(strcmp(enc, v[i].out) == 0);
		CHECK(acxml_b64_decode(v[i].out, strlen(v[i].out), dec, sizeof(dec), &n) == 0);
		CHECK(n == strlen(v[i].in) && memcmp(dec, v[i].in, n) == 0);
	}
	/* unpadded */
	CHECK(acxml_b64_decode("Zm8", 3, dec, sizeof(dec), &n) == 0 && n == 2);
	CHECK(acxml_b64_decode("Zg", 2, dec, sizeof(dec), &n) == 0 && n == 1);
	/* invalid */
	CHECK(acxml_b64_decode("Z", 1, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode("Zg=", 3, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode("Zg===", 5, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode("Z===", 4, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode("Zm 9", 4, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode("Zm9v\n", 5, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode("Zm-_", 4, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode("Z=g=", 4, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode("Zh==", 4, dec, sizeof(dec), &n) == OC_E_INVAL); /* non-canonical */
	CHECK(acxml_b64_decode("Zm9=", 4, dec, sizeof(dec), &n) == OC_E_INVAL);
	CHECK(acxml_b64_decode(NULL, 4, dec, sizeof(dec), &n) == OC_E_INVAL);
	/* space */
	CHECK(acxml_b64_decode("Zm9vYmFy", 8, dec, 5, &n) == OC_E_NOSPACE);
	CHECK(acxml_b64_decode("Zm9vYmFy", 8, dec, 6, &n) == 0 && n == 6);
	CHECK(acxml_b64_encode((const uint8_t *)"foo", 3, enc, 4) == OC_E_NOSPACE);
	CHECK(acxml_b64_encode((const uint8_t *)"foo", 3, enc, 5) == 0);
	/* a 32-byte cookie round trip, every byte value */
	for (i = 0; i < 32; i++)
		cookie[i] = (uint8_t)(i * 8 + 7);
	CHECK(acxml_b64_encode(cookie, 32, enc, sizeof(enc)) == 0 && strlen(enc) == 44);
	CHECK(acxml_b64_decode(enc, 44, dec, 35, &n) == 0 && n == 32 && memcmp(dec, cookie, 32) == 0);
	CHECK(acxml_b64_decode(enc, 43, dec, 35, &n) == 0 && n == 32); /* unpadded */
	CHECK(acxml_b64_decode(enc, 41, dec, 35, &n) == OC_E_INVAL);
	{
		uint8_t all[256];
		char e[400];

		for (i = 0; i < 256; i++)
			all[i] = (uint8_t)i;
		CHECK(acxml_b64_encode(all, 256, e, sizeof(e)) == 0);
		CHECK(acxml_b64_decode(e, strlen(e), dec, 64, &n) == OC_E_NOSPACE);
		{
			uint8_t d2[300];

			CHECK(acxml_b64_decode(e, strlen(e), d2, sizeof(d2), &n) == 0 && n == 256 &&
			      memcmp(d2, all, 256) == 0);
		}
	}
}

/* random mutations of a valid document never crash */
static void test_fuzz(void)
{
	static const char base[] =
		"<?xml version=\"1.0\"?><config-auth client=\"vpn\" type=\"auth-reply\">"
		"<auth><username>a&amp;b</username><password><![CDATA[x]]></password></auth>"
		"<group-select>g</group-select><!-- c --></config-auth>";
	char buf[sizeof(base)];
	unsigned seed = 99;
	int i, j;

	for (i = 0; i < 100000; i++) {
		acxml_req_t r;
		size_t n = sizeof(base) - 1;

		memcpy(buf, base, sizeof(base));
		for (j = 0; j < 3; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % n] = "<>&;/=\"'!?[]x \0#"[(seed >> 20) % 16];
		}
		seed = seed * 1103515245u + 12345u;
		if (seed & 0x100)
			n = (seed >> 12) % n;
		{
			int ret = acxml_parse(buf, n, &r);

			CHECK(ret == 0 || ret == OC_E_PROTO);
			CHECK(r.n_fields <= ACXML_MAX_FIELDS);
		}
		acxml_req_free(&r);
		{
			int ret = acxml_parse_form(buf, n, &r);

			CHECK(ret == 0 || ret == OC_E_PROTO);
		}
		acxml_req_free(&r);
	}
}

int main(void)
{
	test_init();
	test_reply();
	test_malformed();
	test_form();
	test_acbuf();
	test_b64();
	test_fuzz();
	printf("test-acxml: %d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
