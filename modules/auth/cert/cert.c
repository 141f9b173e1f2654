/*
 * cert.c - the "cert" auth module: ocserv's `auth = "certificate"`.
 *
 * The transport (cstp) proves that the client holds the key of the
 * certificate it presented in the TLS handshake and hands the DER over in
 * oc_auth_request_t.peer_cert.  This module decides whether that
 * certificate logs the user in:
 *
 *   - no certificate                 -> OC_AUTH_NEXT (try the next
 *                                       alternative: ocserv's fallback)
 *   - not parseable, not issued by ca-cert, expired or not yet valid,
 *     revoked by the CRL, not for client authentication
 *                                    -> OC_AUTH_FAIL with a log reason
 *   - CRL out of date or unusable    -> OC_AUTH_ERROR (fail closed; not
 *                                       the user's fault)
 *   - no user name in cert-user-oid  -> OC_AUTH_FAIL
 *   - an earlier method fixed a different user -> OC_AUTH_FAIL
 *   - otherwise                      -> OC_AUTH_OK: user from
 *                                       cert-user-oid, groups from every
 *                                       cert-group-oid value
 *
 * ca-cert and crl are read once, in init(); a configuration reload builds
 * a new instance, which reads them again.  step() only parses and verifies
 * X.509 in memory, so it runs on sec-mod's loop (no OC_AUTH_F_BLOCKING).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "ocmod.h"
#include "../common/authutil.h"

#define CERT_MAX_DER (64 * 1024)   /* a client certificate larger than this is refused */
#define CERT_MAX_NAME 255          /* bytes of a user or group name */
#define CERT_MAX_GROUPS 64
#define CERT_MAX_OID_DER 64
#define CERT_DEFAULT_USER_OID "0.9.2342.19200300.100.1.1"

/* DER of 0.9.2342.19200300.100.1.1 (UID); oid.h has no macro for it */
#define CERT_OID_UID "\x09\x92\x26\x89\x93\xF2\x2C\x64\x01\x01"

/** The conf struct the core fills from the option table. */
struct cert_conf {
	char *ca_cert;
	char *crl;
	char *user_oid;
	char *group_oid;
};

static const oc_option_t cert_options[] = {
	{
		.name = "ca-cert",
		.type = OC_OPT_PATH,
		.flags = OC_OPTF_REQUIRED | OC_OPTF_FILE_READABLE,
		.offset = offsetof(struct cert_conf, ca_cert),
		.main_key = "ca-cert",
		.help = "PEM/DER file of the CA certificate(s) that issue client "
			"certificates (with any intermediate CAs)",
	},
	{
		.name = "crl",
		.type = OC_OPT_PATH,
		.flags = OC_OPTF_FILE_READABLE,
		.offset = offsetof(struct cert_conf, crl),
		.main_key = "crl",
		.help = "PEM/DER certificate revocation list(s) of those CAs; "
			"re-read on reload",
	},
	{
		.name = "cert-user-oid",
		.type = OC_OPT_STR,
		.offset = offsetof(struct cert_conf, user_oid),
		.default_value = CERT_DEFAULT_USER_OID,
		.main_key = "cert-user-oid",
		.help = "where the user name is: a subject DN OID (e.g. "
			"0.9.2342.19200300.100.1.1 = UID, 2.5.4.3 = CN) or "
			"SAN(rfc822name)",
	},
	{
		.name = "cert-group-oid",
		.type = OC_OPT_STR,
		.offset = offsetof(struct cert_conf, group_oid),
		.main_key = "cert-group-oid",
		.help = "subject DN OID whose values are the user's groups "
			"(e.g. 2.5.4.11 = OU); unset: no groups",
	},
	{ 0 }
};

/* An OID in DER (content bytes only, no tag/length). */
struct cert_oid {
	unsigned char der[CERT_MAX_OID_DER];
	size_t len;
	char text[64]; /* as configured, for messages */
};

struct cert_inst {
	const oc_host_t *host;
	oc_instance_t *self;
	mbedtls_x509_crt ca;
	mbedtls_x509_crl crl;
	bool have_crl;
	char *ca_path;
	char *crl_path;
	bool user_from_san;      /* SAN(rfc822name) */
	struct cert_oid user_oid;
	bool have_group_oid;
	struct cert_oid group_oid;
};

struct cert_sess {
	struct cert_inst *inst;
	uint8_t *der;             /* copy of the client certificate, or NULL */
	size_t der_len;
	char *known_user;         /* fixed by an earlier method, or NULL */
	bool done;
	bool authenticated;
	char *username;
	char **groups;
	size_t n_groups;
};

