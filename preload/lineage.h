/* Process keys inside the preload (preload/lineage.c). */
#ifndef AGENTTRACE_LINEAGE_H
#define AGENTTRACE_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

#include "agenttrace/proc.h"

#define AT_LIVE_KEY "live" /* a process that is not replayed, nor are its children */

/* The key a fork child takes: set by the fork hook in the forking thread. */
extern __thread __attribute__((tls_model("initial-exec"))) char at_child_key[AT_PROC_KEY_MAX];

/* A number in the run directory's ctl file (name=value lines), or -1. */
int at_ctl_int(const char *name);
/* The pid of the process agenttrace started (the ctl file), or -1. */
int at_lineage_root_pid(void);
/* This new image's key: "1" for the root, else what its creator wrote; waits up to a
 * second for it. -1 (and "") when it never came. */
int at_lineage_learn(char *key, size_t cap);
/* Tells process `pid` its key (before it execs, or a child just made). */
void at_lineage_tell(int pid, const char *key);
/* Numbers a new child of this process and writes its key ("" when this process has
 * none); returns the number. */
uint64_t at_lineage_next_child(char *key, size_t cap);

/* The fields of a /proc/<pid>/stat (or task stat) file after the command name, starting
 * with the state (field 3), read into buf; NULL when it cannot be read. */
const char *at_stat_fields(const char *path, char *buf, size_t cap);

#endif
