# show groups socket traffic into HTTP exchanges and LLM calls: a Python client (standard
# library) makes a plain GET, four LLM calls (OpenAI, streamed OpenAI, Ollama, Anthropic) on
# one kept-alive connection, sends bytes that are not HTTP, and fetches 20000 bytes with
# os.read from a server of its own (a read that large is kept in the blob store, and the
# program serves that request too). The client prints what the servers answered (status,
# model, token counts), and `show` and `show --json` must list the same. A trace without
# sockets shows no network section.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"

cat >"$WORK/client.py" <<'PY'
import http.client, json, os, socket, socketserver, sys, threading, urllib.request

port = int(sys.argv[1])


def said(method, path, status, host=f"127.0.0.1:{port}", role="client", **llm):
    print(json.dumps(dict(method=method, path=path, status=status, host=host, role=role,
                          **llm)), flush=True)


with urllib.request.urlopen(f"http://127.0.0.1:{port}/plain/x?y=1", timeout=30) as r:
    r.read()
    said("GET", "/plain/x?y=1", r.status)

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
messages = [{"role": "user", "content": "Say something short."}]


def post(path, body):
    conn.request("POST", path, body=json.dumps(body),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


status, data = post("/v1/chat/completions", {"model": "gpt-e2e", "messages": messages})
a = json.loads(data)
said("POST", "/v1/chat/completions", status, api="openai", model=a["model"],
     prompt=a["usage"]["prompt_tokens"], completion=a["usage"]["completion_tokens"])

status, data = post("/v1/chat/completions",
                    {"model": "gpt-e2e-stream", "stream": True, "messages": messages * 3})
events = [json.loads(l[6:]) for l in data.decode().splitlines() if l.startswith("data: {")]
usage = [e["usage"] for e in events if e.get("usage")][-1]
said("POST", "/v1/chat/completions", status, api="openai", model=events[0]["model"],
     prompt=usage["prompt_tokens"], completion=usage["completion_tokens"])

status, data = post("/api/chat", {"model": "llama-e2e", "messages": messages, "stream": False})
a = json.loads(data)
said("POST", "/api/chat", status, api="ollama", model=a["model"],
     prompt=a["prompt_eval_count"], completion=a["eval_count"])

status, data = post("/v1/messages", {"model": "claude-e2e", "max_tokens": 32,
                                     "messages": messages * 2})
a = json.loads(data)
said("POST", "/v1/messages", status, api="anthropic", model=a["model"],
     prompt=a["usage"]["input_tokens"], completion=a["usage"]["output_tokens"])
conn.close()

# Not HTTP: the server answers a bare error page and closes.
s = socket.create_connection(("127.0.0.1", port), timeout=30)
junk = b"\x16\x03\x01\x00\x05hello\r\n\r\n"
s.sendall(junk)
got = b""
while chunk := s.recv(4096):
    got += chunk
s.close()
raw = {"raw_sent": len(junk), "raw_received": len(got)}


class Big(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(65536)
        body = b"x" * 20000
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


srv = socketserver.TCPServer(("127.0.0.1", 0), Big)
t = threading.Thread(target=srv.handle_request)
t.start()
c = socket.create_connection(srv.server_address)
c.setblocking(True)  # os.read needs a blocking descriptor
c.sendall(b"GET /big HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
got = b""
while chunk := os.read(c.fileno(), 65536):
    got += chunk
c.close()
t.join()
srv.server_close()
status = int(got.split()[1])
said("GET", "/big", status, host="local", body=len(got.split(b"\r\n\r\n", 1)[1]))
said("GET", "/big", status, host="local", role="server", body=20000)
print(json.dumps(raw))
PY

http_server_start
n=$(http_requests)
at record -- "$PYTHON" "$WORK/client.py" "$HTTP_PORT" >"$WORK/client.out" 2>"$WORK/record.err" ||
	fail "recording the client failed: $(cat "$WORK/client.out" "$WORK/record.err")"
ID=$(last_id)
[ "$(http_requests)" -eq $((n + 5)) ] ||
	fail "the server answered $(($(http_requests) - n)) requests while recording, expected 5: $(cat "$WORK/client.out" "$WORK/record.err")"
at show "$ID" >"$WORK/show.txt"
at show "$ID" --json >"$WORK/show.json"
at show "$ID" --events --json >"$WORK/events.json"

"$PYTHON" - "$WORK" "$HTTP_PORT" <<'PY' || fail "show does not list what the client saw: $(cat "$WORK/show.txt")"
import json, re, sys
work, port = sys.argv[1], int(sys.argv[2])
said = [json.loads(l) for l in open(f"{work}/client.out")]
want, raw = said[:-1], said[-1]
text = open(f"{work}/show.txt").read()
lines = text.splitlines()

def section(name):
    assert name in lines, f"no '{name}' section in:\n{text}"
    out = []
    for l in lines[lines.index(name) + 1:]:
        if not l.startswith("  "):
            break
        out.append(l)
    return out

def key(x):  # exchanges in the order they started; the served one after its client's
    return (x["host"] != f"127.0.0.1:{port}", x["role"] == "server")

# Text: one line per exchange, then the connection that was not HTTP.
http = section("HTTP")
shown = []
for line in http:
    if line.startswith("  raw "):
        continue
    m = re.match(r"^  (\S+)\s+(\S+)\s+(\d{3}|-)\s+([\d.]+) ms\s+([\d.]+ [KMG]?i?B) -> "
                 r"([\d.]+ [KMG]?i?B)(  \(served to 127\.0\.0\.1:\d+\))?$", line)
    assert m, line
    assert float(m[4]) > 0, line
    shown.append({"method": m[1], "target": m[2], "status": int(m[3]),
                  "role": "server" if m[7] else "client"})
expect = [{"method": w["method"], "target": w["host"] + w["path"], "status": w["status"],
           "role": w["role"]} for w in sorted(want, key=key)]
assert sorted(shown, key=lambda x: (x["target"].startswith("local"), x["role"])) == expect, (
    shown, expect)
assert shown[:5] == expect[:5], (shown, expect)  # the first five in the order they were made
rawl = [l for l in http if l.startswith("  raw ")]
assert len(rawl) == 1, http
assert f"127.0.0.1:{port}" in rawl[0] and f"{raw['raw_sent']} B sent" in rawl[0], rawl
assert f"{raw['raw_received']} B received" in rawl[0], rawl

llm = section("LLM calls")
calls = [w for w in want if "api" in w]
assert len(llm) == len(calls), (llm, calls)
for line, w in zip(llm, calls):
    m = re.match(r"^  (\S+)\s+(\S+)\s+prompt (\S+)\s+completion (\S+)\s+([\d.]+) ms$", line)
    assert m, line
    assert (m[1], m[2], int(m[3]), int(m[4])) == (w["api"], w["model"], w["prompt"],
                                                  w["completion"]), (line, w)

# JSON: the same, with sizes, times and the connection.
show = json.load(open(f"{work}/show.json"))
start, end = show["start_ns"], show["end_ns"]
got = sorted(show["http"], key=key)
assert len(got) == len(want), show["http"]
assert show["http"][:5] == got[:5], show["http"]
for x, w in zip(got, sorted(want, key=key)):
    for k in ("process", "fd", "peer", "method", "host", "path", "status", "start_ns",
              "duration_ns", "request_bytes", "response_bytes", "request_body",
              "response_body", "complete", "llm"):
        assert k in x, (k, x)
    assert (x["method"], x["host"], x["path"], x["status"], x["role"]) == (
        w["method"], w["host"], w["path"], w["status"], w["role"]), (x, w)
    assert x["complete"] is True, x
    assert x["response_body"] > 0 and x["response_bytes"] > x["response_body"], x
    assert (x["request_body"] > 0) == (w["method"] == "POST"), x
    if w["host"] == "local":
        assert x["response_body"] == w["body"], (x, w)
        assert x["peer"].startswith("127.0.0.1:"), x
    else:
        assert x["peer"] == f"127.0.0.1:{port}", x
    # Times come from the calls' durations: inside the run, and not nothing.
    assert start <= x["start_ns"] and x["start_ns"] + x["duration_ns"] <= end, (x, start, end)
    assert x["duration_ns"] > 0, x
    if "api" in w:
        assert x["llm"] == {"api": w["api"], "model": w["model"], "prompt_tokens": w["prompt"],
                            "completion_tokens": w["completion"]}, (x["llm"], w)
    else:
        assert x["llm"] is None, x
starts = [x["start_ns"] for x in show["http"]]
assert starts == sorted(starts), starts
assert len(show["llm_calls"]) == len(calls), show["llm_calls"]
for c, w in zip(show["llm_calls"], calls):
    assert (c["api"], c["model"], c["prompt_tokens"], c["completion_tokens"]) == (
        w["api"], w["model"], w["prompt"], w["completion"]), (c, w)
    assert show["http"][c["http_index"]]["llm"]["model"] == c["model"], c
rc = show["raw_connections"]
assert len(rc) == 1, rc
assert rc[0]["peer"] == f"127.0.0.1:{port}" and rc[0]["exchanges"] == 0, rc
assert (rc[0]["raw_sent"], rc[0]["raw_received"]) == (raw["raw_sent"], raw["raw_received"]), rc

# The large answer was read from the blob store: the case exercised the resolution.
events = [json.loads(l) for l in open(f"{work}/events.json")]
assert [e for e in events if e["call"] == "read" and "blob" in e and "x" * 4096 in e["data"]], (
    "no read of the large answer went to the blob store")
PY

# No sockets: the summary is as it was, and the JSON lists are empty.
at record -- date +%s >/dev/null 2>&1
at show "$(last_id)" >"$WORK/plain.txt"
! grep -qE '^(HTTP|LLM calls)$' "$WORK/plain.txt" || fail "a trace without sockets shows HTTP: $(cat "$WORK/plain.txt")"
at show "$(last_id)" --json | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
assert (s["http"], s["llm_calls"], s["raw_connections"]) == ([], [], []), s'
