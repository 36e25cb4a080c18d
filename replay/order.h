/* The recorded order across a process's threads, on replay (replay/order.c). */
#ifndef AGENTTRACE_ORDER_H
#define AGENTTRACE_ORDER_H

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

#endif
