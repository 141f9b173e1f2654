# shellcheck shell=bash disable=SC2034
# tests/lib/swan.sh - strongSwan's charon as an IKEv1 XAuth client in the
# client namespace, with ESP in userspace (kernel-libipsec: a tun device
# "ipsec0", UDP encapsulation forced), driven by swanctl over a private
# vici socket.  charon writes its pid file to a fixed /run path, so it runs
# in its own mount namespace with a private tmpfs on /run (nothing of the
# host's /run is touched).
#
# swan_start            start charon (our background child); SWAN_PID.
#                       (swan_charon NS: charon with $SWAN_DIR/strongswan.conf
#                       in namespace NS, for a caller's own configuration)
#                       SWAN_LOAD_EXTRA: more charon plugins (e.g. openssl,
#                       for 3DES; swan_require_plugin checks it is there)
# swan_conn NAME ...    write a connection; options as KEY=VALUE:
#                       auth=hybrid|psk  aggressive=yes|no  user=  pass=
#                       group= psk= proposals= esp= ca=FILE (hybrid)
#                       pull=yes|no (no: wait for the server's mode config SET)
#                       ike_rekey=  ike_over=  child_rekey=  child_life=
#                       (swanctl times; default: no rekeying)
# swan_up NAME          swanctl --initiate (bounded); 0 when the child SA is up
# swan_vip              the virtual IP charon installed (SWAN_VIP)
# swan_stop             terminate (SIGTERM, bounded)
#
# SWAN_DIR holds strongswan.conf, swanctl.conf, charon.log.

SWAN_DIR=
SWAN_PID=
SWAN_CONNS=
SWAN_SECRETS=

swan_require() {
	t_require_cmd swanctl unshare
	[ -x /usr/lib/ipsec/charon ] || t_skip "strongSwan charon is not installed"
	local p
	for p in kernel-libipsec xauth-generic unity vici; do
		[ -f "/usr/lib/ipsec/plugins/libstrongswan-$p.so" ] ||
			t_skip "strongSwan plugin $p is not installed"
	done
}

# swan_require_plugin NAME...: skip without these charon plugins
swan_require_plugin() {
	local p
	for p in "$@"; do
		[ -f "/usr/lib/ipsec/plugins/libstrongswan-$p.so" ] ||
			t_skip "strongSwan plugin $p is not installed"
	done
}

swan_start() {
	SWAN_DIR=$T_DIR/swan
	mkdir -p "$SWAN_DIR"
	cat >"$SWAN_DIR/strongswan.conf" <<EOF
swanctl {
	load = random nonce pem pkcs1 pkcs8 x509 pubkey gmp sha1 sha2 md5 aes hmac
}
charon {
	load_modular = no
	load = random nonce aes sha1 sha2 md5 hmac pem pkcs1 pkcs8 x509 pubkey gmp kernel-libipsec kernel-netlink socket-default vici xauth-generic unity resolve${SWAN_LOAD_EXTRA:+ $SWAN_LOAD_EXTRA}
	install_virtual_ip = yes
	cisco_unity = yes
	retransmit_tries = 3
	retransmit_timeout = 2.0
	fragment_size = ${SWAN_FRAG:-1280}
	filelog {
		log {
			path = $SWAN_DIR/charon.log
			default = 1
			ike = 2
			cfg = 2
			net = 1
			time_format = %T
			flush_line = yes
		}
	}
	plugins {
		vici {
			socket = unix://$SWAN_DIR/charon.vici
		}
		kernel-libipsec {
			allow_peer_ts = yes
		}
		resolve {
			file = $SWAN_DIR/resolv.conf
		}
	}
}
EOF
	: >"$SWAN_DIR/resolv.conf"
	swan_charon "$NS_C"
	SWAN_CONNS=
	SWAN_SECRETS=
}

# swan_charon NS: charon with $SWAN_DIR/strongswan.conf (which must put
# its vici socket at $SWAN_DIR/charon.vici) in namespace NS, in a private
# mount namespace with a tmpfs on /run; our background child, SWAN_PID;
# waits (bounded) for the vici socket.  Also used by bench/ike.sh.
swan_charon() {
	STRONGSWAN_CONF=$SWAN_DIR/strongswan.conf ip netns exec "$1" \
		unshare -m --propagation private sh -c \
		'mount -t tmpfs -o size=1m,mode=0755 ocm-run /run && exec /usr/lib/ipsec/charon' \
		</dev/null >"$SWAN_DIR/charon.out" 2>&1 &
	SWAN_PID=$!
	t_register_pid "$SWAN_PID"
	wait_until -p "$SWAN_PID" 15 test -S "$SWAN_DIR/charon.vici" ||
		t_fail "charon did not start: $(tail -n 3 "$SWAN_DIR/charon.out" "$SWAN_DIR/charon.log" 2>/dev/null | tr '\n' ' ')"
}

