/* The file family, part one: opening, descriptors, reading and writing, mappings.
 *
 * Rules as in hooks_time.c, plus: a call on a descriptor the hooks do not know (a socket, a
 * pipe, an excluded file) passes through in both modes, so record and replay do the same
 * real thing with it. In replay, nothing here reads or changes a real file: results come
 * from the trace, writes are checked against it, and only writes to the descriptors the
 * program inherited (its terminal, its pipes) are also made for real, so the user sees
 * the program's output.
 * Names with a 64 suffix and the _FORTIFY_SOURCE variants are the same functions on
 * x86_64; they are aliases of the hooks below. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>

#include "preload_internal.h"
#include "../replay/order.h"
#include "step.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

#define ALIAS(name) __attribute__((alias(#name), visibility("default")))

/* ---- opening and closing ---- */

static int real_open_any(uint16_t call, int dirfd, const char *path, int flags, mode_t mode)
{
	if (call == AT_CALL_creat && AT_REAL(creat))
		return AT_REAL(creat)(path, mode);
	if (call == AT_CALL_open && AT_REAL(open))
		return AT_REAL(open)(path, flags, mode);
	if (call == AT_CALL_openat && AT_REAL(openat))
		return AT_REAL(openat)(dirfd, path, flags, mode);
	if (call == AT_CALL_creat)
		flags = O_CREAT | O_WRONLY | O_TRUNC;
	return (int)AT_LIBC_RESULT(at_sys6(SYS_openat, dirfd, (long)path, flags, mode, 0, 0));
}

static int open_hook(uint16_t call, int dirfd, const char *path, int flags, mode_t mode)
{
	int m = at_enter();
	if (m >= AT_MODE_RECORD && at_path_excluded(dirfd, path))
		m = AT_MODE_OFF;
	int kind = path ? at_fd_kind_for_path(path, flags) : AT_FD_FILE;
	int key = call == AT_CALL_openat ? dirfd : -1;
	struct iovec part = AT_PART(path, path ? strlen(path) + 1 : 0);
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = real_open_any(call, dirfd, path, flags, mode);
		int e = AT_ERR_IF(r < 0);
		if (r >= 0)
			at_fd_set(r, kind);
		at_record_parts(call, key, r, e, (uint32_t)flags, mode, &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(call, key, (uint32_t)flags, mode);
		at_replay_check_paths(ev, path, NULL);
		int r = (int)at_replay_ret(ev), e = errno;
		if (r >= 0)
			at_replay_reserve_fd(r, kind, flags & O_CLOEXEC, path, -1);
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default: return real_open_any(call, dirfd, path, flags, mode);
	}
}

/* The mode argument is there only when the flags create a file. */
#define OPEN_MODE(flags, mode)                                                                     \
	do {                                                                                       \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {                                           \
			va_list ap;                                                                \
			va_start(ap, flags);                                                       \
			mode = va_arg(ap, mode_t);                                                 \
			va_end(ap);                                                                \
		}                                                                                  \
	} while (0)

AT_HOOK int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return open_hook(AT_CALL_open, AT_FDCWD, path, flags, mode);
}
int open64(const char *path, int flags, ...) ALIAS(open);

AT_HOOK int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return open_hook(AT_CALL_openat, dirfd, path, flags, mode);
}
int openat64(int dirfd, const char *path, int flags, ...) ALIAS(openat);

AT_HOOK int __open_2(const char *path, int flags)
{
	return open_hook(AT_CALL_open, AT_FDCWD, path, flags, 0);
}
int __open64_2(const char *path, int flags) ALIAS(__open_2);

AT_HOOK int __openat_2(int dirfd, const char *path, int flags)
{
	return open_hook(AT_CALL_openat, dirfd, path, flags, 0);
}
int __openat64_2(int dirfd, const char *path, int flags) ALIAS(__openat_2);

