/* The file family, part two: calls that name files by path. Metadata (the stat family,
 * access, readlink, getcwd), changes (rename, unlink, mkdir, chmod, ...) and temporary
 * files. Replay checks the path against the recording, gives back the recorded result
 * and changes nothing on disk.
 * The pre-2.33 names (__xstat and friends) take a version argument that is always the
 * kernel's struct stat on x86_64, so they share the hooks of their modern names. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>

#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

#define ALIAS(name) __attribute__((alias(#name), visibility("default")))

/* How a path call's result is stored after its paths. */
enum out_kind {
	OUT_NONE,   /* the status is the result */
	OUT_STRUCT, /* `out_len` bytes at `out` when the call succeeded */
	OUT_RET,    /* ret bytes at `out` (readlink) */
};

struct path_call {
	uint16_t call;
	int dirfd; /* the descriptor the paths are relative to, -1 when the call takes none */
	const char *p1, *p2;
	uint64_t a0, a1;
	void *out;
	size_t out_len;
	enum out_kind out_kind;
};

/* One call through the rules: `real` makes it (record, pass-through). */
static long path_hook(const struct path_call *c, long (*real)(const struct path_call *))
{
	int m = at_enter();
	if (m >= AT_MODE_RECORD && (at_path_excluded(c->dirfd < 0 ? AT_FDCWD : c->dirfd, c->p1) ||
	                            (c->p2 && at_path_excluded(AT_FDCWD, c->p2))))
		m = AT_MODE_OFF;
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		long r = real(c);
		int e = AT_ERR_IF(r < 0);
		size_t out = c->out_kind == OUT_STRUCT ? (r >= 0 ? c->out_len : 0)
		             : c->out_kind == OUT_RET  ? (r > 0 ? (size_t)r : 0)
		                                       : 0;
		struct iovec parts[3] = {AT_PART(c->p1 ? c->p1 : "", c->p1 ? strlen(c->p1) + 1 : 1),
		                         AT_PART(c->p2, c->p2 ? strlen(c->p2) + 1 : 0),
		                         AT_PART(c->out, out)};
		at_record_parts(c->call, c->dirfd, r, e, c->a0, c->a1, parts, 3, SIZE_MAX, t0);
		if (e)
			errno = e;
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(c->call, c->dirfd, c->a0, c->a1);
		at_replay_check_paths(ev, c->p1 ? c->p1 : "", c->p2);
		uint32_t len;
		const uint8_t *res = at_replay_result(ev, &len);
		if (c->out && c->out_kind != OUT_NONE && len)
			memcpy(c->out, res, len < c->out_len ? len : c->out_len);
		return (long)at_replay_ret(ev);
	}
	default: return real(c);
	}
}

#define NO_REAL(name)                                                                              \
	if (!AT_REAL(name)) {                                                                      \
		errno = ENOSYS;                                                                    \
		return -1;                                                                         \
	}

/* ---- metadata ---- */

static long real_stat_fn(const struct path_call *c)
{
	if (!AT_REAL(stat))
		return AT_LIBC_RESULT(
		    at_sys6(SYS_newfstatat, AT_FDCWD, (long)c->p1, (long)c->out, 0, 0, 0));
	return AT_REAL(stat)(c->p1, c->out);
}
AT_HOOK int stat(const char *path, struct stat *st)
{
	struct path_call c = {AT_CALL_stat, -1, path, NULL, 0, 0, st, sizeof *st, OUT_STRUCT};
	return (int)path_hook(&c, real_stat_fn);
}
AT_HOOK int stat64(const char *path, struct stat64 *st)
{
	return stat(path, (struct stat *)st); /* the same structure on x86_64 */
}
AT_HOOK int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return stat(path, st);
}
int __xstat64(int ver, const char *path, struct stat *st) ALIAS(__xstat);

static long real_lstat_fn(const struct path_call *c)
{
	if (!AT_REAL(lstat))
		return AT_LIBC_RESULT(at_sys6(SYS_newfstatat, AT_FDCWD, (long)c->p1, (long)c->out,
		                              AT_SYMLINK_NOFOLLOW, 0, 0));
	return AT_REAL(lstat)(c->p1, c->out);
}
AT_HOOK int lstat(const char *path, struct stat *st)
{
	struct path_call c = {AT_CALL_lstat, -1, path, NULL, 0, 0, st, sizeof *st, OUT_STRUCT};
	return (int)path_hook(&c, real_lstat_fn);
}
AT_HOOK int lstat64(const char *path, struct stat64 *st)
{
	return lstat(path, (struct stat *)st); /* the same structure on x86_64 */
}
AT_HOOK int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return lstat(path, st);
}
int __lxstat64(int ver, const char *path, struct stat *st) ALIAS(__lxstat);

