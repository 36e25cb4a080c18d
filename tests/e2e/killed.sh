# A program killed by SIGKILL while recording: the trace is sealed anyway, and replay
# reproduces its output and its status (128 + 9), killing it at the same point.
. "$(dirname "$0")/lib.sh"
"$AGENTTRACE" record -- "$SAMPLES/killed" >"$WORK/rec" 2>"$WORK/rec.err" &
agent=$!
for _ in $(seq 100); do
	grep -q '^ready$' "$WORK/rec" 2>/dev/null && break
	sleep 0.1
done
grep -q '^ready$' "$WORK/rec" || fail "the sample never got ready"
pkill -KILL -P "$agent" || fail "no program to kill"
status=0
wait "$agent" || status=$?
[ "$status" -eq 137 ] || fail "record exited $status, expected 137 (128+SIGKILL)"
grep -q 'killed by SIGKILL' "$WORK/rec.err" || fail "record did not report the signal: $(cat "$WORK/rec.err")"
ID=$(last_id)
at verify "$ID" >/dev/null || fail "the trace of a killed program is not sound"
for i in 1 2; do
	status=0
	timeout 60 "$AGENTTRACE" replay "$ID" >"$WORK/rep$i" 2>"$WORK/rep$i.err" || status=$?
	[ "$status" -eq 137 ] || fail "replay $i exited $status, expected 137: $(cat "$WORK/rep$i.err")"
	cmp "$WORK/rec" "$WORK/rep$i" || fail "replay $i output differs: $(diff "$WORK/rec" "$WORK/rep$i")"
done