AT_HOOK int creat(const char *path, mode_t mode)
{
	return open_hook(AT_CALL_creat, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
int creat64(const char *path, mode_t mode) ALIAS(creat);

AT_HOOK int close(int fd)
{
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(close)(fd);
		int e = AT_ERR_IF(r < 0);
		at_fd_set(fd, AT_FD_NONE); /* Linux frees the number even when close fails */
		at_epoll_forget(fd);
		at_record_parts(AT_CALL_close, fd, r, e, 0, 0, NULL, 0, 0, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(AT_CALL_close, fd, 0, 0);
		int r = (int)at_replay_ret(ev), e = errno;
		at_replay_release_fd(fd);
		at_epoll_forget(fd);
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default:
		at_fd_set(fd, AT_FD_NONE);
		at_epoll_forget(fd);
		if (!AT_REAL(close))
			return (int)AT_LIBC_RESULT(at_sys_close(fd));
		return AT_REAL(close)(fd);
	}
}

AT_HOOK int close_range(unsigned int first, unsigned int last, int flags)
{
	int m = at_enter();
	int r, e;
	if (m == AT_MODE_REPLAY) {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_close_range, first, last);
		r = (int)at_replay_ret(ev);
		e = r < 0 ? errno : 0;
		if (r == 0) /* the stand-ins go, and so do the real descriptors in the range */
			at_sys(SYS_close_range, first, last, flags);
	} else {
		uint64_t t0 = at_stamp();
		r = AT_REAL(close_range)
		        ? AT_REAL(close_range)(first, last, flags)
		        : (int)AT_LIBC_RESULT(at_sys(SYS_close_range, first, last, flags));
		e = AT_ERR_IF(r < 0);
		if (m == AT_MODE_RECORD)
			at_record(AT_CALL_close_range, r, e, first, last, NULL, 0, t0);
	}
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		for (unsigned int fd = first; fd <= last && fd < AT_FD_TABLE; fd++)
			at_fd_set((int)fd, AT_FD_NONE);
	RETURN_ERR(r, e);
}

/* ---- duplicating ---- */

/* The real dup, dup2 or dup3 (flags < 0: dup2), to a raw system call before resolution. */
static int real_dup_any(uint16_t call, int fd, int newfd, int flags)
{
	if (call == AT_CALL_dup)
		return AT_REAL(dup) ? AT_REAL(dup)(fd)
		                    : (int)AT_LIBC_RESULT(at_sys(SYS_dup, fd, 0, 0));
	if (call == AT_CALL_dup2)
		return AT_REAL(dup2) ? AT_REAL(dup2)(fd, newfd)
		                     : (int)AT_LIBC_RESULT(at_sys(SYS_dup2, fd, newfd, 0));
	return AT_REAL(dup3) ? AT_REAL(dup3)(fd, newfd, flags)
	                     : (int)AT_LIBC_RESULT(at_sys(SYS_dup3, fd, newfd, flags));
}

/* dup, dup2 and dup3: the copy is what the original was. */
static int dup_hook(uint16_t call, int fd, int newfd, int flags)
{
	int kind = 0;
	int m = at_enter_fd(fd, &kind);
	uint64_t a0 = newfd < 0 ? 0 : (uint64_t)newfd;
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = real_dup_any(call, fd, newfd, flags);
		int e = AT_ERR_IF(r < 0);
		if (r >= 0)
			at_fd_set(r, kind);
		at_record_parts(call, fd, r, e, a0, (uint32_t)flags, NULL, 0, 0, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(call, fd, a0, (uint32_t)flags);
		int r = (int)at_replay_ret(ev), e = errno;
		if (r >= 0 && r != fd)
			at_replay_reserve_fd(r, kind, flags & O_CLOEXEC, NULL, fd);
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default: {
		int r = real_dup_any(call, fd, newfd, flags);
		if (r >= 0 && r != fd)
			at_fd_set(r, AT_FD_NONE); /* a copy of something the hooks do not follow */
		return r;
	}
	}
}

AT_HOOK int dup(int fd)
{
	return dup_hook(AT_CALL_dup, fd, -1, 0);
}

AT_HOOK int dup2(int fd, int newfd)
{
	return dup_hook(AT_CALL_dup2, fd, newfd, 0);
}

AT_HOOK int dup3(int fd, int newfd, int flags)
{
	return dup_hook(AT_CALL_dup3, fd, newfd, flags);
}

/* ---- fcntl ---- */

static int is_lock_cmd(int cmd)
{
	return cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_GETLK ||
	       cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
}

/* The commands whose third argument is an int (a match key); the rest take none, or a
 * pointer, and what the register holds is noise. */
static int int_arg_cmd(int cmd)
{
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
	case F_SETFD:
	case F_SETFL:
	case F_SETOWN:
	case F_SETSIG:
	case F_SETLEASE:
	case F_NOTIFY:
	case F_SETPIPE_SZ:
	case F_ADD_SEALS: return 1;
	default: return 0;
	}
}

