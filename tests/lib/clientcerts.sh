# shellcheck shell=bash disable=SC2034
# tests/lib/clientcerts.sh - client certificates for the certificate auth
# tests (openssl, like tests/lib/certs.sh; source that one too).
#
# make_client_pki DIR
#   A client CA (separate from the server's CA of make_certs) and a
#   revocation database.  Sets CLIENT_CA_CERT and CLIENT_CRL (DIR/crl.pem,
#   written at once with nothing revoked: make_client_crl rewrites it).
# make_client_cert NAME SUBJECT [CA]
#   DIR/NAME-cert.pem + DIR/NAME-key.pem (EC P-256), issued by the client
#   CA (or CA = "foreign": by a second CA that the server does not trust),
#   SUBJECT in openssl -subj form, e.g. "/O=VPN Test/OU=admins/CN=alice/UID=alice".
#   EKU clientAuth, valid 2 days.
# make_client_users
#   the usual set: alice (UID alice, OU admins), bob (UID bob, OU users),
#   mallory (UID mallory, OU users; to be revoked) and foreign (a cert
#   for UID alice from a CA the server does not trust).
# make_client_crl [NAME...]
#   rewrite CLIENT_CRL (atomically) revoking the certificates of NAMEs;
#   with no NAME an empty CRL.  nextUpdate is 2 days away.
# oc_connect_cert NAME [openconnect args...]
#   oc_connect with NAME's certificate and key and no password at all
#   (stdin is empty and openconnect runs with --non-inter, so a password
#   prompt makes it fail).
# oc_cert_args NAME
#   prints "-c DIR/NAME-cert.pem -k DIR/NAME-key.pem" (for oc_connect USER PASS ...)

CLIENT_PKI_DIR=
CLIENT_CA_CERT=
CLIENT_CRL=

cc__log() { printf '%s\n' "$*" >>"$CLIENT_PKI_DIR/pki.log"; }

# cc__ca NAME CN: a self-signed CA in $CLIENT_PKI_DIR/NAME-ca-{cert,key}.pem
cc__ca() {
	local d=$CLIENT_PKI_DIR name=$1 cn=$2
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$d/$name-ca-key.pem" >>"$d/pki.log" 2>&1 &&
	openssl req -x509 -new -key "$d/$name-ca-key.pem" -out "$d/$name-ca-cert.pem" \
		-days 2 -subj "/O=VPN Test/CN=$cn $$" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >>"$d/pki.log" 2>&1 ||
		t_fail "client CA $name generation failed (see $d/pki.log)"
}

make_client_pki() {
	CLIENT_PKI_DIR=$1
	mkdir -p "$CLIENT_PKI_DIR" || t_fail "mkdir $CLIENT_PKI_DIR"
	: >"$CLIENT_PKI_DIR/pki.log"
	cc__ca client "ocmod e2e client CA"
	cc__ca foreign "ocmod e2e foreign CA"
	: >"$CLIENT_PKI_DIR/index.txt"
	echo 01 >"$CLIENT_PKI_DIR/crlnumber"
	cat >"$CLIENT_PKI_DIR/ca.cnf" <<EOF
[ca]
default_ca = client_ca
[client_ca]
database = $CLIENT_PKI_DIR/index.txt
crlnumber = $CLIENT_PKI_DIR/crlnumber
certificate = $CLIENT_PKI_DIR/client-ca-cert.pem
private_key = $CLIENT_PKI_DIR/client-ca-key.pem
default_md = sha256
default_crl_days = 2
EOF
	CLIENT_CA_CERT=$CLIENT_PKI_DIR/client-ca-cert.pem
	CLIENT_CRL=$CLIENT_PKI_DIR/crl.pem
	# shellcheck disable=SC2119
	make_client_crl
	t_info "client PKI in $CLIENT_PKI_DIR"
}

make_client_cert() {
	local name=$1 subj=$2 ca=${3:-client} d=$CLIENT_PKI_DIR
	[ -n "$d" ] || t_fail "make_client_cert: call make_client_pki first"
	cat >"$d/$name.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EOF
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$d/$name-key.pem" >>"$d/pki.log" 2>&1 &&
	openssl req -new -key "$d/$name-key.pem" -out "$d/$name.csr" \
		-subj "$subj" >>"$d/pki.log" 2>&1 &&
	openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca-ca-cert.pem" \
		-CAkey "$d/$ca-ca-key.pem" -CAcreateserial -days 2 \
		-extfile "$d/$name.ext" -out "$d/$name-cert.pem" >>"$d/pki.log" 2>&1 ||
		t_fail "client certificate $name generation failed (see $d/pki.log)"
	chmod 0644 "$d/$name-cert.pem" "$d/$name-key.pem"
}

make_client_users() {
	make_client_cert alice "/O=VPN Test/OU=admins/CN=alice/UID=alice"
	make_client_cert bob "/O=VPN Test/OU=users/CN=bob/UID=bob"
	make_client_cert mallory "/O=VPN Test/OU=users/CN=mallory/UID=mallory"
	make_client_cert foreign "/O=VPN Test/OU=admins/CN=alice/UID=alice" foreign
}

# shellcheck disable=SC2120
make_client_crl() {
	local d=$CLIENT_PKI_DIR name
	[ -n "$d" ] || t_fail "make_client_crl: call make_client_pki first"
	: >"$d/index.txt"
	for name in "$@"; do
		openssl ca -config "$d/ca.cnf" -revoke "$d/$name-cert.pem" \
			>>"$d/pki.log" 2>&1 || t_fail "cannot revoke $name (see $d/pki.log)"
	done
	openssl ca -config "$d/ca.cnf" -gencrl -out "$d/crl.pem.new" >>"$d/pki.log" 2>&1 ||
		t_fail "CRL generation failed (see $d/pki.log)"
	chmod 0644 "$d/crl.pem.new" "$CLIENT_CA_CERT"
	mv -f "$d/crl.pem.new" "$CLIENT_CRL" || t_fail "cannot install the CRL"
	t_info "CRL written${1:+, revoked: $*}"
}

oc_cert_args() {
	printf '%s\n' -c "$CLIENT_PKI_DIR/$1-cert.pem" -k "$CLIENT_PKI_DIR/$1-key.pem"
}

oc_connect_cert() {
	local name=$1; shift
	oc__new_dir
	: >"$OC_DIR/stdin"
	oc__start "$OC_DIR/stdin" -c "$CLIENT_PKI_DIR/$name-cert.pem" \
		-k "$CLIENT_PKI_DIR/$name-key.pem" "$@" "$SRV_URL"
}
