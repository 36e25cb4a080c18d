/* net_workload: an agent's network pattern for bench/run.sh, which times it bare, under
 * `agenttrace record` and under `agenttrace replay`: many HTTP/1.1 calls on one keep-alive
 * TCP connection to a local server, with file and clock reads between the calls.
 *
 *   net_workload setup DIR             creates DIR/ with AGENT_FILES small files (1-4 KiB)
 *   net_workload run PORT CALLS DIR    CALLS GETs to 127.0.0.1:PORT on one connection; before
 *                                      each, reads one of the files (open, read to EOF,
 *                                      close) and the clocks; prints one line
 *
 * Plain libc sockets (socket, connect, send, recv), no HTTP library. The calls, and the
 * parser of the answers, are http_agent.c's, shared with tls_workload.c: every answer must
 * carry a Content-Length (tests/e2e/http_server.py's do); the parser copes with an answer
 * split over any number of reads, and with bytes of the next one arriving early. What the
 * program saw (bodies, file content, clock values) goes into the checksum on its first line,
 * so a replay prints that line only if it was fed everything it recorded. As in
 * files_workload.c, the run is timed by the raw `syscall` clock and the times are written
 * with a raw `write`: the preload sees neither. Setup is never timed or recorded. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_agent.h"
#include "raw_syscall.h"

#define WHO "net_workload"

static int send_all(void *ctx, const char *p, size_t len)
{
	int fd = *(int *)ctx;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, WHO ": send: %s\n", n < 0 ? strerror(errno) : "sent 0");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t recv_some(void *ctx, char *buf, size_t cap)
{
	int fd = *(int *)ctx;
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, WHO ": recv: %s\n",
			        n < 0 ? strerror(errno) : "the server closed the connection");
			return -1;
		}
		return n;
	}
}

static int run(const char *port_arg, const char *calls_arg, const char *dir)
{
	unsigned long port, calls;
	if (agent_args(WHO, port_arg, calls_arg, &port, &calls) < 0)
		return 2;
	int fd;
	struct agent_io io = {.who = WHO, .ctx = &fd, .send_all = send_all, .recv_some = recv_some};
	struct agent_sums s;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);

	uint64_t t0 = raw_monotonic_ns();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		fprintf(stderr, WHO ": cannot connect to 127.0.0.1:%lu: %s\n", port,
		        strerror(errno));
		return 1;
	}
	if (agent_calls(&io, port, calls, dir, &s) < 0)
		return 1;
	close(fd);
	uint64_t t1 = raw_monotonic_ns();
	return agent_report(WHO, calls, &s, t0, t1);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "setup"))
		return agent_setup(WHO, argv[2]);
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
	    AGENT_FILES, AGENT_MIN_SIZE, AGENT_MAX_SIZE);
	return f == stdout ? 0 : 2;
}
