/* agenttrace calls: the intercepted calls, from the same table the hooks are built from
 * (core/include/agenttrace/calls.def). docs/hooks.md holds this output; a test keeps the
 * two equal. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *arg_meaning(enum at_arg_kind k)
{
	switch (k) {
	case AT_ARG_NONE: return "-";
	case AT_ARG_CLOCK: return "clock id";
	case AT_ARG_TIMEZONE: return "which of tv, tz were given";
	case AT_ARG_BASE: return "base";
	case AT_ARG_DURATION: return "requested duration";
	case AT_ARG_CLOCK_SLEEP: return "clock id, flags, requested time";
	case AT_ARG_MICROS: return "requested microseconds";
	case AT_ARG_SECONDS: return "requested seconds";
	case AT_ARG_LEN: return "requested length";
	case AT_ARG_LEN_FLAGS: return "requested length, flags";
	case AT_ARG_BOUND: return "upper bound";
	case AT_ARG_FD: return "fd";
	case AT_ARG_OPEN: return "path, flags, mode, dir fd";
	case AT_ARG_RANGE: return "first and last fd";
	case AT_ARG_DUP: return "fd, new fd, flags";
	case AT_ARG_FCNTL: return "fd, command, argument";
	case AT_ARG_SEEK: return "fd, offset, whence";
	case AT_ARG_IO: return "fd, byte count, offset; bytes written";
	case AT_ARG_INT: return "fd, length or mode";
	case AT_ARG_IOCTL: return "fd, request";
	case AT_ARG_MMAP: return "fd, length, offset";
	case AT_ARG_PATH: return "path, dir fd, flags";
	case AT_ARG_PATH2: return "both paths, dir fds";
	case AT_ARG_TEMPLATE: return "template length, flags, suffix length";
	case AT_ARG_SOCKET: return "domain, type, protocol";
	case AT_ARG_ACCEPT: return "fd, flags, whether the address was asked";
	case AT_ARG_SEND: return "fd, byte count, flags; bytes sent";
	case AT_ARG_SOCKOPT: return "fd, level, option";
	case AT_ARG_LOOKUP: return "name, service, hints";
	case AT_ARG_NAMEINFO: return "address, flags, buffer sizes";
	case AT_ARG_POLL: return "fds and events asked, timeout";
	case AT_ARG_SELECT: return "nfds, sets given, timeout";
	case AT_ARG_EPOLL_CTL: return "epoll fd, op, target fd, event";
	case AT_ARG_EPOLL_WAIT: return "epoll fd, max events, timeout";
	case AT_ARG_INTS: return "both integers";
	case AT_ARG_TLS: return "connection";
	case AT_ARG_TLS_IO: return "connection, byte count; bytes written";
	case AT_ARG_TLS_INT: return "connection, the integer given";
	case AT_ARG_CHILD: return "the child's number";
	case AT_ARG_EXEC: return "path, arguments";
	case AT_ARG_WAIT: return "pid (as recorded), options";
	case AT_ARG_KILL: return "pid, signal";
	case AT_ARG_SIGNAL: return "signal";
	case AT_ARG_THREAD: return "the new thread's number";
	}
	return "?";
}

static const char *result_meaning(enum at_encoding e)
{
	switch (e) {
	case AT_ENC_NONE: return "return value";
	case AT_ENC_TIMESPEC: return "timespec, delta-coded";
	case AT_ENC_TIMEVAL: return "timeval, delta-coded";
	case AT_ENC_BYTES: return "bytes";
	case AT_ENC_DATA: return "data bytes (large reads: content store)";
	case AT_ENC_STAT: return "struct stat";
	case AT_ENC_STATX: return "struct statx";
	case AT_ENC_DIRENT: return "directory entry";
	case AT_ENC_SOCKADDR: return "socket address";
	case AT_ENC_MSG: return "address, control data, bytes";
	case AT_ENC_ADDRINFO: return "address list";
	case AT_ENC_HOSTENT: return "struct hostent";
	case AT_ENC_TLS_IO: return "plaintext bytes, or the error queue";
	case AT_ENC_TLS_ERRORS: return "the error queue after a failure";
	case AT_ENC_CERT: return "certificate (DER)";
	case AT_ENC_WAIT: return "status, and rusage or siginfo";
	case AT_ENC_ARGV: return "program and arguments";
	case AT_ENC_SIGINFO: return "sender and reason";
	}
	return "?";
}

int cmd_calls(int argc, char **argv)
{
	if (cli_wants_help(argc, argv) || argc > 1) {
		fputs(
		    "usage: agenttrace calls\n\nPrints the table of intercepted calls: id, family, "
		    "what replay matches, what is stored.\n",
		    argc > 1 && !cli_wants_help(argc, argv) ? stderr : stdout);
		return argc > 1 && !cli_wants_help(argc, argv) ? AT_EXIT_USAGE : 0;
	}
	printf("| id | call | family | replay matches | stored result |\n");
	printf("|---:|---|---|---|---|\n");
	for (unsigned id = 1; id < AT_CALL_MAX; id++) {
		const struct at_call_info *ci = at_call_info(id);
		if (ci)
			printf("| %u | `%s` | %s | %s | %s |\n", id, ci->name,
			       at_family_name(ci->family), arg_meaning(ci->arg),
			       result_meaning(ci->result));
	}
	return 0;
}