static long real_fstatat_fn(const struct path_call *c)
{
	if (!AT_REAL(fstatat))
		return AT_LIBC_RESULT(at_sys6(SYS_newfstatat, c->dirfd, (long)c->p1, (long)c->out,
		                              (long)c->a0, 0, 0));
	return AT_REAL(fstatat)(c->dirfd, c->p1, c->out, (int)c->a0);
}
AT_HOOK int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	struct path_call c = {AT_CALL_fstatat, dirfd,     path, NULL, (uint32_t)flags, 0, st,
	                      sizeof *st,      OUT_STRUCT};
	return (int)path_hook(&c, real_fstatat_fn);
}
AT_HOOK int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags); /* the same structure on x86_64 */
}
AT_HOOK int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return fstatat(dirfd, path, st, flags);
}
int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags)
    ALIAS(__fxstatat);

static long real_statx_fn(const struct path_call *c)
{
	NO_REAL(statx);
	return AT_REAL(statx)(c->dirfd, c->p1, (int)c->a0, (unsigned)c->a1, c->out);
}
AT_HOOK int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	struct path_call c = {AT_CALL_statx, dirfd, path,        NULL,      (uint32_t)flags,
	                      mask,          stx,   sizeof *stx, OUT_STRUCT};
	return (int)path_hook(&c, real_statx_fn);
}

/* fstat names a descriptor, not a path: it follows the descriptor rules. */
AT_HOOK int fstat(int fd, struct stat *st)
{
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(fstat)(fd, st);
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(st, r == 0 ? sizeof *st : 0);
		at_record_parts(AT_CALL_fstat, fd, r, e, 0, 0, &part, 1, SIZE_MAX, t0);
		if (e)
			errno = e;
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(AT_CALL_fstat, fd, 0, 0);
		at_replay_copy(ev, st, sizeof *st);
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(fstat))
			return (int)AT_LIBC_RESULT(at_sys(SYS_fstat, fd, st, 0));
		return AT_REAL(fstat)(fd, st);
	}
}
AT_HOOK int fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st); /* the same structure on x86_64 */
}
AT_HOOK int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}
int __fxstat64(int ver, int fd, struct stat *st) ALIAS(__fxstat);

static long real_access_fn(const struct path_call *c)
{
	NO_REAL(access);
	return AT_REAL(access)(c->p1, (int)c->a0);
}
AT_HOOK int access(const char *path, int mode)
{
	struct path_call c = {AT_CALL_access, -1, path, NULL, (uint32_t)mode, 0, NULL, 0, OUT_NONE};
	return (int)path_hook(&c, real_access_fn);
}

static long real_faccessat_fn(const struct path_call *c)
{
	NO_REAL(faccessat);
	return AT_REAL(faccessat)(c->dirfd, c->p1, (int)c->a0, (int)c->a1);
}
AT_HOOK int faccessat(int dirfd, const char *path, int mode, int flags)
{
	struct path_call c = {AT_CALL_faccessat, dirfd, path, NULL,    (uint32_t)mode,
	                      (uint32_t)flags,   NULL,  0,    OUT_NONE};
	return (int)path_hook(&c, real_faccessat_fn);
}

static long real_readlink_fn(const struct path_call *c)
{
	NO_REAL(readlink);
	return AT_REAL(readlink)(c->p1, c->out, c->out_len);
}
AT_HOOK ssize_t readlink(const char *path, char *buf, size_t len)
{
	struct path_call c = {AT_CALL_readlink, -1, path, NULL, len, 0, buf, len, OUT_RET};
	return path_hook(&c, real_readlink_fn);
}
AT_HOOK ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort(); /* what _FORTIFY_SOURCE does */
	return readlink(path, buf, len);
}

static long real_readlinkat_fn(const struct path_call *c)
{
	NO_REAL(readlinkat);
	return AT_REAL(readlinkat)(c->dirfd, c->p1, c->out, c->out_len);
}
AT_HOOK ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	struct path_call c = {AT_CALL_readlinkat, dirfd, path, NULL, len, 0, buf, len, OUT_RET};
	return path_hook(&c, real_readlinkat_fn);
}
AT_HOOK ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return readlinkat(dirfd, path, buf, len);
}

#undef malloc /* getcwd(NULL, n) asks libc to allocate: replay does it for the program */
/* getcwd: the result is the directory's name, NUL included; ret is its length. A NULL
 * buffer asks libc to allocate one, which replay does too. */