/* ---- small helpers ---- */

static void cert_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

/* A log reason; truncation is fine (the core's buffer is 128 bytes). */
static void cert_why(char *why, size_t cap, const char *fmt, ...) OC_PRINTF(3, 4);
static void cert_why(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

/*
 * Encode a dotted-decimal OID ("2.5.4.3") as DER content bytes.
 * Returns false if @p s is not a valid OID.
 */
static bool cert_oid_encode(const char *s, struct cert_oid *o)
{
	uint64_t arcs[32];
	size_t n = 0;
	const char *p = s;
	size_t i;

	memset(o, 0, sizeof(*o));
	if (s == NULL || *s == '\0')
		return false;
	for (;;) {
		uint64_t v = 0;
		size_t digits = 0;

		if (n == sizeof(arcs) / sizeof(arcs[0]))
			return false;
		while (*p >= '0' && *p <= '9') {
			if (digits > 0 && v == 0)
				return false; /* leading zero */
			if (v > (UINT64_MAX - 9) / 10)
				return false;
			v = v * 10 + (uint64_t)(*p - '0');
			p++;
			digits++;
		}
		if (digits == 0)
			return false;
		arcs[n++] = v;
		if (*p == '\0')
			break;
		if (*p != '.')
			return false;
		p++;
	}
	if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
		return false;
	if (arcs[1] > UINT64_MAX - 80)
		return false;
	arcs[1] += arcs[0] * 40;
	for (i = 1; i < n; i++) {
		unsigned char tmp[10];
		size_t k = 0;
		uint64_t v = arcs[i];

		do {
			tmp[k++] = (unsigned char)(v & 0x7f);
			v >>= 7;
		} while (v != 0);
		if (o->len + k > sizeof(o->der))
			return false;
		while (k > 0) {
			k--;
			o->der[o->len++] = (unsigned char)(tmp[k] | (k ? 0x80 : 0));
		}
	}
	cert_copy(o->text, sizeof(o->text), s);
	return true;
}

/* Well-known attribute names accepted instead of their OIDs. */
static const struct {
	const char *name;
	const char *oid;
} cert_oid_names[] = {
	{ "UID", "0.9.2342.19200300.100.1.1" },
	{ "CN", "2.5.4.3" },
	{ "OU", "2.5.4.11" },
	{ "O", "2.5.4.10" },
	{ "emailAddress", "1.2.840.113549.1.9.1" },
	{ "DC", "0.9.2342.19200300.100.1.25" },
	{ "serialNumber", "2.5.4.5" },
};

static bool cert_oid_parse(const char *s, struct cert_oid *o)
{
	size_t i;

	for (i = 0; i < sizeof(cert_oid_names) / sizeof(cert_oid_names[0]); i++) {
		if (strcasecmp(s, cert_oid_names[i].name) == 0) {
			if (!cert_oid_encode(cert_oid_names[i].oid, o))
				return false;
			cert_copy(o->text, sizeof(o->text), s);
			return true;
		}
	}
	return cert_oid_encode(s, o);
}

static bool cert_oid_eq(const mbedtls_asn1_buf *a, const unsigned char *der,
                        size_t len)
{
	return a->p != NULL && a->len == len && memcmp(a->p, der, len) == 0;
}

/* Short name of a DN attribute for messages: "CN", "UID", or the OID. */
static void cert_attr_name(const mbedtls_asn1_buf *oid, char *buf, size_t cap)
{
	static const struct {
		const char *der;
		size_t len;
		const char *name;
	} names[] = {
		{ MBEDTLS_OID_AT_CN, sizeof(MBEDTLS_OID_AT_CN) - 1, "CN" },
		{ CERT_OID_UID, sizeof(CERT_OID_UID) - 1, "UID" },
		{ MBEDTLS_OID_AT_ORG_UNIT, sizeof(MBEDTLS_OID_AT_ORG_UNIT) - 1, "OU" },
		{ MBEDTLS_OID_AT_ORGANIZATION, sizeof(MBEDTLS_OID_AT_ORGANIZATION) - 1, "O" },
		{ MBEDTLS_OID_AT_COUNTRY, sizeof(MBEDTLS_OID_AT_COUNTRY) - 1, "C" },
		{ MBEDTLS_OID_AT_LOCALITY, sizeof(MBEDTLS_OID_AT_LOCALITY) - 1, "L" },
		{ MBEDTLS_OID_AT_STATE, sizeof(MBEDTLS_OID_AT_STATE) - 1, "ST" },
		{ MBEDTLS_OID_AT_SERIAL_NUMBER, sizeof(MBEDTLS_OID_AT_SERIAL_NUMBER) - 1, "serialNumber" },
		{ MBEDTLS_OID_DOMAIN_COMPONENT, sizeof(MBEDTLS_OID_DOMAIN_COMPONENT) - 1, "DC" },
		{ MBEDTLS_OID_PKCS9_EMAIL, sizeof(MBEDTLS_OID_PKCS9_EMAIL) - 1, "emailAddress" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (cert_oid_eq(oid, (const unsigned char *)names[i].der,
		                names[i].len)) {
			cert_copy(buf, cap, names[i].name);
			return;
		}
	}
	if (mbedtls_oid_get_numeric_string(buf, cap, oid) < 0)
		cert_copy(buf, cap, "?");
}

/* Append @p n bytes of @p s to buf, printable ASCII only (others as \xHH). */
static void cert_append_safe(char *buf, size_t cap, const unsigned char *s,
                             size_t n)
{
	size_t l = strlen(buf);
	size_t i;

	for (i = 0; i < n && l + 1 < cap; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf[l++] = (char)c;
		} else {
			if (l + 5 > cap)
				break;
			snprintf(buf + l, cap - l, "\\x%02X", c);
			l += 4;
		}
	}
	buf[l] = '\0';
}

/* "CN=alice,OU=admins,..." (RFC 4514 order) for logs; never fails. */
static void cert_dn_text(const mbedtls_x509_name *dn, char *buf, size_t cap)
{
	const mbedtls_x509_name *v[64];
	size_t n = 0;
	char name[64];

	buf[0] = '\0';
	for (; dn != NULL && n < sizeof(v) / sizeof(v[0]); dn = dn->next)
		if (dn->oid.p != NULL)
			v[n++] = dn;
	while (n > 0) {
		const mbedtls_x509_name *a = v[--n];
		size_t l = strlen(buf);

		cert_attr_name(&a->oid, name, sizeof(name));
		snprintf(buf + l, cap - l, "%s%s=", l ? "," : "", name);
		cert_append_safe(buf, cap, a->val.p, a->val.len);
	}
	if (buf[0] == '\0')
		cert_copy(buf, cap, "(empty subject)");
}

/* The serial number in hex ("0C", "4175..."), as openssl prints it. */
static void cert_serial_text(const mbedtls_x509_crt *crt, char *buf, size_t cap)
{
	const unsigned char *p = crt->serial.p;
	size_t n = crt->serial.len;
	size_t i, l = 0;

	buf[0] = '\0';
	while (n > 1 && p[0] == 0) { /* DER sign padding */
		p++;
		n--;
	}
	for (i = 0; i < n && l + 3 <= cap; i++) {
		snprintf(buf + l, cap - l, "%02X", p[i]);
		l += 2;
	}
	if (i < n && l >= 3) /* truncated */
		memcpy(buf + l - 3, "...", 3);
	if (buf[0] == '\0')
		cert_copy(buf, cap, "?");
}

/* A short label for log reasons: "CN=alice", else the configured user field. */
static void cert_label(const struct cert_inst *ci, const mbedtls_x509_crt *crt,
                       char *buf, size_t cap)
{
	const mbedtls_x509_name *a;
	char serial[44];

	buf[0] = '\0';
	for (a = &crt->subject; a != NULL; a = a->next) {
		if (cert_oid_eq(&a->oid, (const unsigned char *)MBEDTLS_OID_AT_CN,
		                sizeof(MBEDTLS_OID_AT_CN) - 1)) {
			cert_copy(buf, cap, "CN=");
			cert_append_safe(buf, cap, a->val.p,
			                 a->val.len > 48 ? 48 : a->val.len);
			return;
		}
	}
	if (!ci->user_from_san) {
		for (a = &crt->subject; a != NULL; a = a->next) {
			if (cert_oid_eq(&a->oid, ci->user_oid.der,
			                ci->user_oid.len)) {
				cert_attr_name(&a->oid, buf, cap);
				cert_copy(buf + strlen(buf), cap - strlen(buf), "=");
				cert_append_safe(buf, cap, a->val.p,
				                 a->val.len > 48 ? 48 : a->val.len);
				return;
			}
		}
	}
	cert_serial_text(crt, serial, sizeof(serial));
	snprintf(buf, cap, "serial %s", serial);
}

static void cert_time_text(const mbedtls_x509_time *t, char *buf, size_t cap)
{
	snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d UTC", t->year, t->mon,
	         t->day, t->hour, t->min, t->sec);
}