static int real_fcntl_any(int fd, int cmd, unsigned long arg)
{
	if (AT_REAL(fcntl))
		return AT_REAL(fcntl)(fd, cmd, arg);
	return (int)AT_LIBC_RESULT(at_sys(SYS_fcntl, fd, cmd, arg));
}

AT_HOOK int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long); /* an int or a pointer, by cmd */
	va_end(ap);
	int kind = 0;
	int m = at_enter_fd(fd, &kind);
	int dupfd = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
	int lock = is_lock_cmd(cmd);
	uint64_t a1 = int_arg_cmd(cmd) ? (uint32_t)arg : 0;
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = real_fcntl_any(fd, cmd, arg);
		int e = AT_ERR_IF(r < 0);
		if (dupfd && r >= 0)
			at_fd_set(r, kind);
		struct iovec part = AT_PART((void *)arg, lock && arg ? sizeof(struct flock) : 0);
		at_record_parts(AT_CALL_fcntl, fd, r, e, (uint32_t)cmd, a1, &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_fd(AT_CALL_fcntl, fd, (uint32_t)cmd, a1);
		if (lock && arg && (cmd == F_GETLK || cmd == F_OFD_GETLK))
			at_replay_copy(ev, (void *)arg, sizeof(struct flock));
		int r = (int)at_replay_ret(ev), e = errno;
		if (dupfd && r >= 0)
			at_replay_reserve_fd(r, kind, cmd == F_DUPFD_CLOEXEC, NULL, fd);
		if (cmd == F_SETFD && r == 0) /* close-on-exec matters to what a child inherits */
			at_sys(SYS_fcntl, fd, F_SETFD, arg);
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default: {
		int r = real_fcntl_any(fd, cmd, arg);
		if (dupfd && r >= 0)
			at_fd_set(r, AT_FD_NONE);
		return r;
	}
	}
}
int fcntl64(int fd, int cmd, ...) ALIAS(fcntl);

/* ---- seeking ---- */

AT_HOOK off_t lseek(int fd, off_t offset, int whence)
{
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		off_t r = AT_REAL(lseek)(fd, offset, whence);
		int e = AT_ERR_IF(r < 0);
		at_record_parts(AT_CALL_lseek, fd, r, e, (uint64_t)offset, (uint32_t)whence, NULL,
		                0, 0, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY:
		return (off_t)at_replay_ret(
		    at_replay_take_fd(AT_CALL_lseek, fd, (uint64_t)offset, (uint32_t)whence));
	default:
		if (!AT_REAL(lseek))
			return (off_t)AT_LIBC_RESULT(at_sys(SYS_lseek, fd, offset, whence));
		return AT_REAL(lseek)(fd, offset, whence);
	}
}
off_t lseek64(int fd, off_t offset, int whence) ALIAS(lseek);

/* ---- reading and writing ---- */

/* One reading or writing call and its arguments: the data is always in iovecs (one for
 * read and write), so record, replay and the checks have a single shape. */
struct io_call {
	uint16_t call;
	int fd;
	const struct iovec *iov;
	int iovcnt;
	off_t offset; /* positional calls */
	int flags;    /* preadv2, pwritev2 */
};

