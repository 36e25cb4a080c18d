/* The event codec (layout in docs/format.md, "Coded events").
 * An event is a tag byte whose bits say which fields repeat what came before, then only the
 * fields that did not: a clock read in a loop costs a tag, a duration and a small delta.
 * Encoder and decoder keep identical delta state, so every rule here is deterministic. */
#include "agenttrace/codec.h"

#include <string.h>

#include "agenttrace/errors.h"

enum {
	TAG_SEQ_NEXT = 0x01,    /* seq is the previous seq + 1 (else: varint seq) */
	TAG_SAME_THREAD = 0x02, /* else: varint thread */
	TAG_SAME_CALL = 0x04,   /* else: varint call */
	TAG_SAME_ARGS = 0x08,   /* arg0, arg1 as in this call's previous event (else: 2 varints) */
	TAG_RET_SHIFT = 4,      /* two bits, enum ret_form */
	TAG_EXTRA = 0x40,       /* varint flags, zigzag fd (else flags 0, fd -1) */
	TAG_RAW_PAYLOAD = 0x80, /* varint len + bytes, whatever the call's encoding */
};

enum ret_form {
	RET_ZERO = 0,  /* ret 0, err 0 */
	RET_ARG0 = 1,  /* ret == arg0 (calls returning the length asked for), err 0 */
	RET_DELTA = 2, /* zigzag (ret - previous ret in this slot), err 0 */
	RET_FULL = 3,  /* zigzag ret, zigzag err */
};

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)((v >> 1) ^ (0 - (v & 1)));
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Reads a varint at *pos; 0 on truncation or a value over 64 bits. */
static int get_varint(const uint8_t *in, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return 0;
		uint8_t b = in[(*pos)++];
		if (shift == 63 && b > 1)
			return 0;
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 1;
		}
	}
	return 0;
}

static unsigned slot_of(uint16_t call, uint64_t arg0)
{
	uint64_t h = (arg0 + call) * 0x9E3779B97F4A7C15ull;
	return (unsigned)(h >> 58); /* top 6 bits: AT_CODEC_SLOTS == 64 */
}

/* The time value of a payload in its encoding's unit, if it is a well-formed pair. */
static int time_value(enum at_encoding enc, const uint8_t *payload, uint32_t len, int64_t *value)
{
	const int64_t unit = enc == AT_ENC_TIMESPEC ? 1000000000 : 1000000;
	int64_t sec, frac;
	if ((enc != AT_ENC_TIMESPEC && enc != AT_ENC_TIMEVAL) || len < 16 ||
	    len > 16 + AT_CODEC_TAIL_MAX)
		return 0;
	memcpy(&sec, payload, 8);
	memcpy(&frac, payload + 8, 8);
	if (frac < 0 || frac >= unit || sec > 9000000000ll || sec < -9000000000ll)
		return 0;
	*value = sec * unit + frac;
	return 1;
}

static void time_pair(enum at_encoding enc, int64_t value, uint8_t *out)
{
	const int64_t unit = enc == AT_ENC_TIMESPEC ? 1000000000 : 1000000;
	int64_t sec = value / unit, frac = value % unit;
	if (frac < 0) { /* floor division, so the fraction is in [0, unit) as encoded */
		frac += unit;
		sec -= 1;
	}
	memcpy(out, &sec, 8);
	memcpy(out + 8, &frac, 8);
}

void at_codec_reset(at_codec_state *st)
{
	memset(st, 0, offsetof(at_codec_state, scratch));
}

size_t at_event_encoded_max(const at_event *ev)
{
	/* tag + 10 varints of at most 10 bytes + the payload */
	return 1 + 10 * 10 + (size_t)ev->len;
}

