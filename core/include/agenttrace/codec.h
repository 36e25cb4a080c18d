/* The event codec: the compact byte form of events inside a sealed trace's chunks.
 * Each event is coded against the ones before it in the same chunk (delta state below), so
 * a chunk decodes on its own and a run of clock reads costs a few bytes each.
 * The exact layout is documented in docs/format.md; change both together. */
#ifndef AGENTTRACE_CODEC_H
#define AGENTTRACE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "agenttrace/event.h"

#define AT_CODEC_SLOTS    64
#define AT_CODEC_TAIL_MAX 48 /* time payloads may carry this many raw bytes after the value */

/* Delta state shared by encoder and decoder. Treat as opaque; reset at each chunk start. */
typedef struct at_codec_state {
	uint64_t prev_seq;
	uint32_t prev_thread;
	uint16_t prev_call;
	uint8_t started;
	struct {
		uint64_t arg0, arg1;
		uint8_t seen;
	} call_args[AT_CALL_MAX];
	struct {
		uint16_t call;
		uint8_t used;
		uint64_t arg0;
		int64_t ret;
		int64_t value; /* the time value, in the encoding's unit */
	} slot[AT_CODEC_SLOTS];
	uint8_t scratch[16 + AT_CODEC_TAIL_MAX]; /* decoded time payloads live here */
} at_codec_state;

void at_codec_reset(at_codec_state *st);

/* The most bytes at_event_encode can write for `ev`. */
size_t at_event_encoded_max(const at_event *ev);

/* Appends the encoding of `ev` to `out`. Returns the bytes written (> 0), AT_EINVAL when
 * `cap` is below at_event_encoded_max(ev), or AT_ECODEC for an unknown call id. */
long at_event_encode(at_codec_state *st, const at_event *ev, uint8_t *out, size_t cap);

/* Decodes one event from `in`. Returns the bytes consumed (> 0) or AT_ECORRUPT.
 * ev->payload points into `in` or into st->scratch: borrowed until the next decode. */
long at_event_decode(at_codec_state *st, const uint8_t *in, size_t len, at_event *ev);

#endif
