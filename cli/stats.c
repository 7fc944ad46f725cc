/* SPDX-License-Identifier: MIT */
/*
 * portcullis stats: packets and bytes per policy line, read from the live
 * table's counters (`option counters`): every kernel rule and verdict-map
 * element a line produced carries the line in its comment, and their
 * counters are summed. --unused lists the lines that never matched.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/netlink/netlink.h"
#include "backends/nft/nft_lower.h"
#include "cli/cli.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "common/util.h"

static void stats_usage(FILE *out)
{
	fputs("usage: portcullis stats [--json] [--unused] [--registry FILE] [--overlay FILE]\n"
	      "                        POLICY\n"
	      "\n"
	      "Reads the counters of the policy's table (`table inet NAME`, applied with\n"
	      "`option counters`) over netlink and prints packets and bytes per policy\n"
	      "line, summed over every kernel rule and verdict-map element the line\n"
	      "produced, then the built-in rules'. Name POLICY as it was named to\n"
	      "`apply` (the rules carry that path).\n"
	      "\n"
	      "  --unused         only the policy lines that never matched a packet\n"
	      "  --no-dispatch    as the table was applied (counters of class chains are\n"
	      "                   summed per line either way)\n"
	      "  --json           one JSON object: {\"table\", \"lines\": [{\"line\", \"packets\",\n"
	      "                   \"bytes\"}], \"builtin\": [...]}\n"
	      "  --registry FILE  IANA CSV or /etc/services file instead of the shipped one\n"
	      "  --overlay FILE   site names that take precedence (repeatable)\n"
	      "\n"
	      "Exit status: 0 done; 1 policy errors, or the table has no counters;\n"
	      "2 usage; 3 system error (no such table, permission, netlink).\n",
	      out);
}

/* "FILE:LINE" of a rule or element comment "FILE:LINE[ TEXT]", or NULL. */
static char *line_of(const char *comment)
{
	const char *sp = strchr(comment, ' '), *end = sp ? sp : comment + strlen(comment);
	const char *colon = end;

	while (colon > comment && colon[-1] >= '0' && colon[-1] <= '9')
		colon--;
	if (colon == end || colon == comment || colon[-1] != ':')
		return NULL;
	return xstrndup(comment, (size_t)(end - comment));
}

struct line_count {
	char *line;
	uint64_t packets, bytes;
};

