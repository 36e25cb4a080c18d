#!/usr/bin/python3
"""A small HTTP/1.1 server for the network tests (tests/e2e/net_*.sh, tls_*.sh). Standard library only.

Every answer carries fresh random bytes, so only a trace can reproduce what a client saw,
and the server counts the requests it answers, so a test can tell that a replay never
connected. It listens on 127.0.0.1 only and stops by itself after --max-seconds, so a
failing test never leaves it behind.

With --cert and --key it speaks HTTPS (ALPN http/1.1). The handshake runs in the
connection's own thread with a time limit, so a client that rejects the certificate, or
connects and says nothing, costs that thread only; --connections-file counts the TCP
connections accepted, handshakes that failed included, which requests cannot show.

  GET  any path           64 hex chars + "\\n", with Content-Length
  POST any path           "got N bytes: " + 64 hex chars + "\\n" (N: the request body's length)
  any  /chunked/...       the same, sent with Transfer-Encoding: chunked in several chunks
  any  /whoami...         "auth: yes " or "auth: no " (was an Authorization header sent?), then
                          the answer above; the header's value is never echoed nor logged
  POST /v1/chat/completions  OpenAI shape; "stream": true answers SSE ending in data: [DONE]
  POST /api/chat, /api/generate  Ollama shape (streams NDJSON only on an explicit "stream": true)
  POST /v1/messages       Anthropic shape
  any  ...?delay_ms=N     waits N ms more before answering (after --delay-ms), so clients that
                          ask at once get their answers in an order the test chooses
"""
import argparse
import json
import os
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


def write_atomically(path, text):
    # Readers (the test's shell) must never see a half-written file.
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def nonce(nbytes=32):
    return os.urandom(nbytes).hex()


