#!/bin/sh
# test-ocmodpasswd.sh - ocmodpasswd: adding, changing, locking, unlocking and
# deleting users; other lines kept byte for byte; failures write nothing.
#
# Environment: OCMODPASSWD (default ./ocmodpasswd); TEST_PLAIN (default
# $top_builddir/tests/unit/test-plain), used when present to check that
# the plain module accepts the hashes written; OCMOD_MODULE_DIR is passed
# on to it.

OCMODPASSWD=${OCMODPASSWD:-./ocmodpasswd}
TEST_PLAIN=${TEST_PLAIN:-${top_builddir:-.}/tests/unit/test-plain}

n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}

nok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
}

# check DESCRIPTION COMMAND...: passes if COMMAND succeeds
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}

# fails DESCRIPTION COMMAND...: passes if COMMAND exits 1
fails() {
	desc=$1
	shift
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && [ -s "$T/out" ]; then
		ok "$desc ($(head -n1 "$T/out"))"
	else
		nok "$desc (exit $rc)"
		sed 's/^/# /' "$T/out"
	fi
}

if [ ! -x "$OCMODPASSWD" ]; then
	echo "not ok 1 - $OCMODPASSWD not found or not executable"
	echo "1..1"
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/test-ocmodpasswd.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
F=$T/ocpasswd

have_plain=no
[ -x "$TEST_PLAIN" ] && have_plain=yes
[ $have_plain = yes ] || echo "# $TEST_PLAIN not built: module checks skipped"

# auth USER PASS: does the plain module accept it?
auth() {
	"$TEST_PLAIN" --check "$F" "$1" "$2" >"$T/auth" 2>&1
}

pw() {
	"$OCMODPASSWD" -c "$F" "$@"
}

# the file without USER's lines (GNU sed keeps a missing final newline)
others() {
	sed "/^$1:/d" "$F"
}

# ---- options ----
check "--help exits 0" sh -c '"$0" --help >/dev/null' "$OCMODPASSWD"
check "--version exits 0" sh -c '"$0" --version | grep -q ocmodpasswd' \
	"$OCMODPASSWD"
fails "no username" "$OCMODPASSWD" -c "$F"
fails "two usernames" "$OCMODPASSWD" -c "$F" a b
fails "unknown option" "$OCMODPASSWD" -c "$F" -x alice

# ---- add ----
check "add alice (two matching lines on stdin)" \
	sh -c 'printf "s3cret\ns3cret\n" | "$0" -c "$1" alice' "$OCMODPASSWD" "$F"
check "file created" test -f "$F"
check "file mode 0600" test "$(stat -c %a "$F")" = 600
check "alice:*:\$y\$ line" grep -q '^alice:\*:\$y\$[^:]*$' "$F"
check "no temp file left" test ! -e "$F.tmp"
if [ $have_plain = yes ]; then
	check "module accepts alice's password" auth alice s3cret
	check "module refuses a wrong password" sh -c '! "$0" --check "$1" alice nope >/dev/null 2>&1' "$TEST_PLAIN" "$F"
fi

check "add bob with groups (one line on stdin, like ocpasswd)" \
	sh -c 'printf "bobpw\n" | "$0" -c "$1" -g "g1,g2" bob' "$OCMODPASSWD" "$F"
check "bob:g1,g2:\$y\$ line" grep -q '^bob:g1,g2:\$y\$' "$F"
if [ $have_plain = yes ]; then
	check "module accepts bob with groups g1,g2" \
		sh -c '"$0" --check "$1" bob bobpw | grep -qx "groups: g1,g2"' "$TEST_PLAIN" "$F"
fi

check "long options" sh -c 'printf "x\n" | "$0" --passwd="$1" --groupname=g3 carol' \
	"$OCMODPASSWD" "$F"
check "carol:g3 line" grep -q '^carol:g3:\$y\$' "$F"

# ---- a file with comments and odd lines: kept byte for byte ----
{
	printf '# ocpasswd\n'
	printf '\n'
	printf '   \t\n'
	cat "$F"
	printf '# a comment: with: colons\n'
	printf 'not a valid line\n'
	printf 'alicex:g:$5$abc$def\n'
	printf 'xalice:g:$5$abc$def\n'
	printf 'dos:g:$5$abc$def\r\n'
	printf 'last:line:without newline'
} >"$T/f2"
mv "$T/f2" "$F"
others alice >"$T/others"

check "change alice's password" sh -c 'printf "new\nnew\n" | "$0" -c "$1" alice' \
	"$OCMODPASSWD" "$F"
check "other lines unchanged" sh -c 'sed "/^alice:/d" "$0" | cmp -s - "$1"' "$F" "$T/others"
check "alice still once, groups kept" test "$(grep -c '^alice:\*:\$y\$' "$F")" -eq 1
if [ $have_plain = yes ]; then
	check "module accepts the new password" auth alice new
	check "module refuses the old password" sh -c '! "$0" --check "$1" alice s3cret >/dev/null 2>&1' "$TEST_PLAIN" "$F"
fi

check "set alice's groups" sh -c 'printf "new\n" | "$0" -c "$1" -g admins,staff alice' \
	"$OCMODPASSWD" "$F"