AT_HOOK char *getcwd(char *buf, size_t size)
{
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		char *r = AT_REAL(getcwd)(buf, size);
		int e = r ? 0 : errno;
		size_t n = r ? strlen(r) + 1 : 0;
		struct iovec part = AT_PART(r, n);
		at_record_parts(AT_CALL_getcwd, -1, r ? (int64_t)n : -1, e, buf ? size : 0, 0,
		                &part, 1, SIZE_MAX, t0);
		if (e)
			errno = e;
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_getcwd, buf ? size : 0, 0);
		int64_t n = at_replay_ret(ev);
		if (n < 0)
			return NULL;
		if (!buf) {
			size_t want = size > (size_t)n ? size : (size_t)n;
			buf = malloc(want);
			if (!buf) {
				errno = ENOMEM;
				return NULL;
			}
		}
		at_replay_copy(ev, buf, (size_t)n);
		return buf;
	}
	default:
		if (!AT_REAL(getcwd)) {
			errno = ENOSYS;
			return NULL;
		}
		return AT_REAL(getcwd)(buf, size);
	}
}
#define malloc do_not_allocate_in_hooks

static long real_chdir_fn(const struct path_call *c)
{
	NO_REAL(chdir);
	return AT_REAL(chdir)(c->p1);
}
AT_HOOK int chdir(const char *path)
{
	struct path_call c = {AT_CALL_chdir, -1, path, NULL, 0, 0, NULL, 0, OUT_NONE};
	int r = (int)path_hook(&c, real_chdir_fn);
	/* Replay follows for real when it can, for what the hooks do not cover (the loader,
	 * relative paths of excluded files); the program sees the recorded result. */
	if (r == 0 && at_proc.mode == AT_MODE_REPLAY)
		at_sys(SYS_chdir, path, 0, 0);
	return r;
}

/* ---- changes: recorded, and in replay only reported ---- */

static long real_rename_fn(const struct path_call *c)
{
	NO_REAL(rename);
	return AT_REAL(rename)(c->p1, c->p2);
}
AT_HOOK int rename(const char *from, const char *to)
{
	struct path_call c = {AT_CALL_rename, -1, from, to, 0, 0, NULL, 0, OUT_NONE};
	return (int)path_hook(&c, real_rename_fn);
}

/* renameat and friends have a second directory fd; it is a match key (a0). */
static long real_renameat2_fn(const struct path_call *c)
{
	if (c->call == AT_CALL_renameat) {
		NO_REAL(renameat);
		return AT_REAL(renameat)(c->dirfd, c->p1, (int)(int32_t)c->a0, c->p2);
	}
	NO_REAL(renameat2);
	return AT_REAL(renameat2)(c->dirfd, c->p1, (int)(int32_t)c->a0, c->p2, (unsigned)c->a1);
}
AT_HOOK int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	struct path_call c = {AT_CALL_renameat, fromfd, from, to, (uint32_t)tofd, 0, NULL, 0,
	                      OUT_NONE};
	return (int)path_hook(&c, real_renameat2_fn);
}
AT_HOOK int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
	struct path_call c = {AT_CALL_renameat2, fromfd, from, to, (uint32_t)tofd, flags, NULL, 0,
	                      OUT_NONE};
	return (int)path_hook(&c, real_renameat2_fn);
}

static long real_link_fn(const struct path_call *c)
{
	switch (c->call) {
	case AT_CALL_symlink: NO_REAL(symlink); return AT_REAL(symlink)(c->p1, c->p2);
	case AT_CALL_symlinkat:
		NO_REAL(symlinkat);
		return AT_REAL(symlinkat)(c->p1, c->dirfd, c->p2);
	case AT_CALL_link: NO_REAL(link); return AT_REAL(link)(c->p1, c->p2);
	default:
		NO_REAL(linkat);
		return AT_REAL(linkat)(c->dirfd, c->p1, (int)(int32_t)c->a0, c->p2, (int)c->a1);
	}
}
AT_HOOK int symlink(const char *target, const char *path)
{
	struct path_call c = {AT_CALL_symlink, -1, target, path, 0, 0, NULL, 0, OUT_NONE};
	return (int)path_hook(&c, real_link_fn);
}
AT_HOOK int symlinkat(const char *target, int dirfd, const char *path)
{
	struct path_call c = {AT_CALL_symlinkat, dirfd, target, path, 0, 0, NULL, 0, OUT_NONE};
	return (int)path_hook(&c, real_link_fn);
}
AT_HOOK int link(const char *from, const char *to)
{
	struct path_call c = {AT_CALL_link, -1, from, to, 0, 0, NULL, 0, OUT_NONE};
	return (int)path_hook(&c, real_link_fn);
}
AT_HOOK int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
	struct path_call c = {AT_CALL_linkat,  fromfd, from, to,      (uint32_t)tofd,
	                      (uint32_t)flags, NULL,   0,    OUT_NONE};
	return (int)path_hook(&c, real_link_fn);
}

