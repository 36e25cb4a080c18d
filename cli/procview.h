/* The process tree of a trace, for `show`: meta "tree" (docs/format.md) printed as the
 * summary's processes section, and the key that names each stream in the event listing.
 * Reads only meta and the stream table, never the events. */
#ifndef AGENTTRACE_CLI_PROCVIEW_H
#define AGENTTRACE_CLI_PROCVIEW_H

#include <jansson.h>

#include "agenttrace/container.h"

/* Threads listed under one process in the text summary; --json has them all. */
#define PROCVIEW_MAX_THREADS 32

/* The trace's tree: meta's "tree", or for a trace sealed before there was one, a tree made
 * from the stream table (the root "1", the others "?<pid>", under the stream whose pid is
 * their ppid; argv and exit only for the root). A new reference: the caller decrefs. */
json_t *procview_tree(at_trace *t, json_t *meta);
/* The key of stream `stream` in `tree` ("?" when it is not there): borrowed from tree. */
const char *procview_key(json_t *tree, unsigned stream);
/* The summary's processes section: the tree indented by depth, one line per process (key,
 * pid, arguments, how it ended, threads), and under a process with several threads one
 * line per thread (number, tid, the thread that created it). */
void procview_print(json_t *tree);

#endif
