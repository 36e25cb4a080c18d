#!/usr/bin/env bash
# bench/run.sh [BUILD]: the figures in docs/performance.md (`make bench` runs it).
#
#  1. Cost per hooked call. For each call kind, hookbench times N calls bare (native), with
#     the preload loaded but no run (idle), under `agenttrace record` and under `agenttrace
#     replay` of that same recording. The four runs of a kind follow each other, and the
#     kinds take turns, REPS rounds of all of them, so slow drift on a shared machine
#     lands on every column alike. Medians, with min and max, of the REPS rounds; also the
#     wall time each record and replay spends outside the loop (start-up, sealing,
#     preparing), per event.
#  2. Size. One recording of SIZE_N calls per kind; bytes per event in the raw log while
#     recording, coded before compression, and sealed: chunks only (the file minus its
#     header, metadata, index and trailer) and the whole file.
#  3. A file-heavy program. files_workload reads 2,000 small files and writes 200; each
#     round runs it bare, under `agenttrace record` into a store that already holds its
#     files' content (also without the helper threads, AGENTTRACE_HELPERS=0, and with the
#     raw logs on the disk, AGENTTRACE_RUNTIME_DIR), under `agenttrace replay` of that
#     recording, and under `agenttrace record` into a fresh store (every blob new). Medians of the wall times, the
#     program's own time, and the ratios to the bare run (target: record at most 1.3x).
#  4. Store size: bench/store_size.sh records a small Python script once, then nine more
#     times, and compares the store's size (target: ten take less than twice one).
#  5. Network (issue 4), against tests/e2e/http_server.py on 127.0.0.1, started here outside
#     any recording and stopped on exit. A busy agent: net_workload makes 300 HTTP calls on
#     one keep-alive connection, a file and the clocks read before each; each round runs it
#     bare and recorded (in alternating order) and replays the recording (target: record at
#     most 1.1x plain, wall and loop). A latency-bound agent: 10 calls to a second server
#     that waits 200 ms before each answer; record and replay wall times (target: replay at
#     least 20x faster than record).
#  6. HTTPS (issue 5): the busy agent over TLS. tls_workload makes the same 300 calls with
#     OpenSSL (recorded at its API, as plaintext) to the same server speaking HTTPS with a
#     certificate made here by the openssl command; rounds as in 5 (target: record at most
#     1.1x plain), and one more replay once the server is stopped.
#  7. Processes (issue 6): bench/fork_script.sh, a bash script that forks and execs 100 short
#     external commands; each round runs it plain and recorded (in alternating order) and
#     replays the recording (target: record at most 1.3x plain).
#  8. Seeking (issue 7): bench/seek.sh, `show --step` against trace length (10k to 1M events)
#     and the keyframe interval (target: at most 20 ms at 1M events, flat in length).
#
# Prints a markdown report on stdout and writes it to bench/results/latest.md, with the raw
# samples in bench/results/latest.tsv (1), latest-files.tsv (3), latest-net.tsv (5),
# latest-tls.tsv (6), latest-fork.tsv (7) and latest-seek.tsv (8).
# Progress goes to stderr. Traces go to temporary stores, removed on exit. Needs only bash,
# coreutils and /usr/bin/python3, and the openssl command for 6.
#
# Environment:
#   BENCH_REPS=7      rounds (at least 5 for a figure worth quoting)
#   BENCH_WARMUP=1    untimed rounds first (a cold machine records slower at first)
#   BENCH_SCALE=1     multiplies every N (0.1 for a quick look)
#   BENCH_CALLS="clock-monotonic clock-realtime time getrandom16"
#   BENCH_SIZE_N=1000000
#   BENCH_TMPDIR=${TMPDIR:-/tmp}  where the temporary AGENTTRACE_HOME goes
#   BENCH_FILES_TMPDIR=/dev/shm   where files_workload's files and the net servers' files go (tmpfs)
#   BENCH_SECTIONS="calls size files store net tls fork seek"  which of the eight to run
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

REPS=${BENCH_REPS:-7}
WARMUP=${BENCH_WARMUP:-1}
SCALE=${BENCH_SCALE:-1}
CALLS=${BENCH_CALLS:-clock-monotonic clock-realtime time getrandom16}
SIZE_N=${BENCH_SIZE_N:-1000000}
SIZE_CALLS="clock-monotonic clock-realtime clock-spaced getrandom16"
SECTIONS=${BENCH_SECTIONS:-calls size files store net tls fork seek}
PY=/usr/bin/python3

AT=$BUILD/cli/agenttrace
HOOKBENCH=$BUILD/bench/hookbench
FILES_WORKLOAD=$BUILD/bench/files_workload
NET_WORKLOAD=$BUILD/bench/net_workload
TLS_WORKLOAD=$BUILD/bench/tls_workload
PRELOAD=$BUILD/preload/libagenttrace-preload.so
RESULTS=$ROOT/bench/results

die() {
	echo "bench: $*" >&2
	exit 1
}

for f in "$AT" "$HOOKBENCH" "$FILES_WORKLOAD" "$PRELOAD"; do
	[ -e "$f" ] || die "$f is missing; build first with 'make build' (or ninja -C $BUILD)"
done
for section in $SECTIONS; do
	case $section in
	calls | size | files | store | net | tls | fork | seek) ;;
	*) die "BENCH_SECTIONS: unknown section '$section' (calls, size, files, store, net, tls, fork, seek)" ;;
	esac
done
want() { # want SECTION: whether BENCH_SECTIONS asks for it
	[[ " $SECTIONS " == *" $1 "* ]]
}
[ -x "$PY" ] || die "$PY is needed to compute the medians"
if want net || want tls; then
	[ -e "$NET_WORKLOAD" ] || die "$NET_WORKLOAD is missing; build first with 'make build'"
	command -v timeout >/dev/null || die "timeout (coreutils) is needed to bound the replays"
fi
if want fork; then
	[ -x /bin/bash ] || die "/bin/bash is needed to run bench/fork_script.sh"
	command -v timeout >/dev/null || die "timeout (coreutils) is needed to bound the replays"
fi
if want tls; then
	[ -e "$TLS_WORKLOAD" ] || die "$TLS_WORKLOAD is missing; build first with 'make build'"
	command -v openssl >/dev/null ||
		die "the openssl command is needed to make the HTTPS server's certificate (scripts/setup.sh)"
fi
[[ $REPS =~ ^[0-9]+$ && $REPS -ge 1 ]] || die "BENCH_REPS must be a positive number, not '$REPS'"
[ "$REPS" -ge 5 ] || echo "bench: only $REPS rounds; use at least 5 for figures worth quoting" >&2

# Calls per run, sized so a recorded run's loop takes about 0.3-0.6 s here. Native runs of
# the cheap calls are shorter (tens of ms, still millions of calls): sizing them to 0.2 s
# would make the recorded runs write gigabytes.
base_n() {
	case $1 in
	clock-monotonic | clock-realtime | gettimeofday | time) echo 3000000 ;;
	clock-spaced) echo 500000 ;;
	getrandom16) echo 600000 ;;
	*) die "unknown call kind '$1' (see $HOOKBENCH --help)" ;;
	esac
}
for call in $CALLS; do
	base_n "$call" >/dev/null
