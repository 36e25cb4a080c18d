#!/usr/bin/env python3
"""files_agent DIR: a toy agent that works on files in DIR.

It reads DIR/input.txt and its metadata, writes, reads back, renames and deletes a file of
its own, lists DIR between the steps, and draws a nonce from /dev/urandom. A replay prints
what the recording saw even after input.txt changed, and leaves DIR as it finds it.
"""
import os
import sys

d = sys.argv[1]


def path(name):
    return os.path.join(d, name)


print("before:", sorted(os.listdir(d)))
with open(path("input.txt")) as f:
    text = f.read()
print("input.txt:", repr(text))
st = os.stat(path("input.txt"))
print("size", st.st_size, "mtime_ns", st.st_mtime_ns)
with open(path("out.txt"), "w") as f:
    f.write(f"seen {len(text)} bytes: {text.upper()}")
print("after write:", sorted(os.listdir(d)))
with open(path("out.txt")) as f:
    print("out.txt:", repr(f.read()))
os.rename(path("out.txt"), path("out2.txt"))
print("after rename:", sorted(os.listdir(d)))
os.remove(path("out2.txt"))
print("after delete:", sorted(os.listdir(d)))
with open("/dev/urandom", "rb") as f:
    print("urandom", f.read(16).hex())
