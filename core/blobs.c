/* The blob store on disk: <home>/blobs/xx/<62 hex>, each one zstd frame (see blobs.h).
 * Blobs are written once, under a temporary name, and renamed into place; nothing here ever
 * modifies a file under a blob's real name, and nothing here knows what a trace is. */
#include "agenttrace/blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <nettle/sha2.h>
#include <zstd.h>

#include "agenttrace/errors.h"

#define LEVEL          3
#define TMP_PREFIX     ".tmp-"
#define TMP_STALE_SECS 3600

static int os_error(void)
{
	return errno == ENOSPC || errno == EDQUOT ? AT_ENOSPC : AT_EIO;
}

/* Nettle's SHA-256, not libcrypto's: loading libcrypto cost every agenttrace command 0.8 ms
 * at start-up, nettle 0.15 ms (docs/performance.md). It cannot fail. */
static int sha256(const void *data, size_t len, at_blob_id *out)
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, AT_BLOB_ID_LEN, out->b);
	return 0;
}

void at_blob_hash(const void *data, size_t len, at_blob_id *out)
{
	if (sha256(data, len, out))
		memset(out, 0, sizeof *out);
}

void at_blob_hex(const at_blob_id *id, char out[2 * AT_BLOB_ID_LEN + 1])
{
	for (size_t i = 0; i < AT_BLOB_ID_LEN; i++) {
		out[2 * i] = "0123456789abcdef"[id->b[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[id->b[i] & 0xF];
	}
	out[2 * AT_BLOB_ID_LEN] = '\0';
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int at_blob_parse(const char *hex, at_blob_id *out)
{
	at_blob_id id;
	if (!hex || strnlen(hex, 2 * AT_BLOB_ID_LEN + 1) != 2 * AT_BLOB_ID_LEN)
		return AT_EINVAL;
	for (size_t i = 0; i < AT_BLOB_ID_LEN; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return AT_EINVAL;
		id.b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = id;
	return 0;
}

int at_blob_path(const char *home, const at_blob_id *id, char *out, size_t cap)
{
	char hex[2 * AT_BLOB_ID_LEN + 1];
	if (!home)
		return AT_EINVAL;
	at_blob_hex(id, hex);
	int n = snprintf(out, cap, "%s/blobs/%.2s/%s", home, hex, hex + 2);
	return n > 0 && (size_t)n < cap ? 0 : AT_EINVAL;
}

int at_blob_exists(const char *home, const at_blob_id *id)
{
	char path[PATH_MAX];
	return at_blob_path(home, id, path, sizeof path) == 0 && access(path, F_OK) == 0;
}

/* mkdir -p, one component at a time; `path` is restored before returning. */
static int make_dirs(char *path)
{
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		int rc = mkdir(path, 0700) < 0 && errno != EEXIST ? os_error() : 0;
		*p = c;
		if (rc || !c)
			return rc;
	}
}

static int sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AT_EIO;
	int rc = fsync(fd) < 0 ? os_error() : 0;
	return close(fd) < 0 && !rc ? AT_EIO : rc;
}

/* Makes a blob durable: its file, the directory that names it, and when that directory is
 * new, blobs/ which names the directory. Cuts `path` down as it goes up. */
static int sync_blob(char *path, int new_dir)
{
	int rc = sync_path(path);
	for (int up = 0; !rc && up < 1 + !!new_dir; up++) {
		*strrchr(path, '/') = '\0';
		rc = sync_path(path);
	}
	return rc;
}

/* Creates "<dir>/.tmp-<pid>-<tid>-<random>". O_EXCL makes the name ours alone even if the
 * random part repeats (or getrandom is not ready yet and the clock stands in for it), so no
 * counter, and no state, is needed. Creates `dir` (and *created = 1) when it is missing. */
static int open_temp(char *dir, char *tmp, size_t cap, int *created, int *fd)
{
	*created = 0;
	for (int attempt = 0; attempt < 100; attempt++) {
		uint64_t r;
		if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			r = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)attempt;
		}
		int n = snprintf(tmp, cap, "%s/" TMP_PREFIX "%d-%d-%016" PRIx64, dir, (int)getpid(),
		                 (int)gettid(), r);
		if (n < 0 || (size_t)n >= cap)
			return AT_EINVAL;
		*fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (*fd >= 0)
			return 0;
		if (errno == ENOENT && !*created) {
			int rc = make_dirs(dir);
			if (rc)
				return rc;
			*created = 1;
		} else if (errno != EEXIST) {
			return os_error();
		}
	}
	errno = EEXIST;
	return AT_EIO;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return os_error();
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Streams one frame into fd through a small buffer, so a large payload is not held twice.
 * The pledged size puts the content size in the frame header, which at_blob_get relies on. */
static int write_frame(int fd, const void *data, size_t len)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t cap = ZSTD_CStreamOutSize();
	void *buf = malloc(cap);
	int rc = cctx && buf ? 0 : AT_ENOMEM;
	if (!rc && (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, LEVEL)) ||
	            ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, len))))
		rc = AT_ECOMPRESS;
	ZSTD_inBuffer in = {data, len, 0};
	for (size_t left = 1; !rc && left;) {
		ZSTD_outBuffer out = {buf, cap, 0};
		left = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end);
		rc = ZSTD_isError(left) ? AT_ECOMPRESS : write_all(fd, buf, out.pos);
	}
	ZSTD_freeCCtx(cctx);
	free(buf);
	return rc;
}

