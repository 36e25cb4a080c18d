#!/usr/bin/env bash
# make demo: record a sample agent, replay it, show that the outputs are identical and
# print the trace summary. Uses the normal trace store ($AGENTTRACE_HOME or
# ~/.local/share/agenttrace), so the trace is there to explore afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
at="$PWD/$build/cli/agenttrace"
py=/usr/bin/python3 # Debian's own, not a version manager's shim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }

bold "1. samples/agent.py decides with the clock and randomness: two live runs differ"
"$py" samples/agent.py >"$tmp/live1"
"$py" samples/agent.py >"$tmp/live2"
diff "$tmp/live1" "$tmp/live2" | sed -n '1,6p' || true

bold "2. agenttrace record -- python3 samples/agent.py"
"$at" record --name demo-agent -- "$py" samples/agent.py >"$tmp/recorded" 2>"$tmp/record.err"
cat "$tmp/recorded"
cat "$tmp/record.err" >&2
id=$(sed -n 's/^agenttrace: recorded \([0-9a-f]*\) .*/\1/p' "$tmp/record.err")

bold "3. agenttrace replay $id   (twice: offline, deterministic)"
"$at" replay "$id" >"$tmp/replay1"
"$at" replay "$id" >"$tmp/replay2"
cat "$tmp/replay1"
if cmp -s "$tmp/recorded" "$tmp/replay1" && cmp -s "$tmp/recorded" "$tmp/replay2"; then
	printf '\nboth replays are identical to the recording: %s bytes, byte for byte\n' \
		"$(wc -c <"$tmp/recorded")"
else
	echo "the replay differs from the recording:" >&2
	diff "$tmp/recorded" "$tmp/replay1" >&2 || true
	exit 1
fi

bold "4. agenttrace show $id"
"$at" show "$id"

bold "Try next"
cat <<EOT
  $build/cli/agenttrace show $id --events | head      # every call, step by step
  $build/cli/agenttrace show $id --events --json | head -3
  $build/cli/agenttrace show $id --step 100            # the world just before step 100
  $build/cli/agenttrace replay $id --step 100 --then live   # the past replayed, then live
  $build/cli/agenttrace verify $id
  $build/cli/agenttrace list
EOT
