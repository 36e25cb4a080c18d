# show --events: file events name their fd and path; the JSON form has the read's fd,
# path, offset, byte count and the bytes themselves.
. "$(dirname "$0")/lib.sh"
f="$WORK/shown.txt"
printf 'SHOWMARKER 81c4: a line to find in the trace\n' >"$f"
# Through a pipe: to a regular file GNU cat would copy with copy_file_range, not read.
at record -- cat "$f" 2>"$WORK/rec.err" | cat >/dev/null ||
	fail "recording failed: $(cat "$WORK/rec.err")"
ID=$(last_id)
at show "$ID" --events >"$WORK/events.txt"
at show "$ID" --events --json >"$WORK/events.json"
"$PYTHON" - "$WORK" "$f" <<'PY'
import json, os, re, sys
work, path = sys.argv[1], sys.argv[2]
events = [json.loads(l) for l in open(f"{work}/events.json")]
lines = open(f"{work}/events.txt").read().splitlines()
assert len(lines) == len(events), (len(lines), len(events))
size = os.path.getsize(path)
reads = [e for e in events if e["call"] in ("read", "pread", "pread64") and e.get("path") == path]
assert reads, f"no read of {path} in {[e['call'] for e in events][:40]}"
r = reads[0]
assert r["fd"] >= 3, r
assert r["offset"] == 0, r
assert r["bytes"] == size, (r, size)
assert "SHOWMARKER 81c4" in r["data"], r
assert r["data"].encode("latin-1") == open(path, "rb").read(), r
# The same event, as text: its line names the path and the fd.
line = lines[r["seq"]]
assert path in line and re.search(rf"\b{r['fd']}\b", line), line
opens = [e for e in events if e["call"] in ("open", "openat") and e.get("path") == path]
assert opens and opens[0]["ret"] == r["fd"], opens
PY
