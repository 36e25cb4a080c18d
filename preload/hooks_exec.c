/* exec, wait, kill and the pids a program sees.
 *
 * exec: a success starts a new image, which records (or checks) its arguments as `image`;
 * only a failure returns, and it is recorded. Before the call the image tells the next one
 * its key (lineage.c). Replay execs for real unless the recording failed there.
 * wait: replay really waits for the replaying child, then returns the recorded result.
 * kill, killpg, raise: replay sends nothing (a recorded signal that reached a handler is
 * delivered again where it arrived; one that ended a process ends its replay the same
 * way), and returns what the recording got. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "lineage.h"
#include "preload_internal.h"
#include "sys_raw.h"

extern AT_TLS char at_vfork_key[AT_PROC_KEY_MAX];

/* ---- exec ---- */

static void exec_tell(int m)
{
	int pid = at_sys_getpid();
	if (at_in_vfork_child())
		at_lineage_tell(pid, at_vfork_key);
	else if (m == AT_MODE_LIVE)
		at_lineage_tell(pid, AT_LIVE_KEY);
	else if (m == AT_MODE_REPLAY)
		at_lineage_tell(pid, at_proc.key);
	else if (m == AT_MODE_RECORD)
		at_log_handover(); /* the new image goes on with this log, which holds the key */
}

/* Replay: the recording's exec failed here, so this one fails the same way (1), or it
 * succeeded and this one must too (0). */
static int exec_failed_before(uint16_t call, int *err)
{
	const struct at_rawrec *ev = at_replay_take_if(call, 0, 0);
	if (!ev)
		return 0;
	at_replay_ret(ev);
	*err = errno;
	return 1;
}

/* After a real exec returned (it failed): records it, or reports the replay's failure. */
static int exec_returned(uint16_t call, int m, const char *path, char *const argv[], uint64_t t0)
{
	int e = errno;
	if (m == AT_MODE_RECORD) {
		if (!at_in_vfork_child())
			at_log_handover_cancel();
		struct iovec parts[64];
		int n = 0;
		parts[n++] = AT_PART(path ? path : "", path ? strlen(path) + 1 : 1);
		for (int i = 0; argv && argv[i] && n < 64; i++)
			parts[n++] = AT_PART(argv[i], strlen(argv[i]) + 1);
		at_record_parts(call, -1, -1, e, 0, 0, parts, n, 65536, t0);
	} else if (m == AT_MODE_REPLAY) {
		char detail[400];
		snprintf(detail, sizeof detail,
		         "the recording ran %s here, but replay cannot execute it: %s",
		         path ? path : "the program", strerror(e));
		at_replay_refuse_call(call, detail);
	}
	errno = e;
	return -1;
}

#define EXEC_HOOK(call, name, real_call, path, argv, ...)                                          \
	do {                                                                                       \
		int m = at_enter(), e;                                                             \
		if (m >= AT_MODE_LIVE)                                                             \
			exec_tell(m);                                                              \
		if (m == AT_MODE_REPLAY && exec_failed_before(call, &e)) {                         \
			errno = e;                                                                 \
			return -1;                                                                 \
		}                                                                                  \
		uint64_t t0 = at_stamp();                                                          \
		real_call(__VA_ARGS__);                                                            \
		if (m < AT_MODE_RECORD)                                                            \
			return -1;                                                                 \
		return exec_returned(call, m, path, argv, t0);                                     \
	} while (0)

AT_HOOK int execve(const char *path, char *const argv[], char *const envp[])
{
	EXEC_HOOK(AT_CALL_execve, execve, AT_REAL(execve), path, argv, path, argv, envp);
}

AT_HOOK int execv(const char *path, char *const argv[])
{
	EXEC_HOOK(AT_CALL_execv, execv, AT_REAL(execv), path, argv, path, argv);
}

AT_HOOK int execvp(const char *file, char *const argv[])
{
	EXEC_HOOK(AT_CALL_execvp, execvp, AT_REAL(execvp), file, argv, file, argv);
}

AT_HOOK int execvpe(const char *file, char *const argv[], char *const envp[])
{
	EXEC_HOOK(AT_CALL_execvpe, execvpe, AT_REAL(execvpe), file, argv, file, argv, envp);
}

