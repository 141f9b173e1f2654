# shellcheck shell=bash disable=SC2034
# tests/lib/pam.sh - real Linux-PAM for the auth/pam tests, through
# pam_wrapper (Debian's libpam-wrapper): a private PAM service directory,
# pam_matrix users (user:password:service, plain text, no system accounts)
# and tests/modules/pam_otp_test.so for a second prompt. Source it after
# common.sh, netns.sh, certs.sh, server.sh and client.sh.
#
#   pam_require            skip (77) when libpam-wrapper is missing; fail
#                          when the module or the test PAM module is not built
#   pam_setup              $PAM_DIR with passdb and the services below
#   pam_service NAME LINE...  write (replace) service NAME
#   pam_vars BINARY        PAM_VARS: the pam_wrapper environment for BINARY
#   pam_server_start       server_start with the pam_wrapper environment
#                          (for the server only, through a wrapper script)
#   pam_client NAME ARGS...   tests/lib/pam.sh's raw AnyConnect client that
#                          answers each form from a list (see pam__client_py)
#
# Users in passdb: alice/alicepass and bob/bobpass (every service below),
# carol/carolpass (service "elsewhere": refused by pam_matrix's account
# check), dave/davepass (ocmod-expired), root/rootpass (a user with a real
# system account, for groups).
# Services:
#   ocmod-test     pam_matrix only (auth, account, password, session)
#   ocmod-otp      pam_matrix password (requisite: a wrong one ends it),
#                  then pam_otp_test's TEXT_INFO $PAM_OTP_INFO and
#                  "Verification code:" (code $PAM_OTP_CODE)
#   ocmod-expired  pam_matrix password; account: dave's password expired
#                  (pam_otp_test expired=dave); password: pam_otp_test asks
#                  "New password:" twice and writes it to $PAM_DIR/changed
#   other          pam_deny

PAM_MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
PAM_WRAPPER_SO=${PAM_WRAPPER_SO:-/usr/lib/$PAM_MULTIARCH/libpam_wrapper.so}
PAM_MATRIX_SO=${PAM_MATRIX_SO:-/usr/lib/$PAM_MULTIARCH/pam_wrapper/pam_matrix.so}
PAM_DENY_SO=/usr/lib/$PAM_MULTIARCH/security/pam_deny.so
PAM_OTP_SO=
PAM_OTP_CODE=OTP-424242
PAM_OTP_INFO=Open-your-token-app
PAM_DIR=