done
[[ $SCALE =~ ^[0-9]*\.?[0-9]+$ ]] || die "BENCH_SCALE must be a positive number, not '$SCALE'"
[[ $SIZE_N =~ ^[0-9]+$ && $SIZE_N -ge 1 ]] || die "BENCH_SIZE_N must be a positive number"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a number, not '$WARMUP'"
calls_for() {
	$PY -c 'import sys; print(max(1000, int(int(sys.argv[1]) * float(sys.argv[2]))))' \
		"$(base_n "$1")" "$SCALE"
}

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/agenttrace-bench.XXXXXX")
FILES_TMP=     # files_workload's directory, made by files_setup
NET_TMP=       # the network sections' servers' files, made by net_prepare
NET_SERVERS=() # the servers' pids: any still running is stopped on exit
cleanup() {
	local pid
	for pid in ${NET_SERVERS[@]+"${NET_SERVERS[@]}"}; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK" ${FILES_TMP:+"$FILES_TMP"} ${NET_TMP:+"$NET_TMP"}
}
trap cleanup EXIT
export AGENTTRACE_HOME=$WORK/home
mkdir -p "$AGENTTRACE_HOME"
unset AGENTTRACE_RUN
SAMPLES=$WORK/samples.tsv
SIZES=$WORK/sizes.tsv
printf 'round\tcall\tn\tmode\tns_per_call\n' >"$SAMPLES"
printf 'call\tn\tevents\tpayload_bytes\tsealed_bytes\tchunk_bytes\tcoded_bytes\traw_bytes\n' >"$SIZES"

