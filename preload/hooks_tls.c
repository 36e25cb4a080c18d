/* The TLS family: OpenSSL 3 (libssl.so.3, which curl, libcurl and Python's ssl use) at its
 * API, so a trace holds the plaintext the program wrote and read, not ciphertext.
 *
 * Recording: each call runs for real. The library's reads and writes of its socket pass
 * through unrecorded: they are the TLS event's ciphertext, and the socket becomes the
 * connection's fd, for `show`. Everything else hooked inside the call (the library's clock,
 * randomness and certificate files; code of the program's own it calls back, like curl
 * loading its CA file from a BIO callback) is recorded marked AT_EVF_NESTED. Replay does
 * not run the call, so it skips those, but serves them should the program make the same
 * calls later (curl then loads the CA file after the handshake instead).
 *
 * Replay: no TLS call runs. The SSL object is real (SSL_new runs, so the program can set it
 * up as it likes), but the handshake "succeeds" from the trace, reads are served from it,
 * writes are compared with it, and what a client asks of the finished handshake (the
 * verify result, the peer certificate, ALPN, version, cipher) comes from it too. A call
 * that failed hands the program the same error queue and errno, so the same failure
 * (a bad certificate, a reset) gives the same message.
 *
 * Connections are numbered by SSL_new; events carry the number in arg0. SSL objects we did
 * not see made (recording off, table full) pass through. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "agenttrace/tls.h"
#include "tls_internal.h"

#define malloc do_not_allocate_in_hooks

#define CALLER     ((uintptr_t)__builtin_return_address(0))
#define CERT_MAX   16384 /* bytes of DER kept of a peer certificate */
#define ERRQ_MAX   4096  /* bytes kept of an error queue */
#define TXT_STRING 0x02  /* ERR_TXT_STRING: the entry's data is text */

int at_tls_last_socket(int reset);

static uint32_t next_conn; /* record: the last connection number given */

/* The mode for a call on `ssl`: record or replay only for connections we follow. */
static inline int tls_enter(const void *ssl, struct at_tls_conn **c)
{
	int m = at_enter();
	if (m < AT_MODE_RECORD || at_tls_watch) /* a TLS call inside one: part of it */
		return m < AT_MODE_RECORD ? m : AT_MODE_OFF;
	*c = ssl ? at_tls_conn_find(ssl) : NULL;
	return *c ? m : AT_MODE_OFF;
}

/* Record: brackets the real call (see the top of the file). */
static inline void tls_begin(void)
{
	at_tls_last_socket(1);
	at_tls_watch = 1;
}

static inline void tls_end(struct at_tls_conn *c)
{
	at_tls_watch = 0;
	int fd = at_tls_last_socket(1);
	if (fd >= 0)
		c->fd = fd;
}

/* ---- the error queue ---- */

static void raise_error(const struct at_tls_lib *L, const struct at_tls_error *e, const char *file,
                        const char *func)
{
	int lib = at_tls_error_lib(e->code), reason = at_tls_error_reason(e->code);
	TLS_REAL(L, ERR_new)();
	TLS_REAL(L, ERR_set_debug)(file, e->line, func);
	if ((e->flags & TXT_STRING) && e->data[0])
		TLS_REAL(L, ERR_set_error)(lib, reason, "%s", e->data);
	else
		TLS_REAL(L, ERR_set_error)(lib, reason, NULL);
}

static int can_raise(const struct at_tls_lib *L)
{
	return L->fn[TLS_FN_ERR_new] && L->fn[TLS_FN_ERR_set_debug] &&
	       L->fn[TLS_FN_ERR_set_error] && L->fn[TLS_FN_ERR_clear_error];
}

/* Record: takes the queue a failed call left, packs it into `out`, and puts it back as it
 * was, so that the program reads the same queue now as it will in replay. */
