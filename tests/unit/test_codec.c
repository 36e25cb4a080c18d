/* Unit tests for the event codec (core/codec.c): every kind of event survives an encode and
 * decode exactly, a clock read in a loop costs a few bytes, and damaged input is refused
 * without reading outside the buffer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/codec.h"
#include "agenttrace/errors.h"
#include "agenttrace/event.h"

static const unsigned call_ids[] = {
#define AT_CALL(id, name, family, arg, result, fail, ret_type, params) id,
#include "agenttrace/calls.def"
#undef AT_CALL
};
#define NCALLS (sizeof call_ids / sizeof call_ids[0])

static int is_known_call(unsigned id)
{
	for (size_t i = 0; i < NCALLS; i++)
		if (call_ids[i] == id)
			return 1;
	return 0;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static at_event base_event(uint64_t seq, unsigned call)
{
	return (at_event){.seq = seq, .call = (uint16_t)call, .fd = -1};
}

/* A 16-byte (seconds, fraction) time payload, native order, as the preload stores it. */
static void put_time(uint8_t *p, int64_t sec, int64_t frac)
{
	memcpy(p, &sec, 8);
	memcpy(p + 8, &frac, 8);
}

static void expect_same_event(const at_event *want, const at_event *got, size_t i)
{
	cr_assert_eq(got->seq, want->seq, "event %zu: seq %" PRIu64 ", want %" PRIu64, i, got->seq,
	             want->seq);
	cr_assert_eq(got->thread, want->thread, "event %zu: thread", i);
	cr_assert_eq(got->call, want->call, "event %zu: call %u, want %u", i, got->call,
	             want->call);
	cr_assert_eq(got->flags, want->flags, "event %zu: flags", i);
	cr_assert_eq(got->ret, want->ret, "event %zu: ret %" PRId64 ", want %" PRId64, i, got->ret,
	             want->ret);
	cr_assert_eq(got->err, want->err, "event %zu: err", i);
	cr_assert_eq(got->fd, want->fd, "event %zu: fd", i);
	cr_assert_eq(got->dur_ns, want->dur_ns, "event %zu: dur_ns", i);
	cr_assert_eq(got->arg0, want->arg0, "event %zu: arg0", i);
	cr_assert_eq(got->arg1, want->arg1, "event %zu: arg1", i);
	cr_assert_eq(got->len, want->len, "event %zu: len %u, want %u", i, got->len, want->len);
	if (want->len)
		cr_assert(memcmp(got->payload, want->payload, want->len) == 0,
		          "event %zu: payload bytes differ", i);
}

/* Encodes `evs` into one buffer, resetting the delta state every `chunk` events as the
 * container does, then decodes it with a fresh state and compares every event. Returns
 * the encoded size; `sizes` (may be NULL) receives each event's size. */
static size_t roundtrip_chunked(const at_event *evs, size_t n, size_t chunk, size_t *sizes)
{
	size_t cap = 1, len = 0, pos = 0;
	for (size_t i = 0; i < n; i++)
		cap += at_event_encoded_max(&evs[i]);
	uint8_t *buf = malloc(cap);
	size_t *each = calloc(n + 1, sizeof *each);
	cr_assert(buf && each);

	at_codec_state enc, dec;
	for (size_t i = 0; i < n; i++) {
		if (i % chunk == 0)
			at_codec_reset(&enc);
		long k = at_event_encode(&enc, &evs[i], buf + len, cap - len);
		cr_assert_gt(k, 0, "event %zu (call %u) did not encode: %ld", i, evs[i].call, k);
		cr_assert_leq((size_t)k, at_event_encoded_max(&evs[i]), "event %zu overran its max",
		              i);
		each[i] = (size_t)k;
		len += (size_t)k;
	}
	for (size_t i = 0; i < n; i++) {
		if (i % chunk == 0)
			at_codec_reset(&dec);
		at_event ev;
		memset(&ev, 0xA5, sizeof ev);
		long k = at_event_decode(&dec, buf + pos, len - pos, &ev);
		cr_assert_eq(k, (long)each[i], "event %zu: decode consumed %ld of %zu bytes", i, k,
		             each[i]);
		expect_same_event(&evs[i], &ev, i);
		pos += (size_t)k;
	}
	cr_assert_eq(pos, len);
	if (sizes)
		memcpy(sizes, each, n * sizeof *each);
	free(each);
	free(buf);
	return len;
}

