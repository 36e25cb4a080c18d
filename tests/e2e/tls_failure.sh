# TLS failures replay as the same failures. Proves, each recorded and then replayed with
# the server running (no new connection may reach it) and stopped, with the same exit
# status, stdout and stderr:
#  (a) curl without --cacert against the server's self-signed certificate: exit 60,
#      "SSL certificate problem" (the verify result of a failed handshake);
#  (b) samples/tls_python.py trusting an unrelated CA: a certificate verify error, which
#      Python builds from OpenSSL's error queue and verify result (exit 3);
#  (c) curl to a closed port on 127.0.0.1 over https: connection refused, exit 7, before
#      any TLS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
# Only the system's CAs for curl in (a), only CAFILE for Python in (b).
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR

tls_cert_make other
other_cert=$TLS_CERT
tls_cert_make
https_server_start
tls_api_key

# record_failure NAME STATUS CMD...: records CMD (stdout to $WORK/NAME.rec, stderr to
# $WORK/NAME.rec.err), which must exit STATUS, without an HTTP request reaching the server.
# Leaves the trace id in ID.
record_failure() {
	local name=$1 want=$2 n s=0
	shift 2
	n=$(http_requests)
	at record -- "$@" >"$WORK/$name.rec" 2>"$WORK/$name.rec.err" || s=$?
	ID=$(last_id)
	[ "$s" -eq "$want" ] || fail "$name: the recording exited $s, expected $want: $(cat "$WORK/$name.rec" "$WORK/$name.rec.err")"
	[ "$(http_requests)" -eq "$n" ] || fail "$name: a request reached the server"
}

# (a) The server's certificate is signed by no CA the system trusts.
c=$(http_connections)
record_failure curl_verify 60 curl -sS "$HTTPS_BASE/whoami/a"
id_a=$ID
grep -q 'SSL certificate problem' "$WORK/curl_verify.rec.err" ||
	fail "curl_verify: curl did not report the certificate: $(cat "$WORK/curl_verify.rec.err")"
[ "$(http_connections)" -eq $((c + 1)) ] || fail "curl_verify: curl did not reach the server"

# (b) The server is verified against a CA that did not sign its certificate.
record_failure python_verify 3 "$PYTHON" "$SRCDIR/samples/tls_python.py" "$HTTPS_BASE" "$other_cert"
id_b=$ID
grep -q 'CERTIFICATE_VERIFY_FAILED' "$WORK/python_verify.rec" ||
	fail "python_verify: Python did not report the certificate: $(cat "$WORK/python_verify.rec" "$WORK/python_verify.rec.err")"

tls_check_failure_replay curl_verify "$id_a" running 60
tls_check_failure_replay python_verify "$id_b" running 3
http_server_stop
tls_check_failure_replay curl_verify "$id_a" stopped 60
tls_check_failure_replay python_verify "$id_b" stopped 3

# (c) Nothing listens: a port the kernel gave and took back.
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
record_failure curl_refused 7 curl -sS --cacert "$TLS_CERT" "https://127.0.0.1:$port/refused"
id_c=$ID
grep -qi 'refused' "$WORK/curl_refused.rec.err" ||
	fail "curl_refused: curl did not report a refused connection: $(cat "$WORK/curl_refused.rec.err")"
tls_check_failure_replay curl_refused "$id_c" stopped 7

tls_check_secret failure
