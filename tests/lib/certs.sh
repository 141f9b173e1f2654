# shellcheck shell=bash disable=SC2034
# tests/lib/certs.sh - a throw-away CA and server certificate (openssl).
#
# make_certs DIR [ecdsa|rsa]   (default ecdsa = P-256)
#   writes DIR/ca-cert.pem DIR/ca-key.pem DIR/server-cert.pem DIR/server-key.pem
#   The server cert: CN = $NS_S_IP (or 127.0.0.1 without namespaces),
#   SAN = IP:$NS_S_IP, IP:127.0.0.1, DNS:localhost; EKU serverAuth.
#   Sets CA_CERT, SERVER_CERT, SERVER_KEY and
#   CERT_PIN = pin-sha256:<base64 sha256 of the SubjectPublicKeyInfo>,
#   which is what `openconnect --servercert` accepts.

make_certs() {
	local dir=$1 kind=${2:-ecdsa} ip=${NS_S_IP:-127.0.0.1} keyopt
	mkdir -p "$dir" || t_fail "mkdir $dir"
	case $kind in
	ecdsa) keyopt=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
	rsa) keyopt=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
	*) t_fail "make_certs: unknown key type $kind" ;;
	esac
	local log=$dir/certs.log
	: >"$log"
	openssl genpkey "${keyopt[@]}" -out "$dir/ca-key.pem" >>"$log" 2>&1 &&
	openssl req -x509 -new -key "$dir/ca-key.pem" -out "$dir/ca-cert.pem" \
		-days 2 -subj "/CN=ocmod e2e test CA $$" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >>"$log" 2>&1 &&
	openssl genpkey "${keyopt[@]}" -out "$dir/server-key.pem" >>"$log" 2>&1 &&
	openssl req -new -key "$dir/server-key.pem" -out "$dir/server.csr" \
		-subj "/CN=$ip" >>"$log" 2>&1 || t_fail "certificate generation failed (see $log)"

	cat >"$dir/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$ip,IP:127.0.0.1,DNS:localhost
EOF
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca-cert.pem" \
		-CAkey "$dir/ca-key.pem" -CAcreateserial -days 2 \
		-extfile "$dir/server.ext" -out "$dir/server-cert.pem" >>"$log" 2>&1 ||
		t_fail "server certificate signing failed (see $log)"

	CA_CERT=$dir/ca-cert.pem
	SERVER_CERT=$dir/server-cert.pem
	SERVER_KEY=$dir/server-key.pem
	local b64
	b64=$(openssl x509 -in "$SERVER_CERT" -pubkey -noout |
		openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | openssl base64 -A) || t_fail "cannot compute the cert pin"
	[ -n "$b64" ] || t_fail "empty cert pin"
	CERT_PIN=pin-sha256:$b64
	# sha256 of the whole DER certificate, hex, for rawclient.py --pin
	CERT_SHA256=$(openssl x509 -in "$SERVER_CERT" -outform der |
		openssl dgst -sha256 -r | cut -d' ' -f1)
	chmod 0644 "$dir"/*.pem
	t_info "certs ($kind) in $dir, pin $CERT_PIN"
}
