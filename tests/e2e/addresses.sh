# With ASLR off in both modes and the recorder's own mappings placed out of the way, a
# program prints the same heap, stack, mmap and code addresses on replay as recorded.
. "$(dirname "$0")/lib.sh"
record_replay addresses "$SAMPLES/addresses"
at show "$ID" --json | grep -q '"aslr_disabled": true' || {
	echo "SKIP: this system does not allow turning ASLR off"
	exit 77
}
