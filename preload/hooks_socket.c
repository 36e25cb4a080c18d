/* The socket family, part one: making sockets, connecting and accepting, moving bytes,
 * options and addresses; and the channels a program makes to itself.
 *
 * A socket the program makes or accepts is AT_FD_SOCKET. In replay it is a stand-in on the
 * recorded number (preload/files.c): every call on it is answered from the trace, so no
 * connection is opened and no byte leaves. What the program sends is checked against what
 * the recording sent. read, write and close on sockets are the file hooks'.
 *
 * Pipes, socket pairs, eventfds and epoll instances join the program to itself or to its
 * children, and children run live in replay: these are made for real in replay too, at
 * the recorded numbers, and their data passes through. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "agenttrace/net.h"
#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

#define ALIAS(name) __attribute__((alias(#name), visibility("default")))

static inline size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ---- making sockets ---- */

/* The real socket, or the system call before resolution (a constructor's socket). */
static int real_socket_any(int domain, int type, int protocol)
{
	if (AT_REAL(socket))
		return AT_REAL(socket)(domain, type, protocol);
	return (int)AT_LIBC_RESULT(at_sys(SYS_socket, domain, type, protocol));
}

AT_HOOK int socket(int domain, int type, int protocol)
{
	uint64_t a1 = (uint32_t)type | (uint64_t)(uint32_t)protocol << 32;
	switch (at_enter()) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = real_socket_any(domain, type, protocol);
		int e = AT_ERR_IF(r < 0);
		if (r >= 0)
			at_fd_set(r, AT_FD_SOCKET);
		at_record(AT_CALL_socket, r, e, (uint32_t)domain, a1, NULL, 0, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_socket, (uint32_t)domain, a1);
		int r = (int)at_replay_ret(ev), e = errno;
		if (r >= 0)
			at_replay_reserve_fd(r, AT_FD_SOCKET, type & SOCK_CLOEXEC, NULL, -1);
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default: return real_socket_any(domain, type, protocol);
	}
}

/* connect and bind: the address given is recorded, and checked in replay. */
static int address_hook(uint16_t call, int fd, const struct sockaddr *addr, socklen_t len)
{
	int kind = 0;
	long sys = call == AT_CALL_connect ? SYS_connect : SYS_bind;
	int (*real)(int, const struct sockaddr *, socklen_t) =
	    call == AT_CALL_connect ? AT_REAL(connect) : AT_REAL(bind);
	size_t n = addr ? len : 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r =
		    real ? real(fd, addr, len) : (int)AT_LIBC_RESULT(at_sys(sys, fd, addr, len));
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(addr, n);
		at_record_parts(call, fd, r, e, 0, 0, &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(call, fd, 0, 0);
		uint32_t plen;
		const uint8_t *want = at_rawrec_payload(ev, &plen);
		at_replay_check_addr(ev, want, plen, addr, n);
		return (int)at_replay_ret(ev);
	}
	default:
		return real ? real(fd, addr, len) : (int)AT_LIBC_RESULT(at_sys(sys, fd, addr, len));
	}
}

AT_HOOK int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return address_hook(AT_CALL_connect, fd, addr, len);
}

AT_HOOK int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return address_hook(AT_CALL_bind, fd, addr, len);
}

/* listen and shutdown: a status, and one integer that must match. */
static int status_hook(uint16_t call, int fd, int arg)
{
	int kind = 0;
	long sys = call == AT_CALL_listen ? SYS_listen : SYS_shutdown;
	int (*real)(int, int) = call == AT_CALL_listen ? AT_REAL(listen) : AT_REAL(shutdown);
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = real ? real(fd, arg) : (int)AT_LIBC_RESULT(at_sys(sys, fd, arg, 0));
		int e = AT_ERR_IF(r < 0);
		at_record_parts(call, fd, r, e, (uint32_t)arg, 0, NULL, 0, 0, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY:
		return (int)at_replay_ret(at_replay_take_fd(call, fd, (uint32_t)arg, 0));
	default: return real ? real(fd, arg) : (int)AT_LIBC_RESULT(at_sys(sys, fd, arg, 0));
	}
}

AT_HOOK int listen(int fd, int backlog)
{
	return status_hook(AT_CALL_listen, fd, backlog);
}

