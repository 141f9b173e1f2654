# shellcheck shell=bash disable=SC2034
# tests/lib/radius.sh - a real FreeRADIUS 3 server for the auth/radius tests,
# inside the server namespace on its loopback, with a self-contained
# configuration in $RAD_DIR (nothing of /etc/freeradius is read). Source it
# after common.sh, netns.sh, certs.sh, server.sh and client.sh.
#
#   radius_require        skip (77) without freeradius (an optional backend);
#                         fail when radcli is installed but the module is
#                         not built
#   radius_setup          write $RAD_DIR: radiusd.conf, users, the radcli
#                         configuration ocmod reads ($RAD_CONF) and its
#                         servers file and dictionary
#   radius_start          start freeradius (our child, foreground, in $NS_S);
#                         wait until it listens on $RAD_AUTH_PORT
#   radius_stop           SIGTERM it, bounded
#   radius_blackhole PORT a UDP socket in $NS_S that reads and drops
#                         everything (a RADIUS server that never answers)
#   radius_radcli_conf FILE AUTH_PORT ACCT_PORT [TIMEOUT RETRIES]
#                         another radcli configuration (e.g. to the black hole)
#   radius_detail_has RE  does the accounting detail file match RE (grep -E)?
#
# Ports: $RAD_AUTH_PORT / $RAD_ACCT_PORT derived from $$ (the namespace is
# private anyway). Shared secret $RAD_SECRET. Users (users file):
#   alice/alicepass   Access-Accept, nothing else
#   bob/bobpass       Framed-IP-Address $RAD_BOB_IP, Framed-IP-Netmask,
#                     two Framed-Route, MS DNS servers, Session-Timeout,
#                     Idle-Timeout, Acct-Interim-Interval 2,
#                     Class "OU=admins;staff"
#   carol/carolpass   Class "engineering" (the plain form)
#   otpuser/otppass   Access-Challenge "$RAD_OTP_MSG" with a State; the
#                     second request must carry that State and $RAD_OTP_CODE
#   slow/slowpass     answered after $RAD_SLOW_S s (an exec of sleep)
#   anyone else       Access-Reject

RAD_DIR=
RAD_PID=
RAD_SECRET=ocmod-radius-test-secret
RAD_AUTH_PORT=$(( 21000 + ($$ % 4000) * 2 ))
RAD_ACCT_PORT=$(( RAD_AUTH_PORT + 1 ))
RAD_BOB_IP=${SRV_POOL_PREFIX:-192.168.87.}200
RAD_OTP_CODE=314159
RAD_OTP_MSG="Enter the code from your token"
RAD_OTP_STATE=0x6f636d6f642d6f74702d31
RAD_SLOW_S=${RAD_SLOW_S:-6}
RAD_CONF=
RAD_BH_PID=

