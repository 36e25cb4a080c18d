#!/usr/bin/python3
"""http_python PORT: an HTTP client in Python's standard library, against
tests/e2e/http_server.py on 127.0.0.1:PORT.

One GET through urllib.request (a connection of its own), three requests on one kept-alive
http.client connection (GET, POST with a body, a chunked answer), and a chat completion in
the OpenAI shape. Prints every status and body: the server's answers are random, so a
replay that serves other bytes prints others.
"""
import http.client
import json
import sys
import urllib.request

port = int(sys.argv[1])
base = f"http://127.0.0.1:{port}"

with urllib.request.urlopen(f"{base}/a", timeout=30) as r:
    print("urllib GET /a", r.status, r.read().decode(), end="")

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for method, path, body in [("GET", "/b", None), ("POST", "/c", b"twelve bytes"),
                           ("GET", "/chunked/d", None)]:
    conn.request(method, path, body=body)
    r = conn.getresponse()
    print("keep-alive", method, path, r.status, r.read().decode(), end="")
conn.close()

chat = {"model": "test-model", "messages": [{"role": "user", "content": "Say something."}]}
req = urllib.request.Request(f"{base}/v1/chat/completions", data=json.dumps(chat).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=30) as r:
    answer = json.load(r)
print("chat", answer["model"], answer["choices"][0]["message"]["content"],
      answer["usage"]["completion_tokens"])
