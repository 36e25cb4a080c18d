# replay --step N --then exit|stop (issue 7): a replay that ends cleanly at a step prints
# exactly what the recording printed before it; one that stops there leaves the process
# stopped (T) inside the call, for gdb, until it is continued (the replay goes on and
# ends as recorded) or killed (no divergence, nothing left running); steps and processes
# the trace does not have are refused before anything runs (76, 64 for a malformed one).
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"
command -v gdb >/dev/null || fail "gdb is missing; run scripts/setup.sh"

# Six lines, one write each, with random bytes: a replay that shows them shows the trace.
cat >"$WORK/lines.py" <<'PY'
import os
for i in range(6):
    os.write(1, b"line %d %s\n" % (i, os.urandom(4).hex().encode()))
PY
prog=("$PYTHON" "$WORK/lines.py")
differs_live lines "${prog[@]}"
at record -- "${prog[@]}" >"$WORK/rec" 2>"$WORK/rec.err" || fail "record failed: $(cat "$WORK/rec.err")"
ID=$(last_id)
[ "$(wc -l <"$WORK/rec")" -eq 6 ] || fail "the recording printed: $(cat "$WORK/rec")"
at show "$ID" --events --json >"$WORK/events.json"
# the steps of the writes of the lines, and the root's event count
read -r -a writes < <("$PYTHON" - "$WORK/events.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
print(*[e["seq"] for e in ev if e["key"] == "1" and e["call"] == "write" and e.get("fd") == 1])
PY
)
[ "${#writes[@]}" -eq 6 ] || fail "expected 6 writes to stdout in the trace, found: ${writes[*]}"
third=${writes[2]}
nev=$(grep -c '"key":"1"' "$WORK/events.json")

# --then exit at the write of the third line: the first two lines, byte for byte, exit 0,
# and no complaint about the events left.
s=0
at replay "$ID" --step "$third" --then exit >"$WORK/exit.out" 2>"$WORK/exit.err" || s=$?
[ "$s" -eq 0 ] || fail "replay --step $third --then exit exited $s: $(cat "$WORK/exit.err")"
head -n 2 "$WORK/rec" | cmp -s - "$WORK/exit.out" ||
	fail "replay --then exit printed other than the first 2 lines: $(cat "$WORK/exit.out")"
grep -qF "agenttrace: replay of $ID ended at step $third of process 1, as asked" "$WORK/exit.err" ||
	fail "no 'ended at step' message: $(cat "$WORK/exit.err")"
! grep -Eq 'diverged|unused' "$WORK/exit.err" || fail "replay --then exit complained: $(cat "$WORK/exit.err")"
# the same as KEY:N, and with --process
at replay "$ID" --step "1:$third" --then exit >"$WORK/exit2.out" 2>/dev/null || fail "--step 1:$third failed"
cmp -s "$WORK/exit.out" "$WORK/exit2.out" || fail "--step 1:$third printed otherwise"
at replay "$ID" --process 1 --step "$third" --then exit >"$WORK/exit3.out" 2>/dev/null || fail "--process 1 failed"
cmp -s "$WORK/exit.out" "$WORK/exit3.out" || fail "--process 1 --step $third printed otherwise"

# --then stop: waits in the background for the stop, bounded; never leaves a process behind.
RPID= PID=
stop_cleanup() {
	[ -z "$PID" ] || kill -9 "$PID" 2>/dev/null || true
	[ -z "$RPID" ] || kill -9 "$RPID" 2>/dev/null || true
}
cleanup_hooks+=(stop_cleanup)
# start_stopped NAME: replays to the third line's write with --then stop, in the
# background, and waits up to 10 s for the message; sets RPID (agenttrace) and PID.
start_stopped() {
	local name=$1 i
	at replay "$ID" --step "$third" --then stop >"$WORK/$name.out" 2>"$WORK/$name.err" &
	RPID=$!
	for i in $(seq 100); do
		grep -q "stopped before step $third" "$WORK/$name.err" && break
		kill -0 "$RPID" 2>/dev/null || fail "replay --then stop ended: $(cat "$WORK/$name.err")"
		sleep 0.1
	done
	grep -q "^agenttrace: process 1 (pid [0-9]*) stopped before step $third (write(fd=1, count=" "$WORK/$name.err" ||
		fail "no 'stopped before step $third' message within 10 s: $(cat "$WORK/$name.err")"
	PID=$(sed -n 's/^agenttrace: process 1 (pid \([0-9]*\)) stopped before step.*/\1/p' "$WORK/$name.err")
	grep -qF "attach a debugger with: gdb -p $PID" "$WORK/$name.err" || fail "no gdb line: $(cat "$WORK/$name.err")"
	grep -q '^State:[[:space:]]*T' "/proc/$PID/status" ||
		fail "process $PID is not stopped: $(grep State "/proc/$PID/status")"
}
# wait_replay STATUS: agenttrace replay ends within 10 s with STATUS.
wait_replay() {
	local i s=0
	for i in $(seq 100); do
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$RPID" 2>/dev/null || fail "agenttrace replay still runs 10 s after the program ended"
	wait "$RPID" || s=$?
	RPID=
	[ "$s" -eq "$1" ] || fail "agenttrace replay exited $s, expected $1"
}