/* The real call, to a raw system call for read and write before resolution. */
static ssize_t real_io(const struct io_call *c)
{
	void *buf = c->iov[0].iov_base;
	size_t n = c->iov[0].iov_len;
	switch (c->call) {
	case AT_CALL_read:
		return AT_REAL(read) ? AT_REAL(read)(c->fd, buf, n)
		                     : AT_LIBC_RESULT(at_sys_read(c->fd, buf, n));
	case AT_CALL_pread:
		return AT_REAL(pread) ? AT_REAL(pread)(c->fd, buf, n, c->offset)
		                      : AT_LIBC_RESULT(at_sys6(SYS_pread64, c->fd, (long)buf,
		                                               (long)n, c->offset, 0, 0));
	case AT_CALL_readv: return AT_REAL(readv)(c->fd, c->iov, c->iovcnt);
	case AT_CALL_preadv: return AT_REAL(preadv)(c->fd, c->iov, c->iovcnt, c->offset);
	case AT_CALL_preadv2:
		return AT_REAL(preadv2)(c->fd, c->iov, c->iovcnt, c->offset, c->flags);
	case AT_CALL_write:
		return AT_REAL(write) ? AT_REAL(write)(c->fd, buf, n)
		                      : AT_LIBC_RESULT(at_sys_write(c->fd, buf, n));
	case AT_CALL_pwrite: return AT_REAL(pwrite)(c->fd, buf, n, c->offset);
	case AT_CALL_writev: return AT_REAL(writev)(c->fd, c->iov, c->iovcnt);
	case AT_CALL_pwritev: return AT_REAL(pwritev)(c->fd, c->iov, c->iovcnt, c->offset);
	default: return AT_REAL(pwritev2)(c->fd, c->iov, c->iovcnt, c->offset, c->flags);
	}
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;
	for (int i = 0; i < iovcnt && iov; i++)
		n += iov[i].iov_len;
	return n;
}

/* Copies the recorded data into the iovecs; returns the recorded result. */
static ssize_t replay_scatter(const struct at_rawrec *ev, const struct iovec *iov, int iovcnt)
{
	uint32_t len;
	const uint8_t *p = at_rawrec_payload(ev, &len);
	for (int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;
		memcpy(iov[i].iov_base, p, n);
		p += n;
		len -= (uint32_t)n;
	}
	return (ssize_t)at_replay_ret(ev);
}

/* Writes all `n` bytes for real; 0 once the reader went away (the program still sees the
 * recorded result). */
static int show_bytes(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		long w = at_sys_write(fd, p, n);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return 0;
		p += w;
		n -= (size_t)w;
	}
	return 1;
}

/* replay --mark-stdio: descriptors whose last shown byte was not a newline, so that a
 * line written in several calls is marked once, by the write that began it. */
static uint8_t mid_line[AT_FD_TABLE / 8];

/* Shows the bytes with "[KEY:STEP] " (this write's step) before each line they begin. The
 * recording was compared with the bytes as the program wrote them; only what reaches the
 * user is marked. Gathered in a small buffer, so a marked line still goes out in one
 * write where it fits. */
static void show_marked(int fd, const struct at_rawrec *ev, const struct iovec *iov, int iovcnt,
                        size_t count)
{
	char mark[AT_PROC_KEY_MAX + 32];
	int mlen = snprintf(mark, sizeof mark, "[%s:%llu] ", at_proc.key,
	                    (unsigned long long)at_replay_step_of(ev));
	if (mlen < 0 || (size_t)mlen >= sizeof mark)
		mlen = 0;
	uint8_t out[1024], bit = (uint8_t)(1u << (fd % 8));
	size_t n = 0;
	int mid = (__atomic_load_n(&mid_line[fd / 8], __ATOMIC_RELAXED) & bit) != 0;
	for (int i = 0; i < iovcnt && count; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t len = iov[i].iov_len < count ? iov[i].iov_len : count;
		count -= len;
		for (size_t j = 0; j < len; j++) {
			if (n + (size_t)mlen + 1 > sizeof out) {
				if (!show_bytes(fd, out, n))
					return;
				n = 0;
			}
			if (!mid) {
				memcpy(out + n, mark, (size_t)mlen);
				n += (size_t)mlen;
			}
			out[n++] = p[j];
			mid = p[j] != '\n';
		}
	}
	if (mid)
		__atomic_fetch_or(&mid_line[fd / 8], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&mid_line[fd / 8], (uint8_t)~bit, __ATOMIC_RELAXED);
	show_bytes(fd, out, n);
}

