#!/bin/sh
# test-tun.sh - run test-tun inside a scratch network namespace and check
# the devices it creates with `ip`.  Needs root and netns support; skips
# (77) otherwise.  Never touches the host namespace's interfaces or routes.

if [ "$(id -u)" != 0 ]; then
	echo "# SKIP: needs root"
	exit 77
fi
if ! command -v ip >/dev/null 2>&1 || [ ! -c /dev/net/tun ]; then
	echo "# SKIP: needs iproute2 and /dev/net/tun"
	exit 77
fi

bin=
for b in ./tests/unit/test-tun "$(dirname "$0")/test-tun"; do
	if [ -x "$b" ]; then
		bin=$b
		break
	fi
done
if [ -z "$bin" ]; then
	echo "# test-tun binary not found"
	exit 99
fi

ns=ocmtun$$
tmp=$(mktemp -d) || exit 99
cleanup() {
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! ip netns add "$ns" 2>"$tmp/err"; then
	echo "# SKIP: cannot create a network namespace: $(cat "$tmp/err")"
	exit 77
fi

# The program runs the inspection command while its devices exist.
ip netns exec "$ns" "$bin" "$ns" \
	"ip -n $ns addr show >$tmp/addr; ip -n $ns link show >$tmp/link; ip -n $ns -6 route show >$tmp/route6; ip -n $ns -4 route show >$tmp/route4"
rc=$?

fail=0
n=0
expect() { # file pattern what
	n=$((n + 1))
	if grep -Eq -- "$2" "$tmp/$1"; then
		echo "ok sh$n - $3"
	else
		echo "not ok sh$n - $3"
		fail=1
	fi
}
expect addr 'vpns0:.*<[^>]*POINTOPOINT[^>]*UP[^>]*>.*mtu 1400' 'vpns0 is up, point-to-point, mtu 1400'
expect addr 'inet 192\.168\.200\.1 peer 192\.168\.200\.2/32 .*vpns0' 'vpns0 has 192.168.200.1 peer 192.168.200.2/32'
expect addr 'vpns1:.*mtu 1280' 'vpns1 mtu changed to 1280'
expect addr 'inet 192\.168\.200\.1 peer 192\.168\.200\.3/32 .*vpns1' 'vpns1 has 192.168.200.1 peer 192.168.200.3/32'
expect addr 'other0:.*mtu 1500' 'other0 has the default mtu'
expect route4 '^192\.168\.200\.2 dev vpns0' 'IPv4 peer route on vpns0'
if ip netns exec "$ns" test -e /proc/net/if_inet6; then
	expect addr 'inet6 fd00:c4d::1/128' 'vpns0 has fd00:c4d::1/128'
	expect route6 '^fd00:c4d::2 dev vpns0' 'IPv6 /128 route to the peer'
fi

if [ -n "$VERBOSE" ] || [ $fail != 0 ] || [ $rc != 0 ]; then
	for f in addr link route4 route6; do
		echo "# --- ip $f"
		sed 's/^/# /' "$tmp/$f" 2>/dev/null
	done
fi
[ $rc = 0 ] && [ $fail = 0 ]
