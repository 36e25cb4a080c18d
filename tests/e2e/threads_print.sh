# Threads printing at once (samples/print_threads.c: 4 threads, printf and fflush, their
# lines interleaved as the scheduler liked): every replay prints the recorded lines in the
# recorded order, and keeps the recorded order of threads without relaxing it. printf holds
# the stream's lock while it writes; a replay that made that write wait for its turn
# deadlocked with the thread whose turn it was, until the order was relaxed and the lines
# came out in another order (replay/output.c).
. "$(dirname "$0")/lib.sh"
differs_live print "$SAMPLES/print_threads" 4 6
at record -- "$SAMPLES/print_threads" 4 6 >"$WORK/rec.out" 2>"$WORK/rec.err" ||
	fail "recording failed: $(cat "$WORK/rec.err")"
ID=$(last_id)
[ "$(wc -l <"$WORK/rec.out")" -eq 25 ] || fail "the program printed: $(cat "$WORK/rec.out")"
for i in $(seq 15); do
	s=0
	timeout 60 "$AGENTTRACE" replay "$ID" >"$WORK/rep.out" 2>"$WORK/rep.err" || s=$?
	[ "$s" -eq 0 ] || fail "replay $i exited $s: $(cat "$WORK/rep.err")"
	cmp -s "$WORK/rec.out" "$WORK/rep.out" ||
		fail "replay $i printed the lines in another order: $(diff "$WORK/rec.out" "$WORK/rep.out" | head -8)"
	! grep -q "relaxed" "$WORK/rep.err" || fail "replay $i relaxed the order: $(cat "$WORK/rep.err")"
done
