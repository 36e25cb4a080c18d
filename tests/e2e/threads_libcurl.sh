# Threads making HTTP calls at once through libcurl (samples/threads_libcurl.c, issue 6):
# four threads, three GETs each, their answers (random bytes) delayed by the server so the
# threads' calls interleave; each thread prints a line as each answer arrives, then main
# prints every answer in thread order. Each replay, with the server running (it would
# count a request) and stopped, must print the recording's bytes: the arrival lines in the
# recorded order (the threads' calls run in that order), every thread served its own
# answers, and no connection made.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

http_server_start --max-seconds 60
prog=("$SAMPLES/threads_libcurl" "http://127.0.0.1:$HTTP_PORT")
n=$(http_requests)
differs_live threads "${prog[@]}"
http_wait_requests $((n + 24))
n=$(http_requests)
expect_status 0 at record -- "${prog[@]}" >"$WORK/threads.rec" 2>"$WORK/threads.rec.err"
ID=$(last_id)
# 12 arrival lines, in the order the answers came, then the answers in thread order.
arrived= answers=
for t in 0 1 2 3; do
	for r in 0 1 2; do
		arrived+="arrived: thread $t request $r"$'\n'
		answers+="thread $t request $r status 200 HEX"$'\n'
	done
done
[ "$(head -n 12 "$WORK/threads.rec" | sort)" = "${arrived%$'\n'}" ] &&
	[ "$(tail -n +13 "$WORK/threads.rec" | sed -E 's/[0-9a-f]{64}/HEX/')" = "${answers%$'\n'}" ] ||
	fail "the recording did not print the server's answers: $(cat "$WORK/threads.rec")"
http_wait_requests $((n + 12))
[ "$(http_requests)" -eq $((n + 12)) ] ||
	fail "the server counted $(($(http_requests) - n)) requests while recording, expected 12"
at show "$ID" --json >"$WORK/show.json"
"$PYTHON" - "$WORK/show.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
root = [p for p in s["streams"] if p["root"]][0]
assert root["threads"] >= 5, f"expected main and 4 threads in the trace, got {root}"
PY

net_check_replay threads "$ID" running
http_server_stop
net_check_replay threads "$ID" stopped
