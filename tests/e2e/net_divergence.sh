# A replay that would send other bytes, or connect somewhere else, stops with a divergence
# report (exit 201) that shows the difference, and never reaches the network. The program
# reads where to connect and what to ask from a file excluded from recording, so the file
# is read for real in replay too and can be changed in between.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

http_server_start
echo "$HTTP_PORT question-abc" >"$WORK/ask"
expect_status 0 at record --exclude "$WORK/ask" -- "$PYTHON" "$SRCDIR/samples/net_ask.py" \
	"$WORK/ask" >"$WORK/rec"
ID=$(last_id)
grep -qE '^[0-9a-f]{64}$' "$WORK/rec" || fail "the recording did not print the answer: $(cat "$WORK/rec")"
n=$(http_requests)

# Unchanged: faithful.
expect_status 0 at replay "$ID" >"$WORK/same"
cmp -s "$WORK/rec" "$WORK/same" || fail "the unchanged replay differs: $(diff "$WORK/rec" "$WORK/same")"

# Other bytes: the report shows both sides around the first difference.
echo "$HTTP_PORT question-abd" >"$WORK/ask"
expect_status 201 at replay "$ID" >/dev/null 2>"$WORK/err"
grep -q 'bytes sent on fd [0-9]* differ at byte 16' "$WORK/err" ||
	fail "no byte position in the report: $(cat "$WORK/err")"
grep -q 'recorded "GET /question-abc HTTP/1.1' "$WORK/err" ||
	fail "the recorded bytes are not shown: $(cat "$WORK/err")"
grep -q 'the program wrote "GET /question-abd HTTP/1.1' "$WORK/err" ||
	fail "the program's bytes are not shown: $(cat "$WORK/err")"


# Another port: http.client looks it up first, and the lookup is not the recorded one.
echo "1 question-abc" >"$WORK/ask"
expect_status 201 at replay "$ID" >/dev/null 2>"$WORK/err"
grep -q "the recording looked up \"127.0.0.1\", service \"$HTTP_PORT\"; the program looks up \"127.0.0.1\", service \"1\"" "$WORK/err" ||
	fail "the lookup divergence does not name both: $(cat "$WORK/err")"

[ "$(http_requests)" -eq "$n" ] || fail "the replays sent the server $(($(http_requests) - n)) requests"

# A request sent in one piece: more bytes than the recording sent, or fewer, with the same
# start. The report shows what the program, or the recording, went on with.
echo "$HTTP_PORT raw tail" >"$WORK/ask"
expect_status 0 at record --exclude "$WORK/ask" -- "$PYTHON" "$SRCDIR/samples/net_ask.py" \
	"$WORK/ask" >"$WORK/rec"
ID=$(last_id)
grep -qE '^HTTP/1\.[01] ' "$WORK/rec" || fail "the raw request got no answer: $(cat "$WORK/rec")"
n=$(http_requests)
echo "$HTTP_PORT raw tail-and-more" >"$WORK/ask"
expect_status 201 at replay "$ID" >/dev/null 2>"$WORK/err"
grep -q 'the program sent 32 bytes on fd [0-9]* where the recording sent 23; the program went on with "-and-more"' "$WORK/err" ||
	fail "the extra bytes are not shown: $(cat "$WORK/err")"
echo "$HTTP_PORT raw" >"$WORK/ask"
expect_status 201 at replay "$ID" >/dev/null 2>"$WORK/err"
grep -q 'the program sent 19 bytes on fd [0-9]* where the recording sent 23; the recording went on with "tail"' "$WORK/err" ||
	fail "the shorter send is not reported: $(cat "$WORK/err")"
[ "$(http_requests)" -eq "$n" ] || fail "the replays sent the server $(($(http_requests) - n)) requests"

# Another port, with no lookup: a connection the recording does not have.
echo "1 raw tail" >"$WORK/ask"
expect_status 201 at replay "$ID" >/dev/null 2>"$WORK/err"
grep -q "the recording used address 127.0.0.1:$HTTP_PORT, the program asks for 127.0.0.1:1" "$WORK/err" ||
	fail "the connect divergence does not name both addresses: $(cat "$WORK/err")"