radius_require() {
	[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "the radius tests configure ocmod's auth/radius module"
	local mod=${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_radius.so
	if [ ! -f "$mod" ]; then
		if pkg-config --exists radcli 2>/dev/null; then
			t_fail "auth/radius module not built ($mod) although radcli is installed: re-run configure"
		fi
		t_skip "ocmod was built without radcli (libradcli-dev): no auth/radius module"
	fi
	command -v freeradius >/dev/null 2>&1 || t_skip "freeradius is not installed (apt-get install freeradius)"
	[ -f /etc/radcli/dictionary ] || t_skip "radcli's dictionary /etc/radcli/dictionary is missing"
}

# radius_radcli_conf FILE AUTH_PORT ACCT_PORT [TIMEOUT RETRIES]
radius_radcli_conf() {
	local f=$1 ap=$2 cp=$3 to=${4:-3} re=${5:-1}
	cat >"$f" <<EOF
# radcli configuration for ocmod's auth/radius (written by tests/lib/radius.sh)
authserver 127.0.0.1:$ap
acctserver 127.0.0.1:$cp
servers $RAD_DIR/radcli/servers
dictionary $RAD_DIR/radcli/dictionary
radius_timeout $to
radius_retries $re
EOF
	chmod 0600 "$f"
}

radius_setup() {
	RAD_DIR=$T_DIR/radius
	mkdir -p "$RAD_DIR/log/radacct" "$RAD_DIR/run"
	local S=$RAD_DIR
	cat >"$S/radiusd.conf" <<EOF
# FreeRADIUS 3 for $T_NAME (tests/lib/radius.sh); nothing from /etc/freeradius
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $S/log
raddbdir = $S
radacctdir = \${logdir}/radacct
name = freeradius
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
run_dir = $S/run
db_dir = \${raddbdir}
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/radiusd.pid
max_request_time = 30
cleanup_delay = 2
max_requests = 1024
hostname_lookups = no
log {
	destination = stdout
	auth = yes
	auth_badpass = no
	auth_goodpass = no
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
thread pool {
	start_servers = 4
	max_servers = 8
	min_spare_servers = 2
	max_spare_servers = 8
	max_requests_per_server = 0
}
client lo4 {
	ipaddr = 127.0.0.1
	secret = $RAD_SECRET
	# radcli 1.2 sends no Message-Authenticator (BlastRADIUS)
	require_message_authenticator = no
	nas_type = other
}
modules {
	pap {
	}
	files {
		filename = \${confdir}/users
		acctusersfile = \${confdir}/acct_users
	}
	always ok {
		rcode = ok
	}
	always handled {
		rcode = handled
	}
	always reject {
		rcode = reject
	}
	exec slowdown {
		wait = yes
		program = "/bin/sleep $RAD_SLOW_S"
		input_pairs = request
		shell_escape = yes
		timeout = 30
	}
	detail {
		filename = \${radacctdir}/detail
		permissions = 0644
		header = "%t"
	}
}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $RAD_AUTH_PORT
	}
	listen {
		type = acct
		ipaddr = 127.0.0.1
		port = $RAD_ACCT_PORT
	}
	authorize {
		files
		pap
		if (&User-Name == "slow") {
			slowdown
		}
		if (&User-Name == "otpuser") {
			if (&request:State) {
				# second step: the code replaces the password
				update control {
					&Cleartext-Password := "$RAD_OTP_CODE"
				}
			}
			update control {
				&Auth-Type := OTP
			}
		}
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type OTP {
			pap
			if (!&request:State) {
				update reply {
					&State := $RAD_OTP_STATE
					&Reply-Message := "$RAD_OTP_MSG"
				}
				update control {
					&Response-Packet-Type := Access-Challenge
				}
				handled
			}
			elsif (&request:State != $RAD_OTP_STATE) {
				reject
			}
		}
	}
	preacct {
		files
	}
	accounting {
		detail
		ok
	}
	post-auth {
		ok
		Post-Auth-Type REJECT {
			# FreeRADIUS would copy users-file reply items into the reject
			update {
				&reply: !* ANY
			}
		}
	}
}
EOF
	cat >"$S/users" <<EOF
alice	Cleartext-Password := "alicepass"

bob	Cleartext-Password := "bobpass"
	Service-Type = Framed-User,
	Framed-IP-Address = $RAD_BOB_IP,
	Framed-IP-Netmask = 255.255.255.0,
	Framed-Route = "10.88.0.0/16 0.0.0.0 1",
	Framed-Route = "10.89.0.0/255.255.0.0",
	MS-Primary-DNS-Server = 10.0.0.53,
	MS-Secondary-DNS-Server = 10.0.0.54,
	Session-Timeout = 3600,
	Idle-Timeout = 1800,
	Acct-Interim-Interval = 2,
	Class = "OU=admins;staff"

carol	Cleartext-Password := "carolpass"
	Class = "engineering"

otpuser	Cleartext-Password := "otppass"

slow	Cleartext-Password := "slowpass"

DEFAULT	Auth-Type := Reject
	Reply-Message = "unknown user"
EOF
	: >"$S/acct_users"
	# what ocmod reads: radcli's dictionary plus the vendor dictionaries
	# (MS-*-DNS-Server, RP speed limits), which radcli does not include
	# (not in $S: FreeRADIUS reads a "dictionary" file of its confdir)
	mkdir -p "$S/radcli"
	cat >"$S/radcli/dictionary" <<EOF
\$INCLUDE /etc/radcli/dictionary
\$INCLUDE /etc/radcli/dictionary.microsoft
\$INCLUDE /etc/radcli/dictionary.roaringpenguin
EOF
	printf '127.0.0.1 %s\n' "$RAD_SECRET" >"$S/radcli/servers"
	chmod 0600 "$S/radcli/servers"
	RAD_CONF=$S/radcli/radiusclient.conf
	radius_radcli_conf "$RAD_CONF" "$RAD_AUTH_PORT" "$RAD_ACCT_PORT"
}

# radius__listening: UDP $RAD_AUTH_PORT and $RAD_ACCT_PORT in $NS_S held by RAD_PID?
radius__listening() {
	local p line
	for p in "$RAD_AUTH_PORT" "$RAD_ACCT_PORT"; do
		line=$(ip netns exec "$NS_S" ss -Hlunp "sport = :$p" 2>/dev/null) || return 1
		case $line in *"pid=$RAD_PID,"*) ;; *) return 1 ;; esac
	done
	return 0
}

