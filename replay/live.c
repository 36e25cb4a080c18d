/* `replay --step N --then live`, inside the program: at step N the process stops
 * replaying and makes real calls. What the replayed past left open is made real first, as
 * `agenttrace replay` planned it from the trace (cli/live_plan.h): files are reopened at
 * their recorded offsets (a file the program wrote, as a private copy holding what it
 * wrote), directories reopened, sockets become sockets whose peer has closed, so clients
 * reconnect. Raw system calls only: this runs inside a hook. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "agenttrace/replay.h"
#include "preload_internal.h"
#include "replay_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

static char plan[65536];

static long number(const char **p)
{
	long v = 0;
	int neg = **p == '-';
	if (neg)
		(*p)++;
	while (**p >= '0' && **p <= '9')
		v = v * 10 + (*(*p)++ - '0');
	if (**p == ' ')
		(*p)++;
	return neg ? -v : v;
}

/* Puts `src` at descriptor `fd` (closing src), keeping fd's close-on-exec as planned. */
static void move_to(int src, int fd, int flags)
{
	if (src < 0)
		return; /* the stand-in stays: reads find nothing, writes go nowhere */
	if (src != fd) {
		at_sys(SYS_dup3, src, fd, (flags & O_CLOEXEC) ? O_CLOEXEC : 0);
		at_sys_close(src);
	}
}

static void make_real(int fd, const char *kind, int flags, long offset, const char *path)
{
	if (!strcmp(kind, "file") || !strcmp(kind, "copy")) {
		move_to(at_sys_open(path, flags, 0), fd, flags);
		at_sys(SYS_lseek, fd, offset, SEEK_SET);
	} else if (!strcmp(kind, "dir")) {
		move_to(at_sys_open(path, O_RDONLY | O_DIRECTORY | (flags & O_CLOEXEC), 0), fd,
		        flags);
	} else if (!strcmp(kind, "socket")) {
		int sv[2];
		if (at_sys6(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (long)sv, 0, 0) == 0) {
			at_sys_close(sv[1]); /* the peer has gone */
			move_to(sv[0], fd, flags);
		}
	} else if (!strcmp(kind, "random")) {
		move_to(at_sys_open("/dev/urandom", O_RDONLY | O_CLOEXEC, 0), fd, O_CLOEXEC);
	}
}

void at_replay_go_live(void)
{
	if (at_run_read(AT_REPLAY_LIVE_PLAN, plan, sizeof plan) > 0) {
		/* FD KIND FLAGS OFFSET PATH, a line each */
		for (char *line = plan, *end; *line; line = end + 1) {
			end = strchr(line, '\n');
			if (!end)
				break;
			*end = '\0';
			const char *p = line;
			int target = (int)number(&p);
			const char *kind = p;
			char *space = strchr(line + (p - line), ' ');
			if (!space)
				continue;
			*space = '\0';
			p = space + 1;
			int flags = (int)number(&p);
			long offset = number(&p);
			make_real(target, kind, flags, offset, p);
		}
	}
	__atomic_store_n(&at_proc.mode, AT_MODE_LIVE, __ATOMIC_RELEASE);
}