AT_HOOK int shutdown(int fd, int how)
{
	return status_hook(AT_CALL_shutdown, fd, how);
}

/* Replay: copies a recorded address (or option value) out, as the kernel would: at most
 * what the buffer holds, and the full length in *len. */
static void copy_out(const uint8_t *p, uint32_t n, void *buf, socklen_t *len)
{
	if (!buf || !len)
		return;
	memcpy(buf, p, min_size(n, *len));
	*len = n;
}

static int accept_hook(uint16_t call, int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int kind = 0;
	int asked = addr && len;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		socklen_t cap = asked ? *len : 0;
		uint64_t t0 = at_stamp();
		int r = call == AT_CALL_accept ? AT_REAL(accept)(fd, addr, len)
		                               : AT_REAL(accept4)(fd, addr, len, flags);
		int e = AT_ERR_IF(r < 0);
		if (r >= 0)
			at_fd_set(r, AT_FD_SOCKET);
		struct iovec part = AT_PART(addr, r >= 0 && asked ? min_size(*len, cap) : 0);
		at_record_parts(call, fd, r, e, (uint32_t)flags, asked, &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take_fd(call, fd, (uint32_t)flags, asked);
		int r = (int)at_replay_ret(ev), e = errno;
		if (r >= 0) {
			uint32_t plen;
			const uint8_t *p = at_rawrec_payload(ev, &plen);
			copy_out(p, plen, addr, len);
			at_replay_reserve_fd(r, AT_FD_SOCKET, flags & SOCK_CLOEXEC, NULL, -1);
		}
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default:
		if (call == AT_CALL_accept && AT_REAL(accept))
			return AT_REAL(accept)(fd, addr, len);
		if (call == AT_CALL_accept4 && AT_REAL(accept4))
			return AT_REAL(accept4)(fd, addr, len, flags);
		return (int)AT_LIBC_RESULT(
		    at_sys6(SYS_accept4, fd, (long)addr, (long)len, flags, 0, 0));
	}
}

AT_HOOK int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept_hook(AT_CALL_accept, fd, addr, len, 0);
}

AT_HOOK int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return accept_hook(AT_CALL_accept4, fd, addr, len, flags);
}

/* ---- options and addresses ---- */

/* getsockopt, getsockname and getpeername: a value comes back through (buf, *len). */
static int query_hook(uint16_t call, int fd, int level, int name, void *buf, socklen_t *len)
{
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		socklen_t cap = len ? *len : 0;
		uint64_t t0 = at_stamp();
		int r = call == AT_CALL_getsockopt ? AT_REAL(getsockopt)(fd, level, name, buf, len)
		        : call == AT_CALL_getsockname ? AT_REAL(getsockname)(fd, buf, len)
		                                      : AT_REAL(getpeername)(fd, buf, len);
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(buf, r == 0 && buf && len ? min_size(*len, cap) : 0);
		at_record_parts(call, fd, r, e, (uint32_t)level, (uint32_t)name, &part, 1, SIZE_MAX,
		                t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_fd(call, fd, (uint32_t)level, (uint32_t)name);
		int r = (int)at_replay_ret(ev), e = errno;
		if (r == 0) {
			uint32_t plen;
			const uint8_t *p = at_rawrec_payload(ev, &plen);
			copy_out(p, plen, buf, len);
		}
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default:
		if (call == AT_CALL_getsockopt)
			return AT_REAL(getsockopt)(fd, level, name, buf, len);
		return call == AT_CALL_getsockname ? AT_REAL(getsockname)(fd, buf, len)
		                                   : AT_REAL(getpeername)(fd, buf, len);
	}
}

AT_HOOK int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return query_hook(AT_CALL_getsockopt, fd, level, name, val, len);
}

AT_HOOK int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return query_hook(AT_CALL_getsockname, fd, 0, 0, addr, len);
}

AT_HOOK int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return query_hook(AT_CALL_getpeername, fd, 0, 0, addr, len);
}

