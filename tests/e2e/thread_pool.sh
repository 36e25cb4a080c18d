# Threads whose order the world decides (samples/thread_pool.py, issue 6): a Python
# ThreadPoolExecutor of 4 workers, each fetching an answer the server delays by another
# amount, printed in as_completed order. Recorded once; then, with the server stopped, 20
# replays must each print the recording's bytes (the same order, each worker its own
# answer), exit 0 and take less than 10 s: the replay runs the threads' calls in their
# recorded order, relaxing it where it must, and never waits for the server's delays.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

http_server_start --max-seconds 60
prog=("$PYTHON" "$SRCDIR/samples/thread_pool.py" "http://127.0.0.1:$HTTP_PORT")
n=$(http_requests)
differs_live pool "${prog[@]}"
http_wait_requests $((n + 8))
n=$(http_requests)
expect_status 0 at record -- "${prog[@]}" >"$WORK/pool.rec" 2>"$WORK/pool.rec.err"
ID=$(last_id)
# The server's delays decide the order: 100, 200, 300, 400 ms.
printf -v want 'worker %s status 200 HEX\n' '1 delay 100 ms' '3 delay 200 ms' '2 delay 300 ms' \
	'0 delay 400 ms'
[ "$(sed -E 's/[0-9a-f]{64}/HEX/' "$WORK/pool.rec")" = "${want%$'\n'}" ] ||
	fail "the recording did not print the answers in the order of the server's delays: $(cat "$WORK/pool.rec")"
http_wait_requests $((n + 4))
[ "$(http_requests)" -eq $((n + 4)) ] ||
	fail "the server counted $(($(http_requests) - n)) requests while recording, expected 4"
http_server_stop

relaxed=0 # replays that reported relaxing the recorded order
for run in $(seq 20); do
	s=0
	t0=$(date +%s%N)
	timeout 60 "$AGENTTRACE" replay "$ID" >"$WORK/pool.rep$run" 2>"$WORK/pool.rep$run.err" || s=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	cmp -s "$WORK/pool.rec" "$WORK/pool.rep$run" ||
		fail "replay $run of 20 differs from the recording: $(diff "$WORK/pool.rec" "$WORK/pool.rep$run" | head -20; head -20 "$WORK/pool.rep$run.err")"
	[ "$s" -eq 0 ] || fail "replay $run of 20 exited $s: $(head -20 "$WORK/pool.rep$run.err")"
	[ "$ms" -lt 10000 ] || fail "replay $run of 20 took $ms ms, more than 10 s"
	! grep -q relaxed "$WORK/pool.rep$run.err" || relaxed=$((relaxed + 1))
done
# For information, not a failure: how often the replays had to relax the recorded order.
if [ "$relaxed" -gt 0 ]; then
	echo "thread_pool: $relaxed of 20 replays relaxed the recorded order of threads:"
	grep -h relaxed "$WORK"/pool.rep*.err | sort | uniq -c
fi
