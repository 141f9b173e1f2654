/*
 * pam_otp_test.c - a PAM module for the test suite (never install it).
 *
 * auth: asks "Verification code:" (PAM_PROMPT_ECHO_OFF) and succeeds when
 * the answer is the fixed code (option code=NNN, default 123456).
 *   info=TEXT    send TEXT as PAM_TEXT_INFO before the prompt
 *   prompt=TEXT  ask TEXT instead of "Verification code:" (underscores
 *                become blanks, as PAM options cannot contain them)
 * account: returns PAM_NEW_AUTHTOK_REQD for the user named by
 *   expired=USER, until that user changed the password in this process's
 *   life (a marker file expired_marker=PATH, if given, records it);
 *   PAM_SUCCESS for everyone else.
 * password (chauthtok): PAM_PRELIM_CHECK succeeds; PAM_UPDATE_AUTHTOK asks
 *   "New password:" and "Retype new password:", fails with an error
 *   message when they differ, else writes expired_marker (if set) and
 *   succeeds.
 *
 * Built by the test suite as a plain shared object (no ocmod headers) and
 * referenced by absolute path in the PAM service files that
 * tests/lib/pam.sh writes for pam_wrapper.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <security/pam_modules.h>
#include <security/pam_appl.h>

#define EXPORT __attribute__((visibility("default")))

struct otp_args {
	const char *code;
	const char *info;
	const char *expired;
	const char *marker;
	char prompt[128];
};

static void otp_parse(int argc, const char **argv, struct otp_args *a)
{
	int i;

	a->code = "123456";
	a->info = NULL;
	a->expired = NULL;
	a->marker = NULL;
	snprintf(a->prompt, sizeof(a->prompt), "%s", "Verification code:");
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "code=", 5) == 0) {
			a->code = argv[i] + 5;
		} else if (strncmp(argv[i], "info=", 5) == 0) {
			a->info = argv[i] + 5;
		} else if (strncmp(argv[i], "expired=", 8) == 0) {
			a->expired = argv[i] + 8;
		} else if (strncmp(argv[i], "expired_marker=", 15) == 0) {
			a->marker = argv[i] + 15;
		} else if (strncmp(argv[i], "prompt=", 7) == 0) {
			char *p;

			snprintf(a->prompt, sizeof(a->prompt), "%s", argv[i] + 7);
			for (p = a->prompt; *p; p++)
				if (*p == '_')
					*p = ' ';
		}
	}
}

/* One message through the application's conversation function. */
static int otp_say(pam_handle_t *ph, int style, const char *text, char **answer)
{
	const struct pam_conv *conv = NULL;
	struct pam_message m = { style, text };
	const struct pam_message *mp = &m;
	struct pam_response *r = NULL;
	int rc;

	if (answer)
		*answer = NULL;
	rc = pam_get_item(ph, PAM_CONV, (const void **)&conv);
	if (rc != PAM_SUCCESS || conv == NULL || conv->conv == NULL)
		return PAM_CONV_ERR;
	rc = conv->conv(1, &mp, &r, conv->appdata_ptr);
	if (rc != PAM_SUCCESS)
		return rc;
	if (r != NULL) {
		if (answer)
			*answer = r->resp;
		else if (r->resp)
			free(r->resp);
		free(r);
	}
	if (answer && *answer == NULL)
		return PAM_CONV_ERR;
	return PAM_SUCCESS;
}

static void otp_wipe_free(char *p)
{
	if (p) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

EXPORT int pam_sm_authenticate(pam_handle_t *ph, int flags, int argc,
                               const char **argv)
{
	struct otp_args a;
	char *code = NULL;
	int rc;

	(void)flags;
	otp_parse(argc, argv, &a);
	if (a.info) {
		rc = otp_say(ph, PAM_TEXT_INFO, a.info, NULL);
		if (rc != PAM_SUCCESS)
			return rc;
	}
	rc = otp_say(ph, PAM_PROMPT_ECHO_OFF, a.prompt, &code);
	if (rc != PAM_SUCCESS)
		return rc;
	rc = strcmp(code, a.code) == 0 ? PAM_SUCCESS : PAM_AUTH_ERR;
	otp_wipe_free(code);
	return rc;
}

EXPORT int pam_sm_setcred(pam_handle_t *ph, int flags, int argc,
                          const char **argv)
{
	(void)ph; (void)flags; (void)argc; (void)argv;
	return PAM_SUCCESS;
}

static int otp_is_expired(pam_handle_t *ph, const struct otp_args *a)
{
	const char *user = NULL;

	if (a->expired == NULL)
		return 0;
	if (pam_get_item(ph, PAM_USER, (const void **)&user) != PAM_SUCCESS ||
	    user == NULL || strcmp(user, a->expired) != 0)
		return 0;
	if (a->marker && access(a->marker, F_OK) == 0)
		return 0; /* already changed */
	return 1;
}

EXPORT int pam_sm_acct_mgmt(pam_handle_t *ph, int flags, int argc,
                            const char **argv)
{
	struct otp_args a;

	(void)flags;
	otp_parse(argc, argv, &a);
	if (otp_is_expired(ph, &a)) {
		otp_say(ph, PAM_ERROR_MSG,
		        "Your password has expired; choose a new one.", NULL);
		return PAM_NEW_AUTHTOK_REQD;
	}
	return PAM_SUCCESS;
}

EXPORT int pam_sm_chauthtok(pam_handle_t *ph, int flags, int argc,
                            const char **argv)
{
	struct otp_args a;
	char *p1 = NULL, *p2 = NULL;
	int rc, fd;

	otp_parse(argc, argv, &a);
	if (flags & PAM_PRELIM_CHECK)
		return PAM_SUCCESS;
	if (!(flags & PAM_UPDATE_AUTHTOK))
		return PAM_SYSTEM_ERR;
	rc = otp_say(ph, PAM_PROMPT_ECHO_OFF, "New password:", &p1);
	if (rc != PAM_SUCCESS)
		goto out;
	rc = otp_say(ph, PAM_PROMPT_ECHO_OFF, "Retype new password:", &p2);
	if (rc != PAM_SUCCESS)
		goto out;
	if (strcmp(p1, p2) != 0 || p1[0] == '\0') {
		otp_say(ph, PAM_ERROR_MSG, "Sorry, passwords do not match.", NULL);
		rc = PAM_AUTHTOK_ERR;
		goto out;
	}
	if (a.marker) {
		fd = open(a.marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = PAM_AUTHTOK_ERR;
			goto out;
		}
		/* the test checks the new password arrived intact */
		if (write(fd, p1, strlen(p1)) < 0)
			rc = PAM_AUTHTOK_ERR;
		close(fd);
	}
	if (rc == PAM_SUCCESS)
		rc = pam_set_item(ph, PAM_AUTHTOK, p1);
out:
	otp_wipe_free(p1);
	otp_wipe_free(p2);
	return rc;
}

EXPORT int pam_sm_open_session(pam_handle_t *ph, int flags, int argc,
                               const char **argv)
{
	(void)ph; (void)flags; (void)argc; (void)argv;
	return PAM_SUCCESS;
}

EXPORT int pam_sm_close_session(pam_handle_t *ph, int flags, int argc,
                                const char **argv)
{
	(void)ph; (void)flags; (void)argc; (void)argv;
	return PAM_SUCCESS;
}
