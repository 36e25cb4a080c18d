/* The network view of a trace (netview.h): descriptors followed event by event, the bytes
 * of each connection kept until it ends, then handed to the HTTP parser and freed, so only
 * the connections open at once hold their bytes. */
#include "netview.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agenttrace/errors.h"
#include "agenttrace/net.h"

/* Descriptors above this are not followed (a corrupt number must not size a table). */
#define NETVIEW_FD_MAX (1 << 20)
/* Nor are thread numbers above this: their calls run on the stream's clock alone. */
#define NETVIEW_THREAD_MAX (1 << 16)

void netview_init(struct netview *v)
{
	memset(v, 0, sizeof *v);
}

static void conn_release(struct netview_conn *c)
{
	free(c->segs);
	free(c->bytes);
	c->segs = NULL;
	c->bytes = NULL;
	c->nsegs = c->segs_cap = c->nbytes = c->bytes_cap = 0;
}

void netview_free(struct netview *v)
{
	for (size_t i = 0; i < v->count; i++) {
		conn_release(&v->conns[i]);
		at_http_conn_free(&v->conns[i].http);
	}
	free(v->conns);
	free(v->exchanges);
	free(v->fd_conn);
	free(v->threads);
	free(v->steps);
	memset(v, 0, sizeof *v);
}

/* `p` (of *cap elements of `size` bytes) grown to hold `need` (need > 0), the new elements
 * zeroed; NULL when memory runs out, and then p is untouched. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	char *q = realloc(p, ncap * size);
	if (!q)
		return NULL;
	memset(q + *cap * size, 0, (ncap - *cap) * size);
	*cap = ncap;
	return q;
}

/* How far the stream's clock is behind the wall clock, as known at `at` on it. */
static uint64_t offset_at(const struct netview *v, uint64_t at)
{
	size_t lo = 0, hi = v->nsteps; /* the first step after `at` */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->steps[mid].at <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? v->steps[lo - 1].offset : 0;
}

/* An exchange's start on the stream's clock (moved by what the wall clock said) and its
 * end after the duration on its thread's (netview.h). Its times are segment numbers. */
static void exchange_times(const struct netview *v, const struct netview_conn *c,
                           struct at_http_exchange *x)
{
	/* Not what http.h promises: then no times rather than wrong ones. */
	if (x->start_ns < 1 || x->start_ns > c->nsegs || x->end_ns > c->nsegs) {
		x->start_ns = x->end_ns = 0;
		return;
	}
	const struct netview_seg *s = &c->segs[x->start_ns - 1];
	x->start_ns = s->at + offset_at(v, s->at);
	if (!x->end_ns)
		return;
	const struct netview_seg *e = &c->segs[x->end_ns - 1];
	uint64_t duration = 0;
	if (e->thread == s->thread && e->own >= s->own)
		duration = e->own - s->own;
	else if (e->at > s->at)
		duration = e->at - s->at;
	x->end_ns = x->start_ns + duration;
}

/* Parses what the connection carried and frees the bytes. A server's requests are the
 * bytes it received, so the directions swap for the parser and back for the raw counts. */
static int conn_end(struct netview *v, struct netview_conn *c)
{
	struct at_http_segment *segs = calloc(c->nsegs ? c->nsegs : 1, sizeof *segs);
	if (!segs)
		return AT_ENOMEM;
	for (size_t i = 0; i < c->nsegs; i++) {
		const struct netview_seg *s = &c->segs[i];
		enum at_http_dir dir = s->dir;
		if (c->server)
			dir = dir == AT_HTTP_SENT ? AT_HTTP_RECEIVED : AT_HTTP_SENT;
		/* The time is the segment's number: the exchanges' times come from its clocks. */
		segs[i] = (struct at_http_segment){dir, i + 1, c->bytes + s->off, s->len};
	}
	int rc = at_http_parse(segs, c->nsegs, &c->http);
	free(segs);
	if (rc)
		return rc;
	for (size_t i = 0; i < c->http.count; i++)
		exchange_times(v, c, &c->http.exchanges[i]);
	if (c->server) {
		uint64_t t = c->http.raw_sent;
		c->http.raw_sent = c->http.raw_received;
		c->http.raw_received = t;
	}
	conn_release(c);
	c->fds = 0;
	return 0;
}

static int fd_followed(int64_t fd)
{
	return fd >= 0 && fd < NETVIEW_FD_MAX;
}

