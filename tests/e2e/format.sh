# The code is clang-formatted (the checked-in .clang-format).
. "$(dirname "$0")/lib.sh"
command -v clang-format >/dev/null || {
	echo "SKIP: clang-format is not installed"
	exit 77
}
cd "$SRCDIR"
files=$(find core preload replay cli samples tests bench -name '*.[ch]' 2>/dev/null)
clang-format --dry-run --Werror $files 2>"$WORK/fmt" || fail "not clang-formatted (run 'make format'): $(head -20 "$WORK/fmt")"
