/* What the subcommands share: exit statuses, messages, and opening the store and traces
 * with errors that name the thing and the next step. Only cli/ prints or exits. */
#ifndef AGENTTRACE_CLI_H
#define AGENTTRACE_CLI_H

#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "agenttrace/container.h"
#include "agenttrace/store.h"

/* Exit statuses (docs/cli.md). record and replay otherwise exit with the program's own
 * status; these come only when agenttrace itself stops, and stderr always says why. */
enum {
	AT_EXIT_OK = 0,
	AT_EXIT_USAGE = 64,      /* bad command line */
	AT_EXIT_DAMAGED = 65,    /* the trace is damaged or truncated */
	AT_EXIT_NOTRACE = 66,    /* no trace has that id, prefix or name */
	AT_EXIT_AMBIGUOUS = 67,  /* the prefix matches several traces */
	AT_EXIT_VERSION = 68,    /* written by a newer agenttrace */
	AT_EXIT_REFUSED = 69,    /* the program cannot be recorded faithfully */
	AT_EXIT_INTERNAL = 70,   /* out of memory, or a bug */
	AT_EXIT_REPLAY_ENV = 71, /* the recorded program or directory is gone */
	AT_EXIT_NOSPACE = 73,    /* the disk is full */
	AT_EXIT_IO = 74,         /* another I/O error in the store */
	AT_EXIT_UNSEALED = 75,   /* the recording was never sealed: run `agenttrace seal` */
	AT_EXIT_NOSTEP = 76,     /* no such step: past the end, or in another process */
	AT_EXIT_CANNOT_EXEC = 126,
	AT_EXIT_NOT_FOUND = 127,
	AT_EXIT_DIVERGED = 201, /* replay diverged (202 if the recording itself exited 201) */
};

/* Subcommands: cmd_<name>(argc, argv) with argv[0] the subcommand name. */
int cmd_record(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_calls(int argc, char **argv);
int cmd_gc(int argc, char **argv);

/* "agenttrace: <message>\n" on stderr. */
__attribute__((format(printf, 1, 2))) void cli_error(const char *fmt, ...);
/* Is argv[i] -h or --help? */
int cli_wants_help(int argc, char **argv);

/* The exit status for a library error code (AT_E*). */
int cli_exit_for(int code);

/* Opens the store, or says why not. Returns an exit status (0 on success). */
int cli_open_store(at_store **out);
/* Resolves a reference to an id, or says why not. Returns an exit status. */
int cli_resolve(at_store *s, const char *ref, char *id, size_t cap);
/* Opens the sealed trace of `id` and parses its metadata, or says why not (damaged,
 * unsealed, newer format). Returns an exit status. */
int cli_open_trace(at_store *s, const char *id, at_trace **t, json_t **meta);

/* The program's status as a shell reports it: the exit code, or 128 + the signal. */
int cli_status_of(json_t *meta);
/* "exit 0", "killed by SIGKILL" */
const char *cli_describe_status(json_t *meta, char *buf, size_t cap);
/* "12.3 KiB" */
const char *cli_bytes(uint64_t n, char *buf, size_t cap);
/* "2026-11-22 13:40:12" in local time */
const char *cli_time(uint64_t ns, char *buf, size_t cap);
uint64_t cli_now_ns(void);
/* The recorded command line, shell-quoted where needed. */
const char *cli_command_line(json_t *meta, char *buf, size_t cap);

/* Arguments and environment entries are bytes, not always UTF-8. Each becomes a JSON
 * string when it is valid UTF-8, else {"hex": "..."}; nothing is lost either way. */
json_t *cli_json_strings(char *const *v);
/* The inverse: a NULL-terminated array of strings, caller frees with cli_free_strings. */
char **cli_strings_from_json(json_t *a);
/* Writes record --exclude patterns (a JSON array of strings, or NULL) where the preload
 * reads them in a run directory. */
/* Creates (or empties) file `name` in a run directory, mode 0600, for writing; NULL with
 * *rc an AT_E* code when it cannot. */
FILE *cli_run_file(const char *run_dir, const char *name, int *rc);
int cli_write_excludes(const char *run_dir, json_t *patterns);
void cli_free_strings(char **v);
/* For at_world_seek (agenttrace/world.h): warns that a keyframe of process `key` (NULL:
 * not named) of trace `id` is damaged and an earlier one is used. ctx: this struct. */
struct cli_keyframe_ctx {
	at_trace *t;
	const char *id, *key;
};
void cli_keyframe_damaged(void *ctx, uint64_t at, int rc);
/* Whether `key` looks like a process key: "1", "1.2", "1.2.1"... */
int cli_key_well_formed(const char *key);
/* A step as users write it: "N", or "KEY:N" for process KEY (N is the first column of
 * `show --events`). Fills key ("" when none was given; `cap` at least AT_PROC_KEY_MAX) and
 * *step. Returns 0, or AT_EXIT_USAGE after saying what is wrong, as `cmd`. */
int cli_parse_step(const char *cmd, const char *arg, char *key, size_t cap, uint64_t *step);

/* --- spawning the program (spawn.c) --- */
struct cli_program {
	char path[4096]; /* absolute */
};
/* Finds `name` like execvp would, using `path_env`; refuses programs that would be recorded
 * wrongly. Prints the reason and returns an exit status. */
int spawn_find_program(const char *name, const char *path_env, const char *cwd,
                       struct cli_program *out);
/* Refuses statically linked programs and Go binaries (they bypass libc). Prints the reason
 * and returns an exit status. */
int spawn_check_linkage(const char *path);
/* The preload's path: next to the build tree's binary, or installed beside it. */
int spawn_preload_path(char *out, size_t cap);

struct cli_spawn {
	const char *path;
	char *const *argv;
	char *const *envp; /* the program's environment, before agenttrace adds its two */
	const char *cwd;   /* NULL: stay here */
	const char *run_dir;
	const char *mode; /* "record" or "replay" */
	int prefault;     /* record: allocate the raw logs ahead of the program (prefault.c) */
	struct at_sealer *sealer; /* record: seal along while the program runs (live_seal.c) */
	uint64_t *end_ns;         /* when given: set to cli_now_ns() as the program ends */
	/* replay: adopt the program's orphans, stop the program when a process of it diverges
	 * (it sends SIGUSR2), and leave no process of it behind (spawn_reap_tree) */
	int whole_tree;
};
/* Starts the program with the preload and ASLR off; waits for it while forwarding
 * SIGTERM/SIGHUP and ignoring SIGINT/SIGQUIT (which reach it from the terminal).
 * Returns 0 and the wait status, or an exit status after saying what failed. */
int spawn_run(const struct cli_spawn *sp, int *wait_status, pid_t *pid);
/* Stops and reaps every process left of the program's tree (after spawn_run with
 * whole_tree): those still running get `grace_ms` to finish, then SIGKILL. Returns how many
 * were still running. */
int spawn_reap_tree(int grace_ms);
/* Whether address-space randomisation could be turned off for the children. */
int spawn_aslr_disabled(void);

#endif
