/* The sealed trace: the stored, compressed, checksummed form of a recording.
 * One file holds a header, zstd-compressed chunks of coded events (one process stream per
 * chunk), a JSON metadata section, an index of every chunk and a trailer that finds the
 * index. Every byte of the file is covered by a CRC32C. Layout: docs/format.md.
 * Writers append and never seek back; readers read the trailer, index and metadata on
 * open and each chunk only when it is needed. */
#ifndef AGENTTRACE_CONTAINER_H
#define AGENTTRACE_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "agenttrace/event.h"

#define AT_TRACE_MAGIC "AGTRACE1"
/* AT_TRACE_VERSION: bump on any change to the layout. AT_TRACE_MIN_READER: bump only when an
 * older reader would misread the new layout (an added optional section does not need it).
 * Feature bits mark optional parts a reader may ignore; unknown bits above
 * AT_TRACE_FEATURES_KNOWN in the "required" mask make a reader refuse. */
#define AT_TRACE_VERSION            2 /* 2: keyframe chunks (chunk kind 1) */
#define AT_TRACE_MIN_READER         2
#define AT_TRACE_FEATURE_DELTA_TIME 0x1ull /* time payloads are delta-coded (codec v1) */
#define AT_TRACE_FEATURE_FILES      0x2ull /* file events and blob references (AT_EVF_BLOB) */
#define AT_TRACE_FEATURES_KNOWN     0x3ull

#define AT_CHUNK_TARGET (256u * 1024u) /* uncompressed bytes of coded events per chunk */

/* Stream flags. */
#define AT_STREAM_ROOT       0x1u /* the process agenttrace started */
#define AT_STREAM_INCOMPLETE 0x2u /* its recording stopped early (see AT_RAWLOG_* reasons) */
#define AT_STREAM_NOSPACE    0x4u
#define AT_STREAM_OVERFLOW   0x8u

struct at_stream_info {
	int32_t pid; /* at recording time */
	int32_t ppid;
	uint32_t flags;
	uint32_t threads;
	uint32_t images;
	uint32_t reserved;
	uint64_t events;
	uint64_t payload_bytes;
	uint64_t torn; /* records the process reserved but never finished (killed) */
	uint64_t start_ns;
};

/* Chunk kinds. A keyframe chunk holds the world of its stream just before step
 * `first_seq` (core/world.c), and no events. */
#define AT_CHUNK_EVENTS   0u
#define AT_CHUNK_KEYFRAME 1u

struct at_chunk_info {
	uint64_t offset; /* of the chunk header in the file */
	uint64_t first_seq;
	uint32_t stream;
	uint32_t events;  /* 0 in a keyframe */
	uint32_t raw_len; /* coded events (or the keyframe), uncompressed */
	uint32_t zlen;    /* compressed bytes after the chunk header */
	uint32_t crc;     /* CRC32C of the compressed bytes */
	uint32_t kind;    /* AT_CHUNK_* */
};

/* The first problem found in a file, for messages that name the damaged part. */
struct at_trace_problem {
	int code;   /* AT_E* */
	long chunk; /* the chunk index, or -1 when the problem is elsewhere */
	uint64_t offset;
	char what[200];
};

/* --- writing --------------------------------------------------------------------------- */
typedef struct at_trace_writer at_trace_writer;

/* Creates `path` (which must not exist) and writes the header. zstd `level` 0 = default. */
int at_trace_writer_create(const char *path, int level, at_trace_writer **out);
/* Starts a new stream, which becomes the current one: the events appended next belong to
 * it. The stream that was current ends (its last chunk is written). Returns its index. */
int at_trace_writer_begin_stream(at_trace_writer *w, const struct at_stream_info *info);
/* The current stream's description, which the writer keeps counting into: borrowed. NULL
 * when no stream is current. */
struct at_stream_info *at_trace_writer_stream(at_trace_writer *w);
/* Two streams at once: hold sets the current stream aside, unended (one at a time), and
 * leaves none current; resume ends the stream current then, if any, and makes the held
 * one current again. The sealer writes the streams of processes that have ended while
 * the root process's stream goes on. Chunks of the two interleave in the file; each
 * stream's stay in step order. 0 or AT_EINVAL. */
int at_trace_writer_hold(at_trace_writer *w);
int at_trace_writer_resume(at_trace_writer *w);
int at_trace_writer_append(at_trace_writer *w, const at_event *ev);
/* Ends the current chunk and writes a keyframe chunk for the current stream: `data` is
 * the world just before step `step` (core/world.c), which the next event must be. */
int at_trace_writer_keyframe(at_trace_writer *w, uint64_t step, const void *data, size_t len);
/* Writes the last chunk, `meta_json`, the index and trailer; fsyncs; frees `w`.
 * On error the partial file is removed and `w` is freed all the same. */
int at_trace_writer_finish(at_trace_writer *w, const char *meta_json, size_t meta_len);
/* Frees `w` and removes the partial file. Accepts NULL. */
void at_trace_writer_abort(at_trace_writer *w);
/* Bytes written so far. */
uint64_t at_trace_writer_bytes(const at_trace_writer *w);

/* --- reading --------------------------------------------------------------------------- */
typedef struct at_trace at_trace;

/* Opens a sealed trace and checks its header, trailer, index and metadata (chunks are
 * checked when read, or all at once by at_trace_verify). On failure fills `problem`
 * (may be NULL). */
int at_trace_open(const char *path, at_trace **out, struct at_trace_problem *problem);
void at_trace_close(at_trace *t); /* accepts NULL */

/* The metadata JSON text, NUL-terminated: borrowed until at_trace_close. */
const char *at_trace_meta(const at_trace *t, size_t *len);
unsigned at_trace_stream_count(const at_trace *t);
const struct at_stream_info *at_trace_stream(const at_trace *t, unsigned i);
unsigned at_trace_chunk_count(const at_trace *t);
const struct at_chunk_info *at_trace_chunk(const at_trace *t, unsigned i);
uint64_t at_trace_file_size(const at_trace *t);
uint64_t at_trace_features(const at_trace *t);
/* The problem behind the last failed read on `t`. */
const struct at_trace_problem *at_trace_last_problem(const at_trace *t);

/* Iterates one stream's events in order, starting at the first event with seq >= from. */
/* The keyframe chunk of `stream` with the greatest step at or before `step`: its chunk
 * index, or -1 when the stream has none there (then the world starts empty at step 0). */
long at_trace_keyframe_find(const at_trace *t, unsigned stream, uint64_t step);
/* Reads, checks and decompresses keyframe chunk `chunk` into *data (the caller frees). */
int at_trace_keyframe_read(at_trace *t, unsigned chunk, uint8_t **data, size_t *len);

typedef struct at_trace_iter at_trace_iter;
int at_trace_iter_open(at_trace *t, unsigned stream, uint64_t from, at_trace_iter **out);
/* 1 and an event (payload borrowed until the next call), 0 at the end, or < 0 on damage. */
int at_trace_iter_next(at_trace_iter *it, at_event *ev);
void at_trace_iter_close(at_trace_iter *it); /* accepts NULL */

/* Checks every part of the file: header, each chunk (CRC, decompression, every event
 * decodes, counts and steps agree with the index; keyframes' CRC and decompression),
 * metadata, index and trailer. Returns 0 when sound; otherwise the AT_E* code, with the
 * first problem in `problem`. */
int at_trace_verify(const char *path, struct at_trace_problem *problem);
/* The same without the keyframes: what replay needs (a damaged keyframe only makes a seek
 * start from the one before it). */
int at_trace_verify_events(const char *path, struct at_trace_problem *problem);

#endif
