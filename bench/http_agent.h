/* What net_workload.c and tls_workload.c share: the busy agent's loop of HTTP/1.1 calls on
 * one keep-alive connection, with a context file and the clocks read before each, and the
 * parser of the answers. Each program brings its connection (plain sockets, or OpenSSL) as
 * a struct agent_io; everything it saw goes into one checksum. */
#ifndef AGENTTRACE_BENCH_HTTP_AGENT_H
#define AGENTTRACE_BENCH_HTTP_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AGENT_FILES     16 /* the context files an agent rereads: prompts, tool specs, notes */
#define AGENT_MIN_SIZE  1024
#define AGENT_MAX_SIZE  4096
#define AGENT_MAX_CALLS 1000000

/* The connection the calls go over. Both functions retry on EINTR themselves; on an error
 * they print why (prefixed with `who`) and return -1. */
struct agent_io {
	const char *who; /* the program: for messages, and its requests' User-Agent */
	void *ctx;
	/* Sends all `len` bytes of `p`. */
	int (*send_all)(void *ctx, const char *p, size_t len);
	/* One read of at most `cap` bytes: how many came (> 0). The peer closing the connection
	 * is an error. */
	ssize_t (*recv_some)(void *ctx, char *buf, size_t cap);
};

/* What the calls saw. */
struct agent_sums {
	uint64_t sum;        /* checksum: bodies, files, latencies measured with clock_gettime */
	uint64_t body_bytes; /* the answers' bodies */
	uint64_t file_bytes; /* the context files */
	uint64_t wait_ns;    /* from sending each request to having its whole answer (raw clock) */
};

/* `who setup DIR`: creates DIR/ with AGENT_FILES files of AGENT_MIN_SIZE to AGENT_MAX_SIZE
 * bytes of fixed content (the same for every program). */
int agent_setup(const char *who, const char *dir);

/* Parses PORT (1-65535) and CALLS (1 to AGENT_MAX_CALLS); -1 after saying why. */
int agent_args(const char *who, const char *port_arg, const char *calls_arg, unsigned long *port,
               unsigned long *calls);

/* The calls: CALLS GETs to 127.0.0.1:PORT over `io`, each after reading one of DIR's context
 * files (open, read to EOF, close) and the clocks. Answers must carry a Content-Length; one
 * may come in any number of reads, and bytes of the next one are kept. Fills *s. */
int agent_calls(const struct agent_io *io, unsigned long port, unsigned long calls, const char *dir,
                struct agent_sums *s);

/* Prints the two lines: "calls=... body_bytes=... file_bytes=... checksum=..." with stdio
 * (recorded, so a replay checks it), then "total_ns=T1-T0 wait_ns=..." with a raw write (not
 * recorded). T0 and T1 come from raw_monotonic_ns(). Returns the program's exit status. */
int agent_report(const char *who, unsigned long calls, const struct agent_sums *s, uint64_t t0,
                 uint64_t t1);

#endif
