# Shared set-up for end-to-end tests: each test gets its own store and scratch directory,
# removed on exit, and a few helpers. Sourced by every tests/e2e/*.sh.
# Environment from meson: AGENTTRACE (the binary), SAMPLES (built samples), SRCDIR.
set -euo pipefail
: "${AGENTTRACE:?run through meson test}" "${SAMPLES:?}" "${SRCDIR:?}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/at-e2e.XXXXXX")
export AGENTTRACE_HOME="$WORK/home"
# Each test's own place for run directories, a tmpfs like the default one: what a test
# leaves there is a run directory agenttrace failed to remove (checked on exit, unless
# the test expects one to stay: KEEPS_RUN_DIRS=1).
RUNTIME=$(mktemp -d /dev/shm/at-e2e-run.XXXXXX 2>/dev/null || mktemp -d "$WORK/run.XXXXXX")
export AGENTTRACE_RUNTIME_DIR="$RUNTIME"
KEEPS_RUN_DIRS=0
# Debian's own programs first: a version manager's shim on PATH would put a different
# program (and a tree of helper processes) between us and the one under test.
export PATH="/usr/bin:/bin:$PATH"
PYTHON=/usr/bin/python3
cleanup_hooks=()
cleanup() {
	local h status=$? left
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	left=$(ls -A "$RUNTIME" 2>/dev/null || true)
	rm -rf "$WORK" "$RUNTIME"
	if [ "$status" -eq 0 ] && [ "$KEEPS_RUN_DIRS" = 0 ] && [ -n "$left" ]; then
		echo "FAIL: run directories left behind: $left" >&2
		exit 1
	fi
}
trap cleanup EXIT