field() { # field NAME LINE: the value of NAME=... in hookbench's output line
	local v
	v=$(tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p")
	[ -n "$v" ] || die "no $1 in hookbench's output: '$2'"
	echo "$v"
}

per_event() { # per_event NS EVENTS: NS / EVENTS with three decimals
	$PY -c 'import sys; print(f"{int(sys.argv[1]) / int(sys.argv[2]):.3f}")' "$1" "$2"
}

latest_trace() {
	"$AT" list -q | head -n 1
}

# One round of one call kind: native, idle, record, replay. Appends to $SAMPLES unless the
# round is a warm-up (round 0).
one_round() {
	local round=$1 call=$2 n=$3 out id sum t0 t1 events
	local -A ns
	out=$("$HOOKBENCH" "$call" "$n") || die "hookbench $call $n failed"
	ns[native]=$(field ns_per_call "$out")

	out=$(LD_PRELOAD=$PRELOAD "$HOOKBENCH" "$call" "$n") || die "hookbench failed preloaded"
	ns[idle]=$(field ns_per_call "$out")

	t0=$(date +%s%N)
	out=$("$AT" record --name "bench-$call-$round" -- "$HOOKBENCH" "$call" "$n" \
		2>"$WORK/record.err") || {
		cat "$WORK/record.err" >&2
		die "agenttrace record -- hookbench $call $n failed"
	}
	t1=$(date +%s%N)
	ns[record]=$(field ns_per_call "$out")
	events=$(($(field n "$out") + $(field warmup "$out")))
	ns[record_rest]=$(per_event $((t1 - t0 - $(field total_ns "$out"))) "$events")
	sum=$(field checksum "$out")
	id=$(latest_trace)
	[ -n "$id" ] || die "no trace after recording hookbench $call"

	t0=$(date +%s%N)
	out=$("$AT" replay "$id" 2>"$WORK/replay.err") || {
		cat "$WORK/replay.err" >&2
		die "agenttrace replay $id (hookbench $call $n) failed"
	}
	t1=$(date +%s%N)
	ns[replay]=$(field ns_per_call "$out")
	ns[replay_rest]=$(per_event $((t1 - t0 - $(field total_ns "$out"))) "$events")
	# The replay must have been fed the recorded values, not read the clock itself.
	[ "$(field checksum "$out")" = "$sum" ] ||
		die "replay of hookbench $call saw other values than its recording (checksums differ)"
	"$AT" rm "$id" >/dev/null 2>&1 || die "agenttrace rm $id failed"

	if [ "$round" -gt 0 ]; then
		for mode in native idle record replay record_rest replay_rest; do
			printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$call" "$n" "$mode" "${ns[$mode]}" \
				>>"$SAMPLES"
		done
	fi
	printf 'bench: round %s %-16s native %8s  idle %8s  record %8s  replay %8s ns/call\n' \
		"$round" "$call" "${ns[native]}" "${ns[idle]}" "${ns[record]}" "${ns[replay]}" >&2
}

# The raw log's bytes per event: a direct recording (the preload without the CLI), whose
# log header says where records start (header_size, at byte 12) and how far they go (tail,
# at byte 16); see core/include/agenttrace/rawlog.h.
raw_log_bytes() {
	local call=$1 n=$2 dir=$WORK/raw
	rm -rf "$dir" && mkdir -p "$dir"
	AGENTTRACE_RUN=record:$dir LD_PRELOAD=$PRELOAD "$HOOKBENCH" "$call" "$n" >/dev/null ||
		die "hookbench $call under the preload alone failed"
	$PY - "$dir" <<-'EOF'
		import glob, struct, sys
		logs = glob.glob(sys.argv[1] + "/proc-*.log")
		if len(logs) != 1:
		    print("")
		    sys.exit(0)
		with open(logs[0], "rb") as f:
		    head = f.read(32)
		header_size, tail = struct.unpack_from("<IQ", head, 12)
		print(tail - header_size if head[:8] == b"ATRAWLOG" else "")
	EOF
	rm -rf "$dir"
}

# Sealed size of one recording of `n` calls.
one_size() {
	local call=$1 n=$2 id
	"$AT" record --name "size-$call" -- "$HOOKBENCH" "$call" "$n" >/dev/null \
		2>"$WORK/record.err" || {
		cat "$WORK/record.err" >&2
		die "agenttrace record -- hookbench $call $n failed"
	}
	id=$(latest_trace)
	local raw
	raw=$(raw_log_bytes "$call" "$n")
	"$AT" show "$id" --json >"$WORK/show.json" || die "agenttrace show $id --json failed"
	$PY - "$WORK/show.json" "$AGENTTRACE_HOME/traces/$id/trace.at" "$call" "$n" "$raw" \
		>>"$SIZES" <<-'EOF'
		import json, os, struct, sys
		show, path, call, n, raw = sys.argv[1:6]
		meta = json.load(open(show))
		# Layout in docs/format.md. The trailer (the last 32 bytes) holds the offsets of the
		# metadata, which follows the chunks, and of the index; chunks start after the
		# 64-byte file header; the index's chunk entries hold each chunk's coded length
		# before compression. Anything unexpected: report n/a rather than guess.
		chunk_bytes = coded_bytes = ""
		try:
		    with open(path, "rb") as f:
		        f.seek(-32, os.SEEK_END)
		        trailer = f.read(32)
		        if trailer[28:32] == b"TEND":
		            meta_off, index_off = struct.unpack_from("<QQ", trailer, 0)
		            chunk_bytes = meta_off - 64
		            f.seek(index_off)
		            index = f.read(struct.unpack_from("<I", trailer, 16)[0])
		            if index[:4] == b"INDX":
		                nstreams, nchunks = struct.unpack_from("<II", index, 4)
		                first = 16 + 56 * nstreams
		                coded_bytes = sum(struct.unpack_from("<I", index, first + 40 * i + 24)[0]
		                                  for i in range(nchunks))
		except (OSError, struct.error):
		    pass
		print("\t".join(str(v) for v in (call, n, meta["events"], meta["payload_bytes"],
		                                  meta["sealed_bytes"], chunk_bytes, coded_bytes, raw)))
	EOF
	"$AT" rm "$id" >/dev/null 2>&1 || die "agenttrace rm $id failed"
	echo "bench: size of $call x $n: done" >&2
}

# --- the file-heavy workload -------------------------------------------------------------
# Its own stores: FILES_HOME keeps every recording, so after the first one it already holds
# the content of all 2,000 input files (the case of an agent running the same build or test
# again); each round's cold recording goes to a store of its own, FILES_COLD.<round>.
# Nothing is deleted until the end: ext4, for a few minutes after a file is deleted, skips
# its inode when allocating one, and after thousands of deletions creating each file costs
# up to a millisecond; that would land on whatever runs next.
#
# The workload's own files go to tmpfs (BENCH_FILES_TMPDIR, by default /dev/shm when it is
# writable), the stores stay in $WORK. On the ext4 this was written on, the workload's 200
# creates took 5 to 250 ms from one run to the next for the reason above, in every mode,
# which swamped what recording adds; on tmpfs they take 5 ms.
FILES_TMPDIR=${BENCH_FILES_TMPDIR:-}
if [ -z "$FILES_TMPDIR" ]; then
	FILES_TMPDIR=$WORK
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		FILES_TMPDIR=/dev/shm
	fi
fi
FILES_HOME=$WORK/files-home
FILES_COLD=$WORK/files-cold
FILES_SAMPLES=$WORK/files.tsv

# Before every run the previous outputs are moved aside, so each run creates its 200 files:
# rewriting them with O_TRUNC once ext4 has written them back costs ~0.3 s more here,
# whichever mode runs, and would swamp what is being measured.
fresh_outputs() {
	if [ -e "$FILES_DIR/out" ]; then
		mv "$FILES_DIR/out" "$(mktemp -d "$FILES_DIR/old.XXXXXX")/"
	fi
}

# record_files HOME NAME [VAR=VALUE...]: `agenttrace record` of the run mode into HOME, with
# those variables set; prints the workload's output.
record_files() {
	local home=$1 name=$2
	shift 2
	fresh_outputs
	env AGENTTRACE_HOME="$home" "$@" "$AT" record --name "$name" -- "$FILES_WORKLOAD" run "$FILES_DIR" \
		2>"$WORK/record.err" || {
		cat "$WORK/record.err" >&2
		die "agenttrace record -- files_workload run failed"
	}
}

# trace_facts HOME ID: "program_ns events sealed_bytes blobs blob_bytes" from the trace's
# metadata; program_ns is end_ns - start_ns: the program's run from spawn to exit, which
# leaves out agenttrace's start-up and the sealing.
trace_facts() {
	AGENTTRACE_HOME=$1 "$AT" show "$2" --json >"$WORK/show.json" ||
		die "agenttrace show $2 --json failed"
	$PY - "$WORK/show.json" <<-'EOF'
		import json, sys
		m = json.load(open(sys.argv[1]))
		print(m["end_ns"] - m["start_ns"], m["events"], m["sealed_bytes"],
		      len(m.get("blobs") or []), m.get("blob_bytes", 0))
	EOF
}

files_setup() {
	FILES_TMP=$(mktemp -d "$FILES_TMPDIR/agenttrace-files.XXXXXX")
	FILES_DIR=$FILES_TMP/files
	echo "bench: files: creating the input files in $FILES_DIR" >&2
	"$FILES_WORKLOAD" setup "$FILES_DIR" >/dev/null || die "files_workload setup failed"
	mkdir -p "$FILES_HOME"
	record_files "$FILES_HOME" files-first >/dev/null # fills FILES_HOME's blob store
	printf 'round\tmode\twall_ns\tloop_ns\tread_ns\tprogram_ns\tevents\tsealed_bytes\tblobs\tblob_bytes\n' \
		>"$FILES_SAMPLES"
}

# One round: bare, recorded (blobs already stored), replayed, recorded into a fresh store.
# Appends to $FILES_SAMPLES unless the round is a warm-up (round 0).
files_round() {
	local round=$1 out sum id t0 t1 mode cold=$FILES_COLD.$1
	local -A wall loop facts
	fresh_outputs
	t0=$(date +%s%N)
	out=$("$FILES_WORKLOAD" run "$FILES_DIR") || die "files_workload run failed"
	t1=$(date +%s%N)
	wall[plain]=$((t1 - t0))
	loop[plain]="$(field total_ns "$out") $(field read_ns "$out")"
	facts[plain]="- - - - -"
	sum=$(field checksum "$out")

	t0=$(date +%s%N)
	out=$(record_files "$FILES_HOME" "files-$round")
	t1=$(date +%s%N)
	wall[record]=$((t1 - t0))
	loop[record]="$(field total_ns "$out") $(field read_ns "$out")"
	[ "$(field checksum "$out")" = "$sum" ] || die "files_workload recorded read other files"
	id=$(AGENTTRACE_HOME=$FILES_HOME "$AT" list -q | head -n 1)
	[ -n "$id" ] || die "no trace after recording files_workload"
	facts[record]=$(trace_facts "$FILES_HOME" "$id")

	# The same, without the helper threads (AGENTTRACE_HELPERS=0: no allocating ahead, no
	# sealing along), and with the raw logs on the disk instead of a tmpfs.
	for mode in record_alone record_disk; do
		local -a vars=(AGENTTRACE_HELPERS=0)
		[ "$mode" = record_disk ] && vars=(AGENTTRACE_RUNTIME_DIR="$WORK/run-on-disk")
		t0=$(date +%s%N)
		out=$(record_files "$FILES_HOME" "files-$mode-$round" "${vars[@]}")
		t1=$(date +%s%N)
		wall[$mode]=$((t1 - t0))
		loop[$mode]="$(field total_ns "$out") $(field read_ns "$out")"
		facts[$mode]=$(trace_facts "$FILES_HOME" "$(AGENTTRACE_HOME=$FILES_HOME "$AT" list -q | head -n 1)")
	done

	t0=$(date +%s%N)
	out=$(AGENTTRACE_HOME=$FILES_HOME "$AT" replay "$id" 2>"$WORK/replay.err") || {
		cat "$WORK/replay.err" >&2
		die "agenttrace replay $id (files_workload) failed"
	}
	t1=$(date +%s%N)
	wall[replay]=$((t1 - t0))
	loop[replay]="$(field total_ns "$out") $(field read_ns "$out")"
	facts[replay]="- - - - -"
	[ "$(field checksum "$out")" = "$sum" ] ||
		die "replay of files_workload saw other file contents than its recording"

	rm -rf "$cold" && mkdir -p "$cold" # only warm-up rounds (all round 0) reuse a name
	t0=$(date +%s%N)
	out=$(record_files "$cold" "files-cold-$round")
	t1=$(date +%s%N)
	wall[record_cold]=$((t1 - t0))
	loop[record_cold]="$(field total_ns "$out") $(field read_ns "$out")"
	id=$(AGENTTRACE_HOME=$cold "$AT" list -q | head -n 1)
	[ -n "$id" ] || die "no trace after recording files_workload"
	facts[record_cold]=$(trace_facts "$cold" "$id")

	if [ "$round" -gt 0 ]; then
		for mode in plain record record_alone record_disk replay record_cold; do
			printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "${wall[$mode]}" \
				"${loop[$mode]// /$'\t'}" "${facts[$mode]// /$'\t'}" >>"$FILES_SAMPLES"
		done
	fi
	printf 'bench: round %s files  plain %6s  record %6s  replay %6s  record, fresh store %6s ms\n' \
		"$round" "$((wall[plain] / 1000000))" "$((wall[record] / 1000000))" \
		"$((wall[replay] / 1000000))" "$((wall[record_cold] / 1000000))" >&2
}

# --- the network workloads ----------------------------------------------------------------
# Instances of tests/e2e/http_server.py on 127.0.0.1, one per benchmark (the delay is per
# server; the HTTPS one has its certificate), started here, outside any recording, each
# bounded by --max-seconds and stopped when its benchmark ends (or by cleanup on exit).
#
# Its port and count files are on a tmpfs (BENCH_FILES_TMPDIR): it rewrites the count file
# (write, then rename) after every answer, and on ext4 that made each call take 1.4 ms
# instead of 0.16 ms, and vary with it. (The server turns Nagle's algorithm off itself: with
# it on, 300 keep-alive calls took 13 s instead of 50 ms.)
NET_CALLS=300 # the busy agent's calls, on one connection
LAT_CALLS=10  # the latency-bound agent's
LAT_DELAY_MS=200
LAT_REPS=$((REPS < 5 ? REPS : 5)) # 2 s per recording: 5 replays are enough
NET_HOME=$WORK/net-home
NET_CONTEXT=$WORK/net-context # the files the workloads read between calls
NET_SAMPLES=$WORK/net.tsv
TLS_SAMPLES=$WORK/tls.tsv
TLS_CERT=$WORK/tls-server.crt # made by tls_setup, with its key
TLS_KEY=$WORK/tls-server.key
NET_REPLAY_TOLD= # whether a replay that failed was told about (once is enough)
# net_server_start NAME MAX_SECONDS [ARGS...]: starts the server (ARGS go to it) and waits up
# to 5 s for it to listen. Sets NET_PORT, NET_PID, NET_COUNT (its count file: requests
# answered) and NET_CONNS (TCP connections accepted).
net_server_start() {
	local name=$1 max=$2 port_file=$NET_TMP/$1.port log=$WORK/$1-server.log
	shift 2
	NET_COUNT=$NET_TMP/$name.count
	NET_CONNS=$NET_TMP/$name.connections
	# -B: no __pycache__ in the source tree. Output to a file: a server holding run.sh's
	# stdout open would keep a pipe reading it (make bench | tee) from ending.
	"$PY" -B "$ROOT/tests/e2e/http_server.py" --port-file "$port_file" \
		--count-file "$NET_COUNT" --connections-file "$NET_CONNS" --max-seconds "$max" \
		"$@" >"$log" 2>&1 </dev/null &
	NET_PID=$!
	NET_SERVERS+=("$NET_PID")
	for _ in $(seq 50); do
		[ -s "$port_file" ] && break
		kill -0 "$NET_PID" 2>/dev/null || die "tests/e2e/http_server.py exited: $(cat "$log")"
		sleep 0.1
	done
	[ -s "$port_file" ] || die "tests/e2e/http_server.py did not listen within 5 s: $(cat "$log")"
	NET_PORT=$(cat "$port_file")
}

net_server_stop() { # net_server_stop PID
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# net_prepare: what both network sections need, once: the servers' directory, the context
# files, the store.
net_prepare() {
	[ -z "$NET_TMP" ] || return 0
	NET_TMP=$(mktemp -d "$FILES_TMPDIR/agenttrace-net.XXXXXX")
	"$NET_WORKLOAD" setup "$NET_CONTEXT" >/dev/null || die "net_workload setup failed"
	mkdir -p "$NET_HOME"
}

net_tsv_header() { # net_tsv_header FILE: starts a samples file (latest-net.tsv's columns)
	printf '%s\t' round bench mode wall_ns loop_ns wait_ns program_ns events sealed_bytes >"$1"
	printf 'status\n' >>"$1"
}

net_setup() {
	net_prepare
	net_tsv_header "$NET_SAMPLES"
}

# tls_setup: a self-signed certificate for 127.0.0.1 (EC P-256, valid one day, as the HTTPS
# tests make theirs), which the server serves and tls_workload trusts as its CA file.
tls_setup() {
	net_prepare
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=agenttrace bench" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$TLS_KEY" -out "$TLS_CERT" >"$WORK/openssl.log" 2>&1 ||
		die "openssl could not make a certificate: $(cat "$WORK/openssl.log")"
	net_tsv_header "$TLS_SAMPLES"
}

# field_or NAME LINE: like field, but "-" when LINE has no NAME= (a replay that failed).
field_or() {
	local v
	v=$(tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p")
	echo "${v:--}"
}

# net_run MODE ROUND BENCH CMD...: one run of CMD (a workload's run mode: net_workload's or
# tls_workload's), timed from here. Sets NET_OUT (its output), NET_WALL (ns) and NET_STATUS
# ("ok" or why not); for record, also NET_ID, the trace; for replay, NET_ID must be the
# trace to replay and NET_SUM the checksum its recording printed.
net_run() {
	local mode=$1 round=$2 bench=$3 t0 t1 s=0 n c what
	shift 3
	local -a cmd=("$@") why=()
	what="${cmd[0]##*/} ${cmd[*]:1}"
	NET_STATUS=ok
	case $mode in
	plain)
		t0=$(date +%s%N)
		NET_OUT=$("${cmd[@]}") || die "$what failed"
		t1=$(date +%s%N)
		;;
	record)
		t0=$(date +%s%N)
		NET_OUT=$(AGENTTRACE_HOME=$NET_HOME "$AT" record --name "net-$bench-$round" -- \
			"${cmd[@]}" 2>"$WORK/record.err") || {
			cat "$WORK/record.err" >&2
			die "agenttrace record -- $what failed"
		}
		t1=$(date +%s%N)
		NET_ID=$(AGENTTRACE_HOME=$NET_HOME "$AT" list -q | head -n 1)
		[ -n "$NET_ID" ] || die "no trace after recording ${cmd[0]##*/}"
		;;
	replay)
		# A replay that does not replay (before sockets were replayed, it reached the live
		# server and then diverged on the checksum it printed) is reported, not fatal.
		# timeout bounds one that would wait on the network.
		n=$(cat "$NET_COUNT") c=$(cat "$NET_CONNS")
		t0=$(date +%s%N)
		NET_OUT=$(AGENTTRACE_HOME=$NET_HOME timeout 60 "$AT" replay "$NET_ID" \
			2>"$WORK/replay.err") || s=$?
		t1=$(date +%s%N)
		n=$(($(cat "$NET_COUNT") - n)) c=$(($(cat "$NET_CONNS") - c))
		case $s in
		0) [ "$(field_or checksum "$NET_OUT")" = "$NET_SUM" ] ||
			why+=("printed another checksum than its recording") ;;
		124) why+=("timed out after 60 s") ;;
		201) why+=("diverged (exit 201)") ;;
		*) why+=("exit $s") ;;
		esac
		[ "$n" -eq 0 ] || why+=("the server answered it $n requests")
		[ "$c" -eq 0 ] || why+=("it made $c connections to the server")
		if [ ${#why[@]} -gt 0 ]; then
			NET_STATUS=$(printf '%s; ' "${why[@]}")
			NET_STATUS=${NET_STATUS%; }
		fi
		if [ "$NET_STATUS" != ok ] && [ -z "$NET_REPLAY_TOLD" ]; then
			echo "bench: net: the replay of $NET_ID ($what) is no replay ($NET_STATUS);" \
				"reported as such. Its stderr began:" >&2
			head -n 4 "$WORK/replay.err" >&2
			NET_REPLAY_TOLD=1
		fi
		;;
	esac
	NET_WALL=$((t1 - t0))
}

# net_sample TSV ROUND BENCH MODE: appends the run just made to TSV (not for warm-ups;
# ROUND "stopped" is the replay once the server is stopped).
net_sample() {
	local tsv=$1 round=$2 bench=$3 mode=$4 facts program=- events=- sealed=- rest
	[ "$round" = stopped ] || [ "$round" -gt 0 ] || return 0
	if [ "$mode" = record ]; then
		facts=$(trace_facts "$NET_HOME" "$NET_ID")
		read -r program events sealed rest <<<"$facts"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$bench" "$mode" "$NET_WALL" \
		"$(field_or total_ns "$NET_OUT")" "$(field_or wait_ns "$NET_OUT")" "$program" \
		"$events" "$sealed" "$NET_STATUS" >>"$tsv"
}

# net_ms NS: for the progress lines; "-" for a replay that was no replay.
net_ms() {
	if [ "$NET_STATUS" = ok ]; then echo "$(($1 / 1000000))"; else echo -; fi
}

# net_busy_round ROUND BENCH TSV CMD...: one round of a busy agent (CMD, its run mode):
# plain and record, record's replay right after it; samples to TSV. Odd rounds run plain
# first, even rounds last, so neither mode always follows the other.
net_busy_round() {
	local round=$1 bench=$2 tsv=$3 mode order="plain record replay"
	shift 3
	local -A wall
	[ $((round % 2)) -eq 1 ] || order="record replay plain"
	for mode in $order; do
		net_run "$mode" "$round" "$bench" "$@"
		if [ "$mode" != replay ]; then
			field total_ns "$NET_OUT" >/dev/null # dies unless it printed its own time
		fi
		if [ "$mode" = record ]; then
			NET_SUM=$(field checksum "$NET_OUT")
		fi
		wall[$mode]=$(net_ms "$NET_WALL")
		net_sample "$tsv" "$round" "$bench" "$mode"
	done
	printf 'bench: round %s net %s  plain %5s  record %5s  replay %5s ms\n' "$round" "$bench" \
		"${wall[plain]}" "${wall[record]}" "${wall[replay]}" >&2
}

# net_replay_stopped BENCH TSV CMD...: once the server is stopped (net_server_stop), replays
# the last recording of CMD again (NET_ID, NET_SUM): it must not need the server. Sampled as
# round "stopped"; the server's count and connection files stay as it left them.
net_replay_stopped() {
	local bench=$1 tsv=$2
	shift 2
	net_run replay stopped "$bench" "$@" # the command is only named in messages
	net_sample "$tsv" stopped "$bench" replay
	printf 'bench: net %s, the server stopped: replay %5s ms (%s)\n' "$bench" \
		"$(net_ms "$NET_WALL")" "$NET_STATUS" >&2
}

# One round of the latency-bound agent: plain, record, replay of that recording.
net_latency_round() {
	local round=$1 mode
	local -A wall
	for mode in plain record replay; do
		net_run "$mode" "$round" latency "$NET_WORKLOAD" run "$NET_PORT" "$LAT_CALLS" \
			"$NET_CONTEXT"
		if [ "$mode" = record ]; then
			NET_SUM=$(field checksum "$NET_OUT")
		fi
		wall[$mode]=$(net_ms "$NET_WALL")
		net_sample "$NET_SAMPLES" "$round" latency "$mode"
	done
	printf 'bench: round %s net latency  plain %5s  record %5s  replay %5s ms\n' "$round" \
		"${wall[plain]}" "${wall[record]}" "${wall[replay]}" >&2
}

# --- the fork/exec-heavy script -------------------------------------------------------------
# bench/fork_script.sh, run by Debian's bash: 100 external commands, each a fork and an exec
# (and a few more forks for the pipes and command substitutions), about 140 processes. The
# trace has one stream per process. Its own store, FORK_HOME.
FORK_SCRIPT=$ROOT/bench/fork_script.sh
FORK_HOME=$WORK/fork-home
FORK_SAMPLES=$WORK/fork.tsv
FORK_REPLAY_TOLD= # whether a replay that failed was told about (once is enough)

fork_setup() {
	mkdir -p "$FORK_HOME"
	printf '%s\t' round mode wall_ns program_ns events sealed_bytes processes >"$FORK_SAMPLES"
	printf 'status\n' >>"$FORK_SAMPLES"
}

# fork_facts ID: "program_ns events sealed_bytes processes" from the trace's metadata.
fork_facts() {
	AGENTTRACE_HOME=$FORK_HOME "$AT" show "$1" --json >"$WORK/show.json" ||
		die "agenttrace show $1 --json failed"
	$PY - "$WORK/show.json" <<-'EOF'
		import json, sys
		m = json.load(open(sys.argv[1]))
		print(m["end_ns"] - m["start_ns"], m["events"], m["sealed_bytes"], m["processes"])
	EOF
}

# fork_run MODE: one run of the script, timed from here. Sets FORK_OUT (its output line),
# FORK_WALL (ns) and FORK_STATUS ("ok" or why not); record sets FORK_ID, the trace, which
# replay replays, and FORK_LINE, the line it printed, which replay must print too. A replay
# that does not replay (before processes were replayed, its children ran live and printed
# other dates) is reported, not fatal; timeout bounds one that would hang.
fork_run() {
	local mode=$1 t0 t1 s=0
	FORK_STATUS=ok
	case $mode in
	plain)
		t0=$(date +%s%N)
		FORK_OUT=$(/bin/bash "$FORK_SCRIPT") || die "bench/fork_script.sh failed"
		t1=$(date +%s%N)
		;;
	record)
		t0=$(date +%s%N)
		FORK_OUT=$(AGENTTRACE_HOME=$FORK_HOME "$AT" record -- /bin/bash "$FORK_SCRIPT" \
			2>"$WORK/record.err") || {
			cat "$WORK/record.err" >&2
			die "agenttrace record -- bash bench/fork_script.sh failed"
		}
		t1=$(date +%s%N)
		FORK_ID=$(AGENTTRACE_HOME=$FORK_HOME "$AT" list -q | head -n 1)
		[ -n "$FORK_ID" ] || die "no trace after recording bench/fork_script.sh"
		FORK_LINE=$FORK_OUT
		;;
	replay)
		t0=$(date +%s%N)
		FORK_OUT=$(AGENTTRACE_HOME=$FORK_HOME timeout 60 "$AT" replay "$FORK_ID" \
			2>"$WORK/replay.err") || s=$?
		t1=$(date +%s%N)
		case $s in
		0) [ "$FORK_OUT" = "$FORK_LINE" ] || FORK_STATUS="printed another line than its recording" ;;
		124) FORK_STATUS="timed out after 60 s" ;;
		201) FORK_STATUS="diverged (exit 201)" ;;
		*) FORK_STATUS="exit $s" ;;
		esac
		if [ "$FORK_STATUS" != ok ] && [ -z "$FORK_REPLAY_TOLD" ]; then
			echo "bench: fork: the replay of $FORK_ID is no replay ($FORK_STATUS);" \
				"reported as such. Its stderr began:" >&2
			head -n 4 "$WORK/replay.err" >&2
			FORK_REPLAY_TOLD=1
		fi
		;;
	esac
	case $FORK_OUT in
	"commands=100 checksum="*) ;;
	*) [ "$FORK_STATUS" != ok ] || die "bench/fork_script.sh printed '$FORK_OUT' ($mode)" ;;
	esac
	FORK_WALL=$((t1 - t0))
}

