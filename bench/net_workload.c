/* net_workload: an agent's network pattern for bench/run.sh, which times it bare, under
 * `agenttrace record` and under `agenttrace replay`: many HTTP/1.1 calls on one keep-alive
 * TCP connection to a local server, with file and clock reads between the calls.
 *
 *   net_workload setup DIR             creates DIR/ with FILES small files (1-4 KiB)
 *   net_workload run PORT CALLS DIR    CALLS GETs to 127.0.0.1:PORT on one connection; before
 *                                      each, reads one of the files (open, read to EOF,
 *                                      close) and the clocks; prints one line
 *
 * Plain libc sockets (socket, connect, send, recv), no HTTP library. Every answer must carry a
 * Content-Length (tests/e2e/http_server.py's do); the parser copes with an answer split over
 * any number of reads, and with bytes of the next one arriving early. What the program saw
 * (bodies, file content, clock values) goes into the checksum on its first line, so a replay
 * prints that line only if it was fed everything it recorded. As in files_workload.c, the
 * run is timed by the raw `syscall` clock and the times are written with a raw `write`: the
 * preload sees neither. Setup is never timed or recorded. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "raw_syscall.h"
#include "workload.h"

#define FILES     16 /* the context files an agent rereads: prompts, tool specs, notes */
#define MIN_SIZE  1024
#define MAX_SIZE  4096
#define MAX_CALLS 1000000
/* Room for one answer's headers and body (the test server's are about 200 bytes). */
#define CONN_BUF 65536

struct conn {
	int fd;
	size_t len; /* bytes in buf: the start of the next answer */
	char buf[CONN_BUF];
};

static int setup(const char *dir)
{
	char path[4096];
	uint8_t buf[MAX_SIZE];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "net_workload: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < FILES; i++) {
		uint64_t x = i + 0x2545F4914F6CDD1Du;
		size_t len = MIN_SIZE + (size_t)(xorshift(&x) % (MAX_SIZE - MIN_SIZE + 1));
		fill(buf, len, i);
		snprintf(path, sizeof path, "%s/context-%02u.txt", dir, i);
		FILE *f = fopen(path, "w");
		if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "net_workload: cannot write %s: %s\n", path,
			        strerror(errno));
			return 1;
		}
	}
	printf("net_workload: created %u files in %s\n", FILES, dir);
	return 0;
}

/* Reads one context file to its end (open, read, close), folding it into *sum. */
static int read_context(const char *path, uint64_t *sum, uint64_t *bytes)
{
	uint8_t buf[MAX_SIZE];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "net_workload: cannot open %s: %s (run setup first)\n", path,
		        strerror(errno));
		return -1;
	}
	return read_to_end("net_workload", path, fd, buf, sizeof buf, sum, bytes);
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "net_workload: send: %s\n",
			        n < 0 ? strerror(errno) : "sent 0");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One more recv into c->buf; -1 on error or if the server closed the connection. */
static int recv_more(struct conn *c)
{
	if (c->len == sizeof c->buf) {
		fprintf(stderr, "net_workload: an answer larger than %d bytes\n", CONN_BUF);
		return -1;
	}
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "net_workload: recv: %s\n",
			        n < 0 ? strerror(errno) : "the server closed the connection");
			return -1;
		}
		c->len += (size_t)n;
		return 0;
	}
}

/* The value of header `name` (with its colon) in the header block [p, end), or NULL. */
static const char *header_value(const char *p, const char *end, const char *name)
{
	size_t name_len = strlen(name);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > name_len && !strncasecmp(p, name, name_len)) {
			p += name_len;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		p = eol + 1;
	}
	return NULL;
}

/* Reads one answer; its body is c->buf[*body_off, *body_off + *body_len) until the next
 * call, which first drops it (keeping whatever follows it). */
