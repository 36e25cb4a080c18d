/* Allocating a recording's raw logs ahead of their writers (see prefault.c). */
#ifndef AGENTTRACE_CLI_PREFAULT_H
#define AGENTTRACE_CLI_PREFAULT_H

struct prefault;

/* Starts watching the logs in `run_dir`; NULL when no thread could be started (recording
 * works without one, a little slower). */
struct prefault *prefault_start(const char *run_dir);
/* Stops and frees; accepts NULL. */
void prefault_stop(struct prefault *pf);

#endif