static struct netview_conn *conn_of(const struct netview *v, int64_t fd)
{
	if (fd < 0 || (size_t)fd >= v->nfd || !v->fd_conn[fd])
		return NULL;
	return &v->conns[v->fd_conn[fd] - 1];
}

int netview_follows(const struct netview *v, int fd)
{
	return conn_of(v, fd) != NULL;
}

/* `fd` no longer names its connection (closed, or found to name something else); the
 * connection ends with the last descriptor that named it. */
static int fd_drop(struct netview *v, int64_t fd)
{
	struct netview_conn *c = conn_of(v, fd);
	if (!c)
		return 0;
	v->fd_conn[fd] = 0;
	return --c->fds > 0 ? 0 : conn_end(v, c);
}

static int fd_set_conn(struct netview *v, int64_t fd, size_t index)
{
	int rc = fd_drop(v, fd);
	if (rc || !fd_followed(fd))
		return rc;
	size_t *fds = grow(v->fd_conn, &v->nfd, (size_t)fd + 1, sizeof *fds);
	if (!fds)
		return AT_ENOMEM;
	v->fd_conn = fds;
	v->fd_conn[fd] = index + 1;
	v->conns[index].fds++;
	return 0;
}

/* A new connection on `fd` (which fd_followed): NULL only when memory runs out. */
static struct netview_conn *conn_new(struct netview *v, int64_t fd, int server)
{
	struct netview_conn *conns = grow(v->conns, &v->cap, v->count + 1, sizeof *conns);
	if (!conns)
		return NULL;
	v->conns = conns;
	struct netview_conn *c = &v->conns[v->count];
	memset(c, 0, sizeof *c);
	c->stream = v->stream;
	c->pid = v->pid;
	c->fd = (int)fd;
	c->server = server;
	c->open_ns = v->now + v->offset;
	if (fd_set_conn(v, fd, v->count))
		return NULL;
	v->count++;
	return c;
}

static void set_peer(struct netview_conn *c, const void *sa, size_t len)
{
	if (c && len)
		at_sockaddr_format(sa, len, c->peer, sizeof c->peer);
}

static int conn_data(struct netview *v, struct netview_conn *c, int sent, const uint8_t *p,
                     size_t n)
{
	if (!n)
		return 0;
	struct netview_seg *segs = grow(c->segs, &c->segs_cap, c->nsegs + 1, sizeof *segs);
	if (segs)
		c->segs = segs;
	uint8_t *bytes = segs ? grow(c->bytes, &c->bytes_cap, c->nbytes + n, 1) : NULL;
	if (!bytes)
		return AT_ENOMEM;
	c->bytes = bytes;
	struct netview_seg *s = &c->segs[c->nsegs++];
	*s = (struct netview_seg){.dir = sent ? AT_HTTP_SENT : AT_HTTP_RECEIVED,
	                          .thread = v->call.thread,
	                          .own = v->call.own,
	                          .at = v->call.at,
	                          .off = c->nbytes,
	                          .len = n};
	if (!sent || c->server) { /* netview.h: which end of the call counts */
		s->own += v->call.duration;
		s->at += v->call.duration;
	}
	memcpy(c->bytes + c->nbytes, p, n);
	c->nbytes += n;
	*(sent ? &c->sent : &c->received) += n;
	return 0;
}

int netview_begin(struct netview *v, unsigned stream, int pid, uint64_t start_ns)
{
	int rc = 0;
	for (size_t fd = 0; fd < v->nfd; fd++)
		if (!rc)
			rc = fd_drop(v, (int64_t)fd);
	if (v->nfd) /* after a failure above: what is left open stays unparsed */
		memset(v->fd_conn, 0, v->nfd * sizeof *v->fd_conn);
	v->stream = stream;
	v->pid = pid;
	v->start_ns = v->now = start_ns;
	v->offset = 0;
	v->nsteps = 0;
	if (v->nthreads)
		memset(v->threads, 0, v->nthreads * sizeof *v->threads);
	return rc;
}