AT_HOOK int fexecve(int fd, char *const argv[], char *const envp[])
{
	EXEC_HOOK(AT_CALL_fexecve, fexecve, AT_REAL(fexecve), NULL, argv, fd, argv, envp);
}

AT_HOOK int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	EXEC_HOOK(AT_CALL_execveat, execveat, AT_REAL(execveat), path, argv, dirfd, path, argv,
	          envp, flags);
}

/* execl, execlp, execle: their arguments as a vector, then the vector forms above (libc
 * would call its internal execve, which the hooks do not see). */
#define ARGS_FROM_LIST(first, ap, argv)                                                            \
	size_t argc = 1;                                                                           \
	va_list count;                                                                             \
	va_copy(count, ap);                                                                        \
	while (va_arg(count, char *))                                                              \
		argc++;                                                                            \
	va_end(count);                                                                             \
	char *argv[argc + 1];                                                                      \
	argv[0] = (char *)(first);                                                                 \
	for (size_t i = 1; i <= argc; i++)                                                         \
		argv[i] = va_arg(ap, char *);

AT_HOOK int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	ARGS_FROM_LIST(arg, ap, argv);
	va_end(ap);
	return execv(path, argv);
}

AT_HOOK int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	ARGS_FROM_LIST(arg, ap, argv);
	va_end(ap);
	return execvp(file, argv);
}

AT_HOOK int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	ARGS_FROM_LIST(arg, ap, argv);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

/* ---- wait ---- */

/* Replay: waits for real for the replaying child the recording reaped (`rec`), unless the
 * recording saw it stop or continue, which replay does not make happen. */
static void reap_for_real(int rec, int status_known, int status)
{
	int known, real = at_pid_real(rec, &known), st;
	if (!known || (status_known && (WIFSTOPPED(status) || WIFCONTINUED(status))))
		return;
	while (at_sys6(SYS_wait4, real, (long)&st, __WALL, 0, 0, 0) == -EINTR)
		;
}

static pid_t wait_common(uint16_t call, pid_t pid, int *status, int options, struct rusage *ru)
{
	int m = at_enter();
	if (m < AT_MODE_RECORD)
		return AT_REAL(wait4)(pid, status, options, ru);
	struct {
		struct at_wait_result w;
		struct rusage u;
	} res;
	memset(&res, 0, sizeof res);
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(call, (uint32_t)pid, (uint32_t)options);
		pid_t want = (pid_t)at_replay_ret(ev);
		int e = errno;
		if (want <= 0)
			RETURN_ERR(want, want < 0 ? e : 0);
		size_t got = at_replay_copy(ev, &res, sizeof res);
		if (!(options & WNOWAIT))
			reap_for_real(want, 1, res.w.status);
		if (status)
			*status = res.w.status;
		if (ru && got >= sizeof res)
			*ru = res.u;
		return want;
	}
	uint64_t t0 = at_stamp();
	pid_t r = AT_REAL(wait4)(pid, &res.w.status, options, ru ? &res.u : NULL);
	int e = AT_ERR_IF(r < 0);
	size_t len = r > 0 ? (ru ? sizeof res : sizeof res.w) : 0;
	at_record(call, r, e, (uint32_t)pid, (uint32_t)options, &res, len, t0);
	if (r > 0 && status)
		*status = res.w.status;
	if (r > 0 && ru)
		*ru = res.u;
	RETURN_ERR(r, e);
}

AT_HOOK pid_t wait(int *status)
{
	return wait_common(AT_CALL_wait, -1, status, 0, NULL);
}

AT_HOOK pid_t waitpid(pid_t pid, int *status, int options)
{
	return wait_common(AT_CALL_waitpid, pid, status, options, NULL);
}

AT_HOOK pid_t wait3(int *status, int options, struct rusage *usage)
{
	return wait_common(AT_CALL_wait3, -1, status, options, usage);
}

AT_HOOK pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
	return wait_common(AT_CALL_wait4, pid, status, options, usage);
}