static size_t roundtrip(const at_event *evs, size_t n)
{
	return roundtrip_chunked(evs, n, n ? n : 1, NULL);
}

Test(codec, every_call_in_calls_def_round_trips)
{
	enum { ROUNDS = 4 };
	static at_event evs[NCALLS * ROUNDS];
	static uint8_t pay[NCALLS * ROUNDS][32];
	size_t n = 0;
	for (int round = 0; round < ROUNDS; round++) {
		for (size_t c = 0; c < NCALLS; c++, n++) {
			const struct at_call_info *ci = at_call_info(call_ids[c]);
			cr_assert_not_null(ci, "call %u in calls.def has no info", call_ids[c]);
			at_event *ev = &evs[n];
			*ev = base_event(n, call_ids[c]);
			ev->thread = (uint32_t)(round & 1);
			ev->dur_ns = 100 + n;
			ev->arg0 = (uint64_t)round;
			switch (ci->result) {
			case AT_ENC_NONE: ev->ret = 1732291200 + round * 7; break;
			case AT_ENC_TIMESPEC:
				put_time(pay[n], 1732291200 + round, 123456789 + round);
				ev->payload = pay[n];
				ev->len = 16;
				break;
			case AT_ENC_TIMEVAL:
				put_time(pay[n], 1732291200 + round, 123456 + round);
				ev->payload = pay[n];
				ev->len = 16;
				break;
			case AT_ENC_BYTES:
				for (int b = 0; b < 32; b++)
					pay[n][b] = (uint8_t)rng();
				ev->payload = pay[n];
				ev->len = 32;
				ev->arg0 = 32;
				ev->ret = round == 3 ? 0 : 32;
				break;
			default: break; /* other encodings: their own tests below */
			}
			if (round == 2) { /* every call also fails once */
				ev->ret = -1;
				ev->err = EINTR;
				ev->len = 0;
				ev->payload = NULL;
			}
		}
	}
	roundtrip(evs, n);
	roundtrip_chunked(evs, n, 3, NULL);
}

Test(codec, clock_loop_round_trips_across_clocks_and_seconds)
{
	enum { N = 5000 };
	static at_event evs[N];
	static uint8_t pay[N][16];
	int64_t t[4] = {1732291200ll * 1000000000ll, 5000000000ll, -3000000000ll, 999999000};
	for (size_t i = 0; i < N; i++) {
		unsigned clock = (unsigned)(rng() % 4);
		t[clock] += (int64_t)(rng() % 100000);
		int64_t sec = t[clock] / 1000000000, nsec = t[clock] % 1000000000;
		if (nsec < 0) {
			nsec += 1000000000;
			sec--;
		}
		evs[i] = base_event(i, AT_CALL_clock_gettime);
		evs[i].arg0 = clock;
		evs[i].dur_ns = 20 + rng() % 20;
		put_time(pay[i], sec, nsec);
		evs[i].payload = pay[i];
		evs[i].len = 16;
	}
	roundtrip(evs, N);
	roundtrip_chunked(evs, N, 333, NULL);
}