/* A CLOCK_REALTIME the event read, in ns since the epoch; 0 for none. */
static uint64_t wall_clock_read(const at_event *ev)
{
	int64_t sec, sub;
	if (ev->err || ev->len < 2 * sizeof(int64_t))
		return 0;
	memcpy(&sec, ev->payload, sizeof sec);
	memcpy(&sub, ev->payload + sizeof sec, sizeof sub);
	if (sec < 0 || sec > 9000000000 || sub < 0 || sub >= 1000000000) /* 9e9 s: year 2255 */
		return 0;
	if (ev->call == AT_CALL_clock_gettime && ev->ret == 0 &&
	    (ev->arg0 == CLOCK_REALTIME || ev->arg0 == CLOCK_REALTIME_COARSE))
		return (uint64_t)sec * 1000000000u + (uint64_t)sub;
	if (ev->call == AT_CALL_timespec_get && ev->ret == TIME_UTC && ev->arg0 == TIME_UTC)
		return (uint64_t)sec * 1000000000u + (uint64_t)sub;
	if (ev->call == AT_CALL_gettimeofday && ev->ret == 0 && (ev->arg0 & 1) && sub < 1000000)
		return (uint64_t)sec * 1000000000u + (uint64_t)sub * 1000u;
	return 0;
}

/* Moves the clocks to when this event's call returned, and keeps in v->call where they stood
 * when it started (netview.h). */
static void clock_advance(struct netview *v, const at_event *ev)
{
	struct netview_thread *t = NULL;
	if (ev->thread < NETVIEW_THREAD_MAX) {
		struct netview_thread *threads =
		    grow(v->threads, &v->nthreads, (size_t)ev->thread + 1, sizeof *threads);
		if (threads) { /* else its calls go on the stream's clock alone */
			v->threads = threads;
			t = &threads[ev->thread];
		}
	}
	if (t && !t->seen)
		*t = (struct netview_thread){1, v->start_ns, v->now};
	uint64_t end = v->now;
	if (t && t->end + ev->dur_ns > end)
		end = t->end + ev->dur_ns;
	v->call = (struct netview_call){ev->thread, t ? t->own : end - ev->dur_ns, end - ev->dur_ns,
	                                ev->dur_ns};
	if (t) {
		t->end = end;
		t->own += ev->dur_ns;
	}
	v->now = end;
	uint64_t wall = wall_clock_read(ev);
	if (wall > end + v->offset) {
		struct netview_step *steps =
		    grow(v->steps, &v->steps_cap, v->nsteps + 1, sizeof *steps);
		if (steps) { /* else the start times stay behind */
			v->steps = steps;
			v->offset = wall - end;
			steps[v->nsteps++] = (struct netview_step){end, v->offset};
		}
	}
}

static int is_socket_io(uint16_t call)
{
	return call == AT_CALL_send || call == AT_CALL_sendto || call == AT_CALL_sendmsg ||
	       call == AT_CALL_recv || call == AT_CALL_recvfrom || call == AT_CALL_recvmsg;
}

/* The address a sendto/recvfrom/sendmsg/recvmsg named (an unconnected socket's peer). */
static void msg_peer(struct netview_conn *c, const at_event *ev)
{
	struct at_msg_head h;
	if (c->peer[0] || ev->call == AT_CALL_send || ev->call == AT_CALL_recv ||
	    ev->len < sizeof h || (ev->flags & AT_EVF_BLOB))
		return;
	memcpy(&h, ev->payload, sizeof h);
	if (h.namelen && h.namelen <= ev->len - sizeof h)
		set_peer(c, ev->payload + sizeof h, h.namelen);
}

static int on_data(struct netview *v, const at_event *ev, int ok)
{
	int sent;
	const uint8_t *p;
	size_t n;
	struct netview_conn *c = conn_of(v, ev->fd);
	/* send and receive calls only take sockets: one not seen made was made before the
	 * recording, or inherited. read and write take anything, so only known sockets. */
	if (!c && ok && ev->ret > 0 && is_socket_io(ev->call) && fd_followed(ev->fd) &&
	    !(c = conn_new(v, ev->fd, 0)))
		return AT_ENOMEM;
	if (!c)
		return 0;
	if (is_socket_io(ev->call))
		msg_peer(c, ev);
	const struct at_call_info *ci = at_call_info(ev->call);
	if (ci && ci->family == AT_FAMILY_TLS)
		c->tls = 1;
	if (at_event_io_data(ev, &sent, &p, &n))
		return conn_data(v, c, sent, p, n);
	if (ok && ev->ret > 0 && (ev->flags & AT_EVF_BLOB))
		c->missing += (uint64_t)ev->ret;
	return 0;
}

/* Calls that make descriptors the view does not follow: the number was free, so whatever
 * the view thought it named has ended (a close it did not see). */
