#!/bin/bash
# deps.sh [build|test|all] - install the Debian 12 packages ocmod needs.
#   build: compilers, autotools and the libraries ocmod links with
#   test:  + the real peers the test suite drives (openconnect, iproute2...)
set -euo pipefail
what=${1:-all}
build=(build-essential autoconf automake libtool libtool-bin pkg-config
       libltdl-dev libmbedtls-dev nettle-dev libevent-dev libcrypt-dev liblz4-dev libpam0g-dev
       libldap-dev libradcli-dev libkrb5-dev libseccomp-dev)
test=(openconnect vpnc strongswan-charon strongswan-swanctl libstrongswan-standard-plugins libcharon-extra-plugins libcharon-extauth-plugins
      iproute2 iputils-ping gnutls-bin openssl python3 procps nftables libpam-wrapper
      slapd ldap-utils freeradius krb5-kdc krb5-admin-server krb5-user haproxy
      clang libclang-rt-14-dev)
pkgs=("${build[@]}")
case "$what" in
build) ;;
test|all) pkgs+=("${test[@]}") ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root (it uses apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"
