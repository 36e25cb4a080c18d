/* files_workload: a file-heavy program for bench/run.sh, which times its run mode bare and
 * under `agenttrace record` (every open, read, fstat, write and close is then recorded).
 *
 *   files_workload setup DIR   creates DIR/in/ with FILES small files of fixed content
 *   files_workload run DIR     reads all of them (open, fstat, read to EOF, close), then
 *                              writes WRITES files into DIR/out/, and prints one line
 *
 * Content and sizes come from a fixed xorshift sequence, so every run, recorded or replayed,
 * prints the same first line, checksum included; a replay checks it byte for byte. The run
 * is timed by clock_gettime issued as a raw `syscall` instruction, as in hookbench.c, and
 * the time is printed on a second line the same way, with a raw `write`: the preload sees
 * neither, so the timer is not recorded, and a replay, whose time differs, does not diverge
 * on its output. Setup is never timed or recorded. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "raw_syscall.h"
#include "workload.h"
#include <unistd.h>

#define FILES    2000
#define WRITES   200
#define MIN_SIZE 1024 /* file sizes: MIN_SIZE to MAX_SIZE bytes */
#define MAX_SIZE 4096
#define BUF_SIZE 4096 /* read() size: a whole file in one call, then one for EOF */

static size_t size_of(uint64_t seed)
{
	uint64_t x = seed + 0x2545F4914F6CDD1Du;
	return MIN_SIZE + (size_t)(xorshift(&x) % (MAX_SIZE - MIN_SIZE + 1));
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "files_workload: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "files_workload: cannot write %s: %s\n", path,
			        strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "files_workload: cannot close %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "files_workload: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int setup(const char *dir)
{
	char path[4096];
	uint8_t buf[MAX_SIZE];
	snprintf(path, sizeof path, "%s/in", dir);
	if (make_dir(dir) < 0 || make_dir(path) < 0)
		return 1;
	for (unsigned i = 0; i < FILES; i++) {
		size_t len = size_of(i);
		fill(buf, len, i);
		snprintf(path, sizeof path, "%s/in/%04u.txt", dir, i);
		if (write_file(path, buf, len) < 0)
			return 1;
	}
	printf("files_workload: created %u files in %s/in\n", FILES, dir);
	return 0;
}

/* Reads one input file to its end, folding its size (from fstat) and bytes into *sum. */
static int read_file(const char *path, uint64_t *sum, uint64_t *bytes)
{
	uint8_t buf[BUF_SIZE];
	struct stat st;
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "files_workload: cannot open %s: %s (run setup first)\n", path,
		        strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "files_workload: cannot stat %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	*sum = fnv1a(*sum, &st.st_size, sizeof st.st_size);
	return read_to_end("files_workload", path, fd, buf, sizeof buf, sum, bytes);
}

static int run(const char *dir)
{
	char path[4096];
	uint8_t buf[MAX_SIZE];
	uint64_t sum = 0xCBF29CE484222325u, read_bytes = 0, written_bytes = 0;

	uint64_t t0 = raw_monotonic_ns();
	for (unsigned i = 0; i < FILES; i++) {
		snprintf(path, sizeof path, "%s/in/%04u.txt", dir, i);
		if (read_file(path, &sum, &read_bytes) < 0)
			return 1;
	}
	uint64_t t_read = raw_monotonic_ns();
	/* The outputs depend on what was read, as a build's or a test run's would. */
	snprintf(path, sizeof path, "%s/out", dir);
	if (make_dir(path) < 0)
		return 1;
	for (unsigned i = 0; i < WRITES; i++) {
		size_t len = size_of(sum ^ i);
		fill(buf, len, sum + i);
		snprintf(path, sizeof path, "%s/out/%03u.txt", dir, i);
		if (write_file(path, buf, len) < 0)
			return 1;
		written_bytes += len;
	}
	uint64_t t1 = raw_monotonic_ns();
	if (t0 == 0 || t_read < t0 || t1 < t_read || t1 == t0) {
		fprintf(stderr, "files_workload: the raw clock failed\n");
		return 1;
	}
	printf("files_read=%u bytes_read=%llu files_written=%u bytes_written=%llu checksum=%llx\n",
	       FILES, (unsigned long long)read_bytes, WRITES, (unsigned long long)written_bytes,
	       (unsigned long long)sum);
	if (fflush(stdout) != 0)
		return 1;
	char line[96];
	int n = snprintf(line, sizeof line, "total_ns=%llu read_ns=%llu write_ns=%llu\n",
	                 (unsigned long long)(t1 - t0), (unsigned long long)(t_read - t0),
	                 (unsigned long long)(t1 - t_read));
	raw_write(1, line, (size_t)n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "setup"))
		return setup(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "run"))
		return run(argv[2]);
	FILE *f =
	    argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? stdout : stderr;
	fprintf(
	    f,
	    "usage: files_workload setup DIR   create DIR/in/ with %d files of %d-%d bytes\n"
	    "       files_workload run DIR     read them all (open, fstat, read, close), write\n"
	    "                                  %d files into DIR/out/, print a checksum\n",
	    FILES, MIN_SIZE, MAX_SIZE, WRITES);
	return f == stdout ? 0 : 2;
}