static size_t take_errors(const struct at_tls_lib *L, uint8_t *out, size_t cap)
{
	struct at_tls_error e[AT_TLS_MAX_ERRORS], copy[AT_TLS_MAX_ERRORS];
	int n = 0;
	if (!L->fn[TLS_FN_ERR_get_error_all] || !can_raise(L)) /* not OpenSSL 3 */
		return at_tls_errors_pack(NULL, 0, out, cap);
	at_guard++;
	unsigned long code;
	const char *file, *func, *data;
	int line, flags;
	while (n < AT_TLS_MAX_ERRORS &&
	       (code = TLS_REAL(L, ERR_get_error_all)(&file, &line, &func, &data, &flags))) {
		e[n++] = (struct at_tls_error){
		    (uint32_t)code,  line, flags, file ? file : "", func ? func : "",
		    data ? data : ""};
	}
	size_t len = at_tls_errors_pack(e, n, out, cap);
	/* data strings belong to the queue's slots, which raising reuses: raise from the
	 * packed copy. File and function are the library's own string constants. */
	int m = at_tls_errors_unpack(out, len, copy, AT_TLS_MAX_ERRORS);
	for (int i = 0; i < m; i++)
		raise_error(L, &copy[i], e[i].file, e[i].func);
	at_guard--;
	return len;
}

/* Replay: the queue becomes what the recorded call left. Strings point into the replay
 * stream, which stays mapped: OpenSSL keeps the file and function pointers it is given. */
static void give_errors(const struct at_tls_lib *L, const struct at_rawrec *ev)
{
	struct at_tls_error e[AT_TLS_MAX_ERRORS];
	uint32_t len;
	const uint8_t *p = at_rawrec_payload(ev, &len);
	int n = at_tls_errors_unpack(p, len, e, AT_TLS_MAX_ERRORS);
	if (!can_raise(L))
		return;
	TLS_REAL(L, ERR_clear_error)();
	for (int i = 0; i < n; i++)
		raise_error(L, &e[i], e[i].file, e[i].func);
}

/* Record: one TLS event. A call that failed (ret <= 0) stores the error queue and errno;
 * one that succeeded stores `data` (n bytes, may be none). */
static void record_tls(const struct at_tls_lib *L, uint16_t call, struct at_tls_conn *c,
                       int64_t ret, int err, uint64_t arg1, const void *data, size_t n, uint64_t t0)
{
	if (ret > 0) {
		struct iovec part = AT_PART(data, n);
		at_record_parts(call, c->fd, ret, 0, c->id, arg1, &part, 1, SIZE_MAX, t0);
		return;
	}
	uint8_t q[ERRQ_MAX];
	struct iovec part = AT_PART(q, take_errors(L, q, sizeof q));
	at_record_parts(call, c->fd, ret, err, c->id, arg1, &part, 1, SIZE_MAX, t0);
}

/* Replay: the recorded result; after a failure also its error queue and errno (0 too:
 * Python reads errno after SSL_ERROR_SYSCALL, and a stale one would change its message). */
static int64_t replay_tls(const struct at_tls_lib *L, const struct at_rawrec *ev)
{
	if (ev->ret > 0)
		return ev->ret;
	give_errors(L, ev);
	errno = at_rawrec_err(ev);
	return ev->ret;
}

/* ---- making and freeing connections ---- */

AT_HOOK SSL *SSL_new(SSL_CTX *ctx)
{
	struct at_tls_lib *L = at_tls_lib_for(CALLER, NULL);
	if (!L || !L->fn[TLS_FN_SSL_new])
		return NULL;
	SSL *s = TLS_REAL(L, SSL_new)(ctx);
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int64_t id = 0;
		if (s) {
			uint32_t n = __atomic_add_fetch(&next_conn, 1, __ATOMIC_RELAXED);
			id = at_tls_conn_add(s, n) ? (int64_t)n : -1; /* -1: made, not followed */
		}
		at_record(AT_CALL_SSL_new, id, 0, 0, 0, NULL, 0, t0);
		return s;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_SSL_new, 0, 0);
		if (ev->ret > 0 && s && !at_tls_conn_add(s, (uint32_t)ev->ret))
			at_replay_refuse(ev, "more TLS connections at once than replay can follow");
		if (ev->ret == 0 && s) { /* it failed when recorded */
			TLS_REAL(L, SSL_free)(s);
			s = NULL;
		}
		return s;
	}
	default: return s;
	}
}

