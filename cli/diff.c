/* SPDX-License-Identifier: MIT */
/* portcullis diff: the live table against what the policy would install. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "backends/netlink/netlink.h"
#include "backends/nft/nft_lower.h"
#include "cli/cli.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

static void diff_usage(FILE *out)
{
	fputs("usage: portcullis diff [--no-optimize] [--no-dispatch] [--registry FILE]\n"
	      "                       [--overlay FILE] POLICY\n"
	      "\n"
	      "Reads the policy's table (`table inet NAME`) back from the kernel over\n"
	      "netlink and compares it with what `portcullis apply POLICY` would install\n"
	      "(the same as `nft -f` of `portcullis generate -b nft POLICY`): rules\n"
	      "missing from the kernel (-), rules the policy does not have (+) and rules\n"
	      "that differ (~), by policy line (the rules' comments), and differences in\n"
	      "sets, verdict maps and chain policies, the table's flags (a dormant\n"
	      "table filters nothing) and comment, and named objects, sets, chains\n"
	      "and flowtables added by hand. Drift detection: run it from cron or a\n"
	      "monitor.\n"
	      "\n"
	      "  --no-optimize    compare with what `apply --no-optimize` installs (one\n"
	      "                   rule per policy line, no verdict maps)\n"
	      "  --no-dispatch    compare with what `apply --no-dispatch` installs (no\n"
	      "                   jump on protocol and port to class chains)\n"
	      "  --registry FILE  IANA CSV or /etc/services file instead of the shipped one\n"
	      "  --overlay FILE   site names that take precedence (repeatable)\n"
	      "\n"
	      "Exit status: 0 the table matches; 1 it differs or is missing, or policy\n"
	      "errors; 2 usage; 3 system error (permission, netlink).\n",
	      out);
}

int cmd_diff(int argc, char **argv)
{
	static const struct option lopts[] = {
		PC_CLI_PLAN_LOPTS,
		{ "no-optimize", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro;
	struct pc_registry *reg = NULL;
	struct pc_diag *diag;
	struct pc_ir *ir = NULL, *view = NULL;
	struct pc_nft_plan *plan = NULL;
	struct pc_nl_objs *want = NULL, *live = NULL;
	int c, status, ret;
	bool optimize = true;

	memset(&ro, 0, sizeof(ro));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int taken = pc_cli_plan_opt(c, optarg, &ro, "diff");

		if (taken < 0)
			return PC_EXIT_USAGE;
		if (taken)
			continue;
		switch (c) {
		case 'N':
			optimize = false;
			break;
		case 'h':
			diff_usage(stdout);
			return PC_EXIT_OK;
		default:
			diff_usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		diff_usage(stderr);
		return PC_EXIT_USAGE;
	}
	diag = pc_diag_create();
	status = pc_cli_load_plan("diff", argv[optind], &ro, optimize, diag, &ir, &view, &reg, &plan);
	if (status != PC_EXIT_OK)
		goto out;
	ret = pc_nl_objs_read(plan->table, &live);
	if (ret < 0) {
		status = pc_cli_netlink_error("portcullis diff", "reading the ruleset", ret);
		goto out;
	}
	want = pc_nl_objs_from_plan(plan);
	if (pc_nl_diff(want, live, plan->table, stdout)) {
		printf("table inet %s matches %s (%zu rules)\n", plan->table,
		       argv[optind], pc_nft_plan_rule_count(plan));
		status = PC_EXIT_OK;
	} else {
		status = PC_EXIT_POLICY;
	}
out:
	pc_diag_print(diag, stderr, pc_cli_color());
	pc_nl_objs_destroy(live);
	pc_nl_objs_destroy(want);
	pc_nft_plan_destroy(plan);
	pc_ir_destroy(view);
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	return status;
}
