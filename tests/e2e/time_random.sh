# A C program printing every intercepted time and random result, errors included.
. "$(dirname "$0")/lib.sh"
differs_live time_random "$SAMPLES/time_random"
record_replay time_random "$SAMPLES/time_random"
# Every family and every call in calls.def shows up in the recording.
at show "$ID" --events --json >"$WORK/events.json"
for call in clock_gettime gettimeofday time timespec_get clock nanosleep clock_nanosleep \
	usleep sleep getrandom getentropy arc4random arc4random_buf arc4random_uniform; do
	grep -q "\"call\":\"$call\"" "$WORK/events.json" || fail "no $call event recorded"
done
# The syscall(2) route is recorded as the call it makes.
[ "$(grep -c '"call":"getrandom"' "$WORK/events.json")" -ge 4 ] || fail "syscall(SYS_getrandom) not recorded"
