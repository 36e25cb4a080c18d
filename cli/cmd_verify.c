/* agenttrace verify <id>: check every byte of a trace against its checksums. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/errors.h"
#include "agenttrace/blobs.h"
#include "cli.h"

static const char usage[] =
    "usage: agenttrace verify <id>\n"
    "\n"
    "Checks the header, every chunk (CRC32C, decompression, every event), the metadata, the\n"
    "index and the trailer. Exits 0 when the trace is sound; otherwise names the first\n"
    "problem and exits 65.\n";

/* Every blob the trace reads from must be in the store and hash to its id. */
static int verify_blobs(at_store *s, const char *id, json_t *meta)
{
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(meta, "blobs"), i, h)
	{
		at_blob_id bid;
		void *data = NULL;
		size_t len;
		char path[4200];
		if (at_blob_parse(json_string_value(h), &bid)) {
			cli_error("trace %s is damaged: it names a blob '%s' that is not a blob id",
			          id, json_string_value(h));
			return AT_EXIT_DAMAGED;
		}
		at_blob_path(at_store_home(s), &bid, path, sizeof path);
		int rc = at_blob_get(at_store_home(s), &bid, &data, &len);
		free(data);
		if (rc == AT_EIO && errno == ENOENT) {
			cli_error("trace %s reads content the blob store no longer has (%s); "
			          "replay cannot serve it: record the program again",
			          id, path);
			return AT_EXIT_DAMAGED;
		}
		if (rc) {
			cli_error("trace %s reads content whose blob is damaged (%s): %s", id, path,
			          at_strerror(rc));
			return cli_exit_for(rc == AT_ENOMEM ? rc : AT_ECORRUPT);
		}
	}
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		cli_error("verify: %s\n%s", argc < 2 ? "no trace given" : "unexpected arguments",
		          usage);
		return AT_EXIT_USAGE;
	}
	at_store *s;
	char id[AT_REF_MAX], path[4096];
	at_trace *t = NULL;
	json_t *meta = NULL;
	int rc = cli_open_store(&s);
	if (!rc)
		rc = cli_resolve(s, argv[1], id, sizeof id);
	if (!rc)
		rc = cli_open_trace(s, id, &t, &meta);
	if (!rc) {
		struct at_trace_problem pb = {0};
		at_store_path(s, id, AT_TRACE_FILE, path, sizeof path);
		int vrc = at_trace_verify(path, &pb);
		if (vrc) {
			const struct at_chunk_info *c =
			    pb.chunk >= 0 ? at_trace_chunk(t, (unsigned)pb.chunk) : NULL;
			if (c && c->kind == AT_CHUNK_KEYFRAME)
				cli_error("trace %s is damaged: %s (the keyframe at step %" PRIu64
				          " of stream %u, chunk %ld at byte %" PRIu64
				          " of %s); replay and 'show --step' still work, from the "
				          "keyframe before it",
				          id, pb.what, c->first_seq, c->stream, pb.chunk, pb.offset,
				          path);
			else if (pb.chunk >= 0)
				cli_error("trace %s is damaged: %s (chunk %ld at byte %" PRIu64
				          " of %s)",
				          id, pb.what, pb.chunk, pb.offset, path);
			else
				cli_error("trace %s is damaged: %s (%s)", id, pb.what, path);
			rc = cli_exit_for(vrc);
		} else if ((vrc = verify_blobs(s, id, meta))) {
			rc = vrc;
		} else {
			uint64_t events = 0;
			unsigned keyframes = 0;
			for (unsigned i = 0; i < at_trace_stream_count(t); i++)
				events += at_trace_stream(t, i)->events;
			for (unsigned i = 0; i < at_trace_chunk_count(t); i++)
				keyframes += at_trace_chunk(t, i)->kind == AT_CHUNK_KEYFRAME;
			printf("trace %s is sound: %" PRIu64 " events in %u chunks, %u keyframe%s, "
			       "%u process%s, %" PRIu64 " bytes\n",
			       id, events, at_trace_chunk_count(t) - keyframes, keyframes,
			       keyframes == 1 ? "" : "s", at_trace_stream_count(t),
			       at_trace_stream_count(t) == 1 ? "" : "es", at_trace_file_size(t));
		}
	}
	json_decref(meta);
	at_trace_close(t);
	at_store_close(s);
	return rc;
}