AT_HOOK void SSL_free(SSL *ssl)
{
	struct at_tls_lib *L = at_tls_lib_for(CALLER, NULL);
	struct at_tls_conn *c = ssl ? at_tls_conn_find(ssl) : NULL;
	if (c) {
		if (c->peer_cert && L && L->fn[TLS_FN_X509_free])
			TLS_REAL(L, X509_free)(c->peer_cert);
		at_tls_conn_drop(c);
	}
	if (L && L->fn[TLS_FN_SSL_free])
		TLS_REAL(L, SSL_free)(ssl);
}

/* ---- the handshake and shutdown ---- */

static int state_call(uint16_t call, int fn, SSL *ssl, uintptr_t caller)
{
	struct at_tls_lib *L = at_tls_lib_for(caller, NULL);
	int (*real)(SSL *) = L ? (int (*)(SSL *))L->fn[fn] : NULL;
	struct at_tls_conn *c = NULL;
	if (!real)
		return -1;
	switch (tls_enter(ssl, &c)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		tls_begin();
		int r = real(ssl);
		int e = errno;
		tls_end(c);
		record_tls(L, call, c, r, e, 0, NULL, 0, t0);
		errno = e;
		return r;
	}
	case AT_MODE_REPLAY: return (int)replay_tls(L, at_replay_take_any_fd(call, c->id, 0, 1));
	default: return real(ssl);
	}
}

AT_HOOK int SSL_connect(SSL *ssl)
{
	return state_call(AT_CALL_SSL_connect, TLS_FN_SSL_connect, ssl, CALLER);
}

AT_HOOK int SSL_do_handshake(SSL *ssl)
{
	return state_call(AT_CALL_SSL_do_handshake, TLS_FN_SSL_do_handshake, ssl, CALLER);
}

AT_HOOK int SSL_accept(SSL *ssl)
{
	return state_call(AT_CALL_SSL_accept, TLS_FN_SSL_accept, ssl, CALLER);
}

AT_HOOK int SSL_shutdown(SSL *ssl)
{
	return state_call(AT_CALL_SSL_shutdown, TLS_FN_SSL_shutdown, ssl, CALLER);
}

/* ---- reading and writing ---- */

/* The real SSL_read, SSL_peek or SSL_write (the buffer's constness aside, one signature),
 * or their _ex forms (ex: the count goes to *done, the return value is 1 or 0). */
static int real_io(void *real, int ex, SSL *ssl, void *buf, size_t num, size_t *done)
{
	return ex ? ((int (*)(SSL *, void *, size_t, size_t *))real)(ssl, buf, num, done)
	          : ((int (*)(SSL *, void *, int))real)(ssl, buf, (int)num);
}

/* The data calls: `write` for SSL_write and SSL_write_ex, else a read or a peek. */
static int io_call(uint16_t call, int fn, int ex, int write, SSL *ssl, void *buf, size_t num,
                   size_t *done, uintptr_t caller)
{
	struct at_tls_lib *L = at_tls_lib_for(caller, NULL);
	void *real = L ? L->fn[fn] : NULL;
	struct at_tls_conn *c = NULL;
	if (!real)
		return ex ? 0 : -1;
	int mode = tls_enter(ssl, &c);
	if (mode == AT_MODE_RECORD) {
		uint64_t t0 = at_stamp();
		size_t moved = 0;
		tls_begin();
		int r = real_io(real, ex, ssl, buf, num, &moved);
		int e = errno;
		tls_end(c);
		if (!ex && r > 0)
			moved = (size_t)r;
		if (ex && done)
			*done = moved;
		record_tls(L, call, c, r, e, num, buf, moved, t0);
		errno = e;
		return r;
	}
	if (mode != AT_MODE_REPLAY)
		return real_io(real, ex, ssl, buf, num, done);
	/* A write's count is not a key: a write of other bytes is reported with the bytes. */
	const struct at_rawrec *ev = at_replay_take_any_fd(call, c->id, num, !write);
	size_t moved = 0;
	if (ev->ret > 0 && write) {
		uint32_t want;
		at_rawrec_payload(ev, &want);
		struct iovec part = AT_PART(buf, num);
		at_replay_check_sent_n(ev, 0, &part, 1, num, want, ev->arg1);
		moved = want;
	} else if (ev->ret > 0) {
		moved = at_replay_copy(ev, buf, num);
	}
	if (ex && done)
		*done = moved;
	return (int)replay_tls(L, ev);
}

