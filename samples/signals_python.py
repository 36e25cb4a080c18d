#!/usr/bin/python3
"""signals_python: signals reach handlers at points the world decides (a timer, a signal the
program sends itself, a child's exit), and each handler prints what it saw: the clock and
the sender. A replay must deliver each one where it arrived, with the same siginfo."""
import os
import random
import signal
import time

seen = []


def handler(sig, frame):
    seen.append(f"{signal.Signals(sig).name} at {time.time_ns()}")


for s in (signal.SIGUSR1, signal.SIGALRM, signal.SIGCHLD):
    signal.signal(s, handler)
os.kill(os.getpid(), signal.SIGUSR1)
signal.setitimer(signal.ITIMER_REAL, 0.02)
pid = os.fork()
if pid == 0:
    os._exit(3)
# The signals should come while the program sleeps: one that comes between calls runs its
# Python handler at the interpreter's next check, which replay cannot place exactly
# (docs/hooks.md). Sleeping 10 ms at a time leaves few gaps between calls.
deadline = time.monotonic() + 5
while len(seen) < 3 and time.monotonic() < deadline:
    time.sleep(0.01)
_, status = os.waitpid(pid, 0)
print(sorted(seen), os.waitstatus_to_exitcode(status), random.random())