Test(codec, time_edge_values_round_trip)
{
	static const int64_t pairs[][2] = {
	    {0, 0},
	    {0, 999999999},
	    {-1, 0},
	    {-1, 999999999},
	    {-1, 1},
	    {-1732291200, 500},
	    {9000000000ll, 999999999},
	    {-9000000000ll, 0},
	    {9000000001ll, 0},  /* out of the delta range: raw */
	    {-9000000001ll, 0}, /* likewise */
	    {INT64_MAX, 999999999},
	    {INT64_MIN, 0},
	    {1, 0},
	    {0, 999999999},
	};
	enum { N = sizeof pairs / sizeof pairs[0] };
	static at_event evs[2 * N];
	static uint8_t pay[2 * N][16];
	for (size_t i = 0; i < N; i++) {
		for (int k = 0; k < 2; k++) { /* clock_gettime (timespec), gettimeofday (timeval) */
			size_t j = 2 * i + (size_t)k;
			int64_t frac = k ? pairs[i][1] % 1000000 : pairs[i][1];
			evs[j] = base_event(j, k ? AT_CALL_gettimeofday : AT_CALL_clock_gettime);
			evs[j].arg0 = k ? 1 : 0;
			put_time(pay[j], pairs[i][0], frac);
			evs[j].payload = pay[j];
			evs[j].len = 16;
		}
	}
	roundtrip(evs, 2 * N);
	roundtrip_chunked(evs, 2 * N, 1, NULL);
}

Test(codec, non_normalized_timespecs_round_trip)
{
	static const int64_t pairs[][2] = {
	    {100, 1000000000}, {100, -1},        {100, 5},  {100, INT64_MAX},
	    {100, INT64_MIN},  {-5, 1999999999}, {100, 7},  {0, -999999999},
	    {100, 1000000001}, {100, 9},         {100, 10},
	};
	enum { N = sizeof pairs / sizeof pairs[0] };
	static at_event evs[3 * N];
	static uint8_t pay[3 * N][16];
	size_t n = 0;
	for (size_t i = 0; i < N; i++) {
		static const unsigned calls[] = {AT_CALL_clock_gettime, AT_CALL_timespec_get,
		                                 AT_CALL_gettimeofday};
		for (size_t k = 0; k < 3; k++, n++) {
			evs[n] = base_event(n, calls[k]);
			evs[n].arg0 = 1;
			evs[n].ret = calls[k] == AT_CALL_timespec_get ? 1 : 0;
			put_time(pay[n], pairs[i][0], pairs[i][1]);
			evs[n].payload = pay[n];
			evs[n].len = 16;
		}
	}
	roundtrip(evs, n);
}

Test(codec, gettimeofday_payload_sizes_round_trip)
{
	/* 16: timeval only; 24: timeval + struct timezone; 8: timezone only (tv was NULL). */
	static uint8_t pay[6][24];
	static const uint32_t lens[6] = {16, 24, 8, 24, 16, 8};
	at_event evs[6];
	for (size_t i = 0; i < 6; i++) {
		for (size_t b = 0; b < sizeof pay[i]; b++)
			pay[i][b] = (uint8_t)rng();
		if (lens[i] >= 16)
			put_time(pay[i], 1732291200 + (int64_t)i, 250000 + (int64_t)i);
		evs[i] = base_event(i, AT_CALL_gettimeofday);
		evs[i].arg0 = lens[i] == 8 ? 2 : lens[i] == 24 ? 3 : 1;
		evs[i].payload = pay[i];
		evs[i].len = lens[i];
	}
	roundtrip(evs, 6);
}

Test(codec, time_payload_tails_round_trip)
{
	/* A time value may carry up to AT_CODEC_TAIL_MAX raw bytes; one more goes raw. */
	static uint8_t pay[4][16 + AT_CODEC_TAIL_MAX + 1];
	static const uint32_t lens[4] = {16 + AT_CODEC_TAIL_MAX, 17, 16 + AT_CODEC_TAIL_MAX + 1,
	                                 15};
	at_event evs[4];
	for (size_t i = 0; i < 4; i++) {
		for (size_t b = 0; b < sizeof pay[i]; b++)
			pay[i][b] = (uint8_t)rng();
		put_time(pay[i], 77, 1000 + (int64_t)i);
		evs[i] = base_event(i, AT_CALL_clock_nanosleep);
		evs[i].payload = pay[i];
		evs[i].len = lens[i];
	}
	roundtrip(evs, 4);
}

