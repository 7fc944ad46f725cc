/* SPDX-License-Identifier: MIT */
/*
 * The one way a command reads a policy: the registry the options name,
 * then pc_policy_load() (parse, resolve, lint), and for apply and diff the
 * nft plan of the same view `generate` gives the nft backend. check,
 * generate, explain, apply and diff all come through here, so they report
 * the same errors and warnings for the same policy.
 */
#include <stdlib.h>

#include "backends/nft/nft_lower.h"
#include "cli/cli.h"
#include "ir/optimize.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

struct pc_ir *pc_cli_load(const char *command, const char *path,
			  const struct pc_registry_opts *ro, unsigned flags,
			  struct pc_diag *diag, struct pc_registry **reg,
			  int *status)
{
	struct pc_ir *ir;
	bool sys_error = false;

	pc_cli_phase(command, NULL);
	*reg = pc_cli_open_registry(ro, diag, status);
	if (!*reg)
		return NULL;
	pc_cli_phase(command, "registry");
	ir = pc_policy_load(path, *reg, flags, diag, &sys_error);
	if (!ir) {
		*status = sys_error ? PC_EXIT_SYSTEM : PC_EXIT_POLICY;
		return NULL;
	}
	pc_cli_phase(command, "policy parse, resolve and lint");
	*status = PC_EXIT_OK;
	return ir;
}

bool pc_cli_dispatch = true;

int pc_cli_plan_opt(int c, const char *arg, struct pc_registry_opts *ro,
		    const char *command)
{
	switch (c) {
	case 'r':
		ro->registry = arg;
		return 1;
	case 'O':
		return pc_cli_add_overlay(ro, arg, command) ? 1 : -1;
	case 'D': /* --dispatch */
	case 'X': /* --no-dispatch */
		pc_cli_dispatch = c == 'D';
		return 1;
	default:
		return 0;
	}
}

int pc_cli_load_plan(const char *command, const char *path,
		     const struct pc_registry_opts *ro, bool optimize,
		     struct pc_diag *diag, struct pc_ir **ir,
		     struct pc_ir **view, struct pc_registry **reg,
		     struct pc_nft_plan **plan)
{
	int status;

	*view = NULL;
	*plan = NULL;
	*ir = pc_cli_load(command, path, ro, 0, diag, reg, &status);
	if (!*ir)
		goto fail;
	/* the same view as `generate` gives the nft backend: the same maps */
	if (optimize) {
		*view = pc_ir_optimize_view_keys(*ir, PC_OPT_KEYS_ALL, pc_cli_dispatch, NULL);
		pc_cli_phase(command, "optimise");
	}
	*plan = pc_nft_plan_create(*view ? *view : *ir, diag);
	pc_cli_phase(command, "lower to the nft plan");
	if (*plan)
		return PC_EXIT_OK;
	status = PC_EXIT_POLICY;
	pc_ir_destroy(*view);
	*view = NULL;
	pc_ir_destroy(*ir);
	*ir = NULL;
fail:
	pc_registry_destroy(*reg);
	*reg = NULL;
	return status;
}