int at_blob_put(const char *home, const void *data, size_t len, int durable, at_blob_id *out)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int rc = sha256(data, len, out);
	if (!rc)
		rc = at_blob_path(home, out, path, sizeof path);
	if (rc)
		return rc;
	/* Same name, same content: whoever wrote it first wrote what we would. A durable put
	 * still has to make sure an earlier, non-durable one reached the disk. */
	if (access(path, F_OK) == 0)
		return durable ? sync_blob(path, 0) : 0;

	char *slash = strrchr(path, '/');
	int fd, created;
	*slash = '\0';
	rc = open_temp(path, tmp, sizeof tmp, &created, &fd);
	*slash = '/';
	if (rc)
		return rc;
	rc = write_frame(fd, data, len);
	if (!rc && durable && fsync(fd) < 0)
		rc = os_error();
	if (close(fd) < 0 && !rc)
		rc = os_error();
	/* rename is atomic: readers see no file or a whole one. Two puts of the same content
	 * may both get here; the second replaces the first's file with one of the same content,
	 * and a reader holding the first keeps reading the old inode, so either order is safe.
	 * With `durable` the data was fsync'd first, so the new name never points at a file
	 * whose data is still only in the page cache. */
	if (!rc && rename(tmp, path) < 0)
		rc = os_error();
	if (rc) {
		int saved = errno;
		unlink(tmp); /* best effort: at_blob_gc removes what a failure leaves behind */
		errno = saved;
		return rc;
	}
	return durable ? sync_blob(path, created) : 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AT_EIO; /* errno ENOENT: no such blob */
	if (fstat(fd, &st) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return AT_EIO;
	}
	size_t size = (size_t)st.st_size, got = 0;
	uint8_t *buf = malloc(size ? size : 1);
	int rc = buf ? 0 : AT_ENOMEM;
	while (!rc && got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno != EINTR)
			rc = AT_EIO;
		else if (n == 0)
			break; /* shorter than fstat said: the frame checks will decide */
		else if (n > 0)
			got += (size_t)n;
	}
	int saved = errno;
	if (close(fd) < 0 && !rc)
		rc = AT_EIO;
	else
		errno = saved;
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = got;
	return 0;
}

