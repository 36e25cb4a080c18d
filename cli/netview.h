/* The network view of a trace for `show`: which descriptors are sockets, what each
 * connection carried, and that traffic grouped into HTTP/1.x exchanges (agenttrace/http.h).
 * Fed one process stream's events in order; it reads only the events it is handed and
 * prints nothing. Blob references must be resolved before they are fed (cmd_show.c does):
 * the bytes of one that is not are counted as missing.
 *
 * Times: events carry no timestamps, only how long each call took. Two clocks follow them.
 * - A thread's own clock: the sum of its calls' durations. It leaves out only the thread's
 *   computing between calls, so from a request's first write to its answer's last read on
 *   it (mostly waiting, inside calls) is the exchange's duration: a lower bound, close for
 *   I/O. (An exchange whose bytes two threads moved is measured on the stream's clock.)
 * - The stream's clock, for when things happened: its start plus the durations, each call
 *   ending no earlier than its thread's previous call ended plus its own duration, nor than
 *   the event before it (events are stored as calls return). It falls behind the wall clock
 *   by the program's computing (Python's start-up: 0.1 s); each CLOCK_REALTIME the program
 *   reads says by how much at least, and exchanges that start after the read start that much
 *   later. Other threads' long calls move it too, so durations are not taken from it: it
 *   would give an exchange the lag they reveal.
 * An exchange starts at a client's first write's start or a server's first read's end (the
 * request's arrival, not the wait for it), and ends at the last read's or write's end. */
#ifndef AGENTTRACE_CLI_NETVIEW_H
#define AGENTTRACE_CLI_NETVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "agenttrace/event.h"
#include "agenttrace/http.h"

/* A read or write kept until its connection ends: `len` bytes at `off` in its `bytes`. */
struct netview_seg {
	enum at_http_dir dir; /* as the program moved them: AT_HTTP_SENT = written */
	uint32_t thread;
	uint64_t own, at; /* the time on its thread's clock and on the stream's */
	size_t off, len;
};

/* A thread of the stream being fed. */
struct netview_thread {
	int seen;
	uint64_t end; /* the stream's clock when its last call returned */
	uint64_t own; /* its own clock: the stream's at its first call, plus its durations */
};

/* From `at` on the stream's clock, it is `offset` behind the wall clock at least. */
struct netview_step {
	uint64_t at, offset;
};

/* One connection: a socket from socket() or accept(), or a descriptor first seen in a
 * send or receive call (made before the recording, or inherited). */
struct netview_conn {
	unsigned stream; /* the trace stream (process) it belongs to */
	int pid;
	int fd;         /* its number when it was made */
	int server;     /* 1: accepted, so the program answered the requests it received */
	int tls;        /* 1: its data is TLS plaintext (SSL_read/SSL_write), not socket bytes */
	char peer[128]; /* "127.0.0.1:8080", "" when the trace does not say */
	uint64_t open_ns;
	uint64_t sent, received; /* bytes the program wrote to it and read from it */
	uint64_t missing;        /* bytes read whose content is not there (a missing blob) */
	/* Its exchanges, once it ended. For a server connection the requests are
	 * the bytes received; raw_sent and raw_received are from the program's side always. */
	struct at_http_conn http;
	/* The traffic until then: `bytes` holds every segment's data, back to back. */
	struct netview_seg *segs;
	size_t nsegs, segs_cap;
	uint8_t *bytes;
	size_t nbytes, bytes_cap;
	int fds; /* descriptors naming it in the stream being fed; 0: ended, bytes freed */
};

/* An exchange and its connection, in a list ordered by stream then start time. */
struct netview_exchange {
	const struct netview_conn *conn;
	const struct at_http_exchange *x;
};

struct netview {
	struct netview_conn *conns; /* in the order they were made */
	size_t count, cap;
	struct netview_exchange *exchanges; /* after netview_finish */
	size_t nexchanges;
	/* The stream being fed. */
	unsigned stream;
	int pid;
	size_t *fd_conn; /* per descriptor: its connection's index + 1, 0 for none */
	size_t nfd;
	uint64_t start_ns;
	uint64_t now; /* the stream's clock: when the last event's call returned */
	struct netview_thread *threads;
	size_t nthreads;
	/* The last event's call: its thread, its start on both clocks, and how long it took. */
	struct netview_call {
		uint32_t thread;
		uint64_t own, at, duration;
	} call;
	uint64_t offset; /* how far the stream's clock is behind the wall clock, at least */
	struct netview_step *steps; /* where the offset grew, in order */
	size_t nsteps, steps_cap;
};

void netview_init(struct netview *v);
/* Frees everything; accepts a view that was only initialised. */
void netview_free(struct netview *v);
/* Ends the stream being fed, if any, and starts feeding stream `stream` of process `pid`,
 * whose recording started at start_ns (CLOCK_REALTIME). 0 or AT_ENOMEM. */
int netview_begin(struct netview *v, unsigned stream, int pid, uint64_t start_ns);
/* Follows one event of the stream (its payload is copied where needed, so it may go after
 * the call). 0, or AT_ENOMEM: the view is then still consistent, but incomplete. */
int netview_add(struct netview *v, const at_event *ev);
/* 1 when `fd` names a connection in the stream being fed: its reads are worth resolving. */
int netview_follows(const struct netview *v, int fd);
/* Ends the stream being fed (its open connections end with it) and lists every exchange in
 * v->exchanges. Call it once, after the last stream. 0 or AT_ENOMEM. */
int netview_finish(struct netview *v);

#endif