long at_event_encode(at_codec_state *st, const at_event *ev, uint8_t *out, size_t cap)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	if (!ci)
		return AT_ECODEC;
	if (cap < at_event_encoded_max(ev))
		return AT_EINVAL;

	uint8_t tag = 0;
	size_t n = 1;
	if (st->started && ev->seq == st->prev_seq + 1)
		tag |= TAG_SEQ_NEXT;
	else
		n += put_varint(out + n, ev->seq);
	if (st->started && ev->thread == st->prev_thread)
		tag |= TAG_SAME_THREAD;
	else
		n += put_varint(out + n, ev->thread);
	if (st->started && ev->call == st->prev_call)
		tag |= TAG_SAME_CALL;
	else
		n += put_varint(out + n, ev->call);
	if (st->call_args[ev->call].seen && st->call_args[ev->call].arg0 == ev->arg0 &&
	    st->call_args[ev->call].arg1 == ev->arg1) {
		tag |= TAG_SAME_ARGS;
	} else {
		n += put_varint(out + n, ev->arg0);
		n += put_varint(out + n, ev->arg1);
	}

	unsigned s = slot_of(ev->call, ev->arg0);
	int hit = st->slot[s].used && st->slot[s].call == ev->call && st->slot[s].arg0 == ev->arg0;
	int64_t prev_ret = hit ? st->slot[s].ret : 0, prev_value = hit ? st->slot[s].value : 0;
	enum ret_form form;
	if (ev->err != 0)
		form = RET_FULL;
	else if (ev->ret == 0)
		form = RET_ZERO;
	else if ((uint64_t)ev->ret == ev->arg0)
		form = RET_ARG0;
	else
		form = RET_DELTA;
	tag |= (uint8_t)(form << TAG_RET_SHIFT);
	if (form == RET_DELTA) {
		n += put_varint(out + n, zigzag((int64_t)((uint64_t)ev->ret - (uint64_t)prev_ret)));
	} else if (form == RET_FULL) {
		n += put_varint(out + n, zigzag(ev->ret));
		n += put_varint(out + n, zigzag(ev->err));
	}
	if (ev->flags != 0 || ev->fd != -1) {
		tag |= TAG_EXTRA;
		n += put_varint(out + n, ev->flags);
		n += put_varint(out + n, zigzag(ev->fd));
	}
	n += put_varint(out + n, ev->dur_ns);

	int64_t value = prev_value;
	if (time_value(ci->result, ev->payload, ev->len, &value)) {
		n += put_varint(out + n, ev->len - 16);
		n += put_varint(out + n, zigzag((int64_t)((uint64_t)value - (uint64_t)prev_value)));
		memcpy(out + n, ev->payload + 16, ev->len - 16);
		n += ev->len - 16;
	} else if (ci->result == AT_ENC_NONE && ev->len == 0) {
		/* nothing: the result is the return value */
	} else {
		/* bytes where the call's encoding expects none, or a time value it cannot code */
		if (ci->result == AT_ENC_NONE || ci->result == AT_ENC_TIMESPEC ||
		    ci->result == AT_ENC_TIMEVAL)
			tag |= TAG_RAW_PAYLOAD;
		n += put_varint(out + n, ev->len);
		if (ev->len)
			memcpy(out + n, ev->payload, ev->len);
		n += ev->len;
	}
	out[0] = tag;

	st->started = 1;
	st->prev_seq = ev->seq;
	st->prev_thread = ev->thread;
	st->prev_call = ev->call;
	st->call_args[ev->call].seen = 1;
	st->call_args[ev->call].arg0 = ev->arg0;
	st->call_args[ev->call].arg1 = ev->arg1;
	st->slot[s].used = 1;
	st->slot[s].call = ev->call;
	st->slot[s].arg0 = ev->arg0;
	st->slot[s].ret = ev->ret;
	st->slot[s].value = value;
	return (long)n;
}

#define NEED(cond)                                                                                 \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return AT_ECORRUPT;                                                        \
	} while (0)

