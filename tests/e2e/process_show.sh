# show's process tree (meta "tree"): each process's key, parent, arguments, how it ended
# and its threads, for a shell's family, a python one (system, popen, subprocess, fork) and
# a threaded program; the summary's processes section; the key on every event.
. "$(dirname "$0")/lib.sh"

# bash forks ls and wc for the pipe, a subshell for (exit 3), and sh for the last command.
at record -- bash -c 'ls / | wc -l; (exit 3); sh -c "exit 4"; true' >"$WORK/sh.out" 2>"$WORK/sh.err" ||
	fail "recording bash failed: $(cat "$WORK/sh.err")"
ID=$(last_id)
at show "$ID" >"$WORK/sh.txt"
at show "$ID" --json >"$WORK/sh.json"
at show "$ID" --events >"$WORK/sh.events.txt"
at show "$ID" --events --json >"$WORK/sh.events.json"
"$PYTHON" - "$WORK" <<'PY' || fail "the tree of bash's family is wrong: $(cat "$WORK/sh.txt")"
import json, re, sys
work = sys.argv[1]
s = json.load(open(f"{work}/sh.json"))
tree = s["tree"]
assert len(tree) == s["processes"] == len(s["streams"]) == 5, tree
assert [n["stream"] for n in tree] == list(range(5)), tree
nodes = {n["key"]: n for n in tree}
root = nodes["1"]
script = 'ls / | wc -l; (exit 3); sh -c "exit 4"; true'
assert root["parent"] is None and root["argv"] == ["bash", "-c", script], root
assert root["exit"] == {"code": 0} and root["pid"] == s["root_pid"], root
assert root["threads"] == [{"thread": 0, "tid": root["pid"], "parent": None}], root
want = {
    "1.1": (["ls", "/"], {"code": 0}),
    "1.2": (["wc", "-l"], {"code": 0}),
    "1.3": (["bash", "-c", script], {"code": 3}),  # a fork child runs its parent's program
    "1.4": (["sh", "-c", "exit 4"], {"code": 4}),
}
assert sorted(nodes) == ["1"] + sorted(want), sorted(nodes)
for key, (argv, exit) in want.items():
    n = nodes[key]
    assert (n["argv"], n["exit"]) == (argv, exit), (key, n)
    assert n["parent"] == "1" and n["ppid"] == root["pid"], n
    assert n["threads"] == [{"thread": 0, "tid": n["pid"], "parent": None}], n
    assert n["incomplete"] is False, n
    assert s["streams"][n["stream"]]["pid"] == n["pid"], (n, s["streams"])

# Every event names its process by key, as the tree does for its stream's pid.
by_pid = {n["pid"]: n["key"] for n in tree}
events = [json.loads(l) for l in open(f"{work}/sh.events.json")]
assert len(events) == s["events"], (len(events), s["events"])
for e in events:
    assert e["key"] == by_pid[e["process"]], e
    assert isinstance(e["thread"], int), e
assert {e["key"] for e in events} >= {"1", "1.1", "1.2", "1.4"}, {e["key"] for e in events}

# The summary's section: the tree indented by depth, how each process ended.
text = open(f"{work}/sh.txt").read().splitlines()
section = text[text.index("processes") + 1:]
section = section[:next((i for i, l in enumerate(section) if not l.startswith("  ")), len(section))]
assert len(section) == 5, section
assert re.match(r"  1 +pid %d +bash -c .* exit 0 +1 thread$" % root["pid"], section[0]), section
for line, key in zip(section[1:], sorted(want)):
    assert line.startswith(f"    {key} "), (line, key)
    assert f"pid {nodes[key]['pid']} " in line, line
assert "ls /" in section[1] and "sh -c 'exit 4'" in section[4], section
assert " exit 3 " in section[3] and " exit 4 " in section[4], section
listing = open(f"{work}/sh.events.txt").read()
assert f"process 1.4 (pid {nodes['1.4']['pid']}):" in listing, listing[:2000]
PY

