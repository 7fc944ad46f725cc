/* SPDX-License-Identifier: MIT */
/* The subcommands and what they share. */
#ifndef PORTCULLIS_CLI_H
#define PORTCULLIS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <portcullis/diag.h>

/* Exit statuses (cli.md). */
enum {
	PC_EXIT_OK = 0,
	PC_EXIT_POLICY = 1,   /* policy errors, --check found changes, diff found drift */
	PC_EXIT_USAGE = 2,
	PC_EXIT_SYSTEM = 3,   /* file, permission, netlink */
};

/* One subcommand: argv[0] is the command name. Returns an exit status. */
struct pc_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int cmd_lookup(int argc, char **argv);
int cmd_check(int argc, char **argv);

/*
 * Registry options every command that resolves names takes:
 * --registry FILE (replaces the default) and --overlay FILE (repeatable;
 * also PORTCULLIS_OVERLAY, colon-separated, and /etc/portcullis/services
 * when it exists).
 */
struct pc_registry_opts {
	const char *registry;
	const char *overlays[16];
	size_t n_overlays;
	bool no_default_overlay;
};

struct pc_registry;
/*
 * Loads the registry the options name. On failure prints diagnostics and
 * returns NULL with *status set to the exit status (1 bad file, 3 unreadable).
 */
struct pc_registry *pc_cli_open_registry(const struct pc_registry_opts *o,
					 struct pc_diag *diag, int *status);

/* True when stderr is a terminal and NO_COLOR is unset. */
bool pc_cli_color(void);

extern const char *pc_program_version;

#endif
