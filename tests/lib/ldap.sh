# shellcheck shell=bash disable=SC2034
# tests/lib/ldap.sh - a real OpenLDAP slapd for the auth/ldap tests, run in
# the server namespace ($NS_S) on 127.0.0.1 with a private slapd.conf, mdb
# database and log under $T_DIR/ldap; nothing in /etc/ldap or /var/lib/ldap
# is used or changed.  Source it after common.sh, netns.sh, certs.sh,
# server.sh and client.sh; call ns_pair and make_certs first (slapd serves
# TLS with the test CA's server certificate, SAN IP:127.0.0.1).
#
#   ldap_require         skip (77) without slapd/ldap-utils; fail when the
#                        module is not built
#   ldap_setup           write slapd.conf and the data (slapadd)
#   ldap_start           start slapd (LDAP_PID), wait for a real answer,
#                        then add the groups online (memberOf is kept by the
#                        memberof overlay)
#   ldap_stop            stop it (SIGCONT first: it may be stopped)
#   ldap_pause/_resume   SIGSTOP / SIGCONT (a server that stops answering)
#   ldap_count PATTERN   how many slapd log lines match (grep -E)
#   ldap_search ARGS...  ldapsearch as the directory manager
#
# Ports (private to the namespace, still per test run): LDAP_PORT (ldap://,
# StartTLS) and LDAPS_PORT (ldaps://), derived from $$.
#
# Directory (base dc=vpn,dc=test):
#   uid=alice,ou=people  alicepass  groups vpnusers; posixGroup engineers (memberUid)
#   uid=bob,ou=people    bobpass    groups vpnusers, admins
#   uid=carol,ou=people  carolpass  no group
#   cn=reader,dc=vpn,dc=test  readerpass  the service account (searches)
# ACLs: only the reader (and the users themselves) may search people and
# groups; anonymous may only bind.  userPassword is never readable.

LDAP_BASE=dc=vpn,dc=test
LDAP_PEOPLE=ou=people,$LDAP_BASE
LDAP_GROUPS=ou=groups,$LDAP_BASE
LDAP_READER=cn=reader,$LDAP_BASE
LDAP_READER_PW=readerpass
LDAP_ADMIN=cn=admin,$LDAP_BASE
LDAP_ADMIN_PW=adminpw
LDAP_DIR=
LDAP_PID=
LDAP_PORT=$(( 21000 + ($$ % 4000) * 2 ))
LDAPS_PORT=$(( LDAP_PORT + 1 ))
LDAP_URI=ldap://127.0.0.1:$LDAP_PORT
LDAPS_URI=ldaps://127.0.0.1:$LDAPS_PORT

ldap_require() {
	[ "${TEST_SERVER:-ocmod}" = ocmod ] || t_skip "the ldap module is ocmod's"
	local c
	for c in slapd slapadd slappasswd slaptest; do
		[ -x "/usr/sbin/$c" ] || command -v "$c" >/dev/null 2>&1 ||
			t_skip "slapd is not installed (apt-get install slapd ldap-utils)"
	done
	for c in ldapsearch ldapadd; do
		command -v "$c" >/dev/null 2>&1 ||
			t_skip "ldap-utils is not installed (apt-get install ldap-utils)"
	done
	[ -f "${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_ldap.so" ] ||
		t_fail "auth/ldap module not built: ${OCMOD_MODULE_DIR:-$top_builddir/modules/.libs}/auth_ldap.so (libldap-dev missing at configure?)"
	export LDAPNOINIT=1 # the ldap-utils ignore /etc/ldap/ldap.conf and ~/.ldaprc
	PATH=$PATH:/usr/sbin
}

ldap__hash() { slappasswd -h '{SSHA}' -s "$1"; }

