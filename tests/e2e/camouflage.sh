#!/bin/bash
# camouflage (ocserv 1.2): without the secret as the URL's query the server
# looks like a plain web server: 401 with a Basic realm (camouflage_realm),
# or 404 without a realm; a CONNECT with a bad cookie gets 405.  openconnect
# https://server/?SECRET logs in (the rest of that connection is let
# through); https://server/ does not.
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
. "$T_LIB_DIR/netns.sh"
. "$T_LIB_DIR/certs.sh"
. "$T_LIB_DIR/server.sh"
. "$T_LIB_DIR/client.sh"

t_init camouflage
t_require_basics
ns_pair
make_certs "$T_DIR/certs"
server_conf_add camouflage true
server_conf_add camouflage_secret s3cr3t-w0rd
server_conf_add camouflage_realm "\"Staff only\""
server_start
BASE_URL=$SRV_URL

# http_probe NAME REQUEST...: one request per connection (bytes given as a
# Python string literal); prints the status line and WWW-Authenticate
http_probe() {
	timeout -k 3 30 ip netns exec "$NS_C" "$T_PYTHON" - "$NS_S_IP" "$SRV_PORT" "$@" <<'PY'
import socket, ssl, sys, ast
host, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
for req in sys.argv[3:]:
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=10))
    s.sendall(ast.literal_eval(req))
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except (ConnectionResetError, ssl.SSLError, socket.timeout):
        pass
    s.close()
    head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    auth = [h for h in head if h.lower().startswith("www-authenticate:")]
    print(head[0] + (" | " + auth[0] if auth else ""))
PY
}

init='<?xml version="1.0" encoding="UTF-8"?><config-auth client="vpn" type="init"><version who="vpn">v9</version></config-auth>'
out=$(http_probe \
	"b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'" \
	"b'POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: ${#init}\\r\\n\\r\\n$init'" \
	"b'GET /?wrong HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'" \
	"b'GET /auth HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'" \
	"b'CONNECT /CSCOSSLC/tunnel HTTP/1.1\\r\\nHost: x\\r\\nCookie: webvpn=AAAA\\r\\n\\r\\n'" \
	"b'GET /?s3cr3t-w0rd HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'") || t_fail "probe failed: $out"
expect=$(printf '%s\n' \
	'HTTP/1.1 401 Unauthorized | WWW-Authenticate: Basic realm="Staff only"' \
	'HTTP/1.1 401 Unauthorized | WWW-Authenticate: Basic realm="Staff only"' \
	'HTTP/1.1 401 Unauthorized | WWW-Authenticate: Basic realm="Staff only"' \
	'HTTP/1.1 401 Unauthorized | WWW-Authenticate: Basic realm="Staff only"' \
	'HTTP/1.1 405 Method Not Allowed' \
	'HTTP/1.1 200 OK')
[ "$out" = "$expect" ] || t_fail "answers without the secret: $(echo "$out" | tr '\n' ';')"

# openconnect without the secret fails, with it logs in
oc_authenticate alice alicepass && t_fail "openconnect logged in without the camouflage secret"
SRV_URL="${BASE_URL}?s3cr3t-w0rd"
oc_connect alice alicepass || t_fail "openconnect with ?secret: no tunnel: $(oc_log_hint)"
in_c ping -c1 -W3 -q "${SRV_POOL_PREFIX}1" >/dev/null || t_fail "no ping through the tunnel"
oc_logout || t_fail "openconnect did not exit"
grep -q "s3cr3t-w0rd" "$SRV_LOG" && t_fail "the camouflage secret is in the server log"
server_stop

# without a realm: 404
server_conf_unset camouflage_realm
server_start
out=$(http_probe "b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'" \
	"b'POST /auth HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n'") || t_fail "probe failed: $out"
[ "$out" = "$(printf '%s\n' 'HTTP/1.1 404 Not Found' 'HTTP/1.1 404 Not Found')" ] ||
	t_fail "answers without a realm: $(echo "$out" | tr '\n' ';')"
SRV_URL="${SRV_URL}?s3cr3t-w0rd"
oc_connect bob bobpass || t_fail "bob with ?secret: no tunnel: $(oc_log_hint)"
oc_logout || t_fail "openconnect did not exit"

server_final_check || t_fail "$SRV_CHECK_MSG"
t_pass "plain-web-server answers without the secret; openconnect https://host/?secret logs in"
