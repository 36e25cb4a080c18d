/* Names of the files in a replay's run directory, shared by the preparer (cli side) and
 * the runtime (inside the preload). */
#ifndef AGENTTRACE_REPLAY_INTERNAL_H
#define AGENTTRACE_REPLAY_INTERNAL_H

#define AT_REPLAY_CTL        "ctl" /* root_pid=<pid of the process to replay> */
#define AT_REPLAY_STREAM     "stream-0.raw"
#define AT_REPLAY_DIVERGENCE "divergence" /* written by the runtime when replay diverges */

#endif
