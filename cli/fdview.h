/* The file view of a stream for `show --events`: which path each descriptor names and
 * where its offset stands, for each event (the trace stores descriptors, not paths, on
 * reads and writes). It is the world of the process (core/world.c) followed event by
 * event, so a view can start at any step from the keyframe before it. The offsets are
 * what the program's own calls imply: a descriptor shared with another process, or moved
 * by a call the recorder does not see, drifts. */
#ifndef AGENTTRACE_CLI_FDVIEW_H
#define AGENTTRACE_CLI_FDVIEW_H

#include <stdint.h>

#include "agenttrace/container.h"
#include "agenttrace/event.h"
#include "agenttrace/world.h"

struct fdview {
	at_world *world;
	char *closed; /* the path of the descriptor the last event closed, until the next one */
};

/* What an event did to a file: the path its fd names, the offset it read or wrote at
 * (has_offset) and how many bytes. */
struct fdview_note {
	const char *path;
	int has_offset;
	int64_t offset;
	int64_t bytes;
};

/* A view at step 0. Returns 0, or AT_ENOMEM. */
int fdview_init(struct fdview *v);
/* The view of `stream` at `step`, from the keyframe before it (a damaged one is reported,
 * naming trace `id`, and an earlier one used): 0 or an AT_E* code. */
int fdview_seek(struct fdview *v, at_trace *t, const char *id, unsigned stream, uint64_t step);
void fdview_free(struct fdview *v);
/* Fills `note` for `ev` (path NULL when it touches no known file), then follows it. The
 * note's path is valid until the next call. */
void fdview_apply(struct fdview *v, const at_event *ev, struct fdview_note *note);

#endif