/* Valid UTF-8 without control characters (what we accept as a name). */
static bool cert_name_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || n > CERT_MAX_NAME)
		return false;
	while (i < n) {
		unsigned char c = s[i];
		size_t k, j;
		uint32_t cp, min;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (k >= n - i)
			return false; /* truncated sequence */
		for (j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
			return false; /* overlong, out of range, surrogate, C1 */
		i += k + 1;
	}
	return true;
}

/* String types whose bytes we take as UTF-8 (ASCII subsets included). */
static bool cert_string_tag_ok(int tag)
{
	switch (tag) {
	case MBEDTLS_ASN1_UTF8_STRING:
	case MBEDTLS_ASN1_PRINTABLE_STRING:
	case MBEDTLS_ASN1_IA5_STRING:
	case 0x1a: /* VisibleString */
	case MBEDTLS_ASN1_T61_STRING: /* accepted when it is plain ASCII/UTF-8 */
		return true;
	default:
		return false;
	}
}

static char *cert_dup_value(const oc_host_t *host, const unsigned char *p,
                            size_t n)
{
	char *s = host->zalloc(n + 1);

	if (s != NULL)
		memcpy(s, p, n);
	return s;
}

/* ---- the session ---- */

static void cert_sess_clear_identity(struct cert_sess *s)
{
	const oc_host_t *host = s->inst->host;
	size_t i;

	host->free(s->username);
	s->username = NULL;
	for (i = 0; i < s->n_groups; i++)
		host->free(s->groups[i]);
	host->free(s->groups);
	s->groups = NULL;
	s->n_groups = 0;
}