static int read_answer(struct conn *c, size_t *body_off, size_t *body_len)
{
	char *head_end;
	while (!(head_end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
		if (recv_more(c) < 0)
			return -1;
	size_t head_len = (size_t)(head_end - c->buf) + 4;
	if (head_len < 12 || memcmp(c->buf, "HTTP/1.", 7) || memcmp(c->buf + 8, " 200", 4)) {
		fprintf(stderr, "net_workload: unexpected answer: %.*s\n", (int)(head_len - 4),
		        c->buf);
		return -1;
	}
	const char *cl = header_value(c->buf, head_end, "content-length:");
	if (!cl || header_value(c->buf, head_end, "transfer-encoding:")) {
		fprintf(stderr, "net_workload: an answer without a Content-Length\n");
		return -1;
	}
	char *cl_end;
	errno = 0;
	unsigned long long len = strtoull(cl, &cl_end, 10);
	if (errno || cl_end == cl || len > sizeof c->buf - head_len) {
		fprintf(stderr, "net_workload: bad or too large Content-Length: %.20s\n", cl);
		return -1;
	}
	while (c->len < head_len + len)
		if (recv_more(c) < 0)
			return -1;
	*body_off = head_len;
	*body_len = (size_t)len;
	return 0;
}

/* Forgets the answer just read, keeping what came after it. */
static void drop_answer(struct conn *c, size_t end)
{
	memmove(c->buf, c->buf + end, c->len - end);
	c->len -= end;
}

static int run(const char *port_arg, const char *calls_arg, const char *dir)
{
	char *port_end, *calls_end;
	unsigned long port = strtoul(port_arg, &port_end, 10);
	unsigned long calls = strtoul(calls_arg, &calls_end, 10);
	if (port == 0 || port > 65535 || *port_end || calls == 0 || calls > MAX_CALLS ||
	    *calls_end) {
		fprintf(stderr, "net_workload: bad PORT or CALLS (1 to %d)\n", MAX_CALLS);
		return 2;
	}
	static struct conn c; /* 64 KiB: not on the stack */
	uint64_t sum = 0xCBF29CE484222325u, body_bytes = 0, file_bytes = 0, wait_ns = 0;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);

	uint64_t t0 = raw_monotonic_ns();
	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		fprintf(stderr, "net_workload: cannot connect to 127.0.0.1:%lu: %s\n", port,
		        strerror(errno));
		return 1;
	}
	for (unsigned long i = 0; i < calls; i++) {
		char path[4096], request[512];
		struct timespec now, sent, answered;
		/* Between calls, as an agent does: reread a context file, take the time. */
		snprintf(path, sizeof path, "%s/context-%02lu.txt", dir, i % FILES);
		if (read_context(path, &sum, &file_bytes) < 0)
			return 1;
		clock_gettime(CLOCK_REALTIME, &now);
		int len = snprintf(request, sizeof request,
		                   "GET /v1/step/%lu?t=%lld.%09ld HTTP/1.1\r\n"
		                   "Host: 127.0.0.1:%lu\r\n"
		                   "User-Agent: net_workload\r\n"
		                   "Accept: */*\r\n"
		                   "\r\n",
		                   i, (long long)now.tv_sec, now.tv_nsec, port);
		clock_gettime(CLOCK_MONOTONIC, &sent);
		uint64_t w0 = raw_monotonic_ns();
		size_t body_off, body_len;
		if (send_all(c.fd, request, (size_t)len) < 0 ||
		    read_answer(&c, &body_off, &body_len) < 0)
			return 1;
		wait_ns += raw_monotonic_ns() - w0;
		clock_gettime(CLOCK_MONOTONIC, &answered);
		sum = fnv1a(sum, c.buf + body_off, body_len);
		body_bytes += body_len;
		/* The latency the agent would log: a replay must be fed the recorded clock. */
		int64_t latency = (int64_t)(answered.tv_sec - sent.tv_sec) * 1000000000 +
		                  (answered.tv_nsec - sent.tv_nsec);
		sum = fnv1a(sum, &latency, sizeof latency);
		drop_answer(&c, body_off + body_len);
	}
	close(c.fd);
	uint64_t t1 = raw_monotonic_ns();
	if (t0 == 0 || t1 <= t0) {
		fprintf(stderr, "net_workload: the raw clock failed\n");
		return 1;
	}
	printf("calls=%lu body_bytes=%llu file_bytes=%llu checksum=%016llx\n", calls,
	       (unsigned long long)body_bytes, (unsigned long long)file_bytes,
	       (unsigned long long)sum);
	if (fflush(stdout) != 0)
		return 1;
	char line[96];
	int n = snprintf(line, sizeof line, "total_ns=%llu wait_ns=%llu\n",
	                 (unsigned long long)(t1 - t0), (unsigned long long)wait_ns);
	raw_write(1, line, (size_t)n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "setup"))
		return setup(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], argv[4]);
	FILE *f =
	    argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? stdout : stderr;
	fprintf(
	    f,
	    "usage: net_workload setup DIR           create DIR/ with %d files of %d-%d bytes\n"
	    "       net_workload run PORT CALLS DIR  CALLS HTTP GETs to 127.0.0.1:PORT on one\n"
	    "                                        keep-alive connection, a file and the\n"
	    "                                        clocks read before each; print a checksum\n",
	    FILES, MIN_SIZE, MAX_SIZE);
	return f == stdout ? 0 : 2;
}