AT_HOOK int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int kind = 0;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(setsockopt)(fd, level, name, val, len);
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(val, val ? len : 0);
		at_record_parts(AT_CALL_setsockopt, fd, r, e, (uint32_t)level, (uint32_t)name,
		                &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY:
		return (int)at_replay_ret(
		    at_replay_take_fd(AT_CALL_setsockopt, fd, (uint32_t)level, (uint32_t)name));
	default:
		if (!AT_REAL(setsockopt))
			return (int)AT_LIBC_RESULT(
			    at_sys6(SYS_setsockopt, fd, level, name, (long)val, len, 0));
		return AT_REAL(setsockopt)(fd, level, name, val, len);
	}
}

/* ---- sending ---- */

/* A message's address and control data, as the payload starts (net.h). At most MAX_IOV of
 * a sendmsg's vectors are recorded: programs use a handful. */
#define MAX_IOV 64
struct msg_parts {
	struct at_msg_head head;
	struct iovec parts[3 + MAX_IOV];
	int nparts;
	size_t skip; /* bytes before the data */
};

static void msg_begin(struct msg_parts *m, const void *name, size_t namelen, const void *control,
                      size_t controllen, uint32_t flags)
{
	if (!name)
		namelen = 0;
	if (!control)
		controllen = 0;
	m->head = (struct at_msg_head){(uint32_t)namelen, (uint32_t)controllen, flags};
	m->parts[0] = AT_PART(&m->head, sizeof m->head);
	m->parts[1] = AT_PART(name, namelen);
	m->parts[2] = AT_PART(control, controllen);
	m->nparts = 3;
	m->skip = sizeof m->head + namelen + controllen;
}

static void msg_data(struct msg_parts *m, const struct iovec *iov, size_t iovcnt)
{
	for (size_t i = 0; i < iovcnt && m->nparts < 3 + MAX_IOV; i++)
		m->parts[m->nparts++] = iov[i];
}

/* Replay of any send: the address and control data must be the recorded ones, then the
 * bytes (checked by at_replay_check_sent). */
static ssize_t replay_send(uint16_t call, int fd, int flags, const struct msg_parts *m,
                           const struct iovec *data, int ndata, size_t given)
{
	const struct at_rawrec *ev = at_replay_take_sent(call, fd, given, (uint32_t)flags);
	if (m) {
		uint32_t plen;
		const uint8_t *p = at_rawrec_payload(ev, &plen);
		struct at_msg_head h = {0, 0, 0};
		if (plen >= sizeof h)
			memcpy(&h, p, sizeof h);
		if (plen < sizeof h + (size_t)h.namelen + h.controllen)
			at_replay_mismatch(ev, "the recorded message is damaged");
		at_replay_check_addr(ev, p + sizeof h, h.namelen, m->parts[1].iov_base,
		                     m->head.namelen);
		if (h.controllen != m->head.controllen ||
		    (h.controllen &&
		     memcmp(p + sizeof h + h.namelen, m->parts[2].iov_base, h.controllen)))
			at_replay_mismatch(ev,
			                   "the control data sent differs from the recording's");
	}
	ssize_t r = (ssize_t)at_replay_ret(ev);
	int e = errno;
	at_replay_check_sent(ev, m ? m->skip : 0, data, ndata, given);
	RETURN_ERR(r, r < 0 ? e : 0);
}

AT_HOOK ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	int kind = 0;
	struct iovec part = AT_PART(buf, len);
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		ssize_t r = AT_REAL(send)(fd, buf, len, flags);
		int e = AT_ERR_IF(r < 0);
		at_record_parts(AT_CALL_send, fd, r, e, len, (uint32_t)flags, &part, 1,
		                r > 0 ? (size_t)r : 0, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: return replay_send(AT_CALL_send, fd, flags, NULL, &part, 1, len);
	default:
		if (!AT_REAL(send))
			return AT_LIBC_RESULT(
			    at_sys6(SYS_sendto, fd, (long)buf, (long)len, flags, 0, 0));
		return AT_REAL(send)(fd, buf, len, flags);
	}
}

