/* The call vocabulary, expanded from calls.def, and how events read to people.
 * No allocation: the formatters write into caller buffers (the preload uses them too). */
#include "agenttrace/event.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct at_call_info calls[AT_CALL_MAX] = {
#define AT_CALL(id, name, family, arg, result, fail, ret_type, params)                             \
	[id] = {#name, AT_FAMILY_##family, AT_ARG_##arg, AT_ENC_##result, AT_FAIL_##fail},
#include "agenttrace/calls.def"
#undef AT_CALL
};

const struct at_call_info *at_call_info(unsigned id)
{
	if (id >= AT_CALL_MAX || !calls[id].name)
		return NULL;
	return &calls[id];
}

const char *at_family_name(enum at_family family)
{
	switch (family) {
	case AT_FAMILY_TIME: return "time";
	case AT_FAMILY_RANDOM: return "random";
	default: return "unknown";
	}
}

static const char *clock_name(uint64_t clock)
{
	static const char *const names[] = {
	    "CLOCK_REALTIME",
	    "CLOCK_MONOTONIC",
	    "CLOCK_PROCESS_CPUTIME_ID",
	    "CLOCK_THREAD_CPUTIME_ID",
	    "CLOCK_MONOTONIC_RAW",
	    "CLOCK_REALTIME_COARSE",
	    "CLOCK_MONOTONIC_COARSE",
	    "CLOCK_BOOTTIME",
	    "CLOCK_REALTIME_ALARM",
	    "CLOCK_BOOTTIME_ALARM",
	    NULL,
	    "CLOCK_TAI",
	};
	if (clock < sizeof names / sizeof names[0] && names[clock])
		return names[clock];
	return NULL;
}

static void format_clock(uint64_t clock, char *out, size_t cap)
{
	const char *n = clock_name(clock);
	if (n)
		snprintf(out, cap, "%s", n);
	else
		snprintf(out, cap, "clock %" PRId64, (int64_t)clock);
}

char *at_event_format_args(const at_event *ev, char *out, size_t cap)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	char clk[48];
	if (!cap)
		return out;
	out[0] = '\0';
	if (!ci)
		return out;
	switch (ci->arg) {
	case AT_ARG_NONE: break;
	case AT_ARG_CLOCK: format_clock(ev->arg0, out, cap); break;
	case AT_ARG_TIMEZONE:
		snprintf(out, cap, "%s, %s", ev->arg0 & 1 ? "tv" : "NULL",
		         ev->arg0 & 2 ? "tz" : "NULL");
		break;
	case AT_ARG_BASE:
		snprintf(out, cap, ev->arg0 == TIME_UTC ? "TIME_UTC" : "base %" PRIu64, ev->arg0);
		break;
	case AT_ARG_DURATION: snprintf(out, cap, "%" PRIu64 " ns", ev->arg0); break;
	case AT_ARG_CLOCK_SLEEP:
		format_clock(ev->arg0 & 0xFFFFFFFFu, clk, sizeof clk);
		snprintf(out, cap, "%s, flags=0x%" PRIx64 ", %" PRIu64 " ns", clk, ev->arg0 >> 32,
		         ev->arg1);
		break;
	case AT_ARG_MICROS: snprintf(out, cap, "%" PRIu64 " us", ev->arg0); break;
	case AT_ARG_SECONDS: snprintf(out, cap, "%" PRIu64 " s", ev->arg0); break;
	case AT_ARG_LEN: snprintf(out, cap, "len=%" PRIu64, ev->arg0); break;
	case AT_ARG_LEN_FLAGS:
		snprintf(out, cap, "len=%" PRIu64 ", flags=0x%" PRIx64, ev->arg0, ev->arg1);
		break;
	case AT_ARG_BOUND: snprintf(out, cap, "bound=%" PRIu64, ev->arg0); break;
	}
	return out;
}

/* Reads the (seconds, fraction) pair at the start of a time payload. */
static int time_pair(const at_event *ev, int64_t *sec, int64_t *frac)
{
	if (ev->len < 16)
		return 0;
	memcpy(sec, ev->payload, 8);
	memcpy(frac, ev->payload + 8, 8);
	return 1;
}

char *at_event_format_result(const at_event *ev, char *out, size_t cap)
{
	const struct at_call_info *ci = at_call_info(ev->call);
	int64_t sec, frac;
	if (!cap)
		return out;
	out[0] = '\0';
	if (!ci)
		return out;
	switch (ci->result) {
	case AT_ENC_NONE:
		if (ev->call == AT_CALL_arc4random)
			snprintf(out, cap, "0x%08" PRIx32, (uint32_t)ev->ret);
		break;
	case AT_ENC_TIMESPEC:
		if (time_pair(ev, &sec, &frac))
			snprintf(out, cap, "%" PRId64 ".%09" PRId64, sec, frac);
		break;
	case AT_ENC_TIMEVAL:
		if (time_pair(ev, &sec, &frac))
			snprintf(out, cap, "%" PRId64 ".%06" PRId64, sec, frac);
		break;
	case AT_ENC_BYTES: {
		size_t shown = ev->len < 16 ? ev->len : 16, n = 0;
		for (size_t i = 0; i < shown && n + 3 < cap; i++)
			n += (size_t)snprintf(out + n, cap - n, "%02x", ev->payload[i]);
		if (ev->len > shown && n < cap)
			snprintf(out + n, cap - n, "... (%" PRIu32 " bytes)", ev->len);
		break;
	}
	}
	return out;
}