Test(codec, random_payloads_round_trip)
{
	static const uint32_t lens[] = {0, 1, 16, 4096, 1u << 20, 3, 0};
	enum { N = sizeof lens / sizeof lens[0] };
	at_event evs[2 * N];
	uint8_t *bufs[N];
	for (size_t i = 0; i < N; i++) {
		bufs[i] = malloc(lens[i] + 1);
		cr_assert_not_null(bufs[i]);
		for (uint32_t b = 0; b < lens[i]; b++)
			bufs[i][b] = (uint8_t)rng();
		evs[2 * i] = base_event(2 * i, AT_CALL_getrandom);
		evs[2 * i].arg0 = lens[i];
		evs[2 * i].ret = lens[i];
		evs[2 * i].payload = lens[i] ? bufs[i] : NULL;
		evs[2 * i].len = lens[i];
		evs[2 * i + 1] = base_event(2 * i + 1, AT_CALL_arc4random_buf);
		evs[2 * i + 1].arg0 = lens[i];
		evs[2 * i + 1].payload = lens[i] ? bufs[i] : NULL;
		evs[2 * i + 1].len = lens[i];
	}
	roundtrip(evs, 2 * N);
	for (size_t i = 0; i < N; i++)
		free(bufs[i]);
}

Test(codec, return_values_errors_and_extras_round_trip)
{
	static const int64_t rets[] = {
	    0, 1, -1, 32, INT64_MAX, INT64_MIN, 0xFFFFFFFFll, 0, 5, -1000000000000, 7, INT64_MAX};
	enum { N = sizeof rets / sizeof rets[0] };
	at_event evs[4 * N];
	size_t n = 0;
	for (size_t i = 0; i < N; i++) {
		/* arc4random: ret is the result, so ret deltas can be anything */
		evs[n] = base_event(n, AT_CALL_arc4random);
		evs[n++].ret = rets[i];
		/* getrandom failing: ret -1 with errno */
		evs[n] = base_event(n, AT_CALL_getrandom);
		evs[n].arg0 = 16;
		evs[n].arg1 = 1;
		evs[n].ret = -1;
		evs[n++].err = i % 2 ? EAGAIN : EINTR;
		/* getrandom returning what was asked (ret == arg0) or less */
		evs[n] = base_event(n, AT_CALL_getrandom);
		evs[n].arg0 = (uint64_t)rets[i];
		evs[n].ret = i % 3 ? rets[i] : rets[i] / 2;
		evs[n].fd = i % 2 ? 3 : -1;
		evs[n++].flags = (uint16_t)(i % 4 == 0 ? 0xFFFF : 0);
		/* clock_nanosleep reports failure as the return code, errno untouched */
		evs[n] = base_event(n, AT_CALL_clock_nanosleep);
		evs[n].arg0 = 1ull | 1ull << 32;
		evs[n].arg1 = 1000000;
		evs[n].ret = i % 2 ? EINTR : 0;
		evs[n].err = i % 5 == 0 ? -7 : 0;
		evs[n].fd = i % 3 == 0 ? INT32_MIN : i % 3 == 1 ? INT32_MAX : -2;
		evs[n++].flags = (uint16_t)i;
	}
	roundtrip(evs, n);
}

