# A signal handler that calls hooks while the interrupted thread is inside one: every call
# of main and of the handler is recorded, none is torn, and the trace verifies.
. "$(dirname "$0")/lib.sh"
at record -- "$SAMPLES/signals" 300000 >"$WORK/out" 2>"$WORK/err" || fail "record failed: $(cat "$WORK/err")"
read -r _ main _ handler <"$WORK/out"
[ "$handler" -gt 0 ] || fail "the timer never fired; the test proves nothing"
ID=$(last_id)
at verify "$ID" >/dev/null
at show "$ID" --json >"$WORK/show.json"
"$PYTHON" - "$WORK/show.json" "$main" "$handler" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); main, handler = int(sys.argv[2]), int(sys.argv[3])
want = main + handler
got = s["families"]["time"] + s["families"]["random"]  # not the stdio set-up's file events
assert got == want, f"recorded {got} events, the program made {want}"
assert s["torn_events"] == 0
PY

# Signals reaching a Python program's handlers (its own kill, a timer, a child's exit)
# replay where they arrived: the handlers print the clock they read, so a signal delivered
# at another point, or not at all, changes the output.
differs_live sigpy "$PYTHON" "$SRCDIR/samples/signals_python.py"
record_replay sigpy "$PYTHON" "$SRCDIR/samples/signals_python.py"
grep -q "SIGUSR1" "$WORK/sigpy.rec" && grep -q "SIGALRM" "$WORK/sigpy.rec" &&
	grep -q "SIGCHLD" "$WORK/sigpy.rec" || fail "a signal never reached its handler: $(cat "$WORK/sigpy.rec")"

# A default action the program restores once its handler has run (Python does at exit)
# must not let a real signal end the replay, which runs ahead of the world: the one-shot
# timer fires in the recording's sleep loop, but on replay only during the real wait that
# follows (a timed wait lasts what it meant on replay).
cat >"$WORK/late.py" <<'PY'
import signal, threading, time
seen = []
signal.signal(signal.SIGALRM, lambda s, f: seen.append(time.time_ns()))
signal.setitimer(signal.ITIMER_REAL, 0.2)
while not seen:
    time.sleep(0.01)
signal.signal(signal.SIGALRM, signal.SIG_DFL)
threading.Event().wait(0.5)
print("the handler ran", len(seen), "time(s), at", seen[0])
PY
record_replay late "$PYTHON" "$WORK/late.py"

# signal() in a program built for strict C99 is glibc's __sysv_signal: its handler is seen,
# recorded and run again where it ran (raise sends nothing on replay), and reset as it ran.
record_replay sysv "$SAMPLES/signal_sysv"
grep -q "handler ran 1 time(s), at [0-9]*\.[0-9]*; reset to the default: yes" "$WORK/sysv.rec" ||
	fail "signal_sysv: $(cat "$WORK/sysv.rec")"
