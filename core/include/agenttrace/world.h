/* The world of one recorded process at a step, as its events built it: its descriptors
 * (what each is, path or peer, flags, offset), the files it wrote (sizes, and content up to
 * a bound), the last value of each clock it read, its threads' positions and the children
 * it made. `show --step` prints it; sealing stores it every K events as a keyframe, so the
 * world at any step is a keyframe plus at most K events (docs/format.md, "Keyframes").
 *
 * The world at step N is the state after events 0..N-1: what the program had seen just
 * before it made call N. It follows the program's own calls only: a descriptor shared
 * with another process, or moved by a call the recorder does not see, drifts. */
#ifndef AGENTTRACE_WORLD_H
#define AGENTTRACE_WORLD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agenttrace/container.h"
#include "agenttrace/event.h"

/* The default distance between keyframes, in events of a stream (docs/performance.md,
 * "Keyframes and seeking"). */
#define AT_KEYFRAME_EVERY 16384u
/* Content kept per written file, and in all: beyond either, a file keeps its size and
 * loses its content hash. */
#define AT_WORLD_CONTENT_MAX (256u << 10)
#define AT_WORLD_CONTENT_ALL (1u << 20)

typedef struct at_world at_world;

at_world *at_world_new(void);    /* NULL when out of memory */
void at_world_free(at_world *w); /* accepts NULL */
/* Follows event `ev`, which must be the next of the stream (its seq is the world's step). */
void at_world_apply(at_world *w, const at_event *ev);
uint64_t at_world_step(const at_world *w);

/* The world as a keyframe: typed sections (docs/format.md). *out is the caller's to free. */
int at_world_save(const at_world *w, uint8_t **out, size_t *len);
/* Replaces `w` by the world a keyframe holds; AT_ECORRUPT when it does not parse. */
int at_world_load(at_world *w, const uint8_t *data, size_t len);

/* Descriptor `fd` at this step: 1 and its kind ("file", "directory", "socket", "std",
 * "random"), path (NULL when none is known), offset and open flags; 0 when it is not open.
 * The strings are valid until the world changes. */
int at_world_fd(const at_world *w, int fd, const char **kind, const char **path, int64_t *offset,
                int *flags);
/* The content the world kept of a file the program wrote (NULL when it wrote none, or
 * over the bounds); *len its length. Valid until the world changes. */
const uint8_t *at_world_content(const at_world *w, const char *path, size_t *len);

/* The world of `stream` just before `step` into *wp (a new world, replaced when a
 * keyframe is damaged): from the nearest keyframe at or before it that passes its checks,
 * and the events after it. A damaged keyframe is reported through `damaged` (its step,
 * and the AT_E* code or 0 when it held a wrong step), and the one before it used.
 * *kf_step: the keyframe's step, 0 when none was used. */
int at_world_seek(at_trace *t, unsigned stream, uint64_t step, at_world **wp, uint64_t *kf_step,
                  void (*damaged)(void *ctx, uint64_t at, int rc), void *ctx);
/* Follows `stream`'s events from w's step up to just before `step` (no keyframes). */
int at_world_follow(at_trace *t, unsigned stream, uint64_t step, at_world *w);

/* The world for people and tools: {"step", "descriptors", "files", "clocks", "threads",
 * "children"}; files carry "sha256" of their content when it was kept. */
json_t *at_world_json(const at_world *w);

#endif
