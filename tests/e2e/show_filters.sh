# show --events filters (--from, --to, --call, --thread, --process, --grep): each filtered
# listing, text and JSON, is exactly the events of the full listing that pass, worked out
# here from the full output; a late --from does not read earlier chunks, and --to stops
# before later ones; a bad filter is a usage error (64) that says what is wrong.
. "$(dirname "$0")/lib.sh"

# Six processes (bash, date, ls and wc in a pipe, a threaded program, cat), four threads in
# one of them, a file read through an fd opened a few steps earlier, an open that fails.
f="$WORK/in.txt"
printf 'FILTERMARK 5d1e: a line to grep for\n' >"$f"
record_replay family bash -c "date; ls / | wc -l; '$SAMPLES/threads' 3 5 serial
	cat '$f' '$WORK/missing' 2>/dev/null; true"
FAMILY=$ID
at show "$ID" --json >"$WORK/summary.json"

"$PYTHON" - "$AGENTTRACE" "$ID" "$WORK" "$f" <<'PY' || fail "a filtered listing is wrong"
import json, re, subprocess, sys
at, tid, work, path = sys.argv[1:5]

def show(*args):
    r = subprocess.run([at, "show", tid, "--events", *args], capture_output=True)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    assert r.stderr == b"", (args, r.stderr)
    return r.stdout.decode("utf-8", "surrogateescape")

def json_lines(text):  # not splitlines(): data holds U+0085, U+001C... which it splits on
    return [json.loads(l) for l in text.split("\n")[:-1]]

LINE = re.compile(r"^ *(\d+)  t(\d+) +(.*)  \[(\d+) ns\]((?:  \(inside TLS\))?)$")
HEADER = re.compile(r"^process (\S+) \(pid (\d+)\)( \(the program\))?:$")

def parse_text(text):
    """[(header line, key, [(event line, text, text and TLS mark)])], one per process."""
    blocks = []
    for line in text.split("\n")[:-1]:
        if line == "":
            continue
        h = HEADER.match(line)
        if h:
            blocks.append((line, h.group(1), []))
            continue
        m = LINE.match(line)
        assert m and blocks, line
        blocks[-1][2].append((line, m.group(3), m.group(3) + m.group(5)))
    return blocks

# The full listing: every JSON event beside its text line, in the same order.
events = json_lines(show("--json"))
blocks = parse_text(show())
summary = json.load(open(f"{work}/summary.json"))
keys = [n["key"] for n in summary["tree"]]
assert [b[1] for b in blocks] == keys, ([b[1] for b in blocks], keys)
headers = {key: line for line, key, _ in blocks}
lines = [l for _, _, ls in blocks for l in ls]
assert len(lines) == len(events) == summary["events"], (len(lines), len(events))
for e, (line, text, body) in zip(events, lines):
    m = LINE.match(line)
    assert (int(m.group(1)), int(m.group(2))) == (e["seq"], e["thread"]), (e, line)
    assert body.startswith(e["call"] + "("), (e, line)
    e["_line"], e["_text"], e["_body"] = line, text, body
key_of = {n["key"]: n for n in summary["tree"]}
threaded = next(k for k, n in key_of.items() if len(n["threads"]) == 4)
reader = next(k for k, n in key_of.items() if n["argv"][0] == "cat")

def passes(e, o):
    return (o.get("from", 0) <= e["seq"] <= o.get("to", 1 << 62)
            and ("call" not in o or e["call"] in o["call"])
            and ("thread" not in o or e["thread"] == o["thread"])
            and ("process" not in o or e["key"] == o["process"])
            and ("grep" not in o or o["grep"] in e["_body"]))

def argv(o):
    a = []
    for name in ("from", "to", "thread", "process", "grep"):
        if name in o:
            a += [f"--{name}", str(o[name])]
    for c in o.get("call", []):
        a += ["--call", c]
    return a

def same_event(got, want, late_from):
    """Equal, --from or not: the file view at a late step comes from the keyframe before it."""
    return got == want

def same_line(got, want, late_from):
    return got[0] == want["_line"]

