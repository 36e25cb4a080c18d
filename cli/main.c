/* agenttrace: the command-line entry point. One subcommand per file, dispatched from the
 * table below; each answers --help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
    {"record", cmd_record, "run a program and record it"},
    {"replay", cmd_replay, "run a recorded program again, fed from its trace"},
    {"list", cmd_list, "list the traces, newest first"},
    {"show", cmd_show, "show a trace's summary or its events"},
    {"verify", cmd_verify, "check a trace for damage"},
    {"rm", cmd_rm, "remove traces"},
    {"seal", cmd_seal, "seal a recording that was interrupted"},
    {"calls", cmd_calls, "list the intercepted calls"},
    {"gc", cmd_gc, "remove stored file content no trace uses any more"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: agenttrace <command> [args]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'agenttrace <command> --help' for its options. Exit statuses are listed "
	           "in docs/cli.md.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		if (argc >= 3 && !strcmp(argv[1], "help")) {
			char *help_argv[] = {argv[2], "--help", NULL};
			for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
				if (!strcmp(commands[i].name, argv[2]))
					return commands[i].fn(2, help_argv);
		}
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? AT_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("agenttrace %s\n", AT_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(commands[i].name, argv[1]))
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s'", argv[1]);
	usage(stderr);
	return AT_EXIT_USAGE;
}
