/* The process family: making children (fork, vfork, posix_spawn, system, popen), exec,
 * waiting for children, and the pids the program sees.
 *
 * Record: each call's result is an event; a child is numbered (arg0) and so gets its key
 * (lineage.c), under which its own log is sealed as a stream.
 * Replay: children are made for real, so the tree is re-created and each child replays its
 * own stream; the program sees the recorded pids and statuses. A wait really waits for the
 * replaying child (its output comes before what the parent does next, as it did), then
 * returns what the recording saw. getpid and getppid answer the recorded values. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "lineage.h"
#include "mask_internal.h"
#include "preload_internal.h"
#include "sys_raw.h"

extern char **environ;

/* ---- recorded pid -> real pid, for this process's children (replay) ---- */

#define PIDS 1024
static struct {
	int32_t rec, real;
} pids[PIDS];
static unsigned npids;

static void pid_map(int rec, int real)
{
	unsigned i = __atomic_fetch_add(&npids, 1, __ATOMIC_RELAXED) % PIDS;
	pids[i].real = real;
	__atomic_store_n(&pids[i].rec, rec, __ATOMIC_RELEASE);
}

int at_pid_real(int rec, int *known)
{
	unsigned n = __atomic_load_n(&npids, __ATOMIC_ACQUIRE);
	for (unsigned k = 0; k < n && k < PIDS; k++) {
		unsigned i = (n - 1 - k) % PIDS; /* the newest first: pids are reused */
		if (__atomic_load_n(&pids[i].rec, __ATOMIC_ACQUIRE) == rec) {
			if (known)
				*known = 1;
			return pids[i].real;
		}
	}
	if (known)
		*known = 0;
	return rec;
}

void at_process_after_fork(void)
{
	/* Only replay maps pids. Not even read otherwise: a page never touched would be
	 * faulted in, and one the parent touched copied by a store, in every fork child. */
	if (at_proc.mode == AT_MODE_REPLAY && npids)
		npids = 0;
}

/* ---- program images ---- */

extern char **environ;

/* The arguments as the kernel laid them out, each NUL-terminated, as /proc/self/cmdline
 * shows them, but read from the initial stack: [argc][argv...][NULL][envp...][NULL], the
 * strings of argv then of envp one after the other above it. environ still points at that
 * envp unless the program has changed its environment already, and every step is checked:
 * -1 when it is not so. Opening and reading /proc/self/cmdline costs every new program
 * image some 15 us (docs/performance.md). */
static const char *stack_cmdline(size_t *len)
{
	char **env = environ, here;
	/* On this thread's stack, above this frame: reading below env stays in the stack's
	 * mapping, which reaches at least 128 KiB below the arguments from the start. */
	uintptr_t from = (uintptr_t)&here;
	if ((uintptr_t)env <= from || (uintptr_t)env - from > (256u << 20) || !env[0] || env[-1])
		return NULL;
	char **argv = NULL;
	for (uintptr_t k = 0; k < 4096 && !argv; k++)
		if ((uintptr_t)env[-2 - (long)k] == k)
			argv = env - 1 - k;
	if (!argv || !argv[0])
		return NULL;
	for (char **a = argv; *a; a++) {
		const char *next = a[1] ? a[1] : env[0];
		if (next <= *a || next != *a + strlen(*a) + 1)
			return NULL;
	}
	*len = (size_t)(env[0] - argv[0]);
	return argv[0];
}

/* The arguments, each NUL-terminated, at most ARGS_MAX bytes: where they are (not copied:
 * a buffer of our own would be pages to fault in), or /proc/self/cmdline's copy. */
#define ARGS_MAX 8192
static const char *read_cmdline(long *len)
{
	static char buf[ARGS_MAX];
	size_t n;
	const char *p = stack_cmdline(&n);
	if (p) {
		*len = n < ARGS_MAX ? (long)n : ARGS_MAX;
		return p;
	}
	*len = 0;
	int fd = at_sys_open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return buf;
	long r;
	while (*len < ARGS_MAX && (r = at_sys_read(fd, buf + *len, ARGS_MAX - (size_t)*len)) > 0)
		*len += r;
	at_sys_close(fd);
	return buf;
}

