# Debian's python3: random.random(), time.time_ns(), os.urandom, uuid4 and hash("x")
# (whose seed comes from getrandom at start-up).
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"
differs_live python "$PYTHON" "$SRCDIR/samples/python_values.py"
record_replay python "$PYTHON" "$SRCDIR/samples/python_values.py"
[ "$(wc -l <"$WORK/python.rec")" -eq 5 ] || fail "expected five values, got: $(cat "$WORK/python.rec")"
# The toy agent of the demo, too.
record_replay agent "$PYTHON" "$SRCDIR/samples/agent.py"
