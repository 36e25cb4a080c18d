# Files that fail, files left out of the trace, and files read behind the recorder's back.
. "$(dirname "$0")/lib.sh"

# run NAME CMD...: runs CMD with stdout to $WORK/NAME.out and stderr to $WORK/NAME.err,
# and leaves its status in $st (expect_status would send its own message to that file).
run() {
	local name=$1
	shift
	st=0
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || st=$?
}
# want_status NAME N: fails unless the last run exited N, showing what it printed.
want_status() {
	[ "$st" -eq "$2" ] || fail "$1: exited $st, expected $2: $(head -c 2000 "$WORK/$1.out" "$WORK/$1.err")"
}

# (a) Failed opens replay with the recorded errno even after the paths became openable.
# Root ignores permission bits, so as root secret.txt is read instead (and then changed).
d="$WORK/err"
mkdir -p "$d/sub"
printf 'plain\n' >"$d/plain"
printf 'secret v1\n' >"$d/secret.txt"
chmod 000 "$d/secret.txt"
prog='import os, sys
d = sys.argv[1]
for name in ("missing.txt", "sub", "plain/x", "secret.txt"):
    try:
        with open(os.path.join(d, name)) as f:
            print(name, "read", repr(f.read()))
    except OSError as e:
        print(name, type(e).__name__, e.errno, e.strerror)
try:
    os.open(os.path.join(d, "sub"), os.O_WRONLY)
except OSError as e:
    print("sub O_WRONLY", type(e).__name__, e.errno, e.strerror)'
run a.rec at record -- "$PYTHON" -c "$prog" "$d"
want_status a.rec 0
ID=$(last_id)
for want in 'missing.txt FileNotFoundError 2' 'sub IsADirectoryError 21' \
	'plain/x NotADirectoryError 20' 'sub O_WRONLY IsADirectoryError 21'; do
	grep -qF "$want" "$WORK/a.rec.out" || fail "(a) recording lacks '$want': $(cat "$WORK/a.rec.out")"
done
if [ "$(id -u)" -ne 0 ]; then
	grep -qF 'secret.txt PermissionError 13' "$WORK/a.rec.out" || fail "(a) no EACCES: $(cat "$WORK/a.rec.out")"
fi
# Now every path opens: a file, a file where the directory was, a directory where the
# file was, a readable secret.txt.
printf 'now here\n' >"$d/missing.txt"
rmdir "$d/sub" && printf 'now a file\n' >"$d/sub"
rm "$d/plain" && mkdir "$d/plain" && printf 'x\n' >"$d/plain/x"
chmod 644 "$d/secret.txt" && printf 'secret v2, readable\n' >"$d/secret.txt"
run a.rep at replay "$ID"
cmp -s "$WORK/a.rec.out" "$WORK/a.rep.out" ||
	fail "(a) replay differs: $(diff "$WORK/a.rec.out" "$WORK/a.rep.out"; head -20 "$WORK/a.rep.err")"
want_status a.rep 0

# (b) An --exclude pattern that matched nothing is reported; the status is the program's.
run b at record --exclude '/nonexistent/*' -- sh -c 'exit 3'
want_status b 3
grep 'matched no file' "$WORK/b.err" | grep -qF '/nonexistent/*' ||
	fail "(b) unused pattern not reported: $(cat "$WORK/b.err")"

# (c) Excluded files stay out of the trace and are read live on replay; the others are
# recorded. sha256sum prints hashes, so the markers can only be in the trace as reads.
x="$WORK/excl"
mkdir "$x"
for i in $(seq 2000); do echo "BIGMARKER line $i"; done >"$x/big.txt"
printf 'SMALLMARKER\n' >"$x/small.txt"
run c.rec at record --exclude "$x/big*" -- sha256sum "$x/big.txt" "$x/small.txt"
want_status c.rec 0
ID=$(last_id)
! grep -q 'matched no file' "$WORK/c.rec.err" || fail "(c) the pattern matched big.txt: $(cat "$WORK/c.rec.err")"
at show "$ID" --events --json >"$WORK/c.events"
grep -q SMALLMARKER "$WORK/c.events" || fail "(c) small.txt's content is not in the trace"
! grep -q BIGMARKER "$WORK/c.events" || fail "(c) excluded big.txt's content is in the trace"
rm "$x/small.txt" # recorded: not needed any more
run c.rep at replay "$ID"
cmp -s "$WORK/c.rec.out" "$WORK/c.rep.out" || fail "(c) replay differs: $(cat "$WORK/c.rep.out" "$WORK/c.rep.err")"
want_status c.rep 0
echo 'BIGMARKER changed' >>"$x/big.txt" # read live: the hash printed on replay changes
run c.rep2 at replay "$ID"
want_status c.rep2 201

# (d) A file read with raw system calls is not recorded: once it changes, what the
# replay writes to stdout differs from the recording, and that is a divergence.
printf 'raw v1\n' >"$WORK/raw.txt"
run d.rec at record -- "$SAMPLES/raw_read" "$WORK/raw.txt"
want_status d.rec 0
ID=$(last_id)
run d.rep at replay "$ID" # unchanged: faithful
want_status d.rep 0
printf 'raw v2\n' >"$WORK/raw.txt"
run d.rep2 at replay "$ID"
want_status d.rep2 201
grep -q 'diverged' "$WORK/d.rep2.err" || fail "(d) no divergence report: $(cat "$WORK/d.rep2.err")"
grep -q 'stdout' "$WORK/d.rep2.err" || fail "(d) the report does not name stdout: $(cat "$WORK/d.rep2.err")"