void at_image_start(int mode)
{
	long n;
	const char *argv = read_cmdline(&n);
	if (mode == AT_MODE_RECORD) {
		at_record_args(AT_CALL_image, argv, (size_t)n, at_stamp());
		return;
	}
	const struct at_rawrec *ev = at_replay_take(AT_CALL_image, 0, 0);
	uint32_t len;
	const uint8_t *want = at_rawrec_payload(ev, &len);
	int same = len == (uint32_t)n;
	for (uint32_t i = 0; same && i < len; i++) /* a masked secret matches any bytes */
		same = want[i] == (uint8_t)argv[i] || want[i] == AT_MASK_BYTE;
	if (!same) {
		char detail[600], w[256], g[256];
		size_t wn = len < sizeof w - 1 ? len : sizeof w - 1;
		size_t gn = (size_t)n < sizeof g - 1 ? (size_t)n : sizeof g - 1;
		memcpy(w, want, wn);
		memcpy(g, argv, gn);
		for (size_t i = 0; i < wn; i++)
			w[i] = w[i] ? w[i] : ' ';
		for (size_t i = 0; i < gn; i++)
			g[i] = g[i] ? g[i] : ' ';
		w[wn] = g[gn] = '\0';
		snprintf(detail, sizeof detail,
		         "the recording ran \"%s\" here, the replay runs \"%s\"", w, g);
		at_replay_mismatch(ev, detail);
	}
}

/* ---- fork and vfork ---- */

AT_HOOK pid_t fork(void)
{
	int m = at_enter();
	at_real_before_fork();
	if (m < AT_MODE_RECORD) {
		if (m == AT_MODE_LIVE)
			snprintf(at_child_key, sizeof at_child_key, AT_LIVE_KEY);
		return AT_REAL(fork) ? AT_REAL(fork)()
		                     : (pid_t)AT_LIBC_RESULT(at_sys(SYS_fork, 0, 0, 0));
	}
	uint64_t n = at_lineage_next_child(at_child_key, sizeof at_child_key);
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_fork, n, 0);
		pid_t want = (pid_t)at_replay_ret(ev);
		if (want < 0)
			return -1;
		pid_t r = AT_REAL(fork)();
		if (r == 0)
			return 0;
		if (r < 0)
			at_replay_refuse(ev, "the kernel refused a fork that the recording made");
		pid_map(want, r);
		return want;
	}
	uint64_t t0 = at_stamp();
	pid_t r = AT_REAL(fork)();
	if (r == 0)
		return 0;
	int e = AT_ERR_IF(r < 0);
	at_record(AT_CALL_fork, r, e, n, 0, NULL, 0, t0);
	RETURN_ERR(r, e);
}

/* vfork: the child borrows our memory and stack until it execs or exits, so it must return
 * from vfork on the stack as the caller left it. Like libc's own vfork, the return address
 * is kept in a register (each task has its own) across the system call. Before it, a
 * normal call numbers the child; after it, the parent tail-calls at_vfork_parent to record
 * (or replay) the result, when the child no longer uses the memory. */
static AT_TLS uint64_t vfork_child; /* the number of the child being made */
AT_TLS char at_vfork_key[AT_PROC_KEY_MAX];

__attribute__((used)) static void vfork_prepare(void)
{
	int m = at_enter();
	at_real_before_fork();
	if (m < AT_MODE_LIVE)
		return;
	__atomic_store_n(&at_vforked, 1, __ATOMIC_RELAXED);
	if (m == AT_MODE_LIVE)
		snprintf(at_vfork_key, sizeof at_vfork_key, AT_LIVE_KEY);
	else
		vfork_child = at_lineage_next_child(at_vfork_key, sizeof at_vfork_key);
}

__attribute__((used)) static pid_t vfork_parent(int r)
{
	int m = at_enter(), e = r < 0 ? -r : 0;
	if (m == AT_MODE_RECORD) {
		at_record(AT_CALL_vfork, r < 0 ? -1 : r, e, vfork_child, 0, NULL, 0, at_stamp());
	} else if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_vfork, vfork_child, 0);
		pid_t want = (pid_t)at_replay_ret(ev);
		if (r > 0 && want > 0)
			pid_map(want, r);
		return want;
	}
	if (r < 0) {
		errno = e;
		return -1;
	}
	return r;
}