Test(codec, threads_seq_gaps_and_arg_changes_round_trip)
{
	static const uint64_t seqs[] = {0,          1, 2,          10, 11, 5, 6, UINT64_MAX - 1,
	                                UINT64_MAX, 0, 1ull << 40, 3};
	static const uint32_t threads[] = {0, 0, 1, 1, 0, UINT32_MAX, UINT32_MAX, 2, 2, 0, 7, 0};
	static const uint64_t args[] = {0, 0, 1, 1, UINT64_MAX, UINT64_MAX, 2, 0, 0, 5, 5, 11};
	enum { N = sizeof seqs / sizeof seqs[0] };
	at_event evs[N];
	static uint8_t pay[N][16];
	for (size_t i = 0; i < N; i++) {
		evs[i] = base_event(seqs[i], i % 3 ? AT_CALL_clock_gettime : AT_CALL_usleep);
		evs[i].thread = threads[i];
		evs[i].arg0 = args[i];
		evs[i].arg1 = i % 4 == 3 ? i : 0;
		evs[i].dur_ns = i % 2 ? UINT64_MAX : i;
		if (evs[i].call == AT_CALL_clock_gettime) {
			put_time(pay[i], 1000 + (int64_t)i, 999999999 - (int64_t)i);
			evs[i].payload = pay[i];
			evs[i].len = 16;
		}
	}
	roundtrip(evs, N);
}

/* Events of every shape, chosen at random: a stress for the delta state. */
static size_t random_events(at_event *evs, size_t n, uint8_t (*pay)[64])
{
	static const unsigned interesting_calls[] = {
	    AT_CALL_clock_gettime, AT_CALL_clock_gettime, AT_CALL_clock_gettime,
	    AT_CALL_gettimeofday,  AT_CALL_getrandom,     AT_CALL_arc4random,
	    AT_CALL_time,          AT_CALL_nanosleep,     AT_CALL_arc4random_uniform};
	uint64_t seq = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rng();
		unsigned call =
		    interesting_calls[r % (sizeof interesting_calls / sizeof interesting_calls[0])];
		seq = r & 0x100 ? seq + 1 : rng() % 1000;
		at_event *ev = &evs[i];
		*ev = base_event(seq, call);
		ev->thread = r & 0x200 ? 0 : (uint32_t)(rng() % 4);
		ev->arg0 = r & 0x400 ? 1 : rng() % 3;
		ev->arg1 = r & 0x800 ? 0 : rng();
		ev->dur_ns = rng() % (r & 0x1000 ? 100 : UINT64_MAX);
		ev->ret = r & 0x2000 ? 0 : (int64_t)rng();
		if (r & 0x4000) {
			ev->ret = -1;
			ev->err = (int32_t)(rng() % 200) - 50;
		}
		if (r & 0x8000)
			ev->fd = (int32_t)rng();
		if (r & 0x10000)
			ev->flags = (uint16_t)rng();
		const struct at_call_info *ci = at_call_info(call);
		ev->len = ci->result == AT_ENC_NONE && (r & 0x20000) ? 0 : (uint32_t)(rng() % 65);
		if (ci->result == AT_ENC_TIMESPEC || ci->result == AT_ENC_TIMEVAL)
			ev->len = r & 0x40000 ? 16 : ev->len;
		for (size_t b = 0; b < 64; b++)
			pay[i][b] = (uint8_t)rng();
		if (ev->len >= 16 && (r & 0x80000))
			put_time(pay[i], (int64_t)(rng() % 4000000000ull) - 1000000000,
			         (int64_t)(rng() % 1000000));
		ev->payload = ev->len ? pay[i] : NULL;
	}
	return n;
}

Test(codec, random_events_round_trip_with_chunk_resets)
{
	enum { N = 20000 };
	static at_event evs[N];
	static uint8_t pay[N][64];
	random_events(evs, N, pay);
	roundtrip(evs, N);
	roundtrip_chunked(evs, N, 1, NULL);
	roundtrip_chunked(evs, N, 97, NULL);
}