AT_HOOK int SSL_read(SSL *ssl, void *buf, int num)
{
	return io_call(AT_CALL_SSL_read, TLS_FN_SSL_read, 0, 0, ssl, buf, num < 0 ? 0 : (size_t)num,
	               NULL, CALLER);
}

AT_HOOK int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes)
{
	return io_call(AT_CALL_SSL_read_ex, TLS_FN_SSL_read_ex, 1, 0, ssl, buf, num, readbytes,
	               CALLER);
}

AT_HOOK int SSL_peek(SSL *ssl, void *buf, int num)
{
	return io_call(AT_CALL_SSL_peek, TLS_FN_SSL_peek, 0, 0, ssl, buf, num < 0 ? 0 : (size_t)num,
	               NULL, CALLER);
}

AT_HOOK int SSL_peek_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes)
{
	return io_call(AT_CALL_SSL_peek_ex, TLS_FN_SSL_peek_ex, 1, 0, ssl, buf, num, readbytes,
	               CALLER);
}

AT_HOOK int SSL_write(SSL *ssl, const void *buf, int num)
{
	return io_call(AT_CALL_SSL_write, TLS_FN_SSL_write, 0, 1, ssl, (void *)buf,
	               num < 0 ? 0 : (size_t)num, NULL, CALLER);
}

AT_HOOK int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written)
{
	return io_call(AT_CALL_SSL_write_ex, TLS_FN_SSL_write_ex, 1, 1, ssl, (void *)buf, num,
	               written, CALLER);
}

/* ---- questions with an integer answer ---- */
/* Questions about a connection's state. Asked by OpenSSL of itself (internal) they are
 * part of whatever it is doing, and pass through. */

static long int_call(uint16_t call, int fn, const SSL *ssl, int has_arg, int arg, uintptr_t caller)
{
	int internal;
	struct at_tls_lib *L = at_tls_lib_for(caller, &internal);
	void *real = L ? L->fn[fn] : NULL;
	struct at_tls_conn *c = NULL;
	uint64_t a1 = has_arg ? (uint64_t)(int64_t)arg : 0;
	if (!real)
		return 0;
#define ASK()                                                                                        \
	(has_arg                                 ? (long)((int (*)(const SSL *, int))real)(ssl, arg) \
	 : call == AT_CALL_SSL_get_verify_result ? ((long (*)(const SSL *))real)(ssl)                \
	                                         : (long)((int (*)(const SSL *))real)(ssl))
	switch (internal ? AT_MODE_OFF : tls_enter(ssl, &c)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		at_guard++;
		long r = ASK();
		at_guard--;
		at_record_parts(call, c->fd, r, 0, c->id, a1, NULL, 0, 0, t0);
		return r;
	}
	case AT_MODE_REPLAY: return (long)at_replay_take_any_fd(call, c->id, a1, 1)->ret;
	default: return ASK();
	}
#undef ASK
}

AT_HOOK int SSL_pending(const SSL *ssl)
{
	return (int)int_call(AT_CALL_SSL_pending, TLS_FN_SSL_pending, ssl, 0, 0, CALLER);
}

AT_HOOK int SSL_has_pending(const SSL *ssl)
{
	return (int)int_call(AT_CALL_SSL_has_pending, TLS_FN_SSL_has_pending, ssl, 0, 0, CALLER);
}

AT_HOOK int SSL_get_error(const SSL *ssl, int ret)
{
	return (int)int_call(AT_CALL_SSL_get_error, TLS_FN_SSL_get_error, ssl, 1, ret, CALLER);
}

