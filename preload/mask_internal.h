/* Record mode's secret masking (preload/mask.c): the rules this process masks its payloads
 * with, built once at start-up, read by every hook through at_mask_payload. */
#ifndef AGENTTRACE_PRELOAD_MASK_INTERNAL_H
#define AGENTTRACE_PRELOAD_MASK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "agenttrace/event.h"
#include "agenttrace/mask.h"

extern struct at_mask_rules at_mask_rules;
/* Per call id: 1 when its payloads are masked. All 0 when masking is off or has nothing to
 * look for, and always 0 for clock and randomness calls: their payloads are numbers and
 * random bytes, which masking could only corrupt. One load and one branch per record. */
extern uint8_t at_mask_calls[AT_CALL_MAX];

/* Record mode, from at_init: builds the rules from <run dir>/mask (written by agenttrace
 * record) and this process's own environment. A fork child inherits them as they are. */
void at_mask_init(void);

/* Masks each of the NUL-terminated strings in p[0, n) (a program's arguments) as a text
 * of its own, as `agenttrace record` masks the recorded command line. */
void at_mask_strings(uint16_t call, char *p, size_t n);

/* Masks the payload of a `call` event just copied into the log, before its commit. */
static inline void at_mask_payload(uint16_t call, uint8_t *p, size_t n)
{
	_Static_assert((AT_CALL_MAX & (AT_CALL_MAX - 1)) == 0, "AT_CALL_MAX: a power of two");
	if (at_mask_calls[call % AT_CALL_MAX] && n)
		at_mask_buffer(&at_mask_rules, p, n);
}

#endif
