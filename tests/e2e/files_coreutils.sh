# Files, with coreutils: sort reads a file that changes after recording, od reads
# /dev/urandom (the randomness family), cat reads a file that is deleted after recording.
# Each replay prints what the recording printed.
. "$(dirname "$0")/lib.sh"

# replays_match NAME: replays $ID twice, each must print $WORK/NAME.rec and exit 0.
# The replay's stdout goes through a pipe like the recording's (see cat below).
replays_match() {
	local name=$1 i
	for i in 1 2; do
		at replay "$ID" 2>"$WORK/$name.rep$i.err" | cat >"$WORK/$name.rep$i" ||
			fail "$name: replay $i failed: $(head -20 "$WORK/$name.rep$i.err")"
		cmp -s "$WORK/$name.rec" "$WORK/$name.rep$i" ||
			fail "$name: replay $i differs: $(diff "$WORK/$name.rec" "$WORK/$name.rep$i" | head; head -20 "$WORK/$name.rep$i.err")"
	done
}

printf 'pear\napple\nfig\n' >"$WORK/fruit"
at record -- sort "$WORK/fruit" 2>"$WORK/sort.rec.err" | cat >"$WORK/sort.rec" ||
	fail "sort: recording failed: $(cat "$WORK/sort.rec.err")"
ID=$(last_id)
[ "$(head -n 1 "$WORK/sort.rec")" = apple ] || fail "sort: unexpected recording: $(cat "$WORK/sort.rec")"
printf 'zebra\nyak\n' >"$WORK/fruit"
replays_match sort

differs_live od od -An -N16 -tx8 /dev/urandom
at record -- od -An -N16 -tx8 /dev/urandom 2>"$WORK/od.rec.err" | cat >"$WORK/od.rec" ||
	fail "od: recording failed: $(cat "$WORK/od.rec.err")"
ID=$(last_id)
replays_match od

# cat's output is a pipe: to a regular file, GNU cat copies with copy_file_range instead
# of read and write.
printf 'cat marker 5d1e\n' >"$WORK/gone"
at record -- cat "$WORK/gone" 2>"$WORK/cat.rec.err" | cat >"$WORK/cat.rec" ||
	fail "cat: recording failed: $(cat "$WORK/cat.rec.err")"
ID=$(last_id)
cmp -s "$WORK/cat.rec" <(printf 'cat marker 5d1e\n') || fail "cat: unexpected recording"
rm "$WORK/gone"
replays_match cat
