#!/bin/bash
# keysign.sh - what a signature by sec-mod costs a worker.
#
#   sudo bench/keysign.sh [BUILD_DIR]      (default: build; run from the tree)
#
# For RSA-2048, RSA-3072, ECDSA P-256 and P-384 server keys:
#  1. in-process: ms per signature with core/keys.c (what sec-mod's
#     threads spend, and what a worker spent when it held the key itself);
#  2. through the server: ocmod in a network namespace, TLS 1.2 handshakes
#     (openssl s_client): 100 one after the other into one worker, then
#     200 from 8 clients at a time into two workers; each worker logs
#     (debug) how long its event loop waited for sec-mod, on average and at
#     most, at its 100th signature.
# Prints a Markdown table.  Everything it starts is stopped at the end
# (KEEP=1 keeps the temporary directory with the server logs).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bld=$(cd "${1:-$top/build}" && pwd) || exit 1
[ "$(id -u)" = 0 ] || { echo "keysign.sh: run as root (network namespaces)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ocmod-keysign.XXXXXX)
ns_s=ocmks$$ ns_c=ocmkc$$ srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	ip netns del "$ns_s" 2>/dev/null
	ip netns del "$ns_c" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT INT TERM

gcc -O2 -std=gnu11 -I"$top/core" -I"$bld" -I"$bld/include/ocmod" -I"$top/include/ocmod" \
	"$top/bench/keysign.c" "$top/core/keys.c" -lmbedcrypto -o "$tmp/keysign" || exit 1
ip netns add "$ns_s" && ip netns add "$ns_c" &&
ip link add veth-s netns "$ns_s" type veth peer name veth-c netns "$ns_c" &&
ip -n "$ns_s" addr add 172.30.99.1/24 dev veth-s && ip -n "$ns_c" addr add 172.30.99.2/24 dev veth-c &&
ip -n "$ns_s" link set veth-s up && ip -n "$ns_c" link set veth-c up &&
ip -n "$ns_s" link set lo up || exit 1

gen() { # gen NAME OPENSSL-KEY-ARGS...
	local n=$1; shift
	openssl req -x509 -newkey "$@" -nodes -keyout "$tmp/$n.key" -out "$tmp/$n.crt" \
		-days 2 -subj /CN=bench >/dev/null 2>&1
}
gen rsa2048 rsa:2048
gen rsa3072 rsa:3072
gen p256 ec -pkeyopt ec_paramgen_curve:P-256
gen p384 ec -pkeyopt ec_paramgen_curve:P-384
printf 'x:*:%s\n' "$(openssl passwd -6 x)" >"$tmp/passwd"
chmod 0755 "$tmp"; chmod 0644 "$tmp"/*.key "$tmp"/*.crt "$tmp/passwd"

handshake() { # one TLS 1.2 handshake, bounded
	timeout 10 ip netns exec "$ns_c" openssl s_client -connect 172.30.99.1:14443 -tls1_2 \
		-servername bench </dev/null >/dev/null 2>&1
}

echo "| key | in-process ms/signature | worker waits, sequential: mean / max ms | worker waits, 8 concurrent clients: mean / max ms |"
echo "|---|---|---|---|"
for k in ${KEYS:-rsa2048 rsa3072 p256 p384}; do
	inproc=$("$tmp/keysign" "$tmp/$k.key" 100 | awk '{ print $5 }')
	res=()
	for mode in seq par; do
		cat >"$tmp/s.conf" <<EOC
auth = "plain[passwd=$tmp/passwd]"
tcp-port = 14443
server-cert = $tmp/$k.crt
server-key = $tmp/$k.key
occtl-socket-file = $tmp/occtl.sock
run-as-user = nobody
ipv4-network = 192.168.99.0/24
workers = $( [ "$mode" = seq ] && echo 1 || echo 2 )
isolate-workers = true
max-ban-score = 0
EOC
		printf 'module-path = %s\ntransport cstp { }\nauth plain { }\n' "$bld/modules/.libs" >"$tmp/m.conf"
		ip netns exec "$ns_s" "$bld/ocmod" -f -c "$tmp/s.conf" -M "$tmp/m.conf" --log-stderr -d 3 \
			>"$tmp/$k.$mode.log" 2>&1 &
		srv=$!
		for i in $(seq 100); do
			[ "$(grep -c 'server key held by sec-mod' "$tmp/$k.$mode.log")" -ge \
				"$( [ "$mode" = seq ] && echo 1 || echo 2 )" ] && break
			sleep 0.1
		done
		if [ "$mode" = seq ]; then
			for i in $(seq 100); do handshake; done
		else
			for j in $(seq 8); do (for i in $(seq 25); do handshake; done) & done
			wait $(jobs -p | grep -vx "$srv") 2>/dev/null
		fi
		kill "$srv"; wait "$srv" 2>/dev/null; srv=
		line=$(grep "100 signatures made by sec-mod" "$tmp/$k.$mode.log" |
			sed 's/.*: \([0-9.]*\) ms on average, \([0-9.]*\) ms at most.*/\1 \/ \2/' | paste -sd';')
		res+=("${line:-n/a}")
	done
	echo "| $k | $inproc | ${res[0]} | ${res[1]} |"
done
echo
echo "(load average during the run: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs)"