# python: threads, system, libc's popen and pclose (os.popen is subprocess's), a child
# killed by a signal, a fork child that exits.
cat >"$WORK/family.py" <<'EOF'
import ctypes, os, subprocess, threading
libc = ctypes.CDLL(None)
libc.popen.restype = ctypes.c_void_p
libc.pclose.argtypes = [ctypes.c_void_p]
ts = [threading.Thread(target=os.urandom, args=(4,)) for _ in range(2)]
for t in ts: t.start()
for t in ts: t.join()
print("system", os.system("exit 5") >> 8)
print("pclose", libc.pclose(libc.popen(b"exit 6", b"r")) >> 8)
print("run", subprocess.run(["sh", "-c", "kill -9 $$"]).returncode)
pid = os.fork()
if pid == 0:
    os._exit(9)
print("waited", os.waitpid(pid, 0)[1] >> 8)
EOF
at record -- "$PYTHON" "$WORK/family.py" >"$WORK/py.out" 2>"$WORK/py.err" ||
	fail "recording python failed: $(cat "$WORK/py.err")"
ID=$(last_id)
at show "$ID" --json >"$WORK/py.json"
at show "$ID" >"$WORK/py.txt"
"$PYTHON" - "$WORK" "$PYTHON" <<'PY' || fail "the tree of python's family is wrong: $(cat "$WORK/py.txt")"
import json, sys
work, python = sys.argv[1], sys.argv[2]
s = json.load(open(f"{work}/py.json"))
nodes = {n["key"]: n for n in s["tree"]}
root = nodes["1"]
argv = [python, f"{work}/family.py"]
assert root["argv"] == argv and root["exit"] == {"code": 0}, root
threads = root["threads"]
assert [t["thread"] for t in threads] == [0, 1, 2], threads
assert threads[0] == {"thread": 0, "tid": root["pid"], "parent": None}, threads
assert all(t["parent"] == 0 for t in threads[1:]), threads
tids = [t["tid"] for t in threads]
assert all(isinstance(t, int) and t > 0 for t in tids) and len(set(tids)) == 3, threads
got = {k: (n["argv"], n["exit"]) for k, n in nodes.items() if k != "1"}
assert got == {
    "1.1": (["sh", "-c", "exit 5"], {"code": 5}),        # system: its status
    "1.2": (["sh", "-c", "exit 6"], {"code": 6}),        # popen: pclose's status
    "1.3": (["sh", "-c", "kill -9 $$"], {"signal": 9}),  # subprocess: waitpid's status
    "1.4": (argv, {"code": 9}),                          # fork, no exec
}, got
text = open(f"{work}/py.txt").read()
assert "killed by SIGKILL" in text and "created by thread 0" in text, text
assert "processes  5 (7 threads)" in text, text
PY

# A threaded C program: one line per thread under its process.
at record -- "$SAMPLES/threads" 3 10 parallel >/dev/null 2>&1 || fail "recording threads failed"
ID=$(last_id)
at show "$ID" --json >"$WORK/threads.json"
at show "$ID" >"$WORK/threads.txt"
"$PYTHON" - "$WORK" <<'PY' || fail "the threads are wrong: $(cat "$WORK/threads.txt")"
import json, re, sys
work = sys.argv[1]
s = json.load(open(f"{work}/threads.json"))
(root,) = s["tree"]
threads = root["threads"]
assert [t["thread"] for t in threads] == [0, 1, 2, 3], threads
assert [t["parent"] for t in threads] == [None, 0, 0, 0], threads
assert threads[0]["tid"] == root["pid"] and len({t["tid"] for t in threads}) == 4, threads
text = open(f"{work}/threads.txt").read()
for t in threads[1:]:
    assert re.search(r"^ +thread %d +tid %d +created by thread 0$" % (t["thread"], t["tid"]),
                     text, re.M), (t, text)
PY
