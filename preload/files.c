/* The file world the hooks keep: what each descriptor is, which paths the user excluded,
 * and, in replay, the real descriptors that stand in for the recorded ones.
 *
 * Replay serves every file call from the trace, so a replayed descriptor never reads or
 * writes anything. It is still a real descriptor with the recorded number: the kernel then
 * hands out the same numbers as in the recording to everything else (sockets, the loader's
 * own opens), and select(), fcntl() and fd arithmetic behave. The stand-in is a memfd, or
 * an empty directory for directories, so that a call the hooks do not cover (fchmod,
 * fstatfs) touches nothing that matters. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "agenttrace/glob.h"
#include "preload_internal.h"
#include "replay_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

uint8_t at_fd_kinds[AT_FD_TABLE];
int at_vforked;

void at_fd_set(int fd, int kind)
{
	/* A vfork child shares this table with its parent, which its dup2s and closes before
	 * exec must not change. */
	if (fd < 0 || fd >= AT_FD_TABLE || at_in_vfork_child())
		return;
	__atomic_store_n(&at_fd_kinds[fd], (uint8_t)kind, __ATOMIC_RELAXED);
}

/* record --exclude: patterns, NUL-separated, read once at start-up. */
static char exclude_buf[4096];
static int exclude_count;

static void read_excludes(void)
{
	long n = at_run_read(AT_RUN_EXCLUDE, exclude_buf, sizeof exclude_buf);
	for (long i = 0; i < n; i++) {
		if (exclude_buf[i] == '\n') {
			exclude_buf[i] = '\0';
			exclude_count++;
		}
	}
}

/* The root process's standard descriptors (device and inode of each), in the run
 * directory's `stdio` file: the user's channels, as opposed to the pipes the program's
 * processes make between themselves. */
struct std_id {
	uint64_t dev, ino;
};

static int std_id(int fd, struct std_id *id, int *channel)
{
	struct stat st;
	if (at_sys(SYS_fstat, fd, &st, 0) < 0)
		return -1;
	*id = (struct std_id){st.st_dev, st.st_ino};
	*channel = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
	return 0;
}

static void root_stdio(struct std_id ids[3], int write)
{
	char path[700];
	if (at_run_path("stdio", path, sizeof path) < 0) /* not snprintf: see at_run_path */
		return;
	int fd = at_sys_open(
	    path, write ? O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write)
		at_sys_write(fd, ids, 3 * sizeof ids[0]);
	else if (at_sys_read(fd, ids, 3 * sizeof ids[0]) != 3 * (long)sizeof ids[0])
		memset(ids, 0, 3 * sizeof ids[0]);
	at_sys_close(fd);
}

