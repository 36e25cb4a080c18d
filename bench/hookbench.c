/* hookbench: times N calls of one function the preload intercepts, in a tight loop, and prints
 * the mean cost per call. bench/run.sh runs it bare, under `agenttrace record` and under
 * `agenttrace replay`; the differences are what a hook adds.
 *
 * The loop is timed by clock_gettime issued as a raw `syscall` instruction: the preload hooks
 * libc's clock_gettime and syscall(), but cannot see an inline system call, so the timer is
 * neither recorded nor replayed (and a replay's recorded clock values cannot fool it).
 * Outside the timed loop, anything intercepted must be called the same way in every run, or
 * a replay would diverge; inside it, only the call under test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "raw_syscall.h"

#define WARMUP_CALLS 10000

/* Each loop folds every result into a checksum that is printed, so no call can be dropped,
 * and a call whose result the program ignored would be a different benchmark. */
static uint64_t loop_clock(clockid_t clock, uint64_t n)
{
	uint64_t sum = 0;
	struct timespec ts;
	for (uint64_t i = 0; i < n; i++) {
		clock_gettime(clock, &ts);
		sum += (uint64_t)ts.tv_nsec;
	}
	return sum;
}

static uint64_t loop_time(uint64_t n)
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += (uint64_t)time(NULL);
	return sum;
}

static uint64_t loop_gettimeofday(uint64_t n)
{
	uint64_t sum = 0;
	struct timeval tv;
	for (uint64_t i = 0; i < n; i++) {
		gettimeofday(&tv, NULL);
		sum += (uint64_t)tv.tv_usec;
	}
	return sum;
}

static uint64_t loop_getrandom16(uint64_t n)
{
	uint64_t sum = 0;
	uint64_t buf[2];
	for (uint64_t i = 0; i < n; i++) {
		if (getrandom(buf, sizeof buf, 0) != (ssize_t)sizeof buf)
			return 0;
		sum += buf[0] ^ buf[1];
	}
	return sum;
}

static uint64_t loop_monotonic(uint64_t n)
{
	return loop_clock(CLOCK_MONOTONIC, n);
}

static uint64_t loop_realtime(uint64_t n)
{
	return loop_clock(CLOCK_REALTIME, n);
}

/* Clock reads a varying distance apart (0 to 4095 turns of an empty loop, about 0-1.5 us),
 * as in a program that works between reads: the codec's less friendly case. The spacing
 * comes from a fixed xorshift sequence, so a replay spins exactly as the recording did. */
static uint64_t loop_monotonic_spaced(uint64_t n)
{
	uint64_t sum = 0, x = 0x9E3779B97F4A7C15u;
	struct timespec ts;
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (uint64_t spin = x & 4095; spin; spin--)
			__asm__ volatile("" : "+r"(sum));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += (uint64_t)ts.tv_nsec;
	}
	return sum;
}

static const struct bench_call {
	const char *name; /* as given on the command line */
	const char *what;
	uint64_t (*loop)(uint64_t n);
} calls[] = {
    {"clock-monotonic", "clock_gettime(CLOCK_MONOTONIC)", loop_monotonic},
    {"clock-realtime", "clock_gettime(CLOCK_REALTIME)", loop_realtime},
    {"clock-spaced", "clock_gettime(CLOCK_MONOTONIC), 0-4095 spins apart", loop_monotonic_spaced},
    {"time", "time(NULL)", loop_time},
    {"gettimeofday", "gettimeofday(&tv, NULL)", loop_gettimeofday},
    {"getrandom16", "getrandom(buf, 16, 0)", loop_getrandom16},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hookbench CALL N\n\nTimes N calls of CALL and prints ns per call.\n"
	           "CALL is one of:\n");
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		fprintf(f, "  %-16s %s\n", calls[i].name, calls[i].what);
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	const struct bench_call *call = NULL;
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		if (!strcmp(argv[1], calls[i].name))
			call = &calls[i];
	char *end;
	unsigned long long n = strtoull(argv[2], &end, 10);
	if (!call || *end || n == 0) {
		fprintf(stderr, "hookbench: expected CALL N, got '%s %s'\n", argv[1], argv[2]);
		usage(stderr);
		return 2;
	}

	/* The warm-up binds the call, faults in the first pages of the recorder's log and
	 * gets the CPU out of any idle state before the clock starts. */
	uint64_t sum = call->loop(WARMUP_CALLS);
	uint64_t t0 = raw_monotonic_ns();
	sum += call->loop(n);
	uint64_t t1 = raw_monotonic_ns();
	if (t0 == 0 || t1 <= t0) {
		fprintf(stderr, "hookbench: the raw clock failed\n");
		return 1;
	}
	/* The timing differs between record and replay, and replay checks what the program
	 * writes: the line goes out with a write the recorder does not see. */
	char line[256];
	int len =
	    snprintf(line, sizeof line,
	             "call=%s n=%llu warmup=%d total_ns=%llu ns_per_call=%.3f checksum=%llx\n",
	             call->name, n, WARMUP_CALLS, (unsigned long long)(t1 - t0),
	             (double)(t1 - t0) / (double)n, (unsigned long long)sum);
	return raw_write(1, line, (size_t)len) == len ? 0 : 1;
}
