/* Sealing a recording along while it runs (see live_seal.c). */
#ifndef AGENTTRACE_CLI_LIVE_SEAL_H
#define AGENTTRACE_CLI_LIVE_SEAL_H

#include "agenttrace/seal.h"

struct live_seal;

/* Starts pumping `sealer` from a thread; NULL when no thread could be started (the
 * recording is then sealed at the end, as it would be anyway). */
struct live_seal *live_seal_start(at_sealer *sealer, const char *run_dir, int root_pid);
/* Stops the thread (after its current pump); the sealer is the caller's again. Accepts
 * NULL. */
void live_seal_stop(struct live_seal *ls);

#endif
