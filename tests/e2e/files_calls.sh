# Files, call by call (samples/files_calls.c) and through stdio (samples/files_stdio.c):
# each is recorded in a directory that is then changed; the replay prints every recorded
# result again (contents, sizes, inodes, times, errors, temporary names) and leaves the
# directory exactly as it finds it.
. "$(dirname "$0")/lib.sh"

# check NAME PROG: records PROG in $WORK/NAME (input.txt and link, a symlink to it), then
# replaces the whole directory by one changed input.txt and replays twice.
check() {
	local name=$1 prog=$2 dir="$WORK/$1" i s
	mkdir "$dir"
	printf 'first line\nsecond line\n42 answer\nthe rest of %s\n' "$name" >"$dir/input.txt"
	ln -s input.txt "$dir/link"
	expect_status 0 at record -- "$prog" "$dir" >"$WORK/$name.rec"
	ID=$(last_id)
	grep -q 'second line' "$WORK/$name.rec" || fail "$name: input.txt not read: $(cat "$WORK/$name.rec")"

	rm -rf "${dir:?}"/*
	printf 'changed\n' >"$dir/input.txt"
	touch -d '2001-02-03 04:05:06' "$dir/input.txt"
	snapshot "$dir" >"$WORK/$name.snap0"
	for i in 1 2; do
		s=0
		at replay "$ID" >"$WORK/$name.rep$i" 2>"$WORK/$name.rep$i.err" || s=$?
		cmp -s "$WORK/$name.rec" "$WORK/$name.rep$i" ||
			fail "$name: replay $i differs: $(diff "$WORK/$name.rec" "$WORK/$name.rep$i" | head -20; head -20 "$WORK/$name.rep$i.err")"
		[ "$s" -eq 0 ] || fail "$name: replay $i exited $s: $(head -20 "$WORK/$name.rep$i.err")"
		snapshot "$dir" >"$WORK/$name.snap$i"
		cmp -s "$WORK/$name.snap0" "$WORK/$name.snap$i" ||
			fail "$name: replay $i changed $dir: $(diff "$WORK/$name.snap0" "$WORK/$name.snap$i")"
	done
}

# files_calls prints the new file's mtime and mkstemp's random names: live runs differ.
mkdir "$WORK/live"
printf 'input\n' >"$WORK/live/input.txt"
ln -s input.txt "$WORK/live/link"
differs_live files_calls "$SAMPLES/files_calls" "$WORK/live"
check files_calls "$SAMPLES/files_calls"
check files_stdio "$SAMPLES/files_stdio"
