/* files_calls DIR: calls each low-level file function agenttrace records, in DIR, which
 * holds input.txt and link (a symlink to input.txt) made by the test. Prints every result:
 * values, errors, sizes, inodes, times and bytes, so a replay that returns anything other
 * than what was recorded prints something else. Leaves DIR/kept.txt; removes the rest of
 * what it creates. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *dir;

/* DIR/NAME; borrowed until the call after next (two can be arguments of one call). */
static const char *in_dir(const char *name)
{
	static char path[2][4096];
	static int i;
	i = !i;
	snprintf(path[i], sizeof path[i], "%s/%s", dir, name);
	return path[i];
}

/* Prints "LABEL = R", or the error with its name when R < 0. Called with the call
 * as an argument, so errno is still the call's. */
static void result(const char *label, long r)
{
	int e = errno;
	if (r < 0)
		printf("%s = %ld %s (%s)\n", label, r, strerrorname_np(e), strerror(e));
	else
		printf("%s = %ld\n", label, r);
}

static void dump(const char *label, const void *p, long n)
{
	const unsigned char *b = p;
	printf("%s \"", label);
	for (long i = 0; i < n; i++)
		printf(b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' ? "%c" : "\\x%02x", b[i]);
	printf("\"\n");
}

static void bytes(const char *label, long r, const void *p)
{
	result(label, r);
	if (r > 0)
		dump("  bytes", p, r);
}

static void stat_line(const char *label, int r, const struct stat *st)
{
	result(label, r);
	if (r == 0)
		printf("  mode %06o size %lld nlink %lu ino %llu mtime %lld.%09ld\n", st->st_mode,
		       (long long)st->st_size, (unsigned long)st->st_nlink,
		       (unsigned long long)st->st_ino, (long long)st->st_mtim.tv_sec,
		       st->st_mtim.tv_nsec);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Names of a directory, sorted: readdir's order is the file system's. */
struct names {
	char name[32][256];
	int n;
};

static void add_name(struct names *ns, const char *name)
{
	if (ns->n < 32)
		snprintf(ns->name[ns->n++], sizeof ns->name[0], "%s", name);
}

static void print_names(const char *label, struct names *ns)
{
	qsort(ns->name, (size_t)ns->n, sizeof ns->name[0], by_name);
	printf("%s:", label);
	for (int i = 0; i < ns->n; i++)
		printf(" %s", ns->name[i]);
	printf("\n");
}

static void list_dir(const char *label, DIR *d)
{
	struct names ns = {.n = 0};
	if (!d) {
		result(label, -1);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		add_name(&ns, e->d_name);
	print_names(label, &ns);
	result("  closedir", closedir(d));
}

static void lock_line(const char *label, int r, const struct flock *fl)
{
	result(label, r);
	if (r == 0)
		printf("  l_type %s start %lld len %lld\n",
		       fl->l_type == F_UNLCK   ? "F_UNLCK"
		       : fl->l_type == F_WRLCK ? "F_WRLCK"
		                               : "F_RDLCK",
		       (long long)fl->l_start, (long long)fl->l_len);
}

/* input.txt read every way, through one offset shared by its duplicates. */
static void reads(int dfd)
{
	char buf[256], a[4] = "", b[6] = "";
	struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
	struct stat st;

	int fd = openat(dfd, "input.txt", O_RDONLY);
	result("openat(DIR, input.txt)", fd);
	bytes("read(8)", read(fd, buf, 8), buf);
	bytes("pread(8, at 4)", pread(fd, buf, 8, 4), buf);
	result("readv(4+6)", readv(fd, iov, 2));
	dump("  [0]", a, sizeof a);
	dump("  [1]", b, sizeof b);
	result("preadv(4+6, at 1)", preadv(fd, iov, 2, 1));
	dump("  [0]", a, sizeof a);
	dump("  [1]", b, sizeof b);
	result("lseek(0, SEEK_CUR)", lseek(fd, 0, SEEK_CUR));
	result("lseek(0, SEEK_END)", lseek(fd, 0, SEEK_END));
	result("lseek(2, SEEK_SET)", lseek(fd, 2, SEEK_SET));
	result("lseek(-1, SEEK_SET)", lseek(fd, -1, SEEK_SET));
	bytes("read(4)", read(fd, buf, 4), buf);

	int d1 = dup(fd);
	result("dup", d1);
	bytes("read(dup, 4)", read(d1, buf, 4), buf);
	result("lseek(fd, 0, SEEK_CUR) after reading the dup", lseek(fd, 0, SEEK_CUR));
	result("dup2(fd, 50)", dup2(fd, 50));
	result("dup3(fd, 51, O_CLOEXEC)", dup3(fd, 51, O_CLOEXEC));
	result("fcntl(51, F_GETFD)", fcntl(51, F_GETFD));
	result("fcntl(fd, F_DUPFD, 60)", fcntl(fd, F_DUPFD, 60));
	result("fcntl(fd, F_GETFL)", fcntl(fd, F_GETFL));
	result("fcntl(fd, F_SETFL, O_NONBLOCK)", fcntl(fd, F_SETFL, O_NONBLOCK));
	result("fcntl(fd, F_GETFL)", fcntl(fd, F_GETFL));
	bytes("read(50, 4)", read(50, buf, 4), buf);
	bytes("read(60, 100)", read(60, buf, 100), buf);
	bytes("read(51, 100) at the end", read(51, buf, 100), buf);
	result("dup(99)", dup(99));
	result("close(99)", close(99));

	stat_line("fstat(fd)", fstat(fd, &st), &st);
	char *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		result("mmap(input.txt)", -1);
	} else {
		dump("mmap(input.txt)", m, st.st_size);
		result("munmap", munmap(m, (size_t)st.st_size));
	}
	result("close(60)", close(60));
	result("close(51)", close(51));
	result("close(50)", close(50));
	result("close(dup)", close(d1));
	result("close(fd)", close(fd));
}

/* Metadata: the stat family, access, readlink. */
static void metadata(int dfd)
{
	struct stat st;
	struct statx sx;
	char buf[256];

	stat_line("stat(input.txt)", stat(in_dir("input.txt"), &st), &st);
	stat_line("lstat(link)", lstat(in_dir("link"), &st), &st);
	stat_line("stat(link)", stat(in_dir("link"), &st), &st);
	stat_line("fstatat(DIR, link, 0)", fstatat(dfd, "link", &st, 0), &st);
	stat_line("fstatat(DIR, link, NOFOLLOW)", fstatat(dfd, "link", &st, AT_SYMLINK_NOFOLLOW),
	          &st);
	stat_line("stat(missing)", stat(in_dir("missing"), &st), &st);
	int r = statx(dfd, "input.txt", 0, STATX_BASIC_STATS, &sx);
	result("statx(DIR, input.txt)", r);
	if (r == 0)
		printf("  size %llu ino %llu mtime %lld.%09u\n", (unsigned long long)sx.stx_size,
		       (unsigned long long)sx.stx_ino, (long long)sx.stx_mtime.tv_sec,
		       sx.stx_mtime.tv_nsec);
	result("statx(DIR, missing)", statx(dfd, "missing", 0, STATX_BASIC_STATS, &sx));
	result("access(input.txt, R_OK)", access(in_dir("input.txt"), R_OK));
	result("access(missing, F_OK)", access(in_dir("missing"), F_OK));
	result("faccessat(DIR, input.txt, W_OK)", faccessat(dfd, "input.txt", W_OK, 0));
	ssize_t n = readlink(in_dir("link"), buf, sizeof buf);
	bytes("readlink(link)", n, buf);
	result("readlink(input.txt)", readlink(in_dir("input.txt"), buf, sizeof buf));
}

/* kept.txt written every way, locked, synced, truncated; left behind. */
static void writes(int dfd)
{
	char buf[256];
	struct stat st;
	struct iovec wv[2] = {{"writev ", 7}, {"world\n", 6}};

	int w = openat(dfd, "kept.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
	result("openat(DIR, kept.txt, O_CREAT)", w);
	result("write(7)", write(w, "hello, ", 7));
	result("writev(7+6)", writev(w, wv, 2));
	result("pwrite(1, at 0)", pwrite(w, "H", 1, 0));
	result("pwritev(7+6, at 24)", pwritev(w, wv, 2, 24));
	result("lseek(0, SEEK_CUR)", lseek(w, 0, SEEK_CUR));
	result("fsync", fsync(w));
	result("fdatasync", fdatasync(w));
	stat_line("fstat(kept.txt)", fstat(w, &st), &st);
	bytes("pread(64, at 0)", pread(w, buf, 64, 0), buf);
	result("ftruncate(12)", ftruncate(w, 12));
	stat_line("fstat(kept.txt)", fstat(w, &st), &st);

	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5};
	lock_line("fcntl(F_SETLK, write lock 0..5)", fcntl(w, F_SETLK, &fl), &fl);
	/* Another open file description asks: our own process lock conflicts with it. */
	int other = openat(dfd, "kept.txt", O_RDWR);
	result("openat(DIR, kept.txt) again", other);
	struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	lock_line("fcntl(F_GETLK)", fcntl(w, F_GETLK, &q), &q);
	q = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	lock_line("fcntl(other, F_OFD_GETLK)", fcntl(other, F_OFD_GETLK, &q), &q);
	fl.l_type = F_UNLCK;
	lock_line("fcntl(F_SETLK, unlock)", fcntl(w, F_SETLK, &fl), &fl);
	result("close(other)", close(other));
	result("close(kept.txt)", close(w));
	result("truncate(kept.txt, 10)", truncate(in_dir("kept.txt"), 10));
	stat_line("stat(kept.txt)", stat(in_dir("kept.txt"), &st), &st);
	result("creat(DIR, made.txt)", w = creat(in_dir("made.txt"), 0600));
	result("write(4)", write(w, "made", 4));
	result("close(made.txt)", close(w));
}

/* A subdirectory made, filled, listed three ways, emptied and removed. */
static void directories(int dfd)
{
	char buf[4096];
	struct stat st;

	result("mkdir(sub)", mkdir(in_dir("sub"), 0755));
	result("mkdir(sub) again", mkdir(in_dir("sub"), 0755));
	int t = openat(dfd, "sub/tmp.txt", O_WRONLY | O_CREAT | O_EXCL, 0600);
	result("openat(DIR, sub/tmp.txt, O_EXCL)", t);
	result("write(3)", write(t, "tmp", 3));
	result("close", close(t));
	result("rename(made.txt, sub/made2.txt)",
	       rename(in_dir("made.txt"), in_dir("sub/made2.txt")));
	result("renameat(sub/tmp.txt, sub/tmp2.txt)",
	       renameat(dfd, "sub/tmp.txt", dfd, "sub/tmp2.txt"));
	result("rename(missing, x)", rename(in_dir("missing"), in_dir("x")));

	char tmpl[4096];
	snprintf(tmpl, sizeof tmpl, "%s/sub/stemp.XXXXXX", dir);
	int k = mkstemp(tmpl);
	result("mkstemp", k);
	printf("  name %s\n", tmpl + strlen(dir));
	result("write(5)", write(k, "stemp", 5));
	stat_line("fstat(mkstemp)", fstat(k, &st), &st);
	result("close", close(k));
	char otmpl[4096];
	snprintf(otmpl, sizeof otmpl, "%s/sub/ostemp.XXXXXX", dir);
	k = mkostemp(otmpl, O_CLOEXEC);
	result("mkostemp(O_CLOEXEC)", k);
	printf("  name %s\n", otmpl + strlen(dir));
	result("fcntl(F_GETFD)", fcntl(k, F_GETFD));
	result("close", close(k));

	list_dir("opendir(DIR)", opendir(dir));
	list_dir("fdopendir(sub)", fdopendir(openat(dfd, "sub", O_RDONLY | O_DIRECTORY)));
	list_dir("opendir(missing)", opendir(in_dir("missing")));

	struct names ns = {.n = 0};
	int sd = openat(dfd, "sub", O_RDONLY | O_DIRECTORY);
	result("openat(DIR, sub, O_DIRECTORY)", sd);
	ssize_t n;
	while ((n = getdents64(sd, buf, sizeof buf)) > 0)
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);
			add_name(&ns, e->d_name);
			off += e->d_reclen;
		}
	result("getdents64 at the end", n);
	print_names("  names", &ns);
	result("close(sub)", close(sd));

	result("unlink(sub/made2.txt)", unlink(in_dir("sub/made2.txt")));
	result("unlinkat(DIR, sub/tmp2.txt)", unlinkat(dfd, "sub/tmp2.txt", 0));
	result("unlink(mkstemp)", unlink(tmpl));
	result("unlink(mkostemp)", unlink(otmpl));
	result("unlink(missing)", unlink(in_dir("missing")));
	result("rmdir(sub)", rmdir(in_dir("sub")));
	result("rmdir(sub) again", rmdir(in_dir("sub")));
	result("mkdir(sub2)", mkdir(in_dir("sub2"), 0700));
	result("unlinkat(DIR, sub2, AT_REMOVEDIR)", unlinkat(dfd, "sub2", AT_REMOVEDIR));
	list_dir("opendir(DIR) at the end", opendir(dir));
}

/* Opens that fail: the recorded errno comes back even if the path is fine by then. */
static void failures(int dfd)
{
	result("open(missing)", open(in_dir("missing"), O_RDONLY));
	result("open(DIR, O_WRONLY)", open(dir, O_WRONLY));
	result("openat(DIR, input.txt/x)", openat(dfd, "input.txt/x", O_RDONLY));
	result("openat(DIR, kept.txt, O_CREAT|O_EXCL)",
	       openat(dfd, "kept.txt", O_WRONLY | O_CREAT | O_EXCL, 0600));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: files_calls DIR\n");
		return 2;
	}
	dir = argv[1];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	result("open(DIR, O_DIRECTORY)", dfd);
	reads(dfd);
	metadata(dfd);
	writes(dfd);
	directories(dfd);
	failures(dfd);
	result("close(DIR)", close(dfd));
	return 0;
}
