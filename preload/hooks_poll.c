/* The socket family, part two: readiness. poll, ppoll, select and pselect are recorded
 * whenever a descriptor in the set is one replay serves (a socket, a file, the terminal),
 * or the set is empty (a sleep); replay then answers from the trace at once. A set of
 * descriptors replay makes for real (pipes, socket pairs) passes through in both modes.
 *
 * epoll: replay's epoll instance is real, but a socket served from the trace cannot be
 * added to it. So the hooks keep the registrations of served descriptors (epoll_ctl on
 * them is recorded, never made in replay) and an epoll_wait on an instance that watches
 * any is answered from the trace. Each event is recorded with the descriptor it was
 * registered for, and replay hands back the data the program registered for that
 * descriptor this time: a pointer in a program's epoll data need not be the same. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

static int64_t timespec_ns(const struct timespec *ts)
{
	return ts ? (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : -1;
}

/* ---- poll ---- */

static int poll_served(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (at_fd_kind(fds[i].fd))
			return 1;
	return n == 0;
}

static int real_poll_any(uint16_t call, struct pollfd *fds, nfds_t n, int timeout,
                         const struct timespec *tmo, const sigset_t *mask)
{
	if (call == AT_CALL_poll && AT_REAL(poll))
		return AT_REAL(poll)(fds, n, timeout);
	if (call == AT_CALL_ppoll && AT_REAL(ppoll))
		return AT_REAL(ppoll)(fds, n, tmo, mask);
	struct timespec t = {timeout / 1000, (timeout % 1000) * 1000000L};
	if (call == AT_CALL_poll)
		tmo = timeout >= 0 ? &t : NULL;
	return (int)AT_LIBC_RESULT(
	    at_sys6(SYS_ppoll, (long)fds, (long)n, (long)tmo, (long)mask, mask ? 8 : 0, 0));
}

static void check_poll_set(const struct at_rawrec *ev, const struct pollfd *fds, nfds_t n)
{
	uint32_t len;
	const uint8_t *p = at_rawrec_payload(ev, &len);
	for (nfds_t i = 0; i < n; i++) {
		struct pollfd want = {-1, 0, 0};
		if ((i + 1) * sizeof want <= len)
			memcpy(&want, p + i * sizeof want, sizeof want);
		if (want.fd == fds[i].fd && want.events == fds[i].events)
			continue;
		char detail[300];
		snprintf(detail, sizeof detail,
		         "entry %lu of the poll set is fd %d, events 0x%x; the recording polled fd "
		         "%d, events 0x%x",
		         (unsigned long)i, fds[i].fd, (unsigned)fds[i].events, want.fd,
		         (unsigned)want.events);
		at_replay_mismatch(ev, detail);
	}
}

static int poll_hook(uint16_t call, struct pollfd *fds, nfds_t n, int timeout,
                     const struct timespec *tmo, const sigset_t *mask)
{
	int m = at_enter();
	if (m >= AT_MODE_RECORD && !poll_served(fds, n))
		m = AT_MODE_OFF;
	uint64_t a1 = (uint64_t)(call == AT_CALL_poll ? (int64_t)timeout : timespec_ns(tmo));
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = real_poll_any(call, fds, n, timeout, tmo, mask);
		int e = AT_ERR_IF(r < 0);
		struct iovec part = AT_PART(fds, n * sizeof *fds);
		at_record_parts(call, -1, r, e, n, a1, &part, 1, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(call, n, a1);
		check_poll_set(ev, fds, n);
		const uint8_t *p = at_rawrec_payload(ev, &(uint32_t){0});
		for (nfds_t i = 0; i < n; i++)
			memcpy(&fds[i].revents,
			       p + i * sizeof *fds + offsetof(struct pollfd, revents),
			       sizeof fds[i].revents);
		return (int)at_replay_ret(ev);
	}
	default: return real_poll_any(call, fds, n, timeout, tmo, mask);
	}
}

AT_HOOK int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return poll_hook(AT_CALL_poll, fds, n, timeout, NULL, NULL);
}

AT_HOOK int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof *fds < n)
		abort(); /* what _FORTIFY_SOURCE does */
	return poll(fds, n, timeout);
}

AT_HOOK int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
	return poll_hook(AT_CALL_ppoll, fds, n, 0, tmo, mask);
}

AT_HOOK int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                        const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof *fds < n)
		abort();
	return ppoll(fds, n, tmo, mask);
}

/* ---- select ---- */

struct select_call {
	uint16_t call;
	int nfds;
	fd_set *sets[3];
	struct timeval *tv;        /* select */
	const struct timespec *ts; /* pselect */
	const sigset_t *mask;
};

static int select_served(const struct select_call *c)
{
	int n = c->nfds < FD_SETSIZE ? c->nfds : FD_SETSIZE;
	for (int fd = 0; fd < n; fd++)
		for (int s = 0; s < 3; s++)
			if (c->sets[s] && FD_ISSET(fd, c->sets[s]) && at_fd_kind(fd))
				return 1;
	return !c->sets[0] && !c->sets[1] && !c->sets[2]; /* a sleep */
}

