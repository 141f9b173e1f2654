#!/bin/bash
# demo.sh - install what is needed, build ocmod, and run it in the
# foreground on an embedded demo configuration:
#   self-signed CA + server certificate, user "demo" / password "demo",
#   private address pool 192.168.250.0/24, one pushed route, port 4443.
# Everything lives in ./demo-run (removed and recreated on each run).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
run="$top/demo-run"
port=${OCMOD_DEMO_PORT:-4443}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (it installs packages and creates tun devices)" >&2
	exit 1
fi
tools/deps.sh build
apt-get install -y -q --no-install-recommends gnutls-bin openssl >/dev/null
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure
make -j"$(nproc)"

rm -rf "$run"
mkdir -p "$run"
cd "$run"
cat > ca.tmpl <<T
cn = "ocmod demo CA"
ca
cert_signing_key
expiration_days = 365
T
cat > server.tmpl <<T
cn = "$(hostname)"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
encryption_key
expiration_days = 365
T
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile ca-key.pem 2>/dev/null
certtool --generate-self-signed --load-privkey ca-key.pem --template ca.tmpl --outfile ca.pem 2>/dev/null
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile server-key.pem 2>/dev/null
certtool --generate-certificate --load-privkey server-key.pem --load-ca-certificate ca.pem \
	--load-ca-privkey ca-key.pem --template server.tmpl --outfile server-cert.pem 2>/dev/null
chmod 600 ./*-key.pem
printf 'demo:users:%s\n' "$(openssl passwd -6 demo)" > ocpasswd
chmod 600 ocpasswd
cat > ocmod.conf <<C
# ocmod demo configuration (ocserv.conf syntax)
auth = "plain[passwd=$run/ocpasswd]"
tcp-port = $port
server-cert = $run/server-cert.pem
server-key = $run/server-key.pem
ipv4-network = 192.168.250.0
ipv4-netmask = 255.255.255.0
route = 192.168.250.0/255.255.255.0
dns = 192.168.250.1
default-domain = demo.test
banner = "Welcome to the ocmod demo"
device = vpns
mtu = 1400
dpd = 90
keepalive = 300
cookie-timeout = 300
max-clients = 16
max-same-clients = 2
occtl-socket-file = $run/ocmod.socket
pid-file = $run/ocmod.pid
C
cat > modules.conf <<C
module-path = $top/modules/.libs
transport cstp { }
auth plain { }
C
pin=$(certtool --infile server-cert.pem --certificate-info 2>/dev/null | sed -n 's/.*\(pin-sha256:[A-Za-z0-9+/=]*\).*/\1/p' | head -1)
cat <<M

ocmod demo: user "demo", password "demo", pool 192.168.250.0/24, port $port.
Connect from this machine (as root) with:

  echo demo | openconnect --passwd-on-stdin -u demo --servercert $pin https://127.0.0.1:$port

Control it with:  $top/ocmodctl -s $run/ocmod.socket show users
Stop it with Ctrl-C.

M
exec "$top/ocmod" -f -e -c ocmod.conf -M modules.conf