void at_files_init(void)
{
	/* What the process inherited (the terminal, pipes, redirections) is its channel to the
	 * user: reads come from the trace, writes are shown. But a pipe or socket that one of
	 * the program's processes made for another (`ls | wc`) is the program's own: both ends
	 * are recorded processes, which replay runs again, so it passes through in record and
	 * replay alike. */
	struct std_id mine[3], root[3];
	int channel[3] = {0, 0, 0}, open[3];
	memset(mine, 0, sizeof mine);
	memset(root, 0, sizeof root);
	for (int fd = 0; fd < 3; fd++)
		open[fd] = std_id(fd, &mine[fd], &channel[fd]) == 0;
	int is_root = !strcmp(at_proc.key, AT_PROC_ROOT_KEY);
	if (is_root)
		root_stdio(mine, 1);
	else
		root_stdio(root, 0);
	/* Nothing has set a kind yet in this new image: the table is not read (its first
	 * access a store, one page fault instead of two). */
	for (int fd = 0; fd < 3; fd++) {
		if (!open[fd])
			continue;
		int users = is_root;
		for (int r = 0; r < 3 && !users; r++)
			users = mine[fd].dev == root[r].dev && mine[fd].ino == root[r].ino;
		if (users || !channel[fd])
			at_fd_set(fd, AT_FD_STD);
	}
	read_excludes();
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int at_fd_kind_for_path(const char *path, int flags)
{
	if (!strcmp(path, "/dev/urandom") || !strcmp(path, "/dev/random"))
		return AT_FD_RANDOM;
	if (!strcmp(path, "/dev/tty") || starts(path, "/dev/pts/") ||
	    !strcmp(path, "/dev/stdout") || !strcmp(path, "/dev/stderr") ||
	    !strcmp(path, "/dev/stdin") || !strcmp(path, "/dev/fd/1") ||
	    !strcmp(path, "/dev/fd/2") || !strcmp(path, "/proc/self/fd/1") ||
	    !strcmp(path, "/proc/self/fd/2"))
		return AT_FD_STD;
	return (flags & O_DIRECTORY) ? AT_FD_DIR : AT_FD_FILE;
}

/* The absolute form of a path as the program named it (no symlink resolution). */
static int absolute(int dirfd, const char *path, char *out, size_t cap)
{
	size_t n;
	if (path[0] == '/') {
		n = 0;
	} else if (dirfd == AT_FDCWD) {
		long r = at_sys(SYS_getcwd, out, cap, 0);
		if (r <= 0)
			return -1;
		n = strlen(out);
	} else {
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
		long r = at_sys(SYS_readlink, link, out, cap - 1);
		if (r <= 0)
			return -1;
		n = (size_t)r;
	}
	if (n && out[n - 1] != '/' && n + 1 < cap)
		out[n++] = '/';
	size_t len = strlen(path);
	if (n + len + 1 > cap)
		return -1;
	memcpy(out + n, path, len + 1);
	return 0;
}

int at_path_excluded(int dirfd, const char *path)
{
	char abs[4096];
	if (!exclude_count || !path || absolute(dirfd, path, abs, sizeof abs))
		return 0;
	const char *pat = exclude_buf;
	for (int i = 0; i < exclude_count; i++, pat += strlen(pat) + 1) {
		if (at_glob_match(pat, abs, strlen(abs), 0)) {
			if (at_proc.mode == AT_MODE_RECORD && at_proc.hdr && i < 64)
				__atomic_fetch_or(&at_proc.hdr->exclude_hits, 1ull << i,
				                  __ATOMIC_RELAXED);
			return 1;
		}
	}
	return 0;
}

/* A descriptor that stands for nothing: an empty memfd, or the run directory's empty
 * directory for directories. */
static int stand_in(int kind, const char *path)
{
	int fd = -1;
	if (kind == AT_FD_STD && path)
		fd = at_sys_open(path, O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
	if (fd < 0 && kind == AT_FD_STD && path)
		fd = at_sys_open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC, 0);
	if (fd < 0 && kind == AT_FD_DIR) {
		char dir[700];
		snprintf(dir, sizeof dir, "%s/" AT_REPLAY_EMPTY_DIR, at_proc.run_dir);
		fd = at_sys_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	}
	if (fd < 0)
		fd = (int)at_sys(SYS_memfd_create, "agenttrace-replay", MFD_CLOEXEC, 0);
	return fd;
}

static int fd_lock_owner; /* tid, 0: free */
static int fd_lock_depth;

void at_replay_fd_lock(void)
{
	int tid = at_sys_gettid(), free_lock = 0;
	if (__atomic_load_n(&fd_lock_owner, __ATOMIC_ACQUIRE) == tid) {
		fd_lock_depth++;
		return;
	}
	/* held for a few system calls at a time: yielding is enough */
	while (!__atomic_compare_exchange_n(&fd_lock_owner, &free_lock, tid, 0, __ATOMIC_ACQUIRE,
	                                    __ATOMIC_RELAXED)) {
		free_lock = 0;
		at_sys(SYS_sched_yield, 0, 0, 0);
	}
	fd_lock_depth = 1;
}

void at_replay_fd_unlock(void)
{
	if (--fd_lock_depth == 0)
		__atomic_store_n(&fd_lock_owner, 0, __ATOMIC_RELEASE);
}

void at_replay_reserve_fd(int fd, int kind, int cloexec, const char *path, int from)
{
	if (fd < 0)
		return;
	at_replay_fd_lock();
	int src = from >= 0 ? from : stand_in(kind, path);
	if (src >= 0 && src != fd)
		at_sys(SYS_dup3, src, fd, cloexec ? O_CLOEXEC : 0);
	else if (src == fd && !cloexec)
		at_sys(SYS_fcntl, fd, F_SETFD, 0);
	if (from < 0 && src >= 0 && src != fd)
		at_sys_close(src);
	at_fd_set(fd, kind);
	at_replay_fd_unlock();
}

void at_replay_release_fd(int fd)
{
	if (fd >= 0)
		at_sys_close(fd);
	at_fd_set(fd, AT_FD_NONE);
}
