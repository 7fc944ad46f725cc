/* SPDX-License-Identifier: MIT */
/*
 * portcullis set: add, delete and list the addresses of a dynamic set
 * (`hosts NAME = dynamic`) in the kernel, over netlink. Each address goes
 * to NAME_v4 or NAME_v6 by its family, as the nft backend names them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "backends/netlink/netlink.h"
#include "cli/cli.h"
#include "ir/addrset.h"
#include "policy/ast.h"
#include "common/util.h"

static void set_usage(FILE *out)
{
	fputs("usage: portcullis set add [--timeout DURATION] [--table TABLE] NAME ADDR...\n"
	      "       portcullis set del [--table TABLE] NAME ADDR...\n"
	      "       portcullis set list [--table TABLE] NAME\n"
	      "\n"
	      "Changes or lists the dynamic set NAME (`hosts NAME = dynamic` in the\n"
	      "policy) of `table inet TABLE` in the kernel: IPv4 addresses go to\n"
	      "NAME_v4, IPv6 ones to NAME_v6, all in one transaction. `apply` and\n"
	      "`nft -f` of the generated output keep what is added.\n"
	      "\n"
	      "  --table TABLE       the policy's `table` (default: portcullis)\n"
	      "  --timeout DURATION  how long the addresses stay (3600, 90s, 10m, 1h30m,\n"
	      "                      7d); default: the set's timeout\n"
	      "\n"
	      "Exit status: 0 done; 1 an address or set the kernel refused (no such\n"
	      "set, already there, not there); 2 usage (a bad address); 3 system error\n"
	      "(permission, netlink).\n",
	      out);
}

int cmd_set(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "table", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *table = "portcullis", *verb, *name;
	uint32_t timeout = 0;
	struct pc_nl_set_elem *v = NULL;
	char *sets[2] = { NULL, NULL };
	size_t n;
	int c, ret, status = PC_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 't':
			table = optarg;
			break;
		case 'T':
			timeout = pc_ast_duration_parse(optarg);
			if (!timeout) {
				fprintf(stderr, "portcullis set: bad duration '%s' (3600, 90s, 10m, 1h30m, 7d)\n",
					optarg);
				return PC_EXIT_USAGE;
			}
			break;
		case 'h':
			set_usage(stdout);
			return PC_EXIT_OK;
		default:
			set_usage(stderr);
			return PC_EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		set_usage(stderr);
		return PC_EXIT_USAGE;
	}
	verb = argv[optind];
	name = argv[optind + 1];
	n = (size_t)(argc - optind - 2);
	if (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0 && strcmp(verb, "del") != 0) {
		fprintf(stderr, "portcullis set: unknown action '%s' (add, del or list)\n", verb);
		return PC_EXIT_USAGE;
	}
	if ((strcmp(verb, "list") == 0) != (n == 0) || (timeout && strcmp(verb, "add") != 0)) {
		set_usage(stderr);
		return PC_EXIT_USAGE;
	}
	sets[0] = xasprintf("%s_v4", name);
	sets[1] = xasprintf("%s_v6", name);
	if (strcmp(verb, "list") == 0) {
		size_t found;

		ret = pc_nl_set_list(table, (const char *const *)sets, 2, stdout, &found);
		if (ret == 0 && !found)
			ret = -ENOENT;
		if (ret == -ENOENT) {
			fprintf(stderr, "portcullis set: no dynamic set '%s' in table inet %s\n",
				name, table);
			status = PC_EXIT_POLICY;
		} else if (ret < 0) {
			status = pc_cli_netlink_error("portcullis set", "reading the set", ret);
		}
		goto out;
	}
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const char *text = argv[optind + 2 + i];
		struct pc_addr a;
		char err[160];

		if (!pc_addr_parse(text, NULL, &a, err, sizeof(err))) {
			fprintf(stderr, "portcullis set: %s\n", err);
			status = PC_EXIT_USAGE;
			goto out;
		}
		v[i].set = a.family == PC_FAM_IPV4 ? sets[0] : sets[1];
		v[i].len = a.family == PC_FAM_IPV4 ? 4 : 16;
		memcpy(v[i].key, a.a, v[i].len);
	}
	ret = pc_nl_set_change(table, strcmp(verb, "add") == 0, v, n, (uint64_t)timeout * 1000);
	if (ret == -ENOENT || ret == -EEXIST) {
		fprintf(stderr, "portcullis set: the kernel refused: %s (is there a dynamic set '%s' in table inet %s, %s?)\n",
			strerror(-ret), name, table,
			strcmp(verb, "add") == 0 ? "and are the addresses new to it" :
						   "and are the addresses in it");
		status = PC_EXIT_POLICY;
	} else if (ret < 0) {
		status = pc_cli_netlink_error("portcullis set", "changing the set", ret);
	}
out:
	free(v);
	free(sets[0]);
	free(sets[1]);
	return status;
}