def random_words(n):
    return " ".join(nonce(3) for _ in range(n))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: several requests on one connection
    # http.server writes the head and the body in two sends; with Nagle's algorithm on, the
    # body waits for the client's ACK of the head, which a keep-alive client delays by up to
    # 40 ms. Real API servers set TCP_NODELAY.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass  # quiet: the tests print what they need

    def do_GET(self):
        self.answer(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.answer(self.rfile.read(length))

    def answer(self, body):
        if self.server.delay:
            time.sleep(self.server.delay)
        path, _, query = self.path.partition("?")
        own_delay = parse_qs(query).get("delay_ms")
        if own_delay:
            time.sleep(int(own_delay[0]) / 1000)
        llm = {
            "/v1/chat/completions": self.openai,
            "/api/chat": self.ollama,
            "/api/generate": self.ollama,
            "/v1/messages": self.anthropic,
        }
        if self.command == "POST" and path in llm:
            try:
                request = json.loads(body or b"{}")
            except ValueError as e:
                self.send_json({"error": f"bad JSON: {e}"}, status=400)
            else:
                llm[path](path, request)
        else:
            text = nonce() + "\n"
            if self.command == "POST":
                text = f"got {len(body)} bytes: {text}"
            if path.startswith("/whoami"):
                # Whether the header came, never what it said: tests check that a key sent
                # in it stays out of traces, so it must not come back in the answer either.
                text = "auth: %s %s" % ("yes" if self.headers.get("Authorization") else "no", text)
            if path.startswith("/chunked/"):
                self.send_chunked("text/plain", [text[i:i + 16] for i in range(0, len(text), 16)])
            else:
                self.send_body("text/plain", text.encode())
        self.server.count_request()

    def send_body(self, content_type, data, status=200):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, obj, status=200):
        self.send_body("application/json", (json.dumps(obj) + "\n").encode(), status)

    def send_chunked(self, content_type, pieces):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            data = piece.encode()
            # One write per chunk, flushed, so the client sees several reads.
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    # Token counts: the prompt's from its size, the answer's from its words.
    def openai(self, path, req):
        words = 5
        usage = {"prompt_tokens": len(json.dumps(req.get("messages", []))) // 4,
                 "completion_tokens": words}
        usage["total_tokens"] = usage["prompt_tokens"] + words
        base = {"id": "chatcmpl-" + nonce(8), "created": int(time.time()),
                "model": req.get("model", "")}
        if not req.get("stream"):
            self.send_json(dict(base, object="chat.completion", usage=usage, choices=[
                {"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": random_words(words)}}]))
            return
        chunk = dict(base, object="chat.completion.chunk")
        events = [dict(chunk, choices=[{"index": 0, "delta": {"content": nonce(3) + " "},
                                        "finish_reason": None}]) for _ in range(words)]
        events.append(dict(chunk, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}],
                           usage=usage))
        self.send_chunked("text/event-stream",
                          [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"])

    def ollama(self, path, req):
        words = 5
        base = {"model": req.get("model", ""),
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        key = "message" if path == "/api/chat" else "response"

        def part(text):
            return {"role": "assistant", "content": text} if key == "message" else text

        last = dict(base, done=True, done_reason="stop",
                    prompt_eval_count=len(json.dumps(req)) // 4, eval_count=words)
        if not req.get("stream"):
            self.send_json(dict(last, **{key: part(random_words(words))}))
            return
        lines = [dict(base, done=False, **{key: part(nonce(3) + " ")}) for _ in range(words)]
        lines.append(dict(last, **{key: part("")}))
        self.send_chunked("application/x-ndjson", [json.dumps(line) + "\n" for line in lines])

    def anthropic(self, path, req):
        words = 5
        self.send_json({
            "id": "msg_" + nonce(8), "type": "message", "role": "assistant",
            "model": req.get("model", ""),
            "content": [{"type": "text", "text": random_words(words)}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": len(json.dumps(req.get("messages", []))) // 4,
                      "output_tokens": words}})


class Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not hold up the exit
    handshake_seconds = 10

    def __init__(self, address, count_file, delay, tls=None, connections_file=None):
        super().__init__(address, Handler)
        self.count_file, self.delay, self.tls = count_file, delay, tls
        self.connections_file, self.connections = connections_file, 0
        self.count, self.count_lock = 0, threading.Lock()
        write_atomically(count_file, "0\n")
        if connections_file:
            write_atomically(connections_file, "0\n")

    def count_request(self):
        with self.count_lock:
            self.count += 1
            write_atomically(self.count_file, f"{self.count}\n")

    def get_request(self):
        request, address = super().get_request()
        if self.connections_file:
            with self.count_lock:
                self.connections += 1
                write_atomically(self.connections_file, f"{self.connections}\n")
        return request, address

    def finish_request(self, request, client_address):
        # In the connection's thread (ThreadingMixIn): a handshake that fails or stalls must
        # not hold up accept() for the other clients, nor stop the server.
        if self.tls:
            try:
                request.settimeout(self.handshake_seconds)
                request = self.tls.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (OSError, ValueError) as e:  # ssl.SSLError, a timeout, a reset
                print(f"http_server: TLS handshake with {client_address[0]}:{client_address[1]} "
                      f"failed: {e}", file=sys.stderr, flush=True)
                request.close()
                return
            try:
                super().finish_request(request, client_address)
            finally:
                self.shutdown_request(request)  # the wrapped socket; the caller has the raw one
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        # One line, not a traceback: a client may close mid-request (a TLS EOF, a reset).
        print(f"http_server: connection from {client_address[0]}:{client_address[1]}: "
              f"{sys.exc_info()[1]!r}", file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port-file", required=True, help="written once listening")
    p.add_argument("--count-file", required=True, help="the number of requests answered")
    p.add_argument("--port", type=int, default=0, help="default: the kernel picks one")
    p.add_argument("--max-seconds", type=float, default=120)
    p.add_argument("--delay-ms", type=int, default=0, help="wait this long before each answer")
    p.add_argument("--cert", help="PEM certificate (chain): speak HTTPS; needs --key")
    p.add_argument("--key", help="PEM private key of --cert")
    p.add_argument("--connections-file", help="the number of TCP connections accepted")
    args = p.parse_args()
    if bool(args.cert) != bool(args.key):
        p.error("--cert and --key go together")

    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
        tls.set_alpn_protocols(["http/1.1"])  # as API servers do; clients then ask for it
    server = Server(("127.0.0.1", args.port), args.count_file, args.delay_ms / 1000, tls,
                    args.connections_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    write_atomically(args.port_file, f"{server.server_address[1]}\n")
    if not stop.wait(args.max_seconds):
        print(f"http_server: stopping after {args.max_seconds:g} s (--max-seconds)", file=sys.stderr)
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
