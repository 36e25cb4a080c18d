#!/bin/bash
# bench/fork_script.sh: a shell script that forks and execs 100 short external commands, as a
# build or an agent's tool calls do: 20 times `date`, `/bin/true`, `echo x | cat`, `ls /`
# and `cksum` (at the end of a pipe). bench/run.sh times it plain, recorded and replayed
# (the fork section). Prints one line: "commands=100 checksum=N", N computed from the
# dates it read, so a replay prints its recording's line only if date's output was replayed.
set -eu
PATH=/usr/bin:/bin # Debian's programs: no shim, no lookup in other directories first
commands=0 sum=0
for ((i = 0; i < 20; i++)); do
	d=$(date +%s%N)
	/bin/true
	echo x | cat >/dev/null
	ls / >/dev/null
	c=$(echo "$d" | cksum)
	commands=$((commands + 5))
	sum=$(((sum * 31 + 10#${d: -9} + ${c%% *}) % 1000000007))
done
echo "commands=$commands checksum=$sum"