start_stopped stop
# the lines before the step are out, the third is not
head -n 2 "$WORK/rec" | cmp -s - "$WORK/stop.out" || fail "before the stop, the replay printed: $(cat "$WORK/stop.out")"
timeout 60 gdb -batch -p "$PID" -ex bt >"$WORK/bt" 2>&1 || true
grep -q '^#0 ' "$WORK/bt" || fail "gdb gave no backtrace: $(tail -20 "$WORK/bt")"
# stopped inside the call that takes the step: the write hook is on the stack
grep -Eq '^#[0-9]+ .*\bwrite \(' "$WORK/bt" || fail "the write of step $third is not on the stack: $(cat "$WORK/bt")"
grep -q '^State:[[:space:]]*T' "/proc/$PID/status" || fail "process $PID runs again after gdb detached"
kill -9 "$PID"
wait_replay 137 # the root, killed by SIGKILL
! kill -0 "$PID" 2>/dev/null || fail "process $PID is still there"
! pgrep -f "$WORK/lines.py" >/dev/null || fail "processes left: $(pgrep -af "$WORK/lines.py")"
! grep -Eq 'diverged|unused' "$WORK/stop.err" || fail "a kill while stopped was reported as a divergence: $(cat "$WORK/stop.err")"
head -n 2 "$WORK/rec" | cmp -s - "$WORK/stop.out" || fail "after the kill, the replay printed: $(cat "$WORK/stop.out")"
PID=

# continued, the replay goes on and ends as recorded
start_stopped cont
kill -CONT "$PID"
wait_replay 0
cmp -s "$WORK/rec" "$WORK/cont.out" || fail "the continued replay printed: $(cat "$WORK/cont.out"; cat "$WORK/cont.err")"
! grep -Eq 'diverged|unused' "$WORK/cont.err" || fail "the continued replay diverged: $(cat "$WORK/cont.err")"
PID=

# A step in a child process: a subshell (key 1.1) prints two lines between the root's.
at record -- bash -c 'echo one; (echo two; echo three); echo four' >"$WORK/sub.rec" 2>/dev/null ||
	fail "record of bash failed"
SUB=$(last_id)
child=$(at show "$SUB" --events --json | "$PYTHON" -c '
import json, sys
print([e["seq"] for e in map(json.loads, sys.stdin) if e["key"] == "1.1" and e["call"] == "write"][1])')
at replay "$SUB" --step "1.1:$child" --then exit >"$WORK/sub.out" 2>"$WORK/sub.err" || fail "--step 1.1:$child failed: $(cat "$WORK/sub.err")"
printf 'one\ntwo\n' | cmp -s - "$WORK/sub.out" || fail "--step 1.1:$child printed: $(cat "$WORK/sub.out")"
grep -qF "ended at step $child of process 1.1, as asked" "$WORK/sub.err" || fail "$(cat "$WORK/sub.err")"
at replay "$SUB" --process 1.1 --step "$child" --then exit >"$WORK/sub2.out" 2>/dev/null || fail "--process 1.1 failed"
cmp -s "$WORK/sub.out" "$WORK/sub2.out" || fail "--process 1.1 --step $child printed: $(cat "$WORK/sub2.out")"

# Errors, before anything runs (nothing printed on stdout): each status and message.
# expect_error STATUS TEXT ARGS...: `at replay $ID ARGS` exits STATUS, its message has TEXT.
expect_error() {
	local want=$1 text=$2 s=0
	shift 2
	at replay "$ID" "$@" >"$WORK/e.out" 2>"$WORK/e.err" || s=$?
	[ "$s" -eq "$want" ] || fail "replay $* exited $s, expected $want: $(cat "$WORK/e.err")"
	grep -qF -- "$text" "$WORK/e.err" || fail "replay $*: no '$text' in: $(cat "$WORK/e.err")"
	[ ! -s "$WORK/e.out" ] || fail "replay $* ran the program: $(cat "$WORK/e.out")"
}
expect_error 76 "trace $ID has $nev events in process 1 (steps 0..$((nev - 1))), so no step $nev; see 'agenttrace show $ID --events'" \
	--step "$nev" --then exit
expect_error 76 "so no step 99999999" --step 99999999 --then stop
expect_error 64 "step '-1' is negative" --step -1 --then exit
expect_error 64 "'3x' is not a step" --step 3x --then exit
expect_error 64 "'1:' is not a step" --step 1: --then exit
expect_error 64 "'x.1' is not a process key" --step x.1:3 --then exit
expect_error 76 "trace $ID has no process 1.7; its processes are 1" --step 1.7:0 --then exit
expect_error 76 "trace $ID has no process 1.7" --process 1.7 --step 0 --then stop
expect_error 76 "step 1.2:0 is in process 1.2, not 1" --process 1 --step 1.2:0 --then exit
expect_error 64 "--then takes stop, exit or live" --step 0 --then later
expect_error 76 "so no step 100000" --step 100000 --then live
expect_error 64 "--step needs --then" --step 0
expect_error 64 "--then needs --step" --then exit
expect_error 64 "--step needs a value" --step
