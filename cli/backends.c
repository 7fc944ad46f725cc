/* SPDX-License-Identifier: MIT */
/* portcullis backends: the built-in and plugin backends. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "backends/table.h"
#include "cli/cli.h"

static void backends_usage(FILE *out)
{
	fputs("usage: portcullis backends\n"
	      "\n"
	      "Lists the backends `generate -b NAME` can use: name, origin (built-in or the\n"
	      "plugin's file) and summary, then the options each takes (-O NAME=VALUE).\n"
	      "Plugins are shared objects in the directories of\n"
	      "PORTCULLIS_PLUGIN_PATH (colon-separated absolute paths) and in\n"
	      PC_PLUGINDIR ".\n"
	      "A plugin file or directory must be owned by root or the invoking user\n"
	      "and writable by neither its group nor others, or it is refused unopened.\n"
	      "\n"
	      "Exit status: 0; 1 when a plugin was rejected (the reason is on stderr).\n",
	      out);
}

int cmd_backends(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_backend_set *set;
	struct pc_diag *diag;
	int c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			backends_usage(stdout);
			return PC_EXIT_OK;
		default:
			backends_usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		backends_usage(stderr);
		return PC_EXIT_USAGE;
	}
	diag = pc_diag_create();
	set = pc_backend_set_create(diag, PC_SEV_ERROR, true);
	printf("%-12s %-10s %s\n", "NAME", "ORIGIN", "SUMMARY");
	for (size_t i = 0; i < pc_backend_set_count(set); i++) {
		const char *origin;
		const struct pc_backend *b = pc_backend_set_get(set, i, &origin);

		printf("%-12s %-10s %s\n", b->name, origin, b->summary);
		/* the options it takes, one line each: -O NAME=VALUE */
		for (const struct pc_backend_option *o = pc_backend_options(b); o && o->name; o++)
			printf("%-12s %-10s   -O %s=%s  %s\n", "", "", o->name,
			       o->values ? o->values : "VALUE", o->help ? o->help : "");
	}
	fflush(stdout);
	status = pc_diag_has_errors(diag) ? PC_EXIT_POLICY : PC_EXIT_OK;
	pc_diag_print(diag, stderr, pc_cli_color());
	pc_backend_set_destroy(set);
	pc_diag_destroy(diag);
	return status;
}