pam_require() {
	[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "pam tests use pam_wrapper and an ocmod test PAM module"
	if [ ! -f "$PAM_WRAPPER_SO" ] || [ ! -f "$PAM_MATRIX_SO" ]; then
		t_skip "libpam-wrapper is not installed (apt-get install libpam-wrapper)"
	fi
	[ -f "${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_pam.so" ] ||
		t_fail "auth/pam module not built: ${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_pam.so"
	PAM_OTP_SO=$top_builddir/tests/modules/.libs/pam_otp_test.so
	[ -f "$PAM_OTP_SO" ] || t_fail "test PAM module not built: $PAM_OTP_SO (make check builds it)"
}

# pam_service NAME LINE...: the PAM service file NAME, one line per arg.
pam_service() {
	local name=$1; shift
	printf '%s\n' "$@" >"$PAM_DIR/services/$name"
}

# pam__clean_stale: remove pam_wrapper's /tmp/pam.X directories whose
# process is gone (a server killed, or a sec-mod that does not run exit
# handlers, leaves its own behind). pam_wrapper does the same lazily.
pam__clean_stale() {
	local d pid
	for d in /tmp/pam.?; do
		[ -f "$d/pid" ] || continue
		pid=$(cat "$d/pid" 2>/dev/null) || continue
		case $pid in ''|*[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] || rm -rf -- "$d"
	done
}

pam_setup() {
	t_on_cleanup pam__clean_stale
	PAM_DIR=$T_DIR/pam
	mkdir -p "$PAM_DIR/services"
	cat >"$PAM_DIR/passdb" <<EOF
alice:alicepass:ocmod-test
bob:bobpass:ocmod-test
carol:carolpass:elsewhere
root:rootpass:ocmod-test
EOF
	# pam_matrix's account check wants the service in the third column:
	# one passdb per service keeps that simple
	sed 's/:ocmod-test$/:ocmod-otp/' "$PAM_DIR/passdb" >"$PAM_DIR/passdb.otp"
	{
		sed 's/:ocmod-test$/:ocmod-expired/' "$PAM_DIR/passdb"
		echo 'dave:davepass:ocmod-expired'
	} >"$PAM_DIR/passdb.expired"
	chmod 0644 "$PAM_DIR"/passdb*
	local m=$PAM_MATRIX_SO t
	pam_service ocmod-test \
		"auth     required $m passdb=$PAM_DIR/passdb" \
		"account  required $m passdb=$PAM_DIR/passdb" \
		"password required $m passdb=$PAM_DIR/passdb" \
		"session  required $m passdb=$PAM_DIR/passdb"
	pam_service ocmod-otp \
		"auth     requisite $m passdb=$PAM_DIR/passdb.otp" \
		"auth     required $PAM_OTP_SO code=$PAM_OTP_CODE info=$PAM_OTP_INFO" \
		"account  required $m passdb=$PAM_DIR/passdb.otp" \
		"password required $m passdb=$PAM_DIR/passdb.otp" \
		"session  required $m passdb=$PAM_DIR/passdb.otp"
	pam_service ocmod-expired \
		"auth     required $m passdb=$PAM_DIR/passdb.expired" \
		"account  required $m passdb=$PAM_DIR/passdb.expired" \
		"account  required $PAM_OTP_SO expired=dave expired_marker=$PAM_DIR/changed" \
		"password required $PAM_OTP_SO expired_marker=$PAM_DIR/changed" \
		"session  required $m passdb=$PAM_DIR/passdb.expired"
	for t in auth account password session; do
		echo "$t required $PAM_DENY_SO"
	done >"$PAM_DIR/services/other"
}

# pam__asan BINARY: is the server built with AddressSanitizer?
pam__asan() {
	local bin=$1
	# libtool wrapper scripts: look at the real binary
	[ -x "$(dirname "$bin")/.libs/lt-ocmod" ] && bin=$(dirname "$bin")/.libs/lt-ocmod
	ldd "$bin" 2>/dev/null | grep -q libasan && return 0
	nm -D "$bin" 2>/dev/null | grep -q __asan_init
}

# pam_vars BINARY: PAM_VARS=(NAME=value...), the environment BINARY needs
# to run under pam_wrapper (for `env "${PAM_VARS[@]}" BINARY ...`).
pam_vars() {
	PAM_VARS=("LD_PRELOAD=$PAM_WRAPPER_SO" PAM_WRAPPER=1 "PAM_WRAPPER_SERVICE_DIR=$PAM_DIR/services")
	if pam__asan "$1"; then
		# pam_wrapper dlopen()s libpam with RTLD_DEEPBIND, which ASan
		# refuses (Debian 12's pam_wrapper 1.1.4 reads the switch as
		# UID_WRAPPER_DISABLE_DEEPBIND, a copy-paste slip; newer ones as
		# PAM_WRAPPER_DISABLE_DEEPBIND); and the preload comes before
		# ASan's runtime
		PAM_VARS+=(PAM_WRAPPER_DISABLE_DEEPBIND=1 UID_WRAPPER_DISABLE_DEEPBIND=1
			"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
	fi
}

# pam_server_start: server_start with pam_wrapper preloaded into the server
# only. pam_wrapper copies the service files into a /tmp/pam.X directory of
# its own in every process it is loaded into (at start-up, and again at the
# first PAM call after a fork), from a small set of names: the test's
# other commands (ss, cat... polled by server_start) must not load it, so
# the variables are set by a wrapper that execs the server, not exported.
pam_server_start() {
	local real=${OCMOD:-$top_builddir/ocmod} w=$T_DIR/ocmod-pam-wrapper
	[ -x "$real" ] || t_fail "server binary not found: OCMOD=$real (build ocmod first)"
	pam_vars "$real"
	{
		printf '#!/bin/sh\nexec env'
		printf " '%s'" "${PAM_VARS[@]}" "$real"
		printf ' "$@"\n'
	} >"$w"
	chmod 0755 "$w"
	OCMOD=$w server_start
}

# pam_modules_conf BLOCK: the module blocks (cstp + BLOCK) for server.sh.
pam_modules_conf() {
	SRV_MODULES_CONF=$'transport cstp { }\n'"$1"
}

# pam__client_py: write the conversation client (once) to $T_DIR.
pam__client_py() {
	PAM_CLIENT_PY=$T_DIR/pamclient.py
	[ -f "$PAM_CLIENT_PY" ] && return 0
	cat >"$PAM_CLIENT_PY" <<'PY'
#!/usr/bin/python3
"""pamclient.py - answer AnyConnect auth forms from a list, optionally
pausing before one of them (a user who takes their time).

  pamclient.py --lib DIR --host H --port P --pin SHA --user U
               --answer A [--answer A...] [--pause-before N --pause S]
               [--timeout S]

Form 1: username = U, first secret field = answers[0]. Form k (k >= 2):
every non-username field = answers[k-1]. Before answering form N (1-based)
the client prints PAUSED=1 and sleeps S seconds on the open connection.
Prints KEY=value lines: RESULT (ok|fail), FORMS (forms answered),
MESSAGES and LABELS (|-separated), ERROR, ELAPSED, PAUSED_AT (seconds
since start when it began to pause)."""
import argparse, re, sys, time
p = argparse.ArgumentParser()
p.add_argument("--lib", required=True)
p.add_argument("--host", required=True)
p.add_argument("--port", type=int, required=True)
p.add_argument("--pin")
p.add_argument("--user", required=True)
p.add_argument("--answer", action="append", default=[])
p.add_argument("--pause-before", type=int, default=0)
p.add_argument("--pause", type=float, default=0)
p.add_argument("--timeout", type=float, default=30)
a = p.parse_args()
sys.path.insert(0, a.lib)
import rawclient as rc  # noqa: E402

t0 = time.monotonic()
jar, messages, labels = {}, [], []
forms, result, error, paused_at = 0, "fail", "", ""
c = rc.Conn(a.host, a.port, a.pin, a.timeout)
body, path = rc.xml_init(a.host, a.port), "/"
try:
    for _ in range(12):
        c.send(rc.xml_request(a.host, a.port, body, path, jar))
        status, headers, data = c.read_response(time.monotonic() + a.timeout + a.pause)
        rc.update_jar(jar, headers)
        text = data.decode("utf-8", "replace")
        messages += [" ".join(x.split()) for x in re.findall(r"<message[^>]*>(.*?)</message>", text, re.S)]
        if jar.get("webvpn") or "<session-token>" in text:
            result = "ok"
            break
        m = re.search(r"<error[^>]*>(.*?)</error>", text, re.S)
        if m:
            error = m.group(1).strip()
        inputs = re.findall(r"<input([^>]*)>", text)
        if status.split(" ")[1:2] != ["200"] or not inputs:
            error = error or status
            break
        fields = {}
        ai = forms if forms < len(a.answer) else None
        for attrs in inputs:
            n = re.search(r'name="([^"]*)"', attrs)
            t = re.search(r'type="([^"]*)"', attrs)
            lb = re.search(r'label="([^"]*)"', attrs)
            if not n or (t and t.group(1) == "hidden"):
                continue
            n = n.group(1)
            if lb:
                labels.append(lb.group(1))
            if n == "username":
                fields[n] = a.user
            elif ai is not None:
                fields[n] = a.answer[ai]
        if ai is None:
            error = "no answer left for form %d" % (forms + 1)
            break
        forms += 1
        if a.pause_before == forms:
            paused_at = "%.2f" % (time.monotonic() - t0)
            print("PAUSED=1", flush=True)
            time.sleep(a.pause)
        m = re.search(r"<opaque[^>]*>.*?</opaque>", text, re.S)
        body = rc.xml_reply(fields, m.group(0) if m else "")
        mm = re.search(r'<form[^>]*action="([^"]*)"', text)
        path = mm.group(1) if mm and mm.group(1).startswith("/") else "/auth"
        if c.eof:
            c.close()
            c = rc.Conn(a.host, a.port, a.pin, a.timeout)
except rc.Closed as e:
    error = error or ("connection closed: %s" % e)
except (OSError, TimeoutError) as e:
    error = error or ("error: %s" % e)
rc.out("RESULT", result)
rc.out("FORMS", forms)
rc.out("MESSAGES", "|".join(messages))
rc.out("LABELS", "|".join(labels))
rc.out("ERROR", error)
rc.out("PAUSED_AT", paused_at)
rc.out("ELAPSED", "%.2f" % (time.monotonic() - t0))
c.close()
sys.exit(0 if result == "ok" else 1)
PY
}

# pam_client NAME [--bg] ARGS...: run pamclient.py in the client namespace
# (bounded). Foreground: imports its KEY=value lines as NAME_KEY and sets
# PAM_RC. --bg: start it in the background (PAM_CLIENT_PID; output in
# $T_DIR/pamclient.NAME.out; read it later with pam_client_result NAME).
pam_client() {
	local name=$1 bg=0; shift
	[ "${1:-}" = --bg ] && { bg=1; shift; }
	pam__client_py
	local f=$T_DIR/pamclient.$name.out
	local cmd=(timeout -k 3 "${PAM_CLIENT_TIMEOUT:-60}" ip netns exec "$NS_C" "$T_PYTHON" "$PAM_CLIENT_PY"
		--lib "$T_LIB_DIR" --host "$NS_S_IP" --port "$SRV_PORT" --pin "$CERT_SHA256" "$@")
	if [ $bg = 1 ]; then
		"${cmd[@]}" >"$f" 2>"$T_DIR/pamclient.$name.log" &
		PAM_CLIENT_PID=$!
		t_register_pid "$PAM_CLIENT_PID"
		return 0
	fi
	"${cmd[@]}" >"$f" 2>"$T_DIR/pamclient.$name.log"
	PAM_RC=$?
	pam_client_result "$name"
}

# pam_client_result NAME: import NAME_KEY variables from its output.
pam_client_result() {
	local name=$1 line key val
	while IFS= read -r line; do
		case $line in [A-Z]*=*) ;; *) continue ;; esac
		key=${line%%=*}
		val=$(eval "printf '%s' ${line#*=}")
		printf -v "${name}_${key}" '%s' "$val"
	done <"$T_DIR/pamclient.$name.out"
}

# pam_client_paused NAME: has NAME reached its pause?
pam_client_paused() { grep -q '^PAUSED=1' "$T_DIR/pamclient.$1.out" 2>/dev/null; }