/* Replay writes what the program gave, for real, to its terminal or pipes. */
void at_replay_show(int fd, const struct at_rawrec *ev, const struct iovec *iov, int iovcnt,
                    size_t count)
{
	if (__builtin_expect(at_replay_mark_stdio(), 0) && fd >= 0 && fd < AT_FD_TABLE) {
		show_marked(fd, ev, iov, iovcnt, count);
		return;
	}
	for (int i = 0; i < iovcnt && count; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t n = iov[i].iov_len < count ? iov[i].iov_len : count;
		count -= n;
		if (!show_bytes(fd, p, n))
			return;
	}
}

/* Reads record the bytes that came in and replay copies them back; writes record the
 * bytes written and replay checks them, showing those to inherited descriptors. */
static ssize_t io_hook(struct io_call *c, int writes)
{
	int kind = 0;
	int m = at_enter_fd(c->fd, &kind);
	size_t count = iov_total(c->iov, c->iovcnt);
	uint16_t call =
	    kind == AT_FD_RANDOM && c->call == AT_CALL_read ? AT_CALL_read_random : c->call;
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		ssize_t r = real_io(c);
		int e = AT_ERR_IF(r < 0);
		at_record_parts(call, c->fd, r, e, count, (uint64_t)c->offset, c->iov, c->iovcnt,
		                r > 0 ? (size_t)r : 0, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		if (writes && kind == AT_FD_SOCKET) { /* a send: bytes compared, not the count */
			const struct at_rawrec *ev =
			    at_replay_take_sent(call, c->fd, count, (uint64_t)c->offset);
			ssize_t r = (ssize_t)at_replay_ret(ev);
			int e = errno;
			at_replay_check_sent(ev, 0, c->iov, c->iovcnt, count);
			RETURN_ERR(r, r < 0 ? e : 0);
		}
		/* A stdio stream's write to the user: taken at once, shown in turn
		 * (replay/output.c), so printf never waits for its turn holding the lock. */
		uint64_t index = UINT64_MAX;
		int output = writes && kind == AT_FD_STD && at_in_stdio_write;
		const struct at_rawrec *ev =
		    output ? at_replay_take_output(call, c->fd, count, (uint64_t)c->offset, &index)
		           : at_replay_take_fd(call, c->fd, count, (uint64_t)c->offset);
		if (!writes)
			return replay_scatter(ev, c->iov, c->iovcnt);
		ssize_t r = (ssize_t)at_replay_ret(ev);
		int e = errno;
		if (r > 0) {
			at_replay_check_data(ev, c->iov, c->iovcnt, (size_t)r);
			if (kind == AT_FD_STD &&
			    (index == UINT64_MAX ||
			     !at_output_keep(index, c->fd, ev, c->iov, c->iovcnt, (size_t)r))) {
				if (index != UINT64_MAX) /* no room: in turn, as before */
					at_replay_output_turn(index);
				at_replay_show(c->fd, ev, c->iov, c->iovcnt, (size_t)r);
			}
		}
		if (output) /* the recorded order may pass it now */
			at_replay_output_taken(index);
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default: return real_io(c);
	}
}

AT_HOOK ssize_t read(int fd, void *buf, size_t count)
{
	struct iovec v = {buf, count};
	struct io_call c = {AT_CALL_read, fd, &v, 1, 0, 0};
	return io_hook(&c, 0);
}

AT_HOOK ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
	if (count > buflen)
		abort(); /* what _FORTIFY_SOURCE does: the program overflowed its buffer */
	return read(fd, buf, count);
}