__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "	endbr64\n"
        "	subq $8, %rsp\n"
        "	call vfork_prepare\n"
        "	addq $8, %rsp\n"
        "	popq %rdi\n"      /* the return address: the child's stack use would clobber it */
        "	movl $58, %eax\n" /* SYS_vfork */
        "	syscall\n"
        "	pushq %rdi\n"
        "	testl %eax, %eax\n"
        "	jz 1f\n"
        "	movl %eax, %edi\n"
        "	jmp vfork_parent\n"
        "1:	ret\n"
        ".size vfork, .-vfork\n");

/* ---- posix_spawn, system and popen ---- */

static int spawn_common(uint16_t call, pid_t *pid, const char *path,
                        const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                        char *const argv[], char *const envp[])
{
	int (*real)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	            const posix_spawnattr_t *, char *const[], char *const[]) =
	    call == AT_CALL_posix_spawn ? AT_REAL(posix_spawn) : AT_REAL(posix_spawnp);
	int m = at_enter();
	pid_t child = 0;
	if (m < AT_MODE_RECORD) {
		int r = real(&child, path, fa, attr, argv, envp);
		if (!r && m == AT_MODE_LIVE)
			at_lineage_tell(child, AT_LIVE_KEY);
		if (!r && pid)
			*pid = child;
		return r;
	}
	char key[AT_PROC_KEY_MAX];
	uint64_t n = at_lineage_next_child(key, sizeof key);
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(call, n, 0);
		int want = (int)ev->ret;
		int32_t rec = 0;
		if (want)
			return want;
		int r = real(&child, path, fa, attr, argv, envp);
		if (r)
			at_replay_refuse(ev, "the program could not be started again");
		at_lineage_tell(child, key);
		at_replay_copy(ev, &rec, sizeof rec);
		pid_map(rec, child);
		if (pid)
			*pid = rec;
		return 0;
	}
	uint64_t t0 = at_stamp();
	int r = real(&child, path, fa, attr, argv, envp);
	if (!r)
		at_lineage_tell(child, key);
	int32_t rec = r ? 0 : child;
	at_record(call, r, 0, n, 0, &rec, sizeof rec, t0);
	if (!r && pid)
		*pid = child;
	return r;
}

AT_HOOK int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_common(AT_CALL_posix_spawn, pid, path, fa, attr, argv, envp);
}

AT_HOOK int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                         const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_common(AT_CALL_posix_spawnp, pid, file, fa, attr, argv, envp);
}

/* system(), as libc does it (/bin/sh -c through posix_spawn, SIGINT and SIGQUIT ignored
 * and SIGCHLD blocked while waiting), so that the shell's pid is known and it can be told
 * its key. Returns the wait status, or -1 with errno. */
static int run_shell(const char *command, const char *key, int32_t *child)
{
	int (*sa)(int, const struct sigaction *, struct sigaction *) = at_real_sigaction();
	struct sigaction ign = {.sa_handler = SIG_IGN}, intr, quit;
	sigset_t block, omask, dflt;
	sigemptyset(&ign.sa_mask);
	sa(SIGINT, &ign, &intr);
	sa(SIGQUIT, &ign, &quit);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &block, &omask);
	sigemptyset(&dflt);
	if (intr.sa_handler != SIG_IGN)
		sigaddset(&dflt, SIGINT);
	if (quit.sa_handler != SIG_IGN)
		sigaddset(&dflt, SIGQUIT);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &omask);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	char *argv[] = {"sh", "-c", (char *)command, NULL};
	pid_t pid = 0;
	int status, r = AT_REAL(posix_spawn)(&pid, "/bin/sh", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (r == 0) {
		at_lineage_tell(pid, key);
		long w;
		while ((w = at_sys6(SYS_wait4, pid, (long)&status, 0, 0, 0, 0)) == -EINTR)
			;
		if (w < 0)
			status = -1;
	} else {
		status = 127 << 8; /* the shell could not run: as if it exited 127 */
	}
	sa(SIGINT, &intr, NULL);
	sa(SIGQUIT, &quit, NULL);
	pthread_sigmask(SIG_SETMASK, &omask, NULL);
	*child = r ? 0 : pid;
	return status;
}

