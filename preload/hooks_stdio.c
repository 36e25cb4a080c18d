/* stdio: streams whose reads and writes the hooks see.
 *
 * glibc's stdio reads and writes through internal calls that no read() hook sees. So in
 * record and replay, fopen, fdopen and freopen make the stream with fopencookie(), whose
 * read, write, seek and close functions call the hooks: fread, fgets, getline, fscanf,
 * fwrite and fprintf then work unchanged and every byte goes through a recorded read or
 * write. stdin, stdout and stderr are replaced by such streams when the preload starts,
 * with the buffering glibc would have chosen (from the recorded isatty()).
 * The stream's _fileno is set to its descriptor, so fileno() answers as usual.
 * Known limit: a cookie stream is byte-oriented, so wide-character output (wprintf) to
 * a replaced stream fails with an error instead of printing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "preload_internal.h"
#include "sys_raw.h"

/* The descriptor behind each cookie stream, in a fixed table: hooks do not allocate. A
 * process with more streams open than this gets plain (unrecorded) ones for the rest. */
#define COOKIES 4096
static struct cookie {
	int used;
	int fd;
	FILE *fp;
} cookies[COOKIES];

static FILE *(*real_fopen_fn)(const char *, const char *);
static FILE *(*real_fdopen_fn)(int, const char *);
static FILE *(*real_freopen_fn)(const char *, const char *, FILE *);

static struct cookie *cookie_take(int fd)
{
	/* No load before the exchange: at start-up the table's first access is then a store,
	 * one page fault instead of two. */
	for (int i = 0; i < COOKIES; i++) {
		int expect = 0;
		if (__atomic_compare_exchange_n(&cookies[i].used, &expect, 1, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_RELAXED)) {
			cookies[i].fd = fd;
			return &cookies[i];
		}
	}
	return NULL;
}

static struct cookie *cookie_of(FILE *fp)
{
	for (int i = 0; i < COOKIES; i++)
		if (__atomic_load_n(&cookies[i].used, __ATOMIC_ACQUIRE) && cookies[i].fp == fp)
			return &cookies[i];
	return NULL;
}

static ssize_t ck_read(void *c, char *buf, size_t n)
{
	ssize_t r = read(((struct cookie *)c)->fd, buf, n);
	return r;
}

/* Writes everything, as glibc's own file streams do; 0 on an error (the stream records
 * it). */
AT_TLS int at_in_stdio_write;