static int real_select_any(const struct select_call *c)
{
	if (c->call == AT_CALL_select)
		return AT_REAL(select)(c->nfds, c->sets[0], c->sets[1], c->sets[2], c->tv);
	return AT_REAL(pselect)(c->nfds, c->sets[0], c->sets[1], c->sets[2], c->ts, c->mask);
}

static int select_hook(struct select_call *c)
{
	int m = at_enter();
	if (m >= AT_MODE_RECORD && !select_served(c))
		m = AT_MODE_OFF;
	size_t bytes =
	    c->nfds <= 0 ? 0 : ((size_t)(c->nfds < FD_SETSIZE ? c->nfds : FD_SETSIZE) + 7) / 8;
	uint64_t given = (c->sets[0] ? 1 : 0) | (c->sets[1] ? 2 : 0) | (c->sets[2] ? 4 : 0);
	uint64_t a0 = (uint32_t)c->nfds | given << 32;
	int64_t t = c->call == AT_CALL_select
	                ? (c->tv ? (int64_t)c->tv->tv_sec * 1000000 + c->tv->tv_usec : -1)
	                : timespec_ns(c->ts);
	struct iovec parts[4];
	int np = 0;
	for (int s = 0; s < 3; s++)
		if (c->sets[s])
			parts[np++] = AT_PART(c->sets[s], bytes);
	if (c->tv)
		parts[np++] = AT_PART(c->tv, sizeof *c->tv);
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = real_select_any(c);
		int e = AT_ERR_IF(r < 0);
		at_record_parts(c->call, -1, r, e, a0, (uint64_t)t, parts, np, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(c->call, a0, (uint64_t)t);
		uint32_t len;
		const uint8_t *p = at_rawrec_payload(ev, &len);
		for (int i = 0; i < np && len;
		     i++) { /* the sets as they came back, then the time */
			size_t n = parts[i].iov_len < len ? parts[i].iov_len : len;
			memcpy(parts[i].iov_base, p, n);
			p += n;
			len -= (uint32_t)n;
		}
		return (int)at_replay_ret(ev);
	}
	default: return real_select_any(c);
	}
}

AT_HOOK int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	struct select_call c = {AT_CALL_select, nfds, {r, w, e}, tv, NULL, NULL};
	return select_hook(&c);
}

AT_HOOK int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                    const sigset_t *mask)
{
	struct select_call c = {AT_CALL_pselect, nfds, {r, w, e}, NULL, ts, mask};
	return select_hook(&c);
}

/* ---- epoll ---- */

/* The registrations of served descriptors. Lock-free, because close() forgets entries
 * and may run in a signal handler: a slot is claimed by a compare-and-swap of its key. */
#define EP_SLOTS 1024
static struct ep_slot {
	int key; /* epoll fd + 1; 0: free */
	int fd;
	uint64_t data;
} ep_slots[EP_SLOTS];
static int ep_used; /* slots below this may be in use */

