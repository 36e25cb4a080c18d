# Child processes made by Debian's python3 (samples/proc_python.py, issue 6): subprocess.run
# (vfork and exec) of date, of od on /dev/urandom and of a shell that exits 3, their output
# captured through pipes, and an os.fork child that prints the clock and random bytes and
# exits with a random status, reaped by os.waitpid. Every pid the script prints is the
# recorded one (getpid, getppid, what fork and waitpid return) and every child is replayed
# from its own stream, not run live.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"
prog=("$PYTHON" "$SRCDIR/samples/proc_python.py")
differs_live python "${prog[@]}"
record_replay python "${prog[@]}"
# What the script prints, line by line: the children's output and statuses, their pids.
"$PYTHON" - "$WORK/python.rec" <<'PY' || fail "the recording is not what the script prints: $(cat "$WORK/python.rec")"
import re, sys
want = [r"parent (\d+) \d+", r"date status 0 out '\d{19}' err ''",
        r"od status 0 out '[0-9a-f]{16}' err ''", r"sh status 3 out 'pid \d+' err 'failing'",
        r"child (\d+) (\d+) \d{19} [0-9a-f]{8}", r"forked (\d+) True exit \d+",
        r"parent (\d+) done \d{19}"]
lines = open(sys.argv[1]).read().splitlines()
m = [re.fullmatch(w, l) for w, l in zip(want, lines)]
assert len(lines) == len(want) and all(m), lines
parent, child = m[0][1], m[4][1]
assert m[4][2] == parent and m[5][1] == child and m[6][1] == parent, lines
PY
for f in "$WORK"/python.rep1.err "$WORK"/python.rep2.err; do
	! grep -q 'ran live' "$f" || fail "children ran live on replay: $(cat "$f")"
done
at show "$ID" --json >"$WORK/show.json"
"$PYTHON" - "$WORK/show.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["exit"] == {"code": 0}, f"the recording exited {s['exit']}, expected 0"
# python3, then date, od, sh and the fork child, each in its own process
assert s["processes"] >= 5, f"expected python3 and its 4 children, got {s['processes']} processes"
assert all(p["complete"] for p in s["streams"]), s["streams"]
PY
