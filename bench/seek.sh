#!/usr/bin/env bash
# bench/seek.sh [BUILD]: seek time against trace length (issue 7), for bench/run.sh's
# "seek" section or on its own. Prints a markdown section on stdout; samples go to
# $SEEK_TSV (default bench/results/latest-seek.tsv).
#
# Traces: hookbench's clock-monotonic loop recorded at 10k, 100k, 300k and 1M calls (one event
# each, one stream). For each, `agenttrace show ID --step S --json` at S = 0, the middle and
# the last step, timed from the shell (the whole command: start, opening the trace, the
# keyframe, the events after it, printing), median of REPS. The summary `show ID --json`,
# timed the same way, is what opening the trace costs. Then the keyframe interval: the 1M
# trace recorded with --keyframe-every K for several K, its size and its middle seek.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
AT=$BUILD/cli/agenttrace
HOOKBENCH=$BUILD/bench/hookbench
PY=/usr/bin/python3
REPS=${BENCH_REPS:-7}
SIZES=${SEEK_SIZES:-10000 100000 300000 1000000}
INTERVALS=${SEEK_INTERVALS:-1024 4096 16384 65536 0}
TSV=${SEEK_TSV:-$ROOT/bench/results/latest-seek.tsv}
WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/at-seek.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export AGENTTRACE_HOME=$WORK/home

die() {
	echo "bench/seek.sh: $*" >&2
	exit 1
}
[ -x "$AT" ] && [ -x "$HOOKBENCH" ] || die "build first: $AT or $HOOKBENCH is missing"
[ -x "$PY" ] || die "$PY is needed for the medians"
mkdir -p "$(dirname "$TSV")"

# record N K: records N clock reads with a keyframe every K events; prints the trace id.
record() {
	"$AT" record --keyframe-every "$2" -- "$HOOKBENCH" clock-monotonic "$1" >/dev/null 2>"$WORK/rec.err" ||
		die "recording $1 calls failed: $(cat "$WORK/rec.err")"
	"$AT" list -q | head -n 1
}

# ms CMD...: the wall time of CMD in milliseconds (3 decimals), its output discarded.
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$WORK/cmd.err" || die "'$*' failed: $(cat "$WORK/cmd.err")"
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000))" | awk '{printf "%.3f", $1 / 1000}'
}

# keyframes FILE: "COUNT BYTES", the keyframe chunks of a trace and their bytes (headers
# included), from its index (docs/format.md).
keyframes() {
	$PY - "$1" <<-'EOF'
		import struct, sys
		b = open(sys.argv[1], "rb").read()
		index = struct.unpack_from("<Q", b, len(b) - 24)[0]
		nstreams, nchunks = struct.unpack_from("<II", b, index + 4)
		at, n, size = index + 16 + 56 * nstreams, 0, 0
		for i in range(nchunks):
		    zlen, kind = struct.unpack_from("<I", b, at + 40 * i + 28)[0], struct.unpack_from("<I", b, at + 40 * i + 36)[0]
		    if kind == 1:
		        n, size = n + 1, size + 40 + zlen
		print(n, size)
	EOF
}

median() {
	printf '%s\n' "$@" | $PY -c 'import sys, statistics; print("%.2f" % statistics.median(float(x) for x in sys.stdin))'
}

printf 'kind\tevents\tinterval\tstep\trep\tms\tbytes\n' >"$TSV"
echo "bench: seek: recording $SIZES events" >&2
declare -A ID
for n in $SIZES; do
	ID[$n]=$(record "$n" 16384)
done

echo
echo "## Keyframes and seeking (issue 7), ms: median of $REPS"
echo
echo "\`agenttrace show ID --step S --json\`, the whole command, on a recording of N"
echo "\`clock_gettime\` calls (hookbench clock-monotonic; one stream, a keyframe every 16384"
echo "events). *open*: \`show ID --json\` (no step), what opening the trace and printing"
echo "its summary cost."
echo
echo "| events | trace bytes | open | step 0 | middle | last step |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
	id=${ID[$n]}
	bytes=$(stat -c %s "$AGENTTRACE_HOME/traces/$id/trace.at")
	declare -a o=() s0=() sm=() se=()
	for ((r = 1; r <= REPS; r++)); do
		o+=("$(ms "$AT" show "$id" --json)")
		s0+=("$(ms "$AT" show "$id" --step 0 --json)")
		sm+=("$(ms "$AT" show "$id" --step $((n / 2)) --json)")
		se+=("$(ms "$AT" show "$id" --step $((n - 1)) --json)")
		printf 'open\t%s\t16384\t-\t%s\t%s\t%s\n' "$n" "$r" "${o[-1]}" "$bytes" >>"$TSV"
		printf 'seek\t%s\t16384\t0\t%s\t%s\t%s\n' "$n" "$r" "${s0[-1]}" "$bytes" >>"$TSV"
		printf 'seek\t%s\t16384\t%s\t%s\t%s\t%s\n' "$n" $((n / 2)) "$r" "${sm[-1]}" "$bytes" >>"$TSV"
		printf 'seek\t%s\t16384\t%s\t%s\t%s\t%s\n' "$n" $((n - 1)) "$r" "${se[-1]}" "$bytes" >>"$TSV"
	done
	echo "| $n | $bytes | $(median "${o[@]}") | $(median "${s0[@]}") | $(median "${sm[@]}") | $(median "${se[@]}") |"
done

big=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -n 1)
echo
echo "The keyframe interval K on a $big-event recording (one per K): the trace's size, its"
echo "keyframes and their bytes, and the seek to the middle step (K = 0: no keyframes, every"
echo "seek starts from step 0). Each K is its own recording, and the clock deltas that make"
echo "up most of the events vary from one to the next: compare the keyframe bytes."
echo
echo "| K | trace bytes | keyframes | keyframe bytes | middle |"
echo "|---:|---:|---:|---:|---:|"
for k in $INTERVALS; do
	id=$(record "$big" "$k")
	bytes=$(stat -c %s "$AGENTTRACE_HOME/traces/$id/trace.at")
	declare -a sk=()
	for ((r = 1; r <= REPS; r++)); do
		sk+=("$(ms "$AT" show "$id" --step $((big / 2)) --json)")
		printf 'interval\t%s\t%s\t%s\t%s\t%s\t%s\n' "$big" "$k" $((big / 2)) "$r" "${sk[-1]}" "$bytes" >>"$TSV"
	done
	read -r nkf kfbytes < <(keyframes "$AGENTTRACE_HOME/traces/$id/trace.at")
	echo "| $k | $bytes | $nkf | $kfbytes | $(median "${sk[@]}") |"
	"$AT" rm "$id" >/dev/null
done
echo
echo "Samples: $TSV."