AT_HOOK ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	struct iovec v = {buf, count};
	struct io_call c = {AT_CALL_pread, fd, &v, 1, offset, 0};
	return io_hook(&c, 0);
}
ssize_t pread64(int fd, void *buf, size_t count, off_t offset) ALIAS(pread);

AT_HOOK ssize_t __pread_chk(int fd, void *buf, size_t count, off_t offset, size_t buflen)
{
	if (count > buflen)
		abort();
	return pread(fd, buf, count, offset);
}
ssize_t __pread64_chk(int fd, void *buf, size_t count, off_t offset, size_t buflen)
    ALIAS(__pread_chk);

AT_HOOK ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct io_call c = {AT_CALL_readv, fd, iov, iovcnt, 0, 0};
	return io_hook(&c, 0);
}

AT_HOOK ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	struct io_call c = {AT_CALL_preadv, fd, iov, iovcnt, offset, 0};
	return io_hook(&c, 0);
}
ssize_t preadv64(int fd, const struct iovec *iov, int iovcnt, off_t offset) ALIAS(preadv);

AT_HOOK ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	struct io_call c = {AT_CALL_preadv2, fd, iov, iovcnt, offset, flags};
	return io_hook(&c, 0);
}
ssize_t preadv64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
    ALIAS(preadv2);

AT_HOOK ssize_t write(int fd, const void *buf, size_t count)
{
	struct iovec v = {(void *)buf, count};
	struct io_call c = {AT_CALL_write, fd, &v, 1, 0, 0};
	return io_hook(&c, 1);
}

AT_HOOK ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	struct iovec v = {(void *)buf, count};
	struct io_call c = {AT_CALL_pwrite, fd, &v, 1, offset, 0};
	return io_hook(&c, 1);
}
ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) ALIAS(pwrite);

AT_HOOK ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct io_call c = {AT_CALL_writev, fd, iov, iovcnt, 0, 0};
	return io_hook(&c, 1);
}

AT_HOOK ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
	struct io_call c = {AT_CALL_pwritev, fd, iov, iovcnt, offset, 0};
	return io_hook(&c, 1);
}
ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset) ALIAS(pwritev);

AT_HOOK ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
	struct io_call c = {AT_CALL_pwritev2, fd, iov, iovcnt, offset, flags};
	return io_hook(&c, 1);
}
ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
    ALIAS(pwritev2);

/* ---- calls that only return a status ---- */