radius_start() {
	[ -n "$RAD_DIR" ] || t_fail "radius_start: call radius_setup first"
	[ -n "$NS_S" ] || t_fail "radius_start: call ns_pair first"
	# -f: foreground (our child), multi-threaded (unlike -X), -xx: debug log
	ip netns exec "$NS_S" freeradius -f -xx -l stdout -d "$RAD_DIR" -n radiusd \
		</dev/null >"$T_DIR/radius.log" 2>&1 &
	RAD_PID=$!
	t_register_pid "$RAD_PID"
	local rc=0
	wait_until -p "$RAD_PID" 20 radius__listening || rc=$?
	case $rc in
	0) t_info "freeradius pid $RAD_PID on 127.0.0.1:$RAD_AUTH_PORT/$RAD_ACCT_PORT in $NS_S" ;;
	2) t_fail "freeradius exited at start-up: $(grep -v '^[[:space:]]*$' "$T_DIR/radius.log" | tail -n 3 | tr '\n' ' ' | cut -c1-300)" ;;
	*) t_fail "freeradius did not listen on $RAD_AUTH_PORT/$RAD_ACCT_PORT within 20 s" ;;
	esac
}

radius_stop() {
	[ -n "$RAD_PID" ] || return 0
	kill_and_wait "$RAD_PID" TERM 10
	RAD_PID=
}

# radius_blackhole PORT: a UDP "server" on 127.0.0.1:PORT in $NS_S that
# never answers (bounded: it exits after 120 s).
radius_blackhole() {
	local port=$1
	ip netns exec "$NS_S" "$T_PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(1.0)
end = time.monotonic() + 120
n = 0
while time.monotonic() < end:
    try:
        s.recvfrom(4096)
        n += 1
        print("dropped %d" % n, flush=True)
    except socket.timeout:
        pass
' "$port" >"$T_DIR/blackhole.log" 2>&1 &
	RAD_BH_PID=$!
	t_register_pid "$RAD_BH_PID"
	bh_listening() {
		local line
		line=$(ip netns exec "$NS_S" ss -Hlunp "sport = :$port" 2>/dev/null) || return 1
		case $line in *"pid=$RAD_BH_PID,"*) return 0 ;; esac
		return 1
	}
	wait_until -p "$RAD_BH_PID" 10 bh_listening || t_fail "the black-hole UDP socket did not start"
}

# The accounting detail file FreeRADIUS writes (one record a blank-line
# separated block: a time header, then "\tAttribute = value" lines).
radius_detail() { echo "$RAD_DIR/log/radacct/detail"; }

# radius_detail_has ERE: does a line of the detail file match?
radius_detail_has() { grep -qE -- "$1" "$(radius_detail)" 2>/dev/null; }

# radius_modules_conf BLOCK...: the modules.conf blocks (cstp + BLOCK).
radius_modules_conf() {
	SRV_MODULES_CONF=$'transport cstp { }\n'"$1"
}

# radius_acct_records: one line per record of the detail file, fields
# separated by '|': status user session-id in-octets out-octets
# in-gigawords out-gigawords in-packets out-packets session-time
# terminate-cause framed-ip calling-station-id (empty when absent).
radius_acct_records() {
	"$T_PYTHON" - "$(radius_detail)" <<'PY'
import re, sys
keys = ["Acct-Status-Type", "User-Name", "Acct-Session-Id", "Acct-Input-Octets",
        "Acct-Output-Octets", "Acct-Input-Gigawords", "Acct-Output-Gigawords",
        "Acct-Input-Packets", "Acct-Output-Packets", "Acct-Session-Time",
        "Acct-Terminate-Cause", "Framed-IP-Address", "Calling-Station-Id"]
try:
    text = open(sys.argv[1]).read()
except OSError:
    sys.exit(0)
for block in re.split(r"\n\s*\n", text):
    rec = {}
    for line in block.splitlines():
        m = re.match(r"\s+([A-Za-z0-9-]+) = (.*)$", line)
        if m:
            rec[m.group(1)] = m.group(2).strip().strip('"')
    if "Acct-Status-Type" in rec:
        print("|".join(rec.get(k, "") for k in keys))
PY
}
