#!/bin/bash
# check-headers.sh - the public module headers (include/ocmod) stand on their
# own, and modules see nothing else:
#   1. each public header compiles alone, first in a translation unit, as
#      strict C99 and as C++11 (gcc/g++; clang/clang++ too when installed),
#      with the build tree's include dirs (oc-abi.h is generated there);
#   2. a C99 module using OC_MODULE_DEFINE through ocmod.h compiles;
#   3. public headers include only <stddef.h> <stdint.h> <stdbool.h>
#      <sys/types.h> <sys/socket.h> and each other;
#   4. every public header is installed (listed in Makefile.am);
#   5. nothing under modules/ includes a core/ header (or any quoted header
#      that is neither public nor beside the including file), and no
#      modules/ makefile fragment adds core/ to the include path.
# Environment: top_srcdir, top_builddir (exported by AM_TESTS_ENVIRONMENT;
# default: the source tree).  Prints ok/not ok lines; exit 0 if all pass.
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$top_srcdir}"
top_srcdir=$(cd "$top_srcdir" && pwd) || { echo "not ok 1 - bad top_srcdir"; exit 1; }
top_builddir=$(cd "$top_builddir" && pwd) || { echo "not ok 1 - bad top_builddir"; exit 1; }
src_inc=$top_srcdir/include/ocmod
build_inc=$top_builddir/include/ocmod
CC=${CC_FOR_HEADERS:-gcc}
CXX=${CXX_FOR_HEADERS:-g++}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-headers.XXXXXX") || { echo "not ok 1 - mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

# The public headers: the sources, plus oc-abi.h from the build tree.
headers=()
for f in "$src_inc"/*.h; do
	b=${f##*/}
	[ "$b" = oc-abi.h ] && continue   # generated: taken from the build tree
	headers+=("$b")
done
if [ -f "$build_inc/oc-abi.h" ]; then
	headers+=(oc-abi.h)
	ok "oc-abi.h generated in the build tree"
else
	notok "oc-abi.h missing from $build_inc (run configure)"
fi
[ ${#headers[@]} -ge 5 ] || notok "only ${#headers[@]} public headers found in $src_inc"

incs=(-I"$build_inc" -I"$src_inc")
cflags=(-std=c99 -Wall -Wextra -pedantic -Werror)
cxxflags=(-std=c++11 -Wall -Wextra -pedantic -Werror)

# compile_one LABEL COMPILER FLAGS... -- FILE
compile_one() {
	local label=$1 log; shift
	log=$tmp/out.log
	if "$@" >"$log" 2>&1; then
		ok "$label"
	else
		notok "$label"
		{ grep -E 'error|warning' "$log" || cat "$log"; } | head -n 10 | sed 's/^/#   /'
	fi
}

# 1. self-contained headers
compilers=("$CC:$CXX")
if command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1; then
	compilers+=("clang:clang++")
fi
for pair in "${compilers[@]}"; do
	cc=${pair%%:*} cxx=${pair##*:}
	for h in "${headers[@]}"; do
		# (the typedef only keeps a macro-only header's translation
		# unit from being empty, which ISO C forbids)
		printf '#include "%s"\ntypedef int check_headers_tu;\n' "$h" >"$tmp/tu.c"
		# twice: the include guard must work
		printf '#include "%s"\n#include "%s"\ntypedef int check_headers_tu;\n' \
			"$h" "$h" >"$tmp/tu2.c"
		compile_one "$h alone, C99 ($cc)" \
			"$cc" "${cflags[@]}" "${incs[@]}" -fsyntax-only -x c "$tmp/tu.c"
		compile_one "$h alone, C++11 ($cxx)" \
			"$cxx" "${cxxflags[@]}" "${incs[@]}" -fsyntax-only -x c++ "$tmp/tu.c"
		compile_one "$h twice, C99 ($cc)" \
			"$cc" "${cflags[@]}" "${incs[@]}" -fsyntax-only -x c "$tmp/tu2.c"
	done
done

# 2. a module written against ocmod.h only, strict C99
cat >"$tmp/mod.c" <<'EOF'
#include "ocmod.h"
struct c { char *s; int64_t n; };
static const oc_option_t opts[] = {
	{ .name = "s", .type = OC_OPT_STR, .offset = offsetof(struct c, s) },
	{ .name = "n", .type = OC_OPT_INT, .offset = offsetof(struct c, n),
	  .min = 0, .max = 9 },
	{ 0 }
};
static int i_init(const oc_host_t *h, oc_instance_t *self, const void *conf,
                  void **inst_r, oc_error_t *err)
{
	(void)self; (void)conf; (void)err;
	if (!OC_HOST_HAS(h, conn_instance))
		return OC_E_ABI;
	*inst_r = h->zalloc(1);
	return *inst_r ? 0 : OC_E_NOMEM;
}
static void i_destroy(void *inst) { (void)inst; }
static int s_new(void *inst, const oc_auth_request_t *req, void **s, oc_error_t *err)
{
	(void)inst; (void)req; (void)err; *s = NULL; return OC_E_UNSUPPORTED;
}
static oc_auth_status_t s_step(void *s, const oc_auth_input_t *in,
                               oc_auth_output_t *out, oc_auth_done_fn done,
                               void *arg)
{
	(void)s; (void)in; (void)out; (void)done; (void)arg;
	return OC_AUTH_FAIL;
}
static int s_id(void *s, oc_identity_t *id) { (void)s; (void)id; return OC_E_STATE; }
static void s_free(void *s) { (void)s; }
static const oc_auth_ops_t ops = {
	.session_new = s_new, .step = s_step, .get_identity = s_id,
	.session_free = s_free,
};
OC_MODULE_DEFINE(OC_MOD_AUTH, ops, .name = "x", .version = "1",
	.roles = OC_ROLE_SECMOD, .options = opts, .conf_size = sizeof(struct c),
	.init = i_init, .destroy = i_destroy);
EOF
compile_one "a module using OC_MODULE_DEFINE compiles as strict C99 ($CC)" \
	"$CC" "${cflags[@]}" -Wmissing-prototypes -Wstrict-prototypes "${incs[@]}" \
	-fsyntax-only "$tmp/mod.c"

# 3. what the public headers may include
bad=
for f in "$src_inc"/*.h "$src_inc"/oc-abi.h.in; do
	[ -f "$f" ] || continue
	while IFS= read -r line; do
		inc=$(printf '%s\n' "$line" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p')
		[ -n "$inc" ] || { bad+="${f##*/}: unparsable '$line'; "; continue; }
		case $inc in
		'<stddef.h>'|'<stdint.h>'|'<stdbool.h>'|'<sys/types.h>'|'<sys/socket.h>') ;;
		\"oc-*.h\")
			h=${inc//\"/}
			[ -f "$src_inc/$h" ] || [ -f "$src_inc/$h.in" ] || bad+="${f##*/}: $inc is not a public header; "
			;;
		*) bad+="${f##*/}: $inc; " ;;
		esac
	done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$f")
done
if [ -z "$bad" ]; then
	ok "public headers include only the allowed system headers and each other"
else
	notok "public headers include something else: $bad"
fi

# 4. every public header is installed
missing=
for f in "$src_inc"/*.h "$src_inc"/*.h.in; do
	[ -f "$f" ] || continue
	b=${f##*/}
	b=${b%.in}
	grep -q "include/ocmod/$b\b" "$top_srcdir/Makefile.am" || missing+=" $b"
