/* The call vocabulary, expanded from calls.def, and how events read to people.
 * No allocation: the formatters write into caller buffers (the preload uses them too). */
#include "agenttrace/event.h"
#include "agenttrace/net.h"
#include "agenttrace/proc.h"
#include "agenttrace/tls.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const struct at_call_info calls[AT_CALL_MAX] = {
#define AT_CALL(id, name, family, arg, result, fail, ret_type, params)                             \
	[id] = {#name, AT_FAMILY_##family, AT_ARG_##arg, AT_ENC_##result, AT_FAIL_##fail},
#include "agenttrace/calls.def"
#undef AT_CALL
};

const struct at_call_info *at_call_info(unsigned id)
{
	if (id >= AT_CALL_MAX || !calls[id].name[0])
		return NULL;
	return &calls[id];
}

int at_call_ordered(unsigned id)
{
	const struct at_call_info *ci = at_call_info(id);
	return !ci || (ci->family != AT_FAMILY_TIME && ci->family != AT_FAMILY_RANDOM);
}

int at_call_clock_read(unsigned id)
{
	return id == AT_CALL_clock_gettime || id == AT_CALL_gettimeofday || id == AT_CALL_time ||
	       id == AT_CALL_clock || id == AT_CALL_timespec_get;
}

const char *at_family_name(enum at_family family)
{
	switch (family) {
	case AT_FAMILY_TIME: return "time";
	case AT_FAMILY_RANDOM: return "random";
	case AT_FAMILY_FILE: return "file";
	case AT_FAMILY_SOCKET: return "socket";
	case AT_FAMILY_TLS: return "tls";
	case AT_FAMILY_PROCESS: return "process";
	default: return "unknown";
	}
}

const char *at_clock_name(uint64_t clock)
{
	static const char *const names[] = {
	    "CLOCK_REALTIME",
	    "CLOCK_MONOTONIC",
	    "CLOCK_PROCESS_CPUTIME_ID",
	    "CLOCK_THREAD_CPUTIME_ID",
	    "CLOCK_MONOTONIC_RAW",
	    "CLOCK_REALTIME_COARSE",
	    "CLOCK_MONOTONIC_COARSE",
	    "CLOCK_BOOTTIME",
	    "CLOCK_REALTIME_ALARM",
	    "CLOCK_BOOTTIME_ALARM",
	    NULL,
	    "CLOCK_TAI",
	};
	if (clock < sizeof names / sizeof names[0] && names[clock])
		return names[clock];
	return NULL;
}

static void format_clock(uint64_t clock, char *out, size_t cap)
{
	const char *n = at_clock_name(clock);
	if (n)
		snprintf(out, cap, "%s", n);
	else
		snprintf(out, cap, "clock %" PRId64, (int64_t)clock);
}

size_t at_event_paths(const at_event *ev, const char **p1, const char **p2)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	int want = !ci                       ? 0
	           : ci->arg == AT_ARG_PATH2 ? 2
	                                     : ci->arg == AT_ARG_PATH || ci->arg == AT_ARG_OPEN ||
	                                           ci->arg == AT_ARG_LOOKUP;
	const char *out[2] = {NULL, NULL};
	size_t at = 0;
	if (ev->flags & AT_EVF_BLOB)
		want = 0;
	for (int i = 0; i < want; i++) {
		const uint8_t *nul =
		    at < ev->len ? memchr(ev->payload + at, 0, ev->len - at) : NULL;
		if (!nul)
			break;
		out[i] = (const char *)ev->payload + at;
		at = (size_t)(nul - ev->payload) + 1;
	}
	if (p1)
		*p1 = out[0];
	if (p2)
		*p2 = out[1];
	return at;
}

/* "fd=3", "AT_FDCWD" or "" for the event's descriptor. */
static void format_fd(const at_event *ev, char *out, size_t cap)
{
	if (ev->fd == -100)
		snprintf(out, cap, "AT_FDCWD, ");
	else if (ev->fd >= 0)
		snprintf(out, cap, "fd=%d, ", ev->fd);
	else
		out[0] = '\0';
}