def check(o, nonempty=True):
    want = [e for e in events if passes(e, o)]
    if nonempty:  # a case that keeps everything or nothing would prove little
        assert 0 < len(want) < len(events), (o, len(want))
    late = o.get("from", 0) > 0
    a = argv(o)
    got = json_lines(show("--json", *a))
    wantj = [{k: v for k, v in e.items() if not k.startswith("_")} for e in want]
    assert len(got) == len(wantj), \
        (o, [(g["key"], g["seq"]) for g in got][:40], [(w["key"], w["seq"]) for w in wantj][:40])
    bad = [(g, w) for g, w in zip(got, wantj) if not same_event(g, w, late)]
    assert not bad, (o, "got, wanted:", bad[0])
    # Text: a process's header only above its first shown event, a blank line between.
    text = show(*a)
    tb = parse_text(text)
    assert [b[1] for b in tb] == sorted({e["key"] for e in want}, key=keys.index), (o, tb)
    assert all(b[0] == headers[b[1]] for b in tb), (o, tb)
    tl = [l for _, _, ls in tb for l in ls]
    assert len(tl) == len(want) and all(same_line(g, w, late) for g, w in zip(tl, want)), \
        (o, tl[:20], [w["_line"] for w in want][:20])
    assert "\n\n\n" not in text and not text.startswith("\n"), (o, text[:300])
    return want

check({"from": 5, "to": 8})
check({"to": 3})
check({"from": 0, "to": 0})
check({"from": 6})
check({"call": ["read"]})
check({"call": ["read", "write"]})
check({"call": ["clock_gettime", "getrandom", "thread_start"]})
check({"thread": 2})
check({"thread": 0})
check({"process": threaded})
check({"process": "1"})
check({"grep": "FILTERMARK 5d1e"})
check({"grep": "ENOENT"})
check({"grep": "<stdout>"})
check({"grep": " = -1"})
check({"grep": path})
check({"process": threaded, "thread": 1, "call": ["getrandom"]})
check({"call": ["write"], "grep": "FILTERMARK"})
t3 = [e for e in events if e["key"] == threaded and e["thread"] == 3]
assert len(t3) > 4, t3
check({"from": t3[1]["seq"], "to": t3[-2]["seq"], "thread": 3, "grep": "CLOCK_MONOTONIC"})
check({"from": 1, "call": ["close", "write"], "process": reader})
# A thread no process has, a step past every end: nothing, and no header.
assert show("--thread", "9") == "" and show("--from", "100000") == ""
assert show("--json", "--grep", "no event says this 3c9a") == ""

# Each --from in the reader's stream: the path and offset of a file opened before the
# step are those of the whole listing (the second read, at offset 36, would seem at 0 if
# the view counted from where it starts, and would have no path if it started blind).
n = sum(1 for e in events if e["key"] == reader)
for start in range(n + 1):
    check({"process": reader, "from": start}, nonempty=False)
reads = [e for e in events if e["key"] == reader and e["call"] == "read" and e.get("path") == path]
assert len(reads) >= 2 and reads[1]["offset"] > 0, reads
late = json_lines(show("--json", "--process", reader, "--from", str(reads[1]["seq"])))
assert late[0]["seq"] == reads[1]["seq"], late[0]
assert late[0]["offset"] == 36 == reads[1]["offset"] and late[0]["path"] == path, late[0]
PY

# A late --from reads only the chunks from its step on, and --to none after its step: with
# an earlier (or later) chunk damaged, they still print what the sound trace printed.
# A keyframe every 1000 events: chunks end there too, so the 4000 events fill several.
at record --keyframe-every 1000 -- "$SAMPLES/threads" 1 4000 serial >/dev/null 2>"$WORK/long.err" ||
	fail "recording threads failed: $(cat "$WORK/long.err")"