long at_event_decode(at_codec_state *st, const uint8_t *in, size_t len, at_event *ev)
{
	size_t pos = 0;
	uint64_t v, a0, a1;
	NEED(len >= 1);
	uint8_t tag = in[pos++];
	NEED(st->started || (tag & (TAG_SEQ_NEXT | TAG_SAME_THREAD | TAG_SAME_CALL)) == 0);

	if (tag & TAG_SEQ_NEXT) {
		ev->seq = st->prev_seq + 1;
	} else {
		NEED(get_varint(in, len, &pos, &v));
		ev->seq = v;
	}
	if (tag & TAG_SAME_THREAD) {
		ev->thread = st->prev_thread;
	} else {
		NEED(get_varint(in, len, &pos, &v) && v <= UINT32_MAX);
		ev->thread = (uint32_t)v;
	}
	if (tag & TAG_SAME_CALL) {
		ev->call = st->prev_call;
	} else {
		NEED(get_varint(in, len, &pos, &v) && v < AT_CALL_MAX);
		ev->call = (uint16_t)v;
	}
	const struct at_call_info *ci = at_call_info(ev->call);
	NEED(ci);
	if (tag & TAG_SAME_ARGS) {
		NEED(st->call_args[ev->call].seen);
		ev->arg0 = st->call_args[ev->call].arg0;
		ev->arg1 = st->call_args[ev->call].arg1;
	} else {
		NEED(get_varint(in, len, &pos, &a0) && get_varint(in, len, &pos, &a1));
		ev->arg0 = a0;
		ev->arg1 = a1;
	}

	unsigned s = slot_of(ev->call, ev->arg0);
	int hit = st->slot[s].used && st->slot[s].call == ev->call && st->slot[s].arg0 == ev->arg0;
	int64_t prev_ret = hit ? st->slot[s].ret : 0, prev_value = hit ? st->slot[s].value : 0;
	ev->err = 0;
	switch ((tag >> TAG_RET_SHIFT) & 3) {
	case RET_ZERO: ev->ret = 0; break;
	case RET_ARG0: ev->ret = (int64_t)ev->arg0; break;
	case RET_DELTA:
		NEED(get_varint(in, len, &pos, &v));
		ev->ret = (int64_t)((uint64_t)prev_ret + (uint64_t)unzigzag(v));
		break;
	case RET_FULL:
		NEED(get_varint(in, len, &pos, &v));
		ev->ret = unzigzag(v);
		NEED(get_varint(in, len, &pos, &v));
		int64_t err = unzigzag(v);
		NEED(err >= INT32_MIN && err <= INT32_MAX);
		ev->err = (int32_t)err;
		break;
	}
	ev->flags = 0;
	ev->fd = -1;
	if (tag & TAG_EXTRA) {
		NEED(get_varint(in, len, &pos, &v) && v <= UINT16_MAX);
		ev->flags = (uint16_t)v;
		NEED(get_varint(in, len, &pos, &v));
		int64_t fd = unzigzag(v);
		NEED(fd >= INT32_MIN && fd <= INT32_MAX);
		ev->fd = (int32_t)fd;
	}
	NEED(get_varint(in, len, &pos, &v));
	ev->dur_ns = v;

	int64_t value = prev_value;
	int compact_time = !(tag & TAG_RAW_PAYLOAD) &&
	                   (ci->result == AT_ENC_TIMESPEC || ci->result == AT_ENC_TIMEVAL);
	if (compact_time) {
		uint64_t tail, delta;
		NEED(get_varint(in, len, &pos, &tail) && tail <= AT_CODEC_TAIL_MAX);
		NEED(get_varint(in, len, &pos, &delta));
		NEED(len - pos >= tail);
		value = (int64_t)((uint64_t)prev_value + (uint64_t)unzigzag(delta));
		time_pair(ci->result, value, st->scratch);
		memcpy(st->scratch + 16, in + pos, tail);
		pos += tail;
		ev->len = (uint32_t)(16 + tail);
		ev->payload = st->scratch;
		/* A value the encoder would not have coded this way means damage. */
		int64_t check;
		NEED(time_value(ci->result, st->scratch, ev->len, &check) && check == value);
	} else if (ci->result == AT_ENC_NONE && !(tag & TAG_RAW_PAYLOAD)) {
		ev->len = 0;
		ev->payload = NULL;
	} else {
		NEED(get_varint(in, len, &pos, &v) && v <= UINT32_MAX && v <= len - pos);
		ev->len = (uint32_t)v;
		ev->payload = ev->len ? in + pos : NULL;
		pos += ev->len;
	}

	st->started = 1;
	st->prev_seq = ev->seq;
	st->prev_thread = ev->thread;
	st->prev_call = ev->call;
	st->call_args[ev->call].seen = 1;
	st->call_args[ev->call].arg0 = ev->arg0;
	st->call_args[ev->call].arg1 = ev->arg1;
	st->slot[s].used = 1;
	st->slot[s].call = ev->call;
	st->slot[s].arg0 = ev->arg0;
	st->slot[s].ret = ev->ret;
	st->slot[s].value = value;
	return (long)pos;
}