/*
 * The user name from the certificate into s->username. Returns OC_AUTH_OK,
 * or FAIL/ERROR with @p why set.
 */
static oc_auth_status_t cert_get_user(struct cert_sess *s,
                                      const mbedtls_x509_crt *crt,
                                      const char *label, char *why,
                                      size_t why_len)
{
	struct cert_inst *ci = s->inst;
	const oc_host_t *host = ci->host;
	const unsigned char *val = NULL;
	size_t len = 0;
	bool bad_type = false;

	if (ci->user_from_san) {
		const mbedtls_x509_sequence *san;

		for (san = &crt->subject_alt_names; san != NULL; san = san->next) {
			if (san->buf.p != NULL &&
			    san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 1)) {
				val = san->buf.p;
				len = san->buf.len;
				break;
			}
		}
		if (val == NULL) {
			cert_why(why, why_len,
			         "certificate of %s has no rfc822Name (e-mail) "
			         "subject alternative name", label);
			return OC_AUTH_FAIL;
		}
	} else {
		const mbedtls_x509_name *a;

		for (a = &crt->subject; a != NULL; a = a->next) {
			if (!cert_oid_eq(&a->oid, ci->user_oid.der,
			                 ci->user_oid.len))
				continue;
			if (!cert_string_tag_ok(a->val.tag)) {
				bad_type = true;
				continue;
			}
			val = a->val.p;
			len = a->val.len;
			break;
		}
		if (val == NULL) {
			cert_why(why, why_len,
			         "certificate of %s has no %s%s in its subject",
			         label, bad_type ? "usable string value of " : "",
			         ci->user_oid.text);
			return OC_AUTH_FAIL;
		}
	}
	if (!cert_name_ok(val, len)) {
		cert_why(why, why_len,
		         "certificate of %s: the user name (%s) is empty, too "
		         "long or not printable UTF-8", label,
		         ci->user_from_san ? "SAN rfc822Name" : ci->user_oid.text);
		return OC_AUTH_FAIL;
	}
	s->username = cert_dup_value(host, val, len);
	if (s->username == NULL) {
		cert_copy(why, why_len, "out of memory");
		return OC_AUTH_ERROR;
	}
	return OC_AUTH_OK;
}