static int fresh_fds(struct netview *v, const at_event *ev)
{
	int32_t pair[2];
	switch (ev->call) {
	case AT_CALL_open:
	case AT_CALL_openat:
	case AT_CALL_creat:
	case AT_CALL_opendir:
	case AT_CALL_mkstemp:
	case AT_CALL_mkostemp:
	case AT_CALL_mkstemps:
	case AT_CALL_mkostemps:
	case AT_CALL_epoll_create:
	case AT_CALL_epoll_create1:
	case AT_CALL_eventfd: return fd_drop(v, ev->ret);
	case AT_CALL_pipe:
	case AT_CALL_pipe2:
	case AT_CALL_socketpair: {
		if (ev->len < sizeof pair || (ev->flags & AT_EVF_BLOB))
			return 0;
		memcpy(pair, ev->payload, sizeof pair);
		int rc = fd_drop(v, pair[0]);
		return rc ? rc : fd_drop(v, pair[1]);
	}
	default: return 0;
	}
}

int netview_add(struct netview *v, const at_event *ev)
{
	struct netview_conn *c;
	int ok = ev->err == 0 && ev->ret >= 0;
	clock_advance(v, ev);
	switch (ev->call) {
	case AT_CALL_socket:
		return ok && fd_followed(ev->ret) && !conn_new(v, ev->ret, 0) ? AT_ENOMEM : 0;
	case AT_CALL_accept:
	case AT_CALL_accept4:
		if (!ok || !fd_followed(ev->ret))
			return 0;
		if (!(c = conn_new(v, ev->ret, 1)))
			return AT_ENOMEM;
		set_peer(c, ev->payload, ev->len);
		return 0;
	case AT_CALL_connect: /* also a non-blocking one, which fails with EINPROGRESS */
	case AT_CALL_getpeername:
		c = conn_of(v, ev->fd);
		if (!c && (ok || ev->call == AT_CALL_connect) && fd_followed(ev->fd) &&
		    !(c = conn_new(v, ev->fd, 0)))
			return AT_ENOMEM;
		if (c && (ev->call == AT_CALL_connect || (ok && !c->peer[0])))
			set_peer(c, ev->payload, ev->len);
		return 0;
	case AT_CALL_close: /* the descriptor is gone even when close fails (EINTR) */
		return fd_drop(v, ev->fd);
	/* close_range is not followed: with CLOSE_RANGE_CLOEXEC (which the trace does not
	 * tell apart) it closes nothing, and a number reused later is seen when it is made. */
	case AT_CALL_dup:
	case AT_CALL_dup2:
	case AT_CALL_dup3:
	case AT_CALL_fcntl:
		if (!ok || ev->ret == ev->fd)
			return 0;
		if (ev->call == AT_CALL_fcntl && ev->arg0 != F_DUPFD && ev->arg0 != F_DUPFD_CLOEXEC)
			return 0;
		c = conn_of(v, ev->fd);
		return c ? fd_set_conn(v, ev->ret, (size_t)(c - v->conns)) : fd_drop(v, ev->ret);
	default: break;
	}
	int rc = ok ? fresh_fds(v, ev) : 0;
	return rc ? rc : on_data(v, ev, ok);
}

static int exchange_order(const void *a, const void *b)
{
	const struct netview_exchange *x = a, *y = b;
	if (x->conn->stream != y->conn->stream)
		return x->conn->stream < y->conn->stream ? -1 : 1;
	if (x->x->start_ns != y->x->start_ns)
		return x->x->start_ns < y->x->start_ns ? -1 : 1;
	if (x->conn != y->conn)
		return x->conn < y->conn ? -1 : 1;
	return x->x < y->x ? -1 : x->x > y->x;
}

int netview_finish(struct netview *v)
{
	int rc = netview_begin(v, v->stream, v->pid, v->now);
	size_t n = 0;
	for (size_t i = 0; i < v->count; i++)
		n += v->conns[i].http.count;
	free(v->exchanges);
	v->nexchanges = 0;
	v->exchanges = calloc(n ? n : 1, sizeof *v->exchanges);
	if (!v->exchanges)
		return AT_ENOMEM;
	for (size_t i = 0; i < v->count; i++)
		for (size_t k = 0; k < v->conns[i].http.count; k++)
			v->exchanges[v->nexchanges++] =
			    (struct netview_exchange){&v->conns[i], &v->conns[i].http.exchanges[k]};
	qsort(v->exchanges, v->nexchanges, sizeof *v->exchanges, exchange_order);
	return rc;
}