Test(codec, clock_read_in_a_loop_costs_at_most_six_bytes)
{
	enum { N = 2000 };
	static at_event evs[N];
	static uint8_t pay[N][16];
	static size_t sizes[N];
	int64_t t = 86400ll * 1000000000ll + 999990000; /* crosses whole seconds */
	for (size_t i = 0; i < N; i++) {
		t += 38 + (int64_t)((i * 7) % 5);
		evs[i] = base_event(1000 + i, AT_CALL_clock_gettime);
		evs[i].arg0 = 1; /* CLOCK_MONOTONIC */
		evs[i].dur_ns = 28 + i % 5;
		put_time(pay[i], t / 1000000000, t % 1000000000);
		evs[i].payload = pay[i];
		evs[i].len = 16;
	}
	size_t total = roundtrip_chunked(evs, N, N, sizes);
	for (size_t i = 1; i < N; i++)
		cr_assert_leq(sizes[i], 6, "clock read %zu took %zu bytes", i, sizes[i]);
	cr_expect_leq(total, 6 * N);
}

Test(codec, encode_refuses_unknown_calls)
{
	static const unsigned bad[] = {0, 10, 19, 29, AT_CALL_MAX - 1, AT_CALL_MAX, 1000, 65535};
	uint8_t out[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (is_known_call(bad[i]))
			continue;
		at_codec_state st;
		at_codec_reset(&st);
		at_event ev = base_event(0, bad[i]);
		cr_expect_eq(at_event_encode(&st, &ev, out, sizeof out), AT_ECODEC, "call id %u",
		             bad[i]);
	}
}

Test(codec, encode_refuses_a_buffer_below_the_max)
{
	uint8_t pay[16];
	put_time(pay, 1732291200, 5);
	at_event ev = base_event(0, AT_CALL_clock_gettime);
	ev.payload = pay;
	ev.len = 16;
	size_t max = at_event_encoded_max(&ev);
	uint8_t *out = malloc(max);
	cr_assert_not_null(out);
	memset(out, 0xEE, max);
	at_codec_state enc, dec;
	at_codec_reset(&enc);
	cr_expect_eq(at_event_encode(&enc, &ev, out, 0), AT_EINVAL);
	cr_expect_eq(at_event_encode(&enc, &ev, out, max - 1), AT_EINVAL);
	for (size_t b = 0; b < max; b++)
		cr_assert_eq(out[b], 0xEE, "a refused encode wrote byte %zu", b);
	/* The refusals left the state alone: what is encoded now still decodes. */
	long n = at_event_encode(&enc, &ev, out, max);
	cr_assert_gt(n, 0);
	at_codec_reset(&dec);
	at_event got;
	cr_assert_eq(at_event_decode(&dec, out, (size_t)n, &got), n);
	expect_same_event(&ev, &got, 0);
	free(out);
}

Test(codec, encoded_max_holds_the_largest_event)
{
	/* Every field at its widest varint, a time payload with the longest tail. */
	uint8_t pay[16 + AT_CODEC_TAIL_MAX];
	memset(pay, 0xFF, sizeof pay);
	put_time(pay, -9000000000ll, 999999999);
	at_event evs[3];
	for (int i = 0; i < 3; i++) {
		evs[i] = (at_event){.seq = UINT64_MAX - (uint64_t)(i == 1 ? 5 : 0),
		                    .thread = UINT32_MAX - (uint32_t)i,
		                    .call = AT_CALL_clock_nanosleep,
		                    .flags = 0xFFFF,
		                    .ret = INT64_MIN + i,
		                    .err = INT32_MIN,
		                    .fd = INT32_MIN,
		                    .dur_ns = UINT64_MAX,
		                    .arg0 = UINT64_MAX - (uint64_t)i,
		                    .arg1 = UINT64_MAX,
		                    .len = sizeof pay,
		                    .payload = pay};
		if (i == 2)
			put_time(pay, 9000000000ll, 0);
	}
	at_codec_state st;
	at_codec_reset(&st);
	for (int i = 0; i < 3; i++) {
		size_t max = at_event_encoded_max(&evs[i]);
		uint8_t *out = malloc(max); /* exactly the max, so ASan sees an overrun */
		cr_assert_not_null(out);
		long n = at_event_encode(&st, &evs[i], out, max);
		cr_assert_gt(n, 0);
		cr_assert_leq((size_t)n, max);
		free(out);
	}
}