static ssize_t ck_write(void *c, const char *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		at_in_stdio_write++;
		ssize_t r = write(((struct cookie *)c)->fd, buf + done, n - done);
		at_in_stdio_write--;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static int ck_seek(void *c, off64_t *pos, int whence)
{
	off_t r = lseek(((struct cookie *)c)->fd, *pos, whence);
	if (r < 0)
		return -1;
	*pos = r;
	return 0;
}

static int ck_close(void *c)
{
	struct cookie *k = c;
	int r = k->fd >= 0 ? close(k->fd) : 0;
	k->fp = NULL;
	__atomic_store_n(&k->used, 0, __ATOMIC_RELEASE);
	return r;
}

static const cookie_io_functions_t ck_io = {ck_read, ck_write, ck_seek, ck_close};

/* A cookie stream on `fd`, or NULL (errno set) leaving `fd` alone. */
static FILE *wrap(int fd, const char *mode)
{
	struct cookie *k = cookie_take(fd);
	if (!k) {
		errno = EMFILE;
		return NULL;
	}
	FILE *fp = fopencookie(k, mode, ck_io);
	if (!fp) {
		__atomic_store_n(&k->used, 0, __ATOMIC_RELEASE);
		return NULL;
	}
	k->fp = fp;
	fp->_fileno = fd;
	return fp;
}

/* fopen's mode as open(2) flags; -1 for what cookie streams cannot do (",ccs=" encodings). */
static int mode_flags(const char *mode)
{
	int flags;
	switch (mode[0]) {
	case 'r': flags = O_RDONLY; break;
	case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
	default: return -1;
	}
	for (const char *p = mode + 1; *p; p++) {
		switch (*p) {
		case '+': flags = (flags & ~O_ACCMODE) | O_RDWR; break;
		case 'x': flags |= O_EXCL; break;
		case 'e': flags |= O_CLOEXEC; break;
		case 'b':
		case 'm':
		case 'c': break;
		case ',': return -1;
		default: break;
		}
	}
	return flags;
}

static int follows(void)
{
	return at_enter() >= AT_MODE_RECORD;
}

AT_HOOK FILE *fopen(const char *path, const char *mode)
{
	int flags = mode ? mode_flags(mode) : -1;
	if (!follows() || flags < 0 || at_path_excluded(AT_FDCWD, path)) {
		if (!real_fopen_fn)
			*(void **)&real_fopen_fn = at_resolve("fopen");
		return real_fopen_fn ? real_fopen_fn(path, mode) : NULL;
	}
	int fd = open(path, flags, 0666);
	if (fd < 0)
		return NULL;
	FILE *fp = wrap(fd, mode);
	if (!fp) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return fp;
}
FILE *fopen64(const char *path, const char *mode)
    __attribute__((alias("fopen"), visibility("default")));

AT_HOOK FILE *fdopen(int fd, const char *mode)
{
	int flags = mode ? mode_flags(mode) : -1;
	if (!follows() || flags < 0 || !at_fd_kind(fd)) {
		if (!real_fdopen_fn)
			*(void **)&real_fdopen_fn = at_resolve("fdopen");
		return real_fdopen_fn ? real_fdopen_fn(fd, mode) : NULL;
	}
	/* As glibc does: the descriptor must be open, with an access mode that allows this. */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return NULL;
	int acc = fl & O_ACCMODE, want = flags & O_ACCMODE;
	if ((want == O_RDWR && acc != O_RDWR) || (want == O_RDONLY && acc == O_WRONLY) ||
	    (want == O_WRONLY && acc == O_RDONLY)) {
		errno = EINVAL;
		return NULL;
	}
	if ((flags & O_APPEND) && !(fl & O_APPEND) && fcntl(fd, F_SETFL, fl | O_APPEND) < 0)
		return NULL;
	if (flags & O_CLOEXEC)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return wrap(fd, mode);
}

/* libio's stream flags for the direction of a stream (glibc's libio.h; stable since
 * glibc 2.1 because compiled programs' getc/putc macros read them). */
#define IO_NO_READS     0x0004
#define IO_NO_WRITES    0x0008
#define IO_IS_APPENDING 0x1000

AT_HOOK FILE *freopen(const char *path, const char *mode, FILE *fp)
{
	int flags = mode ? mode_flags(mode) : -1;
	struct cookie *k = follows() && flags >= 0 ? cookie_of(fp) : NULL;
	if (!k || (path && at_path_excluded(AT_FDCWD, path))) {
		if (!real_freopen_fn)
			*(void **)&real_freopen_fn = at_resolve("freopen");
		return real_freopen_fn ? real_freopen_fn(path, mode, fp) : NULL;
	}
	/* As glibc does: keep the stream's descriptor number (freopen(f, "r", stdin) stays on
	 * fd 0), opening the new file elsewhere and moving it there. */
	fflush(fp);
	int old = k->fd;
	char self[64];
	if (!path) {
		snprintf(self, sizeof self, "/proc/self/fd/%d", old);
		path = self;
	}
	int fd = open(path, flags, 0666);
	if (fd >= 0 && old >= 0 && fd != old) {
		if (dup3(fd, old, (flags & O_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
			int e = errno;
			close(fd);
			fd = -1;
			errno = e;
		} else {
			close(fd);
			fd = old;
		}
	}
	if (fd < 0) {
		int e = errno;
		if (old >= 0)
			close(old);
		k->fd = -1;
		fclose(fp);
		errno = e;
		return NULL;
	}
	k->fd = fd;
	fp->_fileno = fd;
	fp->_flags &= ~(IO_NO_READS | IO_NO_WRITES | IO_IS_APPENDING);
	if ((flags & O_ACCMODE) == O_RDONLY)
		fp->_flags |= IO_NO_WRITES;
	if ((flags & O_ACCMODE) == O_WRONLY)
		fp->_flags |= IO_NO_READS;
	if (flags & O_APPEND)
		fp->_flags |= IO_IS_APPENDING;
	clearerr(fp);
	return fp;
}
FILE *freopen64(const char *path, const char *mode, FILE *fp)
    __attribute__((alias("freopen"), visibility("default")));

/* Replaces one standard stream; runs once, from the preload's constructor. */
static void replace(FILE **stream, int fd, const char *mode)
{
	if (!at_fd_kind(fd))
		return; /* not open: the program has no such stream to use */
	FILE *fp = wrap(fd, mode);
	if (!fp)
		return;
	if (fd == 2)
		setvbuf(fp, NULL, _IONBF, 0);
	else if (fd == 1 && isatty(1))
		setvbuf(fp, NULL, _IOLBF, BUFSIZ);
	fflush(*stream);
	*stream = fp;
}

void at_stdio_init(void)
{
	replace(&stdin, 0, "r");
	replace(&stdout, 1, "w");
	replace(&stderr, 2, "w");
}
