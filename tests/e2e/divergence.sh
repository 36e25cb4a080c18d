# A program that asks for something else on replay diverges: the report names the step,
# the thread and both calls, and the exit status (201) cannot be the program's own: when
# the recording itself exited 201, divergence exits 202.
. "$(dirname "$0")/lib.sh"
echo 16 >"$WORK/len"
expect_status 3 at record -- "$SAMPLES/divergent" "$WORK/len" 3 >/dev/null 2>&1
ID=$(last_id)
expect_status 3 at replay "$ID" >/dev/null 2>&1 # unchanged input: faithful, program's status
echo 32 >"$WORK/len"
expect_status 201 at replay "$ID" >/dev/null 2>"$WORK/err"
step=$(at show "$ID" --events --json | "$PYTHON" -c 'import json,sys; print([e["seq"] for e in map(json.loads, sys.stdin) if e["call"] == "getrandom"][0])')
grep -q "diverged at step $step (thread 0" "$WORK/err" || fail "no step $step/thread in: $(cat "$WORK/err")"
grep -q 'recorded: getrandom(len=16' "$WORK/err" || fail "expected call missing: $(cat "$WORK/err")"
grep -q 'replayed: getrandom(len=32' "$WORK/err" || fail "actual call missing: $(cat "$WORK/err")"

echo 16 >"$WORK/len"
expect_status 201 at record -- "$SAMPLES/divergent" "$WORK/len" 201 >/dev/null 2>&1
ID=$(last_id)
expect_status 201 at replay "$ID" >/dev/null 2>&1
echo 8 >"$WORK/len"
expect_status 202 at replay "$ID" >/dev/null 2>&1

# A call after the last recorded event is a divergence too (here: fewer calls recorded
# than replayed is impossible to arrange from outside, so cut the trace's program short
# by making it exit early on replay instead: events left unused).
echo 16 >"$WORK/len"
expect_status 0 at record -- "$SAMPLES/divergent" "$WORK/len" >/dev/null 2>&1
ID=$(last_id)
echo 0 >"$WORK/len" # divergent exits 2 before its calls
expect_status 201 at replay "$ID" >/dev/null 2>"$WORK/err"
grep -q 'recorded events unused' "$WORK/err" || fail "unused events not reported: $(cat "$WORK/err")"
