/* What the TLS hooks share (preload/hooks_tls.c, preload/tls_lib.c): the OpenSSL functions
 * they call, found per library, and the connections they follow. */
#ifndef AGENTTRACE_TLS_INTERNAL_H
#define AGENTTRACE_TLS_INTERNAL_H

#include <stdint.h>

#include "preload_internal.h"

/* libcrypto functions the hooks call (declared here, never defined: only their types are
 * used, the addresses come from the library). */
unsigned long ERR_get_error_all(const char **file, int *line, const char **func, const char **data,
                                int *flags);
void ERR_new(void);
void ERR_set_debug(const char *file, int line, const char *func);
void ERR_set_error(int lib, int reason, const char *fmt, ...);
void ERR_clear_error(void);
int i2d_X509(const X509 *x, unsigned char **out);
X509 *d2i_X509(X509 **x, const unsigned char **in, long len);
void X509_free(X509 *x);
/* The hooked functions (hooks_tls.c defines them; the types are libssl's). */
SSL *SSL_new(SSL_CTX *ctx);
void SSL_free(SSL *ssl);
int SSL_connect(SSL *ssl);
int SSL_do_handshake(SSL *ssl);
int SSL_accept(SSL *ssl);
int SSL_read(SSL *ssl, void *buf, int num);
int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes);
int SSL_peek(SSL *ssl, void *buf, int num);
int SSL_peek_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes);
int SSL_write(SSL *ssl, const void *buf, int num);
int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written);
int SSL_shutdown(SSL *ssl);
int SSL_pending(const SSL *ssl);
int SSL_has_pending(const SSL *ssl);
int SSL_get_error(const SSL *ssl, int ret);
long SSL_get_verify_result(const SSL *ssl);
X509 *SSL_get1_peer_certificate(const SSL *ssl);
X509 *SSL_get0_peer_certificate(const SSL *ssl);
void SSL_get0_alpn_selected(const SSL *ssl, const unsigned char **data, unsigned int *len);
const char *SSL_get_version(const SSL *ssl);
const SSL_CIPHER *SSL_get_current_cipher(const SSL *ssl);
int SSL_session_reused(const SSL *ssl);
int SSL_is_init_finished(const SSL *ssl);
int SSL_in_init(const SSL *ssl);
int SSL_in_before(const SSL *ssl);
int SSL_get_shutdown(const SSL *ssl);
uint16_t SSL_CIPHER_get_protocol_id(const SSL_CIPHER *c);
const SSL_CIPHER *SSL_CIPHER_find(SSL *ssl, const unsigned char *ptr);

#define AT_TLS_FUNCS(X)                                                                            \
	X(SSL_new)                                                                                 \
	X(SSL_free)                                                                                \
	X(SSL_connect)                                                                             \
	X(SSL_do_handshake)                                                                        \
	X(SSL_accept)                                                                              \
	X(SSL_read)                                                                                \
	X(SSL_read_ex)                                                                             \
	X(SSL_peek)                                                                                \
	X(SSL_peek_ex)                                                                             \
	X(SSL_write)                                                                               \
	X(SSL_write_ex)                                                                            \
	X(SSL_shutdown)                                                                            \
	X(SSL_pending)                                                                             \
	X(SSL_has_pending)                                                                         \
	X(SSL_get_error)                                                                           \
	X(SSL_get_verify_result)                                                                   \
	X(SSL_get1_peer_certificate)                                                               \
	X(SSL_get0_peer_certificate)                                                               \
	X(SSL_get0_alpn_selected)                                                                  \
	X(SSL_get_version)                                                                         \
	X(SSL_get_current_cipher)                                                                  \
	X(SSL_session_reused)                                                                      \
	X(SSL_is_init_finished)                                                                    \
	X(SSL_in_init)                                                                             \
	X(SSL_in_before)                                                                           \
	X(SSL_get_shutdown)                                                                        \
	X(SSL_CIPHER_get_protocol_id)                                                              \
	X(SSL_CIPHER_find)                                                                         \
	X(ERR_get_error_all)                                                                       \
	X(ERR_new)                                                                                 \
	X(ERR_set_debug)                                                                           \
	X(ERR_set_error)                                                                           \
	X(ERR_clear_error)                                                                         \
	X(i2d_X509)                                                                                \
	X(d2i_X509)                                                                                \
	X(X509_free)

enum {
#define AT_TLS_ENUM(name) TLS_FN_##name,
	AT_TLS_FUNCS(AT_TLS_ENUM)
#undef AT_TLS_ENUM
	    TLS_FN_COUNT
};

/* One loaded libssl (a process may hold several: a wheel can bundle its own). */
struct at_tls_lib {
	void *fn[TLS_FN_COUNT];
};

/* The libssl the code at `caller` (a return address) would call without us; NULL when none
 * is loaded. Cached per call site, so the common case is one hash probe. *internal says
 * (unless NULL) whether the call site is in libssl or libcrypto themselves: OpenSSL calls its own
 * exported functions through the PLT, and those calls are its business, not the
 * program's. */
struct at_tls_lib *at_tls_lib_for(uintptr_t caller, int *internal);

/* The real function `name` of library L (NULL if it lacks it), with its own type. */
#define TLS_REAL(L, name) ((__typeof__(&name))(L)->fn[TLS_FN_##name])

/* A connection the hooks follow: an SSL object made by SSL_new while recording or
 * replaying. Its number is what events carry in arg0. */
struct at_tls_conn {
	uintptr_t ssl;   /* the SSL object; 0: free slot; 1: a slot freed */
	uint32_t id;     /* the connection's number */
	int32_t fd;      /* the socket the library used, -1 until known */
	X509 *peer_cert; /* replay: SSL_get0_peer_certificate's answer, freed with the SSL */
};

struct at_tls_conn *at_tls_conn_find(const void *ssl);
/* NULL when the table is full: the connection then passes through. */
struct at_tls_conn *at_tls_conn_add(const void *ssl, uint32_t id);
void at_tls_conn_drop(struct at_tls_conn *c);

#endif
