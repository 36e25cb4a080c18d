# HTTPS with the curl command, recorded at the OpenSSL boundary. Proves that a recording of
# `curl --cacert CERT` against a local HTTPS server (a certificate made by the test) replays
# byte for byte with no handshake and no network: with the server running (it would count
# a request) and stopped (a connect would fail). Two runs: three requests on one
# connection to 127.0.0.1 (a GET and a POST with an Authorization header, a GET without),
# and one to localhost (a name: SNI and the DNS entry of the certificate). Also proves
# that the trace holds the plaintext (the answers' random bytes are in
# `show --events --json`), that `show` lists the exchanges as HTTP, and that the API key,
# in the environment and in the header, reaches no file under $AGENTTRACE_HOME.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

tls_cert_make
https_server_start
tls_api_key
auth="Authorization: Bearer $DEMO_API_KEY"
# curl reuses the connection across URLs and --next: three requests, one handshake.
prog_ip=(curl -s --cacert "$TLS_CERT" -H "$auth" "$HTTPS_BASE/whoami/get" "$HTTPS_BASE/plain/x"
	--next --cacert "$TLS_CERT" -H "$auth" -d 'twelve bytes' "$HTTPS_BASE/whoami/post")
prog_name=(curl -s --cacert "$TLS_CERT" -H "$auth" "https://localhost:$HTTP_PORT/whoami/name")
names=(ip name)
requests=(3 1)
printf -v want_ip 'auth: yes HEX\nHEX\nauth: yes got 12 bytes: HEX'
wants=("$want_ip" 'auth: yes HEX')
ids=()
for i in 0 1; do
	name=${names[i]}
	declare -n prog=prog_$name
	n=$(http_requests)
	differs_live "$name" "${prog[@]}"
	http_wait_requests $((n + 2 * requests[i]))
	n=$(http_requests) c=$(http_connections)
	expect_status 0 at record -- "${prog[@]}" >"$WORK/$name.rec"
	ids+=("$(last_id)")
	http_wait_requests $((n + requests[i]))
	[ "$(sed -E 's/[0-9a-f]{64}/HEX/' "$WORK/$name.rec")" = "${wants[i]}" ] ||
		fail "$name: the recording did not print the server's answers: $(cat "$WORK/$name.rec")"
	[ "$(http_requests)" -eq $((n + requests[i])) ] ||
		fail "$name: the server counted $(($(http_requests) - n)) requests while recording, expected ${requests[i]}"
	[ "$(http_connections)" -eq $((c + 1)) ] ||
		fail "$name: curl made $(($(http_connections) - c)) connections while recording, expected 1 (keep-alive)"
done

for i in 0 1; do net_check_replay "${names[i]}" "${ids[i]}" running; done
http_server_stop
for i in 0 1; do net_check_replay "${names[i]}" "${ids[i]}" stopped; done

for i in 0 1; do tls_check_events "${names[i]}" "${ids[i]}" "$WORK/${names[i]}.rec"; done
tls_check_show ip "${ids[0]}" GET /whoami/get /plain/x
tls_check_show ip "${ids[0]}" POST /whoami/post
tls_check_show name "${ids[1]}" GET /whoami/name
tls_check_secret curl
