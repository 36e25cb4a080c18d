/* The file view of a stream for `show`: which path each descriptor names and where its
 * offset stands, followed event by event (the trace stores descriptors, not paths, on
 * reads and writes). The offsets are what the program's own calls imply: a descriptor
 * shared with another process, or moved by a call the recorder does not see, drifts. */
#ifndef AGENTTRACE_CLI_FDVIEW_H
#define AGENTTRACE_CLI_FDVIEW_H

#include <stdint.h>

#include "agenttrace/event.h"

#define FDVIEW_FDS 4096

struct fdview_entry {
	char *path; /* NULL: not known */
	int64_t offset;
	int append; /* O_APPEND: writes go to the end, whose offset the trace does not say */
};

struct fdview {
	struct fdview_entry fd[FDVIEW_FDS];
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

void fdview_init(struct fdview *v);
void fdview_free(struct fdview *v);
/* Fills `note` for `ev` (path NULL when it touches no known file), then follows it. The
 * note's path is valid until the next call. */
void fdview_apply(struct fdview *v, const at_event *ev, struct fdview_note *note);

#endif