ID=$(last_id)
trace="$AGENTTRACE_HOME/traces/$ID/trace.at"
cp "$trace" "$WORK/long.good"
# The event chunks of stream 0 from the index (docs/format.md): "offset first_seq" per line,
# in step order. Keyframe chunks (no events) do not count: show does not read them.
"$PYTHON" - "$trace" >"$WORK/chunks" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[-4:] == b"TEND", b[-4:]
index = struct.unpack_from("<Q", b, len(b) - 32 + 8)[0]
assert b[index:index + 4] == b"INDX"
nstreams, nchunks = struct.unpack_from("<II", b, index + 4)
at = index + 16 + 56 * nstreams
for i in range(nchunks):
    off, first, stream, events = struct.unpack_from("<QQII", b, at + 40 * i)
    assert b[off:off + 4] == b"CHNK", (i, off)
    if stream == 0 and events:
        print(off, first)
PY
[ "$(wc -l <"$WORK/chunks")" -ge 2 ] ||
	fail "threads 1 4000 made fewer than 2 chunks: $(cat "$WORK/chunks")"
read -r first_off _ < <(head -n 1 "$WORK/chunks")
read -r last_off last_seq < <(tail -n 1 "$WORK/chunks")
read -r _ second_seq < <(sed -n 2p "$WORK/chunks")
at show "$ID" --events --from "$last_seq" >"$WORK/late.good"
at show "$ID" --events --to $((second_seq - 1)) >"$WORK/early.good"
[ -s "$WORK/late.good" ] && [ -s "$WORK/early.good" ] || fail "--from or --to printed nothing"
quiet() { "$@" >/dev/null 2>&1; } # for expect_status: its own message must still show
damage() { # damage OFFSET: flips a byte of the compressed data of the chunk there
	cp "$WORK/long.good" "$trace"
	printf '\x5a' | dd of="$trace" bs=1 seek=$(($1 + 48)) count=1 conv=notrunc status=none
	cmp -s "$trace" "$WORK/long.good" && fail "the byte flip changed nothing"
	expect_status 65 quiet at show "$ID" --events
}
damage "$first_off"
at show "$ID" --events --from "$last_seq" >"$WORK/late.out" 2>"$WORK/late.err" ||
	fail "--from $last_seq read the damaged first chunk: $(cat "$WORK/late.err")"
cmp -s "$WORK/late.out" "$WORK/late.good" ||
	fail "--from $last_seq printed other events with chunk 0 damaged"
expect_status 65 quiet at show "$ID" --events --from $((second_seq - 1))
damage "$last_off"
at show "$ID" --events --to $((second_seq - 1)) >"$WORK/early.out" 2>"$WORK/early.err" ||
	fail "--to $((second_seq - 1)) read the damaged last chunk: $(cat "$WORK/early.err")"
cmp -s "$WORK/early.out" "$WORK/early.good" ||
	fail "--to printed other events with the last chunk damaged"
cp "$WORK/long.good" "$trace"

# Bad filters: exit 64, nothing on stdout, and a message that names what is wrong.
ID=$FAMILY
bad() { # bad WANT_IN_MESSAGE ARGS...
	local want=$1 got=0
	shift
	at show "$ID" "$@" >"$WORK/bad.out" 2>"$WORK/bad.err" || got=$?
	[ "$got" -eq 64 ] || fail "'show $*' exited $got, expected 64: $(cat "$WORK/bad.err")"
	[ ! -s "$WORK/bad.out" ] || fail "'show $*' printed on stdout: $(head -5 "$WORK/bad.out")"
	grep -qF -e "$want" "$WORK/bad.err" ||
		fail "'show $*' does not say '$want': $(cat "$WORK/bad.err")"
}
bad "--from takes a step number" --events --from -1
bad "not 'abc'" --events --from abc
bad "--to takes a step number" --events --to 1.5
bad "--to takes a step number" --events --to ''
bad "--thread takes a thread number" --events --thread -2
bad "--thread takes a thread number" --events --thread 4294967296
bad "--from 9 is after --to 3" --events --from 9 --to 3
bad "--from needs a value" --events --from
bad "no call named 'nosuch'" --events --call read --call nosuch
bad "add --events" --grep FILTERMARK
bad "add --events" --json --call read
keys=$("$PYTHON" -c 'import json, sys
print(", ".join(n["key"] for n in json.load(open(sys.argv[1]))["tree"]))' "$WORK/summary.json")
bad "has no process '1.9'; its processes are $keys" --events --process 1.9
bad "has no process '1.9'" --events --json --process 1.9
