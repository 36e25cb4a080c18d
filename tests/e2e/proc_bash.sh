# A bash script whose output comes from the programs it runs (issue 6): date's clock, od's
# bytes from /dev/urandom, bash's own $RANDOM (seeded from its pid and the clock) and
# $SRANDOM, its pid and its parent's, and a pipeline of two children; then a pipeline in a
# command substitution (a subshell with children of its own). Every child is recorded in a
# stream of its own and replayed, not run live: the replay prints the recording's bytes and
# says nothing ran live.
. "$(dirname "$0")/lib.sh"
script='date +%s%N; echo $RANDOM $SRANDOM; od -An -N8 -tx8 /dev/urandom; echo $$ $PPID; ls / | wc -l'
differs_live bash bash -c "$script"
record_replay bash bash -c "$script"
for f in "$WORK"/bash.rep1.err "$WORK"/bash.rep2.err; do
	! grep -q 'ran live' "$f" || fail "children ran live on replay: $(cat "$f")"
done
at show "$ID" --json >"$WORK/show.json"
"$PYTHON" - "$WORK/show.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["exit"] == {"code": 0}, f"the recording exited {s['exit']}, expected 0"
# bash, then date, od, ls and wc, each in its own process
assert s["processes"] >= 5, f"expected bash and its 4 children, got {s['processes']} processes"
assert all(p["complete"] for p in s["streams"]), s["streams"]
PY
# A pipeline inside a command substitution: a subshell that forks two children of its own and
# reaps them (bash's SIGCHLD handler calls waitpid), three levels of processes.
script='c=$(date +%s%N | cksum); echo "$c $(od -An -N4 -tx4 /dev/urandom)"'
differs_live subshell bash -c "$script"
record_replay subshell bash -c "$script"
for f in "$WORK"/subshell.rep1.err "$WORK"/subshell.rep2.err; do
	! grep -q 'ran live' "$f" || fail "children ran live on replay: $(cat "$f")"
done
