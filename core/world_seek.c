/* The world of a stream at a step, from a sealed trace (world.h, at_world_seek). */
#include <stdlib.h>

#include "agenttrace/errors.h"
#include "agenttrace/world.h"

int at_world_seek(at_trace *t, unsigned stream, uint64_t step, at_world **wp, uint64_t *kf_step,
                  void (*damaged)(void *ctx, uint64_t at, int rc), void *ctx)
{
	uint64_t limit = step;
	long kf;
	*kf_step = 0;
	while ((kf = at_trace_keyframe_find(t, stream, limit)) >= 0) {
		uint8_t *data;
		size_t len;
		uint64_t at = at_trace_chunk(t, (unsigned)kf)->first_seq;
		int rc = at_trace_keyframe_read(t, (unsigned)kf, &data, &len);
		if (!rc)
			rc = at_world_load(*wp, data, len);
		free(data);
		if (!rc && at_world_step(*wp) == at) {
			*kf_step = at;
			break;
		}
		if (damaged)
			damaged(ctx, at, rc);
		at_world_free(*wp);
		if (!(*wp = at_world_new()))
			return AT_ENOMEM;
		if (at == 0)
			break;
		limit = at - 1;
	}
	return at_world_follow(t, stream, step, *wp);
}

int at_world_follow(at_trace *t, unsigned stream, uint64_t step, at_world *w)
{
	if (at_world_step(w) >= step)
		return 0;
	at_trace_iter *it;
	at_event ev;
	int rc = at_trace_iter_open(t, stream, at_world_step(w), &it);
	while (!rc && (rc = at_trace_iter_next(it, &ev)) == 1 && ev.seq < step) {
		rc = 0;
		at_world_apply(w, &ev);
	}
	at_trace_iter_close(it);
	return rc < 0 ? rc : 0;
}