/* Every value of cert-group-oid, in certificate order, without duplicates. */
static int cert_get_groups(struct cert_sess *s, const mbedtls_x509_crt *crt,
                           const char *label)
{
	struct cert_inst *ci = s->inst;
	const oc_host_t *host = ci->host;
	const mbedtls_x509_name *a;
	size_t max = 0;
	size_t i;

	if (!ci->have_group_oid)
		return 0;
	for (a = &crt->subject; a != NULL; a = a->next)
		if (cert_oid_eq(&a->oid, ci->group_oid.der, ci->group_oid.len))
			max++;
	if (max == 0)
		return 0;
	if (max > CERT_MAX_GROUPS)
		max = CERT_MAX_GROUPS;
	s->groups = host->zalloc((max + 1) * sizeof(*s->groups));
	if (s->groups == NULL)
		return OC_E_NOMEM;
	for (a = &crt->subject; a != NULL && s->n_groups < max; a = a->next) {
		bool dup = false;

		if (!cert_oid_eq(&a->oid, ci->group_oid.der, ci->group_oid.len))
			continue;
		if (!cert_string_tag_ok(a->val.tag) ||
		    !cert_name_ok(a->val.p, a->val.len)) {
			host->log(ci->self, OC_LOG_WARN,
			          "certificate of %s: a %s value is not a "
			          "printable UTF-8 string; that group is ignored",
			          label, ci->group_oid.text);
			continue;
		}
		for (i = 0; i < s->n_groups; i++)
			if (strlen(s->groups[i]) == a->val.len &&
			    memcmp(s->groups[i], a->val.p, a->val.len) == 0)
				dup = true;
		if (dup)
			continue;
		s->groups[s->n_groups] = cert_dup_value(host, a->val.p, a->val.len);
		if (s->groups[s->n_groups] == NULL)
			return OC_E_NOMEM;
		s->n_groups++;
	}
	return 0;
}

/*
 * Map mbedtls_x509_crt_verify() flags to a status and a reason.
 * Certificate problems are the client's (FAIL); an unusable CRL is the
 * server's (ERROR), and still refuses the login.
 */
static oc_auth_status_t cert_verify_reason(const struct cert_inst *ci,
                                           const mbedtls_x509_crt *crt,
                                           uint32_t flags, const char *label,
                                           char *why, size_t why_len)
{
	char t[40];
	char serial[44];

	if (flags & MBEDTLS_X509_BADCERT_REVOKED) {
		cert_serial_text(crt, serial, sizeof(serial));
		cert_why(why, why_len, "certificate of %s revoked (serial %s)",
		         label, serial);
		return OC_AUTH_FAIL;
	}
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
		cert_why(why, why_len,
		         "certificate of %s not signed by the configured CA",
		         label);
		return OC_AUTH_FAIL;
	}
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
		cert_time_text(&crt->valid_to, t, sizeof(t));
		cert_why(why, why_len, "certificate of %s expired (%s)", label, t);
		return OC_AUTH_FAIL;
	}
	if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
		cert_time_text(&crt->valid_from, t, sizeof(t));
		cert_why(why, why_len, "certificate of %s not valid before %s",
		         label, t);
		return OC_AUTH_FAIL;
	}
	if (flags & (MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
	             MBEDTLS_X509_BADCERT_BAD_KEY)) {
		cert_why(why, why_len,
		         "certificate of %s (or its CA) uses a weak hash or key "
		         "(e.g. SHA-1, RSA < 2048 bits)", label);
		return OC_AUTH_FAIL;
	}
	if (flags & (MBEDTLS_X509_BADCRL_EXPIRED | MBEDTLS_X509_BADCRL_FUTURE)) {
		cert_why(why, why_len,
		         "the CRL %s is out of date (past its next update); "
		         "refresh it and reload", ci->crl_path ? ci->crl_path : "");
		return OC_AUTH_ERROR;
	}
	if (flags & (MBEDTLS_X509_BADCRL_NOT_TRUSTED | MBEDTLS_X509_BADCRL_BAD_MD |
	             MBEDTLS_X509_BADCRL_BAD_PK | MBEDTLS_X509_BADCRL_BAD_KEY)) {
		cert_why(why, why_len,
		         "the CRL %s has a bad or weak signature",
		         ci->crl_path ? ci->crl_path : "");
		return OC_AUTH_ERROR;
	}
	{
		char info[256];
		int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);

		if (n < 0)
			cert_copy(info, sizeof(info), "verification failed");
		info[strcspn(info, "\n")] = '\0';
		cert_why(why, why_len, "certificate of %s not accepted: %s",
		         label, info);
	}
	return OC_AUTH_FAIL;
}

