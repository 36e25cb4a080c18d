/* trace_bytes TRACE: writes to stdout every byte a sealed trace holds once decompressed:
 * its metadata JSON, each chunk's decompressed bytes (the coded events), each event's
 * decoded payload, and the content of every blob the trace names (from the blob store of
 * the home the trace lives in, <home>/traces/<id>/trace.at). For tests that grep a trace for
 * what must not be in it (tests/e2e/lib.sh, assert_secret_absent): raw files hold zstd
 * frames, where a secret would not show. Exits 1, saying why, if any part cannot be read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "agenttrace/blobs.h"
#include "agenttrace/container.h"
#include "agenttrace/errors.h"
#include "container_internal.h"

static int fail(const char *path, const char *what)
{
	fprintf(stderr, "trace_bytes: %s: %s\n", path, what);
	return 1;
}

/* Each chunk's compressed bytes, read from the file and decompressed here: the reader's
 * iterator only hands out decoded events. */
static int dump_chunks(const char *path, at_trace *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(path, strerror(errno));
	int rc = 0;
	for (unsigned i = 0; !rc && i < at_trace_chunk_count(t); i++) {
		const struct at_chunk_info *c = at_trace_chunk(t, i);
		void *z = malloc(c->zlen ? c->zlen : 1), *raw = malloc(c->raw_len ? c->raw_len : 1);
		if (!z || !raw)
			rc = fail(path, "out of memory");
		else if (pread(fd, z, c->zlen, (off_t)(c->offset + CHUNK_HEADER_SIZE)) !=
		         (ssize_t)c->zlen)
			rc = fail(path, "a chunk cannot be read");
		else if (ZSTD_decompress(raw, c->raw_len, z, c->zlen) != c->raw_len)
			rc = fail(path, "a chunk does not decompress");
		else
			fwrite(raw, 1, c->raw_len, stdout);
		free(z);
		free(raw);
	}
	close(fd);
	return rc;
}

static int dump_events(const char *path, const char *home, at_trace *t)
{
	for (unsigned s = 0; s < at_trace_stream_count(t); s++) {
		at_trace_iter *it;
		at_event ev;
		int rc;
		if (at_trace_iter_open(t, s, 0, &it))
			return fail(path, "a stream cannot be read");
		while ((rc = at_trace_iter_next(it, &ev)) == 1) {
			if (!(ev.flags & AT_EVF_BLOB)) {
				if (ev.len) /* events without a payload have none to write */
					fwrite(ev.payload, 1, ev.len, stdout);
				continue;
			}
			at_blob_id id;
			void *data;
			size_t len;
			memcpy(id.b, ev.payload, sizeof id.b);
			if (ev.len < sizeof id.b || at_blob_get(home, &id, &data, &len)) {
				at_trace_iter_close(it);
				return fail(path, "a blob it names cannot be read");
			}
			fwrite(data, 1, len, stdout);
			free(data);
		}
		at_trace_iter_close(it);
		if (rc < 0)
			return fail(path, "an event cannot be decoded");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: trace_bytes <home>/traces/<id>/trace.at\n");
		return 2;
	}
	const char *path = argv[1];
	char home[4096];
	snprintf(home, sizeof home, "%s", path);
	for (int up = 0; up < 3; up++) { /* trace.at, <id>, traces */
		char *slash = strrchr(home, '/');
		if (!slash)
			return fail(path, "not inside <home>/traces/<id>/");
		*slash = '\0';
	}
	at_trace *t;
	struct at_trace_problem pb = {0};
	if (at_trace_open(path, &t, &pb))
		return fail(path, pb.what);
	size_t meta_len;
	const char *meta = at_trace_meta(t, &meta_len);
	fwrite(meta, 1, meta_len, stdout);
	int rc = dump_chunks(path, t);
	if (!rc)
		rc = dump_events(path, home, t);
	at_trace_close(t);
	return rc || fflush(stdout) ? 1 : 0;
}
