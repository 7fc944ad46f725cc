/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"

const char *pc_program_version = PC_VERSION;

/* Sorted by name; matched whole with strcmp, never by prefix. */
static const struct pc_command commands[] = {
	{ "apply", cmd_apply, "program the policy's nftables table over netlink (--dry-run, --confirm)" },
	{ "backends", cmd_backends, "list the built-in and plugin backends" },
	{ "boot", cmd_boot, "apply the machine's policy, else the last-known-good, else a lockdown (the unit)" },
	{ "check", cmd_check, "parse, resolve and lint a policy; --dump shows what it opens" },
	{ "compare", cmd_compare, "what changed in meaning between two policies (exact regions)" },
	{ "confirm", cmd_confirm, "keep what a pending `apply --confirm` installed" },
	{ "diff", cmd_diff, "compare the live nftables table with the policy (drift)" },
	{ "explain", cmd_explain, "which policy line decides a packet (the reference evaluator)" },
	{ "generate", cmd_generate, "write a policy's ruleset (nft, iptables, ip6tables, pf, plugins)" },
	{ "lookup", cmd_lookup, "look up service names, ports and port classes in the registry" },
	{ "set", cmd_set, "add, delete or list the addresses of a dynamic set in the kernel" },
	{ "stats", cmd_stats, "packets and bytes per policy line from the live counters (--unused)" },
	
	
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: portcullis COMMAND [OPTIONS] [ARGS]\n"
		"       portcullis --version | --help | COMMAND --help\n"
		"\n"
		"Turns firewall policies written against service names into rulesets.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Exit status: 0 success; 1 policy errors, changes found or drift;\n"
		"2 usage error; 3 system error (file, permission, netlink).\n"
		"See portcullis(8) and portcullis.policy(5).\n");
}

int main(int argc, char **argv)
{
	pc_registry_set_snapshot(pc_builtin_snapshot, pc_builtin_snapshot_len);
	if (argc < 2) {
		usage(stderr);
		return PC_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return PC_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		return pc_cli_version();
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "portcullis: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return PC_EXIT_USAGE;
}