ldap_setup() {
	[ -n "${SERVER_CERT:-}" ] || t_fail "ldap_setup: call make_certs first"
	LDAP_DIR=$T_DIR/ldap
	mkdir -p "$LDAP_DIR/db" && chmod 0700 "$LDAP_DIR/db" || t_fail "mkdir $LDAP_DIR"
	t_on_cleanup ldap_stop
	cat >"$LDAP_DIR/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile $LDAP_DIR/slapd.pid
argsfile $LDAP_DIR/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
TLSCACertificateFile $CA_CERT
TLSCertificateFile $SERVER_CERT
TLSCertificateKeyFile $SERVER_KEY
loglevel stats
database mdb
maxsize 67108864
suffix "$LDAP_BASE"
rootdn "$LDAP_ADMIN"
rootpw $(ldap__hash "$LDAP_ADMIN_PW")
directory $LDAP_DIR/db
index objectClass eq
index uid,cn,memberUid eq
index member eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
access to attrs=userPassword
	by self =xw
	by anonymous auth
	by * none
access to dn.subtree="$LDAP_PEOPLE"
	by dn.exact="$LDAP_READER" read
	by self read
	by anonymous auth
	by * none
access to dn.subtree="$LDAP_GROUPS"
	by dn.exact="$LDAP_READER" read
	by users read
	by * none
access to *
	by * read
EOF
	cat >"$LDAP_DIR/init.ldif" <<EOF
dn: $LDAP_BASE
objectClass: dcObject
objectClass: organization
dc: vpn
o: VPN Test

dn: ou=people,$LDAP_BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$LDAP_BASE
objectClass: organizationalUnit
ou: groups

dn: $LDAP_READER
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: $(ldap__hash "$LDAP_READER_PW")

EOF
	local u n
	n=10000
	for u in alice bob carol; do
		n=$(( n + 1 ))
		cat >>"$LDAP_DIR/init.ldif" <<EOF
dn: uid=$u,$LDAP_PEOPLE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: $u
cn: $u Example
sn: Example
uidNumber: $n
gidNumber: $n
homeDirectory: /nonexistent
userPassword: $(ldap__hash "${u}pass")

EOF
	done
	# added online, so that the memberof overlay sets memberOf
	cat >"$LDAP_DIR/groups.ldif" <<EOF
dn: cn=vpnusers,$LDAP_GROUPS
objectClass: groupOfNames
cn: vpnusers
member: uid=alice,$LDAP_PEOPLE
member: uid=bob,$LDAP_PEOPLE

dn: cn=admins,$LDAP_GROUPS
objectClass: groupOfNames
cn: admins
member: uid=bob,$LDAP_PEOPLE

dn: cn=engineers,$LDAP_GROUPS
objectClass: posixGroup
cn: engineers
gidNumber: 20001
memberUid: alice
EOF
	slaptest -f "$LDAP_DIR/slapd.conf" -u -Q >"$LDAP_DIR/slaptest.log" 2>&1 ||
		t_fail "slaptest: $(tail -n1 "$LDAP_DIR/slaptest.log")"
	slapadd -f "$LDAP_DIR/slapd.conf" -l "$LDAP_DIR/init.ldif" -q >"$LDAP_DIR/slapadd.log" 2>&1 ||
		t_fail "slapadd: $(tail -n1 "$LDAP_DIR/slapadd.log")"
	LDAP_GROUPS_ADDED=0
}

# ldap__listening: is LDAP_PORT in $NS_S held by LDAP_PID?
ldap__listening() {
	local line
	line=$(ip netns exec "$NS_S" ss -Hltnp "sport = :$LDAP_PORT" 2>/dev/null) || return 1
	case $line in *"pid=$LDAP_PID,"*) ;; *) return 1 ;; esac
	ip netns exec "$NS_S" ldapsearch -x -H "$LDAP_URI" -o nettimeout=2 -l 2 \
		-b "" -s base -LLL namingContexts >/dev/null 2>&1
}

ldap_start() {
	[ -n "$LDAP_DIR" ] || t_fail "ldap_start: call ldap_setup first"
	[ -n "$NS_S" ] || t_fail "ldap_start: call ns_pair first"
	LDAP_LOG=$LDAP_DIR/slapd.log
	# -d stats: foreground (we keep its pid), the stats log on stderr
	ip netns exec "$NS_S" slapd -d stats -f "$LDAP_DIR/slapd.conf" \
		-h "$LDAP_URI/ $LDAPS_URI/" </dev/null >>"$LDAP_LOG" 2>&1 &
	LDAP_PID=$!
	local rc=0
	wait_until -p "$LDAP_PID" 15 ldap__listening || rc=$?
	case $rc in
	0) ;;
	2) t_fail "slapd exited during startup: $(tail -n1 "$LDAP_LOG")" ;;
	*) t_fail "slapd did not answer on port $LDAP_PORT within 15 s" ;;
	esac
	if [ "$LDAP_GROUPS_ADDED" = 0 ]; then
		ip netns exec "$NS_S" ldapadd -x -H "$LDAP_URI" -D "$LDAP_ADMIN" -w "$LDAP_ADMIN_PW" \
			-f "$LDAP_DIR/groups.ldif" >"$LDAP_DIR/ldapadd.log" 2>&1 ||
			t_fail "ldapadd of the groups failed: $(tail -n1 "$LDAP_DIR/ldapadd.log")"
		LDAP_GROUPS_ADDED=1
	fi
	t_info "slapd pid $LDAP_PID on $LDAP_URI and $LDAPS_URI"
}

ldap_pause()  { [ -n "$LDAP_PID" ] && kill -STOP "$LDAP_PID" 2>/dev/null; }
ldap_resume() { [ -n "$LDAP_PID" ] && kill -CONT "$LDAP_PID" 2>/dev/null; }

ldap_stop() {
	local pid=$LDAP_PID
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null
	kill_and_wait "$pid" TERM 10
	LDAP_PID=
}

# ldap_count PATTERN: lines of the slapd log matching PATTERN (grep -E).
ldap_count() { grep -cE "$1" "$LDAP_LOG" 2>/dev/null; }

# ldap_search ARGS...: ldapsearch as the directory manager (-LLL).
ldap_search() {
	ip netns exec "$NS_S" ldapsearch -x -H "$LDAP_URI" -D "$LDAP_ADMIN" -w "$LDAP_ADMIN_PW" \
		-o nettimeout=5 -l 5 -LLL "$@"
}

# ldap_password_file FILE [PASSWORD]: the reader's password, mode 0600.
ldap_password_file() {
	(umask 077 && printf '%s\n' "${2:-$LDAP_READER_PW}" >"$1") || t_fail "cannot write $1"
}

# ldap_modules_conf BLOCK: the module blocks (cstp + BLOCK) for server.sh.
ldap_modules_conf() {
	SRV_MODULES_CONF=$'transport cstp { }\n'"$1"
}
