/* The event: what one intercepted call returned. Everything agenttrace stores, replays and
 * shows is a sequence of these, one sequence per process.
 * This header owns the in-memory shape and the call vocabulary (from calls.def); the byte
 * encodings live in codec.h (sealed traces) and rawlog.h (the live, memory-mapped log). */
#ifndef AGENTTRACE_EVENT_H
#define AGENTTRACE_EVENT_H

#include <stddef.h>
#include <stdint.h>

enum at_family {
	AT_FAMILY_TIME = 0,
	AT_FAMILY_RANDOM = 1,
	AT_FAMILY_FILE = 2,
	AT_FAMILY_SOCKET = 3,
	AT_FAMILY_TLS = 4,
	AT_FAMILY_PROCESS = 5,
	AT_FAMILY_COUNT
};

/* What an event's match keys (arg0, arg1) mean for a call. Replay compares both keys. */
enum at_arg_kind {
	AT_ARG_NONE,        /* no keys */
	AT_ARG_CLOCK,       /* arg0: clock id */
	AT_ARG_TIMEZONE,    /* arg0: bit 0 = tv given, bit 1 = tz given */
	AT_ARG_BASE,        /* arg0: timespec_get base */
	AT_ARG_DURATION,    /* arg0: requested nanoseconds */
	AT_ARG_CLOCK_SLEEP, /* arg0: clock id | flags << 32; arg1: requested nanoseconds */
	AT_ARG_MICROS,      /* arg0: requested microseconds */
	AT_ARG_SECONDS,     /* arg0: requested seconds */
	AT_ARG_LEN,         /* arg0: requested length */
	AT_ARG_LEN_FLAGS,   /* arg0: requested length; arg1: flags */
	AT_ARG_BOUND,       /* arg0: upper bound */
	/* File calls: the descriptor (or the directory fd of an *at call) is the event's fd. */
	AT_ARG_FD,    /* the fd only */
	AT_ARG_OPEN,  /* payload: path; arg0: flags; arg1: mode */
	AT_ARG_RANGE, /* arg0: first fd; arg1: last fd */
	AT_ARG_DUP,   /* arg0: the new fd asked for; arg1: flags */
	AT_ARG_FCNTL, /* arg0: command; arg1: its integer argument */
	AT_ARG_SEEK,  /* arg0: offset; arg1: whence */
	AT_ARG_IO,    /* arg0: byte count; arg1: file offset (positional calls) */
	AT_ARG_INT,   /* arg0: the call's integer argument (a length, a mode) */
	AT_ARG_IOCTL, /* arg0: request */
	AT_ARG_MMAP,  /* arg0: length; arg1: offset; payload: prot, flags (u32 each), then data */
	AT_ARG_PATH,  /* payload: path NUL, then the result; arg0, arg1: the call's integers */
	AT_ARG_PATH2, /* payload: two paths, each NUL-terminated */
	AT_ARG_TEMPLATE, /* arg0: flags; arg1: suffix length; payload: the name made */
	/* Socket calls (the socket is the event's fd). */
	AT_ARG_SOCKET,     /* arg0: domain; arg1: type | protocol << 32 */
	AT_ARG_ACCEPT,     /* arg0: flags (accept4); arg1: 1 if the peer's address was asked */
	AT_ARG_SEND,       /* arg0: byte count asked; arg1: flags */
	AT_ARG_SOCKOPT,    /* arg0: level; arg1: option name */
	AT_ARG_LOOKUP,     /* payload: the name(s) looked up, NUL-terminated; arg0, arg1: net.h */
	AT_ARG_NAMEINFO,   /* arg0: flags; arg1: host buffer size | service buffer size << 32 */
	AT_ARG_POLL,       /* arg0: descriptor count; arg1: timeout (ms for poll, ns for ppoll) */
	AT_ARG_SELECT,     /* arg0: nfds | sets given << 32; arg1: timeout (us / ns), -1: none */
	AT_ARG_EPOLL_CTL,  /* arg0: op; arg1: the descriptor added, changed or removed */
	AT_ARG_EPOLL_WAIT, /* arg0: most events asked; arg1: timeout in ms */
	AT_ARG_INTS,       /* arg0, arg1: the call's two integer arguments */
	/* TLS: arg0 is the connection, numbered by SSL_new within its thread's order (1, 2...) */
	AT_ARG_TLS,     /* arg0: the connection */
	AT_ARG_TLS_IO,  /* arg0: the connection; arg1: the byte count asked */
	AT_ARG_TLS_INT, /* arg0: the connection; arg1: the integer given (SSL_get_error's ret) */
	/* processes and threads */
	AT_ARG_CHILD,  /* arg0: the child's number among this process's children (1, 2...) */
	AT_ARG_EXEC,   /* payload: the program's path, NUL, then each argument, NUL-terminated */
	AT_ARG_WAIT,   /* arg0: the pid asked for (as recorded); arg1: options | idtype << 32 */
	AT_ARG_KILL,   /* arg0: the pid (or group) signalled; arg1: the signal */
	AT_ARG_SIGNAL, /* arg0: the signal */
	AT_ARG_THREAD, /* arg0: the new thread's number */
};

