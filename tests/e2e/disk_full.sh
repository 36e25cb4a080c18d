# A full disk while sealing: record says so and exits 73, loses nothing (the raw
# recording stays), and 'agenttrace seal' finishes the job once there is room.
# Needs a small file system: a tmpfs, mounted as root or inside a user namespace.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ] && [ -z "${AT_IN_USERNS:-}" ]; then
	if unshare -rm true 2>/dev/null; then
		AT_IN_USERNS=1 exec unshare -rm bash "$0" "$@"
	fi
	echo "SKIP: needs root or user namespaces to mount a small tmpfs"
	exit 77
fi
at list >/dev/null 2>&1 # creates the store
mount -t tmpfs -o size=2m tmpfs "$AGENTTRACE_HOME/traces" || {
	echo "SKIP: cannot mount tmpfs"
	exit 77
}
cleanup_hooks+=("umount '$AGENTTRACE_HOME/traces'")

# One MiB of random bytes seals to a bit over 1 MiB: it cannot fit once the disk is filled.
prog=(/usr/bin/python3 -c 'import hashlib, os, time; print(hashlib.sha256(os.urandom(1 << 20)).hexdigest(), time.time_ns())')
dd if=/dev/zero of="$AGENTTRACE_HOME/traces/filler" bs=64k count=24 status=none
status=0
at record -- "${prog[@]}" >"$WORK/rec" 2>"$WORK/err" || status=$?
[ "$status" -eq 73 ] || fail "record exited $status, expected 73: $(cat "$WORK/err")"
grep -q 'disk is full' "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
grep -q "agenttrace seal" "$WORK/err" || fail "no next step given: $(cat "$WORK/err")"
[ -s "$WORK/rec" ] || fail "the program's output was lost"
ID=$(ls "$AGENTTRACE_HOME/traces" | grep -v filler)
[ -n "$ID" ] || fail "the trace directory is gone"
at list | grep "$ID" | grep -q unsealed || fail "list does not show the trace as unsealed"
expect_status 75 at replay "$ID" 2>/dev/null

run_dir=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_dir"])' \
	"$AGENTTRACE_HOME/traces/$ID/recording.json")
[ -n "$(ls "$run_dir")" ] || fail "the raw recording in $run_dir is gone"
rm "$AGENTTRACE_HOME/traces/filler"
at seal "$ID" 2>"$WORK/seal.err" || fail "seal failed with room to spare: $(cat "$WORK/seal.err")"
at verify "$ID" >/dev/null
at replay "$ID" >"$WORK/rep" 2>/dev/null
cmp "$WORK/rec" "$WORK/rep" || fail "replay after sealing differs from the recording"
[ ! -e "$run_dir" ] || fail "the raw recording was not cleaned up after sealing"

# The disk fills up while recording: the program is not disturbed (its calls pass through
# from then on), the trace is marked incomplete, and replay says so where it runs out.
# A tmpfs mounted at <home>/run is where agenttrace then puts its run directories (store.c)
# when AGENTTRACE_RUNTIME_DIR (lib.sh's) does not say otherwise.
unset AGENTTRACE_RUNTIME_DIR
mount -t tmpfs -o size=1m tmpfs "$AGENTTRACE_HOME/run" || fail "cannot mount the second tmpfs"
cleanup_hooks=("umount '$AGENTTRACE_HOME/run'" "${cleanup_hooks[@]}")
prog=(/usr/bin/python3 -c 'import hashlib, os, time; print(len(os.urandom(4 << 20))); print(hashlib.sha256(os.urandom(64)).hexdigest(), time.time_ns())')
status=0
at record -- "${prog[@]}" >"$WORK/rec" 2>"$WORK/err" || status=$?
[ "$status" -eq 0 ] || fail "the program failed while recording on a full disk: $(cat "$WORK/err")"
[ "$(head -n 1 "$WORK/rec")" = 4194304 ] || fail "the program's output is wrong: $(cat "$WORK/rec")"
grep -q 'incomplete: the disk was full while recording' "$WORK/err" || fail "record does not warn: $(cat "$WORK/err")"
ID=$(last_id)
at show "$ID" | grep -q '^complete   no: the disk was full' || fail "show does not say incomplete"
status=0
at replay "$ID" >/dev/null 2>"$WORK/rep.err" || status=$?
[ "$status" -eq 201 ] || fail "replay past the end exited $status: $(cat "$WORK/rep.err")"
grep -q 'end of an incomplete recording (the disk was full' "$WORK/rep.err" || fail "unclear: $(cat "$WORK/rep.err")"
