# coreutils: date +%s%N reads the clock once.
. "$(dirname "$0")/lib.sh"
differs_live date date +%s%N
record_replay date date +%s%N
at show "$ID" --events | grep -q 'clock_gettime(CLOCK_REALTIME)' || fail "date's clock read not in the trace"
