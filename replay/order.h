/* The recorded order across a process's threads, on replay (replay/order.c). */
#ifndef AGENTTRACE_ORDER_H
#define AGENTTRACE_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* Thread `th` runs as kernel thread `tid` (for telling a blocked thread from a busy one). */
void at_order_thread(uint32_t th, int tid);
/* Blocks until every event before `index` was taken, or the wait had to be relaxed. A
 * `hold` (a thread kept from running ahead between its calls, not a call waiting for its
 * turn) gives up sooner, uncounted: the thread may hold a lock the others need. */
void at_order_wait(uint32_t th, uint64_t index, int hold);
/* Event `index` was taken. */
void at_order_taken(uint64_t index);
/* Thread `th` made a clock read the recording does not have there. */
void at_order_elastic(uint32_t th);
/* In a fork child: the parent's threads are gone. */
void at_order_after_fork(void);
/* The first event not taken yet (UINT64_MAX when this stream keeps no order). */
uint64_t at_order_frontier(void);

/* replay/output.c: writes to standard output and error shown in the recorded order. Keeps
 * `count` bytes of write event `index`, shown once the frontier passes it (at once if it
 * has): 1, or 0 when there is no room (then the caller shows them in its turn). */
struct iovec;
struct at_rawrec;
int at_output_keep(uint64_t index, int fd, const struct at_rawrec *ev, const struct iovec *iov,
                   int iovcnt, size_t count);
/* Shows the kept writes before `frontier` (order.c, as it moves). */
void at_output_due(uint64_t frontier);
/* Shows every kept write (the process ends, or diverged). */
void at_output_flush(void);
/* The process is ending (exit, _exit): shows every kept write, and keeps none after. */
void at_output_final(void);

#endif