at() { "$AGENTTRACE" "$@"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# The id of the newest trace.
last_id() { at list -q | head -n 1; }

# expect_status WANT CMD...: runs CMD, fails unless it exits with WANT.
expect_status() {
	local want=$1 got=0
	shift
	"$@" || got=$?
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want"
}

# record_replay NAME CMD...: records CMD (stdout to $WORK/NAME.rec), replays it twice and
# fails unless both replays print the recording byte for byte and exit with its status.
# Leaves the trace id in $ID.
record_replay() {
	local name=$1 rec_status=0 s1=0 s2=0
	shift
	at record -- "$@" >"$WORK/$name.rec" 2>"$WORK/$name.rec.err" || rec_status=$?
	ID=$(last_id)
	[ -n "$ID" ] || fail "no trace recorded for $*: $(cat "$WORK/$name.rec.err")"
	at replay "$ID" >"$WORK/$name.rep1" 2>"$WORK/$name.rep1.err" || s1=$?
	at replay "$ID" >"$WORK/$name.rep2" 2>"$WORK/$name.rep2.err" || s2=$?
	cmp "$WORK/$name.rec" "$WORK/$name.rep1" ||
		fail "$name: first replay differs from the recording: $(diff "$WORK/$name.rec" "$WORK/$name.rep1" | head -20; cat "$WORK/$name.rep1.err")"
	cmp "$WORK/$name.rec" "$WORK/$name.rep2" || fail "$name: second replay differs from the recording"
	[ "$s1" -eq "$rec_status" ] || fail "$name: replay exited $s1, recording exited $rec_status: $(cat "$WORK/$name.rep1.err")"
	[ "$s2" -eq "$rec_status" ] || fail "$name: second replay exited $s2, recording $rec_status"
	[ -s "$WORK/$name.rec" ] || fail "$name: the program printed nothing"
}

# differs_live NAME CMD...: the program's output changes between two live runs, so a
# replay that matches the recording shows recording, not a program that ignores the world.
differs_live() {
	local name=$1
	shift
	"$@" >"$WORK/$name.live1" 2>/dev/null || true
	"$@" >"$WORK/$name.live2" 2>/dev/null || true
	! cmp -s "$WORK/$name.live1" "$WORK/$name.live2" || fail "$name: two live runs printed the same output; the test would prove nothing"
}

# snapshot DIR: each entry's name, type, size and mtime (ns), the directory's own too, and
# every file's content hash. Equal snapshots: nothing in DIR changed.
snapshot() {
	(cd "$1" && find . -exec stat -c '%n %F %s %y' {} + | sort &&
		find . -type f -exec sha256sum {} + | sort)
}

# http_server_start [ARGS...]: starts tests/e2e/http_server.py (ARGS go to it, e.g.
# --delay-ms 5) and waits up to 5 s for it to listen. Sets HTTP_PORT, HTTP_PID and
# HTTP_COUNT_FILE (the number of requests it answered; kept after it stops, so a test can
# check that nothing happened since). The cleanup hook stops it if the test fails first.
http_server_start() {
	local port_file="$WORK/http.port" i
	HTTP_COUNT_FILE="$WORK/http.count"
	rm -f "$port_file"
	# Its output to a file: a server holding the test's stdout open would hang meson.
	"$PYTHON" "$SRCDIR/tests/e2e/http_server.py" --port-file "$port_file" \
		--count-file "$HTTP_COUNT_FILE" "$@" >>"$WORK/http.log" 2>&1 &
	HTTP_PID=$!
	cleanup_hooks+=(http_server_stop)
	for i in $(seq 50); do
		[ -s "$port_file" ] && break
		kill -0 "$HTTP_PID" 2>/dev/null || fail "http_server.py exited: $(cat "$WORK/http.log")"
		sleep 0.1
	done
	[ -s "$port_file" ] || fail "http_server.py did not listen within 5 s: $(cat "$WORK/http.log")"
	HTTP_PORT=$(cat "$port_file")
}
# http_server_stop: stops the server started last (SIGTERM) and waits for it.
http_server_stop() {
	[ -n "${HTTP_PID:-}" ] || return 0
	kill -TERM "$HTTP_PID" 2>/dev/null || true
	wait "$HTTP_PID" 2>/dev/null || true
	HTTP_PID=
}
# http_requests: the number of requests the server has answered.
http_requests() { cat "$HTTP_COUNT_FILE"; }
# http_wait_requests N: waits up to 5 s for the server to have counted N requests. It counts
# a request after answering it, so a client may exit before its last one counts; a test that
# reads the count right after a run reads it after this.
http_wait_requests() {
	local i
	for i in $(seq 50); do
		[ "$(http_requests)" -lt "$1" ] || return 0
		sleep 0.1
	done
}

# net_check_replay NAME ID PHASE: replays ID; fails unless it printed $WORK/NAME.rec byte for
# byte, exited 0 and the server counted no new request.
net_check_replay() {
	local name=$1 id=$2 phase=$3 n s=0
	n=$(http_requests)
	at replay "$id" >"$WORK/$name.$phase" 2>"$WORK/$name.$phase.err" || s=$?
	[ "$(http_requests)" -eq "$n" ] ||
		fail "$name: the replay with the server $phase sent it $(($(http_requests) - n)) requests; a replay must never connect"
	cmp -s "$WORK/$name.rec" "$WORK/$name.$phase" ||
		fail "$name: the replay with the server $phase differs from the recording: $(diff "$WORK/$name.rec" "$WORK/$name.$phase" | head -20; head -20 "$WORK/$name.$phase.err")"
	[ "$s" -eq 0 ] || fail "$name: the replay with the server $phase exited $s: $(head -20 "$WORK/$name.$phase.err")"
}

# assert_secret_absent SECRET: fails unless SECRET is in no file under $AGENTTRACE_HOME:
# neither in the raw bytes (grep -r) nor in any sealed trace once decompressed (metadata,
# chunks, event payloads and the blobs they name, written out by $TRACE_BYTES, from
# tests/tools), where zstd would hide it from grep. Names the file it is in.
assert_secret_absent() {
	local secret=$1 hit f n=0
	[ -n "$secret" ] || fail "assert_secret_absent: no secret given"
	hit=$(grep -rlF -e "$secret" "$AGENTTRACE_HOME" || true)
	[ -z "$hit" ] || fail "the secret is in $(echo $hit)"
	while IFS= read -r -d '' f; do
		n=$((n + 1))
		"${TRACE_BYTES:?run through meson test}" "$f" >"$WORK/trace_bytes.out" ||
			fail "trace_bytes cannot read $f"
		! grep -qF -e "$secret" "$WORK/trace_bytes.out" ||
			fail "the secret is in $f (once decompressed)"
	done < <(find "$AGENTTRACE_HOME" -name '*.at' -type f -print0)
	[ "$n" -gt 0 ] || fail "assert_secret_absent: no trace under $AGENTTRACE_HOME to check"
}

# greeter_start MESSAGE...: a TCP server on 127.0.0.1 for one connection, which sends each
# MESSAGE (0.3 s apart), then holds the connection 2 s and ends (or after 20 s without a
# client). Sets GREETER_PORT and GREETER_PID; killed when the test ends.
greeter_start() {
	"$PYTHON" - "$@" >"$WORK/greeter.port" <<-'PY' &
		import socket, sys, time
		s = socket.socket()
		s.bind(("127.0.0.1", 0))
		s.listen(1)
		print(s.getsockname()[1], flush=True)
		s.settimeout(20)
		c, _ = s.accept()
		for i, m in enumerate(sys.argv[1:]):
		    if i:
		        time.sleep(0.3)
		    c.sendall(m.encode())
		time.sleep(2)
	PY
	GREETER_PID=$!
	cleanup_hooks+=("kill $GREETER_PID 2>/dev/null")
	for _ in $(seq 100); do
		[ -s "$WORK/greeter.port" ] && break
		sleep 0.05
	done
	GREETER_PORT=$(cat "$WORK/greeter.port")
	[ -n "$GREETER_PORT" ] || fail "the greeter server did not start"
}
