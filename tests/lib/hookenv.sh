# shellcheck shell=bash
# tests/lib/hookenv.sh - a connect/disconnect script that records the
# environment of every call, and checks on what it recorded.
#
# hookenv_install [SHELL]   write $T_DIR/hook.sh, which saves its
#                           environment in $T_DIR/ev/<REASON>.<USERNAME>.env
#                           (SHELL: more lines before its exit 0; $d is the
#                           ev directory), and configure it as the server's
#                           connect-script and disconnect-script
# ev_get REASON USER VAR    VAR in that call's environment (1 if unset)
# ev_is REASON USER VAR VAL fail unless VAR is set to VAL there
# ev_seen REASON USER       did the script run for REASON and USER?

hookenv_install() {
	mkdir -p "$T_DIR/ev"
	{
		printf '#!/bin/sh\nd=%s\n' "$T_DIR/ev"
		# shellcheck disable=SC2016 # the hook's variables, not ours
		printf '%s\n' 'env | LC_ALL=C sort >"$d/$REASON.$USERNAME.tmp" && mv "$d/$REASON.$USERNAME.tmp" "$d/$REASON.$USERNAME.env"'
		[ -z "${1:-}" ] || printf '%s\n' "$1"
		printf 'exit 0\n'
	} >"$T_DIR/hook.sh"
	chmod 0755 "$T_DIR/hook.sh"
	server_conf_add connect-script "$T_DIR/hook.sh"
	server_conf_add disconnect-script "$T_DIR/hook.sh"
}

ev_get() {
	local f=$T_DIR/ev/$1.$2.env
	[ -f "$f" ] || return 1
	grep -q "^$3=" "$f" || return 1
	sed -n "s/^$3=//p" "$f" | head -n1
}
ev_is() {
	local v
	v=$(ev_get "$1" "$2" "$3") || t_fail "$1 script of $2: $3 is not set"
	[ "$v" = "$4" ] || t_fail "$1 script of $2: $3='$v', expected '$4'"
}
ev_seen() { [ -f "$T_DIR/ev/$1.$2.env" ]; }
