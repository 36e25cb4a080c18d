/* agenttrace gc: remove the blob-store content no trace reads any more. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"
#include "cli.h"

static const char usage[] =
    "usage: agenttrace gc [--grace SECONDS]\n"
    "\n"
    "Traces keep the content of large file reads in a store shared by all traces\n"
    "($AGENTTRACE_HOME/blobs), so `agenttrace rm` leaves it behind. gc removes the content\n"
    "that no trace reads any more, and reports how much it freed.\n"
    "\n"
    "  --grace SECONDS  keep content written this recently (default 3600): a recording\n"
    "                   being sealed right now may not have named it yet\n";

struct keep_set {
	json_t *ids; /* hex id -> true */
	const char *home;
	long grace;
};

static int keep(const at_blob_id *id, void *ctx)
{
	struct keep_set *k = ctx;
	char hex[2 * AT_BLOB_ID_LEN + 1], path[4200];
	struct stat st;
	at_blob_hex(id, hex);
	if (json_object_get(k->ids, hex))
		return 1;
	at_blob_path(k->home, id, path, sizeof path);
	return stat(path, &st) == 0 && st.st_mtime > time(NULL) - k->grace;
}

int cmd_gc(int argc, char **argv)
{
	long grace = 3600;
	char *end = NULL;
	if (cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--grace"))
		grace = strtol(argv[2], &end, 10);
	if (argc == 2 || argc > 3 || (argc == 3 && (!end || *end || grace < 0))) {
		cli_error("gc: unexpected arguments\n%s", usage);
		return AT_EXIT_USAGE;
	}
	at_store *s;
	int rc = cli_open_store(&s);
	if (rc)
		return rc;
	char **ids;
	size_t n;
	struct keep_set k = {json_object(), at_store_home(s), grace};
	if ((rc = at_store_ids(s, &ids, &n))) {
		cli_error("cannot list the traces in %s: %s", at_store_home(s), at_strerror(rc));
		json_decref(k.ids);
		at_store_close(s);
		return cli_exit_for(rc);
	}
	/* A trace that cannot be read keeps everything: gc must never take what a damaged
	 * trace might still need. A recording still running has written no blob yet (they
	 * are written when it is sealed, and the last hour's blobs are kept). */
	for (size_t i = 0; i < n && !rc; i++) {
		at_trace *t = NULL;
		json_t *meta = NULL, *h;
		size_t j;
		char pending[4200];
		struct stat st;
		at_store_path(s, ids[i], AT_PENDING_FILE, pending, sizeof pending);
		if (stat(pending, &st) == 0)
			continue;
		if (cli_open_trace(s, ids[i], &t, &meta)) {
			cli_error("gc: trace %s cannot be read, so nothing was removed; run "
			          "'agenttrace verify %s', and remove it if it is beyond repair",
			          ids[i], ids[i]);
			rc = AT_EXIT_DAMAGED;
			break;
		}
		json_array_foreach(json_object_get(meta, "blobs"), j, h)
		    json_object_set(k.ids, json_string_value(h), json_true());
		json_decref(meta);
		at_trace_close(t);
	}
	at_store_free_ids(ids, n);
	uint64_t removed = 0, bytes = 0;
	if (!rc) {
		int grc = at_blob_gc(at_store_home(s), keep, &k, &removed, &bytes);
		char size[32];
		printf("removed %" PRIu64 " blob%s, %s\n", removed, removed == 1 ? "" : "s",
		       cli_bytes(bytes, size, sizeof size));
		if (grc) {
			cli_error("gc: %s in %s/blobs", at_strerror(grc), at_store_home(s));
			rc = cli_exit_for(grc);
		}
	}
	json_decref(k.ids);
	at_store_close(s);
	return rc;
}
