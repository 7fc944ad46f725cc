/* SPDX-License-Identifier: MIT */
/* portcullis check: parse, resolve and lint a policy. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/check_format.h"
#include "cli/cli.h"
#include "policy/policy.h"
#include "registry/registry.h"

static void check_usage(FILE *out)
{
	fputs("usage: portcullis check [--registry FILE] [--overlay FILE] [--dump] [--no-lint]\n"
	      "                        [--format text|json|sarif] POLICY\n"
	      "\n"
	      "Parses POLICY and its includes, resolves every service name through the\n"
	      "registry and reports errors and warnings as FILE:LINE:COL messages.\n"
	      "\n"
	      "  --registry FILE  IANA CSV or /etc/services file instead of the shipped registry\n"
	      "  --overlay FILE   site names that take precedence (repeatable)\n"
	      "  --dump           print the resolved rules: what each rule really opens\n"
	      "  --no-lint        only errors: no shadowing or registry warnings\n"
	      "  -W, --werror     treat warnings as errors (exit 1)\n"
	      "  --format FORMAT  text (default: FILE:LINE:COL on standard error), or on\n"
	      "                   standard output json or sarif (SARIF 2.1.0, for code scanning)\n"
	      "\n"
	      "Exit status: 0 no errors; 1 errors (or warnings with --werror); 2 usage; 3 system error.\n",
	      out);
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "registry", required_argument, NULL, 'r' },
		{ "overlay", required_argument, NULL, 'O' },
		{ "dump", no_argument, NULL, 'd' },
		{ "no-lint", no_argument, NULL, 'n' },
		{ "werror", no_argument, NULL, 'W' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro;
	struct pc_registry *reg = NULL;
	struct pc_diag *diag;
	struct pc_ir *ir = NULL;
	bool dump = false, werror = false;
	enum pc_check_format fmt = PC_CHECK_TEXT;
	unsigned flags = 0;
	int c, status = PC_EXIT_OK;

	memset(&ro, 0, sizeof(ro));
	optind = 1;
	while ((c = getopt_long(argc, argv, "hW", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			ro.registry = optarg;
			break;
		case 'O':
			if (!pc_cli_add_overlay(&ro, optarg, "check"))
				return PC_EXIT_USAGE;
			break;
		case 'd':
			dump = true;
			break;
		case 'n':
			flags |= PC_POLICY_NO_LINT;
			break;
		case 'W':
			werror = true;
			break;
		case 'F':
			if (strcmp(optarg, "text") == 0) {
				fmt = PC_CHECK_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				fmt = PC_CHECK_JSON;
			} else if (strcmp(optarg, "sarif") == 0) {
				fmt = PC_CHECK_SARIF;
			} else {
				fprintf(stderr, "portcullis: check: unknown format '%s' (text, json or sarif)\n",
					optarg);
				return PC_EXIT_USAGE;
			}
			break;
		case 'h':
			check_usage(stdout);
			return PC_EXIT_OK;
		default:
			check_usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		check_usage(stderr);
		return PC_EXIT_USAGE;
	}
	if (dump && fmt != PC_CHECK_TEXT) {
		fputs("portcullis: check: --dump writes text: not with --format json or sarif\n", stderr);
		return PC_EXIT_USAGE;
	}
	diag = pc_diag_create();
	ir = pc_cli_load("check", argv[optind], &ro, flags, diag, &reg, &status);
	if (ir && werror && pc_diag_count(diag, PC_SEV_WARNING))
		status = PC_EXIT_POLICY;
	if (fmt != PC_CHECK_TEXT) {
		int st = pc_check_print_format(diag, fmt, stdout);

		if (st != PC_EXIT_OK)
			status = st;
	} else {
		pc_diag_print(diag, stderr, pc_cli_color());
	}
	if (ir && dump)
		pc_ir_dump(ir, stdout);
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	return status;
}