/* The one-path changes, told apart by c->call. */
static long real_change_fn(const struct path_call *c)
{
	const char *p = c->p1;
	int d = c->dirfd;
	switch (c->call) {
	case AT_CALL_unlink: NO_REAL(unlink); return AT_REAL(unlink)(p);
	case AT_CALL_unlinkat: NO_REAL(unlinkat); return AT_REAL(unlinkat)(d, p, (int)c->a0);
	case AT_CALL_remove: NO_REAL(remove); return AT_REAL(remove)(p);
	case AT_CALL_mkdir: NO_REAL(mkdir); return AT_REAL(mkdir)(p, (mode_t)c->a0);
	case AT_CALL_mkdirat: NO_REAL(mkdirat); return AT_REAL(mkdirat)(d, p, (mode_t)c->a0);
	case AT_CALL_rmdir: NO_REAL(rmdir); return AT_REAL(rmdir)(p);
	case AT_CALL_truncate: NO_REAL(truncate); return AT_REAL(truncate)(p, (off_t)c->a0);
	case AT_CALL_chmod: NO_REAL(chmod); return AT_REAL(chmod)(p, (mode_t)c->a0);
	case AT_CALL_fchmodat:
		NO_REAL(fchmodat);
		return AT_REAL(fchmodat)(d, p, (mode_t)c->a0, (int)c->a1);
	case AT_CALL_chown:
		NO_REAL(chown);
		return AT_REAL(chown)(p, (uid_t)(c->a0 >> 32), (gid_t)c->a0);
	case AT_CALL_lchown:
		NO_REAL(lchown);
		return AT_REAL(lchown)(p, (uid_t)(c->a0 >> 32), (gid_t)c->a0);
	case AT_CALL_fchownat:
		NO_REAL(fchownat);
		return AT_REAL(fchownat)(d, p, (uid_t)(c->a0 >> 32), (gid_t)c->a0, (int)c->a1);
	case AT_CALL_utime: NO_REAL(utime); return AT_REAL(utime)(p, c->out);
	case AT_CALL_utimes: NO_REAL(utimes); return AT_REAL(utimes)(p, c->out);
	case AT_CALL_utimensat:
		NO_REAL(utimensat);
		return AT_REAL(utimensat)(d, p, c->out, (int)c->a1);
	}
	errno = ENOSYS;
	return -1;
}

static int change(uint16_t call, int dirfd, const char *path, uint64_t a0, uint64_t a1,
                  const void *times)
{
	/* `times` is an input: it rides in `out` with OUT_NONE, so nothing is copied back. */
	struct path_call c = {call, dirfd, path, NULL, a0, a1, (void *)times, 0, OUT_NONE};
	return (int)path_hook(&c, real_change_fn);
}

AT_HOOK int unlink(const char *path)
{
	return change(AT_CALL_unlink, -1, path, 0, 0, NULL);
}
AT_HOOK int unlinkat(int dirfd, const char *path, int flags)
{
	return change(AT_CALL_unlinkat, dirfd, path, (uint32_t)flags, 0, NULL);
}
AT_HOOK int remove(const char *path)
{
	return change(AT_CALL_remove, -1, path, 0, 0, NULL);
}
AT_HOOK int mkdir(const char *path, mode_t mode)
{
	return change(AT_CALL_mkdir, -1, path, mode, 0, NULL);
}
AT_HOOK int mkdirat(int dirfd, const char *path, mode_t mode)
{
	return change(AT_CALL_mkdirat, dirfd, path, mode, 0, NULL);
}
AT_HOOK int rmdir(const char *path)
{
	return change(AT_CALL_rmdir, -1, path, 0, 0, NULL);
}
AT_HOOK int truncate(const char *path, off_t len)
{
	return change(AT_CALL_truncate, -1, path, (uint64_t)len, 0, NULL);
}
int truncate64(const char *path, off_t len) ALIAS(truncate);
AT_HOOK int chmod(const char *path, mode_t mode)
{
	return change(AT_CALL_chmod, -1, path, mode, 0, NULL);
}
AT_HOOK int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	return change(AT_CALL_fchmodat, dirfd, path, mode, (uint32_t)flags, NULL);
}
AT_HOOK int chown(const char *path, uid_t uid, gid_t gid)
{
	return change(AT_CALL_chown, -1, path, (uint64_t)uid << 32 | gid, 0, NULL);
}
AT_HOOK int lchown(const char *path, uid_t uid, gid_t gid)
{
	return change(AT_CALL_lchown, -1, path, (uint64_t)uid << 32 | gid, 0, NULL);
}
AT_HOOK int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	return change(AT_CALL_fchownat, dirfd, path, (uint64_t)uid << 32 | gid, (uint32_t)flags,
	              NULL);
}
AT_HOOK int utime(const char *path, const struct utimbuf *times)
{
	return change(AT_CALL_utime, -1, path, 0, 0, times);
}
AT_HOOK int utimes(const char *path, const struct timeval times[2])
{
	return change(AT_CALL_utimes, -1, path, 0, 0, times);
}
AT_HOOK int utimensat(int dirfd, const char *path, const struct timespec times[2], int flags)
{
	return change(AT_CALL_utimensat, dirfd, path, 0, (uint32_t)flags, times);
}

