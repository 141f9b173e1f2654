/*
 * oc-auth.h - the authentication module interface (kind OC_MOD_AUTH).
 *
 * Auth instances live in sec-mod, which never parses client network input
 * itself: transports translate their protocol (AnyConnect XML forms, Xauth)
 * into oc_auth_input_t, and the core runs the configured auth chain
 * (`auth` = all must pass, `enable-auth` = alternatives) over the modules.
 *
 * Threading: every op is called on sec-mod's event-loop thread, except that
 * for modules flagged OC_AUTH_F_BLOCKING the core calls step() on an offload
 * thread (one attempt is never stepped concurrently with itself), so a slow
 * backend never delays other logins.
 */
#ifndef OCMOD_OC_AUTH_H
#define OCMOD_OC_AUTH_H

#include "oc-types.h"
#include "oc-error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Outcome of one authentication step. */
typedef enum oc_auth_status {
	OC_AUTH_OK = 0,        /**< authenticated; get_identity() may be called */
	OC_AUTH_CHALLENGE = 1, /**< more input needed: see oc_auth_output_t */
	OC_AUTH_PENDING = 2,   /**< the module will call done() later */
	OC_AUTH_FAIL = 3,      /**< wrong credentials (counts toward bans) */
	OC_AUTH_ERROR = 4,     /**< backend or internal error (not the user's fault) */
	OC_AUTH_NEXT = 5       /**< this method does not apply (e.g. no certificate,
	                            no Kerberos token): try the next alternative */
} oc_auth_status_t;

/** Auth module flags (oc_auth_ops_t.flags). */
#define OC_AUTH_F_BLOCKING (1u << 0) /**< step() may block: run it off the loop */
#define OC_AUTH_F_PASSWORD (1u << 1) /**< password-type method (plain, pam, radius, ldap) */
#define OC_AUTH_F_CERT     (1u << 2) /**< uses the client certificate */
#define OC_AUTH_F_TOKEN    (1u << 3) /**< uses an opaque token (SPNEGO, bearer):
                                          see "Token methods" below */
#define OC_AUTH_F_ACCT     (1u << 4) /**< implements acct() */
#define OC_AUTH_F_ACCT_BLOCKING (1u << 5) /**< acct() may block (ABI 1.2): run it
                                          on the accounting thread even if
                                          step() does not block */

/*
 * Token methods (OC_AUTH_F_TOKEN), e.g. Kerberos through SPNEGO, where the
 * transport carries opaque tokens in its own protocol (AnyConnect: HTTP
 * `Authorization: Negotiate` / `WWW-Authenticate: Negotiate`, RFC 4559):
 *
 *  - step() of a token method always gets an input, also on the first call:
 *    the token of the client's current query ({NULL,0} if none) and the
 *    query's flags (OC_AUTH_IN_F_*).
 *  - A CHALLENGE without prompts from a token method is a *token challenge*:
 *    the core flags the answer OC_AUTH_ANS_F_TOKEN and the transport asks
 *    the client for a token, sending out->token along (may be empty).
 *  - A token sent with OK (e.g. the final mutual-authentication token) goes
 *    back to the client with the success answer.
 *  - NEXT when the client offers no token and cannot answer a token
 *    challenge, or gave up: the chain moves to the next alternative (e.g. a
 *    password form), as ocserv falls back from GSSAPI.
 */

/** oc_auth_input_t.flags and oc_auth_query_t.flags (ABI 1.2). */
#define OC_AUTH_IN_F_TOKEN_OK (1u << 0) /**< the client can answer a token
                                             challenge (AnyConnect:
                                             X-Support-HTTP-Auth: true) */

/** Maximum prompts in one challenge. */
#define OC_AUTH_MAX_PROMPTS 4

/** Prompt types. */
typedef enum oc_prompt_type {
	OC_PROMPT_TEXT = 1,     /**< echoed input (username, OTP shown) */
	OC_PROMPT_PASSWORD = 2, /**< hidden input */
	OC_PROMPT_HIDDEN = 3    /**< hidden form field carrying @c value back */
} oc_prompt_type_t;

/**
 * One input the module asks for. Field names the AnyConnect transport knows:
 * "username", "password" (first secret), "secondary_password" (later
 * factors); any other name is passed through as a form field.
 */
typedef struct oc_auth_prompt {
	char name[32];   /**< field name, e.g. "password" */
	char label[128]; /**< text shown to the user, e.g. "Password:" */
	uint32_t type;   /**< oc_prompt_type_t */
	char value[128]; /**< preset value (HIDDEN fields) */
} oc_auth_prompt_t;

/** What a module starts an attempt with. All pointers borrowed for the call. */
typedef struct oc_auth_request {
	uint32_t size;                /**< sizeof(oc_auth_request_t) as built by the core */
	const oc_sockaddr_t *peer;    /**< client address (after PROXY protocol) */
	const char *peer_text;        /**< client address as text */
	const char *vhost;            /**< virtual host name, "" for the default */
	const char *user_agent;       /**< client's User-Agent, may be "" */
	const char *username;         /**< already known username (e.g. from an
	                                   earlier method in an AND chain), or NULL */
	const char *group;            /**< group the client selected, or NULL */
	oc_bytes_t peer_cert;         /**< client certificate (DER) or {NULL,0} */
	const char *transport;        /**< transport name, e.g. "cstp", "ike" */
} oc_auth_request_t;

