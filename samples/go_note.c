/* A C program carrying the ELF note the Go toolchain puts in every Go binary (owner "Go",
 * type 4: the build id). agenttrace must refuse it as it refuses real Go programs, which
 * read the clock and random numbers without libc. */
#include <stdint.h>
#include <stdio.h>

struct go_note {
	uint32_t namesz, descsz, type;
	char name[4];
	char desc[8];
};

__attribute__((section(".note.go.buildid"), used, aligned(4))) static const struct go_note note = {
    3, 8, 4, "Go", "buildid1"};

int main(void)
{
	puts("pretending to be Go");
	return 0;
}
