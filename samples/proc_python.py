#!/usr/bin/python3
"""proc_python: child processes made by Python, each printing something the world decides.

subprocess.run (Python starts the child with vfork and exec) of `date +%s%N` and of
`od` on /dev/urandom, their output captured through pipes; a child shell that prints its
own pid and exits 3; an os.fork child that prints its pid, its parent's, the clock and
random bytes and exits with a random status, which the parent reaps with os.waitpid. The
parent prints its pid, its parent's, and every child's pid and status. A replay prints the
same bytes only if the children are replayed too, under the pids they had.
"""
import os
import subprocess
import time


def run(argv):
    """'status S out OUT err ERR' of one child, its output captured through pipes."""
    r = subprocess.run(argv, capture_output=True, text=True)
    return f"status {r.returncode} out {r.stdout.strip()!r} err {r.stderr.strip()!r}"


print("parent", os.getpid(), os.getppid(), flush=True)
print("date", run(["date", "+%s%N"]), flush=True)
print("od", run(["od", "-An", "-N8", "-tx8", "/dev/urandom"]), flush=True)
# A child that fails: its status, and its pid as it saw it.
print("sh", run(["sh", "-c", 'echo "pid $$"; echo "failing" >&2; exit 3']), flush=True)

pid = os.fork()
if pid == 0:
    print("child", os.getpid(), os.getppid(), time.time_ns(), os.urandom(4).hex(), flush=True)
    os._exit(1 + os.urandom(1)[0] % 100)
waited, status = os.waitpid(pid, 0)
print("forked", pid, waited == pid, "exit", os.waitstatus_to_exitcode(status), flush=True)
print("parent", os.getpid(), "done", time.time_ns(), flush=True)
