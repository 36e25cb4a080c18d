# Sockets as a server and a client in one program (samples/net_world.py): bind, listen,
# accept, a non-blocking connect, send/recv, sendmsg/recvmsg, UDP sendto/recvfrom, options
# and addresses, epoll, select and poll, name lookups, a pipe, a socket pair, an eventfd and
# a line from stdin. What it prints comes from the kernel (ports), the resolver, random bytes
# it sent itself, and stdin; the replay must print the same bytes, given another stdin.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

echo "line $RANDOM$RANDOM" >"$WORK/stdin"
expect_status 0 at record -- "$PYTHON" "$SRCDIR/samples/net_world.py" <"$WORK/stdin" >"$WORK/rec"
ID=$(last_id)
grep -q "^stdin $(cat "$WORK/stdin")\$" "$WORK/rec" || fail "the recording did not read stdin: $(cat "$WORK/rec")"

# Every call the sample exists for was recorded, not passed through.
at show "$ID" --events --json >"$WORK/events"
for call in socket bind listen getsockname connect select getsockopt accept4 getpeername send \
	recv sendmsg recvmsg epoll_create1 epoll_ctl epoll_wait poll shutdown sendto recvfrom \
	getaddrinfo getnameinfo pipe2 socketpair eventfd setsockopt; do
	grep -q "\"call\": *\"$call\"" "$WORK/events" || fail "no $call event in the trace"
done

echo "another line" >"$WORK/other"
expect_status 0 at replay "$ID" <"$WORK/other" >"$WORK/rep"
cmp -s "$WORK/rec" "$WORK/rep" || fail "the replay differs from the recording: $(diff "$WORK/rec" "$WORK/rep")"
