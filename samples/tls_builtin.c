/* A program that carries its own TLS library, as Node.js does: it defines OpenSSL's
 * SSL_write itself and exports it. `agenttrace record` must say that its HTTPS traffic
 * cannot be recorded as plaintext (tests/e2e/tls_unseen.sh). Not a TLS library: the
 * function only stands where one would be. */
#include <stdio.h>
#include <string.h>

__attribute__((visibility("default"), used)) int SSL_write(void *ssl, const void *buf, int num)
{
	(void)ssl;
	return (int)fwrite(buf, 1, (size_t)num, stdout);
}

int main(void)
{
	const char *msg = "sent through a compiled-in SSL_write\n";
	return SSL_write(NULL, msg, (int)strlen(msg)) > 0 ? 0 : 1;
}
