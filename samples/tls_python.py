#!/usr/bin/python3
"""tls_python BASE CAFILE: an HTTPS client in Python's standard library, as an agent calls
an LLM API, against tests/e2e/http_server.py started with --cert (BASE: https://HOST:PORT).

The ssl context trusts CAFILE only (ssl.create_default_context(cafile=...)): it verifies the
certificate and the host name. Through urllib.request, each with "Authorization: Bearer
$DEMO_API_KEY": a GET of BASE/whoami, a POST of a body to BASE/whoami and a chat
completion in the OpenAI shape; then two GETs on one http.client connection with a
timeout, and the TLS version, cipher, peer name and ALPN. Prints every status and body: the server's answers are
random, so a replay that serves other bytes prints others. A TLS or connection failure
(ssl.SSLError, urllib's URLError) prints the exception's text to stdout and exits 3.
"""
import http.client
import json
import os
import ssl
import sys
import urllib.error
import urllib.request

if len(sys.argv) != 3 or not os.environ.get("DEMO_API_KEY"):
    sys.exit("usage: DEMO_API_KEY=KEY tls_python.py https://HOST:PORT CAFILE")
base, cafile = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Bearer " + os.environ["DEMO_API_KEY"]}
context = ssl.create_default_context(cafile=cafile)


def call(path, data=None, headers={}):
    req = urllib.request.Request(base + path, data=data, headers=dict(auth, **headers))
    with urllib.request.urlopen(req, timeout=30, context=context) as r:
        return r.status, r.read()


try:
    status, body = call("/whoami")
    print("GET /whoami", status, body.decode(), end="")
    status, body = call("/whoami", data=b"twelve bytes")
    print("POST /whoami", status, body.decode(), end="")
    chat = {"model": "test-model", "messages": [{"role": "user", "content": "Say something."}]}
    status, body = call("/v1/chat/completions", data=json.dumps(chat).encode(),
                        headers={"Content-Type": "application/json"})
    answer = json.loads(body)
    print("chat", status, answer["model"], answer["choices"][0]["message"]["content"],
          answer["usage"]["completion_tokens"])
    # http.client on one kept-alive connection, its socket with a timeout (so OpenSSL runs
    # non-blocking and Python polls), then what the handshake settled.
    host, port = base.split("//")[1].rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
    for n in (1, 2):
        conn.request("GET", f"/whoami/kept{n}", headers=auth)
        r = conn.getresponse()
        print(f"kept GET {n}", r.status, r.read().decode(), end="")
    tls = conn.sock
    subject = dict(x[0] for x in tls.getpeercert()["subject"])
    print("tls", tls.version(), tls.cipher()[0], subject["commonName"],
          tls.selected_alpn_protocol())
    conn.close()
except (ssl.SSLError, urllib.error.URLError) as e:
    print(f"tls_python: {type(e).__name__}: {e}")
    sys.exit(3)