AT_HOOK int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	int m = at_enter();
	if (m < AT_MODE_RECORD)
		return AT_REAL(waitid)(idtype, id, info, options);
	uint64_t keys = (uint32_t)options | (uint64_t)idtype << 32;
	struct at_siginfo si;
	memset(&si, 0, sizeof si);
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_waitid, (uint32_t)id, keys);
		int want = (int)at_replay_ret(ev), e = errno;
		if (want < 0)
			RETURN_ERR(-1, e);
		at_replay_copy(ev, &si, sizeof si);
		if (si.pid > 0 && !(options & WNOWAIT) &&
		    (si.code == CLD_EXITED || si.code == CLD_KILLED || si.code == CLD_DUMPED))
			reap_for_real(si.pid, 0, 0);
		if (info) {
			memset(info, 0, sizeof *info);
			info->si_signo = si.signo;
			info->si_code = si.code;
			info->si_pid = si.pid;
			info->si_uid = (uid_t)si.uid;
			info->si_status = si.status;
		}
		return want;
	}
	uint64_t t0 = at_stamp();
	siginfo_t local;
	memset(&local, 0, sizeof local);
	int r = AT_REAL(waitid)(idtype, id, info ? info : &local, options);
	int e = AT_ERR_IF(r < 0);
	const siginfo_t *got = info ? info : &local;
	if (r == 0)
		si = (struct at_siginfo){.signo = got->si_signo,
		                         .code = got->si_code,
		                         .pid = got->si_pid,
		                         .uid = (int32_t)got->si_uid,
		                         .status = got->si_status};
	at_record(AT_CALL_waitid, r, e, (uint32_t)id, keys, &si, r == 0 ? sizeof si : 0, t0);
	RETURN_ERR(r, e);
}

/* ---- sending signals ---- */

static int send_common(uint16_t call, int m, uint64_t target, int sig, int r, uint64_t t0)
{
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(call, target, (uint32_t)sig);
		return (int)at_replay_ret(ev);
	}
	int e = AT_ERR_IF(r < 0);
	at_record(call, r, e, target, (uint32_t)sig, NULL, 0, t0);
	RETURN_ERR(r, e);
}

AT_HOOK int kill(pid_t pid, int sig)
{
	int m = at_enter();
	if (m == AT_MODE_REPLAY)
		return send_common(AT_CALL_kill, m, (uint32_t)pid, sig, 0, 0);
	uint64_t t0 = at_stamp();
	int r = AT_REAL(kill)(pid, sig);
	if (m < AT_MODE_RECORD)
		return r;
	return send_common(AT_CALL_kill, m, (uint32_t)pid, sig, r, t0);
}

AT_HOOK int killpg(pid_t pgrp, int sig)
{
	int m = at_enter();
	if (m == AT_MODE_REPLAY)
		return send_common(AT_CALL_killpg, m, (uint32_t)pgrp, sig, 0, 0);
	uint64_t t0 = at_stamp();
	int r = AT_REAL(killpg)(pgrp, sig);
	if (m < AT_MODE_RECORD)
		return r;
	return send_common(AT_CALL_killpg, m, (uint32_t)pgrp, sig, r, t0);
}

AT_HOOK int raise(int sig)
{
	int m = at_enter();
	if (m == AT_MODE_REPLAY)
		return send_common(AT_CALL_raise, m, (uint32_t)sig, sig, 0, 0);
	uint64_t t0 = at_stamp();
	int r = AT_REAL(raise)(sig);
	if (m < AT_MODE_RECORD)
		return r;
	return send_common(AT_CALL_raise, m, (uint32_t)sig, sig, r, t0);
}

/* ---- the pids a program sees ---- */

AT_HOOK pid_t getpid(void)
{
	if (at_enter() == AT_MODE_REPLAY && !at_in_vfork_child())
		return at_proc.hdr->pid;
	return at_sys_getpid();
}

AT_HOOK pid_t getppid(void)
{
	if (at_enter() == AT_MODE_REPLAY && !at_in_vfork_child())
		return at_proc.hdr->ppid;
	return at_sys_getppid();
}

AT_HOOK pid_t gettid(void)
{
	if (at_enter() == AT_MODE_REPLAY && at_thread_vtid && !at_in_vfork_child())
		return at_thread_vtid;
	return at_sys_gettid();
}