# fork_round ROUND: plain and record, record's replay right after it. Odd rounds run plain
# first, even rounds last, so neither mode always follows the other. Appends to
# $FORK_SAMPLES unless the round is a warm-up (round 0).
fork_round() {
	local round=$1 mode order="plain record replay" facts
	local -A wall
	[ $((round % 2)) -eq 1 ] || order="record replay plain"
	for mode in $order; do
		fork_run "$mode"
		facts="- - - -"
		[ "$mode" != record ] || facts=$(fork_facts "$FORK_ID")
		if [ "$FORK_STATUS" = ok ]; then
			wall[$mode]=$((FORK_WALL / 1000000))
		else
			wall[$mode]=-
		fi
		if [ "$round" -gt 0 ]; then
			printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$FORK_WALL" "${facts// /$'\t'}" \
				"$FORK_STATUS" >>"$FORK_SAMPLES"
		fi
	done
	printf 'bench: round %s fork  plain %5s  record %5s  replay %5s ms\n' "$round" \
		"${wall[plain]}" "${wall[record]}" "${wall[replay]}" >&2
}

start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
if want calls; then
	echo "bench: $REPS rounds (+$WARMUP warm-up) of: $CALLS; AGENTTRACE_HOME=$AGENTTRACE_HOME" >&2
	for ((round = 1 - WARMUP; round <= REPS; round++)); do
		for call in $CALLS; do
			one_round "$((round < 1 ? 0 : round))" "$call" "$(calls_for "$call")"
		done
	done
fi
if want size; then
	for call in $SIZE_CALLS; do
		one_size "$call" "$SIZE_N"
	done
fi
if want files; then
	files_setup
	for ((round = 1 - WARMUP; round <= REPS; round++)); do
		files_round "$((round < 1 ? 0 : round))"
	done
fi
if want net; then
	net_setup
	# Bounded, generously: a server that stops early makes net_workload fail, with a message.
	net_server_start busy $((120 + 20 * (REPS + WARMUP)))
	echo "bench: net: a busy agent, $NET_CALLS calls to 127.0.0.1:$NET_PORT" >&2
	for ((round = 1 - WARMUP; round <= REPS; round++)); do
		net_busy_round "$((round < 1 ? 0 : round))" busy "$NET_SAMPLES" \
			"$NET_WORKLOAD" run "$NET_PORT" "$NET_CALLS" "$NET_CONTEXT"
	done
	net_server_stop "$NET_PID"
	net_server_start latency $((60 + 20 * LAT_REPS)) --delay-ms "$LAT_DELAY_MS"
	echo "bench: net: a latency-bound agent, $LAT_CALLS calls, $LAT_DELAY_MS ms each" >&2
	for ((round = 1; round <= LAT_REPS; round++)); do
		net_latency_round "$round"
	done
	net_server_stop "$NET_PID"
fi
if want tls; then
	tls_setup
	# The same server, speaking HTTPS with the certificate tls_setup made.
	net_server_start tls $((120 + 30 * (REPS + WARMUP))) --cert "$TLS_CERT" --key "$TLS_KEY"
	echo "bench: tls: a busy agent over HTTPS, $NET_CALLS calls to 127.0.0.1:$NET_PORT" >&2
	tls_cmd=("$TLS_WORKLOAD" run "$NET_PORT" "$NET_CALLS" "$NET_CONTEXT" "$TLS_CERT")
	for ((round = 1 - WARMUP; round <= REPS; round++)); do
		net_busy_round "$((round < 1 ? 0 : round))" tls "$TLS_SAMPLES" "${tls_cmd[@]}"
	done
	net_server_stop "$NET_PID"
	net_replay_stopped tls "$TLS_SAMPLES" "${tls_cmd[@]}"
fi
if want fork; then
	fork_setup
	echo "bench: fork: bash bench/fork_script.sh, 100 external commands" >&2
	for ((round = 1 - WARMUP; round <= REPS; round++)); do
		fork_round "$((round < 1 ? 0 : round))"
	done
fi
if want store; then
	BENCH_TMPDIR=$WORK "$ROOT/bench/store_size.sh" "$BUILD" >"$WORK/store.md" ||
		die "bench/store_size.sh failed"
fi
if want seek; then
	SEEK_TSV=$WORK/seek.tsv BENCH_TMPDIR=$WORK BENCH_REPS=$REPS \
		"$ROOT/bench/seek.sh" "$BUILD" >"$WORK/seek.md" || die "bench/seek.sh failed"
fi
elapsed=$(($(date +%s) - start))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report ---------------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit="$commit (with uncommitted changes)"
fi
fs=$(df --output=fstype "$AGENTTRACE_HOME" 2>/dev/null | tail -n 1 || echo unknown)
files_fs=$(df --output=fstype "$FILES_TMPDIR" 2>/dev/null | tail -n 1 || echo unknown)

mkdir -p "$RESULTS"
$PY - "$SAMPLES" "$SIZES" "$FILES_SAMPLES" "$NET_SAMPLES" "$TLS_SAMPLES" "$FORK_SAMPLES" \
	>"$WORK/report.md" <<EOF
import csv, statistics, sys
from collections import defaultdict

samples = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
sizes = list(csv.DictReader(open(sys.argv[2]), delimiter="\t"))
calls = "$CALLS".split()
sections = "$SECTIONS".split()

print("# agenttrace benchmarks")
print()
print("- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit; build: $BUILD")
print("- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r)")
print("- AGENTTRACE_HOME on $fs; $REPS rounds after $WARMUP warm-up round(s); $elapsed s in all")
print("- load average (1, 5, 15 min) before: $load_start; after: $load_end (the bench itself adds about 1)")
print()

ns = defaultdict(dict)  # (call, mode) -> round -> ns/call
n_of = {}
for s in samples:
    ns[s["call"], s["mode"]][int(s["round"])] = float(s["ns_per_call"])
    n_of[s["call"]] = int(s["n"])

def med(xs):
    return statistics.median(xs)

def cell(xs, digits=1):
    return f"{med(xs):.{digits}f} ({min(xs):.{digits}f}-{max(xs):.{digits}f})"

if "calls" in sections:
    print("## Cost per call, ns: median (min-max) of %d rounds" % $REPS)
    print()
    print("| call | calls per run | native | preloaded, idle | record | replay |")
    print("|---|---:|---:|---:|---:|---:|")
    for c in calls:
        row = [cell(list(ns[c, m].values())) for m in ("native", "idle", "record", "replay")]
        print(f"| {c} | {n_of[c]:,} | " + " | ".join(row) + " |")
    print()
    print("## Added per hooked call, ns: median (min-max) over rounds of (mode - native) in the same round")
    print()
    print("| call | idle - native | record - native | replay - native | record / native | replay / native |")
    print("|---|---:|---:|---:|---:|---:|")
    for c in calls:
        rounds = sorted(ns[c, "native"])
        def added(m):
            return [ns[c, m][r] - ns[c, "native"][r] for r in rounds]
        def ratio(m):
            return med(list(ns[c, m].values())) / med(list(ns[c, "native"].values()))
        print(f"| {c} | {cell(added('idle'))} | **{cell(added('record'))}** | {cell(added('replay'))} "
              f"| {ratio('record'):.2f}x | {ratio('replay'):.2f}x |")
    print()
    print("Target: at most 100 ns added per hooked call while recording.")
    print()
    print("## Work outside the loop, ns per recorded event: median (min-max) of %d rounds" % $REPS)
    print()
    print("Wall time of the whole command minus hookbench's timed loop, divided by the events in the")
    print("trace: for record, start-up and sealing; for replay, start-up and preparing the stream.")
    print()
    print("| call | record: start-up + sealing | replay: start-up + preparing |")
    print("|---|---:|---:|")
    for c in calls:
        print(f"| {c} | {cell(list(ns[c, 'record_rest'].values()))} "
              f"| {cell(list(ns[c, 'replay_rest'].values()))} |")
    print()
if "size" in sections:
    print("## Size per event, bytes (one recording each)")
    print()
    print("| call | events | payload | raw log while recording | coded, before zstd | sealed, chunks only | sealed, whole file |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        ev = int(s["events"])
        def per(key):
            return f"{int(s[key]) / ev:.2f}" if s[key] not in ("", None) else "n/a"
        print(f"| {s['call']} | {ev:,} | {per('payload_bytes')} | {per('raw_bytes')} "
              f"| {per('coded_bytes')} | {per('chunk_bytes')} "
              f"| **{per('sealed_bytes')}** ({int(s['sealed_bytes']):,} B) |")
    print()
    print("Target: at most 8 bytes per repetitive clock event once sealed. The whole file includes")
    print("the metadata (the recorded environment, a few KiB); chunks only is the events' share.")
    print()
if "files" in sections:
    rows = list(csv.DictReader(open(sys.argv[3]), delimiter="\t"))
    def ms(mode, key):
        return [int(r[key]) / 1e6 for r in rows if r["mode"] == mode]
    def rest(mode):  # wall - program: agenttrace's start-up, sealing, exit
        return [(int(r["wall_ns"]) - int(r["program_ns"])) / 1e6 for r in rows if r["mode"] == mode]
    plain = med(ms("plain", "wall_ns"))
    plain_loop = med(ms("plain", "loop_ns"))
    print("## A file-heavy program, ms: median (min-max) of %d rounds" % $REPS)
    print()
    print("\`files_workload run\` opens, fstats, reads to EOF and closes 2,000 files of 1-4 KiB (5.1 MB),")
    print("then creates 200 files (0.5 MB) in an empty directory. *wall*: the whole command, what")
    print("the user waits for. *program*: the program from spawn to exit")
    print("(\`end_ns - start_ns\` in the trace), so wall - program is agenttrace's start-up and the")
    print("sealing. *loop*: the workload's own timed work. Each round runs the modes in this order.")
    print("The workload's files are on $files_fs ($FILES_TMPDIR), the stores on $fs, the raw logs")
    print("where agenttrace puts them by default (a tmpfs: /dev/shm) but in the *raw logs on $fs* row.")
    print("*HELPERS=0* turns off the threads that allocate the logs ahead and seal along.")
    print()
    print("| mode | wall | wall / plain | program | program / plain | wall - program | loop | loop / plain |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    for mode, label in (("plain", "plain"), ("record", "record, blobs already stored"),
                        ("record_alone", "the same, AGENTTRACE_HELPERS=0"),
                        ("record_disk", "the same, raw logs on $fs"),
                        ("replay", "replay of that recording"),
                        ("record_cold", "record, fresh store")):
        wall, loop = ms(mode, "wall_ns"), ms(mode, "loop_ns")
        ratios[mode] = med(wall) / plain
        if mode.startswith("record"):
            prog = ms(mode, "program_ns")
            p = f"{cell(prog)} | {med(prog) / plain:.2f}x | {cell(rest(mode))}"
        else:
            p = "- | - | -"
        bold = "**" if mode.startswith("record") else ""
        print(f"| {label} | {cell(wall)} | {bold}{ratios[mode]:.2f}x{bold} | {p} | {cell(loop)} "
              f"| {med(loop) / plain_loop:.2f}x |")
    print()
    print("Ratios are of the medians. Within one round (the modes run back to back, so a slow")
    print("spell of the machine lands on all of them), wall time / plain's: median (min-max)")
    print("over rounds:")
    print()
    by_round = defaultdict(dict)
    for r in rows:
        by_round[r["round"]][r["mode"]] = r
    def per_round(mode, key="wall_ns"):
        return [int(m[mode][key]) / int(m["plain"]["wall_ns"]) for m in by_round.values()]
    for mode, label in (("record", "record, blobs already stored"),
                        ("record_alone", "the same, AGENTTRACE_HELPERS=0"),
                        ("record_disk", "the same, raw logs on $fs"),
                        ("record_cold", "record, fresh store"), ("replay", "replay")):
        line = f"- {label}: {cell(per_round(mode), 2)}"
        if mode.startswith("record"):
            line += f"; the program alone: {cell(per_round(mode, 'program_ns'), 2)}"
        print(line)
    print()
    rd = {m: med(ms(m, "read_ns")) for m in ("plain", "record", "replay")}
    print(f"Reading the 2,000 files alone (part of the loop): plain {rd['plain']:.1f} ms, "
          f"recorded {rd['record']:.1f} ms ({rd['record'] / rd['plain']:.2f}x), "
          f"replayed {rd['replay']:.1f} ms.")
    print()
    for mode, label in (("record", "blobs already stored"), ("record_cold", "fresh store")):
        r = [x for x in rows if x["mode"] == mode][-1]
        print(f"- a recording ({label}): {int(r['events']):,} events, trace file "
              f"{int(r['sealed_bytes']):,} B, {int(r['blobs']):,} blobs holding "
              f"{int(r['blob_bytes']):,} B of read content")
    print()
    prog = med(ms("record", "program_ns")) / plain
    print(f"Target: recording at most 1.3x plain. The program under recording / plain: "
          f"{prog:.2f}x. Wall time of the whole command / plain: "
          f"{ratios['record']:.2f}x with the blobs already stored, {ratios['record_cold']:.2f}x "
          f"into a fresh store; replay / plain {ratios['replay']:.2f}x.")
    print()
def net_table(path):  # a network section's samples (latest-net.tsv's columns)
    return list(csv.DictReader(open(path), delimiter="\t"))
def net_rows(rows, bench, mode):  # the timed rounds' runs, not the replay with the server stopped
    return [r for r in rows if r["bench"] == bench and r["mode"] == mode and r["round"] != "stopped"]
def net_ms(rows, bench, mode, key):  # only the runs that did what they should (status ok)
    return [int(r[key]) / 1e6 for r in net_rows(rows, bench, mode) if r["status"] == "ok"]
def no_replay(rows, bench):  # why the replays were not measured, or ""
    bad = [r for r in net_rows(rows, bench, "replay") if r["status"] != "ok"]
    if not bad:
        return ""
    return (f"{len(bad)} of {len(net_rows(rows, bench, 'replay'))} replays were no replay: "
            f"{bad[0]['status']}")
def net_by_round(rows, bench):
    by_round = defaultdict(dict)
    for r in rows:
        if r["bench"] == bench and r["status"] == "ok" and r["round"] != "stopped":
            by_round[r["round"]][r["mode"]] = r
    return by_round
def met(ratio, target):
    return "met" if ratio <= target else "**not met**"
net_modes = (("plain", "plain"), ("record", "record"), ("replay", "replay of that recording"))

def busy_report(rows, bench, title, intro):
    """A busy agent's table, its ratios within rounds, and the target line."""
    plain = med(net_ms(rows, bench, "plain", "wall_ns"))
    plain_loop = med(net_ms(rows, bench, "plain", "loop_ns"))
    print("## %s, ms: median (min-max) of %d rounds" % (title, $REPS))
    print()
    print(intro)
    print()
    print("| mode | wall | wall / plain | program | program / plain | wall - program | loop | loop / plain | waiting |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    for mode, label in net_modes:
        wall, loop = net_ms(rows, bench, mode, "wall_ns"), net_ms(rows, bench, mode, "loop_ns")
        if not wall:
            print(f"| {label} | not measured: {no_replay(rows, bench)} | | | | | | | |")
            continue
        ratios[mode] = med(wall) / plain
        if mode == "record":
            prog = net_ms(rows, bench, mode, "program_ns")
            rest = [w - p for w, p in zip(wall, prog)]
            ratios["program"] = med(prog) / plain
            p = f"{cell(prog)} | {ratios['program']:.2f}x | {cell(rest)}"
        else:
            p = "- | - | -"
        bold = "**" if mode == "record" else ""
        print(f"| {label} | {cell(wall)} | {bold}{ratios[mode]:.2f}x{bold} | {p} | {cell(loop)} "
              f"| {med(loop) / plain_loop:.2f}x | {cell(net_ms(rows, bench, mode, 'wait_ns'))} |")
    print()
    if "replay" in ratios and no_replay(rows, bench):
        print(f"Replay: {no_replay(rows, bench)}; the others are in the table.")
        print()
    print("Within one round, record / plain: median (min-max) over rounds:")
    print()
    rounds = [m for m in net_by_round(rows, bench).values() if "plain" in m and "record" in m]
    def busy_ratio(key, base_key):
        return [int(m["record"][key]) / int(m["plain"][base_key]) for m in rounds]
    print(f"- wall: {cell(busy_ratio('wall_ns', 'wall_ns'), 2)}; the program / plain's wall: "
          f"{cell(busy_ratio('program_ns', 'wall_ns'), 2)}; "
          f"loop: {cell(busy_ratio('loop_ns', 'loop_ns'), 2)}")
    print()
    last = net_rows(rows, bench, "record")[-1]
    print(f"A recording: {int(last['events']):,} events, "
          f"trace file {int(last['sealed_bytes']):,} B.")
    print()
    loop_ratio = med(net_ms(rows, bench, "record", "loop_ns")) / plain_loop
    print(f"Target: recording at most 1.10x plain. The whole command: {ratios['record']:.2f}x "
          f"({met(ratios['record'], 1.10)}); the program: {ratios['program']:.2f}x "
          f"({met(ratios['program'], 1.10)}); the program's loop: {loop_ratio:.2f}x "
          f"({met(loop_ratio, 1.10)}).")
    print()

if "net" in sections:
    rows = net_table(sys.argv[4])
    busy_report(rows, "busy", "A busy agent on the network", "\n".join((
        "\`net_workload run PORT $NET_CALLS DIR\` makes $NET_CALLS HTTP/1.1 GETs on one keep-alive",
        "TCP connection to tests/e2e/http_server.py on 127.0.0.1 (64 hex characters back, with",
        "a Content-Length). Before each call it reads one of 16 files of 1-4 KiB (open, read",
        "to EOF, close) and the clock: CLOCK_REALTIME for the request, CLOCK_MONOTONIC around",
        "the call. *wall*: the whole command. *program*: spawn to exit, from the trace.",
        "*loop*: the program's own timed work, connect to close. *waiting*: the part of the",
        "loop from sending a request to having its whole answer, mostly the server's. Odd",
        "rounds run plain first, even rounds last; the replay follows its recording. The",
        "server runs with Nagle's algorithm off and its count file on a tmpfs (bench/README.md).")))

    print("## A latency-bound agent on the network, ms: median (min-max) of %d rounds" % $LAT_REPS)
    print()
    print("\`net_workload run PORT $LAT_CALLS DIR\`: the same program, $LAT_CALLS calls, against a")
    print("second server that waits $LAT_DELAY_MS ms before each answer (\`--delay-ms $LAT_DELAY_MS\`). A")
    print("replay should not wait: it has the answers. Each round runs plain, record, and the")
    print("replay of that recording; no warm-up round.")
    print()
    print("| mode | wall | loop |")
    print("|---|---:|---:|")
    for mode, label in net_modes:
        wall, loop = net_ms(rows, "latency", mode, "wall_ns"), net_ms(rows, "latency", mode, "loop_ns")
        if not wall:
            print(f"| {label} | not measured: {no_replay(rows, 'latency')} | |")
            continue
        print(f"| {label} | {cell(wall)} | {cell(loop)} |")
    print()
    rec, rep = net_ms(rows, "latency", "record", "wall_ns"), net_ms(rows, "latency", "replay", "wall_ns")
    if rep:
        per_round = [int(m["record"]["wall_ns"]) / int(m["replay"]["wall_ns"])
                     for m in net_by_round(rows, "latency").values() if "record" in m and "replay" in m]
        ratio = med(rec) / med(rep)
        print(f"Target: replay at least 20x faster than record. Record / replay, wall: "
              f"**{ratio:.1f}x** ({met(1 / ratio, 1 / 20)}); within a round: {cell(per_round)}.")
        if no_replay(rows, "latency"):
            print(f"{no_replay(rows, 'latency')}; the others are in the table.")
    else:
        print(f"Target: replay at least 20x faster than record. Not measured: {no_replay(rows, 'latency')}.")
    print()
if "tls" in sections:
    rows = net_table(sys.argv[5])
    busy_report(rows, "tls", "A busy agent over HTTPS (issue 5)", "\n".join((
        "\`tls_workload run PORT $NET_CALLS DIR CAFILE\`: net_workload's busy agent over TLS, with",
        "OpenSSL directly (SSL_CTX with the CA file, SSL_connect with ALPN http/1.1, then",
        "SSL_write and SSL_read on one keep-alive connection; SSL_shutdown at the end), to the",
        "same server speaking HTTPS with a self-signed P-256 certificate for 127.0.0.1 made",
        "by the openssl command. Recorded at the OpenSSL API, as plaintext; the socket I/O",
        "inside those calls is not recorded. *wall*, *program*, *loop* (connect to close, so",
        "the handshake included) and *waiting* as for the busy agent on the network; rounds in",
        "the same order.")))
    stopped = [r for r in rows if r["bench"] == "tls" and r["round"] == "stopped"]
    if stopped:
        r = stopped[-1]
        how = (f"printed its recording's checksum in {int(r['wall_ns']) / 1e6:.1f} ms"
               if r["status"] == "ok" else f"**no replay**: {r['status']}")
        print(f"The last recording replayed once more with the server stopped: {how}.")
        print()
if "fork" in sections:
    rows = list(csv.DictReader(open(sys.argv[6]), delimiter="\t"))
    def fork_ms(mode, key="wall_ns"):  # only the runs that did what they should
        return [int(r[key]) / 1e6 for r in rows if r["mode"] == mode and r["status"] == "ok"]
    plain = med(fork_ms("plain"))
    print("## A fork/exec-heavy shell script (issue 6), ms: median (min-max) of %d rounds" % $REPS)
    print()
    print("\`bash bench/fork_script.sh\`: 100 short external commands, 20 times \`date\`, \`/bin/true\`,")
    print("\`echo x | cat\`, \`ls /\` and \`echo | cksum\`, each a fork and an exec, and the forks of")
    print("the pipes and command substitutions. Recorded, every process has its own stream.")
    print("*wall*: the whole command. *program*: spawn to exit, from the trace. Odd rounds run plain")
    print("first, even rounds last; the replay follows its recording.")
    print()
    print("| mode | wall | wall / plain | program | program / plain | wall - program |")
    print("|---|---:|---:|---:|---:|---:|")
    ratios = {}
    replays = [r for r in rows if r["mode"] == "replay"]
    bad = [r for r in replays if r["status"] != "ok"]
    for mode, label in (("plain", "plain"), ("record", "record"), ("replay", "replay of that recording")):
        wall = fork_ms(mode)
        if not wall:
            print(f"| {label} | not measured: {len(bad)} of {len(replays)} replays were no "
                  f"replay: {bad[0]['status']} | | | | |")
            continue
        ratios[mode] = med(wall) / plain
        if mode == "record":
            prog = fork_ms(mode, "program_ns")
            ratios["program"] = med(prog) / plain
            p = f"{cell(prog)} | {ratios['program']:.2f}x | {cell([w - q for w, q in zip(wall, prog)])}"
        else:
            p = "- | - | -"
        bold = "**" if mode == "record" else ""
        print(f"| {label} | {cell(wall)} | {bold}{ratios[mode]:.2f}x{bold} | {p} |")
    print()
    if bad and fork_ms("replay"):
        print(f"Replay: {len(bad)} of {len(replays)} replays were no replay ({bad[0]['status']}); "
              f"the others are in the table.")
        print()
    by_round = defaultdict(dict)
    for r in rows:
        if r["status"] == "ok":
            by_round[r["round"]][r["mode"]] = r
    pairs = [m for m in by_round.values() if "plain" in m and "record" in m]
    within = [int(m["record"]["wall_ns"]) / int(m["plain"]["wall_ns"]) for m in pairs]
    within_prog = [int(m["record"]["program_ns"]) / int(m["plain"]["wall_ns"]) for m in pairs]
    print(f"Within one round, record / plain: wall {cell(within, 2)}; the program / plain's wall: "
          f"{cell(within_prog, 2)}.")
    print()
    last = [r for r in rows if r["mode"] == "record"][-1]
    print(f"A recording: {int(last['processes']):,} processes, {int(last['events']):,} events, "
          f"trace file {int(last['sealed_bytes']):,} B.")
    print()
    print(f"Target: recording at most 1.3x plain. The whole command: {ratios['record']:.2f}x "
          f"({met(ratios['record'], 1.3)}); the program: {ratios['program']:.2f}x "
          f"({met(ratios['program'], 1.3)}).")
    print()
EOF
if want store; then
	cat "$WORK/store.md" >>"$WORK/report.md"
fi
if want seek; then
	cat "$WORK/seek.md" >>"$WORK/report.md"
fi
cp "$WORK/report.md" "$RESULTS/latest.md"
cp "$SAMPLES" "$RESULTS/latest.tsv"
wrote="latest.md, latest.tsv"
if want files; then
	cp "$FILES_SAMPLES" "$RESULTS/latest-files.tsv"
	wrote="$wrote, latest-files.tsv"
fi
if want net; then
	cp "$NET_SAMPLES" "$RESULTS/latest-net.tsv"
	wrote="$wrote, latest-net.tsv"
fi
if want tls; then
	cp "$TLS_SAMPLES" "$RESULTS/latest-tls.tsv"
	wrote="$wrote, latest-tls.tsv"
fi
if want fork; then
	cp "$FORK_SAMPLES" "$RESULTS/latest-fork.tsv"
	wrote="$wrote, latest-fork.tsv"
fi
if want seek; then
	cp "$WORK/seek.tsv" "$RESULTS/latest-seek.tsv"
	wrote="$wrote, latest-seek.tsv"
fi
cat "$RESULTS/latest.md"
echo "bench: wrote $wrote in $RESULTS" >&2
