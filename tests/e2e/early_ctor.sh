# A library's constructor calls hooks before main and before the recorder's own
# constructor may have run: those calls are recorded and replayed like any other.
. "$(dirname "$0")/lib.sh"
differs_live early "$SAMPLES/early_main"
record_replay early "$SAMPLES/early_main"
grep -q '^constructor ' "$WORK/early.rec" || fail "the constructor did not run"