/* The socket family's keys (event.h); `fd` is "fd=3, " or "". */
static void format_socket_args(const at_event *ev, const struct at_call_info *ci, const char *fd,
                               const char *name, char *out, size_t cap)
{
	switch (ci->arg) {
	case AT_ARG_SOCKET:
		snprintf(out, cap, "domain=%" PRIu64 ", type=0x%" PRIx64 ", protocol=%" PRIu64,
		         ev->arg0, ev->arg1 & 0xFFFFFFFFu, ev->arg1 >> 32);
		break;
	case AT_ARG_ACCEPT:
		snprintf(out, cap, "%sflags=0%" PRIo64 "%s", fd, ev->arg0,
		         ev->arg1 ? ", addr" : "");
		break;
	case AT_ARG_SEND:
		snprintf(out, cap, "%scount=%" PRIu64 ", flags=0x%" PRIx64, fd, ev->arg0, ev->arg1);
		break;
	case AT_ARG_SOCKOPT:
		snprintf(out, cap, "%slevel=%" PRIu64 ", name=%" PRIu64, fd, ev->arg0, ev->arg1);
		break;
	case AT_ARG_LOOKUP: snprintf(out, cap, "\"%s\"", name); break;
	case AT_ARG_NAMEINFO:
		snprintf(out, cap, "flags=0x%" PRIx64 ", hostlen=%" PRIu64 ", servlen=%" PRIu64,
		         ev->arg0, ev->arg1 & 0xFFFFFFFFu, ev->arg1 >> 32);
		break;
	case AT_ARG_POLL:
		snprintf(out, cap, "nfds=%" PRIu64 ", timeout=%" PRId64, ev->arg0,
		         (int64_t)ev->arg1);
		break;
	case AT_ARG_SELECT:
		snprintf(out, cap, "nfds=%" PRIu64 ", timeout=%" PRId64, ev->arg0 & 0xFFFFFFFFu,
		         (int64_t)ev->arg1);
		break;
	case AT_ARG_EPOLL_CTL:
		snprintf(out, cap, "%sop=%" PRIu64 ", target=%" PRId64, fd, ev->arg0,
		         (int64_t)ev->arg1);
		break;
	case AT_ARG_EPOLL_WAIT:
		snprintf(out, cap, "%smax=%" PRIu64 ", timeout=%" PRId64, fd, ev->arg0,
		         (int64_t)ev->arg1);
		break;
	case AT_ARG_INTS: snprintf(out, cap, "%" PRIu64 ", %" PRIu64, ev->arg0, ev->arg1); break;
	case AT_ARG_TLS: snprintf(out, cap, "%sconn=%" PRIu64, fd, ev->arg0); break;
	case AT_ARG_TLS_IO:
		snprintf(out, cap, "%sconn=%" PRIu64 ", count=%" PRIu64, fd, ev->arg0, ev->arg1);
		break;
	case AT_ARG_TLS_INT:
		snprintf(out, cap, "%sconn=%" PRIu64 ", ret=%" PRId64, fd, ev->arg0,
		         (int64_t)ev->arg1);
		break;
	default: break;
	}
}

