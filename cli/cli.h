/* SPDX-License-Identifier: MIT */
/* The subcommands and what they share. */
#ifndef PORTCULLIS_CLI_H
#define PORTCULLIS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <portcullis/diag.h>

#include "registry/registry.h"

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
int cmd_set(int argc, char **argv);          /* sets (issue 14) */
int cmd_stats(int argc, char **argv);        /* counters (issue 14) */
int cmd_backends(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_confirm(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_compare(int argc, char **argv);

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

/*
 * Adds one --overlay FILE to @o. Returns false (after a message naming
 * @command) when there are too many: a usage error.
 */
bool pc_cli_add_overlay(struct pc_registry_opts *o, const char *file,
			const char *command);

struct pc_registry;
/*
 * Loads the registry the options name. On failure prints diagnostics and
 * returns NULL with *status set to the exit status (1 bad file, 3 unreadable).
 */
struct pc_registry *pc_cli_open_registry(const struct pc_registry_opts *o,
					 struct pc_diag *diag, int *status);

struct pc_ir;
struct pc_nft_plan;
/*
 * The one loader of a policy (cli/load.c): opens the registry @ro names,
 * then loads @path with pc_policy_load() and @flags (enum pc_policy_flags).
 * Returns the IR with *reg set, or NULL with *status the exit status and
 * *reg the registry if it opened (NULL otherwise). Diagnostics stay queued
 * on @diag; PORTCULLIS_TIMING phases are printed under @command.
 */
struct pc_ir *pc_cli_load(const char *command, const char *path,
			  const struct pc_registry_opts *ro, unsigned flags,
			  struct pc_diag *diag, struct pc_registry **reg,
			  int *status);
/*
 * The dispatch (issue 15): pc_cli_load_plan() and `generate -b nft` lower
 * regions of rules over port protocols to a jump on (protocol, port) to
 * class chains; --dispatch / --no-dispatch.
 */
extern bool pc_cli_dispatch;

/*
 * The options of the commands that load a plan (apply, boot, diff,
 * stats): --registry, --overlay, --dispatch and --no-dispatch, for their
 * long option tables; pc_cli_plan_opt() takes them from getopt_long().
 */
#define PC_CLI_PLAN_LOPTS \
	{ "registry", required_argument, NULL, 'r' }, \
	{ "overlay", required_argument, NULL, 'O' }, \
	{ "dispatch", no_argument, NULL, 'D' }, \
	{ "no-dispatch", no_argument, NULL, 'X' }
/* 1: @c was one of them (and is taken), 0: it was not, -1: usage error. */
int pc_cli_plan_opt(int c, const char *arg, struct pc_registry_opts *ro,
		    const char *command);

/*
 * apply / diff: pc_cli_load() with the lint on, then the nft plan
 * (backends/nft/nft_lower.h). With @optimize the plan is lowered from
 * the optimised view of the IR (pc_ir_optimize_view(), verdict maps), as
 * `generate` does for nft; *view is then that view, else NULL.
 * Diagnostics stay queued on @diag. Returns PC_EXIT_OK with *ir, *view,
 * *reg and *plan set (caller frees them: the plan first, then the view
 * with pc_ir_destroy(), then the IR), or the exit status with all
 * of them NULL.
 */

int pc_cli_load_plan(const char *command, const char *path,
		     const struct pc_registry_opts *ro, bool optimize,
		     struct pc_diag *diag, struct pc_ir **ir,
		     struct pc_ir **view, struct pc_registry **reg,
		     struct pc_nft_plan **plan);
/* Prints a netlink failure (-errno) of @what; returns PC_EXIT_SYSTEM. */
int pc_cli_netlink_error(const char *prog, const char *what, int err);

/* True when stderr is a terminal and NO_COLOR is unset. */
bool pc_cli_color(void);

/*
 * PORTCULLIS_TIMING=1: a command prints where its time goes (stderr), for
 * the benchmarks in bench/ and whoever wonders: "portcullis COMMAND:
 * timing: WHAT  N ms", the time since the previous call (@what NULL: only
 * starts the clock).
 */
void pc_cli_phase(const char *command, const char *what);

extern const char *pc_program_version;

/* portcullis --version: program, registry date, catalog revision (cli/version.c). */
int pc_cli_version(void);

/*
 * The last-known-good ruleset (cli/state.c), in STATE_DIR/last-good.nft:
 * --state-dir, else $PORTCULLIS_STATE_DIR, else /var/lib/portcullis.
 */
#define PC_STATE_DIR_DEFAULT "/var/lib/portcullis"
const char *pc_state_dir(const char *option);
/* STATE_DIR/last-good.nft (caller frees). */
char *pc_state_last_good_path(const char *dir);
/*
 * Saves @plan (applied from @policy) as `nft -f` text, atomically,
 * creating @dir (mode 0700). Returns 0 or -errno.
 */
int pc_state_save(const char *dir, const char *policy, const struct pc_nft_plan *plan);
/* pc_state_save(), with a warning under @prog's name when it fails. */
void pc_state_save_report(const char *prog, const char *dir, const char *policy,
			  const struct pc_nft_plan *plan);
/*
 * pc_state_save() in two steps, so that the text is written while the
 * kernel works: _start() writes it to a temporary file beside its place
 * (in a thread; @plan and @policy must stay until _finish()), _finish()
 * waits for that and, with @keep, puts it in place (else removes it).
 * _finish() returns 0 or -errno (always 0 without @keep); NULL is a no-op.
 */
struct pc_state_saver;
struct pc_state_saver *pc_state_save_start(const char *dir, const char *policy,
					   const struct pc_nft_plan *plan);
int pc_state_save_finish(struct pc_state_saver *s, bool keep);
/* pc_state_save_finish(@s, true), with the warning of pc_state_save_report(). */
void pc_state_save_finish_report(const char *prog, const char *dir,
				 struct pc_state_saver *s);

#endif
