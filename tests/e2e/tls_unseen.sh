# A program whose TLS the recorder cannot see into is told so when it is recorded: one
# that carries its own TLS library (samples/tls_builtin exports SSL_write, as Node.js
# does) gets a note naming it, and is still recorded and replayed. Programs that use
# OpenSSL 3's libssl.so.3 (curl, python3) get no note.
. "$(dirname "$0")/lib.sh"

at record -- "$SAMPLES/tls_builtin" >"$WORK/builtin.out" 2>"$WORK/builtin.err" ||
	fail "recording tls_builtin failed: $(cat "$WORK/builtin.err")"
grep -q "tls_builtin uses its own, compiled-in TLS library" "$WORK/builtin.err" ||
	fail "no note about the compiled-in TLS library: $(cat "$WORK/builtin.err")"
grep -q "sent through a compiled-in SSL_write" "$WORK/builtin.out" ||
	fail "the program's output is missing: $(cat "$WORK/builtin.out")"
at replay "$(last_id)" >"$WORK/builtin.rep" 2>/dev/null || fail "replay of tls_builtin failed"
cmp -s "$WORK/builtin.out" "$WORK/builtin.rep" || fail "replay of tls_builtin differs"

for prog in /usr/bin/curl /usr/bin/python3; do
	at record -- "$prog" --version >/dev/null 2>"$WORK/quiet.err" || true
	! grep -q "does not see into" "$WORK/quiet.err" ||
		fail "$prog uses OpenSSL 3, but record warned: $(cat "$WORK/quiet.err")"
done
