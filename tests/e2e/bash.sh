# bash: $SRANDOM (getrandom), $EPOCHREALTIME (gettimeofday), printf %(...)T (time).
. "$(dirname "$0")/lib.sh"
script='echo "$SRANDOM $SRANDOM"; echo "$EPOCHREALTIME"; printf "%(%s)T\n" -1'
differs_live bash bash -c "$script"
record_replay bash bash -c "$script"
