# show --step N: the world of a process just before step N (its descriptors and what they
# are, the files it wrote, its sockets' peers, the last clock values) and the events around
# it, from the keyframe before N and the events after it. The same world whatever the
# keyframe interval (none, the default, every 7 events); a damaged keyframe is reported and
# the one before it used; bad steps get their exit status.
. "$(dirname "$0")/lib.sh"

printf '0123456789abcdef' >"$WORK/in.txt"
greeter_start hi
port=$GREETER_PORT
cat >"$WORK/world.py" <<PY
import os, socket, time
fd = os.open("$WORK/in.txt", os.O_RDONLY)
os.read(fd, 10)
out = os.open("$WORK/out.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(out, b"abc")
s = socket.create_connection(("127.0.0.1", $port))
s.recv(2)
print("ready", time.time_ns(), fd, out, s.fileno(), flush=True)
os.close(fd)
print("done", flush=True)
PY
record() { # record K: records world.py with a keyframe every K events; sets ID
	"$PYTHON" -c 'open("'"$WORK"'/in.txt", "w").write("0123456789abcdef")'
	at record --keyframe-every "$1" -- "$PYTHON" "$WORK/world.py" >"$WORK/world.out" \
		2>"$WORK/world.err" || fail "recording failed: $(cat "$WORK/world.err")"
	ID=$(last_id)
}
record 16384
wait "$GREETER_PID" || true
read -r ready clock in_fd out_fd sock_fd <"$WORK/world.out"
[ "$ready" = ready ] || fail "the program printed: $(cat "$WORK/world.out")"
# The step: the write of the "ready" line. The world just before it has everything open.
N=$(at show "$ID" --events --json --call write | "$PYTHON" -c '
import json, sys
print(next(e["seq"] for e in map(json.loads, sys.stdin) if e["data"].startswith("ready")))')
at show "$ID" --step "$N" --json >"$WORK/step.json" || fail "show --step $N failed"
"$PYTHON" - "$WORK/step.json" "$N" "$WORK" "$clock" "$in_fd" "$out_fd" "$sock_fd" "$port" <<'PY'
import hashlib, json, sys
j = json.load(open(sys.argv[1]))
n, work, clock = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
in_fd, out_fd, sock_fd, port = map(int, sys.argv[5:9])
w = j["world"]
assert j["step"] == n == w["step"] and j["process"] == "1", j
fds = {d["fd"]: d for d in w["descriptors"]}
assert fds[in_fd]["kind"] == "file" and fds[in_fd]["path"] == f"{work}/in.txt", fds[in_fd]
assert fds[in_fd]["offset"] == 10, fds[in_fd]
assert fds[out_fd]["path"] == f"{work}/out.txt" and fds[out_fd]["offset"] == 3, fds[out_fd]
assert fds[sock_fd]["kind"] == "socket" and fds[sock_fd]["peer"] == f"127.0.0.1:{port}", fds[sock_fd]
assert all(fds[f]["kind"] == "std" for f in (0, 1, 2)), fds
files = {f["path"]: f for f in w["files"]}
out = files[f"{work}/out.txt"]
assert out["size"] == 3 and out["sha256"] == hashlib.sha256(b"abc").hexdigest(), out
real = [c for c in w["clocks"] if c["clock"] == "CLOCK_REALTIME"]
assert real and real[0]["ns"] == clock, (real, clock)  # what time.time_ns() printed
assert [e["seq"] for e in j["around"]] == list(range(n - 5, n + 6)), j["around"]
assert j["around"][5]["call"] == "write", j["around"][5]
PY
at show "$ID" --step "$N" >"$WORK/step.txt" || fail "show --step $N (text) failed"
for want in "just before step $N" "descriptors" "$WORK/in.txt  offset 10" "127.0.0.1:$port" \
	"files written" "$WORK/out.txt  3 bytes  sha256 ba7816bf8f01cfea" "CLOCK_REALTIME" \
	"events around step $N" "> $(printf '%8s' "$N")"; do
	grep -qF -e "$want" "$WORK/step.txt" || fail "show --step does not show '$want': $(cat "$WORK/step.txt")"
done
# After the close, the file read is no longer open.
closed=$(at show "$ID" --events --json --call close | "$PYTHON" -c '
import json, sys
print(next(e["seq"] for e in map(json.loads, sys.stdin) if e.get("fd") == int(sys.argv[1])))' "$in_fd")
at show "$ID" --step $((closed + 1)) --json | "$PYTHON" -c '
import json, sys
fds = {d["fd"] for d in json.load(sys.stdin)["world"]["descriptors"]}
assert int(sys.argv[1]) not in fds, fds' "$in_fd" || fail "the closed descriptor is still shown"

# The same world at every step, with no keyframes, the default, or one every 7 events.
world_at() { at show "$1" --step "$2" --json | "$PYTHON" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["world"], sort_keys=True))'; }
DEFAULT=$ID
port_line=$port
greeter_start hi
sed -i "s/$port_line/$GREETER_PORT/" "$WORK/world.py"
record 7
wait "$GREETER_PID" || true
SEVEN=$ID
events=$(at show "$SEVEN" --json | "$PYTHON" -c '
import json, sys
print(next(s["events"] for s in json.load(sys.stdin)["streams"] if s["root"]))')
# Every step of the keyframed trace, against the world followed from step 0: the same.
at verify "$SEVEN" >/dev/null || fail "the trace with a keyframe every 7 events is not sound"
at show "$SEVEN" >"$WORK/summary.txt"
grep -qE "[1-9][0-9]* keyframes" "$WORK/summary.txt" || fail "no keyframes: $(grep stored "$WORK/summary.txt")"
"$PYTHON" - "$AGENTTRACE" "$SEVEN" "$events" <<'PY'
import json, subprocess, sys
at, tid, events = sys.argv[1], sys.argv[2], int(sys.argv[3])
def show(step, *extra):
    out = subprocess.run([at, "show", tid, "--step", str(step), "--json", *extra],
                         capture_output=True, check=True)
    return json.loads(out.stdout)
steps = sorted(set(list(range(0, 30)) + list(range(0, events + 1, max(1, events // 40))) + [events]))
for step in steps:
    a, b = show(step), show(step, "--no-keyframes")
    assert b["keyframe"] == 0 and a["keyframe"] == 7 * (step // 7), (step, a["keyframe"])
    assert a["world"] == b["world"], (step, a["world"], b["world"])
    assert a["around"] == b["around"], step
PY

# A damaged keyframe: a warning, and the keyframe before it gives the same world.
trace="$AGENTTRACE_HOME/traces/$SEVEN/trace.at"
good=$(world_at "$SEVEN" 20)
cp "$trace" "$WORK/seven.good"
kf=$("$PYTHON" - "$trace" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
index = struct.unpack_from("<Q", b, len(b) - 32 + 8)[0]
nstreams, nchunks = struct.unpack_from("<II", b, index + 4)
at = index + 16 + 56 * nstreams
for i in range(nchunks):
    off, first, stream, events, raw, zlen, crc, kind = struct.unpack_from("<QQIIIIII", b, at + 40 * i)
    if kind == 1 and first == 14:
        print(off)
PY
)
[ -n "$kf" ] || fail "no keyframe at step 14"
printf '\x5a' | dd of="$trace" bs=1 seek=$((kf + 44)) count=1 conv=notrunc status=none
cmp -s "$trace" "$WORK/seven.good" && fail "the byte flip changed nothing"
at show "$SEVEN" --step 20 --json >"$WORK/damaged.json" 2>"$WORK/damaged.err" ||
	fail "show --step 20 with a damaged keyframe failed: $(cat "$WORK/damaged.err")"
grep -q "keyframe of process 1 of trace $SEVEN at step 14 is damaged" "$WORK/damaged.err" ||
	fail "no warning about the damaged keyframe: $(cat "$WORK/damaged.err")"
[ "$("$PYTHON" -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["world"], sort_keys=True))' "$WORK/damaged.json")" = "$good" ] ||
	fail "the world from the keyframe before the damaged one differs"
expect_status 65 at verify "$SEVEN"
at verify "$SEVEN" >"$WORK/verify.out" 2>&1 || true
grep -q "the keyframe at step 14" "$WORK/verify.out" || fail "verify does not name the keyframe: $(cat "$WORK/verify.out")"
at replay "$SEVEN" >"$WORK/seven.replay" 2>"$WORK/seven.replay.err" ||
	fail "replay refuses a trace whose only damage is a keyframe: $(cat "$WORK/seven.replay.err")"
cmp -s "$WORK/seven.replay" "$WORK/world.out" || fail "the replay printed other lines"
cp "$WORK/seven.good" "$trace"

# Bad steps.
expect_status 76 at show "$DEFAULT" --step $((events * 100))
expect_status 64 at show "$DEFAULT" --step -1
expect_status 64 at show "$DEFAULT" --step x
expect_status 76 at show "$DEFAULT" --step 1.9:0
expect_status 76 at show "$DEFAULT" --step 1.2:0 --process 1
expect_status 64 at show "$DEFAULT" --step 3 --events
at show "$DEFAULT" --step $((events * 100)) >"$WORK/past.out" 2>&1 || true
grep -q "is past the end of process 1" "$WORK/past.out" || fail "a step past the end does not say so: $(cat "$WORK/past.out")"