/* Encodes `evs` and, before decoding each event, tries every shorter length of it. */
static void expect_truncations_refused(const at_event *evs, size_t n)
{
	size_t cap = 0, len = 0, pos = 0;
	for (size_t i = 0; i < n; i++)
		cap += at_event_encoded_max(&evs[i]);
	uint8_t *buf = malloc(cap);
	size_t *each = calloc(n, sizeof *each);
	cr_assert(buf && each);
	at_codec_state st;
	at_codec_reset(&st);
	for (size_t i = 0; i < n; i++) {
		long k = at_event_encode(&st, &evs[i], buf + len, cap - len);
		cr_assert_gt(k, 0);
		each[i] = (size_t)k;
		len += (size_t)k;
	}
	at_codec_reset(&st);
	for (size_t i = 0; i < n; i++) {
		for (size_t cut = 0; cut < each[i]; cut++) {
			/* a copy of exactly `cut` bytes: reading past it is an ASan error */
			uint8_t *part = malloc(cut ? cut : 1);
			cr_assert_not_null(part);
			memcpy(part, buf + pos, cut);
			at_codec_state tmp = st;
			at_event ev;
			long k = at_event_decode(&tmp, part, cut, &ev);
			cr_assert_eq(k, AT_ECORRUPT, "event %zu cut to %zu of %zu bytes: %ld", i,
			             cut, each[i], k);
			free(part);
		}
		at_event ev;
		long k = at_event_decode(&st, buf + pos, each[i], &ev);
		cr_assert_eq(k, (long)each[i]);
		expect_same_event(&evs[i], &ev, i);
		pos += each[i];
	}
	free(each);
	free(buf);
}

Test(codec, decode_refuses_every_truncation)
{
	enum { N = 400 };
	static at_event evs[N + 2];
	static uint8_t pay[N][64];
	random_events(evs, N, pay);
	static uint8_t big[4096];
	for (size_t b = 0; b < sizeof big; b++)
		big[b] = (uint8_t)rng();
	evs[N] = base_event(evs[N - 1].seq + 1, AT_CALL_getrandom);
	evs[N].arg0 = sizeof big;
	evs[N].ret = sizeof big;
	evs[N].payload = big;
	evs[N].len = sizeof big;
	evs[N + 1] = evs[N];
	evs[N + 1].seq++;
	evs[N + 1].ret = 1;
	expect_truncations_refused(evs, N + 2);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	for (; v >= 0x80; v >>= 7)
		p[n++] = (uint8_t)(v | 0x80);
	p[n++] = (uint8_t)v;
	return n;
}

/* A hand-made first event of a chunk: tag 0 (ret 0, nothing repeated), seq 0, thread 0,
 * `call`, arg0 0, arg1 0, dur 0 (a whole event for a call with no payload). */
static size_t craft_event(uint8_t *p, uint8_t tag, uint64_t call)
{
	size_t n = 0;
	p[n++] = tag;
	n += put_varint(p + n, 0);
	n += put_varint(p + n, 0);
	n += put_varint(p + n, call);
	n += put_varint(p + n, 0);
	n += put_varint(p + n, 0);
	n += put_varint(p + n, 0);
	return n;
}

Test(codec, decode_refuses_unknown_calls)
{
	uint8_t buf[32];
	at_codec_state st;
	at_event ev;
	/* The crafted form is right: a known call with no payload decodes. */
	size_t n = craft_event(buf, 0, AT_CALL_time);
	at_codec_reset(&st);
	cr_assert_eq(at_event_decode(&st, buf, n, &ev), (long)n);
	cr_assert_eq(ev.call, AT_CALL_time);
	for (uint64_t id = 0; id < 300; id++) {
		if (is_known_call((unsigned)id))
			continue;
		n = craft_event(buf, 0, id);
		at_codec_reset(&st);
		cr_assert_eq(at_event_decode(&st, buf, n, &ev), AT_ECORRUPT, "call id %" PRIu64,
		             id);
	}
	n = craft_event(buf, 0, UINT64_MAX);
	at_codec_reset(&st);
	cr_assert_eq(at_event_decode(&st, buf, n, &ev), AT_ECORRUPT);
}

