/* tls_workload: net_workload's busy agent over HTTPS, for bench/run.sh, which times it bare,
 * under `agenttrace record` and under `agenttrace replay` (issue 5: TLS is recorded at the
 * OpenSSL API, as plaintext).
 *
 *   tls_workload setup DIR                   creates DIR/ with the context files (the same
 *                                            as net_workload setup's)
 *   tls_workload run PORT CALLS DIR CAFILE   CALLS GETs to https://127.0.0.1:PORT on one TLS
 *                                            connection, the server verified against CAFILE
 *
 * OpenSSL directly, as a C client would use it: SSL_CTX_new(TLS_client_method()) with the CA
 * file, peer verification and the IP checked, ALPN http/1.1 (the server must pick it), then
 * socket, connect, SSL_new, SSL_set_fd, SSL_connect, SSL_write and SSL_read for the calls,
 * SSL_shutdown at the end. The calls themselves, the answer parser and the two output lines
 * are http_agent.c's, as in net_workload.c: the checksum on the first line covers the bodies,
 * the files and the clock values, and the second line (total_ns from connect, handshake
 * included, to close; wait_ns) is timed by the raw `syscall` clock and written with a raw
 * `write`, so the preload sees neither. Creating the context (reading the CA file) comes
 * before the timed part. Setup is never timed or recorded. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_agent.h"
#include "raw_syscall.h"

#define WHO "tls_workload"

static const unsigned char alpn[] = "\x08http/1.1";

/* Says why an OpenSSL call on `ssl` that returned `ret` failed: OpenSSL's error queue,
 * or errno, or that the server closed the connection. */
static void tls_failed(const char *what, SSL *ssl, int ret)
{
	int saved = errno;
	int e = ssl ? SSL_get_error(ssl, ret) : SSL_ERROR_SSL;
	unsigned long code = ERR_peek_error();
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !code && !saved)) {
		fprintf(stderr, WHO ": %s: the server closed the connection\n", what);
	} else if (e == SSL_ERROR_SYSCALL && !code) {
		fprintf(stderr, WHO ": %s: %s\n", what, strerror(saved));
	} else {
		char text[256];
		ERR_error_string_n(code, text, sizeof text);
		fprintf(stderr, WHO ": %s: %s (SSL_get_error %d)\n", what, code ? text : "failed",
		        e);
	}
	ERR_clear_error();
}

static int send_all(void *ctx, const char *p, size_t len)
{
	SSL *ssl = ctx;
	while (len > 0) {
		int n = SSL_write(ssl, p, len > INT_MAX ? INT_MAX : (int)len);
		if (n <= 0) {
			if (SSL_get_error(ssl, n) == SSL_ERROR_SYSCALL && errno == EINTR)
				continue;
			tls_failed("SSL_write", ssl, n);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t recv_some(void *ctx, char *buf, size_t cap)
{
	SSL *ssl = ctx;
	for (;;) {
		int n = SSL_read(ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
		if (n > 0)
			return n;
		if (SSL_get_error(ssl, n) == SSL_ERROR_SYSCALL && errno == EINTR)
			continue;
		tls_failed("SSL_read", ssl, n);
		return -1;
	}
}

static int run(const char *port_arg, const char *calls_arg, const char *dir, const char *cafile)
{
	unsigned long port, calls;
	if (agent_args(WHO, port_arg, calls_arg, &port, &calls) < 0)
		return 2;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		tls_failed("SSL_CTX_new", NULL, 0);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		fprintf(stderr, WHO ": cannot load the CA file %s\n", cafile);
		tls_failed("SSL_CTX_load_verify_locations", NULL, 0);
		return 1;
	}
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) { /* 0 is success */
		tls_failed("SSL_CTX_set_alpn_protos", NULL, 0);
		return 1;
	}
	struct agent_sums s;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);

	uint64_t t0 = raw_monotonic_ns();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		fprintf(stderr, WHO ": cannot connect to 127.0.0.1:%lu: %s\n", port,
		        strerror(errno));
		return 1;
	}
	SSL *ssl = SSL_new(ctx);
	if (!ssl || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") != 1 ||
	    SSL_set_fd(ssl, fd) != 1) {
		tls_failed("SSL_new", NULL, 0);
		return 1;
	}
	int ret = SSL_connect(ssl);
	if (ret != 1) {
		tls_failed("SSL_connect", ssl, ret);
		long v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK)
			fprintf(stderr, WHO ": the server's certificate: %s\n",
			        X509_verify_cert_error_string(v));
		return 1;
	}
	const unsigned char *proto;
	unsigned proto_len;
	SSL_get0_alpn_selected(ssl, &proto, &proto_len);
	if (proto_len != sizeof alpn - 2 || memcmp(proto, alpn + 1, proto_len)) {
		fprintf(stderr, WHO ": the server did not choose ALPN http/1.1 (got '%.*s')\n",
		        (int)proto_len, proto ? (const char *)proto : "");
		return 1;
	}
	struct agent_io io = {.who = WHO, .ctx = ssl, .send_all = send_all, .recv_some = recv_some};
	if (agent_calls(&io, port, calls, dir, &s) < 0)
		return 1;
	SSL_shutdown(ssl); /* our close_notify; not waiting for the server's */
	SSL_free(ssl);
	close(fd);
	uint64_t t1 = raw_monotonic_ns();
	SSL_CTX_free(ctx);
	return agent_report(WHO, calls, &s, t0, t1);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "setup"))
		return agent_setup(WHO, argv[2]);
	if (argc == 6 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], argv[4], argv[5]);
	FILE *f =
	    argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? stdout : stderr;
	fprintf(
	    f,
	    "usage: tls_workload setup DIR                  create DIR/ with %d files of %d-%d "
	    "bytes\n"
	    "       tls_workload run PORT CALLS DIR CAFILE  CALLS HTTPS GETs to 127.0.0.1:PORT\n"
	    "                                               on one keep-alive connection, the\n"
	    "                                               server verified against CAFILE, a\n"
	    "                                               file and the clocks read before\n"
	    "                                               each; print a checksum\n",
	    AGENT_FILES, AGENT_MIN_SIZE, AGENT_MAX_SIZE);
	return f == stdout ? 0 : 2;
}