AT_HOOK ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
                       socklen_t alen)
{
	int kind = 0;
	struct msg_parts m;
	struct iovec data = AT_PART(buf, len);
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		ssize_t r = AT_REAL(sendto)(fd, buf, len, flags, addr, alen);
		int e = AT_ERR_IF(r < 0);
		msg_begin(&m, addr, alen, NULL, 0, 0);
		msg_data(&m, &data, 1);
		at_record_parts(AT_CALL_sendto, fd, r, e, len, (uint32_t)flags, m.parts, m.nparts,
		                m.skip + (r > 0 ? (size_t)r : 0), t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY:
		msg_begin(&m, addr, alen, NULL, 0, 0);
		return replay_send(AT_CALL_sendto, fd, flags, &m, &data, 1, len);
	default:
		if (!AT_REAL(sendto))
			return AT_LIBC_RESULT(
			    at_sys6(SYS_sendto, fd, (long)buf, (long)len, flags, (long)addr, alen));
		return AT_REAL(sendto)(fd, buf, len, flags, addr, alen);
	}
}

static size_t iov_sum(const struct iovec *iov, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n && iov; i++)
		total += iov[i].iov_len;
	return total;
}

AT_HOOK ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int kind = 0;
	struct msg_parts m;
	size_t total = msg ? iov_sum(msg->msg_iov, msg->msg_iovlen) : 0;
	int mode = msg ? at_enter_fd(fd, &kind) : AT_MODE_OFF;
	switch (mode) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		ssize_t r = AT_REAL(sendmsg)(fd, msg, flags);
		int e = AT_ERR_IF(r < 0);
		msg_begin(&m, msg->msg_name, msg->msg_namelen, msg->msg_control,
		          msg->msg_controllen, 0);
		msg_data(&m, msg->msg_iov, msg->msg_iovlen);
		at_record_parts(AT_CALL_sendmsg, fd, r, e, total, (uint32_t)flags, m.parts,
		                m.nparts, m.skip + (r > 0 ? (size_t)r : 0), t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY:
		msg_begin(&m, msg->msg_name, msg->msg_namelen, msg->msg_control,
		          msg->msg_controllen, 0);
		return replay_send(AT_CALL_sendmsg, fd, flags, &m, msg->msg_iov,
		                   (int)min_size(msg->msg_iovlen, MAX_IOV), total);
	default:
		if (!AT_REAL(sendmsg))
			return AT_LIBC_RESULT(at_sys(SYS_sendmsg, fd, msg, flags));
		return AT_REAL(sendmsg)(fd, msg, flags);
	}
}

/* ---- receiving ---- */

/* Replay: the recorded bytes into the buffers; returns the recorded result. */
static ssize_t scatter(const struct at_rawrec *ev, size_t skip, const struct iovec *iov,
                       size_t iovcnt)
{
	uint32_t len;
	const uint8_t *p = at_rawrec_payload(ev, &len);
	if (skip > len)
		skip = len;
	p += skip;
	len -= (uint32_t)skip;
	for (size_t i = 0; i < iovcnt && len; i++) {
		size_t n = min_size(iov[i].iov_len, len);
		if (n)
			memcpy(iov[i].iov_base, p, n);
		p += n;
		len -= (uint32_t)n;
	}
	return (ssize_t)at_replay_ret(ev);
}

AT_HOOK ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	int kind = 0;
	struct iovec part = AT_PART(buf, len);
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		ssize_t r = AT_REAL(recv)(fd, buf, len, flags);
		int e = AT_ERR_IF(r < 0);
		at_record_parts(AT_CALL_recv, fd, r, e, len, (uint32_t)flags, &part, 1,
		                r > 0 ? (size_t)r : 0, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY:
		return scatter(at_replay_take_fd(AT_CALL_recv, fd, len, (uint32_t)flags), 0, &part,
		               1);
	default:
		if (!AT_REAL(recv))
			return AT_LIBC_RESULT(
			    at_sys6(SYS_recvfrom, fd, (long)buf, (long)len, flags, 0, 0));
		return AT_REAL(recv)(fd, buf, len, flags);
	}
}

/* Replay: a recorded message head; stops the replay if the payload is damaged. */
static struct at_msg_head msg_head(const struct at_rawrec *ev, const uint8_t **p)
{
	uint32_t plen;
	struct at_msg_head h = {0, 0, 0};
	*p = at_rawrec_payload(ev, &plen);
	if (plen >= sizeof h)
		memcpy(&h, *p, sizeof h);
	if (plen < sizeof h + (size_t)h.namelen + h.controllen)
		at_replay_mismatch(ev, "the recorded message is damaged");
	*p += sizeof h;
	return h;
}

