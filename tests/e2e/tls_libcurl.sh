# HTTPS through libcurl (samples/tls_libcurl.c), recorded at the OpenSSL boundary. Proves
# that a C client verifying the server with CURLOPT_CAINFO (a certificate made by the test)
# and sending "Authorization: Bearer $DEMO_API_KEY" on a GET and a POST over one kept-alive
# TLS connection replays byte for byte with no handshake and no network: with the server
# running (it would count a request) and stopped (a connect would fail). Also proves that
# the trace holds the plaintext (the answers' random bytes are in `show --events --json`),
# that `show` lists the exchanges as HTTP, and that the API key, in the environment and in
# the header, reaches no file under $AGENTTRACE_HOME.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

tls_cert_make
https_server_start
tls_api_key
prog=("$SAMPLES/tls_libcurl" "$HTTPS_BASE/whoami/libcurl" "$TLS_CERT")
n=$(http_requests)
differs_live libcurl "${prog[@]}"
http_wait_requests $((n + 4))
n=$(http_requests) c=$(http_connections)
expect_status 0 at record -- "${prog[@]}" >"$WORK/libcurl.rec"
ID=$(last_id)
http_wait_requests $((n + 2))
printf -v want 'auth: yes HEX\nGET status 200 verify 0\nauth: yes got 42 bytes: HEX\nPOST status 200 verify 0'
[ "$(sed -E 's/[0-9a-f]{64}/HEX/' "$WORK/libcurl.rec")" = "$want" ] ||
	fail "the recording did not print the server's answers: $(cat "$WORK/libcurl.rec")"
[ "$(http_requests)" -eq $((n + 2)) ] ||
	fail "the server counted $(($(http_requests) - n)) requests while recording, expected 2"
[ "$(http_connections)" -eq $((c + 1)) ] ||
	fail "libcurl made $(($(http_connections) - c)) connections while recording, expected 1 (keep-alive)"

net_check_replay libcurl "$ID" running
http_server_stop
net_check_replay libcurl "$ID" stopped

tls_check_events libcurl "$ID" "$WORK/libcurl.rec"
tls_check_show libcurl "$ID" GET /whoami/libcurl
tls_check_show libcurl "$ID" POST /whoami/libcurl
tls_check_secret libcurl