/* Record the status, replay the recorded one; the real call never runs in replay. */
#define STATUS_HOOK(name, fd, a0, a1, real_call)                                                   \
	do {                                                                                       \
		int kind_ = 0;                                                                     \
		switch (at_enter_fd(fd, &kind_)) {                                                 \
		case AT_MODE_RECORD: {                                                             \
			uint64_t t0_ = at_stamp();                                                 \
			int r_ = real_call;                                                        \
			int e_ =                                                                   \
			    AT_CALL_##name == AT_CALL_posix_fallocate ? 0 : AT_ERR_IF(r_ < 0);     \
			at_record_parts(AT_CALL_##name, fd, r_, e_, a0, a1, NULL, 0, 0, t0_);      \
			RETURN_ERR(r_, e_);                                                        \
		}                                                                                  \
		case AT_MODE_REPLAY:                                                               \
			return (int)at_replay_ret(at_replay_take_fd(AT_CALL_##name, fd, a0, a1));  \
		default:                                                                           \
			if (!AT_REAL(name)) {                                                      \
				errno = ENOSYS;                                                    \
				return -1;                                                         \
			}                                                                          \
			return real_call;                                                          \
		}                                                                                  \
	} while (0)

AT_HOOK int ftruncate(int fd, off_t len)
{
	STATUS_HOOK(ftruncate, fd, (uint64_t)len, 0, AT_REAL(ftruncate)(fd, len));
}
int ftruncate64(int fd, off_t len) ALIAS(ftruncate);

AT_HOOK int fsync(int fd)
{
	STATUS_HOOK(fsync, fd, 0, 0, AT_REAL(fsync)(fd));
}

AT_HOOK int fdatasync(int fd)
{
	STATUS_HOOK(fdatasync, fd, 0, 0, AT_REAL(fdatasync)(fd));
}

AT_HOOK int fallocate(int fd, int mode, off_t offset, off_t len)
{
	STATUS_HOOK(fallocate, fd, (uint64_t)len, (uint64_t)offset,
	            AT_REAL(fallocate)(fd, mode, offset, len));
}
int fallocate64(int fd, int mode, off_t offset, off_t len) ALIAS(fallocate);

AT_HOOK int posix_fallocate(int fd, off_t offset, off_t len)
{
	STATUS_HOOK(posix_fallocate, fd, (uint64_t)len, (uint64_t)offset,
	            AT_REAL(posix_fallocate)(fd, offset, len));
}
int posix_fallocate64(int fd, off_t offset, off_t len) ALIAS(posix_fallocate);

AT_HOOK int fchmod(int fd, mode_t mode)
{
	STATUS_HOOK(fchmod, fd, mode, 0, AT_REAL(fchmod)(fd, mode));
}

AT_HOOK int fchown(int fd, uid_t uid, gid_t gid)
{
	STATUS_HOOK(fchown, fd, uid, gid, AT_REAL(fchown)(fd, uid, gid));
}

AT_HOOK int futimens(int fd, const struct timespec times[2])
{
	STATUS_HOOK(futimens, fd, 0, 0, AT_REAL(futimens)(fd, times));
}

/* Replay does not follow: the descriptor stands for an empty directory, not the recorded
 * one, and the program's later path calls are answered from the trace anyway. */
AT_HOOK int fchdir(int fd)
{
	STATUS_HOOK(fchdir, fd, 0, 0, AT_REAL(fchdir)(fd));
}

/* ---- terminals ---- */

AT_HOOK int isatty(int fd)
{
	STATUS_HOOK(isatty, fd, 0, 0, AT_REAL(isatty)(fd));
}

/* The bytes an ioctl request writes back, for the requests programs ask of files and
 * terminals. */
static size_t ioctl_out_size(unsigned long req)
{
	switch (req) {
	case TCGETS: return 36; /* the kernel's struct termios */
	case TIOCGWINSZ: return sizeof(struct winsize);
	case FIONREAD:
	case TIOCGPGRP:
	case TIOCGSID: return sizeof(int);
	}
	if ((req >> _IOC_DIRSHIFT) & _IOC_READ)
		return (req >> _IOC_SIZESHIFT) & _IOC_SIZEMASK;
	return 0;
}

AT_HOOK int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(ioctl)(fd, req, arg);
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(arg, r >= 0 && arg ? ioctl_out_size(req) : 0);
		at_record_parts(AT_CALL_ioctl, fd, r, e, req, 0, &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(AT_CALL_ioctl, fd, req, 0);
		if (arg)
			at_replay_copy(ev, arg, ioctl_out_size(req));
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(ioctl))
			return (int)AT_LIBC_RESULT(at_sys(SYS_ioctl, fd, req, arg));
		return AT_REAL(ioctl)(fd, req, arg);
	}
}

AT_HOOK int tcgetattr(int fd, struct termios *t)
{
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(tcgetattr)(fd, t);
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(t, r == 0 ? sizeof *t : 0);
		at_record_parts(AT_CALL_tcgetattr, fd, r, e, 0, 0, &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(AT_CALL_tcgetattr, fd, 0, 0);
		at_replay_copy(ev, t, sizeof *t);
		return (int)at_replay_ret(ev);
	}
	default:
		if (!AT_REAL(tcgetattr)) {
			errno = ENOSYS;
			return -1;
		}
		return AT_REAL(tcgetattr)(fd, t);
	}
}

/* ---- mappings ---- */

