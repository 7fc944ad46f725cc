/* SPDX-License-Identifier: MIT */
/*
 * The last-known-good ruleset: what the last successful `apply` (or `boot`)
 * installed, kept as `nft -f` text in STATE_DIR/last-good.nft so that
 * `portcullis boot` can put it back when the policy no longer loads, and
 * so that an administrator can read it, or load it by hand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backends/netlink/netlink.h"
#include "backends/nft/nft_lower.h"
#include "cli/cli.h"
#include "common/util.h"

const char *pc_state_dir(const char *option)
{
	const char *env = getenv("PORTCULLIS_STATE_DIR");

	if (option && *option)
		return option;
	return env && *env ? env : PC_STATE_DIR_DEFAULT;
}

char *pc_state_last_good_path(const char *dir)
{
	return xasprintf("%s/last-good.nft", dir);
}

int pc_state_save(const char *dir, const char *policy, const struct pc_nft_plan *plan)
{
	char *body = NULL, *text = NULL, *path;
	size_t body_len = 0, len = 0;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *mem;
	int ret = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	mem = open_memstream(&body, &body_len);
	if (!mem)
		return -ENOMEM;
	pc_nft_plan_format_body(plan, mem);
	if (fclose(mem) != 0) {
		free(body);
		return -ENOMEM;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	mem = open_memstream(&text, &len);
	if (!mem) {
		free(body);
		return -ENOMEM;
	}
	/* the same shape as the nft backend's output: replaces the table whole */
	fprintf(mem,
		"#!/usr/sbin/nft -f\n"
		"# portcullis last-known-good: what `portcullis %s` last applied,\n"
		"# put back by `portcullis boot` when the policy does not load.\n"
		"# Policy: %s (table %s)\n"
		"# Saved:  %s by portcullis %s\n"
		"table inet %s\n"
		"delete table inet %s\n"
		"table inet %s {\n"
		"\tcomment \"%s\"\n"
		"%s"
		"}\n",
		"apply", policy, plan->table, when, pc_program_version, plan->table,
		plan->table, plan->table, PC_NL_OWNER_COMMENT, body);
	free(body);
	if (fclose(mem) != 0) {
		free(text);
		return -ENOMEM;
	}
	path = pc_state_last_good_path(dir);
	if (pc_write_file_atomic(path, text, len) != 0)
		ret = errno ? -errno : -EIO;
	free(path);
	free(text);
	return ret;
}

void pc_state_save_report(const char *prog, const char *dir, const char *policy,
			  const struct pc_nft_plan *plan)
{
	int err = pc_state_save(dir, policy, plan);

	if (err)
		fprintf(stderr, "%s: warning: cannot save the last-known-good ruleset in %s: %s "
			"(`portcullis boot` would fall back to an older one, or to the lockdown)\n",
			prog, dir, strerror(-err));
}
