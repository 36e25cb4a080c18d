# replay --mark-stdio (issue 7): each line the program prints on stdout and stderr starts
# with "[KEY:STEP] ", the process and step of the write that began it (a line written in
# several calls is marked once), and with the marks removed the output is the
# recording's, byte for byte: the replay compared the program's own bytes.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

# print() of several items writes each on its own; a line in two writes; two lines in one
# write; a child (key 1.1) writing to the same stdout; a last line without a newline.
cat >"$WORK/out.py" <<'PY'
import os, sys
for i in range(3):
    print("line", i, os.urandom(2).hex(), flush=True)
print("to stderr", os.urandom(2).hex(), file=sys.stderr, flush=True)
sys.stdout.write("partial ")
sys.stdout.flush()
sys.stdout.write("end\n")
sys.stdout.flush()
os.write(1, b"a\nb\n")
os.system("echo child " + os.urandom(2).hex())
os.write(2, b"err 2\n")
os.write(1, b"no newline at the end")
PY
prog=("$PYTHON" "$WORK/out.py")
differs_live out "${prog[@]}"
at record -- "${prog[@]}" >"$WORK/rec.out" 2>"$WORK/rec.err" || fail "record failed: $(cat "$WORK/rec.err")"
ID=$(last_id)
sed -i '/^agenttrace: /d' "$WORK/rec.err" # the recording's summary
[ "$(wc -l <"$WORK/rec.out")" -eq 7 ] || fail "the recording printed: $(cat "$WORK/rec.out")"

s=0
at replay "$ID" --mark-stdio >"$WORK/rep.out" 2>"$WORK/rep.err" || s=$?
[ "$s" -eq 0 ] || fail "replay --mark-stdio exited $s: $(cat "$WORK/rep.err")"
! grep -q '^agenttrace: ' "$WORK/rep.err" || fail "replay --mark-stdio said: $(cat "$WORK/rep.err")"
mark='^\[[0-9.]+:[0-9]+\] '
for f in out err; do
	# every line is marked...
	n=$(grep -cvE "$mark" "$WORK/rep.$f" || true)
	[ "$n" -eq 0 ] || fail "$n lines of std$f are not marked: $(cat "$WORK/rep.$f")"
	# ...once, at its start: without the marks, the recording byte for byte
	sed -E "s/$mark//" "$WORK/rep.$f" | cmp -s - "$WORK/rec.$f" ||
		fail "std$f without its marks differs from the recording: $(diff <(sed -E "s/$mark//" "$WORK/rep.$f") "$WORK/rec.$f")"
done
# Each mark is the step of the write that began its line: in each process, the writes to
# fd 1 (stdout) and 2 (stderr) in step order, a new line starting after each newline.
at show "$ID" --events --json >"$WORK/events.json"
"$PYTHON" - "$WORK/events.json" "$WORK/rep.out" "$WORK/rep.err" <<'PY'
import json, re, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert {e["key"] for e in ev} >= {"1", "1.1"}, "expected the root and its child 1.1"
for fd, path in ((1, sys.argv[2]), (2, sys.argv[3])):
    want = {}  # key -> [(step, the line's text)]
    for key in sorted({e["key"] for e in ev}):
        line_start, lines = True, []
        for e in sorted((e for e in ev if e["key"] == key), key=lambda e: e["seq"]):
            if e["call"] not in ("write", "writev") or e.get("fd") != fd:
                continue
            for i, c in enumerate(e["data"]):
                if line_start:
                    lines.append([e["seq"], ""])
                lines[-1][1] += c
                line_start = c == "\n"
        if lines:
            want[key] = [(s, t.rstrip("\n")) for s, t in lines]
    got = {}
    for l in open(path, encoding="latin-1").read().split("\n"):
        if not l:
            continue
        m = re.match(r"\[([0-9.]+):([0-9]+)\] (.*)", l, re.S)
        assert m, f"fd {fd}: unmarked line {l!r}"
        got.setdefault(m[1], []).append((int(m[2]), m[3]))
    assert got == want, f"fd {fd}: marks {got}, the writes that began the lines {want}"
PY
# the line printed in two writes is marked with the first
grep -qE '^\[1:[0-9]+\] partial end$' "$WORK/rep.out" || fail "no marked 'partial end': $(cat "$WORK/rep.out")"
grep -qE '^\[1\.1:[0-9]+\] child [0-9a-f]{4}$' "$WORK/rep.out" || fail "the child's line is not marked 1.1: $(cat "$WORK/rep.out")"

# Without --mark-stdio nothing is marked.
at replay "$ID" >"$WORK/plain.out" 2>/dev/null || fail "replay failed"
cmp -s "$WORK/plain.out" "$WORK/rec.out" || fail "the replay without --mark-stdio differs: $(cat "$WORK/plain.out")"
