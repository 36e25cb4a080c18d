# Sockets, through libcurl (samples/http_libcurl.c): a GET and a POST on one kept-alive
# connection. The server answers random bytes and counts requests; each replay must print
# the recording's bytes without connecting, both while the server still runs (it would
# count a request) and after it stopped (a connect fails).
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

http_server_start
prog=("$SAMPLES/http_libcurl" "http://127.0.0.1:$HTTP_PORT/libcurl")
differs_live libcurl "${prog[@]}"
n=$(http_requests)
expect_status 0 at record -- "${prog[@]}" >"$WORK/libcurl.rec"
ID=$(last_id)
printf -v want 'HEX\nGET status 200\ngot 42 bytes: HEX\nPOST status 200'
[ "$(sed -E 's/[0-9a-f]{64}/HEX/' "$WORK/libcurl.rec")" = "$want" ] ||
	fail "the recording did not print the server's answers: $(cat "$WORK/libcurl.rec")"
[ "$(http_requests)" -eq $((n + 2)) ] ||
	fail "the server counted $(($(http_requests) - n)) requests while recording, expected 2"

net_check_replay libcurl "$ID" running
http_server_stop
net_check_replay libcurl "$ID" stopped
