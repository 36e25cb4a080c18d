/* What the program shows (writes to its standard output and error through a stdio stream),
 * in a replay of several threads: shown in the recorded order, without making the writer
 * wait for its turn.
 *
 * printf holds the stream's lock while it writes. A thread whose write had to wait for its
 * turn would wait holding that lock, and the thread whose turn it is would block on it in
 * its own printf: the order would have to be relaxed, and lines came out in another order
 * than recorded (threads_libcurl, about one replay in ten). So such a write is checked and
 * taken at once (runtime.c, at_replay_take_output), its bytes are kept here, and they are
 * shown when the recorded order reaches its event (order.c calls at_output_due as the
 * frontier moves). The program goes on meanwhile: the recorded result is all it sees.
 * Raw system calls only, no malloc: this runs inside hooks. */
#include <string.h>

#include "../preload/preload_internal.h"
#include "../preload/sys_raw.h"
#include "order.h"

#define malloc do_not_allocate_in_hooks

#define BYTES   (1u << 20) /* kept bytes, all writes together */
#define PENDING 4096       /* writes kept */

struct pending {
	uint64_t index; /* the write's event (entry index) */
	const struct at_rawrec *ev;
	int fd;
	uint32_t off, len; /* in bytes[] */
};

static uint8_t bytes[BYTES];
static struct pending pending[PENDING];
static uint32_t npending, used;
static int lock;  /* 0 free, 1 held: kept writes are appended and shown under it */
static int final; /* the process is ending: nothing more is kept */

static void take_lock(void)
{
	while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
		at_sys(SYS_sched_yield, 0, 0, 0);
}

static void drop_lock(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

/* Shows the kept writes with an index below `frontier` (all when it is UINT64_MAX), in
 * index order. Under the lock. */
static void show_due(uint64_t frontier)
{
	for (;;) {
		uint32_t first = UINT32_MAX;
		for (uint32_t i = 0; i < npending; i++)
			if (pending[i].index < frontier &&
			    (first == UINT32_MAX || pending[i].index < pending[first].index))
				first = i;
		if (first == UINT32_MAX)
			break;
		struct pending *p = &pending[first];
		struct iovec v = {bytes + p->off, p->len};
		at_replay_show(p->fd, p->ev, &v, 1, p->len);
		pending[first] = pending[--npending];
	}
	/* The bytes end where the last of those left ends (none: at 0). */
	used = 0;
	for (uint32_t i = 0; i < npending; i++)
		if (pending[i].off + pending[i].len > used)
			used = pending[i].off + pending[i].len;
}

int at_output_keep(uint64_t index, int fd, const struct at_rawrec *ev, const struct iovec *iov,
                   int iovcnt, size_t count)
{
	take_lock();
	if (final || npending == PENDING || count > BYTES - used) {
		drop_lock();
		return 0; /* no room: shown by the caller in its turn */
	}
	struct pending *p = &pending[npending++];
	*p = (struct pending){
	    .index = index, .ev = ev, .fd = fd, .off = used, .len = (uint32_t)count};
	for (int i = 0; i < iovcnt && count; i++) {
		size_t n = iov[i].iov_len < count ? iov[i].iov_len : count;
		memcpy(bytes + used, iov[i].iov_base, n);
		used += (uint32_t)n;
		count -= n;
	}
	show_due(at_order_frontier());
	drop_lock();
	return 1;
}

void at_output_due(uint64_t frontier)
{
	if (!__atomic_load_n(&npending, __ATOMIC_ACQUIRE))
		return;
	take_lock();
	show_due(frontier);
	drop_lock();
}

void at_output_flush(void)
{
	at_output_due(UINT64_MAX);
}

void at_output_final(void)
{
	take_lock();
	show_due(UINT64_MAX);
	final = 1; /* what exit's handlers and stdio's last flush write waits for its turn */
	drop_lock();
}
