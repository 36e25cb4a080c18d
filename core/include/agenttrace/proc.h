/* Processes, threads and signals in a trace: process keys and the payloads of the process
 * family's events (calls.def, ids 190-214).
 *
 * A process key names a process by its lineage, not its pid: the process agenttrace starts
 * is "1", its children "1.1", "1.2"... in the order it made them, theirs "1.2.1" and so on.
 * The same program makes the same tree in record and replay, so a key finds a process's
 * stream again while its pid does not. An exec keeps the key (it is the same process). */
#ifndef AGENTTRACE_PROC_H
#define AGENTTRACE_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "agenttrace/event.h"

#define AT_PROC_KEY_MAX  128 /* bytes, with the NUL: about 40 generations deep */
#define AT_PROC_ROOT_KEY "1"

/* Writes `parent`.`n` to `out`; -1 when it does not fit. */
int at_proc_child_key(const char *parent, uint64_t n, char *out, size_t cap);

/* Who sent a signal and why (waitid's result, and a delivered signal's payload). */
struct at_siginfo {
	int32_t signo;
	int32_t code;
	int32_t pid; /* the sender, or the child: as recorded */
	int32_t uid;
	int32_t status; /* SIGCHLD and waitid: the exit code or signal */
	int32_t err;
	uint64_t value; /* sigqueue's value */
};

/* A wait's payload: the status word, then (wait3, wait4 with a usage asked) the struct
 * rusage as the kernel gave it; waitid's is a struct at_siginfo instead. */
struct at_wait_result {
	int32_t status;
	int32_t reserved;
};

/* The process family's part of at_event_format_args / _result (calls.c). */
void at_proc_format_args(const at_event *ev, const struct at_call_info *ci, char *out, size_t cap);
void at_proc_format_result(const at_event *ev, const struct at_call_info *ci, char *out,
                           size_t cap);
/* "SIGCHLD", or "signal 40". */
const char *at_signal_name(int sig, char *buf, size_t cap);

#endif
