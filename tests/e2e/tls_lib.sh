# Shared set-up for the HTTPS tests (tests/e2e/tls_*.sh), sourced after lib.sh: a
# certificate made by the test, the test server speaking HTTPS with it, and the checks every
# TLS test makes of its trace (the decrypted body in the events, HTTP in the summary, the
# API key on no disk).
command -v openssl >/dev/null || fail "the openssl command is missing; run scripts/setup.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

# tls_cert_make [NAME]: a self-signed certificate for 127.0.0.1 and localhost (EC P-256,
# valid for one day) in $WORK/NAME.crt, its key in $WORK/NAME.key (NAME: server). Sets
# TLS_CERT and TLS_KEY. Each call makes a new key, so two names are two unrelated CAs.
tls_cert_make() {
	local name=${1:-server}
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=agenttrace e2e $name" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$WORK/$name.key" -out "$WORK/$name.crt" >"$WORK/$name.openssl.log" 2>&1 ||
		fail "openssl could not make a certificate: $(cat "$WORK/$name.openssl.log")"
	TLS_CERT=$WORK/$name.crt
	TLS_KEY=$WORK/$name.key
}

# https_server_start [ARGS...]: http_server_start speaking HTTPS with $TLS_CERT (made by
# tls_cert_make first), stopping by itself after 90 s at most. Sets what http_server_start
# sets, HTTPS_BASE (https://127.0.0.1:PORT) and HTTP_CONN_FILE (the TCP connections
# accepted, failed handshakes included).
https_server_start() {
	[ -n "${TLS_CERT:-}" ] || tls_cert_make
	HTTP_CONN_FILE=$WORK/http.connections
	http_server_start --cert "$TLS_CERT" --key "$TLS_KEY" --connections-file "$HTTP_CONN_FILE" \
		--max-seconds 90 "$@"
	HTTPS_BASE=https://127.0.0.1:$HTTP_PORT
}
# http_connections: the number of TCP connections the server has accepted.
http_connections() { cat "$HTTP_CONN_FILE"; }
# tls_api_key: a fresh test API key in DEMO_API_KEY, exported: recordings and replays run
# with it, as an agent's runs would. Random, so that finding it in a file means it leaked.
tls_api_key() {
	DEMO_API_KEY=sk-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	export DEMO_API_KEY
}

# tls_hex FILE: the 64-hex-digit nonces the server sent, as FILE (a recorded stdout) shows them.
tls_hex() { grep -oE '\<[0-9a-f]{64}\>' "$1" || true; }

# tls_check_events NAME ID FILE: every nonce the recording printed (FILE) is in an event of
# `show ID --events --json` other than the program's own output: the plaintext the TLS
# library handed the program. (The socket carried ciphertext, so no socket event can hold it.)
tls_check_events() {
	local name=$1 id=$2 file=$3
	[ -n "$(tls_hex "$file")" ] || fail "$name: the recording printed no answer to look for: $(cat "$file")"
	at show "$id" --events --json >"$WORK/$name.events.json" ||
		fail "$name: show --events --json failed"
	tls_hex "$file" | "$PYTHON" -c '
import json, sys
hexes = sys.stdin.read().split()
found = {h: [] for h in hexes}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    e = json.loads(line)
    # The program printing the answer is no proof: skip its output (fd 1 and 2, either way
    # the event names them).
    if e.get("fd") in (1, 2) or e.get("path") in ("<stdout>", "<stderr>"):
        continue
    text = json.dumps(e)
    for h in hexes:
        if h in text:
            found[h].append(e.get("call"))
missing = [h for h, calls in found.items() if not calls]
if missing:
    sys.exit(f"not in any event but the program'"'"'s output: {missing}")
print("found in:", sorted({c for calls in found.values() for c in calls}))
' "$WORK/$name.events.json" >"$WORK/$name.events.found" 2>&1 ||
		fail "$name: show --events --json does not show the decrypted answers: $(cat "$WORK/$name.events.found")"
}

# tls_check_show NAME ID METHOD PATH...: the summary of `show ID` lists an HTTP exchange
# METHOD host/PATH with status 200 for each PATH, and does not list the TLS connection to
# the server as raw (encrypted) bytes.
tls_check_show() {
	local name=$1 id=$2 method=$3 path
	shift 3
	at show "$id" >"$WORK/$name.show.txt" || fail "$name: show failed"
	for path in "$@"; do
		# "  GET    127.0.0.1:PORT/whoami    200    0.9 ms  82 B -> 203 B"
		grep -qE "^  $method +[^ ]*:$HTTP_PORT$path +200 " "$WORK/$name.show.txt" ||
			fail "$name: show lists no '$method $path 200' exchange: $(cat "$WORK/$name.show.txt")"
	done
	! grep -qE "^  raw .*:$HTTP_PORT\>" "$WORK/$name.show.txt" ||
		fail "$name: show lists the TLS connection as raw bytes: $(cat "$WORK/$name.show.txt")"
}

# tls_check_secret NAME: the API key is in no file under $AGENTTRACE_HOME, compressed or
# not (assert_secret_absent, lib.sh).
tls_check_secret() {
	if declare -F assert_secret_absent >/dev/null; then
		assert_secret_absent "$DEMO_API_KEY"
	else
		echo "NOTE: $1: lib.sh has no assert_secret_absent yet; the API key was not looked for" >&2
	fi
}

# tls_check_failure_replay NAME ID PHASE STATUS: replays ID; fails unless it printed
# $WORK/NAME.rec (stdout) and the program's part of $WORK/NAME.rec.err (stderr) byte for
# byte, exited STATUS and the server accepted no new connection.
tls_check_failure_replay() {
	local name=$1 id=$2 phase=$3 want=$4 n s=0
	n=$(http_connections)
	at replay "$id" >"$WORK/$name.$phase" 2>"$WORK/$name.$phase.err" || s=$?
	[ "$(http_connections)" -eq "$n" ] ||
		fail "$name: the replay with the server $phase connected to it $(($(http_connections) - n)) times; a replay must never connect"
	cmp -s "$WORK/$name.rec" "$WORK/$name.$phase" ||
		fail "$name: the replay with the server $phase printed another stdout: $(diff "$WORK/$name.rec" "$WORK/$name.$phase" | head -20; head -20 "$WORK/$name.$phase.err")"
	# agenttrace's own lines ("agenttrace: recorded ...") are not the program's.
	cmp -s <(grep -v '^agenttrace: ' "$WORK/$name.rec.err") <(grep -v '^agenttrace: ' "$WORK/$name.$phase.err") ||
		fail "$name: the replay with the server $phase printed another stderr: $(diff "$WORK/$name.rec.err" "$WORK/$name.$phase.err" | head -20)"
	[ "$s" -eq "$want" ] || fail "$name: the replay with the server $phase exited $s, the recording $want: $(head -20 "$WORK/$name.$phase.err")"
}
