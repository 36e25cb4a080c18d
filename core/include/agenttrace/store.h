/* The trace store: a directory ($AGENTTRACE_HOME, default
 * ${XDG_DATA_HOME:-~/.local/share}/agenttrace) with one directory per trace under traces/,
 * named by its id, and scratch directories for running recordings and replays under run/
 * (or on a tmpfs).
 * This module owns names and places; what is inside a trace is container.h's business. */
#ifndef AGENTTRACE_STORE_H
#define AGENTTRACE_STORE_H

#include <stddef.h>

#define AT_ID_LEN       12  /* a new trace id: lowercase hex */
#define AT_REF_MAX      128 /* the longest id or name the store accepts */
#define AT_TOKEN_LEN    16  /* run directory names: every one has the same length */
#define AT_TRACE_FILE   "trace.at"
#define AT_PENDING_FILE "recording.json" /* present until the recording is sealed */

typedef struct at_store at_store;

/* Where the store lives: $AGENTTRACE_HOME, else ${XDG_DATA_HOME:-$HOME/.local/share}/agenttrace.
 * AT_EINVAL when none of those variables is usable. */
int at_store_default_home(char *out, size_t cap);

/* Opens (creating if needed) the store at `home`, or the default one when NULL. */
int at_store_open(const char *home, at_store **out);
void at_store_close(at_store *s);             /* accepts NULL */
const char *at_store_home(const at_store *s); /* borrowed until close */

/* Creates a new, empty trace directory and returns its fresh id. */
int at_store_create_trace(at_store *s, char id[AT_ID_LEN + 1]);
/* Creates a scratch directory <base>/<token> into `path`: <base> is $AGENTTRACE_RUNTIME_DIR,
 * or a tmpfs (<home>/run or /dev/shm/agenttrace-<uid>), or <home>/run (see store.c). */
int at_store_create_run(at_store *s, char *path, size_t cap);

/* "<home>/traces/<id>/<file>" (file may be NULL for the directory itself). */
int at_store_path(const at_store *s, const char *id, const char *file, char *out, size_t cap);

/* Is `ref` a well-formed id or name (printable, no '/', not "." or "..")? */
int at_store_valid_ref(const char *ref);

/* Resolves `ref` to a trace id: an exact id, else a unique id prefix, else an exact name
 * (names are read with `name_of`, which may be NULL). On AT_EAMBIGUOUS, `r->matches` holds
 * up to AT_RESOLVE_SHOW of the candidates and `r->nmatches` how many there were. */
#define AT_RESOLVE_SHOW 8
struct at_resolution {
	char id[AT_REF_MAX];
	unsigned nmatches;
	char matches[AT_RESOLVE_SHOW][AT_REF_MAX];
};
typedef int (*at_name_fn)(const at_store *s, const char *id, char *name, size_t cap);
int at_store_resolve(const at_store *s, const char *ref, at_name_fn name_of,
                     struct at_resolution *r);

/* The ids of every trace, in no particular order. Caller frees with at_store_free_ids. */
int at_store_ids(const at_store *s, char ***ids, size_t *count);
void at_store_free_ids(char **ids, size_t count);

/* Removes a trace directory and everything in it. */
int at_store_remove(at_store *s, const char *id);
/* Removes a scratch directory (a path returned by at_store_create_run) and its files. */
int at_store_remove_run(at_store *s, const char *path);

#endif
