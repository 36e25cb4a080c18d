#!/usr/bin/python3
"""net_world: one program that is a server and its own client, on 127.0.0.1, and uses every
kind of socket call agenttrace records: bind, listen, accept, a non-blocking connect, send
and recv, sendto and recvfrom over UDP, sendmsg and recvmsg, socket options and addresses,
epoll (selectors), select and poll, name lookups, a pipe, a socket pair, an eventfd, and a
line read from stdin.

Everything it prints depends on what it received: random bytes it sent itself, the ports
the kernel chose, the answers of the resolver, the line on stdin. A replay that served
anything but the recorded results would print something else.
"""
import os
import select
import selectors
import socket
import sys

out = []


def say(*words):
    out.append(" ".join(str(w) for w in words))


# A TCP server on a port the kernel chooses.
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(4)
port = server.getsockname()[1]
say("server port", port)

# Its client connects without blocking, then waits for the connection with select.
client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.setblocking(False)
err = client.connect_ex(("127.0.0.1", port))
say("connect_ex", err in (0, 115))  # 115: EINPROGRESS
select.select([], [client], [], 5)
say("SO_ERROR", client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
client.setblocking(True)

conn, peer = server.accept()
say("accepted from port", peer[1], peer[1] == client.getsockname()[1])
say("peer of client", client.getpeername()[1] == port)

# Random bytes both ways: send/recv, then sendmsg/recvmsg.
payload = os.urandom(24).hex().encode()
client.sendall(b"hello " + payload)
got = b""
while len(got) < 6 + len(payload):
    got += conn.recv(4096)
say("server got", got.decode())
conn.sendmsg([b"echo ", got[6:]])
data, anc, flags, addr = client.recvmsg(4096)
say("client got", data.decode(), flags)

# A selectors loop (epoll) over both ends.
sel = selectors.DefaultSelector()
sel.register(conn, selectors.EVENT_READ, data="server side")
client.send(b"ping " + os.urandom(4).hex().encode())
for key, mask in sel.select(timeout=5):
    say("ready:", key.data, mask, key.fileobj.recv(100).decode())
sel.unregister(conn)
sel.close()

# poll on the client after the server answers.
conn.send(os.urandom(6).hex().encode())
p = select.poll()
p.register(client, select.POLLIN)
say("poll", [(fd == client.fileno(), ev) for fd, ev in p.poll(5000)], client.recv(100).decode())

conn.shutdown(socket.SHUT_WR)
say("eof", client.recv(100))
for s in (conn, client, server):
    s.close()

# UDP: sendto and recvfrom, with the sender's address.
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.bind(("127.0.0.1", 0))
a.sendto(os.urandom(5).hex().encode(), b.getsockname())
msg, sender = b.recvfrom(100)
say("udp", msg.decode(), sender[1] == a.getsockname()[1])
a.close()
b.close()

# Name lookups: the resolver's answers come from the trace in replay.
infos = socket.getaddrinfo("localhost", "http", socket.AF_INET, socket.SOCK_STREAM)
say("getaddrinfo", sorted(i[4] for i in infos))
say("getnameinfo", socket.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST))

# Channels within the program: made for real in replay.
r, w = os.pipe()
os.write(w, b"through a pipe")
say("pipe", os.read(r, 100).decode())
os.close(r)
os.close(w)
x, y = socket.socketpair()
x.send(b"through a pair")
say("socketpair", y.recv(100).decode())
x.close()
y.close()
efd = os.eventfd(0)
os.eventfd_write(efd, 3)
say("eventfd", os.eventfd_read(efd))
os.close(efd)

# A line from stdin: a replay gets the recorded one, whatever it is given.
say("stdin", sys.stdin.readline().strip())

print("\n".join(out))
