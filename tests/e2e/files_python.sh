# Files, with Debian's python3 (samples/files_agent.py): after recording, input.txt gets
# other content and another mtime; the replay still prints what the recording read and
# stat'ed, and the agent's write, rename and delete never reach the disk.
. "$(dirname "$0")/lib.sh"
[ -x "$PYTHON" ] || fail "$PYTHON is missing; run scripts/setup.sh"
agent=("$PYTHON" "$SRCDIR/samples/files_agent.py")

dir="$WORK/dir"
mkdir "$dir"
printf 'recorded input\n' >"$dir/input.txt"
differs_live files_agent "${agent[@]}" "$dir" # the urandom nonce
expect_status 0 at record -- "${agent[@]}" "$dir" >"$WORK/rec"
ID=$(last_id)
grep -q "'recorded input" "$WORK/rec" || fail "the recording did not read input.txt: $(cat "$WORK/rec")"

# The world moves on between recording and replay. out.txt and out2.txt are back too: a
# replay whose rename or unlink reached the disk would move or delete them.
printf 'changed afterwards, longer\n' >"$dir/input.txt"
touch -d '2001-02-03 04:05:06' "$dir/input.txt"
printf 'left over\n' >"$dir/out.txt"
printf 'left over too\n' >"$dir/out2.txt"
snapshot "$dir" >"$WORK/snap0"
for i in 1 2; do
	s=0
	at replay "$ID" >"$WORK/rep$i" 2>"$WORK/rep$i.err" || s=$?
	cmp -s "$WORK/rec" "$WORK/rep$i" ||
		fail "replay $i differs from the recording: $(diff "$WORK/rec" "$WORK/rep$i" | head -20; head -20 "$WORK/rep$i.err")"
	[ "$s" -eq 0 ] || fail "replay $i exited $s: $(head -20 "$WORK/rep$i.err")"
	snapshot "$dir" >"$WORK/snap$i"
	cmp -s "$WORK/snap0" "$WORK/snap$i" ||
		fail "replay $i changed $dir: $(diff "$WORK/snap0" "$WORK/snap$i")"
done
