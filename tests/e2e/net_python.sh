# Sockets, with Debian's python3 (samples/http_python.py): urllib, three requests on one
# kept-alive http.client connection (one answer chunked), and a chat completion. The
# server answers random bytes and counts requests; each replay must print the recording's
# bytes without connecting, both while the server still runs (it would count a request)
# and after it stopped (a connect fails).
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

http_server_start
prog=("$PYTHON" "$SRCDIR/samples/http_python.py" "$HTTP_PORT")
differs_live python "${prog[@]}"
n=$(http_requests)
expect_status 0 at record -- "${prog[@]}" >"$WORK/python.rec"
ID=$(last_id)
# The answers' shape, their random hex replaced (the chat answer: five 6-hex-digit words).
printf -v want '%s\n' 'urllib GET /a 200 HEX' 'keep-alive GET /b 200 HEX' \
	'keep-alive POST /c 200 got 12 bytes: HEX' 'keep-alive GET /chunked/d 200 HEX' \
	'chat test-model W W W W W 5'
[ "$(sed -E 's/[0-9a-f]{64}/HEX/; s/\<[0-9a-f]{6}\>/W/g' "$WORK/python.rec")" = "${want%$'\n'}" ] ||
	fail "the recording did not print the server's answers: $(cat "$WORK/python.rec")"
[ "$(http_requests)" -eq $((n + 5)) ] ||
	fail "the server counted $(($(http_requests) - n)) requests while recording, expected 5"

net_check_replay python "$ID" running
http_server_stop
net_check_replay python "$ID" stopped