static void format_file_args(const at_event *ev, const struct at_call_info *ci, char *out,
                             size_t cap)
{
	char fd[32];
	const char *p1, *p2;
	format_fd(ev, fd, sizeof fd);
	at_event_paths(ev, &p1, &p2);
	if (!p1)
		p1 = "?";
	if (!p2)
		p2 = "?";
	switch (ci->arg) {
	case AT_ARG_FD:
		if (ev->call == AT_CALL_connect || ev->call == AT_CALL_bind) {
			char addr[128];
			at_sockaddr_format(ev->payload, ev->len, addr, sizeof addr);
			snprintf(out, cap, "fd=%d, %s", ev->fd, addr);
		} else if (ev->fd >= 0) {
			snprintf(out, cap, "fd=%d", ev->fd);
		}
		break;
	case AT_ARG_OPEN:
		snprintf(out, cap, "%s\"%s\", flags=0%" PRIo64 ", mode=0%" PRIo64, fd, p1, ev->arg0,
		         ev->arg1);
		break;
	case AT_ARG_RANGE: snprintf(out, cap, "%" PRIu64 "..%" PRIu64, ev->arg0, ev->arg1); break;
	case AT_ARG_DUP:
		snprintf(out, cap, "%snew=%" PRId64 ", flags=0%" PRIo64, fd, (int64_t)ev->arg0,
		         ev->arg1);
		break;
	case AT_ARG_FCNTL:
		snprintf(out, cap, "%scmd=%" PRIu64 ", arg=%" PRId64, fd, ev->arg0,
		         (int64_t)ev->arg1);
		break;
	case AT_ARG_SEEK:
		snprintf(out, cap, "%soffset=%" PRId64 ", whence=%" PRIu64, fd, (int64_t)ev->arg0,
		         ev->arg1);
		break;
	case AT_ARG_IO:
		if (ev->arg1) /* positional calls; an offset of 0 is left out */
			snprintf(out, cap, "%scount=%" PRIu64 ", offset=%" PRId64, fd, ev->arg0,
			         (int64_t)ev->arg1);
		else
			snprintf(out, cap, "%scount=%" PRIu64, fd, ev->arg0);
		break;
	case AT_ARG_INT: snprintf(out, cap, "%s%" PRIu64, fd, ev->arg0); break;
	case AT_ARG_IOCTL: snprintf(out, cap, "%srequest=0x%" PRIx64, fd, ev->arg0); break;
	case AT_ARG_MMAP:
		snprintf(out, cap, "%slen=%" PRIu64 ", offset=%" PRIu64, fd, ev->arg0, ev->arg1);
		break;
	case AT_ARG_PATH: snprintf(out, cap, "%s\"%s\"", fd, p1); break;
	case AT_ARG_PATH2: snprintf(out, cap, "%s\"%s\", \"%s\"", fd, p1, p2); break;
	case AT_ARG_TEMPLATE:
		snprintf(out, cap, "flags=0%" PRIo64 ", suffix=%" PRIu64, ev->arg0, ev->arg1);
		break;
	default: format_socket_args(ev, ci, fd, p1, out, cap); break;
	}
}

char *at_event_format_args(const at_event *ev, char *out, size_t cap)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	char clk[48];
	if (!cap)
		return out;
	out[0] = '\0';
	if (!ci)
		return out;
	switch (ci->arg) {
	case AT_ARG_NONE: break;
	case AT_ARG_CLOCK: format_clock(ev->arg0, out, cap); break;
	case AT_ARG_TIMEZONE:
		snprintf(out, cap, "%s, %s", ev->arg0 & 1 ? "tv" : "NULL",
		         ev->arg0 & 2 ? "tz" : "NULL");
		break;
	case AT_ARG_BASE:
		snprintf(out, cap, ev->arg0 == TIME_UTC ? "TIME_UTC" : "base %" PRIu64, ev->arg0);
		break;
	case AT_ARG_DURATION: snprintf(out, cap, "%" PRIu64 " ns", ev->arg0); break;
	case AT_ARG_CLOCK_SLEEP:
		format_clock(ev->arg0 & 0xFFFFFFFFu, clk, sizeof clk);
		snprintf(out, cap, "%s, flags=0x%" PRIx64 ", %" PRIu64 " ns", clk, ev->arg0 >> 32,
		         ev->arg1);
		break;
	case AT_ARG_MICROS: snprintf(out, cap, "%" PRIu64 " us", ev->arg0); break;
	case AT_ARG_SECONDS: snprintf(out, cap, "%" PRIu64 " s", ev->arg0); break;
	case AT_ARG_LEN: snprintf(out, cap, "len=%" PRIu64, ev->arg0); break;
	case AT_ARG_LEN_FLAGS:
		snprintf(out, cap, "len=%" PRIu64 ", flags=0x%" PRIx64, ev->arg0, ev->arg1);
		break;
	case AT_ARG_BOUND: snprintf(out, cap, "bound=%" PRIu64, ev->arg0); break;
	default:
		if (ci->family == AT_FAMILY_PROCESS)
			at_proc_format_args(ev, ci, out, cap);
		else
			format_file_args(ev, ci, out, cap);
		break;
	}
	return out;
}

