# A trace damaged on disk: verify names the damaged chunk, replay refuses to run, and
# both exit 65. Truncation is caught too.
. "$(dirname "$0")/lib.sh"
at record -- "$SAMPLES/time_random" >/dev/null 2>&1
ID=$(last_id)
trace="$AGENTTRACE_HOME/traces/$ID/trace.at"
at verify "$ID" >/dev/null || fail "fresh trace does not verify"
cp "$trace" "$WORK/good"

# Flip one byte inside the first chunk's compressed data (the header is 64 bytes and a
# chunk header 40, so byte 120 is compressed data).
printf '\x5a' | dd of="$trace" bs=1 seek=120 count=1 conv=notrunc status=none
cmp -s "$trace" "$WORK/good" && fail "the byte flip changed nothing"
expect_status 65 at verify "$ID" 2>"$WORK/verify.err"
grep -q 'chunk 0' "$WORK/verify.err" || fail "verify does not name the chunk: $(cat "$WORK/verify.err")"
expect_status 65 at replay "$ID" >"$WORK/replay.out" 2>"$WORK/replay.err"
grep -q 'damaged' "$WORK/replay.err" || fail "replay does not say the trace is damaged"
[ ! -s "$WORK/replay.out" ] || fail "replay ran the program on a damaged trace"
expect_status 65 at show "$ID" --events >/dev/null 2>&1

# Cut the file short: the trailer is gone.
cp "$WORK/good" "$trace"
truncate -s -7 "$trace"
expect_status 65 at verify "$ID" 2>"$WORK/verify.err"
grep -q 'truncated' "$WORK/verify.err" || fail "verify does not say truncated: $(cat "$WORK/verify.err")"
expect_status 65 at replay "$ID" >/dev/null 2>&1

# Restored, it is sound again (the checks judge the bytes, nothing else).
cp "$WORK/good" "$trace"
at verify "$ID" >/dev/null || fail "restored trace does not verify"
