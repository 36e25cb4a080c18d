/* The busy agent's calls, for net_workload.c and tls_workload.c: see http_agent.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_agent.h"
#include "raw_syscall.h"
#include "workload.h"

/* Room for one answer's headers and body (the test server's are about 200 bytes). */
#define CONN_BUF 65536

struct conn {
	const struct agent_io *io;
	size_t len; /* bytes in buf: the start of the next answer */
	char buf[CONN_BUF];
};

int agent_setup(const char *who, const char *dir)
{
	char path[4096];
	uint8_t buf[AGENT_MAX_SIZE];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create %s: %s\n", who, dir, strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < AGENT_FILES; i++) {
		uint64_t x = i + 0x2545F4914F6CDD1Du;
		size_t len =
		    AGENT_MIN_SIZE + (size_t)(xorshift(&x) % (AGENT_MAX_SIZE - AGENT_MIN_SIZE + 1));
		fill(buf, len, i);
		snprintf(path, sizeof path, "%s/context-%02u.txt", dir, i);
		FILE *f = fopen(path, "w");
		if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", who, path, strerror(errno));
			return 1;
		}
	}
	printf("%s: created %u files in %s\n", who, AGENT_FILES, dir);
	return 0;
}

int agent_args(const char *who, const char *port_arg, const char *calls_arg, unsigned long *port,
               unsigned long *calls)
{
	char *port_end, *calls_end;
	*port = strtoul(port_arg, &port_end, 10);
	*calls = strtoul(calls_arg, &calls_end, 10);
	if (*port == 0 || *port > 65535 || *port_end || *calls == 0 || *calls > AGENT_MAX_CALLS ||
	    *calls_end) {
		fprintf(stderr, "%s: bad PORT or CALLS (1 to %d)\n", who, AGENT_MAX_CALLS);
		return -1;
	}
	return 0;
}

/* Reads one context file to its end (open, read, close), folding it into *sum. */
static int read_context(const char *who, const char *path, uint64_t *sum, uint64_t *bytes)
{
	uint8_t buf[AGENT_MAX_SIZE];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s (run setup first)\n", who, path,
		        strerror(errno));
		return -1;
	}
	return read_to_end(who, path, fd, buf, sizeof buf, sum, bytes);
}

/* One more read into c->buf; -1 on error or if the server closed the connection. */
static int recv_more(struct conn *c)
{
	if (c->len == sizeof c->buf) {
		fprintf(stderr, "%s: an answer larger than %d bytes\n", c->io->who, CONN_BUF);
		return -1;
	}
	ssize_t n = c->io->recv_some(c->io->ctx, c->buf + c->len, sizeof c->buf - c->len);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return 0;
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
	const char *who = c->io->who;
	char *head_end;
	while (!(head_end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
		if (recv_more(c) < 0)
			return -1;
	size_t head_len = (size_t)(head_end - c->buf) + 4;
	if (head_len < 12 || memcmp(c->buf, "HTTP/1.", 7) || memcmp(c->buf + 8, " 200", 4)) {
		fprintf(stderr, "%s: unexpected answer: %.*s\n", who, (int)(head_len - 4), c->buf);
		return -1;
	}
	const char *cl = header_value(c->buf, head_end, "content-length:");
	if (!cl || header_value(c->buf, head_end, "transfer-encoding:")) {
		fprintf(stderr, "%s: an answer without a Content-Length\n", who);
		return -1;
	}
	char *cl_end;
	errno = 0;
	unsigned long long len = strtoull(cl, &cl_end, 10);
	if (errno || cl_end == cl || len > sizeof c->buf - head_len) {
		fprintf(stderr, "%s: bad or too large Content-Length: %.20s\n", who, cl);
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

int agent_calls(const struct agent_io *io, unsigned long port, unsigned long calls, const char *dir,
                struct agent_sums *s)
{
	static struct conn c; /* 64 KiB: not on the stack */
	c.io = io;
	c.len = 0;
	*s = (struct agent_sums){.sum = 0xCBF29CE484222325u};
	for (unsigned long i = 0; i < calls; i++) {
		char path[4096], request[512];
		struct timespec now, sent, answered;
		/* Between calls, as an agent does: reread a context file, take the time. */
		snprintf(path, sizeof path, "%s/context-%02lu.txt", dir, i % AGENT_FILES);
		if (read_context(io->who, path, &s->sum, &s->file_bytes) < 0)
			return -1;
		clock_gettime(CLOCK_REALTIME, &now);
		int len = snprintf(request, sizeof request,
		                   "GET /v1/step/%lu?t=%lld.%09ld HTTP/1.1\r\n"
		                   "Host: 127.0.0.1:%lu\r\n"
		                   "User-Agent: %s\r\n"
		                   "Accept: */*\r\n"
		                   "\r\n",
		                   i, (long long)now.tv_sec, now.tv_nsec, port, io->who);
		clock_gettime(CLOCK_MONOTONIC, &sent);
		uint64_t w0 = raw_monotonic_ns();
		size_t body_off, body_len;
		if (io->send_all(io->ctx, request, (size_t)len) < 0 ||
		    read_answer(&c, &body_off, &body_len) < 0)
			return -1;
		s->wait_ns += raw_monotonic_ns() - w0;
		clock_gettime(CLOCK_MONOTONIC, &answered);
		s->sum = fnv1a(s->sum, c.buf + body_off, body_len);
		s->body_bytes += body_len;
		/* The latency the agent would log: a replay must be fed the recorded clock. */
		int64_t latency = (int64_t)(answered.tv_sec - sent.tv_sec) * 1000000000 +
		                  (answered.tv_nsec - sent.tv_nsec);
		s->sum = fnv1a(s->sum, &latency, sizeof latency);
		drop_answer(&c, body_off + body_len);
	}
	return 0;
}

int agent_report(const char *who, unsigned long calls, const struct agent_sums *s, uint64_t t0,
                 uint64_t t1)
{
	if (t0 == 0 || t1 <= t0) {
		fprintf(stderr, "%s: the raw clock failed\n", who);
		return 1;
	}
	printf("calls=%lu body_bytes=%llu file_bytes=%llu checksum=%016llx\n", calls,
	       (unsigned long long)s->body_bytes, (unsigned long long)s->file_bytes,
	       (unsigned long long)s->sum);
	if (fflush(stdout) != 0)
		return 1;
	char line[96];
	int n = snprintf(line, sizeof line, "total_ns=%llu wait_ns=%llu\n",
	                 (unsigned long long)(t1 - t0), (unsigned long long)s->wait_ns);
	raw_write(1, line, (size_t)n);
	return 0;
}
