# show and list: the summary, the event listing and its JSON form carry what they promise.
. "$(dirname "$0")/lib.sh"
expect_status 0 at list -q
at record --name first -- "$SAMPLES/time_random" >/dev/null 2>&1
first=$(last_id)
sleep 0.01
at record -- date +%s >/dev/null 2>&1
second=$(last_id)
[ "$(at list -q | head -n 1)" = "$second" ] || fail "list is not newest first"
[ "$(at list -q | wc -l)" -eq 2 ] || fail "list -q shows $(at list -q | wc -l) ids"
at list | grep -q first || fail "list does not show names"
at list --json >"$WORK/list.json"
at show "$first" >"$WORK/summary"
for field in command program directory started status events calls processes stored complete; do
	grep -q "^$field " "$WORK/summary" || fail "summary lacks '$field'"
done
grep -q 'status     exit 0' "$WORK/summary" || fail "status missing: $(cat "$WORK/summary")"
at show "$first" --json >"$WORK/show.json"
at show "$first" --events >"$WORK/events.txt"
at show "$first" --events --json >"$WORK/events.json"
"$PYTHON" - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
lst = json.load(open(f"{work}/list.json"))
assert [t["id"] for t in lst][1] == json.load(open(f"{work}/show.json"))["id"]
show = json.load(open(f"{work}/show.json"))
for k in ("argv", "env", "cwd", "start_ns", "end_ns", "exit", "events", "families", "sealed_bytes"):
    assert k in show, k
assert show["exit"] == {"code": 0}
events = [json.loads(l) for l in open(f"{work}/events.json")]
assert len(events) == show["events"], (len(events), show["events"])
assert [e["seq"] for e in events] == list(range(len(events)))
for e in events:
    for k in ("seq", "thread", "call", "ret", "errno", "dur_ns", "data"):
        assert k in e, (k, e)
# data is the whole payload, one character per byte
g = [e for e in events if e["call"] == "getrandom" and e["ret"] == 32][0]
assert len(g["data"].encode("latin-1")) == 32
c = [e for e in events if e["call"] == "clock_gettime" and e["ret"] == 0][0]
raw = c["data"].encode("latin-1")
assert len(raw) == 16
sec = int.from_bytes(raw[:8], "little", signed=True); nsec = int.from_bytes(raw[8:], "little")
assert c["value"] == f"{sec}.{nsec:09d}", (c["value"], sec, nsec)
err = [e for e in events if e["errno"]][0]
assert err["errno_name"] in ("EINVAL", "EIO"), err
lines = open(f"{work}/events.txt").read().splitlines()
assert len(lines) == len(events)
PY
