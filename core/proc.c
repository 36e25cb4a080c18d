/* Process keys, and how the process family's events read to people (calls.c hands them
 * here). No allocation: the preload formats divergence reports with these. */
#include "agenttrace/proc.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

int at_proc_child_key(const char *parent, uint64_t n, char *out, size_t cap)
{
	int k = snprintf(out, cap, "%s.%" PRIu64, parent, n);
	return k > 0 && (size_t)k < cap ? 0 : -1;
}

const char *at_signal_name(int sig, char *buf, size_t cap)
{
	static const char *const names[] = {
	    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT",
	    [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	    [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",   [SIGKILL] = "SIGKILL",
	    [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	    [SIGCHLD] = "SIGCHLD",     [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
	    [SIGTSTP] = "SIGTSTP",     [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
	    [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
	    [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
	    [SIGIO] = "SIGIO",         [SIGPWR] = "SIGPWR",   [SIGSYS] = "SIGSYS",
	};
	if (sig > 0 && (size_t)sig < sizeof names / sizeof names[0] && names[sig])
		return names[sig];
	snprintf(buf, cap, "signal %d", sig);
	return buf;
}

/* The payload's strings joined by spaces: an exec's program and arguments. */
static void format_strings(const uint8_t *p, size_t len, size_t skip, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < cap; i++) {
		if (i < skip)
			continue;
		char c = p[i] ? (char)p[i] : ' ';
		if (i + 1 == len && !p[i])
			break;
		out[n++] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	if (n + 4 >= cap && n >= 3)
		memcpy(out + n - 3, "...", 3);
	out[n] = '\0';
}

static void format_status(int status, char *out, size_t cap)
{
	char sig[24];
	if (WIFEXITED(status))
		snprintf(out, cap, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, cap, "killed by %s",
		         at_signal_name(WTERMSIG(status), sig, sizeof sig));
	else if (WIFSTOPPED(status))
		snprintf(out, cap, "stopped by %s",
		         at_signal_name(WSTOPSIG(status), sig, sizeof sig));
	else
		snprintf(out, cap, "status 0x%x", status);
}

void at_proc_format_args(const at_event *ev, const struct at_call_info *ci, char *out, size_t cap)
{
	char sig[24];
	switch (ci->arg) {
	case AT_ARG_CHILD: snprintf(out, cap, "child %" PRIu64, ev->arg0); break;
	case AT_ARG_EXEC: format_strings(ev->payload, ev->len, 0, out, cap); break;
	case AT_ARG_WAIT:
		snprintf(out, cap, "pid=%" PRId64 ", options=0x%" PRIx64,
		         (int64_t)(int32_t)ev->arg0, ev->arg1 & 0xFFFFFFFFu);
		break;
	case AT_ARG_KILL:
		snprintf(out, cap, "pid=%" PRId64 ", %s", (int64_t)(int32_t)ev->arg0,
		         at_signal_name((int)ev->arg1, sig, sizeof sig));
		break;
	case AT_ARG_SIGNAL:
		snprintf(out, cap, "%s", at_signal_name((int)ev->arg0, sig, sizeof sig));
		break;
	case AT_ARG_THREAD: snprintf(out, cap, "thread %" PRIu64, ev->arg0); break;
	case AT_ARG_FD: snprintf(out, cap, "fd=%d", ev->fd); break;
	default: break;
	}
}

void at_proc_format_result(const at_event *ev, const struct at_call_info *ci, char *out, size_t cap)
{
	switch (ci->result) {
	case AT_ENC_ARGV: format_strings(ev->payload, ev->len, 0, out, cap); break;
	case AT_ENC_WAIT:
		if (ev->call == AT_CALL_waitid && ev->len >= sizeof(struct at_siginfo)) {
			struct at_siginfo si;
			memcpy(&si, ev->payload, sizeof si);
			snprintf(out, cap, "pid %d, code %d, status %d", si.pid, si.code,
			         si.status);
		} else if (ev->len >= sizeof(struct at_wait_result) && ev->ret > 0) {
			struct at_wait_result w;
			memcpy(&w, ev->payload, sizeof w);
			format_status(w.status, out, cap);
		}
		break;
	case AT_ENC_SIGINFO:
		if (ev->len >= sizeof(struct at_siginfo)) {
			struct at_siginfo si;
			memcpy(&si, ev->payload, sizeof si);
			snprintf(out, cap, "code %d, from pid %d", si.code, si.pid);
		}
		break;
	default: break;
	}
}