AT_HOOK int system(const char *command)
{
	int m = at_enter();
	if (m < AT_MODE_LIVE || !command)
		return AT_REAL(system)(command);
	int32_t child = 0;
	if (m == AT_MODE_LIVE)
		return run_shell(command, AT_LIVE_KEY, &child);
	char key[AT_PROC_KEY_MAX];
	uint64_t n = at_lineage_next_child(key, sizeof key);
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_system, n, 0);
		int want = (int)at_replay_ret(ev), e = errno;
		if (want != -1)
			run_shell(command, key, &child);
		RETURN_ERR(want, want == -1 ? e : 0);
	}
	uint64_t t0 = at_stamp();
	int r = run_shell(command, key, &child);
	int e = AT_ERR_IF(r == -1);
	at_record(AT_CALL_system, r, e, n, 0, &child, sizeof child, t0);
	RETURN_ERR(r, e);
}

/* The child of a popen stream: libc keeps it after the FILE (struct _IO_proc_file: the
 * FILE, its jump table pointer, then the pid), unchanged in glibc for decades. Checked:
 * it must be a child of ours. */
static pid_t popen_child(FILE *f)
{
	pid_t pid;
	memcpy(&pid, (const char *)f + sizeof(FILE) + sizeof(void *), sizeof pid);
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	const char *p = pid > 0 ? at_stat_fields(path, buf, sizeof buf) : NULL;
	int ppid = 0;
	if (p && p[0] && p[1] == ' ') /* the state, then the parent's pid */
		for (p += 2; *p >= '0' && *p <= '9'; p++)
			ppid = ppid * 10 + (*p - '0');
	return ppid == at_sys_getpid() ? pid : 0;
}

AT_HOOK FILE *popen(const char *command, const char *type)
{
	int m = at_enter();
	if (m < AT_MODE_LIVE)
		return AT_REAL(popen)(command, type);
	if (m == AT_MODE_LIVE) {
		FILE *f = AT_REAL(popen)(command, type);
		if (f)
			at_lineage_tell(popen_child(f), AT_LIVE_KEY);
		return f;
	}
	char key[AT_PROC_KEY_MAX];
	uint64_t n = at_lineage_next_child(key, sizeof key);
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_popen, n, 0);
		int want = (int)at_replay_ret(ev), e = errno;
		if (want < 0) {
			errno = e;
			return NULL;
		}
		FILE *f = AT_REAL(popen)(command, type);
		if (!f)
			at_replay_refuse(ev, "the command could not be started again");
		int32_t rec = 0;
		pid_t child = popen_child(f);
		at_lineage_tell(child, key);
		at_replay_copy(ev, &rec, sizeof rec);
		if (child)
			pid_map(rec, child);
		return f;
	}
	uint64_t t0 = at_stamp();
	FILE *f = AT_REAL(popen)(command, type);
	int e = AT_ERR_IF(!f);
	int32_t child = f ? popen_child(f) : 0;
	if (child)
		at_lineage_tell(child, key);
	at_record(AT_CALL_popen, f ? fileno(f) : -1, e, n, 0, &child, sizeof child, t0);
	if (e)
		errno = e;
	return f;
}

AT_HOOK int pclose(FILE *stream)
{
	int m = at_enter();
	if (m < AT_MODE_RECORD)
		return AT_REAL(pclose)(stream);
	int fd = fileno(stream);
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take_any_fd(AT_CALL_pclose, 0, 0, 0);
		AT_REAL(pclose)(stream); /* waits for the replaying child */
		return (int)at_replay_ret(ev);
	}
	uint64_t t0 = at_stamp();
	int r = AT_REAL(pclose)(stream);
	int e = AT_ERR_IF(r == -1);
	struct iovec none = AT_PART(NULL, 0);
	at_record_parts(AT_CALL_pclose, fd, r, e, 0, 0, &none, 0, 0, t0);
	RETURN_ERR(r, e);
}