AT_HOOK long SSL_get_verify_result(const SSL *ssl)
{
	return int_call(AT_CALL_SSL_get_verify_result, TLS_FN_SSL_get_verify_result, ssl, 0, 0,
	                CALLER);
}

AT_HOOK int SSL_session_reused(const SSL *ssl)
{
	return (int)int_call(AT_CALL_SSL_session_reused, TLS_FN_SSL_session_reused, ssl, 0, 0,
	                     CALLER);
}

/* The handshake's state: in replay the real SSL object never made one, so it would say
 * "not finished" (Python's version() then answers None without asking). */
AT_HOOK int SSL_is_init_finished(const SSL *ssl)
{
	return (int)int_call(AT_CALL_SSL_is_init_finished, TLS_FN_SSL_is_init_finished, ssl, 0, 0,
	                     CALLER);
}

AT_HOOK int SSL_in_init(const SSL *ssl)
{
	return (int)int_call(AT_CALL_SSL_in_init, TLS_FN_SSL_in_init, ssl, 0, 0, CALLER);
}

AT_HOOK int SSL_in_before(const SSL *ssl)
{
	return (int)int_call(AT_CALL_SSL_in_before, TLS_FN_SSL_in_before, ssl, 0, 0, CALLER);
}

AT_HOOK int SSL_get_shutdown(const SSL *ssl)
{
	return (int)int_call(AT_CALL_SSL_get_shutdown, TLS_FN_SSL_get_shutdown, ssl, 0, 0, CALLER);
}

/* ---- what the handshake settled ---- */

/* The peer's certificate: recorded as DER, rebuilt in replay (a new X509 for get1, which
 * the caller frees; one kept with the connection for get0). */
static X509 *cert_call(uint16_t call, int fn, const SSL *ssl, uintptr_t caller)
{
	int internal;
	struct at_tls_lib *L = at_tls_lib_for(caller, &internal);
	X509 *(*real)(const SSL *) = L ? (X509 * (*)(const SSL *)) L->fn[fn] : NULL;
	struct at_tls_conn *c = NULL;
	if (!real)
		return NULL;
	switch (internal ? AT_MODE_OFF : tls_enter(ssl, &c)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		uint8_t der[CERT_MAX], *p = der;
		at_guard++;
		X509 *x = real(ssl);
		int n = x && L->fn[TLS_FN_i2d_X509] ? TLS_REAL(L, i2d_X509)(x, NULL) : 0;
		if (n > 0 && n <= CERT_MAX)
			n = TLS_REAL(L, i2d_X509)(x, &p);
		else
			n = 0; /* too large to keep: replay answers NULL */
		at_guard--;
		struct iovec part = AT_PART(der, n > 0 ? (size_t)n : 0);
		at_record_parts(call, c->fd, x != NULL, 0, c->id, 0, &part, 1, SIZE_MAX, t0);
		return x;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_any_fd(call, c->id, 0, 1);
		uint32_t len;
		const unsigned char *p = at_rawrec_payload(ev, &len);
		X509 *x = NULL;
		if (ev->ret && len && L->fn[TLS_FN_d2i_X509])
			x = TLS_REAL(L, d2i_X509)(NULL, &p, len);
		if (x && call == AT_CALL_SSL_get0_peer_certificate) {
			if (c->peer_cert && L->fn[TLS_FN_X509_free])
				TLS_REAL(L, X509_free)(c->peer_cert);
			c->peer_cert = x;
		}
		return x;
	}
	default: return real(ssl);
	}
}

AT_HOOK X509 *SSL_get1_peer_certificate(const SSL *ssl)
{
	return cert_call(AT_CALL_SSL_get1_peer_certificate, TLS_FN_SSL_get1_peer_certificate, ssl,
	                 CALLER);
}

AT_HOOK X509 *SSL_get0_peer_certificate(const SSL *ssl)
{
	return cert_call(AT_CALL_SSL_get0_peer_certificate, TLS_FN_SSL_get0_peer_certificate, ssl,
	                 CALLER);
}