int at_blob_get(const char *home, const at_blob_id *id, void **data, size_t *len)
{
	char path[PATH_MAX];
	uint8_t *z = NULL, *content = NULL;
	size_t zlen = 0;
	*data = NULL;
	*len = 0;
	int rc = at_blob_path(home, id, path, sizeof path);
	if (!rc)
		rc = read_file(path, &z, &zlen);
	if (rc)
		return rc;

	/* One whole frame and nothing after it, with its size in the header. The size is only
	 * believed up to what a frame this long could hold (each block of at most 128 KiB
	 * costs at least 3 bytes), so a damaged header cannot ask for terabytes. */
	unsigned long long size = ZSTD_getFrameContentSize(z, zlen);
	if (ZSTD_findFrameCompressedSize(z, zlen) != zlen || size >= ZSTD_CONTENTSIZE_ERROR ||
	    size > (zlen / 3 + 1) * (unsigned long long)ZSTD_BLOCKSIZE_MAX || size > SIZE_MAX)
		rc = AT_ECORRUPT;
	else if (!(content = malloc(size ? (size_t)size : 1)))
		rc = AT_ENOMEM;
	if (!rc) {
		size_t n = ZSTD_decompress(content, (size_t)size, z, zlen);
		if (ZSTD_isError(n) || n != size)
			rc = AT_ECORRUPT;
	}
	at_blob_id got;
	if (!rc)
		rc = sha256(content, (size_t)size, &got);
	if (!rc && memcmp(got.b, id->b, AT_BLOB_ID_LEN) != 0)
		rc = AT_ECORRUPT;
	free(z);
	if (rc) {
		free(content);
		return rc;
	}
	*data = content;
	*len = (size_t)size;
	return 0;
}

/* One fan-out directory blobs/<xx>/. Entries that vanish meanwhile (another gc) are skipped. */
static int gc_dir(int parent, const char *xx, at_blob_keep_fn keep, void *ctx, uint64_t *removed,
                  uint64_t *bytes)
{
	int fd = openat(parent, xx, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : AT_EIO;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return AT_EIO;
	}
	time_t now = time(NULL);
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			rc = errno ? AT_EIO : 0;
			break;
		}
		char hex[2 * AT_BLOB_ID_LEN + 1];
		at_blob_id id;
		int blob = strlen(e->d_name) == 2 * AT_BLOB_ID_LEN - 2;
		if (blob) {
			memcpy(hex, xx, 2);
			memcpy(hex + 2, e->d_name, 2 * AT_BLOB_ID_LEN - 1);
			blob = at_blob_parse(hex, &id) == 0;
		}
		if (blob ? keep(&id, ctx) != 0 : strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
			continue;
		struct stat st;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			rc = AT_EIO;
			break;
		}
		/* A put in progress keeps its temporary file's mtime fresh with every write. */
		if (!S_ISREG(st.st_mode) || (!blob && now - st.st_mtime < TMP_STALE_SECS))
			continue;
		if (unlinkat(fd, e->d_name, 0) < 0) {
			if (errno == ENOENT)
				continue;
			rc = AT_EIO;
			break;
		}
		if (blob) {
			(*removed)++;
			*bytes += (uint64_t)st.st_size;
		}
	}
	int saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

int at_blob_gc(const char *home, at_blob_keep_fn keep, void *ctx, uint64_t *removed,
               uint64_t *bytes)
{
	char path[PATH_MAX];
	uint64_t n = 0, b = 0;
	int rc = 0;
	if (!home || !keep || snprintf(path, sizeof path, "%s/blobs", home) >= (int)sizeof path)
		rc = AT_EINVAL;
	DIR *top = rc ? NULL : opendir(path);
	if (!rc && !top && errno != ENOENT)
		rc = AT_EIO;
	while (top && !rc) {
		errno = 0;
		struct dirent *e = readdir(top);
		if (!e) {
			rc = errno ? AT_EIO : 0;
			break;
		}
		if (strlen(e->d_name) == 2 && hex_digit(e->d_name[0]) >= 0 &&
		    hex_digit(e->d_name[1]) >= 0)
			rc = gc_dir(dirfd(top), e->d_name, keep, ctx, &n, &b);
	}
	if (top) {
		int saved = errno;
		closedir(top);
		errno = saved;
	}
	if (removed)
		*removed = n;
	if (bytes)
		*bytes = b;
	return rc;
}
