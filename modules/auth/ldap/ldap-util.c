/*
 * ldap-util.c - see ldap-util.h.
 */
#include <stdio.h>
#include <string.h>

#include <ldap.h>

#include "ldap-util.h"
#include "../common/authutil.h"

static void set_why(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
}

int ocldap_escape_value(const char *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	size_t i;

	if (out == NULL || cap == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		bool esc = c < 0x20 || c >= 0x7f || c == '*' || c == '(' ||
		           c == ')' || c == '\\';

		if (o + (esc ? 3 : 1) >= cap) {
			out[0] = '\0';
			return -1;
		}
		if (esc) {
			out[o++] = '\\';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0x0f];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return (int)o;
}

bool ocldap_filter_template_ok(const char *tmpl, bool allow_dn, char *why,
                               size_t whylen)
{
	size_t n;
	size_t i;
	int depth = 0;

	if (tmpl == NULL || tmpl[0] == '\0') {
		set_why(why, whylen, "empty filter");
		return false;
	}
	n = strlen(tmpl);
	if (n >= OCLDAP_MAX_FILTER / 2) {
		set_why(why, whylen, "filter too long");
		return false;
	}
	if (tmpl[0] != '(' || tmpl[n - 1] != ')') {
		set_why(why, whylen, "a filter must be enclosed in '(' and ')'");
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tmpl[i];

		if (c < 0x20 || c == 0x7f) {
			set_why(why, whylen, "control character in the filter");
			return false;
		}
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth < 0) {
				set_why(why, whylen, "unbalanced ')' in the filter");
				return false;
			}
			if (depth == 0 && i != n - 1) {
				set_why(why, whylen,
				        "text after the filter's closing ')' (combine "
				        "filters with (&...) or (|...))");
				return false;
			}
		} else if (c == '%') {
			char k = tmpl[i + 1];

			if (k == 'u' || k == '%' || (k == 'd' && allow_dn)) {
				i++;
				continue;
			}
			if (k == 'd')
				set_why(why, whylen,
				        "%d (the user's DN) is only known in "
				        "group-filter");
			else
				set_why(why, whylen,
				        "unknown '%' sequence (use %u for the "
				        "username, %d for the user's DN, %% for '%')");
			return false;
		}
	}
	if (depth != 0) {
		set_why(why, whylen, "unbalanced '(' in the filter");
		return false;
	}
	return true;
}

int ocldap_expand_filter(const char *tmpl, const char *user, const char *dn,
                         char *out, size_t cap)
{
	size_t o = 0;
	const char *p;

	if (out == NULL || cap == 0)
		return -1;
	out[0] = '\0';
	for (p = tmpl; *p != '\0'; p++) {
		const char *v = NULL;
		int r;

		if (*p != '%') {
			if (o + 1 >= cap)
				goto nospace;
			out[o++] = *p;
			continue;
		}
		p++;
		switch (*p) {
		case '%':
			if (o + 1 >= cap)
				goto nospace;
			out[o++] = '%';
			continue;
		case 'u':
			v = user;
			break;
		case 'd':
			v = dn;
			break;
		default:
			out[0] = '\0';
			return -2;
		}
		if (v == NULL) {
			out[0] = '\0';
			return -2;
		}
		r = ocldap_escape_value(v, strlen(v), out + o, cap - o);
		if (r < 0)
			goto nospace;
		o += (size_t)r;
	}
	out[o] = '\0';
	return 0;
nospace:
	out[0] = '\0';
	return -1;
}

bool ocldap_username_ok(const char *u)
{
	return auth_username_ok(u, OCLDAP_MAX_USERNAME);
}

/* Copy a candidate group name, refusing empty, long or unprintable ones. */
static bool copy_name(const char *v, size_t len, char *out, size_t cap)
{
	size_t i;

	if (len == 0 || len >= cap)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

bool ocldap_group_name(const char *val, size_t len, bool whole_dn, char *out,
                       size_t cap)
{
	struct berval bv;
	LDAPDN dn = NULL;
	bool ok = false;

	if (out == NULL || cap == 0)
		return false;
	out[0] = '\0';
	if (val == NULL || len == 0 || memchr(val, '\0', len) != NULL)
		return false;
	if (whole_dn)
		return copy_name(val, len, out, cap);

	bv.bv_val = (char *)val;
	bv.bv_len = len;
	if (ldap_bv2dn(&bv, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    dn == NULL) {
		/* not a DN (a plain group-name attribute): as it is */
		ok = copy_name(val, len, out, cap);
		goto out;
	}
	if (dn[0] == NULL || dn[0][0] == NULL ||
	    (dn[0][0]->la_flags & LDAP_AVA_BINARY) != 0)
		goto out;
	ok = copy_name(dn[0][0]->la_value.bv_val, dn[0][0]->la_value.bv_len,
	               out, cap);
out:
	if (dn != NULL)
		ldap_dnfree(dn);
	return ok;
}

void ocldap_log_safe(const char *in, char *out, size_t cap)
{
	size_t i;
	size_t o = 0;

	if (out == NULL || cap == 0)
		return;
	if (in == NULL)
		in = "";
	for (i = 0; in[i] != '\0'; i++) {
		unsigned char c = (unsigned char)in[i];

		if (o + 1 >= cap) {
			if (cap > 4)
				memcpy(out + cap - 4, "...", 3);
			o = cap - 1;
			break;
		}
		out[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}
