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

/*
 * Written as it is made, to the temporary file that then replaces the old
 * one: a million-address list is some 20 MB of text, which is not held in
 * memory once (nor twice) on top of the plan.
 */
int pc_state_save(const char *dir, const char *policy, const struct pc_nft_plan *plan)
{
	struct pc_replace r;
	char when[32], *path;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f = NULL;
	int ret = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	path = pc_state_last_good_path(dir);
	if (pc_replace_prepare(&r, path, false) != 0 || !(f = pc_replace_open(&r))) {
		ret = errno ? -errno : -EIO;
		goto out;
	}
	/* the same shape as the nft backend's output: replaces the table whole */
	fprintf(f,
		"#!/usr/sbin/nft -f\n"
		"# portcullis last-known-good: what `portcullis %s` last applied,\n"
		"# put back by `portcullis boot` when the policy does not load.\n"
		"# Policy: %s (table %s)\n"
		"# Saved:  %s by portcullis %s\n"
		"table inet %s\n"
		"delete table inet %s\n"
		"table inet %s {\n"
		"\tcomment \"%s\"\n",
		"apply", policy, plan->table, when, pc_program_version, plan->table,
		plan->table, plan->table, PC_NL_OWNER_COMMENT);
	pc_nft_plan_format_body(plan, f);
	fputs("}\n", f);
	if (pc_replace_close(&r, f) != 0 || pc_replace_commit(&r) != 0)
		ret = errno ? -errno : -EIO;
out:
	pc_replace_finish(&r);
	free(path);
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