AT_HOOK ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                         socklen_t *alen)
{
	int kind = 0;
	struct iovec data = AT_PART(buf, len);
	int asked = addr && alen;
	switch (at_enter_fd(fd, &kind)) {
	case AT_MODE_RECORD: {
		socklen_t cap = asked ? *alen : 0;
		uint64_t t0 = at_stamp();
		ssize_t r = AT_REAL(recvfrom)(fd, buf, len, flags, addr, alen);
		int e = AT_ERR_IF(r < 0);
		struct msg_parts m;
		msg_begin(&m, addr, r >= 0 && asked ? min_size(*alen, cap) : 0, NULL, 0, 0);
		msg_data(&m, &data, 1);
		at_record_parts(AT_CALL_recvfrom, fd, r, e, len, (uint32_t)flags, m.parts, m.nparts,
		                m.skip + (r > 0 ? (size_t)r : 0), t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_fd(AT_CALL_recvfrom, fd, len, (uint32_t)flags);
		const uint8_t *p;
		struct at_msg_head h = msg_head(ev, &p);
		if (ev->ret >= 0)
			copy_out(p, h.namelen, addr, alen);
		return scatter(ev, sizeof h + h.namelen, &data, 1);
	}
	default:
		if (!AT_REAL(recvfrom))
			return AT_LIBC_RESULT(at_sys6(SYS_recvfrom, fd, (long)buf, (long)len, flags,
			                              (long)addr, (long)alen));
		return AT_REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	}
}

/* Whether control data passes descriptors: replay cannot make them. */
static int passes_fds(const uint8_t *control, size_t len)
{
	struct msghdr mh = {.msg_control = (void *)control, .msg_controllen = len};
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			return 1;
	return 0;
}

AT_HOOK ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	int kind = 0;
	int mode = msg ? at_enter_fd(fd, &kind) : AT_MODE_OFF;
	size_t total = msg ? iov_sum(msg->msg_iov, msg->msg_iovlen) : 0;
	switch (mode) {
	case AT_MODE_RECORD: {
		socklen_t namecap = msg->msg_namelen;
		size_t ctlcap = msg->msg_controllen;
		uint64_t t0 = at_stamp();
		ssize_t r = AT_REAL(recvmsg)(fd, msg, flags);
		int e = AT_ERR_IF(r < 0);
		struct msg_parts m;
		msg_begin(&m, msg->msg_name, r >= 0 ? min_size(msg->msg_namelen, namecap) : 0,
		          msg->msg_control, r >= 0 ? min_size(msg->msg_controllen, ctlcap) : 0,
		          r >= 0 ? (uint32_t)msg->msg_flags : 0);
		msg_data(&m, msg->msg_iov, msg->msg_iovlen);
		at_record_parts(AT_CALL_recvmsg, fd, r, e, total, (uint32_t)flags, m.parts,
		                m.nparts, m.skip + (r > 0 ? (size_t)r : 0), t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_fd(AT_CALL_recvmsg, fd, total, (uint32_t)flags);
		const uint8_t *p;
		struct at_msg_head h = msg_head(ev, &p);
		if (ev->ret >= 0) {
			if (passes_fds(p + h.namelen, h.controllen))
				at_replay_refuse(ev,
				                 "the recording received descriptors over a "
				                 "socket (SCM_RIGHTS); replay cannot make them");
			if (msg->msg_name)
				memcpy(msg->msg_name, p, min_size(h.namelen, msg->msg_namelen));
			msg->msg_namelen = h.namelen;
			if (msg->msg_control)
				memcpy(msg->msg_control, p + h.namelen,
				       min_size(h.controllen, msg->msg_controllen));
			msg->msg_controllen = h.controllen;
			msg->msg_flags = (int)h.flags;
		}
		return scatter(ev, sizeof h + h.namelen + h.controllen, msg->msg_iov,
		               msg->msg_iovlen);
	}
	default:
		if (!AT_REAL(recvmsg))
			return AT_LIBC_RESULT(at_sys(SYS_recvmsg, fd, msg, flags));
		return AT_REAL(recvmsg)(fd, msg, flags);
	}
}

/* _FORTIFY_SOURCE's checked forms: the same calls once the buffer is known to fit. */
AT_HOOK ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

AT_HOOK ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                               struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

/* ---- channels within the program ---- */

/* Replay: moves a descriptor the kernel gave to the number the recording had. `others`
 * are descriptors made by the same call, still to be moved, which must not be clobbered. */
static int move_fd(int from, int to, int cloexec, int *others, int nothers)
{
	if (from == to)
		return to;
	for (int i = 0; i < nothers; i++)
		if (others[i] == to) {
			others[i] = (int)at_sys(SYS_fcntl, to, F_DUPFD_CLOEXEC, 0);
			at_sys_close(to);
		}
	at_sys(SYS_dup3, from, to, cloexec ? O_CLOEXEC : 0);
	at_sys_close(from);
	return to;
}

/* Replay of a call that makes descriptors for real (a pipe, a socket pair, an eventfd, an
 * epoll instance): its event, taken before the kernel makes them. Threads then make their
 * channels in the recorded order and get the recorded numbers; two threads making socket
 * pairs at once would otherwise each get the other's, and moving them to the recorded
 * numbers would close one under the other (libcurl's wakeup pairs, one per thread). NULL
 * when recording. */
static const struct at_rawrec *channel_turn(uint16_t call, uint64_t a0, uint64_t a1, int mode)
{
	if (mode != AT_MODE_REPLAY)
		return NULL;
	const struct at_rawrec *ev = at_replay_take(call, a0, a1);
	at_replay_fd_lock(); /* until channel_made has moved what the kernel makes */
	return ev;
}

/* Whether the recording failed here (then replay makes nothing, and fails the same way). */
static int channel_failed(const struct at_rawrec *ev)
{
	if (!ev || (int64_t)ev->ret >= 0)
		return 0;
	at_replay_fd_unlock();
	return 1;
}

/* Record and replay of a call that makes descriptors for real in both modes: `r` and `e`
 * are what the real call did, `fds` (n of them) the descriptors it made, or NULL when it
 * returns one; `ev` its event in replay (channel_turn). Returns what the program gets. */
static int channel_made(uint16_t call, uint64_t a0, uint64_t a1, int mode,
                        const struct at_rawrec *ev, int r, int e, int *fds, int n, int cloexec,
                        uint64_t t0)
{
	if (mode == AT_MODE_RECORD) {
		struct iovec part = AT_PART(fds, r >= 0 && fds ? n * sizeof(int) : 0);
		at_record_parts(call, -1, r, e, a0, a1, &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	int want = (int)ev->ret;
	if (r < 0) {
		at_replay_fd_unlock();
		at_replay_refuse(ev, "the kernel refused a pipe, socket pair or eventfd that the "
		                     "recording made");
	}
	if (!fds) {
		move_fd(r, want, cloexec, NULL, 0);
		at_replay_fd_unlock();
		return want;
	}
	int rec[2] = {-1, -1};
	at_replay_copy(ev, rec, n * sizeof(int));
	for (int i = 0; i < n; i++)
		if (rec[i] >= 0)
			fds[i] = move_fd(fds[i], rec[i], cloexec, fds + i + 1, n - i - 1);
	at_replay_fd_unlock();
	return want;
}

AT_HOOK int pipe2(int fds[2], int flags)
{
	int m = at_enter();
	const struct at_rawrec *ev = channel_turn(AT_CALL_pipe2, (uint32_t)flags, 0, m);
	if (channel_failed(ev))
		return (int)at_replay_ret(ev);
	uint64_t t0 = at_stamp();
	int r = AT_REAL(pipe2) ? AT_REAL(pipe2)(fds, flags)
	                       : (int)AT_LIBC_RESULT(at_sys(SYS_pipe2, fds, flags, 0));
	if (m < AT_MODE_RECORD)
		return r;
	return channel_made(AT_CALL_pipe2, (uint32_t)flags, 0, m, ev, r, AT_ERR_IF(r < 0), fds, 2,
	                    flags & O_CLOEXEC, t0);
}

AT_HOOK int pipe(int fds[2])
{
	int m = at_enter();
	const struct at_rawrec *ev = channel_turn(AT_CALL_pipe, 0, 0, m);
	if (channel_failed(ev))
		return (int)at_replay_ret(ev);
	uint64_t t0 = at_stamp();
	int r =
	    AT_REAL(pipe) ? AT_REAL(pipe)(fds) : (int)AT_LIBC_RESULT(at_sys(SYS_pipe2, fds, 0, 0));
	if (m < AT_MODE_RECORD)
		return r;
	return channel_made(AT_CALL_pipe, 0, 0, m, ev, r, AT_ERR_IF(r < 0), fds, 2, 0, t0);
}

AT_HOOK int socketpair(int domain, int type, int protocol, int sv[2])
{
	int m = at_enter();
	uint64_t a1 = (uint32_t)type | (uint64_t)(uint32_t)protocol << 32;
	const struct at_rawrec *ev = channel_turn(AT_CALL_socketpair, (uint32_t)domain, a1, m);
	if (channel_failed(ev))
		return (int)at_replay_ret(ev);
	uint64_t t0 = at_stamp();
	int r = AT_REAL(socketpair) ? AT_REAL(socketpair)(domain, type, protocol, sv)
	                            : (int)AT_LIBC_RESULT(at_sys6(SYS_socketpair, domain, type,
	                                                          protocol, (long)sv, 0, 0));
	if (m < AT_MODE_RECORD)
		return r;
	return channel_made(AT_CALL_socketpair, (uint32_t)domain, a1, m, ev, r, AT_ERR_IF(r < 0),
	                    sv, 2, type & SOCK_CLOEXEC, t0);
}

AT_HOOK int eventfd(unsigned int initval, int flags)
{
	int m = at_enter();
	const struct at_rawrec *ev = channel_turn(AT_CALL_eventfd, initval, (uint32_t)flags, m);
	if (channel_failed(ev))
		return (int)at_replay_ret(ev);
	uint64_t t0 = at_stamp();
	int r = AT_REAL(eventfd) ? AT_REAL(eventfd)(initval, flags)
	                         : (int)AT_LIBC_RESULT(at_sys(SYS_eventfd2, initval, flags, 0));
	if (m < AT_MODE_RECORD)
		return r;
	return channel_made(AT_CALL_eventfd, initval, (uint32_t)flags, m, ev, r, AT_ERR_IF(r < 0),
	                    NULL, 1, flags & EFD_CLOEXEC, t0);
}

/* An epoll instance is a channel too: replay waits on a real one whenever no descriptor it
 * watches is served from the trace (preload/hooks_poll.c). */
static int epoll_made(uint16_t call, int arg, const struct at_rawrec *ev, int r, int m, uint64_t t0)
{
	if (r >= 0)
		at_epoll_forget(r);
	if (m < AT_MODE_RECORD)
		return r;
	return channel_made(call, (uint32_t)arg, 0, m, ev, r, AT_ERR_IF(r < 0), NULL, 1,
	                    call == AT_CALL_epoll_create1 && (arg & EPOLL_CLOEXEC), t0);
}

AT_HOOK int epoll_create1(int flags)
{
	int m = at_enter();
	const struct at_rawrec *ev = channel_turn(AT_CALL_epoll_create1, (uint32_t)flags, 0, m);
	if (channel_failed(ev))
		return (int)at_replay_ret(ev);
	uint64_t t0 = at_stamp();
	int r = AT_REAL(epoll_create1)
	            ? AT_REAL(epoll_create1)(flags)
	            : (int)AT_LIBC_RESULT(at_sys(SYS_epoll_create1, flags, 0, 0));
	return epoll_made(AT_CALL_epoll_create1, flags, ev, r, m, t0);
}

AT_HOOK int epoll_create(int size)
{
	int m = at_enter();
	const struct at_rawrec *ev = channel_turn(AT_CALL_epoll_create, (uint32_t)size, 0, m);
	if (channel_failed(ev))
		return (int)at_replay_ret(ev);
	uint64_t t0 = at_stamp();
	int r = AT_REAL(epoll_create) ? AT_REAL(epoll_create)(size)
	                              : (int)AT_LIBC_RESULT(at_sys(SYS_epoll_create, size, 0, 0));
	return epoll_made(AT_CALL_epoll_create, size, ev, r, m, t0);
}
