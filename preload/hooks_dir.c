/* The file family, part three: directories.
 * A replayed DIR is a real one, opened on the run directory's empty directory with the
 * recorded descriptor number (so dirfd() and closedir() work as usual), and readdir serves
 * the recorded entries from a buffer kept per descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

/* Where replayed entries live until the next readdir on the same stream (POSIX keeps them
 * that long). Descriptors past the table share one buffer. */
#define DIRENT_SLOTS 1024
static struct dirent64 dirent_slot[DIRENT_SLOTS + 1];

/* Payload: d_ino, d_off (u64 each), d_type (u8), the name (no NUL). */
#define DIRENT_HEAD 17

static int dir_fd(DIR *d)
{
	return d ? dirfd(d) : -1;
}

AT_HOOK DIR *opendir(const char *path_arg)
{
	const char *path = path_arg; /* declared nonnull, yet programs pass NULL: keep the checks */
	__asm__("" : "+r"(path));
	int m = at_enter();
	if (m >= AT_MODE_RECORD && at_path_excluded(AT_FDCWD, path))
		m = AT_MODE_OFF;
	struct iovec part = AT_PART(path ? path : "", path ? strlen(path) + 1 : 1);
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		DIR *d = AT_REAL(opendir)(path);
		int e = d ? 0 : errno, fd = dir_fd(d);
		if (d)
			at_fd_set(fd, AT_FD_DIR);
		at_record_parts(AT_CALL_opendir, -1, d ? fd : -1, e, 0, 0, &part, 1, SIZE_MAX, t0);
		if (e)
			errno = e;
		return d;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_opendir, 0, 0);
		at_replay_check_paths(ev, path ? path : "", NULL);
		int fd = (int)at_replay_ret(ev), e = errno;
		if (fd < 0) {
			errno = e;
			return NULL;
		}
		at_replay_reserve_fd(fd, AT_FD_DIR, 1, NULL, -1);
		DIR *d = AT_REAL(fdopendir)(fd);
		if (!d)
			at_replay_refuse(ev, "replay could not open its stand-in directory");
		return d;
	}
	default:
		if (!AT_REAL(opendir)) {
			errno = ENOSYS;
			return NULL;
		}
		return AT_REAL(opendir)(path);
	}
}

AT_HOOK DIR *fdopendir(int fd)
{
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		DIR *d = AT_REAL(fdopendir)(fd);
		int e = d ? 0 : errno;
		if (d)
			at_fd_set(fd, AT_FD_DIR);
		at_record_parts(AT_CALL_fdopendir, fd, d ? 0 : -1, e, 0, 0, NULL, 0, 0, t0);
		if (e)
			errno = e;
		return d;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(AT_CALL_fdopendir, fd, 0, 0);
		if (at_replay_ret(ev) < 0)
			return NULL;
		DIR *d = AT_REAL(fdopendir)(fd);
		if (!d) { /* the stand-in was a file: the program opened it without O_DIRECTORY */
			int cloexec = (int)at_sys(SYS_fcntl, fd, F_GETFD, 0) > 0;
			at_replay_reserve_fd(fd, AT_FD_DIR, cloexec, NULL, -1);
			d = AT_REAL(fdopendir)(fd);
		}
		if (!d)
			at_replay_refuse(ev, "replay could not open its stand-in directory");
		at_fd_set(fd, AT_FD_DIR);
		return d;
	}
	default:
		if (!AT_REAL(fdopendir)) {
			errno = ENOSYS;
			return NULL;
		}
		return AT_REAL(fdopendir)(fd);
	}
}

AT_HOOK struct dirent *readdir(DIR *d)
{
	int fd = dir_fd(d), kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int saved = errno;
		errno = 0;
		struct dirent *de = AT_REAL(readdir)(d);
		int e = de ? 0 : errno; /* NULL and errno unchanged: the end */
		uint8_t head[DIRENT_HEAD];
		struct iovec parts[2] = {AT_PART(head, 0), AT_PART(NULL, 0)};
		if (de) {
			uint64_t ino = de->d_ino, off = (uint64_t)de->d_off;
			memcpy(head, &ino, 8);
			memcpy(head + 8, &off, 8);
			head[16] = de->d_type;
			parts[0].iov_len = DIRENT_HEAD;
			parts[1] = AT_PART(de->d_name, strlen(de->d_name));
		}
		at_record_parts(AT_CALL_readdir, fd,
		                de  ? 1
		                : e ? -1
		                    : 0,
		                e, 0, 0, parts, 2, SIZE_MAX, t0);
		errno = e ? e : saved;
		return de;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(AT_CALL_readdir, fd, 0, 0);
		if (at_replay_ret(ev) <= 0)
			return NULL; /* errno as recorded for an error, untouched at the end */
		uint32_t len;
		const uint8_t *p = at_rawrec_payload(ev, &len);
		struct dirent64 *de =
		    &dirent_slot[fd >= 0 && fd < DIRENT_SLOTS ? fd : DIRENT_SLOTS];
		size_t name = len > DIRENT_HEAD ? len - DIRENT_HEAD : 0;
		if (name >= sizeof de->d_name)
			name = sizeof de->d_name - 1;
		uint64_t ino = 0, off = 0;
		if (len >= DIRENT_HEAD) {
			memcpy(&ino, p, 8);
			memcpy(&off, p + 8, 8);
			de->d_type = p[16];
		}
		de->d_ino = ino;
		de->d_off = (off64_t)off;
		memcpy(de->d_name, p + DIRENT_HEAD, name);
		de->d_name[name] = '\0';
		de->d_reclen =
		    (unsigned short)((offsetof(struct dirent64, d_name) + name + 8) & ~7u);
		return (struct dirent *)de;
	}
	default: return AT_REAL(readdir) ? AT_REAL(readdir)(d) : NULL;
	}
}
AT_HOOK struct dirent64 *readdir64(DIR *d)
{
	return (struct dirent64 *)readdir(d); /* the same structure on x86_64 */
}

AT_HOOK int closedir(DIR *d)
{
	int fd = dir_fd(d), kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(closedir)(d);
		int e = AT_ERR_IF(r < 0);
		at_fd_set(fd, AT_FD_NONE);
		at_record_parts(AT_CALL_closedir, fd, r, e, 0, 0, NULL, 0, 0, t0);
		if (e)
			errno = e;
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(AT_CALL_closedir, fd, 0, 0);
		int r = (int)at_replay_ret(ev), e = errno;
		AT_REAL(closedir)(d); /* frees the DIR and closes the stand-in */
		at_fd_set(fd, AT_FD_NONE);
		if (r < 0)
			errno = e;
		return r;
	}
	default:
		at_fd_set(fd, AT_FD_NONE);
		if (!AT_REAL(closedir)) {
			errno = ENOSYS;
			return -1;
		}
		return AT_REAL(closedir)(d);
	}
}

AT_HOOK ssize_t getdents64(int fd, void *buf, size_t count)
{
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		ssize_t r = AT_REAL(getdents64)(fd, buf, count);
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(buf, r > 0 ? (size_t)r : 0);
		at_record_parts(AT_CALL_getdents64, fd, r, e, count, 0, &part, 1, SIZE_MAX, t0);
		if (e)
			errno = e;
		return r;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(AT_CALL_getdents64, fd, count, 0);
		at_replay_copy(ev, buf, count);
		return (ssize_t)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(getdents64))
			return (ssize_t)AT_LIBC_RESULT(at_sys(SYS_getdents64, fd, buf, count));
		return AT_REAL(getdents64)(fd, buf, count);
	}
}