/** Client input for one step. All pointers borrowed for the call. */
typedef struct oc_auth_input {
	uint32_t size;         /**< sizeof(oc_auth_input_t) as built by the core */
	const oc_kv_t *fields; /**< answers, named after the prompts */
	size_t n_fields;
	oc_bytes_t token;      /**< opaque token (SPNEGO), or {NULL,0} */
	uint32_t flags;        /**< OC_AUTH_IN_F_* (ABI 1.2: check size) */
} oc_auth_input_t;

/**
 * What a module returns with CHALLENGE (and optionally with FAIL/OK:
 * a message). Provided by the core, zeroed before each step.
 */
typedef struct oc_auth_output {
	uint32_t size;                                 /**< set by the core */
	char message[512];                             /**< shown to the user (prompt text, PAM message) */
	size_t n_prompts;
	oc_auth_prompt_t prompts[OC_AUTH_MAX_PROMPTS]; /**< inputs requested */
	oc_bytes_t token;      /**< token to send back (module-owned; valid until the
	                            next step or session_free) */
	char log_reason[128];  /**< why it failed, for the log only (never a secret) */
} oc_auth_output_t;

/**
 * Completion of a PENDING step. Call exactly once, on sec-mod's loop thread
 * (use the host's event base), never after cancel() returned.
 * @p out is the same pointer the step received.
 */
typedef void (*oc_auth_done_fn)(void *done_arg, oc_auth_status_t status);

/**
 * The authenticated identity. Filled by get_identity(); pointers stay valid
 * until session_free().
 */
typedef struct oc_identity {
	uint32_t size;               /**< set by the core */
	const char *username;        /**< canonical username */
	const char *const *groups;   /**< groups the user belongs to */
	size_t n_groups;
	const oc_kv_t *attrs;        /**< per-user settings using ocserv per-user
	                                  config keys: "explicit-ipv4", "route",
	                                  "dns", "session-timeout", "idle-timeout",
	                                  "interim-update-secs"... */
	size_t n_attrs;
} oc_identity_t;

/** Accounting events (modules with OC_AUTH_F_ACCT). */
typedef enum oc_acct_type {
	OC_ACCT_START = 1,
	OC_ACCT_INTERIM = 2,
	OC_ACCT_STOP = 3
} oc_acct_type_t;

/** One accounting record. Borrowed for the call. */
typedef struct oc_acct_event {
	uint32_t size;
	uint32_t type;           /**< oc_acct_type_t */
	const char *username;
	const char *session_id;  /**< stable across cookie reconnects */
	const char *peer_text;
	const char *ipv4, *ipv6; /**< assigned addresses or NULL */
	uint64_t bytes_in, bytes_out;
	uint64_t packets_in, packets_out;
	uint64_t duration_s;
	uint32_t stop_reason;    /**< OC_CLOSE_* for STOP */
} oc_acct_event_t;

/** The auth vtable. Optional ops may be NULL. */
typedef struct oc_auth_ops {
	uint32_t flags; /**< OC_AUTH_F_* */

	/** Start an attempt. Required. Return 0 and *sess_r, or a negative code. */
	int (*session_new)(void *inst, const oc_auth_request_t *req, void **sess_r,
	                   oc_error_t *err);

	/**
	 * Advance the attempt. Required. @p in is NULL on the first call
	 * (except for token methods, see above).
	 * Returns CHALLENGE (with prompts in @p out), OK, FAIL, ERROR, NEXT, or
	 * PENDING after which the module calls done(done_arg, status) once.
	 */
	oc_auth_status_t (*step)(void *sess, const oc_auth_input_t *in,
	                         oc_auth_output_t *out, oc_auth_done_fn done,
	                         void *done_arg);

	/** Abandon a PENDING step (client left, timeout). Optional. */
	void (*cancel)(void *sess);

	/** After OK: the identity. Required. */
	int (*get_identity)(void *sess, oc_identity_t *id);

	/** Release the attempt; accepts NULL. Required. */
	void (*session_free)(void *sess);

	/**
	 * Accounting record. Optional (OC_AUTH_F_ACCT). For modules flagged
	 * OC_AUTH_F_BLOCKING or OC_AUTH_F_ACCT_BLOCKING the core calls it on a
	 * dedicated accounting thread (the records of all sessions in order),
	 * concurrently with step() of other attempts; otherwise on sec-mod's
	 * loop.
	 */
	int (*acct)(void *inst, const oc_acct_event_t *ev);

	/* ---- ABI 1.2 ---- */

	/**
	 * The groups this method knows, for `auto-select-group`: call
	 * @p add(arg, name) once per group. Optional. Called on sec-mod's loop
	 * once per configuration generation (start-up, reload), so it may read
	 * a file or the group database but must not wait on the network.
	 */
	int (*list_groups)(void *inst, void (*add)(void *arg, const char *group),
	                   void *arg);
} oc_auth_ops_t;

#ifdef __cplusplus
}
#endif
#endif
