# Many threads recording at once: nothing lost, nothing torn, the trace verifies. Threads
# that run one after another replay identically.
. "$(dirname "$0")/lib.sh"
at record -- "$SAMPLES/threads" 16 5000 parallel >/dev/null 2>&1 || fail "record failed"
ID=$(last_id)
at verify "$ID" >/dev/null || fail "trace of 16 threads does not verify"
at show "$ID" --json >"$WORK/show.json"
"$PYTHON" - "$WORK/show.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
clock = s["families"]["time"] + s["families"]["random"]  # not the stdio set-up's file events
assert clock == 16 * 5000 * 2, f"expected 160000 time and random events, got {clock}"
assert s["torn_events"] == 0, s["torn_events"]
assert s["streams"][0]["threads"] == 17, s["streams"][0]
PY
record_replay serial "$SAMPLES/threads" 6 200 serial
