# fork, vfork and posix_spawn children while recording and replaying: the output replays
# exactly, the vfork child's call is served from the parent's log, and children are
# recorded in streams of their own and replayed from them (none runs live).
. "$(dirname "$0")/lib.sh"
differs_live forks "$SAMPLES/forks"
record_replay forks "$SAMPLES/forks"
! grep -q 'ran live' "$WORK/forks.rep1.err" || fail "children ran live: $(cat "$WORK/forks.rep1.err")"
at show "$ID" --json >"$WORK/show.json"
at show "$ID" --events --json >"$WORK/events.json"
"$PYTHON" - "$WORK/show.json" "$WORK/events.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["processes"] >= 3, f"fork child and spawned date not recorded: {s['processes']}"
root = [p for p in s["streams"] if p["root"]][0]
events = [json.loads(l) for l in open(sys.argv[2])]
clock = [e for e in events if e["process"] == root["pid"] and e["family"] in ("time", "random")]
# 4 stamps of 2 events each, plus the vfork child's clock read in the parent's log
assert len(clock) == 9, clock
PY