done
if [ -z "$missing" ]; then
	ok "every public header is listed for installation in Makefile.am"
else
	notok "public headers not installed by Makefile.am:$missing"
fi

# 5. modules see only the public headers
bad=
core_headers=" $(cd "$top_srcdir/core" && ls -- *.h | tr '\n' ' ') "
if [ -d "$top_srcdir/modules" ]; then
	mods_real=$(realpath "$top_srcdir/modules")
	while IFS= read -r f; do
		d=$(dirname "$f")
		while IFS= read -r inc; do
			case $inc in
			*core/*) bad+="${f#"$top_srcdir"/}: \"$inc\"; "; continue ;;
			esac
			if [ -f "$d/$inc" ]; then
				# the module's own header, or one shared under modules/
				case $(realpath -m "$d/$inc") in
				"$mods_real"/*) continue ;;
				esac
				bad+="${f#"$top_srcdir"/}: \"$inc\" is outside modules/; "
				continue
			fi
			if [ -f "$src_inc/$inc" ] || [ -f "$src_inc/$inc.in" ]; then
				continue   # public
			fi
			case $core_headers in
			*" $inc "*) bad+="${f#"$top_srcdir"/}: \"$inc\" is a core header; " ;;
			*) bad+="${f#"$top_srcdir"/}: \"$inc\" is neither public nor beside it; " ;;
			esac
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
		# angle-bracket includes of core or of a core path
		if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<[^>]*core/' "$f" >/dev/null; then
			bad+="${f#"$top_srcdir"/}: <.../core/...>; "
		fi
	done < <(find "$top_srcdir/modules" -type f \( -name '*.c' -o -name '*.h' \) | sort)
	if grep -rn --include='*.c' --include='*.h' '#include "\.\./\.\./core' "$top_srcdir/modules" >/dev/null; then
		bad+='#include "../../core found; '
	fi
	while IFS= read -r mk; do
		if grep -nE '(CPPFLAGS|CFLAGS).*(top_(src|build)dir\)/core|-I[^ ]*/core\b)' "$mk" >/dev/null; then
			bad+="${mk#"$top_srcdir"/}: adds core/ to the include path; "
		fi
	done < <(find "$top_srcdir/modules" -type f \( -name '*.mk' -o -name 'Makefile*' \) | sort)
fi
if [ -z "$bad" ]; then
	ok "modules/ includes no core/ header"
else
	notok "modules/ reaches into the core: $bad"
fi

echo "# $n tests, $failed failed"
[ "$failed" -eq 0 ]
