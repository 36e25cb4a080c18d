# HTTPS with Debian's python3 (samples/tls_python.py: urllib.request, an ssl context
# loading the certificate made by the test), recorded at the OpenSSL boundary. Proves that
# a GET and a POST with "Authorization: Bearer $DEMO_API_KEY", a chat completion, two
# GETs on one kept-alive connection, and the TLS version, cipher and peer certificate replay
# byte for byte with no handshake and no network: with the server running (it would count
# a request) and stopped (a connect would fail). Also proves that the trace holds the
# plaintext (the answers' random bytes are in `show --events --json`), that `show` lists
# the exchanges as HTTP and the chat completion as an LLM call, and that the API key, in the
# environment and in the header, reaches no file under $AGENTTRACE_HOME.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

tls_cert_make
https_server_start
tls_api_key
prog=("$PYTHON" "$SRCDIR/samples/tls_python.py" "$HTTPS_BASE" "$TLS_CERT")
n=$(http_requests)
differs_live python "${prog[@]}"
http_wait_requests $((n + 10))
n=$(http_requests)
expect_status 0 at record -- "${prog[@]}" >"$WORK/python.rec"
ID=$(last_id)
http_wait_requests $((n + 5))
# The answers' shape, their random hex replaced (the chat answer: five 6-hex-digit words).
printf -v want '%s\n' 'GET /whoami 200 auth: yes HEX' 'POST /whoami 200 auth: yes got 12 bytes: HEX' \
	'chat 200 test-model W W W W W 5' 'kept GET 1 200 auth: yes HEX' 'kept GET 2 200 auth: yes HEX' \
	"tls TLSv1.3 $(sed -n 's/^tls TLSv1.3 \([A-Z0-9_]*\) .*/\1/p' "$WORK/python.rec") agenttrace e2e server None"
[ "$(sed -E 's/[0-9a-f]{64}/HEX/; s/\<[0-9a-f]{6}\>/W/g' "$WORK/python.rec")" = "${want%$'\n'}" ] ||
	fail "the recording did not print the server's answers: $(cat "$WORK/python.rec")"
[ "$(http_requests)" -eq $((n + 5)) ] ||
	fail "the server counted $(($(http_requests) - n)) requests while recording, expected 5"

net_check_replay python "$ID" running
http_server_stop
net_check_replay python "$ID" stopped

tls_check_events python "$ID" "$WORK/python.rec"
tls_check_show python "$ID" GET /whoami
tls_check_show python "$ID" POST /whoami /v1/chat/completions
# The LLM view works over HTTPS too: "  openai  test-model  prompt N  completion 5  T ms".
grep -A3 '^LLM calls$' "$WORK/python.show.txt" | grep -qE '^  openai +test-model +prompt [0-9]+ +completion 5 ' ||
	fail "show lists no LLM call for the chat completion: $(cat "$WORK/python.show.txt")"
tls_check_secret python