/* How a call's payload (the bytes that came in) is encoded in a sealed trace. */
enum at_encoding {
	AT_ENC_NONE,       /* no payload: the return value is the result */
	AT_ENC_TIMESPEC,   /* struct timespec (+ raw tail): delta-coded nanoseconds */
	AT_ENC_TIMEVAL,    /* struct timeval (+ raw tail): delta-coded microseconds */
	AT_ENC_BYTES,      /* opaque bytes, stored as they are */
	AT_ENC_DATA,       /* bytes read or written: stored as they are, shown as text */
	AT_ENC_STAT,       /* a struct stat (after any paths) */
	AT_ENC_STATX,      /* a struct statx (after any paths) */
	AT_ENC_DIRENT,     /* d_ino, d_off (u64 each), d_type (u8), then the name */
	AT_ENC_SOCKADDR,   /* a socket address, as the kernel gives it */
	AT_ENC_MSG,        /* struct at_msg_head, the address, control data, then the bytes */
	AT_ENC_ADDRINFO,   /* the names looked up, then the getaddrinfo list (net.h) */
	AT_ENC_HOSTENT,    /* the name looked up, then the struct hostent (net.h) */
	AT_ENC_TLS_IO,     /* success: the plaintext bytes; failure: the error queue (tls.h) */
	AT_ENC_TLS_ERRORS, /* failure: the library's error queue (tls.h); success: nothing */
	AT_ENC_CERT,       /* a certificate, DER-encoded */
	AT_ENC_WAIT,       /* struct at_wait_result: the status, and rusage or siginfo (proc.h) */
	AT_ENC_ARGV,       /* strings, each NUL-terminated: a program's path and arguments */
	AT_ENC_SIGINFO,    /* struct at_siginfo (proc.h): who sent a signal, and why */
};

/* How a call reports failure. */
enum at_fail_kind {
	AT_FAIL_MINUS1,  /* ret == -1 and errno says why */
	AT_FAIL_RETCODE, /* ret is 0 or the error number itself */
	AT_FAIL_NEVER,   /* the call cannot fail */
	AT_FAIL_TLS,     /* ret <= 0: SSL_get_error, errno and the error queue say why */
};

enum at_call {
	AT_CALL_NONE = 0,
#define AT_CALL(id, name, family, arg, result, fail, ret_type, params) AT_CALL_##name = id,
#include "agenttrace/calls.def"
#undef AT_CALL
	AT_CALL_MAX = 256 /* ids are < AT_CALL_MAX; raise it (a format change) to add more */
};

struct at_call_info {
	/* An array, not a pointer: the table then needs no relocation, which would give every
	 * recorded process a private copy of its pages at start-up. */
	char name[28];
	enum at_family family;
	enum at_arg_kind arg;
	enum at_encoding result;
	enum at_fail_kind fail;
};

/* The description of call `id`, or NULL for an id this version does not know. */
const struct at_call_info *at_call_info(unsigned id);
/* Whether replay keeps call `id`'s events in the recorded order across threads: all but
 * clock and randomness reads (replay/order.c). */
int at_call_ordered(unsigned id);
/* Whether call `id` reads a clock (clock_gettime, gettimeofday, time, clock,
 * timespec_get): in a process with threads, replay serves these elastically. */
int at_call_clock_read(unsigned id);
/* "time", "random", "file", "socket". */
const char *at_family_name(enum at_family family);

/* Event flags. */
#define AT_EVF_BLOB                                                                                \
	0x1u /* sealed only: the payload is a content-store reference (blobs.h):                   \
	      * the 32-byte id, then the real payload length (u32) */
#define AT_EVF_NESTED                                                                              \
	0x2u /* made inside a recorded TLS call, by the TLS library or by the program's code it    \
	      * called back: replay skips it, unless the program makes the call later */

/* One event. `payload` is borrowed: see the producer's documentation for how long it lives. */
typedef struct at_event {
	uint64_t seq;    /* the step: position in this process's sequence, from 0 */
	uint32_t thread; /* thread number within the process: 0 is the main thread */
	uint16_t call;   /* enum at_call */
	uint16_t flags;  /* AT_EVF_* */
	int64_t ret;     /* the return value */
	int32_t err;     /* errno when the call failed, else 0 */
	int32_t fd;      /* the descriptor the call used, or -1 */
	uint64_t dur_ns; /* wall time the real call took */
	uint64_t arg0;   /* match keys: see enum at_arg_kind */
	uint64_t arg1;
	uint32_t len; /* payload length in bytes */
	const uint8_t *payload;
} at_event;

/* The paths at the start of a file event's payload (AT_ARG_OPEN, _PATH: one; _PATH2: two),
 * NULL where absent; returns the offset of the result bytes after them. */
size_t at_event_paths(const at_event *ev, const char **p1, const char **p2);
/* "CLOCK_REALTIME" for clock id 0 and so on; NULL for an id without a name. */
const char *at_clock_name(uint64_t clock);
/* Formats the event's arguments for people: "CLOCK_REALTIME", "len=16, flags=0x1".
 * Writes at most `cap` bytes including the NUL; returns `out`. */
char *at_event_format_args(const at_event *ev, char *out, size_t cap);
/* Formats the event's result for people: "1732291200.123456789", "9f86d081... (32 bytes)". */
char *at_event_format_result(const at_event *ev, char *out, size_t cap);

#endif
