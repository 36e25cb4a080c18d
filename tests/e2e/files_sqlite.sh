# Files, with sqlite3: a database written through pread/pwrite, fcntl locks and a journal
# that comes and goes. Replaying the insert leaves the database byte for byte as it was.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 is missing; run scripts/setup.sh"
sql='create table if not exists t(x); insert into t values(random()); select count(*), sum(x) from t;'

mkdir "$WORK/db"
db="$WORK/db/t.sqlite"
expect_status 0 at record -- sqlite3 "$db" "$sql" >"$WORK/rec"
ID=$(last_id)
grep -q '^1|' "$WORK/rec" || fail "the recording did not insert one row: $(cat "$WORK/rec")"
snapshot "$WORK/db" >"$WORK/snap0"
grep -q 't.sqlite' "$WORK/snap0" || fail "the recording wrote no database"
for i in 1 2; do
	s=0
	at replay "$ID" >"$WORK/rep$i" 2>"$WORK/rep$i.err" || s=$?
	cmp -s "$WORK/rec" "$WORK/rep$i" ||
		fail "replay $i differs: $(diff "$WORK/rec" "$WORK/rep$i"; head -20 "$WORK/rep$i.err")"
	[ "$s" -eq 0 ] || fail "replay $i exited $s: $(head -20 "$WORK/rep$i.err")"
	snapshot "$WORK/db" >"$WORK/snap$i"
	cmp -s "$WORK/snap0" "$WORK/snap$i" ||
		fail "replay $i changed the database: $(diff "$WORK/snap0" "$WORK/snap$i")"
done
# Live, the same insert makes a second row: what the replays printed was recorded. (Not
# sum(x): two random 64-bit values overflow it one time in four.)
sqlite3 "$db" 'insert into t values(random()); select count(*) from t;' >"$WORK/live"
grep -qx '2' "$WORK/live" || fail "a live run did not see the recorded row: $(cat "$WORK/live")"
