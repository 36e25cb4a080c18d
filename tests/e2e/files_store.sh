# The blob store: large reads are stored once for every trace that read them, so ten
# recordings of a Python program take less than twice the space of one; verify and replay
# name a missing blob; gc frees what no trace reads, and nothing a trace still reads.
. "$(dirname "$0")/lib.sh"
prog='import json, re, datetime, pathlib; print(json.dumps({"n": 1}), re.sub("a", "b", "aa"))'
size() { du -sb "$AGENTTRACE_HOME/traces" "$AGENTTRACE_HOME/blobs" | awk '{s += $1} END {print s}'; }

expect_status 0 at record -- "$PYTHON" -c "$prog" >/dev/null 2>&1
FIRST=$(last_id)
one=$(size)
nblobs=$(find "$AGENTTRACE_HOME/blobs" -type f | wc -l)
[ "$nblobs" -gt 5 ] || fail "python's module reads did not reach the blob store ($nblobs blobs)"
for _ in 2 3 4 5 6 7 8 9 10; do
	expect_status 0 at record -- "$PYTHON" -c "$prog" >/dev/null 2>&1
done
ten=$(size)
[ "$ten" -lt $((2 * one)) ] || fail "ten recordings take $ten bytes, one took $one: not shared"
[ "$(find "$AGENTTRACE_HOME/blobs" -type f | wc -l)" -eq "$nblobs" ] ||
	fail "the same program's reads made new blobs"
at replay "$FIRST" >/dev/null 2>&1 || fail "replay from the blob store failed"

# gc: nothing to free while every trace is there; everything once they are all gone.
at gc --grace 0 | grep -q '^removed 0 blobs' || fail "gc removed blobs traces still read"
at replay "$FIRST" >/dev/null 2>&1 || fail "replay failed after gc"

# A blob gone from under a trace: verify and replay say so and exit 65 (damaged).
blob=$(find "$AGENTTRACE_HOME/blobs" -type f | head -n 1)
mv "$blob" "$WORK/saved-blob"
expect_status 65 at verify "$FIRST" 2>"$WORK/verify.err"
grep -q 'blob store' "$WORK/verify.err" || fail "verify does not name the blob store: $(cat "$WORK/verify.err")"
expect_status 65 at replay "$FIRST" 2>"$WORK/replay.err" >/dev/null
grep -q 'blob store' "$WORK/replay.err" || fail "replay does not name the blob store: $(cat "$WORK/replay.err")"
mv "$WORK/saved-blob" "$blob"
at verify "$FIRST" >/dev/null || fail "verify fails with the blob back"

for id in $(at list -q); do at rm "$id" >/dev/null 2>&1; done
at gc --grace 0 | grep -q "^removed $nblobs blobs" || fail "gc did not free the blobs of removed traces"
[ "$(find "$AGENTTRACE_HOME/blobs" -type f | wc -l)" -eq 0 ] || fail "blobs left after gc"