/* ---- temporary files: the recorded name is put back into the template ---- */

static long real_mktemp_fn(const struct path_call *c)
{
	char *t = c->out;
	int flags = (int)c->a0, suffix = (int)c->a1;
	switch (c->call) {
	case AT_CALL_mkstemp: NO_REAL(mkstemp); return AT_REAL(mkstemp)(t);
	case AT_CALL_mkostemp: NO_REAL(mkostemp); return AT_REAL(mkostemp)(t, flags);
	case AT_CALL_mkstemps: NO_REAL(mkstemps); return AT_REAL(mkstemps)(t, suffix);
	case AT_CALL_mkostemps: NO_REAL(mkostemps); return AT_REAL(mkostemps)(t, suffix, flags);
	default: NO_REAL(mkdtemp); return AT_REAL(mkdtemp)(t) ? 0 : -1;
	}
}

static int mktemp_hook(uint16_t call, char *tmpl, int flags, int suffix)
{
	size_t n = tmpl ? strlen(tmpl) + 1 : 0;
	/* The template is not a match key (its X's differ); the name made is the result. */
	struct path_call c = {call, -1, NULL,    NULL, (uint32_t)flags, (uint32_t)suffix,
	                      tmpl, n,  OUT_NONE};
	int m = at_enter();
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		long r = real_mktemp_fn(&c);
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(tmpl, r >= 0 ? n : 0);
		if (r >= 0 && call != AT_CALL_mkdtemp)
			at_fd_set((int)r, AT_FD_FILE);
		at_record_parts(call, -1, r, e, c.a0, c.a1, &part, 1, SIZE_MAX, t0);
		if (e)
			errno = e;
		return (int)r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(call, c.a0, c.a1);
		int r = (int)at_replay_ret(ev), e = errno;
		uint32_t len;
		const uint8_t *name = at_rawrec_payload(ev, &len);
		if (r >= 0 && len != n)
			at_replay_refuse(ev, "the template for a temporary file has another length "
			                     "than in the recording");
		if (r >= 0)
			memcpy(tmpl, name, n);
		if (r >= 0 && call != AT_CALL_mkdtemp)
			at_replay_reserve_fd(r, AT_FD_FILE, flags & O_CLOEXEC, NULL, -1);
		if (r < 0)
			errno = e;
		return r;
	}
	default: return (int)real_mktemp_fn(&c);
	}
}

AT_HOOK int mkstemp(char *tmpl)
{
	return mktemp_hook(AT_CALL_mkstemp, tmpl, 0, 0);
}
int mkstemp64(char *tmpl) ALIAS(mkstemp);
AT_HOOK int mkostemp(char *tmpl, int flags)
{
	return mktemp_hook(AT_CALL_mkostemp, tmpl, flags, 0);
}
int mkostemp64(char *tmpl, int flags) ALIAS(mkostemp);
AT_HOOK int mkstemps(char *tmpl, int suffixlen)
{
	return mktemp_hook(AT_CALL_mkstemps, tmpl, 0, suffixlen);
}
int mkstemps64(char *tmpl, int suffixlen) ALIAS(mkstemps);
AT_HOOK int mkostemps(char *tmpl, int suffixlen, int flags)
{
	return mktemp_hook(AT_CALL_mkostemps, tmpl, flags, suffixlen);
}
int mkostemps64(char *tmpl, int suffixlen, int flags) ALIAS(mkostemps);
AT_HOOK char *mkdtemp(char *tmpl)
{
	return mktemp_hook(AT_CALL_mkdtemp, tmpl, 0, 0) == 0 ? tmpl : NULL;
}