static oc_auth_status_t cert_check(struct cert_sess *s, char *why,
                                   size_t why_len)
{
	struct cert_inst *ci = s->inst;
	const oc_host_t *host = ci->host;
	mbedtls_x509_crt crt;
	char label[96];
	char subj[512];
	char issuer[512];
	uint32_t flags = 0;
	oc_auth_status_t st = OC_AUTH_FAIL;
	int ret;

	mbedtls_x509_crt_init(&crt);
	if (s->der_len > CERT_MAX_DER) {
		cert_why(why, why_len, "client certificate too large (%zu bytes)",
		         s->der_len);
		goto out;
	}
	ret = mbedtls_x509_crt_parse_der(&crt, s->der, s->der_len);
	if (ret != 0) {
		char e[96];

		mbedtls_strerror(ret, e, sizeof(e));
		cert_why(why, why_len, "cannot parse the client certificate: %s", e);
		goto out;
	}
	cert_label(ci, &crt, label, sizeof(label));
	if (host->log_enabled(ci->self, OC_LOG_DEBUG1)) {
		cert_dn_text(&crt.subject, subj, sizeof(subj));
		cert_dn_text(&crt.issuer, issuer, sizeof(issuer));
		host->log(ci->self, OC_LOG_DEBUG1,
		          "client certificate: subject '%s', issuer '%s'", subj,
		          issuer);
	}

	ret = mbedtls_x509_crt_verify(&crt, &ci->ca, ci->have_crl ? &ci->crl : NULL,
	                              NULL, &flags, NULL, NULL);
	if (ret != 0 || flags != 0) {
		if (flags == 0) {
			char e[96];

			mbedtls_strerror(ret, e, sizeof(e));
			cert_why(why, why_len, "certificate of %s: verification "
			         "error: %s", label, e);
			st = OC_AUTH_ERROR;
			goto out;
		}
		st = cert_verify_reason(ci, &crt, flags, label, why, why_len);
		goto out;
	}
	/* the checks the TLS layer makes for a client certificate */
	if (mbedtls_x509_crt_check_extended_key_usage(
		    &crt, MBEDTLS_OID_CLIENT_AUTH,
		    MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0) {
		cert_why(why, why_len, "certificate of %s is not for client "
		         "authentication (extended key usage)", label);
		goto out;
	}
	if (mbedtls_x509_crt_check_key_usage(
		    &crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0) {
		cert_why(why, why_len, "certificate of %s is not for signing "
		         "(key usage lacks digitalSignature)", label);
		goto out;
	}

	st = cert_get_user(s, &crt, label, why, why_len);
	if (st != OC_AUTH_OK)
		goto out;
	if (s->known_user != NULL && strcmp(s->known_user, s->username) != 0) {
		char u[64] = "";

		cert_append_safe(u, sizeof(u), (const unsigned char *)s->username,
		                 strlen(s->username));
		cert_why(why, why_len, "certificate of %s is for user '%s', not "
		         "the user already authenticated", label, u);
		st = OC_AUTH_FAIL;
		goto out;
	}
	if (cert_get_groups(s, &crt, label) < 0) {
		cert_copy(why, why_len, "out of memory");
		st = OC_AUTH_ERROR;
		goto out;
	}
	st = OC_AUTH_OK;
out:
	if (st != OC_AUTH_OK)
		cert_sess_clear_identity(s);
	mbedtls_x509_crt_free(&crt);
	return st;
}

/* ---- module ops ---- */

static void cert_destroy(void *inst)
{
	struct cert_inst *ci = inst;
	const oc_host_t *host = NULL;

	if (ci == NULL)
		return;
	host = ci->host;
	mbedtls_x509_crt_free(&ci->ca);
	mbedtls_x509_crl_free(&ci->crl);
	host->free(ci->ca_path);
	host->free(ci->crl_path);
	host->free(ci);
}

/* Is @p crl issued by (the subject of) one of the trusted CAs? */
static bool cert_crl_has_ca(const struct cert_inst *ci,
                            const mbedtls_x509_crl *crl)
{
	const mbedtls_x509_crt *ca;

	for (ca = &ci->ca; ca != NULL && ca->raw.p != NULL; ca = ca->next)
		if (crl->issuer_raw.len == ca->subject_raw.len &&
		    memcmp(crl->issuer_raw.p, ca->subject_raw.p,
		           crl->issuer_raw.len) == 0)
			return true;
	return false;
}

static int cert_load_crl(struct cert_inst *ci, oc_error_t *err)
{
	const oc_host_t *host = ci->host;
	const mbedtls_x509_crl *c;
	const mbedtls_x509_crl_entry *e;
	char ebuf[128];
	char t[40];
	char issuer[256];
	size_t n_crl = 0;
	size_t n_revoked = 0;
	int ret;

	ret = mbedtls_x509_crl_parse_file(&ci->crl, ci->crl_path);
	if (ret != 0) {
		mbedtls_strerror(ret, ebuf, sizeof(ebuf));
		host->error_set(err, OC_E_INVAL, "cert: cannot load crl %s: %s",
		                ci->crl_path, ebuf);
		return OC_E_INVAL;
	}
	ci->have_crl = true;
	for (c = &ci->crl; c != NULL && c->raw.p != NULL; c = c->next) {
		n_crl++;
		for (e = &c->entry; e != NULL && e->raw.p != NULL; e = e->next)
			n_revoked++;
		cert_dn_text(&c->issuer, issuer, sizeof(issuer));
		if (!cert_crl_has_ca(ci, c))
			host->log(ci->self, OC_LOG_WARN,
			          "crl %s: a CRL issued by '%s' matches no CA in "
			          "ca-cert %s and is not used", ci->crl_path,
			          issuer, ci->ca_path);
		if (mbedtls_x509_time_is_past(&c->next_update)) {
			cert_time_text(&c->next_update, t, sizeof(t));
			host->log(ci->self, OC_LOG_WARN,
			          "crl %s: the CRL of '%s' was due for an update "
			          "on %s; certificate logins fail until it is "
			          "refreshed", ci->crl_path, issuer, t);
		}
	}
	host->log(ci->self, OC_LOG_DEBUG1, "crl %s: %zu CRL(s), %zu revoked "
	          "certificate(s)", ci->crl_path, n_crl, n_revoked);
	return 0;
}

static int cert_init(const oc_host_t *host, oc_instance_t *self,
                     const void *conf, void **inst_r, oc_error_t *err)
{
	const struct cert_conf *c = conf;
	struct cert_inst *ci = NULL;
	const mbedtls_x509_crt *ca;
	char ebuf[128];
	size_t n_ca = 0;
	int ret;

	if (c == NULL || c->ca_cert == NULL || c->ca_cert[0] == '\0') {
		host->error_set(err, OC_E_INVAL, "cert: 'ca-cert' is required");
		return OC_E_INVAL;
	}
	ci = host->zalloc(sizeof(*ci));
	if (ci == NULL) {
		host->error_set(err, OC_E_NOMEM, "cert: out of memory");
		return OC_E_NOMEM;
	}
	ci->host = host;
	ci->self = self;
	mbedtls_x509_crt_init(&ci->ca);
	mbedtls_x509_crl_init(&ci->crl);

	if (c->user_oid != NULL && strcasecmp(c->user_oid, "SAN(rfc822name)") == 0) {
		ci->user_from_san = true;
	} else if (!cert_oid_parse(c->user_oid != NULL && c->user_oid[0] != '\0'
	                               ? c->user_oid : CERT_DEFAULT_USER_OID,
	                           &ci->user_oid)) {
		host->error_set(err, OC_E_INVAL,
		                "cert: cert-user-oid '%s' is not an OID (e.g. "
		                "0.9.2342.19200300.100.1.1 for UID, 2.5.4.3 for "
		                "CN) nor SAN(rfc822name)", c->user_oid);
		ret = OC_E_INVAL;
		goto out;
	}
	if (c->group_oid != NULL && c->group_oid[0] != '\0') {
		if (!cert_oid_parse(c->group_oid, &ci->group_oid)) {
			host->error_set(err, OC_E_INVAL,
			                "cert: cert-group-oid '%s' is not an OID "
			                "(e.g. 2.5.4.11 for OU)", c->group_oid);
			ret = OC_E_INVAL;
			goto out;
		}
		ci->have_group_oid = true;
	}

	ci->ca_path = host->strdup(c->ca_cert);
	if (ci->ca_path == NULL ||
	    (c->crl != NULL && c->crl[0] != '\0' &&
	     (ci->crl_path = host->strdup(c->crl)) == NULL)) {
		host->error_set(err, OC_E_NOMEM, "cert: out of memory");
		ret = OC_E_NOMEM;
		goto out;
	}
	ret = mbedtls_x509_crt_parse_file(&ci->ca, ci->ca_path);
	if (ret != 0) {
		if (ret > 0)
			snprintf(ebuf, sizeof(ebuf), "%d certificate(s) could "
			         "not be parsed", ret);
		else
			mbedtls_strerror(ret, ebuf, sizeof(ebuf));
		host->error_set(err, OC_E_INVAL, "cert: cannot load ca-cert %s: %s",
		                ci->ca_path, ebuf);
		ret = OC_E_INVAL;
		goto out;
	}
	for (ca = &ci->ca; ca != NULL && ca->raw.p != NULL; ca = ca->next) {
		n_ca++;
		if (!ca->ca_istrue) {
			char subj[256];

			cert_dn_text(&ca->subject, subj, sizeof(subj));
			host->log(self, OC_LOG_WARN,
			          "ca-cert %s: '%s' is not a CA certificate "
			          "(basicConstraints CA:FALSE); it is trusted "
			          "only as itself", ci->ca_path, subj);
		}
	}
	if (ci->crl_path != NULL) {
		ret = cert_load_crl(ci, err);
		if (ret < 0)
			goto out;
	}
	host->log(self, OC_LOG_DEBUG1,
	          "ca-cert %s: %zu certificate(s); user from %s%s%s", ci->ca_path,
	          n_ca, ci->user_from_san ? "SAN(rfc822name)" : ci->user_oid.text,
	          ci->have_group_oid ? ", groups from " : "",
	          ci->have_group_oid ? ci->group_oid.text : "");
	*inst_r = ci;
	return 0;
out:
	cert_destroy(ci);
	return ret;
}

static int cert_session_new(void *inst, const oc_auth_request_t *req,
                            void **sess_r, oc_error_t *err)
{
	struct cert_inst *ci = inst;
	const oc_host_t *host = ci->host;
	struct cert_sess *s = NULL;
	oc_bytes_t der = { NULL, 0 };
	const char *known = NULL;

	if (req != NULL && OC_OPS_HAS(oc_auth_request_t, req->size, peer_cert))
		der = req->peer_cert;
	if (req != NULL && OC_OPS_HAS(oc_auth_request_t, req->size, username))
		known = req->username;

	s = host->zalloc(sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->inst = ci;
	if (der.data != NULL && der.len > 0) {
		s->der = host->zalloc(der.len);
		if (s->der == NULL)
			goto nomem;
		memcpy(s->der, der.data, der.len);
		s->der_len = der.len;
	}
	if (known != NULL && (s->known_user = host->strdup(known)) == NULL)
		goto nomem;
	*sess_r = s;
	return 0;
nomem:
	if (s != NULL) {
		host->free(s->der);
		host->free(s);
	}
	host->error_set(err, OC_E_NOMEM, "cert: out of memory");
	return OC_E_NOMEM;
}

static oc_auth_status_t cert_step(void *sess, const oc_auth_input_t *in,
                                  oc_auth_output_t *out, oc_auth_done_fn done,
                                  void *done_arg)
{
	struct cert_sess *s = sess;
	struct cert_inst *ci = s->inst;
	char why[sizeof(out->log_reason)] = "";
	oc_auth_status_t st;

	(void)in;
	(void)done;
	(void)done_arg;

	if (out == NULL || out->size < sizeof(*out)) {
		ci->host->log(ci->self, OC_LOG_ERR,
		              "step: output struct missing or too small");
		return OC_AUTH_ERROR;
	}
	if (s->done) {
		cert_copy(out->log_reason, sizeof(out->log_reason),
		          "step after the attempt ended");
		return OC_AUTH_ERROR;
	}
	s->done = true;
	if (s->der == NULL) {
		cert_copy(out->log_reason, sizeof(out->log_reason),
		          "no client certificate");
		return OC_AUTH_NEXT;
	}
	st = cert_check(s, why, sizeof(why));
	if (st == OC_AUTH_OK) {
		s->authenticated = true;
		ci->host->log(ci->self, OC_LOG_DEBUG1,
		              "certificate accepted for user '%s' (%zu group(s))",
		              s->username, s->n_groups);
	} else {
		cert_copy(out->log_reason, sizeof(out->log_reason), why);
	}
	return st;
}

static int cert_get_identity(void *sess, oc_identity_t *id)
{
	struct cert_sess *s = sess;

	if (s == NULL || !s->authenticated)
		return OC_E_STATE;
	return auth_identity_set(id, s->username, (const char *const *)s->groups,
	                         s->n_groups, NULL, 0);
}

static void cert_session_free(void *sess)
{
	struct cert_sess *s = sess;
	const oc_host_t *host = NULL;

	if (s == NULL)
		return;
	host = s->inst->host;
	cert_sess_clear_identity(s);
	host->free(s->der);
	host->free(s->known_user);
	host->free(s);
}

static const oc_auth_ops_t cert_ops = {
	.flags = OC_AUTH_F_CERT,
	.session_new = cert_session_new,
	.step = cert_step,
	.get_identity = cert_get_identity,
	.session_free = cert_session_free,
};

OC_MODULE_DEFINE(OC_MOD_AUTH, cert_ops,
	.name = "cert",
	.version = "1.0",
	.description = "client certificates checked against ca-cert and crl",
	.flags = OC_MODF_MULTI_INSTANCE,
	.roles = OC_ROLE_SECMOD | OC_ROLE_CHECK,
	.options = cert_options,
	.conf_size = sizeof(struct cert_conf),
	.init = cert_init,
	.destroy = cert_destroy);