check "alice:admins,staff" grep -q '^alice:admins,staff:\$y\$' "$F"
check "change again without -g" sh -c 'printf "new2\n" | "$0" -c "$1" alice' \
	"$OCMODPASSWD" "$F"
check "groups kept without -g" grep -q '^alice:admins,staff:\$y\$' "$F"
check "other lines still unchanged" sh -c 'sed "/^alice:/d" "$0" | cmp -s - "$1"' "$F" "$T/others"

# ---- lock / unlock ----
cp "$F" "$T/before-lock"
check "lock alice" pw -l alice
check "hash starts with !" grep -q '^alice:admins,staff:!\$y\$' "$F"
check "lock changed only alice's line" sh -c 'diff "$0" "$1" | grep -c "^[<>]" | grep -qx 2' \
	"$T/before-lock" "$F"
if [ $have_plain = yes ]; then
	check "module refuses a locked user" sh -c '! "$0" --check "$1" alice new2 >/dev/null 2>&1' "$TEST_PLAIN" "$F"
fi
check "lock again" pw --lock alice
check "still a single !" grep -q '^alice:admins,staff:!\$y\$' "$F"
check "unlock alice" pw -u alice
check "unlock restores the line byte for byte" cmp -s "$T/before-lock" "$F"
if [ $have_plain = yes ]; then
	check "module accepts alice again" auth alice new2
fi
check "unlock an unlocked user is harmless" pw --unlock alice
check "file unchanged" cmp -s "$T/before-lock" "$F"

# ---- delete ----
others alice >"$T/others"
check "delete alice" pw -d alice
check "alice gone" sh -c '! grep -q "^alice:" "$0"' "$F"
check "everything else byte-identical" cmp -s "$T/others" "$F"
check "delete carol (--delete)" pw --delete carol
check "carol gone" sh -c '! grep -q "^carol:" "$0"' "$F"

# ---- failures write nothing ----
cp "$F" "$T/snap"
fails "mismatched passwords" sh -c 'printf "aaa\nbbb\n" | "$0" -c "$1" bob' "$OCMODPASSWD" "$F"
check "  file unchanged" cmp -s "$T/snap" "$F"
fails "empty password" sh -c 'printf "\n\n" | "$0" -c "$1" bob' "$OCMODPASSWD" "$F"
fails "no password at all" sh -c '"$0" -c "$1" bob </dev/null' "$OCMODPASSWD" "$F"
fails "delete an unknown user" pw -d nosuch
fails "lock an unknown user" pw -l nosuch
fails "unlock an unknown user" pw -u nosuch
fails "lock a prefix of a user ('alicex', 'xalice' exist)" pw -l alic
fails "username with ':'" sh -c 'printf "x\n" | "$0" -c "$1" "a:b"' "$OCMODPASSWD" "$F"
fails "empty username" sh -c 'printf "x\n" | "$0" -c "$1" ""' "$OCMODPASSWD" "$F"
fails "username with a newline" sh -c 'printf "x\n" | "$0" -c "$1" "a
b"' "$OCMODPASSWD" "$F"
fails "username starting with #" sh -c 'printf "x\n" | "$0" -c "$1" "#x"' "$OCMODPASSWD" "$F"
fails "groups with ':'" sh -c 'printf "x\n" | "$0" -c "$1" -g "a:b" bob' "$OCMODPASSWD" "$F"
fails "-d and -l together" pw -d -l bob
fails "-g with -d" pw -g x -d bob
check "  file still unchanged" cmp -s "$T/snap" "$F"
touch "$F.tmp"
fails "stale temp file: refused" pw -l bob
check "  file unchanged, temp file not removed" sh -c 'cmp -s "$0" "$1" && test -e "$1.tmp"' "$T/snap" "$F"
rm -f "$F.tmp"
check "no temp file left" test ! -e "$F.tmp"

fails "delete from a missing file" "$OCMODPASSWD" -c "$T/missing" -d bob
check "  not created" test ! -e "$T/missing"
fails "missing directory" sh -c 'printf "x\n" | "$0" -c "$1" bob' "$OCMODPASSWD" "$T/nodir/ocpasswd"

# ---- ownership of the file ----
chmod 640 "$F"
check "change with a 0640 file" sh -c 'printf "z\n" | "$0" -c "$1" bob' "$OCMODPASSWD" "$F"
check "mode 0640 kept" test "$(stat -c %a "$F")" = 640
ln -s "$F" "$T/link"
check "update through a symlink" sh -c 'printf "z\n" | "$0" -c "$1" -g g9 bob' "$OCMODPASSWD" "$T/link"
check "symlink kept, target updated" sh -c 'test -L "$0" && grep -q "^bob:g9:" "$1"' "$T/link" "$F"

# ---- a new user after a last line without newline ----
check "add dave" sh -c 'printf "d\n" | "$0" -c "$1" dave' "$OCMODPASSWD" "$F"
check "last line completed, dave appended" sh -c \
	'tail -n2 "$0" | head -n1 | grep -qx "last:line:without newline" && tail -n1 "$0" | grep -q "^dave:\*:"' "$F"
if [ $have_plain = yes ]; then
	check "module accepts dave" auth dave d
	check "module accepts bob's last password" auth bob z
fi

echo "1..$n"
if [ "$failed" -ne 0 ]; then
	echo "# $failed of $n failed"
	exit 1
fi
exit 0
