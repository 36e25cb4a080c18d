/* The benchmarks' clock and output line, issued as raw `syscall` instructions: the preload
 * sees neither, so the timer is not recorded, and a replay, whose timing differs, does not
 * diverge on the line that reports it. */
#ifndef AGENTTRACE_BENCH_RAW_SYSCALL_H
#define AGENTTRACE_BENCH_RAW_SYSCALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#if !defined(__x86_64__)
#error "the benchmarks time their work with an x86_64 syscall instruction"
#endif

/* CLOCK_MONOTONIC in ns, straight from the kernel; 0 if it failed. */
static inline uint64_t raw_monotonic_ns(void)
{
	struct timespec ts;
	long ret;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"((long)SYS_clock_gettime), "D"((long)CLOCK_MONOTONIC), "S"(&ts)
	                 : "rcx", "r11", "memory");
	if (ret != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* write(2); returns what the kernel returned. */
static inline long raw_write(int fd, const void *buf, size_t len)
{
	long ret;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"((long)SYS_write), "D"((long)fd), "S"(buf), "d"(len)
	                 : "rcx", "r11", "memory");
	return ret;
}

#endif
