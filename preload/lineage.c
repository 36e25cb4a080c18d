/* Process keys (agenttrace/proc.h): how a process learns its key when it starts, and how
 * it tells its key to a program image it is about to become or a child it has made.
 *
 * - The process agenttrace started is "1" (the run directory's ctl file names its pid).
 * - A fork child knows its key from memory: the fork hook put it in the forking thread's
 *   thread-local at_child_key, which the child's only thread inherits.
 * - A new program image (after exec, or a child made by posix_spawn, system or popen)
 *   reads key-<pid> in the run directory. Whoever knows the key writes it there: the
 *   image before it execs (a vfork child for its own pid), or the parent as soon as the
 *   creating call returns the child's pid. The child waits a bounded time for it: its
 *   parent may not have got the pid back yet.
 * - "live" marks a process whose parent is not replayed: it is not replayed either.
 * Files are written whole under a temporary name and renamed, so a reader never sees a
 * partial key. Raw system calls only: this runs in vfork children and before libc is
 * resolved. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "lineage.h"
#include "preload_internal.h"
#include "replay_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

AT_TLS char at_child_key[AT_PROC_KEY_MAX];

/* How long a new image waits for its key before running without one. */
#define KEY_WAIT_NS 1000000000L

int at_ctl_int(const char *name)
{
	char buf[256], want[64];
	if (at_run_read(AT_REPLAY_CTL, buf, sizeof buf) <= 0)
		return -1;
	snprintf(want, sizeof want, "%s=", name);
	const char *p = strstr(buf, want);
	if (!p)
		return -1;
	int v = 0;
	for (p += strlen(want); *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

int at_lineage_root_pid(void)
{
	return at_ctl_int("root_pid");
}

void at_lineage_tell(int pid, const char *key)
{
	char tmp[700], path[700];
	if (pid <= 0 || !key || !key[0])
		return;
	snprintf(path, sizeof path, "%s/key-%d", at_proc.run_dir, pid);
	snprintf(tmp, sizeof tmp, "%s/.key-%d-%d", at_proc.run_dir, pid, at_sys_gettid());
	int fd = at_sys_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	long len = (long)strlen(key);
	long n = at_sys_write(fd, key, (unsigned long)len);
	at_sys_close(fd);
	if (n == len)
		at_sys(SYS_rename, tmp, path, 0);
	else
		at_sys(SYS_unlink, tmp, 0, 0);
}

/* key-<pid>, taken (removed) once read: 1, or 0 when it is not there (yet). */
static int read_key(int pid, char *key, size_t cap)
{
	char name[32], path[700];
	snprintf(name, sizeof name, "key-%d", pid);
	if (at_run_read(name, key, cap) <= 0 || at_run_path(name, path, sizeof path) < 0)
		return 0;
	at_sys(SYS_unlink, path, 0, 0);
	return 1;
}

int at_lineage_learn(char *key, size_t cap)
{
	int pid = at_sys_getpid();
	if (at_lineage_root_pid() == pid) {
		snprintf(key, cap, AT_PROC_ROOT_KEY);
		return 0;
	}
	/* Polls from 20 us, doubling to 2 ms: usually the key is there at once. */
	long waited = 0, step = 20000;
	for (;;) {
		if (read_key(pid, key, cap))
			return 0;
		if (waited >= KEY_WAIT_NS)
			break;
		at_sys_nanosleep_ns(step);
		waited += step;
		if (step < 2000000)
			step *= 2;
	}
	key[0] = '\0';
	return -1;
}

uint64_t at_lineage_next_child(char *key, size_t cap)
{
	uint64_t n = __atomic_add_fetch(&at_proc.hdr->children, 1, __ATOMIC_RELAXED);
	if (!at_proc.key[0] || at_proc_child_key(at_proc.key, n, key, cap) < 0)
		key[0] = '\0';
	return n;
}

const char *at_stat_fields(const char *path, char *buf, size_t cap)
{
	int fd = at_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	long n = at_sys_read(fd, buf, cap - 1);
	at_sys_close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
	return p && p[1] == ' ' ? p + 2 : NULL;
}
