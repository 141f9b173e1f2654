#!/bin/bash
# tests/e2e/cert-or-password.sh with the alternatives the other way round:
#   auth = "plain[passwd=...]"
#   enable-auth = "certificate"
# A client that presents a certificate must get in without a password,
# so the core has to try the certificate alternative first for it.
CERT_OR_PW_ORDER=plain-first exec bash "$(dirname "$0")/cert-or-password.sh" "$@"
