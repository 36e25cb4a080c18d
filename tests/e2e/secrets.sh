# Secrets never reach the disk (docs/cli.md, "Secrets"). A Python program holds an API key
# from its environment: it writes the key to a file and reads it back, sends it in an
# Authorization and a Cookie header, and in a body read from a file replay reads live
# (--exclude). The key must be in no file of the store, raw or decompressed; replay with
# the server stopped must print the same bytes. Then: curl with the key on its command
# line, --no-mask (the key is kept, so the check can fail), and --mask-env /
# --mask-header / AGENTTRACE_MASK_HEADERS for a variable and a header of the user's own.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

rand() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
KEY="sk-test-$(rand)"
CRED="cred-$(rand)"     # in a variable no built-in glob matches
SEED=$(rand) # the program sends sha256(SEED) in a header no built-in name matches: so the
CUSTOM="custom-$(printf '%s' "$SEED" | sha256sum | cut -c1-32)" # value is nowhere else
mkdir -p "$WORK/secret.d"
printf '%s' "$KEY" >"$WORK/secret.d/key"

cat >"$WORK/agent.py" <<'EOF'
import hashlib, http.client, json, os, sys
port, work, what, seed = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
custom = "custom-" + hashlib.sha256(seed.encode()).hexdigest()[:32]
key = os.environ["DEMO_API_KEY"]
if what == "hash":  # derived from the key: replay sees the mask, so this diverges
    print(hashlib.sha256(key.encode()).hexdigest())
    sys.exit(0)
path = os.path.join(work, "key.txt")
with open(path, "w") as f:
    f.write(f"key={key}\n")
with open(path) as f:
    back = f.read()
print("round trip:", back == f"key={key}\n", "length:", len(key))
with open(os.path.join(work, "secret.d", "key")) as f:
    from_file = f.read()  # excluded: replay reads the real key, the recording has its mask
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/whoami", headers={"Authorization": f"Bearer {key}",
                                     "Cookie": f"session={key}; theme=dark",
                                     "X-Custom-Auth": custom, "Api-Key": "k-42"})
r = c.getresponse()
print(r.status, r.read().decode().strip())
c.request("POST", "/v1/data", body=json.dumps({"key": from_file,
                                               "cred": os.environ.get("DEMO_CRED", "")}))
r = c.getresponse()
print(r.status, r.read().decode().strip())
EOF
prog=("$PYTHON" "$WORK/agent.py")

http_server_start
export DEMO_CRED="$CRED"
DEMO_API_KEY="$KEY" expect_status 0 at record --exclude "$WORK/secret.d/*" -- \
	"${prog[@]}" "$HTTP_PORT" "$WORK" run "$SEED" >"$WORK/agent.rec"
ID=$(last_id)
grep -q "^round trip: True length: ${#KEY}\$" "$WORK/agent.rec" &&
	grep -q '^200 auth: yes [0-9a-f]\{64\}$' "$WORK/agent.rec" ||
	fail "the program did not run as expected: $(cat "$WORK/agent.rec")"

# Raw files and decompressed traces; the metadata names the variable, never its value.
assert_secret_absent "$KEY"
at show "$ID" --json | "$PYTHON" -c '
import json, sys
m = json.load(sys.stdin)["mask"]
assert m["enabled"] is True and "DEMO_API_KEY" in m["masked_env"], m
assert "Authorization" in m["headers"] and "*KEY*" in m["env_globs"], m' ||
	fail "show --json has no proper \"mask\" object"
grep -q "DEMO_API_KEY=\*\{${#KEY}\}\"" <("$TRACE_BYTES" "$AGENTTRACE_HOME/traces/$ID/trace.at") ||
	fail "the recorded environment does not hold a mask of the key's length"
[ "$(stat -c %a "$AGENTTRACE_HOME/traces/$ID/trace.at")" = 600 ] || fail "trace.at is not mode 0600"
[ "$(stat -c %a "$AGENTTRACE_HOME/traces/$ID")" = 700 ] || fail "the trace directory is not mode 0700"

# The key on a command line (curl -H): the argument is masked like a header line.
expect_status 0 at record -- curl -sS -H "Authorization: Bearer $KEY" \
	"http://127.0.0.1:$HTTP_PORT/whoami" >"$WORK/curl.rec"
CURL_ID=$(last_id)
grep -q '^auth: yes' "$WORK/curl.rec" || fail "curl did not send the header: $(cat "$WORK/curl.rec")"
assert_secret_absent "$KEY"

# Replay: the program holds masks (and, from the excluded file, the key itself) and sends
# them where the recording has masks; nothing connects.
net_check_replay agent "$ID" running
http_server_stop
net_check_replay agent "$ID" stopped
net_check_replay curl "$CURL_ID" stopped

# A program that derives output from the key diverges on replay (documented).
DEMO_API_KEY="$KEY" expect_status 0 at record -- "${prog[@]}" 0 "$WORK" hash "$SEED" >"$WORK/hash.rec"
[ "$(cat "$WORK/hash.rec")" = "$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)" ] ||
	fail "the hash program printed $(cat "$WORK/hash.rec")"
expect_status 201 at replay "$(last_id)" >/dev/null 2>"$WORK/hash.err"
assert_secret_absent "$KEY"

# The user's own patterns, each in a fresh store: absent with them, present without.
secret_kept() { # secret_kept SECRET: the store holds it (in some form)
	! (assert_secret_absent "$1") 2>/dev/null
}
record_in() { # record_in HOME [RECORD OPTIONS...]: records the program into a new store
	export AGENTTRACE_HOME="$WORK/$1"
	shift
	http_server_start
	DEMO_API_KEY="$KEY" expect_status 0 at record "$@" -- \
		"${prog[@]}" "$HTTP_PORT" "$WORK" run "$SEED" >/dev/null
	http_server_stop
}
record_in nomask --no-mask
secret_kept "$KEY" || fail "record --no-mask did not keep the key"
at show "$(last_id)" --json >"$WORK/nomask.json"
grep -q '"enabled": false' "$WORK/nomask.json" || fail "--no-mask: mask.enabled is not false"

record_in plain
secret_kept "$CRED" || fail "DEMO_CRED was masked without --mask-env"
secret_kept "$CUSTOM" || fail "X-Custom-Auth was masked without --mask-header"
assert_secret_absent "$KEY"

record_in custom --mask-env 'demo_c*' --mask-header X-Custom-Auth
assert_secret_absent "$CRED"
assert_secret_absent "$CUSTOM"
assert_secret_absent "$KEY"

AGENTTRACE_MASK_HEADERS="x-other,X-CUSTOM-AUTH" AGENTTRACE_MASK_ENV=DEMO_CRED record_in byenv
assert_secret_absent "$CRED"
assert_secret_absent "$CUSTOM"
expect_status 64 at record --mask-header 'Bad Name' -- true
