/* The process tree of a trace (meta "tree", docs/format.md), built by seal_tree.c from the
 * headers and process-family events the sealer (seal.c) hands it, stream by stream. Only
 * seal.c includes it: it is not part of the public API (core/include), and it does no I/O. */
#ifndef AGENTTRACE_SEAL_TREE_H
#define AGENTTRACE_SEAL_TREE_H

#include <jansson.h>
#include <stddef.h>

#include "agenttrace/event.h"
#include "agenttrace/rawlog.h"

/* A tree being gathered: a node per stream begun, in stream order. All zeros is an empty
 * tree, so it can sit in a calloc'd struct; at_seal_tree_reset frees it and empties it. */
struct at_seal_tree_node;
struct at_seal_tree {
	struct at_seal_tree_node *nodes; /* seal_tree.c's own */
	size_t count, cap;
};

/* Starts the node of the stream whose raw log has header `h` (`root`: the root process's):
 * node t->count - 1, the same number as its stream. 0 or AT_ENOMEM. */
int at_seal_tree_begin(struct at_seal_tree *t, const struct at_rawlog_header *h, int root);

/* Takes in what one of node `node`'s events says about the tree; called for every event of
 * its stream, in the log's order. Keeps nothing that points into `ev`. 0 or AT_ENOMEM. */
int at_seal_tree_event(struct at_seal_tree *t, size_t node, const at_event *ev);

/* Node `node`'s stream has ended: its header `h` as it is now (the key may have been learnt
 * after the header was first read), and whether its recording stopped early. */
void at_seal_tree_end(struct at_seal_tree *t, size_t node, const struct at_rawlog_header *h,
                      int incomplete);

/* Works out parents, exits and inherited arguments and sets meta "tree" (one object per
 * stream). Reads meta "argv", "exit" and "mask". Call it once, after the last stream's end:
 * it masks the gathered arguments in place. 0 or AT_ENOMEM (meta is then left without
 * "tree"). `t` still needs at_seal_tree_reset. */
int at_seal_tree_finish(struct at_seal_tree *t, json_t *meta);

/* Frees everything the tree holds and leaves it empty, ready for at_seal_tree_begin. */
void at_seal_tree_reset(struct at_seal_tree *t);

#endif
