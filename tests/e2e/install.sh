# An installed agenttrace (here staged with DESTDIR) finds its preload next to itself and
# records and replays like the build tree's.
. "$(dirname "$0")/lib.sh"
meson install -C "$BUILDDIR" --no-rebuild --destdir "$WORK/stage" >/dev/null
bin=$(find "$WORK/stage" -path '*/bin/agenttrace' -type f | head -n 1)
[ -x "$bin" ] || fail "no installed agenttrace"
find "$WORK/stage" -name libagenttrace-preload.so | grep -q . || fail "preload not installed"
AGENTTRACE=$bin
record_replay installed date +%s%N