/* Reads the (seconds, fraction) pair at the start of a time payload. */
static int time_pair(const at_event *ev, int64_t *sec, int64_t *frac)
{
	if (ev->len < 16)
		return 0;
	memcpy(sec, ev->payload, 8);
	memcpy(frac, ev->payload + 8, 8);
	return 1;
}

/* Up to 40 bytes as a C-style quoted string, then the size if there is more. */
static void format_text(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t n = 0, shown = len < 40 ? len : 40;
	if (cap < 8)
		return;
	out[n++] = '"';
	for (size_t i = 0; i < shown && n + 6 < cap; i++) {
		uint8_t c = p[i];
		if (c == '\n')
			n += (size_t)snprintf(out + n, cap - n, "\\n");
		else if (c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
	}
	out[n++] = '"';
	out[n] = '\0';
	if (len > shown)
		snprintf(out + n, cap - n, "... (%zu bytes)", len);
}

static void format_file_result(const at_event *ev, const struct at_call_info *ci, char *out,
                               size_t cap)
{
	if (ev->flags & AT_EVF_BLOB) {
		uint32_t real = 0;
		if (ev->len >= 36)
			memcpy(&real, ev->payload + 32, 4);
		snprintf(out, cap, "(%" PRIu32 " bytes in the content store)", real);
		return;
	}
	size_t at = at_event_paths(ev, NULL, NULL);
	const uint8_t *p = ev->payload ? ev->payload + at : NULL;
	size_t len = ev->len - at;
	if (ev->err || !p || !len)
		return;
	switch (ci->result) {
	case AT_ENC_STAT: {
		struct stat st;
		if (len < sizeof st)
			return;
		memcpy(&st, p, sizeof st);
		snprintf(out, cap, "size=%lld, mode=0%o, mtime=%lld.%09ld", (long long)st.st_size,
		         (unsigned)st.st_mode, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		break;
	}
	case AT_ENC_STATX: {
		struct statx sx;
		if (len < sizeof sx)
			return;
		memcpy(&sx, p, sizeof sx);
		snprintf(out, cap, "size=%llu, mode=0%o, mtime=%lld.%09u",
		         (unsigned long long)sx.stx_size, (unsigned)sx.stx_mode,
		         (long long)sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec);
		break;
	}
	case AT_ENC_DIRENT:
		if (len > 17)
			format_text(p + 17, len - 17, out, cap);
		break;
	default:
		if (ci->arg == AT_ARG_MMAP) {
			if (len <= 8)
				return;
			p += 8;
			len -= 8;
		}
		format_text(p, len, out, cap);
		break;
	}
}

/* Message calls: their bytes; lookups: the first address found. */
static void format_socket_result(const at_event *ev, const struct at_call_info *ci, char *out,
                                 size_t cap)
{
	const uint8_t *data;
	size_t len;
	int sent;
	if (ev->err || (ev->flags & AT_EVF_BLOB))
		return;
	if (ci->result == AT_ENC_MSG) {
		if (at_event_io_data(ev, &sent, &data, &len))
			format_text(data, len, out, cap);
		return;
	}
	if (ci->result != AT_ENC_ADDRINFO || ev->ret != 0)
		return;
	/* node NUL service NUL, u32 count, i32 x4, u32 addrlen, address */
	size_t at = at_event_paths(ev, NULL, NULL);
	const uint8_t *nul = at < ev->len ? memchr(ev->payload + at, 0, ev->len - at) : NULL;
	uint32_t count = 0, alen = 0;
	if (!nul)
		return;
	at = (size_t)(nul - ev->payload) + 1;
	if (ev->len < at + 24)
		return;
	memcpy(&count, ev->payload + at, 4);
	memcpy(&alen, ev->payload + at + 20, 4);
	char addr[128];
	if (count && alen <= ev->len - at - 24)
		at_sockaddr_format(ev->payload + at + 24, alen, addr, sizeof addr);
	else
		addr[0] = '\0';
	snprintf(out, cap, "%s%s(%" PRIu32 " address%s)", addr, addr[0] ? " " : "", count,
	         count == 1 ? "" : "es");
}

char *at_event_format_result(const at_event *ev, char *out, size_t cap)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	int64_t sec, frac;
	if (!cap)
		return out;
	out[0] = '\0';
	if (!ci)
		return out;
	switch (ci->result) {
	case AT_ENC_NONE:
		if (ev->call == AT_CALL_arc4random)
			snprintf(out, cap, "0x%08" PRIx32, (uint32_t)ev->ret);
		break;
	case AT_ENC_TIMESPEC:
		if (time_pair(ev, &sec, &frac))
			snprintf(out, cap, "%" PRId64 ".%09" PRId64, sec, frac);
		break;
	case AT_ENC_TIMEVAL:
		if (time_pair(ev, &sec, &frac))
			snprintf(out, cap, "%" PRId64 ".%06" PRId64, sec, frac);
		break;
	case AT_ENC_SOCKADDR: /* connect and bind show the address given with their args */
		if (!ev->err && !(ev->flags & AT_EVF_BLOB) && ev->call != AT_CALL_connect &&
		    ev->call != AT_CALL_bind)
			at_sockaddr_format(ev->payload, ev->len, out, cap);
		break;
	case AT_ENC_MSG:
	case AT_ENC_ADDRINFO:
	case AT_ENC_HOSTENT: format_socket_result(ev, ci, out, cap); break;
	case AT_ENC_DATA:
	case AT_ENC_STAT:
	case AT_ENC_STATX:
	case AT_ENC_DIRENT: format_file_result(ev, ci, out, cap); break;
	case AT_ENC_TLS_IO:
	case AT_ENC_TLS_ERRORS:
		if (ev->ret <= 0)
			at_tls_errors_format(ev->payload, ev->len, out, cap);
		else if (ci->result == AT_ENC_TLS_IO)
			format_text(ev->payload, ev->len, out, cap);
		break;
	case AT_ENC_WAIT:
	case AT_ENC_ARGV:
	case AT_ENC_SIGINFO: at_proc_format_result(ev, ci, out, cap); break;
	case AT_ENC_CERT:
		if (ev->len)
			snprintf(out, cap, "(certificate, %" PRIu32 " bytes DER)", ev->len);
		break;
	case AT_ENC_BYTES: {
		if (ci->family == AT_FAMILY_TLS && ev->call != AT_CALL_SSL_get_current_cipher) {
			/* a version or a protocol name, without the version's NUL */
			format_text(ev->payload,
			            ev->len && !ev->payload[ev->len - 1] ? ev->len - 1 : ev->len,
			            out, cap);
			break;
		}
		size_t shown = ev->len < 16 ? ev->len : 16, n = 0;
		for (size_t i = 0; i < shown && n + 3 < cap; i++)
			n += (size_t)snprintf(out + n, cap - n, "%02x", ev->payload[i]);
		if (ev->len > shown && n < cap)
			snprintf(out + n, cap - n, "... (%" PRIu32 " bytes)", ev->len);
		break;
	}
	}
	return out;
}
