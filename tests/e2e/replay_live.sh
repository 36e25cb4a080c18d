# replay --step N --then live: the past from the trace, then real calls. A Python program
# prints time.time_ns() 8 times, 50 ms apart; replayed live from the step after its 4th
# line, the first 4 lines are the recorded ones and the last 4 new (later) ones, and the
# program finishes. Then what the replayed past left open is made real at the step: a file
# it was reading goes on at its offset (in the file as it is now), a file it wrote reads
# back what it wrote (a private copy: the real file is not touched), and a socket behaves
# as closed by its peer.
. "$(dirname "$0")/lib.sh"

# step_after_line N: the step just after the write that ends line N of the root process's
# standard output (a line may take several writes: Python writes the newline apart).
step_after_line() {
	at show "$ID" --events --json --process 1 --call write |
		"$PYTHON" -c '
import json, sys
want, lines = int(sys.argv[1]), 0
for e in map(json.loads, sys.stdin):
    if e.get("fd") == 1:
        lines += e["data"].count("\n")
        if lines >= want:
            print(e["seq"] + 1)
            break' "$1"
}

# --- the clock: 4 recorded lines, 4 live ones ---
cat >"$WORK/clock.py" <<'PY'
import time
for i in range(8):
    print(time.time_ns(), flush=True)
    time.sleep(0.05)
PY
at record -- "$PYTHON" "$WORK/clock.py" >"$WORK/clock.rec" 2>"$WORK/clock.rec.err" ||
	fail "recording failed: $(cat "$WORK/clock.rec.err")"
ID=$(last_id)
[ "$(wc -l <"$WORK/clock.rec")" -eq 8 ] || fail "the program printed $(wc -l <"$WORK/clock.rec") lines"
N=$(step_after_line 4)
s=0
timeout 60 "$AGENTTRACE" replay "$ID" --step "$N" --then live >"$WORK/clock.live" \
	2>"$WORK/clock.live.err" || s=$?
[ "$s" -eq 0 ] || fail "replay --then live exited $s: $(cat "$WORK/clock.live.err")"
grep -q "went live at step $N of process 1" "$WORK/clock.live.err" ||
	fail "no word of going live: $(cat "$WORK/clock.live.err")"
"$PYTHON" - "$WORK/clock.rec" "$WORK/clock.live" <<'PY'
import sys
rec = open(sys.argv[1]).read().split()
live = open(sys.argv[2]).read().split()
assert len(live) == 8, f"the live replay printed {len(live)} lines: {live}"
assert live[:4] == rec[:4], ("the first 4 lines are not the recorded ones", rec, live)
new = [int(x) for x in live[4:]]
assert all(int(x) > int(rec[7]) for x in new), ("the last 4 lines are not new times", rec, live)
assert new == sorted(new) and len(set(new)) == 4, new
PY

# --- descriptors from the past: a file read, a file written, a socket ---
printf '0123456789abcdefghij' >"$WORK/in.txt"
greeter_start hello world
port=$GREETER_PORT
cat >"$WORK/fds.py" <<PY
import os, socket
fd = os.open("$WORK/in.txt", os.O_RDONLY)
out = os.open("$WORK/out.txt", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(out, b"written before")
s = socket.create_connection(("127.0.0.1", $port))
print(os.read(fd, 5), s.recv(5), flush=True)
print(os.read(fd, 5), os.pread(out, 14, 0), s.recv(5), flush=True)
PY
at record -- "$PYTHON" "$WORK/fds.py" >"$WORK/fds.rec" 2>"$WORK/fds.rec.err" ||
	fail "recording failed: $(cat "$WORK/fds.rec.err")"
wait "$GREETER_PID" || true
ID=$(last_id)
[ "$(cat "$WORK/fds.rec")" = "b'01234' b'hello'
b'56789' b'written before' b'world'" ] || fail "the recording printed: $(cat "$WORK/fds.rec")"
# The world changes: the file read has other bytes after its offset, the file written is
# gone, the server is gone.
printf '01234ABCDEfghij' >"$WORK/in.txt"
rm "$WORK/out.txt"
N=$(step_after_line 1)
s=0
timeout 60 "$AGENTTRACE" replay "$ID" --step "$N" --then live >"$WORK/fds.live" \
	2>"$WORK/fds.live.err" || s=$?
[ "$s" -eq 0 ] || fail "replay --then live exited $s: $(cat "$WORK/fds.live.err")"
[ "$(cat "$WORK/fds.live")" = "b'01234' b'hello'
b'ABCDE' b'written before' b''" ] ||
	fail "live from step $N printed: $(cat "$WORK/fds.live"); $(cat "$WORK/fds.live.err")"
[ ! -e "$WORK/out.txt" ] || fail "going live wrote the real file"

# Bad input: a step past the end.
expect_status 76 "$AGENTTRACE" replay "$ID" --step 100000 --then live
