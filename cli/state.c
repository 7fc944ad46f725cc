/* SPDX-License-Identifier: MIT */
/*
 * The last-known-good ruleset: what the last successful `apply` (or `boot`)
 * installed, kept as `nft -f` text in STATE_DIR/last-good.nft so that
 * `portcullis boot` can put it back when the policy no longer loads, and
 * so that an administrator can read it, or load it by hand.
 */
#include <errno.h>
#include <pthread.h>
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

struct pc_state_saver {
	struct pc_replace r;
	FILE *f;                 /* the temporary file; NULL once closed */
	char *path;
	const char *policy;
	const struct pc_nft_plan *plan;
	char when[32];
	int err;                 /* 0 or -errno */
	pthread_t thread;
	bool threaded;
};

/*
 * Written as it is made, to the temporary file that then replaces the old
 * one: a million-address list is some 20 MB of text, which is not held in
 * memory once (nor twice) on top of the plan.
 */
static void *saver_run(void *arg)
{
	struct pc_state_saver *s = arg;
	const struct pc_nft_plan *plan = s->plan;

	/* the same shape as the nft backend's output: replaces the table whole */
	fprintf(s->f,
		"#!/usr/sbin/nft -f\n"
		"# portcullis last-known-good: what `portcullis %s` last applied,\n"
		"# put back by `portcullis boot` when the policy does not load.\n"
		"# Policy: %s (table %s)\n"
		"# Saved:  %s by portcullis %s\n"
		"table inet %s\n"
		"delete table inet %s\n"
		"table inet %s {\n"
		"\tcomment \"%s\"\n",
		"apply", s->policy, plan->table, s->when, pc_program_version, plan->table,
		plan->table, plan->table, PC_NL_OWNER_COMMENT);
	pc_nft_plan_format_body(plan, s->f);
	fputs("}\n", s->f);
	if (pc_replace_close(&s->r, s->f) != 0)
		s->err = errno ? -errno : -EIO;
	s->f = NULL;
	return NULL;
}

struct pc_state_saver *pc_state_save_start(const char *dir, const char *policy,
					   const struct pc_nft_plan *plan)
{
	struct pc_state_saver *s = xzalloc(sizeof(*s));
	time_t now = time(NULL);
	struct tm tm;

	s->policy = policy;
	s->plan = plan;
	s->path = pc_state_last_good_path(dir);
	gmtime_r(&now, &tm);
	strftime(s->when, sizeof(s->when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		s->err = -errno;
		return s;
	}
	if (pc_replace_prepare(&s->r, s->path, false) != 0 || !(s->f = pc_replace_open(&s->r))) {
		s->err = errno ? -errno : -EIO;
		return s;
	}
	/*
	 * The text is made while the kernel runs the transaction (50-100 ms
	 * of a million-address apply that no longer come after it); a
	 * second CPU does it, or this one as soon as the kernel is done.
	 */
	s->threaded = pthread_create(&s->thread, NULL, saver_run, s) == 0;
	if (!s->threaded)
		saver_run(s);
	return s;
}

int pc_state_save_finish(struct pc_state_saver *s, bool keep)
{
	int err;

	if (!s)
		return 0;
	if (s->threaded)
		pthread_join(s->thread, NULL);
	if (s->path && !s->err && keep && pc_replace_commit(&s->r) != 0)
		s->err = errno ? -errno : -EIO;
	err = keep ? s->err : 0;
	if (s->path)
		pc_replace_finish(&s->r);
	free(s->path);
	free(s);
	return err;
}

int pc_state_save(const char *dir, const char *policy, const struct pc_nft_plan *plan)
{
	return pc_state_save_finish(pc_state_save_start(dir, policy, plan), true);
}

static void save_warn(const char *prog, const char *dir, int err)
{
	if (err)
		fprintf(stderr, "%s: warning: cannot save the last-known-good ruleset in %s: %s "
			"(`portcullis boot` would fall back to an older one, or to the lockdown)\n",
			prog, dir, strerror(-err));
}

void pc_state_save_report(const char *prog, const char *dir, const char *policy,
			  const struct pc_nft_plan *plan)
{
	save_warn(prog, dir, pc_state_save(dir, policy, plan));
}

void pc_state_save_finish_report(const char *prog, const char *dir,
				 struct pc_state_saver *s)
{
	save_warn(prog, dir, pc_state_save_finish(s, true));
}