AT_HOOK void SSL_get0_alpn_selected(const SSL *ssl, const unsigned char **data, unsigned int *len)
{
	int internal;
	struct at_tls_lib *L = at_tls_lib_for(CALLER, &internal);
	struct at_tls_conn *c = NULL;
	if (!L || !L->fn[TLS_FN_SSL_get0_alpn_selected]) {
		*data = NULL;
		*len = 0;
		return;
	}
	switch (internal ? AT_MODE_OFF : tls_enter(ssl, &c)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		TLS_REAL(L, SSL_get0_alpn_selected)(ssl, data, len);
		struct iovec part = AT_PART(*data, *data ? *len : 0);
		at_record_parts(AT_CALL_SSL_get0_alpn_selected, c->fd, 0, 0, c->id, 0, &part, 1,
		                SIZE_MAX, t0);
		return;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_any_fd(AT_CALL_SSL_get0_alpn_selected, c->id, 0, 1);
		uint32_t n;
		const uint8_t *p = at_rawrec_payload(ev, &n);
		*data = n ? p : NULL; /* the stream stays mapped: the pointer stays good */
		*len = n;
		return;
	}
	default: TLS_REAL(L, SSL_get0_alpn_selected)(ssl, data, len);
	}
}

AT_HOOK const char *SSL_get_version(const SSL *ssl)
{
	int internal;
	struct at_tls_lib *L = at_tls_lib_for(CALLER, &internal);
	struct at_tls_conn *c = NULL;
	if (!L || !L->fn[TLS_FN_SSL_get_version])
		return "unknown";
	switch (internal ? AT_MODE_OFF : tls_enter(ssl, &c)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		const char *v = TLS_REAL(L, SSL_get_version)(ssl);
		struct iovec part = AT_PART(v, v ? strlen(v) + 1 : 0);
		at_record_parts(AT_CALL_SSL_get_version, c->fd, 0, 0, c->id, 0, &part, 1, 64, t0);
		return v;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_any_fd(AT_CALL_SSL_get_version, c->id, 0, 1);
		uint32_t n;
		const uint8_t *p = at_rawrec_payload(ev, &n);
		return n && p[n - 1] == 0 ? (const char *)p : "unknown";
	}
	default: return TLS_REAL(L, SSL_get_version)(ssl);
	}
}

/* The cipher: recorded as its two-byte TLS number, found again by it in replay. */
AT_HOOK const SSL_CIPHER *SSL_get_current_cipher(const SSL *ssl)
{
	int internal;
	struct at_tls_lib *L = at_tls_lib_for(CALLER, &internal);
	struct at_tls_conn *c = NULL;
	if (!L || !L->fn[TLS_FN_SSL_get_current_cipher])
		return NULL;
	switch (internal ? AT_MODE_OFF : tls_enter(ssl, &c)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		const SSL_CIPHER *ci = TLS_REAL(L, SSL_get_current_cipher)(ssl);
		uint8_t id[2] = {0, 0};
		if (ci && L->fn[TLS_FN_SSL_CIPHER_get_protocol_id]) {
			uint16_t v = TLS_REAL(L, SSL_CIPHER_get_protocol_id)(ci);
			id[0] = (uint8_t)(v >> 8);
			id[1] = (uint8_t)v;
		}
		struct iovec part = AT_PART(id, ci ? 2 : 0);
		at_record_parts(AT_CALL_SSL_get_current_cipher, c->fd, ci != NULL, 0, c->id, 0,
		                &part, 1, SIZE_MAX, t0);
		return ci;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_any_fd(AT_CALL_SSL_get_current_cipher, c->id, 0, 1);
		uint32_t n;
		const uint8_t *p = at_rawrec_payload(ev, &n);
		if (!ev->ret || n != 2 || !L->fn[TLS_FN_SSL_CIPHER_find])
			return NULL;
		return TLS_REAL(L, SSL_CIPHER_find)((SSL *)ssl, p);
	}
	default: return TLS_REAL(L, SSL_get_current_cipher)(ssl);
	}
}
