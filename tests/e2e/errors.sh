# Bad input gets a message naming the problem and a documented exit status (docs/cli.md).
. "$(dirname "$0")/lib.sh"
expect_status 64 at
expect_status 64 at frobnicate
expect_status 64 at record
expect_status 64 at record --bogus -- true
expect_status 64 at replay
expect_status 64 at record --name 'has space' -- true

# Unknown id, and ambiguous prefixes.
expect_status 66 at replay nosuchtrace 2>"$WORK/err"
grep -q "no trace matches 'nosuchtrace'" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
at record -- date >/dev/null 2>&1
ID=$(last_id)
cp -r "$AGENTTRACE_HOME/traces/$ID" "$AGENTTRACE_HOME/traces/${ID:0:3}fffffffff"
expect_status 67 at show "${ID:0:3}" 2>"$WORK/err"
grep -q "matches 2 traces" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
at show "${ID:0:8}" >/dev/null || fail "a unique prefix does not resolve"
at show "$ID" >/dev/null || fail "the full id does not resolve"

# Names resolve like ids.
at record --name mydate -- date >/dev/null 2>&1
at show mydate | grep -q 'mydate' || fail "name does not resolve"

# Missing and unrunnable programs; nothing is left in the store for them.
before=$(at list -q | wc -l)
expect_status 127 at record -- /nonexistent/program 2>"$WORK/err"
grep -q "not found" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
expect_status 127 at record -- no-such-program-anywhere 2>/dev/null
printf 'not a program\n' >"$WORK/plain"
expect_status 126 at record -- "$WORK/plain" 2>/dev/null
expect_status 126 at record -- "$WORK" 2>/dev/null

# Statically linked programs are refused, not recorded silently wrong.
if [ -x "$SAMPLES/static_hello" ]; then
	expect_status 69 at record -- "$SAMPLES/static_hello" >"$WORK/out" 2>"$WORK/err"
	grep -q "statically linked" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
	[ ! -s "$WORK/out" ] || fail "the refused program ran"
fi
# Go programs (here: a C program with Go's build-id note) bypass libc too.
expect_status 69 at record -- "$SAMPLES/go_note" >"$WORK/out" 2>"$WORK/err"
grep -q "is a Go program" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
[ ! -s "$WORK/out" ] || fail "the refused Go program ran"
# So are programs whose #! interpreter is static.
if [ -x "$SAMPLES/static_hello" ]; then
	printf '#!%s\n' "$SAMPLES/static_hello" >"$WORK/script"
	chmod +x "$WORK/script"
	expect_status 69 at record -- "$WORK/script" 2>/dev/null
fi
[ "$(at list -q | wc -l)" -eq "$before" ] || fail "a refused or missing program left a trace"

# The recorded working directory is gone: replay says so.
mkdir "$WORK/gone"
(cd "$WORK/gone" && at record -- date >/dev/null 2>&1)
ID=$(last_id)
rmdir "$WORK/gone"
expect_status 71 at replay "$ID" 2>"$WORK/err"
grep -q "working directory" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"

# rm removes; then the id is unknown.
at rm "$ID" 2>/dev/null
expect_status 66 at show "$ID" 2>/dev/null