Test(codec, decode_refuses_references_to_state_a_chunk_never_had)
{
	uint8_t buf[32];
	at_codec_state st;
	at_event ev;
	/* "same seq/thread/call as before" as the first event of a chunk */
	for (uint8_t tag = 1; tag <= 7; tag++) {
		at_codec_reset(&st);
		size_t n = craft_event(buf, tag, AT_CALL_time);
		cr_expect_eq(at_event_decode(&st, buf, n, &ev), AT_ECORRUPT, "tag 0x%02x", tag);
	}
	/* "same args as this call's last event" when the call has not been seen */
	static const uint8_t same_args[] = {0x08, 0x00, 0x00, AT_CALL_time, 0x00};
	at_codec_reset(&st);
	cr_expect_eq(at_event_decode(&st, same_args, sizeof same_args, &ev), AT_ECORRUPT);
	/* a varint longer than 64 bits */
	static const uint8_t long_varint[] = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	                                      0xFF, 0xFF, 0x7F, 0x00, 0x03, 0x00, 0x00, 0x00};
	at_codec_reset(&st);
	cr_expect_eq(at_event_decode(&st, long_varint, sizeof long_varint, &ev), AT_ECORRUPT);
}

Test(codec, random_byte_flips_never_read_out_of_bounds)
{
	enum { N = 60, ROUNDS = 20000 };
	static at_event evs[N];
	static uint8_t pay[N][64];
	random_events(evs, N, pay);
	size_t cap = 0, len = 0;
	for (size_t i = 0; i < N; i++)
		cap += at_event_encoded_max(&evs[i]);
	uint8_t *good = malloc(cap);
	cr_assert_not_null(good);
	at_codec_state st;
	at_codec_reset(&st);
	for (size_t i = 0; i < N; i++)
		len += (size_t)at_event_encode(&st, &evs[i], good + len, cap - len);

	uint8_t *bad = malloc(len);
	cr_assert_not_null(bad);
	unsigned long decoded = 0, refused = 0, sink = 0;
	for (int round = 0; round < ROUNDS; round++) {
		memcpy(bad, good, len);
		int flips = 1 + (int)(rng() % 3);
		for (int f = 0; f < flips; f++)
			bad[rng() % len] ^= (uint8_t)(1 + rng() % 255);
		at_codec_reset(&st);
		size_t pos = 0;
		while (pos < len) {
			at_event ev;
			long k = at_event_decode(&st, bad + pos, len - pos, &ev);
			if (k < 0) {
				cr_assert_eq(k, AT_ECORRUPT);
				refused++;
				break;
			}
			cr_assert(k > 0 && (size_t)k <= len - pos, "round %d: consumed %ld of %zu",
			          round, k, len - pos);
			cr_assert_not_null(at_call_info(ev.call), "decoded unknown call %u",
			                   ev.call);
			if (ev.len) {
				const uint8_t *p = ev.payload;
				int in_input =
				    p >= bad + pos && p + ev.len <= bad + pos + (size_t)k;
				int in_scratch =
				    p >= st.scratch && p + ev.len <= st.scratch + sizeof st.scratch;
				cr_assert(in_input || in_scratch,
				          "round %d: payload of %u bytes outside the event", round,
				          ev.len);
				for (uint32_t b = 0; b < ev.len; b++)
					sink += p[b];
			}
			pos += (size_t)k;
			decoded++;
		}
	}
	cr_expect_gt(refused, 0, "no damaged buffer was ever refused");
	cr_log_info("decoded %lu events, refused %lu buffers (%lu)", decoded, refused, sink);
	free(bad);
	free(good);
}
