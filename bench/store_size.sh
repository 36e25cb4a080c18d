#!/usr/bin/env bash
# bench/store_size.sh [BUILD]: what ten recordings of the same program take in the store,
# against one. Records a small Python script (run by Debian's /usr/bin/python3: it imports
# json, re, datetime and pathlib and reads three data files) once into a fresh
# AGENTTRACE_HOME, measures the store with du, records it nine more times and measures
# again. What the runs read in common (the interpreter's modules, the data files) should be
# stored once, in the blob store; each trace keeps only its own events.
#
# Prints a markdown section on stdout (bench/run.sh puts it in its report) whose last line
# gives both sizes and the ratio ten/one. Progress goes to stderr. The store is removed on
# exit. Target: ten recordings take less than twice the space of one.
#
# Environment:
#   BENCH_TMPDIR=${TMPDIR:-/tmp}  where the temporary AGENTTRACE_HOME goes
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

AT=$BUILD/cli/agenttrace
# The system interpreter by its absolute path: a pyenv or virtualenv shim on PATH would be a
# shell script that execs another python, a different program to record.
PY=/usr/bin/python3
RUNS=10

die() {
	echo "store_size: $*" >&2
	exit 1
}

[ -e "$AT" ] || die "$AT is missing; build first with 'make build' (or ninja -C $BUILD)"
[ -x "$PY" ] || die "$PY is needed: it is the program recorded"

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/agenttrace-store.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export AGENTTRACE_HOME=$WORK/home
unset AGENTTRACE_RUN
mkdir -p "$AGENTTRACE_HOME" "$WORK/app"

# The recorded program: the kind of small script an agent writes and runs again and again.
# Its inputs are made here, before any recording, the same every time.
cat >"$WORK/app/report.py" <<'EOF'
"""Summarise a service's log against its configuration."""
import datetime
import json
import pathlib
import re

here = pathlib.Path(__file__).resolve().parent
config = json.loads((here / "config.json").read_text())
line_re = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) (\w+) (\w+): (.*)$")

levels, services, first, last = {}, {}, None, None
for line in (here / "service.log").read_text().splitlines():
    m = line_re.match(line)
    if not m:
        continue
    when = datetime.datetime.fromisoformat(m[1])
    first, last = first or when, when
    levels[m[2]] = levels.get(m[2], 0) + 1
    services[m[3]] = services.get(m[3], 0) + 1

owners = {}
for row in (here / "owners.csv").read_text().splitlines()[1:]:
    service, owner = row.split(",")
    owners[service] = owner

noisy = sorted(s for s, n in services.items() if n > config["noisy_above"])
print(json.dumps({
    "generated": datetime.datetime.now().isoformat(timespec="seconds"),
    "span_hours": round((last - first).total_seconds() / 3600, 2),
    "levels": levels,
    "noisy": {s: owners.get(s, "nobody") for s in noisy},
}, indent=2, sort_keys=True))
EOF
"$PY" - "$WORK/app" <<'EOF'
import pathlib, sys
app = pathlib.Path(sys.argv[1])
services = ["auth", "billing", "search", "mail", "upload", "cache"]
levels = ["INFO"] * 6 + ["DEBUG"] * 3 + ["WARN", "ERROR"]
(app / "config.json").write_text('{"noisy_above": 500, "window_hours": 24}\n')
(app / "owners.csv").write_text("service,owner\n" +
                                "".join(f"{s},team-{s[0]}\n" for s in services))
lines = []
for i in range(3000):
    h, m, s = i // 120 % 24, i // 2 % 60, i * 7 % 60
    lines.append(f"2026-11-0{1 + i // 2880}T{h:02}:{m:02}:{s:02} {levels[i * 5 % 11]} "
                 f"{services[i * 7 % 6]}: request {i} took {i * 37 % 900} ms")
(app / "service.log").write_text("\n".join(lines) + "\n")
EOF

record() {
	(cd "$WORK/app" && "$AT" record --name "store-$1" -- "$PY" report.py) >/dev/null \
		2>"$WORK/record.err" || {
		cat "$WORK/record.err" >&2
		die "agenttrace record -- $PY report.py failed"
	}
}

bytes() { # bytes DIR [du options]: the size of DIR in bytes (0 if it does not exist)
	local dir=$1
	shift
	if [ -e "$dir" ]; then
		du -s -B1 "$@" "$dir" | cut -f1
	else
		echo 0
	fi
}

# measure LABEL: one row: the whole store, traces/ and blobs/, each apparent (the bytes in
# the files, `du -sb`) and on disk (the blocks allocated, `du -s`), and the counts.
measure() {
	local h=$AGENTTRACE_HOME col=() d
	for d in "$h" "$h/traces" "$h/blobs"; do
		col+=("$(bytes "$d" --apparent-size)" "$(bytes "$d")")
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "${col[@]}" \
		"$("$AT" list -q | wc -l)" \
		"$(find "$h/blobs" -type f 2>/dev/null | wc -l)"
}

echo "store_size: recording $PY report.py once, then $((RUNS - 1)) more times" >&2
record 1
one=$(measure 1)
for ((i = 2; i <= RUNS; i++)); do
	record "$i"
done
ten=$(measure "$RUNS")
fs=$(df --output=fstype "$AGENTTRACE_HOME" 2>/dev/null | tail -n 1 || echo unknown)

"$PY" - "$one" "$ten" "$fs" "$("$PY" -V 2>&1)" "$WORK/app/service.log" <<'EOF'
import os, sys
one, ten = (line.split("\t") for line in sys.argv[1:3])
fs, version, log = sys.argv[3:6]
print(f"## Store size: {ten[0]} recordings of one Python script against one")
print()
print(f"`{version}` (/usr/bin/python3) running a script that imports json, re, datetime and")
print(f"pathlib, reads three files (a {os.path.getsize(log):,}-byte log, a JSON and a CSV file) and")
print("prints a summary.")
print(f"Each recorded into the same fresh store, on {fs}. Bytes: apparent (`du -sb`, what the")
print("files hold) / on disk (`du -s`, the blocks allocated).")
print()
print("| recordings | store | traces/ | blobs/ | traces | blob files |")
print("|---:|---:|---:|---:|---:|---:|")
for row in (one, ten):
    cells = [f"{int(row[i]):,} / {int(row[i + 1]):,}" for i in (1, 3, 5)]
    print(f"| {row[0]} | " + " | ".join(cells) + f" | {row[7]} | {row[8]} |")
print()
ratio = int(ten[1]) / int(one[1])
disk_ratio = int(ten[2]) / int(one[2])
print(f"**store size: one recording {int(one[1]):,} B, {ten[0]} recordings {int(ten[1]):,} B: "
      f"{ratio:.2f}x** (on disk {int(one[2]):,} B and {int(ten[2]):,} B: {disk_ratio:.2f}x); "
      f"target: under 2x, {'met' if ratio < 2 else 'NOT met'}.")
EOF
