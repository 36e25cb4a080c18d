# Sockets, with curl: one request to 127.0.0.1 and one to localhost (a name, not an address;
# curl runs its resolver in a thread of its own). The server answers random bytes and counts
# requests; each replay must print the recording's bytes without connecting, both while
# the server still runs (it would count a request) and after it stopped (a connect fails).
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

http_server_start
names=(ip name)
urls=("http://127.0.0.1:$HTTP_PORT/x" "http://localhost:$HTTP_PORT/y")
ids=()
for i in 0 1; do
	name=${names[i]}
	differs_live "$name" curl -sS "${urls[i]}"
	n=$(http_requests)
	expect_status 0 at record -- curl -sS "${urls[i]}" >"$WORK/$name.rec"
	ids+=("$(last_id)")
	[ "$(sed -E 's/[0-9a-f]{64}/HEX/' "$WORK/$name.rec")" = HEX ] ||
		fail "$name: the recording did not print the server's answer: $(cat "$WORK/$name.rec")"
	[ "$(http_requests)" -eq $((n + 1)) ] || fail "$name: the server counted $(($(http_requests) - n)) requests while recording, expected 1"
done

for i in 0 1; do net_check_replay "${names[i]}" "${ids[i]}" running; done
http_server_stop
for i in 0 1; do net_check_replay "${names[i]}" "${ids[i]}" stopped; done