# swanctl_ COMMAND [ARGS...]: swanctl against our charon (the command
# must come first)
swanctl_() {
	local cmd=$1; shift
	STRONGSWAN_CONF=$SWAN_DIR/strongswan.conf ip netns exec "$NS_C" timeout 30 \
		swanctl "$cmd" --uri "unix://$SWAN_DIR/charon.vici" "$@"
}

# swan_conn NAME KEY=VALUE...
swan_conn() {
	local name=$1; shift
	local auth=psk aggressive=no user=alice pass=alicepass group=$IKE_GROUP psk=$IKE_PSK
	local proposals=aes256-sha1-modp1024,aes128-sha256-modp2048 esp=aes256-sha1,aes128-sha256
	local ca=$CA_CERT pull=yes ike_rekey=0 ike_over= child_rekey=0 child_life=
	local kv
	for kv in "$@"; do
		case $kv in
		auth=*) auth=${kv#*=} ;;
		aggressive=*) aggressive=${kv#*=} ;;
		user=*) user=${kv#*=} ;;
		pass=*) pass=${kv#*=} ;;
		group=*) group=${kv#*=} ;;
		psk=*) psk=${kv#*=} ;;
		proposals=*) proposals=${kv#*=} ;;
		esp=*) esp=${kv#*=} ;;
		ca=*) ca=${kv#*=} ;;
		pull=*) pull=${kv#*=} ;;
		ike_rekey=*) ike_rekey=${kv#*=} ;;
		ike_over=*) ike_over=${kv#*=} ;;
		child_rekey=*) child_rekey=${kv#*=} ;;
		child_life=*) child_life=${kv#*=} ;;
		*) t_fail "swan_conn: unknown option $kv" ;;
		esac
	done
	local locals
	if [ "$auth" = hybrid ]; then
		cp "$ca" "$SWAN_DIR/ca-$name.pem"
		locals="
		local {
			auth = xauth
			xauth_id = $user
		}
		remote {
			auth = pubkey
			cacerts = $SWAN_DIR/ca-$name.pem
		}"
	else
		locals="
		local {
			auth = psk
			id = keyid:$group
		}
		local-xauth {
			auth = xauth
			xauth_id = $user
		}
		remote {
			auth = psk
		}"
	fi
	SWAN_CONNS+="
	$name {
		version = 1
		aggressive = $aggressive
		remote_addrs = $NS_S_IP
		vips = 0.0.0.0
		encap = yes
		pull = $pull
		fragmentation = yes
		dpd_delay = 0
		rekey_time = $ike_rekey
		rand_time = 0${ike_over:+
		over_time = $ike_over}
		proposals = $proposals
		$locals
		children {
			$name {
				remote_ts = 0.0.0.0/0
				esp_proposals = $esp
				start_action = none
				rekey_time = $child_rekey
				rand_time = 0${child_life:+
				life_time = $child_life}
			}
		}
	}"
	SWAN_SECRETS+="
	xauth-$name {
		id = $user
		secret = \"$pass\"
	}"
	[ "$auth" = psk ] && SWAN_SECRETS+="
	ike-$name {
		id = keyid:$group
		secret = \"$psk\"
	}"
	{
		printf 'connections {%s\n}\n' "$SWAN_CONNS"
		printf 'secrets {%s\n}\n' "$SWAN_SECRETS"
	} >"$SWAN_DIR/swanctl.conf"
	swanctl_ --load-all --noprompt --file "$SWAN_DIR/swanctl.conf" >"$SWAN_DIR/load.log" 2>&1 ||
		t_fail "swanctl --load-all failed: $(tail -n 2 "$SWAN_DIR/load.log" | tr '\n' ' ')"
}

# swan_up NAME: initiate the child (and its IKE SA); 0 when established
swan_up() {
	swanctl_ --initiate --child "$1" --timeout 25 >"$SWAN_DIR/initiate-$1.log" 2>&1
}

swan_vip() {
	SWAN_VIP=$(swanctl_ --list-sas 2>/dev/null | sed -n 's/.*local  *.*\(192\.168\.[0-9.]*\)\/32.*/\1/p' | head -n1)
	[ -n "$SWAN_VIP" ] || SWAN_VIP=$(ip -n "$NS_C" -4 -o addr show 2>/dev/null |
		awk -v p="$SRV_POOL_PREFIX" '{ for (i = 1; i < NF; i++) if ($i == "inet" && index($(i+1), p) == 1) { a = $(i+1); sub(/\/.*/, "", a); print a; exit } }')
	[ -n "$SWAN_VIP" ]
}

swan_down() {
	swanctl_ --terminate --ike "$1" --timeout 10 >"$SWAN_DIR/terminate-$1.log" 2>&1
}

swan_stop() {
	[ -n "$SWAN_PID" ] || return 0
	kill_and_wait "$SWAN_PID" TERM 10
	SWAN_PID=
}

swan_log_hint() {
	grep -E "error|fail|received|sending" "$SWAN_DIR/charon.log" 2>/dev/null | tail -n 2 | cut -c1-200 | tr '\n' ' '
}