static struct ep_slot *ep_find(int epfd, int fd)
{
	int n = __atomic_load_n(&ep_used, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (__atomic_load_n(&ep_slots[i].key, __ATOMIC_ACQUIRE) == epfd + 1 &&
		    ep_slots[i].fd == fd)
			return &ep_slots[i];
	return NULL;
}

static void ep_note(int epfd, int op, int fd, const struct epoll_event *ev)
{
	struct ep_slot *s = ep_find(epfd, fd);
	if (op == EPOLL_CTL_DEL) {
		if (s)
			__atomic_store_n(&s->key, 0, __ATOMIC_RELEASE);
		return;
	}
	for (int i = 0; !s && i < EP_SLOTS; i++) {
		int free_key = 0;
		if (__atomic_compare_exchange_n(&ep_slots[i].key, &free_key, -1, 0,
		                                __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			s = &ep_slots[i];
			s->fd = fd;
			int used = __atomic_load_n(&ep_used, __ATOMIC_RELAXED);
			while (used <= i &&
			       !__atomic_compare_exchange_n(&ep_used, &used, i + 1, 0,
			                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				;
		}
	}
	if (!s)
		return; /* more than EP_SLOTS: events for it come back with the recorded data */
	s->data = ev ? ev->data.u64 : 0;
	__atomic_store_n(&s->key, epfd + 1, __ATOMIC_RELEASE);
}

void at_epoll_forget(int fd)
{
	int n = __atomic_load_n(&ep_used, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		int key = __atomic_load_n(&ep_slots[i].key, __ATOMIC_ACQUIRE);
		if (key > 0 && (key == fd + 1 || ep_slots[i].fd == fd))
			__atomic_compare_exchange_n(&ep_slots[i].key, &key, 0, 0, __ATOMIC_ACQ_REL,
			                            __ATOMIC_RELAXED);
	}
}

static int ep_watches_served(int epfd)
{
	int n = __atomic_load_n(&ep_used, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (__atomic_load_n(&ep_slots[i].key, __ATOMIC_ACQUIRE) == epfd + 1)
			return 1;
	return 0;
}

AT_HOOK int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int m = at_enter();
	if (m >= AT_MODE_RECORD && !at_fd_kind(fd))
		m = AT_MODE_OFF;
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = AT_REAL(epoll_ctl)(epfd, op, fd, ev);
		int e = AT_ERR_IF(r < 0);
		if (r == 0)
			ep_note(epfd, op, fd, ev);
		struct iovec part = AT_PART(ev, ev ? sizeof *ev : 0);
		at_record_parts(AT_CALL_epoll_ctl, epfd, r, e, (uint32_t)op, (uint32_t)fd, &part, 1,
		                SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *rec =
		    at_replay_take_fd(AT_CALL_epoll_ctl, epfd, (uint32_t)op, (uint32_t)fd);
		int r = (int)at_replay_ret(rec), e = errno;
		if (r == 0)
			ep_note(epfd, op, fd, ev);
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default:
		if (!AT_REAL(epoll_ctl))
			return (int)AT_LIBC_RESULT(
			    at_sys6(SYS_epoll_ctl, epfd, op, fd, (long)ev, 0, 0));
		return AT_REAL(epoll_ctl)(epfd, op, fd, ev);
	}
}

/* The payload of an epoll_wait: the events as they came back, then for each the descriptor
 * it was registered for (-1: not known; replay then gives the recorded data). */
#define EP_WAIT_FDS 1024

static int epoll_wait_hook(uint16_t call, int epfd, struct epoll_event *evs, int max, int timeout,
                           const sigset_t *mask)
{
	int m = at_enter();
	if (m >= AT_MODE_RECORD && !ep_watches_served(epfd))
		m = AT_MODE_OFF;
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		int r = call == AT_CALL_epoll_wait
		            ? AT_REAL(epoll_wait)(epfd, evs, max, timeout)
		            : AT_REAL(epoll_pwait)(epfd, evs, max, timeout, mask);
		int e = AT_ERR_IF(r < 0);
		int n = r > 0 ? (r < EP_WAIT_FDS ? r : EP_WAIT_FDS) : 0;
		int fds[EP_WAIT_FDS];
		for (int i = 0; i < n; i++) {
			fds[i] = -1;
			int used = __atomic_load_n(&ep_used, __ATOMIC_ACQUIRE);
			for (int j = 0; j < used; j++)
				if (__atomic_load_n(&ep_slots[j].key, __ATOMIC_ACQUIRE) ==
				        epfd + 1 &&
				    ep_slots[j].data == evs[i].data.u64) {
					fds[i] = ep_slots[j].fd;
					break;
				}
		}
		struct iovec parts[2] = {AT_PART(evs, (size_t)n * sizeof *evs),
		                         AT_PART(fds, (size_t)n * sizeof(int))};
		at_record_parts(call, epfd, r, e, (uint32_t)max, (uint64_t)(int64_t)timeout, parts,
		                2, SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take_fd(call, epfd, (uint32_t)max, (uint64_t)(int64_t)timeout);
		int r = (int)at_replay_ret(ev), e = errno;
		uint32_t len;
		const uint8_t *p = at_rawrec_payload(ev, &len);
		int n = r > 0 ? r : 0;
		if ((size_t)n * (sizeof *evs + sizeof(int)) > len || n > max)
			at_replay_mismatch(ev, "the recorded epoll events are damaged");
		memcpy(evs, p, (size_t)n * sizeof *evs);
		for (int i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, p + (size_t)n * sizeof *evs + (size_t)i * sizeof fd, sizeof fd);
			struct ep_slot *s = fd >= 0 ? ep_find(epfd, fd) : NULL;
			if (s)
				evs[i].data.u64 = s->data;
		}
		RETURN_ERR(r, r < 0 ? e : 0);
	}
	default:
		if (call == AT_CALL_epoll_wait && AT_REAL(epoll_wait))
			return AT_REAL(epoll_wait)(epfd, evs, max, timeout);
		if (AT_REAL(epoll_pwait))
			return AT_REAL(epoll_pwait)(epfd, evs, max, timeout, mask);
		return (int)AT_LIBC_RESULT(
		    at_sys6(SYS_epoll_pwait, epfd, (long)evs, max, timeout, (long)mask, 8));
	}
}

AT_HOOK int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	return epoll_wait_hook(AT_CALL_epoll_wait, epfd, evs, max, timeout, NULL);
}

AT_HOOK int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
                        const sigset_t *mask)
{
	return epoll_wait_hook(AT_CALL_epoll_pwait, epfd, evs, max, timeout, mask);
}