AT_HOOK void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
	int kind = 0;
	int m = (flags & MAP_ANONYMOUS) || fd < 0 ? AT_MODE_OFF : at_enter_fd(fd, &kind);
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		void *p = AT_REAL(mmap)(addr, len, prot, flags, fd, offset);
		int e = p == MAP_FAILED ? errno : 0;
		/* What the program will see there: the file's bytes, up to its end. */
		struct stat st;
		size_t avail = 0;
		if (p != MAP_FAILED && (prot & PROT_READ) && at_sys(SYS_fstat, fd, &st, 0) == 0 &&
		    st.st_size > offset)
			avail = (uint64_t)(st.st_size - offset) < len
			            ? (size_t)(st.st_size - offset)
			            : len;
		uint32_t head[2] = {(uint32_t)prot, (uint32_t)flags};
		struct iovec parts[2] = {AT_PART(head, sizeof head), AT_PART(p, avail)};
		at_record_parts(AT_CALL_mmap, fd, p == MAP_FAILED ? -1 : (int64_t)(uintptr_t)p, e,
		                len, (uint64_t)offset, parts, 2, SIZE_MAX, t0);
		RETURN_ERR(p, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_fd(AT_CALL_mmap, fd, len, (uint64_t)offset);
		int64_t r = at_replay_ret(ev);
		if (r == -1)
			return MAP_FAILED;
		if ((flags & MAP_SHARED) && (prot & PROT_WRITE))
			at_replay_refuse(ev,
			                 "the program maps a file shared and writable; its writes "
			                 "would reach the real file, so replay cannot serve it");
		/* An anonymous copy of the recorded bytes, where the recording had the file. */
		int fix = (flags & MAP_FIXED) ? MAP_FIXED : MAP_FIXED_NOREPLACE;
		void *want = (void *)(uintptr_t)r;
		void *q = at_sys_mmap(want, len, PROT_READ | PROT_WRITE,
		                      MAP_PRIVATE | MAP_ANONYMOUS | fix, -1, 0);
		if ((unsigned long)q >= -4096ul)
			q = at_sys_mmap(NULL, len, PROT_READ | PROT_WRITE,
			                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if ((unsigned long)q >= -4096ul) {
			errno = ENOMEM;
			return MAP_FAILED;
		}
		uint32_t plen;
		const uint8_t *data = at_rawrec_payload(ev, &plen);
		if (plen > 8)
			memcpy(q, data + 8, plen - 8 < len ? plen - 8 : len);
		at_sys(SYS_mprotect, q, len, prot);
		return q;
	}
	default:
		if (!AT_REAL(mmap)) {
			long p = at_sys6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, offset);
			return (void *)AT_LIBC_RESULT(p);
		}
		return AT_REAL(mmap)(addr, len, prot, flags, fd, offset);
	}
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t offset) ALIAS(mmap);

/* ---- copies inside the kernel ---- */

/* These move data between descriptors without it passing through the program, so there
 * is nothing to record. On a descriptor the hooks follow they fail the way an older
 * kernel would, and programs fall back to read and write, which are recorded. */
static ssize_t (*real_copy_file_range_fn)(int, off_t *, int, off_t *, size_t, unsigned int);
static ssize_t (*real_sendfile_fn)(int, int, off_t *, size_t);

AT_HOOK ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len,
                                unsigned int flags)
{
	if (at_enter() >= AT_MODE_RECORD && (at_fd_kind(in) || at_fd_kind(out))) {
		errno = ENOSYS;
		return -1;
	}
	if (!real_copy_file_range_fn)
		*(void **)&real_copy_file_range_fn = at_resolve("copy_file_range");
	if (!real_copy_file_range_fn) {
		errno = ENOSYS;
		return -1;
	}
	return real_copy_file_range_fn(in, in_off, out, out_off, len, flags);
}

AT_HOOK ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
	if (at_enter() >= AT_MODE_RECORD && (at_fd_kind(in) || at_fd_kind(out))) {
		errno = EINVAL;
		return -1;
	}
	if (!real_sendfile_fn)
		*(void **)&real_sendfile_fn = at_resolve("sendfile");
	if (!real_sendfile_fn) {
		errno = ENOSYS;
		return -1;
	}
	return real_sendfile_fn(out, in, offset, count);
}
ssize_t sendfile64(int out, int in, off_t *offset, size_t count) ALIAS(sendfile);
