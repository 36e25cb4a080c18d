#!/usr/bin/python3
"""net_ask FILE: reads "PORT PATH" from FILE and GETs http://127.0.0.1:PORT/PATH with
http.client, printing the answer; "PORT raw [WORDS]" sends a request head and WORDS after it
in one write, and prints the first line that comes back. The divergence tests record it with FILE excluded
(record --exclude), so that FILE is read for real in replay too: changing it makes the
replay ask for something the recording does not have.
"""
import http.client
import os
import socket
import sys

with open(sys.argv[1]) as f:
    words = f.read().split()
port = int(words[0])
if words[1] == "raw":
    s = socket.socket()  # no lookup: connect to the address itself
    s.connect(("127.0.0.1", port))
    # write(2), not send: a socket's bytes are checked whichever call sends them
    os.write(s.fileno(), b"GET /x HTTP/1.0\r\n\r\n" + " ".join(words[2:]).encode())
    print(s.recv(100).decode().split("\r\n")[0])
    s.close()
else:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/" + words[1])
    print(conn.getresponse().read().decode(), end="")