static int line_cmp_loc(const void *a, const void *b)
{
	const struct pc_location *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option lopts[] = {
		PC_CLI_PLAN_LOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "unused", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pc_registry_opts ro;
	struct pc_registry *reg = NULL;
	struct pc_diag *diag;
	struct pc_ir *ir = NULL, *view = NULL;
	struct pc_nft_plan *plan = NULL;
	struct pc_nl_count *counts = NULL;
	struct pc_location *locs = NULL;
	struct line_count *lines = NULL;
	size_t n_counts = 0, n_locs = 0, cap_locs = 0, n_lines = 0;
	bool json = false, unused = false;
	json_t *jroot = NULL, *jlines = NULL, *jbuiltin = NULL;
	int c, status, ret;

	memset(&ro, 0, sizeof(ro));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int taken = pc_cli_plan_opt(c, optarg, &ro, "stats");

		if (taken < 0)
			return PC_EXIT_USAGE;
		if (taken)
			continue;
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'u':
			unused = true;
			break;
		case 'h':
			stats_usage(stdout);
			return PC_EXIT_OK;
		default:
			stats_usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		stats_usage(stderr);
		return PC_EXIT_USAGE;
	}
	diag = pc_diag_create();
	status = pc_cli_load_plan("stats", argv[optind], &ro, true, diag, &ir, &view, &reg, &plan);
	if (status != PC_EXIT_OK)
		goto out;
	ret = pc_nl_counters_read(plan->table, &counts, &n_counts);
	if (ret == -ENOENT) {
		fprintf(stderr, "portcullis stats: there is no table inet %s (apply the policy first)\n",
			plan->table);
		status = PC_EXIT_SYSTEM;
		goto out;
	}
	if (ret < 0) {
		status = pc_cli_netlink_error("portcullis stats", "reading the counters", ret);
		goto out;
	}
	if (n_counts == 0) {
		fprintf(stderr, "portcullis stats: table inet %s has no counters: add `option counters` to the policy and apply it\n",
			plan->table);
		status = PC_EXIT_POLICY;
		goto out;
	}
	/* every policy line that made a rule, once, in file and line order */
	for (unsigned d = 0; d < __PC_DIR_MAX; d++)
		for (size_t i = 0; i < ir->chains[d].n; i++) {
			const struct pc_rule *r = &ir->chains[d].rules[i];

			if (r->origin != PC_ORIGIN_POLICY || !r->loc.file)
				continue;
			locs = xgrow(locs, &cap_locs, n_locs + 1, sizeof(*locs));
			locs[n_locs++] = r->loc;
		}
	if (n_locs)
		qsort(locs, n_locs, sizeof(*locs), line_cmp_loc);
	lines = xcalloc(n_locs + 1, sizeof(*lines));
	for (size_t i = 0; i < n_locs; i++) {
		if (n_lines && strcmp(locs[i].file, locs[i - 1].file) == 0 &&
		    locs[i].line == locs[i - 1].line)
			continue;
		lines[n_lines++].line = xasprintf("%s:%u", locs[i].file, locs[i].line);
	}
	for (size_t k = 0; k < n_counts; k++) {
		char *line = line_of(counts[k].where);

		for (size_t i = 0; line && i < n_lines; i++)
			if (strcmp(lines[i].line, line) == 0) {
				lines[i].packets += counts[k].packets;
				lines[i].bytes += counts[k].bytes;
				counts[k].holders = 0;   /* a policy line's: not a built-in */
				break;
			}
		if (line)
			counts[k].holders = 0;
		free(line);
	}
	if (json) {
		jroot = json_object();
		jlines = json_array();
		jbuiltin = json_array();
		json_object_set_new(jroot, "table", json_string(plan->table));
	} else if (!unused) {
		printf("%-40s %14s %16s\n", "policy line", "packets", "bytes");
	}
	for (size_t i = 0; i < n_lines; i++) {
		if (unused && lines[i].packets)
			continue;
		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "line", json_string(lines[i].line));
			json_object_set_new(o, "packets", json_integer((json_int_t)lines[i].packets));
			json_object_set_new(o, "bytes", json_integer((json_int_t)lines[i].bytes));
			json_array_append_new(jlines, o);
		} else if (unused) {
			printf("%s\n", lines[i].line);
		} else {
			printf("%-40s %14" PRIu64 " %16" PRIu64 "\n", lines[i].line,
			       lines[i].packets, lines[i].bytes);
		}
	}
	/* the built-in rules (connection tracking, loopback, ICMP) */
	for (size_t k = 0; k < n_counts && !unused; k++) {
		if (!counts[k].holders)
			continue;
		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "rule", json_string(counts[k].where));
			json_object_set_new(o, "packets", json_integer((json_int_t)counts[k].packets));
			json_object_set_new(o, "bytes", json_integer((json_int_t)counts[k].bytes));
			json_array_append_new(jbuiltin, o);
		} else {
			printf("%-40s %14" PRIu64 " %16" PRIu64 "\n", counts[k].where,
			       counts[k].packets, counts[k].bytes);
		}
	}
	if (json) {
		json_object_set_new(jroot, "lines", jlines);
		json_object_set_new(jroot, "builtin", jbuiltin);
		json_dumpf(jroot, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(jroot);
	}
out:
	pc_diag_print(diag, stderr, pc_cli_color());
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i].line);
	free(lines);
	free(locs);
	pc_nl_counts_free(counts, n_counts);
	pc_nft_plan_destroy(plan);
	pc_ir_destroy(view);
	pc_ir_destroy(ir);
	pc_registry_destroy(reg);
	pc_diag_destroy(diag);
	return status;
}
