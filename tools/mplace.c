/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mplace command: a table of subcommands, one file each (cmd-<name>.c).
 */
#include <stdio.h>
#include <string.h>

#include "config-mplace.h"
#include "tool.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"topo", cmd_topo, "show nodes, CPUs, memory, tiers, bandwidth, latency and devices"},
	{"check", cmd_check, "validate configuration files"},
	{"resolve", cmd_resolve, "fold the matching scopes and print the compiled policy"},
	{"explain", cmd_explain, "show how each scope contributed to a policy, and why"},
	{"show", cmd_show, "show where a process's memory is, range by range, against its policy"},
	{"top", cmd_top, "watch memory per node, tier, process and cgroup, live"},
	{"plot", cmd_plot, "draw the machine, a process's memory, or its pages over time, as SVG"},
	{"numactl", cmd_numactl, "numactl's command line, through mplace's policies"},
	{"run", cmd_run, "run a program with a policy for each kind of its memory"},
	{"set", cmd_set, "change a running program's policies, or a scope's through mplaced"},
	{"status", cmd_status, "show what mplaced holds in force, and how"},
	{"reset", cmd_reset, "take back what mplaced put in place and forget mplace set's changes"},
};

static void usage(FILE *f)
{
	fputs("Usage: mplace COMMAND [OPTIONS]...\n"
	      "       mplace --help | --version\n"
	      "\n"
	      "Say where memory lives, and make it so.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'mplace COMMAND --help' for a command's options; see mplace(1).\n", f);
}

int main(int argc, char **argv)
{
	/* installed as a symlink named numactl: behave as numactl */
	if (argc > 0 && argv[0]) {
		const char *base = strrchr(argv[0], '/');

		if (!strcmp(base ? base + 1 : argv[0], "numactl"))
			return cmd_numactl(argc, argv);
		/* installed as mplace-runtime[-NAME]: an OCI runtime wrapper */
		if (!strncmp(base ? base + 1 : argv[0], "mplace-runtime", 14))
			return cmd_runtime(argc, argv);
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mplace %s\n", MPLACE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	tool_error("unknown command '%s'", argv[1]);
	tool_hint("run 'mplace --help' for the list of commands");
	return EXIT_USAGE;
}
