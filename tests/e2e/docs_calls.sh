# docs/hooks.md shows the table of intercepted calls exactly as the code has it
# (agenttrace calls expands the same calls.def the hooks are built from).
. "$(dirname "$0")/lib.sh"
at calls >"$WORK/calls.md"
[ "$(wc -l <"$WORK/calls.md")" -gt 10 ] || fail "agenttrace calls printed too little"
"$PYTHON" - "$WORK/calls.md" "$SRCDIR/docs/hooks.md" <<'PY'
import sys
table, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
if table not in doc:
    sys.exit("docs/hooks.md does not hold the current 'agenttrace calls' table; paste it in:\n" + table)
PY
